// Scenario files: a simulation spec a person can read and write.
//
//   # Lines are `key = value` under a [section]; `#` starts a comment.
//   [cluster]
//   replicas = 3                 # servers of the demo register
//   clients = 3
//   [workload]
//   keys = 4                     # distinct keys the clients read and write
//   leases = true                # clients 0 and 1 read key k0 under read leases
//   [time]
//   chaos_ms = 20000             # operations under faults
//   heal_ms = 10000              # then every fault heals; clients go on (liveness)
//   [faults]
//   kinds = swarm                # swarm (the seed picks), none, or a list: partition, clog, ...
//   pace_ms = 0                  # mean time between faults; 0: the seed picks
//   [knobs]
//   randomize = true             # draw knobs within their simulation ranges per seed
//   rpc_attempts_max = 3         # any knob: a fixed value (after randomization)
//   [buggify]
//   enabled = true
//   [canaries]
//   plant = ack-before-fsync     # planted bugs, comma-separated (the checks must fail)
//
// Every key is optional; unknown sections, keys and values are errors that name the line.
// The checks are always all of them (docs/simulation.md). Reading the file is the caller's
// business (sim/ does no IO): this parses its text.
#pragma once

#include <string_view>

#include "absl/status/statusor.h"
#include "sim/demo_scenario.h"

namespace cairn::sim {

absl::StatusOr<DemoScenario> ParseScenario(std::string_view text, std::string_view source_name);

// The scenario as file text that ParseScenario reads back to the same settings.
std::string FormatScenario(const DemoScenario& scenario);

}  // namespace cairn::sim

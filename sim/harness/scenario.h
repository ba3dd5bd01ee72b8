// Scenario: everything that decides one simulated run — which workload, its options, the seed,
// how long the chaos and the healed phases last, the faults, the knobs, buggify, planted bugs —
// and, replaying a tape, the exact schedule. `cairn sim run` builds one from flags or a
// scenario file (sim/harness/scenario_file.h); RunScenario (sim/harness/simulation.h) runs it.
// The same scenario always gives the same run, event for event.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "fault/fault_action.h"
#include "fault/nemesis.h"
#include "sim/check/history.h"
#include "src/base/time.h"

namespace cairn::sim {

// One client operation of a tape. `at` is when the recorded run invoked it; replay keeps the
// order and never invokes earlier.
struct ScriptedOp {
  int client = 0;  // the history's process
  OpKind kind = OpKind::kRead;
  std::string key;
  Instant at{};
};

// An explicit schedule in place of the seeded choices (a tape, sim/harness/tape.h).
struct Script {
  std::vector<fault::FaultAction> faults;
  std::vector<ScriptedOp> ops;
};

struct Scenario {
  std::string workload = "register";
  // The workload's options by name (sim/harness/workload.h); every declared option is present
  // once the scenario is made for its workload (ScenarioFor).
  std::map<std::string, std::string> options;
  uint64_t seed = 1;
  Duration chaos = std::chrono::seconds(20);
  Duration heal = std::chrono::seconds(10);
  bool faults = true;                         // run the nemesis at all
  std::vector<fault::FaultKind> fault_kinds;  // exactly these; empty: the workload's default
  bool fault_swarm = false;                   // the seed picks the kinds, whatever the default
  Duration fault_pace{0};                     // mean time between faults; 0: the seed picks
  std::vector<std::string> knob_settings;     // "name=value", applied after randomization
  bool randomize_knobs = true;                // draw knobs within their simulation ranges
  bool buggify = true;                        // switch fault points on
  std::vector<std::string> canaries;          // planted bugs (the workload's), sorted
  size_t trace_records_max = 0;
  bool echo_logs = false;

  std::string scenario_file;               // where it was read from, if from a file
  std::shared_ptr<const Script> script;    // a tape's schedule; null: the seed decides
  std::string tape_file;                   // where the script was read from

  bool Planted(std::string_view canary) const;
  // The command line that replays this scenario exactly: the seed, the scenario file if any,
  // and every setting that differs from `base` (the file's, or the workload's defaults).
  std::string ReplayCommand(const Scenario& base) const;
};

// The defaults of `workload` (its options, phases and faults); InvalidArgument for an unknown name.
absl::StatusOr<Scenario> ScenarioFor(std::string_view workload);
// Sets one of the workload's options, checked against its declaration.
absl::Status SetOption(Scenario& scenario, std::string_view name, std::string_view value);
// Plants the workload's canary `name`; InvalidArgument (listing its canaries) for another.
absl::Status PlantCanary(Scenario& scenario, std::string_view name);

}  // namespace cairn::sim

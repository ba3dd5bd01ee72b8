// Sweep: runs one simulation per seed on `jobs` threads and reports the results in seed order.
//
// Each seed's run is a pure function of the seed, so running seeds on several threads changes
// nothing but the wall time. Results are handed to `on_result` in seed order (as soon as every
// earlier seed is done), and a progress bar goes to stderr when it is a terminal.
#pragma once

#include <cstdint>
#include <functional>

#include "sim/harness/simulation.h"

namespace cairn::tools {

struct SweepOptions {
  uint64_t first_seed = 1;
  uint64_t last_seed = 1;
  int jobs = 1;
  bool stop_on_failure = false;  // no seeds after the first failing one are reported
  bool progress = true;          // a progress bar on stderr, if it is a terminal
};

struct SweepSummary {
  uint64_t runs = 0, failures = 0, operations = 0;
  double simulated_seconds = 0, wall_seconds = 0;
  uint64_t first_failure = 0;  // the first failing seed, if failures > 0
};

SweepSummary RunSweep(const SweepOptions& options,
                      const std::function<sim::Scenario(uint64_t seed)>& scenario_for,
                      const std::function<void(const sim::Scenario&, const sim::RunResult&)>& on_result);

}  // namespace cairn::tools

// Tape: a run's schedule made explicit, so that it can be replayed and shrunk.
//
// A tape holds a scenario (its settings and seed), the faults the nemesis applied (each with
// everything needed to apply it again) and the operations each client performed, in order.
// Replaying a tape of an unmodified run reproduces it exactly (the same trace hash): the
// nemesis applies the recorded actions instead of deciding, and clients take their operations
// from the tape but still draw the random numbers they would have, so every other random
// stream stays where it was. A shrunk tape (fewer faults, fewer operations, a shorter run)
// replays under the same seed. Text form: the scenario as a scenario file, then
//
//   [tape]
//   seed = 42
//   fault <at_ns> <kind> shape=.. nodes=.. lengths_ns=.. values=..     (fault/fault_action.h)
//   op <process> <read|write|append> <key> <at_ns>
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "sim/harness/scenario.h"
#include "sim/harness/simulation.h"

namespace cairn::sim {

struct Tape {
  Scenario scenario;  // with its seed; scenario.script is unused here
  Script script;

  // The tape of a finished run: its faults and every operation its clients invoked.
  static Tape FromRun(const Scenario& scenario, const RunResult& result);
  // A scenario that replays this tape.
  Scenario ToScenario(std::string tape_file = {}) const;

  std::string Format() const;
  static absl::StatusOr<Tape> Parse(std::string_view text, std::string_view source_name);
};

}  // namespace cairn::sim

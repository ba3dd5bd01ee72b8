// Histories that are linearizable by construction, for testing and benchmarking checkers.
//
// Clients run operations one after another, each taking a random time, on random keys. Each
// operation that takes effect does so at one random instant inside its interval, and the
// model is run in the order of those instants, which gives every read its result and decides
// each cas (a cas whose comparison fails completes as fail). That order is a linearization, so
// the history is linearizable. Some operations may be made info (they took effect or not, half
// each; the client then continues as a new process, as in Jepsen) or fail (no effect).
//
// Written values are unique decimal integers ("1", "2", ...); appended values are "<n>,".
// A value that is not of that form (say "-1") was never written.
#pragma once

#include <cstddef>

#include "sim/check/history.h"
#include "sim/check/history_models.h"
#include "src/base/random.h"

namespace cairn::sim {

struct GeneratedHistoryOptions {
  Model model = Model::Register();
  int clients = 5;
  size_t operations = 100;
  int keys = 1;
  double read_fraction = 0.5;     // of all operations; the rest are the model's updates
  double info_fraction = 0.0;     // outcome unknown
  double fail_fraction = 0.0;     // failed without effect
  Duration latency_max = std::chrono::milliseconds(10);  // an operation's longest interval
  Duration think_max = std::chrono::milliseconds(2);     // a client's longest pause between ops
};

History GenerateLinearizableHistory(const GeneratedHistoryOptions& options, Random& random);

}  // namespace cairn::sim

// Shrink: reduce a failing tape to a small one that still fails the same check.
//
// Delta debugging (Zeller's ddmin) over the tape's schedule, in passes, each kept only if the
// run still fails the check the original failed first:
//   1. time: cut the run short (binary search on the end of the chaos phase; faults and
//      operations after the cut are dropped);
//   2. faults: drop as many fault actions as possible;
//   3. operations: drop as many client operations as possible;
//   4. healing: shorten the healed phase to its minimum.
// Every candidate is one simulation under the tape's seed; `runs_max` bounds the work. The
// result replays with `cairn sim replay --tape`.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "sim/harness/tape.h"

namespace cairn::sim {

struct ShrinkOptions {
  size_t runs_max = 2000;
  std::function<void(const std::string& line)> progress;  // optional: one line per pass
};

struct ShrinkResult {
  Tape tape;
  std::string check;  // the check that fails, before and after
  size_t runs = 0;
  size_t faults_before = 0, faults_after = 0, ops_before = 0, ops_after = 0;
  Duration chaos_before{0}, chaos_after{0};
};

absl::StatusOr<ShrinkResult> Shrink(const Tape& failing, const ShrinkOptions& options);

}  // namespace cairn::sim

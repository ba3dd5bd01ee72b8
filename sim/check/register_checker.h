// Checks of a register history that any linearizable register passes:
//
//  reads-see-writes  Every value a read returned was written by some write invoked before the
//                    read completed, and that write did not fail.
//  no-lost-write     No read returns a value that was already overwritten before the read
//                    began: if a read R returns the value of write A, there is no write B that
//                    was acknowledged before R was invoked and that was invoked after A was
//                    acknowledged. (Reading "nothing" counts as reading the initial value.)
//
// Values must be unique per write (the workload makes them so). This is a necessary condition
// for linearizability, checked in O(reads * writes) per key; the full linearizability checker
// comes with the chaos toolkit.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include "sim/check/history.h"

namespace cairn::sim {

struct CheckResult {
  std::string name;
  bool passed = true;
  std::vector<std::string> violations;  // each a readable explanation, at most a few
  size_t violation_count = 0;
  // When the earliest violation became visible (the latest completion among its
  // operations): a shrinker can cut a run there.
  Instant first_witnessed = kInstantMax;
  bool liveness = false;   // a check of progress, not of safety
  bool undecided = false;  // passed only because a bounded search gave up (no violation found)

  static constexpr size_t kExplainedViolationsMax = 5;
  // Records one violation: the check fails and counts it, keeps the first few explanations,
  // and notes when it became visible (`witnessed`, when known).
  void Violate(std::string explanation, Instant witnessed = kInstantMax) {
    passed = false;
    ++violation_count;
    if (violations.size() < kExplainedViolationsMax) violations.push_back(std::move(explanation));
    first_witnessed = std::min(first_witnessed, witnessed);
  }
};

std::vector<CheckResult> CheckRegisterHistory(const History& history);

}  // namespace cairn::sim

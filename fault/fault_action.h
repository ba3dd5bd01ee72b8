// FaultAction: one decided fault, described completely enough to apply it again.
//
// The nemesis first decides an action (drawing from its seeded stream), then applies it. A
// run's actions can be recorded on a tape and replayed, or a subset of them replayed, which is
// how a failing run is shrunk (sim/tape.h). Text form, one line:
//   fault <at_ns> <kind> shape=<n> nodes=<a,b,..> lengths_ns=<x,y,..> values=<p,q,..>
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "src/runtime/network.h"
#include "src/base/time.h"

namespace cairn::fault {

enum class FaultKind;

struct FaultAction {
  Instant at{};
  FaultKind kind{};
  int shape = 0;                  // the variant (what each kind means by it: nemesis.cc)
  std::vector<NodeId> nodes;      // the targets
  std::vector<Duration> lengths;  // how long, or when the follow-up happens
  std::vector<double> values;     // probabilities, offsets, skews

  std::string Format() const;
  static absl::StatusOr<FaultAction> Parse(std::string_view line);
  bool operator==(const FaultAction&) const = default;
};

}  // namespace cairn::fault

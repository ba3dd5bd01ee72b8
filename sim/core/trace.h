// Trace: the determinism witness of a simulation run.
//
// Every event the World runs, every random draw and every log line folds into one rolling
// 64-bit hash. Two runs of one seed on one binary must end with the same hash; if they do not,
// the recorded events (when recording is on) name the first place they diverge
// (`cairn trace diff`).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "src/runtime/network.h"
#include "src/base/random.h"
#include "src/base/time.h"

namespace cairn::sim {

struct TraceRecord {
  uint64_t index = 0;  // position in the run's sequence of folded items
  int64_t at_ns = 0;
  NodeId node = kNoNode;
  std::string what;    // "wake", "timer", "net.deliver", "draw", "log: ...", ...
  uint64_t detail = 0;
  uint64_t hash_after = 0;
};

class Trace final : public DrawObserver {
 public:
  // Keeps the first `records_max` items in memory (0: keep none, hash only).
  explicit Trace(size_t records_max = 0) : records_max_(records_max) {}

  void Fold(Instant at, NodeId node, std::string_view what, uint64_t detail);
  void OnDraw(uint64_t value) override;
  void SetTime(Instant now, NodeId node) {
    now_ = now;
    node_ = node;
  }

  uint64_t hash() const { return hash_; }
  uint64_t items() const { return items_; }
  const std::vector<TraceRecord>& records() const { return records_; }
  bool truncated() const { return items_ > records_.size() && records_max_ > 0; }

  // One line per record: "index at_ns node what detail hash" (tab-separated).
  static std::string FormatRecord(const TraceRecord& r);
  static absl::StatusOr<TraceRecord> ParseRecord(std::string_view line);

 private:
  size_t records_max_;
  uint64_t hash_ = 0x636169726e5452ull;
  uint64_t items_ = 0;
  Instant now_{};
  NodeId node_ = kNoNode;
  std::vector<TraceRecord> records_;
};

}  // namespace cairn::sim

#include "sim/core/trace.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "src/base/hash.h"
#include "src/base/strings.h"

namespace cairn::sim {

void Trace::Fold(Instant at, NodeId node, std::string_view what, uint64_t detail) {
  hash_ = HashCombine(hash_, static_cast<uint64_t>(ToNanos(at)));
  hash_ = HashCombine(hash_, node);
  hash_ = HashCombine(hash_, HashBytes(what));
  hash_ = HashCombine(hash_, detail);
  if (records_.size() < records_max_) {
    records_.push_back(TraceRecord{items_, ToNanos(at), node, std::string(what), detail, hash_});
  }
  ++items_;
}

void Trace::OnDraw(uint64_t value) { Fold(now_, node_, "draw", value); }

std::string Trace::FormatRecord(const TraceRecord& r) {
  return absl::StrFormat("%d\t%d\t%d\t%s\t%016x\t%016x", r.index, r.at_ns,
                         r.node == kNoNode ? -1 : static_cast<int64_t>(r.node), r.what, r.detail,
                         r.hash_after);
}

absl::StatusOr<TraceRecord> Trace::ParseRecord(std::string_view line) {
  std::vector<absl::string_view> f = absl::StrSplit(AbslView(line), '\t');
  TraceRecord r;
  int64_t node = 0;
  if (f.size() != 6 || !absl::SimpleAtoi(f[0], &r.index) || !absl::SimpleAtoi(f[1], &r.at_ns) ||
      !absl::SimpleAtoi(f[2], &node) || !absl::SimpleHexAtoi(f[4], &r.detail) ||
      !absl::SimpleHexAtoi(f[5], &r.hash_after)) {
    return absl::InvalidArgumentError(absl::StrFormat("not a trace record: '%s'", AbslView(line)));
  }
  r.node = node < 0 ? kNoNode : static_cast<NodeId>(node);
  r.what = std::string(f[3]);
  return r;
}

}  // namespace cairn::sim

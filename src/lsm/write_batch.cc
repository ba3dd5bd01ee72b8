#include "src/lsm/write_batch.h"

#include "absl/strings/str_cat.h"
#include "src/base/varint.h"

namespace cairn::lsm {

std::string WriteBatch::Encode() const {
  std::string out;
  PutVarint64(&out, writes_.size());
  for (const BatchWrite& w : writes_) {
    out.push_back(static_cast<char>(w.kind));
    PutLengthPrefixed(&out, w.key);
    PutLengthPrefixed(&out, w.value);
  }
  return out;
}

absl::StatusOr<WriteBatch> WriteBatch::Decode(std::string_view payload) {
  ByteReader r(payload);
  const uint64_t count = r.Varint64();
  if (!r.ok() || count > payload.size()) return absl::DataLossError("write batch: bad count");
  WriteBatch b;
  b.writes_.reserve(count);
  for (uint64_t i = 0; i < count; ++i) {
    const uint8_t kind = r.Byte();
    std::string_view key = r.LengthPrefixed();
    std::string_view value = r.LengthPrefixed();
    if (!r.ok()) return absl::DataLossError(absl::StrCat("write batch: truncated at write ", i));
    if (kind > static_cast<uint8_t>(format::RowKind::kDelete)) {
      return absl::DataLossError(absl::StrCat("write batch: unknown kind ", kind, " at write ", i));
    }
    b.writes_.push_back(BatchWrite{static_cast<format::RowKind>(kind), std::string(key), std::string(value)});
  }
  if (r.remaining() != 0) return absl::DataLossError("write batch: trailing bytes");
  return b;
}

}  // namespace cairn::lsm

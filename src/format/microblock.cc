#include "src/format/microblock.h"

#include "absl/strings/str_cat.h"
#include "src/base/strings.h"
#include "src/base/check.h"
#include "src/base/coding.h"
#include "src/base/varint.h"

namespace cairn::format {

void MicroblockBuilder::Add(const RowView& row) {
  size_t shared = 0;
  if (since_restart_ >= restart_interval_ || rows_ == 0) {
    restarts_.push_back(static_cast<uint32_t>(buffer_.size()));
    since_restart_ = 0;
  } else {
    const size_t limit = std::min(last_key_.size(), row.key.size());
    while (shared < limit && last_key_[shared] == row.key[shared]) ++shared;
  }
  PutVarint64(&buffer_, (uint64_t{shared} << 3) | static_cast<uint8_t>(row.kind));
  PutVarint64(&buffer_, row.key.size() - shared);
  PutVarint64(&buffer_, row.value.size());
  PutVarint64(&buffer_, row.version);
  buffer_.append(row.key.substr(shared));
  buffer_.append(row.value);
  last_key_.assign(row.key);
  last_version_ = row.version;
  ++rows_;
  ++since_restart_;
}

std::string_view MicroblockBuilder::Finish() {
  CAIRN_CHECK(!restarts_.empty());
  for (uint32_t r : restarts_) PutFixed32(&buffer_, r);
  PutFixed32(&buffer_, static_cast<uint32_t>(restarts_.size()));
  return buffer_;
}

void MicroblockBuilder::Reset() {
  buffer_.clear();
  restarts_.clear();
  last_key_.clear();
  last_version_ = 0;
  rows_ = 0;
  since_restart_ = 0;
}

absl::Status MicroblockCursor::Reset(std::string_view payload) {
  valid_ = false;
  status_ = absl::OkStatus();
  data_ = {};
  restart_count_ = 0;
  if (payload.size() < 8) return status_ = absl::DataLossError("microblock payload too short");
  const uint32_t count = DecodeFixed32(payload.data() + payload.size() - 4);
  if (count == 0 || count > (payload.size() - 4) / 4) {
    return status_ = absl::DataLossError(absl::StrCat("microblock with a bad restart count ", count));
  }
  const size_t entries_end = payload.size() - 4 - 4 * size_t{count};
  restart_array_ = payload.data() + entries_end;
  uint32_t previous = 0;
  for (uint32_t i = 0; i < count; ++i) {
    const uint32_t r = DecodeFixed32(restart_array_ + 4 * i);
    if (r >= entries_end || (i == 0 ? r != 0 : r <= previous)) {
      return status_ = absl::DataLossError(absl::StrCat("microblock restart ", i, " at ", r, " is out of order or range"));
    }
    previous = r;
  }
  data_ = payload.substr(0, entries_end);
  restart_count_ = count;
  return absl::OkStatus();
}

uint32_t MicroblockCursor::RestartOffset(uint32_t i) const {
  return DecodeFixed32(restart_array_ + 4 * i);
}

void MicroblockCursor::Corrupt(std::string_view what) {
  valid_ = false;
  status_ = absl::DataLossError(absl::StrCat("microblock entry: ", AbslView(what)));
}

bool MicroblockCursor::ParseAt(uint32_t offset) {
  ByteReader r(data_.substr(offset));
  const uint64_t shared_kind = r.Varint64();
  const uint64_t shared = shared_kind >> 3;
  const uint64_t unshared = r.Varint64();
  const uint64_t value_bytes = r.Varint64();
  const uint64_t version = r.Varint64();
  const std::string_view key_part = r.Bytes(unshared);
  const std::string_view value = r.Bytes(value_bytes);
  if (!r.ok()) {
    Corrupt(absl::StrCat("truncated at offset ", offset));
    return false;
  }
  if (shared > key_.size()) {
    Corrupt(absl::StrCat("shares ", shared, " bytes of a ", key_.size(), "-byte key at offset ", offset));
    return false;
  }
  if (!IsValidRowKind(shared_kind & 7)) {
    Corrupt(absl::StrCat("unknown row kind ", shared_kind & 7, " at offset ", offset));
    return false;
  }
  key_.resize(shared);
  key_.append(key_part);
  version_ = version;
  kind_ = static_cast<RowKind>(shared_kind & 7);
  value_ = value;
  next_offset_ = static_cast<uint32_t>(r.position() - data_.data());
  valid_ = true;
  return true;
}

void MicroblockCursor::SeekToFirst() {
  valid_ = false;
  if (!status_.ok() || restart_count_ == 0) return;
  key_.clear();
  ParseAt(0);
}

void MicroblockCursor::Next() {
  if (!valid_) return;
  if (next_offset_ >= data_.size()) {
    valid_ = false;
    return;
  }
  ParseAt(next_offset_);
}

void MicroblockCursor::Seek(std::string_view key, uint64_t version) {
  valid_ = false;
  if (!status_.ok() || restart_count_ == 0) return;
  // The last restart whose row sorts before the target; the target lies at or after it.
  uint32_t lo = 0, hi = restart_count_ - 1;
  while (lo < hi) {
    const uint32_t mid = lo + (hi - lo + 1) / 2;
    key_.clear();
    if (!ParseAt(RestartOffset(mid))) return;
    if (CompareRowKeys(key_, version_, key, version) < 0) {
      lo = mid;
    } else {
      hi = mid - 1;
    }
  }
  key_.clear();
  if (!ParseAt(RestartOffset(lo))) return;
  while (valid_ && CompareRowKeys(key_, version_, key, version) < 0) Next();
}

}  // namespace cairn::format

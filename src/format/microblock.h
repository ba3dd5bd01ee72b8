// The row encoder of microblocks (encoder id 1, "rows"): its builder and its cursor.
//
// Payload (before compression):
//   entry*        one per row, in row order
//   u32 restart*  offsets of the restart entries, ascending; the first is 0
//   u32 count     number of restarts (>= 1)
// Entry:
//   varint shared_kind     shared << 3 | kind, where shared is the bytes of key shared with
//                          the previous entry's key (0 at a restart)
//   varint unshared        bytes of key that follow
//   varint value length
//   varint version
//   key[unshared], value[value length]
//
// Every restart_interval-th entry is a restart: it stores its whole key, so a seek
// binary-searches the restarts and then walks at most restart_interval entries.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "src/format/row.h"

namespace cairn::format {

class MicroblockBuilder {
 public:
  explicit MicroblockBuilder(uint32_t restart_interval) : restart_interval_(restart_interval) {}

  // Rows must come in row order (the SstWriter checks).
  void Add(const RowView& row);
  bool empty() const { return rows_ == 0; }
  uint32_t rows() const { return rows_; }
  // The payload size Finish would produce now.
  size_t PayloadBytes() const { return buffer_.size() + 4 * restarts_.size() + 4; }
  // The payload size after adding a row with this key and value (an upper bound).
  size_t PayloadBytesWith(size_t key_bytes, size_t value_bytes) const {
    return PayloadBytes() + key_bytes + value_bytes + 4 * 10 + 4;
  }
  std::string_view last_key() const { return last_key_; }
  uint64_t last_version() const { return last_version_; }

  // The finished payload; valid until Reset.
  std::string_view Finish();
  void Reset();

 private:
  const uint32_t restart_interval_;
  std::string buffer_;
  std::vector<uint32_t> restarts_;
  std::string last_key_;
  uint64_t last_version_ = 0;
  uint32_t rows_ = 0;
  uint32_t since_restart_ = 0;
};

// Reads a payload that the caller keeps alive. Every read is bounds-checked: a malformed
// payload makes the cursor invalid with a DataLoss status, never crash.
class MicroblockCursor {
 public:
  MicroblockCursor() = default;
  // Checks the restart array; the entries are checked as they are read.
  absl::Status Reset(std::string_view payload);

  bool Valid() const { return valid_; }
  const absl::Status& status() const { return status_; }
  // The current row; its key lives in the cursor, its value in the payload.
  RowView row() const { return RowView{key_, version_, kind_, value_}; }

  void SeekToFirst();
  // To the first row at or after (key, version) in row order; invalid if none.
  void Seek(std::string_view key, uint64_t version);
  void Next();

 private:
  // Decodes the entry at `offset` into the current row; false (with status_) if malformed.
  bool ParseAt(uint32_t offset);
  void Corrupt(std::string_view what);
  uint32_t RestartOffset(uint32_t i) const;

  std::string_view data_;  // entries only
  const char* restart_array_ = nullptr;
  uint32_t restart_count_ = 0;
  uint32_t next_offset_ = 0;  // of the entry after the current one
  bool valid_ = false;
  absl::Status status_;
  std::string key_;
  uint64_t version_ = 0;
  RowKind kind_ = RowKind::kPut;
  std::string_view value_;
};

}  // namespace cairn::format

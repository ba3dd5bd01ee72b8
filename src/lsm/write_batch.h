// WriteBatch: writes applied atomically, at one commit version, as one journal record.
//
// Payload: varint count, then per write: u8 kind (RowKind), lp-string key, lp-string value
// (empty for a delete). Within a batch a later write to the same key replaces an earlier one.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "src/format/row.h"

namespace cairn::lsm {

struct BatchWrite {
  format::RowKind kind = format::RowKind::kPut;
  std::string key;
  std::string value;
  friend bool operator==(const BatchWrite&, const BatchWrite&) = default;
};

class WriteBatch {
 public:
  WriteBatch& Put(std::string key, std::string value) {
    writes_.push_back(BatchWrite{format::RowKind::kPut, std::move(key), std::move(value)});
    return *this;
  }
  WriteBatch& Delete(std::string key) {
    writes_.push_back(BatchWrite{format::RowKind::kDelete, std::move(key), {}});
    return *this;
  }
  const std::vector<BatchWrite>& writes() const { return writes_; }
  bool empty() const { return writes_.empty(); }
  size_t size() const { return writes_.size(); }

  std::string Encode() const;
  static absl::StatusOr<WriteBatch> Decode(std::string_view payload);

 private:
  std::vector<BatchWrite> writes_;
};

}  // namespace cairn::lsm

#include "src/lsm/row_stream.h"

#include "src/base/check.h"
#include "src/base/status.h"

namespace cairn::lsm {

Task<absl::Status> MemtableStream::Seek(std::string key, uint64_t version) {
  it_ = memtable_->Seek(key, version);
  valid_ = true;
  co_return absl::OkStatus();
}

Task<absl::Status> MemtableStream::SeekToFirst() {
  it_ = memtable_->begin();
  valid_ = true;
  co_return absl::OkStatus();
}

bool MemtableStream::Next() {
  CAIRN_CHECK(Valid());
  ++it_;
  return true;
}

Task<absl::Status> MemtableStream::Load() { co_return absl::OkStatus(); }

Task<absl::Status> SstStream::Seek(std::string key, uint64_t version) {
  co_return co_await it_->Seek(std::move(key), version);
}

Task<absl::Status> SstStream::SeekToFirst() { co_return co_await it_->SeekToFirst(); }

Task<absl::Status> SstStream::Load() { co_return co_await it_->Load(); }

void MergingStream::PickSmallest() {
  current_ = kNone;
  for (size_t i = 0; i < children_.size(); ++i) {
    if (!children_[i]->Valid()) continue;
    if (current_ == kNone) {
      current_ = i;
      continue;
    }
    const format::RowView a = children_[i]->row();
    const format::RowView b = children_[current_]->row();
    const int c = format::CompareRowKeys(a.key, a.version, b.key, b.version);
    CAIRN_CHECK_MSG(c != 0, "two sources hold the same row version");
    if (c < 0) current_ = i;
  }
}

Task<absl::Status> MergingStream::Seek(std::string key, uint64_t version) {
  for (auto& c : children_) CO_RETURN_IF_ERROR(co_await c->Seek(key, version));
  loading_ = false;
  PickSmallest();
  co_return absl::OkStatus();
}

Task<absl::Status> MergingStream::SeekToFirst() {
  for (auto& c : children_) CO_RETURN_IF_ERROR(co_await c->SeekToFirst());
  loading_ = false;
  PickSmallest();
  co_return absl::OkStatus();
}

bool MergingStream::Next() {
  CAIRN_CHECK(Valid() && !loading_);
  if (!children_[current_]->Next()) {
    loading_ = true;
    return false;
  }
  PickSmallest();
  return true;
}

Task<absl::Status> MergingStream::Load() {
  if (loading_) {
    CO_RETURN_IF_ERROR(co_await children_[current_]->Load());
    loading_ = false;
  }
  PickSmallest();
  co_return absl::OkStatus();
}

}  // namespace cairn::lsm

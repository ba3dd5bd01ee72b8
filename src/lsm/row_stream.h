// RowStream: the rows of one source (a memtable, an SSTable, or a merge of sources) in row
// order: key ascending, then version descending.
//
// The protocol is SstIterator's: moving within what is in memory needs no IO, so Next() is
// synchronous and returns false when the next row needs IO, after which the caller does
// `co_await Load()`. Loops write `if (!s.Next()) co_await s.Load()` rather than a coroutine
// per row. A row (row()) stays valid until the stream moves.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "src/format/row.h"
#include "src/format/sst_reader.h"
#include "src/lsm/memtable.h"
#include "src/runtime/task.h"

namespace cairn::lsm {

class RowStream {
 public:
  virtual ~RowStream() = default;
  // To the first row at or after (key, version).
  virtual Task<absl::Status> Seek(std::string key, uint64_t version = format::kMaxVersion) = 0;
  virtual Task<absl::Status> SeekToFirst() = 0;
  virtual bool Valid() const = 0;
  virtual format::RowView row() const = 0;
  virtual bool Next() = 0;
  virtual Task<absl::Status> Load() = 0;
};

// Picks, per key, the row a read at `version` sees: the newest at or below it. Rows are fed in
// row order; Take(row) is true for that one row of each key (put or delete).
class NewestAtOrBelow {
 public:
  explicit NewestAtOrBelow(uint64_t version) : version_(version) {}
  bool Take(const format::RowView& row) {
    if (!have_key_ || row.key != key_) {
      key_.assign(row.key);
      have_key_ = true;
      taken_ = false;
    }
    if (taken_ || row.version > version_) return false;
    taken_ = true;
    return true;
  }
  // As if rows up to (key, version) had been fed, one per key (a reused macroblock's).
  void SkipTo(std::string_view key, uint64_t version) {
    key_.assign(key);
    have_key_ = true;
    taken_ = version <= version_;
  }
  // Whether `key` sorts after every key fed so far.
  bool Before(std::string_view key) const { return !have_key_ || std::string_view(key_) < key; }

 private:
  const uint64_t version_;
  std::string key_;
  bool have_key_ = false;
  bool taken_ = false;
};

// A memtable's rows. It holds the memtable alive; rows added while it streams are seen if they
// sort after the position (callers filter versions by their snapshot).
class MemtableStream final : public RowStream {
 public:
  explicit MemtableStream(std::shared_ptr<const Memtable> memtable) : memtable_(std::move(memtable)) {}
  Task<absl::Status> Seek(std::string key, uint64_t version) override;
  Task<absl::Status> SeekToFirst() override;
  bool Valid() const override { return valid_ && it_ != memtable_->end(); }
  format::RowView row() const override { return Memtable::View(it_); }
  bool Next() override;
  Task<absl::Status> Load() override;

 private:
  std::shared_ptr<const Memtable> memtable_;
  Memtable::Iterator it_;
  bool valid_ = false;
};

// An SSTable's rows. `owner` keeps the reader (and whatever holds it) alive.
class SstStream final : public RowStream {
 public:
  SstStream(std::shared_ptr<void> owner, format::SstReader& reader, format::IteratorOptions options = {})
      : owner_(std::move(owner)), it_(reader.NewIterator(std::move(options))) {}
  Task<absl::Status> Seek(std::string key, uint64_t version) override;
  Task<absl::Status> SeekToFirst() override;
  bool Valid() const override { return it_->Valid(); }
  format::RowView row() const override { return it_->row(); }
  bool Next() override { return it_->Next(); }
  Task<absl::Status> Load() override;
  // For compaction, which moves it by macroblocks (then MergingStream::Refresh).
  format::SstIterator& iterator() { return *it_; }

 private:
  std::shared_ptr<void> owner_;
  std::unique_ptr<format::SstIterator> it_;
};

// The union of several streams in row order. A (key, version) present in two sources is a
// broken invariant of the engine (versions are unique commit positions), so the merge does not
// deduplicate; callers pick versions.
class MergingStream final : public RowStream {
 public:
  explicit MergingStream(std::vector<std::unique_ptr<RowStream>> children) : children_(std::move(children)) {}
  Task<absl::Status> Seek(std::string key, uint64_t version) override;
  Task<absl::Status> SeekToFirst() override;
  bool Valid() const override { return current_ != kNone; }
  format::RowView row() const override { return children_[current_]->row(); }
  bool Next() override;
  Task<absl::Status> Load() override;
  // The child the current row comes from; all children, for their positions.
  size_t current() const { return current_; }
  const std::vector<std::unique_ptr<RowStream>>& children() const { return children_; }
  // After a caller moved a child itself: picks the smallest row again.
  void Refresh() {
    loading_ = false;
    PickSmallest();
  }

 private:
  static constexpr size_t kNone = SIZE_MAX;
  void PickSmallest();
  std::vector<std::unique_ptr<RowStream>> children_;
  size_t current_ = kNone;
  bool loading_ = false;  // children_[current_] needs Load before the merge can move on
};

}  // namespace cairn::lsm

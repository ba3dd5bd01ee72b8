// LocalJournal: the engine's Journal on the node's own disk — a SegmentedLog
// (src/storage/segmented_log.h), which says what is durable when, and how recovery treats a
// torn tail and damage.
#pragma once

#include <memory>
#include <string>

#include "src/lsm/journal.h"
#include "src/storage/segmented_log.h"

namespace cairn::lsm {

using LocalJournalOptions = storage::SegmentedLogOptions;

class LocalJournal final : public Journal {
 public:
  static Task<absl::StatusOr<std::unique_ptr<LocalJournal>>> Open(Disk& disk, Executor& executor, std::string dir,
                                                                  LocalJournalOptions options = {});

  Task<absl::StatusOr<uint64_t>> Append(std::string payload) override { return log_->Append(std::move(payload)); }
  Task<absl::StatusOr<std::vector<JournalRecord>>> Read(uint64_t from, size_t max_bytes) override {
    return log_->Read(from, max_bytes);
  }
  Task<absl::Status> Trim(uint64_t upto) override { return log_->Trim(upto); }
  uint64_t start() const override { return log_->start(); }
  uint64_t next_position() const override { return log_->next_position(); }

  const storage::SegmentedLog& log() const { return *log_; }

 private:
  explicit LocalJournal(std::unique_ptr<storage::SegmentedLog> log) : log_(std::move(log)) {}
  std::unique_ptr<storage::SegmentedLog> log_;
};

}  // namespace cairn::lsm

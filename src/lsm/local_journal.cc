#include "src/lsm/local_journal.h"

#include "src/base/status.h"

namespace cairn::lsm {

Task<absl::StatusOr<std::unique_ptr<LocalJournal>>> LocalJournal::Open(Disk& disk, Executor& executor, std::string dir,
                                                                        LocalJournalOptions options) {
  CO_ASSIGN_OR_RETURN(std::unique_ptr<storage::SegmentedLog> log,
                      co_await storage::SegmentedLog::Open(disk, executor, std::move(dir), options));
  co_return std::unique_ptr<LocalJournal>(new LocalJournal(std::move(log)));
}

}  // namespace cairn::lsm

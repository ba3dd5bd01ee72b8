// RaftStorage: what one Raft group persists on its node's Disk, and how it comes back.
//
//   <dir>/STATE  a sealed file (src/lsm/sealed_file.h), replaced atomically: the term and vote
//                (and the commit index as of that write) and the log's start (first index, the
//                term before it, the configuration and epoch in force there)
//   <dir>/log/   a LocalJournal whose positions are Raft indexes. Each record is an entry, or
//                a start marker: a reset (a follower adopting the leader's start S) empties the
//                journal and restarts it at S - 1 with a marker holding the new start, before
//                STATE says so
//
// Durability follows RaftCore's Ready: Persist makes a Ready's log changes durable (one write
// and one sync for its entries) and rewrites STATE when the term, the vote or the start
// changed; the commit index alone is not worth a write (it is relearned from the leader).
//
// Recovery takes the later of STATE's start and a marker's, so a crash in the middle of a reset
// comes back either as the old log (a prefix of it: segments go newest first) or as the new,
// empty one; neither loses anything committed that this node still needs, since everything
// before a leader's start is committed and lives in SSTables, and a follower adopts a start
// only when its own entries there are not the committed ones.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "src/journal/raft.h"
#include "src/lsm/local_journal.h"
#include "src/runtime/disk.h"
#include "src/runtime/executor.h"

namespace cairn::journal {

class RaftStorage {
 public:
  // Opens the group's storage in `dir`, creating it with `members` if it is new. NotFound when
  // there is no group and `members` is empty (recovery of a group whose creation a crash cut
  // off before its STATE was written).
  static Task<absl::StatusOr<std::unique_ptr<RaftStorage>>> Open(Disk& disk, Executor& executor, std::string dir,
                                                                 std::vector<NodeId> members);

  // What a RaftCore starts from.
  const RaftState& recovered() const { return recovered_; }

  // Makes `ready`'s log changes and hard state durable; returns the last index the log now
  // holds (for RaftCore::OnPersisted). On an error the storage must be reopened.
  Task<absl::StatusOr<uint64_t>> Persist(const RaftCore::Ready& ready);

 private:
  RaftStorage(Disk& disk, std::string dir) : disk_(disk), dir_(std::move(dir)) {}
  Task<absl::Status> Recover(Executor& executor, std::vector<NodeId> members);
  Task<absl::Status> WriteState();
  uint64_t LastIndex() const;

  Disk& disk_;
  const std::string dir_;
  std::unique_ptr<lsm::LocalJournal> log_;
  LogStart start_;
  HardState written_;  // in STATE
  RaftState recovered_;
  bool failed_ = false;
};

// The encodings, for tests.
std::string EncodeEntry(const Entry& e);
absl::StatusOr<Entry> DecodeEntry(uint64_t index, std::string_view bytes);

}  // namespace cairn::journal

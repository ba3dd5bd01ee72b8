// RaftStorage: what one Raft group persists on its node's Disk, and how it comes back —
// including from damage to that disk.
//
//   <dir>/STATE.0, STATE.1   two copies of a sealed file (src/lsm/sealed_file.h), each
//                replaced atomically, 0 then 1: a write sequence number, the term and vote
//                (and the commit index as of that write), the vote floor (HardState), and the
//                log's start (first index, the term before it, the configuration and epoch in
//                force there)
//   <dir>/log/   a LocalJournal holding every Raft index i twice, as journal positions 2i and
//                2i + 1, written in one write. Each record is an entry (with the first index of
//                the Persist that wrote it), or a start marker: a reset (a follower adopting
//                the leader's start S) empties the journal and restarts it at index S - 1 with
//                a marker holding the new start, before STATE says so
//
// Durability follows RaftCore's Ready: Persist makes a Ready's log changes durable (one write
// and one sync for its entries) and rewrites STATE when the term, the vote, the floor or the
// start changed; the commit index alone is not worth a write (it is relearned from the leader).
//
// Recovery takes the later of STATE's start and a marker's, so a crash in the middle of a reset
// comes back either as the old log (a prefix of it: segments go newest first) or as the new,
// empty one; neither loses anything committed that this node still needs, since everything
// before a leader's start is committed and lives in SSTables, and a follower adopts a start
// only when its own entries there are not the committed ones.
//
// Damage (docs/journal.md, "Storage faults"):
//   - STATE: a copy that fails its checksum (after re-reads) is rewritten from the other.
//     The node acts on a write only after both copies have it, so the survivor holds what it
//     acted on, or later. Both copies damaged: DataLoss; the replica forgot its votes and must
//     be replaced, not restarted.
//   - An entry with one damaged copy is read from the other.
//   - An entry with both copies gone, followed by an intact entry from a later Persist, was
//     synced, so it may have been acknowledged: the floor is set to the log's old end (written
//     to STATE first) and the log is cut at the damage. The node then catches up from a
//     leader, and the floor keeps it from electing one that lacks what it acknowledged.
//   - Both copies gone in the last Persist's entries (nothing later survives): a write a
//     crash tore before its sync, never acknowledged; the log is cut there, as any torn tail.
//     (Damage spoiling both copies of an entry of the last write looks the same: two separate
//     flips, or a lost sector over a small entry's side-by-side copies. Not survived.)
//   - Positions lost at the end of a segment that a later one follows were synced: floor.
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

  // What recovery found and repaired.
  struct RecoveryStats {
    uint64_t state_copies_repaired = 0;  // a damaged or missing STATE copy rewritten
    uint64_t entries_from_one_copy = 0;  // an entry read from its surviving copy
    uint64_t torn_entries_dropped = 0;   // unacknowledged entries of a torn last write
    uint64_t damaged_entries_dropped = 0;  // cut off behind damage; the floor is set
  };
  const RecoveryStats& recovery_stats() const { return recovery_stats_; }

 private:
  RaftStorage(Disk& disk, std::string dir) : disk_(disk), dir_(std::move(dir)) {}
  Task<absl::Status> Recover(Executor& executor, std::vector<NodeId> members);
  // Each sets *state_stale when STATE must be (re)written once recovery is done.
  Task<absl::Status> RecoverState(std::vector<NodeId> members, bool* state_stale);
  Task<absl::Status> RecoverLog(Executor& executor, bool* state_stale);
  Task<absl::Status> WriteState();
  uint64_t LastIndex() const;

  Disk& disk_;
  const std::string dir_;
  std::unique_ptr<lsm::LocalJournal> log_;
  LogStart start_;
  HardState written_;  // in STATE
  uint64_t state_seq_ = 0;  // of the last STATE write
  RaftState recovered_;
  RecoveryStats recovery_stats_;
  bool failed_ = false;
};

// The encodings, for tests.
std::string EncodeEntry(const Entry& e);
absl::StatusOr<Entry> DecodeEntry(uint64_t index, std::string_view bytes);
// The names of STATE's two copies, and the journal positions of an index's two copies.
inline constexpr std::string_view kStateFileNames[2] = {"STATE.0", "STATE.1"};
inline uint64_t JournalPositionOf(uint64_t index, int copy) { return 2 * index + static_cast<uint64_t>(copy); }

}  // namespace cairn::journal

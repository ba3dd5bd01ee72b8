// RaftStorage: what one Raft group persists on its node, and how it comes back — including
// from damage to the node's disk.
//
//   <dir>/STATE.0, STATE.1   two copies of a sealed file (src/lsm/sealed_file.h), each
//                replaced atomically, 0 then 1: a write sequence number, the stream's
//                incarnation in the node log, the term and vote (and the commit index as of
//                that write), the vote floor (HardState), and the log's start (first index, the
//                term before it, the configuration and epoch in force there)
//   the entries  in the node's shared log (src/journal/node_log.h), which every stream on the
//                node writes, so that one fsync carries all of them
//
// Durability follows RaftCore's Ready: Persist makes a Ready's log changes durable (one record
// in the node log: reset, truncate, entries) and rewrites STATE when the term, the vote, the
// floor or the start changed; the commit index alone is not worth a write (it is relearned
// from the leader). A trim writes STATE first, then lets the node log forget what it held
// below the new start.
//
// Recovery takes the later of STATE's start and a reset's in the node log, so a crash in the
// middle of a reset comes back either as the old log or as the new, empty one; neither loses
// anything committed that this node still needs, since everything before a leader's start is
// committed and lives in SSTables, and a follower adopts a start only when its own entries
// there are not the committed ones.
//
// Damage (docs/journal.md, "Storage faults"):
//   - STATE: a copy that fails its checksum (after re-reads) is rewritten from the other.
//     The node acts on a write only after both copies have it, so the survivor holds what it
//     acted on, or later. Both copies damaged: DataLoss; the replica forgot its votes and must
//     be replaced, not restarted.
//   - The node log keeps two copies of each record and reads a damaged one from its twin.
//   - A record lost in both copies after it was synced may have held entries this node
//     acknowledged, and nobody can tell whose it was: every stream created before it takes it
//     as its own. Its log comes back as it stood at the loss (NodeLog::Replay), cut there by a
//     recovery cut; the vote floor is raised (to the current term: no entry this node holds or
//     held has a later one, and any index: the lost entries' are unknown), written to STATE
//     before the node serves; and the commit index is relearned, since STATE's may count
//     entries the older log holds in an overwritten form. The node catches up from a leader,
//     and the floor keeps it from electing one that lacks what it acknowledged.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "src/journal/node_log.h"
#include "src/journal/raft.h"
#include "src/runtime/disk.h"

namespace cairn::journal {

class RaftStorage {
 public:
  // Opens stream `stream`'s storage: STATE in `dir`, entries in `log` (while it recovers),
  // creating it with `members` if it is new. NotFound when there is no group and `members` is
  // empty (recovery of a group whose creation a crash cut off before its STATE was written).
  static Task<absl::StatusOr<std::unique_ptr<RaftStorage>>> Open(Disk& disk, NodeLog& log, std::string stream,
                                                                 std::string dir, std::vector<NodeId> members);

  // What a RaftCore starts from.
  const RaftState& recovered() const { return recovered_; }

  // Makes `ready`'s log changes and hard state durable; returns the last index the log now
  // holds (for RaftCore::OnPersisted). On an error the storage must be reopened.
  Task<absl::StatusOr<uint64_t>> Persist(const RaftCore::Ready& ready);

  // What recovery found and repaired (the node log counts the records it repaired).
  struct RecoveryStats {
    uint64_t state_copies_repaired = 0;  // a damaged or missing STATE copy rewritten
    uint64_t floors_raised = 0;          // entries may have been lost: the vote floor was raised
    uint64_t holes_cut = 0;              // this stream's log had a hole, and was cut there
  };
  const RecoveryStats& recovery_stats() const { return recovery_stats_; }

 private:
  RaftStorage(Disk& disk, NodeLog& log, std::string stream, std::string dir)
      : disk_(disk), log_(log), dir_(std::move(dir)) {
    key_.name = std::move(stream);
  }
  Task<absl::Status> Recover(std::vector<NodeId> members);
  // Sets *state_stale when STATE must be (re)written once recovery is done.
  Task<absl::Status> RecoverState(std::vector<NodeId> members, bool* state_stale);
  Task<absl::Status> WriteState();

  Disk& disk_;
  NodeLog& log_;
  const std::string dir_;
  StreamKey key_;  // its incarnation is STATE's
  LogStart start_;
  uint64_t last_index_ = 0;  // the last index the log holds (start - 1 when empty)
  HardState written_;  // in STATE
  uint64_t state_seq_ = 0;  // of the last STATE write
  RaftState recovered_;
  RecoveryStats recovery_stats_;
  bool failed_ = false;
  bool replayed_ = false;  // the node log replayed the stream for Recover
};

// Whether Open failed because both copies of STATE are damaged: the replica forgot its votes
// and must stay down until replaced (an error of any other kind may pass on a retry).
bool IsStateLost(const absl::Status& s);

// The names of STATE's two copies.
inline constexpr std::string_view kStateFileNames[2] = {"STATE.0", "STATE.1"};

}  // namespace cairn::journal

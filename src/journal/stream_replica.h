// StreamReplica: one replica of one journal stream on a node — a RaftCore driven through its
// RaftStorage, on the node's executor. The JournalNode hosting it ticks it, routes it the Raft
// messages and requests that name its stream, and carries its outgoing messages (`send`).
//
// The ready loop owns the core's output: it takes each Ready, persists it (RaftStorage),
// reports it (OnPersisted), hands its messages to `send` and applies its committed entries. A
// storage failure stops the replica (fail-stop): it answers nothing more until the node
// restarts and recovery sorts the disk out.
//
// Requests (leader only; a follower answers NotLeaderError naming the leader it knows):
//   Append  record, epoch, append id → position, once committed
//   Fence   → a new epoch, once committed; older epochs are refused from then on
//   Trim    epoch, upto → records before `upto` dropped on every replica (a replicated entry)
//   Read    committed records from a position: linearizable from the leader (after a ReadIndex
//           round), or from any replica's applied state
//
// Positions are dense: the state machine numbers the data records it applies 1, 2, 3, ...
// (no-ops, fences, trims and configuration entries take Raft indexes but no position), and a
// retried append (same append id) takes no new one. Every replica applies the same committed
// log, so every replica numbers alike; the log's start carries the position its first record
// takes (LogStart::first_position), so numbering survives trims and a follower adopting a start.
//
// Append ids are remembered for the records in the log; a trim forgets those before it. That is
// safe because only the stream's writer trims, and only below records it was acknowledged (they
// are in its SSTables), so it never again retries an append id from below the trim point; a
// writer fenced off cannot append at all.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "src/journal/journal.pb.h"
#include "src/journal/raft.h"
#include "src/journal/raft_storage.h"
#include "src/runtime/notifier.h"
#include "src/runtime/runtime.h"
#include "src/runtime/task_group.h"

namespace cairn::journal {

// Hands one Raft message to the transport; never blocks (the transport may drop it: Raft resends).
using RaftSend = std::function<void(RaftMessage message)>;

struct StreamReplicaOptions {
  std::vector<NodeId> members;  // the stream's replicas, this one included (a new stream)
  RaftOptions raft;
  // journal.read answers at most this many bytes of records.
  size_t read_bytes_max = 1u << 20;
  // Canary: send a Ready's messages (votes, acknowledgements) before persisting it. The
  // simulator must catch the acknowledged appends a crash then loses.
  bool canary_ack_before_fsync = false;
  // Called once when the replica stops on a storage failure.
  std::function<void(const absl::Status&)> on_failure;
  // Called each time this replica stops leading (the node's generation, for quiescence).
  std::function<void()> on_leadership_lost;
  // The simulator's observer: called with each committed entry as this replica applies it,
  // and the position it answers (a data entry's, or a retry's original's; else where the
  // stream stands). Every replica must apply the same entry at each index, with the same
  // position, across restarts too.
  std::function<void(const Entry&, uint64_t position)> applying;
};

struct StreamReplicaStats {
  uint64_t readies = 0;
  uint64_t messages_sent = 0;
  uint64_t appends = 0;       // committed through this replica as leader
  uint64_t appends_lost = 0;  // proposed here, overwritten by another leader's entry
  uint64_t trims = 0;         // trim entries applied
};

class StreamReplica {
 public:
  // Opens (or, with options.members, creates) the replica's storage: STATE in `dir`, entries
  // in the node's log.
  static Task<absl::StatusOr<std::unique_ptr<StreamReplica>>> Open(Runtime& rt, NodeLog& log, std::string stream,
                                                                   std::string dir, StreamReplicaOptions options,
                                                                   RaftSend send);
  ~StreamReplica();
  StreamReplica(const StreamReplica&) = delete;
  StreamReplica& operator=(const StreamReplica&) = delete;

  void Start();  // the ready loop
  void Tick();
  void Wake();  // ends quiescence (RaftCore::Wake)
  void Step(const RaftMessage& message);

  Task<absl::StatusOr<AppendReply>> Append(const AppendRequest& request, Instant deadline);
  Task<absl::StatusOr<FenceReply>> Fence(const FenceRequest& request, Instant deadline);
  Task<absl::StatusOr<TrimReply>> Trim(const TrimRequest& request, Instant deadline);
  Task<absl::StatusOr<ReadReply>> Read(const ReadRequest& request, Instant deadline);
  // journal.members: one membership change, answered once committed (see RaftCore::ProposeMembers).
  Task<absl::StatusOr<MembersReply>> ChangeMembers(const MembersRequest& request, Instant deadline);
  // journal.transfer: answered once `to` leads this stream.
  Task<absl::StatusOr<TransferReply>> Transfer(const TransferRequest& request, Instant deadline);
  // journal.info: Info(), after confirming leadership when the request is linearizable.
  Task<absl::StatusOr<InfoReply>> Describe(const InfoRequest& request, Instant deadline);
  InfoReply Info() const;

  const std::string& name() const { return stream_; }
  const RaftCore& core() const { return *core_; }
  uint64_t applied() const { return applied_; }
  const absl::Status& failure() const { return failure_; }
  const StreamReplicaStats& stats() const { return stats_; }
  // What recovery found on disk and repaired when this replica opened.
  const RaftStorage::RecoveryStats& recovery_stats() const { return storage_->recovery_stats(); }
  // The committed data records this replica has applied and not trimmed, by position.
  const std::map<uint64_t, std::string>& records() const { return records_; }
  // The first position readable here, and the one the next record takes.
  uint64_t start_position() const { return start_position_; }
  uint64_t next_position() const { return next_position_; }

  // Append ids remembered per client, the most recent.
  static constexpr size_t kAppendIdsRemembered = 4096;
  // How often a transfer checks whether the target has taken over.
  static constexpr Duration kTransferPoll = std::chrono::milliseconds(5);

 private:
  StreamReplica(Runtime& rt, std::string stream, StreamReplicaOptions options, RaftSend send);
  Task<void> ReadyLoop();
  void SendAll(const std::vector<Message>& messages);
  // After the core ticked or stepped: reports a leadership it lost.
  void NoteRole();
  absl::Status Usable() const;
  void Apply(Entry e);
  void Reset(const LogStart& start);  // the log now begins at `start`
  void ApplyTrim(const Entry& e);
  // Waits until the entry now at `index` in the log is applied, and returns the position
  // applied there (AppliedEntry). Aborted if another leader's entry took the index.
  Task<absl::StatusOr<uint64_t>> WaitCommitted(uint64_t index, Instant deadline);
  // Confirms leadership (RaftCore::ReadIndex) and waits until the read index is applied.
  Task<absl::Status> WaitLinearizable(Instant deadline);

  Runtime& rt_;
  const std::string stream_;
  const StreamReplicaOptions options_;
  const RaftSend send_;
  std::unique_ptr<RaftStorage> storage_;
  std::unique_ptr<RaftCore> core_;

  // The state machine: the untrimmed records and how positions map to Raft indexes.
  std::map<uint64_t, std::string> records_;  // by position
  uint64_t start_position_ = 1;
  uint64_t next_position_ = 1;
  std::map<uint64_t, uint64_t> index_of_position_;  // position → the index of its record
  struct AppliedEntry {
    uint64_t term = 0;
    // The position its record took (a retry: the first one's); for an entry without a
    // record, the position the next record takes.
    uint64_t position = 0;
  };
  std::map<uint64_t, AppliedEntry> applied_entries_;  // by Raft index, untrimmed
  // The retries of the start this replica applies from (LogStart::retries): the core's start
  // may move ahead of what the replica has applied (a leader's start, adopted while a Ready
  // was being persisted), so the replica keeps its own.
  std::map<uint64_t, uint64_t> start_retries_;
  std::map<uint64_t, std::map<uint64_t, uint64_t>> appends_seen_;  // client → seq → position
  uint64_t applied_ = 0;

  // ReadIndex outcomes not yet picked up: the read index, or nullopt when it failed.
  std::map<uint64_t, std::optional<uint64_t>> read_outcomes_;
  std::set<uint64_t> abandoned_reads_;  // timed out before their outcome came
  absl::Status failure_;
  bool leading_ = false;  // as of the last NoteRole
  StreamReplicaStats stats_;
  Notifier work_;  // the core may have a Ready
  Notifier applied_notifier_;
  TaskGroup loops_;  // last: the loop ends before what it uses
};

// Conversions between the core's messages and the wire's.
RaftMessage ToProto(const Message& m, const std::string& stream);
Message FromProto(const RaftMessage& p);

}  // namespace cairn::journal

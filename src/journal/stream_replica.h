// StreamReplica: one replica of one journal stream on a node — a RaftCore driven through its
// RaftStorage and the node's RpcNode, on the node's executor.
//
// Two loops own the core's time and output: the tick loop ticks it every `tick`; the ready
// loop takes each Ready, persists it (RaftStorage), reports it (OnPersisted), sends its
// messages (one-way "journal.step" calls, each a single attempt: Raft retries on its own) and
// applies its committed entries to the replica's record map. RPC handlers Step the core and
// wake the ready loop. A storage failure stops the replica (fail-stop): it answers nothing
// more until the node restarts and recovery sorts the disk out.
//
// Service (leader only; others answer FailedPrecondition naming the leader they know):
//   journal.append  record, epoch → position, once committed
//   journal.fence   → a new epoch, once committed; older epochs are refused from then on
//   journal.read    committed records from a position: linearizable from the leader (after a
//                   ReadIndex round), or from any replica's applied state
//
// Positions are dense: the state machine numbers the data records it applies 1, 2, 3, ...
// (the leader's no-ops, fences and configuration entries take Raft indexes but no position),
// and a retried append (same client and seq) takes no new one. Every replica applies the same
// committed log, so every replica numbers alike. Until trimming goes through the service, the
// numbering and the append ids seen are rebuilt from the whole log at restart.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "src/journal/journal.pb.h"
#include "src/journal/raft.h"
#include "src/journal/raft_storage.h"
#include "src/rpc/rpc_node.h"
#include "src/runtime/notifier.h"
#include "src/runtime/runtime.h"
#include "src/runtime/task_group.h"

namespace cairn::journal {

struct StreamReplicaOptions {
  std::vector<NodeId> members;  // the stream's replicas, this one included (a new stream)
  Duration tick = std::chrono::milliseconds(10);
  RaftOptions raft;
  // Raft messages being sent at once; past it a message is dropped (Raft resends).
  size_t sends_inflight_max = 256;
  // journal.read answers at most this many bytes of records.
  size_t read_bytes_max = 1u << 20;
  // Canary: send a Ready's messages (votes, acknowledgements) before persisting it. The
  // simulator must catch the acknowledged appends a crash then loses.
  bool canary_ack_before_fsync = false;
};

struct StreamReplicaStats {
  uint64_t readies = 0;
  uint64_t messages_sent = 0;
  uint64_t messages_dropped = 0;  // the send limit was reached
  uint64_t appends = 0;           // committed through this replica as leader
  uint64_t appends_lost = 0;      // proposed here, overwritten by another leader's entry
};

class StreamReplica {
 public:
  static Task<absl::StatusOr<std::unique_ptr<StreamReplica>>> Open(Runtime& rt, rpc::RpcNode& rpc, std::string stream,
                                                                   std::string dir, StreamReplicaOptions options);
  ~StreamReplica();
  StreamReplica(const StreamReplica&) = delete;
  StreamReplica& operator=(const StreamReplica&) = delete;

  // Registers the journal.* methods (before rpc.Start()), then starts the loops.
  void RegisterMethods();
  void Start();

  const RaftCore& core() const { return *core_; }
  uint64_t applied() const { return applied_; }
  const absl::Status& failure() const { return failure_; }
  const StreamReplicaStats& stats() const { return stats_; }
  // The committed data records this replica has applied, by position.
  const std::map<uint64_t, std::string>& records() const { return records_; }

  // Append ids remembered per client, the most recent.
  static constexpr size_t kAppendIdsRemembered = 4096;

 private:
  StreamReplica(Runtime& rt, rpc::RpcNode& rpc, std::string stream, StreamReplicaOptions options);
  Task<void> TickLoop();
  Task<void> ReadyLoop();
  Task<void> SendOne(RaftMessage message);
  void SendAll(const std::vector<Message>& messages);
  absl::Status Usable(const std::string& stream) const;
  // Waits until `index` is applied; OK if the entry there is the one proposed at `term`.
  Task<absl::Status> WaitCommitted(uint64_t index, uint64_t term, Instant deadline);
  // Confirms leadership (RaftCore::ReadIndex) and waits until the read index is applied.
  Task<absl::Status> WaitLinearizable(Instant deadline);
  Task<absl::StatusOr<StepReply>> HandleStep(rpc::CallContext context, RaftMessage request);
  Task<absl::StatusOr<AppendReply>> HandleAppend(rpc::CallContext context, AppendRequest request);
  Task<absl::StatusOr<FenceReply>> HandleFence(rpc::CallContext context, FenceRequest request);
  Task<absl::StatusOr<ReadReply>> HandleRead(rpc::CallContext context, ReadRequest request);

  Runtime& rt_;
  rpc::RpcNode& rpc_;
  const std::string stream_;
  const StreamReplicaOptions options_;
  std::unique_ptr<RaftStorage> storage_;
  std::unique_ptr<RaftCore> core_;
  void Apply(Entry e);

  std::map<uint64_t, std::string> records_;     // by position
  uint64_t next_position_ = 1;
  std::map<uint64_t, uint64_t> applied_terms_;  // Raft index → term of the entry applied there
  std::map<uint64_t, uint64_t> position_of_index_;  // Raft index → the position its record took
  std::map<uint64_t, std::map<uint64_t, uint64_t>> appends_seen_;  // client → seq → position
  // ReadIndex outcomes not yet picked up: the read index, or nullopt when it failed.
  std::map<uint64_t, std::optional<uint64_t>> read_outcomes_;
  std::set<uint64_t> abandoned_reads_;  // timed out before their outcome came
  uint64_t applied_ = 0;
  absl::Status failure_;
  StreamReplicaStats stats_;
  Notifier work_;     // the core may have a Ready
  Notifier applied_notifier_;
  TaskGroup sends_;
  TaskGroup loops_;  // last: the loops end before what they use
};

// Conversions between the core's messages and the wire's.
RaftMessage ToProto(const Message& m, const std::string& stream);
Message FromProto(const RaftMessage& p);

}  // namespace cairn::journal

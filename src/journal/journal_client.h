// JournalClient: the engine's Journal (lsm::Journal) over a replicated journal stream.
//
// Opening a client fences the stream (journal.fence): the client becomes its one writer, with
// the new epoch, and every earlier writer's appends and trims are refused from then on — a
// deposed shard owner can never write again. The fence names the epoch it supersedes, so a
// fence request delayed past another writer's fence is refused rather than deposing it. The
// fence also tells the client where the stream starts and ends.
//
// Every call goes to the replica the client believes leads, and follows a refusal that names
// another ("not the leader (leader: N)"); an unreachable or stopped replica sends it on to the
// next. It retries, with a short backoff, until the operation's deadline. Appends are
// idempotent: each carries an append id (the client's epoch, a sequence number), and a retry
// of an append that did land answers the position it took, so a retry across a leader change
// never lands a record twice. An append that runs out of time may or may not be in the journal
// (DeadlineExceeded), which the engine treats as indeterminate.
//
// A client refused for a stale epoch (FailedPrecondition) was fenced off: it is final.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "src/journal/journal.pb.h"
#include "src/lsm/journal.h"
#include "src/rpc/rpc_node.h"
#include "src/runtime/notifier.h"
#include "src/runtime/runtime.h"

namespace cairn::journal {

struct JournalClientOptions {
  std::vector<NodeId> replicas;  // the stream's replicas (any of them: the leader is found)
  // A writer fences the stream at Open; a reader only reads (its Append and Trim are refused).
  bool writer = true;
  // Identifies this writer's fence (nonzero; 0: drawn at Open). A writer that retries Open
  // after a failure must pass the same id: its earlier fence may have landed unanswered, or
  // still be on its way, and a new id would fence the writer out with its own request.
  uint64_t fence_id = 0;
  // The epoch this writer takes over from, when its caller knows it (the master will: it
  // hands the shard from one owner to the next). Unset: Open reads the stream's current epoch
  // from the leader first. Either way the fence is refused if another writer fenced since.
  std::optional<uint64_t> supersedes;
  Duration attempt_timeout = std::chrono::seconds(1);     // one call
  Duration operation_timeout = std::chrono::seconds(10);  // one Append, Read, Trim or the fence
  Duration retry_backoff = std::chrono::milliseconds(20);
  // Appends awaiting their answer; more wait. Kept below what a replica remembers of a
  // client's append ids (StreamReplica::kAppendIdsRemembered), so a retry is always recognized.
  size_t appends_inflight_max = 1024;
};

struct JournalClientStats {
  uint64_t calls = 0;
  uint64_t retries = 0;
  uint64_t redirects = 0;  // refusals that named the leader
};

class JournalClient final : public lsm::Journal {
 public:
  // Fences `stream` and returns its writer (options.writer), or returns a reader.
  static Task<absl::StatusOr<std::unique_ptr<JournalClient>>> Open(Runtime& rt, rpc::RpcNode& rpc, std::string stream,
                                                                   JournalClientOptions options);

  Task<absl::StatusOr<uint64_t>> Append(std::string payload) override;
  Task<absl::StatusOr<std::vector<lsm::JournalRecord>>> Read(uint64_t from, size_t max_bytes) override;
  Task<absl::Status> Trim(uint64_t upto) override;
  // As of the fence, moved by this client's own appends and trims.
  uint64_t start() const override { return start_; }
  uint64_t next_position() const override { return next_; }

  // Moves the stream to the replicas `target`, one replica at a time (additions first, so a
  // replacement never shrinks the group), each change committed before the next; a new
  // replica is made to host the stream (journal.create) before the group counts it. Works
  // for a reader too. Idempotent: retrying after a failure carries on from where the group is.
  Task<absl::Status> ChangeMembers(std::vector<NodeId> target);
  // Hands the stream's leadership to replica `to`; returns once it leads.
  Task<absl::Status> TransferLeadership(NodeId to);

  // The stream as its leader sees it now (epoch, start, next, members...): how a reader sees
  // a writer at work without reading.
  Task<absl::StatusOr<InfoReply>> Info(Instant deadline) { co_return co_await LeaderInfo(deadline); }

  uint64_t epoch() const { return epoch_; }
  NodeId leader_guess() const { return target_; }
  const JournalClientStats& stats() const { return stats_; }

 private:
  JournalClient(Runtime& rt, rpc::RpcNode& rpc, std::string stream, JournalClientOptions options);
  // Calls `method` on the leader, following redirects and retrying until `deadline`.
  template <typename Reply, typename Request>
  Task<absl::StatusOr<Reply>> CallLeader(std::string method, const Request& request, Instant deadline);
  // The stream as its leader sees it, once it confirmed it leads (epoch, members, ...).
  Task<absl::StatusOr<InfoReply>> LeaderInfo(Instant deadline);
  // Calls `method` on one node, retrying what a retry may cure until `deadline`.
  template <typename Reply, typename Request>
  Task<absl::Status> CallUntil(NodeId node, std::string method, const Request& request, Instant deadline);

  Runtime& rt_;
  rpc::RpcNode& rpc_;
  const std::string stream_;
  const JournalClientOptions options_;
  std::vector<NodeId> replicas_;  // where the leader may be: options.replicas and members added since
  NodeId target_;
  uint64_t epoch_ = 0;
  uint64_t start_ = 1;
  uint64_t next_ = 1;
  uint64_t seq_ = 0;
  size_t appends_inflight_ = 0;
  Notifier append_slot_;
  JournalClientStats stats_;
};

}  // namespace cairn::journal

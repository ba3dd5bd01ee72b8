// JournalNode: the journal service of one node — the replicas of every stream it hosts, one
// tick loop for all of them, one outbox carrying their Raft messages to the peers, and the
// journal.* methods, routed to a stream by the name each request carries.
//
// On disk, stream S keeps its STATE in <root>/<S>/ (its RaftStorage), and every stream's
// entries go to one log, <root>/.nodelog/ (NodeLog), so that one fsync serves them all. A
// stream exists here once its STATE is written; Open recovers the node log, then every stream
// found under the root (a directory whose creation a crash cut off is left alone, logged). A
// replica whose STATE is lost in both copies forgot its votes: it stays down — every request
// for it fails naming the loss — Unavailable, so that a client asks another replica;
// journal.create FailedPrecondition, so that an operator picks another node — until an
// operator replaces it with another node; the node's other streams serve on. Streams are created by journal.create (the
// master, later, decides which nodes replicate a stream) or CreateStream.
//
// Methods:
//   journal.create  stream, members → this node replicates the stream (idempotent)
//   journal.step    a batch of Raft messages from a peer (PeerOutbox)
//   journal.append / journal.fence / journal.trim / journal.read   see StreamReplica
//   journal.info    one replica's view of the stream (leader, term, epoch, start, next, ...)
//   journal.members / journal.transfer   membership change, leadership transfer
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "src/journal/node_log.h"
#include "src/journal/peer_outbox.h"
#include "src/journal/stream_replica.h"
#include "src/rpc/rpc_node.h"
#include "src/runtime/notifier.h"
#include "src/runtime/runtime.h"
#include "src/runtime/task_group.h"

namespace cairn::journal {

struct JournalNodeOptions {
  Duration tick = std::chrono::milliseconds(10);
  RaftOptions raft;
  size_t read_bytes_max = 1u << 20;
  size_t streams_max = 16384;
  size_t members_max = 9;
  PeerOutboxOptions outbox;
  NodeLogOptions node_log;
  bool canary_ack_before_fsync = false;  // see StreamReplicaOptions
  // Idle streams go quiet (RaftCore, quiescence): the node heartbeats each peer once a tick,
  // and a stream with nothing to send sends nothing.
  bool quiesce = true;
  // The simulator's observer: stream `name`'s replica here applies `entry`, answering
  // `position` (StreamReplicaOptions).
  std::function<void(const std::string& name, const Entry& entry, uint64_t position)> applying;

  // The defaults, with Raft's timing and batching and the node log's sizes the knobs say.
  static JournalNodeOptions FromKnobs(const Knobs& knobs);
};

struct JournalNodeStats {
  uint64_t steps_unknown_stream = 0;  // Raft messages for a stream not hosted here
  uint64_t leaderships_lost = 0;      // the generation: replicas here that stopped leading
};

class JournalNode {
 public:
  // Recovers every stream under `root`.
  static Task<absl::StatusOr<std::unique_ptr<JournalNode>>> Open(Runtime& rt, rpc::RpcNode& rpc, std::string root,
                                                                 JournalNodeOptions options);
  ~JournalNode();
  JournalNode(const JournalNode&) = delete;
  JournalNode& operator=(const JournalNode&) = delete;

  // Registers the journal.* methods (before rpc.Start()), then starts the tick loop and the
  // streams.
  void RegisterMethods();
  void Start();

  // Makes this node a replica of a new stream with `members` (this node among them). OK if it
  // already is one.
  Task<absl::Status> CreateStream(std::string stream, std::vector<NodeId> members);

  // Waits until a replica stops on a storage failure, and returns it. The node's process
  // should then exit and restart: recovery sorts the disk out (an fsync that failed leaves
  // the file's state unknown, so carrying on is not an option).
  Task<absl::Status> Failed();

  // nullptr when the stream is not hosted here.
  StreamReplica* stream(const std::string& name) const;
  const std::map<std::string, std::unique_ptr<StreamReplica>>& streams() const { return streams_; }
  const PeerOutboxStats& outbox_stats() const { return outbox_.stats(); }
  const NodeLog& node_log() const { return *log_; }
  const JournalNodeStats& stats() const { return stats_; }

  // Whether `name` may name a stream: 1-128 of [A-Za-z0-9_.-], not starting with '.'.
  static absl::Status ValidateStreamName(std::string_view name);

 private:
  JournalNode(Runtime& rt, rpc::RpcNode& rpc, std::string root, JournalNodeOptions options);
  Task<absl::Status> OpenStream(std::string name, std::vector<NodeId> members);
  Task<void> TickLoop();
  // Quiescence: whether `node` was heard from within an election timeout, and its generation.
  std::optional<uint64_t> NodeLiveness(NodeId node) const;
  // This node's: a per-boot number (so a restart moves it) and the leaderships lost since.
  uint64_t Generation() const;
  void WakeLeaders();
  absl::StatusOr<StreamReplica*> Find(const std::string& name) const;
  // Registers `method`, served by `serve` on the stream the request names.
  template <typename Request, typename Reply>
  void RegisterRouted(std::string method, Task<absl::StatusOr<Reply>> (StreamReplica::*serve)(const Request&, Instant));

  Runtime& rt_;
  rpc::RpcNode& rpc_;
  const std::string root_;
  const JournalNodeOptions options_;
  PeerOutbox outbox_;
  std::unique_ptr<NodeLog> log_;  // before the streams, which write to it
  std::map<std::string, std::unique_ptr<StreamReplica>> streams_;
  std::set<std::string> creating_;  // CreateStream in progress
  std::map<std::string, absl::Status> lost_;  // replicas that forgot their votes, and why
  struct Heard {
    Instant at;
    uint64_t generation = 0;
  };
  std::map<NodeId, Heard> heard_;   // peers, by their last journal.step call
  bool started_ = false;
  absl::Status failure_;
  Notifier failed_;
  JournalNodeStats stats_;
  const uint64_t boot_;
  TaskGroup loops_;  // last
};

}  // namespace cairn::journal

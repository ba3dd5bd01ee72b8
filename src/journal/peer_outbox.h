// PeerOutbox: carries a node's Raft messages, of every stream it hosts, to its peers — as
// one-way "journal.step" batches (Raft acknowledges in its own messages, so a reply would be
// a second message for nothing), one per peer for whatever was queued while the node's ready
// tasks ran.
//
// This is how heartbeats and appends scale with the number of streams: a node's streams tick
// together (JournalNode's single tick loop), so the heartbeats of a thousand streams bound for
// one peer leave as one call, not a thousand; and under load the appends of many streams share
// calls the same way. Messages to one peer leave in the order they were queued.
//
// What a lost batch carried is lost (Raft resends), and so are messages queued past the
// per-peer limit (counted in the stats).
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "src/journal/journal.pb.h"
#include "src/rpc/rpc_node.h"
#include "src/runtime/runtime.h"
#include "src/runtime/task_group.h"

namespace cairn::journal {

struct PeerOutboxOptions {
  Duration batch_budget = std::chrono::milliseconds(40);  // the receiver's time for a batch
  size_t queued_messages_max = 8192;   // per peer; past it a message is dropped
  size_t batch_bytes_max = 4u << 20;   // per call (a single larger message still goes alone)
};

struct PeerOutboxStats {
  uint64_t calls = 0;  // batches sent
  uint64_t messages = 0;
  uint64_t messages_dropped = 0;
};

class PeerOutbox {
 public:
  PeerOutbox(Runtime& rt, rpc::RpcNode& rpc, PeerOutboxOptions options);
  PeerOutbox(const PeerOutbox&) = delete;
  PeerOutbox& operator=(const PeerOutbox&) = delete;

  // Queues `message` for message.to(); it leaves with the next call to that peer.
  void Send(RaftMessage message);
  // Makes sure a call goes to `to` soon, messages or not: the node's own heartbeat, which
  // quiesced streams rely on instead of theirs. Every call carries `generation`.
  void Heartbeat(NodeId to);
  // Heartbeat to every peer this outbox has carried messages to.
  void HeartbeatAll();
  void set_generation(uint64_t generation) { generation_ = generation; }

  const PeerOutboxStats& stats() const { return stats_; }

 private:
  struct Peer {
    std::vector<RaftMessage> queued;
    bool heartbeat_due = false;
    bool flushing = false;
  };
  Task<void> Flush(NodeId to);

  Runtime& rt_;
  rpc::RpcNode& rpc_;
  const PeerOutboxOptions options_;
  std::map<NodeId, Peer> peers_;
  uint64_t generation_ = 0;
  PeerOutboxStats stats_;
  TaskGroup flushers_;  // last
};

}  // namespace cairn::journal

// Network: framed messages between nodes.
//
// The promise is deliberately weak, because that is what the world gives: a sent message may
// be lost, delayed, duplicated or reordered, and a peer may be down or unreachable, all
// without an error. Send only fails for messages that can never be sent (too large, unknown
// node). Anything that needs a reply uses the RPC layer (src/rpc), which adds request ids,
// deadlines and bounded retries on top.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "src/runtime/channel.h"

namespace cairn {

using NodeId = uint32_t;
inline constexpr NodeId kNoNode = UINT32_MAX;

struct Message {
  NodeId from = kNoNode;
  std::string payload;
};

class Network {
 public:
  Network(Executor& executor, NodeId self, size_t inbox_messages_max)
      : self_(self), inbox_(executor, inbox_messages_max) {}
  virtual ~Network() = default;

  NodeId self() const { return self_; }

  // Queues `payload` for `to`. OK means accepted for sending, not delivered.
  virtual absl::Status Send(NodeId to, std::string payload) = 0;

  // `co_await network.Receive(deadline)`: the next message for this node, or
  // DeadlineExceeded. A full inbox drops new messages (counted as lost).
  Channel<Message>::ReceiveAwaiter Receive(Instant deadline) { return inbox_.Receive(deadline); }

 protected:
  // Implementations deliver here; false means the inbox was full and the message is dropped.
  bool Deliver(Message message) { return inbox_.TrySend(std::move(message)); }

 private:
  NodeId self_;
  Channel<Message> inbox_;
};

}  // namespace cairn

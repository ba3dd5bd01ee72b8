// RpcNode: request/response over the runtime's unreliable Network.
//
// A call carries a call id; the reply echoes it. The caller waits for one reply per attempt
// (rpc_attempt_timeout_ms), resends the same call up to rpc_attempts_max times with doubling,
// jittered backoff, and never past the call's deadline. Duplicated or late replies are
// ignored. Because a request may be delivered more than once (resends, duplication), handlers
// must be idempotent, or deduplicate by what the request says. A call that gets no reply ends
// with DeadlineExceeded or Unavailable: its effect on the server is unknown.
//
// The receive loop and every running handler belong to this object: destroying it cancels
// them. Tasks that await this object's calls must be destroyed before it. An object whose
// methods are registered here calls CancelHandlers() in its destructor, so that no handler
// outlives the object it runs on. Limits: rpc_inflight_calls_max outgoing, rpc_handlers_max incoming at once (beyond
// that a request is answered with ResourceExhausted).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "src/base/status.h"
#include "src/runtime/channel.h"
#include "src/runtime/runtime.h"
#include "src/runtime/task_group.h"

namespace cairn::rpc {

class Envelope;

struct CallContext {
  NodeId from = kNoNode;
  Instant deadline;  // when the caller stops waiting (by this node's clock)
};

struct CallOptions {
  Instant deadline = kInstantMax;  // required in practice: the call never waits past it
  int attempts_max = 0;            // 0: the rpc_attempts_max knob
  // One send's wait for its reply; 0: the rpc_attempt_timeout_ms knob. A call whose handler
  // works for long (a coprocessor scan) waits longer than the knob's fraction of a second.
  Duration attempt_timeout = Duration(0);
};

class RpcNode {
 public:
  using Handler =
      std::function<Task<absl::StatusOr<std::string>>(CallContext context, std::string body)>;

  explicit RpcNode(Runtime& runtime);
  ~RpcNode();
  RpcNode(const RpcNode&) = delete;
  RpcNode& operator=(const RpcNode&) = delete;

  Runtime& runtime() { return rt_; }

  // Handlers are registered before Start.
  void Register(std::string method, Handler handler);

  template <typename Request, typename Reply>
  void Register(std::string method,
                std::function<Task<absl::StatusOr<Reply>>(CallContext, Request)> handler) {
    std::string name = method;
    Register(std::move(method),
             [handler = std::move(handler), name = std::move(name)](CallContext context,
                                                                    std::string body) {
               return Adapt<Request, Reply>(handler, name, context, std::move(body));
             });
  }

  // Starts receiving messages and serving requests.
  void Start();
  // Cancels every running handler (new requests are still served).
  void CancelHandlers();

  Task<absl::StatusOr<std::string>> CallRaw(NodeId to, std::string method, std::string body,
                                            CallOptions options);

  template <typename Reply, typename Request>
  Task<absl::StatusOr<Reply>> Call(NodeId to, std::string method, const Request& request,
                                   CallOptions options) {
    std::string body;
    CAIRN_CHECK(request.SerializeToString(&body));
    absl::StatusOr<std::string> raw = co_await CallRaw(to, method, std::move(body), options);
    if (!raw.ok()) co_return raw.status();
    Reply reply;
    if (!reply.ParseFromString(*raw)) {
      co_return absl::DataLossError(absl::StrCat("node ", to, ": malformed reply to ", method));
    }
    co_return reply;
  }

  // A one-way request: the handler runs (within `budget`) and its reply is dropped. Nothing
  // says whether it arrived: for messages a protocol already resends or acknowledges in its
  // own way (Raft's), which then cost one message each, not a request and a reply.
  void SendRaw(NodeId to, std::string method, std::string body, Duration budget);

  template <typename Request>
  void Send(NodeId to, std::string method, const Request& request, Duration budget) {
    std::string body;
    CAIRN_CHECK(request.SerializeToString(&body));
    SendRaw(to, std::move(method), std::move(body), budget);
  }

  struct Stats {
    uint64_t sends = 0;  // one-way
    uint64_t calls = 0, attempts = 0, replies = 0, timeouts = 0, served = 0, rejected = 0,
             malformed = 0;
  };
  const Stats& stats() const { return stats_; }

 private:
  template <typename Request, typename Reply>
  static Task<absl::StatusOr<std::string>> Adapt(
      const std::function<Task<absl::StatusOr<Reply>>(CallContext, Request)>& handler,
      std::string method, CallContext context, std::string body) {
    Request request;
    if (!request.ParseFromString(body)) {
      co_return absl::InvalidArgumentError(absl::StrCat("malformed ", method, " request"));
    }
    absl::StatusOr<Reply> reply = co_await handler(context, std::move(request));
    if (!reply.ok()) co_return reply.status();
    std::string out;
    CAIRN_CHECK(reply->SerializeToString(&out));
    co_return out;
  }

  Task<void> ReceiveLoop();
  Task<void> Serve(NodeId from, Envelope request);
  void OnReply(Envelope reply);
  void SendEnvelope(NodeId to, const Envelope& envelope);

  Runtime& rt_;
  std::map<std::string, Handler> methods_;
  // A reply, as its caller takes it (moved out of the envelope, not re-encoded: a reply may
  // carry megabytes).
  struct PendingReply {
    int32_t status_code = 0;
    std::string status_message;
    std::string body;
  };
  std::map<uint64_t, std::unique_ptr<Channel<PendingReply>>> pending_;  // call id → its reply
  uint64_t next_call_id_;
  Stats stats_;
  // Last: handlers and the loop die before the state they use.
  TaskGroup handlers_running_;
  TaskGroup receiving_;
};

}  // namespace cairn::rpc

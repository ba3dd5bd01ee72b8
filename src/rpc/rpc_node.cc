#include "src/rpc/rpc_node.h"

#include <algorithm>

#include "src/rpc/rpc.pb.h"

namespace cairn::rpc {
namespace {
using std::chrono::milliseconds;
using std::chrono::microseconds;
}  // namespace

RpcNode::RpcNode(Runtime& runtime)
    : rt_(runtime),
      next_call_id_(runtime.random().Next()),
      handlers_running_(runtime.executor()),
      receiving_(runtime.executor()) {}

RpcNode::~RpcNode() {
  receiving_.CancelAll();
  handlers_running_.CancelAll();
}

void RpcNode::CancelHandlers() { handlers_running_.CancelAll(); }

void RpcNode::Register(std::string method, Handler handler) {
  CAIRN_CHECK_MSG(!methods_.contains(method), absl::StrCat("handler registered twice: ", method));
  methods_.emplace(std::move(method), std::move(handler));
}

void RpcNode::Start() { receiving_.Spawn(ReceiveLoop()); }

void RpcNode::SendEnvelope(NodeId to, const Envelope& envelope) {
  std::string wire;
  CAIRN_CHECK(envelope.SerializeToString(&wire));
  // Best effort, like the network: a send that cannot happen is a lost message.
  (void)rt_.network().Send(to, std::move(wire));
}

Task<void> RpcNode::ReceiveLoop() {
  while (true) {
    // The deadline only bounds the wait; an idle node just waits again.
    absl::StatusOr<Message> message = co_await rt_.network().Receive(rt_.DeadlineAfter(std::chrono::seconds(1)));
    if (!message.ok()) continue;
    Envelope envelope;
    if (!envelope.ParseFromString(message->payload)) {
      ++stats_.malformed;
      continue;
    }
    if (envelope.is_reply()) {
      OnReply(std::move(envelope));
      continue;
    }
    if (handlers_running_.size() >= static_cast<size_t>(rt_.knobs().rpc_handlers_max)) {
      ++stats_.rejected;
      if (envelope.one_way()) continue;
      Envelope reply;
      reply.set_call_id(envelope.call_id());
      reply.set_is_reply(true);
      reply.set_status_code(static_cast<int>(absl::StatusCode::kResourceExhausted));
      reply.set_status_message("server busy: rpc_handlers_max handlers running");
      SendEnvelope(message->from, reply);
      continue;
    }
    handlers_running_.Spawn(Serve(message->from, std::move(envelope)));
  }
}

Task<void> RpcNode::Serve(NodeId from, Envelope request) {
  ++stats_.served;
  // Fault point: a slow server, so callers see replies after their attempt timed out.
  if (CAIRN_BUGGIFY(rt_)) co_await rt_.Sleep(rt_.random().UniformDuration(Duration(0), milliseconds(300)));
  Envelope reply;
  reply.set_call_id(request.call_id());
  reply.set_is_reply(true);
  auto it = methods_.find(request.method());
  absl::StatusOr<std::string> result =
      it == methods_.end()
          ? absl::StatusOr<std::string>(absl::UnimplementedError(
                absl::StrCat("no method '", request.method(), "' on node ", rt_.node_id())))
          : absl::StatusOr<std::string>(absl::UnknownError("unset"));
  if (it != methods_.end()) {
    // Saturate: a caller without a deadline sends the largest budget, which must not overflow.
    const int64_t budget_us = std::max<int64_t>(0, request.budget_us());
    const int64_t headroom_us = (kInstantMax - rt_.Now()).count() / 1000;
    const Instant deadline =
        budget_us >= headroom_us ? kInstantMax : rt_.Now() + microseconds(budget_us);
    result = co_await it->second(CallContext{from, deadline}, std::move(*request.mutable_body()));
  }
  if (request.one_way()) co_return;
  // Fault point: the work is done but the reply is lost, so the caller's retry repeats it.
  if (CAIRN_BUGGIFY(rt_)) co_return;
  if (result.ok()) {
    reply.set_body(std::move(*result));
  } else {
    reply.set_status_code(static_cast<int>(result.status().code()));
    reply.set_status_message(std::string(result.status().message()));
  }
  SendEnvelope(from, reply);
}

void RpcNode::OnReply(Envelope reply) {
  auto it = pending_.find(reply.call_id());
  CAIRN_SOMETIMES(rt_, it == pending_.end(), "rpc.late-or-duplicate-reply-ignored");
  if (it == pending_.end()) return;  // late, duplicated, or for a call that gave up
  ++stats_.replies;
  (void)it->second->TrySend(PendingReply{.status_code = reply.status_code(),
                                  .status_message = std::move(*reply.mutable_status_message()),
                                         .body = std::move(*reply.mutable_body())});  // a duplicate finds the channel full
}

void RpcNode::SendRaw(NodeId to, std::string method, std::string body, Duration budget) {
  ++stats_.sends;
  Envelope request;
  request.set_method(std::move(method));
  request.set_body(std::move(body));
  request.set_one_way(true);
  request.set_budget_us(std::chrono::duration_cast<microseconds>(budget).count());
  SendEnvelope(to, request);
}

Task<absl::StatusOr<std::string>> RpcNode::CallRaw(NodeId to, std::string method,
                                                   std::string body, CallOptions options) {
  ++stats_.calls;
  if (pending_.size() >= static_cast<size_t>(rt_.knobs().rpc_inflight_calls_max)) {
    co_return absl::ResourceExhaustedError("too many outstanding RPCs (rpc_inflight_calls_max)");
  }
  const uint64_t call_id = next_call_id_++;
  auto [slot, inserted] =
      pending_.emplace(call_id, std::make_unique<Channel<PendingReply>>(rt_.executor(), 1));
  CAIRN_CHECK(inserted);
  Channel<PendingReply>& replies = *slot->second;
  // Whatever happens to this call (a reply, giving up, cancellation), it stops listening.
  struct Unlisten {
    std::map<uint64_t, std::unique_ptr<Channel<PendingReply>>>& pending;
    uint64_t id;
    ~Unlisten() { pending.erase(id); }
  } unlisten{pending_, call_id};

  Envelope request;
  request.set_call_id(call_id);
  request.set_method(method);
  request.set_body(std::move(body));

  const int attempts_max = options.attempts_max > 0
                               ? options.attempts_max
                               : static_cast<int>(std::max<int64_t>(1, rt_.knobs().rpc_attempts_max));
  const Duration attempt_timeout =
      options.attempt_timeout > Duration(0) ? options.attempt_timeout : milliseconds(rt_.knobs().rpc_attempt_timeout_ms);
  Duration backoff = milliseconds(rt_.knobs().rpc_backoff_initial_ms);
  const Duration backoff_max = milliseconds(rt_.knobs().rpc_backoff_max_ms);

  for (int attempt = 1; attempt <= attempts_max; ++attempt) {
    const Instant now = rt_.Now();
    if (now >= options.deadline) break;
    ++stats_.attempts;
    CAIRN_SOMETIMES(rt_, attempt > 1, "rpc.call-resent");
    request.set_budget_us(options.deadline == kInstantMax
                              ? INT64_MAX
                              : std::chrono::duration_cast<microseconds>(options.deadline - now).count());
    SendEnvelope(to, request);
    const Instant wait_until = std::min(options.deadline, now + attempt_timeout);
    absl::StatusOr<PendingReply> reply = co_await replies.Receive(wait_until);
    if (reply.ok()) {
      if (reply->status_code != 0) {
        co_return absl::Status(static_cast<absl::StatusCode>(reply->status_code),
                               absl::StrCat("node ", to, ": ", reply->status_message));
      }
      co_return std::move(reply->body);
    }
    ++stats_.timeouts;
    if (attempt == attempts_max) break;
    // Doubling backoff with full jitter, bounded by the deadline.
    const Duration pause = rt_.random().UniformDuration(Duration(0), backoff);
    backoff = std::min(backoff * 2, backoff_max);
    if (rt_.Now() + pause >= options.deadline) break;
    co_await rt_.Sleep(pause);
  }
  co_return absl::DeadlineExceededError(
      absl::StrCat("no reply from node ", to, " to ", method));
}

}  // namespace cairn::rpc

#include "src/demo/quorum.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "src/runtime/channel.h"
#include "src/runtime/task_group.h"

namespace cairn::demo {
namespace {

// Sends one request to every replica at once and gathers replies until `quorum` succeeded,
// every replica answered, or the deadline passed. Calls still running are cancelled on return.
template <typename Reply, typename Request>
Task<absl::StatusOr<std::vector<Reply>>> Gather(rpc::RpcNode& rpc,
                                                const std::vector<NodeId>& replicas,
                                                size_t quorum, const char* method,
                                                Request request, Instant deadline,
                                                bool canary_drop_retry = false) {
  Channel<absl::StatusOr<Reply>> replies(rpc.runtime().executor(), replicas.size());
  TaskGroup calls(rpc.runtime().executor());
  for (NodeId replica : replicas) {
    // A coroutine lambda takes what it uses as parameters (captures would dangle).
    calls.Spawn([](rpc::RpcNode& node, NodeId to, const char* name, Request body, Instant until,
                   bool drop_retry, Channel<absl::StatusOr<Reply>>* out) -> Task<void> {
      const rpc::CallOptions options{until, drop_retry ? 1 : 0};
      absl::StatusOr<Reply> reply = co_await node.Call<Reply>(to, name, body, options);
      if (drop_retry && absl::IsDeadlineExceeded(reply.status())) reply = Reply();  // the bug
      (void)out->TrySend(std::move(reply));
    }(rpc, replica, method, request, deadline, canary_drop_retry, &replies));
  }
  std::vector<Reply> ok;
  absl::Status last_error = absl::DeadlineExceededError("deadline passed");
  size_t answered = 0;
  while (ok.size() < quorum && answered < replicas.size()) {
    absl::StatusOr<absl::StatusOr<Reply>> reply = co_await replies.Receive(deadline);
    if (!reply.ok()) break;
    ++answered;
    if (reply->ok()) {
      ok.push_back(**reply);
    } else {
      last_error = reply->status();
    }
  }
  calls.CancelAll();
  if (ok.size() < quorum) {
    co_return absl::UnavailableError(absl::StrCat(method, ": ", ok.size(), " of ", quorum,
                                                  " needed replicas answered; last error: ",
                                                  last_error.message()));
  }
  co_return ok;
}

}  // namespace

bool TimestampLess(const Timestamp& a, const Timestamp& b) {
  if (a.counter() != b.counter()) return a.counter() < b.counter();
  return a.nonce() < b.nonce();
}

Task<absl::StatusOr<Versioned>> QueryQuorum(rpc::RpcNode& rpc, const std::vector<NodeId>& replicas,
                                            size_t quorum, std::string key, Instant deadline) {
  KeyRequest request;
  request.set_key(key);
  absl::StatusOr<std::vector<Versioned>> replies =
      co_await Gather<Versioned>(rpc, replicas, quorum, kMethodReadTs, request, deadline);
  if (!replies.ok()) co_return replies.status();
  Versioned best;
  best.set_key(key);
  for (const Versioned& v : *replies) {
    CAIRN_CHECK_MSG(v.key() == key, "a replica answered for another key");
    if (v.has_value() && (!best.has_value() || TimestampLess(best.ts(), v.ts()))) best = v;
  }
  co_return best;
}

Task<absl::Status> StoreQuorum(rpc::RpcNode& rpc, const std::vector<NodeId>& replicas,
                               size_t quorum, Versioned record, Instant deadline,
                               bool canary_drop_retry, uint64_t lease_id) {
  // The store window (demo_store_window_ms): acknowledgements count only until it ends, by this
  // client's clock, counted from now. A replica that acknowledged this Store may lose it to
  // corruption and repair from the other replicas before they have stored it (a slow disk, a
  // resent request); the write would then complete held by a minority. A repairing replica
  // therefore waits the window out before it reads the others (RegisterReplica::Repair), so
  // every write that counted its lost acknowledgement is on the others by then. Replicas
  // refuse Stores whose budget is longer than the window.
  Runtime& rt = rpc.runtime();
  const Duration window = std::chrono::milliseconds(rt.knobs().demo_store_window_ms);
  deadline = std::min(deadline, rt.Now() + window);
  StoreRequest request;
  *request.mutable_record() = std::move(record);
  request.set_lease_id(lease_id);
  absl::StatusOr<std::vector<Empty>> replies = co_await Gather<Empty>(
      rpc, replicas, quorum, kMethodStore, request, deadline, canary_drop_retry);
  if (replies.ok() && rt.Now() >= deadline) {
    // Replies found waiting after the window (this client was paused): the outcome is unknown.
    co_return absl::UnavailableError("register.Store: the quorum completed after the store window");
  }
  co_return replies.status();
}

Task<absl::StatusOr<Versioned>> LeaseQuorum(rpc::RpcNode& rpc, const std::vector<NodeId>& replicas,
                                            size_t quorum, LeaseRequest request, Instant deadline) {
  // A replica that will not grant answers with an error, so a success is a grant.
  absl::StatusOr<std::vector<LeaseReply>> grants =
      co_await Gather<LeaseReply>(rpc, replicas, quorum, kMethodLease, request, deadline);
  if (!grants.ok()) co_return grants.status();
  Versioned best;
  best.set_key(request.key());
  for (const LeaseReply& g : *grants) {
    if (g.record().has_value() && (!best.has_value() || TimestampLess(best.ts(), g.record().ts()))) {
      best = g.record();
    }
  }
  co_return best;
}

}  // namespace cairn::demo

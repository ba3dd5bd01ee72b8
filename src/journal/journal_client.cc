#include "src/journal/journal_client.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "src/base/check.h"
#include "src/journal/leader_hint.h"
#include "src/journal/stream_replica.h"

namespace cairn::journal {
namespace {

// Whether another attempt (at the same or another replica) may succeed.
bool Retryable(const absl::Status& s) {
  return absl::IsUnavailable(s) || absl::IsDeadlineExceeded(s) || absl::IsAborted(s) || absl::IsNotFound(s) ||
         absl::IsResourceExhausted(s) || absl::IsCancelled(s);
}

// ChangeMembers: each step adds or removes one replica; more steps than two full groups
// worth means the members keep moving under us.
constexpr size_t kMembershipStepsMax = 20;

}  // namespace

JournalClient::JournalClient(Runtime& rt, rpc::RpcNode& rpc, std::string stream, JournalClientOptions options)
    : rt_(rt),
      rpc_(rpc),
      stream_(std::move(stream)),
      options_(std::move(options)),
      replicas_(options_.replicas),
      target_(replicas_.empty() ? kNoNode : replicas_[0]),
      append_slot_(rt.executor()) {}

Task<absl::StatusOr<std::unique_ptr<JournalClient>>> JournalClient::Open(Runtime& rt, rpc::RpcNode& rpc,
                                                                         std::string stream,
                                                                         JournalClientOptions options) {
  if (options.replicas.empty()) co_return absl::InvalidArgumentError("a journal client needs the stream's replicas");
  if (options.appends_inflight_max == 0 || options.appends_inflight_max >= StreamReplica::kAppendIdsRemembered) {
    co_return absl::InvalidArgumentError(absl::StrCat("appends_inflight_max must be in [1, ",
                                                      StreamReplica::kAppendIdsRemembered, ")"));
  }
  std::unique_ptr<JournalClient> c(new JournalClient(rt, rpc, std::move(stream), std::move(options)));
  if (!c->options_.writer) co_return c;
  const Instant deadline = rt.DeadlineAfter(c->options_.operation_timeout);
  FenceRequest request;
  request.set_stream(c->stream_);
  request.set_fence_id(c->options_.fence_id != 0 ? c->options_.fence_id : (rt.random().Next() | 1));
  if (c->options_.supersedes.has_value()) {
    request.set_supersedes(*c->options_.supersedes);
  } else {
    // The epoch to supersede is the stream's as of now, confirmed by its leader. Should
    // another writer fence between this read and our fence, the fence is refused: two
    // writers opening at once never both believe they own the stream.
    absl::StatusOr<InfoReply> info = co_await c->LeaderInfo(deadline);
    if (!info.ok()) co_return info.status();
    request.set_supersedes(info->epoch());
  }
  std::string method = "journal.fence";
  absl::StatusOr<FenceReply> fence = co_await c->CallLeader<FenceReply>(std::move(method), request, deadline);
  if (!fence.ok()) co_return fence.status();
  c->epoch_ = fence->epoch();
  c->start_ = fence->start();
  c->next_ = fence->next();
  co_return c;
}

template <typename Reply, typename Request>
Task<absl::StatusOr<Reply>> JournalClient::CallLeader(std::string method, const Request& request, Instant deadline) {
  absl::Status last;
  for (int attempt = 0;; ++attempt) {
    const Instant now = rt_.Now();
    if (now >= deadline) {
      co_return absl::DeadlineExceededError(
          absl::StrCat(method, " on stream ", stream_, " did not succeed in time; last error: ", last.ToString()));
    }
    ++stats_.calls;
    if (attempt > 0) ++stats_.retries;
    rpc::CallOptions call{.deadline = std::min(deadline, rt_.DeadlineAfter(options_.attempt_timeout)), .attempts_max = 1};
    // Concurrent calls share target_: each moves on from the node it tried, and only if no
    // other call moved target_ meanwhile. (Three appends timing out on one dead node, each
    // stepping target_ on by one, once sent them all around the ring back to it.)
    const NodeId tried = target_;
    absl::StatusOr<Reply> reply = co_await rpc_.Call<Reply>(tried, method, request, call);
    if (reply.ok()) co_return reply;
    last = reply.status();
    if (!Retryable(last)) co_return last;
    if (std::optional<NodeId> leader = LeaderHint(last);
        leader.has_value() && *leader != tried &&
        std::find(replicas_.begin(), replicas_.end(), *leader) != replicas_.end()) {
      ++stats_.redirects;
      target_ = *leader;
      continue;  // straight to the named leader
    }
    if (!absl::IsResourceExhausted(last) && target_ == tried) {
      auto it = std::find(replicas_.begin(), replicas_.end(), tried);
      target_ = (it == replicas_.end() || std::next(it) == replicas_.end()) ? replicas_[0] : *std::next(it);
    }
    co_await rt_.Sleep(options_.retry_backoff);
  }
}

Task<absl::Status> JournalClient::ChangeMembers(std::vector<NodeId> target) {
  std::sort(target.begin(), target.end());
  target.erase(std::unique(target.begin(), target.end()), target.end());
  if (target.empty()) co_return absl::InvalidArgumentError("a stream needs at least one replica");
  for (NodeId n : target) {
    if (std::find(replicas_.begin(), replicas_.end(), n) == replicas_.end()) replicas_.push_back(n);
  }
  const Instant deadline = rt_.DeadlineAfter(options_.operation_timeout);
  // One replica at a time, additions first, so a replacement never shrinks the group; each
  // step starts from the members the leader reports (an earlier attempt may have landed).
  for (size_t step = 0; step < kMembershipStepsMax; ++step) {
    absl::StatusOr<InfoReply> info = co_await LeaderInfo(deadline);
    if (!info.ok()) co_return info.status();
    std::vector<NodeId> current(info->members().begin(), info->members().end());
    std::sort(current.begin(), current.end());
    if (current == target) co_return absl::OkStatus();
    std::vector<NodeId> add, remove;
    std::set_difference(target.begin(), target.end(), current.begin(), current.end(), std::back_inserter(add));
    std::set_difference(current.begin(), current.end(), target.begin(), target.end(), std::back_inserter(remove));
    std::vector<NodeId> next = current;
    if (!add.empty()) {
      next.push_back(add.front());
      // The new member hosts the stream before the group counts it.
      CreateRequest create;
      create.set_stream(stream_);
      for (NodeId n : next) create.add_members(n);
      std::string create_method = "journal.create";
      const absl::Status created = co_await CallUntil<CreateReply>(add.front(), std::move(create_method), create, deadline);
      CO_RETURN_IF_ERROR(created);
    } else {
      std::erase(next, remove.front());
    }
    MembersRequest request;
    request.set_stream(stream_);
    for (NodeId n : next) request.add_members(n);
    std::string method = "journal.members";
    absl::StatusOr<MembersReply> reply = co_await CallLeader<MembersReply>(std::move(method), request, deadline);
    if (!reply.ok()) co_return reply.status();
  }
  co_return absl::InternalError("membership change did not converge");
}

Task<absl::StatusOr<InfoReply>> JournalClient::LeaderInfo(Instant deadline) {
  InfoRequest request;
  request.set_stream(stream_);
  request.set_linearizable(true);
  std::string method = "journal.info";
  co_return co_await CallLeader<InfoReply>(std::move(method), request, deadline);
}

Task<absl::Status> JournalClient::TransferLeadership(NodeId to) {
  TransferRequest request;
  request.set_stream(stream_);
  request.set_to(to);
  std::string method = "journal.transfer";
  absl::StatusOr<TransferReply> reply =
      co_await CallLeader<TransferReply>(std::move(method), request, rt_.DeadlineAfter(options_.operation_timeout));
  if (!reply.ok()) co_return reply.status();
  target_ = to;
  co_return absl::OkStatus();
}

template <typename Reply, typename Request>
Task<absl::Status> JournalClient::CallUntil(NodeId node, std::string method, const Request& request, Instant deadline) {
  while (true) {
    rpc::CallOptions call{.deadline = std::min(deadline, rt_.DeadlineAfter(options_.attempt_timeout)), .attempts_max = 1};
    absl::StatusOr<Reply> reply = co_await rpc_.Call<Reply>(node, method, request, call);
    if (reply.ok()) co_return absl::OkStatus();
    if (!Retryable(reply.status()) || rt_.Now() >= deadline) co_return reply.status();
    co_await rt_.Sleep(options_.retry_backoff);
  }
}

Task<absl::StatusOr<uint64_t>> JournalClient::Append(std::string payload) {
  if (!options_.writer) co_return absl::FailedPreconditionError("a journal reader cannot append");
  const Instant deadline = rt_.DeadlineAfter(options_.operation_timeout);
  while (appends_inflight_ >= options_.appends_inflight_max) {
    if (!co_await append_slot_.Wait(deadline)) co_return absl::DeadlineExceededError("no append slot in time");
  }
  ++appends_inflight_;
  AppendRequest request;
  request.set_stream(stream_);
  request.set_epoch(epoch_);
  request.set_record(std::move(payload));
  request.set_client(epoch_);  // fencing makes the epoch unique to this writer
  request.set_seq(++seq_);
  std::string method = "journal.append";
  absl::StatusOr<AppendReply> reply = co_await CallLeader<AppendReply>(std::move(method), request, deadline);
  --appends_inflight_;
  append_slot_.NotifyAll();
  if (!reply.ok()) co_return reply.status();
  CAIRN_CHECK_GE(reply->position(), 1u);
  next_ = std::max(next_, reply->position() + 1);
  co_return reply->position();
}

Task<absl::StatusOr<std::vector<lsm::JournalRecord>>> JournalClient::Read(uint64_t from, size_t max_bytes) {
  ReadRequest request;
  request.set_stream(stream_);
  request.set_from(from);
  request.set_max_bytes(max_bytes);
  request.set_linearizable(true);
  std::string method = "journal.read";
  absl::StatusOr<ReadReply> reply =
      co_await CallLeader<ReadReply>(std::move(method), request, rt_.DeadlineAfter(options_.operation_timeout));
  if (!reply.ok()) co_return reply.status();
  std::vector<lsm::JournalRecord> records;
  uint64_t expected = from;
  for (Record& r : *reply->mutable_records()) {
    // Positions are dense: a reply that skips one is a bug somewhere, not data to apply.
    if (r.position() != expected) {
      co_return absl::DataLossError(absl::StrCat("stream ", stream_, ": read from ", from, " answered position ",
                                                 r.position(), " where ", expected, " was due"));
    }
    ++expected;
    records.push_back(lsm::JournalRecord{r.position(), std::move(*r.mutable_payload())});
  }
  next_ = std::max(next_, reply->next());
  co_return records;
}

Task<absl::Status> JournalClient::Trim(uint64_t upto) {
  if (!options_.writer) co_return absl::FailedPreconditionError("a journal reader cannot trim");
  if (upto <= start_) co_return absl::OkStatus();
  TrimRequest request;
  request.set_stream(stream_);
  request.set_epoch(epoch_);
  request.set_upto(upto);
  std::string method = "journal.trim";
  absl::StatusOr<TrimReply> reply =
      co_await CallLeader<TrimReply>(std::move(method), request, rt_.DeadlineAfter(options_.operation_timeout));
  if (!reply.ok()) co_return reply.status();
  start_ = std::max(start_, reply->start());
  co_return absl::OkStatus();
}

}  // namespace cairn::journal

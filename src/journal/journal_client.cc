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

}  // namespace

JournalClient::JournalClient(Runtime& rt, rpc::RpcNode& rpc, std::string stream, JournalClientOptions options)
    : rt_(rt),
      rpc_(rpc),
      stream_(std::move(stream)),
      options_(std::move(options)),
      target_(options_.replicas.empty() ? kNoNode : options_.replicas[0]),
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
    InfoRequest info_request;
    info_request.set_stream(c->stream_);
    info_request.set_linearizable(true);
    std::string info_method = "journal.info";
    absl::StatusOr<InfoReply> info = co_await c->CallLeader<InfoReply>(std::move(info_method), info_request, deadline);
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
    absl::StatusOr<Reply> reply = co_await rpc_.Call<Reply>(target_, method, request, call);
    if (reply.ok()) co_return reply;
    last = reply.status();
    if (!Retryable(last)) co_return last;
    if (std::optional<NodeId> leader = LeaderHint(last);
        leader.has_value() && *leader != target_ &&
        std::find(options_.replicas.begin(), options_.replicas.end(), *leader) != options_.replicas.end()) {
      ++stats_.redirects;
      target_ = *leader;
      continue;  // straight to the named leader
    }
    if (!absl::IsResourceExhausted(last)) {
      auto it = std::find(options_.replicas.begin(), options_.replicas.end(), target_);
      target_ = (it == options_.replicas.end() || std::next(it) == options_.replicas.end()) ? options_.replicas[0]
                                                                                            : *std::next(it);
    }
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

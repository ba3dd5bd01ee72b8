#include "src/journal/stream_replica.h"

#include "absl/strings/str_cat.h"
#include "src/base/check.h"
#include "src/base/status.h"

namespace cairn::journal {
namespace {

void EntryToProto(const Entry& e, RaftEntry* p) {
  p->set_index(e.index);
  p->set_term(e.term);
  p->set_kind(static_cast<uint32_t>(e.kind));
  p->set_epoch(e.epoch);
  p->set_payload(e.payload);
  for (NodeId n : e.members) p->add_members(n);
  p->set_client(e.client);
  p->set_seq(e.seq);
}

Entry EntryFromProto(const RaftEntry& p) {
  Entry e;
  e.index = p.index();
  e.term = p.term();
  e.kind = p.kind() <= static_cast<uint32_t>(EntryKind::kConfig) ? static_cast<EntryKind>(p.kind()) : EntryKind::kNoop;
  e.epoch = p.epoch();
  e.payload = p.payload();
  e.members.assign(p.members().begin(), p.members().end());
  e.client = p.client();
  e.seq = p.seq();
  return e;
}

}  // namespace

RaftMessage ToProto(const Message& m, const std::string& stream) {
  RaftMessage p;
  p.set_stream(stream);
  p.set_type(static_cast<uint32_t>(m.type));
  p.set_from(m.from);
  p.set_to(m.to);
  p.set_term(m.term);
  p.set_log_index(m.log_index);
  p.set_log_term(m.log_term);
  for (const Entry& e : m.entries) EntryToProto(e, p.add_entries());
  p.set_commit(m.commit);
  if (m.start.has_value()) {
    RaftStart* s = p.mutable_start();
    s->set_first_index(m.start->first_index);
    s->set_first_prev_term(m.start->first_prev_term);
    for (NodeId n : m.start->members) s->add_members(n);
    s->set_epoch(m.start->epoch);
  }
  p.set_reject(m.reject);
  p.set_hint_last_index(m.hint_last_index);
  p.set_hint_term(m.hint_term);
  p.set_hint_term_first_index(m.hint_term_first_index);
  p.set_transfer(m.transfer);
  p.set_context(m.context);
  return p;
}

Message FromProto(const RaftMessage& p) {
  Message m;
  m.type = static_cast<MessageType>(p.type());
  m.from = p.from();
  m.to = p.to();
  m.term = p.term();
  m.log_index = p.log_index();
  m.log_term = p.log_term();
  for (const RaftEntry& e : p.entries()) m.entries.push_back(EntryFromProto(e));
  m.commit = p.commit();
  if (p.has_start()) {
    LogStart s;
    s.first_index = p.start().first_index();
    s.first_prev_term = p.start().first_prev_term();
    s.members.assign(p.start().members().begin(), p.start().members().end());
    s.epoch = p.start().epoch();
    m.start = s;
  }
  m.reject = p.reject();
  m.hint_last_index = p.hint_last_index();
  m.hint_term = p.hint_term();
  m.hint_term_first_index = p.hint_term_first_index();
  m.transfer = p.transfer();
  m.context = p.context();
  return m;
}

StreamReplica::StreamReplica(Runtime& rt, rpc::RpcNode& rpc, std::string stream, StreamReplicaOptions options)
    : rt_(rt),
      rpc_(rpc),
      stream_(std::move(stream)),
      options_(std::move(options)),
      work_(rt.executor()),
      applied_notifier_(rt.executor()),
      sends_(rt.executor()),
      loops_(rt.executor()) {}

StreamReplica::~StreamReplica() { rpc_.CancelHandlers(); }

Task<absl::StatusOr<std::unique_ptr<StreamReplica>>> StreamReplica::Open(Runtime& rt, rpc::RpcNode& rpc,
                                                                         std::string stream, std::string dir,
                                                                         StreamReplicaOptions options) {
  std::vector<NodeId> members = options.members;
  std::unique_ptr<StreamReplica> r(new StreamReplica(rt, rpc, std::move(stream), std::move(options)));
  absl::StatusOr<std::unique_ptr<RaftStorage>> storage =
      co_await RaftStorage::Open(rt.disk(), rt.executor(), std::move(dir), std::move(members));
  if (!storage.ok()) co_return storage.status();
  r->storage_ = *std::move(storage);
  r->core_ = std::make_unique<RaftCore>(rt.node_id(), r->storage_->recovered(), r->options_.raft, rt.random());
  co_return r;
}

void StreamReplica::RegisterMethods() {
  rpc_.Register<RaftMessage, StepReply>(
      "journal.step", [this](rpc::CallContext c, RaftMessage m) { return HandleStep(c, std::move(m)); });
  rpc_.Register<AppendRequest, AppendReply>(
      "journal.append", [this](rpc::CallContext c, AppendRequest m) { return HandleAppend(c, std::move(m)); });
  rpc_.Register<FenceRequest, FenceReply>(
      "journal.fence", [this](rpc::CallContext c, FenceRequest m) { return HandleFence(c, std::move(m)); });
  rpc_.Register<ReadRequest, ReadReply>(
      "journal.read", [this](rpc::CallContext c, ReadRequest m) { return HandleRead(c, std::move(m)); });
}

void StreamReplica::Start() {
  loops_.Spawn(TickLoop());
  loops_.Spawn(ReadyLoop());
}

Task<void> StreamReplica::TickLoop() {
  while (failure_.ok()) {
    co_await rt_.Sleep(options_.tick);
    core_->Tick();
    work_.NotifyAll();
  }
}

Task<void> StreamReplica::ReadyLoop() {
  while (true) {
    while (!core_->HasReady()) co_await work_.Wait();
    RaftCore::Ready r = core_->TakeReady();
    ++stats_.readies;
    if (options_.canary_ack_before_fsync) SendAll(r.messages);
    absl::StatusOr<uint64_t> persisted = co_await storage_->Persist(r);
    if (!persisted.ok()) {
      failure_ = persisted.status();
      rt_.Log(absl::StrCat("journal ", stream_, ": storage failed, replica stops: ", failure_.ToString()));
      applied_notifier_.NotifyAll();
      co_return;
    }
    core_->OnPersisted(*persisted);
    if (!options_.canary_ack_before_fsync) SendAll(r.messages);
    for (Entry& e : r.committed) Apply(std::move(e));
    for (const auto& [id, index] : r.reads) {
      if (abandoned_reads_.erase(id) == 0) read_outcomes_[id] = index;
    }
    for (uint64_t id : r.reads_failed) {
      if (abandoned_reads_.erase(id) == 0) read_outcomes_[id] = std::nullopt;
    }
    if (!r.committed.empty() || !r.reads.empty() || !r.reads_failed.empty()) applied_notifier_.NotifyAll();
  }
}

void StreamReplica::Apply(Entry e) {
  applied_terms_[e.index] = e.term;
  applied_ = e.index;
  if (e.kind != EntryKind::kData) return;
  if (e.client != 0) {
    std::map<uint64_t, uint64_t>& seen = appends_seen_[e.client];
    if (auto it = seen.find(e.seq); it != seen.end()) {
      position_of_index_[e.index] = it->second;  // a retry: it answers the first one's position
      return;
    }
    seen[e.seq] = next_position_;
    while (seen.size() > kAppendIdsRemembered) seen.erase(seen.begin());
  }
  position_of_index_[e.index] = next_position_;
  records_[next_position_++] = std::move(e.payload);
}

void StreamReplica::SendAll(const std::vector<Message>& messages) {
  for (const Message& m : messages) {
    if (sends_.size() >= options_.sends_inflight_max) {
      ++stats_.messages_dropped;
      continue;
    }
    ++stats_.messages_sent;
    sends_.Spawn(SendOne(ToProto(m, stream_)));
  }
}

Task<void> StreamReplica::SendOne(RaftMessage message) {
  const NodeId to = message.to();
  // One attempt, briefly: a lost message is Raft's to resend, with fresher content.
  rpc::CallOptions options{.deadline = rt_.DeadlineAfter(options_.tick * 4), .attempts_max = 1};
  absl::StatusOr<StepReply> reply = co_await rpc_.Call<StepReply>(to, "journal.step", message, options);
  (void)reply;
}

absl::Status StreamReplica::Usable(const std::string& stream) const {
  if (stream != stream_) return absl::NotFoundError(absl::StrCat("no journal stream \"", stream, "\" here"));
  if (!failure_.ok()) return absl::UnavailableError(absl::StrCat("replica stopped: ", failure_.message()));
  return absl::OkStatus();
}

Task<absl::StatusOr<StepReply>> StreamReplica::HandleStep(rpc::CallContext, RaftMessage request) {
  CO_RETURN_IF_ERROR(Usable(request.stream()));
  core_->Step(FromProto(request));
  work_.NotifyAll();
  co_return StepReply();
}

Task<absl::Status> StreamReplica::WaitCommitted(uint64_t index, uint64_t term, Instant deadline) {
  while (applied_ < index) {
    if (!failure_.ok()) co_return absl::UnavailableError("replica stopped; the record may or may not be committed");
    if (!co_await applied_notifier_.Wait(deadline)) {
      co_return absl::DeadlineExceededError("not committed in time; the record may or may not be in the journal");
    }
  }
  auto it = applied_terms_.find(index);
  if (it == applied_terms_.end() || it->second != term) {
    ++stats_.appends_lost;
    co_return absl::AbortedError("leadership changed and another entry took the position; the record is not in the journal");
  }
  co_return absl::OkStatus();
}

Task<absl::StatusOr<AppendReply>> StreamReplica::HandleAppend(rpc::CallContext context, AppendRequest request) {
  CO_RETURN_IF_ERROR(Usable(request.stream()));
  absl::StatusOr<uint64_t> index =
      core_->Propose(request.epoch(), request.record(), request.client(), request.seq());
  if (!index.ok()) co_return index.status();
  const uint64_t term = core_->term();
  work_.NotifyAll();
  CO_RETURN_IF_ERROR(co_await WaitCommitted(*index, term, context.deadline));
  ++stats_.appends;
  AppendReply reply;
  reply.set_position(position_of_index_.at(*index));
  co_return reply;
}

Task<absl::StatusOr<FenceReply>> StreamReplica::HandleFence(rpc::CallContext context, FenceRequest request) {
  CO_RETURN_IF_ERROR(Usable(request.stream()));
  absl::StatusOr<std::pair<uint64_t, uint64_t>> fence = core_->ProposeFence();
  if (!fence.ok()) co_return fence.status();
  const uint64_t term = core_->term();
  work_.NotifyAll();
  CO_RETURN_IF_ERROR(co_await WaitCommitted(fence->first, term, context.deadline));
  FenceReply reply;
  reply.set_position(fence->first);
  reply.set_epoch(fence->second);
  co_return reply;
}

Task<absl::Status> StreamReplica::WaitLinearizable(Instant deadline) {
  absl::StatusOr<uint64_t> id = core_->ReadIndex();
  if (!id.ok()) co_return id.status();
  work_.NotifyAll();
  while (true) {
    if (!failure_.ok()) co_return absl::UnavailableError("replica stopped");
    auto it = read_outcomes_.find(*id);
    if (it != read_outcomes_.end()) {
      const std::optional<uint64_t> index = it->second;
      read_outcomes_.erase(it);
      if (!index.has_value()) co_return absl::UnavailableError("lost leadership before the read was confirmed");
      while (applied_ < *index) {
        if (!co_await applied_notifier_.Wait(deadline)) co_return absl::DeadlineExceededError("read not served in time");
      }
      co_return absl::OkStatus();
    }
    if (!co_await applied_notifier_.Wait(deadline)) {
      if (read_outcomes_.erase(*id) == 0) abandoned_reads_.insert(*id);  // dropped when it comes
      co_return absl::DeadlineExceededError("leadership not confirmed in time");
    }
  }
}

Task<absl::StatusOr<ReadReply>> StreamReplica::HandleRead(rpc::CallContext context, ReadRequest request) {
  CO_RETURN_IF_ERROR(Usable(request.stream()));
  if (request.linearizable()) CO_RETURN_IF_ERROR(co_await WaitLinearizable(context.deadline));
  ReadReply reply;
  const size_t bytes_max = std::min<size_t>(request.max_bytes() == 0 ? options_.read_bytes_max : request.max_bytes(),
                                            options_.read_bytes_max);
  size_t bytes = 0;
  for (auto it = records_.lower_bound(request.from()); it != records_.end(); ++it) {
    if (reply.records_size() > 0 && bytes + it->second.size() > bytes_max) break;
    Record* r = reply.add_records();
    r->set_position(it->first);
    r->set_payload(it->second);
    bytes += it->second.size();
  }
  reply.set_next(next_position_);
  co_return reply;
}

}  // namespace cairn::journal

#include "src/journal/stream_replica.h"

#include "absl/strings/str_cat.h"
#include "src/base/check.h"
#include "src/runtime/assertions.h"
#include "src/base/status.h"
#include "src/journal/leader_hint.h"

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
  p->set_position(e.position);
}

Entry EntryFromProto(const RaftEntry& p) {
  Entry e;
  e.index = p.index();
  e.term = p.term();
  e.kind = p.kind() <= static_cast<uint32_t>(EntryKind::kTrim) ? static_cast<EntryKind>(p.kind()) : EntryKind::kNoop;
  e.epoch = p.epoch();
  e.payload = p.payload();
  e.members.assign(p.members().begin(), p.members().end());
  e.client = p.client();
  e.seq = p.seq();
  e.position = p.position();
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
    s->set_first_position(m.start->first_position);
    for (const auto& [index, position] : m.start->retries) {
      s->add_retry_indexes(index);
      s->add_retry_positions(position);
    }
  }
  p.set_reject(m.reject);
  p.set_hint_last_index(m.hint_last_index);
  p.set_hint_term(m.hint_term);
  p.set_hint_term_first_index(m.hint_term_first_index);
  p.set_transfer(m.transfer);
  p.set_context(m.context);
  p.set_quiesce(m.quiesce);
  p.set_floored(m.floored);
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
    s.first_position = std::max<uint64_t>(p.start().first_position(), 1);
    if (p.start().retry_indexes_size() == p.start().retry_positions_size()) {
      for (int i = 0; i < p.start().retry_indexes_size(); ++i) {
        s.retries[p.start().retry_indexes(i)] = p.start().retry_positions(i);
      }
    }
    m.start = s;
  }
  m.reject = p.reject();
  m.hint_last_index = p.hint_last_index();
  m.hint_term = p.hint_term();
  m.hint_term_first_index = p.hint_term_first_index();
  m.transfer = p.transfer();
  m.context = p.context();
  m.quiesce = p.quiesce();
  m.floored = p.floored();
  return m;
}


StreamReplica::StreamReplica(Runtime& rt, std::string stream, StreamReplicaOptions options, RaftSend send)
    : rt_(rt),
      stream_(std::move(stream)),
      options_(std::move(options)),
      send_(std::move(send)),
      work_(rt.executor()),
      applied_notifier_(rt.executor()),
      loops_(rt.executor()) {}

StreamReplica::~StreamReplica() = default;

Task<absl::StatusOr<std::unique_ptr<StreamReplica>>> StreamReplica::Open(Runtime& rt, NodeLog& log,
                                                                         std::string stream, std::string dir,
                                                                         StreamReplicaOptions options, RaftSend send) {
  std::vector<NodeId> members = options.members;
  std::string name = stream;
  options.raft.probes = log.probes();
  std::unique_ptr<StreamReplica> r(new StreamReplica(rt, std::move(stream), std::move(options), std::move(send)));
  absl::StatusOr<std::unique_ptr<RaftStorage>> storage =
      co_await RaftStorage::Open(rt.disk(), log, std::move(name), std::move(dir), std::move(members));
  if (!storage.ok()) co_return storage.status();
  r->storage_ = *std::move(storage);
  const LogStart& start = r->storage_->recovered().start;
  r->start_position_ = r->next_position_ = start.first_position;
  r->applied_ = start.first_index - 1;
  r->start_retries_ = start.retries;
  r->core_ = std::make_unique<RaftCore>(rt.node_id(), r->storage_->recovered(), r->options_.raft, rt.random());
  co_return r;
}

void StreamReplica::Start() { loops_.Spawn(ReadyLoop()); }

void StreamReplica::Tick() {
  if (!failure_.ok()) return;
  // Buggify: a leader hands its leadership away now and then, so elections, stale leaders
  // and the client's search for the new one are the common case, not the rare one.
  if (core_->role() == Role::kLeader && core_->members().size() > 1 && CAIRN_BUGGIFY(rt_)) {
    const std::vector<NodeId>& members = core_->members();
    const NodeId to = members[rt_.random().Uniform(members.size())];
    if (to != core_->id()) (void)core_->TransferLeadership(to);
  }
  core_->Tick();
  NoteRole();
  work_.NotifyAll();
}

void StreamReplica::NoteRole() {
  const bool leading = core_->role() == Role::kLeader;
  if (leading_ && !leading && options_.on_leadership_lost) options_.on_leadership_lost();
  leading_ = leading;
}

void StreamReplica::Wake() {
  if (!failure_.ok()) return;
  core_->Wake();
  work_.NotifyAll();
}

void StreamReplica::Step(const RaftMessage& message) {
  if (!failure_.ok()) return;
  core_->Step(FromProto(message));
  NoteRole();
  work_.NotifyAll();
}

Task<void> StreamReplica::ReadyLoop() {
  while (true) {
    while (!core_->HasReady()) co_await work_.Wait();
    RaftCore::Ready r = core_->TakeReady();
    ++stats_.readies;
    SendAll(r.messages_before_persist);
    if (options_.canary_ack_before_fsync) SendAll(r.messages);
    absl::StatusOr<uint64_t> persisted = co_await storage_->Persist(r);
    if (!persisted.ok()) {
      failure_ = persisted.status();
      rt_.Log(absl::StrCat("journal ", stream_, ": storage failed, replica stops: ", failure_.ToString()));
      applied_notifier_.NotifyAll();
      if (options_.on_failure) options_.on_failure(failure_);
      co_return;
    }
    core_->OnPersisted(*persisted);
    if (!options_.canary_ack_before_fsync) SendAll(r.messages);
    if (r.reset.has_value()) Reset(*r.reset);
    for (Entry& e : r.committed) Apply(std::move(e));
    for (const auto& [id, index] : r.reads) {
      if (abandoned_reads_.erase(id) == 0) read_outcomes_[id] = index;
    }
    for (uint64_t id : r.reads_failed) {
      if (abandoned_reads_.erase(id) == 0) read_outcomes_[id] = std::nullopt;
    }
    if (r.reset.has_value() || !r.committed.empty() || !r.reads.empty() || !r.reads_failed.empty()) {
      applied_notifier_.NotifyAll();
    }
  }
}

void StreamReplica::Reset(const LogStart& start) {
  // Everything before the start is committed, in SSTables and trimmed by the leader; this
  // replica lacked part of it. Its state machine starts over there.
  records_.clear();
  index_of_position_.clear();
  applied_entries_.clear();
  appends_seen_.clear();
  start_position_ = next_position_ = start.first_position;
  start_retries_ = start.retries;
  applied_ = start.first_index - 1;
}

void StreamReplica::Apply(Entry e) {
  CAIRN_CHECK_GT(e.index, applied_);
  applied_ = e.index;
  if (e.kind == EntryKind::kTrim) ApplyTrim(e);
  AppliedEntry& applied = applied_entries_[e.index];
  applied.term = e.term;
  applied.position = next_position_;
  bool new_record = e.kind == EntryKind::kData;
  if (auto retry = start_retries_.find(e.index); new_record && retry != start_retries_.end()) {
    applied.position = retry->second;  // a retry of a first append trimmed before the start
    new_record = false;
  } else if (new_record && e.client != 0) {
    std::map<uint64_t, uint64_t>& seen = appends_seen_[e.client];
    if (auto it = seen.find(e.seq); it != seen.end()) {
      applied.position = it->second;  // a retry: it answers the first one's position
      new_record = false;
    } else {
      seen[e.seq] = next_position_;
      while (seen.size() > kAppendIdsRemembered) seen.erase(seen.begin());
    }
  }
  if (options_.applying) options_.applying(e, applied.position);
  if (!new_record) return;
  index_of_position_[next_position_] = e.index;
  records_[next_position_++] = std::move(e.payload);
}

void StreamReplica::ApplyTrim(const Entry& e) {
  ++stats_.trims;
  // A trim past the end trims to the end (the writer cannot know the end exactly when a
  // leader change is under way; Trim refuses what is certainly past it).
  const uint64_t position = std::min(e.position, next_position_);
  if (position <= start_position_) return;
  // The first index to keep: the record at `position`, or, when the trim reaches the end,
  // past this entry (the core keeps the log's last entry, which then holds no record).
  const uint64_t upto = position < next_position_ ? index_of_position_.at(position) : e.index + 1;
  // Retries applied since `upto` whose first append the trim removes: a replica that starts
  // at `upto` must apply them as duplicates too.
  std::map<uint64_t, uint64_t> retries;
  for (auto it = applied_entries_.lower_bound(upto); it != applied_entries_.end(); ++it) {
    if (it->second.position < position) retries[it->first] = it->second.position;
  }
  CAIRN_SOMETIMES(options_.raft.probes, !retries.empty(), "journal.trim-kept-a-retry-of-a-trimmed-append");
  start_retries_ = retries;
  core_->Trim(upto, position, std::move(retries));
  const uint64_t first_index = core_->first_index();
  records_.erase(records_.begin(), records_.lower_bound(position));
  index_of_position_.erase(index_of_position_.begin(), index_of_position_.lower_bound(position));
  applied_entries_.erase(applied_entries_.begin(), applied_entries_.lower_bound(first_index));
  for (auto client = appends_seen_.begin(); client != appends_seen_.end();) {
    std::erase_if(client->second, [&](const auto& seq) { return seq.second < position; });
    client = client->second.empty() ? appends_seen_.erase(client) : std::next(client);
  }
  start_position_ = position;
  work_.NotifyAll();  // the trim is persisted with the next Ready
}

void StreamReplica::SendAll(const std::vector<Message>& messages) {
  for (const Message& m : messages) {
    ++stats_.messages_sent;
    send_(ToProto(m, stream_));
  }
}

absl::Status StreamReplica::Usable() const {
  if (!failure_.ok()) return absl::UnavailableError(absl::StrCat("replica stopped: ", failure_.message()));
  return absl::OkStatus();
}

Task<absl::StatusOr<uint64_t>> StreamReplica::WaitCommitted(uint64_t index, Instant deadline) {
  // The entry proposed (or, for a retried fence, found) at `index`; read before any wait.
  const uint64_t term = core_->entry(index).term;
  work_.NotifyAll();
  while (applied_ < index) {
    if (!failure_.ok()) co_return absl::UnavailableError("replica stopped; the record may or may not be committed");
    if (!co_await applied_notifier_.Wait(deadline)) {
      co_return absl::DeadlineExceededError("not committed in time; the record may or may not be in the journal");
    }
  }
  auto it = applied_entries_.find(index);
  if (it == applied_entries_.end()) {
    // Trimmed, or skipped by a reset: committed by someone, but whose entry is unknown here.
    co_return absl::UnavailableError("the log moved past the entry; it may or may not be in the journal");
  }
  if (it->second.term != term) {
    ++stats_.appends_lost;
    co_return absl::AbortedError("leadership changed and another entry took the position; the record is not in the journal");
  }
  co_return it->second.position;
}

Task<absl::StatusOr<AppendReply>> StreamReplica::Append(const AppendRequest& request, Instant deadline) {
  CO_RETURN_IF_ERROR(Usable());
  absl::StatusOr<uint64_t> index =
      core_->Propose(request.epoch(), request.record(), request.client(), request.seq());
  if (!index.ok()) co_return index.status();
  absl::StatusOr<uint64_t> position = co_await WaitCommitted(*index, deadline);
  if (!position.ok()) co_return position.status();
  ++stats_.appends;
  AppendReply reply;
  reply.set_position(*position);
  co_return reply;
}

Task<absl::StatusOr<FenceReply>> StreamReplica::Fence(const FenceRequest& request, Instant deadline) {
  CO_RETURN_IF_ERROR(Usable());
  absl::StatusOr<std::pair<uint64_t, uint64_t>> fence = core_->ProposeFence(request.supersedes(), request.fence_id());
  if (!fence.ok()) co_return fence.status();
  absl::StatusOr<uint64_t> next = co_await WaitCommitted(fence->first, deadline);
  if (!next.ok()) co_return next.status();
  FenceReply reply;
  reply.set_epoch(fence->second);
  reply.set_start(start_position_);
  reply.set_next(*next);
  co_return reply;
}

Task<absl::StatusOr<TrimReply>> StreamReplica::Trim(const TrimRequest& request, Instant deadline) {
  CO_RETURN_IF_ERROR(Usable());
  // A position never exceeds its Raft index (positions count a subset of the entries), so a
  // trim past last_index() + 1 is past the end whatever the leader has yet to apply.
  if (request.upto() > core_->last_index() + 1) {
    co_return absl::InvalidArgumentError(
        absl::StrCat("trim to ", request.upto(), " is past the end of the stream (next position ", next_position_, ")"));
  }
  absl::StatusOr<uint64_t> index = core_->ProposeTrim(request.epoch(), request.upto());
  if (!index.ok()) co_return index.status();
  CO_RETURN_IF_ERROR((co_await WaitCommitted(*index, deadline)).status());
  TrimReply reply;
  reply.set_start(start_position_);
  co_return reply;
}

Task<absl::StatusOr<MembersReply>> StreamReplica::ChangeMembers(const MembersRequest& request, Instant deadline) {
  CO_RETURN_IF_ERROR(Usable());
  std::vector<NodeId> want(request.members().begin(), request.members().end());
  std::sort(want.begin(), want.end());
  want.erase(std::unique(want.begin(), want.end()), want.end());
  std::vector<NodeId> have = core_->members();
  std::sort(have.begin(), have.end());
  MembersReply reply;
  if (want == have) {
    // Already so (a retry of a change that landed): answer once the configuration commits.
    if (core_->role() != Role::kLeader) co_return NotLeaderError(core_->leader());
    if (core_->config_index() > core_->commit()) {
      CO_RETURN_IF_ERROR((co_await WaitCommitted(core_->config_index(), deadline)).status());
    }
  } else {
    absl::StatusOr<uint64_t> index = core_->ProposeMembers(want);
    if (!index.ok()) co_return index.status();
    CO_RETURN_IF_ERROR((co_await WaitCommitted(*index, deadline)).status());
  }
  for (NodeId n : core_->members()) reply.add_members(n);
  co_return reply;
}

Task<absl::StatusOr<TransferReply>> StreamReplica::Transfer(const TransferRequest& request, Instant deadline) {
  CO_RETURN_IF_ERROR(Usable());
  if (request.to() == rt_.node_id() && core_->role() == Role::kLeader) co_return TransferReply();
  CO_RETURN_IF_ERROR(core_->TransferLeadership(request.to()));
  work_.NotifyAll();
  // The hand-over takes a round trip or two (catch the target up, TimeoutNow, its election);
  // this replica learns the outcome from the new leader's first append.
  while (!(core_->leader() == request.to() && core_->role() != Role::kLeader)) {
    if (!failure_.ok()) co_return absl::UnavailableError("replica stopped");
    if (rt_.Now() >= deadline) co_return absl::DeadlineExceededError("leadership not transferred in time");
    co_await rt_.Sleep(kTransferPoll);
  }
  co_return TransferReply();
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

Task<absl::StatusOr<ReadReply>> StreamReplica::Read(const ReadRequest& request, Instant deadline) {
  CO_RETURN_IF_ERROR(Usable());
  if (request.linearizable()) CO_RETURN_IF_ERROR(co_await WaitLinearizable(deadline));
  if (request.from() < start_position_) {
    co_return absl::OutOfRangeError(absl::StrCat("stream ", stream_, ": positions before ", start_position_,
                                                 " were trimmed (asked from ", request.from(), ")"));
  }
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

Task<absl::StatusOr<InfoReply>> StreamReplica::Describe(const InfoRequest& request, Instant deadline) {
  if (request.linearizable()) {
    CO_RETURN_IF_ERROR(Usable());
    CO_RETURN_IF_ERROR(co_await WaitLinearizable(deadline));
  }
  co_return Info();
}

InfoReply StreamReplica::Info() const {
  InfoReply reply;
  reply.set_leader(core_->leader());
  reply.set_role(RoleName(core_->role()));
  reply.set_term(core_->term());
  reply.set_epoch(core_->epoch());
  reply.set_start(start_position_);
  reply.set_next(next_position_);
  reply.set_commit(core_->commit());
  reply.set_applied(applied_);
  reply.set_first_index(core_->first_index());
  reply.set_last_index(core_->last_index());
  for (NodeId n : core_->members()) reply.add_members(n);
  return reply;
}

}  // namespace cairn::journal

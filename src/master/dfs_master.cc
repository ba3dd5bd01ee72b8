#include "src/master/dfs_master.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "src/base/check.h"
#include "src/base/status.h"
#include "src/dfs/file_server.h"
#include "src/runtime/assertions.h"

namespace cairn::master {
namespace {

using dfs::ChunkId;
using dfs::ChunkIdProto;
using dfs::FromProto;
using dfs::ToProto;

absl::Status Stopped(const absl::Status& why) {
  return absl::UnavailableError(absl::StrCat("this master stopped (", why.message(), "): ask the master again"));
}

}  // namespace

DfsMaster::DfsMaster(Runtime& rt, rpc::RpcNode& rpc, lsm::Journal& journal, DfsMasterOptions options, Probes probes)
    : rt_(rt),
      rpc_(rpc),
      journal_(journal),
      options_(options),
      probes_(probes),
      ns_(probes),
      applied_(rt.executor()),
      failed_(rt.executor()),
      tasks_(rt.executor()) {}

DfsMaster::~DfsMaster() = default;

Task<absl::StatusOr<std::unique_ptr<DfsMaster>>> DfsMaster::Open(Runtime& rt, rpc::RpcNode& rpc, lsm::Journal& journal,
                                                                 DfsMasterOptions options, Probes probes) {
  std::unique_ptr<DfsMaster> m(new DfsMaster(rt, rpc, journal, options, probes));
  CO_RETURN_IF_ERROR(co_await m->Replay());
  co_return m;
}

Task<absl::Status> DfsMaster::Replay() {
  // Records before `base` are in the namespace already: none at a stream's first record; a
  // trimmed stream's base is the first checkpoint that covers its start, and the records read
  // before that checkpoint wait for it.
  constexpr size_t kPendingRecordsMax = 1 << 20;
  const uint64_t start = journal_.start();
  bool based = start == 1;
  uint64_t base = 0;
  std::vector<std::pair<uint64_t, NamespaceCommand>> pending;
  uint64_t at = start;
  while (true) {
    absl::StatusOr<std::vector<lsm::JournalRecord>> records = co_await journal_.Read(at, options_.replay_read_bytes);
    if (!records.ok()) co_return records.status();
    if (records->empty()) break;
    for (const lsm::JournalRecord& r : *records) {
      if (r.position != at) {
        co_return absl::DataLossError(absl::StrCat("the master's stream jumps from ", at, " to ", r.position));
      }
      NamespaceCommand command;
      if (!command.ParseFromString(r.payload)) {
        co_return absl::DataLossError(absl::StrCat("the master's stream holds no command at ", at));
      }
      ++at;
      if (command.has_checkpoint()) {
        last_checkpoint_ = std::max(last_checkpoint_, command.checkpoint().as_of());
        newest_checkpoint_ = last_checkpoint_;
      }
      if (based) {
        if (r.position > base) (void)ns_.Apply(command);  // a refused command was refused the first time too
        ++stats_.replayed;
        continue;
      }
      if (command.has_checkpoint() && command.checkpoint().as_of() + 1 >= start) {
        absl::StatusOr<Namespace> restored = Namespace::Restore(command.checkpoint().state(), probes_);
        if (!restored.ok()) co_return restored.status();
        ns_ = *std::move(restored);
        base = command.checkpoint().as_of();
        based = true;
        CAIRN_SOMETIMES(probes_, true, "master.replayed-from-a-checkpoint");
        for (const auto& [position, c] : pending) {
          if (position > base) (void)ns_.Apply(c);
          ++stats_.replayed;
        }
        pending.clear();
        continue;
      }
      if (pending.size() >= kPendingRecordsMax) {
        co_return absl::DataLossError(absl::StrCat("the master's stream starts at ", start, " and holds no checkpoint ",
                                                   "covering it in its first ", kPendingRecordsMax, " records"));
      }
      pending.emplace_back(r.position, std::move(command));
    }
  }
  if (!based) {
    co_return absl::DataLossError(
        absl::StrCat("the master's stream starts at ", start, " but holds no checkpoint covering it: commands are missing"));
  }
  if (at != journal_.next_position()) {
    co_return absl::DataLossError(
        absl::StrCat("the master's stream read to ", at, " but its writer appends at ", journal_.next_position()));
  }
  next_apply_ = at;
  for (const auto& [id, file] : ns_.files()) {
    if (!file.sealed) open_since_[id] = rt_.Now();
  }
  if (std::string broken = ns_.CheckInvariants(); !broken.empty()) {
    co_return absl::InternalError(absl::StrCat("the replayed namespace is inconsistent: ", broken));
  }
  co_return absl::OkStatus();
}

void DfsMasterStats::Add(const DfsMasterStats& o) {
  replayed += o.replayed;
  commands += o.commands;
  commands_refused += o.commands_refused;
  heartbeats += o.heartbeats;
  copies_ordered += o.copies_ordered;
  copies_done += o.copies_done;
  copies_failed += o.copies_failed;
  garbage_ordered += o.garbage_ordered;
  copies_shed += o.copies_shed;
  damaged_removed += o.damaged_removed;
  servers_declared_dead += o.servers_declared_dead;
  open_files_expired += o.open_files_expired;
  bad_reports += o.bad_reports;
  chunks_turned_hot += o.chunks_turned_hot;
  chunks_cooled += o.chunks_cooled;
  hot_copies_ordered += o.hot_copies_ordered;
  checkpoints += o.checkpoints;
  foreign_applied += o.foreign_applied;
}

void DfsMaster::Start() {
  last_append_ = rt_.Now();
  serving_since_ = rt_.Now();
  heat_updated_ = serving_since_;
  tasks_.Spawn(RepairLoop());
  tasks_.Spawn(TickLoop());
}

Task<void> DfsMaster::TickLoop() {
  while (failure_.ok()) {
    co_await rt_.Sleep(options_.tick_interval / 4);
    if (failure_.ok() && next_apply_ - 1 - last_checkpoint_ >= options_.checkpoint_records) co_await Checkpoint();
    if (!failure_.ok() || rt_.Now() - last_append_ < options_.tick_interval) continue;
    NamespaceCommand tick;
    tick.mutable_tick();
    // A tick that fails stops this master (as any append does): another candidate takes over.
    (void)co_await Commit(std::move(tick));
  }
}

Task<absl::Status> DfsMaster::Failed() {
  while (failure_.ok()) co_await failed_.Wait();
  co_return failure_;
}

void DfsMaster::Fail(absl::Status s) {
  if (!failure_.ok()) return;
  CAIRN_CHECK(!s.ok());
  failure_ = std::move(s);
  rt_.Log(absl::StrCat("dfs master stops: ", failure_.ToString()));
  failed_.NotifyAll();
  applied_.NotifyAll();
}

absl::Status DfsMaster::Serving() const { return failure_.ok() ? absl::OkStatus() : Stopped(failure_); }

Task<void> DfsMaster::Checkpoint() {
  // As of the last record applied: the namespace is exactly that, between two awaits.
  const uint64_t as_of = next_apply_ - 1;
  NamespaceCommand command;
  CheckpointCommand* c = command.mutable_checkpoint();
  c->set_as_of(as_of);
  *c->mutable_state() = ns_.Save();
  last_checkpoint_ = as_of;  // tried once per interval, whatever comes of it
  if (command.ByteSizeLong() > options_.checkpoint_bytes_max) {
    rt_.Log(absl::StrCat("dfs master: the namespace (", command.ByteSizeLong(), " bytes) exceeds checkpoint_bytes_max (",
                         options_.checkpoint_bytes_max, "): no checkpoint, and the stream keeps growing"));
    co_return;
  }
  absl::StatusOr<Namespace::Outcome> done = co_await Commit(std::move(command));
  if (!done.ok()) co_return;  // this master stopped
  ++stats_.checkpoints;
  // Trimmed behind the checkpoint before this one (it stays, and covers the new start): an
  // interval's margin for appends of ours still on their way. Buggify: right behind this one,
  // so that late duplicates find their first landing gone and land as records of their own.
  const uint64_t behind = CAIRN_BUGGIFY(probes_) ? as_of : newest_checkpoint_;
  newest_checkpoint_ = as_of;
  if (behind == 0) co_return;
  absl::Status trimmed = co_await journal_.Trim(behind + 1);
  CAIRN_SOMETIMES(probes_, trimmed.ok(), "master.stream-trimmed-behind-a-checkpoint");
  if (!trimmed.ok()) rt_.Log(absl::StrCat("dfs master: trim after a checkpoint: ", trimmed.ToString()));
}

Task<absl::StatusOr<Namespace::Outcome>> DfsMaster::Commit(NamespaceCommand command) {
  CO_RETURN_IF_ERROR(Serving());
  std::string payload;
  CAIRN_CHECK(command.SerializeToString(&payload));
  last_append_ = rt_.Now();
  // Listed while its position is unknown (FillGap waits for those older than a gap it saw).
  const uint64_t ticket = next_append_ticket_++;
  appending_.insert(ticket);
  struct Unlist {
    DfsMaster* self;
    uint64_t ticket;
    ~Unlist() {
      self->appending_.erase(ticket);
      self->applied_.NotifyAll();
    }
  };
  absl::StatusOr<uint64_t> at = absl::UnknownError("not appended");
  {
    Unlist unlist{this, ticket};
    at = co_await journal_.Append(std::move(payload));
  }
  if (!at.ok()) {
    // Refused (another master fenced the stream) or unanswered (it may be in the stream): the
    // state here can no longer follow the stream.
    Fail(at.status());
    co_return Stopped(failure_);
  }
  if (!failure_.ok()) co_return Stopped(failure_);
  last_commit_ok_ = rt_.Now();
  CAIRN_CHECK_GE(*at, next_apply_);
  appended_.emplace(*at, std::move(command));
  ApplyReady();
  if (!filling_ && !appended_.empty() && appended_.begin()->first > next_apply_) {
    filling_ = true;
    tasks_.Spawn(FillGap());
  }
  while (!outcomes_.contains(*at)) {
    if (!failure_.ok()) co_return Stopped(failure_);
    co_await applied_.Wait();
  }
  Namespace::Outcome outcome = std::move(outcomes_[*at]);
  outcomes_.erase(*at);
  co_return outcome;
}

Task<void> DfsMaster::FillGap() {
  struct Done {
    DfsMaster* self;
    ~Done() {
      self->filling_ = false;
      self->applied_.NotifyAll();
    }
  } done{this};
  while (failure_.ok() && !appended_.empty() && appended_.begin()->first > next_apply_) {
    // Every position below the first one held was handed out by now (positions are dense and
    // in order): to an append of ours still in flight, or to a record that is not ours. Once
    // the appends in flight now have returned, those still missing are not ours. (An append
    // started later may land in a later gap, never in this one.)
    const uint64_t fill_below = appended_.begin()->first;
    const uint64_t tickets_before = next_append_ticket_;
    while (failure_.ok() && !appending_.empty() && *appending_.begin() < tickets_before) co_await applied_.Wait();
    ApplyReady();
    while (failure_.ok() && next_apply_ < fill_below) {
      absl::StatusOr<std::vector<lsm::JournalRecord>> records =
          co_await journal_.Read(next_apply_, options_.replay_read_bytes);
      if (!failure_.ok()) co_return;
      if (!records.ok() || records->empty() || records->front().position != next_apply_) {
        // This master cannot follow its stream; a new one replays it whole.
        Fail(records.ok() ? absl::DataLossError(absl::StrCat("the master's stream has no record at ", next_apply_))
                          : records.status());
        co_return;
      }
      for (const lsm::JournalRecord& r : *records) {
        if (r.position != next_apply_ || r.position >= fill_below || appended_.contains(r.position)) break;
        NamespaceCommand command;
        if (!command.ParseFromString(r.payload)) {
          Fail(absl::DataLossError(absl::StrCat("the master's stream holds no command at ", r.position)));
          co_return;
        }
        ++stats_.foreign_applied;
        CAIRN_SOMETIMES(probes_, true, "master.record-it-did-not-append-applied");
        (void)ApplyOne(command);  // nobody waits for its outcome
        ++next_apply_;
      }
      ApplyReady();
    }
  }
}

Task<absl::Status> DfsMaster::CommitChecked(NamespaceCommand command) {
  absl::StatusOr<Namespace::Outcome> outcome = co_await Commit(std::move(command));
  if (!outcome.ok()) co_return outcome.status();
  co_return outcome->status;
}

Namespace::Outcome DfsMaster::ApplyOne(const NamespaceCommand& c) {
  Namespace::Outcome outcome = ns_.Apply(c);
  ++stats_.commands;
  if (!outcome.status.ok()) ++stats_.commands_refused;
  if (c.has_create() && outcome.status.ok()) open_since_[outcome.file] = rt_.Now();
  if (c.has_seal() || c.has_abort()) open_since_.erase(c.has_seal() ? c.seal().file() : c.abort().file());
  return outcome;
}

void DfsMaster::ApplyReady() {
  bool any = false;
  while (!appended_.empty() && appended_.begin()->first == next_apply_) {
    auto node = appended_.extract(appended_.begin());
    outcomes_.emplace(next_apply_, ApplyOne(node.mapped()));
    ++next_apply_;
    any = true;
  }
  if (any) applied_.NotifyAll();
}

bool DfsMaster::Alive(NodeId server) const {
  auto it = servers_.find(server);
  return it != servers_.end() && !it->second.dead;
}

bool DfsMaster::Placeable(NodeId server) const {
  auto it = servers_.find(server);
  return it != servers_.end() && !it->second.dead && rt_.Now() - it->second.last_heard < options_.suspect_after;
}

std::vector<NodeId> DfsMaster::Pick(size_t count, const std::set<NodeId>& exclude, const std::string& node_set) {
  struct Candidate {
    size_t load;
    uint64_t draw;
    NodeId id;
    bool in_set;
  };
  std::vector<Candidate> candidates;
  for (const auto& [id, s] : servers_) {
    if (exclude.contains(id) || !Placeable(id)) continue;
    candidates.push_back({s.held.size(), rt_.random().Next(), id, !node_set.empty() && s.node_set == node_set});
  }
  std::sort(candidates.begin(), candidates.end(), [](const Candidate& a, const Candidate& b) {
    if (a.in_set != b.in_set) return a.in_set;  // one in the asked-for set first
    return std::tie(a.load, a.draw) < std::tie(b.load, b.draw);
  });
  std::vector<NodeId> out;
  for (const Candidate& c : candidates) {
    if (out.size() == count) break;
    out.push_back(c.id);
    if (c.in_set) {
      // Only the first needs to be in the set: the rest are the least loaded of all.
      std::stable_sort(candidates.begin() + 1, candidates.end(), [](const Candidate& a, const Candidate& b) {
        return std::tie(a.load, a.draw) < std::tie(b.load, b.draw);
      });
    }
  }
  return out;
}

Task<absl::StatusOr<dfs::CreateReply>> DfsMaster::Create(dfs::CreateRequest request) {
  CO_RETURN_IF_ERROR(Serving());
  const uint32_t replication = request.replication() == 0 ? options_.default_replication : request.replication();
  // What the namespace would refuse, refused before it costs an append.
  CO_RETURN_IF_ERROR(Namespace::ValidatePath(request.path()));
  if (const FileInfo* f = ns_.Lookup(request.path());
      f != nullptr && (request.token() == 0 || f->create_token != request.token())) {
    co_return absl::AlreadyExistsError(absl::StrCat(request.path(), ": exists"));
  }
  std::vector<NodeId> servers = Pick(replication, {}, request.node_set());
  if (servers.size() < replication) {
    co_return absl::UnavailableError(absl::StrCat("a file of replication ", replication, " needs as many servers; ",
                                                  servers.size(), " can take new chunks now"));
  }
  NamespaceCommand command;
  CreateFileCommand* c = command.mutable_create();
  c->set_path(request.path());
  c->set_replication(replication);
  c->set_node_set(request.node_set());
  c->set_token(request.token());
  c->set_now_ns(std::chrono::duration_cast<std::chrono::nanoseconds>(rt_.Now().time_since_epoch()).count());
  absl::StatusOr<Namespace::Outcome> outcome = co_await Commit(std::move(command));
  if (!outcome.ok()) co_return outcome.status();
  CO_RETURN_IF_ERROR(outcome->status);
  dfs::CreateReply reply;
  reply.set_file(outcome->file);
  for (NodeId s : servers) reply.add_servers(s);
  co_return reply;
}

Task<absl::StatusOr<dfs::PlaceReply>> DfsMaster::Place(dfs::PlaceRequest request) {
  CO_RETURN_IF_ERROR(Serving());
  const FileInfo* file = ns_.File(request.file());
  if (file == nullptr || file->sealed) {
    co_return absl::NotFoundError(absl::StrCat("file ", request.file(), " is not open"));
  }
  if (request.count() > kReplicationMax) {
    co_return absl::InvalidArgumentError(absl::StrCat("asked for ", request.count(), " servers; at most ", kReplicationMax));
  }
  const std::set<NodeId> exclude(request.exclude().begin(), request.exclude().end());
  dfs::PlaceReply reply;
  for (NodeId s : Pick(request.count(), exclude, "")) reply.add_servers(s);
  co_return reply;
}

Task<absl::StatusOr<dfs::SealReply>> DfsMaster::Seal(dfs::SealRequest request) {
  CO_RETURN_IF_ERROR(Serving());
  const FileInfo* file = ns_.File(request.file());
  if (file == nullptr) co_return absl::NotFoundError(absl::StrCat("no file ", request.file()));
  const uint32_t replication = file->replication;
  NamespaceCommand command;
  SealFileCommand* c = command.mutable_seal();
  c->set_file(request.file());
  for (const dfs::FileChunkProto& chunk : request.chunks()) {
    const bool is_new = chunk.id().file() == request.file();
    const std::set<NodeId> acks(chunk.servers().begin(), chunk.servers().end());
    if (is_new && acks.size() < replication && !file->sealed) {
      // The file counts only once every new chunk is durable on R servers.
      co_return absl::FailedPreconditionError(absl::StrCat("chunk ", chunk.id().file(), "/", chunk.id().index(),
                                                           " is durable on ", acks.size(), " servers; the file's replication is ",
                                                           replication));
    }
    if (!is_new && !file->sealed && HealthyCopies(FromProto(chunk.id())).empty()) {
      // A reference to a chunk no server holds healthy would make a file already lost.
      co_return absl::FailedPreconditionError(absl::StrCat("chunk ", chunk.id().file(), "/", chunk.id().index(),
                                                           " has no healthy copy: no file can be made of it"));
    }
    ChunkRefProto* r = c->add_chunks();
    r->set_file(chunk.id().file());
    r->set_index(chunk.id().index());
    r->set_length(chunk.length());
    r->set_checksum(chunk.checksum());
  }
  absl::StatusOr<Namespace::Outcome> outcome = co_await Commit(std::move(command));
  if (!outcome.ok()) co_return outcome.status();
  CO_RETURN_IF_ERROR(outcome->status);
  CAIRN_SOMETIMES(probes_, request.chunks().empty(), "master.empty-file-sealed");
  for (const dfs::FileChunkProto& chunk : request.chunks()) {
    if (chunk.id().file() != request.file()) continue;
    for (uint32_t s : chunk.servers()) {
      if (Alive(s)) Hold(s, FromProto(chunk.id()));
    }
  }
  const FileInfo* sealed = ns_.File(request.file());
  dfs::SealReply reply;
  reply.set_length(sealed == nullptr ? 0 : sealed->length);
  co_return reply;
}

void DfsMaster::ListChunks(const FileInfo& file, const std::string& prefer_node_set,
                           google::protobuf::RepeatedPtrField<dfs::FileChunkProto>* out) const {
  for (const ChunkRef& c : file.chunks) {
    dfs::FileChunkProto* p = out->Add();
    *p->mutable_id() = ToProto(c.id);
    p->set_length(c.length);
    p->set_checksum(c.checksum);
    std::vector<NodeId> copies = HealthyCopies(c.id);
    if (!prefer_node_set.empty()) {
      const auto in_set = [&](NodeId s) { return servers_.at(s).node_set == prefer_node_set; };
      const auto rest = std::stable_partition(copies.begin(), copies.end(), in_set);
      p->set_preferred(static_cast<uint32_t>(rest - copies.begin()));
      CAIRN_SOMETIMES(probes_, rest != copies.begin() && rest != copies.end(), "master.open-lists-a-preferred-copy-first");
    }
    for (NodeId s : copies) p->add_servers(s);
    if (auto h = heat_.find(c.id); h != heat_.end() && h->second.hot) {
      p->set_hot_reads_per_s(static_cast<uint32_t>(std::clamp<uint64_t>(h->second.milli_rate / 1000, 1, UINT32_MAX)));
    }
  }
}

Task<absl::StatusOr<dfs::OpenReply>> DfsMaster::OpenFile(dfs::OpenRequest request) {
  CO_RETURN_IF_ERROR(Serving());
  const FileInfo* file = ns_.Lookup(request.path());
  if (file == nullptr) co_return absl::NotFoundError(absl::StrCat(request.path(), ": no such file"));
  if (!file->sealed) co_return absl::FailedPreconditionError(absl::StrCat(request.path(), ": not sealed yet"));
  // A master new to its term learns where copies are from the servers' reports: until each has
  // had time to report (a server silent for suspect_after is suspect anyway; one more tick for
  // a report that went to the deposed master first), a chunk with no known copy is unknown,
  // not lost — ask again.
  if (rt_.Now() - serving_since_ < options_.suspect_after + options_.tick_interval) {
    for (const ChunkRef& c : file->chunks) {
      if (HealthyCopies(c.id).empty()) {
        CAIRN_SOMETIMES(probes_, true, "master.open-waited-for-reports-early-in-a-term");
        co_return absl::UnavailableError(absl::StrCat("the master began serving moments ago and has not heard yet where ",
                                                      "chunk ", c.id.ToString(), " of ", request.path(), " is"));
      }
    }
  }
  dfs::OpenReply reply;
  reply.set_file(file->id);
  reply.set_length(file->length);
  reply.set_replication(file->replication);
  ListChunks(*file, request.prefer_node_set(), reply.mutable_chunks());
  co_return reply;
}

Task<absl::StatusOr<dfs::DeleteReply>> DfsMaster::Delete(dfs::DeleteRequest request) {
  CO_RETURN_IF_ERROR(Serving());
  if (ns_.Lookup(request.path()) == nullptr) co_return absl::NotFoundError(absl::StrCat(request.path(), ": no such file"));
  NamespaceCommand command;
  command.mutable_delete_path()->set_path(request.path());
  CO_RETURN_IF_ERROR(co_await CommitChecked(std::move(command)));
  co_return dfs::DeleteReply();
}

Task<absl::StatusOr<dfs::AbortReply>> DfsMaster::Abort(dfs::AbortRequest request) {
  CO_RETURN_IF_ERROR(Serving());
  NamespaceCommand command;
  command.mutable_abort()->set_file(request.file());
  CO_RETURN_IF_ERROR(co_await CommitChecked(std::move(command)));
  co_return dfs::AbortReply();
}

Task<absl::StatusOr<dfs::ListReply>> DfsMaster::List(dfs::ListRequest request) {
  CO_RETURN_IF_ERROR(Serving());
  dfs::ListReply reply;
  for (const FileInfo* f : ns_.List(request.prefix())) {
    dfs::FileStatProto* p = reply.add_files();
    p->set_path(f->path);
    p->set_file(f->id);
    p->set_sealed(f->sealed);
    p->set_length(f->length);
    p->set_replication(f->replication);
    p->set_chunks(static_cast<uint32_t>(f->chunks.size()));
    for (const ChunkRef& c : f->chunks) {
      const size_t healthy = HealthyCopies(c.id).size();
      if (healthy < f->replication) p->set_chunks_under_replicated(p->chunks_under_replicated() + 1);
      if (healthy == 0) p->set_chunks_lost(p->chunks_lost() + 1);
    }
  }
  co_return reply;
}

Task<absl::StatusOr<dfs::SnapshotReply>> DfsMaster::Snapshot(dfs::SnapshotRequest request) {
  CO_RETURN_IF_ERROR(Serving());
  NamespaceCommand command;
  CreateSnapshotCommand* c = command.mutable_create_snapshot();
  c->set_name(request.name());
  *c->mutable_paths() = request.paths();
  CO_RETURN_IF_ERROR(co_await CommitChecked(std::move(command)));
  co_return dfs::SnapshotReply();
}

Task<absl::StatusOr<dfs::DeleteSnapshotReply>> DfsMaster::DeleteSnapshot(dfs::DeleteSnapshotRequest request) {
  CO_RETURN_IF_ERROR(Serving());
  NamespaceCommand command;
  command.mutable_delete_snapshot()->set_name(request.name());
  CO_RETURN_IF_ERROR(co_await CommitChecked(std::move(command)));
  co_return dfs::DeleteSnapshotReply();
}

void DfsMaster::Hold(NodeId server, ChunkId id) {
  Server& s = servers_[server];
  s.held[id] = s.reports;
  where_[id].insert(server);
}

void DfsMaster::Forget(NodeId server, ChunkId id) {
  if (auto s = servers_.find(server); s != servers_.end()) {
    s->second.held.erase(id);
    s->second.listed.erase(id);
  }
  if (auto w = where_.find(id); w != where_.end()) {
    w->second.erase(server);
    if (w->second.empty()) where_.erase(w);
  }
}

bool DfsMaster::IsGarbage(ChunkId id) const {
  if (id.file == 0 || id.file >= ns_.next_file_id()) return false;  // a file this master has not heard of
  const FileInfo* file = ns_.File(id.file);
  if (options_.canary_delete_ignores_references && file == nullptr) return true;
  if (ns_.ChunkRefs(id) > 0) return false;
  return file == nullptr || file->sealed;  // an open file's chunks are its writer's
}

dfs::HeartbeatReply DfsMaster::Heartbeat(NodeId server, const dfs::HeartbeatRequest& request) {
  ++stats_.heartbeats;
  Server& s = servers_[server];
  if (s.dead) CAIRN_SOMETIMES(probes_, true, "master.dead-server-came-back");
  s.dead = false;
  s.last_heard = rt_.Now();
  s.node_set = request.node_set();
  std::set<ChunkId> reported;
  dfs::HeartbeatReply reply;
  // Surplus copies ordered removed, if their chunks still have enough copies elsewhere (if not,
  // the copy stays, and this report counts it again).
  // Only while this master's term is proven recent (a commit within a tick), so that a
  // deposed master that has not noticed yet stops ordering removals before the new one may
  // start (ShedSurplus waits two ticks into a term): two masters never shed at once.
  std::set<ChunkId> shedding;
  const bool term_recent = rt_.Now() - last_commit_ok_ < options_.tick_interval;
  for (const auto& [id, needed] : s.shed) {
    if (!term_recent || ListedCopies(id) < needed ||
        static_cast<size_t>(reply.remove_size()) >= options_.garbage_per_heartbeat_max) {
      continue;
    }
    *reply.add_remove() = ToProto(id);
    shedding.insert(id);
  }
  s.shed.clear();
  CAIRN_SOMETIMES(probes_, !shedding.empty(), "master.surplus-copy-removed");
  for (const ChunkIdProto& p : request.chunks()) {
    const ChunkId id = FromProto(p);
    if (shedding.contains(id)) continue;
    if (IsGarbage(id)) {
      if (static_cast<size_t>(reply.remove_size()) < options_.garbage_per_heartbeat_max) {
        *reply.add_remove() = p;
        ++stats_.garbage_ordered;
      }
      continue;
    }
    reported.insert(id);
  }
  CAIRN_SOMETIMES(probes_, reply.remove_size() > 0, "master.garbage-found-in-a-report");
  // The report is the server's whole truth, as of when it was made (see Server::held).
  std::vector<ChunkId> gone;
  for (const auto& [id, confirmed] : s.held) {
    if (!reported.contains(id) && confirmed < s.reports) gone.push_back(id);
  }
  for (ChunkId id : gone) Forget(server, id);
  for (ChunkId id : reported) {
    Hold(server, id);
    s.listed.insert(id);
  }
  ++s.reports;
  for (const dfs::ChunkLoad& l : request.load()) {
    const ChunkId id = FromProto(l.id());
    if (l.reads() == 0 || ns_.ChunkRefs(id) == 0) continue;
    if (heat_.size() >= kHeatTrackedMax && !heat_.contains(id)) continue;
    uint64_t& reads = heat_[id].window_reads;
    reads = std::min(kWindowReadsMax, reads + l.reads());
  }
  CAIRN_SOMETIMES(probes_, request.damaged_size() > 0, "master.server-reported-damage");
  // A damaged copy goes once the chunk has its copies elsewhere (kept until then: bytes that
  // fail their checks may still help an operator when nothing better is left).
  for (const ChunkIdProto& p : request.damaged()) {
    const ChunkId id = FromProto(p);
    Forget(server, id);
    const FileInfo* origin = ns_.File(id.file);
    const uint32_t want = origin != nullptr ? origin->replication : options_.default_replication;
    if (IsGarbage(id) || HealthyCopies(id).size() >= want) {
      if (static_cast<size_t>(reply.remove_size()) < options_.garbage_per_heartbeat_max) {
        *reply.add_remove() = p;
        ++stats_.damaged_removed;
        CAIRN_SOMETIMES(probes_, true, "master.damaged-copy-removed");
      }
    }
  }
  return reply;
}

dfs::ReportBadReply DfsMaster::ReportBad(const dfs::ReportBadRequest& request) {
  ++stats_.bad_reports;
  const ChunkId id = FromProto(request.id());
  const NodeId server = request.server();
  // Not counted until the server's own check says otherwise (its next report lists it again
  // only if its scrub found the copy whole).
  Forget(server, id);
  if (Alive(server)) tasks_.Spawn(Scrub(server, id));
  return dfs::ReportBadReply();
}

Task<void> DfsMaster::Scrub(NodeId server, ChunkId id) {
  dfs::ScrubChunkRequest request;
  *request.mutable_id() = ToProto(id);
  (void)co_await rpc_.Call<dfs::ScrubChunkReply>(server, "dfs.scrub_chunk", request,
                                                  rpc::CallOptions{.deadline = rt_.DeadlineAfter(options_.call_timeout)});
}

std::vector<NodeId> DfsMaster::HealthyCopies(ChunkId id) const {
  std::vector<NodeId> out;
  auto w = where_.find(id);
  if (w == where_.end()) return out;
  for (NodeId s : w->second) {
    if (Alive(s)) out.push_back(s);
  }
  return out;
}

DfsMaster::Protection DfsMaster::CheckProtection() const {
  Protection p;
  for (const auto& [id, file] : ns_.files()) {
    if (!file.sealed) continue;
    for (const ChunkRef& c : file.chunks) {
      ++p.chunks;
      const std::vector<NodeId> healthy = HealthyCopies(c.id);
      if (healthy.size() < file.replication) {
        ++p.under_replicated;
        if (p.examples.size() < 3) {
          p.examples.push_back(absl::StrCat("chunk ", c.id.ToString(), " of ", file.path.empty() ? "a detached file" : file.path,
                                            ": ", healthy.size(), " healthy of ", file.replication, " (on ",
                                            absl::StrJoin(healthy, ","), ")", copying_.contains(c.id) ? ", copying" : ""));
        }
      }
      if (healthy.empty()) ++p.lost;
    }
  }
  return p;
}

Task<void> DfsMaster::RepairLoop() {
  while (failure_.ok()) {
    co_await rt_.Sleep(options_.repair_interval);
    if (!failure_.ok()) break;
    UpdateHeat();  // here only: a rate wants a window of a steady length
    RepairPass();
    // Open files whose writer is gone: aborted, so their chunks become garbage.
    std::vector<FileId> expired;
    for (const auto& [id, since] : open_since_) {
      if (rt_.Now() - since >= options_.open_file_ttl) expired.push_back(id);
    }
    for (FileId id : expired) {
      open_since_.erase(id);
      dfs::AbortRequest request;
      request.set_file(id);
      absl::StatusOr<dfs::AbortReply> r = co_await Abort(std::move(request));
      if (r.ok()) ++stats_.open_files_expired;
      CAIRN_SOMETIMES(probes_, r.ok(), "master.open-file-expired");
    }
  }
}

void DfsMaster::RepairPass() {
  // Servers silent past dead_after: their copies stop counting.
  for (auto& [id, s] : servers_) {
    if (s.dead || rt_.Now() - s.last_heard < options_.dead_after) continue;
    s.dead = true;
    ++stats_.servers_declared_dead;
    CAIRN_SOMETIMES(probes_, true, "master.server-declared-dead");
    std::vector<ChunkId> held;
    for (const auto& [c, confirmed] : s.held) held.push_back(c);
    for (ChunkId c : held) Forget(id, c);
  }
  // Chunks short of their replication (and hot ones short of their extras), the most
  // endangered first.
  std::map<ChunkId, WantedCopies> want;
  for (const auto& [id, file] : ns_.files()) {
    if (!file.sealed) continue;
    for (const ChunkRef& c : file.chunks) {
      WantedCopies& w = want[c.id];
      w.file_replication = std::max(w.file_replication, file.replication);
      w.replication = w.file_replication;
      w.ref = &c;
      if (!file.node_set.empty()) w.node_set = &file.node_set;
    }
  }
  struct Short {
    bool extra;  // a hot chunk's extra: after every endangered chunk
    size_t healthy;
    ChunkId id;
    const ChunkRef* ref;
    const std::string* node_set;
  };
  std::vector<Short> shorts;
  for (auto& [id, w] : want) {
    if (auto h = heat_.find(id); h != heat_.end() && h->second.hot) w.replication += options_.hot_extra_copies;
    const size_t healthy = HealthyCopies(id).size();
    if (healthy > 0 && healthy < w.replication && !copying_.contains(id)) {
      shorts.push_back({healthy >= w.file_replication, healthy, id, w.ref, w.node_set});
    }
  }
  std::sort(shorts.begin(), shorts.end(), [](const Short& a, const Short& b) {
    return std::tie(a.extra, a.healthy, a.id) < std::tie(b.extra, b.healthy, b.id);
  });
  for (const Short& s : shorts) {
    if (copying_.size() >= options_.copies_inflight_max) break;
    const std::vector<NodeId> sources = HealthyCopies(s.id);
    const std::set<NodeId> exclude(sources.begin(), sources.end());
    // Into the file's node set when no copy is left there.
    const bool set_lacks = s.node_set != nullptr && InSet(sources, *s.node_set) == 0;
    const std::vector<NodeId> target = Pick(1, exclude, set_lacks ? *s.node_set : std::string());
    if (target.empty()) continue;  // no server can take it now
    copying_.insert(s.id);
    ++stats_.copies_ordered;
    if (s.extra) {
      ++stats_.hot_copies_ordered;
      CAIRN_SOMETIMES(probes_, true, "master.hot-extra-copy-ordered");
    }
    tasks_.Spawn(Copy(s.id, s.ref->length, s.ref->checksum, target[0], sources));
  }
  ShedSurplus(want);
}

void DfsMaster::UpdateHeat() {
  const Instant now = rt_.Now();
  const int64_t elapsed_ms = std::max<int64_t>(
      1, std::chrono::duration_cast<std::chrono::milliseconds>(now - heat_updated_).count());
  heat_updated_ = now;
  const uint64_t hot_at = uint64_t{options_.hot_reads_per_s} * 1000;
  size_t hot = 0;
  std::vector<std::pair<uint64_t, ChunkId>> warm;  // at or past the threshold, not hot yet
  // An average over time, not over passes: the newest window weighs elapsed / (elapsed + tau).
  const uint64_t elapsed = static_cast<uint64_t>(elapsed_ms), tau = kHeatSmoothingMs;
  for (auto it = heat_.begin(); it != heat_.end();) {
    Heat& h = it->second;
    const uint64_t rate = h.window_reads * 1'000'000 / elapsed;  // window_reads is bounded
    h.window_reads = 0;
    h.milli_rate = (h.milli_rate * tau + rate * elapsed) / (tau + elapsed);
    if (h.hot && (h.milli_rate < hot_at / 2 || ns_.ChunkRefs(it->first) == 0 || hot_at == 0)) {
      h.hot = false;
      ++stats_.chunks_cooled;
      CAIRN_SOMETIMES(probes_, true, "master.hot-chunk-cooled");
    }
    if (!h.hot && h.milli_rate == 0) {
      it = heat_.erase(it);
      continue;
    }
    hot += h.hot;
    if (!h.hot && hot_at > 0 && h.milli_rate >= hot_at) warm.emplace_back(h.milli_rate, it->first);
    ++it;
  }
  std::sort(warm.begin(), warm.end(), std::greater<>());
  for (const auto& [rate, id] : warm) {
    if (hot >= options_.hot_chunks_max) break;
    heat_[id].hot = true;
    ++hot;
    ++stats_.chunks_turned_hot;
    CAIRN_SOMETIMES(probes_, true, "master.chunk-turned-hot");
  }
  CAIRN_SOMETIMES(probes_, !warm.empty() && hot >= options_.hot_chunks_max, "master.hot-chunks-at-their-bound");
}

size_t DfsMaster::ListedCopies(ChunkId id) const {
  size_t n = 0;
  for (NodeId s : HealthyCopies(id)) n += Placeable(s) && servers_.at(s).Confirmed(id);
  return n;
}

size_t DfsMaster::InSet(const std::vector<NodeId>& servers, const std::string& node_set) const {
  size_t n = 0;
  for (NodeId s : servers) {
    auto it = servers_.find(s);
    n += it != servers_.end() && it->second.node_set == node_set;
  }
  return n;
}

void DfsMaster::ShedSurplus(const std::map<ChunkId, WantedCopies>& want) {
  // Not early in a term: a deposed master may still be handing out its last orders.
  if (rt_.Now() - serving_since_ < 2 * options_.tick_interval) return;
  size_t ordered = 0;
  for (const auto& [id, wanted] : want) {
    const uint32_t replication = wanted.replication;
    if (ordered >= options_.sheds_per_pass_max) break;
    if (copying_.contains(id)) continue;
    // Copies on servers heard from lately only: one that went quiet may be dying.
    std::vector<NodeId> healthy;
    for (NodeId s : HealthyCopies(id)) {
      if (Placeable(s)) healthy.push_back(s);
    }
    if (healthy.size() <= replication) continue;
    // The most loaded servers give theirs up first.
    std::sort(healthy.begin(), healthy.end(), [&](NodeId a, NodeId b) {
      return std::pair(servers_[a].held.size(), a) > std::pair(servers_[b].held.size(), b);
    });
    size_t count = healthy.size();
    size_t confirmed = 0;
    for (NodeId s : healthy) confirmed += servers_[s].Confirmed(id);
    // The last copy in the node set a file asks for stays.
    size_t in_set = wanted.node_set != nullptr ? InSet(healthy, *wanted.node_set) : 0;
    for (NodeId s : healthy) {
      if (count <= replication) break;
      const bool mine = servers_[s].Confirmed(id);
      if (confirmed - mine < replication) continue;  // the others are not all confirmed yet
      const bool set_copy = wanted.node_set != nullptr && servers_[s].node_set == *wanted.node_set;
      if (set_copy && in_set == 1) continue;
      in_set -= set_copy;
      servers_[s].shed[id] = replication;
      Forget(s, id);
      --count;
      confirmed -= mine;
      ++ordered;
      ++stats_.copies_shed;
    }
  }
  CAIRN_SOMETIMES(probes_, ordered > 0, "master.surplus-copy-ordered-removed");
}

Task<void> DfsMaster::Copy(ChunkId id, uint32_t length, uint32_t checksum, NodeId target, std::vector<NodeId> sources) {
  dfs::CopyChunkRequest request;
  *request.mutable_id() = ToProto(id);
  request.set_length(length);
  request.set_checksum(checksum);
  for (NodeId s : sources) request.add_sources(s);
  absl::StatusOr<dfs::CopyChunkReply> reply = co_await rpc_.Call<dfs::CopyChunkReply>(
      target, "dfs.copy_chunk", request, rpc::CallOptions{.deadline = rt_.DeadlineAfter(options_.call_timeout)});
  copying_.erase(id);
  if (!reply.ok()) {
    ++stats_.copies_failed;
    CAIRN_SOMETIMES(probes_, true, "master.copy-failed");
    co_return;
  }
  ++stats_.copies_done;
  if (Alive(target) && ns_.ChunkRefs(id) > 0) Hold(target, id);
  // The next copy now, not at the next pass: with few copies allowed at once, a pass's worth
  // of repair would otherwise take a pass interval per copy. (Only after a success: a failed
  // copy waits for the pass, so a failing target is not retried in a tight loop.)
  if (failure_.ok()) RepairPass();
}

}  // namespace cairn::master

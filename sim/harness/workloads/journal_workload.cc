// A journal stream (src/journal, docs/journal.md) on three JournalNodes, written through
// JournalClients, as a workload.
//
// Writer A fences the stream and appends from three concurrent tasks; halfway through the
// chaos writer B fences it (a shard owner taking over) and appends from three tasks of its
// own; a reader reads the whole stream, linearizably, over and over. A churner fills and trims
// a side stream so the node logs' cleaners copy the checked stream forward under every fault.
// With `reconfigure`, an operator keeps replacing a member with a spare node. Checked:
//  - linearizable: the appends and whole-stream reads, against the kv model;
//  - no-lost-append: each acknowledged append is in the journal at the position it got;
//  - replicas-agree: no two replicas hold different records at one position;
//  - dense-exactly-once: positions 1..N, no record twice (append ids across retries);
//  - fencing: nothing of writer A lies at or after the position B's fence returned;
//  - committed-entries-kept: no replica removes an entry another replica has committed (checked
//    at each removal, on every stream the nodes host);
//  - overwritten-by-later-term: a replica removes only entries of a term below its own. Raft
//    overwrites an entry only at the direction of a leader of a later term (the leader of the
//    entry's own term wrote it, and each term has one leader), and the replica has entered that
//    term before obeying it; a removal at its own term means two leaders in a term, or a
//    deposed leader obeyed;
//  - the same four again after a power loss of every journal node (recovery from disk alone);
//  - liveness: after healing, the owner's appenders and the reader each complete an operation.
#include "sim/harness/workloads/workloads.h"

#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "src/journal/journal_client.h"
#include "src/journal/journal_node.h"
#include "src/rpc/rpc_node.h"

namespace cairn::sim {
namespace {

using journal::JournalClient;
using journal::JournalClientOptions;
using journal::JournalNode;
using journal::JournalNodeOptions;
using journal::StreamReplica;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr int kReplicas = 3;
constexpr int kAppendersPerWriter = 3;
constexpr int kReaderProcess = 100;
const char kStream[] = "s";

// Streams the replicas also host, beside the one under test, sharing the node log (and its
// group commits) with it. A churner appends kilobyte records to side-a and trims it, so the
// node logs roll segments that only the checked stream and the idle side-b still pin: the
// cleaner copies them forward and trims while the nemesis crashes, powers off and corrupts.
constexpr const char* kSideStreams[] = {"side-a", "side-b"};
constexpr size_t kChurnRecordBytes = 1024;
constexpr uint64_t kChurnKeptRecords = 8;  // side-a is trimmed to its last few records

// What recovery repaired, summed over a run's recoveries (the node log's and the stream's).
struct Repairs {
  uint64_t state_copies_repaired = 0;
  uint64_t records_from_one_copy = 0;
  uint64_t torn_records_dropped = 0;
  uint64_t lost_records = 0;
  uint64_t floors_raised = 0;
  uint64_t streams_copied = 0;    // the node log's cleaner copied a stream's live entries forward
  uint64_t segments_trimmed = 0;  // and dropped the segments nothing pinned any more
};

int AppenderProcess(const std::string& writer, int task) { return (writer == "a" ? 0 : 10) + task; }

class JournalWorkload final : public Workload {
 public:
  explicit JournalWorkload(const Scenario&) {}

  void Setup(WorkloadContext& ctx) override {
    ctx_ = &ctx;
    for (int i = 0; i < kReplicas; ++i) replicas_.push_back(static_cast<NodeId>(i));
    servers_ = replicas_;
    const bool reconfigure = ctx.Boolean("reconfigure");
    if (reconfigure) servers_.push_back(static_cast<NodeId>(kReplicas));
    for (size_t i = 0; i < servers_.size(); ++i) {
      ctx.nodes.push_back(ctx.world.AddNode(absl::StrCat("j", i), [this](Runtime& rt) { return Server(rt); }));
    }
    ctx.servers = servers_;
    stop_at_ = ctx.end - seconds(1);
    const Duration b_starts = ctx.scenario.chaos / 2;
    ctx.nodes.push_back(ctx.world.AddNode("writer-a", [this](Runtime& rt) { return Writer(rt, "a", milliseconds(0)); }));
    ctx.nodes.push_back(ctx.world.AddNode("writer-b", [this, b_starts](Runtime& rt) { return Writer(rt, "b", b_starts); }));
    ctx.nodes.push_back(ctx.world.AddNode("reader", [this](Runtime& rt) { return Reader(rt); }));
    ctx.nodes.push_back(ctx.world.AddNode("churner", [this](Runtime& rt) { return Churner(rt); }));
    if (reconfigure) {
      ctx.nodes.push_back(ctx.world.AddNode("operator", [this](Runtime& rt) { return Reconfigurer(rt); }));
    }
    ctx.corruptible_servers_max = (kReplicas - 1) / 2;
    ctx.nodes_description = absl::StrCat(servers_.size(), " journal nodes + 2 writers (3 appenders each), a reader, a churner",
                                         reconfigure ? ", an operator" : "");
  }

  std::vector<CheckResult> Check(WorkloadContext& ctx) override;
  std::vector<Figure> Figures() const override;

 private:
  struct Fenced {
    uint64_t epoch = 0;
    uint64_t next = 0;  // where the fence put the stream's end
  };

  Task<void> Server(Runtime& rt);
  Task<void> Appender(Runtime& rt, JournalClient* client, std::string writer, int task, bool* fenced);
  Task<std::unique_ptr<JournalClient>> OpenWriter(Runtime& rt, rpc::RpcNode& rpc, std::string stream,
                                                  std::vector<NodeId> replicas, Duration operation_timeout);
  Task<void> Writer(Runtime& rt, std::string name, Duration start_after);
  Task<void> Churner(Runtime& rt);
  Task<std::unique_ptr<JournalClient>> OpenReader(Runtime& rt, rpc::RpcNode& rpc, Duration operation_timeout);
  Task<void> Reader(Runtime& rt);
  Task<void> Reconfigurer(Runtime& rt);
  // The replicas' records: agreement, density, fencing and the acknowledged appends, checked on
  // the most advanced replica; violations go to `checks` by name, prefixed with `when`.
  void CheckRecords(const std::string& when, std::map<std::string, CheckResult>& checks);
  // Raft's observer: node `id`'s `core` is about to remove its entries from `from` on. None of
  // them may be committed on a live replica of the same stream.
  void Truncating(NodeId id, const journal::RaftCore& core, uint64_t from);
  // StreamReplica's observer: node `id` applies `e` of stream `name`. Every replica, in every
  // life, applies the same entry at an index (state machine safety).
  void Applying(NodeId id, const std::string& name, const journal::Entry& e, uint64_t position);

  WorkloadContext* ctx_ = nullptr;
  std::vector<NodeId> replicas_;  // the stream's members at creation
  std::vector<NodeId> servers_;   // every journal node (a spare one when reconfiguring)
  Instant stop_at_{};
  uint64_t membership_changes_ = 0;
  std::map<NodeId, JournalNode*> live_;     // replica nodes running now
  std::map<std::string, uint64_t> acked_;   // record → the position it was acknowledged with
  std::map<std::string, Fenced> writers_;   // writer → what its fence got
  Repairs repairs_;                         // summed over every replica's recoveries
  uint64_t opens_failed_ = 0;               // a replica that could not recover (it exits; retried)
  uint64_t churned_ = 0;                    // side-a appends acknowledged
  uint64_t records_ = 0;                    // in the most advanced replica at the end
  uint64_t indeterminate_ = 0, reads_ = 0;
  uint64_t truncations_ = 0;  // times a replica removed a conflicting suffix of its log
  CheckResult committed_kept_{"committed-entries-kept"};
  CheckResult later_term_{"overwritten-by-later-term"};
  CheckResult applied_agree_{"applied-entries-agree"};
  struct AppliedAt {
    uint64_t term;
    std::string payload;
    uint64_t position;
    NodeId first_by;
  };
  std::map<std::string, std::map<uint64_t, AppliedAt>> applied_;  // stream → index → what was applied
};

Task<void> JournalWorkload::Server(Runtime& rt) {
  rpc::RpcNode rpc(rt);
  // Raft's timing and batching and the node log's sizes from the knobs, which the seed draws
  // within their simulation ranges: small segments, so the node log rolls over and recovery
  // meets several; a cleaner that starts early, since nodes crash often and seldom live to
  // write many segments.
  JournalNodeOptions options = JournalNodeOptions::FromKnobs(rt.knobs());
  if (!ctx_->scenario.randomize_knobs) {
    // The production sizes never roll a segment in a 16 s run: keep the sizes the sweeps had.
    options.node_log.log.segment_bytes_max = 64u << 10;
    options.node_log.segments_soft_max = 2;
  }
  options.canary_ack_before_fsync = ctx_->Planted("ack-before-fsync");
  options.raft.canary_skip_append_term_check = ctx_->Planted("skip-term-check");
  options.raft.truncating = [this, id = rt.node_id()](const journal::RaftCore& core, uint64_t from) {
    Truncating(id, core, from);
  };
  options.applying = [this, id = rt.node_id()](const std::string& name, const journal::Entry& e, uint64_t position) {
    Applying(id, name, e, position);
  };
  std::string root = "journal";
  auto node = co_await JournalNode::Open(rt, rpc, std::move(root), options);
  if (!node.ok()) {
    rt.Log(absl::StrCat("journal node cannot open: ", node.status().ToString()));
    ++opens_failed_;
    co_return;  // exit: a disk fault at recovery; the nemesis restarts us
  }
  const journal::NodeLogStats& log_stats = (*node)->node_log().stats();
  repairs_.records_from_one_copy += log_stats.records_from_one_copy;
  repairs_.torn_records_dropped += log_stats.torn_records_dropped;
  repairs_.lost_records += log_stats.lost_records;
  if (const StreamReplica* r = (*node)->stream(kStream); r != nullptr) {
    const journal::RaftStorage::RecoveryStats& st = r->recovery_stats();
    repairs_.state_copies_repaired += st.state_copies_repaired;
    repairs_.floors_raised += st.floors_raised;
    if (st.floors_raised > 0) {
      rt.Log(absl::StrCat("entries lost (", log_stats.lost_records, " records), floor raised to term ",
                          r->core().hard_state().floor_term));
    }
  }
  if (std::find(replicas_.begin(), replicas_.end(), rt.node_id()) != replicas_.end()) {
    for (const char* name : {kStream, kSideStreams[0], kSideStreams[1]}) {
      std::string stream = name;
      if (!(co_await (*node)->CreateStream(std::move(stream), replicas_)).ok()) co_return;
    }
  }
  (*node)->RegisterMethods();
  rpc.Start();
  (*node)->Start();
  live_[rt.node_id()] = node->get();
  struct Unlist {
    JournalWorkload* self;
    NodeId id;
    const journal::NodeLog* log;
    ~Unlist() {
      self->live_.erase(id);
      self->repairs_.streams_copied += log->stats().streams_copied;
      self->repairs_.segments_trimmed += log->stats().segments_trimmed;
    }
  } unlist{this, rt.node_id(), &(*node)->node_log()};
  absl::Status failed = co_await (*node)->Failed();
  rt.Log(absl::StrCat("journal node exits after a storage failure: ", failed.ToString()));
}

Task<void> JournalWorkload::Appender(Runtime& rt, JournalClient* client, std::string writer, int task, bool* fenced) {
  const int process = AppenderProcess(writer, task);
  for (int n = 0; rt.Now() < stop_at_ && !*fenced; ++n) {
    OpKind kind = OpKind::kAppend;
    std::string key = kStream;
    if (!co_await ctx_->NextOp(rt, process, kind, key)) co_return;
    std::string record = absl::StrCat("[", writer, task, ".", n, "]");
    const uint64_t op = ctx_->history.Invoke(process, OpKind::kAppend, kStream, record, ctx_->world.Now());
    absl::StatusOr<uint64_t> position = co_await client->Append(record);
    if (position.ok()) {
      ctx_->history.Complete(op, OpOutcome::kOk, std::nullopt, ctx_->world.Now());
      acked_[record] = *position;
      ctx_->Completed(process);
    } else {
      // Unknown: a timeout, or a retry refused as stale after an earlier attempt landed.
      ctx_->history.Complete(op, OpOutcome::kInfo, std::nullopt, ctx_->world.Now(), position.status().ToString());
      rt.Log(absl::StrCat("append ", record, " failed: ", position.status().ToString()));
      if (absl::IsFailedPrecondition(position.status())) *fenced = true;  // deposed: stop
    }
    co_await rt.Sleep(milliseconds(20 + static_cast<int64_t>(rt.random().Uniform(80))));
  }
}

// Opens a writer on `stream`, fencing it, retrying until it can or the run stops (nullptr).
Task<std::unique_ptr<JournalClient>> JournalWorkload::OpenWriter(Runtime& rt, rpc::RpcNode& rpc, std::string stream,
                                                                 std::vector<NodeId> replicas,
                                                                 Duration operation_timeout) {
  JournalClientOptions options;
  options.replicas = std::move(replicas);
  options.operation_timeout = operation_timeout;
  options.fence_id = rt.random().Next() | 1;  // one id across the retries of Open
  while (rt.Now() < stop_at_) {
    auto opened = co_await JournalClient::Open(rt, rpc, stream, options);
    if (opened.ok()) co_return *std::move(opened);
    co_await rt.Sleep(milliseconds(100));
  }
  co_return nullptr;
}

// A writer: fences the stream (retrying until it can), then appends from several tasks.
Task<void> JournalWorkload::Writer(Runtime& rt, std::string name, Duration start_after) {
  co_await rt.Sleep(start_after);
  rpc::RpcNode rpc(rt);
  rpc.Start();
  std::unique_ptr<JournalClient> client = co_await OpenWriter(rt, rpc, kStream, servers_, seconds(3));
  if (client == nullptr) co_return;
  writers_[name] = Fenced{.epoch = client->epoch(), .next = client->next_position()};
  bool fenced = false;
  TaskGroup tasks(rt.executor());
  for (int t = 0; t < kAppendersPerWriter; ++t) tasks.Spawn(Appender(rt, client.get(), name, t, &fenced));
  while (!tasks.empty()) co_await rt.Sleep(milliseconds(100));
}

// side-a's writer: appends a kilobyte every few tens of milliseconds and trims all but the
// last kChurnKeptRecords. Nothing it does is checked; it exists to make the cleaner work.
Task<void> JournalWorkload::Churner(Runtime& rt) {
  rpc::RpcNode rpc(rt);
  rpc.Start();
  std::unique_ptr<JournalClient> client = co_await OpenWriter(rt, rpc, kSideStreams[0], replicas_, seconds(2));
  if (client == nullptr) co_return;
  const std::string payload(kChurnRecordBytes, 'c');
  for (uint64_t n = 1; rt.Now() < stop_at_; ++n) {
    absl::StatusOr<uint64_t> position = co_await client->Append(payload);
    churned_ += position.ok();
    if (position.ok() && n % kChurnKeptRecords == 0 && *position > kChurnKeptRecords) {
      (void)co_await client->Trim(*position - kChurnKeptRecords);  // a failed trim is retried by the next
    }
    co_await rt.Sleep(milliseconds(10 + static_cast<int64_t>(rt.random().Uniform(30))));
  }
}

// A client that does not fence (a reader, or an operator's tool); opening one cannot fail.
Task<std::unique_ptr<JournalClient>> JournalWorkload::OpenReader(Runtime& rt, rpc::RpcNode& rpc,
                                                                 Duration operation_timeout) {
  JournalClientOptions options;
  options.replicas = servers_;
  options.writer = false;
  options.operation_timeout = operation_timeout;
  std::string stream = kStream;
  auto client = co_await JournalClient::Open(rt, rpc, std::move(stream), options);
  CAIRN_CHECK_OK(client.status());
  co_return *std::move(client);
}

Task<void> JournalWorkload::Reader(Runtime& rt) {
  rpc::RpcNode rpc(rt);
  rpc.Start();
  std::unique_ptr<JournalClient> client = co_await OpenReader(rt, rpc, seconds(2));
  while (rt.Now() < stop_at_) {
    OpKind kind = OpKind::kRead;
    std::string key = kStream;
    if (!co_await ctx_->NextOp(rt, kReaderProcess, kind, key)) co_return;
    const uint64_t op = ctx_->history.Invoke(kReaderProcess, OpKind::kRead, kStream, std::nullopt, ctx_->world.Now());
    absl::StatusOr<std::vector<lsm::JournalRecord>> records = co_await client->Read(1, 1u << 20);
    if (records.ok()) {
      std::string value;
      for (const lsm::JournalRecord& r : *records) value += r.payload;
      // The kv model's value of a key nothing was appended to is "nothing", not "".
      ctx_->history.Complete(op, OpOutcome::kOk, value.empty() ? std::nullopt : std::optional(value),
                             ctx_->world.Now());
      ctx_->Completed(kReaderProcess);
    } else {
      ctx_->history.Complete(op, OpOutcome::kFail, std::nullopt, ctx_->world.Now(), records.status().ToString());
    }
    co_await rt.Sleep(milliseconds(10 + static_cast<int64_t>(rt.random().Uniform(30))));
  }
}

// An operator moving the stream between the journal nodes during the chaos: every few hundred
// milliseconds it replaces a random member with the spare node (add, then remove).
Task<void> JournalWorkload::Reconfigurer(Runtime& rt) {
  rpc::RpcNode rpc(rt);
  rpc.Start();
  std::unique_ptr<JournalClient> client = co_await OpenReader(rt, rpc, seconds(3));
  std::vector<NodeId> members = replicas_;  // what we last made them
  while (rt.Now() < ctx_->chaos_end) {
    co_await rt.Sleep(milliseconds(300 + static_cast<int64_t>(rt.random().Uniform(400))));
    std::vector<NodeId> spares;
    for (NodeId n : servers_) {
      if (std::find(members.begin(), members.end(), n) == members.end()) spares.push_back(n);
    }
    std::vector<NodeId> target = members;
    target[rt.random().Uniform(target.size())] = spares[rt.random().Uniform(spares.size())];
    absl::Status changed = co_await client->ChangeMembers(target);
    if (changed.ok()) {
      members = target;
      ++membership_changes_;
    } else {
      rt.Log(absl::StrCat("membership change failed: ", changed.ToString()));
    }
  }
}

void JournalWorkload::Truncating(NodeId id, const journal::RaftCore& core, uint64_t from) {
  ++truncations_;
  auto violation = [&](CheckResult& check, std::string what) {
    check.Violate(absl::StrCat(what, " at ", FormatDuration(ctx_->world.Now() - Instant{})));
  };
  for (uint64_t i = from; i <= core.last_index(); ++i) {
    if (core.entry(i).term < core.term()) continue;
    violation(later_term_, absl::StrCat("node ", id, " at term ", core.term(), " removes entry ", i, " of term ",
                                        core.entry(i).term));
    break;
  }
  auto self = live_.find(id);
  if (self == live_.end()) return;  // still recovering: not yet stepping messages
  for (const char* name : {kStream, kSideStreams[0], kSideStreams[1]}) {
    const StreamReplica* mine = self->second->stream(name);
    if (mine == nullptr || &mine->core() != &core) continue;
    for (const auto& [other_id, other_node] : live_) {
      const StreamReplica* theirs = other_id == id ? nullptr : other_node->stream(name);
      if (theirs == nullptr) continue;
      const journal::RaftCore& committed = theirs->core();
      const uint64_t last = std::min(core.last_index(), committed.commit());
      for (uint64_t i = std::max(from, committed.first_index()); i <= last; ++i) {
        if (core.entry(i).term != committed.entry(i).term) continue;
        violation(committed_kept_, absl::StrCat("node ", id, " removes entry ", i, " (term ", core.entry(i).term,
                                                ") of stream ", name, ", committed on node ", other_id));
        break;
      }
    }
    return;
  }
}

void JournalWorkload::CheckRecords(const std::string& when, std::map<std::string, CheckResult>& checks) {
  auto violation = [&](const char* check, std::string what) { checks[check].Violate(when + what); };
  const StreamReplica* most = nullptr;
  for (const auto& [id, node] : live_) {
    const StreamReplica* r = node->stream(kStream);
    if (r == nullptr) continue;
    if (most == nullptr || r->next_position() > most->next_position()) most = r;
    for (const auto& [other_id, other_node] : live_) {
      const StreamReplica* o = other_node->stream(kStream);
      if (o == nullptr || other_id <= id) continue;
      for (const auto& [position, record] : r->records()) {
        auto it = o->records().find(position);
        if (it != o->records().end() && it->second != record) {
          violation("replicas-agree", absl::StrCat("replicas ", id, " and ", other_id, " differ at ", position));
          break;
        }
      }
    }
  }
  if (most == nullptr) {
    violation("no-lost-append", "no replica running");
    return;
  }
  std::set<std::string> seen;
  uint64_t expected = 1;
  for (const auto& [position, record] : most->records()) {
    if (position != expected) {
      violation("dense-exactly-once", absl::StrCat("positions skip from ", expected - 1, " to ", position));
    }
    expected = position + 1;
    if (!seen.insert(record).second) violation("dense-exactly-once", absl::StrCat(record, " is in the journal twice"));
    // A record lands only before every later writer's fence.
    const std::string writer = record.substr(1, 1);
    for (const auto& [name, fenced] : writers_) {
      if (name == writer || !writers_.contains(writer) || fenced.epoch < writers_[writer].epoch) continue;
      if (position >= fenced.next) {
        violation("fencing", absl::StrCat("deposed writer ", writer, "'s ", record, " landed at ", position, ", after ",
                                          name, "'s fence at ", fenced.next));
      }
    }
  }
  for (const auto& [record, position] : acked_) {
    auto it = most->records().find(position);
    if (it == most->records().end() || it->second != record) {
      violation("no-lost-append", absl::StrCat("acknowledged ", record, " is not at its position ", position));
    }
  }
  records_ = most->records().size();
}

void JournalWorkload::Applying(NodeId id, const std::string& name, const journal::Entry& e, uint64_t position) {
  auto [it, first] = applied_[name].try_emplace(
      e.index, AppliedAt{.term = e.term, .payload = e.payload, .position = position, .first_by = id});
  const AppliedAt& was = it->second;
  if (first || (was.term == e.term && was.payload == e.payload && was.position == position)) return;
  applied_agree_.Violate(absl::StrCat("node ", id, " applies entry ", e.index, " of stream ", name, " (term ", e.term,
                                      ", position ", position, "), node ", was.first_by, " applied term ", was.term,
                                      ", position ", was.position, was.term == e.term && was.position == position
                                                                        ? " (payloads differ)" : "",
                                      " at ", FormatDuration(ctx_->world.Now() - Instant{})),
                         ctx_->world.Now());
}

std::vector<CheckResult> JournalWorkload::Check(WorkloadContext& ctx) {
  std::vector<CheckResult> out;
  // Liveness after healing: the writer whose fence came last owns the stream. B fences
  // halfway through, but A, still failing to open under the faults, may fence after it (a
  // fence supersedes the epoch its writer read): then A owns the stream and B is deposed.
  const Instant grace_end = ctx.chaos_end + seconds(3);
  std::string owner;
  for (const auto& [name, fenced] : writers_) {
    if (owner.empty() || fenced.epoch > writers_[owner].epoch) owner = name;
  }
  std::vector<std::pair<int, std::string>> live_processes;
  for (int t = 0; t < kAppendersPerWriter && !owner.empty(); ++t) {
    live_processes.emplace_back(AppenderProcess(owner, t), absl::StrCat("appender ", owner, t));
  }
  live_processes.emplace_back(kReaderProcess, "the reader");
  CheckResult liveness = ctx.Liveness(live_processes, grace_end);
  if (owner.empty()) {
    liveness.Violate("no writer could open the stream");
  }

  std::map<std::string, CheckResult> checks;
  for (const char* name : {"no-lost-append", "replicas-agree", "dense-exactly-once", "fencing"}) {
    checks[name] = CheckResult{name};
  }
  CheckRecords("", checks);
  // Then what the disks hold: every journal node loses power at once and recovers from its
  // disk alone. Everything acknowledged is still there, at its position, and the replicas
  // agree (a node log that dropped a live segment, or recovery that skipped a record, shows
  // here even when the nodes that had it in memory never crashed during the run).
  for (NodeId n : servers_) ctx.world.Crash(n);
  for (NodeId n : servers_) ctx.world.Start(n);
  ctx.world.RunUntil(ctx.end + seconds(3));
  const uint64_t records_before = records_;
  CheckRecords("after a power loss of every node: ", checks);
  records_ = records_before;

  CheckOptions options;
  options.search_steps_max = 20'000'000;
  options.memo_entries_max = 500'000;  // each entry interns a whole-stream value: bound the memory
  // The kv model's search is exponential in the appends no read pins the order of (a reader
  // cut off from the leader while the writers are not); a search that fills its memo gives up
  // rather than guess (undecided). The position checks above run on every seed.
  out.push_back(LinearizabilityCheck(ctx.history, Model::Kv(), options));
  for (const char* name : {"no-lost-append", "replicas-agree", "dense-exactly-once", "fencing"}) {
    out.push_back(checks[name]);
  }
  out.push_back(committed_kept_);
  out.push_back(later_term_);
  out.push_back(applied_agree_);
  out.push_back(std::move(liveness));
  for (const Operation& op : ctx.history.operations()) {
    if (op.kind == OpKind::kAppend && op.outcome == OpOutcome::kInfo) ++indeterminate_;
    if (op.kind == OpKind::kRead && op.outcome == OpOutcome::kOk) ++reads_;
  }
  return out;
}

std::vector<Figure> JournalWorkload::Figures() const {
  return {
      {"acknowledged appends", acked_.size()},
      {"indeterminate appends", indeterminate_},
      {"records", records_},
      {"whole-stream reads", reads_},
      {"membership changes", membership_changes_},
      {"conflicting log suffixes removed", truncations_},
      {"churned appends", churned_},
      {"STATE copies repaired", repairs_.state_copies_repaired},
      {"records read from their second copy", repairs_.records_from_one_copy},
      {"torn records dropped", repairs_.torn_records_dropped},
      {"records lost in both copies", repairs_.lost_records},
      {"vote floors raised", repairs_.floors_raised},
      {"failed opens", opens_failed_},
      {"streams copied forward", repairs_.streams_copied},
      {"segments trimmed", repairs_.segments_trimmed},
  };
}

}  // namespace

const WorkloadInfo& JournalWorkloadInfo() {
  static const WorkloadInfo info = [] {
    WorkloadInfo w;
    w.name = "journal";
    w.title = "journal stream (Raft, 3 replicas)";
    w.description =
        "A Raft journal stream (docs/journal.md) on 3 journal nodes: two fencing writers with three\n"
        "appenders each, a linearizable reader, a churner that makes the node logs' cleaners work.\n"
        "Checks: linearizable, no-lost-append, replicas-agree, dense-exactly-once, fencing (also\n"
        "after a power loss of every node), committed-entries-kept, overwritten-by-later-term,\n"
        "applied-entries-agree, liveness.";
    w.options = {{"reconfigure", WorkloadOption::Kind::kBoolean, "false", 0, 0,
                  "an operator keeps replacing a member with a spare fourth node"}};
    w.canaries = {
        {"ack-before-fsync", "a journal node acknowledges appends before its fsync",
         {fault::FaultKind::kCrashRestart, fault::FaultKind::kPowerLoss, fault::FaultKind::kDiskErrors},
         milliseconds(200)},
        // A leader whose messages to its peers are held while clients still reach it: it
        // appends entries nobody else gets, is replaced, and its held appends (older term,
        // now conflicting) arrive at followers that committed the new leader's entries.
        {"skip-term-check", "a follower accepts appends without checking the leader's term",
         {fault::FaultKind::kPeerStall}, milliseconds(300)},
    };
    w.probe_dirs = {"src/journal", "src/storage"};  // src/rpc: the register reaches its probes (the journal never resends)
    w.knob_prefixes = {"rpc_", "net_", "log_", "raft_", "nodelog_"};
    w.chaos = seconds(10);
    w.heal = seconds(6);
    // Every fault kind, storage corruption of at most one replica's disk included.
    for (int k = 0; k < static_cast<int>(fault::FaultKind::kCount); ++k) {
      w.fault_kinds.push_back(static_cast<fault::FaultKind>(k));
    }
    w.make = [](const Scenario& s) { return std::make_unique<JournalWorkload>(s); };
    return w;
  }();
  return info;
}

}  // namespace cairn::sim

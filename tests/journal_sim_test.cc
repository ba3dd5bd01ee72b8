// A journal stream on three JournalNodes in the simulator, under the full fault model (the
// Nemesis: crashes, power loss, pauses, partitions, clogs, loss and reordering, clock faults,
// disk errors, a full disk, corruption within the atlas), written through JournalClients.
//
// Each run: writer A fences the stream and appends from three concurrent tasks; halfway
// through the chaos writer B fences it (a shard owner taking over) and appends from three
// tasks of its own; a reader reads the whole stream, linearizably, over and over. Then the
// faults heal. Checked:
//  - linearizable: the appends and whole-stream reads, against the kv model (sim/linearizability.h);
//  - no acknowledged append lost: each is in the journal at the position it was acknowledged with;
//  - replicas agree: no two replicas hold different records at one position;
//  - dense and exactly once: positions 1..N, no record twice (append ids across retries);
//  - fencing: nothing of writer A lies at or after the position B's fence returned;
//  - liveness: after healing, B's appenders and the reader each complete an operation.
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "fault/nemesis.h"
#include "gtest/gtest.h"
#include "sim/history.h"
#include "sim/linearizability.h"
#include "sim/world.h"
#include "src/journal/journal_client.h"
#include "src/journal/journal_node.h"
#include "src/rpc/rpc_node.h"

namespace cairn::journal {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr int kReplicas = 3;
constexpr int kAppendersPerWriter = 3;
const char kStream[] = "s";

struct Canaries {
  bool ack_before_fsync = false;
  bool skip_append_term_check = false;
};

// What recovery repaired, summed over a run's recoveries (the node log's and the stream's).
struct Repairs {
  uint64_t state_copies_repaired = 0;
  uint64_t records_from_one_copy = 0;
  uint64_t torn_records_dropped = 0;
  uint64_t lost_records = 0;
  uint64_t floors_raised = 0;
  uint64_t streams_copied = 0;     // the node log's cleaner copied a stream's live entries forward
  uint64_t segments_trimmed = 0;   // and dropped the segments nothing pinned any more
  Repairs& operator+=(const Repairs& o) {
    state_copies_repaired += o.state_copies_repaired;
    records_from_one_copy += o.records_from_one_copy;
    torn_records_dropped += o.torn_records_dropped;
    lost_records += o.lost_records;
    floors_raised += o.floors_raised;
    streams_copied += o.streams_copied;
    segments_trimmed += o.segments_trimmed;
    return *this;
  }
};

// Streams the replicas also host, beside the one under test, sharing the node log (and its
// group commits) with it. A churner appends kilobyte records to side-a and trims it, so the
// node logs roll segments that only the checked stream and the idle side-b still pin: the
// cleaner copies them forward and trims while the nemesis crashes, powers off and corrupts.
constexpr const char* kSideStreams[] = {"side-a", "side-b"};
constexpr size_t kChurnRecordBytes = 1024;
constexpr uint64_t kChurnKeptRecords = 8;  // side-a is trimmed to its last few records

// The faults of a run: unset kinds mean every kind (see RunSeed).
struct FaultMix {
  std::optional<std::vector<fault::FaultKind>> kinds;
  Duration mean_gap{0};  // 0: the seed picks
};

struct Run {
  Canaries canaries;
  sim::World* world = nullptr;
  std::vector<NodeId> replicas;  // the stream's members at creation
  std::vector<NodeId> servers;   // every journal node (a spare one when reconfiguring)
  uint64_t membership_changes = 0;
  std::map<NodeId, JournalNode*> live;  // replica nodes running now
  sim::History history;
  std::map<std::string, uint64_t> acked;  // record → the position it was acknowledged with
  struct Fenced {
    uint64_t epoch = 0;
    uint64_t next = 0;  // where the fence put the stream's end
  };
  std::map<std::string, Fenced> writers;   // writer → what its fence got
  std::map<std::string, Instant> last_ok;  // process → its last ok operation
  Instant stop_at{};
  Repairs repairs;                     // summed over every replica's recoveries
  uint64_t opens_failed = 0;           // a replica that could not recover (it exits; retried)
  uint64_t churned = 0;                // side-a appends acknowledged
};

Task<void> JournalServer(Runtime& rt, Run* run) {
  rpc::RpcNode rpc(rt);
  JournalNodeOptions options;
  options.canary_ack_before_fsync = run->canaries.ack_before_fsync;
  options.raft.canary_skip_append_term_check = run->canaries.skip_append_term_check;
  // Small segments: the node log rolls over, so recovery meets several segments.
  options.node_log.journal.segment_bytes_max = 64u << 10;
  // And a cleaner that starts early: nodes crash often, and seldom live to write many segments.
  options.node_log.segments_soft_max = 2;
  std::string root = "journal";
  auto node = co_await JournalNode::Open(rt, rpc, std::move(root), options);
  if (!node.ok()) {
    if (std::getenv("CAIRN_JOURNAL_SEED") != nullptr) std::printf("node %u open: %s\n", rt.node_id(), node.status().ToString().c_str());
    ++run->opens_failed;
    co_return;  // exit: a disk fault at recovery; the nemesis restarts us
  }
  const NodeLogStats& log_stats = (*node)->node_log().stats();
  run->repairs.records_from_one_copy += log_stats.records_from_one_copy;
  run->repairs.torn_records_dropped += log_stats.torn_records_dropped;
  run->repairs.lost_records += log_stats.lost_records;
  if (const StreamReplica* r = (*node)->stream(kStream); r != nullptr) {
    const RaftStorage::RecoveryStats& st = r->recovery_stats();
    run->repairs.state_copies_repaired += st.state_copies_repaired;
    run->repairs.floors_raised += st.floors_raised;
    if (st.floors_raised > 0 && std::getenv("CAIRN_JOURNAL_SEED") != nullptr) {
      std::printf("node %u at %.3fs: entries lost (%llu records), floor raised to term %llu\n", rt.node_id(),
                  ToSeconds(rt.Now().time_since_epoch()), static_cast<unsigned long long>(log_stats.lost_records),
                  static_cast<unsigned long long>(r->core().hard_state().floor_term));
    }
  }
  if (std::find(run->replicas.begin(), run->replicas.end(), rt.node_id()) != run->replicas.end()) {
    for (const char* name : {kStream, kSideStreams[0], kSideStreams[1]}) {
      std::string stream = name;
      if (!(co_await (*node)->CreateStream(std::move(stream), run->replicas)).ok()) co_return;
    }
  }
  (*node)->RegisterMethods();
  rpc.Start();
  (*node)->Start();
  run->live[rt.node_id()] = node->get();
  struct Unlist {
    Run* run;
    NodeId id;
    const NodeLog* log;
    ~Unlist() {
      run->live.erase(id);
      run->repairs.streams_copied += log->stats().streams_copied;
      run->repairs.segments_trimmed += log->stats().segments_trimmed;
    }
  } unlist{run, rt.node_id(), &(*node)->node_log()};
  absl::Status failed = co_await (*node)->Failed();
  rt.Log(absl::StrCat("journal node exits after a storage failure: ", failed.ToString()));
}

Task<void> Appender(Runtime& rt, Run* run, JournalClient* client, std::string writer, int task, bool* fenced) {
  const std::string process = absl::StrCat(writer, task);
  const int process_id = (writer == "a" ? 0 : 10) + task;
  for (int n = 0; rt.Now() < run->stop_at && !*fenced; ++n) {
    std::string record = absl::StrCat("[", process, ".", n, "]");
    const uint64_t op = run->history.Invoke(process_id, sim::OpKind::kAppend, kStream, record, run->world->Now());
    absl::StatusOr<uint64_t> position = co_await client->Append(record);
    if (position.ok()) {
      run->history.Complete(op, sim::OpOutcome::kOk, std::nullopt, run->world->Now());
      run->acked[record] = *position;
      run->last_ok[process] = run->world->Now();
    } else {
      // Unknown: a timeout, or a retry refused as stale after an earlier attempt landed.
      run->history.Complete(op, sim::OpOutcome::kInfo, std::nullopt, run->world->Now(), position.status().ToString());
      if (std::getenv("CAIRN_JOURNAL_SEED") != nullptr) {
        std::printf("%s append failed at %.3fs: %s\n", process.c_str(), ToSeconds(rt.Now().time_since_epoch()),
                    position.status().ToString().c_str());
      }
      if (absl::IsFailedPrecondition(position.status())) *fenced = true;  // deposed: stop
    }
    co_await rt.Sleep(milliseconds(20 + static_cast<int64_t>(rt.random().Uniform(80))));
  }
}

// Opens a writer on `stream`, fencing it, retrying until it can or the run stops (nullptr).
Task<std::unique_ptr<JournalClient>> OpenWriter(Runtime& rt, rpc::RpcNode& rpc, Run* run, std::string stream,
                                                std::vector<NodeId> replicas, Duration operation_timeout) {
  JournalClientOptions options;
  options.replicas = std::move(replicas);
  options.operation_timeout = operation_timeout;
  options.fence_id = rt.random().Next() | 1;  // one id across the retries of Open
  while (rt.Now() < run->stop_at) {
    auto opened = co_await JournalClient::Open(rt, rpc, stream, options);
    if (opened.ok()) co_return *std::move(opened);
    co_await rt.Sleep(milliseconds(100));
  }
  co_return nullptr;
}

// A writer: fences the stream (retrying until it can), then appends from several tasks.
Task<void> Writer(Runtime& rt, Run* run, std::string name, Duration start_after) {
  co_await rt.Sleep(start_after);
  rpc::RpcNode rpc(rt);
  rpc.Start();
  std::unique_ptr<JournalClient> client = co_await OpenWriter(rt, rpc, run, kStream, run->servers, seconds(3));
  if (client == nullptr) co_return;
  run->writers[name] = Run::Fenced{.epoch = client->epoch(), .next = client->next_position()};
  bool fenced = false;
  TaskGroup tasks(rt.executor());
  for (int t = 0; t < kAppendersPerWriter; ++t) tasks.Spawn(Appender(rt, run, client.get(), name, t, &fenced));
  while (!tasks.empty()) co_await rt.Sleep(milliseconds(100));
}

// side-a's writer: appends a kilobyte every few tens of milliseconds and trims all but the
// last kChurnKeptRecords. Nothing it does is checked here; it exists to make the cleaner work.
Task<void> Churner(Runtime& rt, Run* run) {
  rpc::RpcNode rpc(rt);
  rpc.Start();
  std::unique_ptr<JournalClient> client =
      co_await OpenWriter(rt, rpc, run, kSideStreams[0], run->replicas, seconds(2));
  if (client == nullptr) co_return;
  const std::string payload(kChurnRecordBytes, 'c');
  for (uint64_t n = 1; rt.Now() < run->stop_at; ++n) {
    absl::StatusOr<uint64_t> position = co_await client->Append(payload);
    run->churned += position.ok();
    if (position.ok() && n % kChurnKeptRecords == 0 && *position > kChurnKeptRecords) {
      (void)co_await client->Trim(*position - kChurnKeptRecords);  // a failed trim is retried by the next
    }
    co_await rt.Sleep(milliseconds(10 + static_cast<int64_t>(rt.random().Uniform(30))));
  }
}

// A client that does not fence (a reader, or an operator's tool); opening one cannot fail.
Task<std::unique_ptr<JournalClient>> OpenReader(Runtime& rt, rpc::RpcNode& rpc, Run* run, Duration operation_timeout) {
  JournalClientOptions options;
  options.replicas = run->servers;
  options.writer = false;
  options.operation_timeout = operation_timeout;
  std::string stream = kStream;
  auto client = co_await JournalClient::Open(rt, rpc, std::move(stream), options);
  CAIRN_CHECK_OK(client.status());
  co_return *std::move(client);
}

Task<void> Reader(Runtime& rt, Run* run) {
  rpc::RpcNode rpc(rt);
  rpc.Start();
  std::unique_ptr<JournalClient> client = co_await OpenReader(rt, rpc, run, seconds(2));
  while (rt.Now() < run->stop_at) {
    const uint64_t op = run->history.Invoke(100, sim::OpKind::kRead, kStream, std::nullopt, run->world->Now());
    absl::StatusOr<std::vector<lsm::JournalRecord>> records = co_await client->Read(1, 1u << 20);
    if (records.ok()) {
      std::string value;
      for (const lsm::JournalRecord& r : *records) value += r.payload;
      // The kv model's value of a key nothing was appended to is "nothing", not "".
      run->history.Complete(op, sim::OpOutcome::kOk, value.empty() ? std::nullopt : std::optional(value),
                            run->world->Now());
      run->last_ok["reader"] = run->world->Now();
    } else {
      run->history.Complete(op, sim::OpOutcome::kFail, std::nullopt, run->world->Now(), records.status().ToString());
    }
    co_await rt.Sleep(milliseconds(10 + static_cast<int64_t>(rt.random().Uniform(30))));
  }
}

// An operator moving the stream between the journal nodes during the chaos: every few hundred
// milliseconds it replaces a random member with the spare node (add, then remove).
Task<void> Reconfigurer(Runtime& rt, Run* run, Instant until) {
  rpc::RpcNode rpc(rt);
  rpc.Start();
  std::unique_ptr<JournalClient> client = co_await OpenReader(rt, rpc, run, seconds(3));
  std::vector<NodeId> members = run->replicas;  // what we last made them
  while (rt.Now() < until) {
    co_await rt.Sleep(milliseconds(300 + static_cast<int64_t>(rt.random().Uniform(400))));
    std::vector<NodeId> spares;
    for (NodeId n : run->servers) {
      if (std::find(members.begin(), members.end(), n) == members.end()) spares.push_back(n);
    }
    std::vector<NodeId> target = members;
    target[rt.random().Uniform(target.size())] = spares[rt.random().Uniform(spares.size())];
    absl::Status changed = co_await client->ChangeMembers(target);
    if (changed.ok()) {
      members = target;
      ++run->membership_changes;
    } else if (std::getenv("CAIRN_JOURNAL_SEED") != nullptr) {
      std::printf("membership change failed at %.3fs: %s\n", ToSeconds(rt.Now().time_since_epoch()),
                  changed.ToString().c_str());
    }
  }
}

struct Outcome {
  std::string violation;
  uint64_t membership_changes = 0;
  size_t acked = 0, indeterminate = 0, reads = 0, records = 0;
  sim::Verdict verdict = sim::Verdict::kLinearizable;
  fault::FaultCounts faults;
  Repairs repairs;
  uint64_t opens_failed = 0;
  uint64_t churned = 0;
  sim::DiskStats disks;  // the journal nodes' disks
};

std::string RepairSummary(const Outcome& o) {
  return absl::StrCat(o.disks.corrupted_at_rest, " bits flipped at rest, ", o.disks.misdirected_writes,
                      " misdirected writes, ", o.disks.bitflips, " reads flipped; recoveries: ",
                      o.repairs.state_copies_repaired, " STATE copies repaired, ", o.repairs.records_from_one_copy,
                      " node-log records read from their second copy, ", o.repairs.torn_records_dropped,
                      " torn records dropped, ", o.repairs.lost_records, " records lost in both copies, ",
                      o.repairs.floors_raised, " vote floors raised, ", o.opens_failed,
                      " failed opens; cleaner: ", o.churned, " kilobyte appends to side-a, ", o.repairs.streams_copied, " streams copied forward, ",
                      o.repairs.segments_trimmed, " segments trimmed");
}

Outcome RunSeed(uint64_t seed, Canaries canaries = {}, FaultMix mix = {}, Duration chaos = seconds(10),
               bool reconfigure = false) {
  Run run;  // first: the world (destroyed before it) ends the programs that refer to it
  run.canaries = canaries;
  sim::World world(sim::WorldOptions{.seed = seed});
  run.world = &world;
  std::vector<NodeId> all;
  for (int i = 0; i < kReplicas; ++i) run.replicas.push_back(static_cast<NodeId>(i));
  run.servers = run.replicas;
  if (reconfigure) run.servers.push_back(static_cast<NodeId>(kReplicas));
  for (size_t i = 0; i < run.servers.size(); ++i) {
    all.push_back(world.AddNode(absl::StrCat("j", i), [&run](Runtime& rt) { return JournalServer(rt, &run); }));
  }
  const Instant chaos_end = world.Now() + chaos;
  const Instant end = chaos_end + seconds(6);
  run.stop_at = end - seconds(1);
  all.push_back(world.AddNode("writer-a", [&run](Runtime& rt) { return Writer(rt, &run, "a", milliseconds(0)); }));
  all.push_back(world.AddNode("writer-b", [&run, chaos](Runtime& rt) { return Writer(rt, &run, "b", chaos / 2); }));
  all.push_back(world.AddNode("reader", [&run](Runtime& rt) { return Reader(rt, &run); }));
  all.push_back(world.AddNode("churner", [&run](Runtime& rt) { return Churner(rt, &run); }));
  if (reconfigure) {
    all.push_back(world.AddNode("operator", [&run, chaos_end](Runtime& rt) { return Reconfigurer(rt, &run, chaos_end); }));
  }
  for (NodeId n : all) world.Start(n);

  Outcome out;
  fault::NemesisOptions nemesis_options;
  nemesis_options.servers = run.servers;
  nemesis_options.nodes = all;
  nemesis_options.corruptible_servers_max = (kReplicas - 1) / 2;
  // Every fault kind, storage corruption of at most one replica's disk included, with the
  // seed choosing the mix and the pace.
  std::vector<fault::FaultKind> kinds;
  for (int k = 0; k < static_cast<int>(fault::FaultKind::kCount); ++k) kinds.push_back(static_cast<fault::FaultKind>(k));
  nemesis_options.kinds = mix.kinds.value_or(kinds);
  nemesis_options.mean_gap = mix.mean_gap;
  fault::Nemesis nemesis(world, nemesis_options, out.faults);
  nemesis.Start(chaos_end);
  nemesis.Supervise(end);
  world.RunUntil(chaos_end);
  nemesis.HealAll();
  world.RunUntil(end);

  std::vector<std::string> violations;
  // Liveness after healing: the writer whose fence came last owns the stream. B fences
  // halfway through, but A, still failing to open under the faults, may fence after it (a
  // fence supersedes the epoch its writer read): then A owns the stream and B is deposed.
  const Instant grace_end = chaos_end + seconds(3);
  std::string owner;
  for (const auto& [name, fenced] : run.writers) {
    if (owner.empty() || fenced.epoch > run.writers[owner].epoch) owner = name;
  }
  if (owner.empty()) violations.push_back("no writer could open the stream");
  for (int t = 0; t < kAppendersPerWriter && !owner.empty(); ++t) {
    const std::string p = absl::StrCat(owner, t);
    if (run.last_ok[p] < grace_end) violations.push_back(absl::StrCat(p, " completed no append after healing"));
  }
  if (run.last_ok["reader"] < grace_end) violations.push_back("the reader completed no read after healing");

  // The replicas' records: agreement, and the most advanced one for the rest.
  auto check_records = [&](const std::string& when) -> size_t {
    const StreamReplica* most = nullptr;
    for (const auto& [id, node] : run.live) {
      const StreamReplica* r = node->stream(kStream);
      if (r == nullptr) continue;
      if (most == nullptr || r->next_position() > most->next_position()) most = r;
      for (const auto& [other_id, other_node] : run.live) {
        const StreamReplica* o = other_node->stream(kStream);
        if (o == nullptr || other_id <= id) continue;
        for (const auto& [position, record] : r->records()) {
          auto it = o->records().find(position);
          if (it != o->records().end() && it->second != record) {
            violations.push_back(absl::StrCat(when, "replicas ", id, " and ", other_id, " differ at ", position));
            break;
          }
        }
      }
    }
    if (most == nullptr) {
      violations.push_back(absl::StrCat(when, "no replica running"));
    } else {
      std::set<std::string> seen;
      uint64_t expected = 1;
      for (const auto& [position, record] : most->records()) {
        if (position != expected) violations.push_back(absl::StrCat(when, "positions skip from ", expected - 1, " to ", position));
        expected = position + 1;
        if (!seen.insert(record).second) violations.push_back(absl::StrCat(when, record, " is in the journal twice"));
        // A record lands only before every later writer's fence.
        const std::string writer = record.substr(1, 1);
        for (const auto& [name, fenced] : run.writers) {
          if (name == writer || !run.writers.contains(writer) || fenced.epoch < run.writers[writer].epoch) continue;
          if (position >= fenced.next) {
            violations.push_back(absl::StrCat(when, "deposed writer ", writer, "'s ", record, " landed at ", position, ", after ",
                                              name, "'s fence at ", fenced.next));
          }
        }
      }
      for (const auto& [record, position] : run.acked) {
        auto it = most->records().find(position);
        if (it == most->records().end() || it->second != record) {
          violations.push_back(absl::StrCat(when, "acknowledged ", record, " is not at its position ", position));
        }
      }
      return most->records().size();
    }
    return 0;
  };
  out.records = check_records("");
  // Then what the disks hold: every journal node loses power at once and recovers from its
  // disk alone. Everything acknowledged is still there, at its position, and the replicas
  // agree (a node log that dropped a live segment, or recovery that skipped a record, shows
  // here even when the nodes that had it in memory never crashed during the run).
  for (NodeId n : run.servers) world.Crash(n);
  for (NodeId n : run.servers) world.Start(n);
  world.RunUntil(end + seconds(3));
  check_records("after a power loss of every node: ");

  sim::CheckOptions check;
  check.search_steps_max = 20'000'000;
  check.memo_entries_max = 500'000;  // each entry interns a whole-stream value: bound the memory
  absl::StatusOr<sim::LinearizabilityResult> lin =
      sim::CheckLinearizability(run.history, sim::Model::Kv(), check);
  CAIRN_CHECK_OK(lin.status());
  out.verdict = lin->verdict;
  if (lin->verdict == sim::Verdict::kNotLinearizable) {
    violations.push_back(absl::StrCat("not linearizable: ", lin->explanation));
  }
  if (!violations.empty() && std::getenv("CAIRN_JOURNAL_SEED") != nullptr) {
    for (const auto& [p, at] : run.last_ok) std::printf("last ok %s at %.3fs\n", p.c_str(), ToSeconds(at.time_since_epoch()));
    for (const auto& [name, fenced] : run.writers) {
      std::printf("%s's fence: epoch %llu next %llu\n", name.c_str(), static_cast<unsigned long long>(fenced.epoch),
                  static_cast<unsigned long long>(fenced.next));
    }
    for (const auto& [id, node] : run.live) {
      const StreamReplica* r = node->stream(kStream);
      std::printf("replica %u: %s term %llu leader %u last %llu commit %llu applied %llu next %llu floor (%llu, %llu)%s\n", id,
                  RoleName(r->core().role()), static_cast<unsigned long long>(r->core().term()), r->core().leader(),
                  static_cast<unsigned long long>(r->core().last_index()),
                  static_cast<unsigned long long>(r->core().commit()), static_cast<unsigned long long>(r->applied()),
                  static_cast<unsigned long long>(r->next_position()),
                  static_cast<unsigned long long>(r->core().hard_state().floor_term),
                  static_cast<unsigned long long>(r->core().hard_state().floor_index),
                  r->failure().ok() ? "" : absl::StrCat(" failed: ", r->failure().ToString()).c_str());
    }
  }
  if (violations.size() > 3) violations.resize(3);
  out.violation = violations.empty() ? "" : absl::StrCat("seed ", seed, ": ", absl::StrJoin(violations, "; "));
  out.acked = run.acked.size();
  out.membership_changes = run.membership_changes;
  out.repairs = run.repairs;
  out.opens_failed = run.opens_failed;
  out.churned = run.churned;
  for (NodeId n : run.servers) out.disks += world.disk(n).stats();
  for (const sim::Operation& op : run.history.operations()) {
    if (op.kind == sim::OpKind::kAppend && op.outcome == sim::OpOutcome::kInfo) ++out.indeterminate;
    if (op.kind == sim::OpKind::kRead && op.outcome == sim::OpOutcome::kOk) ++out.reads;
  }
  return out;
}

TEST(JournalSim, TheStreamStaysLinearizableAndLosesNothingUnderTheFullFaultModel) {
  constexpr uint64_t kSeeds = 24;
  size_t acked = 0, indeterminate = 0, reads = 0, records = 0, unknown = 0;
  uint64_t faults = 0;
  Repairs repairs;
  for (uint64_t seed = 1; seed <= kSeeds; ++seed) {
    Outcome o = RunSeed(seed);
    EXPECT_EQ(o.violation, "");
    repairs += o.repairs;
    acked += o.acked;
    indeterminate += o.indeterminate;
    reads += o.reads;
    records += o.records;
    unknown += o.verdict == sim::Verdict::kUnknown;
    for (uint64_t c : o.faults.by_kind) faults += c;
  }
  std::printf("journal sweep: %d seeds, %zu acknowledged appends, %zu indeterminate, %zu records in the final "
              "journals, %zu linearizable whole-stream reads, %llu faults injected, %zu histories the checker "
              "could not decide; the cleaners copied %llu streams forward and trimmed %llu segments\n",
              static_cast<int>(kSeeds), acked, indeterminate, records, reads, static_cast<unsigned long long>(faults),
              unknown, static_cast<unsigned long long>(repairs.streams_copied),
              static_cast<unsigned long long>(repairs.segments_trimmed));
  EXPECT_GT(acked, kSeeds * 100);
  EXPECT_GT(reads, kSeeds * 20);
  // The checked stream's entries were copied between segments under the faults.
  EXPECT_GT(repairs.streams_copied, kSeeds);
  EXPECT_GT(repairs.segments_trimmed, kSeeds);
  // The kv model's search is exponential in the appends no read pins the order of (a reader
  // cut off from the leader while the writers are not); a search that fills its memo gives
  // up rather than guess. The direct position checks above still ran on those seeds.
  EXPECT_LE(unknown, kSeeds / 6);
}


// Storage corruption of one replica's disk (bits flipped at rest and in reads, misdirected
// writes), often, with crashes and power losses to make every replica recover from its disk:
// the repairs of src/journal/raft_storage.h run, and nothing acknowledged is lost. Seed 14
// found the client stepping its shared target round the ring back to a dead replica (fixed in
// journal_client.cc, CallLeader); the sweep keeps that seed.
TEST(JournalSim, OneRottingDiskLosesNothing) {
  using enum fault::FaultKind;
  constexpr uint64_t kSeeds = 24;
  const FaultMix mix{.kinds = std::vector{kCorruption, kCrashRestart, kPowerLoss}, .mean_gap = milliseconds(150)};
  Outcome total;
  size_t unknown = 0;
  for (uint64_t seed = 1; seed <= kSeeds; ++seed) {
    Outcome o = RunSeed(seed, {}, mix);
    EXPECT_EQ(o.violation, "");
    total.acked += o.acked;
    total.disks += o.disks;
    total.opens_failed += o.opens_failed;
    total.churned += o.churned;
    total.repairs += o.repairs;
    unknown += o.verdict == sim::Verdict::kUnknown;
  }
  std::printf("rotting-disk sweep: %d seeds, %zu acknowledged appends, %zu undecided; %s\n", static_cast<int>(kSeeds),
              total.acked, unknown, RepairSummary(total).c_str());
  EXPECT_GT(total.acked, kSeeds * 100);
  EXPECT_LE(unknown, kSeeds / 6);
  // The sweep exercised the repairs, not only the faults.
  EXPECT_GT(total.disks.corrupted_at_rest, kSeeds);
  EXPECT_GT(total.disks.misdirected_writes, 0u);
  EXPECT_GT(total.repairs.records_from_one_copy, 0u);
  EXPECT_GT(total.repairs.floors_raised, 0u);
  EXPECT_GT(total.repairs.streams_copied, kSeeds);
}

// Crashes and a network that partitions, clogs, loses, reorders and delays, often: what a
// stale leader's appends need to arrive after a newer leader's.
FaultMix NetworkMix() {
  using enum fault::FaultKind;
  return FaultMix{.kinds = std::vector{kCrashRestart, kPartition, kClog, kSwizzle, kDegrade}, .mean_gap = milliseconds(150)};
}

// The sweep again under NetworkMix: stale leaders, and writer A still opening when B fences
// (the fence that came last must win, and nothing of the deposed writer land after it).
TEST(JournalSim, NetworkHeavyFaultsWithContendingWriters) {
  constexpr uint64_t kSeeds = 40;
  size_t acked = 0, unknown = 0;
  for (uint64_t seed = 1; seed <= kSeeds; ++seed) {
    Outcome o = RunSeed(seed, {}, NetworkMix());
    EXPECT_EQ(o.violation, "");
    acked += o.acked;
    unknown += o.verdict == sim::Verdict::kUnknown;
  }
  std::printf("network-heavy sweep: %d seeds, %zu acknowledged appends, %zu undecided histories\n",
              static_cast<int>(kSeeds), acked, unknown);
  EXPECT_GT(acked, kSeeds * 100);
  EXPECT_LE(unknown, kSeeds / 6);
}

// The sweep while an operator keeps replacing replicas (one member at a time) under the full
// fault model: membership changes under faults, through the service.
TEST(JournalSim, MembershipChangesUnderTheFullFaultModel) {
  constexpr uint64_t kSeeds = 16;
  size_t acked = 0, unknown = 0;
  uint64_t changes = 0;
  for (uint64_t seed = 1; seed <= kSeeds; ++seed) {
    Outcome o = RunSeed(seed, {}, {}, seconds(10), /*reconfigure=*/true);
    EXPECT_EQ(o.violation, "");
    acked += o.acked;
    changes += o.membership_changes;
    unknown += o.verdict == sim::Verdict::kUnknown;
  }
  std::printf("membership sweep: %d seeds, %llu replica replacements, %zu acknowledged appends, %zu undecided\n",
              static_cast<int>(kSeeds), static_cast<unsigned long long>(changes), acked, unknown);
  EXPECT_GT(changes, kSeeds * 3);
  EXPECT_GT(acked, kSeeds * 100);
  // More reads fail while the leader moves between four nodes, so fewer pin the order of the
  // appends and the kv model's search gives up more often (docs/journal.md, "Open": a log
  // model would decide them all); the position checks ran on every seed.
  EXPECT_LE(unknown, kSeeds / 3);
}

// Replays one seed of the sweep: CAIRN_JOURNAL_SEED=11 journal_sim_test --gtest_filter=*Replay*
// (CAIRN_JOURNAL_NETWORK_MIX=1: the network-heavy sweep's; CAIRN_JOURNAL_RECONFIGURE=1: the
// membership sweep's; CAIRN_JOURNAL_KINDS=crash-restart,power-loss: exactly these faults;
// CAIRN_JOURNAL_GAP_MS=200: faults that often; CAIRN_JOURNAL_CANARY=ack-before-fsync or
// skip-term-check: with that bug)
TEST(JournalSim, ReplayOneSeed) {
  const char* seed = std::getenv("CAIRN_JOURNAL_SEED");
  if (seed == nullptr) GTEST_SKIP() << "set CAIRN_JOURNAL_SEED to replay a seed";
  FaultMix mix;
  if (std::getenv("CAIRN_JOURNAL_NETWORK_MIX") != nullptr) mix = NetworkMix();
  if (const char* kinds = std::getenv("CAIRN_JOURNAL_KINDS"); kinds != nullptr) {
    std::vector<fault::FaultKind> chosen;
    for (const std::string& name : std::vector<std::string>(absl::StrSplit(kinds, ','))) {
      std::optional<fault::FaultKind> k = fault::FaultKindFromName(name);
      ASSERT_TRUE(k.has_value()) << "no fault kind \"" << name << "\"";
      chosen.push_back(*k);
    }
    mix.kinds = chosen;
  }
  if (const char* gap = std::getenv("CAIRN_JOURNAL_GAP_MS"); gap != nullptr) mix.mean_gap = milliseconds(std::atoi(gap));
  Canaries canaries;
  if (const char* c = std::getenv("CAIRN_JOURNAL_CANARY"); c != nullptr && *c != '\0') {
    canaries.ack_before_fsync = std::string_view(c) == "ack-before-fsync";
    canaries.skip_append_term_check = std::string_view(c) == "skip-term-check";
    ASSERT_TRUE(canaries.ack_before_fsync || canaries.skip_append_term_check) << "no canary \"" << c << "\"";
  }
  Outcome o = RunSeed(std::strtoull(seed, nullptr, 10), canaries, mix, seconds(10),
                      std::getenv("CAIRN_JOURNAL_RECONFIGURE") != nullptr);
  std::printf("seed %s: %llu membership changes, %zu acknowledged, %zu indeterminate, %zu records, %zu reads, faults: %s\n", seed,
              static_cast<unsigned long long>(o.membership_changes), o.acked,
              o.indeterminate, o.records, o.reads, absl::StrJoin(o.faults.mix, ", ").c_str());
  std::printf("storage: %s\n", RepairSummary(o).c_str());
  EXPECT_EQ(o.violation, "");
}

// The canaries: each is a real bug the sweep must catch within a few seeds. (The dropped term
// check on AppendEntries is caught by raft_test's unreliable-network sweep, which can hold one
// leader's appends on the wire for a long time; this service-level sweep rarely builds that
// schedule.)
int SeedsUntilCaught(Canaries canaries, FaultMix mix, uint64_t seeds_max) {
  for (uint64_t seed = 1; seed <= seeds_max; ++seed) {
    Outcome o = RunSeed(seed, canaries, mix);
    if (!o.violation.empty()) {
      std::printf("canary caught: %s\n", o.violation.c_str());
      return static_cast<int>(seed);
    }
  }
  return 0;
}

TEST(JournalSim, CatchesAcknowledgementsSentBeforeTheFsync) {
  using enum fault::FaultKind;
  FaultMix mix{.kinds = std::vector{kCrashRestart, kPowerLoss, kDiskErrors}, .mean_gap = milliseconds(200)};
  EXPECT_GT(SeedsUntilCaught(Canaries{.ack_before_fsync = true}, mix, 40), 0)
      << "the sweep missed acknowledgements sent before the fsync";
}


}  // namespace
}  // namespace cairn::journal

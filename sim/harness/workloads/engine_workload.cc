// The shard engine (src/lsm, docs/lsm.md) on one node's disk, as a workload.
//
// One node runs the engine and its writer together (an embedded shard): it puts unique values
// to 40 keys and runs a major compaction every 50 writes, while the nemesis crashes the node
// (its process or its machine), cuts the power, fails and slows its disk and fills it. A write
// that fails leaves the engine refusing writes until it is reopened, so the program exits and
// the supervisor restarts it. After every (re)open the node reads every key back. Per key the
// workload keeps the values a read may return: after an acknowledged write only that value; a
// write that failed or was cut off by a crash adds its value (it may or may not have happened);
// what a read after recovery returns is the new truth (recovery made it durable). At the end the
// machine crashes once more, fault-free, and every key is read again. Checked:
//  - durable-after-restart: every read after a reopen returns one of the values its key may hold;
//  - reads-see-writes, no-lost-write, linearizable: the history of writes and reads;
//  - liveness: the writer writes again after the faults heal, and the final read-back completes.
// Odd seeds give the engine a small shared cache and pace its system IO, as a node full of
// shards would.
//
// `engine-dfs` is the same shard with its SSTables on the DFS (dfs::DfsFileStore; the
// manifest and the journal stay on the node's disk): the cluster of dfs_cluster.h beside it,
// every node under the whole fault model, corruption on up to R - 1 = 2 file servers. Its
// major compactions refer to the chunks of the macroblocks they reuse instead of copying them
// ("bytes reused by reference").
#include "sim/harness/workloads/workloads.h"

#include <map>
#include <optional>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "sim/harness/workloads/dfs_cluster.h"
#include "src/dfs/dfs_file_store.h"
#include "src/lsm/engine.h"
#include "src/lsm/shared_cache.h"
#include "src/lsm/token_bucket.h"
#include "src/rpc/rpc_node.h"

namespace cairn::sim {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr int kWriterProcess = 0;
constexpr int kReadBackProcess = 1;  // the reads after each reopen (not a tape's: they follow from the writes)
constexpr uint64_t kKeys = 40;
constexpr uint64_t kWritesPerMajorCompaction = 50;
constexpr int kStoreOpenAttempts = 5;  // on the DFS, before the incarnation gives up
constexpr uint32_t kDfsChunkBytes = 64u << 10;  // with --default-knobs: one Tiny() macroblock
constexpr Duration kDfsReadBackBound = std::chrono::seconds(15);  // the final read-back on the DFS

std::string Key(uint64_t k) { return absl::StrFormat("key%03d", k); }

class EngineWorkload final : public Workload {
 public:
  EngineWorkload(const Scenario& s, bool on_dfs) : shared_(s.seed % 2 == 1), on_dfs_(on_dfs) {}

  void Setup(WorkloadContext& ctx) override {
    ctx_ = &ctx;
    shard_ = ctx.world.AddNode("shard", [this](Runtime& rt) { return Node(rt); });
    ctx.servers = {shard_};
    ctx.nodes = {shard_};
    ctx.corruptible_servers_max = 0;  // one copy: rot is loss the engine detects but cannot repair
    ctx.nodes_description = absl::StrCat("1 node: the engine and its writer", shared_ ? " (shared cache, paced system IO)" : "");
    if (on_dfs_) {
      cluster_.Setup(ctx, DfsClusterOptions{.default_chunk_bytes = kDfsChunkBytes});
      // The shard's manifest and journal are one copy; its SSTables are R = 3.
      ctx.corruptible_candidates = cluster_.file_servers();
      ctx.corruptible_servers_max = 2;
      ctx.nodes_description = absl::StrCat("1 shard node (engine and writer", shared_ ? ", shared cache, paced system IO" : "",
                                           ") with its SSTables on the DFS: ", cluster_.journal_nodes().size(),
                                           " journal nodes, a master, ", cluster_.file_servers().size(),
                                           " file servers (R=3, corruption on up to 2)");
    }
  }

  std::vector<CheckResult> Check(WorkloadContext& ctx) override {
    // A last crash of the machine with every fault healed: recovery reads every key back.
    final_read_back_ = true;
    ctx.world.Restart(shard_, World::CrashKind::kMachine);
    if (on_dfs_) {
      // Every key is a cold read from the DFS, and the fault points stay on after the heal (a
      // dropped reply costs an attempt's timeout before the next copy): until the read-back
      // completes, within a bound that still catches a hang.
      ctx.world.RunUntilCondition([this] { return read_back_at_end_; }, ctx.world.Now() + kDfsReadBackBound);
    } else {
      ctx.world.RunFor(seconds(3));
    }
    std::vector<CheckResult> checks;
    checks.push_back(durable_);
    for (CheckResult& c : CheckRegisterHistory(ctx.history)) checks.push_back(std::move(c));
    checks.push_back(LinearizabilityCheck(ctx.history, Model::Register(), CheckOptions{.search_steps_max = 20'000'000}));
    CheckResult live = ctx.Liveness({{kWriterProcess, "the writer"}}, ctx.chaos_end + seconds(3));
    if (!read_back_at_end_) {
      live.Violate("the read-back after the last restart did not complete");
    }
    checks.push_back(std::move(live));
    return checks;
  }

  std::vector<Figure> Figures() const override {
    std::vector<Figure> out = {{"acknowledged writes", acked_},
                               {"indeterminate writes", indeterminate_},
                               {"opens", opens_},
                               {"failed opens", opens_failed_},
                               {"reads after reopen checked", reads_checked_},
                               {"major compactions", majors_},
                               {"bytes reused by compactions", bytes_reused_},
                               {"bytes reused by reference", bytes_by_reference_}};
    if (on_dfs_) {
      const DfsCluster::Totals t = cluster_.totals();
      out.push_back({"master terms", t.master_terms});
      out.push_back({"master checkpoints", t.master.checkpoints});
      out.push_back({"stream records the master had not appended", t.master.foreign_applied});
      out.push_back({"chunks turned hot", t.master.chunks_turned_hot});
    }
    return out;
  }

 private:
  void Violation(std::string what) { durable_.Violate(std::move(what), ctx_->world.Now()); }

  Task<void> Node(Runtime& rt);

  // The engine, its SSTables in its directory or on the DFS.
  Task<absl::StatusOr<std::unique_ptr<lsm::Engine>>> OpenEngine(Runtime& rt, lsm::EngineOptions options,
                                                                 std::optional<dfs::DfsClient>& client);

  WorkloadContext* ctx_ = nullptr;
  const bool shared_;
  const bool on_dfs_;
  NodeId shard_ = kNoNode;
  DfsCluster cluster_;  // on_dfs_
  // Per key, the values a read may return ("" = absent); survives the node's crashes.
  std::map<std::string, std::set<std::string>> possible_;
  std::optional<std::pair<std::string, std::string>> in_flight_;  // a write a crash may have cut off
  uint64_t counter_ = 0;
  uint64_t acked_ = 0, indeterminate_ = 0, opens_ = 0, opens_failed_ = 0, reads_checked_ = 0, majors_ = 0;
  uint64_t bytes_reused_ = 0, bytes_by_reference_ = 0;
  bool final_read_back_ = false;   // the incarnation started by Check
  bool read_back_at_end_ = false;  // and its read-back completed
  CheckResult durable_{"durable-after-restart"};
};

Task<void> EngineWorkload::Node(Runtime& rt) {
  const bool final_incarnation = final_read_back_;
  std::optional<lsm::SharedCache> cache;
  std::optional<lsm::TokenBucket> bucket;
  // The engine's tunables from the knobs, which the seed draws within their simulation ranges
  // (kilobyte memtables and segments, 64 KiB-2 MiB macroblocks): every run flushes, compacts
  // and rolls segments. With --default-knobs, the small sizes the sweep always had.
  lsm::EngineOptions options = ctx_->scenario.randomize_knobs ? lsm::EngineOptions::FromKnobs(rt.knobs()) : lsm::EngineOptions::Tiny();
  options.probes = Probes(rt);
  // Every compaction checked against its inputs with logical checksums, in every build type
  // (a Debug build does it by default; the simulator always should).
  options.verify_compactions = true;
  options.canary_skip_manifest_sync = ctx_->Planted("skip-manifest-sync");
  if (shared_) {
    options.cache = &cache.emplace(32 << 10);
    options.system_io = &bucket.emplace(rt.executor(), lsm::TokenBucketOptions{.bytes_per_second = 4 << 20,
                                                                               .burst_bytes = 64 << 10});
  }
  if (in_flight_) {
    possible_[in_flight_->first].insert(in_flight_->second);
    ++indeterminate_;
    in_flight_.reset();
  }
  std::optional<rpc::RpcNode> rpc;  // on the DFS; both outlive the engine
  std::optional<dfs::DfsClient> client;
  if (on_dfs_) {
    rpc.emplace(rt);
    rpc->Start();
    client.emplace(*rpc, cluster_.ClientOptions(rt));
  }
  absl::StatusOr<std::unique_ptr<lsm::Engine>> opened = co_await OpenEngine(rt, options, client);
  ++opens_;
  if (!opened.ok()) {
    // With every fault healed, recovery must succeed: what is on disk is all the engine wrote.
    if (final_incarnation) Violation(absl::StrCat("the engine cannot recover: ", opened.status().ToString()));
    // A disk fault at recovery: exit; the supervisor restarts us.
    ++opens_failed_;
    rt.Log(absl::StrCat("engine open failed: ", opened.status().ToString()));
    co_return;
  }
  lsm::Engine& engine = **opened;
  for (auto& [key, values] : possible_) {
    const uint64_t op = ctx_->history.Invoke(kReadBackProcess, OpKind::kRead, key, std::nullopt, ctx_->world.Now());
    absl::StatusOr<std::optional<std::string>> got = co_await engine.Get(key);
    if (!got.ok()) {
      ctx_->history.Complete(op, OpOutcome::kFail, std::nullopt, ctx_->world.Now(), got.status().ToString());
      rt.Log(absl::StrCat("read-back of ", key, " failed: ", got.status().ToString()));
      co_return;  // a read error: exit and read back again after the restart
    }
    ctx_->history.Complete(op, OpOutcome::kOk, *got, ctx_->world.Now());
    const std::string read = got->value_or("");
    ++reads_checked_;
    if (!values.contains(read)) {
      Violation(absl::StrCat("after a reopen, key ", key, " reads \"", read.substr(0, 20), "\", which is none of the ",
                             values.size(), " values it may hold"));
      co_return;
    }
    values = {read};
  }
  if (final_incarnation) {
    read_back_at_end_ = true;
    co_return;
  }
  const Instant stop_at = ctx_->end - seconds(1);
  while (ctx_->world.Now() < stop_at) {
    OpKind kind = OpKind::kWrite;
    std::string key = Key(rt.random().Uniform(kKeys));
    if (!co_await ctx_->NextOp(rt, kWriterProcess, kind, key)) co_return;
    const std::string value = absl::StrCat("s", ctx_->scenario.seed, "-", ++counter_);
    if (!possible_.contains(key)) possible_[key] = {""};
    in_flight_.emplace(key, value);
    const uint64_t op = ctx_->history.Invoke(kWriterProcess, OpKind::kWrite, key, value, ctx_->world.Now());
    absl::StatusOr<uint64_t> w = co_await engine.Put(key, value);
    in_flight_.reset();
    if (w.ok()) {
      ctx_->history.Complete(op, OpOutcome::kOk, std::nullopt, ctx_->world.Now());
      ctx_->Completed(kWriterProcess);
      possible_[key] = {value};
      ++acked_;
    } else {
      ctx_->history.Complete(op, OpOutcome::kInfo, std::nullopt, ctx_->world.Now(), w.status().ToString());
      possible_[key].insert(value);
      ++indeterminate_;
      rt.Log(absl::StrCat("put failed, reopening: ", w.status().ToString()));
      co_return;  // the engine refuses writes until reopened: exit, and the supervisor restarts us
    }
    if (counter_ % kWritesPerMajorCompaction == 0) {
      // May fail under faults; the reads are what is checked.
      absl::StatusOr<lsm::CompactionReport> major = co_await engine.CompactMajor();
      if (major.ok()) {
        ++majors_;
        bytes_reused_ += major->stats.bytes_reused;
        bytes_by_reference_ += major->stats.bytes_reused_by_reference;
      }
    }
  }
}

Task<absl::StatusOr<std::unique_ptr<lsm::Engine>>> EngineWorkload::OpenEngine(Runtime& rt, lsm::EngineOptions options,
                                                                               std::optional<dfs::DfsClient>& client) {
  if (!on_dfs_) co_return co_await lsm::Engine::Open(rt.disk(), rt.executor(), "shard", options);
  // The master may be between terms: a few tries before this incarnation gives up.
  absl::Status last;
  for (int attempt = 0; attempt < kStoreOpenAttempts; ++attempt) {
    if (attempt > 0) co_await rt.Sleep(std::chrono::milliseconds(500));
    std::string dir = "/shard";
    dfs::DfsFileStoreOptions store_options;  // a named argument: see docs/runtime.md on g++ 12
    absl::StatusOr<std::unique_ptr<dfs::DfsFileStore>> store =
        co_await dfs::DfsFileStore::Open(*client, std::move(dir), std::move(store_options));
    if (!store.ok()) {
      last = store.status();
      continue;
    }
    std::unique_ptr<lsm::FileStore> fs = *std::move(store);
    absl::StatusOr<std::unique_ptr<lsm::Engine>> engine =
        co_await lsm::Engine::Open(rt.disk(), rt.executor(), "shard", std::move(fs), options);
    if (engine.ok() || !(absl::IsUnavailable(engine.status()) || absl::IsDeadlineExceeded(engine.status()))) {
      co_return engine;
    }
    last = engine.status();
  }
  co_return last;
}

}  // namespace

const WorkloadInfo& EngineWorkloadInfo() {
  static const WorkloadInfo info = [] {
    using enum fault::FaultKind;
    WorkloadInfo w;
    w.name = "engine";
    w.title = "shard engine on one node's disk";
    w.description =
        "The shard engine (docs/lsm.md) and its writer on one node, through crashes, power loss and\n"
        "disk faults; every key read back after each reopen. Checks: durable-after-restart,\n"
        "reads-see-writes, no-lost-write, linearizable, liveness.";
    w.canaries = {{"skip-manifest-sync", "the engine never syncs its manifest", {kCrashRestart, kPowerLoss},
                   milliseconds(200)}};
    // src/storage's probes are the journal's to reach (damaged records, batched group commits:
    // this workload has one writer and one copy of its data).
    w.probe_dirs = {"src/lsm", "src/format"};
    w.knob_prefixes = {"log_", "sst_", "lsm_"};
    w.chaos = seconds(15);
    w.heal = seconds(5);
    w.fault_kinds = {kCrashRestart, kPowerLoss, kDiskErrors, kDiskFull};
    w.swarm_kinds = {kCrashRestart, kPowerLoss, kPause, kClock, kDiskErrors, kDiskFull};
    w.fault_pace = milliseconds(300);
    w.make = [](const Scenario& s) { return std::make_unique<EngineWorkload>(s, /*on_dfs=*/false); };
    return w;
  }();
  return info;
}

const WorkloadInfo& EngineDfsWorkloadInfo() {
  static const WorkloadInfo info = [] {
    WorkloadInfo w;
    w.name = "engine-dfs";
    w.title = "shard engine with its SSTables on the DFS";
    w.description =
        "The shard engine (docs/lsm.md) with its SSTables on the DFS (docs/dfs.md): its manifest and\n"
        "journal on the shard node's disk, its SSTables on 4 file servers (R=3) under a master on 3\n"
        "journal nodes; every node under the whole fault model. Every key read back after each\n"
        "reopen. Checks: durable-after-restart, reads-see-writes, no-lost-write, linearizable,\n"
        "liveness.";
    // Compactions reuse macroblocks by referring to their chunks, then delete the input files:
    // only the chunks' reference counts keep the output whole.
    w.canaries = {{"delete-ignores-references",
                   "the master removes a deleted file's chunks that other files still reference",
                   {fault::FaultKind::kCrashRestart}, milliseconds(300)}};
    w.probe_dirs = {"src/lsm"};
    w.knob_prefixes = {"log_", "sst_", "lsm_", "rpc_", "net_", "raft_", "nodelog_", "dfs_"};
    w.chaos = seconds(10);
    w.heal = seconds(10);
    for (int k = 0; k < static_cast<int>(fault::FaultKind::kCount); ++k) {
      w.fault_kinds.push_back(static_cast<fault::FaultKind>(k));
    }
    w.make = [](const Scenario& s) { return std::make_unique<EngineWorkload>(s, /*on_dfs=*/true); };
    return w;
  }();
  return info;
}

}  // namespace cairn::sim

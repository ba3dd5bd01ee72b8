// The shard engine against models, through crashes and disk faults, in the simulator.
//
// EngineModel: RapidCheck drives random operations (put, delete, batch, get, scan, snapshot
// reads, flush, each compaction, crash and reopen) against the engine and a std::map; every
// answer must match. EngineSweep: the engine workload of the simulation harness under crashes,
// power loss and disk faults; no acknowledged write may be lost and nothing may be read that was
// never written. The manifest canary (a manifest that is never synced) must be caught.
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "rapidcheck.h"
#include "rapidcheck/gtest.h"
#include "sim/core/world.h"
#include "sim/harness/simulation.h"
#include "src/lsm/engine.h"
#include "src/lsm/shared_cache.h"
#include "src/lsm/token_bucket.h"

namespace cairn::lsm {
namespace {

using KeyValues = std::map<std::string, std::string>;

EngineOptions TinyEngine() {
  EngineOptions o = EngineOptions::Tiny();
  o.verify_compactions = true;
  return o;
}

std::string Key(int k) { return absl::StrFormat("key%03d", k); }

struct Op {
  enum Kind { kPut, kDelete, kBatch, kGet, kScan, kSnapshot, kSnapshotRead, kFlush, kMinis, kMinor, kMajor, kCrash };
  Kind kind = kPut;
  int key = 0;
  int key2 = 0;
  int size = 0;
};

rc::Gen<Op> GenOp() {
  return rc::gen::build<Op>(
      rc::gen::set(&Op::kind, rc::gen::weightedElement<Op::Kind>({{30, Op::kPut},
                                                                   {6, Op::kDelete},
                                                                   {5, Op::kBatch},
                                                                   {12, Op::kGet},
                                                                   {4, Op::kScan},
                                                                   {2, Op::kSnapshot},
                                                                   {4, Op::kSnapshotRead},
                                                                   {2, Op::kFlush},
                                                                   {1, Op::kMinis},
                                                                   {1, Op::kMinor},
                                                                   {2, Op::kMajor},
                                                                   {2, Op::kCrash}})),
      rc::gen::set(&Op::key, rc::gen::inRange(0, 60)), rc::gen::set(&Op::key2, rc::gen::inRange(0, 60)),
      rc::gen::set(&Op::size, rc::gen::inRange(0, 300)));
}

// One run: the node program works through `ops`, picking up after each crash where it left off.
struct ModelRun {
  std::vector<Op> ops;
  size_t next = 0;
  KeyValues model;
  uint64_t value_counter = 0;
  bool crash_requested = false;
  bool done = false;
  std::string failure;

  void Fail(std::string what) {
    if (failure.empty()) failure = absl::StrCat("op ", next, ": ", what);
  }

  // The node's shared resources, chosen per run: a cache (0: none; small ones evict all the
  // time) and a token bucket on system IO (0: none).
  size_t cache_bytes = 0;
  uint64_t system_io_bytes_per_second = 0;

  Task<void> Program(Runtime& rt) {
    std::optional<SharedCache> cache;
    std::optional<TokenBucket> bucket;
    EngineOptions options = TinyEngine();
    if (cache_bytes > 0) options.cache = &cache.emplace(cache_bytes);
    if (system_io_bytes_per_second > 0) {
      options.system_io = &bucket.emplace(rt.executor(), TokenBucketOptions{.bytes_per_second = system_io_bytes_per_second,
                                                                            .burst_bytes = 16 << 10});
    }
    auto opened = co_await Engine::Open(rt.disk(), rt.executor(), "shard", options);
    if (!opened.ok()) {
      Fail(absl::StrCat("open: ", opened.status().ToString()));
      co_return;
    }
    Engine& e = **opened;
    // After every (re)open the whole content must be the model's.
    auto all = co_await e.Scan("", "", kScanRowsMax);
    if (!all.ok()) {
      Fail(all.status().ToString());
      co_return;
    }
    if (KeyValues(all->begin(), all->end()) != model) {
      Fail("content after open differs from the model");
      co_return;
    }
    std::vector<std::pair<Snapshot, KeyValues>> snapshots;
    while (next < ops.size() && failure.empty()) {
      const Op op = ops[next++];
      switch (op.kind) {
        case Op::kPut: {
          const std::string v = absl::StrCat("v", ++value_counter, std::string(op.size, 'p'));
          if (!(co_await e.Put(Key(op.key), v)).ok()) {
      Fail("put failed");
      co_return;
    }
          model[Key(op.key)] = v;
          break;
        }
        case Op::kDelete:
          if (!(co_await e.Delete(Key(op.key))).ok()) {
      Fail("delete failed");
      co_return;
    }
          model.erase(Key(op.key));
          break;
        case Op::kBatch: {
          WriteBatch b;
          KeyValues next_model = model;
          for (int k = std::min(op.key, op.key2); k <= std::max(op.key, op.key2); k += 3) {
            if (k % 2 == 0) {
              const std::string v = absl::StrCat("b", ++value_counter);
              b.Put(Key(k), v);
              next_model[Key(k)] = v;
            } else {
              b.Delete(Key(k));
              next_model.erase(Key(k));
            }
          }
          if (!(co_await e.Write(std::move(b))).ok()) {
      Fail("batch failed");
      co_return;
    }
          model = std::move(next_model);
          break;
        }
        case Op::kGet: {
          auto got = co_await e.Get(Key(op.key));
          if (!got.ok()) {
      Fail(got.status().ToString());
      co_return;
    }
          auto it = model.find(Key(op.key));
          const std::optional<std::string> want =
              it == model.end() ? std::nullopt : std::optional<std::string>(it->second);
          if (*got != want) {
      Fail(absl::StrCat("get ", Key(op.key), " differs from the model"));
      co_return;
    }
          break;
        }
        case Op::kScan: {
          const std::string from = Key(std::min(op.key, op.key2));
          const std::string to = Key(std::max(op.key, op.key2));
          const size_t limit = static_cast<size_t>(op.size % 20 + 1);
          auto got = co_await e.Scan(from, to, limit);
          if (!got.ok()) {
      Fail(got.status().ToString());
      co_return;
    }
          std::vector<std::pair<std::string, std::string>> want;
          for (auto it = model.lower_bound(from); it != model.end() && it->first < to && want.size() < limit; ++it) {
            want.push_back(*it);
          }
          if (*got != want) {
      Fail(absl::StrCat("scan ", from, "..", to, " differs from the model"));
      co_return;
    }
          break;
        }
        case Op::kSnapshot:
          snapshots.emplace_back(e.GetSnapshot(), model);
          break;
        case Op::kSnapshotRead: {
          if (snapshots.empty()) break;
          auto& [snap, at] = snapshots[static_cast<size_t>(op.key) % snapshots.size()];
          auto got = co_await e.Scan("", "", kScanRowsMax, snap.read_options());
          if (!got.ok()) {
      Fail(got.status().ToString());
      co_return;
    }
          if (KeyValues(got->begin(), got->end()) != at) {
      Fail("snapshot read differs from the model");
      co_return;
    }
          if (op.size % 3 == 0) snapshots.erase(snapshots.begin() + (op.key % static_cast<int>(snapshots.size())));
          break;
        }
        case Op::kFlush:
          if (!(co_await e.Flush()).ok()) {
      Fail("flush failed");
      co_return;
    }
          break;
        case Op::kMinis:
        case Op::kMinor:
        case Op::kMajor: {
          absl::StatusOr<CompactionReport> r;
          if (op.kind == Op::kMinis) {
            r = co_await e.CompactMinis();
          } else if (op.kind == Op::kMinor) {
            r = co_await e.CompactMinor();
          } else {
            r = co_await e.CompactMajor();
          }
          if (!r.ok()) {
      Fail(absl::StrCat("compaction: ", r.status().ToString()));
      co_return;
    }
          break;
        }
        case Op::kCrash:
          crash_requested = true;
          co_await rt.Sleep(std::chrono::hours(1000));  // the driver crashes the node first
          co_return;
      }
      if (!e.background_error().ok()) {
      Fail(e.background_error().ToString());
      co_return;
    }
    }
    done = true;
  }
};

RC_GTEST_PROP(EngineModel, AnswersLikeAMapThroughCrashesAndReopens, ()) {
  ModelRun run;
  run.ops = *rc::gen::resize(200, rc::gen::container<std::vector<Op>>(GenOp()));
  run.cache_bytes = *rc::gen::element<size_t>(0, 0, 6 << 10, 64 << 10, 1 << 20);
  run.system_io_bytes_per_second = *rc::gen::element<uint64_t>(0, 0, 256 << 10);
  const uint64_t seed = *rc::gen::inRange<uint64_t>(1, 1u << 30);
  sim::World world(sim::WorldOptions{.seed = seed});
  const NodeId n = world.AddNode("n", [&](Runtime& rt) { return run.Program(rt); });
  world.Start(n);
  while (!run.done && run.failure.empty()) {
    const bool woke = world.RunUntilCondition([&] { return run.done || run.crash_requested || !run.failure.empty(); },
                                              world.Now() + std::chrono::hours(1));
    if (!woke) {
      run.Fail("stuck: no progress in an hour of simulated time");
      break;
    }
    if (run.crash_requested) {
      run.crash_requested = false;
      world.Restart(n, sim::World::CrashKind::kMachine);
    }
  }
  RC_ASSERT(run.failure.empty());
}

// --- Sweeps with faults: the engine workload (sim/harness/workloads/engine_workload.cc) ---

uint64_t FigureOf(const sim::RunResult& r, std::string_view name) {
  for (const sim::Figure& f : r.figures) {
    if (f.name == name) return f.value;
  }
  ADD_FAILURE() << "no figure " << name;
  return 0;
}

constexpr uint64_t kSweepSeeds = 24;

// Crashes of the process and of the machine, power losses, failing and full disks, at the
// workload's pace: no acknowledged write lost, nothing read that was never written, every key
// read back after every reopen.
TEST(EngineSweep, NoAcknowledgedWriteLostUnderCrashesAndDiskFaults) {
  uint64_t acked = 0, indeterminate = 0, opens = 0, reads = 0;
  for (uint64_t seed = 1; seed <= kSweepSeeds; ++seed) {
    sim::Scenario s = *sim::ScenarioFor("engine");
    s.seed = seed;
    sim::RunResult r = sim::RunScenario(s);
    EXPECT_TRUE(r.passed()) << sim::FormatSummary(s, r, 0, *sim::ScenarioFor("engine"));
    acked += FigureOf(r, "acknowledged writes");
    indeterminate += FigureOf(r, "indeterminate writes");
    opens += FigureOf(r, "opens");
    reads += FigureOf(r, "reads after reopen checked");
  }
  std::printf("engine sweep: %d seeds, %llu acknowledged writes, %llu indeterminate, %llu opens, %llu reads checked\n",
              static_cast<int>(kSweepSeeds), static_cast<unsigned long long>(acked),
              static_cast<unsigned long long>(indeterminate), static_cast<unsigned long long>(opens),
              static_cast<unsigned long long>(reads));
  EXPECT_GT(acked, 1000u);
  EXPECT_GT(opens, 50u);
  EXPECT_GT(reads, 1000u);
}

TEST(EngineSweep, CatchesAManifestThatIsNeverSynced) {
  const sim::WorkloadInfo& engine = *sim::FindWorkload("engine");
  int caught = 0;
  for (uint64_t seed = 1; seed <= kSweepSeeds && caught == 0; ++seed) {
    if (!sim::RunScenario(sim::CanaryHunt(engine, engine.canaries.at(0), seed)).passed()) caught = static_cast<int>(seed);
  }
  EXPECT_GT(caught, 0) << "the sweep missed the manifest canary";
}

}  // namespace
}  // namespace cairn::lsm

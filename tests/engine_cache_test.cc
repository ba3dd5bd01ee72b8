// The engine's shared resources: the SharedCache (rows, blocks and filters under one budget),
// pre-warming by compaction, the TokenBucket on system IO, and file numbers that are never
// reused (cache keys rest on them).
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "sim/core/world.h"
#include "tests/sim_program.h"
#include "src/format/block_cache.h"
#include "src/format/sst_reader.h"
#include "src/format/sst_writer.h"
#include "src/lsm/engine.h"
#include "src/lsm/manifest.h"
#include "src/lsm/shared_cache.h"
#include "src/lsm/token_bucket.h"

namespace cairn::lsm {
namespace {

using format::BlockCacheKey;
using format::DecodedBlock;

std::shared_ptr<const DecodedBlock> Block(size_t bytes, char fill) {
  auto b = std::make_shared<DecodedBlock>();
  b->storage.assign(bytes, fill);
  b->payload = b->storage;
  return b;
}

BlockCacheKey Key(uint64_t file, uint64_t offset) { return BlockCacheKey{file, 0, offset}; }

TEST(SharedCache, KeepsToItsBudgetAndEvictsTheLeastRecentlyUsed) {
  SharedCache cache(100 << 10);
  for (uint64_t i = 0; i < 20; ++i) cache.blocks().Insert(Key(1, i), Block(8 << 10, 'a'));
  EXPECT_LE(cache.charged_bytes(), cache.budget_bytes());
  // The first blocks went; the last are there.
  EXPECT_EQ(cache.blocks().Lookup(Key(1, 0)), nullptr);
  EXPECT_NE(cache.blocks().Lookup(Key(1, 19)), nullptr);
  const size_t held = cache.stats(SharedCache::Kind::kBlock).entries;
  EXPECT_GE(held, 8u);
  EXPECT_LT(held, 13u);
  EXPECT_EQ(cache.stats(SharedCache::Kind::kBlock).evictions, 20 - held);
  // A lookup makes a block recent: the oldest survivor, touched, outlives its younger peers.
  const uint64_t oldest = 20 - held;
  ASSERT_NE(cache.blocks().Lookup(Key(1, oldest)), nullptr);
  cache.blocks().Insert(Key(1, 100), Block(8 << 10, 'b'));
  EXPECT_NE(cache.blocks().Lookup(Key(1, oldest)), nullptr);
  EXPECT_EQ(cache.blocks().Lookup(Key(1, oldest + 1)), nullptr);
  // Contains neither counts nor refreshes.
  const uint64_t hits = cache.stats(SharedCache::Kind::kBlock).hits;
  EXPECT_TRUE(cache.blocks().Contains(Key(1, 100)));
  EXPECT_FALSE(cache.blocks().Contains(Key(1, oldest + 1)));
  EXPECT_EQ(cache.stats(SharedCache::Kind::kBlock).hits, hits);
  // Something larger than the whole budget is not kept.
  cache.blocks().Insert(Key(2, 0), Block(200 << 10, 'c'));
  EXPECT_EQ(cache.blocks().Lookup(Key(2, 0)), nullptr);
  EXPECT_LE(cache.charged_bytes(), cache.budget_bytes());
}

TEST(SharedCache, FiltersOutliveAScanOfBlocksButNotTheirShare) {
  SharedCache cache(1 << 20, /*high_priority_fraction=*/0.25);
  for (uint64_t i = 0; i < 8; ++i) cache.filters().Insert(Key(1, i), Block(16 << 10, 'f'));
  // A scan's worth of blocks, four times the budget, cannot push the filters out.
  for (uint64_t i = 0; i < 256; ++i) cache.blocks().Insert(Key(2, i), Block(16 << 10, 'b'));
  for (uint64_t i = 0; i < 8; ++i) EXPECT_TRUE(cache.filters().Contains(Key(1, i))) << i;
  EXPECT_LE(cache.charged_bytes(), cache.budget_bytes());
  // But filters beyond their quarter of the budget move down and go the way of the blocks.
  for (uint64_t i = 8; i < 64; ++i) cache.filters().Insert(Key(1, i), Block(16 << 10, 'f'));
  EXPECT_LE(cache.high_priority_bytes(), cache.budget_bytes() / 4);
  EXPECT_FALSE(cache.filters().Contains(Key(1, 0)));
  EXPECT_TRUE(cache.filters().Contains(Key(1, 63)));
  // Blocks and filters with the same identity are different entries.
  cache.blocks().Insert(Key(1, 63), Block(100, 'x'));
  EXPECT_EQ(cache.filters().Lookup(Key(1, 63))->payload[0], 'f');
  EXPECT_EQ(cache.blocks().Lookup(Key(1, 63))->payload[0], 'x');
}

TEST(SharedCache, RowsAreKeyedByFileAndKey) {
  SharedCache cache(1 << 20);
  cache.InsertRow(7, "apple", SharedCache::Row{.version = 5, .value = "red"});
  cache.InsertRow(8, "apple", SharedCache::Row{.kind = format::RowKind::kDelete, .version = 9});
  EXPECT_EQ(cache.LookupRow(7, "apple")->value, "red");
  EXPECT_EQ(cache.LookupRow(8, "apple")->kind, format::RowKind::kDelete);
  EXPECT_EQ(cache.LookupRow(7, "apples"), nullptr);
  EXPECT_EQ(cache.LookupRow(9, "apple"), nullptr);
  cache.InsertRow(7, "apple", SharedCache::Row{.version = 6, .value = "green"});  // replaces
  EXPECT_EQ(cache.LookupRow(7, "apple")->value, "green");
  EXPECT_EQ(cache.stats(SharedCache::Kind::kRow).entries, 2u);
  EXPECT_EQ(cache.stats(SharedCache::Kind::kRow).hits, 3u);
  EXPECT_EQ(cache.stats(SharedCache::Kind::kRow).misses, 2u);
  EXPECT_NE(cache.Summary().find("rows 2"), std::string::npos) << cache.Summary();
}

using testing::OnSim;

TEST(TokenBucket, PacesToItsRateAndServesInArrivalOrder) {
  std::vector<int> finished;
  const Duration took = OnSim(3, [&](Runtime& rt) -> Task<void> {
    TokenBucket bucket(rt.executor(), TokenBucketOptions{.bytes_per_second = 10 << 20, .burst_bytes = 1 << 20});
    TaskGroup group(rt.executor());
    for (int caller = 0; caller < 3; ++caller) {
      group.Spawn([](TokenBucket& b, int id, std::vector<int>& out) -> Task<void> {
        for (int i = 0; i < 10; ++i) co_await b.Acquire(1 << 20);
        out.push_back(id);
      }(bucket, caller, finished));
    }
    while (finished.size() < 3) co_await rt.Sleep(std::chrono::milliseconds(10));
    EXPECT_EQ(bucket.stats().acquired_bytes, 30u << 20);
    EXPECT_GT(bucket.stats().waits, 20u);
  });
  // 30 MiB at 10 MiB/s with 1 MiB of burst: 2.9 s at least (and the poll adds at most 10 ms).
  EXPECT_GE(took, std::chrono::milliseconds(2900));
  EXPECT_LE(took, std::chrono::milliseconds(2920));
  EXPECT_EQ(finished.size(), 3u);
}

EngineOptions CachedEngine(SharedCache* cache, uint32_t shard) {
  EngineOptions o;
  o.shard_id = shard;
  o.cache = cache;
  o.memtable_bytes = 32 << 10;
  o.minis_max = 3;
  o.minor_trigger_bytes = 512 << 10;
  o.sst.macroblock_bytes = 64 << 10;
  o.sst.microblock_bytes = 4 << 10;
  o.verify_compactions = true;
  return o;
}

std::string K(int i) { return absl::StrFormat("key%05d", i); }

TEST(Engine, ShardsShareOneCacheWithoutMixingTheirFiles) {
  OnSim(5, [](Runtime& rt) -> Task<void> {
    SharedCache cache(1 << 20);
    // Two shards with the same file numbers and the same keys, different values.
    auto a = co_await Engine::Open(rt.disk(), rt.executor(), "a", CachedEngine(&cache, 1));
    auto b = co_await Engine::Open(rt.disk(), rt.executor(), "b", CachedEngine(&cache, 2));
    EXPECT_TRUE(a.ok() && b.ok());
    if (!a.ok() || !b.ok()) co_return;
    for (int i = 0; i < 2000; ++i) {
      EXPECT_TRUE((co_await (*a)->Put(K(i), absl::StrCat("a", i))).ok());
      EXPECT_TRUE((co_await (*b)->Put(K(i), absl::StrCat("b", i))).ok());
    }
    EXPECT_TRUE((co_await (*a)->Flush()).ok());
    EXPECT_TRUE((co_await (*b)->Flush()).ok());
    EXPECT_EQ((*a)->files().front().number, (*b)->files().front().number);
    for (int round = 0; round < 2; ++round) {
      for (int i = 0; i < 2000; i += 7) {
        EXPECT_EQ(*co_await (*a)->Get(K(i)), absl::StrCat("a", i));
        EXPECT_EQ(*co_await (*b)->Get(K(i)), absl::StrCat("b", i));
      }
    }
    EXPECT_GT((*a)->stats().row_cache_hits, 200u);  // the second round
    EXPECT_GT((*b)->stats().row_cache_hits, 200u);
    EXPECT_GT(cache.stats(SharedCache::Kind::kBlock).entries, 0u);
    EXPECT_GT(cache.stats(SharedCache::Kind::kFilter).entries, 0u);
    EXPECT_LE(cache.charged_bytes(), cache.budget_bytes());
    // A snapshot read below a cached row's version goes to the file.
    const uint64_t before = (*a)->visible_version();
    EXPECT_TRUE((co_await (*a)->Put(K(7), "newer")).ok());
    EXPECT_TRUE((co_await (*a)->Flush()).ok());
    EXPECT_EQ(*co_await (*a)->Get(K(7)), "newer");
    EXPECT_EQ(*co_await (*a)->Get(K(7), ReadOptions{.version = before}), "a7");
    auto major = co_await (*a)->CompactMajor();
    EXPECT_TRUE(major.ok()) << major.status();
    EXPECT_EQ(*co_await (*a)->Get(K(7)), "newer");
    EXPECT_EQ(*co_await (*a)->Get(K(14)), "a14");
  });
}

TEST(Engine, FiltersEvictedFromATinyCacheAreReadAgain) {
  OnSim(6, [](Runtime& rt) -> Task<void> {
    SharedCache cache(8 << 10);  // two blocks, or a few filters
    auto e = co_await Engine::Open(rt.disk(), rt.executor(), "s", CachedEngine(&cache, 1));
    EXPECT_TRUE(e.ok());
    if (!e.ok()) co_return;
    for (int i = 0; i < 6000; ++i) EXPECT_TRUE((co_await (*e)->Put(K(i), std::string(40, 'v'))).ok());
    EXPECT_TRUE((co_await (*e)->Flush()).ok());
    auto major = co_await (*e)->CompactMajor();
    EXPECT_TRUE(major.ok());
    for (int i = 0; i < 6000; i += 13) {
      EXPECT_TRUE((co_await (*e)->Get(K(i)))->has_value()) << i;
      EXPECT_FALSE((co_await (*e)->Get(K(i) + "x"))->has_value()) << i;
    }
    EXPECT_LE(cache.charged_bytes(), cache.budget_bytes());
    uint64_t filter_reads = 0;
    for (const format::SstReader* r : (*e)->readers()) filter_reads += r->stats().filter_reads;
    EXPECT_GT(filter_reads, 0u);
    EXPECT_GT(cache.stats(SharedCache::Kind::kFilter).evictions, 0u);
  });
}

TEST(Engine, MajorCompactionPreWarmsTheBlocksOfHotRows) {
  OnSim(7, [](Runtime& rt) -> Task<void> {
    SharedCache cache(8 << 20);
    auto opened = co_await Engine::Open(rt.disk(), rt.executor(), "s", CachedEngine(&cache, 1));
    EXPECT_TRUE(opened.ok());
    if (!opened.ok()) co_return;
    Engine& e = **opened;
    for (int i = 0; i < 8000; ++i) EXPECT_TRUE((co_await e.Put(K(i), std::string(60, 'a' + i % 26))).ok());
    EXPECT_TRUE((co_await e.Flush()).ok());
    EXPECT_TRUE((co_await e.CompactMajor()).ok());
    // Read a hot range, then update every key of it (so its macroblocks are rewritten).
    for (int i = 3000; i < 3400; ++i) EXPECT_TRUE((co_await e.Get(K(i)))->has_value());
    for (int i = 3000; i < 3400; i += 10) EXPECT_TRUE((co_await e.Put(K(i), "updated")).ok());
    EXPECT_TRUE((co_await e.Flush()).ok());
    auto major = co_await e.CompactMajor();
    EXPECT_TRUE(major.ok()) << major.status();
    if (!major.ok()) co_return;
    EXPECT_GT(major->stats.blocks_warmed, 0u);
    EXPECT_GT(major->stats.macroblocks_reused, 0u);
    // The hot rows are in the new major's blocks, already in the cache: no block is read.
    format::SstReader* output = e.readers().back();
    const uint64_t reads = output->stats().block_reads;
    for (int i = 3000; i < 3400; ++i) {
      auto got = co_await e.Get(K(i));
      EXPECT_EQ(**got, i % 10 == 0 ? std::string("updated") : std::string(60, 'a' + i % 26));
    }
    EXPECT_EQ(output->stats().block_reads, reads);
    EXPECT_GT(output->stats().block_cache_hits, 0u);
    // Cold rows were not warmed: reading them costs block reads.
    for (int i = 7000; i < 7400; i += 50) EXPECT_TRUE((co_await e.Get(K(i)))->has_value());
    EXPECT_GT(output->stats().block_reads, reads);
  });
}

TEST(Engine, SystemIoKeepsToTheTokenBucket) {
  uint64_t paced_bytes = 0;
  const Duration took = OnSim(8, [&](Runtime& rt) -> Task<void> {
    TokenBucket bucket(rt.executor(), TokenBucketOptions{.bytes_per_second = 1 << 20, .burst_bytes = 64 << 10});
    EngineOptions o = CachedEngine(nullptr, 1);
    o.system_io = &bucket;
    o.verify_compactions = false;  // its reads are not paced; keep the arithmetic exact
    auto opened = co_await Engine::Open(rt.disk(), rt.executor(), "s", o);
    EXPECT_TRUE(opened.ok());
    if (!opened.ok()) co_return;
    Engine& e = **opened;
    for (int i = 0; i < 20000; ++i) EXPECT_TRUE((co_await e.Put(K(i), std::string(100, 'v'))).ok());
    EXPECT_TRUE((co_await e.Flush()).ok());
    auto major = co_await e.CompactMajor();
    EXPECT_TRUE(major.ok());
    paced_bytes = bucket.stats().acquired_bytes;
    uint64_t file_bytes = 0;
    for (const format::SstReader* r : e.readers()) file_bytes += r->file_size();
    // Flushes and the major wrote at least the major's bytes, and the major read its inputs.
    EXPECT_GT(paced_bytes, 2 * file_bytes);
    EXPECT_GT(bucket.stats().waits, 0u);
  });
  // Everything paced took its time at 1 MiB/s (less the burst).
  EXPECT_GE(ToSeconds(took), static_cast<double>(paced_bytes - (64 << 10)) / (1 << 20));
}

TEST(Engine, FileNumbersAreNeverReusedAcrossReopens) {
  OnSim(9, [](Runtime& rt) -> Task<void> {
    uint64_t highest = 0;
    for (int incarnation = 0; incarnation < 3; ++incarnation) {
      auto e = co_await Engine::Open(rt.disk(), rt.executor(), "s", CachedEngine(nullptr, 1));
      EXPECT_TRUE(e.ok());
      if (!e.ok()) co_return;
      for (int i = 0; i < 500; ++i) EXPECT_TRUE((co_await (*e)->Put(K(i), std::string(100, 'v'))).ok());
      EXPECT_TRUE((co_await (*e)->Flush()).ok());
      const uint64_t flushed = (*e)->files().front().number;
      auto major = co_await (*e)->CompactMajor();
      EXPECT_TRUE(major.ok());
      if (!major.ok()) co_return;
      // Each number handed out is above every earlier one, and the manifest already reserves it,
      // so a crash right now could not lead to its reuse.
      EXPECT_GT(flushed, highest);
      EXPECT_GT(major->output, flushed);
      highest = major->output;
      absl::StatusOr<ManifestState> manifest = co_await ReadManifest(rt.disk(), "s");
      EXPECT_TRUE(manifest.ok());
      if (manifest.ok()) {
        EXPECT_GT(manifest->next_file_number, highest);
      }
    }
  });
}

}  // namespace
}  // namespace cairn::lsm

// SharedCache: the row cache, the block cache and the bloom-filter cache of every engine of a
// node, under one memory budget.
//
// One node runs many shards (engines), all on its one executor thread, so one cache with no
// locks serves them all: a hot shard can use memory a cold one does not need. Entries are
// charged what they hold (payload, key and bookkeeping) and evicted least recently used first.
//
// Two pools share the budget. Filters go to the high-priority pool, rows and data blocks to
// the low one; eviction takes from the low pool first, so a scan of cold blocks cannot push
// out the filters every point get needs. The high pool may hold at most
// `high_priority_fraction` of the budget: past it, its least recently used entries move down
// to the low pool, to be evicted in turn (RocksDB's high-priority pool works the same way).
//
// Keys are identities, never positions:
//   blocks and filters  the block's identity (origin file id, macroblock, offset), so a
//                       macroblock reused by a compaction keeps its cached blocks;
//   rows                (file id, user key): the newest row of the key in that immutable file.
// File ids are unique in the node: an engine's file id carries its shard id in its high bits
// (lsm::FileId).
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "src/format/block_cache.h"
#include "src/format/row.h"

namespace cairn::lsm {

class SharedCache {
 public:
  enum class Kind : uint8_t { kRow = 0, kBlock = 1, kFilter = 2 };
  static constexpr int kKinds = 3;

  struct KindStats {
    uint64_t hits = 0;
    uint64_t misses = 0;
    uint64_t inserts = 0;
    uint64_t evictions = 0;
    size_t entries = 0;
    size_t charged_bytes = 0;
  };

  // The newest row of a key in one SSTable.
  struct Row {
    format::RowKind kind = format::RowKind::kPut;
    uint64_t version = 0;
    std::string value;
  };

  explicit SharedCache(size_t budget_bytes, double high_priority_fraction = 0.5);
  ~SharedCache();
  SharedCache(const SharedCache&) = delete;
  SharedCache& operator=(const SharedCache&) = delete;

  // The block and filter caches, for format::ReaderOptions.
  format::BlockCache& blocks() { return blocks_; }
  format::BlockCache& filters() { return filters_; }

  std::shared_ptr<const Row> LookupRow(uint64_t file_id, std::string_view key);
  void InsertRow(uint64_t file_id, std::string_view key, Row row);

  size_t budget_bytes() const { return budget_bytes_; }
  size_t charged_bytes() const { return low_bytes_ + high_bytes_; }
  size_t high_priority_bytes() const { return high_bytes_; }
  const KindStats& stats(Kind kind) const { return stats_[static_cast<int>(kind)]; }
  // "rows 1234 hit 56% 1.2 MiB, blocks ..., filters ...; 12.3 of 64.0 MiB".
  std::string Summary() const;

 private:
  // An entry is in exactly one pool's list and in one map (blocks_map_ for blocks and
  // filters, rows_map_ for rows).
  struct Entry {
    Kind kind;
    bool high = false;
    format::BlockCacheKey block_key;  // blocks and filters
    std::string row_key;              // rows: RowKey(file id, key)
    std::shared_ptr<const void> value;
    size_t charge = 0;
  };
  using List = std::list<Entry>;
  struct BlockMapKey {
    Kind kind;
    format::BlockCacheKey key;
    friend bool operator==(const BlockMapKey&, const BlockMapKey&) = default;
    template <typename H>
    friend H AbslHashValue(H h, const BlockMapKey& k) {
      return H::combine(std::move(h), static_cast<uint8_t>(k.kind), k.key);
    }
  };

  class BlockView final : public format::BlockCache {
   public:
    BlockView(SharedCache& cache, Kind kind) : cache_(cache), kind_(kind) {}
    std::shared_ptr<const format::DecodedBlock> Lookup(const format::BlockCacheKey& key) override;
    void Insert(const format::BlockCacheKey& key, std::shared_ptr<const format::DecodedBlock> block) override;
    bool Contains(const format::BlockCacheKey& key) const override;

   private:
    SharedCache& cache_;
    const Kind kind_;
  };

  // Fills row_key_scratch_ with the map key of a row.
  const std::string& RowKey(uint64_t file_id, std::string_view key);
  // Moves a hit to the front of its pool.
  void Touch(List::iterator it);
  void Add(Entry entry);
  void Remove(List::iterator it);
  // Demotes the high pool down to its share, then evicts down to the budget.
  void Trim();

  const size_t budget_bytes_;
  const size_t high_budget_bytes_;
  List high_, low_;  // most recently used first
  size_t high_bytes_ = 0, low_bytes_ = 0;
  absl::flat_hash_map<BlockMapKey, List::iterator> blocks_map_;
  absl::flat_hash_map<std::string, List::iterator> rows_map_;
  std::string row_key_scratch_;
  KindStats stats_[kKinds];
  BlockView blocks_{*this, Kind::kBlock};
  BlockView filters_{*this, Kind::kFilter};
};

}  // namespace cairn::lsm

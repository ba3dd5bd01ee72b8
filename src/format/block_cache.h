// Cache hooks of the SSTable reader: decoded microblocks and bloom filters, keyed by block
// identity.
//
// The key is the block's identity — the macroblock's (origin file id, origin index) and the
// offset inside it — not the file that holds it. A macroblock reused by a compaction keeps its
// identity, so its cached blocks stay valid and hot in the new SSTable.
//
// The engine plugs its node-wide SharedCache (src/lsm/shared_cache.h: one memory budget for
// the rows, blocks and filters of every shard) in here; LruBlockCache is a plain bounded LRU
// for tools, tests and benchmarks.
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "src/format/block.h"

namespace cairn::format {

// A block ready to read: its raw payload, in storage it owns (the bytes as read when the
// block is stored raw — no copy — or the decompressed bytes).
struct DecodedBlock {
  std::string storage;
  std::string_view payload;  // into storage
  size_t charge() const { return storage.capacity() + sizeof(DecodedBlock); }
};

struct BlockCacheKey {
  uint64_t file_id = 0;
  uint64_t macroblock = 0;
  uint64_t offset = 0;
  static BlockCacheKey Of(const BlockIdentity& id) { return {id.file_id, id.macroblock, id.offset}; }
  friend bool operator==(const BlockCacheKey&, const BlockCacheKey&) = default;
  template <typename H>
  friend H AbslHashValue(H h, const BlockCacheKey& k) {
    return H::combine(std::move(h), k.file_id, k.macroblock, k.offset);
  }
};

class BlockCache {
 public:
  virtual ~BlockCache() = default;
  virtual std::shared_ptr<const DecodedBlock> Lookup(const BlockCacheKey& key) = 0;
  virtual void Insert(const BlockCacheKey& key, std::shared_ptr<const DecodedBlock> block) = 0;
  // Whether the block is cached, without counting a hit or a miss or refreshing it: how
  // compaction asks which of its input blocks are hot.
  virtual bool Contains(const BlockCacheKey& key) const = 0;
};

class LruBlockCache final : public BlockCache {
 public:
  explicit LruBlockCache(size_t capacity_bytes) : capacity_bytes_(capacity_bytes) {}
  std::shared_ptr<const DecodedBlock> Lookup(const BlockCacheKey& key) override;
  void Insert(const BlockCacheKey& key, std::shared_ptr<const DecodedBlock> block) override;
  bool Contains(const BlockCacheKey& key) const override { return map_.contains(key); }

  size_t charged_bytes() const { return charged_bytes_; }
  uint64_t hits() const { return hits_; }
  uint64_t misses() const { return misses_; }

 private:
  using Entry = std::pair<BlockCacheKey, std::shared_ptr<const DecodedBlock>>;
  const size_t capacity_bytes_;
  size_t charged_bytes_ = 0;
  uint64_t hits_ = 0, misses_ = 0;
  std::list<Entry> lru_;  // most recent first
  absl::flat_hash_map<BlockCacheKey, std::list<Entry>::iterator> map_;
};

}  // namespace cairn::format

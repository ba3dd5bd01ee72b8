#include "src/format/block_cache.h"

namespace cairn::format {

std::shared_ptr<const DecodedBlock> LruBlockCache::Lookup(const BlockCacheKey& key) {
  auto it = map_.find(key);
  if (it == map_.end()) {
    ++misses_;
    return nullptr;
  }
  ++hits_;
  lru_.splice(lru_.begin(), lru_, it->second);
  return it->second->second;
}

void LruBlockCache::Insert(const BlockCacheKey& key, std::shared_ptr<const DecodedBlock> block) {
  const size_t charge = block->charge();
  if (charge > capacity_bytes_) return;
  auto it = map_.find(key);
  if (it != map_.end()) {
    charged_bytes_ -= it->second->second->charge();
    lru_.erase(it->second);
    map_.erase(it);
  }
  lru_.emplace_front(key, std::move(block));
  map_[key] = lru_.begin();
  charged_bytes_ += charge;
  while (charged_bytes_ > capacity_bytes_) {
    charged_bytes_ -= lru_.back().second->charge();
    map_.erase(lru_.back().first);
    lru_.pop_back();
  }
}

}  // namespace cairn::format

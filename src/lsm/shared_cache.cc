#include "src/lsm/shared_cache.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "src/base/check.h"

namespace cairn::lsm {
namespace {

// What an entry costs beyond its payload: the list node, the map slot and the control block of
// its shared_ptr, roughly.
constexpr size_t kEntryOverheadBytes = 128;

}  // namespace

SharedCache::SharedCache(size_t budget_bytes, double high_priority_fraction)
    : budget_bytes_(budget_bytes),
      high_budget_bytes_(static_cast<size_t>(static_cast<double>(budget_bytes) * high_priority_fraction)) {
  CAIRN_CHECK(high_priority_fraction >= 0 && high_priority_fraction <= 1);
}

SharedCache::~SharedCache() = default;

const std::string& SharedCache::RowKey(uint64_t file_id, std::string_view key) {
  row_key_scratch_.resize(sizeof file_id);
  std::memcpy(row_key_scratch_.data(), &file_id, sizeof file_id);
  row_key_scratch_.append(key);
  return row_key_scratch_;
}

void SharedCache::Touch(List::iterator it) {
  List& pool = it->high ? high_ : low_;
  pool.splice(pool.begin(), pool, it);
}

void SharedCache::Add(Entry entry) {
  KindStats& st = stats_[static_cast<int>(entry.kind)];
  ++st.inserts;
  if (entry.charge > budget_bytes_) return;  // would evict everything and still not fit
  ++st.entries;
  st.charged_bytes += entry.charge;
  List& pool = entry.high ? high_ : low_;
  (entry.high ? high_bytes_ : low_bytes_) += entry.charge;
  pool.push_front(std::move(entry));
  const auto it = pool.begin();
  if (it->kind == Kind::kRow) {
    rows_map_.emplace(it->row_key, it);
  } else {
    blocks_map_.emplace(BlockMapKey{it->kind, it->block_key}, it);
  }
  Trim();
}

void SharedCache::Remove(List::iterator it) {
  KindStats& st = stats_[static_cast<int>(it->kind)];
  --st.entries;
  st.charged_bytes -= it->charge;
  if (it->kind == Kind::kRow) {
    rows_map_.erase(it->row_key);
  } else {
    blocks_map_.erase(BlockMapKey{it->kind, it->block_key});
  }
  if (it->high) {
    high_bytes_ -= it->charge;
    high_.erase(it);
  } else {
    low_bytes_ -= it->charge;
    low_.erase(it);
  }
}

void SharedCache::Trim() {
  while (high_bytes_ > high_budget_bytes_) {
    const auto it = std::prev(high_.end());
    it->high = false;
    high_bytes_ -= it->charge;
    low_bytes_ += it->charge;
    low_.splice(low_.begin(), high_, it);
  }
  while (charged_bytes() > budget_bytes_) {
    List& pool = !low_.empty() ? low_ : high_;
    CAIRN_CHECK(!pool.empty());
    const auto victim = std::prev(pool.end());
    ++stats_[static_cast<int>(victim->kind)].evictions;
    Remove(victim);
  }
}

std::shared_ptr<const SharedCache::Row> SharedCache::LookupRow(uint64_t file_id, std::string_view key) {
  KindStats& st = stats_[static_cast<int>(Kind::kRow)];
  const auto found = rows_map_.find(RowKey(file_id, key));
  if (found == rows_map_.end()) {
    ++st.misses;
    return nullptr;
  }
  ++st.hits;
  Touch(found->second);
  return std::static_pointer_cast<const Row>(found->second->value);
}

void SharedCache::InsertRow(uint64_t file_id, std::string_view key, Row row) {
  const std::string& k = RowKey(file_id, key);
  if (const auto found = rows_map_.find(k); found != rows_map_.end()) Remove(found->second);
  Entry e{.kind = Kind::kRow};
  e.row_key = k;
  e.charge = kEntryOverheadBytes + sizeof(Row) + e.row_key.capacity() + row.value.capacity();
  e.value = std::make_shared<const Row>(std::move(row));
  Add(std::move(e));
}

std::shared_ptr<const format::DecodedBlock> SharedCache::BlockView::Lookup(const format::BlockCacheKey& key) {
  KindStats& st = cache_.stats_[static_cast<int>(kind_)];
  const auto found = cache_.blocks_map_.find(BlockMapKey{kind_, key});
  if (found == cache_.blocks_map_.end()) {
    ++st.misses;
    return nullptr;
  }
  ++st.hits;
  cache_.Touch(found->second);
  return std::static_pointer_cast<const format::DecodedBlock>(found->second->value);
}

void SharedCache::BlockView::Insert(const format::BlockCacheKey& key,
                                    std::shared_ptr<const format::DecodedBlock> block) {
  CAIRN_CHECK(block != nullptr);
  if (const auto found = cache_.blocks_map_.find(BlockMapKey{kind_, key}); found != cache_.blocks_map_.end()) {
    cache_.Remove(found->second);
  }
  Entry e{.kind = kind_, .high = kind_ == Kind::kFilter, .block_key = key};
  e.charge = kEntryOverheadBytes + block->charge();
  e.value = std::move(block);
  cache_.Add(std::move(e));
}

bool SharedCache::BlockView::Contains(const format::BlockCacheKey& key) const {
  return cache_.blocks_map_.contains(BlockMapKey{kind_, key});
}

std::string SharedCache::Summary() const {
  static constexpr const char* kNames[kKinds] = {"rows", "blocks", "filters"};
  std::string out;
  for (int k = 0; k < kKinds; ++k) {
    const KindStats& s = stats_[k];
    const uint64_t lookups = s.hits + s.misses;
    absl::StrAppendFormat(&out, "%s%s %d (%.1f MiB, hit %.1f%%)", k == 0 ? "" : ", ", kNames[k], s.entries,
                          static_cast<double>(s.charged_bytes) / (1 << 20),
                          lookups == 0 ? 0.0 : 100.0 * static_cast<double>(s.hits) / static_cast<double>(lookups));
  }
  absl::StrAppendFormat(&out, "; %.1f of %.1f MiB", static_cast<double>(charged_bytes()) / (1 << 20),
                        static_cast<double>(budget_bytes_) / (1 << 20));
  return out;
}

}  // namespace cairn::lsm

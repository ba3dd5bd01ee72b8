#include "src/lsm/memtable.h"

#include <cstring>

#include "src/base/check.h"
#include "src/base/strings.h"

namespace cairn::lsm {

void Memtable::Add(std::string_view key, uint64_t version, format::RowKind kind, std::string_view value) {
  CAIRN_CHECK(!frozen_);
  CAIRN_CHECK_GE(version, max_version_);
  CAIRN_CHECK_NE(version, format::kMaxVersion);
  // Insert with a hint where the position is known, skipping the tree descent: a key already
  // here gets its new row just before its newest (versions descend), and a key past every
  // other (a sequential load) goes at the end.
  Map::iterator hint = rows_.end();
  if (auto h = newest_.find(AbslView(key)); h != newest_.end()) {
    hint = rows_.erase(h->second, h->second);  // the const iterator as a mutable one
    if (hint->first.version == version) hint = rows_.end();  // a batch writing a key twice
  }
  const size_t before = rows_.size();
  // An existing key's bytes are shared by all its rows.
  const std::string_view stored_key = hint != rows_.end() ? hint->first.key : Store(key);
  RowKey row_key{stored_key, version, format::KeyPrefix(key)};
  const Entry entry{kind, Store(value)};
  auto it = hint != rows_.end() || rows_.empty() || Order()(rows_.rbegin()->first, row_key)
                ? rows_.emplace_hint(hint, row_key, entry)
                : rows_.try_emplace(row_key, entry).first;
  const bool inserted = rows_.size() > before;
  if (!inserted) {
    memory_bytes_ -= it->second.value.size();
    it->second = entry;
    memory_bytes_ += value.size();
    return;
  }
  memory_bytes_ += 2 * key.size() + value.size() + kRowOverheadBytes;
  // The newest row of the key: versions only go up, so this row is it.
  newest_.insert_or_assign(AbslView(it->first.key), it);
  min_version_ = std::min(min_version_, version);
  max_version_ = version;
}

std::string_view Memtable::Store(std::string_view bytes) {
  if (bytes.empty()) return {};
  char* p = static_cast<char*>(arena_.allocate(bytes.size(), 1));
  std::memcpy(p, bytes.data(), bytes.size());
  return std::string_view(p, bytes.size());
}

std::optional<format::RowView> Memtable::Get(std::string_view key, uint64_t snapshot) const {
  auto h = newest_.find(AbslView(key));
  if (h == newest_.end()) return std::nullopt;
  Iterator it = h->second;
  if (it->first.version > snapshot) {
    it = Seek(key, snapshot);
    if (it == rows_.end() || it->first.key != key) return std::nullopt;
  }
  return View(it);
}

}  // namespace cairn::lsm

// Memtable: the newest writes of a shard, in memory, ordered and multi-versioned.
//
// Rows are ordered as in an SSTable (key ascending, version descending), so a frozen memtable
// dumps straight into a mini SSTable. A hash index maps each key to its newest row, so a point
// get at the latest version is one hash probe and a miss never walks the tree. Rows are never
// removed and iterators stay valid while rows are added (a std::map's nodes do not move), so a
// scan may hold an iterator across awaits; it skips rows newer than its snapshot.
#pragma once

#include <cstdint>
#include <map>
#include <memory_resource>
#include <optional>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "src/format/row.h"

namespace cairn::lsm {

class Memtable {
 public:
  // Keys and values live in the memtable's arena (see arena_).
  struct RowKey {
    std::string_view key;
    uint64_t version;
    uint64_t prefix;  // format::KeyPrefix(key): most comparisons end on it
  };
  struct Entry {
    format::RowKind kind;
    std::string_view value;
  };
  // A position to search for, without a copy of the key.
  struct Probe {
    Probe(std::string_view k, uint64_t v) : key(k), version(v), prefix(format::KeyPrefix(k)) {}
    std::string_view key;
    uint64_t version;
    uint64_t prefix;
  };
  struct Order {
    using is_transparent = void;
    bool operator()(const RowKey& a, const RowKey& b) const {
      return Less(a.prefix, a.key, a.version, b.prefix, b.key, b.version);
    }
    bool operator()(const RowKey& a, const Probe& b) const {
      return Less(a.prefix, a.key, a.version, b.prefix, b.key, b.version);
    }
    bool operator()(const Probe& a, const RowKey& b) const {
      return Less(a.prefix, a.key, a.version, b.prefix, b.key, b.version);
    }
    static bool Less(uint64_t ap, std::string_view ak, uint64_t av, uint64_t bp, std::string_view bk, uint64_t bv) {
      if (ap != bp) return ap < bp;
      return format::CompareRowKeys(ak, av, bk, bv) < 0;
    }
  };
  using Map = std::pmr::map<RowKey, Entry, Order>;
  using Iterator = Map::const_iterator;

  explicit Memtable(uint64_t id) : id_(id) {}
  Memtable(const Memtable&) = delete;
  Memtable& operator=(const Memtable&) = delete;

  // Adds a row; a row at the same (key, version) is replaced (a batch writing a key twice).
  // Versions must not go down: a memtable holds one contiguous run of commit versions.
  void Add(std::string_view key, uint64_t version, format::RowKind kind, std::string_view value);

  // The newest row of `key` at or below `snapshot`.
  std::optional<format::RowView> Get(std::string_view key, uint64_t snapshot) const;

  // The first row at or after (key, version).
  Iterator Seek(std::string_view key, uint64_t version = format::kMaxVersion) const {
    return rows_.lower_bound(Probe(key, version));
  }
  Iterator begin() const { return rows_.begin(); }
  Iterator end() const { return rows_.end(); }
  static format::RowView View(Iterator it) {
    return format::RowView{it->first.key, it->first.version, it->second.kind, it->second.value};
  }

  uint64_t id() const { return id_; }
  // Marks the memtable frozen: it holds exactly the commit versions up to `upto` not already
  // in SSTables, and takes no more rows.
  void Freeze(uint64_t upto) {
    frozen_ = true;
    upto_ = upto;
  }
  bool frozen() const { return frozen_; }
  uint64_t upto() const { return upto_; }
  size_t rows() const { return rows_.size(); }
  bool empty() const { return rows_.empty(); }
  // Approximate bytes held, for the memory bound: keys (twice: tree and hash index), values
  // and per-row overhead.
  size_t memory_bytes() const { return memory_bytes_; }
  uint64_t min_version() const { return min_version_; }
  uint64_t max_version() const { return max_version_; }

 private:
  static constexpr size_t kRowOverheadBytes = 96;
  // Copies bytes into the arena.
  std::string_view Store(std::string_view bytes);

  const uint64_t id_;
  // Every row's key, value and tree node, allocated by bumping a pointer and freed all at once
  // with the memtable: a memtable only grows, and a million small frees at its end cost more
  // than the inserts did. Declared first, so it outlives everything that points into it.
  std::pmr::monotonic_buffer_resource arena_{size_t{64} << 10};
  Map rows_{&arena_};
  absl::flat_hash_map<absl::string_view, Iterator> newest_;  // by key, into the arena
  size_t memory_bytes_ = 0;
  bool frozen_ = false;
  uint64_t upto_ = 0;
  uint64_t min_version_ = format::kMaxVersion;
  uint64_t max_version_ = 0;
};

}  // namespace cairn::lsm

// Rows: the unit of content of an SSTable. A row is a key, the commit version that wrote it,
// a kind (a put carries a value; a delete is a tombstone) and a value.
//
// Rows are ordered by key ascending (bytewise), then by version descending, so the newest
// version of a key comes first: a point read at a snapshot stops at the first row whose
// version is at or below it. No two rows of one SSTable have the same (key, version).
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace cairn::format {

// Three bits on disk: kinds 2..7 are reserved for later (merge operands, range deletes).
enum class RowKind : uint8_t { kPut = 0, kDelete = 1 };
constexpr uint8_t kRowKindCount = 2;
inline bool IsValidRowKind(uint64_t k) { return k < kRowKindCount; }
inline const char* RowKindName(RowKind k) { return k == RowKind::kPut ? "put" : "delete"; }

constexpr uint64_t kMaxVersion = UINT64_MAX;

// A row whose bytes live elsewhere (a decoded block, the caller's buffers).
struct RowView {
  std::string_view key;
  uint64_t version = 0;
  RowKind kind = RowKind::kPut;
  std::string_view value;
};

struct Row {
  std::string key;
  uint64_t version = 0;
  RowKind kind = RowKind::kPut;
  std::string value;

  RowView view() const { return RowView{key, version, kind, value}; }
  static Row From(const RowView& v) {
    return Row{std::string(v.key), v.version, v.kind, std::string(v.value)};
  }
  friend bool operator==(const Row&, const Row&) = default;
};

// <0, 0, >0 as (ak, av) sorts before, with, after (bk, bv).
// The first 8 bytes of a key, big-endian, zero-padded. Keys whose prefixes differ order as
// their prefixes do; only a tie needs the keys themselves. Searches compare these integers
// first (the SSTable index, the memtable).
inline uint64_t KeyPrefix(std::string_view key) {
  char bytes[8] = {};
  std::memcpy(bytes, key.data(), key.size() < 8 ? key.size() : 8);
  uint64_t v;
  std::memcpy(&v, bytes, 8);
  return __builtin_bswap64(v);
}

inline int CompareRowKeys(std::string_view ak, uint64_t av, std::string_view bk, uint64_t bv) {
  const int c = ak.compare(bk);
  if (c != 0) return c;
  if (av == bv) return 0;
  return av > bv ? -1 : 1;  // newer first
}

}  // namespace cairn::format

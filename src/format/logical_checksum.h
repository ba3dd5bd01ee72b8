// LogicalChecksum: a checksum of an SSTable's content that does not depend on its layout.
//
// Each row hashes to 64 bits; the checksum is the sum of those hashes modulo 2^64, with the
// row count. Addition commutes and associates, so the value is the same however the rows are
// blocked, compressed or split into macroblocks, and the checksum of a file is the sum of its
// macroblocks' — which is what lets a reused macroblock bring its checksum along, and lets two
// replicas' major SSTables be compared without comparing bytes. (Per-column checksums will
// join when rows have columns.)
#pragma once

#include <cstdint>
#include <string>

#include "absl/strings/str_format.h"
#include "src/base/hash.h"
#include "src/format/row.h"

namespace cairn::format {

// The hash of a key, as the bloom filters and the logical checksum use it.
inline uint64_t KeyHash(std::string_view key) { return Hash64(key, 0x6b65792d68617368ull); }

inline uint64_t RowHash(uint64_t key_hash, uint64_t version, RowKind kind, std::string_view value) {
  const uint64_t seed = Mix64(key_hash ^ Mix64(version ^ (uint64_t{static_cast<uint8_t>(kind)} << 61)));
  return Mix64(Hash64(value, seed));
}

struct LogicalChecksum {
  uint64_t sum = 0;
  uint64_t rows = 0;

  void AddRowHash(uint64_t h) {
    sum += h;
    ++rows;
  }
  void Add(const RowView& r) { AddRowHash(RowHash(KeyHash(r.key), r.version, r.kind, r.value)); }
  void Merge(const LogicalChecksum& o) {
    sum += o.sum;
    rows += o.rows;
  }
  friend bool operator==(const LogicalChecksum&, const LogicalChecksum&) = default;
  // "0123456789abcdef/42": the sum in hex, then the row count.
  std::string ToString() const { return absl::StrFormat("%016x/%d", sum, rows); }
};

}  // namespace cairn::format

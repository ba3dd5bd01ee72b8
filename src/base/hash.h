// Deterministic 64-bit hashing for trace hashes and seed derivation. Unlike absl::Hash, these
// values are the same in every process and on every run, which is what replay needs.
#pragma once

#include <cstdint>
#include <string_view>

namespace cairn {

// SplitMix64 finalizer: a strong bijective mix of one word.
constexpr uint64_t Mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

constexpr uint64_t HashCombine(uint64_t h, uint64_t v) { return Mix64(h ^ Mix64(v)); }

// FNV-1a over bytes, then mixed.
constexpr uint64_t HashBytes(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (char c : s) {
    h ^= static_cast<uint8_t>(c);
    h *= 0x100000001b3ull;
  }
  return Mix64(h);
}

// 64x64 -> 128-bit multiply, folded to 64 bits.
inline uint64_t MulFold64(uint64_t a, uint64_t b) {
  const unsigned __int128 p = static_cast<unsigned __int128>(a) * b;
  return static_cast<uint64_t>(p) ^ static_cast<uint64_t>(p >> 64);
}

// A fast 64-bit hash of bytes, 16 bytes per step (the multiply-fold construction of the
// wyhash family). Stable across processes and runs: it is stored on disk (bloom filters,
// logical checksums), so it must never change for a given format version.
inline uint64_t Hash64(std::string_view s, uint64_t seed = 0) {
  constexpr uint64_t k0 = 0xa0761d6478bd642full, k1 = 0xe7037ed1a0b428dbull,
                     k2 = 0x8ebc6af09c88c6e3ull;
  auto load64 = [](const char* p) {
    uint64_t v;
    __builtin_memcpy(&v, p, 8);
    return v;
  };
  const char* p = s.data();
  size_t n = s.size();
  uint64_t h = seed ^ MulFold64(seed ^ k0, n ^ k1);
  while (n >= 16) {
    h = MulFold64(load64(p) ^ k1 ^ h, load64(p + 8) ^ k2);
    p += 16;
    n -= 16;
  }
  uint64_t a = 0, b = 0;
  if (n >= 8) {
    a = load64(p);
    b = load64(p + n - 8);
  } else if (n > 0) {
    for (size_t i = 0; i < n; ++i) a |= static_cast<uint64_t>(static_cast<uint8_t>(p[i])) << (8 * i);
  }
  h = MulFold64(a ^ k1 ^ h, b ^ k2 ^ s.size());
  return Mix64(h);
}

}  // namespace cairn

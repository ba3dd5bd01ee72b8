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

}  // namespace cairn

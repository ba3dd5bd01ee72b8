// Bloom filters: one per macroblock, over the distinct keys it holds. Per macroblock, not per
// file, so that a reused macroblock keeps a valid filter without its keys being read again.
//
// A standard (unblocked) bloom filter of m = n * bits_per_key bits and k = round(0.69 *
// bits_per_key) probes, placed by double hashing of the 64-bit key hash. Its false-positive
// rate is close to the textbook (1 - e^(-k/b))^k; bloom_test measures it.
//
// Payload: u8 probes, then the bit array (bit i is byte i/8, bit i%8).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace cairn::format {

class BloomBuilder {
 public:
  void AddKeyHash(uint64_t key_hash) { hashes_.push_back(key_hash); }
  size_t keys() const { return hashes_.size(); }
  // The payload size Finish will produce.
  static size_t PayloadBytes(size_t keys, uint32_t bits_per_key);
  std::string Finish(uint32_t bits_per_key) const;
  void Reset() { hashes_.clear(); }

 private:
  std::vector<uint64_t> hashes_;
};

// A parsed filter: a view of a payload that the caller keeps alive.
class BloomFilter {
 public:
  static absl::StatusOr<BloomFilter> Parse(std::string_view payload);
  bool MayContain(uint64_t key_hash) const;
  uint32_t probes() const { return probes_; }
  uint64_t bits() const { return bits_.size() * 8; }
  // The textbook false-positive rate for this many bits per key.
  static double ExpectedFalsePositiveRate(double bits_per_key);
  static uint32_t ProbesFor(uint32_t bits_per_key);

 private:
  std::string_view bits_;
  uint32_t probes_ = 0;
};

}  // namespace cairn::format

#include "src/format/bloom.h"

#include <algorithm>
#include <cmath>

namespace cairn::format {
namespace {

// Probe i of a key lands at fastrange(a + i*b): two 32-bit halves of its hash, the second
// made odd so that successive probes never repeat a step of zero. MayContain repeats this
// loop inline, to stop at the first clear bit.
template <typename Fn>
inline void ForEachProbe(uint64_t key_hash, uint32_t probes, uint64_t bits, Fn fn) {
  uint32_t a = static_cast<uint32_t>(key_hash);
  const uint32_t b = static_cast<uint32_t>(key_hash >> 32) | 1;
  for (uint32_t i = 0; i < probes; ++i) {
    fn((static_cast<uint64_t>(a) * bits) >> 32);
    a += b;
  }
}

}  // namespace

uint32_t BloomFilter::ProbesFor(uint32_t bits_per_key) {
  return std::clamp<uint32_t>(static_cast<uint32_t>(std::lround(bits_per_key * 0.69)), 1, 30);
}

double BloomFilter::ExpectedFalsePositiveRate(double bits_per_key) {
  const double k = ProbesFor(static_cast<uint32_t>(bits_per_key));
  return std::pow(1.0 - std::exp(-k / bits_per_key), k);
}

size_t BloomBuilder::PayloadBytes(size_t keys, uint32_t bits_per_key) {
  if (bits_per_key == 0) return 0;
  const uint64_t bits = std::max<uint64_t>(64, uint64_t{keys} * bits_per_key);
  return 1 + (bits + 7) / 8;
}

std::string BloomBuilder::Finish(uint32_t bits_per_key) const {
  const size_t size = PayloadBytes(hashes_.size(), bits_per_key);
  if (size == 0) return {};
  std::string out(size, '\0');
  const uint32_t probes = BloomFilter::ProbesFor(bits_per_key);
  out[0] = static_cast<char>(probes);
  const uint64_t bits = (size - 1) * 8;
  auto* array = reinterpret_cast<uint8_t*>(out.data() + 1);
  for (uint64_t h : hashes_) {
    ForEachProbe(h, probes, bits, [&](uint64_t bit) { array[bit / 8] |= uint8_t(1u << (bit % 8)); });
  }
  return out;
}

absl::StatusOr<BloomFilter> BloomFilter::Parse(std::string_view payload) {
  if (payload.size() < 2) return absl::DataLossError("bloom filter shorter than 2 bytes");
  const uint32_t probes = static_cast<uint8_t>(payload[0]);
  if (probes < 1 || probes > 30) return absl::DataLossError("bloom filter with a bad probe count");
  if (payload.size() - 1 > (uint64_t{1} << 29)) return absl::DataLossError("bloom filter too large");
  BloomFilter f;
  f.probes_ = probes;
  f.bits_ = payload.substr(1);
  return f;
}

bool BloomFilter::MayContain(uint64_t key_hash) const {
  const auto* array = reinterpret_cast<const uint8_t*>(bits_.data());
  const uint64_t bits = this->bits();
  uint32_t a = static_cast<uint32_t>(key_hash);
  const uint32_t b = static_cast<uint32_t>(key_hash >> 32) | 1;
  for (uint32_t i = 0; i < probes_; ++i) {
    const uint64_t bit = (static_cast<uint64_t>(a) * bits) >> 32;
    if ((array[bit / 8] & (1u << (bit % 8))) == 0) return false;
    a += b;
  }
  return true;
}

}  // namespace cairn::format

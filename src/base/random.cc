#include "src/base/random.h"

#include <cmath>

#include "src/base/check.h"
#include "src/base/hash.h"

namespace cairn {
namespace {
uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
}  // namespace

Random::Random(uint64_t seed, DrawObserver* observer) : seed_(seed), observer_(observer) {
  uint64_t x = seed;
  for (uint64_t& s : s_) {
    x += 0x9e3779b97f4a7c15ull;
    s = Mix64(x);
  }
}

uint64_t Random::Next() {
  const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = Rotl(s_[3], 45);
  if (observer_ != nullptr) observer_->OnDraw(result);
  return result;
}

uint64_t Random::Uniform(uint64_t n) {
  CAIRN_CHECK(n > 0);
  // Lemire's multiply-shift with rejection: unbiased.
  unsigned __int128 m = static_cast<unsigned __int128>(Next()) * n;
  uint64_t low = static_cast<uint64_t>(m);
  if (low < n) {
    const uint64_t threshold = (0 - n) % n;
    while (low < threshold) {
      m = static_cast<unsigned __int128>(Next()) * n;
      low = static_cast<uint64_t>(m);
    }
  }
  return static_cast<uint64_t>(m >> 64);
}

int64_t Random::UniformRange(int64_t lo, int64_t hi) {
  CAIRN_CHECK(lo <= hi);
  const uint64_t span = static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo);
  if (span == UINT64_MAX) return static_cast<int64_t>(Next());
  return lo + static_cast<int64_t>(Uniform(span + 1));
}

double Random::UniformDouble() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

bool Random::Chance(double p) {
  if (p <= 0) return false;
  if (p >= 1) return true;
  return UniformDouble() < p;
}

Duration Random::UniformDuration(Duration lo, Duration hi) {
  return Duration(UniformRange(lo.count(), hi.count()));
}

Duration Random::Exponential(Duration mean) {
  const double u = 1.0 - UniformDouble();  // in (0, 1]
  return Duration(static_cast<int64_t>(-std::log(u) * static_cast<double>(mean.count())));
}

Random Random::Fork(std::string_view name) const {
  return Random(HashCombine(seed_, HashBytes(name)), observer_);
}

}  // namespace cairn

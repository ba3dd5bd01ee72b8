// Random: a seeded pseudo-random stream (xoshiro256**). Every random choice in Cairn draws from
// a node's Random, which the runtime seeds: from the run's seed in simulation, so that a seed
// replays the same choices; from the OS in the real runtime. Never use <random>'s engines or
// distributions: their output is not specified across library versions.
#pragma once

#include <cstdint>
#include <string_view>

#include "src/base/time.h"

namespace cairn {

// Receives every draw, so the simulator can fold it into the run's trace hash.
class DrawObserver {
 public:
  virtual ~DrawObserver() = default;
  virtual void OnDraw(uint64_t value) = 0;
};

class Random {
 public:
  explicit Random(uint64_t seed, DrawObserver* observer = nullptr);

  uint64_t seed() const { return seed_; }
  uint64_t Next();
  uint64_t Uniform(uint64_t n);                  // in [0, n); n > 0
  int64_t UniformRange(int64_t lo, int64_t hi);  // in [lo, hi]
  double UniformDouble();                        // in [0, 1)
  bool Chance(double p);                         // true with probability p
  Duration UniformDuration(Duration lo, Duration hi);
  Duration Exponential(Duration mean);

  // An independent stream derived from this one's seed and `name`. It does not consume draws
  // from this stream, so adding a fork does not perturb the parent's choices.
  Random Fork(std::string_view name) const;

 private:
  uint64_t seed_;
  uint64_t s_[4];
  DrawObserver* observer_;
};

}  // namespace cairn

#include "src/lsm/token_bucket.h"

#include <algorithm>
#include <cmath>

#include "src/base/check.h"

namespace cairn::lsm {

TokenBucket::TokenBucket(Executor& executor, TokenBucketOptions options)
    : executor_(executor),
      options_(options),
      tokens_(static_cast<double>(options.burst_bytes)),
      refilled_at_(executor.Now()) {
  CAIRN_CHECK_GT(options.bytes_per_second, 0u);
}

void TokenBucket::Refill() {
  const Instant now = executor_.Now();
  if (now <= refilled_at_) return;
  const double earned = ToSeconds(now - refilled_at_) * static_cast<double>(options_.bytes_per_second);
  tokens_ = std::min(static_cast<double>(options_.burst_bytes), tokens_ + earned);
  refilled_at_ = now;
}

Task<void> TokenBucket::Acquire(uint64_t bytes) {
  Refill();
  tokens_ -= static_cast<double>(bytes);
  stats_.acquired_bytes += bytes;
  if (tokens_ >= 0) co_return;
  // In debt: sleep until the refill pays it off. Later callers add their own debt on top, so
  // they wake after this one.
  const double seconds = -tokens_ / static_cast<double>(options_.bytes_per_second);
  const Duration wait(static_cast<int64_t>(std::ceil(seconds * 1e9)));
  ++stats_.waits;
  stats_.waited += wait;
  co_await executor_.SleepFor(wait);
}

}  // namespace cairn::lsm

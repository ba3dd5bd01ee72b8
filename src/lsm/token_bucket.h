// TokenBucket: a rate limit for system IO (flush and compaction reads and writes), shared by
// every engine of a node like the cache.
//
// Tokens are bytes. They accrue at `bytes_per_second` up to `burst_bytes`. Acquire(n) takes n
// at once, going into debt if the bucket holds fewer, and sleeps until the debt is paid off;
// so a request larger than the burst still passes, callers are served in arrival order (each
// one's debt includes everyone's before it), and the long-run rate never exceeds the limit.
// Time is the executor's, so in the simulator a throttled compaction takes simulated time.
#pragma once

#include <cstdint>

#include "src/format/io_throttle.h"
#include "src/runtime/executor.h"
#include "src/base/time.h"

namespace cairn::lsm {

struct TokenBucketOptions {
  uint64_t bytes_per_second = 64ull << 20;
  uint64_t burst_bytes = 4ull << 20;
};

struct TokenBucketStats {
  uint64_t acquired_bytes = 0;
  uint64_t waits = 0;        // Acquire calls that slept
  Duration waited = Duration::zero();  // their total sleep
};

class TokenBucket final : public format::IoThrottle {
 public:
  TokenBucket(Executor& executor, TokenBucketOptions options);
  Task<void> Acquire(uint64_t bytes) override;

  const TokenBucketOptions& options() const { return options_; }
  const TokenBucketStats& stats() const { return stats_; }

 private:
  void Refill();

  Executor& executor_;
  const TokenBucketOptions options_;
  double tokens_;  // bytes; negative while callers are in debt
  Instant refilled_at_;
  TokenBucketStats stats_;
};

}  // namespace cairn::lsm

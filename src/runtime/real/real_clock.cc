#include "src/runtime/real/real_clock.h"

#include <chrono>

namespace cairn::real {

Instant RealClock::Now() const {
  return Instant(std::chrono::duration_cast<Duration>(
      std::chrono::steady_clock::now().time_since_epoch()));
}

WallTime RealClock::WallNow() const {
  return WallTime(std::chrono::duration_cast<Duration>(
      std::chrono::system_clock::now().time_since_epoch()));
}

}  // namespace cairn::real

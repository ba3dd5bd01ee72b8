// RealClock: the operating system's clocks. Now() is steady_clock (the same timeline as
// RealExecutor::Now, so deadlines computed from either agree); WallNow() is system_clock.
#pragma once

#include "src/runtime/clock.h"

namespace cairn::real {

class RealClock final : public Clock {
 public:
  Instant Now() const override;
  WallTime WallNow() const override;
};

}  // namespace cairn::real

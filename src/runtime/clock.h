// Clock: a node's view of time. The monotonic clock orders events and measures timeouts;
// the wall clock is what the node believes the date is, and may skew and drift (never use it
// for timeouts). In simulation both are virtual.
#pragma once

#include "src/base/time.h"

namespace cairn {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual Instant Now() const = 0;
  virtual WallTime WallNow() const = 0;
};

}  // namespace cairn

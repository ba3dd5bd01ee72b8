// IoThrottle: paces one class of IO.
//
// The engine has two IO classes: user IO (gets and scans), never throttled, and system IO
// (flush, compaction; later migration and backup), which it paces so that background work
// cannot starve user reads of the disk. Code doing system IO awaits Acquire(bytes) before each
// read or write it issues; the throttle resumes it when the class may spend those bytes. The
// SSTable reader's iterators and the writer take an optional throttle for this.
#pragma once

#include <cstdint>

#include "src/runtime/task.h"

namespace cairn::format {

class IoThrottle {
 public:
  virtual ~IoThrottle() = default;
  // Resumes once `bytes` of IO may be issued. Never fails; cancellation ends the wait.
  virtual Task<void> Acquire(uint64_t bytes) = 0;
};

}  // namespace cairn::format

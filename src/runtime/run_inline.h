// RunInline: runs a Task to completion on the calling thread, for code whose every await
// completes without suspending — a MemDisk, or a PosixDisk on an inline BlockingPool. It
// crashes if the task suspends, since nothing would ever resume it.
#pragma once

#include <utility>

#include "src/base/check.h"
#include "src/runtime/task.h"

namespace cairn {

template <typename T>
T RunInline(Task<T> task) {
  CAIRN_CHECK_MSG(task.RunUntilSuspended(), "RunInline: the task suspended");
  if constexpr (!std::is_void_v<T>) return task.TakeValue();
}

}  // namespace cairn

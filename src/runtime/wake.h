// WakeSlot: the one way a suspended coroutine is resumed.
//
// A coroutine that suspends puts its handle in a slot and hands shared references to the slot
// to whatever will wake it (a timer, a channel, an IO completion). Whoever wakes it first takes
// the handle out (so it is resumed at most once); the awaiter clears the slot in its destructor
// (so a cancelled coroutine is never resumed). Wakers therefore never hold a raw handle.
#pragma once

#include <coroutine>
#include <memory>
#include <utility>

namespace cairn {

struct WakeSlot {
  explicit WakeSlot(std::coroutine_handle<> h) : handle(h) {}
  std::coroutine_handle<> handle;  // empty once woken or cancelled
};

using WakeRef = std::shared_ptr<WakeSlot>;

inline WakeRef MakeWakeSlot(std::coroutine_handle<> h) { return std::make_shared<WakeSlot>(h); }

// Resumes the slot's coroutine if it is still waiting. Executors call this, never user code.
inline void ResumeSlot(WakeSlot& slot) {
  if (std::coroutine_handle<> h = std::exchange(slot.handle, {})) h.resume();
}

// Cancels a pending wake: the coroutine will not be resumed through this slot.
inline void ClearSlot(const WakeRef& slot) {
  if (slot) slot->handle = {};
}

}  // namespace cairn

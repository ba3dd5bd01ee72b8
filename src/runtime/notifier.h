// Notifier: a condition variable for coroutines on one executor.
//
// A coroutine that waits for a state change (a flush to finish, a group commit to land) checks
// its condition, and if it does not hold, `co_await notifier.Wait(deadline)` and checks again.
// NotifyAll wakes every coroutine waiting at that moment, through the executor (never inline),
// so the notifier's caller finishes its step first. Like a condition variable it carries no
// state: a notify with no waiter is lost, which is why waiters re-check in a loop.
//
//   while (!flushed()) {
//     if (!co_await flush_done_.Wait(deadline)) co_return absl::DeadlineExceededError(...);
//   }
#pragma once

#include <coroutine>
#include <utility>
#include <vector>

#include "src/runtime/executor.h"
#include "src/base/time.h"
#include "src/runtime/wake.h"

namespace cairn {

class Notifier {
 public:
  explicit Notifier(Executor& executor) : executor_(executor) {}
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;

  void NotifyAll() {
    std::vector<WakeRef> waiters = std::exchange(waiters_, {});
    for (WakeRef& w : waiters) executor_.Wake(std::move(w));
  }

  size_t waiters() const { return waiters_.size(); }

  class Awaiter {
   public:
    Awaiter(Notifier& n, Instant deadline) : n_(n), deadline_(deadline) {}
    Awaiter(Awaiter&&) = default;
    ~Awaiter() { Unregister(); }
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> h) {
      slot_ = MakeWakeSlot(h);
      n_.waiters_.push_back(slot_);
      if (deadline_ != kInstantMax) n_.executor_.WakeAt(deadline_, slot_);
    }
    // True when notified; false when the deadline passed first.
    bool await_resume() {
      const bool notified = !Registered();
      Unregister();
      return notified;
    }

   private:
    bool Registered() const {
      for (const WakeRef& w : n_.waiters_) {
        if (w == slot_) return true;
      }
      return false;
    }
    void Unregister() {
      if (!slot_) return;
      ClearSlot(slot_);
      std::erase(n_.waiters_, slot_);
      slot_.reset();
    }
    Notifier& n_;
    Instant deadline_;
    WakeRef slot_;
  };

  // Resumes after the next NotifyAll, or at `deadline`.
  Awaiter Wait(Instant deadline = kInstantMax) { return Awaiter(*this, deadline); }

 private:
  Executor& executor_;
  std::vector<WakeRef> waiters_;
};

}  // namespace cairn

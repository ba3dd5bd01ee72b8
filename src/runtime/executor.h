// Executor: the single-threaded scheduler of one node.
//
// All of a node's coroutines run on its executor, one at a time, so node code needs no locks.
// The real executor is an event loop on one thread; the simulated one puts every wake-up into
// the World's event queue, which decides the order. Code never learns which one it runs on.
#pragma once

#include <memory>

#include "src/runtime/task.h"
#include "src/runtime/task_group.h"
#include "src/base/time.h"
#include "src/runtime/wake.h"

namespace cairn {

class Executor {
 public:
  Executor() : roots_(*this) {}
  virtual ~Executor() = default;
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  // The executor's monotonic time (the same as the node Clock's).
  virtual Instant Now() const = 0;

  // Resumes the slot's coroutine soon, on this executor, unless the slot was cleared first.
  virtual void Wake(WakeRef slot) = 0;

  // Resumes the slot's coroutine at `when` or later, unless the slot was cleared first.
  virtual void WakeAt(Instant when, WakeRef slot) = 0;

  // Runs `task` on its own, owned by the node: it lives until it finishes or the node stops.
  // Prefer a TaskGroup owned by the object the task works for: it ends with that object.
  void Spawn(Task<void> task) { roots_.Spawn(std::move(task)); }

  // Destroys every task spawned here (newest first). Runtimes call this first when a node
  // stops or crashes, while everything the tasks may touch is still alive.
  void DestroyAllTasks() { roots_.CancelAll(); }

  size_t spawned_tasks() const { return roots_.size(); }

  // Awaitables. `co_await executor.SleepUntil(t)` resumes at `t` or later.
  class SleepAwaiter {
   public:
    SleepAwaiter(Executor& executor, Instant until) : executor_(executor), until_(until) {}
    SleepAwaiter(SleepAwaiter&&) = default;
    ~SleepAwaiter() { ClearSlot(slot_); }
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> h) {
      slot_ = MakeWakeSlot(h);
      executor_.WakeAt(until_, slot_);
    }
    void await_resume() noexcept { slot_.reset(); }

   private:
    Executor& executor_;
    Instant until_;
    WakeRef slot_;
  };

  SleepAwaiter SleepUntil(Instant until) { return SleepAwaiter(*this, until); }
  SleepAwaiter SleepFor(Duration d) { return SleepAwaiter(*this, Now() + d); }
  // Lets every other runnable task of this node go first.
  SleepAwaiter Yield() { return SleepAwaiter(*this, Now()); }

 private:
  TaskGroup roots_;
};

}  // namespace cairn

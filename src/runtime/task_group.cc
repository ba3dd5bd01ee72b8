#include "src/runtime/task_group.h"

#include "src/runtime/executor.h"

namespace cairn {

// The frame that runs one spawned task. It frees itself when the task finishes.
struct TaskGroup::Child {
  struct promise_type {
    TaskGroup* group = nullptr;
    uint64_t id = 0;

    Child get_return_object() noexcept {
      return Child{std::coroutine_handle<promise_type>::from_promise(*this)};
    }
    std::suspend_always initial_suspend() const noexcept { return {}; }
    struct Final {
      bool await_ready() const noexcept { return false; }
      void await_suspend(std::coroutine_handle<promise_type> h) const noexcept {
        TaskGroup* owner = h.promise().group;
        const uint64_t child_id = h.promise().id;
        h.destroy();
        owner->Finished(child_id);
      }
      void await_resume() const noexcept {}
    };
    Final final_suspend() const noexcept { return {}; }
    void return_void() const noexcept {}
    [[noreturn]] void unhandled_exception() const noexcept { std::terminate(); }
  };
  std::coroutine_handle<promise_type> handle;
};

TaskGroup::Child TaskGroup::Run(Task<void> task) { co_await std::move(task); }

void TaskGroup::Spawn(Task<void> task) {
  CAIRN_CHECK_MSG(!cancelling_, "spawning into a TaskGroup that is being cancelled");
  CAIRN_CHECK(task.valid());
  Child child = Run(std::move(task));
  const uint64_t id = next_id_++;
  child.handle.promise().group = this;
  child.handle.promise().id = id;
  WakeRef start = MakeWakeSlot(child.handle);
  children_.emplace(id, Entry{child.handle, start});
  executor_.Wake(std::move(start));
}

void TaskGroup::CancelAll() {
  CAIRN_CHECK_MSG(!cancelling_, "TaskGroup::CancelAll re-entered");
  cancelling_ = true;
  while (!children_.empty()) {
    auto last = std::prev(children_.end());
    Entry entry = last->second;
    children_.erase(last);
    ClearSlot(entry.start);
    entry.handle.destroy();
  }
  cancelling_ = false;
}

}  // namespace cairn

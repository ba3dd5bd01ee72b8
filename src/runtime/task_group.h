// TaskGroup: structured ownership of tasks that run concurrently with their owner.
//
// A task spawned into a group starts on the executor soon after Spawn returns and runs on its
// own. The group owns it: when the task finishes its frame is freed; when the group is
// destroyed (or CancelAll is called) every unfinished task is destroyed, newest first, which
// cancels it safely (see task.h). An object that starts background work keeps a TaskGroup as
// its last member, so its tasks can never outlive it.
#pragma once

#include <coroutine>
#include <cstdint>
#include <map>

#include "src/runtime/task.h"
#include "src/runtime/wake.h"

namespace cairn {

class Executor;

class TaskGroup {
 public:
  explicit TaskGroup(Executor& executor) : executor_(executor) {}
  ~TaskGroup() { CancelAll(); }
  TaskGroup(const TaskGroup&) = delete;
  TaskGroup& operator=(const TaskGroup&) = delete;

  void Spawn(Task<void> task);

  // Destroys every unfinished task, newest first. The group can be used again afterwards.
  void CancelAll();

  size_t size() const { return children_.size(); }
  bool empty() const { return children_.empty(); }

 private:
  struct Child;
  struct Entry {
    std::coroutine_handle<> handle;
    WakeRef start;
  };
  static Child Run(Task<void> task);
  void Finished(uint64_t id) { children_.erase(id); }

  Executor& executor_;
  std::map<uint64_t, Entry> children_;
  uint64_t next_id_ = 0;
  bool cancelling_ = false;
};

}  // namespace cairn

// WithDeadline: run a task, but give up on it at a deadline.
//
// The task runs concurrently in a TaskGroup local to this call; if the deadline passes first,
// the group is destroyed on return, which cancels the task (see task.h). So the caller gets
// DeadlineExceeded and nothing of the abandoned task runs afterwards.
#pragma once

#include <type_traits>

#include "absl/status/statusor.h"
#include "src/runtime/channel.h"
#include "src/runtime/executor.h"
#include "src/runtime/task.h"
#include "src/runtime/task_group.h"

namespace cairn {

namespace detail {
template <typename T>
Task<void> DeliverTo(Task<T> task, Channel<T>* out) {
  T value = co_await std::move(task);
  CAIRN_CHECK(out->TrySend(std::move(value)));
}

template <typename T>
struct Flatten {
  using type = absl::StatusOr<T>;
  static type From(absl::StatusOr<T> v) { return v; }
};
// A task that already returns a status keeps its own shape.
template <typename T>
struct Flatten<absl::StatusOr<T>> {
  using type = absl::StatusOr<T>;
  static type From(absl::StatusOr<absl::StatusOr<T>> v) {
    if (!v.ok()) return v.status();
    return *std::move(v);
  }
};
template <>
struct Flatten<absl::Status> {
  using type = absl::Status;
  static type From(absl::StatusOr<absl::Status> v) { return v.ok() ? *v : v.status(); }
};
}  // namespace detail

template <typename T>
Task<typename detail::Flatten<T>::type> WithDeadline(Executor& executor, Instant deadline,
                                                     Task<T> task) {
  Channel<T> result(executor, 1);
  TaskGroup group(executor);
  group.Spawn(detail::DeliverTo(std::move(task), &result));
  absl::StatusOr<T> value = co_await result.Receive(deadline);
  group.CancelAll();
  co_return detail::Flatten<T>::From(std::move(value));
}

}  // namespace cairn

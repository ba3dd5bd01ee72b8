// Task<T>: the one coroutine type of Cairn.
//
// A Task is lazy: creating it runs nothing. It starts when awaited (`co_await std::move(t)`,
// the awaiting coroutine resumes when it finishes) or when handed to a TaskGroup or an
// Executor to run on its own. A Task owns its coroutine frame: destroying a Task that has not
// finished destroys the frame, which runs the destructors of everything in it, including the
// awaiter it is suspended on. Every awaiter in Cairn unregisters itself in its destructor, so
// destroying a suspended Task is always safe: this is how cancellation works (see
// docs/runtime.md, "Cancellation"). Nothing can resume into a destroyed frame.
//
// Awaiting a task runs it at once, inline. If it finishes without suspending, the awaiting
// coroutine just continues (await_suspend returns false), so a loop of a million awaits that
// complete synchronously uses constant stack in every build, with or without optimization or
// sanitizers (symmetric transfer alone needs tail calls, which -O0, -O1 and ASan do not make).
// If it suspends, its completion later resumes the awaiting coroutine directly. Exceptions are
// not used: one escaping a Task aborts.
#pragma once

#include <coroutine>
#include <exception>
#include <optional>
#include <utility>

#include "src/base/check.h"

namespace cairn {

template <typename T = void>
class Task;

namespace detail {

struct TaskPromiseBase {
  std::coroutine_handle<> continuation;
  bool started_inline = false;    // the awaiter is inside await_suspend, running this task
  bool finished_inline = false;   // ... and the task finished before it first suspended

  struct FinalAwaiter {
    bool await_ready() const noexcept { return false; }
    template <typename Promise>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> h) const noexcept {
      TaskPromiseBase& p = h.promise();
      if (p.started_inline) {
        // Back to the awaiter's await_suspend, which continues the awaiting coroutine.
        p.finished_inline = true;
        return std::noop_coroutine();
      }
      return p.continuation ? p.continuation : std::noop_coroutine();
    }
    void await_resume() const noexcept {}
  };

  std::suspend_always initial_suspend() const noexcept { return {}; }
  FinalAwaiter final_suspend() const noexcept { return {}; }
  [[noreturn]] void unhandled_exception() const noexcept { std::terminate(); }
};

template <typename Promise>
struct TaskAwaiter {
  std::coroutine_handle<Promise> handle;
  bool await_ready() const noexcept { return false; }
  // Runs the task until it first suspends or finishes; suspends the awaiting coroutine only
  // in the first case.
  bool await_suspend(std::coroutine_handle<> awaiting) const {
    TaskPromiseBase& p = handle.promise();
    p.continuation = awaiting;
    p.started_inline = true;
    handle.resume();
    p.started_inline = false;
    return !p.finished_inline;
  }
};

}  // namespace detail

template <typename T>
class [[nodiscard]] Task {
 public:
  struct promise_type : detail::TaskPromiseBase {
    std::optional<T> value;
    Task get_return_object() noexcept {
      return Task(std::coroutine_handle<promise_type>::from_promise(*this));
    }
    void return_value(T v) { value.emplace(std::move(v)); }
  };

  Task(Task&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
  Task& operator=(Task&& other) noexcept {
    if (this != &other) {
      Reset();
      handle_ = std::exchange(other.handle_, {});
    }
    return *this;
  }
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;
  ~Task() { Reset(); }

  bool valid() const { return static_cast<bool>(handle_); }

  // Starts a Task that was never started and runs it on the calling thread until it finishes
  // or first suspends; true if it finished. For tools and tests whose awaits all complete
  // without suspending (a MemDisk, an inline PosixDisk): see RunInline in run_inline.h.
  bool RunUntilSuspended() {
    CAIRN_CHECK_MSG(handle_ && !handle_.done(), "running an empty or finished Task");
    handle_.resume();
    return handle_.done();
  }
  // The value of a finished Task.
  T TakeValue() {
    CAIRN_CHECK(handle_ && handle_.done() && handle_.promise().value.has_value());
    return std::move(*handle_.promise().value);
  }

  auto operator co_await() && noexcept {
    CAIRN_CHECK_MSG(handle_ && !handle_.done(), "awaiting an empty or finished Task");
    struct Awaiter : detail::TaskAwaiter<promise_type> {
      T await_resume() {
        CAIRN_CHECK(this->handle.promise().value.has_value());
        return std::move(*this->handle.promise().value);
      }
    };
    return Awaiter{{handle_}};
  }

 private:
  explicit Task(std::coroutine_handle<promise_type> h) : handle_(h) {}
  void Reset() {
    if (handle_) std::exchange(handle_, {}).destroy();
  }
  std::coroutine_handle<promise_type> handle_;
};

template <>
class [[nodiscard]] Task<void> {
 public:
  struct promise_type : detail::TaskPromiseBase {
    Task get_return_object() noexcept {
      return Task(std::coroutine_handle<promise_type>::from_promise(*this));
    }
    void return_void() const noexcept {}
  };

  Task(Task&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
  Task& operator=(Task&& other) noexcept {
    if (this != &other) {
      Reset();
      handle_ = std::exchange(other.handle_, {});
    }
    return *this;
  }
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;
  ~Task() { Reset(); }

  bool valid() const { return static_cast<bool>(handle_); }

  // Starts a Task that was never started and runs it on the calling thread until it finishes
  // or first suspends; true if it finished. For tools and tests whose awaits all complete
  // without suspending (a MemDisk, an inline PosixDisk): see RunInline in run_inline.h.
  bool RunUntilSuspended() {
    CAIRN_CHECK_MSG(handle_ && !handle_.done(), "running an empty or finished Task");
    handle_.resume();
    return handle_.done();
  }

  auto operator co_await() && noexcept {
    CAIRN_CHECK_MSG(handle_ && !handle_.done(), "awaiting an empty or finished Task");
    struct Awaiter : detail::TaskAwaiter<promise_type> {
      void await_resume() const noexcept {}
    };
    return Awaiter{{handle_}};
  }

 private:
  explicit Task(std::coroutine_handle<promise_type> h) : handle_(h) {}
  void Reset() {
    if (handle_) std::exchange(handle_, {}).destroy();
  }
  std::coroutine_handle<promise_type> handle_;
};

}  // namespace cairn

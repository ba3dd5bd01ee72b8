// BlockingPool: a few threads that run blocking calls (file IO) off a node's loop thread, and
// hand each result back to the loop as a handler posted on its io_context.
//
// A job runs on a pool thread with nothing of the node but what it owns: it must capture its
// inputs by value and its outputs through shared state, because the coroutine that waits for
// it may be destroyed (cancelled) while it runs. `co_await pool.Call(fn)` packages that
// pattern: the result lives in shared state, and the completion resumes the waiter only if its
// WakeSlot is still set.
#pragma once

#include <condition_variable>
#include <coroutine>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "asio/io_context.hpp"
#include "src/runtime/wake.h"

namespace cairn::real {

class BlockingPool {
 public:
  // Starts `threads` threads. Completions are posted to `io`, which must outlive the pool.
  // With 0 threads the pool is inline: every call runs on the calling (loop) thread and its
  // awaiter does not suspend. That is for tools and benchmarks whose files sit in the page
  // cache, where a thread hand-off costs more than the read; a node serving traffic wants
  // threads, so that a slow disk never stalls its loop.
  BlockingPool(asio::io_context& io, int threads);
  // Shutdown().
  ~BlockingPool();
  BlockingPool(const BlockingPool&) = delete;
  BlockingPool& operator=(const BlockingPool&) = delete;

  // Runs `work` on a pool thread, then posts `on_loop` (if any) to the io_context. Thread-safe.
  // The queue is unbounded: its callers are one node's tasks, which each wait for their call,
  // so its length is bounded by the number of tasks. Jobs start in submission order.
  void Submit(absl::AnyInvocable<void()> work, absl::AnyInvocable<void()> on_loop);

  // Drops the jobs that have not started (their waiters are gone: the node is stopping), waits
  // for running ones to finish and post their completions, and joins the threads. Later
  // Submits are dropped.
  void Shutdown();

  size_t threads() const { return threads_.size(); }
  bool is_inline() const { return threads_.empty(); }

  template <typename T>
  class CallAwaiter;

  // `T result = co_await pool.Call<T>(fn)`: runs `fn` on a pool thread and resumes on the loop
  // with its result. Destroying the waiting coroutine is safe; the result is then discarded on
  // the loop thread (or with the io_context).
  template <typename T>
  CallAwaiter<T> Call(absl::AnyInvocable<T()> fn) {
    return CallAwaiter<T>(*this, std::move(fn));
  }

 private:
  struct Job {
    absl::AnyInvocable<void()> work;
    absl::AnyInvocable<void()> on_loop;
  };
  void Loop();

  asio::io_context& io_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> queue_;  // guarded by mu_
  bool stopping_ = false;  // guarded by mu_
  std::vector<std::thread> threads_;
};

template <typename T>
class BlockingPool::CallAwaiter {
 public:
  CallAwaiter(BlockingPool& pool, absl::AnyInvocable<T()> fn) : pool_(pool), fn_(std::move(fn)) {}
  CallAwaiter(CallAwaiter&&) = default;
  ~CallAwaiter() { ClearSlot(slot_); }

  // An inline pool runs the call right here, and the caller goes on without suspending.
  bool await_ready() {
    if (!pool_.is_inline()) return false;
    result_ = std::make_shared<std::optional<T>>();
    result_->emplace(fn_());
    fn_ = nullptr;
    return true;
  }
  void await_suspend(std::coroutine_handle<> h) {
    slot_ = MakeWakeSlot(h);
    result_ = std::make_shared<std::optional<T>>();
    // The slot is only touched on the loop thread: set here, cleared by this awaiter's
    // destructor, taken by the completion. The pool thread writes only `result`, and the post
    // to the io_context orders that write before the completion reads it.
    pool_.Submit([fn = std::move(fn_), result = result_]() mutable { result->emplace(fn()); },
                 [slot = slot_] { ResumeSlot(*slot); });
  }
  T await_resume() {
    if (slot_) slot_.reset();
    return std::move(**result_);
  }

 private:
  BlockingPool& pool_;
  absl::AnyInvocable<T()> fn_;
  std::shared_ptr<std::optional<T>> result_;
  WakeRef slot_;
};

}  // namespace cairn::real

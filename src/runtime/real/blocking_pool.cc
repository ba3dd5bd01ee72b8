#include "src/runtime/real/blocking_pool.h"

#include "asio/post.hpp"

namespace cairn::real {

BlockingPool::BlockingPool(asio::io_context& io, int threads) : io_(io) {
  if (threads < 1) return;  // inline: calls run on the caller's thread
  threads_.reserve(static_cast<size_t>(threads));
  for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { Loop(); });
}

BlockingPool::~BlockingPool() { Shutdown(); }

void BlockingPool::Submit(absl::AnyInvocable<void()> work, absl::AnyInvocable<void()> on_loop) {
  if (is_inline()) {
    work();
    work = nullptr;
    if (on_loop) asio::post(io_, [on_loop = std::move(on_loop)]() mutable { on_loop(); });
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    queue_.push_back(Job{std::move(work), std::move(on_loop)});
  }
  cv_.notify_one();
}

void BlockingPool::Shutdown() {
  std::deque<Job> dropped;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    dropped.swap(queue_);
  }
  cv_.notify_all();
  for (std::thread& t : threads_) {
    if (t.joinable()) t.join();
  }
  // `dropped` is destroyed here, outside the lock: its closures may close files.
}

void BlockingPool::Loop() {
  for (;;) {
    Job job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    job.work();
    // Free the job's captures here, on this thread, before the loop sees the completion.
    job.work = nullptr;
    if (job.on_loop) {
      asio::post(io_, [on_loop = std::move(job.on_loop)]() mutable { on_loop(); });
    }
  }
}

}  // namespace cairn::real

// Channel<T>: a bounded single-consumer queue between tasks of one node.
//
// Senders never wait: TrySend fails when the channel is full or closed, and the sender decides
// what that means (drop, report overload). The one receiver waits with a deadline. Destroying
// a waiting receiver (cancelling its task) is safe: it unregisters itself.
#pragma once

#include <cstddef>
#include <deque>
#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "src/base/check.h"
#include "src/runtime/executor.h"

namespace cairn {

template <typename T>
class Channel {
 public:
  Channel(Executor& executor, size_t capacity_items)
      : executor_(executor), capacity_items_(capacity_items) {
    CAIRN_CHECK(capacity_items > 0);
  }
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;
  ~Channel() { CAIRN_CHECK_MSG(!waiter_, "Channel destroyed under a waiting receiver"); }

  // Queues `item` unless the channel is full or closed; returns whether it was queued.
  bool TrySend(T item) {
    if (closed_ || items_.size() >= capacity_items_) return false;
    items_.push_back(std::move(item));
    WakeReceiver();
    return true;
  }

  // After Close, sends fail; the receiver drains what is queued, then gets Cancelled.
  void Close() {
    closed_ = true;
    WakeReceiver();
  }

  std::optional<T> TryReceive() {
    if (items_.empty()) return std::nullopt;
    T item = std::move(items_.front());
    items_.pop_front();
    return item;
  }

  class ReceiveAwaiter {
   public:
    ReceiveAwaiter(Channel& channel, Instant deadline) : channel_(channel), deadline_(deadline) {}
    ReceiveAwaiter(ReceiveAwaiter&&) = default;
    ~ReceiveAwaiter() { Unregister(); }
    bool await_ready() const noexcept { return !channel_.items_.empty() || channel_.closed_; }
    void await_suspend(std::coroutine_handle<> h) {
      CAIRN_CHECK_MSG(!channel_.waiter_, "Channel has a single receiver");
      slot_ = MakeWakeSlot(h);
      channel_.waiter_ = slot_;
      if (deadline_ != kInstantMax) channel_.executor_.WakeAt(deadline_, slot_);
    }
    absl::StatusOr<T> await_resume() {
      Unregister();
      if (std::optional<T> item = channel_.TryReceive()) return std::move(*item);
      if (channel_.closed_) return absl::CancelledError("channel closed");
      return absl::DeadlineExceededError("channel receive deadline passed");
    }

   private:
    void Unregister() {
      if (!slot_) return;
      ClearSlot(slot_);
      if (channel_.waiter_ == slot_) channel_.waiter_.reset();
      slot_.reset();
    }
    Channel& channel_;
    Instant deadline_;
    WakeRef slot_;
  };

  // `co_await channel.Receive(deadline)`: the next item, DeadlineExceeded once `deadline`
  // passes with nothing queued, or Cancelled once the channel is closed and drained.
  ReceiveAwaiter Receive(Instant deadline) { return ReceiveAwaiter(*this, deadline); }

  size_t size() const { return items_.size(); }
  size_t capacity_items() const { return capacity_items_; }
  bool closed() const { return closed_; }

 private:
  void WakeReceiver() {
    if (waiter_) executor_.Wake(std::exchange(waiter_, nullptr));
  }

  Executor& executor_;
  const size_t capacity_items_;
  std::deque<T> items_;
  WakeRef waiter_;
  bool closed_ = false;
};

}  // namespace cairn

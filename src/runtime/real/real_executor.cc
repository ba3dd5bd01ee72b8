#include "src/runtime/real/real_executor.h"

#include <chrono>
#include <memory>
#include <utility>

#include "asio/post.hpp"
#include "asio/steady_timer.hpp"

namespace cairn::real {

Instant RealExecutor::Now() const {
  return Instant(std::chrono::duration_cast<Duration>(
      std::chrono::steady_clock::now().time_since_epoch()));
}

void RealExecutor::Wake(WakeRef slot) {
  asio::post(io_, [slot = std::move(slot)] { ResumeSlot(*slot); });
}

void RealExecutor::WakeAt(Instant when, WakeRef slot) {
  if (when == kInstantMax) return;
  // A deadline already due (Yield, an expired timeout) needs no timer: posting keeps it behind
  // everything already runnable, which is what Yield promises.
  if (when <= Now()) {
    Wake(std::move(slot));
    return;
  }
  // The timer lives in its own handler, so nobody has to keep it. A cancelled sleep leaves it
  // armed until expiry; it then finds the slot cleared and does nothing. If the io_context is
  // destroyed first, destroying the pending handler frees the timer.
  auto timer = std::make_shared<asio::steady_timer>(
      io_, std::chrono::steady_clock::time_point(
               std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                   when.time_since_epoch())));
  timer->async_wait([timer, slot = std::move(slot)](const std::error_code& error) {
    if (!error) ResumeSlot(*slot);
  });
}

}  // namespace cairn::real

// RealExecutor: a node's executor as an Asio event loop. Every wake-up is a handler on the
// node's io_context, so all of the node's coroutines run on the one thread that runs that
// io_context, one at a time.
#pragma once

#include "asio/io_context.hpp"
#include "src/runtime/executor.h"

namespace cairn::real {

class RealExecutor final : public Executor {
 public:
  explicit RealExecutor(asio::io_context& io) : io_(io) {}

  // std::chrono::steady_clock time, as nanoseconds since its epoch.
  Instant Now() const override;
  // Posts the resume to the io_context; safe to call only from the loop thread (as every
  // Executor call is), because the slot is not synchronized.
  void Wake(WakeRef slot) override;
  // A one-shot timer per call; kInstantMax never fires, so it arms nothing.
  void WakeAt(Instant when, WakeRef slot) override;

 private:
  asio::io_context& io_;
};

}  // namespace cairn::real

// LogSink: where a node's log lines go. In the real runtime, stderr with a timestamp; in
// simulation, the run's trace (stamped with virtual time and node) and, when asked, stdout.
// Lines are for people reading a run; nothing may depend on them.
#pragma once

#include <string_view>

namespace cairn {

class LogSink {
 public:
  virtual ~LogSink() = default;
  virtual void Write(std::string_view line) = 0;
};

// Discards everything.
class NullLogSink final : public LogSink {
 public:
  void Write(std::string_view) override {}
};

}  // namespace cairn

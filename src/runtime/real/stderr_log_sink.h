// StderrLogSink: a real node's log, one line per Write on stderr, stamped with the wall-clock
// time (UTC) and the node id. Each line goes out in one write(2), so lines of several nodes or
// threads sharing a stderr never interleave within a line.
#pragma once

#include <string_view>

#include "src/runtime/log.h"
#include "src/runtime/network.h"

namespace cairn::real {

class StderrLogSink final : public LogSink {
 public:
  explicit StderrLogSink(NodeId node) : node_(node) {}
  void Write(std::string_view line) override;

 private:
  NodeId node_;
};

}  // namespace cairn::real

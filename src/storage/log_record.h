// LogRecord: one record of a log, at its position (positions start at 1 and rise by one).
#pragma once

#include <cstdint>
#include <string>

namespace cairn::storage {

struct LogRecord {
  uint64_t position = 0;
  std::string payload;
};

}  // namespace cairn::storage

// LogRecord: one record of a log, at its position (positions start at 1 and rise by one).
#pragma once

#include <cstdint>
#include <string>

namespace cairn::storage {

struct LogRecord {
  uint64_t position = 0;
  std::string payload;
  // The log was synced through this position when the record was written (0: nothing said):
  // a later write vouches for earlier ones, so recovery tells a lost synced record from a
  // torn unsynced one.
  uint64_t synced_through = 0;
};

}  // namespace cairn::storage

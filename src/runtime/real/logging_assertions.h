// LoggingAssertions: Always and Sometimes in a real process. A failed Always is logged (a
// production process does not crash on a stated property); Sometimes counts nothing.
#pragma once

#include <string>

#include "src/runtime/assertions.h"
#include "src/runtime/log.h"

namespace cairn::real {

class LoggingAssertions final : public Assertions {
 public:
  explicit LoggingAssertions(LogSink& log) : log_(log) {}
  void Always(bool holds, std::string_view name, std::source_location where) override {
    if (holds) return;
    log_.Write(std::string("ALWAYS violated: ") + std::string(name) + " at " + where.file_name() + ":" +
               std::to_string(where.line()));
  }
  void Sometimes(bool, std::string_view, std::source_location) override {}

 private:
  LogSink& log_;
};

}  // namespace cairn::real

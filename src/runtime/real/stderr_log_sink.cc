#include "src/runtime/real/stderr_log_sink.h"

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <ctime>
#include <string>

#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"

namespace cairn::real {

void StderrLogSink::Write(std::string_view line) {
  const auto now = std::chrono::system_clock::now();
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  const int64_t micros =
      std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count() %
      1'000'000;
  std::tm utc;
  gmtime_r(&seconds, &utc);
  std::string out = absl::StrFormat(
      "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ node %d: %s\n", utc.tm_year + 1900, utc.tm_mon + 1,
      utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, micros, node_,
      absl::string_view(line.data(), line.size()));
  const char* p = out.data();
  size_t left = out.size();
  while (left > 0) {
    const ssize_t n = ::write(STDERR_FILENO, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // nowhere to report a failing log
    p += n;
    left -= static_cast<size_t>(n);
  }
}

}  // namespace cairn::real

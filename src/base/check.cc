#include "src/base/check.h"

#include <cstdio>
#include <cstdlib>

namespace cairn::detail {

void CheckFailed(const char* file, int line, const char* condition, std::string_view message) {
  std::fprintf(stderr, "CHECK failed at %s:%d: %s", file, line, condition);
  if (!message.empty()) {
    std::fprintf(stderr, " (%.*s)", static_cast<int>(message.size()), message.data());
  }
  std::fprintf(stderr, "\n");
  std::fflush(stderr);
  std::abort();
}

void CheckOpFailed(const char* file, int line, const char* condition, int64_t a, int64_t b) {
  char message[96];
  std::snprintf(message, sizeof(message), "%lld vs %lld", static_cast<long long>(a),
                static_cast<long long>(b));
  CheckFailed(file, line, condition, message);
}

}  // namespace cairn::detail

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

}  // namespace cairn::detail

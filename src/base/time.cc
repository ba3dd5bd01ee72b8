#include "src/base/time.h"

#include "absl/strings/str_format.h"

namespace cairn {

std::string FormatDuration(Duration d) {
  const int64_t ns = d.count();
  const int64_t mag = ns < 0 ? -ns : ns;
  if (mag >= 1'000'000'000) return absl::StrFormat("%.3fs", static_cast<double>(ns) / 1e9);
  if (mag >= 1'000'000) return absl::StrFormat("%.3gms", static_cast<double>(ns) / 1e6);
  if (mag >= 1'000) return absl::StrFormat("%.3gus", static_cast<double>(ns) / 1e3);
  return absl::StrFormat("%dns", ns);
}

}  // namespace cairn

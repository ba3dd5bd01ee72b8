// Debian's Abseil is built with its own absl::string_view (not std::string_view); these
// convert at the boundary. Cairn's own interfaces use std::string_view.
#pragma once

#include <string_view>

#include "absl/strings/string_view.h"

namespace cairn {

inline absl::string_view AbslView(std::string_view s) { return {s.data(), s.size()}; }
inline std::string_view StdView(absl::string_view s) { return {s.data(), s.size()}; }

}  // namespace cairn

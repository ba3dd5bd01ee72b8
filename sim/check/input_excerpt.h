// How a reader quotes the input it refuses. A history file may be anything (a binary file
// passed by mistake, a log with terminal escapes), and an error message goes to a terminal,
// so what is quoted is escaped (C-style hex escapes for control and non-ASCII bytes: a quoted
// excerpt never holds a raw byte that could drive a terminal) and cut short.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace cairn::sim {

inline constexpr size_t kInputExcerptBytesMax = 60;

// `s`, escaped, and cut after kInputExcerptBytesMax bytes with "..." (and how many bytes
// more) appended. No quotes are added.
std::string InputExcerpt(std::string_view s);

}  // namespace cairn::sim

#include "sim/check/input_excerpt.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "src/base/strings.h"

namespace cairn::sim {

std::string InputExcerpt(std::string_view s) {
  if (s.size() <= kInputExcerptBytesMax) return absl::CHexEscape(AbslView(s));
  return absl::StrCat(absl::CHexEscape(AbslView(s.substr(0, kInputExcerptBytesMax))), "... (",
                      s.size() - kInputExcerptBytesMax, " bytes more)");
}

}  // namespace cairn::sim

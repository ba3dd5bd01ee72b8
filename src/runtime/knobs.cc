#include "src/runtime/knobs.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "src/base/strings.h"
#include "src/base/random.h"

namespace cairn {

absl::Status Knobs::Set(std::string_view name, std::string_view value) {
  int64_t parsed = 0;
  if (!absl::SimpleAtoi(AbslView(value), &parsed)) {
    return absl::InvalidArgumentError(
        absl::StrCat("knob ", AbslView(name), ": '", AbslView(value), "' is not an integer"));
  }
#define CAIRN_KNOB_SET(kname, def, lo, hi, help) \
  if (name == #kname) {                          \
    kname = parsed;                              \
    return absl::OkStatus();                     \
  }
  CAIRN_KNOBS(CAIRN_KNOB_SET)
#undef CAIRN_KNOB_SET
  return absl::InvalidArgumentError(
      absl::StrCat("unknown knob '", AbslView(name), "' (see `cairn knobs` for the list)"));
}

absl::Status Knobs::SetAssignment(std::string_view assignment) {
  const size_t eq = assignment.find('=');
  if (eq == std::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("knob setting '", AbslView(assignment), "' is not of the form name=value"));
  }
  return Set(assignment.substr(0, eq), assignment.substr(eq + 1));
}

void Knobs::Randomize(Random& random) {
#define CAIRN_KNOB_RANDOMIZE(kname, def, lo, hi, help) kname = random.UniformRange(lo, hi);
  CAIRN_KNOBS(CAIRN_KNOB_RANDOMIZE)
#undef CAIRN_KNOB_RANDOMIZE
}

std::string Knobs::DescribeChanges(const std::vector<std::string>& prefixes) const {
  std::string out;
  const Knobs defaults;
  auto listed = [&prefixes](std::string_view name) {
    return prefixes.empty() ||
           std::any_of(prefixes.begin(), prefixes.end(), [&](const std::string& p) { return name.starts_with(p); });
  };
#define CAIRN_KNOB_DIFF(kname, def, lo, hi, help)                               \
  if (kname != defaults.kname && listed(#kname)) {                              \
    absl::StrAppend(&out, out.empty() ? "" : " ", #kname, "=", kname);          \
  }
  CAIRN_KNOBS(CAIRN_KNOB_DIFF)
#undef CAIRN_KNOB_DIFF
  return out;
}

std::string Knobs::DescribeAll() {
  std::string out;
#define CAIRN_KNOB_LINE(kname, def, lo, hi, help)                                          \
  absl::StrAppend(&out, absl::StrFormat("  %-32s default %-10d sim [%d, %d]  %s\n", #kname, \
                                        static_cast<int64_t>(def), static_cast<int64_t>(lo), \
                                        static_cast<int64_t>(hi), help));
  CAIRN_KNOBS(CAIRN_KNOB_LINE)
#undef CAIRN_KNOB_LINE
  return out;
}

}  // namespace cairn

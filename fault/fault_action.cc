#include "fault/fault_action.h"

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "fault/nemesis.h"
#include "src/base/strings.h"

namespace cairn::fault {

std::string FaultAction::Format() const {
  std::vector<std::string> lens;
  for (Duration d : lengths) lens.push_back(absl::StrCat(d.count()));
  std::vector<std::string> vals;
  // %.17g round-trips a double exactly.
  for (double v : values) vals.push_back(absl::StrFormat("%.17g", v));
  return absl::StrCat("fault ", ToNanos(at), " ", FaultKindName(kind), " shape=", shape,
                      " nodes=", absl::StrJoin(nodes, ","), " lengths_ns=", absl::StrJoin(lens, ","),
                      " values=", absl::StrJoin(vals, ","));
}

absl::StatusOr<FaultAction> FaultAction::Parse(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("bad fault line '", AbslView(text), "': ", AbslView(why)));
  };
  std::vector<absl::string_view> f = absl::StrSplit(AbslView(text), ' ', absl::SkipEmpty());
  if (f.size() != 7 || f[0] != "fault") return bad("expected 7 fields");
  FaultAction a;
  int64_t at = 0;
  if (!absl::SimpleAtoi(f[1], &at)) return bad("time");
  a.at = InstantFromNanos(at);
  std::optional<FaultKind> kind = FaultKindFromName(StdView(f[2]));
  if (!kind) return bad("unknown kind");
  a.kind = *kind;
  auto field = [&](absl::string_view part, absl::string_view name) -> std::optional<absl::string_view> {
    if (!absl::StartsWith(part, absl::StrCat(name, "="))) return std::nullopt;
    return part.substr(name.size() + 1);
  };
  auto shape = field(f[3], "shape");
  auto nodes = field(f[4], "nodes");
  auto lengths = field(f[5], "lengths_ns");
  auto values = field(f[6], "values");
  if (!shape || !nodes || !lengths || !values || !absl::SimpleAtoi(*shape, &a.shape)) return bad("fields");
  for (absl::string_view n : absl::StrSplit(*nodes, ',', absl::SkipEmpty())) {
    NodeId id = 0;
    if (!absl::SimpleAtoi(n, &id)) return bad("node");
    a.nodes.push_back(id);
  }
  for (absl::string_view n : absl::StrSplit(*lengths, ',', absl::SkipEmpty())) {
    int64_t ns = 0;
    if (!absl::SimpleAtoi(n, &ns)) return bad("length");
    a.lengths.push_back(Duration(ns));
  }
  for (absl::string_view n : absl::StrSplit(*values, ',', absl::SkipEmpty())) {
    double v = 0;
    if (!absl::SimpleAtod(n, &v)) return bad("value");
    a.values.push_back(v);
  }
  return a;
}

}  // namespace cairn::fault

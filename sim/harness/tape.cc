#include "sim/harness/tape.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "sim/harness/scenario_file.h"
#include "src/base/strings.h"

namespace cairn::sim {

Tape Tape::FromRun(const Scenario& scenario, const RunResult& result) {
  Tape t;
  t.scenario = scenario;
  t.scenario.script = nullptr;
  t.scenario.tape_file.clear();
  t.script.faults = result.faults_applied;
  for (const Operation& op : result.history.operations()) {
    if (!result.scripted_processes.contains(op.process)) continue;
    t.script.ops.push_back(ScriptedOp{op.process, op.kind, op.key, op.invoked});
  }
  return t;
}

Scenario Tape::ToScenario(std::string tape_file) const {
  Scenario s = scenario;
  s.script = std::make_shared<Script>(script);
  s.tape_file = std::move(tape_file);
  return s;
}

std::string Tape::Format() const {
  std::string out = absl::StrCat("# cairn tape: replay with `cairn sim replay --tape FILE`\n",
                                 FormatScenario(scenario), "[tape]\nseed = ", scenario.seed, "\n");
  for (const fault::FaultAction& a : script.faults) absl::StrAppend(&out, a.Format(), "\n");
  for (const ScriptedOp& op : script.ops) {
    absl::StrAppend(&out, "op ", op.client, " ", OpKindName(op.kind), " ", op.key, " ", ToNanos(op.at), "\n");
  }
  return out;
}

absl::StatusOr<Tape> Tape::Parse(std::string_view text, std::string_view source_name) {
  const size_t mark = text.find("\n[tape]\n");
  if (mark == std::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat(AbslView(source_name), ": not a tape (no [tape] section)"));
  }
  absl::StatusOr<Scenario> scenario = ParseScenario(text.substr(0, mark + 1), source_name);
  if (!scenario.ok()) return scenario.status();
  Tape t;
  t.scenario = *scenario;
  t.scenario.scenario_file.clear();
  int number = static_cast<int>(std::count(text.begin(), text.begin() + static_cast<ptrdiff_t>(mark + 1), '\n')) + 1;
  bool seeded = false;
  for (absl::string_view line : absl::StrSplit(AbslView(text.substr(mark + 8)), '\n', absl::SkipWhitespace())) {
    ++number;
    auto bad = [&](std::string_view why) {
      return absl::InvalidArgumentError(absl::StrCat(AbslView(source_name), ":", number, ": ", AbslView(why)));
    };
    if (absl::ConsumePrefix(&line, "seed = ")) {
      if (!absl::SimpleAtoi(line, &t.scenario.seed)) return bad("the seed is not a number");
      seeded = true;
    } else if (absl::StartsWith(line, "fault ")) {
      absl::StatusOr<fault::FaultAction> a = fault::FaultAction::Parse(StdView(line));
      if (!a.ok()) return bad(StdView(a.status().message()));
      t.script.faults.push_back(*a);
    } else if (absl::StartsWith(line, "op ")) {
      std::vector<absl::string_view> f = absl::StrSplit(line, ' ', absl::SkipEmpty());
      ScriptedOp op;
      int64_t at = 0;
      if (f.size() != 5 || !absl::SimpleAtoi(f[1], &op.client) || !absl::SimpleAtoi(f[4], &at) ||
          (f[2] != "read" && f[2] != "write" && f[2] != "append") || op.client < 0 || at < 0) {
        return bad("expected `op <process> <read|write|append> <key> <at_ns>`");
      }
      op.kind = f[2] == "read" ? OpKind::kRead : f[2] == "write" ? OpKind::kWrite : OpKind::kAppend;
      op.key = std::string(f[3]);
      op.at = InstantFromNanos(at);
      t.script.ops.push_back(std::move(op));
    } else {
      return bad(absl::StrCat("unexpected line '", line, "'"));
    }
  }
  if (!seeded) return absl::InvalidArgumentError(absl::StrCat(AbslView(source_name), ": the tape has no seed"));
  return t;
}

}  // namespace cairn::sim

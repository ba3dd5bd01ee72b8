#include "sim/harness/scenario_file.h"

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "sim/harness/workload.h"
#include "src/base/strings.h"
#include "src/runtime/knobs.h"

namespace cairn::sim {
namespace {

struct Line {
  std::string_view source;
  int number;
  absl::Status Error(std::string_view what) const {
    return absl::InvalidArgumentError(absl::StrCat(AbslView(source), ":", number, ": ", AbslView(what)));
  }
};

absl::StatusOr<int64_t> Integer(const Line& line, std::string_view value, int64_t lo, int64_t hi) {
  int64_t v = 0;
  if (!absl::SimpleAtoi(AbslView(value), &v) || v < lo || v > hi) {
    return line.Error(absl::StrCat("'", AbslView(value), "' is not an integer in [", lo, ", ", hi, "]"));
  }
  return v;
}

absl::StatusOr<bool> Boolean(const Line& line, std::string_view value) {
  if (value == "true") return true;
  if (value == "false") return false;
  return line.Error(absl::StrCat("'", AbslView(value), "' is not true or false"));
}

std::vector<std::string> List(std::string_view value) {
  std::vector<std::string> out;
  for (absl::string_view part : absl::StrSplit(AbslView(value), ',', absl::SkipWhitespace())) {
    out.emplace_back(absl::StripAsciiWhitespace(part));
  }
  return out;
}

}  // namespace

absl::StatusOr<Scenario> ParseScenario(std::string_view text, std::string_view source_name) {
  // First pass: the workload's name, which decides the defaults and the options the rest may set.
  std::string workload = "register";
  {
    std::string section;
    int number = 0;
    for (absl::string_view raw : absl::StrSplit(AbslView(text), '\n')) {
      ++number;
      absl::string_view content = absl::StripAsciiWhitespace(raw.substr(0, raw.find('#')));
      if (content.empty()) continue;
      if (content.front() == '[' && content.back() == ']') {
        section = std::string(content.substr(1, content.size() - 2));
        continue;
      }
      const size_t eq = content.find('=');
      if (section != "workload" || eq == absl::string_view::npos) continue;
      if (absl::StripAsciiWhitespace(content.substr(0, eq)) == "name") {
        workload = std::string(absl::StripAsciiWhitespace(content.substr(eq + 1)));
        if (FindWorkload(workload) == nullptr) {
          return Line{source_name, number}.Error(StdView(ScenarioFor(workload).status().message()));
        }
      }
    }
  }
  absl::StatusOr<Scenario> defaults = ScenarioFor(workload);
  if (!defaults.ok()) return defaults.status();
  Scenario s = *std::move(defaults);
  std::string section;
  int number = 0;
  for (absl::string_view raw : absl::StrSplit(AbslView(text), '\n')) {
    ++number;
    const Line line{source_name, number};
    absl::string_view content = raw.substr(0, raw.find('#'));
    content = absl::StripAsciiWhitespace(content);
    if (content.empty()) continue;
    if (content.front() == '[') {
      if (content.back() != ']') return line.Error("a section header is [name]");
      section = std::string(content.substr(1, content.size() - 2));
      if (section != "cluster" && section != "workload" && section != "time" && section != "faults" &&
          section != "knobs" && section != "buggify" && section != "canaries") {
        return line.Error(absl::StrCat("unknown section [", section,
                                       "] (cluster, workload, time, faults, knobs, buggify, canaries)"));
      }
      continue;
    }
    const size_t eq = content.find('=');
    if (eq == absl::string_view::npos) return line.Error("expected `key = value`");
    const std::string key(absl::StripAsciiWhitespace(content.substr(0, eq)));
    const std::string value(absl::StripAsciiWhitespace(content.substr(eq + 1)));
    if (section.empty()) return line.Error("a key before any [section]");
    const std::string where = section + "." + key;
    if (where == "workload.name") {
      // Read in the first pass.
    } else if (section == "workload" || section == "cluster") {
      // The workload's options; [cluster] holds the ones that size it (replicas, clients).
      if (absl::Status st = SetOption(s, key, value); !st.ok()) return line.Error(StdView(st.message()));
    } else if (where == "time.chaos_ms") {
      auto v = Integer(line, value, 100, 3'600'000);
      if (!v.ok()) return v.status();
      s.chaos = std::chrono::milliseconds(*v);
    } else if (where == "time.heal_ms") {
      auto v = Integer(line, value, 2000, 3'600'000);
      if (!v.ok()) return v.status();
      s.heal = std::chrono::milliseconds(*v);
    } else if (where == "faults.kinds") {
      s.fault_kinds.clear();
      s.faults = true;
      s.fault_swarm = false;
      if (value == "none") {
        s.faults = false;
      } else if (value == "swarm") {
        s.fault_swarm = true;
      } else if (value != "default") {
        for (const std::string& name : List(value)) {
          std::optional<fault::FaultKind> k = fault::FaultKindFromName(name);
          if (!k) return line.Error(absl::StrCat("unknown fault kind '", name, "' (see docs/simulation.md)"));
          s.fault_kinds.push_back(*k);
        }
      }
    } else if (where == "faults.pace_ms") {
      auto v = Integer(line, value, 0, 600'000);
      if (!v.ok()) return v.status();
      s.fault_pace = std::chrono::milliseconds(*v);
    } else if (where == "knobs.randomize") {
      auto v = Boolean(line, value);
      if (!v.ok()) return v.status();
      s.randomize_knobs = *v;
    } else if (section == "knobs") {
      Knobs probe;
      if (absl::Status st = probe.Set(key, value); !st.ok()) return line.Error(StdView(st.message()));
      s.knob_settings.push_back(key + "=" + value);
    } else if (where == "buggify.enabled") {
      auto v = Boolean(line, value);
      if (!v.ok()) return v.status();
      s.buggify = *v;
    } else if (where == "canaries.plant") {
      for (const std::string& name : List(value)) {
        if (absl::Status st = PlantCanary(s, name); !st.ok()) return line.Error(StdView(st.message()));
      }
    } else {
      return line.Error(absl::StrCat("unknown key '", key, "' in [", section, "]"));
    }
  }
  s.scenario_file = std::string(source_name);
  return s;
}

std::string FormatScenario(const Scenario& s) {
  std::string out;
  absl::StrAppend(&out, "[workload]\nname = ", s.workload, "\n");
  for (const auto& [name, value] : s.options) absl::StrAppend(&out, name, " = ", value, "\n");
  absl::StrAppend(&out, "[time]\nchaos_ms = ", s.chaos.count() / 1'000'000,
                  "\nheal_ms = ", s.heal.count() / 1'000'000, "\n");
  std::vector<std::string> kinds;
  for (fault::FaultKind k : s.fault_kinds) kinds.push_back(fault::FaultKindName(k));
  absl::StrAppend(&out, "[faults]\nkinds = ",
                  !s.faults          ? "none"
                  : !kinds.empty()   ? absl::StrJoin(kinds, ", ")
                  : s.fault_swarm    ? "swarm"
                                     : "default",
                  "\npace_ms = ", s.fault_pace.count() / 1'000'000, "\n");
  absl::StrAppend(&out, "[knobs]\nrandomize = ", s.randomize_knobs ? "true" : "false", "\n");
  for (const std::string& k : s.knob_settings) {
    const size_t eq = k.find('=');
    absl::StrAppend(&out, k.substr(0, eq), " = ", k.substr(eq + 1), "\n");
  }
  absl::StrAppend(&out, "[buggify]\nenabled = ", s.buggify ? "true" : "false", "\n");
  if (!s.canaries.empty()) absl::StrAppend(&out, "[canaries]\nplant = ", absl::StrJoin(s.canaries, ", "), "\n");
  return out;
}

}  // namespace cairn::sim

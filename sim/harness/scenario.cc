#include "sim/harness/scenario.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "sim/harness/workload.h"
#include "src/base/check.h"
#include "src/base/strings.h"

namespace cairn::sim {
namespace {

// Options with a flag of their own on `cairn sim run` (the demo register's, from before there
// were other workloads); the rest are given with --set.
std::string OptionFlag(const std::string& name, const std::string& value) {
  if (name == "replicas" || name == "clients" || name == "keys") return absl::StrCat(" --", name, " ", value);
  if (name == "leases" && value == "false") return " --no-leases";
  return absl::StrCat(" --set ", name, "=", value);
}

}  // namespace

bool Scenario::Planted(std::string_view canary) const {
  return std::find(canaries.begin(), canaries.end(), canary) != canaries.end();
}

std::string Scenario::ReplayCommand(const Scenario& d) const {
  if (!tape_file.empty()) return absl::StrCat("cairn sim replay --tape ", tape_file);
  std::string cmd = "cairn sim run";
  if (scenario_file.empty() ? workload != "register" : workload != d.workload) {
    absl::StrAppend(&cmd, " --workload ", workload);
  }
  absl::StrAppend(&cmd, " --seed ", seed);
  if (!scenario_file.empty()) absl::StrAppend(&cmd, " --scenario ", scenario_file);
  for (const auto& [name, value] : options) {
    auto it = d.options.find(name);
    if (it == d.options.end() || it->second != value) absl::StrAppend(&cmd, OptionFlag(name, value));
  }
  if (chaos != d.chaos) absl::StrAppend(&cmd, " --chaos-ms ", chaos.count() / 1'000'000);
  if (heal != d.heal) absl::StrAppend(&cmd, " --heal-ms ", heal.count() / 1'000'000);
  if (!faults && d.faults) {
    absl::StrAppend(&cmd, " --no-faults");
  } else if (fault_kinds != d.fault_kinds || fault_swarm != d.fault_swarm) {
    std::vector<std::string> names;
    for (fault::FaultKind k : fault_kinds) names.push_back(fault::FaultKindName(k));
    absl::StrAppend(&cmd, " --faults ", names.empty() ? "swarm" : absl::StrJoin(names, ","));
  }
  if (fault_pace != d.fault_pace) absl::StrAppend(&cmd, " --fault-pace-ms ", fault_pace.count() / 1'000'000);
  if (!randomize_knobs && d.randomize_knobs) absl::StrAppend(&cmd, " --default-knobs");
  if (!buggify && d.buggify) absl::StrAppend(&cmd, " --no-buggify");
  for (const std::string& k : knob_settings) {
    if (std::find(d.knob_settings.begin(), d.knob_settings.end(), k) == d.knob_settings.end()) {
      absl::StrAppend(&cmd, " --knob ", k);
    }
  }
  for (const std::string& c : canaries) {
    if (!d.Planted(c)) absl::StrAppend(&cmd, " --canary ", c);
  }
  return cmd;
}

absl::StatusOr<Scenario> ScenarioFor(std::string_view name) {
  const WorkloadInfo* w = FindWorkload(name);
  if (w == nullptr) {
    std::vector<std::string> names;
    for (const WorkloadInfo* info : Workloads()) names.push_back(info->name);
    return absl::InvalidArgumentError(
        absl::StrCat("unknown workload '", AbslView(name), "' (", absl::StrJoin(names, ", "), ")"));
  }
  Scenario s;
  s.workload = w->name;
  for (const WorkloadOption& o : w->options) s.options[o.name] = o.default_value;
  s.chaos = w->chaos;
  s.heal = w->heal;
  s.fault_pace = w->fault_pace;
  return s;
}

absl::Status SetOption(Scenario& scenario, std::string_view name, std::string_view value) {
  const WorkloadInfo* w = FindWorkload(scenario.workload);
  CAIRN_CHECK(w != nullptr);
  std::vector<std::string> names;
  for (const WorkloadOption& o : w->options) {
    names.push_back(o.name);
    if (o.name != name) continue;
    if (o.kind == WorkloadOption::Kind::kBoolean) {
      if (value != "true" && value != "false") {
        return absl::InvalidArgumentError(absl::StrCat("option ", o.name, ": '", AbslView(value), "' is not true or false"));
      }
    } else {
      int64_t v = 0;
      if (!absl::SimpleAtoi(AbslView(value), &v) || v < o.min || v > o.max) {
        return absl::InvalidArgumentError(absl::StrCat("option ", o.name, ": '", AbslView(value),
                                                       "' is not an integer from ", o.min, " to ", o.max));
      }
    }
    scenario.options[o.name] = std::string(value);
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrCat("workload ", w->name, " has no option '", AbslView(name), "'",
                                                 names.empty() ? std::string(" (it has none)")
                                                               : absl::StrCat(" (", absl::StrJoin(names, ", "), ")")));
}

absl::Status PlantCanary(Scenario& scenario, std::string_view name) {
  const WorkloadInfo* w = FindWorkload(scenario.workload);
  CAIRN_CHECK(w != nullptr);
  std::vector<std::string> names;
  for (const CanaryInfo& c : w->canaries) {
    names.push_back(c.name);
    if (c.name != name) continue;
    if (!scenario.Planted(name)) scenario.canaries.push_back(c.name);
    std::sort(scenario.canaries.begin(), scenario.canaries.end());
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrCat("workload ", w->name, " has no canary '", AbslView(name), "' (",
                                                 absl::StrJoin(names, ", "), ")"));
}

}  // namespace cairn::sim

#include "sim/harness/workload.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "sim/harness/workloads/workloads.h"
#include "src/base/check.h"
#include "src/base/strings.h"

namespace cairn::sim {

WorkloadContext::WorkloadContext(World& w, const Scenario& s, Instant chaos_end_at, Instant end_at)
    : world(w), scenario(s), chaos_end(chaos_end_at), end(end_at) {
  if (scenario.script) {
    for (const ScriptedOp& op : scenario.script->ops) script_[op.client].push_back(op);
  }
}

int64_t WorkloadContext::Integer(std::string_view option) const {
  auto it = scenario.options.find(std::string(option));
  CAIRN_CHECK_MSG(it != scenario.options.end(), absl::StrCat("workload option ", AbslView(option), " is not declared"));
  int64_t v = 0;
  CAIRN_CHECK_MSG(absl::SimpleAtoi(it->second, &v), absl::StrCat(AbslView(option), "=", it->second));
  return v;
}

bool WorkloadContext::Boolean(std::string_view option) const {
  auto it = scenario.options.find(std::string(option));
  CAIRN_CHECK_MSG(it != scenario.options.end(), absl::StrCat("workload option ", AbslView(option), " is not declared"));
  return it->second == "true";
}

Task<bool> WorkloadContext::NextOp(Runtime& rt, int process, OpKind& kind, std::string& key) {
  scripted_processes_.insert(process);
  if (!scenario.script) co_return true;
  std::vector<ScriptedOp>& ops = script_[process];
  size_t& next = script_next_[process];
  if (next == ops.size()) {
    out_of_tape_.insert(process);
    co_return false;
  }
  const ScriptedOp& op = ops[next++];
  kind = op.kind;
  key = op.key;
  // Never earlier than recorded: when a shrunk tape drops operations, the ones left keep their
  // times. (In an unmodified replay the client is exactly on time: no extra event.)
  if (world.Now() < op.at) co_await rt.Sleep(op.at - world.Now());
  co_return true;
}

void WorkloadContext::Completed(int process) { last_ok_[process] = world.Now(); }

CheckResult WorkloadContext::Liveness(const std::vector<std::pair<int, std::string>>& processes, Instant since) const {
  CheckResult c{"liveness"};
  c.liveness = true;
  std::vector<std::string> stuck;
  for (const auto& [process, name] : processes) {
    if (out_of_tape_.contains(process)) continue;
    auto it = last_ok_.find(process);
    if (it == last_ok_.end() || it->second < since) stuck.push_back(name);
  }
  if (!stuck.empty()) {
    c.passed = false;
    c.violation_count = stuck.size();
    c.violations.push_back(
        absl::StrCat("no operation completed after the faults healed by: ", absl::StrJoin(stuck, ", ")));
  }
  return c;
}

const std::vector<const WorkloadInfo*>& Workloads() {
  static const std::vector<const WorkloadInfo*> all = {&RegisterWorkloadInfo(), &JournalWorkloadInfo(),
                                                       &EngineWorkloadInfo(), &DfsWorkloadInfo(),
                                                       &EngineDfsWorkloadInfo()};
  return all;
}

const WorkloadInfo* FindWorkload(std::string_view name) {
  for (const WorkloadInfo* w : Workloads()) {
    if (w->name == name) return w;
  }
  return nullptr;
}

CheckResult LinearizabilityCheck(const History& history, const Model& model, const CheckOptions& options) {
  CheckResult c{"linearizable"};
  absl::StatusOr<LinearizabilityResult> lin = CheckLinearizability(history, model, options);
  CAIRN_CHECK_OK(lin.status());
  if (lin->verdict == Verdict::kNotLinearizable) {
    c.passed = false;
    c.violation_count = 1;
    c.violations.push_back(lin->explanation);
    for (uint64_t index : lin->involved) {
      const Operation& op = history.operations()[index];
      if (op.completed == kInstantMax) continue;
      c.first_witnessed = c.first_witnessed == kInstantMax ? op.completed : std::max(c.first_witnessed, op.completed);
    }
  } else if (lin->verdict == Verdict::kUnknown) {
    c.undecided = true;
  }
  return c;
}

}  // namespace cairn::sim

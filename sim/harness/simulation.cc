#include "sim/harness/simulation.h"

#include <algorithm>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "src/base/check.h"

namespace cairn::sim {

bool RunResult::safe() const {
  for (const CheckResult& c : checks) {
    if (!c.passed && !c.liveness) return false;
  }
  return true;
}

bool RunResult::passed() const {
  for (const CheckResult& c : checks) {
    if (!c.passed) return false;
  }
  return true;
}

std::vector<std::string> RunResult::FailedChecks() const {
  std::vector<std::string> failed;
  for (const CheckResult& c : checks) {
    if (!c.passed) failed.push_back(c.name);
  }
  return failed;
}

RunResult RunScenario(const Scenario& scenario) {
  const WorkloadInfo* info = FindWorkload(scenario.workload);
  CAIRN_CHECK_MSG(info != nullptr, absl::StrCat("unknown workload ", scenario.workload));
  // The workload before the World: the World's destruction ends the node programs, which may
  // refer to the workload's state.
  std::unique_ptr<Workload> workload = info->make(scenario);
  std::optional<WorkloadContext> context;  // before the World too, for the same reason
  WorldOptions options;
  options.seed = scenario.seed;
  options.randomize_knobs = scenario.randomize_knobs;
  options.buggify = scenario.buggify;
  options.trace_records_max = scenario.trace_records_max;
  options.echo_logs = scenario.echo_logs;
  options.knob_overrides = scenario.knob_settings;
  World world(options);
  const Instant chaos_end = world.Now() + scenario.chaos;
  const Instant end = chaos_end + scenario.heal;
  WorkloadContext& ctx = context.emplace(world, scenario, chaos_end, end);

  RunResult result;
  result.workload = scenario.workload;
  result.seed = scenario.seed;
  workload->Setup(ctx);
  CAIRN_CHECK(!ctx.servers.empty());
  for (NodeId n : ctx.nodes) world.Start(n);

  fault::NemesisOptions nemesis_options;
  nemesis_options.servers = ctx.servers;
  nemesis_options.nodes = ctx.nodes;
  nemesis_options.corruptible_servers_max = ctx.corruptible_servers_max;
  nemesis_options.corruptible_candidates = ctx.corruptible_candidates;
  nemesis_options.enabled = scenario.faults;
  if (!scenario.fault_kinds.empty()) {
    nemesis_options.kinds = scenario.fault_kinds;
  } else if (!scenario.fault_swarm && !info->fault_kinds.empty()) {
    nemesis_options.kinds = info->fault_kinds;
  }
  if (!info->swarm_kinds.empty()) nemesis_options.swarm_kinds = info->swarm_kinds;
  nemesis_options.mean_gap = scenario.fault_pace;
  if (scenario.script) nemesis_options.script = scenario.script->faults;
  nemesis_options.record = &result.faults_applied;
  fault::Nemesis nemesis(world, nemesis_options, result.faults);
  nemesis.Start(chaos_end);
  nemesis.Supervise(end);
  world.RunUntil(chaos_end);
  nemesis.HealAll();
  workload->Healed(ctx);
  world.RunUntil(end);

  result.checks = workload->Check(ctx);
  result.figures = workload->Figures();
  result.assertions = world.assertion_stats();
  CheckResult always{"always-assertions"};
  always.passed = result.assertions.violation_count == 0;
  always.violation_count = result.assertions.violation_count;
  always.violations = result.assertions.violations;
  always.first_witnessed = result.assertions.first_violation;
  result.checks.push_back(std::move(always));

  result.history = std::move(ctx.history);
  result.scripted_processes = ctx.scripted_processes();
  result.nodes_description = ctx.nodes_description;
  result.trace_hash = world.trace().hash();
  result.trace_items = world.trace().items();
  result.simulated = world.Now().time_since_epoch();
  result.events = world.events_run();
  result.nodes = static_cast<int>(world.node_count());
  result.network = world.network().stats();
  for (NodeId s : ctx.servers) result.disk += world.disk(s).stats();
  result.knobs = world.knobs().DescribeChanges(info->knob_prefixes);
  for (const auto& [site, stats] : world.buggify_stats().sites) {
    ++result.buggify_sites_reached;
    result.buggify_sites_enabled += stats.enabled;
    result.buggify_fired += stats.fired;
  }
  result.trace = world.trace().records();
  return result;
}

Scenario CanaryHunt(const WorkloadInfo& workload, const CanaryInfo& canary, uint64_t seed) {
  absl::StatusOr<Scenario> s = ScenarioFor(workload.name);
  CAIRN_CHECK_OK(s.status());
  s->seed = seed;
  CAIRN_CHECK_OK(PlantCanary(*s, canary.name));
  if (!canary.fault_kinds.empty()) {
    s->fault_kinds = canary.fault_kinds;
    // A hunting mix strikes all the time; a shorter healed phase is enough to see the damage.
    s->heal = std::min<Duration>(s->heal, std::chrono::seconds(8));
  }
  if (canary.fault_pace > Duration(0)) s->fault_pace = canary.fault_pace;
  return *std::move(s);
}

std::string FormatSummary(const Scenario& scenario, const RunResult& r, double wall_seconds, const Scenario& base) {
  const WorkloadInfo* info = FindWorkload(scenario.workload);
  std::string out;
  const double sim_s = ToSeconds(r.simulated);
  absl::StrAppend(&out, absl::StrFormat(
      "Cairn simulation: %s, seed %d%s\n", info != nullptr ? info->title : scenario.workload, r.seed,
      scenario.scenario_file.empty() ? std::string() : ", scenario " + scenario.scenario_file));
  absl::StrAppend(&out, "  nodes        ", r.nodes_description, "\n");
  absl::StrAppend(&out, absl::StrFormat(
      "  time         %.3f s simulated (%.1f s chaos, %.1f s healed) in %.2f s wall, %.0fx\n",
      sim_s, ToSeconds(scenario.chaos), ToSeconds(scenario.heal), wall_seconds,
      wall_seconds > 0 ? sim_s / wall_seconds : 0.0));
  absl::StrAppend(&out, absl::StrFormat("  events       %d run, %d trace items\n", r.events, r.trace_items));
  const fault::FaultCounts& f = r.faults;
  absl::StrAppend(&out, absl::StrFormat(
      "  fault mix    %s\n", f.mix.empty() ? std::string("none (--no-faults)") : absl::StrJoin(f.mix, " ")));
  std::vector<std::string> injected;
  for (int k = 0; k < static_cast<int>(fault::FaultKind::kCount); ++k) {
    if (f.by_kind[k] > 0) {
      injected.push_back(absl::StrCat(fault::FaultKindName(static_cast<fault::FaultKind>(k)), " ", f.by_kind[k]));
    }
  }
  if (f.exits_restarted > 0) injected.push_back(absl::StrCat("exits-restarted ", f.exits_restarted));
  absl::StrAppend(&out, "  faults       ", injected.empty() ? "none" : absl::StrJoin(injected, ", "), "\n");
  absl::StrAppend(&out, absl::StrFormat(
      "  network      %d sent, %d delivered, %d lost, %d duplicated, %d cut, %d clogged, %d to down nodes\n",
      r.network.sent, r.network.delivered, r.network.lost, r.network.duplicated, r.network.cut,
      r.network.clogged, r.network.to_down_node));
  absl::StrAppend(&out, absl::StrFormat(
      "  disk         %d fsyncs (%d failed), %d read errors, %d bit flips on read, %d at rest, "
      "%d misdirected writes, %d disk-full errors;\n"
      "               at crashes %d writes lost, %d torn, %d names lost\n",
      r.disk.syncs, r.disk.sync_errors, r.disk.read_errors, r.disk.bitflips,
      r.disk.corrupted_at_rest, r.disk.misdirected_writes, r.disk.full_errors,
      r.disk.crash_writes_lost, r.disk.crash_writes_torn, r.disk.crash_names_lost));
  absl::StrAppend(&out, absl::StrFormat(
      "  operations   %d: %d ok, %d failed, %d unknown\n", r.history.operations().size(),
      r.history.count(OpOutcome::kOk), r.history.count(OpOutcome::kFail),
      r.history.count(OpOutcome::kInfo) + r.history.count(OpOutcome::kOpen)));
  if (!r.figures.empty()) {
    std::vector<std::string> figures;
    for (const Figure& fig : r.figures) figures.push_back(absl::StrCat(fig.name, " ", fig.value));
    absl::StrAppend(&out, "  figures      ", absl::StrJoin(figures, ", "), "\n");
  }
  if (!r.knobs.empty()) absl::StrAppend(&out, "  knobs        ", r.knobs, "\n");
  absl::StrAppend(&out, absl::StrFormat(
      "  buggify      %d fault points reached, %d enabled this seed, fired %d times\n",
      r.buggify_sites_reached, r.buggify_sites_enabled, r.buggify_fired));
  size_t always_sites = 0, sometimes_sites = 0, sometimes_held = 0;
  std::vector<std::string> never;
  for (const auto& [name, site] : r.assertions.sites) {
    if (site.always) {
      ++always_sites;
    } else {
      ++sometimes_sites;
      if (site.held > 0) ++sometimes_held; else never.push_back(name);
    }
  }
  absl::StrAppend(&out, absl::StrFormat(
      "  assertions   %d always sites reached; %d of %d sometimes sites held at least once%s\n",
      always_sites, sometimes_held, sometimes_sites,
      never.empty() ? std::string() : absl::StrCat(" (not: ", absl::StrJoin(never, ", "), ")")));
  absl::StrAppend(&out, "  checks\n");
  for (const CheckResult& c : r.checks) {
    const std::string verdict = !c.passed   ? absl::StrFormat("FAILED (%d violations)", c.violation_count)
                                : c.undecided ? std::string("passed (undecided: the search budget ran out)")
                                              : std::string("passed");
    absl::StrAppend(&out, absl::StrFormat("    %-18s %s\n", c.name, verdict));
    for (const std::string& v : c.violations) absl::StrAppend(&out, "      - ", v, "\n");
  }
  absl::StrAppend(&out, absl::StrFormat("  trace hash   %016x\n", r.trace_hash));
  absl::StrAppend(&out, absl::StrFormat("  verdict      %s\n", r.passed() ? "PASS"
                                                          : !r.safe()   ? "FAIL (safety: a check of what happened failed)"
                                                                        : "FAIL (liveness: the run did not converge after healing)"));
  absl::StrAppend(&out, "  replay       ", scenario.ReplayCommand(base), "\n");
  return out;
}

}  // namespace cairn::sim

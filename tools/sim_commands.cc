// cairn sim run | replay | sweep | shrink | canaries | determinism | workloads: seeded
// simulations of any workload (sim/harness/workload.h), the same commands for every one.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "sim/check/history_format.h"
#include "sim/harness/scenario_file.h"
#include "sim/harness/shrink.h"
#include "sim/harness/simulation.h"
#include "sim/harness/tape.h"
#include "src/base/status.h"
#include "src/base/strings.h"
#include "src/runtime/assertions.h"
#include "src/runtime/knobs.h"
#include "tools/cli.h"
#include "tools/commands.h"
#include "tools/sweep.h"

namespace cairn::tools {
namespace {

using sim::RunResult;
using sim::Scenario;

int UsageError(const absl::Status& s) { return Fail("sim", s); }

double WallSecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// A seed: a decimal number from 0 to 2^64-1 ("-5" is refused, not wrapped round).
absl::StatusOr<uint64_t> ParseSeed(const std::string& text) {
  uint64_t seed = 0;
  if (text.empty() || text[0] == '-' || text[0] == '+' || !absl::SimpleAtoi(text, &seed)) {
    return absl::InvalidArgumentError(absl::StrCat("'", text, "' is not a seed (a number from 0 to 2^64-1)"));
  }
  return seed;
}

// "A..B" or "N" → [A, B].
absl::StatusOr<std::pair<uint64_t, uint64_t>> ParseSeedRange(const std::string& text) {
  const size_t dots = text.find("..");
  if (dots == std::string::npos) {
    absl::StatusOr<uint64_t> one = ParseSeed(text);
    if (!one.ok()) return one.status();
    return std::make_pair(*one, *one);
  }
  absl::StatusOr<uint64_t> first = ParseSeed(text.substr(0, dots));
  absl::StatusOr<uint64_t> last = ParseSeed(text.substr(dots + 2));
  if (!first.ok() || !last.ok() || *first > *last) {
    return absl::InvalidArgumentError(absl::StrCat("--seeds: '", text, "' is not a seed or a range A..B with A <= B"));
  }
  return std::make_pair(*first, *last);
}

std::string WorkloadNames() {
  std::vector<std::string> names;
  for (const sim::WorkloadInfo* w : sim::Workloads()) names.push_back(w->name);
  return absl::StrJoin(names, ", ");
}

// What decides a run, shared by run, sweep, shrink and determinism. A scenario file, if
// given, is the base; flags given on the command line override it.
struct ScenarioFlags {
  std::string workload, scenario_path;
  int replicas = 3, clients = 3, keys = 4;
  int64_t chaos_ms = 0, heal_ms = 0, fault_pace_ms = 0;
  std::string faults;
  bool no_faults = false, default_knobs = false, no_buggify = false, no_leases = false;
  std::vector<std::string> sets, knobs, canaries;
  std::map<std::string, CLI::Option*> given;
  Scenario base;  // the scenario file's, or the workload's defaults (set by Resolve)

  void Add(CLI::App* cmd) {
    given["workload"] = cmd->add_option("--workload,-w", workload,
                                        "The workload: " + WorkloadNames() +
                                            " (default register; `cairn sim workloads` describes them)");
    given["scenario"] = cmd->add_option("--scenario", scenario_path,
                                        "A scenario file (docs/simulation.md); flags override it");
    given["set"] = cmd->add_option("--set", sets, "Set an option of the workload, name=value (repeatable)");
    given["replicas"] = cmd->add_option("--replicas", replicas, "register: replicas (--set replicas=N)")
        ->check(CLI::Range(1, 9));
    given["clients"] = cmd->add_option("--clients", clients, "register: client processes")->check(CLI::Range(1, 64));
    given["keys"] = cmd->add_option("--keys", keys, "register: distinct keys the clients use")->check(CLI::Range(1, 1000));
    given["no-leases"] = cmd->add_flag("--no-leases", no_leases, "register: clients read no key under a lease");
    given["chaos"] = cmd->add_option("--chaos-ms", chaos_ms, "Simulated milliseconds of operations under faults")
        ->check(CLI::Range(int64_t{100}, int64_t{3'600'000}));
    given["heal"] = cmd->add_option("--heal-ms", heal_ms, "Simulated milliseconds after the faults heal")
        ->check(CLI::Range(int64_t{2000}, int64_t{3'600'000}));
    given["faults"] = cmd->add_option("--faults", faults,
                                      "Fault kinds, comma-separated (crash-restart, crash-stop, power-loss, pause,\n"
                                      "partition, clog, swizzle, degrade, clock, disk-errors, disk-full, corruption),\n"
                                      "or default (the workload's), swarm (the seed picks) or none");
    given["pace"] = cmd->add_option("--fault-pace-ms", fault_pace_ms,
                                    "Mean simulated milliseconds between faults (0: the seed picks)")
        ->check(CLI::Range(int64_t{0}, int64_t{600'000}));
    given["no-faults"] = cmd->add_flag("--no-faults", no_faults, "Run without the nemesis");
    given["default-knobs"] = cmd->add_flag("--default-knobs", default_knobs, "Keep knobs at their defaults (no randomization)");
    given["no-buggify"] = cmd->add_flag("--no-buggify", no_buggify, "Switch fault points off");
    given["knob"] = cmd->add_option("--knob", knobs, "Fix a knob, name=value (see `cairn knobs`); repeatable");
    std::string canary_help = "Plant a known bug the checks must catch (repeatable; the workload's):";
    for (const sim::WorkloadInfo* w : sim::Workloads()) {
      for (const sim::CanaryInfo& c : w->canaries) absl::StrAppend(&canary_help, "\n  ", w->name, ": ", c.name, ": ", c.bug);
    }
    given["canary"] = cmd->add_option("--canary", canaries, canary_help);
  }

  bool Given(const std::string& name) const {
    auto it = given.find(name);
    return it != given.end() && it->second != nullptr && it->second->count() > 0;
  }

  // Reads the scenario file (if any) and applies the flags given; the seed is set per run.
  absl::StatusOr<Scenario> Resolve() {
    if (!scenario_path.empty()) {
      absl::StatusOr<std::string> text = ReadWholeFile(scenario_path);
      if (!text.ok()) return absl::NotFoundError(absl::StrCat("cannot open scenario file '", scenario_path, "'"));
      absl::StatusOr<Scenario> parsed = sim::ParseScenario(*text, scenario_path);
      if (!parsed.ok()) return parsed.status();
      if (Given("workload") && workload != parsed->workload) {
        return absl::InvalidArgumentError(absl::StrCat("--workload ", workload, ": the scenario file ", scenario_path,
                                                       " is for workload ", parsed->workload));
      }
      base = *parsed;
    } else {
      absl::StatusOr<Scenario> defaults = sim::ScenarioFor(workload.empty() ? "register" : workload);
      if (!defaults.ok()) return defaults.status();
      base = *defaults;
    }
    Scenario s = base;
    auto set = [&](const std::string& name, const std::string& value) { return sim::SetOption(s, name, value); };
    if (Given("replicas")) RETURN_IF_ERROR(set("replicas", std::to_string(replicas)));
    if (Given("clients")) RETURN_IF_ERROR(set("clients", std::to_string(clients)));
    if (Given("keys")) RETURN_IF_ERROR(set("keys", std::to_string(keys)));
    if (no_leases) RETURN_IF_ERROR(set("leases", "false"));
    for (const std::string& assignment : sets) {
      const size_t eq = assignment.find('=');
      if (eq == std::string::npos) {
        return absl::InvalidArgumentError(absl::StrCat("--set ", assignment, ": expected name=value"));
      }
      RETURN_IF_ERROR(set(assignment.substr(0, eq), assignment.substr(eq + 1)));
    }
    if (Given("chaos")) s.chaos = std::chrono::milliseconds(chaos_ms);
    if (Given("heal")) s.heal = std::chrono::milliseconds(heal_ms);
    if (Given("faults")) {
      s.faults = true;
      s.fault_kinds.clear();
      s.fault_swarm = faults == "swarm";
      if (faults == "none") s.faults = false;
      if (faults != "swarm" && faults != "none" && faults != "default") {
        for (absl::string_view name : absl::StrSplit(faults, ',', absl::SkipWhitespace())) {
          std::optional<fault::FaultKind> k = fault::FaultKindFromName(StdView(name));
          if (!k) return absl::InvalidArgumentError(absl::StrCat("--faults: unknown fault kind '", name, "'"));
          s.fault_kinds.push_back(*k);
        }
      }
    }
    if (Given("pace")) s.fault_pace = std::chrono::milliseconds(fault_pace_ms);
    if (no_faults) s.faults = false;
    if (default_knobs) s.randomize_knobs = false;
    if (no_buggify) s.buggify = false;
    for (const std::string& k : knobs) {
      Knobs probe;
      RETURN_IF_ERROR(probe.SetAssignment(k));
      s.knob_settings.push_back(k);
    }
    for (const std::string& c : canaries) RETURN_IF_ERROR(sim::PlantCanary(s, c));
    return s;
  }
};

Scenario WithSeed(Scenario s, uint64_t seed) {
  s.seed = seed;
  return s;
}

// A tape that cannot be read or parsed is an unreadable input (exit 3), not bad usage.
absl::StatusOr<sim::Tape> ReadTape(const std::string& path) {
  absl::StatusOr<std::string> text = ReadWholeFile(path);
  if (!text.ok()) return text.status();
  absl::StatusOr<sim::Tape> tape = sim::Tape::Parse(*text, path);
  if (!tape.ok()) return absl::DataLossError(tape.status().message());
  return tape;
}

// What `sim run` and `sim replay` can write besides the summary.
struct RunOutputs {
  std::string trace_path;
  size_t trace_max = 2'000'000;
  std::string tape_path;
  std::string history_path;
  bool verbose = false;
  void Add(CLI::App* cmd) {
    cmd->add_option("--trace", trace_path,
                    "Write the run's trace (one event per line) to this file, for `cairn trace`");
    cmd->add_option("--trace-max", trace_max, "Most events written with --trace")->capture_default_str();
    cmd->add_option("--history", history_path,
                    "Write the clients' history (Cairn's format) to this file, for `cairn check`");
    cmd->add_option("--record-tape", tape_path,
                    "Write the run's schedule as a tape, for `sim replay --tape` and `sim shrink`");
    cmd->add_flag("--verbose,-v", verbose, "Print node log lines as they happen");
  }
};

int RunAndReport(Scenario s, const Scenario& base, const RunOutputs& out) {
  s.echo_logs = out.verbose;
  if (!out.trace_path.empty()) s.trace_records_max = out.trace_max;
  const auto start = std::chrono::steady_clock::now();
  RunResult r = sim::RunScenario(s);
  const double wall = WallSecondsSince(start);
  std::printf("%s", sim::FormatSummary(s, r, wall, base).c_str());
  if (!out.trace_path.empty()) {
    std::string text;
    for (const sim::TraceRecord& rec : r.trace) absl::StrAppend(&text, sim::Trace::FormatRecord(rec), "\n");
    if (absl::Status st = WriteWholeFile(out.trace_path, text); !st.ok()) return UsageError(st);
    std::printf("  trace        %zu events written to %s\n", r.trace.size(), out.trace_path.c_str());
  }
  if (!out.history_path.empty()) {
    if (absl::Status st = WriteWholeFile(out.history_path, sim::FormatCairnHistory(r.history)); !st.ok()) {
      return UsageError(st);
    }
    std::printf("  history      %zu operations written to %s (cairn check %s --model register)\n",
                r.history.operations().size(), out.history_path.c_str(), out.history_path.c_str());
  }
  if (!out.tape_path.empty()) {
    Scenario recorded = s;
    recorded.scenario_file.clear();
    if (absl::Status st = WriteWholeFile(out.tape_path, sim::Tape::FromRun(recorded, r).Format()); !st.ok()) {
      return UsageError(st);
    }
    std::printf("  tape         written to %s (cairn sim replay --tape %s)\n", out.tape_path.c_str(),
                out.tape_path.c_str());
  }
  return r.passed() ? 0 : 1;
}

// cairn sim run / cairn sim replay
void AddRunCommand(CLI::App* sim, Action& action, bool replay) {
  auto flags = std::make_shared<ScenarioFlags>();
  auto seed = std::make_shared<std::string>("1");
  auto out = std::make_shared<RunOutputs>();
  auto tape_path = std::make_shared<std::string>();
  CLI::App* run = sim->add_subcommand(
      replay ? "replay" : "run",
      replay ? "Replay a run: a tape (--tape FILE, from `sim run --record-tape` or `sim shrink`), or a\n"
               "seed with its flags (the same as `sim run`). Exit status: 0 passed, 1 a check failed, 2 bad input."
             : "Simulate a workload under a seeded nemesis, check it, print a summary. The same seed\n"
               "replays the same run, event for event (the trace hash shows it).\n"
               "Exit status: 0 every check passed, 1 a check failed, 2 bad usage, 3 an unreadable tape or file.");
  run->add_option("--seed", *seed, "The seed: every choice of the run derives from it")->capture_default_str();
  if (replay) run->add_option("--tape", *tape_path, "A tape to replay (its own settings and seed)");
  flags->Add(run);
  out->Add(run);
  run->callback([&action, flags, seed, out, tape_path] {
    action = [=] {
      if (!tape_path->empty()) {
        absl::StatusOr<sim::Tape> tape = ReadTape(*tape_path);
        if (!tape.ok()) return UsageError(tape.status());
        Scenario s = tape->ToScenario(*tape_path);
        return RunAndReport(s, s, *out);
      }
      absl::StatusOr<uint64_t> n = ParseSeed(*seed);
      if (!n.ok()) return UsageError(n.status());
      absl::StatusOr<Scenario> resolved = flags->Resolve();
      if (!resolved.ok()) return UsageError(resolved.status());
      return RunAndReport(WithSeed(*resolved, *n), flags->base, *out);
    };
  });
}

// cairn sim shrink
void AddShrinkCommand(CLI::App* sim, Action& action) {
  auto flags = std::make_shared<ScenarioFlags>();
  auto seed = std::make_shared<std::string>("1");
  auto tape_path = std::make_shared<std::string>();
  auto out_path = std::make_shared<std::string>("shrunk.tape");
  auto runs_max = std::make_shared<size_t>(2000);
  CLI::App* shrink = sim->add_subcommand(
      "shrink",
      "Shrink a failing run to a small tape that fails the same check: fewer faults, fewer\n"
      "operations, a shorter run (delta debugging; docs/simulation.md). The run is a tape\n"
      "(--tape) or a seed with its flags. Writes the shrunk tape and prints how to replay it.\n"
      "Exit status: 0 shrunk, 2 bad input or a run that does not fail.");
  shrink->add_option("--seed", *seed, "The failing seed")->capture_default_str();
  shrink->add_option("--tape", *tape_path, "A failing tape instead of a seed");
  shrink->add_option("--out,-o", *out_path, "Where to write the shrunk tape")->capture_default_str();
  shrink->add_option("--runs-max", *runs_max, "Most simulations to spend")->capture_default_str();
  flags->Add(shrink);
  shrink->callback([&action, flags, seed, tape_path, out_path, runs_max] {
    action = [=] {
      sim::Tape tape;
      if (!tape_path->empty()) {
        absl::StatusOr<sim::Tape> parsed = ReadTape(*tape_path);
        if (!parsed.ok()) return UsageError(parsed.status());
        tape = *parsed;
      } else {
        absl::StatusOr<uint64_t> n = ParseSeed(*seed);
        if (!n.ok()) return UsageError(n.status());
        absl::StatusOr<Scenario> resolved = flags->Resolve();
        if (!resolved.ok()) return UsageError(resolved.status());
        Scenario s = WithSeed(*resolved, *n);
        s.scenario_file.clear();
        tape = sim::Tape::FromRun(s, sim::RunScenario(s));
      }
      sim::ShrinkOptions options;
      options.runs_max = *runs_max;
      options.progress = [](const std::string& line) {
        std::printf("  %s\n", line.c_str());
        std::fflush(stdout);
      };
      const auto start = std::chrono::steady_clock::now();
      absl::StatusOr<sim::ShrinkResult> shrunk = sim::Shrink(tape, options);
      if (!shrunk.ok()) return UsageError(shrunk.status());
      if (absl::Status st = WriteWholeFile(*out_path, shrunk->tape.Format()); !st.ok()) return UsageError(st);
      std::printf("shrunk in %zu runs (%.1f s): check %s still fails with %zu of %zu faults, %zu of %zu\n"
                  "operations, %s of %s of chaos\n  tape    %s\n  replay  cairn sim replay --tape %s\n",
                  shrunk->runs, WallSecondsSince(start), shrunk->check.c_str(), shrunk->faults_after,
                  shrunk->faults_before, shrunk->ops_after, shrunk->ops_before,
                  FormatDuration(shrunk->chaos_after).c_str(), FormatDuration(shrunk->chaos_before).c_str(),
                  out_path->c_str(), out_path->c_str());
      return 0;
    };
  });
}

// The Sometimes sites of `workload`'s probe folders that held in no seed of a sweep.
std::vector<std::string> SometimesNeverHeld(const sim::WorkloadInfo& workload,
                                            const std::map<std::string, uint64_t>& held_in_seeds) {
  std::vector<std::string> never;
  for (const AssertionSite& site : DeclaredAssertions()) {
    if (site.always) continue;
    const std::string file = site.file;
    const bool ours = std::any_of(workload.probe_dirs.begin(), workload.probe_dirs.end(),
                                  [&](const std::string& dir) { return file.rfind(dir + "/", 0) == 0; });
    if (!ours) continue;
    auto it = held_in_seeds.find(site.name);
    if (it == held_in_seeds.end() || it->second == 0) {
      never.push_back(absl::StrCat(site.name, " (", site.file, ":", site.line, ")"));
    }
  }
  std::sort(never.begin(), never.end());
  never.erase(std::unique(never.begin(), never.end()), never.end());
  return never;
}

// cairn sim sweep
void AddSweepCommand(CLI::App* sim, Action& action) {
  auto flags = std::make_shared<ScenarioFlags>();
  auto seeds = std::make_shared<std::string>("1..20");
  auto jobs = std::make_shared<int>(1);
  auto stop_on_failure = std::make_shared<bool>(false);
  CLI::App* sweep = sim->add_subcommand(
      "sweep", "Run many seeds of a workload; print a table, the replay command of each failing seed,\n"
               "the totals of the workload's figures, and the Sometimes probes that never held.\n"
               "Exit status: 0 all passed, 1 some failed, 2 bad input.");
  sweep->add_option("--seeds", *seeds, "Seed range A..B (inclusive) or one seed")->capture_default_str();
  sweep->add_option("--jobs,-j", *jobs, "Simulations run at once (threads)")->check(CLI::Range(1, 64))->capture_default_str();
  sweep->add_flag("--stop-on-failure", *stop_on_failure, "Stop at the first failing seed");
  flags->Add(sweep);
  sweep->callback([&action, flags, seeds, jobs, stop_on_failure] {
    action = [=] {
      absl::StatusOr<std::pair<uint64_t, uint64_t>> range = ParseSeedRange(*seeds);
      if (!range.ok()) return UsageError(range.status());
      SweepOptions options;
      options.first_seed = range->first;
      options.last_seed = range->second;
      options.jobs = *jobs;
      options.stop_on_failure = *stop_on_failure;
      absl::StatusOr<Scenario> resolved = flags->Resolve();
      if (!resolved.ok()) return UsageError(resolved.status());
      const sim::WorkloadInfo& workload = *sim::FindWorkload(resolved->workload);
      std::vector<std::string> replays;
      std::map<std::string, uint64_t> sometimes_held;  // name → seeds in which it held
      std::vector<sim::Figure> totals;
      uint64_t undecided = 0;
      std::printf("%-8s %-7s %-9s %-8s %-18s %s\n", "seed", "verdict", "sim-s", "ops", "trace-hash", "failed checks");
      SweepSummary summary = RunSweep(
          options, [&](uint64_t seed) { return WithSeed(*resolved, seed); },
          [&](const Scenario& s, const RunResult& r) {
            std::printf("%-8llu %-7s %-9.1f %-8zu %016llx   %s\n", static_cast<unsigned long long>(s.seed),
                        r.passed() ? "pass" : "FAIL", ToSeconds(r.simulated), r.history.operations().size(),
                        static_cast<unsigned long long>(r.trace_hash), absl::StrJoin(r.FailedChecks(), " ").c_str());
            std::fflush(stdout);
            if (!r.passed()) replays.push_back(s.ReplayCommand(flags->base));
            for (const auto& [name, site] : r.assertions.sites) {
              if (!site.always) sometimes_held[name] += site.held > 0;
            }
            for (const sim::CheckResult& c : r.checks) undecided += c.undecided;
            if (totals.empty()) totals = r.figures;
            for (size_t i = 0; i < totals.size() && i < r.figures.size(); ++i) {
              if (&totals != &r.figures && s.seed != options.first_seed) totals[i].value += r.figures[i].value;
            }
          });
      std::printf("\n%llu seeds of %s, %llu operations, %.0f simulated s in %.1f wall s (%d jobs): %llu failed\n",
                  static_cast<unsigned long long>(summary.runs), workload.name.c_str(),
                  static_cast<unsigned long long>(summary.operations), summary.simulated_seconds, summary.wall_seconds,
                  options.jobs, static_cast<unsigned long long>(summary.failures));
      for (const std::string& cmd : replays) std::printf("  replay: %s\n", cmd.c_str());
      if (!totals.empty()) {
        std::vector<std::string> parts;
        for (const sim::Figure& f : totals) parts.push_back(absl::StrCat(f.name, " ", f.value));
        std::printf("totals: %s\n", absl::StrJoin(parts, ", ").c_str());
      }
      if (undecided > 0) {
        std::printf("undecided: %llu checks passed only because a bounded search gave up\n",
                    static_cast<unsigned long long>(undecided));
      }
      const std::vector<std::string> never = SometimesNeverHeld(workload, sometimes_held);
      std::printf("sometimes: %zu sites held in at least one seed",
                  static_cast<size_t>(std::count_if(sometimes_held.begin(), sometimes_held.end(),
                                                    [](const auto& e) { return e.second > 0; })));
      if (never.empty()) {
        std::printf("; none of %s missed\n", absl::StrJoin(workload.probe_dirs, ", ").c_str());
      } else {
        std::printf("; never held in this sweep:\n");
        for (const std::string& n : never) std::printf("  %s\n", n.c_str());
      }
      return summary.failures == 0 ? 0 : 1;
    };
  });
}

// cairn sim canaries
void AddCanariesCommand(CLI::App* sim, Action& action) {
  auto workload = std::make_shared<std::string>();
  auto only = std::make_shared<std::string>();
  auto sweeps = std::make_shared<int>(5);
  auto seeds_max = std::make_shared<uint64_t>(400);
  auto jobs = std::make_shared<int>(1);
  CLI::App* canaries = sim->add_subcommand(
      "canaries",
      "Measure the simulator's power: for each planted bug of each workload, run several sweeps\n"
      "over disjoint seed ranges and report how many seeds each needed to catch it (and the median).\n"
      "Exit status: 0 every canary caught in every sweep, 1 not, 2 bad input.");
  canaries->add_option("--workload,-w", *workload, "Only this workload's canaries (" + WorkloadNames() + ")");
  canaries->add_option("--canary", *only, "Only this canary");
  canaries->add_option("--sweeps", *sweeps, "Sweeps per canary")->check(CLI::Range(1, 100))->capture_default_str();
  canaries->add_option("--seeds-max", *seeds_max, "Seeds per sweep before giving up")->capture_default_str();
  canaries->add_option("--jobs,-j", *jobs, "Simulations run at once (threads)")->check(CLI::Range(1, 64))->capture_default_str();
  canaries->callback([&action, workload, only, sweeps, seeds_max, jobs] {
    action = [=] {
      if (!workload->empty() && sim::FindWorkload(*workload) == nullptr) {
        return UsageError(sim::ScenarioFor(*workload).status());
      }
      bool all_caught = true, any = false;
      std::printf("%-10s %-28s %-8s %s\n", "workload", "canary", "median", "seeds to first detection, per sweep");
      for (const sim::WorkloadInfo* w : sim::Workloads()) {
        if (!workload->empty() && w->name != *workload) continue;
        for (const sim::CanaryInfo& canary : w->canaries) {
          if (!only->empty() && canary.name != *only) continue;
          any = true;
          std::vector<uint64_t> found;
          std::string row;
          for (int k = 0; k < *sweeps; ++k) {
            SweepOptions options;
            options.first_seed = 1 + static_cast<uint64_t>(k) * 100'000;
            options.last_seed = options.first_seed + *seeds_max - 1;
            options.jobs = *jobs;
            options.stop_on_failure = true;
            SweepSummary summary = RunSweep(
                options, [&](uint64_t seed) { return sim::CanaryHunt(*w, canary, seed); },
                [](const Scenario&, const RunResult&) {});
            if (summary.failures == 0) {
              all_caught = false;
              row += " never";
            } else {
              const uint64_t n = summary.first_failure - options.first_seed + 1;
              found.push_back(n);
              absl::StrAppend(&row, " ", n);  // not operator+: g++ 12's -Wrestrict at -O3
            }
          }
          std::sort(found.begin(), found.end());
          const std::string median =
              found.size() == static_cast<size_t>(*sweeps) ? std::to_string(found[found.size() / 2]) : std::string("-");
          std::printf("%-10s %-28s %-8s%s%s\n", w->name.c_str(), canary.name.c_str(), median.c_str(), row.c_str(),
                      canary.fault_kinds.empty() ? "" : "   (faults: its own mix)");
          std::fflush(stdout);
        }
      }
      if (!any) return UsageError(absl::NotFoundError(absl::StrCat("no canary '", *only, "'")));
      return all_caught ? 0 : 1;
    };
  });
}

// cairn sim determinism
void AddDeterminismCommand(CLI::App* sim, Action& action) {
  auto flags = std::make_shared<ScenarioFlags>();
  auto seed = std::make_shared<std::string>("1");
  CLI::App* det = sim->add_subcommand(
      "determinism",
      "Run one seed twice in this process and compare trace hashes; on a mismatch, name the\n"
      "first divergent event. (CI also compares hashes across processes.) Exit 0 same, 1 not, 2 bad input.");
  det->add_option("--seed", *seed, "The seed")->capture_default_str();
  flags->Add(det);
  det->callback([&action, flags, seed] {
    action = [=] {
      absl::StatusOr<uint64_t> n = ParseSeed(*seed);
      if (!n.ok()) return UsageError(n.status());
      absl::StatusOr<Scenario> resolved = flags->Resolve();
      if (!resolved.ok()) return UsageError(resolved.status());
      Scenario s = WithSeed(*resolved, *n);
      s.trace_records_max = 5'000'000;
      RunResult a = sim::RunScenario(s);
      RunResult b = sim::RunScenario(s);
      std::printf("%s seed %llu: run 1 %016llx, run 2 %016llx (%llu trace items)\n", s.workload.c_str(),
                  static_cast<unsigned long long>(*n), static_cast<unsigned long long>(a.trace_hash),
                  static_cast<unsigned long long>(b.trace_hash), static_cast<unsigned long long>(a.trace_items));
      if (a.trace_hash == b.trace_hash) {
        std::printf("deterministic\n");
        return 0;
      }
      for (size_t i = 0; i < std::min(a.trace.size(), b.trace.size()); ++i) {
        if (a.trace[i].hash_after != b.trace[i].hash_after) {
          std::printf("NONDETERMINISM: first divergent event #%zu\n  run 1: %s\n  run 2: %s\n", i,
                      sim::Trace::FormatRecord(a.trace[i]).c_str(), sim::Trace::FormatRecord(b.trace[i]).c_str());
          return 1;
        }
      }
      std::printf("NONDETERMINISM: traces diverge after the recorded events\n");
      return 1;
    };
  });
}

// cairn sim workloads
void AddWorkloadsCommand(CLI::App* sim, Action& action) {
  CLI::App* list = sim->add_subcommand("workloads", "Describe every workload: its options, defaults and canaries");
  list->callback([&action] {
    action = [] {
      for (const sim::WorkloadInfo* w : sim::Workloads()) {
        std::printf("%s: %s\n", w->name.c_str(), w->title.c_str());
        for (absl::string_view line : absl::StrSplit(w->description, '\n')) std::printf("    %s\n", std::string(line).c_str());
        std::vector<std::string> kinds;
        for (fault::FaultKind k : w->fault_kinds) kinds.push_back(fault::FaultKindName(k));
        std::printf("  defaults: %s chaos, %s healed, faults %s, pace %s\n", FormatDuration(w->chaos).c_str(),
                    FormatDuration(w->heal).c_str(), kinds.empty() ? "swarm" : absl::StrJoin(kinds, ",").c_str(),
                    w->fault_pace > Duration(0) ? FormatDuration(w->fault_pace).c_str() : "seeded");
        for (const sim::WorkloadOption& o : w->options) {
          std::printf("  --set %s=%s  %s%s\n", o.name.c_str(), o.default_value.c_str(), o.help.c_str(),
                      o.kind == sim::WorkloadOption::Kind::kInteger ? absl::StrFormat(" (%d..%d)", o.min, o.max).c_str()
                                                                     : " (true or false)");
        }
        for (const sim::CanaryInfo& c : w->canaries) std::printf("  --canary %s  %s\n", c.name.c_str(), c.bug.c_str());
      }
      return 0;
    };
  });
}

}  // namespace

void AddSimCommands(CLI::App& app, Action& action) {
  CLI::App* sim = app.add_subcommand("sim", "Run seeded, deterministic simulations of a workload");
  sim->require_subcommand(1);
  AddRunCommand(sim, action, /*replay=*/false);
  AddRunCommand(sim, action, /*replay=*/true);
  AddSweepCommand(sim, action);
  AddShrinkCommand(sim, action);
  AddCanariesCommand(sim, action);
  AddDeterminismCommand(sim, action);
  AddWorkloadsCommand(sim, action);
}

}  // namespace cairn::tools

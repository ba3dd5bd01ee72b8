// cairn sim run | sweep | determinism: seeded simulations of the demo service.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "sim/history_format.h"
#include "sim/scenario_file.h"
#include "sim/shrink.h"
#include "sim/tape.h"
#include "src/base/strings.h"
#include "src/runtime/assertions.h"
#include "src/runtime/knobs.h"
#include "absl/strings/str_format.h"
#include "sim/demo_scenario.h"
#include "tools/commands.h"
#include "tools/sweep.h"

namespace cairn::tools {
namespace {

using sim::DemoResult;
using sim::DemoScenario;

// Options shared by run, sweep and determinism. A scenario file, if given, is the base; flags
// given on the command line override it.
struct ScenarioFlags {
  std::string scenario_path;
  int replicas = 3, clients = 3, keys = 4;
  int64_t chaos_ms = 20'000, heal_ms = 10'000, fault_pace_ms = 0;
  std::string faults;
  bool no_faults = false, default_knobs = false, no_buggify = false, no_leases = false;
  std::vector<std::string> knobs, canaries;
  std::map<std::string, CLI::Option*> given;
  DemoScenario base;  // the scenario file's, or the defaults (set by Resolve)

  void Add(CLI::App* cmd) {
    given["scenario"] = cmd->add_option("--scenario", scenario_path,
                                        "A scenario file (docs/simulation.md); flags override it");
    given["replicas"] = cmd->add_option("--replicas", replicas, "Replicas of the register")
        ->check(CLI::Range(1, 9))->capture_default_str();
    given["clients"] = cmd->add_option("--clients", clients, "Client processes")
        ->check(CLI::Range(1, 64))->capture_default_str();
    given["keys"] = cmd->add_option("--keys", keys, "Distinct keys the clients use")
        ->check(CLI::Range(1, 1000))->capture_default_str();
    given["chaos"] = cmd->add_option("--chaos-ms", chaos_ms, "Simulated milliseconds of operations under faults")
        ->check(CLI::Range(int64_t{100}, int64_t{3'600'000}))->capture_default_str();
    given["heal"] = cmd->add_option("--heal-ms", heal_ms, "Simulated milliseconds after the faults heal")
        ->check(CLI::Range(int64_t{2000}, int64_t{3'600'000}))->capture_default_str();
    given["faults"] = cmd->add_option("--faults", faults,
                                      "Fault kinds to use, comma-separated (crash-restart, crash-stop, power-loss,\n"
                                      "pause, partition, clog, swizzle, degrade, clock, disk-errors, disk-full,\n"
                                      "corruption), or swarm (the seed picks; the default)");
    given["pace"] = cmd->add_option("--fault-pace-ms", fault_pace_ms,
                                    "Mean simulated milliseconds between faults (0: the seed picks)");
    given["no-faults"] = cmd->add_flag("--no-faults", no_faults, "Run without the nemesis");
    given["default-knobs"] = cmd->add_flag("--default-knobs", default_knobs, "Keep knobs at their defaults (no randomization)");
    given["no-buggify"] = cmd->add_flag("--no-buggify", no_buggify, "Switch fault points off");
    given["knob"] = cmd->add_option("--knob", knobs, "Fix a knob, name=value (see `cairn knobs`); repeatable");
    std::vector<std::string> canary_names;
    std::string canary_help = "Plant a known bug the checks must catch (repeatable):";
    for (const sim::Canary& c : sim::Canaries()) {
      canary_names.push_back(c.name);
      absl::StrAppend(&canary_help, "\n  ", c.name, ": ", c.bug);
    }
    given["canary"] = cmd->add_option("--canary", canaries, canary_help)->check(CLI::IsMember(canary_names));
    given["no-leases"] = cmd->add_flag("--no-leases", no_leases, "Clients read no key under a lease");
  }

  bool Given(const std::string& name) const {
    auto it = given.find(name);
    return it != given.end() && it->second != nullptr && it->second->count() > 0;
  }

  // Reads the scenario file (if any) and applies the flags given; the seed is set per run.
  absl::StatusOr<DemoScenario> Resolve() {
    base = DemoScenario();
    if (!scenario_path.empty()) {
      std::ifstream in(scenario_path);
      if (!in) return absl::NotFoundError(absl::StrCat("cannot open scenario file '", scenario_path, "'"));
      std::stringstream text;
      text << in.rdbuf();
      absl::StatusOr<DemoScenario> parsed = sim::ParseScenario(text.str(), scenario_path);
      if (!parsed.ok()) return parsed.status();
      base = *parsed;
    }
    DemoScenario s = base;
    if (Given("replicas")) s.replicas = replicas;
    if (Given("clients")) s.clients = clients;
    if (Given("keys")) s.keys = keys;
    if (Given("chaos")) s.chaos = std::chrono::milliseconds(chaos_ms);
    if (Given("heal")) s.heal = std::chrono::milliseconds(heal_ms);
    if (Given("faults")) {
      s.faults = true;
      s.fault_kinds.clear();
      if (faults == "none") s.faults = false;
      if (faults != "swarm" && faults != "none") {
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
      if (absl::Status st = probe.SetAssignment(k); !st.ok()) return st;
      s.knob_settings.push_back(k);
    }
    for (const std::string& c : canaries) {
      if (absl::Status st = sim::PlantCanary(s, c); !st.ok()) return st;
    }
    if (no_leases) s.leases = false;
    return s;
  }
};

absl::StatusOr<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open '", path, "'"));
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

absl::Status WriteWholeFile(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  out.close();
  if (!out) return absl::UnavailableError(absl::StrCat("cannot write '", path, "'"));
  return absl::OkStatus();
}

DemoScenario WithSeed(DemoScenario s, uint64_t seed) {
  s.seed = seed;
  return s;
}

int UsageError(const absl::Status& s) {
  std::fprintf(stderr, "error: %s\n", std::string(s.message()).c_str());
  return 2;
}

bool WriteTrace(const std::string& path, const DemoResult& r);
double WallSecondsSince(std::chrono::steady_clock::time_point start);

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

int RunAndReport(DemoScenario s, const DemoScenario& base, const RunOutputs& out) {
  s.echo_logs = out.verbose;
  if (!out.trace_path.empty()) s.trace_records_max = out.trace_max;
  const auto start = std::chrono::steady_clock::now();
  DemoResult r = sim::RunDemoScenario(s);
  const double wall = WallSecondsSince(start);
  std::printf("%s", sim::FormatDemoSummary(s, r, wall, base).c_str());
  if (!out.trace_path.empty()) {
    if (!WriteTrace(out.trace_path, r)) {
      std::fprintf(stderr, "cannot write trace to %s\n", out.trace_path.c_str());
      return 2;
    }
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
    DemoScenario recorded = s;
    recorded.scenario_file.clear();
    if (absl::Status st = WriteWholeFile(out.tape_path, sim::Tape::FromRun(recorded, r).Format()); !st.ok()) {
      return UsageError(st);
    }
    std::printf("  tape         written to %s (cairn sim replay --tape %s)\n", out.tape_path.c_str(),
                out.tape_path.c_str());
  }
  return r.passed() ? 0 : 1;
}

double WallSecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

bool WriteTrace(const std::string& path, const DemoResult& r) {
  std::ofstream out(path);
  if (!out) return false;
  for (const sim::TraceRecord& rec : r.trace) out << sim::Trace::FormatRecord(rec) << "\n";
  return static_cast<bool>(out);
}

// "A..B" or "N" → [A, B].
bool ParseSeedRange(const std::string& text, uint64_t* first, uint64_t* last) {
  const size_t dots = text.find("..");
  if (dots == std::string::npos) {
    if (!absl::SimpleAtoi(text, first)) return false;
    *last = *first;
    return true;
  }
  return absl::SimpleAtoi(text.substr(0, dots), first) &&
         absl::SimpleAtoi(text.substr(dots + 2), last) && *first <= *last;
}

}  // namespace

void AddSimCommands(CLI::App& app, Action& action) {
  CLI::App* sim = app.add_subcommand("sim", "Run seeded, deterministic simulations of a cluster");
  sim->require_subcommand(1);

  // cairn sim run / cairn sim replay
  for (const char* name : {"run", "replay"}) {
    const bool replay = std::string(name) == "replay";
    auto flags = std::make_shared<ScenarioFlags>();
    auto seed = std::make_shared<uint64_t>(1);
    auto out = std::make_shared<RunOutputs>();
    auto tape_path = std::make_shared<std::string>();
    CLI::App* run = sim->add_subcommand(
        name,
        replay ? "Replay a run: a tape (--tape FILE, from `sim run --record-tape` or `sim shrink`), or a\n"
                 "seed with its flags (the same as `sim run`). Exit status: 0 passed, 1 a check failed."
               : "Simulate the demo register under a seeded nemesis, check its history, print a summary.\n"
                 "The same seed replays the same run, event for event (the trace hash shows it).\n"
                 "Exit status: 0 every check passed, 1 a check failed.");
    run->add_option("--seed", *seed, "The seed: every choice of the run derives from it")
        ->capture_default_str();
    if (replay) run->add_option("--tape", *tape_path, "A tape to replay (its own settings and seed)");
    flags->Add(run);
    out->Add(run);
    run->callback([&action, flags, seed, out, tape_path] {
      action = [=] {
        DemoScenario s;
        DemoScenario base;
        if (!tape_path->empty()) {
          absl::StatusOr<std::string> text = ReadWholeFile(*tape_path);
          if (!text.ok()) return UsageError(text.status());
          absl::StatusOr<sim::Tape> tape = sim::Tape::Parse(*text, *tape_path);
          if (!tape.ok()) return UsageError(tape.status());
          s = tape->ToScenario(*tape_path);
        } else {
          absl::StatusOr<DemoScenario> resolved = flags->Resolve();
          if (!resolved.ok()) return UsageError(resolved.status());
          s = WithSeed(*resolved, *seed);
          base = flags->base;
        }
        return RunAndReport(s, base, *out);
      };
    });
  }

  // cairn sim shrink
  {
    auto flags = std::make_shared<ScenarioFlags>();
    auto seed = std::make_shared<uint64_t>(1);
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
          absl::StatusOr<std::string> text = ReadWholeFile(*tape_path);
          if (!text.ok()) return UsageError(text.status());
          absl::StatusOr<sim::Tape> parsed = sim::Tape::Parse(*text, *tape_path);
          if (!parsed.ok()) return UsageError(parsed.status());
          tape = *parsed;
        } else {
          absl::StatusOr<DemoScenario> resolved = flags->Resolve();
          if (!resolved.ok()) return UsageError(resolved.status());
          DemoScenario s = WithSeed(*resolved, *seed);
          s.scenario_file.clear();
          tape = sim::Tape::FromRun(s, sim::RunDemoScenario(s));
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

  // cairn sim sweep
  {
    auto flags = std::make_shared<ScenarioFlags>();
    auto seeds = std::make_shared<std::string>("1..20");
    auto jobs = std::make_shared<int>(1);
    auto stop_on_failure = std::make_shared<bool>(false);
    CLI::App* sweep = sim->add_subcommand(
        "sweep", "Run many seeds; print a table and the replay command of each failing seed.\n"
                 "Exit status: 0 all passed, 1 some failed.");
    sweep->add_option("--seeds", *seeds, "Seed range A..B (inclusive) or one seed")->capture_default_str();
    sweep->add_option("--jobs,-j", *jobs, "Simulations run at once (threads)")
        ->check(CLI::Range(1, 64))->capture_default_str();
    sweep->add_flag("--stop-on-failure", *stop_on_failure, "Stop at the first failing seed");
    flags->Add(sweep);
    sweep->callback([&action, flags, seeds, jobs, stop_on_failure] {
      action = [=] {
        SweepOptions options;
        if (!ParseSeedRange(*seeds, &options.first_seed, &options.last_seed)) {
          std::fprintf(stderr, "--seeds: '%s' is not a seed or a range A..B\n", seeds->c_str());
          return 2;
        }
        options.jobs = *jobs;
        options.stop_on_failure = *stop_on_failure;
        absl::StatusOr<DemoScenario> resolved = flags->Resolve();
        if (!resolved.ok()) return UsageError(resolved.status());
        std::vector<std::string> replays;
        std::map<std::string, uint64_t> sometimes_held;  // name → seeds in which it held
        std::printf("%-8s %-7s %-9s %-8s %-18s %s\n", "seed", "verdict", "sim-s", "ops", "trace-hash", "failed checks");
        SweepSummary summary = RunSweep(
            options, [&](uint64_t seed) { return WithSeed(*resolved, seed); },
            [&](const DemoScenario& s, const DemoResult& r) {
              std::string failed;
              for (const sim::CheckResult& c : r.checks) {
                if (!c.passed) failed += c.name + " ";
              }
              if (!r.live) failed += "liveness ";
              std::printf("%-8llu %-7s %-9.1f %-8zu %016llx   %s\n", static_cast<unsigned long long>(s.seed),
                          r.passed() ? "pass" : "FAIL", ToSeconds(r.simulated), r.history.operations().size(),
                          static_cast<unsigned long long>(r.trace_hash), failed.c_str());
              std::fflush(stdout);
              if (!r.passed()) replays.push_back(s.ReplayCommand(flags->base));
              for (const auto& [name, site] : r.assertions.sites) {
                if (!site.always) sometimes_held[name] += site.held > 0;
              }
            });
        std::printf("\n%llu seeds, %llu operations, %.0f simulated s in %.1f wall s (%d jobs): %llu failed\n",
                    static_cast<unsigned long long>(summary.runs), static_cast<unsigned long long>(summary.operations),
                    summary.simulated_seconds, summary.wall_seconds, options.jobs,
                    static_cast<unsigned long long>(summary.failures));
        for (const std::string& cmd : replays) std::printf("  replay: %s\n", cmd.c_str());
        // Coverage: every Sometimes site of the program, and in how many seeds it held.
        std::vector<std::string> never;
        for (const AssertionSite& site : DeclaredAssertions()) {
          if (site.always) continue;
          auto it = sometimes_held.find(site.name);
          if (it == sometimes_held.end() || it->second == 0) {
            never.push_back(absl::StrCat(site.name, " (", site.file, ":", site.line, ")"));
          }
        }
        std::sort(never.begin(), never.end());
        never.erase(std::unique(never.begin(), never.end()), never.end());
        std::printf("sometimes: %zu sites held in at least one seed", sometimes_held.size() - std::count_if(
            sometimes_held.begin(), sometimes_held.end(), [](const auto& e) { return e.second == 0; }));
        if (never.empty()) {
          std::printf("; none missed\n");
        } else {
          std::printf("; never held in this sweep:\n");
          for (const std::string& n : never) std::printf("  %s\n", n.c_str());
        }
        return summary.failures == 0 ? 0 : 1;
      };
    });
  }

  // cairn sim canaries
  {
    auto sweeps = std::make_shared<int>(5);
    auto seeds_max = std::make_shared<uint64_t>(400);
    auto jobs = std::make_shared<int>(1);
    CLI::App* canaries = sim->add_subcommand(
        "canaries",
        "Measure the simulator's power: for each planted bug, run several sweeps over disjoint\n"
        "seed ranges and report how many seeds each needed to catch it (and the median).\n"
        "Exit status: 0 every canary caught in every sweep, 1 not.");
    canaries->add_option("--sweeps", *sweeps, "Sweeps per canary")->check(CLI::Range(1, 100))->capture_default_str();
    canaries->add_option("--seeds-max", *seeds_max, "Seeds per sweep before giving up")->capture_default_str();
    canaries->add_option("--jobs,-j", *jobs, "Simulations run at once (threads)")->check(CLI::Range(1, 64))->capture_default_str();
    canaries->callback([&action, sweeps, seeds_max, jobs] {
      action = [=] {
        bool all_caught = true;
        std::printf("%-28s %-8s %s\n", "canary", "median", "seeds to first detection, per sweep");
        for (const sim::Canary& canary : sim::Canaries()) {
          std::vector<uint64_t> found;
          std::string row;
          for (int k = 0; k < *sweeps; ++k) {
            SweepOptions options;
            options.first_seed = 1 + static_cast<uint64_t>(k) * 100'000;
            options.last_seed = options.first_seed + *seeds_max - 1;
            options.jobs = *jobs;
            options.stop_on_failure = true;
            SweepSummary summary = RunSweep(options, [&](uint64_t seed) { return sim::CanaryHunt(canary, seed); },
                                            [](const DemoScenario&, const DemoResult&) {});
            if (summary.failures == 0) {
              all_caught = false;
              row += " never";
            } else {
              const uint64_t n = summary.first_failure - options.first_seed + 1;
              found.push_back(n);
              row += " " + std::to_string(n);
            }
          }
          std::sort(found.begin(), found.end());
          const std::string median = found.size() == static_cast<size_t>(*sweeps)
                                         ? std::to_string(found[found.size() / 2])
                                         : std::string("-");
          std::printf("%-28s %-8s%s%s\n", canary.name, median.c_str(), row.c_str(),
                      canary.fault_kinds.empty() ? "" : "   (faults: its own mix)");
          std::fflush(stdout);
        }
        return all_caught ? 0 : 1;
      };
    });
  }

  // cairn sim determinism
  {
    auto flags = std::make_shared<ScenarioFlags>();
    auto seed = std::make_shared<uint64_t>(1);
    CLI::App* det = sim->add_subcommand(
        "determinism",
        "Run one seed twice in this process and compare trace hashes; on a mismatch, name the\n"
        "first divergent event. (CI also compares hashes across processes.) Exit 0 same, 1 not.");
    det->add_option("--seed", *seed, "The seed")->capture_default_str();
    flags->Add(det);
    det->callback([&action, flags, seed] {
      action = [=] {
        absl::StatusOr<DemoScenario> resolved = flags->Resolve();
        if (!resolved.ok()) return UsageError(resolved.status());
        DemoScenario s = WithSeed(*resolved, *seed);
        s.trace_records_max = 5'000'000;
        DemoResult a = sim::RunDemoScenario(s);
        DemoResult b = sim::RunDemoScenario(s);
        std::printf("seed %llu: run 1 %016llx, run 2 %016llx (%llu trace items)\n",
                    static_cast<unsigned long long>(*seed), static_cast<unsigned long long>(a.trace_hash),
                    static_cast<unsigned long long>(b.trace_hash),
                    static_cast<unsigned long long>(a.trace_items));
        if (a.trace_hash == b.trace_hash) {
          std::printf("deterministic\n");
          return 0;
        }
        for (size_t i = 0; i < std::min(a.trace.size(), b.trace.size()); ++i) {
          if (a.trace[i].hash_after != b.trace[i].hash_after) {
            std::printf("NONDETERMINISM: first divergent event #%zu\n  run 1: %s\n  run 2: %s\n", i,
                        sim::Trace::FormatRecord(a.trace[i]).c_str(),
                        sim::Trace::FormatRecord(b.trace[i]).c_str());
            return 1;
          }
        }
        std::printf("NONDETERMINISM: traces diverge after the recorded events\n");
        return 1;
      };
    });
  }
}

}  // namespace cairn::tools

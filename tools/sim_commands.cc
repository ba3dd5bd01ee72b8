// cairn sim run | sweep | determinism: seeded simulations of the demo service.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "sim/demo_scenario.h"
#include "tools/commands.h"

namespace cairn::tools {
namespace {

using sim::DemoResult;
using sim::DemoScenario;

// Options shared by run, sweep and determinism.
struct ScenarioFlags {
  DemoScenario scenario;
  int64_t chaos_ms = 20'000;
  int64_t heal_ms = 10'000;
  bool no_faults = false;
  bool default_knobs = false;
  bool no_buggify = false;
  std::vector<std::string> canaries;

  void Add(CLI::App* cmd) {
    cmd->add_option("--replicas", scenario.replicas, "Replicas of the register")
        ->check(CLI::Range(1, 9))->capture_default_str();
    cmd->add_option("--clients", scenario.clients, "Client processes")
        ->check(CLI::Range(1, 64))->capture_default_str();
    cmd->add_option("--keys", scenario.keys, "Distinct keys the clients use")
        ->check(CLI::Range(1, 1000))->capture_default_str();
    cmd->add_option("--chaos-ms", chaos_ms, "Simulated milliseconds of operations under faults")
        ->check(CLI::Range(int64_t{100}, int64_t{3'600'000}))->capture_default_str();
    cmd->add_option("--heal-ms", heal_ms, "Simulated milliseconds after the faults heal")
        ->check(CLI::Range(int64_t{2000}, int64_t{3'600'000}))->capture_default_str();
    cmd->add_flag("--no-faults", no_faults, "Run without the nemesis");
    cmd->add_flag("--default-knobs", default_knobs, "Keep knobs at their defaults (no randomization)");
    cmd->add_flag("--no-buggify", no_buggify, "Switch fault points off");
    cmd->add_option("--canary", canaries,
                    "Plant a known bug the checks must catch: ack-before-replicate, ack-before-fsync")
        ->check(CLI::IsMember({"ack-before-replicate", "ack-before-fsync"}));
  }

  DemoScenario Build(uint64_t seed) const {
    DemoScenario s = scenario;
    s.seed = seed;
    s.chaos = std::chrono::milliseconds(chaos_ms);
    s.heal = std::chrono::milliseconds(heal_ms);
    s.faults = !no_faults;
    s.randomize_knobs = !default_knobs;
    s.buggify = !no_buggify;
    for (const std::string& c : canaries) {
      if (c == "ack-before-replicate") s.canary_ack_before_replicate = true;
      if (c == "ack-before-fsync") s.canary_ack_before_fsync = true;
    }
    return s;
  }
};

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

  // cairn sim run
  {
    auto flags = std::make_shared<ScenarioFlags>();
    auto seed = std::make_shared<uint64_t>(1);
    auto trace_path = std::make_shared<std::string>();
    auto trace_max = std::make_shared<size_t>(2'000'000);
    auto verbose = std::make_shared<bool>(false);
    CLI::App* run = sim->add_subcommand(
        "run",
        "Simulate the demo register under a seeded nemesis, check its history, print a summary.\n"
        "The same seed replays the same run, event for event (the trace hash shows it).\n"
        "Exit status: 0 every check passed, 1 a check failed.");
    run->add_option("--seed", *seed, "The seed: every choice of the run derives from it")
        ->capture_default_str();
    flags->Add(run);
    run->add_option("--trace", *trace_path,
                    "Write the run's trace (one event per line) to this file, for `cairn trace`");
    run->add_option("--trace-max", *trace_max, "Most events written with --trace")
        ->capture_default_str();
    run->add_flag("--verbose,-v", *verbose, "Print node log lines as they happen");
    run->callback([&action, flags, seed, trace_path, trace_max, verbose] {
      action = [=] {
        DemoScenario s = flags->Build(*seed);
        s.echo_logs = *verbose;
        if (!trace_path->empty()) s.trace_records_max = *trace_max;
        const auto start = std::chrono::steady_clock::now();
        DemoResult r = sim::RunDemoScenario(s);
        const double wall = WallSecondsSince(start);
        std::printf("%s", sim::FormatDemoSummary(s, r, wall).c_str());
        if (!trace_path->empty()) {
          if (!WriteTrace(*trace_path, r)) {
            std::fprintf(stderr, "cannot write trace to %s\n", trace_path->c_str());
            return 2;
          }
          std::printf("  trace        %zu events written to %s\n", r.trace.size(), trace_path->c_str());
        }
        return r.passed() ? 0 : 1;
      };
    });
  }

  // cairn sim sweep
  {
    auto flags = std::make_shared<ScenarioFlags>();
    auto seeds = std::make_shared<std::string>("1..20");
    auto stop_on_failure = std::make_shared<bool>(false);
    CLI::App* sweep = sim->add_subcommand(
        "sweep", "Run many seeds; print a table and the replay command of each failing seed.\n"
                 "Exit status: 0 all passed, 1 some failed.");
    sweep->add_option("--seeds", *seeds, "Seed range A..B (inclusive) or one seed")->capture_default_str();
    sweep->add_flag("--stop-on-failure", *stop_on_failure, "Stop at the first failing seed");
    flags->Add(sweep);
    sweep->callback([&action, flags, seeds, stop_on_failure] {
      action = [=] {
        uint64_t first = 0, last = 0;
        if (!ParseSeedRange(*seeds, &first, &last)) {
          std::fprintf(stderr, "--seeds: '%s' is not a seed or a range A..B\n", seeds->c_str());
          return 2;
        }
        const auto start = std::chrono::steady_clock::now();
        std::vector<std::pair<uint64_t, std::string>> failures;
        uint64_t runs = 0, ops = 0;
        double simulated = 0;
        std::printf("%-8s %-7s %-9s %-8s %-18s %s\n", "seed", "verdict", "sim-s", "ops", "trace-hash", "failed checks");
        for (uint64_t seed = first; seed <= last; ++seed) {
          DemoScenario s = flags->Build(seed);
          DemoResult r = sim::RunDemoScenario(s);
          ++runs;
          ops += r.history.operations().size();
          simulated += ToSeconds(r.simulated);
          std::string failed;
          for (const sim::CheckResult& c : r.checks) {
            if (!c.passed) failed += c.name + " ";
          }
          if (!r.live) failed += "liveness ";
          std::printf("%-8llu %-7s %-9.1f %-8zu %016llx   %s\n", static_cast<unsigned long long>(seed),
                      r.passed() ? "pass" : "FAIL", ToSeconds(r.simulated), r.history.operations().size(),
                      static_cast<unsigned long long>(r.trace_hash), failed.c_str());
          std::fflush(stdout);
          if (!r.passed()) {
            failures.push_back({seed, s.ReplayCommand()});
            if (*stop_on_failure) break;
          }
          if (seed == UINT64_MAX) break;
        }
        const double wall = WallSecondsSince(start);
        std::printf("\n%llu seeds, %llu operations, %.0f simulated s in %.1f wall s: %zu failed\n",
                    static_cast<unsigned long long>(runs), static_cast<unsigned long long>(ops),
                    simulated, wall, failures.size());
        for (const auto& [seed, cmd] : failures) std::printf("  replay: %s\n", cmd.c_str());
        return failures.empty() ? 0 : 1;
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
        DemoScenario s = flags->Build(*seed);
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

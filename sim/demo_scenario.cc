#include "sim/demo_scenario.h"

#include <algorithm>
#include <functional>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "fault/nemesis.h"
#include "sim/linearizability.h"
#include "sim/world.h"
#include "src/base/strings.h"
#include "src/demo/register_client.h"
#include "src/demo/register_replica.h"

namespace cairn::sim {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

struct ClientSetup {
  int process = 0;
  std::vector<NodeId> replicas;
  int keys = 0;
  bool ack_before_replicate = false;
  bool drop_retry = false;
  bool lease_without_drift_margin = false;
  std::set<std::string> leased_keys;
  Instant stop_at{};
  // The observer's clock (virtual time): histories compare the real-time order of operations
  // across clients, so they take time from one clock, not from each node's drifting one.
  const World* world = nullptr;
  const std::vector<ScriptedOp>* script = nullptr;  // this client's operations, or null
  History* history = nullptr;
  std::vector<Instant>* last_ok = nullptr;  // per process: when it last completed an op
};

// A client's program: read and write random keys until stop_at, recording every operation.
Task<void> RunClient(Runtime& rt, ClientSetup setup) {
  rpc::RpcNode rpc(rt);
  rpc.Start();
  demo::ClientOptions options;
  options.replicas = setup.replicas;
  options.ack_before_replicate = setup.ack_before_replicate;
  options.drop_retry = setup.drop_retry;
  options.leased_keys = setup.leased_keys;
  options.lease_without_drift_margin = setup.lease_without_drift_margin;
  demo::RegisterClient client(rpc, options);
  uint64_t writes = 0;
  size_t scripted = 0;
  while (setup.world->Now() < setup.stop_at) {
    // The choices are drawn even when a script overrides them, so that a replayed tape keeps
    // every random stream where the recorded run had it.
    std::string key = absl::StrCat("k", rt.random().Uniform(static_cast<uint64_t>(setup.keys)));
    bool write = rt.random().Chance(0.5);
    // Lease users contend for their leased key half the time.
    if (rt.random().Chance(0.5) && !setup.leased_keys.empty()) key = *setup.leased_keys.begin();
    if (setup.script != nullptr) {
      if (scripted == setup.script->size()) {
        // Out of script: this client is done, and excused from the liveness check.
        (*setup.last_ok)[setup.process] = kInstantMax;
        co_return;
      }
      const ScriptedOp& op = (*setup.script)[scripted++];
      key = op.key;
      write = op.kind == OpKind::kWrite;
      // Never earlier than recorded: when a shrunk tape drops operations, the ones left keep
      // their times. (In an unmodified replay the client is exactly on time: no extra event.)
      if (setup.world->Now() < op.at) co_await rt.Sleep(op.at - setup.world->Now());
    }
    const Instant deadline = rt.DeadlineAfter(seconds(1));  // node time
    if (write) {
      // Unique per write; padded to a realistic size, so that corruption mostly hits values.
      const std::string value =
          absl::StrCat("c", setup.process, "-", writes++, "-", std::string(48, 'v'));
      const uint64_t op = setup.history->Invoke(setup.process, OpKind::kWrite, key, value, setup.world->Now());
      absl::Status s = co_await client.Put(key, value, deadline);
      if (s.ok()) {
        setup.history->Complete(op, OpOutcome::kOk, std::nullopt, setup.world->Now());
        if ((*setup.last_ok)[setup.process] != kInstantMax) (*setup.last_ok)[setup.process] = setup.world->Now();
      } else {
        // Some replicas may have stored it: the outcome is unknown.
        setup.history->Complete(op, OpOutcome::kInfo, std::nullopt, setup.world->Now(), s.ToString());
      }
    } else {
      const uint64_t op = setup.history->Invoke(setup.process, OpKind::kRead, key, std::nullopt, setup.world->Now());
      absl::StatusOr<std::optional<std::string>> v = co_await client.Get(key, deadline);
      if (v.ok()) {
        setup.history->Complete(op, OpOutcome::kOk, *v, setup.world->Now());
        if ((*setup.last_ok)[setup.process] != kInstantMax) (*setup.last_ok)[setup.process] = setup.world->Now();
      } else {
        setup.history->Complete(op, OpOutcome::kFail, std::nullopt, setup.world->Now(), v.status().ToString());
      }
    }
    co_await rt.Sleep(rt.random().UniformDuration(milliseconds(0), milliseconds(20)));
  }
}

}  // namespace

std::string DemoScenario::ReplayCommand(const DemoScenario& d) const {
  if (!tape_file.empty()) return absl::StrCat("cairn sim replay --tape ", tape_file);
  std::string cmd = absl::StrCat("cairn sim run --seed ", seed);
  if (!scenario_file.empty()) absl::StrAppend(&cmd, " --scenario ", scenario_file);
  if (replicas != d.replicas) absl::StrAppend(&cmd, " --replicas ", replicas);
  if (clients != d.clients) absl::StrAppend(&cmd, " --clients ", clients);
  if (keys != d.keys) absl::StrAppend(&cmd, " --keys ", keys);
  if (chaos != d.chaos) absl::StrAppend(&cmd, " --chaos-ms ", chaos.count() / 1'000'000);
  if (heal != d.heal) absl::StrAppend(&cmd, " --heal-ms ", heal.count() / 1'000'000);
  if (!faults && d.faults) absl::StrAppend(&cmd, " --no-faults");
  if (fault_kinds != d.fault_kinds) {
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
  for (const Canary& c : Canaries()) {
    if (this->*c.flag && !(d.*c.flag)) absl::StrAppend(&cmd, " --canary ", c.name);
  }
  if (!leases && d.leases) absl::StrAppend(&cmd, " --no-leases");
  return cmd;
}

const std::vector<Canary>& Canaries() {
  static const std::vector<Canary> canaries = {
      {"ack-before-replicate", &DemoScenario::canary_ack_before_replicate,
       "a client counts a write done once one replica stored it"},
      {"ack-before-fsync", &DemoScenario::canary_ack_before_fsync,
       "a replica's log acknowledges before its fsync"},
      {"ignore-checksum", &DemoScenario::canary_ignore_checksum,
       "a replica replays log records whose checksum does not match"},
      {"drop-retry", &DemoScenario::canary_drop_retry,
       "an unanswered Store is not retried and counts as stored"},
      {"lease-without-drift-margin", &DemoScenario::canary_lease_without_drift_margin,
       "a lease holder trusts its lease to the end by its own clock",
       {fault::FaultKind::kClock}, std::chrono::milliseconds(150)},
      {"no-lease-check", &DemoScenario::canary_no_lease_check,
       "replicas do not check writes against leases (no fencing: split brain)"},
  };
  return canaries;
}

DemoScenario CanaryHunt(const Canary& canary, uint64_t seed) {
  DemoScenario s;
  s.seed = seed;
  s.*canary.flag = true;
  s.fault_kinds = canary.fault_kinds;
  s.fault_pace = canary.fault_pace;
  if (!canary.fault_kinds.empty()) s.heal = std::chrono::seconds(8);
  return s;
}

absl::Status PlantCanary(DemoScenario& scenario, std::string_view name) {
  std::string names;
  for (const Canary& c : Canaries()) {
    if (name == c.name) {
      scenario.*c.flag = true;
      return absl::OkStatus();
    }
    absl::StrAppend(&names, names.empty() ? "" : ", ", c.name);
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown canary '", AbslView(name), "' (", names, ")"));
}

bool DemoResult::passed() const {
  if (!live) return false;
  for (const CheckResult& c : checks) {
    if (!c.passed) return false;
  }
  return true;
}

DemoResult RunDemoScenario(const DemoScenario& scenario) {
  CAIRN_CHECK(scenario.replicas >= 1 && scenario.clients >= 1 && scenario.keys >= 1);
  WorldOptions options;
  options.seed = scenario.seed;
  options.randomize_knobs = scenario.randomize_knobs;
  options.buggify = scenario.buggify;
  options.trace_records_max = scenario.trace_records_max;
  options.echo_logs = scenario.echo_logs;
  options.knob_overrides = scenario.knob_settings;
  World world(options);

  DemoResult result;
  result.seed = scenario.seed;
  std::vector<NodeId> replicas;
  std::vector<NodeId> all;
  demo::ReplicaOptions replica_options;
  for (int i = 0; i < scenario.replicas; ++i) replica_options.replicas.push_back(static_cast<NodeId>(i));
  replica_options.ack_before_fsync = scenario.canary_ack_before_fsync;
  replica_options.ignore_checksum = scenario.canary_ignore_checksum;
  replica_options.no_lease_check = scenario.canary_no_lease_check;
  for (int i = 0; i < scenario.replicas; ++i) {
    const NodeId id = world.AddNode(absl::StrCat("replica", i), [replica_options](Runtime& rt) {
      return demo::RunReplica(rt, replica_options);
    });
    CAIRN_CHECK(id == static_cast<NodeId>(i));
    replicas.push_back(id);
    all.push_back(id);
  }
  const Instant chaos_end = world.Now() + scenario.chaos;
  const Instant end = chaos_end + scenario.heal;
  std::vector<Instant> last_ok(static_cast<size_t>(scenario.clients), Instant{});
  std::vector<std::vector<ScriptedOp>> scripts(static_cast<size_t>(scenario.clients));
  if (scenario.script) {
    for (const ScriptedOp& op : scenario.script->ops) {
      CAIRN_CHECK(op.client >= 0 && op.client < scenario.clients);
      scripts[static_cast<size_t>(op.client)].push_back(op);
    }
  }
  for (int c = 0; c < scenario.clients; ++c) {
    ClientSetup setup;
    setup.process = c;
    setup.replicas = replicas;
    setup.keys = scenario.keys;
    setup.ack_before_replicate = scenario.canary_ack_before_replicate;
    setup.drop_retry = scenario.canary_drop_retry;
    setup.lease_without_drift_margin = scenario.canary_lease_without_drift_margin;
    if (scenario.leases && c < 2) setup.leased_keys = {"k0"};
    setup.stop_at = end - seconds(1);
    setup.world = &world;
    setup.history = &result.history;
    setup.last_ok = &last_ok;
    if (scenario.script) setup.script = &scripts[static_cast<size_t>(c)];
    all.push_back(world.AddNode(absl::StrCat("client", c),
                                [setup](Runtime& rt) { return RunClient(rt, setup); }));
  }
  for (NodeId n : all) world.Start(n);

  fault::NemesisOptions nemesis_options;
  nemesis_options.servers = replicas;
  nemesis_options.nodes = all;
  nemesis_options.corruptible_servers_max = static_cast<size_t>(scenario.replicas - 1) / 2;
  nemesis_options.enabled = scenario.faults;
  if (!scenario.fault_kinds.empty()) nemesis_options.kinds = scenario.fault_kinds;
  nemesis_options.mean_gap = scenario.fault_pace;
  if (scenario.script) nemesis_options.script = scenario.script->faults;
  nemesis_options.record = &result.faults_applied;
  fault::Nemesis nemesis(world, nemesis_options, result.faults);
  nemesis.Start(chaos_end);
  nemesis.Supervise(end);
  world.RunUntil(chaos_end);
  nemesis.HealAll();
  world.RunUntil(end);

  // Liveness: after healing (and a grace period for restarts and backoff), every client
  // completed an operation.
  const Instant grace_end = chaos_end + std::min<Duration>(seconds(3), scenario.heal / 2);
  std::vector<std::string> stuck;
  for (int c = 0; c < scenario.clients; ++c) {
    if (last_ok[static_cast<size_t>(c)] < grace_end) stuck.push_back(absl::StrCat("client", c));
  }
  result.live = stuck.empty();
  if (!result.live) {
    result.liveness_detail = absl::StrCat("no operation completed after the faults healed by: ",
                                          absl::StrJoin(stuck, ", "));
  }

  result.checks = CheckRegisterHistory(result.history);
  {
    // The full check: a register per key, Wing-Gong/Lowe search, bounded so a run cannot hang.
    CheckResult linearizable{"linearizable"};
    CheckOptions options;
    options.search_steps_max = 20'000'000;
    absl::StatusOr<LinearizabilityResult> lin =
        CheckLinearizability(result.history, Model::Register(), options);
    CAIRN_CHECK_OK(lin.status());
    if (lin->verdict == Verdict::kNotLinearizable) {
      linearizable.passed = false;
      linearizable.violation_count = 1;
      linearizable.violations.push_back(lin->explanation);
      for (uint64_t index : lin->involved) {
        const Operation& op = result.history.operations()[index];
        if (op.completed != kInstantMax) linearizable.first_witnessed = std::max(
            linearizable.first_witnessed == kInstantMax ? Instant{} : linearizable.first_witnessed, op.completed);
      }
    } else if (lin->verdict == Verdict::kUnknown) {
      linearizable.name = "linearizable (unknown: search budget spent)";
    }
    result.checks.push_back(std::move(linearizable));
  }
  result.assertions = world.assertion_stats();
  CheckResult always{"always-assertions"};
  always.passed = result.assertions.violation_count == 0;
  always.violation_count = result.assertions.violation_count;
  always.violations = result.assertions.violations;
  always.first_witnessed = result.assertions.first_violation;
  result.checks.push_back(std::move(always));
  result.trace_hash = world.trace().hash();
  result.trace_items = world.trace().items();
  result.simulated = world.Now().time_since_epoch();
  result.events = world.events_run();
  result.nodes = static_cast<int>(world.node_count());
  result.network = world.network().stats();
  for (NodeId r : replicas) {
    const DiskStats& d = world.disk(r).stats();
    result.disk += d;
  }
  result.knobs = world.knobs().DescribeChanges();
  for (const auto& [site, stats] : world.buggify_stats().sites) {
    ++result.buggify_sites_reached;
    result.buggify_sites_enabled += stats.enabled;
    result.buggify_fired += stats.fired;
  }
  result.trace = world.trace().records();
  return result;
}

std::string FormatDemoSummary(const DemoScenario& scenario, const DemoResult& r,
                              double wall_seconds, const DemoScenario& base) {
  std::string out;
  const double sim_s = ToSeconds(r.simulated);
  absl::StrAppend(&out, absl::StrFormat(
      "Cairn simulation: demo register (ABD quorum), seed %d%s\n", r.seed,
      scenario.scenario_file.empty() ? std::string() : ", scenario " + scenario.scenario_file));
  absl::StrAppend(&out, absl::StrFormat(
      "  nodes        %d replicas + %d clients\n", scenario.replicas, scenario.clients));
  absl::StrAppend(&out, absl::StrFormat(
      "  time         %.3f s simulated (%.1f s chaos, %.1f s healed) in %.2f s wall, %.0fx\n",
      sim_s, ToSeconds(scenario.chaos), ToSeconds(scenario.heal), wall_seconds,
      wall_seconds > 0 ? sim_s / wall_seconds : 0.0));
  absl::StrAppend(&out, absl::StrFormat("  events       %d run, %d trace items\n", r.events,
                                        r.trace_items));
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
    absl::StrAppend(&out, absl::StrFormat("    %-18s %s\n", c.name,
                                          c.passed ? "passed"
                                                   : absl::StrFormat("FAILED (%d violations)", c.violation_count)));
    for (const std::string& v : c.violations) absl::StrAppend(&out, "      - ", v, "\n");
  }
  absl::StrAppend(&out, absl::StrFormat("    %-18s %s\n", "liveness",
                                        r.live ? "passed" : "FAILED: " + r.liveness_detail));
  absl::StrAppend(&out, absl::StrFormat("  trace hash   %016x\n", r.trace_hash));
  bool safe = true;
  for (const CheckResult& c : r.checks) safe = safe && c.passed;
  absl::StrAppend(&out, absl::StrFormat("  verdict      %s\n", r.passed() ? "PASS"
                                                          : !safe       ? "FAIL (safety: a check of what happened failed)"
                                                                        : "FAIL (liveness: the run did not converge after healing)"));
  absl::StrAppend(&out, "  replay       ", scenario.ReplayCommand(base), "\n");
  return out;
}

}  // namespace cairn::sim

#include "sim/demo_scenario.h"

#include <algorithm>
#include <functional>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "sim/world.h"
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
  Instant stop_at{};
  History* history = nullptr;
  std::vector<Instant>* last_ok = nullptr;  // per process: when it last completed an op
};

// A client's program: read and write random keys until stop_at, recording every operation.
Task<void> RunClient(Runtime& rt, ClientSetup setup) {
  rpc::RpcNode rpc(rt);
  rpc.Start();
  demo::RegisterClient client(rpc, demo::ClientOptions{setup.replicas, setup.ack_before_replicate});
  uint64_t writes = 0;
  while (rt.Now() < setup.stop_at) {
    const std::string key = absl::StrCat("k", rt.random().Uniform(static_cast<uint64_t>(setup.keys)));
    const Instant deadline = rt.DeadlineAfter(seconds(1));
    if (rt.random().Chance(0.5)) {
      const std::string value = absl::StrCat("c", setup.process, "-", writes++);
      const uint64_t op = setup.history->Invoke(setup.process, OpKind::kWrite, key, value, rt.Now());
      absl::Status s = co_await client.Put(key, value, deadline);
      if (s.ok()) {
        setup.history->Complete(op, OpOutcome::kOk, std::nullopt, rt.Now());
        (*setup.last_ok)[setup.process] = rt.Now();
      } else {
        // Some replicas may have stored it: the outcome is unknown.
        setup.history->Complete(op, OpOutcome::kInfo, std::nullopt, rt.Now(), s.ToString());
      }
    } else {
      const uint64_t op = setup.history->Invoke(setup.process, OpKind::kRead, key, std::nullopt, rt.Now());
      absl::StatusOr<std::optional<std::string>> v = co_await client.Get(key, deadline);
      if (v.ok()) {
        setup.history->Complete(op, OpOutcome::kOk, *v, rt.Now());
        (*setup.last_ok)[setup.process] = rt.Now();
      } else {
        setup.history->Complete(op, OpOutcome::kFail, std::nullopt, rt.Now(), v.status().ToString());
      }
    }
    co_await rt.Sleep(rt.random().UniformDuration(milliseconds(0), milliseconds(20)));
  }
}

// The seeded nemesis: it decides its fault mix once, then acts at random intervals.
class Nemesis {
 public:
  Nemesis(World& world, const DemoScenario& scenario, std::vector<NodeId> replicas,
          std::vector<NodeId> all, FaultCounts& counts)
      : world_(world), scenario_(scenario), replicas_(std::move(replicas)), all_(std::move(all)),
        counts_(counts), random_(world.random().Fork("nemesis")) {
    auto pick = [&](const char* name) {
      const bool on = random_.Chance(0.7);
      if (on) counts_.mix.push_back(name);
      return on;
    };
    crash_ = pick("crash");
    power_loss_ = pick("power-loss");
    partition_ = pick("partition");
    degrade_ = pick("degrade");
    clock_ = pick("clock-skew");
    disk_ = pick("disk-faults");
    // Intensity: mean time between actions, from brutal to calm.
    mean_gap_ = milliseconds(random_.UniformRange(100, 2000));
    counts_.mix.push_back(absl::StrCat("every~", FormatDuration(mean_gap_)));
  }

  void Start(Instant until) {
    until_ = until;
    ScheduleNext();
  }

 private:
  void ScheduleNext() {
    const Instant at = world_.Now() + milliseconds(10) + random_.Exponential(mean_gap_);
    if (at >= until_) return;
    world_.Schedule(at, kNoNode, "nemesis", 0, [this] {
      Act();
      ScheduleNext();
    });
  }

  void After(Duration d, const char* what, std::function<void()> fn) {
    world_.Schedule(world_.Now() + d, kNoNode, what, 0, std::move(fn));
  }

  NodeId AnyReplica() { return replicas_[random_.Uniform(replicas_.size())]; }

  void Act() {
    std::vector<std::function<void()>> actions;
    if (crash_) actions.push_back([this] { CrashOne(); });
    if (power_loss_ && random_.Chance(0.3)) actions.push_back([this] { PowerLoss(); });
    if (partition_) actions.push_back([this] { Partition(); });
    if (degrade_) actions.push_back([this] { Degrade(); });
    if (clock_) actions.push_back([this] { SkewClock(); });
    if (disk_) actions.push_back([this] { DiskFaults(); });
    if (actions.empty()) return;
    actions[random_.Uniform(actions.size())]();
  }

  void CrashOne() {
    const NodeId victim = AnyReplica();
    if (!world_.IsUp(victim)) return;
    ++counts_.crashes;
    world_.Crash(victim);
    After(random_.UniformDuration(milliseconds(50), seconds(2)), "nemesis.restart", [this, victim] {
      if (!world_.IsUp(victim)) world_.Start(victim);
    });
  }

  void PowerLoss() {
    ++counts_.power_losses;
    for (NodeId r : replicas_) world_.Crash(r);
    for (NodeId r : replicas_) {
      After(random_.UniformDuration(milliseconds(50), seconds(1)), "nemesis.restart", [this, r] {
        if (!world_.IsUp(r)) world_.Start(r);
      });
    }
  }

  void Partition() {
    SimNetwork& net = world_.network();
    const int kind = static_cast<int>(random_.Uniform(3));
    std::vector<NodeId> side;
    if (kind == 2) {  // isolate one node from everyone
      ++counts_.isolations;
      side.push_back(all_[random_.Uniform(all_.size())]);
    } else {
      for (NodeId n : all_) {
        if (random_.Chance(0.5)) side.push_back(n);
      }
      if (kind == 1) ++counts_.one_way_partitions; else ++counts_.partitions;
    }
    std::vector<std::pair<NodeId, NodeId>> cut;
    for (NodeId a : side) {
      for (NodeId b : all_) {
        if (std::find(side.begin(), side.end(), b) != side.end()) continue;
        cut.push_back({a, b});
        if (kind != 1) cut.push_back({b, a});
      }
    }
    for (auto [a, b] : cut) net.Cut(a, b);
    After(random_.UniformDuration(milliseconds(200), seconds(3)), "nemesis.heal", [this, cut] {
      for (auto [a, b] : cut) world_.network().Restore(a, b);
    });
  }

  void Degrade() {
    ++counts_.degradations;
    NetworkFaults& f = world_.network().faults();
    f.loss_probability = random_.UniformDouble() * 0.3;
    f.duplicate_probability = random_.UniformDouble() * 0.1;
    f.slow_probability = random_.UniformDouble() * 0.1;
    After(random_.UniformDuration(milliseconds(200), seconds(3)), "nemesis.heal", [this] {
      world_.network().faults() = NetworkFaults();
    });
  }

  void SkewClock() {
    ++counts_.clock_skews;
    const NodeId n = all_[random_.Uniform(all_.size())];
    world_.SetClockSkew(n, milliseconds(random_.UniformRange(-500, 500)),
                        static_cast<double>(random_.UniformRange(-200, 200)));
  }

  void DiskFaults() {
    ++counts_.disk_fault_periods;
    const NodeId n = AnyReplica();
    sim::DiskFaults& f = world_.disk(n).faults();
    f.sync_error_probability = random_.UniformDouble() * 0.05;
    f.read_error_probability = random_.UniformDouble() * 0.05;
    f.latency_max = milliseconds(random_.UniformRange(1, 20));
    After(random_.UniformDuration(milliseconds(200), seconds(3)), "nemesis.heal", [this, n] {
      world_.disk(n).faults() = sim::DiskFaults();
    });
  }

 public:
  // After the chaos: every fault heals, every replica runs.
  void HealAll() {
    world_.network().RestoreAll();
    world_.network().faults() = NetworkFaults();
    for (NodeId r : replicas_) {
      world_.disk(r).faults() = sim::DiskFaults();
      if (!world_.IsUp(r)) world_.Start(r);
    }
  }

  // A replica whose program exited (its log broke) is restarted, as a supervisor would.
  void Supervise(Instant until) {
    world_.Schedule(world_.Now() + milliseconds(500), kNoNode, "supervisor", 0, [this, until] {
      for (NodeId r : replicas_) {
        if (world_.HasExited(r)) {
          ++counts_.exits_restarted;
          world_.Restart(r);
        }
      }
      if (world_.Now() < until) Supervise(until);
    });
  }

 private:
  World& world_;
  const DemoScenario& scenario_;
  std::vector<NodeId> replicas_;
  std::vector<NodeId> all_;
  FaultCounts& counts_;
  Random random_;
  bool crash_ = false, power_loss_ = false, partition_ = false, degrade_ = false, clock_ = false,
       disk_ = false;
  Duration mean_gap_{};
  Instant until_{};
};

}  // namespace

std::string DemoScenario::ReplayCommand() const {
  std::string cmd = absl::StrCat("cairn sim run --seed ", seed);
  const DemoScenario d;
  if (replicas != d.replicas) absl::StrAppend(&cmd, " --replicas ", replicas);
  if (clients != d.clients) absl::StrAppend(&cmd, " --clients ", clients);
  if (keys != d.keys) absl::StrAppend(&cmd, " --keys ", keys);
  if (chaos != d.chaos) absl::StrAppend(&cmd, " --chaos-ms ", chaos.count() / 1'000'000);
  if (heal != d.heal) absl::StrAppend(&cmd, " --heal-ms ", heal.count() / 1'000'000);
  if (!faults) absl::StrAppend(&cmd, " --no-faults");
  if (!randomize_knobs) absl::StrAppend(&cmd, " --default-knobs");
  if (!buggify) absl::StrAppend(&cmd, " --no-buggify");
  if (canary_ack_before_replicate) absl::StrAppend(&cmd, " --canary ack-before-replicate");
  if (canary_ack_before_fsync) absl::StrAppend(&cmd, " --canary ack-before-fsync");
  return cmd;
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
  World world(options);

  DemoResult result;
  result.seed = scenario.seed;
  std::vector<NodeId> replicas;
  std::vector<NodeId> all;
  demo::ReplicaOptions replica_options;
  replica_options.ack_before_fsync = scenario.canary_ack_before_fsync;
  for (int i = 0; i < scenario.replicas; ++i) {
    const NodeId id = world.AddNode(absl::StrCat("replica", i), [replica_options](Runtime& rt) {
      return demo::RunReplica(rt, replica_options);
    });
    replicas.push_back(id);
    all.push_back(id);
  }
  const Instant chaos_end = world.Now() + scenario.chaos;
  const Instant end = chaos_end + scenario.heal;
  std::vector<Instant> last_ok(static_cast<size_t>(scenario.clients), Instant{});
  for (int c = 0; c < scenario.clients; ++c) {
    ClientSetup setup;
    setup.process = c;
    setup.replicas = replicas;
    setup.keys = scenario.keys;
    setup.ack_before_replicate = scenario.canary_ack_before_replicate;
    setup.stop_at = end - seconds(1);
    setup.history = &result.history;
    setup.last_ok = &last_ok;
    all.push_back(world.AddNode(absl::StrCat("client", c),
                                [setup](Runtime& rt) { return RunClient(rt, setup); }));
  }
  for (NodeId n : all) world.Start(n);

  Nemesis nemesis(world, scenario, replicas, all, result.faults);
  if (scenario.faults) {
    nemesis.Start(chaos_end);
    nemesis.Supervise(end);
  }
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
  result.trace_hash = world.trace().hash();
  result.trace_items = world.trace().items();
  result.simulated = world.Now().time_since_epoch();
  result.events = world.events_run();
  result.nodes = static_cast<int>(world.node_count());
  result.network = world.network().stats();
  for (NodeId r : replicas) {
    const DiskStats& d = world.disk(r).stats();
    result.disk.syncs += d.syncs;
    result.disk.sync_errors += d.sync_errors;
    result.disk.read_errors += d.read_errors;
    result.disk.crash_writes_lost += d.crash_writes_lost;
    result.disk.crash_writes_torn += d.crash_writes_torn;
    result.disk.crash_names_lost += d.crash_names_lost;
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
                              double wall_seconds) {
  std::string out;
  const double sim_s = ToSeconds(r.simulated);
  absl::StrAppend(&out, absl::StrFormat(
      "Cairn simulation: demo register (ABD quorum), seed %d\n", r.seed));
  absl::StrAppend(&out, absl::StrFormat(
      "  nodes        %d replicas + %d clients\n", scenario.replicas, scenario.clients));
  absl::StrAppend(&out, absl::StrFormat(
      "  time         %.3f s simulated (%.1f s chaos, %.1f s healed) in %.2f s wall, %.0fx\n",
      sim_s, ToSeconds(scenario.chaos), ToSeconds(scenario.heal), wall_seconds,
      wall_seconds > 0 ? sim_s / wall_seconds : 0.0));
  absl::StrAppend(&out, absl::StrFormat("  events       %d run, %d trace items\n", r.events,
                                        r.trace_items));
  const FaultCounts& f = r.faults;
  absl::StrAppend(&out, absl::StrFormat(
      "  fault mix    %s\n", f.mix.empty() ? std::string("none (--no-faults)") : absl::StrJoin(f.mix, " ")));
  absl::StrAppend(&out, absl::StrFormat(
      "  faults       %d crashes, %d power losses, %d partitions (%d one-way, %d isolations),\n"
      "               %d network degradations, %d clock skews, %d disk-fault periods, %d exits restarted\n",
      f.crashes, f.power_losses, f.partitions + f.one_way_partitions + f.isolations,
      f.one_way_partitions, f.isolations, f.degradations, f.clock_skews, f.disk_fault_periods,
      f.exits_restarted));
  absl::StrAppend(&out, absl::StrFormat(
      "  network      %d sent, %d delivered, %d lost, %d duplicated, %d cut, %d to down nodes\n",
      r.network.sent, r.network.delivered, r.network.lost, r.network.duplicated, r.network.cut,
      r.network.to_down_node));
  absl::StrAppend(&out, absl::StrFormat(
      "  disk         %d fsyncs (%d failed), %d read errors; at crashes %d writes lost, %d torn, "
      "%d names lost\n",
      r.disk.syncs, r.disk.sync_errors, r.disk.read_errors, r.disk.crash_writes_lost,
      r.disk.crash_writes_torn, r.disk.crash_names_lost));
  absl::StrAppend(&out, absl::StrFormat(
      "  operations   %d: %d ok, %d failed, %d unknown\n", r.history.operations().size(),
      r.history.count(OpOutcome::kOk), r.history.count(OpOutcome::kFail),
      r.history.count(OpOutcome::kInfo) + r.history.count(OpOutcome::kOpen)));
  if (!r.knobs.empty()) absl::StrAppend(&out, "  knobs        ", r.knobs, "\n");
  absl::StrAppend(&out, absl::StrFormat(
      "  buggify      %d fault points reached, %d enabled this seed, fired %d times\n",
      r.buggify_sites_reached, r.buggify_sites_enabled, r.buggify_fired));
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
  absl::StrAppend(&out, absl::StrFormat("  verdict      %s\n", r.passed() ? "PASS" : "FAIL"));
  absl::StrAppend(&out, "  replay       ", scenario.ReplayCommand(), "\n");
  return out;
}

}  // namespace cairn::sim

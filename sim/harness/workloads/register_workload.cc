// The demo register (src/demo, docs/demo.md) as a workload: N replicas of an ABD quorum
// register and C clients reading and writing a few keys, clients 0 and 1 reading k0 under
// leases. Checked: reads-see-writes, no-lost-write, linearizable (a register per key), liveness,
// and recovered-values-were-written: every record a replica's log restores holds a value some
// client wrote to that key.
#include "sim/harness/workloads/workloads.h"

#include <map>
#include <set>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "src/demo/register_client.h"
#include "src/demo/register_replica.h"
#include "src/rpc/rpc_node.h"

namespace cairn::sim {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

class RegisterWorkload final : public Workload {
 public:
  explicit RegisterWorkload(const Scenario&) {}

  void Setup(WorkloadContext& ctx) override {
    const int replicas = static_cast<int>(ctx.Integer("replicas"));
    const int clients = static_cast<int>(ctx.Integer("clients"));
    demo::ReplicaOptions replica_options;
    for (int i = 0; i < replicas; ++i) replica_options.replicas.push_back(static_cast<NodeId>(i));
    replica_options.ack_before_fsync = ctx.Planted("ack-before-fsync");
    replica_options.ignore_checksum = ctx.Planted("ignore-checksum");
    replica_options.no_lease_check = ctx.Planted("no-lease-check");
    replica_options.recovered = [this, &ctx](const demo::Versioned& r) { Recovered(ctx, r); };
    for (int i = 0; i < replicas; ++i) {
      const NodeId id = ctx.world.AddNode(absl::StrCat("replica", i), [replica_options](Runtime& rt) {
        return demo::RunReplica(rt, replica_options);
      });
      CAIRN_CHECK(id == static_cast<NodeId>(i));
      ctx.servers.push_back(id);
      ctx.nodes.push_back(id);
    }
    for (int c = 0; c < clients; ++c) {
      ctx.nodes.push_back(
          ctx.world.AddNode(absl::StrCat("client", c), [this, &ctx, c](Runtime& rt) { return Client(rt, ctx, c); }));
    }
    ctx.corruptible_servers_max = static_cast<size_t>(replicas - 1) / 2;
    ctx.nodes_description = absl::StrCat(replicas, " replicas + ", clients, " clients");
  }

  std::vector<CheckResult> Check(WorkloadContext& ctx) override {
    std::vector<CheckResult> checks = CheckRegisterHistory(ctx.history);
    // The full check: a register per key, Wing-Gong/Lowe search, bounded so a run cannot hang.
    checks.push_back(LinearizabilityCheck(ctx.history, Model::Register(), CheckOptions{.search_steps_max = 20'000'000}));
    // Liveness: after healing (and a grace period for restarts and backoff), every client
    // completed an operation.
    std::vector<std::pair<int, std::string>> clients;
    for (int c = 0; c < ctx.Integer("clients"); ++c) clients.emplace_back(c, absl::StrCat("client", c));
    checks.push_back(ctx.Liveness(clients, ctx.chaos_end + std::min<Duration>(seconds(3), ctx.scenario.heal / 2)));
    checks.push_back(recovered_);
    return checks;
  }

 private:
  void Recovered(WorkloadContext& ctx, const demo::Versioned& r) {
    if (!r.has_value()) return;
    auto it = written_.find(r.key());
    if (it != written_.end() && it->second.contains(r.value())) return;
    recovered_.Violate(absl::StrCat("a replica's log restored ", absl::CEscape(r.key()), " = \"", absl::CEscape(r.value()),
                                    "\" at ", FormatDuration(ctx.world.Now() - Instant{}), ": no client wrote it"));
  }

  std::map<std::string, std::set<std::string>> written_;  // key → every value a client wrote to it
  CheckResult recovered_{"recovered-values-were-written"};

  // A client: reads and writes random keys until a second before the end, recording every
  // operation.
  Task<void> Client(Runtime& rt, WorkloadContext& ctx, int process) {
    rpc::RpcNode rpc(rt);
    rpc.Start();
    demo::ClientOptions options;
    options.replicas = ctx.servers;
    options.ack_before_replicate = ctx.Planted("ack-before-replicate");
    options.drop_retry = ctx.Planted("drop-retry");
    options.lease_without_drift_margin = ctx.Planted("lease-without-drift-margin");
    if (ctx.Boolean("leases") && process < 2) options.leased_keys = {"k0"};
    demo::RegisterClient client(rpc, options);
    const Instant stop_at = ctx.end - seconds(1);
    const uint64_t keys = static_cast<uint64_t>(ctx.Integer("keys"));
    uint64_t writes = 0;
    while (ctx.world.Now() < stop_at) {
      std::string key = absl::StrCat("k", rt.random().Uniform(keys));
      OpKind kind = rt.random().Chance(0.5) ? OpKind::kWrite : OpKind::kRead;
      // Lease users contend for their leased key half the time.
      if (rt.random().Chance(0.5) && !options.leased_keys.empty()) key = *options.leased_keys.begin();
      if (!co_await ctx.NextOp(rt, process, kind, key)) co_return;
      const Instant deadline = rt.DeadlineAfter(seconds(1));  // node time
      if (kind == OpKind::kWrite) {
        // Unique per write; padded to a realistic size, so that corruption mostly hits values.
        const std::string value = absl::StrCat("c", process, "-", writes++, "-", std::string(48, 'v'));
        const uint64_t op = ctx.history.Invoke(process, OpKind::kWrite, key, value, ctx.world.Now());
        written_[key].insert(value);
        absl::Status s = co_await client.Put(key, value, deadline);
        if (s.ok()) {
          ctx.history.Complete(op, OpOutcome::kOk, std::nullopt, ctx.world.Now());
          ctx.Completed(process);
        } else {
          // Some replicas may have stored it: the outcome is unknown.
          ctx.history.Complete(op, OpOutcome::kInfo, std::nullopt, ctx.world.Now(), s.ToString());
        }
      } else {
        const uint64_t op = ctx.history.Invoke(process, OpKind::kRead, key, std::nullopt, ctx.world.Now());
        absl::StatusOr<std::optional<std::string>> v = co_await client.Get(key, deadline);
        if (v.ok()) {
          ctx.history.Complete(op, OpOutcome::kOk, *v, ctx.world.Now());
          ctx.Completed(process);
        } else {
          ctx.history.Complete(op, OpOutcome::kFail, std::nullopt, ctx.world.Now(), v.status().ToString());
        }
      }
      co_await rt.Sleep(rt.random().UniformDuration(milliseconds(0), milliseconds(20)));
    }
  }
};

}  // namespace

const WorkloadInfo& RegisterWorkloadInfo() {
  static const WorkloadInfo info = [] {
    using Kind = WorkloadOption::Kind;
    WorkloadInfo w;
    w.name = "register";
    w.title = "demo register (ABD quorum)";
    w.description =
        "The demo register (docs/demo.md): replicas of an ABD quorum register, clients reading and\n"
        "writing a few keys (two of them under read leases). Checks: reads-see-writes, no-lost-write,\n"
        "linearizable, liveness, recovered-values-were-written.";
    w.options = {
        {"replicas", Kind::kInteger, "3", 1, 9, "replicas of the register"},
        {"clients", Kind::kInteger, "3", 1, 64, "client processes"},
        {"keys", Kind::kInteger, "4", 1, 1000, "distinct keys the clients use"},
        {"leases", Kind::kBoolean, "true", 0, 0, "clients 0 and 1 read key k0 under read leases"},
    };
    w.canaries = {
        {"ack-before-replicate", "a client counts a write done once one replica stored it"},
        // Power losses lose what was acknowledged early; slow fsyncs widen the window.
        {"ack-before-fsync", "a replica's log acknowledges before its fsync",
         {fault::FaultKind::kPowerLoss, fault::FaultKind::kCrashRestart, fault::FaultKind::kDiskErrors},
         milliseconds(200)},
        // Rot on one replica's disk, read back by restarts.
        {"ignore-checksum", "a replica replays log records whose checksum does not match",
         {fault::FaultKind::kCorruption, fault::FaultKind::kPowerLoss, fault::FaultKind::kCrashRestart},
         milliseconds(100)},
        {"drop-retry", "an unanswered Store is not retried and counts as stored"},
        // Clock faults every 150 ms (sim/scenarios/clocks.scenario).
        {"lease-without-drift-margin", "a lease holder trusts its lease to the end by its own clock",
         {fault::FaultKind::kClock}, milliseconds(150)},
        {"no-lease-check", "replicas do not check writes against leases (no fencing: split brain)"},
    };
    w.probe_dirs = {"src/demo", "src/rpc"};
    w.knob_prefixes = {"rpc_", "net_", "demo_"};
    // The swarm's first-draw kinds. Not peer-stall: replicas send each other only repair
    // dumps, so it is a slow repair here, and leaving it out keeps every seed's schedule as it
    // was.
    for (int k = 0; k < fault::kFirstDrawKinds; ++k) {
      w.swarm_kinds.push_back(static_cast<fault::FaultKind>(k));
    }
    w.chaos = seconds(20);
    w.heal = seconds(10);
    w.make = [](const Scenario& s) { return std::make_unique<RegisterWorkload>(s); };
    return w;
  }();
  return info;
}

}  // namespace cairn::sim

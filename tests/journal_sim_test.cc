// A three-replica journal stream in the simulator: real RaftCores, RaftStorage on the simulated
// disks, Raft messages over the simulated network. A client appends through whoever leads while
// the world crashes replicas (machine crashes: unsynced writes are lost) and drops messages.
// Checked after healing: the replicas agree on every position they all applied, every
// acknowledged append is in the journal at the position it was acknowledged with, positions are
// dense, and no retried append landed twice (append ids).
#include <map>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "sim/world.h"
#include "src/base/strings.h"
#include "src/journal/stream_replica.h"
#include "src/rpc/rpc_node.h"

namespace cairn::journal {
namespace {

constexpr int kReplicas = 3;

struct Run {
  bool canary = false;
  std::map<NodeId, StreamReplica*> live;        // replicas running now
  std::map<uint64_t, std::string> acked;        // position → record
  std::set<std::string> indeterminate;
  int appends_done = 0;
  int reads_checked = 0;
  bool client_done = false;
  std::string violation;
};

Task<void> Replica(Runtime& rt, Run* run) {
  rpc::RpcNode rpc(rt);
  StreamReplicaOptions options;
  for (int i = 0; i < kReplicas; ++i) options.members.push_back(static_cast<NodeId>(i));
  options.canary_ack_before_fsync = run->canary;
  std::string stream = "s", dir = "journal";
  auto replica = co_await StreamReplica::Open(rt, rpc, std::move(stream), std::move(dir), options);
  if (!replica.ok()) {
    // A disk fault at recovery: stay down until the next restart.
    while (true) co_await rt.Sleep(std::chrono::hours(1));
  }
  (*replica)->RegisterMethods();
  rpc.Start();
  (*replica)->Start();
  run->live[rt.node_id()] = replica->get();
  struct Unlist {
    Run* run;
    NodeId id;
    ~Unlist() { run->live.erase(id); }
  } unlist{run, rt.node_id()};
  while (true) co_await rt.Sleep(std::chrono::hours(1));
}

// The leader a refusal names ("not the leader (leader: 2)"), if any.
std::optional<NodeId> LeaderHint(const absl::Status& s) {
  const std::string m(s.message());
  const size_t at = m.find("leader: ");
  if (at == std::string::npos) return std::nullopt;
  uint32_t id = 0;
  const std::string rest = m.substr(at + 8, m.find(')', at) - at - 8);
  if (!absl::SimpleAtoi(rest, &id)) return std::nullopt;
  return id;
}

// Where to try next after `s`: the leader it names, else the next replica.
NodeId NextTarget(const absl::Status& s, NodeId current) {
  std::optional<NodeId> hint = LeaderHint(s);
  return hint.has_value() && *hint < kReplicas ? *hint : (current + 1) % kReplicas;
}

// A linearizable read begun after an append was acknowledged must see it.
Task<void> ReadBack(Runtime& rt, rpc::RpcNode& rpc, Run* run, uint64_t position, std::string record, NodeId* target) {
  for (int attempt = 0; attempt < 100; ++attempt) {
    ReadRequest req;
    req.set_stream("s");
    req.set_from(position);
    req.set_max_bytes(1);
    req.set_linearizable(true);
    rpc::CallOptions options{.deadline = rt.DeadlineAfter(std::chrono::milliseconds(500)), .attempts_max = 2};
    absl::StatusOr<ReadReply> reply = co_await rpc.Call<ReadReply>(*target, "journal.read", req, options);
    if (reply.ok()) {
      ++run->reads_checked;
      if ((reply->records_size() == 0 || reply->records(0).position() != position ||
           reply->records(0).payload() != record) &&
          run->violation.empty()) {
        run->violation = absl::StrCat("a linearizable read at ", position, " after the append was acknowledged does not see ",
                                      record);
      }
      co_return;
    }
    *target = NextTarget(reply.status(), *target);
    co_await rt.Sleep(std::chrono::milliseconds(20));
  }
}

Task<void> Client(Runtime& rt, Run* run, int appends) {
  rpc::RpcNode rpc(rt);
  rpc.Start();
  NodeId target = 0;
  for (int i = 0; i < appends; ++i) {
    const std::string record = absl::StrCat("record-", i);
    bool done = false;
    for (int attempt = 0; attempt < 200 && !done; ++attempt) {
      AppendRequest req;
      req.set_stream("s");
      req.set_epoch(0);
      req.set_record(record);
      req.set_client(rt.node_id() + 1);  // the retries of one append share its id
      req.set_seq(static_cast<uint64_t>(i) + 1);
      rpc::CallOptions options{.deadline = rt.DeadlineAfter(std::chrono::milliseconds(500)), .attempts_max = 2};
      absl::StatusOr<AppendReply> reply = co_await rpc.Call<AppendReply>(target, "journal.append", req, options);
      if (reply.ok()) {
        auto [it, inserted] = run->acked.emplace(reply->position(), record);
        if (!inserted && run->violation.empty()) {
          run->violation = absl::StrCat("position ", reply->position(), " acknowledged twice: ", it->second, " and ",
                                        record);
        }
        done = true;
        if (i % 10 == 0) co_await ReadBack(rt, rpc, run, reply->position(), record, &target);
        break;
      }
      // Unknown outcome (timeout, lost leadership): it may be in the journal; try again.
      if (!absl::IsFailedPrecondition(reply.status())) run->indeterminate.insert(record);
      target = NextTarget(reply.status(), target);
      co_await rt.Sleep(std::chrono::milliseconds(20));
    }
    ++run->appends_done;
    co_await rt.Sleep(std::chrono::milliseconds(25));  // spread the appends over the chaos
  }
  run->client_done = true;
}

struct Outcome {
  std::string violation;
  size_t acked = 0, indeterminate = 0, positions_checked = 0, reads_checked = 0;
  int crashes = 0;
};

Outcome RunSeed(uint64_t seed, int appends, bool canary = false) {
  Run run;  // first: the world (destroyed before it) ends the programs that refer to it
  run.canary = canary;
  sim::World world(sim::WorldOptions{.seed = seed});
  std::vector<NodeId> replicas;
  for (int i = 0; i < kReplicas; ++i) {
    replicas.push_back(world.AddNode(absl::StrCat("j", i), [&run](Runtime& rt) { return Replica(rt, &run); }));
  }
  const NodeId client =
      world.AddNode("client", [&run, appends](Runtime& rt) { return Client(rt, &run, appends); });
  for (NodeId r : replicas) world.Start(r);
  world.Start(client);
  world.network().faults().loss_probability = 0.02;
  Outcome out;
  // Chaos for a while: crash a random replica every so often.
  const Instant chaos_end = world.Now() + std::chrono::seconds(20);
  while (world.Now() < chaos_end && !run.client_done) {
    world.RunFor(std::chrono::milliseconds(100 + static_cast<int64_t>(world.random().Uniform(600))));
    if (world.random().Uniform(3) == 0) {
      world.Restart(replicas[world.random().Uniform(kReplicas)], sim::World::CrashKind::kMachine);
      ++out.crashes;
    }
  }
  // Heal and finish.
  world.network().faults().loss_probability = 0;
  world.RunUntilCondition([&] { return run.client_done; }, world.Now() + std::chrono::seconds(60));
  world.RunFor(std::chrono::seconds(2));
  out.violation = run.violation;
  if (out.violation.empty() && !run.client_done) out.violation = "the client did not finish after healing";
  // The replicas agree wherever they all have a record, and hold every acknowledged append.
  if (out.violation.empty() && run.live.size() == static_cast<size_t>(kReplicas)) {
    for (const auto& [position, record] : run.acked) {
      for (const auto& [id, replica] : run.live) {
        auto it = replica->records().find(position);
        if (it == replica->records().end() || it->second != record) {
          out.violation = absl::StrCat("replica ", id, " lacks acknowledged ", record, " at ", position);
          break;
        }
        ++out.positions_checked;
      }
      if (!out.violation.empty()) break;
    }
    // Positions are dense and a retried append landed once: the most advanced replica holds
    // exactly the records 0..N-1 at positions 1..N, in the order they were acknowledged.
    const StreamReplica* most = nullptr;
    for (const auto& [id, replica] : run.live) {
      if (most == nullptr || replica->records().size() > most->records().size()) most = replica;
    }
    if (out.violation.empty() && most != nullptr) {
      std::set<std::string> seen;
      uint64_t expected = 1;
      for (const auto& [position, record] : most->records()) {
        if (position != expected++) out.violation = absl::StrCat("positions skip from ", expected - 2, " to ", position);
        if (!seen.insert(record).second) out.violation = absl::StrCat(record, " is in the journal twice");
      }
      if (out.violation.empty() && seen.size() != static_cast<size_t>(appends)) {
        out.violation = absl::StrCat("the journal holds ", seen.size(), " records, not ", appends);
      }
    }
    for (const auto& [id, replica] : run.live) {
      for (const auto& [position, record] : replica->records()) {
        for (const auto& [other_id, other] : run.live) {
          auto it = other->records().find(position);
          if (it != other->records().end() && it->second != record) {
            out.violation = absl::StrCat("replicas ", id, " and ", other_id, " differ at ", position);
          }
        }
      }
    }
  } else if (out.violation.empty()) {
    out.violation = absl::StrCat("only ", run.live.size(), " replicas running after healing");
  }
  out.violation = out.violation.empty() ? "" : absl::StrCat("seed ", seed, ": ", out.violation);
  out.acked = run.acked.size();
  out.reads_checked = static_cast<size_t>(run.reads_checked);
  out.indeterminate = run.indeterminate.size();
  return out;
}

TEST(JournalSim, AcknowledgedAppendsSurviveReplicaCrashesAndLoss) {
  Outcome total;
  constexpr uint64_t kSeeds = 8;
  for (uint64_t seed = 1; seed <= kSeeds; ++seed) {
    Outcome o = RunSeed(seed, 300);
    EXPECT_EQ(o.violation, "");
    total.acked += o.acked;
    total.indeterminate += o.indeterminate;
    total.positions_checked += o.positions_checked;
    total.crashes += o.crashes;
    total.reads_checked += o.reads_checked;
  }
  std::printf("journal sweep: %d seeds, %zu acknowledged appends, %zu indeterminate, %d replica crashes, %zu "
              "replica positions checked, %zu linearizable reads checked\n",
              static_cast<int>(kSeeds), total.acked, total.indeterminate, total.crashes, total.positions_checked,
              total.reads_checked);
  EXPECT_GT(total.reads_checked, 200u);
  EXPECT_EQ(total.acked, kSeeds * 300);
  EXPECT_GT(total.crashes, 20);
}

TEST(JournalSim, CatchesAcknowledgementsSentBeforeTheFsync) {
  int caught = 0;
  for (uint64_t seed = 1; seed <= 40 && caught == 0; ++seed) {
    Outcome o = RunSeed(seed, 300, /*canary=*/true);
    if (!o.violation.empty()) {
      ++caught;
      std::printf("canary caught: %s\n", o.violation.c_str());
    }
  }
  EXPECT_GT(caught, 0) << "the sweep missed acknowledgements sent before the fsync";
}

}  // namespace
}  // namespace cairn::journal

// Quiescence in the simulator: three journal nodes hosting many streams. Once the streams go
// idle their Raft traffic stops (each node still heartbeats each peer once a tick); an append
// wakes its stream; and when a node dies, the streams it led elect new leaders and take
// appends again, though none of their followers was hearing from its leader.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "sim/core/world.h"
#include "src/journal/journal_client.h"
#include "src/journal/journal_node.h"
#include "src/rpc/rpc_node.h"
#include "src/runtime/task_group.h"

namespace cairn::journal {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr int kNodes = 3;
constexpr int kStreams = 200;

std::string StreamName(int i) { return absl::StrCat("s", i); }

struct Cluster {
  bool quiesce = true;
  std::vector<NodeId> servers;
  std::map<NodeId, JournalNode*> live;
};

Task<void> Server(Runtime& rt, Cluster* cluster) {
  rpc::RpcNode rpc(rt);
  JournalNodeOptions options;
  options.quiesce = cluster->quiesce;
  std::string root = "journal";
  auto node = co_await JournalNode::Open(rt, rpc, std::move(root), options);
  CAIRN_CHECK_OK(node.status());
  for (int i = 0; i < kStreams; ++i) {
    std::string name = StreamName(i);
    CAIRN_CHECK_OK(co_await (*node)->CreateStream(std::move(name), cluster->servers));
  }
  (*node)->RegisterMethods();
  rpc.Start();
  (*node)->Start();
  cluster->live[rt.node_id()] = node->get();
  struct Unlist {
    Cluster* cluster;
    NodeId id;
    ~Unlist() { cluster->live.erase(id); }
  } unlist{cluster, rt.node_id()};
  (void)co_await (*node)->Failed();
}

// Raft messages the live nodes have sent so far.
uint64_t MessagesSent(const Cluster& c) {
  uint64_t n = 0;
  for (const auto& [id, node] : c.live) n += node->outbox_stats().messages;
  return n;
}

// One writer per stream; `rounds` times, appends one record to every stream (all at once)
// and records how long the slowest took.
struct Appends {
  Instant opened_at = kInstantMax;       // every writer has fenced its stream
  std::vector<Instant> round_at;         // when each round should start
  std::vector<Duration> slowest;         // per round
  std::vector<size_t> failed;            // per round
};

Task<void> Writers(Runtime& rt, Cluster* cluster, Appends* appends) {
  rpc::RpcNode rpc(rt);
  rpc.Start();
  std::vector<std::unique_ptr<JournalClient>> clients;
  for (int i = 0; i < kStreams; ++i) {
    JournalClientOptions options;
    options.replicas = cluster->servers;
    options.attempt_timeout = milliseconds(200);
    options.operation_timeout = seconds(5);
    std::string name = StreamName(i);
    auto c = co_await JournalClient::Open(rt, rpc, std::move(name), options);
    CAIRN_CHECK_OK(c.status());
    clients.push_back(*std::move(c));
  }
  appends->opened_at = rt.Now();
  for (Instant at : appends->round_at) {
    if (rt.Now() < at) co_await rt.Sleep(at - rt.Now());
    const Instant start = rt.Now();
    size_t failed = 0;
    Duration slowest{0};
    TaskGroup group(rt.executor());
    size_t done = 0;
    for (auto& client : clients) {
      group.Spawn([](Runtime& rt, JournalClient* c, Instant start, Duration* slowest, size_t* failed,
                     size_t* done) -> Task<void> {
        std::string record = "r";
        absl::StatusOr<uint64_t> p = co_await c->Append(std::move(record));
        if (!p.ok()) ++*failed;
        *slowest = std::max(*slowest, rt.Now() - start);
        ++*done;
      }(rt, client.get(), start, &slowest, &failed, &done));
    }
    while (done < clients.size()) co_await rt.Sleep(milliseconds(10));
    appends->slowest.push_back(slowest);
    appends->failed.push_back(failed);
  }
}

struct Measured {
  uint64_t idle_messages_per_s = 0;  // Raft messages while every stream is idle
  Appends appends;
  size_t quiesced_leaders = 0;
};

// Streams are created and fenced (by 5 s), get one round of appends at 6 s, sit idle from 7 s
// to 9 s (measured), get a round at 9 s (waking them), then the node leading stream 0 crashes
// at 10.5 s and a last round goes at 11 s.
Measured RunCluster(bool quiesce, uint64_t seed) {
  Cluster cluster;
  cluster.quiesce = quiesce;
  Measured m;
  sim::World world(sim::WorldOptions{.seed = seed});
  for (int i = 0; i < kNodes; ++i) cluster.servers.push_back(static_cast<NodeId>(i));
  for (int i = 0; i < kNodes; ++i) {
    world.AddNode(absl::StrCat("j", i), [&cluster](Runtime& rt) { return Server(rt, &cluster); });
  }
  const Instant t0 = world.Now();
  m.appends.round_at = {t0 + seconds(6), t0 + seconds(9), t0 + seconds(11)};
  const NodeId writers =
      world.AddNode("writers", [&cluster, &m](Runtime& rt) { return Writers(rt, &cluster, &m.appends); });
  for (NodeId n = 0; n <= writers; ++n) world.Start(n);
  world.RunUntil(t0 + seconds(7));
  CAIRN_CHECK(m.appends.opened_at < t0 + seconds(6));
  const uint64_t before = MessagesSent(cluster);
  world.RunUntil(t0 + seconds(9));
  m.idle_messages_per_s = (MessagesSent(cluster) - before) / 2;
  for (const auto& [id, node] : cluster.live) {
    for (const auto& [name, replica] : node->streams()) {
      m.quiesced_leaders += replica->core().role() == Role::kLeader && replica->core().quiesced();
    }
  }
  world.RunUntil(t0 + milliseconds(10500));
  NodeId victim = kNoNode;
  for (const auto& [id, node] : cluster.live) {
    if (node->stream(StreamName(0))->core().role() == Role::kLeader) victim = id;
  }
  CAIRN_CHECK_NE(victim, kNoNode);
  world.Crash(victim, sim::World::CrashKind::kProcess);
  world.RunUntil(t0 + seconds(18));
  return m;
}

TEST(JournalQuiescence, IdleStreamsStopTalkingAndWakeWhenNeeded) {
  const Measured quiet = RunCluster(/*quiesce=*/true, 1);
  const Measured chatty = RunCluster(/*quiesce=*/false, 1);
  std::printf("%d idle streams on 3 nodes: %llu Raft messages/s quiesced (%zu leaders quiet), %llu without\n",
              kStreams, static_cast<unsigned long long>(quiet.idle_messages_per_s), quiet.quiesced_leaders,
              static_cast<unsigned long long>(chatty.idle_messages_per_s));
  std::printf("slowest append per round (first, after idling, after the crash): quiesced %.0f/%.0f/%.0f ms, "
              "without %.0f/%.0f/%.0f ms\n",
              ToSeconds(quiet.appends.slowest.at(0)) * 1000, ToSeconds(quiet.appends.slowest.at(1)) * 1000,
              ToSeconds(quiet.appends.slowest.at(2)) * 1000, ToSeconds(chatty.appends.slowest.at(0)) * 1000,
              ToSeconds(chatty.appends.slowest.at(1)) * 1000, ToSeconds(chatty.appends.slowest.at(2)) * 1000);
  EXPECT_EQ(quiet.quiesced_leaders, static_cast<size_t>(kStreams));
  // Without quiescence every leader heartbeats both followers every 10 ms tick, and each
  // heartbeat is answered: 200 x 2 x 2 x 100 messages a second.
  EXPECT_GT(chatty.idle_messages_per_s, 50'000u);
  EXPECT_EQ(quiet.idle_messages_per_s, 0u);
  for (const Measured* m : {&quiet, &chatty}) {
    ASSERT_EQ(m->appends.failed.size(), 3u);
    for (size_t failed : m->appends.failed) EXPECT_EQ(failed, 0u);
  }
  // Waking costs no election: an idle stream answers about as fast as a busy one.
  EXPECT_LT(quiet.appends.slowest.at(1), milliseconds(100));
  // After the crash, the streams it led elect anew within a few election timeouts.
  EXPECT_LT(quiet.appends.slowest.at(2), seconds(2));
}

}  // namespace
}  // namespace cairn::journal

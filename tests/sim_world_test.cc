// The World: determinism, crash semantics, the simulated network.
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "sim/world.h"

namespace cairn::sim {
namespace {

using std::chrono::milliseconds;

struct DestructionProbe {
  int* destroyed;
  ~DestructionProbe() { ++*destroyed; }
};

// Two nodes ping-pong random numbers over the network for a while.
Task<void> Chatter(Runtime& rt, NodeId peer) {
  for (int i = 0; i < 50; ++i) {
    (void)rt.network().Send(peer, std::to_string(rt.random().Next()));
    (void)co_await rt.network().Receive(rt.DeadlineAfter(milliseconds(5)));
    co_await rt.Sleep(rt.random().UniformDuration(milliseconds(0), milliseconds(3)));
  }
}

uint64_t ChatterHash(uint64_t seed) {
  World world(WorldOptions{.seed = seed});
  world.network().faults().loss_probability = 0.1;
  world.network().faults().duplicate_probability = 0.1;
  const NodeId a = world.AddNode("a", [](Runtime& rt) { return Chatter(rt, 1); });
  const NodeId b = world.AddNode("b", [](Runtime& rt) { return Chatter(rt, 0); });
  world.Start(a);
  world.Start(b);
  world.RunFor(milliseconds(200));
  return world.trace().hash();
}

TEST(World, SameSeedSameTraceHash) {
  EXPECT_EQ(ChatterHash(11), ChatterHash(11));
  EXPECT_NE(ChatterHash(11), ChatterHash(12));
}

TEST(World, SameInstantEventsRunInSeededOrder) {
  auto order = [](uint64_t seed) {
    World world(WorldOptions{.seed = seed});
    std::string out;
    for (char c = 'a'; c < 'a' + 8; ++c) {
      world.Schedule(world.Now(), kNoNode, "test", 0, [&out, c] { out.push_back(c); });
    }
    while (world.Step()) {
    }
    return out;
  };
  EXPECT_EQ(order(1), order(1));
  std::set<std::string> distinct;
  for (uint64_t s = 1; s <= 20; ++s) distinct.insert(order(s));
  EXPECT_GT(distinct.size(), 10u);  // the seed really chooses the interleaving
}

TEST(World, CrashDestroysEveryTaskAndRestartRunsAnew) {
  int destroyed = 0, woke_after_crash = 0, starts = 0;
  World world(WorldOptions{.seed = 3});
  const NodeId n = world.AddNode("n", [&](Runtime& rt) -> Task<void> {
    ++starts;
    DestructionProbe probe{&destroyed};
    rt.executor().Spawn([](Runtime& rt, int* destroyed, int* woke) -> Task<void> {
      DestructionProbe inner{destroyed};
      co_await rt.Sleep(milliseconds(100));
      ++*woke;
    }(rt, &destroyed, &woke_after_crash));
    co_await rt.Sleep(milliseconds(100));
    ++woke_after_crash;
  });
  world.Start(n);
  world.RunFor(milliseconds(10));
  EXPECT_EQ(world.incarnation(n), 1u);
  world.Crash(n);
  EXPECT_FALSE(world.IsUp(n));
  EXPECT_EQ(destroyed, 2);  // both frames, at the crash
  world.RunFor(milliseconds(500));
  EXPECT_EQ(woke_after_crash, 0);  // their timers were dropped with the incarnation
  EXPECT_GT(world.events_dropped(), 0u);
  world.Start(n);
  world.RunFor(milliseconds(500));
  EXPECT_EQ(starts, 2);
  EXPECT_EQ(world.incarnation(n), 2u);
  EXPECT_EQ(woke_after_crash, 2);  // the new incarnation runs to completion
  EXPECT_TRUE(world.HasExited(n));
}

Task<void> Receiver(Runtime& rt, std::vector<std::string>* got) {
  while (true) {
    absl::StatusOr<Message> m = co_await rt.network().Receive(rt.DeadlineAfter(milliseconds(100)));
    if (m.ok()) got->push_back(m->payload);
  }
}

Task<void> Sender(Runtime& rt, int count) {
  for (int i = 0; i < count; ++i) {
    EXPECT_TRUE(rt.network().Send(1, std::to_string(i)).ok());
    co_await rt.Sleep(milliseconds(1));
  }
}

TEST(SimNetwork, PartitionsCutOneWayOrBoth) {
  std::vector<std::string> got;
  World world(WorldOptions{.seed = 5});
  const NodeId a = world.AddNode("a", [](Runtime& rt) { return Sender(rt, 10); });
  const NodeId b = world.AddNode("b", [&got](Runtime& rt) { return Receiver(rt, &got); });
  world.network().Cut(a, b);  // one way: a can no longer reach b
  world.Start(a);
  world.Start(b);
  world.RunFor(milliseconds(100));
  EXPECT_TRUE(got.empty());
  EXPECT_EQ(world.network().stats().cut, 10u);
  world.network().RestoreAll();
  world.Restart(a);
  world.RunFor(milliseconds(100));
  EXPECT_EQ(got.size(), 10u);
}

TEST(SimNetwork, LossAndDuplicationHappenAtTheirRates) {
  std::vector<std::string> got;
  World world(WorldOptions{.seed = 9});
  world.network().faults().loss_probability = 0.2;
  world.network().faults().duplicate_probability = 0.2;
  const NodeId a = world.AddNode("a", [](Runtime& rt) { return Sender(rt, 2000); });
  const NodeId b = world.AddNode("b", [&got](Runtime& rt) { return Receiver(rt, &got); });
  world.Start(a);
  world.Start(b);
  world.RunFor(std::chrono::seconds(5));
  const NetworkStats& s = world.network().stats();
  EXPECT_EQ(s.sent, 2000u);
  EXPECT_NEAR(static_cast<double>(s.lost) / 2000, 0.2, 0.04);
  EXPECT_NEAR(static_cast<double>(s.duplicated) / 1600, 0.2, 0.05);
  EXPECT_EQ(got.size(), s.delivered);
  EXPECT_EQ(s.delivered, s.sent - s.lost + s.duplicated);
}

TEST(SimNetwork, MessagesToADownNodeAreLost) {
  std::vector<std::string> got;
  World world(WorldOptions{.seed = 2});
  const NodeId a = world.AddNode("a", [](Runtime& rt) { return Sender(rt, 5); });
  world.AddNode("b", [&got](Runtime& rt) { return Receiver(rt, &got); });
  world.Start(a);  // b never starts
  world.RunFor(milliseconds(100));
  EXPECT_TRUE(got.empty());
  EXPECT_EQ(world.network().stats().to_down_node, 5u);
}

TEST(World, ClockSkewMovesOnlyTheWallClock) {
  int64_t mono = 0, wall_a = 0, wall_b = 0;
  World world(WorldOptions{.seed = 1});
  const NodeId a = world.AddNode("a", [&](Runtime& rt) -> Task<void> {
    co_await rt.Sleep(milliseconds(10));
    mono = ToNanos(rt.Now());
    wall_a = rt.clock().WallNow().time_since_epoch().count();
  });
  const NodeId b = world.AddNode("b", [&](Runtime& rt) -> Task<void> {
    co_await rt.Sleep(milliseconds(10));
    wall_b = rt.clock().WallNow().time_since_epoch().count();
  });
  world.SetClockSkew(b, milliseconds(250), 0);
  world.Start(a);
  world.Start(b);
  world.RunFor(milliseconds(20));
  EXPECT_EQ(mono, 10'000'000);
  EXPECT_EQ(wall_b - wall_a, 250'000'000);
}

}  // namespace
}  // namespace cairn::sim

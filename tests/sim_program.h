// OnSim: runs a coroutine as the program of one simulated node, for tests of components that
// need a node (an executor, a disk) but no cluster.
#pragma once

#include <chrono>
#include <functional>

#include "gtest/gtest.h"
#include "sim/core/world.h"

namespace cairn::testing {

// Runs `body` on a fresh simulated node seeded with `seed`; fails the test if it has not
// finished within `limit` of simulated time. Returns the simulated time it took.
inline Duration OnSim(uint64_t seed, std::function<Task<void>(Runtime&)> body,
                      Duration limit = std::chrono::hours(10)) {
  sim::World world(sim::WorldOptions{.seed = seed});
  bool done = false;
  Instant start{}, end{};
  const NodeId n = world.AddNode("n", [&](Runtime& rt) -> Task<void> {
    start = rt.Now();
    co_await body(rt);
    end = rt.Now();
    done = true;
  });
  world.Start(n);
  world.RunUntilCondition([&] { return done; }, world.Now() + limit);
  EXPECT_TRUE(done) << "the node program did not finish";
  return end - start;
}

}  // namespace cairn::testing

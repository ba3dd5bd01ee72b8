// The demo register in simulation: correct under chaos, broken variants caught, and every run
// replayable.
#include "gtest/gtest.h"
#include "sim/demo_scenario.h"

namespace cairn::sim {
namespace {

DemoScenario Short(uint64_t seed) {
  DemoScenario s;
  s.seed = seed;
  s.chaos = std::chrono::seconds(6);
  s.heal = std::chrono::seconds(4);
  return s;
}

TEST(DemoSim, CorrectServicePassesUnderChaos) {
  for (uint64_t seed = 1; seed <= 12; ++seed) {
    DemoResult r = RunDemoScenario(Short(seed));
    EXPECT_TRUE(r.passed()) << FormatDemoSummary(Short(seed), r, 0);
    EXPECT_GT(r.history.count(OpOutcome::kOk), 50u) << "seed " << seed;
  }
}

TEST(DemoSim, TheNemesisReallyInjectsFaults) {
  FaultCounts total;
  uint64_t lost = 0, torn = 0, cut = 0;
  for (uint64_t seed = 1; seed <= 12; ++seed) {
    DemoResult r = RunDemoScenario(Short(seed));
    total.crashes += r.faults.crashes;
    total.power_losses += r.faults.power_losses;
    total.partitions += r.faults.partitions + r.faults.one_way_partitions + r.faults.isolations;
    lost += r.network.lost;
    torn += r.disk.crash_writes_torn + r.disk.crash_writes_lost;
    cut += r.network.cut;
  }
  EXPECT_GT(total.crashes, 0u);
  EXPECT_GT(total.power_losses, 0u);
  EXPECT_GT(total.partitions, 0u);
  EXPECT_GT(lost, 0u);
  EXPECT_GT(cut, 0u);
  EXPECT_GT(torn, 0u);
}

TEST(DemoSim, SameSeedSameRun) {
  DemoResult a = RunDemoScenario(Short(77));
  DemoResult b = RunDemoScenario(Short(77));
  EXPECT_EQ(a.trace_hash, b.trace_hash);
  EXPECT_EQ(a.events, b.events);
  EXPECT_EQ(a.history.operations().size(), b.history.operations().size());
  EXPECT_NE(a.trace_hash, RunDemoScenario(Short(78)).trace_hash);
}

// A canary is a planted bug; the simulation is only worth something if it catches it.
int SeedsToCatch(bool ack_before_replicate, bool ack_before_fsync, uint64_t seeds_max) {
  for (uint64_t seed = 1; seed <= seeds_max; ++seed) {
    DemoScenario s;  // full length: 20 s of chaos, 10 s healed
    s.seed = seed;
    s.canary_ack_before_replicate = ack_before_replicate;
    s.canary_ack_before_fsync = ack_before_fsync;
    if (!RunDemoScenario(s).passed()) return static_cast<int>(seed);
  }
  return -1;
}

TEST(DemoSim, CanaryAckBeforeReplicateIsCaught) {
  const int seeds = SeedsToCatch(true, false, 30);
  EXPECT_GT(seeds, 0) << "a write acknowledged by one replica was never caught in 30 seeds";
  RecordProperty("seeds_to_catch", seeds);
}

TEST(DemoSim, CanaryAckBeforeFsyncIsCaught) {
  // Measured: about 5% of seeds catch it (53 of seeds 1..1000), the first at seed 5.
  const int seeds = SeedsToCatch(false, true, 100);
  EXPECT_GT(seeds, 0) << "acknowledging before fsync was never caught in 100 seeds";
  RecordProperty("seeds_to_catch", seeds);
}

}  // namespace
}  // namespace cairn::sim

// Canaries: planted bugs that the simulation must catch, each within a bounded number of
// seeds. If one stops being caught, the simulator lost power (or the checks did): that is a
// test failure, not a statistic. Seeds to first detection over several sweeps:
// `cairn sim canaries` (docs/simulation.md has the latest figures).
#include "gtest/gtest.h"
#include "sim/demo_scenario.h"

namespace cairn::sim {
namespace {

constexpr uint64_t kSeedsMax = 400;

// The first seed in 1..kSeedsMax whose run fails with the canary planted, or 0.
uint64_t FirstCatch(void (*plant)(DemoScenario&)) {
  for (uint64_t seed = 1; seed <= kSeedsMax; ++seed) {
    DemoScenario s;
    s.seed = seed;
    plant(s);
    if (!RunDemoScenario(s).passed()) return seed;
  }
  return 0;
}

TEST(Canary, AckBeforeReplicateIsCaught) {
  const uint64_t seed = FirstCatch([](DemoScenario& s) { s.canary_ack_before_replicate = true; });
  EXPECT_GT(seed, 0u) << "a write acknowledged by one replica went unnoticed for " << kSeedsMax << " seeds";
  RecordProperty("first_seed", static_cast<int>(seed));
}

TEST(Canary, AckBeforeFsyncIsCaught) {
  const uint64_t seed = FirstCatch([](DemoScenario& s) { s.canary_ack_before_fsync = true; });
  EXPECT_GT(seed, 0u) << "acknowledging before fsync went unnoticed for " << kSeedsMax << " seeds";
  RecordProperty("first_seed", static_cast<int>(seed));
}

TEST(Canary, IgnoreChecksumIsCaught) {
  const uint64_t seed = FirstCatch([](DemoScenario& s) { s.canary_ignore_checksum = true; });
  EXPECT_GT(seed, 0u) << "replaying corrupt records went unnoticed for " << kSeedsMax << " seeds";
  RecordProperty("first_seed", static_cast<int>(seed));
}

TEST(Canary, DropRetryIsCaught) {
  const uint64_t seed = FirstCatch([](DemoScenario& s) { s.canary_drop_retry = true; });
  EXPECT_GT(seed, 0u) << "counting an unanswered Store as stored went unnoticed for " << kSeedsMax << " seeds";
  RecordProperty("first_seed", static_cast<int>(seed));
}

}  // namespace
}  // namespace cairn::sim

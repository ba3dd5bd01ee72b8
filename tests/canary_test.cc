// Canaries: planted bugs that the simulation must catch, each within a bounded number of
// seeds. If one stops being caught, the simulator lost power (or the checks did): that is a
// test failure, not a statistic. Seeds to first detection over several sweeps:
// `cairn sim canaries` (docs/simulation.md has the latest figures).
#include "gtest/gtest.h"
#include "sim/demo_scenario.h"

namespace cairn::sim {
namespace {

constexpr uint64_t kSeedsMax = 400;

class CanaryTest : public testing::TestWithParam<Canary> {};

TEST_P(CanaryTest, IsCaughtWithinTheBound) {
  const Canary& canary = GetParam();
  uint64_t caught_at = 0;
  for (uint64_t seed = 1; seed <= kSeedsMax && caught_at == 0; ++seed) {
    if (!RunDemoScenario(CanaryHunt(canary, seed)).passed()) caught_at = seed;
  }
  EXPECT_GT(caught_at, 0u) << "canary " << canary.name << " (" << canary.bug << ") went unnoticed for "
                           << kSeedsMax << " seeds";
  RecordProperty("first_seed", static_cast<int>(caught_at));
}

INSTANTIATE_TEST_SUITE_P(Every, CanaryTest, testing::ValuesIn(Canaries()),
                         [](const testing::TestParamInfo<Canary>& info) {
                           std::string name = info.param.name;
                           for (char& c : name) {
                             if (c == '-') c = '_';
                           }
                           return name;
                         });

}  // namespace
}  // namespace cairn::sim

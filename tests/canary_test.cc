// Canaries: planted bugs that the simulation must catch, each within a bounded number of
// seeds. If one stops being caught, the simulator lost power (or the checks did): that is a
// test failure, not a statistic. Seeds to first detection over several sweeps:
// `cairn sim canaries` (docs/simulation.md has the latest figures).
#include "gtest/gtest.h"
#include "sim/harness/simulation.h"

namespace cairn::sim {
namespace {

struct Planted {
  const WorkloadInfo* workload;
  const CanaryInfo* canary;
  uint64_t seeds_max;
};

// The register's seeds are cheap (0.05 s); a journal or engine seed costs ten times more, so
// their bound is tighter (and `cairn sim canaries` reports how far inside it they are caught).
std::vector<Planted> EveryCanary() {
  std::vector<Planted> all;
  for (const WorkloadInfo* w : Workloads()) {
    for (const CanaryInfo& c : w->canaries) {
      all.push_back({w, &c, w->name == "register" ? 400u : 60u});
    }
  }
  return all;
}

class CanaryTest : public testing::TestWithParam<Planted> {};

TEST_P(CanaryTest, IsCaughtWithinTheBound) {
  const Planted& p = GetParam();
  uint64_t caught_at = 0;
  for (uint64_t seed = 1; seed <= p.seeds_max && caught_at == 0; ++seed) {
    if (!RunScenario(CanaryHunt(*p.workload, *p.canary, seed)).passed()) caught_at = seed;
  }
  EXPECT_GT(caught_at, 0u) << p.workload->name << " canary " << p.canary->name << " (" << p.canary->bug
                           << ") went unnoticed for " << p.seeds_max << " seeds";
  RecordProperty("first_seed", static_cast<int>(caught_at));
}

INSTANTIATE_TEST_SUITE_P(Every, CanaryTest, testing::ValuesIn(EveryCanary()),
                         [](const testing::TestParamInfo<Planted>& param) {
                           std::string name = param.param.workload->name + "_" + param.param.canary->name;
                           for (char& c : name) {
                             if (c == '-') c = '_';
                           }
                           return name;
                         });

}  // namespace
}  // namespace cairn::sim

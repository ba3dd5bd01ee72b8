// The demo register in simulation: correct under chaos, broken variants caught, and every run
// replayable.
#include "gtest/gtest.h"
#include "sim/harness/simulation.h"

namespace cairn::sim {
namespace {

Scenario Register() { return *ScenarioFor("register"); }

Scenario Short(uint64_t seed) {
  Scenario s = Register();
  s.seed = seed;
  s.chaos = std::chrono::seconds(6);
  s.heal = std::chrono::seconds(4);
  return s;
}

TEST(DemoSim, CorrectServicePassesUnderChaos) {
  for (uint64_t seed = 1; seed <= 12; ++seed) {
    RunResult r = RunScenario(Short(seed));
    EXPECT_TRUE(r.passed()) << FormatSummary(Short(seed), r, 0, Register());
    EXPECT_GT(r.history.count(OpOutcome::kOk), 10u) << "seed " << seed;  // progress, even in brutal seeds
  }
}

// Every fault kind of the register's swarm is injected somewhere in these seeds, and the disk
// and network faults really happen (counted where they strike). The kind the register leaves
// out, peer-stall, is injected on a journal, whose default mix has it.
TEST(DemoSim, TheNemesisInjectsEveryFaultKind) {
  fault::FaultCounts total;
  sim::NetworkStats net;
  sim::DiskStats disk;
  // Twelve swarm seeds, and six that only fail disks (so that the rarer disk faults surely
  // strike): full length, so that logs grow and recoveries read them in many pieces.
  for (uint64_t seed = 1; seed <= 18; ++seed) {
    Scenario s = Register();
    s.seed = seed;
    if (seed > 12) {
      s.fault_kinds = {fault::FaultKind::kDiskErrors, fault::FaultKind::kDiskFull,
                       fault::FaultKind::kCorruption, fault::FaultKind::kCrashRestart};
      s.fault_pace = std::chrono::milliseconds(200);
    }
    RunResult r = RunScenario(s);
    for (int k = 0; k < static_cast<int>(fault::FaultKind::kCount); ++k) total.by_kind[k] += r.faults.by_kind[k];
    net += r.network;
    disk += r.disk;
  }
  Scenario journal = *ScenarioFor("journal");
  journal.seed = 1;
  journal.fault_kinds = {fault::FaultKind::kPeerStall};
  journal.fault_pace = std::chrono::milliseconds(300);
  const RunResult stalled = RunScenario(journal);
  EXPECT_TRUE(stalled.passed()) << FormatSummary(journal, stalled, 0, *ScenarioFor("journal"));
  total.by_kind[static_cast<int>(fault::FaultKind::kPeerStall)] += stalled.faults.count(fault::FaultKind::kPeerStall);
  EXPECT_GT(stalled.network.clogged, 0u);
  for (int k = 0; k < static_cast<int>(fault::FaultKind::kCount); ++k) {
    EXPECT_GT(total.by_kind[k], 0u) << fault::FaultKindName(static_cast<fault::FaultKind>(k));
  }
  EXPECT_GT(net.lost, 0u);
  EXPECT_GT(net.duplicated, 0u);
  EXPECT_GT(net.cut, 0u);
  EXPECT_GT(net.clogged, 0u);
  EXPECT_GT(net.slow, 0u);
  EXPECT_GT(disk.crash_writes_torn, 0u);
  EXPECT_GT(disk.crash_writes_lost, 0u);
  EXPECT_GT(disk.sync_errors, 0u);
  EXPECT_GT(disk.read_errors, 0u);
  EXPECT_GT(disk.bitflips, 0u);
  EXPECT_GT(disk.corrupted_at_rest, 0u);
  EXPECT_GT(disk.misdirected_writes, 0u);
  EXPECT_GT(disk.full_errors, 0u);
}

TEST(DemoSim, SameSeedSameRun) {
  RunResult a = RunScenario(Short(77));
  RunResult b = RunScenario(Short(77));
  EXPECT_EQ(a.trace_hash, b.trace_hash);
  EXPECT_EQ(a.events, b.events);
  EXPECT_EQ(a.history.operations().size(), b.history.operations().size());
  EXPECT_NE(a.trace_hash, RunScenario(Short(78)).trace_hash);
}

}  // namespace
}  // namespace cairn::sim

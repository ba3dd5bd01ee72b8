// Scenario files: what they set, and the errors a person gets for a bad one.
#include "gtest/gtest.h"
#include "sim/harness/scenario_file.h"
#include "sim/harness/workload.h"

namespace cairn::sim {
namespace {

TEST(ScenarioFile, SetsWhatItSays) {
  absl::StatusOr<Scenario> s = ParseScenario(R"(
# a comment
[cluster]
replicas = 5    # trailing comment
clients = 2
[workload]
keys = 9
[time]
chaos_ms = 1500
heal_ms = 2500
[faults]
kinds = partition, clog
pace_ms = 120
[knobs]
randomize = false
rpc_attempts_max = 4
[buggify]
enabled = false
[canaries]
plant = drop-retry, ack-before-fsync
)", "test.scenario");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->workload, "register");
  EXPECT_EQ(s->options.at("replicas"), "5");
  EXPECT_EQ(s->options.at("clients"), "2");
  EXPECT_EQ(s->options.at("keys"), "9");
  EXPECT_EQ(s->options.at("leases"), "true");  // the workload's default
  EXPECT_EQ(s->chaos, std::chrono::milliseconds(1500));
  EXPECT_EQ(s->heal, std::chrono::milliseconds(2500));
  EXPECT_EQ(s->fault_kinds, (std::vector<fault::FaultKind>{fault::FaultKind::kPartition, fault::FaultKind::kClog}));
  EXPECT_EQ(s->fault_pace, std::chrono::milliseconds(120));
  EXPECT_FALSE(s->randomize_knobs);
  EXPECT_EQ(s->knob_settings, (std::vector<std::string>{"rpc_attempts_max=4"}));
  EXPECT_FALSE(s->buggify);
  EXPECT_EQ(s->canaries, (std::vector<std::string>{"ack-before-fsync", "drop-retry"}));
  EXPECT_TRUE(s->Planted("drop-retry"));
  EXPECT_FALSE(s->Planted("ignore-checksum"));
  EXPECT_EQ(s->scenario_file, "test.scenario");
  // Its replay command names the file and nothing the file already says.
  Scenario run = *s;
  run.seed = 7;
  EXPECT_EQ(run.ReplayCommand(*s), "cairn sim run --seed 7 --scenario test.scenario");
  ASSERT_TRUE(SetOption(run, "keys", "3").ok());
  EXPECT_EQ(run.ReplayCommand(*s), "cairn sim run --seed 7 --scenario test.scenario --keys 3");
  // And the text it formats reads back to the same settings.
  absl::StatusOr<Scenario> again = ParseScenario(FormatScenario(run), "again");
  ASSERT_TRUE(again.ok()) << again.status();
  again->seed = 7;
  EXPECT_EQ(run.ReplayCommand(*again), "cairn sim run --seed 7 --scenario test.scenario");
}

TEST(ScenarioFile, NamesItsWorkloadAndItsOptions) {
  absl::StatusOr<Scenario> s = ParseScenario(R"(
[workload]
name = journal
reconfigure = true
[faults]
kinds = corruption, power-loss
pace_ms = 150
)", "j.scenario");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->workload, "journal");
  EXPECT_EQ(s->options.at("reconfigure"), "true");
  EXPECT_EQ(s->chaos, FindWorkload("journal")->chaos);  // the journal's defaults, not the register's
  // A default scenario of a workload replays with --workload; a changed option with --set.
  Scenario j = *ScenarioFor("journal");
  j.seed = 3;
  EXPECT_EQ(j.ReplayCommand(*ScenarioFor("journal")), "cairn sim run --workload journal --seed 3");
  ASSERT_TRUE(SetOption(j, "reconfigure", "true").ok());
  EXPECT_EQ(j.ReplayCommand(*ScenarioFor("journal")), "cairn sim run --workload journal --seed 3 --set reconfigure=true");
  // Options and canaries belong to a workload.
  EXPECT_FALSE(SetOption(j, "replicas", "3").ok());
  EXPECT_FALSE(SetOption(j, "reconfigure", "maybe").ok());
  EXPECT_FALSE(PlantCanary(j, "drop-retry").ok());
  EXPECT_TRUE(PlantCanary(j, "ack-before-fsync").ok());
}

TEST(ScenarioFile, NoneMeansNoFaults) {
  absl::StatusOr<Scenario> s = ParseScenario("[faults]\nkinds = none\n", "x");
  ASSERT_TRUE(s.ok());
  EXPECT_FALSE(s->faults);
}

TEST(ScenarioFile, ErrorsNameTheLineAndTheProblem) {
  struct Case {
    const char* text;
    const char* expected;
  };
  const Case cases[] = {
      {"replicas = 3\n", "x:1: a key before any [section]"},
      {"[cluster]\nreplicas = many\n", "x:2: option replicas: 'many' is not an integer from 1 to 9"},
      {"[cluster]\nreplicas = 12\n", "x:2: option replicas: '12' is not an integer from 1 to 9"},
      {"[clustre]\n", "x:1: unknown section [clustre]"},
      {"[cluster]\nnodes = 3\n", "x:2: workload register has no option 'nodes'"},
      {"[workload]\nname = raft\n", "x:2: unknown workload 'raft' (register, journal, engine, dfs, engine-dfs)"},
      {"[workload]\nname = journal\nkeys = 3\n", "x:3: workload journal has no option 'keys'"},
      {"[faults]\nkinds = partition, earthquake\n", "x:2: unknown fault kind 'earthquake'"},
      {"[knobs]\nno_such_knob = 1\n", "x:2: unknown knob 'no_such_knob'"},
      {"[buggify]\nenabled = yes\n", "x:2: 'yes' is not true or false"},
      {"[cluster]\nreplicas 3\n", "x:2: expected `key = value`"},
      {"[canaries]\nplant = ack-before-lunch\n", "x:2: workload register has no canary 'ack-before-lunch'"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<Scenario> s = ParseScenario(c.text, "x");
    ASSERT_FALSE(s.ok()) << c.text;
    EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(std::string(s.status().message()).find(c.expected), std::string::npos)
        << "got: " << s.status().message() << "\nwant: " << c.expected;
  }
}

}  // namespace
}  // namespace cairn::sim

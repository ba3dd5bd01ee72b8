// Scenario files: what they set, and the errors a person gets for a bad one.
#include "gtest/gtest.h"
#include "sim/scenario_file.h"

namespace cairn::sim {
namespace {

TEST(ScenarioFile, SetsWhatItSays) {
  absl::StatusOr<DemoScenario> s = ParseScenario(R"(
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
  EXPECT_EQ(s->replicas, 5);
  EXPECT_EQ(s->clients, 2);
  EXPECT_EQ(s->keys, 9);
  EXPECT_EQ(s->chaos, std::chrono::milliseconds(1500));
  EXPECT_EQ(s->heal, std::chrono::milliseconds(2500));
  EXPECT_EQ(s->fault_kinds, (std::vector<fault::FaultKind>{fault::FaultKind::kPartition, fault::FaultKind::kClog}));
  EXPECT_EQ(s->fault_pace, std::chrono::milliseconds(120));
  EXPECT_FALSE(s->randomize_knobs);
  EXPECT_EQ(s->knob_settings, (std::vector<std::string>{"rpc_attempts_max=4"}));
  EXPECT_FALSE(s->buggify);
  EXPECT_TRUE(s->canary_drop_retry);
  EXPECT_TRUE(s->canary_ack_before_fsync);
  EXPECT_FALSE(s->canary_ignore_checksum);
  EXPECT_EQ(s->scenario_file, "test.scenario");
  // Its replay command names the file and nothing the file already says.
  DemoScenario run = *s;
  run.seed = 7;
  EXPECT_EQ(run.ReplayCommand(*s), "cairn sim run --seed 7 --scenario test.scenario");
  run.keys = 3;
  EXPECT_EQ(run.ReplayCommand(*s), "cairn sim run --seed 7 --scenario test.scenario --keys 3");
}

TEST(ScenarioFile, NoneMeansNoFaults) {
  absl::StatusOr<DemoScenario> s = ParseScenario("[faults]\nkinds = none\n", "x");
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
      {"[cluster]\nreplicas = many\n", "x:2: 'many' is not an integer in [1, 9]"},
      {"[cluster]\nreplicas = 12\n", "x:2: '12' is not an integer in [1, 9]"},
      {"[clustre]\n", "x:1: unknown section [clustre]"},
      {"[cluster]\nnodes = 3\n", "x:2: unknown key 'nodes' in [cluster]"},
      {"[faults]\nkinds = partition, earthquake\n", "x:2: unknown fault kind 'earthquake'"},
      {"[knobs]\nno_such_knob = 1\n", "x:2: unknown knob 'no_such_knob'"},
      {"[buggify]\nenabled = yes\n", "x:2: 'yes' is not true or false"},
      {"[cluster]\nreplicas 3\n", "x:2: expected `key = value`"},
      {"[canaries]\nplant = ack-before-lunch\n", "x:2: unknown canary 'ack-before-lunch'"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<DemoScenario> s = ParseScenario(c.text, "x");
    ASSERT_FALSE(s.ok()) << c.text;
    EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(std::string(s.status().message()).find(c.expected), std::string::npos)
        << "got: " << s.status().message() << "\nwant: " << c.expected;
  }
}

}  // namespace
}  // namespace cairn::sim

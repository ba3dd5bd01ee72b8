// Simulator speed: raw scheduler throughput, and simulated seconds per wall second of the demo
// register under chaos. Run: build/bench/sim_bench
#include "benchmark/benchmark.h"
#include "sim/harness/simulation.h"
#include "sim/core/world.h"

namespace cairn::sim {
namespace {

using std::chrono::microseconds;

// Each of `tasks` tasks on each of 4 nodes sleeps a random few microseconds, forever: every
// wake-up is one scheduler event (queue push, pop, trace fold, resume).
Task<void> Sleeper(Runtime& rt) {
  while (true) co_await rt.Sleep(rt.random().UniformDuration(microseconds(1), microseconds(50)));
}

void BM_SchedulerEvents(benchmark::State& state) {
  const int tasks = static_cast<int>(state.range(0));
  uint64_t events = 0;
  for (auto _ : state) {
    state.PauseTiming();
    World world(WorldOptions{.seed = 1});
    for (int n = 0; n < 4; ++n) {
      world.Start(world.AddNode("n", [tasks](Runtime& rt) -> Task<void> {
        for (int i = 0; i < tasks; ++i) rt.executor().Spawn(Sleeper(rt));
        co_return;
      }));
    }
    state.ResumeTiming();
    const uint64_t before = world.events_run();
    while (world.events_run() - before < 200'000) world.Step();
    events += world.events_run() - before;
  }
  state.counters["events_per_s"] = benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_SchedulerEvents)->Arg(1)->Arg(100)->Unit(benchmark::kMillisecond);

void BM_DemoUnderChaos(benchmark::State& state) {
  double simulated = 0;
  uint64_t events = 0;
  uint64_t seed = 1;
  for (auto _ : state) {
    Scenario s = *ScenarioFor("register");
    s.seed = seed++;
    s.chaos = std::chrono::seconds(20);
    s.heal = std::chrono::seconds(5);
    RunResult r = RunScenario(s);
    simulated += ToSeconds(r.simulated);
    events += r.events;
    benchmark::DoNotOptimize(r.trace_hash);
  }
  state.counters["sim_s_per_wall_s"] = benchmark::Counter(simulated, benchmark::Counter::kIsRate);
  state.counters["events_per_s"] = benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_DemoUnderChaos)->Unit(benchmark::kMillisecond)->Iterations(5);

}  // namespace
}  // namespace cairn::sim

BENCHMARK_MAIN();

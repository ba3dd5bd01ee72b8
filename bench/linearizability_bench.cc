// Linearizability checker speed: operations checked per second on generated linearizable
// histories (sim/history_generator.h) of register and cas-register clients, with 10 and 50
// clients on 4 keys and 2% of operations left info. Run: build/bench/linearizability_bench
#include "benchmark/benchmark.h"
#include "sim/check/history_generator.h"
#include "sim/check/linearizability.h"
#include "src/base/check.h"

namespace cairn::sim {
namespace {

constexpr int kKeys = 4;
constexpr double kInfoFraction = 0.02;

void BM_Check(benchmark::State& state, Model model) {
  GeneratedHistoryOptions g;
  g.model = model;
  g.operations = static_cast<size_t>(state.range(0));
  g.clients = static_cast<int>(state.range(1));
  g.keys = kKeys;
  g.info_fraction = kInfoFraction;
  Random random(42);
  const History history = GenerateLinearizableHistory(g, random);
  uint64_t steps = 0;
  for (auto _ : state) {
    absl::StatusOr<LinearizabilityResult> r = CheckLinearizability(history, model);
    CAIRN_CHECK(r.ok() && r->verdict == Verdict::kLinearizable);
    steps = r->steps;
  }
  state.counters["ops_per_s"] = benchmark::Counter(
      static_cast<double>(state.iterations() * history.operations().size()),
      benchmark::Counter::kIsRate);
  state.counters["steps"] = static_cast<double>(steps);
}

void Sizes(benchmark::internal::Benchmark* b) {
  for (int64_t ops : {10'000, 50'000}) {
    for (int64_t clients : {10, 50}) b->Args({ops, clients});
  }
  b->ArgNames({"ops", "clients"})->Unit(benchmark::kMillisecond);
}

BENCHMARK_CAPTURE(BM_Check, register, Model::Register())->Apply(Sizes);
BENCHMARK_CAPTURE(BM_Check, cas_register, Model::CasRegister())->Apply(Sizes);

}  // namespace
}  // namespace cairn::sim

BENCHMARK_MAIN();

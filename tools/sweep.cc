#include "tools/sweep.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

namespace cairn::tools {

SweepSummary RunSweep(const SweepOptions& options,
                      const std::function<sim::Scenario(uint64_t)>& scenario_for,
                      const std::function<void(const sim::Scenario&, const sim::RunResult&)>& on_result) {
  const auto start = std::chrono::steady_clock::now();
  const uint64_t total = options.last_seed - options.first_seed + 1;
  const bool bar = options.progress && isatty(STDERR_FILENO);
  std::atomic<uint64_t> next{0};
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::map<uint64_t, std::pair<sim::Scenario, sim::RunResult>> done;  // waiting to be reported
  uint64_t reported = 0;
  SweepSummary summary;

  auto report_ready = [&] {  // with mu held: report every result that is next in seed order
    while (!done.empty() && done.begin()->first == reported && !(stop && options.stop_on_failure && summary.failures > 0)) {
      auto& [scenario, result] = done.begin()->second;
      ++summary.runs;
      summary.operations += result.history.operations().size();
      summary.simulated_seconds += ToSeconds(result.simulated);
      if (!result.passed()) {
        if (summary.failures++ == 0) summary.first_failure = scenario.seed;
        if (options.stop_on_failure) stop = true;
      }
      if (bar) std::fprintf(stderr, "\r\033[K");
      on_result(scenario, result);
      done.erase(done.begin());
      ++reported;
    }
    if (bar) {
      const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      const int width = 30;
      const int filled = static_cast<int>(width * reported / total);
      std::fprintf(stderr, "\r[%s%s] %llu/%llu seeds, %llu failed, %.1f s", std::string(filled, '#').c_str(),
                   std::string(width - filled, '.').c_str(), static_cast<unsigned long long>(reported),
                   static_cast<unsigned long long>(total), static_cast<unsigned long long>(summary.failures), wall);
    }
  };

  auto worker = [&] {
    while (!stop) {
      const uint64_t i = next++;
      if (i >= total) return;
      sim::Scenario scenario = scenario_for(options.first_seed + i);
      sim::RunResult result = sim::RunScenario(scenario);
      std::lock_guard<std::mutex> lock(mu);
      done.emplace(i, std::make_pair(std::move(scenario), std::move(result)));
      report_ready();
    }
  };
  std::vector<std::thread> threads;
  for (int j = 1; j < std::max(1, options.jobs); ++j) threads.emplace_back(worker);
  worker();
  for (std::thread& t : threads) t.join();
  if (bar) std::fprintf(stderr, "\r\033[K");
  summary.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return summary;
}

}  // namespace cairn::tools

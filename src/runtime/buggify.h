// Buggify: fault points in production code that make rare paths common in simulation.
//
//   if (rt.buggify().Fires()) { /* take the rare path: drop a reply, shrink a batch, ... */ }
//
// In the real runtime Fires() is always false. In simulation each site (file:line) is switched
// on for a whole run with probability `site_enable_probability`, decided from the run's seed and
// the site alone (not from the order sites are reached); an enabled site then fires with
// probability `fire_probability` each time it is reached, drawing from the node's Random.
#pragma once

#include <cstdint>
#include <map>
#include <source_location>
#include <string>

namespace cairn {

class Random;

// What a run's fault points did, for the run summary and coverage reports.
struct BuggifyStats {
  struct Site {
    bool enabled = false;
    uint64_t reached = 0;
    uint64_t fired = 0;
  };
  std::map<std::string, Site> sites;  // by "file:line"
};

class Buggify {
 public:
  // Never fires.
  Buggify() = default;
  // Fires as described above; `random` and `stats` must outlive this object.
  Buggify(uint64_t run_seed, Random* random, BuggifyStats* stats,
          double site_enable_probability = 0.25, double fire_probability = 0.05);

  bool enabled() const { return random_ != nullptr; }
  bool Fires(std::source_location where = std::source_location::current());

 private:
  uint64_t run_seed_ = 0;
  Random* random_ = nullptr;
  BuggifyStats* stats_ = nullptr;
  double site_enable_probability_ = 0;
  double fire_probability_ = 0;
};

}  // namespace cairn

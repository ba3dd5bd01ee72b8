// Buggify: fault points in production code that make rare paths common in simulation.
//
//   if (CAIRN_BUGGIFY(rt)) { /* take the rare path: drop a reply, shrink a batch, ... */ }
//
// (`rt`: a Runtime, or the Probes of a component handed no Runtime.) Every fault point is
// written with the macro, so `grep BUGGIFY` finds them all.
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
  // Inline, so that a fault point costs a real process (never enabled) one comparison: some
  // sit on hot paths (a cached SSTable get).
  bool Fires(std::source_location where = std::source_location::current()) {
    return random_ != nullptr && Decide(where);
  }

 private:
  bool Decide(std::source_location where);

  uint64_t run_seed_ = 0;
  Random* random_ = nullptr;
  BuggifyStats* stats_ = nullptr;
  double site_enable_probability_ = 0;
  double fire_probability_ = 0;
};

}  // namespace cairn

// True when this fault point fires; the site is the line the macro is written on.
#define CAIRN_BUGGIFY(rt) ((rt).buggify().Fires())

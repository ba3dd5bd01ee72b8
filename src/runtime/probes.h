// Probes: the fault points (buggify.h) and the Always/Sometimes assertions (assertions.h) of a
// component that is handed a Disk and an Executor rather than a whole Runtime — the shard
// engine, the segmented log, the node log — so that benchmarks and tools can run it with no
// runtime at all. A default Probes never fires and counts nothing (what a real process gets
// anyway); Probes(rt) reaches the runtime's, which in simulation are the run's.
//
//   if (CAIRN_BUGGIFY(options.probes)) { ...the rare path... }
//   CAIRN_SOMETIMES(options.probes, condition, "log.torn-tail-cut");
//
// It holds pointers into its runtime: it must not outlive it (as the options that carry it).
#pragma once

#include "src/runtime/assertions.h"
#include "src/runtime/buggify.h"
#include "src/runtime/runtime.h"

namespace cairn {

class Probes {
 public:
  Probes() = default;
  explicit Probes(Runtime& rt) : buggify_(&rt.buggify()), assertions_(&rt.assertions()) {}

  Buggify& buggify() const { return buggify_ != nullptr ? *buggify_ : Inert().buggify; }
  Assertions& assertions() const { return assertions_ != nullptr ? *assertions_ : Inert().assertions; }

 private:
  struct InertProbes {
    Buggify buggify;  // never fires: it has no random stream, and keeps no state
    NullAssertions assertions;
  };
  static InertProbes& Inert() {
    static InertProbes inert;
    return inert;
  }

  Buggify* buggify_ = nullptr;
  Assertions* assertions_ = nullptr;
};

}  // namespace cairn

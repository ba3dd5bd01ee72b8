// Runtime: everything a node may use to touch the world. Components take a Runtime& and reach
// time, randomness, concurrency, network and disk only through it; that is the runtime
// contract (docs/runtime.md), checked in CI by scripts/check_runtime_contract.sh. The same
// component code runs over src/runtime/real (a real process) and sim/ (a simulated node).
#pragma once

#include "src/runtime/assertions.h"
#include "src/runtime/buggify.h"
#include "src/runtime/clock.h"
#include "src/runtime/disk.h"
#include "src/runtime/executor.h"
#include "src/runtime/knobs.h"
#include "src/runtime/log.h"
#include "src/runtime/network.h"
#include "src/base/random.h"

namespace cairn {

class Runtime {
 public:
  Runtime(NodeId node_id, Clock& clock, Random& random, Executor& executor, Network& network,
          Disk& disk, const Knobs& knobs, Buggify& buggify, LogSink& log,
          Assertions& assertions)
      : node_id_(node_id),
        clock_(clock),
        random_(random),
        executor_(executor),
        network_(network),
        disk_(disk),
        knobs_(knobs),
        buggify_(buggify),
        log_(log),
        assertions_(assertions) {}
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  NodeId node_id() const { return node_id_; }
  Clock& clock() { return clock_; }
  Random& random() { return random_; }
  Executor& executor() { return executor_; }
  Network& network() { return network_; }
  Disk& disk() { return disk_; }
  const Knobs& knobs() const { return knobs_; }
  Buggify& buggify() { return buggify_; }
  LogSink& log() { return log_; }
  Assertions& assertions() { return assertions_; }

  Instant Now() const { return clock_.Now(); }
  Instant DeadlineAfter(Duration d) const { return clock_.Now() + d; }
  Executor::SleepAwaiter Sleep(Duration d) { return executor_.SleepFor(d); }
  void Log(std::string_view line) { log_.Write(line); }

 private:
  NodeId node_id_;
  Clock& clock_;
  Random& random_;
  Executor& executor_;
  Network& network_;
  Disk& disk_;
  const Knobs& knobs_;
  Buggify& buggify_;
  LogSink& log_;
  Assertions& assertions_;
};

}  // namespace cairn

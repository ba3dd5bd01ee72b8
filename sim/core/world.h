// World: a whole cluster in one process, on one seeded discrete-event scheduler.
//
// The World owns the event queue, ordered by (virtual time, a seeded tie-breaker, sequence),
// so that events due at the same instant run in an order the seed chooses and the same seed
// always chooses the same. It owns every node's disk (which survives crashes) and, while a node
// is up, its NodeRuntime (which does not). All randomness derives from the one seed; every
// event, draw and log line folds into the Trace hash. docs/simulation.md explains the model.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <queue>
#include <string>
#include <vector>

#include "sim/core/sim_disk.h"
#include "sim/core/sim_network.h"
#include "sim/core/trace.h"
#include "src/runtime/buggify.h"
#include "src/runtime/knobs.h"
#include "src/base/random.h"
#include "src/runtime/runtime.h"

namespace cairn::sim {

class NodeRuntime;

struct WorldOptions {
  uint64_t seed = 1;
  bool randomize_knobs = false;  // draw every knob within its simulation range
  bool buggify = false;          // switch fault points on (see buggify.h)
  size_t trace_records_max = 0;  // keep this many trace records for diffing (0: hash only)
  bool echo_logs = false;        // print node log lines to stdout as they happen
  Knobs knobs;                   // the starting knobs (before randomization)
  std::vector<std::string> knob_overrides;  // "name=value", applied after randomization
};

// What the Always and Sometimes sites of a run did (src/runtime/assertions.h).
struct AssertionStats {
  struct Site {
    bool always = false;
    std::string where;  // file:line
    uint64_t reached = 0;
    uint64_t held = 0;
  };
  std::map<std::string, Site> sites;    // by name
  std::vector<std::string> violations;  // failed Always, explained (the first few)
  uint64_t violation_count = 0;
  Instant first_violation = kInstantMax;
};

// What a node runs: its whole program, started at every (re)start. Everything it builds lives
// in the task's frame or in tasks it spawns, so a crash destroys all of it.
using NodeProgram = std::function<Task<void>(Runtime&)>;

class World {
 public:
  explicit World(WorldOptions options);
  ~World();
  World(const World&) = delete;
  World& operator=(const World&) = delete;

  uint64_t seed() const { return options_.seed; }
  Instant Now() const { return now_; }
  Random& random() { return random_; }  // the world's own choices (faults, scheduling)
  Trace& trace() { return trace_; }
  const Knobs& knobs() const { return knobs_; }
  SimNetwork& network() { return network_; }
  BuggifyStats& buggify_stats() { return buggify_stats_; }
  AssertionStats& assertion_stats() { return assertion_stats_; }

  // Nodes. Ids are dense from 0 in order of AddNode.
  NodeId AddNode(std::string name, NodeProgram program);
  size_t node_count() const { return nodes_.size(); }
  const std::string& node_name(NodeId id) const;
  bool IsUp(NodeId id) const;
  // Up, but its program has returned (as a process that exited): only a restart helps.
  bool HasExited(NodeId id) const;
  uint64_t incarnation(NodeId id) const;
  SimDisk& disk(NodeId id);
  // Clock faults, on the running incarnation too. A node's wall clock reads virtual time +
  // skew + drift; its monotonic clock runs at 1 + drift_ppm/1e6 of virtual time from now on
  // (an oscillator off by that much: timers and timeouts stretch or shrink with it).
  void SetClockSkew(NodeId id, Duration skew, double drift_ppm);
  WallTime WallClockOf(NodeId id) const;
  // A node's monotonic time now, and the virtual time at which it will read `node_time`.
  Instant MonotonicOf(NodeId id) const;
  Instant VirtualTimeOf(NodeId id, Instant node_time) const;

  // How much of the machine a crash takes. Either way every task and all memory of the node
  // vanish. A process crash (kill -9) leaves the OS page cache: unsynced writes stay, still
  // unsynced, and may be lost by a later machine crash. A machine crash (power loss, kernel
  // panic) settles the disk by the crash rules: unsynced writes kept, lost or torn.
  enum class CrashKind { kProcess, kMachine };

  void Start(NodeId id);  // a new incarnation runs the node's program
  void Crash(NodeId id, CrashKind kind = CrashKind::kMachine);
  void Restart(NodeId id, CrashKind kind = CrashKind::kMachine);  // Crash (if up), then Start
  // Stalls the node until `until` (a long GC pause, a stopped VM): none of its events run
  // before then; they run when it resumes. Messages still reach its inbox.
  void Pause(NodeId id, Instant until);
  bool IsPaused(NodeId id) const;

  // Schedules `fn` at `at` (never before now). With `node` set, the event belongs to that
  // node's current incarnation and is dropped if the node crashes before it runs.
  void Schedule(Instant at, NodeId node, const char* what, uint64_t detail,
                std::function<void()> fn);
  // The same with a given tie-breaker instead of one drawn from the World's stream: for
  // events whose presence must not shift the stream (a tape's faults, which shrinking removes).
  void ScheduleWithTiebreak(Instant at, NodeId node, const char* what, uint64_t detail,
                            uint64_t tiebreak, std::function<void()> fn);

  // Runs the next event due at or before `limit`; false if there is none.
  bool Step(Instant limit = kInstantMax);
  // Runs every event due at or before `until`, then sets the time to `until`.
  void RunUntil(Instant until);
  void RunFor(Duration d) { RunUntil(now_ + d); }
  // Runs until `done()` holds (checked after each event) or `until` passes; returns done().
  bool RunUntilCondition(const std::function<bool()>& done, Instant until);

  uint64_t events_run() const { return events_run_; }
  uint64_t events_dropped() const { return events_dropped_; }
  size_t events_pending() const { return queue_.size(); }

  // For the simulated runtime of a node.
  NodeRuntime* runtime_of(NodeId id);
  void LogLine(NodeId id, std::string_view line);

 private:
  struct Event {
    Instant at;
    uint64_t tiebreak;
    uint64_t seq;
    NodeId node;
    uint64_t incarnation;
    const char* what;
    uint64_t detail;
    std::function<void()> fn;
  };
  struct Later {
    bool operator()(const Event& a, const Event& b) const {
      if (a.at != b.at) return a.at > b.at;
      if (a.tiebreak != b.tiebreak) return a.tiebreak > b.tiebreak;
      return a.seq > b.seq;
    }
  };
  struct Node {
    std::string name;
    NodeProgram program;
    bool up = false;
    bool exited = false;
    uint64_t incarnation = 0;
    Instant paused_until{};
    Duration clock_skew{0};
    double drift_ppm = 0;
    // The monotonic clock is piecewise linear: node time = anchor_node + (now - anchor) * rate.
    Instant mono_anchor{};
    Instant mono_anchor_node{};
    double mono_rate = 1.0;
    std::unique_ptr<SimDisk> disk;
    std::unique_ptr<NodeRuntime> runtime;
  };
  Node& node(NodeId id);
  const Node& node(NodeId id) const;
  static Task<void> RunProgram(Task<void> program, World* world, NodeId id);

  WorldOptions options_;
  Instant now_{};
  Random random_;
  Trace trace_;
  Knobs knobs_;
  BuggifyStats buggify_stats_;
  AssertionStats assertion_stats_;
  SimNetwork network_;
  std::vector<std::unique_ptr<Node>> nodes_;  // stable: programs and frames point into them
  std::priority_queue<Event, std::vector<Event>, Later> queue_;
  uint64_t next_seq_ = 0;
  uint64_t events_run_ = 0;
  uint64_t events_dropped_ = 0;
  NodeId running_node_ = kNoNode;  // whose event is running, for contract checks
  friend class NodeRuntime;
  friend class SimNetwork;
};

}  // namespace cairn::sim

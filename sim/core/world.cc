#include "sim/core/world.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "sim/core/node_runtime.h"
#include "src/base/check.h"
#include "src/base/hash.h"
#include "src/base/strings.h"

namespace cairn::sim {

World::World(WorldOptions options)
    : options_(std::move(options)),
      random_(HashCombine(options_.seed, 0x776f726c64ull), nullptr),
      trace_(options_.trace_records_max),
      knobs_(options_.knobs),
      network_(*this) {
  if (options_.randomize_knobs) {
    Random knob_random(HashCombine(options_.seed, 0x6b6e6f62ull));
    knobs_.Randomize(knob_random);
  }
  for (const std::string& setting : options_.knob_overrides) CAIRN_CHECK_OK(knobs_.SetAssignment(setting));
}

World::~World() {
  // Node memory goes first, while the World it refers to is whole; then pending events.
  for (auto& n : nodes_) n->runtime.reset();
  while (!queue_.empty()) queue_.pop();
}

World::Node& World::node(NodeId id) {
  CAIRN_CHECK_MSG(id < nodes_.size(), absl::StrCat("no node ", id));
  return *nodes_[id];
}
const World::Node& World::node(NodeId id) const {
  CAIRN_CHECK_MSG(id < nodes_.size(), absl::StrCat("no node ", id));
  return *nodes_[id];
}

NodeId World::AddNode(std::string name, NodeProgram program) {
  auto n = std::make_unique<Node>();
  n->name = std::move(name);
  n->program = std::move(program);
  n->disk = std::make_unique<SimDisk>();
  nodes_.push_back(std::move(n));
  return static_cast<NodeId>(nodes_.size() - 1);
}

const std::string& World::node_name(NodeId id) const { return node(id).name; }
bool World::IsUp(NodeId id) const { return node(id).up; }
bool World::HasExited(NodeId id) const { return node(id).up && node(id).exited; }

Task<void> World::RunProgram(Task<void> program, World* world, NodeId id) {
  co_await std::move(program);
  world->node(id).exited = true;
  world->trace_.Fold(world->now_, id, "node.exit", 0);
}
uint64_t World::incarnation(NodeId id) const { return node(id).incarnation; }
SimDisk& World::disk(NodeId id) { return *node(id).disk; }
NodeRuntime* World::runtime_of(NodeId id) {
  Node& n = node(id);
  return n.up ? n.runtime.get() : nullptr;
}

void World::SetClockSkew(NodeId id, Duration skew, double drift_ppm) {
  Node& n = node(id);
  n.clock_skew = skew;
  n.drift_ppm = drift_ppm;
  // Re-anchor so the monotonic clock stays continuous, then change its rate.
  n.mono_anchor_node = MonotonicOf(id);
  n.mono_anchor = now_;
  n.mono_rate = 1.0 + drift_ppm / 1e6;
}

void World::Start(NodeId id) {
  CAIRN_CHECK_MSG(running_node_ == kNoNode, "nodes are started by world events, not by nodes");
  Node& n = node(id);
  CAIRN_CHECK_MSG(!n.up, absl::StrCat("node ", id, " is already up"));
  ++n.incarnation;
  n.up = true;
  n.exited = false;
  n.paused_until = Instant{};
  trace_.Fold(now_, id, "node.start", n.incarnation);
  n.runtime = std::make_unique<NodeRuntime>(*this, id, n.incarnation);
  Runtime& rt = n.runtime->runtime();
  rt.executor().Spawn(RunProgram(n.program(rt), this, id));
}

void World::Crash(NodeId id, CrashKind kind) {
  CAIRN_CHECK_MSG(running_node_ == kNoNode, "nodes are crashed by world events, not by nodes");
  Node& n = node(id);
  if (!n.up) return;
  trace_.Fold(now_, id, kind == CrashKind::kMachine ? "node.crash.machine" : "node.crash.process",
              n.incarnation);
  n.up = false;
  n.runtime.reset();  // every task, then all node memory
  if (kind == CrashKind::kMachine) {
    Random crash_random = random_.Fork(absl::StrCat("crash/", id, "/", n.incarnation));
    n.disk->ApplyCrash(crash_random);
  }
}

Instant World::MonotonicOf(NodeId id) const {
  const Node& n = node(id);
  const auto elapsed = static_cast<double>((now_ - n.mono_anchor).count());
  return n.mono_anchor_node + Duration(static_cast<int64_t>(elapsed * n.mono_rate));
}

Instant World::VirtualTimeOf(NodeId id, Instant node_time) const {
  if (node_time == kInstantMax) return kInstantMax;
  const Node& n = node(id);
  const auto ahead = static_cast<double>((node_time - n.mono_anchor_node).count());
  // Round up: a timer never fires before its node time.
  return n.mono_anchor + Duration(static_cast<int64_t>(std::ceil(ahead / n.mono_rate)));
}

WallTime World::WallClockOf(NodeId id) const {
  // Wall clocks start at 2026-01-01T00:00:00Z so that dates in logs look like dates.
  constexpr int64_t kWallEpochNanos = 1767225600LL * 1'000'000'000LL;
  const Node& n = node(id);
  const int64_t t = ToNanos(now_);
  const auto drift = static_cast<int64_t>(static_cast<double>(t) * n.drift_ppm / 1e6);
  return WallTime(Duration(kWallEpochNanos + t + n.clock_skew.count() + drift));
}

void World::Pause(NodeId id, Instant until) {
  Node& n = node(id);
  if (!n.up) return;
  trace_.Fold(now_, id, "node.pause", static_cast<uint64_t>(ToNanos(until)));
  n.paused_until = std::max(n.paused_until, until);
}

bool World::IsPaused(NodeId id) const { return node(id).up && node(id).paused_until > now_; }

void World::Restart(NodeId id, CrashKind kind) {
  Crash(id, kind);
  Start(id);
}

void World::Schedule(Instant at, NodeId node_id, const char* what, uint64_t detail,
                     std::function<void()> fn) {
  if (at < now_) at = now_;
  ScheduleWithTiebreak(at, node_id, what, detail, random_.Next(), std::move(fn));
}

void World::ScheduleWithTiebreak(Instant at, NodeId node_id, const char* what, uint64_t detail,
                                 uint64_t tiebreak, std::function<void()> fn) {
  if (at < now_) at = now_;
  const uint64_t incarnation = node_id == kNoNode ? 0 : node(node_id).incarnation;
  queue_.push(Event{at, tiebreak, next_seq_++, node_id, incarnation, what, detail, std::move(fn)});
}

bool World::Step(Instant limit) {
  while (!queue_.empty() && queue_.top().at <= limit) {
    // priority_queue::top is const; the event is moved out before pop.
    Event event = std::move(const_cast<Event&>(queue_.top()));
    queue_.pop();
    now_ = event.at;
    if (event.node != kNoNode) {
      const Node& n = node(event.node);
      if (!n.up || n.incarnation != event.incarnation) {
        ++events_dropped_;
        continue;
      }
      if (n.paused_until > event.at) {  // stalled: the event waits for the node to resume
        event.at = n.paused_until;
        event.tiebreak = random_.Next();
        event.seq = next_seq_++;
        queue_.push(std::move(event));
        continue;
      }
    }
    ++events_run_;
    trace_.SetTime(now_, event.node);
    trace_.Fold(now_, event.node, event.what, event.detail);
    running_node_ = event.node;
    event.fn();
    running_node_ = kNoNode;
    trace_.SetTime(now_, kNoNode);
    return true;
  }
  return false;
}

void World::RunUntil(Instant until) {
  while (Step(until)) {
  }
  if (now_ < until) now_ = until;
}

bool World::RunUntilCondition(const std::function<bool()>& done, Instant until) {
  while (!done()) {
    if (!Step(until)) {
      if (now_ < until) now_ = until;
      return done();
    }
  }
  return true;
}

void World::LogLine(NodeId id, std::string_view line) {
  std::string clean = absl::StrReplaceAll(AbslView(line), {{"\t", " "}, {"\n", " "}});
  trace_.Fold(now_, id, absl::StrCat("log: ", clean), 0);
  if (options_.echo_logs) {
    std::printf("%12.6fs  %-10s %s\n", ToSeconds(now_), node(id).name.c_str(), clean.c_str());
  }
}

}  // namespace cairn::sim

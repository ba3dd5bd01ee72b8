#include "fault/nemesis.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "src/base/check.h"
#include "src/base/hash.h"

namespace cairn::fault {
namespace {
using std::chrono::milliseconds;
using std::chrono::seconds;
}  // namespace

const char* FaultKindName(FaultKind kind) {
  switch (kind) {
    case FaultKind::kCrashRestart: return "crash-restart";
    case FaultKind::kCrashStop: return "crash-stop";
    case FaultKind::kPowerLoss: return "power-loss";
    case FaultKind::kPause: return "pause";
    case FaultKind::kPartition: return "partition";
    case FaultKind::kClog: return "clog";
    case FaultKind::kSwizzle: return "swizzle";
    case FaultKind::kDegrade: return "degrade";
    case FaultKind::kClock: return "clock";
    case FaultKind::kDiskErrors: return "disk-errors";
    case FaultKind::kDiskFull: return "disk-full";
    case FaultKind::kCorruption: return "corruption";
    case FaultKind::kPeerStall: return "peer-stall";
    case FaultKind::kCount: break;
  }
  return "?";
}

std::optional<FaultKind> FaultKindFromName(std::string_view name) {
  for (int k = 0; k < static_cast<int>(FaultKind::kCount); ++k) {
    if (name == FaultKindName(static_cast<FaultKind>(k))) return static_cast<FaultKind>(k);
  }
  return std::nullopt;
}

Nemesis::Nemesis(World& world, NemesisOptions options, FaultCounts& counts)
    : world_(world), options_(std::move(options)), counts_(counts),
      random_(world.random().Fork("nemesis")) {
  CAIRN_CHECK(!options_.servers.empty());
  if (!options_.enabled) return;
  // Swarm testing: each kind is on with probability 0.6, and the pace is drawn per seed,
  // unless the scenario fixes them. (The draws happen either way, so fixing one does not
  // change the others.)
  Random later_kinds = random_.Fork("kinds after corruption");
  for (int k = 0; k < static_cast<int>(FaultKind::kCount); ++k) {
    enabled_[k] = (k < kFirstDrawKinds ? random_ : later_kinds).Chance(0.6);
    if (options_.swarm_kinds && std::find(options_.swarm_kinds->begin(), options_.swarm_kinds->end(),
                                          static_cast<FaultKind>(k)) == options_.swarm_kinds->end()) {
      enabled_[k] = false;
    }
    if (options_.kinds) {
      enabled_[k] = std::find(options_.kinds->begin(), options_.kinds->end(),
                              static_cast<FaultKind>(k)) != options_.kinds->end();
    }
    if (enabled_[k]) counts_.mix.push_back(FaultKindName(static_cast<FaultKind>(k)));
  }
  mean_gap_ = milliseconds(random_.UniformRange(50, 2000));
  if (options_.mean_gap > Duration(0)) mean_gap_ = options_.mean_gap;
  // The disk's crash behaviour is part of the swarm too: some disks lose nearly every
  // unsynced write at a crash, some tear most of them, some keep most.
  base_disk_.lost_write_probability = random_.UniformDouble() * 0.9;
  base_disk_.torn_write_probability = random_.UniformDouble() * (1 - base_disk_.lost_write_probability);
  for (NodeId s : options_.servers) world_.disk(s).faults() = base_disk_;
  counts_.mix.push_back(absl::StrCat("every~", FormatDuration(mean_gap_)));
  // The atlas: the servers whose storage may be corrupted in this run.
  std::vector<NodeId> candidates =
      options_.corruptible_candidates.empty() ? options_.servers : options_.corruptible_candidates;
  for (size_t i = 0; i < options_.corruptible_servers_max && !candidates.empty(); ++i) {
    const size_t pick = random_.Uniform(candidates.size());
    corruptible_.push_back(candidates[pick]);
    candidates.erase(candidates.begin() + static_cast<ptrdiff_t>(pick));
  }
}

void Nemesis::Start(Instant until) {
  until_ = until;
  if (!options_.enabled) return;
  if (options_.script) {
    ScheduleScripted(0);
    return;
  }
  ScheduleNext();
}

// Scripted actions are scheduled one at a time, each after the previous one applied, exactly
// as deciding schedules them: the World draws a tie-breaker per scheduled event, so the same
// schedule in the same order keeps its random stream, and a tape replays its run exactly.
void Nemesis::ScheduleScripted(size_t next) {
  const std::vector<FaultAction>& script = *options_.script;
  if (next >= script.size() || script[next].at >= until_) return;
  world_.ScheduleWithTiebreak(script[next].at, kNoNode, "nemesis", 0, Tiebreak("nemesis", script[next].at), [this, next] {
    const FaultAction& action = (*options_.script)[next];
    ++counts_.by_kind[static_cast<int>(action.kind)];
    if (options_.record != nullptr) options_.record->push_back(action);
    Apply(action);
    ScheduleScripted(next + 1);
  });
}

void Nemesis::ScheduleNext() {
  const Instant at = world_.Now() + milliseconds(5) + random_.Exponential(mean_gap_);
  if (at >= until_) return;
  world_.ScheduleWithTiebreak(at, kNoNode, "nemesis", 0, Tiebreak("nemesis", at), [this] {
    std::vector<FaultKind> choices;
    for (int k = 0; k < static_cast<int>(FaultKind::kCount); ++k) {
      if (enabled_[k]) choices.push_back(static_cast<FaultKind>(k));
    }
    if (!choices.empty()) {
      const FaultAction action = Decide(choices[random_.Uniform(choices.size())]);
      ++counts_.by_kind[static_cast<int>(action.kind)];
      if (options_.record != nullptr) options_.record->push_back(action);
      Apply(action);
    }
    ScheduleNext();
  });
}

// The nemesis's events take tie-breakers from their own time, not from the World's stream, so
// that dropping a fault from a tape (shrinking) leaves every other random choice in place.
uint64_t Nemesis::Tiebreak(const char* what, Instant at) {
  return HashCombine(HashBytes(what), static_cast<uint64_t>(ToNanos(at)));
}

void Nemesis::After(Duration d, const char* what, std::function<void()> fn) {
  const Instant at = world_.Now() + d;
  world_.ScheduleWithTiebreak(at, kNoNode, what, 0, Tiebreak(what, at), std::move(fn));
}

NodeId Nemesis::AnyServer() { return options_.servers[random_.Uniform(options_.servers.size())]; }
NodeId Nemesis::AnyNode() { return options_.nodes[random_.Uniform(options_.nodes.size())]; }
Duration Nemesis::FaultLength() { return random_.UniformDuration(milliseconds(100), seconds(3)); }

// Read faults only bite when something reads: servers read their disks mostly when they
// recover, so a disk fault often comes with a restart while it lasts.
Duration Nemesis::MaybeRestartDuring(Duration fault_length) {
  if (!random_.Chance(0.7)) return Duration(-1);
  return random_.UniformDuration(Duration(0), fault_length / 2);
}

void Nemesis::RestartUnlessStopped(NodeId n) {
  if (!world_.IsUp(n) && std::find(stopped_.begin(), stopped_.end(), n) == stopped_.end()) {
    world_.Start(n);
  }
}

FaultAction Nemesis::Decide(FaultKind kind) {
  FaultAction a;
  a.at = world_.Now();
  a.kind = kind;
  switch (kind) {
    case FaultKind::kCrashRestart:
      // shape 0: a process crash (kill -9: the OS keeps unsynced writes); 1: the machine.
      a.nodes = {AnyServer()};
      a.shape = random_.Chance(0.5) ? 0 : 1;
      a.lengths = {random_.UniformDuration(milliseconds(20), seconds(2))};
      break;
    case FaultKind::kCrashStop:
      a.nodes = {AnyServer()};
      break;
    case FaultKind::kPowerLoss:
      a.nodes = options_.servers;
      for (size_t i = 0; i < a.nodes.size(); ++i) {
        a.lengths.push_back(random_.UniformDuration(milliseconds(20), seconds(1)));
      }
      break;
    case FaultKind::kPause:
      a.nodes = {AnyNode()};
      a.lengths = {random_.UniformDuration(milliseconds(50), seconds(4))};
      break;
    case FaultKind::kPartition:
      // shape 0: symmetric split; 1: one-way split (the side cannot send to the rest);
      // 2: isolate one node.
      a.shape = static_cast<int>(random_.Uniform(3));
      if (a.shape == 2) {
        a.nodes = {AnyNode()};
      } else {
        for (NodeId n : options_.nodes) {
          if (random_.Chance(0.5)) a.nodes.push_back(n);
        }
      }
      a.lengths = {FaultLength()};
      break;
    case FaultKind::kClog:
      // shape 0: every link of one node; 1: one link, one way.
      a.shape = random_.Chance(0.5) ? 0 : 1;
      a.nodes = a.shape == 0 ? std::vector<NodeId>{AnyNode()} : std::vector<NodeId>{AnyNode(), AnyNode()};
      a.lengths = {FaultLength()};
      break;
    case FaultKind::kPeerStall: {
      // Log-uniform in [50 ms, 2 s]: every scale of stall is as likely as any other, so one
      // ends inside the election it caused (a few heartbeats wide) as often as it outlasts it.
      a.nodes = {AnyServer()};
      const double lo = std::log(0.05), hi = std::log(2.0);
      a.lengths = {std::chrono::duration_cast<Duration>(
          std::chrono::duration<double>(std::exp(lo + random_.UniformDouble() * (hi - lo))))};
      break;
    }
    case FaultKind::kSwizzle:
      // Clog a random subset at once; each unclogs at its own time, so the unclog order is a
      // different permutation than the clog order (FoundationDB's swizzle).
      for (NodeId n : options_.nodes) {
        if (random_.Chance(0.5)) {
          a.nodes.push_back(n);
          a.lengths.push_back(FaultLength());
        }
      }
      break;
    case FaultKind::kDegrade:
      a.values = {random_.UniformDouble() * 0.3, random_.UniformDouble() * 0.1,
                  random_.UniformDouble() * 0.1};  // loss, duplication, slow path
      a.lengths = {FaultLength()};
      break;
    case FaultKind::kClock:
      // shape 1: one node's wall clock jumps (NTP stepping it, seconds at a time); shape 0:
      // every node's clocks skew and drift anew within the bound (each oscillator is off by
      // its own amount). values: (skew ms, drift ppm) per node.
      a.shape = random_.Chance(0.3) ? 1 : 0;
      if (a.shape == 1) {
        a.nodes = {AnyNode()};
        a.values = {static_cast<double>(random_.UniformRange(-30'000, 30'000)), 0};
      } else {
        a.nodes = options_.nodes;
        for (size_t i = 0; i < a.nodes.size(); ++i) {
          a.values.push_back(static_cast<double>(random_.UniformRange(-500, 500)));
          a.values.push_back(static_cast<double>(
              random_.UniformRange(-options_.clock_drift_ppm_max, options_.clock_drift_ppm_max)));
        }
      }
      break;
    case FaultKind::kDiskErrors: {
      a.nodes = {AnyServer()};
      // fsync, read and write error rates; IO and fsync latency caps (ms): a slow disk.
      a.values = {random_.UniformDouble() * 0.05, random_.UniformDouble() * 0.3,
                  random_.UniformDouble() * 0.02, static_cast<double>(random_.UniformRange(1, 50)),
                  static_cast<double>(random_.UniformRange(3, 200))};
      const Duration length = FaultLength();
      a.lengths = {length, MaybeRestartDuring(length)};
      break;
    }
    case FaultKind::kDiskFull:
      a.nodes = {AnyServer()};
      a.values = {static_cast<double>(random_.Uniform(4096))};  // bytes left
      a.lengths = {FaultLength()};
      break;
    case FaultKind::kCorruption: {
      // Only servers the atlas chose: the model promises to survive corruption of at most so many.
      if (corruptible_.empty()) break;
      a.nodes = {corruptible_[random_.Uniform(corruptible_.size())]};
      // Which file (a fraction of the file list), where (half the time in the newest sector),
      // which bit; then misdirected-write and flipped-read rates for a while.
      a.values = {random_.UniformDouble(), random_.Chance(0.5) ? 1.0 : 0.0, random_.UniformDouble(),
                  static_cast<double>(random_.Uniform(8)), random_.UniformDouble() * 0.2,
                  random_.UniformDouble() * 0.5};
      const Duration length = FaultLength();
      a.lengths = {length, random_.UniformDuration(Duration(0), length / 2)};  // then recover
      break;
    }
    case FaultKind::kCount:
      break;
  }
  return a;
}

void Nemesis::Apply(const FaultAction& a) {
  auto restart_during = [this](NodeId n, Duration when) {
    if (when < Duration(0)) return;
    After(when, "nemesis.restart", [this, n] {
      if (world_.IsUp(n)) world_.Restart(n);
    });
  };
  switch (a.kind) {
    case FaultKind::kCrashRestart: {
      const NodeId victim = a.nodes.at(0);
      if (!world_.IsUp(victim)) return;
      world_.Crash(victim, a.shape == 0 ? World::CrashKind::kProcess : World::CrashKind::kMachine);
      After(a.lengths.at(0), "nemesis.restart", [this, victim] { RestartUnlessStopped(victim); });
      return;
    }
    case FaultKind::kCrashStop: {
      // Keep a majority of servers able to run: at most (n-1)/2 stopped at once.
      const NodeId victim = a.nodes.at(0);
      if (stopped_.size() >= (options_.servers.size() - 1) / 2) return;
      if (std::find(stopped_.begin(), stopped_.end(), victim) != stopped_.end()) return;
      world_.Crash(victim);
      stopped_.push_back(victim);
      return;
    }
    case FaultKind::kPowerLoss:
      for (NodeId s : a.nodes) world_.Crash(s);
      for (size_t i = 0; i < a.nodes.size(); ++i) {
        const NodeId s = a.nodes[i];
        After(a.lengths.at(i), "nemesis.restart", [this, s] { RestartUnlessStopped(s); });
      }
      return;
    case FaultKind::kPause:
      world_.Pause(a.nodes.at(0), world_.Now() + a.lengths.at(0));
      return;
    case FaultKind::kPartition: {
      std::vector<std::pair<NodeId, NodeId>> cut;
      for (NodeId x : a.nodes) {
        for (NodeId y : options_.nodes) {
          if (std::find(a.nodes.begin(), a.nodes.end(), y) != a.nodes.end()) continue;
          cut.push_back({x, y});
          if (a.shape != 1) cut.push_back({y, x});
        }
      }
      for (auto [x, y] : cut) world_.network().Cut(x, y);
      After(a.lengths.at(0), "nemesis.heal", [this, cut] {
        for (auto [x, y] : cut) world_.network().Restore(x, y);
      });
      return;
    }
    case FaultKind::kClog:
      if (a.shape == 0) {
        world_.network().ClogNode(a.nodes.at(0), world_.Now() + a.lengths.at(0));
      } else {
        world_.network().Clog(a.nodes.at(0), a.nodes.at(1), world_.Now() + a.lengths.at(0));
      }
      return;
    case FaultKind::kPeerStall:
      for (NodeId s : options_.servers) {
        if (s != a.nodes.at(0)) world_.network().Clog(a.nodes.at(0), s, world_.Now() + a.lengths.at(0));
      }
      return;
    case FaultKind::kSwizzle:
      for (size_t i = 0; i < a.nodes.size(); ++i) {
        world_.network().ClogNode(a.nodes[i], world_.Now() + a.lengths.at(i));
      }
      return;
    case FaultKind::kDegrade: {
      sim::NetworkFaults& f = world_.network().faults();
      f.loss_probability = a.values.at(0);
      f.duplicate_probability = a.values.at(1);
      f.slow_probability = a.values.at(2);
      After(a.lengths.at(0), "nemesis.heal", [this] { world_.network().faults() = sim::NetworkFaults(); });
      return;
    }
    case FaultKind::kClock:
      for (size_t i = 0; i < a.nodes.size(); ++i) {
        world_.SetClockSkew(a.nodes[i], milliseconds(static_cast<int64_t>(a.values.at(2 * i))),
                            a.values.at(2 * i + 1));
      }
      return;
    case FaultKind::kDiskErrors: {
      const NodeId n = a.nodes.at(0);
      sim::DiskFaults& f = world_.disk(n).faults();
      f.sync_error_probability = a.values.at(0);
      f.read_error_probability = a.values.at(1);
      f.write_error_probability = a.values.at(2);
      f.latency_max = milliseconds(static_cast<int64_t>(a.values.at(3)));
      f.sync_latency_max = milliseconds(static_cast<int64_t>(a.values.at(4)));
      restart_during(n, a.lengths.at(1));
      After(a.lengths.at(0), "nemesis.heal", [this, n] { world_.disk(n).faults() = base_disk_; });
      return;
    }
    case FaultKind::kDiskFull: {
      const NodeId n = a.nodes.at(0);
      sim::SimDisk& disk = world_.disk(n);
      disk.faults().capacity_bytes = disk.used_bytes() + static_cast<uint64_t>(a.values.at(0));
      After(a.lengths.at(0), "nemesis.heal", [this, n] {
        world_.disk(n).faults().capacity_bytes = base_disk_.capacity_bytes;
      });
      return;
    }
    case FaultKind::kCorruption: {
      if (a.nodes.empty()) return;
      const NodeId n = a.nodes.at(0);
      sim::SimDisk& disk = world_.disk(n);
      std::vector<std::string> files = disk.AllFiles();
      if (!files.empty()) {
        const auto pick = std::min(files.size() - 1, static_cast<size_t>(a.values.at(0) * static_cast<double>(files.size())));
        const std::string& path = files[pick];
        const uint64_t size = disk.FileSize(path);
        if (size > 0) {
          const uint64_t span = a.values.at(1) > 0.5 ? std::min<uint64_t>(size, 512) : size;
          const uint64_t offset = size - span + std::min<uint64_t>(span - 1, static_cast<uint64_t>(a.values.at(2) * static_cast<double>(span)));
          (void)disk.CorruptAtRest(path, offset, static_cast<int>(a.values.at(3)));
        }
      }
      sim::DiskFaults& f = disk.faults();
      f.misdirected_write_probability = a.values.at(4);
      f.read_bitflip_probability = a.values.at(5);
      restart_during(n, a.lengths.at(1));
      After(a.lengths.at(0), "nemesis.heal", [this, n] {
        sim::DiskFaults& g = world_.disk(n).faults();
        g.misdirected_write_probability = 0;
        g.read_bitflip_probability = 0;
      });
      return;
    }
    case FaultKind::kCount:
      return;
  }
}

void Nemesis::HealAll() {
  world_.network().RestoreAll();
  world_.network().UnclogAll();
  world_.network().faults() = sim::NetworkFaults();
  stopped_.clear();
  for (NodeId s : options_.servers) {
    world_.disk(s).faults() = base_disk_;
    if (!world_.IsUp(s)) world_.Start(s);
  }
}

void Nemesis::Supervise(Instant until) {
  const Instant at = world_.Now() + milliseconds(500);
  world_.ScheduleWithTiebreak(at, kNoNode, "supervisor", 0, Tiebreak("supervisor", at), [this, until] {
    for (NodeId s : options_.servers) {
      if (world_.HasExited(s)) {
        ++counts_.exits_restarted;
        world_.Restart(s, World::CrashKind::kProcess);  // the process exited; the OS did not
      }
    }
    if (world_.Now() < until) Supervise(until);
  });
}

}  // namespace cairn::fault

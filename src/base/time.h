// Time as Cairn code sees it. Instants come only from a runtime Clock (never from
// std::chrono's clocks), so that the simulator can own time.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace cairn {

using Duration = std::chrono::nanoseconds;

// The timeline of a node's monotonic clock. It has no now(): ask the runtime's Clock.
struct MonotonicTimeline {
  using duration = Duration;
  using rep = duration::rep;
  using period = duration::period;
  using time_point = std::chrono::time_point<MonotonicTimeline, Duration>;
  static constexpr bool is_steady = true;
};

// Wall-clock time since the Unix epoch, as a node believes it (it may skew and drift).
struct WallTimeline {
  using duration = Duration;
  using rep = duration::rep;
  using period = duration::period;
  using time_point = std::chrono::time_point<WallTimeline, Duration>;
  static constexpr bool is_steady = false;
};

using Instant = MonotonicTimeline::time_point;
using WallTime = WallTimeline::time_point;

// The instant that never comes; only for waits that another event always ends first.
inline constexpr Instant kInstantMax = Instant::max();

inline constexpr int64_t ToNanos(Duration d) { return d.count(); }
inline constexpr int64_t ToNanos(Instant t) { return t.time_since_epoch().count(); }
inline constexpr Instant InstantFromNanos(int64_t ns) { return Instant(Duration(ns)); }
inline constexpr double ToSeconds(Duration d) { return static_cast<double>(d.count()) / 1e9; }
inline constexpr double ToSeconds(Instant t) { return ToSeconds(t.time_since_epoch()); }

// "1.250s", "12.5ms", "830us", "40ns": for logs and summaries.
std::string FormatDuration(Duration d);

}  // namespace cairn

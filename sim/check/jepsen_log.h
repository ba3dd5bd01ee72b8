// Jepsen's log read as a history: the line jepsen.util logs for every event of every operation,
//
//   INFO  jepsen.util - 0	:invoke	:write	1
//   INFO [2017-03-30 15:01:35,613] jepsen worker 1 - jepsen.util 1	:ok	:write	1
//   2024-01-01 12:00:00,123{GMT}	INFO	[jepsen worker 0] jepsen.util: 0	:invoke	:read	nil
//   INFO  jepsen.util - :nemesis	:info	:start	nil
//
// What comes before the logger's name varies with Jepsen's version and logging setup, so only
// what follows it is read: the name `jepsen.util` (not part of a longer name), then ':' or
// " -" or nothing, then PROCESS TYPE F VALUE [ERROR], separated by tabs (or spaces): the
// process, :type and :f, and the :value printed as EDN, then the error as text. Each line
// reads as the event map {:process P, :type T, :f F, :value V, :error E}, so everything
// sim/check/jepsen_events.h says of events holds: the nemesis's lines are skipped, :value has
// the same shapes (jepsen.independent tuples included), a :fail or :info line's value may be
// anything (:timed-out).
//
// Lines of other loggers (and the lines of a stack trace) are skipped, as are jepsen.util lines
// that are not an operation (whose text after the name is not PROCESS then one of :invoke,
// :ok, :fail, :info). A log with no operation line at all is refused rather than read as an
// empty history.
//
// The log has no usable time (timestamps, when there are any, are in milliseconds at best, in
// formats that vary), so the n-th operation line stands for instant n ns. Line order is a
// sound order: Jepsen logs an invocation before it is made and a completion after it returns,
// so when one operation's completion is logged before another's invocation, the first really
// did complete before the second began.
#pragma once

#include <string_view>

#include "absl/status/statusor.h"
#include "sim/check/history.h"
#include "sim/check/jepsen_events.h"

namespace cairn::sim {

// Whether `text` has a line that reads as a jepsen.util operation line.
bool HasJepsenLogOperation(std::string_view text);

// InvalidArgument naming the line for an operation line that is not well formed, or for events
// that do not pair into operations (sim/check/jepsen_events.h).
absl::StatusOr<History> ParseJepsenLogHistory(std::string_view text,
                                              const JepsenEventOptions& options = {});

}  // namespace cairn::sim

// Histories as text, so they move between Cairn, Jepsen and people: Cairn's own format (one
// operation per line) and Jepsen's EDN (one event per line), which both round-trip a History,
// and Jepsen's log, which is only read.
//
// ## Cairn's format
//
// UTF-8 text, one operation per line, ten tab-separated fields:
//
//   index  process  outcome  f  key  value  expected  invoked_ns  completed_ns  error
//
//   index         0, 1, 2, ... in line order (the operation's History index)
//   process       the client, an integer
//   outcome       ok | fail | info | open   ("invoke" is read as open)
//   f             read | write | cas | append
//   key           the key
//   value         a write's, cas's (new) or append's value, or a read's result
//   expected      a cas's compared value; \N for other kinds
//   invoked_ns    the invocation instant, integer nanoseconds
//   completed_ns  the completion instant for ok and fail; \N for info and open
//   error         why it failed or is unknown; may be empty, and may be left off with its tab
//
// In text fields `\N` alone means "nothing" (no value: a read of an unwritten key), and
// `\\`, `\t`, `\n`, `\r` stand for a backslash, tab, newline and carriage return (the
// convention of PostgreSQL's COPY text format); an empty field is the empty string. Blank
// lines and lines starting with '#' are ignored. Writers start with a "# cairn history v1"
// line and a comment naming the columns.
//
// ## Jepsen's EDN
//
// Events, one map each, as Jepsen and Knossos write them: a file is maps one after another
// (Jepsen's history.edn, one per line), or one vector or list of them (Knossos's data files),
// or several such:
//
//   {:type :invoke, :f :write, :value 3, :process 0, :time 1000, :index 0}
//   {:type :ok, :f :write, :value 3, :process 0, :time 2000, :index 1}
//
// sim/check/jepsen_events.h says what an event may hold and how events pair into operations:
// the fields read (:process :type :f :key :value :time :error), the ones ignored, the shapes of
// :value (a plain value, jepsen.independent's [k v] tuple, a cas's [old new]), and why any
// other field is refused. The writer prints values that are decimal integers as EDN integers
// and others as strings, keys the same way (in [k v] tuples, except key ""), and puts an :info
// completion just before its process's next invocation (or at the end), since Jepsen pairs
// events by process.
//
// ## Jepsen's log
//
// The lines jepsen.util logs for every event ("INFO  jepsen.util - 0\t:invoke\t:read\tnil"),
// read from a whole Jepsen log; sim/check/jepsen_log.h specifies them. Read only.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "sim/check/history.h"
#include "sim/check/jepsen_events.h"

namespace cairn::sim {

enum class HistoryFormat { kCairn, kEdn, kJepsenLog };
const char* HistoryFormatName(HistoryFormat format);  // "cairn", "edn", "jepsen-log"

// EDN if the first thing in the text (after blank space and ';' comments) opens an EDN map,
// vector, list or tagged value. Otherwise Cairn's format if the first line that is not blank
// or a '#' comment starts with "0\t", as Cairn's first operation does; else a Jepsen log if a
// line reads as a jepsen.util operation; else Cairn's format (whose reader then says what is
// wrong with the first line).
HistoryFormat DetectHistoryFormat(std::string_view text);

struct HistoryParseOptions {
  std::optional<HistoryFormat> format;  // nullopt: detected
  // The Jepsen formats: fields of an event to ignore (sim/check/jepsen_events.h).
  JepsenEventOptions jepsen;
};

std::string FormatCairnHistory(const History& history);
// InvalidArgument naming the line for anything that is not a well-formed history.
absl::StatusOr<History> ParseCairnHistory(std::string_view text);

// InvalidArgument if the history cannot be told apart in EDN: a process with two operations
// open at once, unless the earlier is info or open.
absl::StatusOr<std::string> FormatEdnHistory(const History& history);
absl::StatusOr<History> ParseEdnHistory(std::string_view text,
                                        const JepsenEventOptions& options = {});

// Parses in `format`, or the detected one if none is given.
absl::StatusOr<History> ParseHistory(std::string_view text,
                                     std::optional<HistoryFormat> format = std::nullopt);
absl::StatusOr<History> ParseHistory(std::string_view text, const HistoryParseOptions& options);

}  // namespace cairn::sim

// Histories as text, so they move between Cairn, Jepsen and people: Cairn's own format (one
// operation per line) and Jepsen's EDN (one event per line). Both round-trip a History.
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
// One map per event (a file may also hold one vector of them), as Jepsen's history.edn:
//
//   {:type :invoke, :f :write, :value 3, :process 0, :time 1000, :index 0}
//   {:type :ok, :f :write, :value 3, :process 0, :time 2000, :index 1}
//
// An invocation opens an operation of its :process; the next :ok, :fail or :info event of that
// process completes it, and a read's result is the completion's :value. :value is one of
//   v               a single register (the key is "")
//   [k v]           jepsen.independent: key k, value v
//   [old new]       a cas on a single register
//   [k [old new]]   a keyed cas
// and nil means nothing (a read's invocation, or reading an unwritten key). Integers become
// their decimal string, strings their contents, keywords ":name". :f :get and :put are read as
// read and write. :time is nanoseconds; if any event lacks it, event order stands in for time
// (the n-th event at n ns). Events of a non-integer :process (the nemesis) are skipped. An
// invocation left open at the end, or followed by another invocation of its process, stays
// open. The writer prints values that are decimal integers as EDN integers and others as
// strings, keys the same way, and puts an :info completion just before its process's next
// invocation (or at the end), since Jepsen pairs events by process.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "sim/check/history.h"

namespace cairn::sim {

enum class HistoryFormat { kCairn, kEdn };

// EDN if the first thing in the text (after blank space and ';' comments) opens an EDN map,
// vector or tagged value; Cairn's format otherwise.
HistoryFormat DetectHistoryFormat(std::string_view text);

std::string FormatCairnHistory(const History& history);
// InvalidArgument naming the line for anything that is not a well-formed history.
absl::StatusOr<History> ParseCairnHistory(std::string_view text);

// InvalidArgument if the history cannot be told apart in EDN: a process with two operations
// open at once, unless the earlier is info or open.
absl::StatusOr<std::string> FormatEdnHistory(const History& history);
absl::StatusOr<History> ParseEdnHistory(std::string_view text);

// Parses in `format`, or the detected one if none is given.
absl::StatusOr<History> ParseHistory(std::string_view text,
                                     std::optional<HistoryFormat> format = std::nullopt);

}  // namespace cairn::sim

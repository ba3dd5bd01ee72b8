// Jepsen's operation events, what both Jepsen formats Cairn reads are made of: an EDN history
// (sim/check/history_format.h) holds one map per event, and a Jepsen log
// (sim/check/jepsen_log.h) one line per event, read as the same map. An invocation opens an
// operation of its :process; the next :ok, :fail or :info event of that process completes it.
//
// ## Fields
//
//   :process  an integer: a client. A keyword (:nemesis) is not a client; its events are
//             skipped. Anything else is refused.
//   :type     :invoke, :ok, :fail or :info
//   :f        :read, :write, :cas or :append (:get and :put are read as read and write)
//   :key      the key (optional; a jepsen.independent :value tuple is the other way to give one)
//   :value    what the operation wrote, or what a read returned: see below
//   :time     nanoseconds, an integer; if any event lacks it, the n-th event is at n ns
//   :error    why it failed or is unknown; kept as the operation's error
//
// Fields that never change what an operation did are ignored: :index (Jepsen's numbering; the
// order of the events is what counts), :node, :exception (the exception behind :error), :debug
// and :final?. Any other field is refused, naming it, unless the caller lists it in
// JepsenEventOptions::ignored_fields: a field Cairn does not read might change what the
// operation was (a :key dropped merges every key's operations into one register, and the
// verdict is then wrong), so none is dropped unless a person said it does not matter. A field
// given twice is refused too.
//
// ## :value
//
// A scalar is nil (nothing: a read's invocation, or a read of a key never written), an integer
// (its decimal string), a string (its contents), a keyword (":name"), or a boolean, float,
// character or symbol (its text). The shapes of :value are
//
//   without :key   v              a single register (the key is "")
//                  [k v]          jepsen.independent's tuple: key k, value v
//                  [old new]      a cas on a single register
//                  [k [old new]]  a keyed cas
//   with :key k    v, or [old new] for a cas; a tuple is refused (it would give the key twice)
//
// Values are scalars, so the shape alone tells a tuple from a value, without being asked: a
// two-element vector is a tuple, except as a cas's value, where it is [old new] unless its
// second element is a vector. Other collections are refused. Cairn's own writer puts keyed
// operations in tuples and operations on key "" as plain values, so a file may mix the two.
//
// ## Completions
//
// A read's :ok completion gives its result. An update's :ok completion repeats its invocation's
// value (Jepsen copies the invocation); one that gives a different value is refused, as is a
// completion on another key. A :fail or :info completion's value does not count (the operation
// took no effect, or an unknown one), so only a key is taken from it, and a value of no known
// shape (older Jepsen clients put :timed-out there) is ignored. An invocation left open at the
// end, or followed by another invocation of its process, stays open.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "sim/check/edn.h"
#include "sim/check/history.h"

namespace cairn::sim {

struct JepsenEventOptions {
  // Fields (names without the ':') to ignore, besides :index, :node, :exception, :debug and
  // :final?, for a file whose operations carry a field that does not change what they did.
  std::vector<std::string> ignored_fields;
};

struct JepsenEvent {
  int line = 0;
  int process = 0;
  OpOutcome type = OpOutcome::kOpen;  // kOpen: an invocation
  OpKind kind = OpKind::kRead;
  std::optional<std::string> key;  // nullopt: not said (the single register, unless another
                                   // event of the operation says)
  bool value_given = false;        // :value was there, of a known shape, and not nil
  std::optional<std::string> value;
  std::optional<std::string> expected;  // a cas's
  std::optional<int64_t> time_ns;
  std::string error;
};

// One event; nullopt for an event that is not a client's (the nemesis). InvalidArgument, naming
// the line, for a map that is not an event as the header describes.
absl::StatusOr<std::optional<JepsenEvent>> ParseJepsenEvent(const EdnValue& map,
                                                            const JepsenEventOptions& options);

// Pairs events, given in the order they happened, into operations (in invocation order).
// InvalidArgument naming the line for a completion that fits no invocation.
absl::StatusOr<History> HistoryFromJepsenEvents(std::vector<JepsenEvent> events);

// A value printed roughly as EDN (for an :error that is not a string, and for messages).
std::string PrintEdn(const EdnValue& v);

}  // namespace cairn::sim

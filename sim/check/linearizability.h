// A linearizability checker: is there one order of the operations that took effect, each at an
// instant between its invocation and its completion, in which every operation does what the
// model allows and observes what it observed?
//
// What counts (as in Knossos and Porcupine):
//  - ok operations took effect and must be placed;
//  - fail operations did not take effect and are dropped;
//  - info and still-open operations may have taken effect at any instant after their
//    invocation, or never: each is placed or left out, whichever makes a linearization;
//  - a read that did not complete ok observed nothing and is dropped;
//  - an info or open update whose effect nothing observes is dropped too (in a register, a
//    value no ok read returned and no cas expected; in kv, a put no read's result starts
//    with, an append no read's result contains): leaving it out never loses a
//    linearization, and each one kept would double the search.
// Operation A must precede B iff A completed strictly before B was invoked; equal instants
// count as concurrent.
//
// The search is Wing & Gong's, with Lowe's memoization (Lowe, "Testing for linearizability",
// 2017): the calls and returns of one key, in time order, in a linked list; repeatedly place the
// earliest pending call the model accepts, and when a return is reached whose operation is not
// placed, undo the last placement and try the next call. A (placed set, model state) pair seen
// before is not explored again. Each key is searched on its own (P-compositionality).
// Two prunings, each keeping some linearization if there is one:
//  - reads first: a read placed where it fits changes nothing, so where a pending read fits,
//    placing it is the only move tried;
//  - dead writes (register models): an ok write whose value no read returned and no cas
//    expected can only be followed by another write, so it is never a choice of its own: it
//    is placed just before a write that is, or at its own completion as a last resort.
// With them, 50 clients on 4 keys check at about a million operations per second
// (bench/linearizability_bench.cc).
//
// Placed sets are remembered by a 128-bit fingerprint (Zobrist hashing), as TLC remembers
// states, so a memo entry costs 24 bytes whatever the history's size. A collision could only
// hide a linearization, never invent one; with memos of up to 2^24 entries its chance is
// below 2^-80.
//
// The search is exponential in the worst case (NP-complete: Gibbons & Korach). Registers are
// cheap in practice because a write forgets what came before; kv appends are not, since every
// order of concurrent appends is a different value: ruling them all out costs up to k! for k
// appends in flight at once between reads that pin their order. So the search is bounded: by
// a step budget, a memo size, and a caller's should_stop hook (a command line may check a wall
// clock there; code in a simulation must not). Running out gives kUnknown, never a wrong
// verdict. The checker reads no clock and draws no randomness: the same history and options
// give the same result.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "sim/check/history.h"
#include "sim/check/history_models.h"

namespace cairn::sim {

enum class Verdict { kLinearizable, kNotLinearizable, kUnknown };
const char* VerdictName(Verdict verdict);  // "linearizable", "not linearizable", "unknown"

struct CheckOptions {
  // One step is one move of the search (trying a call, or undoing one), summed over all keys.
  uint64_t search_steps_max = 50'000'000;
  // Memo entries (24 bytes each, plus the hash table's overhead) alive at once, per key.
  uint64_t memo_entries_max = 10'000'000;
  // Asked every `should_stop_interval_steps` steps; true stops the search with kUnknown.
  std::function<bool()> should_stop;
  uint64_t should_stop_interval_steps = 4096;
  // Operations listed in an explanation, at most.
  size_t explained_operations_max = 20;
};

struct LinearizabilityResult {
  Verdict verdict = Verdict::kLinearizable;
  // The key that is not linearizable (or that the search could not decide); empty otherwise.
  std::string key;
  // For people: why, with the operations involved. Empty when linearizable.
  std::string explanation;
  // For a violation: the longest prefix of a linearization the search found for `key`, as
  // operation indices in linearization order; no operation can be placed after it that leads
  // to a full linearization.
  std::vector<uint64_t> longest_prefix;
  // For a violation: the operations that could be placed next after longest_prefix (at least
  // one of them had to be, and none worked), by invocation time.
  std::vector<uint64_t> involved;
  uint64_t steps = 0;                // search steps over all keys checked
  uint64_t keys_checked = 0;         // keys whose search finished
  uint64_t operations_checked = 0;   // operations placed in, or offered to, a search
};

// Checks every key of `history` against `model`, in key order. The result is the first key
// found not linearizable; else kUnknown if some key's search was given up; else kLinearizable.
// The step budget is shared by all keys: once it is spent (or should_stop says so) no further
// key is searched. A key that fills the memo is given up and the next key searched.
// InvalidArgument if the history does not fit the model (a cas in a register history) or is
// malformed (an operation that completes before it is invoked).
absl::StatusOr<LinearizabilityResult> CheckLinearizability(const History& history,
                                                           const Model& model,
                                                           const CheckOptions& options = {});

}  // namespace cairn::sim

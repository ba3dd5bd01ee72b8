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
//
// Keys share the step budget so that one hard key cannot starve the others: a violation on an
// easy key is found however hard another key is (Porcupine, checking keys in parallel, finds
// it at once too). Keys are searched in rounds, fewest operations first. In round 0 a key may
// take kRoundZeroStepsPerOperation steps per operation (at least kRoundZeroStepsMin); each
// later round searches the keys still undecided again, from the start, with 4 times the
// allowance, so restarts cost at most a third more than the last round. No allowance is more
// than an equal share of the steps left (what one key leaves goes to the keys after it) or
// key_search_steps_max, and a key left alone gets all the steps left. Rounds stop when every
// key is decided, the budget is spent, should_stop says so, or no allowance can grow; and
// after a round that found a key not linearizable, since the verdict can no longer change.
// The result says, for every key, whether it is linearizable, not, or undecided (and why).
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

// Round 0's allowance for a key of n operations: max(kRoundZeroStepsMin,
// n * kRoundZeroStepsPerOperation). Most keys of real histories are decided well inside it.
inline constexpr uint64_t kRoundZeroStepsPerOperation = 64;
inline constexpr uint64_t kRoundZeroStepsMin = 4096;

struct CheckOptions {
  // One step is one move of the search (trying a call, or undoing one). The steps of all keys
  // together, at most.
  uint64_t search_steps_max = 50'000'000;
  // The steps one search of one key may take, at most; 0: only search_steps_max limits it.
  uint64_t key_search_steps_max = 0;
  // Memo entries (24 bytes each, plus the hash table's overhead) alive at once, per key.
  uint64_t memo_entries_max = 10'000'000;
  // Asked every `should_stop_interval_steps` steps; true stops the search with kUnknown.
  std::function<bool()> should_stop;
  uint64_t should_stop_interval_steps = 4096;
  // Operations listed in an explanation, at most.
  size_t explained_operations_max = 20;
};

// What the search found for one key.
struct KeyResult {
  std::string key;
  Verdict verdict = Verdict::kLinearizable;
  // Why it is not linearizable, or why it is undecided; empty when linearizable.
  std::string explanation;
  // Not linearizable: as LinearizabilityResult's. Undecided: longest_prefix is how far the
  // last search got.
  std::vector<uint64_t> longest_prefix;
  std::vector<uint64_t> involved;
  uint64_t operations = 0;  // operations placed in, or offered to, its search
  uint64_t steps = 0;       // steps spent on it, over all its searches
  uint64_t searches = 0;    // times it was searched (0: the budget or time ran out first)
};

struct LinearizabilityResult {
  // kNotLinearizable if some key is not linearizable; else kUnknown if some key is
  // undecided; else kLinearizable.
  Verdict verdict = Verdict::kLinearizable;
  // The first key, in key order, that is not linearizable (or, for kUnknown, undecided);
  // empty when linearizable. The next three fields are that key's.
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
  uint64_t steps = 0;                // search steps over all keys
  uint64_t keys_checked = 0;         // keys decided (linearizable or not)
  uint64_t operations_checked = 0;   // operations placed in, or offered to, a search
  // Every key of the history, in key order, each with its own verdict.
  std::vector<KeyResult> keys;

  size_t count(Verdict v) const;  // keys with verdict v
};

// Checks every key of `history` against `model`, each on its own, sharing the step budget as
// the header says. A key that fills the memo is undecided and not searched again.
// InvalidArgument if the history does not fit the model (a cas in a register history) or is
// malformed (an operation that completes before it is invoked).
absl::StatusOr<LinearizabilityResult> CheckLinearizability(const History& history,
                                                           const Model& model,
                                                           const CheckOptions& options = {});

}  // namespace cairn::sim

#include "sim/check/linearizability.h"

#include <algorithm>
#include <deque>
#include <map>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "src/base/check.h"
#include "src/base/hash.h"

namespace cairn::sim {
namespace {

constexpr uint32_t kNone = UINT32_MAX;
// Operations of one key, at most: local ids and entry links are 32-bit.
constexpr size_t kKeyOperationsMax = (size_t{1} << 31) - 2;

// What the search may spend: steps over all keys, and the limit of the key being searched.
struct Budget {
  const CheckOptions& options;
  uint64_t steps = 0;
  uint64_t limit = 0;    // the current search gives up when `steps` reaches it
  bool stopped = false;  // should_stop said so: nothing more is searched

  // Counts one step; false once the current search must give up.
  bool Spend() {
    if (steps >= limit) return false;
    ++steps;
    if (options.should_stop && options.should_stop_interval_steps > 0 &&
        steps % options.should_stop_interval_steps == 0 && options.should_stop()) {
      stopped = true;
      return false;
    }
    return true;
  }
};

// Model states of one key, interned so the memo and the undo stack hold 32-bit ids. Id 0 is
// "nothing". A deque never moves its elements, so the index may point into them.
class StateTable {
 public:
  StateTable() { states_.emplace_back(std::nullopt); }

  uint32_t Intern(ModelState state) {
    if (!state) return 0;
    auto it = ids_.find(*state);
    if (it != ids_.end()) return it->second;
    const auto id = static_cast<uint32_t>(states_.size());
    states_.push_back(std::move(state));
    ids_.emplace(*states_.back(), id);
    return id;
  }
  const ModelState& Get(uint32_t id) const { return states_[id]; }

 private:
  std::deque<ModelState> states_;
  absl::flat_hash_map<absl::string_view, uint32_t> ids_;
};

// A memo entry: a placed set (by fingerprint) and the model state after placing it.
struct MemoKey {
  uint64_t hi = 0;
  uint64_t lo = 0;
  uint32_t state = 0;
  bool operator==(const MemoKey&) const = default;
  template <typename H>
  friend H AbslHashValue(H h, const MemoKey& k) {
    return H::combine(std::move(h), k.lo, k.state);  // the fingerprint is already uniform
  }
};

// kGaveUp: out of steps (the allowance, or should_stop); kMemoFull: the memo filled.
enum class SearchOutcome { kLinearizable, kNotLinearizable, kGaveUp, kMemoFull };

// The search over one key's operations.
class KeySearch {
 public:
  KeySearch(const Model& model, std::vector<const Operation*> ops, Budget& budget)
      : model_(model), ops_(std::move(ops)), budget_(budget) {
    BuildEntries();
    FindDeadWrites();
  }

  SearchOutcome Run();

  // How far the search got: the latest return it reached with its operation unplaced (the
  // operation that could not be linearized; kNone if the search never had to undo anything),
  // and the placements it had made then, by local id in order. Everything that returned
  // before that return is placed, so this is the longest linearizable prefix in time.
  uint32_t stuck_op() const { return best_return_ == kNone ? kNone : op_[best_return_]; }
  const std::vector<uint32_t>& best_prefix() const { return best_; }
  const std::vector<const Operation*>& ops() const { return ops_; }
  bool required(uint32_t op) const { return ops_[op]->outcome == OpOutcome::kOk; }

 private:
  // How a placement was made, which decides what undoing it means.
  enum class Move : uint8_t {
    kChoice,    // one of several candidates; undoing it tries the next candidate
    kRead,      // a read that fit: the only move tried; undoing it undoes the one before
    kAbsorbed,  // a dead write placed just before the kChoice write above it; undone with it
    kDeadLast,  // a dead write placed at its return, the last resort; undone like a read
  };

  void BuildEntries();
  void FindDeadWrites();
  void Lift(uint32_t call);
  void Unlift(uint32_t call);
  void RecordStuck(uint32_t return_entry);

  const Model& model_;
  std::vector<const Operation*> ops_;
  Budget& budget_;

  // The entries, a doubly linked list with sentinels: 0 is the head, tail_ the tail. Each
  // entry is the call or the return of op_[e]; match_[e] links a call to its return (kNone
  // for an operation that need not be placed: it has no return).
  std::vector<uint32_t> next_, prev_, op_, match_;
  std::vector<uint32_t> call_of_;  // a return's call
  std::vector<bool> is_return_;
  uint32_t tail_ = 0;

  std::vector<uint64_t> zobrist_hi_, zobrist_lo_;
  // Ok writes whose value nothing observes (register models only; see FindDeadWrites).
  std::vector<bool> dead_;

  struct Frame {
    uint32_t call;
    uint32_t prior_state;
    Move move;
  };
  std::vector<Frame> stack_;
  // best_ is the stack when the search reached best_return_; its first common_ entries still
  // equal stack_'s, so recording a new best copies only what was pushed since (amortized O(1)
  // per push).
  uint32_t best_return_ = kNone;
  std::vector<uint32_t> best_;
  size_t common_ = 0;
};

void KeySearch::BuildEntries() {
  struct Event {
    int64_t at_ns;
    bool is_return;
    uint32_t op;
  };
  std::vector<Event> events;
  events.reserve(2 * ops_.size());
  for (uint32_t i = 0; i < ops_.size(); ++i) {
    events.push_back({ToNanos(ops_[i]->invoked), false, i});
    if (required(i)) events.push_back({ToNanos(ops_[i]->completed), true, i});
  }
  // At equal instants calls go first: operations that meet at an instant are concurrent.
  std::sort(events.begin(), events.end(), [](const Event& a, const Event& b) {
    if (a.at_ns != b.at_ns) return a.at_ns < b.at_ns;
    if (a.is_return != b.is_return) return !a.is_return;
    return a.op < b.op;
  });
  const size_t n = events.size();
  tail_ = static_cast<uint32_t>(n + 1);
  next_.resize(n + 2);
  prev_.resize(n + 2);
  op_.assign(n + 2, kNone);
  match_.assign(n + 2, kNone);
  call_of_.assign(n + 2, kNone);
  is_return_.assign(n + 2, false);
  std::vector<uint32_t> call_entry(ops_.size(), kNone);
  for (uint32_t e = 0; e <= n + 1; ++e) {
    next_[e] = e + 1;
    prev_[e] = e == 0 ? kNone : e - 1;
  }
  next_[tail_] = kNone;
  for (size_t i = 0; i < n; ++i) {
    const auto e = static_cast<uint32_t>(i + 1);
    op_[e] = events[i].op;
    is_return_[e] = events[i].is_return;
    if (events[i].is_return) {
      CAIRN_CHECK(call_entry[events[i].op] != kNone);
      match_[call_entry[events[i].op]] = e;
      call_of_[e] = call_entry[events[i].op];
    } else {
      call_entry[events[i].op] = e;
    }
  }
  zobrist_hi_.resize(ops_.size());
  zobrist_lo_.resize(ops_.size());
  for (uint64_t i = 0; i < ops_.size(); ++i) {
    zobrist_hi_[i] = Mix64(HashCombine(0x6c696e6869ull, i));
    zobrist_lo_[i] = Mix64(HashCombine(0x6c696e6c6full, i));
  }
}

void KeySearch::Lift(uint32_t call) {
  next_[prev_[call]] = next_[call];
  prev_[next_[call]] = prev_[call];
  const uint32_t ret = match_[call];
  if (ret != kNone) {
    next_[prev_[ret]] = next_[ret];
    prev_[next_[ret]] = prev_[ret];
  }
}

// The exact inverse of Lift (dancing links: the removed entries still know their neighbours).
void KeySearch::Unlift(uint32_t call) {
  const uint32_t ret = match_[call];
  if (ret != kNone) {
    prev_[next_[ret]] = ret;
    next_[prev_[ret]] = ret;
  }
  prev_[next_[call]] = call;
  next_[prev_[call]] = call;
}

// A write is dead when its value is observed by nothing: no ok read returned it and no cas
// expected it. Whatever follows a dead write cannot observe the value, so only another write
// can follow it, and moving the dead write to just before that write (or, if that write starts
// only after the dead one completed, to the dead write's own completion) keeps a
// linearization one. So a dead write is never a choice of its own: placing a write also places
// every dead write then pending just before it, and a dead write whose return is reached
// unplaced is placed there. In histories with many concurrent writers most writes are dead,
// and this removes most of the search's branching.
void KeySearch::FindDeadWrites() {
  dead_.assign(ops_.size(), false);
  if (model_.kind == ModelKind::kKv) return;  // appends build on a put's value
  absl::flat_hash_set<std::string> observed;
  bool nothing_observed = false;
  for (const Operation* op : ops_) {
    const std::optional<std::string>* seen =
        op->kind == OpKind::kRead ? &op->value : op->kind == OpKind::kCas ? &op->expected : nullptr;
    if (seen == nullptr) continue;
    if (*seen) observed.insert(**seen);
    else nothing_observed = true;
  }
  for (uint32_t i = 0; i < ops_.size(); ++i) {
    const Operation& op = *ops_[i];
    if (op.kind != OpKind::kWrite || !required(i)) continue;
    dead_[i] = op.value ? !observed.contains(*op.value) : !nothing_observed;
  }
}

void KeySearch::RecordStuck(uint32_t return_entry) {
  // Entries are numbered in time order, so a larger one is a later return.
  if (best_return_ != kNone && return_entry <= best_return_) return;
  best_return_ = return_entry;
  best_.resize(common_);
  for (size_t i = common_; i < stack_.size(); ++i) best_.push_back(op_[stack_[i].call]);
  common_ = stack_.size();
}

SearchOutcome KeySearch::Run() {
  const uint64_t memo_max = budget_.options.memo_entries_max;
  StateTable states;
  absl::flat_hash_set<MemoKey> memo;
  size_t unplaced_required = 0;
  for (uint32_t i = 0; i < ops_.size(); ++i) unplaced_required += required(i);

  uint32_t state = states.Intern(model_.Initial());
  uint64_t hi = 0, lo = 0;
  auto place = [&](uint32_t call, uint32_t after_state, Move move) {
    const uint32_t op = op_[call];
    stack_.push_back({call, state, move});
    state = after_state;
    hi ^= zobrist_hi_[op];
    lo ^= zobrist_lo_[op];
    Lift(call);
    unplaced_required -= required(op);
  };
  auto unplace = [&]() {
    const Frame f = stack_.back();
    stack_.pop_back();
    common_ = std::min(common_, stack_.size());
    const uint32_t op = op_[f.call];
    state = f.prior_state;
    hi ^= zobrist_hi_[op];
    lo ^= zobrist_lo_[op];
    Unlift(f.call);
    unplaced_required += required(op);
    return f;
  };
  std::vector<uint32_t> absorbed;  // scratch: the dead writes pending at a configuration

  // Reads first. A read placed where the value is what it read changes nothing, so any
  // linearization from a configuration where a pending read fits can be rearranged to place
  // that read first. So when one fits, it is the only move tried there, and if it leads
  // nowhere (now, or in the memo) neither does the configuration. Other operations are tried,
  // in list order, only where no read fits.
  uint32_t entry = next_[0];
  bool fresh = true;  // a configuration whose reads were not offered yet
  while (unplaced_required > 0) {
    bool undo = false;
    if (fresh) {
      fresh = false;
      // A required operation's return lies before the tail, so the walk meets it first.
      for (uint32_t e = next_[0]; e != tail_ && !is_return_[e]; e = next_[e]) {
        if (!budget_.Spend()) return SearchOutcome::kGaveUp;
        const uint32_t op = op_[e];
        if (ops_[op]->kind != OpKind::kRead || !model_.Step(states.Get(state), *ops_[op])) continue;
        if (memo.size() >= memo_max) return SearchOutcome::kMemoFull;
        if (memo.insert({hi ^ zobrist_hi_[op], lo ^ zobrist_lo_[op], state}).second) {
          place(e, state, Move::kRead);
          fresh = true;
        } else {
          undo = true;
        }
        break;
      }
      if (fresh) continue;
      entry = next_[0];
    }
    if (!undo) {
      if (!budget_.Spend()) return SearchOutcome::kGaveUp;
      CAIRN_CHECK(entry != tail_ && entry != kNone);
      const uint32_t op = op_[entry];
      if (!is_return_[entry]) {
        // Reads were offered above; dead writes go only with a write, or at their return.
        if (ops_[op]->kind != OpKind::kRead && !dead_[op]) {
          std::optional<ModelState> after = model_.Step(states.Get(state), *ops_[op]);
          if (after) {
            const uint32_t after_id = states.Intern(*std::move(after));
            uint64_t key_hi = hi ^ zobrist_hi_[op], key_lo = lo ^ zobrist_lo_[op];
            absorbed.clear();
            if (ops_[op]->kind == OpKind::kWrite) {
              for (uint32_t e = next_[0]; e != tail_ && !is_return_[e]; e = next_[e]) {
                if (!dead_[op_[e]]) continue;
                absorbed.push_back(e);
                key_hi ^= zobrist_hi_[op_[e]];
                key_lo ^= zobrist_lo_[op_[e]];
              }
            }
            if (memo.size() >= memo_max) return SearchOutcome::kMemoFull;
            if (memo.insert({key_hi, key_lo, after_id}).second) {
              for (uint32_t e : absorbed) place(e, state, Move::kAbsorbed);
              place(entry, after_id, Move::kChoice);
              fresh = true;
              continue;
            }
          }
        }
        entry = next_[entry];
        continue;
      }
      if (dead_[op]) {
        // Every move at this configuration failed, but the dead write may still go here,
        // alone, for a write invoked after it completed to overwrite.
        const uint32_t call = call_of_[entry];
        const uint32_t after_id = states.Intern(ops_[op]->value);
        if (memo.size() >= memo_max) return SearchOutcome::kMemoFull;
        if (memo.insert({hi ^ zobrist_hi_[op], lo ^ zobrist_lo_[op], after_id}).second) {
          place(call, after_id, Move::kDeadLast);
          fresh = true;
          continue;
        }
      }
      // The return of an operation not yet placed: whatever was placed since it was invoked
      // cannot all be right.
      RecordStuck(entry);
    }
    // Undo the last choice and try the candidate after it. Reads and last-resort dead writes
    // were the only moves at their configurations, so undo past them.
    while (true) {
      if (stack_.empty()) return SearchOutcome::kNotLinearizable;
      const Frame f = unplace();
      if (f.move != Move::kChoice) continue;
      while (!stack_.empty() && stack_.back().move == Move::kAbsorbed) unplace();
      entry = next_[f.call];
      break;
    }
  }
  return SearchOutcome::kLinearizable;
}

std::string Indices(const std::vector<uint64_t>& indices, size_t max) {
  std::vector<std::string> parts;
  for (size_t i = 0; i < indices.size() && i < max; ++i) parts.push_back(absl::StrCat("#", indices[i]));
  if (indices.size() > max) parts.push_back(absl::StrFormat("... (%d more)", indices.size() - max));
  return absl::StrJoin(parts, " ");
}

// Fills the violation part of `result` from where the search got furthest in time.
void ExplainViolation(const KeySearch& search, const Model& model, const CheckOptions& options,
                      KeyResult& result) {
  const std::vector<const Operation*>& ops = search.ops();
  std::vector<bool> placed(ops.size(), false);
  ModelState state = model.Initial();
  for (uint32_t op : search.best_prefix()) {
    placed[op] = true;
    result.longest_prefix.push_back(ops[op]->index);
    std::optional<ModelState> after = model.Step(state, *ops[op]);
    CAIRN_CHECK_MSG(after.has_value(), "the search placed an operation the model refuses");
    state = *std::move(after);
  }
  CAIRN_CHECK(search.stuck_op() != kNone);
  const Operation* due = ops[search.stuck_op()];
  std::vector<const Operation*> next;
  for (uint32_t i = 0; i < ops.size(); ++i) {
    if (!placed[i] && ops[i]->invoked <= due->completed) next.push_back(ops[i]);
  }
  std::stable_sort(next.begin(), next.end(), [](const Operation* a, const Operation* b) {
    return a->invoked < b->invoked;
  });
  for (const Operation* op : next) result.involved.push_back(op->index);

  std::string text = absl::StrFormat(
      "key \"%s\" is not linearizable (%s model, %d operations of this key checked).\n"
      "No linearization gets past the completion of %s.\n",
      absl::CHexEscape(result.key), model.name(), ops.size(), DescribeOperation(*due));
  if (result.longest_prefix.empty()) {
    absl::StrAppend(&text, "Nothing can be placed before it; the value is nothing.\n");
  } else {
    absl::StrAppendFormat(&text,
                          "The longest linearizable prefix (every operation that completed "
                          "before it, and some concurrent ones) places %d operations:\n  %s\n"
                          "after which the value is %s.\n",
                          result.longest_prefix.size(),
                          Indices(result.longest_prefix, options.explained_operations_max),
                          DescribeState(state));
  }
  absl::StrAppendFormat(&text,
                        "Then #%d had to take effect, but no operation that could go next leads "
                        "to a linearization:\n",
                        due->index);
  for (size_t i = 0; i < next.size() && i < options.explained_operations_max; ++i) {
    const Operation& op = *next[i];
    std::optional<ModelState> after = model.Step(state, op);
    absl::StrAppendFormat(
        &text, "  %s: %s\n", DescribeOperation(op),
        after ? absl::StrFormat("could go next (the value becomes %s), but nothing linearizes "
                                "after that",
                                DescribeState(*after))
              : "cannot go next: " + model.ExplainRefusal(state, op));
  }
  if (next.size() > options.explained_operations_max) {
    absl::StrAppendFormat(&text, "  ... and %d more\n",
                          next.size() - options.explained_operations_max);
  }
  result.explanation = std::move(text);
}

absl::Status Validate(const History& history, const Model& model) {
  for (const Operation& op : history.operations()) {
    if (!model.Supports(op.kind)) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "operation %s is a %s, which the %s model does not have (cas needs cas-register, "
          "append needs kv)",
          DescribeOperation(op), OpKindName(op.kind), model.name()));
    }
    const bool completed = op.outcome == OpOutcome::kOk || op.outcome == OpOutcome::kFail;
    if (completed && op.completed < op.invoked) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "operation %s completes before it is invoked", DescribeOperation(op)));
    }
  }
  return absl::OkStatus();
}

// Whether `op` can matter to a linearization (see the header).
bool Searched(const Operation& op) {
  if (op.outcome == OpOutcome::kFail) return false;
  if (op.kind == OpKind::kRead) return op.outcome == OpOutcome::kOk;
  return true;
}

// Work (uncertain updates times bytes read) spent looking for kv updates nothing observes, at
// most, per key.
constexpr uint64_t kAppendScanBytesMax = uint64_t{1} << 28;

// Drops the uncertain (info or open) updates of one key whose effect nothing observes. Placing
// one can never help: until an overwrite, every later value shows its effect, so nothing that
// observes a value can come between it and that overwrite, and leaving it out gives a
// linearization too. It cannot be left out if it completed ok (it took effect). Without this,
// every uncertain update doubles the sets the search may visit (and, for appends, multiplies
// the values by the orders it could go in).
//  - register, cas-register: a write or cas whose new value no ok read returned and no cas
//    expected;
//  - kv: a put whose value no ok read's result starts with; an append whose (non-empty)
//    value is part of no ok read's result.
void DropUnobservedUncertainWrites(const Model& model, std::vector<const Operation*>& ops) {
  auto uncertain = [](const Operation* op) {
    return op->kind != OpKind::kRead &&
           (op->outcome == OpOutcome::kInfo || op->outcome == OpOutcome::kOpen);
  };
  std::vector<const std::optional<std::string>*> reads;
  uint64_t read_bytes = 0, uncertain_count = 0;
  for (const Operation* op : ops) {
    uncertain_count += uncertain(op);
    if (op->kind != OpKind::kRead) continue;
    reads.push_back(&op->value);
    read_bytes += op->value ? op->value->size() : 0;
  }
  if (uncertain_count == 0) return;

  if (model.kind == ModelKind::kKv) {
    if (uncertain_count * read_bytes > kAppendScanBytesMax) return;  // too costly to prove
    std::erase_if(ops, [&](const Operation* op) {
      // Nothing (a delete) and "" show in every later value: keep them.
      if (!uncertain(op) || !op->value || op->value->empty()) return false;
      const std::string& v = *op->value;
      for (const std::optional<std::string>* r : reads) {
        if (!*r) continue;
        const bool seen =
            op->kind == OpKind::kAppend ? (*r)->find(v) != std::string::npos : (*r)->starts_with(v);
        if (seen) return false;
      }
      return true;
    });
    return;
  }
  absl::flat_hash_set<std::string> observed;
  bool nothing_observed = false;
  auto observe = [&](const std::optional<std::string>& v) {
    if (v) observed.insert(*v);
    else nothing_observed = true;
  };
  for (const std::optional<std::string>* r : reads) observe(*r);
  for (const Operation* op : ops) {
    if (op->kind == OpKind::kCas) observe(op->expected);
  }
  std::erase_if(ops, [&](const Operation* op) {
    if (!uncertain(op)) return false;
    return op->value ? !observed.contains(*op->value) : !nothing_observed;
  });
}

}  // namespace

const char* VerdictName(Verdict verdict) {
  switch (verdict) {
    case Verdict::kLinearizable: return "linearizable";
    case Verdict::kNotLinearizable: return "not linearizable";
    case Verdict::kUnknown: return "unknown";
  }
  return "?";
}

size_t LinearizabilityResult::count(Verdict v) const {
  return static_cast<size_t>(
      std::count_if(keys.begin(), keys.end(), [v](const KeyResult& k) { return k.verdict == v; }));
}

absl::StatusOr<LinearizabilityResult> CheckLinearizability(const History& history,
                                                           const Model& model,
                                                           const CheckOptions& options) {
  if (absl::Status s = Validate(history, model); !s.ok()) return s;
  std::map<std::string, std::vector<const Operation*>> by_key;
  for (const Operation& op : history.operations()) {
    std::vector<const Operation*>& ops = by_key[op.key];  // every key has a result
    if (Searched(op)) ops.push_back(&op);
  }

  LinearizabilityResult result;
  // A key still to decide.
  struct Work {
    size_t result;  // its index in result.keys
    std::vector<const Operation*> ops;
    uint64_t allowance = 0;  // its last search's (0: not searched yet)
    std::optional<SearchOutcome> gave_up;  // why its last search gave up
  };
  std::vector<Work> work;
  for (auto& [key, ops] : by_key) {
    DropUnobservedUncertainWrites(model, ops);
    if (ops.size() > kKeyOperationsMax) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "key \"%s\" has %d operations; one key may have at most %d", absl::CHexEscape(key),
          ops.size(), kKeyOperationsMax));
    }
    KeyResult& k = result.keys.emplace_back();
    k.key = key;
    k.operations = ops.size();
    if (ops.empty()) {
      ++result.keys_checked;  // nothing that took effect: trivially linearizable
      continue;
    }
    work.push_back({result.keys.size() - 1, std::move(ops)});
  }
  // Fewest operations first (then key order): small keys are decided before a big one can
  // take the budget, and what they leave goes to the keys after them.
  std::stable_sort(work.begin(), work.end(), [](const Work& a, const Work& b) {
    return a.ops.size() < b.ops.size();
  });

  const uint64_t total = options.search_steps_max;
  Budget budget{options};
  bool violation = false;
  for (int round = 0;; ++round) {
    std::vector<Work*> todo;
    for (Work& w : work) {
      const KeyResult& k = result.keys[w.result];
      if (k.searches > 0 && k.verdict != Verdict::kUnknown) continue;  // decided
      if (w.gave_up == SearchOutcome::kMemoFull) continue;  // more steps would not help
      todo.push_back(&w);
    }
    if (todo.empty() || budget.stopped || (round > 0 && violation)) break;
    bool searched = false;
    for (size_t i = 0; i < todo.size() && !budget.stopped; ++i) {
      Work& w = *todo[i];
      KeyResult& k = result.keys[w.result];
      const uint64_t left = total - std::min(total, budget.steps);
      uint64_t allowance = left;
      if (todo.size() > 1) {
        uint64_t round_allowance =
            std::max(kRoundZeroStepsMin, w.ops.size() * kRoundZeroStepsPerOperation);
        for (int r = 0; r < round; ++r) {
          round_allowance = round_allowance > UINT64_MAX / 4 ? UINT64_MAX : round_allowance * 4;
        }
        allowance = std::min(round_allowance, left / (todo.size() - i));
      }
      if (options.key_search_steps_max > 0) {
        allowance = std::min(allowance, options.key_search_steps_max);
      }
      // A search is deterministic: with no more steps than last time it would give up at the
      // same place.
      if (allowance <= w.allowance) continue;
      searched = true;
      w.allowance = allowance;
      const uint64_t before = budget.steps;
      budget.limit = before + allowance;
      KeySearch search(model, w.ops, budget);
      const SearchOutcome outcome = search.Run();
      k.steps += budget.steps - before;
      ++k.searches;
      k.explanation.clear();
      k.longest_prefix.clear();
      switch (outcome) {
        case SearchOutcome::kLinearizable:
          k.verdict = Verdict::kLinearizable;
          w.gave_up.reset();
          break;
        case SearchOutcome::kNotLinearizable:
          k.verdict = Verdict::kNotLinearizable;
          w.gave_up.reset();
          ExplainViolation(search, model, options, k);
          violation = true;
          break;
        case SearchOutcome::kGaveUp:
        case SearchOutcome::kMemoFull: {
          k.verdict = Verdict::kUnknown;
          w.gave_up = outcome;
          for (uint32_t op : search.best_prefix()) {
            k.longest_prefix.push_back(search.ops()[op]->index);
          }
          const std::string why =
              outcome == SearchOutcome::kMemoFull
                  ? absl::StrFormat("the memo filled (%d entries: memo_entries_max)",
                                    options.memo_entries_max)
              : budget.stopped
                  ? absl::StrFormat("the caller stopped the search after %d steps", budget.steps)
                  : absl::StrFormat("its allowance of %d steps was spent (search %d of this key; "
                                    "the step budget is %d steps over all keys)",
                                    allowance, k.searches, total);
          const uint32_t stuck = search.stuck_op();
          k.explanation = absl::StrFormat(
              "gave up on key \"%s\" (%d operations): %s. By then it had linearized everything "
              "that completed before %s did (%d operations).",
              absl::CHexEscape(k.key), w.ops.size(), why,
              stuck == kNone ? std::string("the first operation")
                             : absl::StrCat("#", search.ops()[stuck]->index),
              search.best_prefix().size());
          break;
        }
      }
    }
    if (!searched) break;
  }

  // Why the keys still undecided were not searched (further).
  for (Work& w : work) {
    KeyResult& k = result.keys[w.result];
    if (k.searches > 0 && k.verdict != Verdict::kUnknown) continue;
    k.verdict = Verdict::kUnknown;
    if (k.searches == 0) {
      k.explanation = absl::StrFormat(
          "key \"%s\" (%d operations) was not searched: %s.", absl::CHexEscape(k.key),
          w.ops.size(),
          budget.stopped ? std::string("the caller stopped the search")
                         : absl::StrFormat("the step budget (%d steps over all keys) was spent "
                                           "before its turn", total));
      continue;
    }
    if (w.gave_up != SearchOutcome::kGaveUp || budget.stopped) continue;  // said already
    const std::string why_not =
        violation ? std::string("another key is not linearizable, which settles the verdict")
        : options.key_search_steps_max > 0 && w.allowance >= options.key_search_steps_max
            ? absl::StrFormat("key_search_steps_max (%d steps) was reached",
                              options.key_search_steps_max)
        : budget.steps >= total
            ? absl::StrFormat("the step budget (%d steps over all keys) was spent", total)
            : absl::StrFormat("the %d steps left of the budget (%d steps over all keys), "
                              "shared with the keys still undecided, would not take it further",
                              total - budget.steps, total);
    absl::StrAppendFormat(&k.explanation, " It was not searched further: %s.", why_not);
  }

  const KeyResult* shown = nullptr;
  for (const KeyResult& k : result.keys) {
    if (k.verdict == Verdict::kNotLinearizable) {
      shown = &k;
      break;
    }
    if (k.verdict == Verdict::kUnknown && shown == nullptr) shown = &k;
  }
  for (const KeyResult& k : result.keys) {
    if (k.searches > 0) result.operations_checked += k.operations;
    if (k.searches > 0 && k.verdict != Verdict::kUnknown) ++result.keys_checked;
  }
  if (shown != nullptr) {
    result.verdict = shown->verdict;
    result.key = shown->key;
    result.explanation = shown->explanation;
    result.longest_prefix = shown->longest_prefix;
    result.involved = shown->involved;
  }
  result.steps = budget.steps;
  return result;
}

}  // namespace cairn::sim

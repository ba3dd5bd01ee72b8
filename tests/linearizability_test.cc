// The linearizability checker on hand-built histories, each linearizable or not for a reason
// a person can check, and on generated ones (linearizable by construction, then mutated).
#include <algorithm>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rapidcheck.h"
#include "rapidcheck/gtest.h"
#include "sim/check/history_generator.h"
#include "sim/check/linearizability.h"

namespace cairn::sim {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

Instant T(int ms) { return InstantFromNanos(int64_t{ms} * 1'000'000); }

constexpr int kInfo = -1;  // as `to`: the outcome never came back

// Builds a history; `to` is kInfo for an operation whose outcome is unknown.
struct Builder {
  History h;

  uint64_t Add(int p, OpKind kind, const std::string& key, std::optional<std::string> value,
               std::optional<std::string> expected, int from, int to, OpOutcome outcome) {
    const bool read = kind == OpKind::kRead;
    const uint64_t i = h.Invoke(p, kind, key, read ? std::nullopt : value, T(from), expected);
    if (to == kInfo) outcome = OpOutcome::kInfo;
    h.Complete(i, outcome, read ? value : std::nullopt, T(to == kInfo ? from : to));
    return i;
  }
  uint64_t Write(int p, const std::string& v, int from, int to, OpOutcome o = OpOutcome::kOk,
                 const std::string& key = "x") {
    return Add(p, OpKind::kWrite, key, v, std::nullopt, from, to, o);
  }
  uint64_t Read(int p, std::optional<std::string> v, int from, int to,
                const std::string& key = "x") {
    return Add(p, OpKind::kRead, key, std::move(v), std::nullopt, from, to, OpOutcome::kOk);
  }
  uint64_t Cas(int p, std::optional<std::string> expected, const std::string& v, int from, int to,
               OpOutcome o = OpOutcome::kOk) {
    return Add(p, OpKind::kCas, "x", v, std::move(expected), from, to, o);
  }
  uint64_t Append(int p, const std::string& v, int from, int to, OpOutcome o = OpOutcome::kOk) {
    return Add(p, OpKind::kAppend, "x", v, std::nullopt, from, to, o);
  }

  LinearizabilityResult Check(Model model = Model::Register(), CheckOptions options = {}) const {
    absl::StatusOr<LinearizabilityResult> r = CheckLinearizability(h, model, options);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : LinearizabilityResult{};
  }
  Verdict VerdictOf(Model model = Model::Register()) const { return Check(model).verdict; }
};

TEST(Linearizability, EmptyAndSequentialHistoriesAreLinearizable) {
  Builder b;
  EXPECT_EQ(b.VerdictOf(), Verdict::kLinearizable);
  b.Read(0, std::nullopt, 0, 5);
  b.Write(0, "1", 10, 20);
  b.Read(1, "1", 30, 40);
  b.Write(1, "2", 50, 60);
  b.Read(0, "2", 70, 80);
  const LinearizabilityResult r = b.Check();
  EXPECT_EQ(r.verdict, Verdict::kLinearizable);
  EXPECT_EQ(r.keys_checked, 1u);
  EXPECT_EQ(r.operations_checked, 5u);
  EXPECT_TRUE(r.explanation.empty());
}

TEST(Linearizability, AReadConcurrentWithAWriteMaySeeEitherValue) {
  for (const char* seen : {"1", "2"}) {
    Builder b;
    b.Write(0, "1", 0, 10);
    b.Write(0, "2", 20, 40);
    b.Read(1, seen, 25, 35);
    EXPECT_EQ(b.VerdictOf(), Verdict::kLinearizable) << "read " << seen;
  }
}

TEST(Linearizability, AStaleReadAfterACompletedWriteIsNot) {
  Builder b;
  const uint64_t w1 = b.Write(0, "1", 0, 10);
  const uint64_t w2 = b.Write(0, "2", 20, 30);
  const uint64_t r = b.Read(1, "1", 40, 50);
  const LinearizabilityResult res = b.Check();
  EXPECT_EQ(res.verdict, Verdict::kNotLinearizable);
  EXPECT_EQ(res.key, "x");
  EXPECT_THAT(res.longest_prefix, ElementsAre(w1, w2));
  EXPECT_THAT(res.involved, ElementsAre(r));
  EXPECT_THAT(res.explanation, HasSubstr("it read \"1\" but the value was \"2\""));
  EXPECT_THAT(res.explanation, HasSubstr("#0 #1"));
}

TEST(Linearizability, AReadBeforeItsWriteWasInvokedIsNot) {
  Builder b;
  b.Read(1, "1", 0, 10);
  b.Write(0, "1", 20, 30);
  EXPECT_EQ(b.VerdictOf(), Verdict::kNotLinearizable);
}

TEST(Linearizability, AWriteMayTakeEffectAnywhereInItsInterval) {
  Builder b;
  b.Write(0, "1", 0, 100);
  b.Read(1, "1", 10, 20);  // the write took effect early
  b.Read(1, "1", 30, 40);
  EXPECT_EQ(b.VerdictOf(), Verdict::kLinearizable);
  b.Read(2, std::nullopt, 50, 60);  // but it cannot be undone
  EXPECT_EQ(b.VerdictOf(), Verdict::kNotLinearizable);
}

TEST(Linearizability, TwoReadersSeeingConcurrentWritesInOppositeOrdersIsNot) {
  Builder b;
  b.Write(0, "1", 0, 100);
  b.Write(1, "2", 0, 100);
  b.Read(2, "1", 10, 20);
  b.Read(2, "2", 30, 40);
  b.Read(3, "2", 10, 20);
  EXPECT_EQ(b.VerdictOf(), Verdict::kLinearizable);  // w1, r, w2, r, r
  b.Read(3, "1", 30, 40);
  const LinearizabilityResult r = b.Check();
  EXPECT_EQ(r.verdict, Verdict::kNotLinearizable);
  EXPECT_FALSE(r.longest_prefix.empty());
  EXPECT_FALSE(r.involved.empty());
}

TEST(Linearizability, BacktracksWhenTheFirstOrderTriedIsWrong) {
  // Placing the writes in invocation order leaves "2"; the read needs w2 then w1.
  Builder b;
  b.Write(0, "1", 0, 50);
  b.Write(1, "2", 0, 50);
  b.Read(2, "1", 60, 70);
  b.Read(3, "1", 80, 90);
  const LinearizabilityResult r = b.Check();
  EXPECT_EQ(r.verdict, Verdict::kLinearizable);
  EXPECT_GT(r.steps, 4u);
}

TEST(Linearizability, OperationsMeetingAtAnInstantAreConcurrent) {
  Builder b;
  b.Write(0, "1", 0, 10);
  b.Read(1, std::nullopt, 10, 20);  // invoked as the write completed: may precede it
  EXPECT_EQ(b.VerdictOf(), Verdict::kLinearizable);
}

TEST(Linearizability, CasSucceedsOnlyOnTheExpectedValue) {
  {
    Builder b;
    b.Write(0, "1", 0, 10);
    b.Cas(1, "1", "2", 20, 30);
    b.Read(0, "2", 40, 50);
    EXPECT_EQ(b.VerdictOf(Model::CasRegister()), Verdict::kLinearizable);
  }
  {
    Builder b;  // the value was 1, so a successful cas from 3 is impossible
    b.Write(0, "1", 0, 10);
    b.Cas(1, "3", "2", 20, 30);
    const LinearizabilityResult r = b.Check(Model::CasRegister());
    EXPECT_EQ(r.verdict, Verdict::kNotLinearizable);
    EXPECT_THAT(r.explanation, HasSubstr("it expected \"3\" but the value was \"1\""));
  }
  {
    Builder b;  // a cas on nothing expects nothing
    b.Cas(1, std::nullopt, "2", 0, 10);
    b.Read(0, "2", 20, 30);
    EXPECT_EQ(b.VerdictOf(Model::CasRegister()), Verdict::kLinearizable);
  }
}

TEST(Linearizability, AFailedCasDidNotHappen) {
  Builder b;
  b.Write(0, "1", 0, 10);
  b.Cas(1, "1", "2", 20, 30, OpOutcome::kFail);
  b.Read(0, "1", 40, 50);
  EXPECT_EQ(b.VerdictOf(Model::CasRegister()), Verdict::kLinearizable);
  b.Read(0, "2", 60, 70);
  EXPECT_EQ(b.VerdictOf(Model::CasRegister()), Verdict::kNotLinearizable);
}

TEST(Linearizability, ConcurrentCasesOrderThemselves) {
  // Two clients cas 1->2 and 2->3 at once; both succeeded, so 1->2 went first.
  Builder b;
  b.Write(0, "1", 0, 10);
  b.Cas(1, "2", "3", 20, 40);
  b.Cas(2, "1", "2", 20, 40);
  b.Read(0, "3", 50, 60);
  EXPECT_EQ(b.VerdictOf(Model::CasRegister()), Verdict::kLinearizable);
  Builder c;  // both succeeding from 1 is impossible
  c.Write(0, "1", 0, 10);
  c.Cas(1, "1", "3", 20, 40);
  c.Cas(2, "1", "2", 20, 40);
  EXPECT_EQ(c.VerdictOf(Model::CasRegister()), Verdict::kNotLinearizable);
}

TEST(Linearizability, AnInfoWriteMayOrMayNotHaveHappened) {
  for (const char* seen : {"1", "2"}) {
    Builder b;
    b.Write(0, "1", 0, 10);
    b.Write(1, "2", 20, kInfo);
    b.Read(2, seen, 30, 40);
    b.Read(2, seen, 200, 210);
    EXPECT_EQ(b.VerdictOf(), Verdict::kLinearizable) << "read " << seen;
  }
  Builder b;  // but once seen, it happened
  b.Write(0, "1", 0, 10);
  b.Write(1, "2", 20, kInfo);
  b.Read(2, "2", 30, 40);
  b.Read(2, "1", 50, 60);
  EXPECT_EQ(b.VerdictOf(), Verdict::kNotLinearizable);
}

TEST(Linearizability, AnInfoWriteCannotTakeEffectBeforeItsInvocation) {
  Builder b;
  b.Read(2, "2", 0, 10);
  b.Write(1, "2", 20, kInfo);
  EXPECT_EQ(b.VerdictOf(), Verdict::kNotLinearizable);
}

TEST(Linearizability, AnOpenOperationCountsAsInfo) {
  Builder b;
  b.Write(0, "1", 0, 10);
  b.h.Invoke(1, OpKind::kWrite, "x", "2", T(20));  // never completes
  b.Read(2, "2", 30, 40);
  EXPECT_EQ(b.VerdictOf(), Verdict::kLinearizable);
}

TEST(Linearizability, AFailedWriteIsNeverObserved) {
  Builder b;
  b.Write(0, "1", 0, 10);
  b.Write(1, "2", 20, 30, OpOutcome::kFail);
  b.Read(2, "1", 40, 50);
  EXPECT_EQ(b.VerdictOf(), Verdict::kLinearizable);
  b.Read(2, "2", 60, 70);
  EXPECT_EQ(b.VerdictOf(), Verdict::kNotLinearizable);
}

TEST(Linearizability, ReadsThatDidNotCompleteOkObservedNothing) {
  Builder b;
  b.Write(0, "1", 0, 10);
  const uint64_t i = b.h.Invoke(1, OpKind::kRead, "x", std::nullopt, T(20));
  b.h.Complete(i, OpOutcome::kFail, std::nullopt, T(30));
  const uint64_t j = b.h.Invoke(2, OpKind::kRead, "x", std::nullopt, T(20));
  b.h.Complete(j, OpOutcome::kInfo, std::nullopt, T(30));
  const LinearizabilityResult r = b.Check();
  EXPECT_EQ(r.verdict, Verdict::kLinearizable);
  EXPECT_EQ(r.operations_checked, 1u);
}

TEST(Linearizability, KvAppendsKeepTheirOrder) {
  {
    Builder b;
    b.Append(0, "a", 0, 10);
    b.Append(1, "b", 20, 30);
    b.Read(2, "ab", 40, 50);
    EXPECT_EQ(b.VerdictOf(Model::Kv()), Verdict::kLinearizable);
    b.Read(2, "ba", 60, 70);
    EXPECT_EQ(b.VerdictOf(Model::Kv()), Verdict::kNotLinearizable);
  }
  {
    Builder b;  // concurrent appends may land in either order, but only one
    b.Append(0, "a", 0, 30);
    b.Append(1, "b", 0, 30);
    b.Read(2, "ba", 40, 50);
    EXPECT_EQ(b.VerdictOf(Model::Kv()), Verdict::kLinearizable);
    b.Read(3, "ab", 40, 50);
    EXPECT_EQ(b.VerdictOf(Model::Kv()), Verdict::kNotLinearizable);
  }
  {
    Builder b;  // a put replaces what was appended
    b.Append(0, "a", 0, 10);
    b.Write(0, "z", 20, 30);
    b.Append(0, "b", 40, 50);
    b.Read(1, "zb", 60, 70);
    EXPECT_EQ(b.VerdictOf(Model::Kv()), Verdict::kLinearizable);
  }
}

TEST(Linearizability, KeysAreCheckedSeparatelyAndTheBadOneIsNamed) {
  Builder b;
  b.Write(0, "1", 0, 10, OpOutcome::kOk, "a");
  b.Write(0, "1", 0, 10, OpOutcome::kOk, "b");
  b.Read(1, "1", 20, 30, "a");
  b.Write(2, "2", 20, 30, OpOutcome::kOk, "b");
  b.Read(1, "1", 40, 50, "b");  // stale
  b.Read(1, "1", 40, 50, "c");  // never written
  const LinearizabilityResult r = b.Check();
  EXPECT_EQ(r.verdict, Verdict::kNotLinearizable);
  EXPECT_EQ(r.key, "b");  // the first bad key in key order is the one explained
  EXPECT_EQ(r.keys_checked, 3u);
  EXPECT_THAT(r.explanation, HasSubstr("key \"b\""));
  // Every key is checked and reported, not only up to the first bad one.
  ASSERT_EQ(r.keys.size(), 3u);
  EXPECT_EQ(r.keys[0].key, "a");
  EXPECT_EQ(r.keys[0].verdict, Verdict::kLinearizable);
  EXPECT_TRUE(r.keys[0].explanation.empty());
  EXPECT_EQ(r.keys[1].verdict, Verdict::kNotLinearizable);
  EXPECT_EQ(r.keys[2].key, "c");
  EXPECT_EQ(r.keys[2].verdict, Verdict::kNotLinearizable);
  EXPECT_THAT(r.keys[2].explanation, HasSubstr("it read \"1\" but the value was nothing"));
  EXPECT_EQ(r.count(Verdict::kNotLinearizable), 2u);
}

TEST(Linearizability, ARunOutOfBudgetIsUnknownNotWrong) {
  Random random(7);
  GeneratedHistoryOptions g;
  g.clients = 10;
  g.operations = 400;
  const History h = GenerateLinearizableHistory(g, random);
  CheckOptions tight;
  tight.search_steps_max = 50;
  absl::StatusOr<LinearizabilityResult> r = CheckLinearizability(h, Model::Register(), tight);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->verdict, Verdict::kUnknown);
  EXPECT_EQ(r->key, "k0");
  EXPECT_THAT(r->explanation, HasSubstr("step budget"));
  EXPECT_EQ(r->steps, 50u);  // never more than the budget

  CheckOptions stopped;
  int asked = 0;
  stopped.should_stop = [&asked] { return ++asked == 2; };
  stopped.should_stop_interval_steps = 10;
  r = CheckLinearizability(h, Model::Register(), stopped);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->verdict, Verdict::kUnknown);
  EXPECT_EQ(r->steps, 20u);
  EXPECT_THAT(r->explanation, HasSubstr("stopped"));

  CheckOptions small_memo;
  small_memo.memo_entries_max = 10;
  r = CheckLinearizability(h, Model::Register(), small_memo);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->verdict, Verdict::kUnknown);
  EXPECT_THAT(r->explanation, HasSubstr("memo"));

  r = CheckLinearizability(h, Model::Register());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->verdict, Verdict::kLinearizable);
}

// A key no small budget can decide: n writes of distinct values and n reads, one of each
// value, all concurrent, then a read of a value nobody wrote. Every value is read, so no write
// is dead, and before the last read can fail every order of the writes must be ruled out (2^n
// placed sets even with the memo): millions of steps for n = 16.
void AddHardKey(Builder& b, const std::string& key, int n) {
  for (int i = 0; i < n; ++i) {
    b.Write(i, std::to_string(i), 0, 100, OpOutcome::kOk, key);
    b.Read(n + i, std::to_string(i), 0, 100, key);
  }
  b.Read(2 * n, "never written", 200, 210, key);
}

// A key with a plain violation: a stale read after `n` sequential writes.
void AddStaleReadKey(Builder& b, const std::string& key, int n) {
  for (int i = 0; i < n; ++i) b.Write(0, std::to_string(i), 10 * i, 10 * i + 5, OpOutcome::kOk, key);
  b.Read(1, "0", 10 * n, 10 * n + 5, key);
}

const KeyResult* FindKey(const LinearizabilityResult& r, const std::string& key) {
  for (const KeyResult& k : r.keys) {
    if (k.key == key) return &k;
  }
  return nullptr;
}

TEST(Linearizability, AHardKeyDoesNotHideAViolationOnAnother) {
  // The hard key comes first in key order and has fewer operations, so neither order helps:
  // only a per-key allowance leaves budget for the other key.
  Builder b;
  AddHardKey(b, "a-hard", 16);
  AddStaleReadKey(b, "b-easy", 40);
  CheckOptions options;
  options.search_steps_max = 2'000'000;
  const LinearizabilityResult r = b.Check(Model::Register(), options);
  EXPECT_EQ(r.verdict, Verdict::kNotLinearizable);
  EXPECT_EQ(r.key, "b-easy");
  EXPECT_THAT(r.explanation, HasSubstr("it read \"0\" but the value was \"39\""));
  // Found in round 0, cheaply: the hard key was given its small first allowance only.
  EXPECT_LT(r.steps, 10'000u);
  ASSERT_EQ(r.keys.size(), 2u);
  const KeyResult* hard = FindKey(r, "a-hard");
  ASSERT_NE(hard, nullptr);
  EXPECT_EQ(hard->verdict, Verdict::kUnknown);
  EXPECT_EQ(hard->searches, 1u);
  EXPECT_EQ(hard->steps, kRoundZeroStepsMin);
  EXPECT_THAT(hard->explanation, HasSubstr("gave up on key \"a-hard\""));
  EXPECT_THAT(hard->explanation, HasSubstr("another key is not linearizable"));
  EXPECT_EQ(FindKey(r, "b-easy")->verdict, Verdict::kNotLinearizable);
  EXPECT_EQ(r.count(Verdict::kUnknown), 1u);
  EXPECT_EQ(r.keys_checked, 1u);
}

TEST(Linearizability, UndecidedKeysGetWhatTheOthersLeave) {
  // No violation elsewhere: once the easy keys are decided, the hard key is searched again
  // with everything left, and is reported undecided only when that runs out too.
  Builder b;
  AddHardKey(b, "hard", 16);
  for (const char* key : {"x", "y"}) {
    b.Write(0, "1", 0, 10, OpOutcome::kOk, key);
    b.Read(1, "1", 20, 30, key);
  }
  CheckOptions options;
  options.search_steps_max = 300'000;
  const LinearizabilityResult r = b.Check(Model::Register(), options);
  EXPECT_EQ(r.verdict, Verdict::kUnknown);
  EXPECT_EQ(r.key, "hard");
  EXPECT_EQ(r.steps, options.search_steps_max);  // all of it, and no more
  const KeyResult* hard = FindKey(r, "hard");
  ASSERT_NE(hard, nullptr);
  EXPECT_EQ(hard->searches, 2u);  // round 0, then alone with all that was left
  EXPECT_THAT(hard->explanation, HasSubstr("the step budget (300000 steps over all keys) was spent"));
  EXPECT_EQ(FindKey(r, "x")->verdict, Verdict::kLinearizable);
  EXPECT_EQ(FindKey(r, "y")->verdict, Verdict::kLinearizable);
  EXPECT_EQ(r.keys_checked, 2u);

  // A cap on one key's search leaves the rest of the budget unspent.
  options.key_search_steps_max = 50'000;
  const LinearizabilityResult capped = b.Check(Model::Register(), options);
  EXPECT_EQ(capped.verdict, Verdict::kUnknown);
  EXPECT_LE(FindKey(capped, "hard")->steps, kRoundZeroStepsMin + 50'000);
  EXPECT_THAT(FindKey(capped, "hard")->explanation, HasSubstr("key_search_steps_max"));
}

TEST(Linearizability, AKeyNeverSearchedIsReportedUndecided) {
  Builder b;
  AddStaleReadKey(b, "a", 3);
  AddStaleReadKey(b, "b", 3);
  CheckOptions options;
  options.search_steps_max = 1;  // an equal share of it is nothing for the first key
  LinearizabilityResult r = b.Check(Model::Register(), options);
  EXPECT_EQ(r.verdict, Verdict::kUnknown);
  EXPECT_EQ(r.steps, 1u);
  ASSERT_EQ(r.keys.size(), 2u);
  EXPECT_EQ(r.keys[0].verdict, Verdict::kUnknown);
  EXPECT_EQ(r.keys[0].searches, 0u);
  EXPECT_THAT(r.keys[0].explanation, HasSubstr("key \"a\" (4 operations) was not searched: the step budget"));
  EXPECT_EQ(r.keys[1].verdict, Verdict::kUnknown);
  EXPECT_EQ(r.keys[1].searches, 1u);
  EXPECT_EQ(r.explanation, r.keys[0].explanation);

  // The caller stops the search in the first key: the second is not searched at all.
  CheckOptions stopping;
  stopping.should_stop = [] { return true; };
  stopping.should_stop_interval_steps = 1;
  r = b.Check(Model::Register(), stopping);
  EXPECT_EQ(r.verdict, Verdict::kUnknown);
  EXPECT_EQ(r.steps, 1u);
  EXPECT_THAT(r.keys[0].explanation, HasSubstr("the caller stopped the search after 1 steps"));
  EXPECT_THAT(r.keys[1].explanation, HasSubstr("was not searched: the caller stopped the search"));
}

TEST(Linearizability, AHistoryTheModelCannotExpressIsAnError) {
  Builder b;
  b.Cas(0, "1", "2", 0, 10);
  absl::StatusOr<LinearizabilityResult> r = CheckLinearizability(b.h, Model::Register());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("cas-register"));
  Builder c;
  c.Write(0, "1", 10, 5);
  EXPECT_EQ(CheckLinearizability(c.h, Model::Register()).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(Linearizability, ModelsByName) {
  EXPECT_EQ(ModelByName("register")->kind, ModelKind::kRegister);
  EXPECT_EQ(ModelByName("cas-register")->kind, ModelKind::kCasRegister);
  EXPECT_EQ(ModelByName("kv")->kind, ModelKind::kKv);
  EXPECT_FALSE(ModelByName("set").ok());
}

// ---- Properties ----

Model ModelOf(int which) {
  switch (which % 3) {
    case 0: return Model::Register();
    case 1: return Model::CasRegister();
    default: return Model::Kv();
  }
}

GeneratedHistoryOptions DrawShape(Model model) {
  GeneratedHistoryOptions g;
  g.model = model;
  // Every order of concurrent appends is a different value, so a kv search that must rule
  // them all out (after a mutation) grows factorially with the clients; 4 keeps it quick.
  g.clients = *rc::gen::inRange(1, model.kind == ModelKind::kKv ? 5 : 9);
  g.operations = *rc::gen::inRange<size_t>(0, 80);
  g.keys = *rc::gen::inRange(1, 4);
  g.read_fraction = *rc::gen::element(0.2, 0.5, 0.8);
  g.info_fraction = *rc::gen::element(0.0, 0.05, 0.15);
  g.fail_fraction = *rc::gen::element(0.0, 0.1);
  return g;
}

// A copy of `h` with operation `target`'s value replaced.
History WithValue(const History& h, uint64_t target, std::optional<std::string> value) {
  History out;
  for (const Operation& op : h.operations()) {
    const bool read = op.kind == OpKind::kRead;
    std::optional<std::string> v = op.index == target ? value : op.value;
    const uint64_t i = out.Invoke(op.process, op.kind, op.key, read ? std::nullopt : v,
                                  op.invoked, op.expected);
    if (op.outcome != OpOutcome::kOpen) {
      out.Complete(i, op.outcome, read ? v : std::nullopt, op.completed, op.error);
    }
  }
  return out;
}

// Property: running a sequential model with random concurrency windows around its real order
// of effects gives a history the checker calls linearizable, for every model.
RC_GTEST_PROP(LinearizabilityProperty, GeneratedHistoriesAreLinearizable, (uint64_t seed, int which)) {
  const GeneratedHistoryOptions g = DrawShape(ModelOf(which < 0 ? -which : which));
  Random random(seed);
  const History h = GenerateLinearizableHistory(g, random);
  absl::StatusOr<LinearizabilityResult> r = CheckLinearizability(h, g.model);
  RC_ASSERT(r.ok());
  RC_ASSERT(r->verdict == Verdict::kLinearizable);
}

// Property: changing one ok read's result to a value nobody wrote is always caught, and the
// explanation's involved operations include that read.
RC_GTEST_PROP(LinearizabilityProperty, AReadOfAValueNeverWrittenIsCaught, (uint64_t seed, int which)) {
  const GeneratedHistoryOptions g = DrawShape(ModelOf(which < 0 ? -which : which));
  Random random(seed);
  const History h = GenerateLinearizableHistory(g, random);
  std::vector<uint64_t> reads;
  for (const Operation& op : h.operations()) {
    if (op.kind == OpKind::kRead && op.outcome == OpOutcome::kOk) reads.push_back(op.index);
  }
  RC_PRE(!reads.empty());
  const uint64_t target = *rc::gen::elementOf(reads);
  const History mutated = WithValue(h, target, "-1");
  absl::StatusOr<LinearizabilityResult> r = CheckLinearizability(mutated, g.model);
  RC_ASSERT(r.ok());
  RC_ASSERT(r->verdict == Verdict::kNotLinearizable);
  RC_ASSERT(r->key == h.operations()[target].key);
  RC_LOG() << "mutated #" << target << "\n" << r->explanation;
  RC_ASSERT(std::find(r->involved.begin(), r->involved.end(), target) != r->involved.end());
}

// Property: sharing the budget does not change any key's answer. Every key's verdict in the
// whole history is the verdict of that key checked alone, and the history's verdict follows
// from them.
RC_GTEST_PROP(LinearizabilityProperty, EachKeyIsJudgedAsIfAlone, (uint64_t seed, int which)) {
  GeneratedHistoryOptions g = DrawShape(ModelOf(which < 0 ? -which : which));
  g.keys = *rc::gen::inRange(2, 5);
  Random random(seed);
  History h = GenerateLinearizableHistory(g, random);
  std::vector<uint64_t> reads;
  for (const Operation& op : h.operations()) {
    if (op.kind == OpKind::kRead && op.outcome == OpOutcome::kOk) reads.push_back(op.index);
  }
  if (!reads.empty() && *rc::gen::arbitrary<bool>()) h = WithValue(h, *rc::gen::elementOf(reads), "-1");
  absl::StatusOr<LinearizabilityResult> all = CheckLinearizability(h, g.model);
  RC_ASSERT(all.ok());
  bool any_bad = false;
  for (const KeyResult& k : all->keys) {
    History alone;
    for (const Operation& op : h.operations()) {
      if (op.key != k.key) continue;
      const bool read = op.kind == OpKind::kRead;
      const uint64_t i = alone.Invoke(op.process, op.kind, op.key, read ? std::nullopt : op.value,
                                      op.invoked, op.expected);
      if (op.outcome != OpOutcome::kOpen) {
        alone.Complete(i, op.outcome, read ? op.value : std::nullopt, op.completed, op.error);
      }
    }
    absl::StatusOr<LinearizabilityResult> one = CheckLinearizability(alone, g.model);
    RC_ASSERT(one.ok());
    RC_ASSERT(k.verdict == one->verdict);
    any_bad = any_bad || k.verdict == Verdict::kNotLinearizable;
  }
  RC_ASSERT(all->verdict == (any_bad ? Verdict::kNotLinearizable : Verdict::kLinearizable));
  RC_ASSERT(all->steps <= CheckOptions{}.search_steps_max);
}

// The definition, searched exhaustively: some order of the ok operations and of any subset of
// the info ones, each after every ok operation that completed before it was invoked, that the
// model accepts.
bool LinearizableByBruteForce(const std::vector<const Operation*>& ops, const Model& model,
                              std::vector<bool>& placed, const ModelState& state) {
  bool all_required = true;
  for (size_t i = 0; i < ops.size(); ++i) {
    all_required = all_required && (placed[i] || ops[i]->outcome != OpOutcome::kOk);
  }
  if (all_required) return true;
  for (size_t i = 0; i < ops.size(); ++i) {
    if (placed[i]) continue;
    bool ready = true;
    for (size_t j = 0; j < ops.size(); ++j) {
      ready = ready && (placed[j] || ops[j]->outcome != OpOutcome::kOk ||
                        !(ops[j]->completed < ops[i]->invoked));
    }
    if (!ready) continue;
    std::optional<ModelState> after = model.Step(state, *ops[i]);
    if (!after) continue;
    placed[i] = true;
    const bool found = LinearizableByBruteForce(ops, model, placed, *after);
    placed[i] = false;
    if (found) return true;
  }
  return false;
}

// Property: on small random histories, most of them not linearizable, the search (with its
// memo and its pruning after reads) agrees with the exhaustive definition.
RC_GTEST_PROP(LinearizabilityProperty, AgreesWithBruteForceOnSmallHistories, (int which)) {
  const Model model = ModelOf(which < 0 ? -which : which);
  const int n = *rc::gen::inRange(1, 11);
  History h;
  for (int i = 0; i < n; ++i) {
    std::vector<OpKind> kinds = {OpKind::kRead, OpKind::kWrite};
    if (model.Supports(OpKind::kCas)) kinds.push_back(OpKind::kCas);
    if (model.Supports(OpKind::kAppend)) kinds.push_back(OpKind::kAppend);
    const OpKind kind = *rc::gen::elementOf(kinds);
    auto value = [&]() -> std::optional<std::string> {
      const int v = *rc::gen::inRange(0, 4);
      if (v == 0) return std::nullopt;
      if (model.kind == ModelKind::kKv && kind == OpKind::kRead) {
        return std::string(*rc::gen::element("", "1", "2", "12", "21", "11"));
      }
      return std::to_string(v);
    };
    const int from = *rc::gen::inRange(0, 20);
    const int to = from + *rc::gen::inRange(0, 10);
    const OpOutcome outcome = *rc::gen::element(OpOutcome::kOk, OpOutcome::kOk, OpOutcome::kOk,
                                                OpOutcome::kInfo, OpOutcome::kFail);
    std::optional<std::string> v = value();
    if (kind == OpKind::kAppend && !v) v = "1";
    const std::optional<std::string> expected = kind == OpKind::kCas ? value() : std::nullopt;
    const bool read = kind == OpKind::kRead;
    const uint64_t id = h.Invoke(i, kind, "x", read ? std::nullopt : v, T(from), expected);
    h.Complete(id, outcome, read ? v : std::nullopt, T(to));
  }
  std::vector<const Operation*> searched;
  for (const Operation& op : h.operations()) {
    if (op.outcome == OpOutcome::kFail) continue;
    if (op.kind == OpKind::kRead && op.outcome != OpOutcome::kOk) continue;
    searched.push_back(&op);
  }
  std::vector<bool> placed(searched.size(), false);
  const bool expected = LinearizableByBruteForce(searched, model, placed, model.Initial());
  absl::StatusOr<LinearizabilityResult> r = CheckLinearizability(h, model);
  RC_ASSERT(r.ok());
  RC_TAG(expected);
  RC_ASSERT(r->verdict == (expected ? Verdict::kLinearizable : Verdict::kNotLinearizable));
}

TEST(Linearizability, TheSameHistoryGivesTheSameSearch) {
  Random random(11);
  GeneratedHistoryOptions g;
  g.model = Model::CasRegister();
  g.clients = 8;
  g.operations = 500;
  g.info_fraction = 0.05;
  const History h = GenerateLinearizableHistory(g, random);
  absl::StatusOr<LinearizabilityResult> a = CheckLinearizability(h, g.model);
  absl::StatusOr<LinearizabilityResult> b = CheckLinearizability(h, g.model);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->verdict, Verdict::kLinearizable);
  EXPECT_EQ(a->steps, b->steps);
}

}  // namespace
}  // namespace cairn::sim

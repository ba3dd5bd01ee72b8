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
  EXPECT_EQ(r.key, "b");  // keys in order: a passes, b fails first
  EXPECT_EQ(r.keys_checked, 2u);
  EXPECT_THAT(r.explanation, HasSubstr("key \"b\""));
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
  EXPECT_EQ(r->steps, 51u);

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

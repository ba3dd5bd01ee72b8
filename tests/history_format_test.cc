// Histories as text: Cairn's format and Jepsen's EDN both round-trip, EDN as Jepsen writes it
// parses, and bad files are refused with the line that is wrong.
#include "absl/strings/str_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rapidcheck.h"
#include "rapidcheck/gtest.h"
#include "sim/check/edn.h"
#include "sim/check/history_format.h"
#include "sim/check/history_generator.h"
#include "sim/check/linearizability.h"

namespace cairn::sim {
namespace {

using ::testing::HasSubstr;

Instant Ns(int64_t ns) { return InstantFromNanos(ns); }

// Every field of every operation, so a difference shows in the failure message.
std::string Dump(const History& h) {
  std::string out;
  for (const Operation& op : h.operations()) {
    out += absl::StrFormat("%d|%d|%s|%s|%s|%s|%s|%d|%d|%s\n", op.index, op.process,
                           OutcomeName(op.outcome), OpKindName(op.kind), op.key,
                           op.value.value_or("<nothing>"), op.expected.value_or("<nothing>"),
                           ToNanos(op.invoked), ToNanos(op.completed), op.error);
  }
  return out;
}

// A history with every kind, outcome and awkward string.
History Awkward() {
  History h;
  uint64_t i = h.Invoke(0, OpKind::kWrite, "k", "3", Ns(100));
  h.Complete(i, OpOutcome::kOk, std::nullopt, Ns(200));
  i = h.Invoke(1, OpKind::kRead, "k", std::nullopt, Ns(150));
  h.Complete(i, OpOutcome::kOk, "3", Ns(250));
  i = h.Invoke(2, OpKind::kCas, "k", "4", Ns(300), "3");
  h.Complete(i, OpOutcome::kFail, std::nullopt, Ns(400), "mismatch");
  i = h.Invoke(0, OpKind::kAppend, "tab\there", "a\\N\nb\"c", Ns(300));
  h.Complete(i, OpOutcome::kInfo, std::nullopt, Ns(350), "timed out");
  i = h.Invoke(1, OpKind::kRead, "", std::nullopt, Ns(500));
  h.Complete(i, OpOutcome::kOk, std::nullopt, Ns(600));
  i = h.Invoke(1, OpKind::kRead, "", std::nullopt, Ns(700));
  h.Complete(i, OpOutcome::kOk, "", Ns(800));
  i = h.Invoke(3, OpKind::kCas, "007", std::nullopt, Ns(700), std::nullopt);
  h.Complete(i, OpOutcome::kOk, std::nullopt, Ns(900));
  h.Invoke(0, OpKind::kWrite, "k", "-12", Ns(1000));  // left open
  i = h.Invoke(4, OpKind::kRead, "k", std::nullopt, Ns(1000));
  h.Complete(i, OpOutcome::kFail, std::nullopt, Ns(1000), "");
  return h;
}

TEST(CairnHistoryFormat, RoundTrips) {
  const History h = Awkward();
  const std::string text = FormatCairnHistory(h);
  EXPECT_THAT(text, HasSubstr("# cairn history v1\n"));
  EXPECT_THAT(text, HasSubstr("0\t0\tok\twrite\tk\t3\t\\N\t100\t200\t\n"));
  EXPECT_THAT(text, HasSubstr("tab\\there\ta\\\\N\\nb\"c\t"));
  absl::StatusOr<History> back = ParseCairnHistory(text);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(Dump(*back), Dump(h));
  EXPECT_EQ(DetectHistoryFormat(text), HistoryFormat::kCairn);
}

TEST(CairnHistoryFormat, ToleratesCrlfAndAMissingErrorField) {
  absl::StatusOr<History> h = ParseCairnHistory(
      "# comment\r\n\n0\t5\tok\twrite\tx\t1\t\\N\t10\t20\r\n1\t6\tinvoke\tread\tx\t\\N\t\\N\t15\t\\N\n");
  ASSERT_TRUE(h.ok()) << h.status();
  ASSERT_EQ(h->operations().size(), 2u);
  EXPECT_EQ(h->operations()[0].process, 5);
  EXPECT_EQ(h->operations()[1].outcome, OpOutcome::kOpen);
}

TEST(CairnHistoryFormat, NamesTheBadLine) {
  const std::string good = "0\t0\tok\twrite\tx\t1\t\\N\t10\t20\t\n";
  const std::pair<std::string, std::string> bad[] = {
      {"5\t0\tok\twrite\tx\t1\t\\N\t10\t20\t\n", "index '5' should be 1"},
      {"1\t0\tmaybe\twrite\tx\t1\t\\N\t10\t20\t\n", "outcome"},
      {"1\t0\tok\tdelete\tx\t1\t\\N\t10\t20\t\n", "f 'delete'"},
      {"1\t0\tok\twrite\tx\t1\t\\N\t10\n", "10 tab-separated fields"},
      {"1\t0\tok\twrite\tx\t1\t2\t10\t20\t\n", "only a cas"},
      {"1\t0\tok\twrite\tx\t1\t\\N\tten\t20\t\n", "invoked_ns"},
      {"1\t0\tok\twrite\tx\t1\t\\N\t10\t\\N\t\n", "completed_ns"},
      {"1\t0\tinfo\twrite\tx\t1\t\\N\t10\t20\t\n", "no completion"},
      {"1\t0\tok\twrite\tx\t1\t\\N\t30\t20\t\n", "before it is invoked"},
      {"1\t0\tok\twrite\tx\t\\q\t\\N\t10\t20\t\n", "unknown escape"},
  };
  for (const auto& [line, why] : bad) {
    absl::StatusOr<History> h = ParseCairnHistory("# header\n" + good + line);
    ASSERT_FALSE(h.ok()) << line;
    EXPECT_THAT(std::string(h.status().message()), HasSubstr("line 3: ")) << line;
    EXPECT_THAT(std::string(h.status().message()), HasSubstr(why)) << line;
  }
}

TEST(EdnHistoryFormat, RoundTrips) {
  const History h = Awkward();
  absl::StatusOr<std::string> text = FormatEdnHistory(h);
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_THAT(*text, HasSubstr("{:type :invoke, :f :write, :value [\"k\" 3], :process 0, :time 100, :index 0}\n"));
  EXPECT_THAT(*text, HasSubstr(":f :cas, :value [\"k\" [3 4]]"));
  EXPECT_THAT(*text, HasSubstr(":f :read, :value nil"));
  EXPECT_EQ(DetectHistoryFormat(*text), HistoryFormat::kEdn);
  absl::StatusOr<History> back = ParseEdnHistory(*text);
  ASSERT_TRUE(back.ok()) << back.status() << "\n" << *text;
  EXPECT_EQ(Dump(*back), Dump(h)) << *text;
}

TEST(EdnHistoryFormat, RefusesAProcessWithTwoCompletedOperationsOpenAtOnce) {
  History h;
  uint64_t i = h.Invoke(0, OpKind::kWrite, "k", "1", Ns(0));
  h.Complete(i, OpOutcome::kOk, std::nullopt, Ns(100));
  i = h.Invoke(0, OpKind::kWrite, "k", "2", Ns(50));
  h.Complete(i, OpOutcome::kOk, std::nullopt, Ns(150));
  EXPECT_EQ(FormatEdnHistory(h).status().code(), absl::StatusCode::kInvalidArgument);
}

// As Jepsen writes a jepsen.independent cas-register test, with a nemesis and a crash.
constexpr char kJepsenSample[] = R"(
{:type :invoke, :f :write, :value [1 3], :process 0, :time 1000, :index 0}
{:type :invoke, :f :read, :value [1 nil], :process 1, :time 1100, :index 1}
{:type :info, :f :start-partition, :value nil, :process :nemesis, :time 1150, :index 2}
{:type :ok, :f :write, :value [1 3], :process 0, :time 1500, :index 3}
{:type :ok, :f :read, :value [1 3], :process 1, :time 1600, :index 4}
{:type :invoke, :f :cas, :value [1 [3 4]], :process 0, :time 1700, :index 5}
{:type :invoke, :f :cas, :value [1 [3 5]], :process 1, :time 1710, :index 6}
{:type :fail, :f :cas, :value [1 [3 5]], :process 1, :time 1800, :error :mismatch, :index 7}
{:type :info, :f :cas, :value [1 [3 4]], :process 0, :time 2000, :error :timeout, :index 8}
{:type :invoke, :f :read, :value [1 nil], :process 5, :time 2100, :index 9}
{:type :ok, :f :read, :value [1 4], :process 5, :time 2200, :index 10}
{:type :invoke, :f :read, :value [2 nil], :process 1, :time 2300, :index 11}
{:type :ok, :f :read, :value [2 nil], :process 1, :time 2400, :index 12}
)";

TEST(EdnHistoryFormat, ParsesJepsenIndependentHistories) {
  EXPECT_EQ(DetectHistoryFormat(kJepsenSample), HistoryFormat::kEdn);
  absl::StatusOr<History> h = ParseHistory(kJepsenSample);
  ASSERT_TRUE(h.ok()) << h.status();
  const std::vector<Operation>& ops = h->operations();
  ASSERT_EQ(ops.size(), 6u);
  EXPECT_EQ(ops[0].kind, OpKind::kWrite);
  EXPECT_EQ(ops[0].key, "1");
  EXPECT_EQ(ops[0].value, "3");
  EXPECT_EQ(ToNanos(ops[0].invoked), 1000);
  EXPECT_EQ(ToNanos(ops[0].completed), 1500);
  EXPECT_EQ(ops[1].value, "3");
  EXPECT_EQ(ops[2].kind, OpKind::kCas);
  EXPECT_EQ(ops[2].expected, "3");
  EXPECT_EQ(ops[2].value, "4");
  EXPECT_EQ(ops[2].outcome, OpOutcome::kInfo);
  EXPECT_EQ(ops[2].error, ":timeout");
  EXPECT_EQ(ops[3].outcome, OpOutcome::kFail);
  EXPECT_EQ(ops[4].process, 5);
  EXPECT_EQ(ops[4].value, "4");
  EXPECT_EQ(ops[5].key, "2");
  EXPECT_EQ(ops[5].value, std::nullopt);
  absl::StatusOr<LinearizabilityResult> r = CheckLinearizability(*h, Model::CasRegister());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->verdict, Verdict::kLinearizable);  // the info cas happened
}

TEST(EdnHistoryFormat, ParsesPlainRegistersVectorsTagsAndPositionsForTime) {
  absl::StatusOr<History> h = ParseEdnHistory(R"(; a comment
[#jepsen.history.Op{:type :invoke, :f :write, :value "a b", :process 0}
 {:type :invoke, :f :read, :value nil, :process 1}, #_ {:ignored true}
 {:type :ok, :f :write, :value "a b", :process 0}
 {:type :ok :f :read :value "a b" :process 1}
 {:type :invoke, :f :cas, :value [1 2], :process 2}
 {:type :invoke, :f :put, :value 7N, :process 3}])");
  ASSERT_TRUE(h.ok()) << h.status();
  const std::vector<Operation>& ops = h->operations();
  ASSERT_EQ(ops.size(), 4u);
  EXPECT_EQ(ops[0].key, "");
  EXPECT_EQ(ops[0].value, "a b");
  EXPECT_EQ(ToNanos(ops[0].invoked), 0);
  EXPECT_EQ(ToNanos(ops[0].completed), 2);
  EXPECT_EQ(ops[1].value, "a b");
  EXPECT_EQ(ops[2].expected, "1");
  EXPECT_EQ(ops[2].value, "2");
  EXPECT_EQ(ops[2].outcome, OpOutcome::kOpen);
  EXPECT_EQ(ops[3].kind, OpKind::kWrite);
  EXPECT_EQ(ops[3].value, "7");
}

TEST(EdnHistoryFormat, NamesTheBadLine) {
  const std::pair<std::string, std::string> bad[] = {
      {"{:type :invoke, :f :read, :value nil, :process 0}\n{:type :ok, :f :read", "ends before"},
      {"{:type :ok, :f :read, :value 1, :process 0}", "no operation open"},
      {"{:type :invoke, :f :read, :process 0}\n{:type :ok, :f :write, :value 1, :process 0}",
       "line 2"},
      {"{:type :invoke, :f :inc, :value 1, :process 0}", ":inc"},
      {"{:type :begin, :f :read, :value 1, :process 0}", ":begin"},
      {"{:type :invoke, :f :write, :value {:a 1}, :process 0}", "collection"},
      {"{:type :invoke, :f :write, :value 1 :process}", "without a value"},
      {"\n\n{:type :invoke, :f :write, :value \"x, :process 0}", "line 3"},
      {"{:type :invoke, :f :write, :value 1, :time 5, :process 0}\n"
       "{:type :ok, :f :write, :value 1, :time 4, :process 0}", "before it is invoked"},
  };
  for (const auto& [text, why] : bad) {
    absl::StatusOr<History> h = ParseEdnHistory(text);
    ASSERT_FALSE(h.ok()) << text;
    EXPECT_THAT(std::string(h.status().message()), HasSubstr(why)) << text;
  }
}

TEST(Edn, ReadsTheValuesHistoriesUse) {
  EdnReader r(R"({:a [1 -2 +3 4N 1.5 "s\n\u00e9" \x \newline nil true :k/w sym #{1} (1 2)]})");
  absl::StatusOr<std::optional<EdnValue>> v = r.Next();
  ASSERT_TRUE(v.ok() && v->has_value()) << v.status();
  const EdnValue* a = (*v)->Find("a");
  ASSERT_NE(a, nullptr);
  ASSERT_EQ(a->items.size(), 14u);
  EXPECT_EQ(a->items[1].text, "-2");
  EXPECT_EQ(a->items[2].text, "3");
  EXPECT_EQ(a->items[3].text, "4");
  EXPECT_TRUE(a->items[4].is(EdnValue::Type::kFloat));
  EXPECT_EQ(a->items[5].text, "s\n\xc3\xa9");
  EXPECT_EQ(a->items[6].text, "x");
  EXPECT_EQ(a->items[7].text, "\n");
  EXPECT_TRUE(a->items[8].is(EdnValue::Type::kNil));
  EXPECT_TRUE(a->items[10].IsKeyword("k/w"));
  EXPECT_TRUE(a->items[11].is(EdnValue::Type::kSymbol));
  EXPECT_TRUE(a->items[12].is(EdnValue::Type::kSet));
  EXPECT_TRUE(a->items[13].is(EdnValue::Type::kList));
  v = r.Next();
  ASSERT_TRUE(v.ok());
  EXPECT_FALSE(v->has_value());

  std::string deep(kEdnDepthMax + 5, '[');
  EdnReader d(deep);
  EXPECT_THAT(std::string(d.Next().status().message()), HasSubstr("nested"));
}

// Property: every generated history survives both formats unchanged.
RC_GTEST_PROP(HistoryFormatProperty, GeneratedHistoriesRoundTrip, (uint64_t seed)) {
  GeneratedHistoryOptions g;
  g.model = *rc::gen::element(Model::Register(), Model::CasRegister(), Model::Kv());
  g.clients = *rc::gen::inRange(1, 6);
  g.operations = *rc::gen::inRange<size_t>(0, 60);
  g.keys = *rc::gen::inRange(1, 3);
  g.info_fraction = 0.1;
  g.fail_fraction = 0.1;
  Random random(seed);
  const History h = GenerateLinearizableHistory(g, random);
  absl::StatusOr<History> cairn = ParseCairnHistory(FormatCairnHistory(h));
  RC_ASSERT(cairn.ok());
  RC_ASSERT(Dump(*cairn) == Dump(h));
  absl::StatusOr<std::string> edn = FormatEdnHistory(h);
  RC_ASSERT(edn.ok());
  absl::StatusOr<History> back = ParseEdnHistory(*edn);
  RC_ASSERT(back.ok());
  RC_ASSERT(Dump(*back) == Dump(h));
}

// Property: damaged files (cut short, a byte changed, or noise) are read or refused with an
// error; they never crash the reader or build a history that breaks History's invariants.
RC_GTEST_PROP(HistoryFormatProperty, DamagedFilesAreReadOrRefused, (uint64_t seed)) {
  GeneratedHistoryOptions g;
  g.model = Model::CasRegister();
  g.operations = *rc::gen::inRange<size_t>(1, 30);
  g.keys = 2;
  g.info_fraction = 0.1;
  Random random(seed);
  const History h = GenerateLinearizableHistory(g, random);
  const std::string edn = *FormatEdnHistory(h);
  for (std::string text : {edn, FormatCairnHistory(h)}) {
    const size_t cut = *rc::gen::inRange<size_t>(0, text.size() + 1);
    const std::string cut_text = text.substr(0, cut);
    (void)ParseHistory(cut_text);
    const size_t at = *rc::gen::inRange<size_t>(0, text.size());
    text[at] = *rc::gen::element('{', '}', '[', ']', '"', '\\', ':', '\t', '\n', '#', 'x', '9', ' ');
    absl::StatusOr<History> damaged = ParseHistory(text);
    if (damaged.ok()) (void)CheckLinearizability(*damaged, Model::CasRegister());
  }
  (void)ParseHistory(*rc::gen::container<std::string>(
      rc::gen::element('{', '}', '[', ']', '(', ')', '"', '\\', ':', ' ', '\n', '\t', '#', '_',
                       ';', 'a', '1', 'N', 'u')));
}

}  // namespace
}  // namespace cairn::sim

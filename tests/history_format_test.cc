// Histories as text: Cairn's format and Jepsen's EDN both round-trip, EDN as Jepsen, Knossos
// and Porcupine write it parses, Jepsen's log lines parse, and bad files are refused with the
// line that is wrong (and none of their bytes echoed raw).
#include "absl/strings/escaping.h"
#include "absl/strings/str_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rapidcheck.h"
#include "rapidcheck/gtest.h"
#include "sim/check/edn.h"
#include "sim/check/history_format.h"
#include "sim/check/history_generator.h"
#include "sim/check/jepsen_log.h"
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

// One history in the three shapes an EDN file comes in.
constexpr char kEventMaps[] = R"(
{:process 0, :type :invoke, :f :write, :value 0}
{:process 0, :type :ok, :f :write, :value 0}
{:process 1, :type :invoke, :f :read, :value nil}
{:process 2, :type :invoke, :f :write, :value 4}
{:process 1, :type :ok, :f :read, :value 3}
{:process 2, :type :ok, :f :write, :value 4}
)";

TEST(EdnHistoryFormat, ReadsBareMapsAVectorAndAListAlike) {
  const std::string maps = kEventMaps;                // Jepsen's history.edn
  const std::string vector = "[" + maps + "]";        // Knossos, mostly
  const std::string list = "; as Knossos's rethink-fail-minimal.edn\n(" + maps + ")";
  absl::StatusOr<History> expected = ParseHistory(maps);
  ASSERT_TRUE(expected.ok()) << expected.status();
  ASSERT_EQ(expected->operations().size(), 3u);
  EXPECT_EQ(expected->operations()[1].value, "3");
  for (const std::string& text : {vector, list}) {
    EXPECT_EQ(DetectHistoryFormat(text), HistoryFormat::kEdn) << text;
    absl::StatusOr<History> h = ParseHistory(text);
    ASSERT_TRUE(h.ok()) << h.status() << "\n" << text;
    EXPECT_EQ(Dump(*h), Dump(*expected)) << text;
  }
  // The read of 3, concurrent with the write of 4 after 0, saw a value nobody wrote.
  absl::StatusOr<LinearizabilityResult> r = CheckLinearizability(*ParseHistory(list), Model::Register());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->verdict, Verdict::kNotLinearizable);
  // A list of something other than events is still refused.
  EXPECT_THAT(std::string(ParseHistory("((1 2))").status().message()), HasSubstr("expected an event map"));
}

// Two keys, each linearizable; merged into one register they are not (the read of key 4
// returns nothing after the write to key 3).
TEST(EdnHistoryFormat, ReadsTheKeyFieldAndIndependentTuples) {
  const std::string keyed = R"(
{:process 0, :type :invoke, :f :write, :key 3, :value 1}
{:process 0, :type :ok, :f :write, :key 3, :value 1}
{:process 1, :type :invoke, :f :read, :key 4, :value nil}
{:process 1, :type :ok, :f :read, :key 4, :value nil}
{:process 2, :type :invoke, :f :cas, :key 3, :value [1 2]}
{:process 2, :type :ok, :f :cas, :key 3, :value [1 2]}
)";
  const std::string tuples = R"(
{:process 0, :type :invoke, :f :write, :value [3 1]}
{:process 0, :type :ok, :f :write, :value [3 1]}
{:process 1, :type :invoke, :f :read, :value [4 nil]}
{:process 1, :type :ok, :f :read, :value [4 nil]}
{:process 2, :type :invoke, :f :cas, :value [3 [1 2]]}
{:process 2, :type :ok, :f :cas, :value [3 [1 2]]}
)";
  for (const std::string& text : {keyed, tuples}) {
    absl::StatusOr<History> h = ParseHistory(text);
    ASSERT_TRUE(h.ok()) << h.status() << "\n" << text;
    ASSERT_EQ(h->operations().size(), 3u);
    EXPECT_EQ(h->operations()[0].key, "3");
    EXPECT_EQ(h->operations()[0].value, "1");
    EXPECT_EQ(h->operations()[1].key, "4");
    EXPECT_EQ(h->operations()[1].value, std::nullopt);
    EXPECT_EQ(h->operations()[2].key, "3");
    EXPECT_EQ(h->operations()[2].expected, "1");
    EXPECT_EQ(h->operations()[2].value, "2");
    absl::StatusOr<LinearizabilityResult> r = CheckLinearizability(*h, Model::CasRegister());
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->verdict, Verdict::kLinearizable) << r->explanation;
    EXPECT_EQ(r->keys.size(), 2u);
  }
  // Porcupine's kv histories name the key with :key, and a string key is its contents.
  absl::StatusOr<History> kv = ParseHistory(
      "{:process 0, :type :invoke, :f :append, :key \"6\", :value \"x 0 0 y\"}\n"
      "{:process 0, :type :ok, :f :append, :key \"6\", :value \"x 0 0 y\"}\n");
  ASSERT_TRUE(kv.ok()) << kv.status();
  EXPECT_EQ(kv->operations()[0].key, "6");
  EXPECT_EQ(kv->operations()[0].kind, OpKind::kAppend);

  const std::pair<std::string, std::string> bad[] = {
      // The key said twice (in :key and in a tuple) is refused, not guessed at.
      {"{:process 0, :type :invoke, :f :write, :key 3, :value [3 1]}", "not a [key value] tuple"},
      {"{:process 0, :type :invoke, :f :cas, :key 3, :value [3 [1 2]]}", "the key is in :key"},
      {"{:process 0, :type :invoke, :f :write, :key nil, :value 1}", ":key is nil"},
      {"{:process 0, :type :invoke, :f :write, :key [1], :value 1}", "collection"},
      {"{:process 0, :type :invoke, :f :write, :key 3, :value 1}\n"
       "{:process 0, :type :ok, :f :write, :key 4, :value 1}", "on key \"4\", but invoked it (line 1) on key \"3\""},
  };
  for (const auto& [text, why] : bad) {
    absl::StatusOr<History> h = ParseHistory(text);
    ASSERT_FALSE(h.ok()) << text;
    EXPECT_THAT(std::string(h.status().message()), HasSubstr(why)) << text;
  }
}

TEST(EdnHistoryFormat, RefusesFieldsItDoesNotReadUnlessTold) {
  // Fields Cairn reads, and harmless ones Jepsen writes, are fine.
  absl::StatusOr<History> fine = ParseHistory(
      "{:process 0, :type :invoke, :f :write, :value 1, :time 5, :index 0, :node \"n1\"}\n"
      "{:process 0, :type :info, :f :write, :value 1, :time 9, :index 1, :error :timeout, "
      ":exception {:type java.net.SocketTimeoutException}}\n"
      "{:process :nemesis, :type :info, :f :start, :value {:n1 [:n2]}, :clock-offsets {:n1 0}}\n");
  ASSERT_TRUE(fine.ok()) << fine.status();
  EXPECT_EQ(fine->operations().size(), 1u);
  EXPECT_EQ(fine->operations()[0].error, ":timeout");

  const std::string text =
      "{:process 0, :type :invoke, :f :write, :value 1}\n"
      "{:process 0, :type :ok, :f :write, :value 1, :register :b}\n";
  absl::StatusOr<History> h = ParseHistory(text);
  ASSERT_FALSE(h.ok());
  EXPECT_THAT(std::string(h.status().message()), HasSubstr("line 2: the event has a field :register"));
  EXPECT_THAT(std::string(h.status().message()), HasSubstr("--ignore-field register"));
  HistoryParseOptions told;
  told.jepsen.ignored_fields = {"register"};
  EXPECT_TRUE(ParseHistory(text, told).ok());

  const std::pair<std::string, std::string> bad[] = {
      {"{:process 0, :type :invoke, :f :write, :value 1, :value 2}", ":value twice"},
      {"{:process 0, :type :invoke, :f :write, \"value\" 1}", "must be a keyword"},
      {"{:process \"p\", :type :invoke, :f :write, :value 1}", "neither a client"},
  };
  for (const auto& [bad_text, why] : bad) {
    absl::StatusOr<History> b = ParseHistory(bad_text);
    ASSERT_FALSE(b.ok()) << bad_text;
    EXPECT_THAT(std::string(b.status().message()), HasSubstr(why)) << bad_text;
  }
}

TEST(EdnHistoryFormat, ReadsCompletionValuesOnlyWhereTheyCount) {
  // A :fail or :info completion's value does not count, so a :timed-out there is fine...
  absl::StatusOr<History> h = ParseHistory(
      "{:process 0, :type :invoke, :f :cas, :value [1 2]}\n"
      "{:process 0, :type :info, :f :cas, :value :timed-out}\n"
      "{:process 1, :type :invoke, :f :read, :value nil}\n"
      "{:process 1, :type :fail, :f :read, :value :timed-out}\n");
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->operations()[0].outcome, OpOutcome::kInfo);
  EXPECT_EQ(h->operations()[0].expected, "1");
  EXPECT_EQ(h->operations()[0].value, "2");
  // ...but an :ok completion that changes the value is refused, not silently overruled.
  h = ParseHistory(
      "{:process 0, :type :invoke, :f :write, :value 1}\n"
      "{:process 0, :type :ok, :f :write, :value 2}\n");
  ASSERT_FALSE(h.ok());
  EXPECT_THAT(std::string(h.status().message()), HasSubstr("line 2: process 0's :ok completion gives its write the value \"2\""));
  h = ParseHistory(
      "{:process 0, :type :invoke, :f :cas, :value [1 2]}\n"
      "{:process 0, :type :ok, :f :cas, :value :timed-out}\n");
  ASSERT_FALSE(h.ok());
  EXPECT_THAT(std::string(h.status().message()), HasSubstr("a cas :value is [old new]"));
}

// A Jepsen log, as Porcupine's test data has it and as newer Jepsen versions print it, with
// other loggers' lines, a stack trace and the nemesis between.
constexpr char kJepsenLog[] =
    "INFO  jepsen.core - Running test with 5 workers\n"
    "INFO  jepsen.util - 0\t:invoke\t:write\t1\n"
    "INFO  jepsen.util - 1\t:invoke\t:read\tnil\n"
    "INFO  jepsen.util - :nemesis\t:info\t:start\tnil\n"
    "INFO  jepsen.util - 0\t:ok\t:write\t1\n"
    "INFO  jepsen.util - 1\t:ok\t:read\t1\n"
    "WARN  jepsen.core - Process 2 crashed\n"
    "java.net.SocketTimeoutException: Read timed out\n"
    "\tat jepsen.util$timeout.invoke(util.clj:300)\n"
    "2024-01-01 12:00:00,123{GMT}\tINFO\t[jepsen worker 2] jepsen.util: 2\t:invoke\t:cas\t[1 3]\n"
    "INFO [2024-01-01 12:00:00,200] jepsen worker 2 - jepsen.util 2\t:info\t:cas\t:timed-out\tindeterminate: timeout\n"
    "INFO  jepsen.util - 7\t:invoke\t:read\tnil\r\n"
    "INFO  jepsen.util - 7\t:ok\t:read\t3\n"
    "INFO  jepsen.util - 8\t:invoke\t:read\tnil\n"
    "INFO  jepsen.util - 8\t:ok\t:read\t1\n";

TEST(JepsenLogFormat, ReadsJepsenUtilLines) {
  EXPECT_TRUE(HasJepsenLogOperation(kJepsenLog));
  EXPECT_EQ(DetectHistoryFormat(kJepsenLog), HistoryFormat::kJepsenLog);
  absl::StatusOr<History> h = ParseHistory(kJepsenLog);
  ASSERT_TRUE(h.ok()) << h.status();
  const std::vector<Operation>& ops = h->operations();
  ASSERT_EQ(ops.size(), 5u);
  EXPECT_EQ(ops[0].kind, OpKind::kWrite);
  EXPECT_EQ(ops[0].value, "1");
  EXPECT_EQ(ops[0].outcome, OpOutcome::kOk);
  EXPECT_EQ(ops[1].value, "1");
  EXPECT_EQ(ops[2].process, 2);
  EXPECT_EQ(ops[2].kind, OpKind::kCas);
  EXPECT_EQ(ops[2].expected, "1");
  EXPECT_EQ(ops[2].value, "3");
  EXPECT_EQ(ops[2].outcome, OpOutcome::kInfo);
  EXPECT_EQ(ops[2].error, "indeterminate: timeout");
  EXPECT_EQ(ops[3].value, "3");
  // Line order is time order: the write completed before the reads of process 7 and 8 began.
  EXPECT_LT(ops[0].completed, ops[3].invoked);
  // The info cas took effect, and then process 8 read the value it replaced: not linearizable.
  absl::StatusOr<LinearizabilityResult> r = CheckLinearizability(*h, Model::CasRegister());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->verdict, Verdict::kNotLinearizable);
  EXPECT_THAT(r->explanation, HasSubstr("it read \"1\" but the value was \"3\""));
  // Without process 8's read it is.
  const std::string log = kJepsenLog;
  const std::string fine = log.substr(0, log.find("INFO  jepsen.util - 8"));
  r = CheckLinearizability(*ParseHistory(fine), Model::CasRegister());
  EXPECT_EQ(r->verdict, Verdict::kLinearizable);

  // jepsen.independent's tuples key the log's operations too; the format may be chosen.
  HistoryParseOptions as_log;
  as_log.format = HistoryFormat::kJepsenLog;
  h = ParseHistory("INFO  jepsen.util - 0\t:invoke\t:write\t[5 1]\n"
                   "INFO  jepsen.util - 0\t:ok\t:write\t[5 1]\n", as_log);
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->operations()[0].key, "5");
}

TEST(JepsenLogFormat, NamesTheBadLine) {
  const std::pair<std::string, std::string> bad[] = {
      {"INFO  jepsen.util - 0\t:invoke\t:write\t[1\n", "line 1: the operation's value is not EDN"},
      {"INFO  jepsen.util - 0\t:invoke\t:write\n", "line 1: the operation has no value"},
      {"x\nINFO  jepsen.util - 0\t:invoke\t:inc\t1\n", "line 2: the event's :f is :inc"},
      {"INFO  jepsen.util - 0\t:ok\t:write\t1\n", "no operation open"},
      {"INFO  jepsen.util - 0\t:invoke\t:write\t1\tboom\nINFO  jepsen.util - 0\t:ok\t:write\t2\n",
       "line 2: process 0's :ok completion gives its write the value \"2\""},
  };
  HistoryParseOptions as_log;
  as_log.format = HistoryFormat::kJepsenLog;
  for (const auto& [text, why] : bad) {
    absl::StatusOr<History> h = ParseHistory(text, as_log);
    ASSERT_FALSE(h.ok()) << text;
    EXPECT_THAT(std::string(h.status().message()), HasSubstr(why)) << text;
  }
  // A log with no operation in it is refused, not read as an empty (linearizable) history:
  // here tabs became spaces and the type is not an event type.
  absl::StatusOr<History> h =
      ParseHistory("INFO  jepsen.util - Waiting for nodes\nINFO  jepsen.core - done\n", as_log);
  ASSERT_FALSE(h.ok());
  EXPECT_THAT(std::string(h.status().message()), HasSubstr("no jepsen.util operation line"));
  EXPECT_EQ(DetectHistoryFormat("INFO  jepsen.util - Waiting for nodes\n"), HistoryFormat::kCairn);
  // A log whose first line starts with a timestamp, and a tab, is not taken for Cairn's format.
  EXPECT_EQ(DetectHistoryFormat("2024-01-01 12:00:00,123{GMT}\tINFO\t[main] jepsen.cli: start\n"
                                "2024-01-01 12:00:01,000{GMT}\tINFO\t[jepsen worker 0] "
                                "jepsen.util: 0\t:invoke\t:read\tnil\n"),
            HistoryFormat::kJepsenLog);
  // Tabs turned into spaces still read.
  h = ParseHistory("INFO jepsen.util - 0 :invoke :write 1\nINFO jepsen.util - 0 :ok :write 1\n");
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->operations().size(), 1u);
}

// No byte of a file is echoed raw in an error: control bytes (a terminal's escape sequences)
// and bytes that are not ASCII come out as escapes, and a long line is cut short.
TEST(HistoryFormat, ErrorsQuoteInputEscaped) {
  const std::string garbage = "\x1b[2J\xff\xfe\x01";
  const std::string long_field(10'000, 'z');
  const std::pair<std::string, std::optional<HistoryFormat>> inputs[] = {
      {"0\t0\t" + garbage + "\twrite\tk\t1\t\\N\t1\t2\t\n", std::nullopt},
      {"0\t" + garbage + "\tok\twrite\tk\t1\t\\N\t1\t2\t\n", std::nullopt},
      {"0\t0\tok\t" + long_field + "\tk\t1\t\\N\t1\t2\t\n", std::nullopt},
      {garbage + long_field, HistoryFormat::kCairn},
      {"{:process 0, :type :" + garbage + ", :f :read}", std::nullopt},
      {"{:process 0, :type :invoke, :f :" + garbage + "}", std::nullopt},
      {"{:process 0, :type :invoke, :f :read, :" + garbage + " 1}", std::nullopt},
      {"{:process 0, :type :invoke, :f :read, :value 1" + garbage + "}", std::nullopt},
      {"[\"\\" + garbage + "\"]", std::nullopt},
      {"{:process 0, :type :invoke, :f :write, :value [" + garbage + " [1]]}", std::nullopt},
      {"INFO  jepsen.util - 0\t:invoke\t:write\t[" + garbage, std::nullopt},
      {"INFO  jepsen.util - 0\t:invoke\t:" + garbage + "\t1", std::nullopt},
  };
  for (const auto& [text, format] : inputs) {
    absl::StatusOr<History> h = ParseHistory(text, format);
    ASSERT_FALSE(h.ok()) << absl::CHexEscape(text);
    const std::string message(h.status().message());
    for (unsigned char c : message) {
      EXPECT_TRUE(c >= 0x20 && c < 0x7f) << "raw byte " << int{c} << " in: " << absl::CHexEscape(message);
    }
    EXPECT_LT(message.size(), 600u) << message;
  }
  absl::StatusOr<History> h = ParseHistory("0\t0\t" + garbage + "\twrite\tk\t1\t\\N\t1\t2\t\n");
  EXPECT_THAT(std::string(h.status().message()), HasSubstr("outcome '\\x1b[2J\\xff\\xfe\\x01'"));
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

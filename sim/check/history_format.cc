#include "sim/check/history_format.h"

#include <algorithm>
#include <functional>
#include <map>
#include <queue>
#include <tuple>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "sim/check/edn.h"
#include "sim/check/input_excerpt.h"
#include "sim/check/jepsen_log.h"
#include "src/base/strings.h"

namespace cairn::sim {
namespace {

constexpr std::string_view kCairnHeader = "# cairn history v1";
constexpr std::string_view kNothing = "\\N";
// A decimal integer longer than this is printed as an EDN string, so every reader holds it in a
// 64-bit integer.
constexpr size_t kEdnIntegerDigitsMax = 18;

// A field of the input, for an error message: escaped and cut short.
std::string Quoted(absl::string_view field) { return InputExcerpt(StdView(field)); }

absl::Status LineError(size_t line, std::string_view what) {
  return absl::InvalidArgumentError(absl::StrFormat("line %d: %s", line, AbslView(what)));
}

std::optional<OpKind> KindByName(std::string_view f) {
  if (f == "read" || f == "get") return OpKind::kRead;
  if (f == "write" || f == "put") return OpKind::kWrite;
  if (f == "cas") return OpKind::kCas;
  if (f == "append") return OpKind::kAppend;
  return std::nullopt;
}

// ---- Cairn's format ----

std::string Escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\t': out += "\\t"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

std::string EscapeNullable(const std::optional<std::string>& s) {
  return s ? Escape(*s) : std::string(kNothing);
}

absl::StatusOr<std::optional<std::string>> Unescape(std::string_view field, std::string_view name) {
  if (field == kNothing) return std::optional<std::string>();
  std::string out;
  out.reserve(field.size());
  for (size_t i = 0; i < field.size(); ++i) {
    if (field[i] != '\\') {
      out.push_back(field[i]);
      continue;
    }
    const char e = i + 1 < field.size() ? field[++i] : '\0';
    switch (e) {
      case '\\': out.push_back('\\'); break;
      case 't': out.push_back('\t'); break;
      case 'n': out.push_back('\n'); break;
      case 'r': out.push_back('\r'); break;
      default:
        return absl::InvalidArgumentError(absl::StrFormat(
            "%s has an unknown escape (only \\\\ \\t \\n \\r, and \\N alone for nothing)",
            AbslView(name)));
    }
  }
  return std::optional<std::string>(std::move(out));
}

std::optional<OpOutcome> OutcomeByName(std::string_view s) {
  if (s == "ok") return OpOutcome::kOk;
  if (s == "fail") return OpOutcome::kFail;
  if (s == "info") return OpOutcome::kInfo;
  if (s == "open" || s == "invoke") return OpOutcome::kOpen;
  return std::nullopt;
}

bool HasCompletion(OpOutcome o) { return o == OpOutcome::kOk || o == OpOutcome::kFail; }

absl::Status ParseCairnLine(std::string_view line, size_t line_no, History& history) {
  std::vector<absl::string_view> f = absl::StrSplit(AbslView(line), '\t');
  if (f.size() == 9) f.push_back("");  // the error field may be left off
  if (f.size() != 10) {
    return LineError(line_no, absl::StrFormat(
        "expected 10 tab-separated fields (index process outcome f key value expected "
        "invoked_ns completed_ns error), found %d: %s",
        f.size(), InputExcerpt(line)));
  }
  uint64_t index = 0;
  if (!absl::SimpleAtoi(f[0], &index) || index != history.operations().size()) {
    return LineError(line_no, absl::StrFormat(
        "index '%s' should be %d: operations are numbered 0, 1, 2, ... in line order", Quoted(f[0]),
        history.operations().size()));
  }
  int process = 0;
  if (!absl::SimpleAtoi(f[1], &process)) {
    return LineError(line_no, absl::StrFormat("process '%s' is not an integer", Quoted(f[1])));
  }
  const std::optional<OpOutcome> outcome = OutcomeByName(StdView(f[2]));
  if (!outcome) {
    return LineError(line_no,
                     absl::StrFormat("outcome '%s' is not ok, fail, info or open", Quoted(f[2])));
  }
  const std::optional<OpKind> kind = KindByName(StdView(f[3]));
  if (!kind) {
    return LineError(line_no,
                     absl::StrFormat("f '%s' is not read, write, cas or append", Quoted(f[3])));
  }
  absl::StatusOr<std::optional<std::string>> key = Unescape(StdView(f[4]), "key");
  absl::StatusOr<std::optional<std::string>> value = Unescape(StdView(f[5]), "value");
  absl::StatusOr<std::optional<std::string>> expected = Unescape(StdView(f[6]), "expected");
  absl::StatusOr<std::optional<std::string>> error = Unescape(StdView(f[9]), "error");
  for (const auto* s : {&key, &value, &expected, &error}) {
    if (!s->ok()) return LineError(line_no, StdView(s->status().message()));
  }
  if (!*key) return LineError(line_no, "the key is \\N; a key is always a string");
  if (*kind != OpKind::kCas && expected->has_value()) {
    return LineError(line_no, "only a cas has an expected value; put \\N there");
  }
  int64_t invoked = 0;
  if (!absl::SimpleAtoi(f[7], &invoked)) {
    return LineError(line_no, absl::StrFormat("invoked_ns '%s' is not an integer", Quoted(f[7])));
  }
  int64_t completed = 0;
  if (HasCompletion(*outcome)) {
    if (!absl::SimpleAtoi(f[8], &completed)) {
      return LineError(line_no, absl::StrFormat(
          "completed_ns '%s' is not an integer (ok and fail operations have one)", Quoted(f[8])));
    }
    if (completed < invoked) {
      return LineError(line_no, "the operation completes before it is invoked");
    }
  } else if (StdView(f[8]) != kNothing) {
    return LineError(line_no, "info and open operations have no completion: put \\N in completed_ns");
  }
  if (*kind == OpKind::kRead && *outcome == OpOutcome::kOpen && value->has_value()) {
    return LineError(line_no, "an open read has no result: put \\N in value");
  }
  const bool read = *kind == OpKind::kRead;
  const uint64_t i = history.Invoke(process, *kind, **std::move(key),
                                    read ? std::nullopt : *std::move(value), InstantFromNanos(invoked),
                                    *std::move(expected));
  if (*outcome != OpOutcome::kOpen) {
    history.Complete(i, *outcome, read ? *std::move(value) : std::nullopt,
                     InstantFromNanos(completed), std::move(error)->value_or(""));
  }
  return absl::OkStatus();
}

// ---- Jepsen's EDN ----

bool IsDecimalInteger(std::string_view s) {
  std::string_view d = s;
  if (!d.empty() && d[0] == '-') d.remove_prefix(1);
  if (d.empty() || d.size() > kEdnIntegerDigitsMax) return false;
  if (d[0] == '0' && (d.size() > 1 || s[0] == '-')) return false;  // not canonical: "01", "-0"
  return std::all_of(d.begin(), d.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string EdnScalar(const std::optional<std::string>& v) {
  if (!v) return "nil";
  return IsDecimalInteger(*v) ? *v : EdnString(*v);
}

}  // namespace

const char* HistoryFormatName(HistoryFormat format) {
  switch (format) {
    case HistoryFormat::kCairn: return "cairn";
    case HistoryFormat::kEdn: return "edn";
    case HistoryFormat::kJepsenLog: return "jepsen-log";
  }
  return "?";
}

HistoryFormat DetectHistoryFormat(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',') {
      ++i;
    } else if (c == ';') {
      while (i < text.size() && text[i] != '\n') ++i;
    } else if (c == '{' || c == '[' || c == '(') {
      return HistoryFormat::kEdn;
    } else if (c == '#') {
      // "#{", "#_", "#jepsen.history.Op{": EDN. "# cairn history v1", "#": a Cairn comment.
      const char d = i + 1 < text.size() ? text[i + 1] : ' ';
      const bool edn = d == '{' || d == '_' || (d >= 'a' && d <= 'z') || (d >= 'A' && d <= 'Z');
      if (edn) return HistoryFormat::kEdn;
      while (i < text.size() && text[i] != '\n') ++i;
    } else {
      break;
    }
  }
  // Not EDN. Cairn's first operation line starts with its index, 0, and a tab; a log line
  // starts with a level or a timestamp ("2024-01-01 12:00:00,123"), never so.
  for (absl::string_view line : absl::StrSplit(AbslView(text), '\n')) {
    if (line.empty() || line == "\r" || line[0] == '#') continue;
    if (absl::StartsWith(line, "0\t")) return HistoryFormat::kCairn;
    break;
  }
  return HasJepsenLogOperation(text) ? HistoryFormat::kJepsenLog : HistoryFormat::kCairn;
}

std::string FormatCairnHistory(const History& history) {
  std::string out = absl::StrCat(
      AbslView(kCairnHeader),
      "\n# index\tprocess\toutcome\tf\tkey\tvalue\texpected\tinvoked_ns\tcompleted_ns\terror\n");
  for (const Operation& op : history.operations()) {
    absl::StrAppend(&out, op.index, "\t", op.process, "\t", OutcomeName(op.outcome), "\t",
                    OpKindName(op.kind), "\t", Escape(op.key), "\t", EscapeNullable(op.value),
                    "\t", EscapeNullable(op.expected), "\t", ToNanos(op.invoked), "\t",
                    HasCompletion(op.outcome) ? absl::StrCat(ToNanos(op.completed))
                                              : std::string(kNothing),
                    "\t", Escape(op.error), "\n");
  }
  return out;
}

absl::StatusOr<History> ParseCairnHistory(std::string_view text) {
  History history;
  size_t line_no = 0;
  for (absl::string_view line : absl::StrSplit(AbslView(text), '\n')) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line[0] == '#') continue;
    if (absl::Status s = ParseCairnLine(StdView(line), line_no, history); !s.ok()) return s;
  }
  return history;
}

absl::StatusOr<std::string> FormatEdnHistory(const History& history) {
  const std::vector<Operation>& ops = history.operations();
  int64_t last_ns = 0;
  std::map<int, std::vector<const Operation*>> by_process;
  for (const Operation& op : ops) {
    by_process[op.process].push_back(&op);
    last_ns = std::max(last_ns, ToNanos(op.invoked));
    if (HasCompletion(op.outcome)) last_ns = std::max(last_ns, ToNanos(op.completed));
  }
  struct Event {
    int64_t at_ns;
    bool invoke;
    uint64_t op;
  };
  // Each process's events in its own order: invoke, complete, invoke, ...
  std::vector<std::vector<Event>> lanes;
  for (auto& [process, list] : by_process) {
    std::stable_sort(list.begin(), list.end(), [](const Operation* a, const Operation* b) {
      return a->invoked < b->invoked;
    });
    std::vector<Event>& lane = lanes.emplace_back();
    for (size_t i = 0; i < list.size(); ++i) {
      const Operation& op = *list[i];
      const Operation* next = i + 1 < list.size() ? list[i + 1] : nullptr;
      lane.push_back({ToNanos(op.invoked), true, op.index});
      if (HasCompletion(op.outcome)) {
        if (next != nullptr && next->invoked < op.completed) {
          return absl::InvalidArgumentError(absl::StrFormat(
              "process %d has two operations open at once (%s and %s); EDN pairs an "
              "operation's events by process, so it cannot say which completion is whose",
              process, DescribeOperation(op), DescribeOperation(*next)));
        }
        lane.push_back({ToNanos(op.completed), false, op.index});
      } else if (op.outcome == OpOutcome::kInfo) {
        // The outcome never came back; say so before the process moves on.
        lane.push_back({next != nullptr ? ToNanos(next->invoked) : last_ns, false, op.index});
      }
    }
  }
  // Merge the lanes by time. At one instant, invocations go before completions wherever a
  // process's own order allows: Cairn counts operations that meet at an instant as concurrent,
  // and a tool that reads order rather than :time then agrees.
  // Heads are ordered by (at, rank, op, then) where at one instant invocations go in index order
  // (rank 0, so reading them back keeps each operation's index), a completion that must come
  // right before its process's next invocation goes just ahead of it, and other completions go
  // after all invocations (Cairn counts operations meeting at an instant as concurrent, and a
  // tool that reads order rather than :time then agrees).
  using Head = std::tuple<int64_t, int, uint64_t, int, size_t>;
  std::priority_queue<Head, std::vector<Head>, std::greater<Head>> heads;
  std::vector<size_t> next_event(lanes.size(), 0);
  auto push_head = [&](size_t l) {
    const std::vector<Event>& lane = lanes[l];
    const size_t i = next_event[l];
    if (i == lane.size()) return;
    const Event& e = lane[i];
    if (e.invoke) {
      heads.emplace(e.at_ns, 0, e.op, 1, l);
    } else if (i + 1 < lane.size() && lane[i + 1].at_ns == e.at_ns) {
      heads.emplace(e.at_ns, 0, lane[i + 1].op, 0, l);
    } else {
      heads.emplace(e.at_ns, 1, e.op, 0, l);
    }
  };
  for (size_t l = 0; l < lanes.size(); ++l) push_head(l);
  std::vector<Event> events;
  while (!heads.empty()) {
    const size_t l = std::get<4>(heads.top());
    heads.pop();
    events.push_back(lanes[l][next_event[l]++]);
    push_head(l);
  }
  std::string out;
  uint64_t index = 0;
  for (const Event& e : events) {
    const Operation& op = ops[e.op];
    const OpOutcome type = e.invoke ? OpOutcome::kOpen : op.outcome;
    std::optional<std::string> shown = op.value;
    if (op.kind == OpKind::kRead && type != OpOutcome::kOk) shown.reset();
    std::string value = op.kind == OpKind::kCas
                            ? absl::StrCat("[", EdnScalar(op.expected), " ", EdnScalar(shown), "]")
                            : EdnScalar(shown);
    if (!op.key.empty()) value = absl::StrCat("[", EdnScalar(op.key), " ", value, "]");
    absl::StrAppend(&out, "{:type :", e.invoke ? "invoke" : OutcomeName(op.outcome), ", :f :",
                    OpKindName(op.kind), ", :value ", value, ", :process ", op.process,
                    ", :time ", e.at_ns, ", :index ", index++);
    if (!e.invoke && !op.error.empty()) absl::StrAppend(&out, ", :error ", EdnString(op.error));
    out += "}\n";
  }
  return out;
}

absl::StatusOr<History> ParseEdnHistory(std::string_view text, const JepsenEventOptions& options) {
  EdnReader reader(text);
  std::vector<JepsenEvent> events;
  auto add = [&](const EdnValue& v) -> absl::Status {
    absl::StatusOr<std::optional<JepsenEvent>> e = ParseJepsenEvent(v, options);
    if (!e.ok()) return e.status();
    if (e->has_value()) events.push_back(**std::move(e));
    return absl::OkStatus();
  };
  while (true) {
    absl::StatusOr<std::optional<EdnValue>> v = reader.Next();
    if (!v.ok()) return v.status();
    if (!v->has_value()) break;
    // Knossos writes a list as often as a vector; EDN says they are both sequences.
    if ((*v)->is(EdnValue::Type::kVector) || (*v)->is(EdnValue::Type::kList)) {
      for (const EdnValue& item : (*v)->items) {
        if (absl::Status s = add(item); !s.ok()) return s;
      }
    } else if (absl::Status s = add(**v); !s.ok()) {
      return s;
    }
  }
  return HistoryFromJepsenEvents(std::move(events));
}

absl::StatusOr<History> ParseHistory(std::string_view text, std::optional<HistoryFormat> format) {
  return ParseHistory(text, HistoryParseOptions{format, {}});
}

absl::StatusOr<History> ParseHistory(std::string_view text, const HistoryParseOptions& options) {
  switch (options.format.value_or(DetectHistoryFormat(text))) {
    case HistoryFormat::kCairn: return ParseCairnHistory(text);
    case HistoryFormat::kEdn: return ParseEdnHistory(text, options.jepsen);
    case HistoryFormat::kJepsenLog: return ParseJepsenLogHistory(text, options.jepsen);
  }
  return absl::InvalidArgumentError("unknown history format");
}

}  // namespace cairn::sim

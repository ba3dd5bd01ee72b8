#include "sim/check/jepsen_events.h"

#include <algorithm>
#include <map>
#include <string_view>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "sim/check/input_excerpt.h"
#include "src/base/strings.h"

namespace cairn::sim {
namespace {

constexpr std::string_view kReadFields[] = {"process", "type", "f",    "key",
                                            "value",   "time", "error"};
// Fields that say something about an operation but never change what it did.
constexpr std::string_view kHarmlessFields[] = {"index", "node", "exception", "debug", "final?"};

absl::Status LineError(int line, std::string_view what) {
  return absl::InvalidArgumentError(absl::StrFormat("line %d: %s", line, AbslView(what)));
}

std::optional<OpKind> KindByName(std::string_view f) {
  if (f == "read" || f == "get") return OpKind::kRead;
  if (f == "write" || f == "put") return OpKind::kWrite;
  if (f == "cas") return OpKind::kCas;
  if (f == "append") return OpKind::kAppend;
  return std::nullopt;
}

// An event's :type; kOpen for an invocation.
std::optional<OpOutcome> TypeByName(std::string_view type) {
  if (type == "invoke") return OpOutcome::kOpen;
  if (type == "ok") return OpOutcome::kOk;
  if (type == "fail") return OpOutcome::kFail;
  if (type == "info") return OpOutcome::kInfo;
  return std::nullopt;
}

// A scalar as a history holds it; nullopt for nil.
absl::StatusOr<std::optional<std::string>> Scalar(const EdnValue& v) {
  using T = EdnValue::Type;
  switch (v.type) {
    case T::kNil: return std::optional<std::string>();
    case T::kKeyword: return std::optional<std::string>(absl::StrCat(":", v.text));
    case T::kBool:
    case T::kInteger:
    case T::kFloat:
    case T::kString:
    case T::kChar:
    case T::kSymbol: return std::optional<std::string>(v.text);
    case T::kVector:
    case T::kList:
    case T::kMap:
    case T::kSet: break;
  }
  return LineError(v.line, absl::StrFormat(
      "a value must be nil, a number, a string or a keyword, not a collection like %s",
      InputExcerpt(PrintEdn(v))));
}

bool IsPair(const EdnValue& v) { return v.is(EdnValue::Type::kVector) && v.items.size() == 2; }

struct ReadValue {
  std::optional<std::string> key;
  std::optional<std::string> value;
  std::optional<std::string> expected;
};

// Reads :value by the shapes in the header. `keyed`: the event has a :key field.
absl::StatusOr<ReadValue> ReadEventValue(const EdnValue& v, OpKind kind, bool keyed) {
  ReadValue out;
  const EdnValue* inner = &v;
  if (!keyed && IsPair(v) && (kind != OpKind::kCas || v.items[1].is(EdnValue::Type::kVector))) {
    absl::StatusOr<std::optional<std::string>> key = Scalar(v.items[0]);
    if (!key.ok()) return key.status();
    if (!key->has_value()) return LineError(v.line, "the key of a [key value] tuple is nil");
    out.key = *std::move(key);
    inner = &v.items[1];
  }
  if (kind == OpKind::kCas) {
    if (inner->is(EdnValue::Type::kNil)) return out;
    if (!IsPair(*inner) || (keyed && inner->items[1].is(EdnValue::Type::kVector))) {
      return LineError(v.line, keyed ? "a cas :value is [old new] (the key is in :key)"
                                     : "a cas :value is [old new] or [key [old new]]");
    }
    absl::StatusOr<std::optional<std::string>> expected = Scalar(inner->items[0]);
    if (!expected.ok()) return expected.status();
    absl::StatusOr<std::optional<std::string>> value = Scalar(inner->items[1]);
    if (!value.ok()) return value.status();
    out.expected = *std::move(expected);
    out.value = *std::move(value);
    return out;
  }
  if (keyed && inner->is(EdnValue::Type::kVector)) {
    return LineError(v.line, absl::StrFormat(
        "the event has a :key, so its :value is a plain value, not a [key value] tuple like %s",
        InputExcerpt(PrintEdn(v))));
  }
  absl::StatusOr<std::optional<std::string>> value = Scalar(*inner);
  if (!value.ok()) return value.status();
  out.value = *std::move(value);
  return out;
}

// Refuses a field given twice, and one neither read nor known to be harmless (see the header).
absl::Status CheckFields(const EdnValue& m, const JepsenEventOptions& options) {
  std::vector<std::string_view> seen;
  for (size_t i = 0; i + 1 < m.items.size(); i += 2) {
    const EdnValue& name = m.items[i];
    if (!name.is(EdnValue::Type::kKeyword)) {
      return LineError(m.line, absl::StrFormat("a field name must be a keyword like :value, not %s",
                                               InputExcerpt(PrintEdn(name))));
    }
    const std::string_view n = name.text;
    if (std::find(seen.begin(), seen.end(), n) != seen.end()) {
      return LineError(m.line, absl::StrFormat("the event gives :%s twice", InputExcerpt(n)));
    }
    seen.push_back(n);
    auto listed = [n](const auto& list) {
      return std::find(std::begin(list), std::end(list), n) != std::end(list);
    };
    if (listed(kReadFields) || listed(kHarmlessFields) || listed(options.ignored_fields)) continue;
    return LineError(m.line, absl::StrFormat(
        "the event has a field :%s, which Cairn does not read. A field that is not read might "
        "change what the operation did, so it is refused; if this one does not, ignore it "
        "(cairn check --ignore-field %s)",
        InputExcerpt(n), InputExcerpt(n)));
  }
  return absl::OkStatus();
}

std::string Shown(const std::optional<std::string>& v) {
  return v ? absl::StrFormat("\"%s\"", InputExcerpt(*v)) : std::string("nil");
}

}  // namespace

std::string PrintEdn(const EdnValue& v) {
  using T = EdnValue::Type;
  std::vector<std::string> parts;
  for (const EdnValue& item : v.items) parts.push_back(PrintEdn(item));
  switch (v.type) {
    case T::kNil: return "nil";
    // StrCat, not operator+: g++ 12 at -O3 warns (-Wrestrict, a false positive) on
    // `"literal" + std::string`, and the warnings are errors.
    case T::kKeyword: return absl::StrCat(":", v.text);
    case T::kString: return EdnString(v.text);
    case T::kVector: return absl::StrCat("[", absl::StrJoin(parts, " "), "]");
    case T::kList: return absl::StrCat("(", absl::StrJoin(parts, " "), ")");
    case T::kMap: return absl::StrCat("{", absl::StrJoin(parts, " "), "}");
    case T::kSet: return absl::StrCat("#{", absl::StrJoin(parts, " "), "}");
    default: return v.text;
  }
}

absl::StatusOr<std::optional<JepsenEvent>> ParseJepsenEvent(const EdnValue& m,
                                                            const JepsenEventOptions& options) {
  if (!m.is(EdnValue::Type::kMap)) {
    return LineError(m.line, absl::StrFormat(
        "expected an event map like {:process 0, :type :invoke, :f :read, :value nil}, not %s",
        InputExcerpt(PrintEdn(m))));
  }
  const EdnValue* process = m.Find("process");
  if (process == nullptr) return LineError(m.line, "the event has no :process");
  if (process->is(EdnValue::Type::kKeyword)) return std::optional<JepsenEvent>();  // the nemesis
  if (!process->is(EdnValue::Type::kInteger)) {
    return LineError(m.line, absl::StrFormat(
        ":process %s is neither a client (an integer) nor a keyword like :nemesis",
        InputExcerpt(PrintEdn(*process))));
  }
  if (absl::Status s = CheckFields(m, options); !s.ok()) return s;
  JepsenEvent e;
  e.line = m.line;
  if (!absl::SimpleAtoi(process->text, &e.process)) {
    return LineError(m.line,
                     absl::StrFormat(":process %s is out of range", InputExcerpt(process->text)));
  }
  const EdnValue* type = m.Find("type");
  if (type == nullptr || !type->is(EdnValue::Type::kKeyword)) {
    return LineError(m.line, "the event has no :type keyword (:invoke, :ok, :fail or :info)");
  }
  const std::optional<OpOutcome> outcome = TypeByName(type->text);
  if (!outcome) {
    return LineError(m.line, absl::StrFormat(":type :%s is not :invoke, :ok, :fail or :info",
                                             InputExcerpt(type->text)));
  }
  e.type = *outcome;
  const EdnValue* f = m.Find("f");
  std::optional<OpKind> kind;
  if (f != nullptr && (f->is(EdnValue::Type::kKeyword) || f->is(EdnValue::Type::kString))) {
    kind = KindByName(f->text);
  }
  if (!kind) {
    return LineError(m.line, absl::StrFormat(
        "the event's :f is %s; Cairn checks :read, :write, :cas and :append (and :get, :put)",
        f == nullptr ? std::string("missing") : InputExcerpt(PrintEdn(*f))));
  }
  e.kind = *kind;
  const EdnValue* key = m.Find("key");
  if (key != nullptr) {
    absl::StatusOr<std::optional<std::string>> k = Scalar(*key);
    if (!k.ok()) return k.status();
    if (!k->has_value()) return LineError(m.line, "the event's :key is nil");
    e.key = *std::move(k);
  }
  if (const EdnValue* value = m.Find("value"); value != nullptr) {
    absl::StatusOr<ReadValue> read = ReadEventValue(*value, e.kind, key != nullptr);
    const bool counts = e.type == OpOutcome::kOpen || e.type == OpOutcome::kOk;
    if (!read.ok() && counts) return read.status();
    if (read.ok()) {
      if (read->key) e.key = std::move(read->key);
      if (counts) {
        e.value_given = !value->is(EdnValue::Type::kNil);
        e.value = std::move(read->value);
        e.expected = std::move(read->expected);
      }
    }
  }
  if (const EdnValue* time = m.Find("time"); time != nullptr) {
    int64_t ns = 0;
    if (!time->is(EdnValue::Type::kInteger) || !absl::SimpleAtoi(time->text, &ns)) {
      return LineError(m.line, ":time must be an integer (nanoseconds)");
    }
    e.time_ns = ns;
  }
  const EdnValue* error = m.Find("error");
  if (error != nullptr && !error->is(EdnValue::Type::kNil)) {
    e.error = error->is(EdnValue::Type::kString) ? error->text : PrintEdn(*error);
  }
  return std::optional<JepsenEvent>(std::move(e));
}

absl::StatusOr<History> HistoryFromJepsenEvents(std::vector<JepsenEvent> events) {
  const bool all_timed = std::all_of(events.begin(), events.end(),
                                     [](const JepsenEvent& e) { return e.time_ns.has_value(); });
  // Pair events into operations first: a read invoked as plain nil learns its key only from
  // its completion.
  struct Pending {
    JepsenEvent call;
    Instant invoked;
    std::optional<JepsenEvent> completion;
    Instant completed;
  };
  std::vector<Pending> pending;
  std::map<int, size_t> open;  // process -> its open operation
  for (size_t n = 0; n < events.size(); ++n) {
    JepsenEvent& e = events[n];
    const Instant at = InstantFromNanos(all_timed ? *e.time_ns : static_cast<int64_t>(n));
    if (e.type == OpOutcome::kOpen) {
      // An invocation while the process still has one open: the earlier stays open.
      open[e.process] = pending.size();
      pending.push_back({std::move(e), at, std::nullopt, {}});
      continue;
    }
    auto it = open.find(e.process);
    if (it == open.end()) {
      return LineError(e.line, absl::StrFormat(
          "a :%s event of process %d, which has no operation open", OutcomeName(e.type),
          e.process));
    }
    Pending& p = pending[it->second];
    open.erase(it);
    if (p.call.kind != e.kind) {
      return LineError(e.line, absl::StrFormat(
          "process %d completes a :%s, but its open operation (line %d) is a :%s", e.process,
          OpKindName(e.kind), p.call.line, OpKindName(p.call.kind)));
    }
    if (e.key && p.call.key && *e.key != *p.call.key) {
      return LineError(e.line, absl::StrFormat(
          "process %d completes an operation on key %s, but invoked it (line %d) on key %s",
          e.process, Shown(e.key), p.call.line, Shown(p.call.key)));
    }
    if (e.type == OpOutcome::kOk && e.kind != OpKind::kRead && e.value_given &&
        (e.value != p.call.value || e.expected != p.call.expected)) {
      const bool cas = e.kind == OpKind::kCas;
      return LineError(e.line, absl::StrFormat(
          "process %d's :ok completion gives its %s the value %s, but the invocation (line %d) "
          "gave %s; an :ok completion repeats its invocation's value",
          e.process, OpKindName(e.kind),
          cas ? absl::StrCat("[", Shown(e.expected), " ", Shown(e.value), "]") : Shown(e.value),
          p.call.line,
          cas ? absl::StrCat("[", Shown(p.call.expected), " ", Shown(p.call.value), "]")
              : Shown(p.call.value)));
    }
    if ((e.type == OpOutcome::kOk || e.type == OpOutcome::kFail) && at < p.invoked) {
      return LineError(e.line, "the operation completes before it is invoked (:time goes back)");
    }
    if (!p.call.key) p.call.key = e.key;
    p.completion = std::move(e);
    p.completed = at;
  }

  History history;
  for (Pending& p : pending) {
    const bool read = p.call.kind == OpKind::kRead;
    const uint64_t i = history.Invoke(p.call.process, p.call.kind, p.call.key.value_or(""),
                                      read ? std::nullopt : std::move(p.call.value), p.invoked,
                                      std::move(p.call.expected));
    if (p.completion) {
      history.Complete(i, p.completion->type,
                       read ? std::move(p.completion->value) : std::nullopt, p.completed,
                       std::move(p.completion->error));
    }
  }
  return history;
}

}  // namespace cairn::sim

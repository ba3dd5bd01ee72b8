#include "sim/check/history.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_format.h"
#include "src/base/check.h"

namespace cairn::sim {

uint64_t History::Invoke(int process, OpKind kind, std::string key,
                         std::optional<std::string> value, Instant at,
                         std::optional<std::string> expected) {
  Operation op;
  op.index = ops_.size();
  op.process = process;
  op.kind = kind;
  op.key = std::move(key);
  op.value = std::move(value);
  op.expected = std::move(expected);
  op.invoked = at;
  ops_.push_back(std::move(op));
  return ops_.size() - 1;
}

void History::Complete(uint64_t index, OpOutcome outcome, std::optional<std::string> read_value,
                       Instant at, std::string error) {
  CAIRN_CHECK(index < ops_.size());
  Operation& op = ops_[index];
  CAIRN_CHECK_MSG(op.outcome == OpOutcome::kOpen, "operation completed twice");
  CAIRN_CHECK(outcome != OpOutcome::kOpen);
  op.outcome = outcome;
  if (outcome != OpOutcome::kInfo) op.completed = at;
  if (op.kind == OpKind::kRead) op.value = std::move(read_value);
  op.error = std::move(error);
}

size_t History::count(OpOutcome outcome) const {
  size_t n = 0;
  for (const Operation& op : ops_) n += op.outcome == outcome;
  return n;
}

const char* OutcomeName(OpOutcome outcome) {
  switch (outcome) {
    case OpOutcome::kOpen: return "open";
    case OpOutcome::kOk: return "ok";
    case OpOutcome::kFail: return "fail";
    case OpOutcome::kInfo: return "info";
  }
  return "?";
}

const char* OpKindName(OpKind kind) {
  switch (kind) {
    case OpKind::kRead: return "read";
    case OpKind::kWrite: return "write";
    case OpKind::kCas: return "cas";
    case OpKind::kAppend: return "append";
  }
  return "?";
}

namespace {

// Seconds, exact to the nanosecond, without trailing zeros: "1.25s", "0.000000007s".
std::string Seconds(Instant t) {
  const int64_t ns = ToNanos(t);
  const uint64_t mag = ns < 0 ? uint64_t{0} - static_cast<uint64_t>(ns) : static_cast<uint64_t>(ns);
  std::string s = absl::StrFormat("%s%d.%09d", ns < 0 ? "-" : "", mag / 1'000'000'000,
                                  mag % 1'000'000'000);
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s + "s";
}

std::string Shown(const std::optional<std::string>& v) {
  return v ? absl::StrFormat("\"%s\"", absl::CHexEscape(*v)) : std::string("nothing");
}
}  // namespace

std::string DescribeOperation(const Operation& op) {
  std::string what;
  switch (op.kind) {
    case OpKind::kRead:
      what = op.outcome == OpOutcome::kOk ? "read -> " + Shown(op.value) : "read";
      break;
    case OpKind::kWrite: what = "write " + Shown(op.value); break;
    case OpKind::kCas: what = absl::StrFormat("cas %s -> %s", Shown(op.expected), Shown(op.value)); break;
    case OpKind::kAppend: what = "append " + Shown(op.value); break;
  }
  const bool done = op.outcome == OpOutcome::kOk || op.outcome == OpOutcome::kFail;
  return absl::StrFormat("#%d p%d key \"%s\" %s %s %s..%s", op.index, op.process,
                         absl::CHexEscape(op.key), what, OutcomeName(op.outcome),
                         Seconds(op.invoked), done ? Seconds(op.completed) : std::string("?"));
}

}  // namespace cairn::sim

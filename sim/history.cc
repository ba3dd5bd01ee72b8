#include "sim/history.h"

#include "src/base/check.h"

namespace cairn::sim {

uint64_t History::Invoke(int process, OpKind kind, std::string key,
                         std::optional<std::string> value, Instant at) {
  Operation op;
  op.index = ops_.size();
  op.process = process;
  op.kind = kind;
  op.key = std::move(key);
  op.value = std::move(value);
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

}  // namespace cairn::sim

#include "sim/check/register_checker.h"

#include <map>

#include "absl/strings/str_format.h"
#include "src/base/check.h"

namespace cairn::sim {
namespace {


std::string Describe(const Operation& op) {
  const std::string end = op.outcome == OpOutcome::kInfo || op.outcome == OpOutcome::kOpen
                              ? std::string("?")
                              : absl::StrFormat("%.6fs", ToSeconds(op.completed));
  return absl::StrFormat("op #%d (client %d %s %s=%s, %s, %.6fs..%s)", op.index, op.process,
                         op.kind == OpKind::kRead ? "read" : "write", op.key,
                         op.value ? *op.value : std::string("<nothing>"), OutcomeName(op.outcome),
                         ToSeconds(op.invoked), end);
}

void Record(CheckResult& result, std::string explanation, std::initializer_list<const Operation*> ops) {
  Instant witnessed{};
  for (const Operation* op : ops) witnessed = std::max(witnessed, op->completed);
  result.Violate(std::move(explanation), witnessed);
}

}  // namespace

std::vector<CheckResult> CheckRegisterHistory(const History& history) {
  CheckResult seen{"reads-see-writes"};
  CheckResult lost{"no-lost-write"};

  std::map<std::string, std::vector<const Operation*>> writes_by_key;
  std::map<std::pair<std::string, std::string>, const Operation*> write_of_value;
  for (const Operation& op : history.operations()) {
    CAIRN_CHECK_MSG(op.kind == OpKind::kRead || op.kind == OpKind::kWrite,
                    "the register checks take reads and writes only");
    if (op.kind != OpKind::kWrite) continue;
    writes_by_key[op.key].push_back(&op);
    write_of_value[{op.key, *op.value}] = &op;
  }

  for (const Operation& read : history.operations()) {
    if (read.kind != OpKind::kRead || read.outcome != OpOutcome::kOk) continue;
    const Operation* source = nullptr;
    if (read.value) {
      auto it = write_of_value.find({read.key, *read.value});
      if (it == write_of_value.end()) {
        Record(seen, absl::StrFormat("%s returned a value no client ever wrote", Describe(read)), {&read});
        continue;
      }
      source = it->second;
      if (source->outcome == OpOutcome::kFail) {
        Record(seen, absl::StrFormat("%s returned the value of the failed %s", Describe(read),
                                     Describe(*source)), {&read});
        continue;
      }
      if (source->invoked > read.completed) {
        Record(seen, absl::StrFormat("%s returned the value of %s, invoked after the read ended",
                                     Describe(read), Describe(*source)), {&read});
        continue;
      }
    }
    // The source (or the initial value, if none) was overwritten before the read began if a
    // write B was acknowledged before the read and began after the source was acknowledged.
    for (const Operation* b : writes_by_key[read.key]) {
      if (b == source || b->outcome != OpOutcome::kOk || b->completed >= read.invoked) continue;
      const bool source_done_before_b =
          source == nullptr || (source->outcome == OpOutcome::kOk && source->completed < b->invoked);
      if (source_done_before_b) {
        Record(lost, absl::StrFormat("%s returned %s, but %s had replaced it before the read began",
                                     Describe(read),
                                     source ? "the value of " + Describe(*source) : "nothing",
                                     Describe(*b)), {&read, b});
        break;
      }
    }
  }
  return {seen, lost};
}

}  // namespace cairn::sim

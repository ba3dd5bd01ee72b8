// History: what clients asked and were told, the input of every checker.
//
// Each operation is invoked and then completes as ok (it took effect, with this result),
// fail (it certainly did not take effect) or info (unknown: a timeout, a crash, a lost reply),
// the model Jepsen uses. An operation still open at the end of a run counts as info.
//
// Kinds: a read returns the key's whole value; a write replaces it; a cas replaces it with
// `value` only if it equals `expected` (a cas whose comparison fails completes as fail, as in
// Jepsen); an append adds `value` to the end of the key's value (nothing counts as "").
// Checkers: sim/register_checker.h (fast necessary conditions), sim/linearizability.h (full).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "src/base/time.h"

namespace cairn::sim {

enum class OpKind { kRead, kWrite, kCas, kAppend };
enum class OpOutcome { kOpen, kOk, kFail, kInfo };

struct Operation {
  uint64_t index = 0;
  int process = 0;
  OpKind kind = OpKind::kRead;
  std::string key;
  std::optional<std::string> value;  // written value, or read result (nullopt: nothing there)
  std::optional<std::string> expected;  // kCas only: the value compared (nullopt: nothing there)
  Instant invoked{};
  Instant completed = kInstantMax;  // kInstantMax while open or for info
  OpOutcome outcome = OpOutcome::kOpen;
  std::string error;
};

class History {
 public:
  // `value` is what a write, cas or append puts (nothing for a read); `expected` is a cas's
  // compared value.
  uint64_t Invoke(int process, OpKind kind, std::string key, std::optional<std::string> value,
                  Instant at, std::optional<std::string> expected = std::nullopt);
  void Complete(uint64_t index, OpOutcome outcome, std::optional<std::string> read_value,
                Instant at, std::string error = {});

  const std::vector<Operation>& operations() const { return ops_; }
  size_t count(OpOutcome outcome) const;

 private:
  std::vector<Operation> ops_;
};

const char* OutcomeName(OpOutcome outcome);
const char* OpKindName(OpKind kind);  // "read", "write", "cas", "append"

// "#7 p2 key \"x\" read -> \"5\" ok 1.2s..1.3s": one operation, for explanations.
std::string DescribeOperation(const Operation& op);

}  // namespace cairn::sim

// History: what clients asked and were told, the input of every checker.
//
// Each operation is invoked and then completes as ok (it took effect, with this result),
// fail (it certainly did not take effect) or info (unknown: a timeout, a crash, a lost reply),
// the model Jepsen uses. An operation still open at the end of a run counts as info.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "src/runtime/time.h"

namespace cairn::sim {

enum class OpKind { kRead, kWrite };
enum class OpOutcome { kOpen, kOk, kFail, kInfo };

struct Operation {
  uint64_t index = 0;
  int process = 0;
  OpKind kind = OpKind::kRead;
  std::string key;
  std::optional<std::string> value;  // written value, or read result (nullopt: nothing there)
  Instant invoked{};
  Instant completed = kInstantMax;  // kInstantMax while open or for info
  OpOutcome outcome = OpOutcome::kOpen;
  std::string error;
};

class History {
 public:
  uint64_t Invoke(int process, OpKind kind, std::string key, std::optional<std::string> value,
                  Instant at);
  void Complete(uint64_t index, OpOutcome outcome, std::optional<std::string> read_value,
                Instant at, std::string error = {});

  const std::vector<Operation>& operations() const { return ops_; }
  size_t count(OpOutcome outcome) const;

 private:
  std::vector<Operation> ops_;
};

const char* OutcomeName(OpOutcome outcome);

}  // namespace cairn::sim

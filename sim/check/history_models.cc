#include "sim/check/history_models.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_format.h"
#include "src/base/check.h"
#include "src/base/strings.h"

namespace cairn::sim {

const char* Model::name() const {
  switch (kind) {
    case ModelKind::kRegister: return "register";
    case ModelKind::kCasRegister: return "cas-register";
    case ModelKind::kKv: return "kv";
  }
  return "?";
}

bool Model::Supports(OpKind op) const {
  switch (op) {
    case OpKind::kRead:
    case OpKind::kWrite: return true;
    case OpKind::kCas: return kind == ModelKind::kCasRegister;
    case OpKind::kAppend: return kind == ModelKind::kKv;
  }
  return false;
}

std::optional<ModelState> Model::Step(const ModelState& state, const Operation& op) const {
  CAIRN_CHECK_MSG(Supports(op.kind), "the checker validates kinds before searching");
  switch (op.kind) {
    case OpKind::kRead:
      if (op.value != state) return std::nullopt;
      return state;
    case OpKind::kWrite: return op.value;
    case OpKind::kCas:
      if (op.expected != state) return std::nullopt;
      return op.value;
    case OpKind::kAppend: return state.value_or("") + op.value.value_or("");
  }
  CAIRN_UNREACHABLE("unknown OpKind");
}

std::string Model::ExplainRefusal(const ModelState& state, const Operation& op) const {
  switch (op.kind) {
    case OpKind::kRead:
      return absl::StrFormat("it read %s but the value was %s", DescribeState(op.value),
                             DescribeState(state));
    case OpKind::kCas:
      return absl::StrFormat("it expected %s but the value was %s", DescribeState(op.expected),
                             DescribeState(state));
    case OpKind::kWrite:
    case OpKind::kAppend: break;
  }
  return "it can always take effect";
}

absl::StatusOr<Model> ModelByName(std::string_view name) {
  for (Model m : {Model::Register(), Model::CasRegister(), Model::Kv()}) {
    if (name == m.name()) return m;
  }
  return absl::InvalidArgumentError(absl::StrFormat(
      "unknown model '%s': choose register, cas-register or kv", AbslView(name)));
}

std::string DescribeState(const ModelState& state) {
  return state ? absl::StrFormat("\"%s\"", absl::CHexEscape(*state)) : std::string("nothing");
}

}  // namespace cairn::sim

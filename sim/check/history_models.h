// The sequential specifications a history is checked against: what one key's value is, and what
// each operation may observe and do to it when operations take effect one at a time.
//
//  register      read, write.
//  cas-register  read, write, cas (replace the value only if it equals `expected`).
//  kv            read (get), write (put), append (add `value` to the end; nothing counts as "").
//
// Every model is per key: a key-value map is linearizable iff each key is (P-compositionality,
// Herlihy & Wing), so the checker splits a history by key and a model's state is one key's
// value. A state is a plain value: comparable and hashable, which is what memoizing the search
// needs.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "sim/check/history.h"

namespace cairn::sim {

// One key's value; nullopt while nothing was ever written.
using ModelState = std::optional<std::string>;

enum class ModelKind { kRegister, kCasRegister, kKv };

struct Model {
  ModelKind kind = ModelKind::kRegister;

  static Model Register() { return {ModelKind::kRegister}; }
  static Model CasRegister() { return {ModelKind::kCasRegister}; }
  static Model Kv() { return {ModelKind::kKv}; }

  const char* name() const;  // "register", "cas-register", "kv"
  bool Supports(OpKind op) const;
  ModelState Initial() const { return std::nullopt; }

  // The state after `op` takes effect in `state`, or nullopt if it cannot: a read that
  // returned something other than `state`, or a cas whose `expected` differs from it. `op`
  // must be an operation that took effect (a read only if it completed ok) of a supported
  // kind.
  std::optional<ModelState> Step(const ModelState& state, const Operation& op) const;

  // Why Step refused: "it read \"5\" but the value was \"3\"". Only for refused steps.
  std::string ExplainRefusal(const ModelState& state, const Operation& op) const;
};

// "register" | "cas-register" | "kv"; anything else is InvalidArgument naming the choices.
absl::StatusOr<Model> ModelByName(std::string_view name);

// A state for humans: "\"3\"" or "nothing".
std::string DescribeState(const ModelState& state);

}  // namespace cairn::sim

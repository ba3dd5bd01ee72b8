#include "sim/check/history_generator.h"

#include <algorithm>
#include <map>
#include <numeric>
#include <vector>

#include "absl/strings/str_cat.h"
#include "src/base/check.h"

namespace cairn::sim {
namespace {

struct Planned {
  int process = 0;
  OpKind kind = OpKind::kRead;
  std::string key;
  std::optional<std::string> value;
  std::optional<std::string> expected;
  Instant invoked{};
  Instant effect{};  // the linearization point, if it takes effect
  Instant completed{};
  OpOutcome outcome = OpOutcome::kOk;
  bool takes_effect = true;
};

OpKind DrawUpdate(const Model& model, Random& random) {
  switch (model.kind) {
    case ModelKind::kRegister: return OpKind::kWrite;
    case ModelKind::kCasRegister: return random.Chance(0.5) ? OpKind::kCas : OpKind::kWrite;
    case ModelKind::kKv: return random.Chance(0.5) ? OpKind::kAppend : OpKind::kWrite;
  }
  return OpKind::kWrite;
}

}  // namespace

History GenerateLinearizableHistory(const GeneratedHistoryOptions& options, Random& random) {
  CAIRN_CHECK(options.clients > 0 && options.keys > 0);
  CAIRN_CHECK(options.latency_max.count() > 0 && options.think_max.count() >= 0);
  const auto clients = static_cast<size_t>(options.clients);
  std::vector<Instant> free_at(clients);
  std::vector<int> process(clients);
  for (size_t c = 0; c < clients; ++c) {
    free_at[c] = InstantFromNanos(random.UniformRange(0, options.think_max.count()));
    process[c] = static_cast<int>(c);
  }

  // Intervals, in invocation order: the next operation is always the idle client's.
  std::vector<Planned> plan(options.operations);
  uint64_t next_value = 1;
  for (Planned& p : plan) {
    const size_t c = static_cast<size_t>(std::min_element(free_at.begin(), free_at.end()) - free_at.begin());
    p.process = process[c];
    p.key = absl::StrCat("k", random.Uniform(static_cast<uint64_t>(options.keys)));
    p.kind = random.Chance(options.read_fraction) ? OpKind::kRead : DrawUpdate(options.model, random);
    if (p.kind == OpKind::kAppend) p.value = absl::StrCat(next_value++, ",");
    if (p.kind == OpKind::kWrite || p.kind == OpKind::kCas) p.value = absl::StrCat(next_value++);
    const Duration latency(random.UniformRange(1, options.latency_max.count()));
    p.invoked = free_at[c];
    p.effect = p.invoked + Duration(random.UniformRange(0, latency.count()));
    p.completed = p.invoked + latency;
    if (random.Chance(options.info_fraction)) {
      p.outcome = OpOutcome::kInfo;
      p.takes_effect = p.kind != OpKind::kRead && random.Chance(0.5);
      process[c] += options.clients;  // a crashed client comes back as a new process
    } else if (random.Chance(options.fail_fraction)) {
      p.outcome = OpOutcome::kFail;
      p.takes_effect = false;
    }
    free_at[c] = p.completed + Duration(random.UniformRange(0, options.think_max.count()));
  }

  // Run the model in the order of the effects: that order is the linearization.
  std::vector<size_t> order(plan.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return plan[a].effect < plan[b].effect; });
  std::map<std::string, ModelState> state;
  std::map<std::string, std::vector<std::string>> written;  // per key, for cas expectations
  for (size_t i : order) {
    Planned& p = plan[i];
    ModelState& s = state[p.key];
    if (p.kind == OpKind::kCas) {
      // Expect the current value half the time, so both outcomes are common.
      const std::vector<std::string>& w = written[p.key];
      if (random.Chance(0.5) || w.empty()) {
        p.expected = s;
      } else {
        p.expected = w[random.Uniform(w.size())];
      }
      if (p.expected != s && p.outcome == OpOutcome::kOk) p.outcome = OpOutcome::kFail;
      if (p.expected != s) p.takes_effect = false;
    }
    if (p.kind == OpKind::kRead) {
      if (p.outcome == OpOutcome::kOk) p.value = s;
      continue;
    }
    if (!p.takes_effect) continue;
    std::optional<ModelState> after = options.model.Step(s, Operation{.kind = p.kind,
                                                                      .value = p.value,
                                                                      .expected = p.expected});
    CAIRN_CHECK(after.has_value());
    s = *std::move(after);
    if (p.kind != OpKind::kAppend) written[p.key].push_back(*p.value);
  }

  History history;
  for (Planned& p : plan) {
    const bool read = p.kind == OpKind::kRead;
    const uint64_t i = history.Invoke(p.process, p.kind, std::move(p.key),
                                      read ? std::nullopt : std::move(p.value), p.invoked,
                                      std::move(p.expected));
    history.Complete(i, p.outcome, read ? std::move(p.value) : std::nullopt, p.completed,
                     p.outcome == OpOutcome::kOk ? "" : "generated");
  }
  return history;
}

}  // namespace cairn::sim

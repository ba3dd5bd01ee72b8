#include "sim/harness/shrink.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace cairn::sim {

namespace {

class Shrinker {
 public:
  Shrinker(const ShrinkOptions& options, std::string check) : options_(options), check_(std::move(check)) {}

  bool Fails(const Tape& candidate) {
    if (runs_ >= options_.runs_max) return false;
    ++runs_;
    const std::vector<std::string> failed = RunScenario(candidate.ToScenario()).FailedChecks();
    return std::find(failed.begin(), failed.end(), check_) != failed.end();
  }

  // ddmin over `items` (a member of `tape` picked by `field`), keeping `tape` failing.
  template <typename T>
  void Minimize(Tape& tape, std::vector<T> Script::*field) {
    size_t n = 2;
    while ((tape.script.*field).size() >= 2 && runs_ < options_.runs_max) {
      const std::vector<T> items = tape.script.*field;
      const size_t chunk = (items.size() + n - 1) / n;
      bool reduced = false;
      for (size_t start = 0; start < items.size() && runs_ < options_.runs_max; start += chunk) {
        Tape candidate = tape;
        std::vector<T>& kept = candidate.script.*field;
        kept.clear();
        for (size_t i = 0; i < items.size(); ++i) {
          if (i < start || i >= start + chunk) kept.push_back(items[i]);
        }
        if (Fails(candidate)) {
          tape = std::move(candidate);
          n = std::max<size_t>(n - 1, 2);
          reduced = true;
          break;
        }
      }
      if (!reduced) {
        if (n >= items.size()) break;
        n = std::min(n * 2, items.size());
      }
    }
    // A last try with none at all.
    if (!(tape.script.*field).empty() && runs_ < options_.runs_max) {
      Tape candidate = tape;
      (candidate.script.*field).clear();
      if (Fails(candidate)) tape = std::move(candidate);
    }
  }

  // Drops everything from `end` on and ends the chaos there.
  static Tape CutAt(const Tape& tape, Instant end) {
    // Whole milliseconds: a tape stores its phases in milliseconds.
    end = InstantFromNanos((ToNanos(end) + 999'999) / 1'000'000 * 1'000'000);
    Tape t = tape;
    t.scenario.chaos = end.time_since_epoch();
    std::erase_if(t.script.faults, [&](const fault::FaultAction& a) { return a.at >= end; });
    std::erase_if(t.script.ops, [&](const ScriptedOp& op) { return op.at >= end; });
    return t;
  }

  size_t runs() const { return runs_; }

 private:
  const ShrinkOptions& options_;
  std::string check_;
  size_t runs_ = 0;
};

}  // namespace

absl::StatusOr<ShrinkResult> Shrink(const Tape& failing, const ShrinkOptions& options) {
  const RunResult original = RunScenario(failing.ToScenario());
  const std::vector<std::string> failed = original.FailedChecks();
  if (failed.empty()) {
    return absl::FailedPreconditionError("the tape does not fail: nothing to shrink");
  }
  ShrinkResult result;
  result.check = failed.front();
  result.faults_before = failing.script.faults.size();
  result.ops_before = failing.script.ops.size();
  result.chaos_before = failing.scenario.chaos;
  auto say = [&](const std::string& line) {
    if (options.progress) options.progress(line);
  };
  Shrinker shrinker(options, result.check);
  Tape tape = failing;
  auto status = [&](const char* pass) {
    say(absl::StrCat(pass, ": ", tape.script.faults.size(), " faults, ", tape.script.ops.size(),
                     " operations, ", FormatDuration(tape.scenario.chaos), " of chaos (", shrinker.runs(),
                     " runs)"));
  };
  status("start");

  // 1. Time: first, cut right after the earliest violation was witnessed; then the shortest
  // chaos phase that still fails (binary search, 10 ms resolution).
  for (const CheckResult& c : original.checks) {
    if (c.name != result.check || c.first_witnessed == kInstantMax) continue;
    const Instant cut = c.first_witnessed + std::chrono::milliseconds(1);
    if (cut.time_since_epoch() >= std::chrono::milliseconds(100) && cut.time_since_epoch() < tape.scenario.chaos) {
      Tape candidate = Shrinker::CutAt(tape, cut);
      if (shrinker.Fails(candidate)) tape = std::move(candidate);
    }
  }
  int64_t lo = 0, hi = ToNanos(InstantFromNanos(0) + tape.scenario.chaos);
  while (hi - lo > 10'000'000) {
    const int64_t mid = lo + (hi - lo) / 2;
    Tape candidate = Shrinker::CutAt(tape, InstantFromNanos(mid));
    if (candidate.scenario.chaos < std::chrono::milliseconds(100)) {
      lo = mid;
      continue;
    }
    if (shrinker.Fails(candidate)) {
      hi = mid;
      tape = std::move(candidate);
    } else {
      lo = mid;
    }
  }
  status("time");
  // 2. Faults, 3. operations; again while a round makes progress (fewer operations can make
  // faults unnecessary, and the other way round).
  for (int round = 0; round < 4; ++round) {
    const size_t before = tape.script.faults.size() + tape.script.ops.size();
    shrinker.Minimize(tape, &Script::faults);
    status("faults");
    // Whole keys and whole clients first (a violation is usually about one key), then ddmin.
    for (const auto& [name, same] : std::vector<std::pair<const char*, std::function<bool(const ScriptedOp&, const ScriptedOp&)>>>{
             {"keys", [](const ScriptedOp& a, const ScriptedOp& b) { return a.key == b.key; }},
             {"clients", [](const ScriptedOp& a, const ScriptedOp& b) { return a.client == b.client; }}}) {
      for (size_t i = 0; i < tape.script.ops.size();) {
        const ScriptedOp group = tape.script.ops[i];
        Tape candidate = tape;
        std::erase_if(candidate.script.ops, [&](const ScriptedOp& op) { return same(op, group); });
        if (shrinker.Fails(candidate)) {
          tape = std::move(candidate);
          continue;  // the op at i is now a different one
        }
        // Skip the rest of this group.
        while (i < tape.script.ops.size() && same(tape.script.ops[i], group)) ++i;
        while (i < tape.script.ops.size()) {
          bool seen = false;
          for (size_t j = 0; j < i && !seen; ++j) seen = same(tape.script.ops[j], tape.script.ops[i]);
          if (!seen) break;
          ++i;
        }
      }
      status(name);
    }
    shrinker.Minimize(tape, &Script::ops);
    status("operations");
    if (tape.script.faults.size() + tape.script.ops.size() == before) break;
  }
  // 4. The shortest healed phase the checks allow.
  if (tape.scenario.heal > std::chrono::seconds(2)) {
    Tape candidate = tape;
    candidate.scenario.heal = std::chrono::seconds(2);
    if (shrinker.Fails(candidate)) tape = std::move(candidate);
  }
  status("healing");

  result.tape = std::move(tape);
  result.runs = shrinker.runs() + 1;
  result.faults_after = result.tape.script.faults.size();
  result.ops_after = result.tape.script.ops.size();
  result.chaos_after = result.tape.scenario.chaos;
  return result;
}

}  // namespace cairn::sim

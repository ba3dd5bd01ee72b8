// cairn check FILE --model M: is a history linearizable? And cairn check convert IN OUT: move a
// history between Cairn's format and Jepsen's EDN (sim/history_format.h has both formats).
//
// Exit codes: 0 linearizable, 1 not linearizable, 2 unknown (the search ran out of steps or
// time), 3 the file could not be read, is malformed, or does not fit the model.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "sim/check/edn.h"
#include "sim/check/history_format.h"
#include "sim/check/linearizability.h"
#include "tools/commands.h"

namespace cairn::tools {
namespace {

constexpr int kExitLinearizable = 0;
constexpr int kExitNotLinearizable = 1;
constexpr int kExitUnknown = 2;
constexpr int kExitBadInput = 3;

int Fail(const std::string& message) {
  std::fprintf(stderr, "cairn check: %s\n", message.c_str());
  return kExitBadInput;
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrFormat("cannot open '%s'", path));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return absl::DataLossError(absl::StrFormat("cannot read '%s'", path));
  return text.str();
}

std::optional<sim::HistoryFormat> FormatByName(const std::string& name) {
  if (name == "cairn") return sim::HistoryFormat::kCairn;
  if (name == "edn") return sim::HistoryFormat::kEdn;
  return std::nullopt;  // auto
}

absl::StatusOr<sim::History> ReadHistory(const std::string& path, const std::string& format) {
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) return text.status();
  absl::StatusOr<sim::History> history = sim::ParseHistory(*text, FormatByName(format));
  if (!history.ok()) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: %s", path, std::string(history.status().message())));
  }
  return history;
}

// A JSON string literal: EDN's string syntax is JSON's, escapes included.
std::string JsonString(const std::string& s) { return sim::EdnString(s); }

struct CheckFlags {
  std::string file;
  std::string model;
  std::string format = "auto";
  uint64_t steps_max = sim::CheckOptions{}.search_steps_max;
  double timeout_s = 0;
  bool json = false;
};

int RunCheck(const CheckFlags& f) {
  if (f.file.empty()) return Fail("name a history file: cairn check FILE --model MODEL");
  if (f.model.empty()) return Fail("choose a model: --model register|cas-register|kv");
  absl::StatusOr<sim::Model> model = sim::ModelByName(f.model);
  if (!model.ok()) return Fail(std::string(model.status().message()));
  absl::StatusOr<sim::History> history = ReadHistory(f.file, f.format);
  if (!history.ok()) return Fail(std::string(history.status().message()));

  sim::CheckOptions options;
  options.search_steps_max = f.steps_max;
  const auto start = std::chrono::steady_clock::now();
  if (f.timeout_s > 0) {
    const auto deadline = start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                      std::chrono::duration<double>(f.timeout_s));
    options.should_stop = [deadline] { return std::chrono::steady_clock::now() >= deadline; };
  }
  absl::StatusOr<sim::LinearizabilityResult> r =
      sim::CheckLinearizability(*history, *model, options);
  if (!r.ok()) return Fail(absl::StrFormat("%s: %s", f.file, std::string(r.status().message())));
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  if (f.json) {
    absl::PrintF(
        "{\"verdict\": %s, \"model\": %s, \"operations\": %d, \"operations_checked\": %d, "
        "\"keys_checked\": %d, \"steps\": %d, \"seconds\": %.6f, \"key\": %s, "
        "\"longest_prefix\": [%s], \"involved\": [%s], \"explanation\": %s}\n",
        JsonString(sim::VerdictName(r->verdict)), JsonString(model->name()),
        history->operations().size(), r->operations_checked, r->keys_checked, r->steps, seconds,
        JsonString(r->key), absl::StrJoin(r->longest_prefix, ", "),
        absl::StrJoin(r->involved, ", "), JsonString(r->explanation));
  } else {
    absl::PrintF("%s: %d operations (%d checked, on %d keys), %s model, %d search steps, %.3fs\n",
                sim::VerdictName(r->verdict), history->operations().size(), r->operations_checked,
                r->keys_checked, model->name(), r->steps, seconds);
    if (!r->explanation.empty()) absl::PrintF("%s\n", r->explanation);
  }
  switch (r->verdict) {
    case sim::Verdict::kLinearizable: return kExitLinearizable;
    case sim::Verdict::kNotLinearizable: return kExitNotLinearizable;
    case sim::Verdict::kUnknown: return kExitUnknown;
  }
  return kExitUnknown;
}

struct ConvertFlags {
  std::string in;
  std::string out;
  std::string from = "auto";
  std::string to;
};

int RunConvert(const ConvertFlags& f) {
  absl::StatusOr<sim::History> history = ReadHistory(f.in, f.from);
  if (!history.ok()) return Fail(std::string(history.status().message()));
  std::string text;
  if (f.to == "edn") {
    absl::StatusOr<std::string> edn = sim::FormatEdnHistory(*history);
    if (!edn.ok()) return Fail(absl::StrFormat("%s: %s", f.in, std::string(edn.status().message())));
    text = *std::move(edn);
  } else {
    text = sim::FormatCairnHistory(*history);
  }
  std::ofstream out(f.out, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) return Fail(absl::StrFormat("cannot write '%s'", f.out));
  std::printf("wrote %zu operations to %s (%s)\n", history->operations().size(), f.out.c_str(),
              f.to.c_str());
  return 0;
}

}  // namespace

void AddCheckCommand(CLI::App& app, Action& action) {
  auto flags = std::make_shared<CheckFlags>();
  CLI::App* check = app.add_subcommand(
      "check",
      "Check that a history (Cairn's format or Jepsen's EDN) is linearizable.\n"
      "Exit 0 linearizable, 1 not, 2 unknown (out of steps or time), 3 unreadable or malformed.");
  check->add_option("file", flags->file, "The history file");
  check->add_option("--model", flags->model, "What the history ran against")
      ->check(CLI::IsMember({"register", "cas-register", "kv"}));
  check->add_option("--format", flags->format, "The file's format")
      ->check(CLI::IsMember({"auto", "cairn", "edn"}))
      ->capture_default_str();
  check->add_option("--steps-max", flags->steps_max, "Search steps before giving up (unknown)")
      ->capture_default_str();
  check->add_option("--timeout-s", flags->timeout_s,
                    "Wall-clock seconds before giving up (unknown); 0: no limit")
      ->capture_default_str();
  check->add_flag("--json", flags->json, "Print the result as one JSON object");

  auto convert_flags = std::make_shared<ConvertFlags>();
  CLI::App* convert = check->add_subcommand(
      "convert", "Rewrite a history in the other format (sim/history_format.h describes both)");
  convert->add_option("in", convert_flags->in, "The history to read")->required();
  convert->add_option("out", convert_flags->out, "The file to write")->required();
  convert->add_option("--from", convert_flags->from, "IN's format")
      ->check(CLI::IsMember({"auto", "cairn", "edn"}))
      ->capture_default_str();
  convert->add_option("--to", convert_flags->to, "OUT's format")
      ->check(CLI::IsMember({"edn", "cairn"}))
      ->required();
  convert->callback([&action, convert_flags] {
    action = [convert_flags] { return RunConvert(*convert_flags); };
  });
  check->callback([&action, check, convert, flags] {
    if (check->got_subcommand(convert)) return;
    action = [flags] { return RunCheck(*flags); };
  });
}

}  // namespace cairn::tools

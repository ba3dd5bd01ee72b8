// cairn check FILE --model M: is a history linearizable, key by key? And cairn check convert IN
// OUT: move a history between Cairn's format and Jepsen's EDN, or out of a Jepsen log
// (sim/check/history_format.h has the formats).
//
// Exit codes (tools/cli.h): 0 linearizable, 1 not linearizable (some key is not), 4 undecided (no key is
// known not to be, and some key's search ran out of steps or time), 3 the file could not be
// read, is malformed, or does not fit the model.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "sim/check/edn.h"
#include "sim/check/history_format.h"
#include "sim/check/linearizability.h"
#include "tools/cli.h"
#include "tools/commands.h"

namespace cairn::tools {
namespace {

// The exit codes of tools/cli.h, by what they mean here.
constexpr int kExitLinearizable = kExitOk;
constexpr int kExitNotLinearizable = kExitNegative;
constexpr int kExitUnknown = kExitUndecided;
constexpr int kExitBadInput = kExitUnreadable;

// Linearizable keys named in the text report, at most; the rest are counted.
constexpr size_t kListedKeysMax = 20;

const std::vector<std::string> kFormatNames = {"auto", "cairn", "edn", "jepsen-log"};

int Fail(const std::string& message) { return tools::Fail(kExitBadInput, "check", message); }

std::optional<sim::HistoryFormat> FormatByName(const std::string& name) {
  for (sim::HistoryFormat f : {sim::HistoryFormat::kCairn, sim::HistoryFormat::kEdn,
                               sim::HistoryFormat::kJepsenLog}) {
    if (name == sim::HistoryFormatName(f)) return f;
  }
  return std::nullopt;  // auto
}

absl::StatusOr<sim::History> ReadHistory(const std::string& path, const std::string& format,
                                         const std::vector<std::string>& ignored_fields) {
  absl::StatusOr<std::string> text = ReadWholeFile(path);
  if (!text.ok()) return text.status();
  sim::HistoryParseOptions options;
  options.format = FormatByName(format);
  options.jepsen.ignored_fields = ignored_fields;
  absl::StatusOr<sim::History> history = sim::ParseHistory(*text, options);
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
  std::vector<std::string> ignored_fields;
  uint64_t steps_max = sim::CheckOptions{}.search_steps_max;
  uint64_t key_steps_max = 0;
  double timeout_s = 0;
  bool json = false;
};

std::string KeyName(const std::string& key) {
  return absl::StrFormat("\"%s\"", absl::CHexEscape(key));
}

std::string Indented(const std::string& text) {
  std::string out;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    absl::StrAppend(&out, "  ", line, "\n");
  }
  return out;
}

// The text report: a summary line, then every key not linearizable and every undecided one
// with its explanation, then the linearizable keys by name (the first kListedKeysMax).
void PrintReport(const sim::LinearizabilityResult& r, size_t operations, const sim::Model& model,
                 double seconds) {
  absl::PrintF("%s: %d operations (%d checked), %s model; %d %s: %d linearizable, %d not "
               "linearizable, %d unknown; %d search steps, %.3fs\n",
               sim::VerdictName(r.verdict), operations, r.operations_checked, model.name(),
               r.keys.size(), r.keys.size() == 1 ? "key" : "keys",
               r.count(sim::Verdict::kLinearizable),
               r.count(sim::Verdict::kNotLinearizable), r.count(sim::Verdict::kUnknown), r.steps,
               seconds);
  for (sim::Verdict v : {sim::Verdict::kNotLinearizable, sim::Verdict::kUnknown}) {
    for (const sim::KeyResult& k : r.keys) {
      if (k.verdict != v) continue;
      absl::PrintF("\nkey %s: %s (%d operations, %d search steps)\n%s", KeyName(k.key),
                   sim::VerdictName(v), k.operations, k.steps, Indented(k.explanation));
    }
  }
  std::vector<std::string> fine;
  for (const sim::KeyResult& k : r.keys) {
    if (k.verdict == sim::Verdict::kLinearizable) fine.push_back(KeyName(k.key));
  }
  if (fine.empty() || fine.size() == r.keys.size()) return;  // nothing to tell them apart from
  const size_t more = fine.size() > kListedKeysMax ? fine.size() - kListedKeysMax : 0;
  fine.resize(fine.size() - more);
  absl::PrintF("\nlinearizable keys: %s%s\n", absl::StrJoin(fine, ", "),
               more > 0 ? absl::StrFormat(" and %d more", more) : std::string());
}

void PrintJson(const sim::LinearizabilityResult& r, size_t operations, const sim::Model& model,
               double seconds) {
  std::vector<std::string> keys;
  for (const sim::KeyResult& k : r.keys) {
    keys.push_back(absl::StrFormat(
        "{\"key\": %s, \"verdict\": %s, \"operations\": %d, \"steps\": %d, \"searches\": %d, "
        "\"longest_prefix\": [%s], \"involved\": [%s], \"explanation\": %s}",
        JsonString(k.key), JsonString(sim::VerdictName(k.verdict)), k.operations, k.steps,
        k.searches, absl::StrJoin(k.longest_prefix, ", "), absl::StrJoin(k.involved, ", "),
        JsonString(k.explanation)));
  }
  absl::PrintF(
      "{\"verdict\": %s, \"model\": %s, \"operations\": %d, \"operations_checked\": %d, "
      "\"keys_checked\": %d, \"steps\": %d, \"seconds\": %.6f, \"key\": %s, "
      "\"longest_prefix\": [%s], \"involved\": [%s], \"explanation\": %s, \"keys\": [%s]}\n",
      JsonString(sim::VerdictName(r.verdict)), JsonString(model.name()), operations,
      r.operations_checked, r.keys_checked, r.steps, seconds, JsonString(r.key),
      absl::StrJoin(r.longest_prefix, ", "), absl::StrJoin(r.involved, ", "),
      JsonString(r.explanation), absl::StrJoin(keys, ", "));
}

int RunCheck(const CheckFlags& f) {
  if (f.file.empty()) return Fail("name a history file: cairn check FILE --model MODEL");
  if (f.model.empty()) return Fail("choose a model: --model register|cas-register|kv");
  absl::StatusOr<sim::Model> model = sim::ModelByName(f.model);
  if (!model.ok()) return Fail(std::string(model.status().message()));
  absl::StatusOr<sim::History> history = ReadHistory(f.file, f.format, f.ignored_fields);
  if (!history.ok()) return Fail(std::string(history.status().message()));

  sim::CheckOptions options;
  options.search_steps_max = f.steps_max;
  options.key_search_steps_max = f.key_steps_max;
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
    PrintJson(*r, history->operations().size(), *model, seconds);
  } else {
    PrintReport(*r, history->operations().size(), *model, seconds);
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
  std::vector<std::string> ignored_fields;
};

int RunConvert(const ConvertFlags& f) {
  absl::StatusOr<sim::History> history = ReadHistory(f.in, f.from, f.ignored_fields);
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
      "Check that a history is linearizable, key by key. FILE is Cairn's format, Jepsen's or\n"
      "Knossos's EDN (maps one after another, or in one vector or list; :key or\n"
      "jepsen.independent [k v] tuples give keys), or a Jepsen log (its jepsen.util lines:\n"
      "'INFO  jepsen.util - 0<TAB>:invoke<TAB>:read<TAB>nil'); --format auto tells them apart.\n"
      "Keys share the step budget in rounds, easy keys first, so one hard key does not hide\n"
      "a violation on another; the report gives every key's verdict.\n"
      "Exit 0 linearizable, 1 not, 4 undecided (out of steps or time), 3 unreadable or malformed, 2 bad usage.");
  check->add_option("file", flags->file, "The history file");
  check->add_option("--model", flags->model, "What the history ran against")
      ->check(CLI::IsMember({"register", "cas-register", "kv"}));
  check->add_option("--format", flags->format,
                    "The file's format: cairn, edn (Jepsen's history.edn, Knossos), jepsen-log "
                    "(the jepsen.util lines of a Jepsen log), or auto")
      ->check(CLI::IsMember(kFormatNames))
      ->capture_default_str();
  check->add_option("--ignore-field", flags->ignored_fields,
                    "An EDN event field to ignore (repeatable). Fields Cairn does not read are "
                    "refused, in case they change what an operation did")
      ->allow_extra_args(false);  // one name each time, so a file name is never taken for one
  check->add_option("--steps-max", flags->steps_max,
                    "Search steps over all keys before giving up (unknown)")
      ->capture_default_str();
  check->add_option("--key-steps-max", flags->key_steps_max,
                    "Search steps one search of one key may take; 0: only --steps-max limits it")
      ->capture_default_str();
  check->add_option("--timeout-s", flags->timeout_s,
                    "Wall-clock seconds before giving up (unknown); 0: no limit")
      ->capture_default_str();
  check->add_flag("--json", flags->json,
                  "Print the result as one JSON object (every key's verdict in \"keys\")");

  auto convert_flags = std::make_shared<ConvertFlags>();
  CLI::App* convert = check->add_subcommand(
      "convert", "Rewrite a history in another format (sim/check/history_format.h describes them)");
  convert->add_option("in", convert_flags->in, "The history to read")->required();
  convert->add_option("out", convert_flags->out, "The file to write")->required();
  convert->add_option("--from", convert_flags->from, "IN's format")
      ->check(CLI::IsMember(kFormatNames))
      ->capture_default_str();
  convert->add_option("--to", convert_flags->to, "OUT's format")
      ->check(CLI::IsMember({"edn", "cairn"}))
      ->required();
  convert->add_option("--ignore-field", convert_flags->ignored_fields,
                      "An EDN event field to ignore (repeatable)")
      ->allow_extra_args(false);  // one name each time, so a file name is never taken for one
  convert->callback([&action, convert_flags] {
    action = [convert_flags] { return RunConvert(*convert_flags); };
  });
  check->callback([&action, check, convert, flags] {
    if (check->got_subcommand(convert)) return;
    action = [flags] { return RunCheck(*flags); };
  });
}

}  // namespace cairn::tools

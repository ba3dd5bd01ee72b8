// cairn trace show | diff: read traces written by `cairn sim run --trace`.
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "sim/core/trace.h"
#include "src/runtime/knobs.h"
#include "tools/commands.h"

namespace cairn::tools {
namespace {

absl::StatusOr<std::vector<sim::TraceRecord>> ReadTrace(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrFormat("cannot open trace file '%s'", path));
  std::vector<sim::TraceRecord> records;
  std::string line;
  size_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty()) continue;
    absl::StatusOr<sim::TraceRecord> r = sim::Trace::ParseRecord(line);
    if (!r.ok()) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s:%d: %s", path, line_no, r.status().message()));
    }
    records.push_back(*std::move(r));
  }
  return records;
}

std::string Show(const sim::TraceRecord& r) {
  return absl::StrFormat("#%-9d %14.6fs  %-6s %-16s detail=%016x hash=%016x", r.index,
                         static_cast<double>(r.at_ns) / 1e9,
                         r.node == kNoNode ? std::string("world") : absl::StrCat("n", r.node), r.what,
                         r.detail, r.hash_after);
}

}  // namespace

void AddTraceCommands(CLI::App& app, Action& action) {
  CLI::App* trace = app.add_subcommand("trace", "Inspect and compare simulation traces");
  trace->require_subcommand(1);

  auto show_path = std::make_shared<std::string>();
  auto from = std::make_shared<size_t>(0);
  auto limit = std::make_shared<size_t>(200);
  CLI::App* show = trace->add_subcommand("show", "Print a trace's events, readable");
  show->add_option("file", *show_path, "A trace written by `cairn sim run --trace FILE`")->required();
  show->add_option("--from", *from, "First event index to print")->capture_default_str();
  show->add_option("--limit", *limit, "Most events to print")->capture_default_str();
  show->callback([&action, show_path, from, limit] {
    action = [=] {
      absl::StatusOr<std::vector<sim::TraceRecord>> t = ReadTrace(*show_path);
      if (!t.ok()) {
        std::fprintf(stderr, "%s\n", std::string(t.status().message()).c_str());
        return 2;
      }
      size_t shown = 0;
      for (const sim::TraceRecord& r : *t) {
        if (r.index < *from) continue;
        if (shown++ == *limit) break;
        std::printf("%s\n", Show(r).c_str());
      }
      std::printf("(%zu events in file)\n", t->size());
      return 0;
    };
  });

  auto a_path = std::make_shared<std::string>();
  auto b_path = std::make_shared<std::string>();
  CLI::App* diff = trace->add_subcommand(
      "diff", "Name the first event where two traces of one seed diverge. Exit 0 same, 1 differ.");
  diff->add_option("a", *a_path, "First trace")->required();
  diff->add_option("b", *b_path, "Second trace")->required();
  diff->callback([&action, a_path, b_path] {
    action = [=] {
      auto a = ReadTrace(*a_path);
      auto b = ReadTrace(*b_path);
      if (!a.ok() || !b.ok()) {
        std::fprintf(stderr, "%s\n", std::string((!a.ok() ? a.status() : b.status()).message()).c_str());
        return 2;
      }
      const size_t n = std::min(a->size(), b->size());
      for (size_t i = 0; i < n; ++i) {
        const sim::TraceRecord& x = (*a)[i];
        const sim::TraceRecord& y = (*b)[i];
        if (x.hash_after != y.hash_after || x.what != y.what || x.at_ns != y.at_ns) {
          std::printf("first divergent event: #%zu\n  %s: %s\n  %s: %s\n", i, a_path->c_str(),
                      Show(x).c_str(), b_path->c_str(), Show(y).c_str());
          if (i > 0) std::printf("  last common event: %s\n", Show((*a)[i - 1]).c_str());
          return 1;
        }
      }
      if (a->size() != b->size()) {
        std::printf("traces agree on %zu events; then %s ends (%zu vs %zu events)\n", n,
                    a->size() < b->size() ? a_path->c_str() : b_path->c_str(), a->size(), b->size());
        return 1;
      }
      std::printf("identical: %zu events\n", n);
      return 0;
    };
  });
}

void AddKnobsCommand(CLI::App& app, Action& action) {
  CLI::App* knobs = app.add_subcommand(
      "knobs", "List every knob: default, the range simulations draw from, and what it tunes");
  knobs->callback([&action] {
    action = [] {
      std::printf("%s", Knobs::DescribeAll().c_str());
      return 0;
    };
  });
}

}  // namespace cairn::tools

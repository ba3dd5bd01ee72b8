#include "sim/check/jepsen_log.h"

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "sim/check/edn.h"
#include "sim/check/input_excerpt.h"
#include "src/base/strings.h"

namespace cairn::sim {
namespace {

constexpr std::string_view kLogger = "jepsen.util";

bool IsBlank(char c) { return c == ' ' || c == '\t'; }

// A character that could continue a logger's name: "xjepsen.util" and "jepsen.util$fn" (a
// stack trace) are not the logger.
bool IsNameChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '$' ||
         c == '-';
}

// Where the text after the logger's name begins, or npos if `line` is not jepsen.util's.
size_t AfterLogger(std::string_view line) {
  for (size_t at = line.find(kLogger); at != std::string_view::npos;
       at = line.find(kLogger, at + 1)) {
    if (at > 0 && IsNameChar(line[at - 1])) continue;
    size_t i = at + kLogger.size();
    if (i < line.size() && line[i] == ':') ++i;  // "jepsen.util: 0 ..."
    if (i >= line.size() || !IsBlank(line[i])) continue;
    while (i < line.size() && IsBlank(line[i])) ++i;
    // "jepsen.util - 0 ...", but not "jepsen.util -1 ..." (a process cannot be negative, but
    // say so where it is read rather than here).
    if (i + 1 < line.size() && line[i] == '-' && IsBlank(line[i + 1])) {
      ++i;
      while (i < line.size() && IsBlank(line[i])) ++i;
    }
    return i;
  }
  return std::string_view::npos;
}

void SetLine(EdnValue& v, int line) {
  v.line = line;
  for (EdnValue& item : v.items) SetLine(item, line);
}

EdnValue Keyword(std::string_view name, int line) {
  EdnValue k;
  k.type = EdnValue::Type::kKeyword;
  k.text = std::string(name);
  k.line = line;
  return k;
}

// The event map an operation line stands for; nullopt if the line is not an operation (of
// jepsen.util's, or at all).
absl::StatusOr<std::optional<EdnValue>> ReadOperationLine(std::string_view line, int line_no) {
  const size_t start = AfterLogger(line);
  if (start == std::string_view::npos) return std::optional<EdnValue>();
  const std::string_view rest = line.substr(start);
  EdnReader reader(rest);
  // PROCESS TYPE: if these do not read as a process and an event type, the line is some other
  // message of jepsen.util's.
  absl::StatusOr<std::optional<EdnValue>> process = reader.Next();
  if (!process.ok() || !process->has_value() ||
      !((*process)->is(EdnValue::Type::kInteger) || (*process)->is(EdnValue::Type::kKeyword))) {
    return std::optional<EdnValue>();
  }
  absl::StatusOr<std::optional<EdnValue>> type = reader.Next();
  if (!type.ok() || !type->has_value() || !(*type)->is(EdnValue::Type::kKeyword)) {
    return std::optional<EdnValue>();
  }
  const std::string& t = (*type)->text;
  if (t != "invoke" && t != "ok" && t != "fail" && t != "info") return std::optional<EdnValue>();

  EdnValue event;
  event.type = EdnValue::Type::kMap;
  event.line = line_no;
  auto add = [&](std::string_view name, EdnValue v) {
    SetLine(v, line_no);
    event.items.push_back(Keyword(name, line_no));
    event.items.push_back(std::move(v));
  };
  add("process", **std::move(process));
  add("type", **std::move(type));
  for (std::string_view field : {"f", "value"}) {
    absl::StatusOr<std::optional<EdnValue>> v = reader.Next();
    if (!v.ok()) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "line %d: the operation's %s is not EDN (%s): %s", line_no, AbslView(field),
          absl::StripPrefix(v.status().message(), "line 1: "), InputExcerpt(line)));
    }
    if (!v->has_value()) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "line %d: the operation has no %s (a jepsen.util line is PROCESS TYPE F VALUE): %s",
          line_no, AbslView(field), InputExcerpt(line)));
    }
    add(field, **std::move(v));
  }
  const std::string_view error =
      StdView(absl::StripAsciiWhitespace(AbslView(rest.substr(reader.position()))));
  if (!error.empty()) {
    EdnValue e;
    e.type = EdnValue::Type::kString;
    e.text = std::string(error);
    add("error", std::move(e));
  }
  return std::optional<EdnValue>(std::move(event));
}

std::vector<std::string_view> Lines(std::string_view text) {
  std::vector<std::string_view> lines;
  for (absl::string_view line : absl::StrSplit(AbslView(text), '\n')) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(StdView(line));
  }
  return lines;
}

}  // namespace

bool HasJepsenLogOperation(std::string_view text) {
  int line_no = 0;
  for (std::string_view line : Lines(text)) {
    ++line_no;
    if (line.find(kLogger) == std::string_view::npos) continue;
    absl::StatusOr<std::optional<EdnValue>> event = ReadOperationLine(line, line_no);
    // A malformed operation line still says the text is a Jepsen log: reading it as one then
    // names what is wrong with that line.
    if (!event.ok() || event->has_value()) return true;
  }
  return false;
}

absl::StatusOr<History> ParseJepsenLogHistory(std::string_view text,
                                              const JepsenEventOptions& options) {
  std::vector<JepsenEvent> events;
  int line_no = 0;
  bool any_operation = false;
  for (std::string_view line : Lines(text)) {
    ++line_no;
    absl::StatusOr<std::optional<EdnValue>> map = ReadOperationLine(line, line_no);
    if (!map.ok()) return map.status();
    if (!map->has_value()) continue;
    any_operation = true;
    absl::StatusOr<std::optional<JepsenEvent>> e = ParseJepsenEvent(**map, options);
    if (!e.ok()) return e.status();
    if (e->has_value()) events.push_back(**std::move(e));
  }
  if (!any_operation) {
    return absl::InvalidArgumentError(
        "no jepsen.util operation line found (after the logger's name jepsen.util: PROCESS "
        "TYPE F VALUE, separated by tabs, as in 'INFO  jepsen.util - 0\\t:invoke\\t:read\\tnil')");
  }
  return HistoryFromJepsenEvents(std::move(events));
}

}  // namespace cairn::sim

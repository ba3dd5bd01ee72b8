// A small reader and printer for EDN (https://github.com/edn-format/edn), the notation Jepsen
// writes histories in. It reads what histories use: nil, booleans, integers, floats, strings,
// characters, keywords, symbols, vectors, lists, maps and sets; `;` comments, `#_` discards,
// and tagged elements (`#jepsen.history.Op{...}` reads as the map; the tag is dropped).
//
// Numbers are kept as their text (an integer's digits, without a trailing N or a leading +),
// so no value is rounded. Nesting is limited to kEdnDepthMax levels.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace cairn::sim {

inline constexpr int kEdnDepthMax = 64;

struct EdnValue {
  enum class Type { kNil, kBool, kInteger, kFloat, kString, kChar, kKeyword, kSymbol, kVector,
                    kList, kMap, kSet };
  Type type = Type::kNil;
  // kBool "true"/"false"; kInteger/kFloat the number; kString the decoded contents; kChar the
  // character (UTF-8); kKeyword the name without ':'; kSymbol the name.
  std::string text;
  // kVector, kList, kSet: the elements. kMap: key, value, key, value, ...
  std::vector<EdnValue> items;
  int line = 0;  // 1-based line where the value starts

  bool is(Type t) const { return type == t; }
  bool IsKeyword(std::string_view name) const { return type == Type::kKeyword && text == name; }
  // For a map: the value under keyword `:name`, or nullptr.
  const EdnValue* Find(std::string_view keyword) const;
};

// Reads top-level values one after another.
class EdnReader {
 public:
  explicit EdnReader(std::string_view text) : text_(text) {}

  // The next top-level value; nullopt at the end of the text. InvalidArgument (naming the line)
  // for text that is not EDN.
  absl::StatusOr<std::optional<EdnValue>> Next();

  // The byte offset just past the last value read: where the unread rest of the text begins.
  size_t position() const { return pos_; }

 private:
  absl::StatusOr<EdnValue> Read(int depth);
  absl::Status ReadCollection(char close, int depth, EdnValue& into);
  absl::StatusOr<std::string> ReadString();
  absl::StatusOr<EdnValue> ReadToken();
  void SkipWhitespace();
  absl::Status Error(std::string_view what) const;

  std::string_view text_;
  size_t pos_ = 0;
  int line_ = 1;
};

// A string as an EDN string literal, quoted and escaped.
std::string EdnString(std::string_view s);

}  // namespace cairn::sim

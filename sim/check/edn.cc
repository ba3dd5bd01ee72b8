#include "sim/check/edn.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "sim/check/input_excerpt.h"
#include "src/base/strings.h"

namespace cairn::sim {
namespace {

bool IsWhitespace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ','; }

bool IsDelimiter(char c) {
  return IsWhitespace(c) || c == '(' || c == ')' || c == '[' || c == ']' || c == '{' ||
         c == '}' || c == '"' || c == ';';
}

void AppendUtf8(uint32_t cp, std::string& out) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

bool ParseHex4(std::string_view s, uint32_t* out) {
  if (s.size() < 4) return false;
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) {
    const char c = s[i];
    v <<= 4;
    if (c >= '0' && c <= '9') v |= static_cast<uint32_t>(c - '0');
    else if (c >= 'a' && c <= 'f') v |= static_cast<uint32_t>(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') v |= static_cast<uint32_t>(c - 'A' + 10);
    else return false;
  }
  *out = v;
  return true;
}

bool IsInteger(std::string_view t) {
  size_t i = (t[0] == '+' || t[0] == '-') ? 1 : 0;
  if (!t.empty() && t.back() == 'N') t.remove_suffix(1);
  if (i >= t.size()) return false;
  for (; i < t.size(); ++i) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(t[i]))) return false;
  }
  return true;
}

}  // namespace

const EdnValue* EdnValue::Find(std::string_view keyword) const {
  if (type != Type::kMap) return nullptr;
  for (size_t i = 0; i + 1 < items.size(); i += 2) {
    if (items[i].IsKeyword(keyword)) return &items[i + 1];
  }
  return nullptr;
}

absl::Status EdnReader::Error(std::string_view what) const {
  return absl::InvalidArgumentError(absl::StrFormat("line %d: %s", line_, AbslView(what)));
}

void EdnReader::SkipWhitespace() {
  while (pos_ < text_.size()) {
    const char c = text_[pos_];
    if (c == ';') {
      while (pos_ < text_.size() && text_[pos_] != '\n') ++pos_;
    } else if (IsWhitespace(c)) {
      if (c == '\n') ++line_;
      ++pos_;
    } else {
      return;
    }
  }
}

absl::StatusOr<std::optional<EdnValue>> EdnReader::Next() {
  while (true) {
    SkipWhitespace();
    if (pos_ >= text_.size()) return std::optional<EdnValue>();
    if (text_.substr(pos_, 2) == "#_") {
      pos_ += 2;
      absl::StatusOr<EdnValue> discarded = Read(1);
      if (!discarded.ok()) return discarded.status();
      continue;
    }
    absl::StatusOr<EdnValue> v = Read(0);
    if (!v.ok()) return v.status();
    return std::optional<EdnValue>(*std::move(v));
  }
}

absl::StatusOr<EdnValue> EdnReader::Read(int depth) {
  if (depth > kEdnDepthMax) {
    return Error(absl::StrFormat("values nested more than %d deep", kEdnDepthMax));
  }
  SkipWhitespace();
  if (pos_ >= text_.size()) return Error("the text ends where a value should be");
  EdnValue v;
  v.line = line_;
  const char c = text_[pos_];
  switch (c) {
    case '(':
      v.type = EdnValue::Type::kList;
      ++pos_;
      if (absl::Status s = ReadCollection(')', depth, v); !s.ok()) return s;
      return v;
    case '[':
      v.type = EdnValue::Type::kVector;
      ++pos_;
      if (absl::Status s = ReadCollection(']', depth, v); !s.ok()) return s;
      return v;
    case '{':
      v.type = EdnValue::Type::kMap;
      ++pos_;
      if (absl::Status s = ReadCollection('}', depth, v); !s.ok()) return s;
      if (v.items.size() % 2 != 0) return Error("a map has a key without a value");
      return v;
    case ')':
    case ']':
    case '}': return Error(absl::StrFormat("unexpected '%c'", c));
    case '"': {
      v.type = EdnValue::Type::kString;
      absl::StatusOr<std::string> s = ReadString();
      if (!s.ok()) return s.status();
      v.text = *std::move(s);
      return v;
    }
    case '#': {
      ++pos_;
      if (pos_ < text_.size() && text_[pos_] == '{') {
        v.type = EdnValue::Type::kSet;
        ++pos_;
        if (absl::Status s = ReadCollection('}', depth, v); !s.ok()) return s;
        return v;
      }
      if (pos_ < text_.size() && text_[pos_] == '_') {
        ++pos_;
        absl::StatusOr<EdnValue> discarded = Read(depth + 1);
        if (!discarded.ok()) return discarded.status();
        return Read(depth);
      }
      // A tagged element: #tag value. The tag says how to interpret the value; reading the
      // value itself is enough here.
      absl::StatusOr<EdnValue> tag = ReadToken();
      if (!tag.ok()) return tag.status();
      if (!tag->is(EdnValue::Type::kSymbol)) return Error("'#' is not followed by a tag");
      return Read(depth + 1);
    }
    case '\\': {
      ++pos_;
      const size_t start = pos_;
      if (pos_ >= text_.size()) return Error("the text ends inside a character");
      ++pos_;  // a character literal has at least one character, even a delimiter
      while (pos_ < text_.size() && !IsDelimiter(text_[pos_])) ++pos_;
      const std::string_view name = text_.substr(start, pos_ - start);
      v.type = EdnValue::Type::kChar;
      uint32_t cp = 0;
      if (name.size() == 1) v.text = std::string(name);
      else if (name == "newline") v.text = "\n";
      else if (name == "return") v.text = "\r";
      else if (name == "space") v.text = " ";
      else if (name == "tab") v.text = "\t";
      else if (name.size() == 5 && name[0] == 'u' && ParseHex4(name.substr(1), &cp)) AppendUtf8(cp, v.text);
      else if (static_cast<unsigned char>(name[0]) >= 0x80) v.text = std::string(name);
      else return Error(absl::StrFormat("unknown character \\%s", InputExcerpt(name)));
      return v;
    }
    default: {
      absl::StatusOr<EdnValue> t = ReadToken();
      if (!t.ok()) return t.status();
      t->line = v.line;
      return t;
    }
  }
}

absl::Status EdnReader::ReadCollection(char close, int depth, EdnValue& into) {
  while (true) {
    SkipWhitespace();
    if (pos_ >= text_.size()) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "line %d: the text ends before the '%c' that closes the collection opened on line %d",
          line_, close, into.line));
    }
    if (text_[pos_] == close) {
      ++pos_;
      return absl::OkStatus();
    }
    if (text_.substr(pos_, 2) == "#_") {
      pos_ += 2;
      absl::StatusOr<EdnValue> discarded = Read(depth + 1);
      if (!discarded.ok()) return discarded.status();
      continue;
    }
    absl::StatusOr<EdnValue> item = Read(depth + 1);
    if (!item.ok()) return item.status();
    into.items.push_back(*std::move(item));
  }
}

absl::StatusOr<std::string> EdnReader::ReadString() {
  const int start_line = line_;
  ++pos_;  // the opening quote
  std::string out;
  while (pos_ < text_.size()) {
    const char c = text_[pos_++];
    if (c == '"') return out;
    if (c == '\n') ++line_;
    if (c != '\\') {
      out.push_back(c);
      continue;
    }
    if (pos_ >= text_.size()) break;
    const char e = text_[pos_++];
    switch (e) {
      case '"': out.push_back('"'); break;
      case '\\': out.push_back('\\'); break;
      case '/': out.push_back('/'); break;
      case 'n': out.push_back('\n'); break;
      case 't': out.push_back('\t'); break;
      case 'r': out.push_back('\r'); break;
      case 'b': out.push_back('\b'); break;
      case 'f': out.push_back('\f'); break;
      case 'u': {
        uint32_t cp = 0;
        if (!ParseHex4(text_.substr(pos_), &cp)) return Error("a \\u escape needs four hex digits");
        pos_ += 4;
        uint32_t low = 0;
        if (cp >= 0xD800 && cp < 0xDC00 && text_.substr(pos_, 2) == "\\u" &&
            ParseHex4(text_.substr(pos_ + 2), &low) && low >= 0xDC00 && low < 0xE000) {
          pos_ += 6;
          cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
        }
        AppendUtf8(cp, out);
        break;
      }
      default:
        return Error(absl::StrFormat("unknown string escape \\%s",
                                     InputExcerpt(std::string_view(&e, 1))));
    }
  }
  return absl::InvalidArgumentError(
      absl::StrFormat("line %d: a string opened on this line never closes", start_line));
}

absl::StatusOr<EdnValue> EdnReader::ReadToken() {
  const size_t start = pos_;
  while (pos_ < text_.size() && !IsDelimiter(text_[pos_])) ++pos_;
  const std::string_view t = text_.substr(start, pos_ - start);
  if (t.empty()) return Error("expected a value");
  EdnValue v;
  v.line = line_;
  if (t == "nil") {
    v.type = EdnValue::Type::kNil;
  } else if (t == "true" || t == "false") {
    v.type = EdnValue::Type::kBool;
    v.text = std::string(t);
  } else if (t[0] == ':') {
    if (t.size() == 1) return Error("a ':' without a keyword name");
    v.type = EdnValue::Type::kKeyword;
    v.text = std::string(t.substr(1));
  } else if (absl::ascii_isdigit(static_cast<unsigned char>(t[0])) ||
             ((t[0] == '+' || t[0] == '-') && t.size() > 1 &&
              absl::ascii_isdigit(static_cast<unsigned char>(t[1])))) {
    if (IsInteger(t)) {
      v.type = EdnValue::Type::kInteger;
      std::string_view digits = t;
      if (digits.back() == 'N') digits.remove_suffix(1);
      if (digits[0] == '+') digits.remove_prefix(1);
      v.text = std::string(digits);
    } else {
      for (char c : t) {
        if (!absl::ascii_isdigit(static_cast<unsigned char>(c)) &&
            std::string_view("+-.eEM/").find(c) == std::string_view::npos) {
          return Error(absl::StrFormat("'%s' is not a number", InputExcerpt(t)));
        }
      }
      v.type = EdnValue::Type::kFloat;
      v.text = std::string(t);
    }
  } else {
    v.type = EdnValue::Type::kSymbol;
    v.text = std::string(t);
  }
  return v;
}

std::string EdnString(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          absl::StrAppendFormat(&out, "\\u%04x", static_cast<unsigned>(c));
        } else {
          out.push_back(c);
        }
    }
  }
  out += "\"";
  return out;
}

}  // namespace cairn::sim

#include "tools/cli.h"

#include <cstdio>
#include <fstream>
#include <sstream>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "src/base/strings.h"

namespace cairn::tools {

const char* ExitCodesHelp() {
  return "Exit codes: 0 success, 1 a negative answer (a check failed, not linearizable, damage found,\n"
         "no such row), 2 bad usage, 3 an input that cannot be read, 4 undecided, 5 the operation failed.";
}

int Fail(int code, std::string_view command, std::string_view message) {
  // Escape what is not printable: a message may quote bytes of a garbage file.
  std::string shown;
  for (char c : message) {
    if (c == '\n' || c == '\t' || (static_cast<unsigned char>(c) >= 0x20 && c != 0x7f)) {
      shown.push_back(c);
    } else {
      absl::StrAppend(&shown, absl::CHexEscape(std::string(1, c)));
    }
  }
  std::fprintf(stderr, "cairn %s: %s\n", std::string(command).c_str(), shown.c_str());
  return code;
}

int Fail(std::string_view command, const absl::Status& status) {
  int code = kExitFailed;
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
      code = kExitUsage;
      break;
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kDataLoss:
      code = kExitUnreadable;
      break;
    default:
      break;
  }
  return Fail(code, command, StdView(status.message()));
}

absl::StatusOr<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open '", path, "'"));
  std::stringstream text;
  text << in.rdbuf();
  if (in.bad()) return absl::DataLossError(absl::StrCat("cannot read '", path, "'"));
  return text.str();
}

absl::Status WriteWholeFile(const std::string& path, std::string_view text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  out.close();
  if (!out) return absl::UnavailableError(absl::StrCat("cannot write '", path, "'"));
  return absl::OkStatus();
}

}  // namespace cairn::tools

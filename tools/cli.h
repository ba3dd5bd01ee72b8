// What every `cairn` subcommand shares: one set of exit codes, one way to report an error, and
// whole-file reading and writing.
//
// Exit codes, the same for every subcommand (`cairn --help` lists them):
//   0  success: done, passed, linearizable, found
//   1  a negative answer: a check failed, a history is not linearizable, verify found damage,
//      get found no row
//   2  bad usage: an unknown flag, a bad value, a bad scenario or setting
//   3  an input that cannot be read: missing, unreadable, not in the format asked for
//   4  undecided: a bounded search gave up before answering (cairn check)
//   5  the operation failed: the cluster did not answer, an IO error, a server's error
#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace cairn::tools {

constexpr int kExitOk = 0;
constexpr int kExitNegative = 1;
constexpr int kExitUsage = 2;
constexpr int kExitUnreadable = 3;
constexpr int kExitUndecided = 4;
constexpr int kExitFailed = 5;

// The exit-code table above, for help texts.
const char* ExitCodesHelp();

// Prints "cairn <command>: <message>" to stderr (the message's bytes escaped where they are not
// printable) and returns `code`.
int Fail(int code, std::string_view command, std::string_view message);
// The same for a status: InvalidArgument and OutOfRange are usage (2), NotFound and DataLoss an
// unreadable input (3), anything else a failed operation (5).
int Fail(std::string_view command, const absl::Status& status);

absl::StatusOr<std::string> ReadWholeFile(const std::string& path);
absl::Status WriteWholeFile(const std::string& path, std::string_view text);

}  // namespace cairn::tools

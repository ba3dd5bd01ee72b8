// Assertions for broken invariants. A failed check is a bug in Cairn, never a user error:
// it prints where and why, then aborts so the simulator can stop at the exact event and a
// replay can reach it again. Errors that a user or the world can cause use absl::Status.
#pragma once

#include <string_view>

namespace cairn::detail {
[[noreturn]] void CheckFailed(const char* file, int line, const char* condition,
                              std::string_view message);
}  // namespace cairn::detail

#define CAIRN_CHECK(condition)                                                  \
  do {                                                                          \
    if (!(condition)) [[unlikely]]                                              \
      ::cairn::detail::CheckFailed(__FILE__, __LINE__, #condition, {});         \
  } while (false)

#define CAIRN_CHECK_MSG(condition, message)                                     \
  do {                                                                          \
    if (!(condition)) [[unlikely]]                                              \
      ::cairn::detail::CheckFailed(__FILE__, __LINE__, #condition, (message));  \
  } while (false)

#define CAIRN_CHECK_OK(status_expr)                                             \
  do {                                                                          \
    const auto& cairn_check_status_ = (status_expr);                            \
    if (!cairn_check_status_.ok()) [[unlikely]]                                 \
      ::cairn::detail::CheckFailed(__FILE__, __LINE__, #status_expr,            \
                                   cairn_check_status_.ToString());             \
  } while (false)

#define CAIRN_UNREACHABLE(message) \
  ::cairn::detail::CheckFailed(__FILE__, __LINE__, "unreachable", (message))

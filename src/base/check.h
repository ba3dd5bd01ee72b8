// Assertions for broken invariants. A failed check is a bug in Cairn, never a user error:
// it prints where and why, then aborts so the simulator can stop at the exact event and a
// replay can reach it again. Errors that a user or the world can cause use absl::Status.
#pragma once

#include <cstdint>
#include <string_view>

namespace cairn::detail {
[[noreturn]] void CheckFailed(const char* file, int line, const char* condition,
                              std::string_view message);
// For the comparison checks of integers: prints both sides.
[[noreturn]] void CheckOpFailed(const char* file, int line, const char* condition, int64_t a,
                                int64_t b);
}  // namespace cairn::detail

// CAIRN_CHECK_EQ/NE/LT/LE/GT/GE(a, b) on integers: on failure both values are printed.
#define CAIRN_CHECK_OP_(a, op, b)                                                          \
  do {                                                                                     \
    const auto cairn_a_ = (a);                                                             \
    const auto cairn_b_ = (b);                                                             \
    if (!(cairn_a_ op cairn_b_)) [[unlikely]]                                              \
      ::cairn::detail::CheckOpFailed(__FILE__, __LINE__, #a " " #op " " #b,                \
                                     static_cast<int64_t>(cairn_a_),                       \
                                     static_cast<int64_t>(cairn_b_));                      \
  } while (false)
#define CAIRN_CHECK_EQ(a, b) CAIRN_CHECK_OP_(a, ==, b)
#define CAIRN_CHECK_NE(a, b) CAIRN_CHECK_OP_(a, !=, b)
#define CAIRN_CHECK_LT(a, b) CAIRN_CHECK_OP_(a, <, b)
#define CAIRN_CHECK_LE(a, b) CAIRN_CHECK_OP_(a, <=, b)
#define CAIRN_CHECK_GT(a, b) CAIRN_CHECK_OP_(a, >, b)
#define CAIRN_CHECK_GE(a, b) CAIRN_CHECK_OP_(a, >=, b)

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

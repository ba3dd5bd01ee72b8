// Status propagation helpers. The CO_ variants are for coroutines, which must `co_return`.
#pragma once

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define CAIRN_STATUS_CONCAT_INNER_(a, b) a##b
#define CAIRN_STATUS_CONCAT_(a, b) CAIRN_STATUS_CONCAT_INNER_(a, b)

#define RETURN_IF_ERROR(expr)                         \
  do {                                                \
    ::absl::Status cairn_status_ = (expr);            \
    if (!cairn_status_.ok()) return cairn_status_;    \
  } while (false)

#define CO_RETURN_IF_ERROR(expr)                      \
  do {                                                \
    ::absl::Status cairn_status_ = (expr);            \
    if (!cairn_status_.ok()) co_return cairn_status_; \
  } while (false)

#define ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                           \
  if (!tmp.ok()) return std::move(tmp).status(); \
  lhs = std::move(*tmp)

#define ASSIGN_OR_RETURN(lhs, expr) \
  ASSIGN_OR_RETURN_IMPL_(CAIRN_STATUS_CONCAT_(cairn_statusor_, __LINE__), lhs, expr)

#define CO_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.ok()) co_return std::move(tmp).status(); \
  lhs = std::move(*tmp)

// Usage: CO_ASSIGN_OR_RETURN(auto file, co_await disk.Open(path, options));
#define CO_ASSIGN_OR_RETURN(lhs, expr) \
  CO_ASSIGN_OR_RETURN_IMPL_(CAIRN_STATUS_CONCAT_(cairn_statusor_, __LINE__), lhs, expr)

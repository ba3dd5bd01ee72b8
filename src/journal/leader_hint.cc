#include "src/journal/leader_hint.h"

#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace cairn::journal {
namespace {
constexpr char kPrefix[] = "not the leader (leader: ";
constexpr size_t kPrefixBytes = sizeof(kPrefix) - 1;
}  // namespace

absl::Status NotLeaderError(NodeId leader) {
  return absl::UnavailableError(
      absl::StrCat(kPrefix, leader == kNoNode ? std::string("unknown") : absl::StrCat(leader), ")"));
}

std::optional<NodeId> LeaderHint(const absl::Status& status) {
  if (!absl::IsUnavailable(status)) return std::nullopt;
  const std::string m(status.message());
  const size_t at = m.find(kPrefix);
  if (at == std::string::npos) return std::nullopt;
  const size_t begin = at + kPrefixBytes;
  const size_t end = m.find(')', begin);
  if (end == std::string::npos) return std::nullopt;
  uint32_t id = 0;
  if (!absl::SimpleAtoi(m.substr(begin, end - begin), &id) || id == kNoNode) return std::nullopt;
  return id;
}

}  // namespace cairn::journal

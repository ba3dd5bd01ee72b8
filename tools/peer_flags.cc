#include "tools/peer_flags.h"

#include <cstdio>
#include <random>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace cairn::tools {

absl::StatusOr<std::map<NodeId, std::string>> ParsePeers(const std::string& text) {
  std::map<NodeId, std::string> peers;
  for (absl::string_view part : absl::StrSplit(text, ',', absl::SkipEmpty())) {
    std::pair<absl::string_view, absl::string_view> kv = absl::StrSplit(part, absl::MaxSplits('=', 1));
    NodeId id = 0;
    if (!absl::SimpleAtoi(kv.first, &id) || kv.second.find(':') == absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("--peers: '", part, "' is not ID=HOST:PORT (for example 0=127.0.0.1:7101)"));
    }
    peers[id] = std::string(kv.second);
  }
  if (peers.empty()) return absl::InvalidArgumentError("--peers: no replicas given");
  return peers;
}

std::vector<NodeId> Ids(const std::map<NodeId, std::string>& peers) {
  std::vector<NodeId> ids;
  for (const auto& [id, addr] : peers) ids.push_back(id);
  return ids;
}

int Fail(const absl::Status& s) {
  std::fprintf(stderr, "error: %s\n", s.ToString().c_str());
  return 1;
}

NodeId ClientNodeId() {
  std::random_device rd;
  return (1u << 20) + rd() % (1u << 30);
}

void PeerFlags::Add(CLI::App* cmd) {
  cmd->add_option("--peers", peers, "The replicas, as ID=HOST:PORT,...")->capture_default_str();
  cmd->add_option("--knob", knobs, "Set a knob, name=value (see `cairn knobs`)");
}

absl::Status PeerFlags::ApplyKnobs(Knobs& k) const {
  for (const std::string& a : knobs) {
    if (absl::Status s = k.SetAssignment(a); !s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace cairn::tools

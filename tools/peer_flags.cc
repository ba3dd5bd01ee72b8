#include "tools/peer_flags.h"

#include "tools/cli.h"

#include <cstdio>
#include <optional>
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

int Fail(const absl::Status& s) { return tools::Fail("error", s); }

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

namespace {
absl::StatusOr<PeerNode> CreateNode(const PeerFlags& flags, std::optional<NodeId> server_id, const std::string& dir) {
  absl::StatusOr<std::map<NodeId, std::string>> peers = ParsePeers(flags.peers);
  if (!peers.ok()) return peers.status();
  real::NodeConfig config;
  config.peers = *peers;
  if (server_id.has_value()) {
    if (!peers->contains(*server_id)) {
      return absl::InvalidArgumentError(absl::StrCat("--id ", *server_id, " is not in --peers"));
    }
    config.id = *server_id;
    config.listen_address = peers->at(*server_id);
    config.data_dir = dir;
  } else {
    config.id = ClientNodeId();
  }
  if (absl::Status s = flags.ApplyKnobs(config.knobs); !s.ok()) return s;
  absl::StatusOr<std::unique_ptr<real::RealNode>> node = real::RealNode::Create(config);
  if (!node.ok()) return node.status();
  return PeerNode{.node = *std::move(node), .replicas = Ids(*peers)};
}
}  // namespace

absl::StatusOr<PeerNode> CreateServerNode(const PeerFlags& flags, NodeId id, const std::string& dir) {
  return CreateNode(flags, id, dir);
}

absl::StatusOr<PeerNode> CreateClientNode(const PeerFlags& flags) { return CreateNode(flags, std::nullopt, ""); }

}  // namespace cairn::tools

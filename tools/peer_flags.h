// What every command that runs as (or talks to) a real node shares: the --peers list, --knob
// assignments, and how a failed command reports its status.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"
#include "src/runtime/knobs.h"
#include "src/runtime/network.h"
#include "src/runtime/real/real_node.h"

namespace cairn::tools {

// "0=127.0.0.1:7101,1=127.0.0.1:7102" → {0: "127.0.0.1:7101", ...}
absl::StatusOr<std::map<NodeId, std::string>> ParsePeers(const std::string& text);

std::vector<NodeId> Ids(const std::map<NodeId, std::string>& peers);

// Reports `s` on stderr and returns its exit code (tools/cli.h: 2 usage, 3 unreadable, 5 failed).
int Fail(const absl::Status& s);

// A node id for a short-lived client process: far above any server's, drawn from the OS so
// two clients at once do not collide.
NodeId ClientNodeId();

struct PeerFlags {
  std::string peers = "0=127.0.0.1:7101,1=127.0.0.1:7102,2=127.0.0.1:7103";
  std::vector<std::string> knobs;
  void Add(CLI::App* cmd);
  absl::Status ApplyKnobs(Knobs& k) const;
};

// A real node made from the flags, and the ids of --peers (the replicas it serves with or
// talks to).
struct PeerNode {
  std::unique_ptr<real::RealNode> node;
  std::vector<NodeId> replicas;
};

// A server: `id` (one of --peers) listens at its address, with its data under `dir`.
absl::StatusOr<PeerNode> CreateServerNode(const PeerFlags& flags, NodeId id, const std::string& dir);
// A short-lived client: no listener, no disk, an id from ClientNodeId().
absl::StatusOr<PeerNode> CreateClientNode(const PeerFlags& flags);

}  // namespace cairn::tools

// How a command reaches a real DFS (docs/dfs.md, "Command line and real processes"): the
// --peers list with the journal nodes holding the master's stream and the master's
// candidates, and a short-lived client node that runs one DfsClient task. Shared by
// `cairn dfs` and the commands that read files where they live (`cairn sst ... dfs:PATH`).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "src/dfs/dfs_client.h"
#include "tools/peer_flags.h"

namespace cairn::tools {

// Where the master lives: the journal nodes holding its stream, and its candidates.
struct DfsFlags {
  PeerFlags peers;
  std::vector<NodeId> journal_nodes;  // empty: the first three of --peers
  std::vector<NodeId> masters;        // empty: the first journal node
  double timeout_s = 30;
  std::string prefer_node_set;  // reads try copies in this node set first (`get --prefer-set`)

  void Add(CLI::App* cmd);
  void AddTimeout(CLI::App* cmd);
  // Fills the defaults from the peers' ids.
  absl::Status Resolve(const std::vector<NodeId>& ids);
};

// Runs `main` with a DfsClient on a short-lived client node, to completion or SIGINT.
absl::Status RunDfsClient(DfsFlags flags, std::function<Task<absl::Status>(Runtime&, dfs::DfsClient&)> main);

// The whole sealed file at `path`, every chunk checked end to end.
absl::StatusOr<std::string> ReadDfsFile(DfsFlags flags, std::string path);

}  // namespace cairn::tools

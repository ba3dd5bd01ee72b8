#include "tools/dfs_flags.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "src/rpc/rpc_node.h"

namespace cairn::tools {

void DfsFlags::Add(CLI::App* cmd) {
  peers.Add(cmd);
  cmd->add_option("--journal-nodes", journal_nodes,
                  "The nodes holding the master's journal stream (default: the first three of --peers)")
      ->delimiter(',');
  cmd->add_option("--masters", masters, "The master's candidates (default: the first journal node)")->delimiter(',');
}

void DfsFlags::AddTimeout(CLI::App* cmd) {
  cmd->add_option("--timeout-s", timeout_s, "Give up after this long")->check(CLI::Range(0.1, 86400.0))->capture_default_str();
}

absl::Status DfsFlags::Resolve(const std::vector<NodeId>& ids) {
  if (journal_nodes.empty()) {
    for (size_t i = 0; i < ids.size() && i < 3; ++i) journal_nodes.push_back(ids[i]);
  }
  if (masters.empty() && !journal_nodes.empty()) masters.push_back(journal_nodes.front());
  for (const std::vector<NodeId>* list : {&journal_nodes, &masters}) {
    for (NodeId n : *list) {
      if (std::find(ids.begin(), ids.end(), n) == ids.end()) {
        return absl::InvalidArgumentError(absl::StrCat("node ", n, " is not in --peers"));
      }
    }
  }
  if (journal_nodes.empty()) return absl::InvalidArgumentError("no journal nodes: --peers is empty");
  return absl::OkStatus();
}

absl::Status RunDfsClient(DfsFlags flags, std::function<Task<absl::Status>(Runtime&, dfs::DfsClient&)> main) {
  absl::StatusOr<PeerNode> client = CreateClientNode(flags.peers);
  if (!client.ok()) return client.status();
  if (absl::Status s = flags.Resolve(client->replicas); !s.ok()) return s;
  real::RealNode& node = *client->node;
  auto run = [](Runtime& rt, DfsFlags f, std::function<Task<absl::Status>(Runtime&, dfs::DfsClient&)> body)
      -> Task<absl::Status> {
    rpc::RpcNode rpc(rt);
    rpc.Start();
    dfs::DfsClientOptions options = dfs::DfsClientOptions::FromKnobs(rt.knobs());
    options.masters = f.masters;
    options.prefer_node_set = f.prefer_node_set;
    options.operation_timeout = std::chrono::milliseconds(static_cast<int64_t>(f.timeout_s * 1000));
    dfs::DfsClient dfs(rpc, options);
    co_return co_await body(rt, dfs);
  };
  return node.Run(run(node.runtime(), flags, std::move(main)), /*handle_signals=*/true);
}

absl::StatusOr<std::string> ReadDfsFile(DfsFlags flags, std::string path) {
  std::string bytes;
  absl::Status s = RunDfsClient(std::move(flags), [&bytes, path](Runtime&, dfs::DfsClient& c) -> Task<absl::Status> {
    absl::StatusOr<std::string> got = co_await c.ReadFile(path);
    if (!got.ok()) co_return got.status();
    bytes = *std::move(got);
    co_return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return bytes;
}

}  // namespace cairn::tools

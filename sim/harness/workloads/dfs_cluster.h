// The DFS's servers in a simulated world (docs/dfs.md): three journal nodes holding the
// master's stream, two master candidates (one serves; the other stands by and takes over
// when the stream goes still: master_service.h), and file servers that hold chunks and heartbeat, scrub and repair. The `dfs`
// workload runs its clients against it; `engine-dfs` runs a shard's engine on it.
//
// The canaries it plants, when the run plants them: skip-read-checks (file servers and the
// clients of ClientOptions take a chunk's bytes unchecked), ack-before-sync (file servers),
// delete-ignores-references (the master), copy-from-corrupt-source (file servers).
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "sim/harness/workload.h"
#include "src/dfs/dfs_client.h"
#include "src/master/master_service.h"

namespace cairn::dfs {
class FileServer;
}

namespace cairn::sim {

struct DfsClusterOptions {
  int file_servers = 4;
  uint32_t replication = 3;
  int master_candidates = 2;  // MasterService candidates (the election: master_service.h)
  // The chunk size with --default-knobs (the knob's otherwise): small, so files have several.
  uint32_t default_chunk_bytes = 16u << 10;
};

class DfsCluster {
 public:
  // The last file server's node set; the others are "online".
  static constexpr const char* kOfflineSet = "offline";

  // Adds the nodes to the world and appends them to ctx.servers and ctx.nodes.
  void Setup(WorkloadContext& ctx, DfsClusterOptions options = {});

  // How a client on `rt` reaches the cluster.
  dfs::DfsClientOptions ClientOptions(const Runtime& rt) const;
  // The candidate serving at the newest epoch, or null.
  master::MasterService* master_service() const;

  // The true-copies check: every copy the serving master counts as healthy, of every chunk of
  // a sealed file, is asked for its block table (a few at a time, each call until `until`);
  // one served with a table that fails the sealed chunk checksum is not the sealed chunk —
  // no media fault makes one (a damaged table fails its server's own check), only a copy made
  // from bytes nobody checked. Copies that cannot be asked are skipped and counted.
  struct CopiesAudit {
    uint64_t checked = 0, unanswered = 0;
    std::vector<std::string> wrong;  // one line per false copy
  };
  Task<CopiesAudit> AuditCopies(rpc::RpcNode& rpc, Instant until) const;

  struct Totals {
    uint64_t master_terms = 0, chunks_copied = 0, garbage_removed = 0, damage_found = 0;
    master::DfsMasterStats master;  // of every master term
    void AddMaster(const master::MasterService& service) {
      master_terms += service.terms();
      master.Add(service.stats());
    }
  };
  // Over every incarnation so far, the running ones included.
  Totals totals() const;
  const std::vector<NodeId>& journal_nodes() const { return journal_nodes_; }
  const std::vector<NodeId>& file_servers() const { return file_servers_; }

 private:
  Task<void> JournalServer(Runtime& rt);
  Task<void> Master(Runtime& rt);
  Task<void> FileServerNode(Runtime& rt);

  WorkloadContext* ctx_ = nullptr;
  DfsClusterOptions options_;
  std::vector<NodeId> journal_nodes_, file_servers_;
  std::vector<NodeId> masters_list_;  // the candidates
  std::map<NodeId, master::MasterService*> masters_;  // the candidates running now
  std::map<NodeId, dfs::FileServer*> live_servers_;
  Totals ended_;  // of incarnations that have ended
};

}  // namespace cairn::sim

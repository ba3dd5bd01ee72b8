// MasterService: the master's RPC methods on a node (the namespace half of dfs.proto, and the
// servers' heartbeats and bad-copy reports), routed to the DfsMaster this node runs now. A node
// that is not the master, or whose master stopped, answers Unavailable, and the caller asks
// another candidate.
//
// Run is the master's life on a candidate: fence the master's journal stream (a JournalClient
// writer), replay it into a DfsMaster, serve until that master stops (deposed by another
// fence, or its journal failed), and start over.
//
// Not built yet: an election among several candidates. Two candidates running at once fence
// each other in turn (each stays correct: a deposed master's appends are refused); the
// cluster runs one candidate, restarted where it crashes.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "src/journal/journal_client.h"
#include "src/master/dfs_master.h"
#include "src/rpc/rpc_node.h"

namespace cairn::master {

struct MasterServiceOptions {
  std::string stream = "dfs-master";  // the journal stream holding the namespace
  journal::JournalClientOptions journal;  // its replicas; a writer
  DfsMasterOptions master;
  Duration restart_backoff = std::chrono::milliseconds(500);
};

class MasterService {
 public:
  MasterService(rpc::RpcNode& rpc, MasterServiceOptions options, Probes probes = {})
      : rpc_(rpc), options_(std::move(options)), probes_(probes) {}
  ~MasterService() { rpc_.CancelHandlers(); }
  MasterService(const MasterService&) = delete;
  MasterService& operator=(const MasterService&) = delete;

  // Registers the methods; before rpc.Start().
  void RegisterMethods();
  // Runs the master here until cancelled.
  Task<void> Run();

  // The master serving now, if any.
  DfsMaster* master() const { return term_ == nullptr ? nullptr : term_->master.get(); }
  uint64_t terms() const { return terms_; }  // masters this node has opened

 private:
  // One master's life, shared with the requests it serves: a request in flight keeps it (and
  // its journal) alive after Run has moved on.
  struct Term {
    std::unique_ptr<journal::JournalClient> journal;
    std::unique_ptr<DfsMaster> master;  // refers to `journal`: goes first
    ~Term() { master.reset(); }
  };
  // The master serving now, kept by the caller, or null.
  std::shared_ptr<Term> Serving() const;

  rpc::RpcNode& rpc_;
  const MasterServiceOptions options_;
  const Probes probes_;
  std::shared_ptr<Term> term_;
  uint64_t terms_ = 0;
};

}  // namespace cairn::master

// MasterService: the master's RPC methods on a node (the namespace half of dfs.proto, and the
// servers' heartbeats and bad-copy reports), routed to the DfsMaster this node runs now. A node
// that is not the master, or whose master stopped, answers Unavailable, and the caller asks
// another candidate.
//
// Run is the master's life on a candidate: stand by, fence the master's journal stream (a
// JournalClient writer), replay it into a DfsMaster, serve until that master stops (deposed by
// another fence, or its journal failed), and stand by again.
//
// The election: the stream itself. A serving master appends at least every tick_interval (a
// TickCommand when it has nothing else to say). A standby candidate watches the stream's epoch
// and end through its leader, on its own monotonic clock, and fences only once neither has
// moved for `takeover_after` (stretched by a random factor up to 1.5, so candidates that stand
// by together rarely fence together). A fence is exclusive: the master it deposes finds its
// next append refused within a tick, stops, and stands by. A stream never fenced (epoch 0) is
// taken after a short random wait. Safety never depends on the timing — the fence does; the
// timing only keeps candidates from fencing each other in turn.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "src/journal/journal_client.h"
#include "src/master/dfs_master.h"
#include "src/rpc/rpc_node.h"

namespace cairn::master {

struct MasterServiceOptions {
  // The election's timing from the knobs (dfs_master_takeover_ms; the master ticks at a third),
  // and the master's own options from theirs.
  static MasterServiceOptions FromKnobs(const Knobs& knobs) {
    MasterServiceOptions o;
    o.master = DfsMasterOptions::FromKnobs(knobs);
    o.takeover_after = std::chrono::milliseconds(knobs.dfs_master_takeover_ms);
    o.master.tick_interval = o.takeover_after / 3;
    o.standby_poll = o.takeover_after / 12;
    return o;
  }

  std::string stream = "dfs-master";  // the journal stream holding the namespace
  journal::JournalClientOptions journal;  // its replicas; a writer
  DfsMasterOptions master;
  Duration restart_backoff = std::chrono::milliseconds(500);
  // A standby candidate fences once the stream has not moved for this long (more than the
  // master's tick_interval, with room for a slow append).
  Duration takeover_after = std::chrono::seconds(3);
  Duration standby_poll = std::chrono::milliseconds(250);
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
  // The counts of every master this node has run, the serving one's so far included.
  DfsMasterStats stats() const;
  // The epoch of the master serving here, or 0.
  uint64_t epoch() const { return master() == nullptr ? 0 : term_->journal->epoch(); }

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
  // Returns once this candidate should fence: the stream has not moved for takeover_after.
  Task<void> StandBy();

  rpc::RpcNode& rpc_;
  const MasterServiceOptions options_;
  const Probes probes_;
  std::shared_ptr<Term> term_;
  uint64_t terms_ = 0;
  DfsMasterStats past_terms_;  // of the masters that have stopped
};

}  // namespace cairn::master

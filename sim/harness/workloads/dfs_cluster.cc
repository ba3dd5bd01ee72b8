#include "sim/harness/workloads/dfs_cluster.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "src/dfs/chunk_store.h"
#include "src/dfs/file_server.h"
#include "src/journal/journal_node.h"
#include "src/rpc/rpc_node.h"
#include "src/runtime/task_group.h"

namespace cairn::sim {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr int kJournalNodes = 3;
const char kMasterStream[] = "dfs-master";

}  // namespace

void DfsCluster::Setup(WorkloadContext& ctx, DfsClusterOptions options) {
  ctx_ = &ctx;
  options_ = options;
  for (int i = 0; i < kJournalNodes; ++i) {
    journal_nodes_.push_back(ctx.world.AddNode(absl::StrCat("j", i), [this](Runtime& rt) { return JournalServer(rt); }));
  }
  masters_list_.push_back(ctx.world.AddNode("master", [this](Runtime& rt) { return Master(rt); }));
  for (int i = 0; i < options.file_servers; ++i) {
    file_servers_.push_back(ctx.world.AddNode(absl::StrCat("f", i), [this](Runtime& rt) { return FileServerNode(rt); }));
  }
  // A second candidate, added last so that the other nodes keep their ids.
  for (int i = 1; i < options.master_candidates; ++i) {
    masters_list_.push_back(ctx.world.AddNode(absl::StrCat("master", i), [this](Runtime& rt) { return Master(rt); }));
  }
  std::vector<NodeId> mine = journal_nodes_;
  mine.push_back(masters_list_[0]);
  mine.insert(mine.end(), file_servers_.begin(), file_servers_.end());
  mine.insert(mine.end(), masters_list_.begin() + 1, masters_list_.end());
  ctx.servers.insert(ctx.servers.end(), mine.begin(), mine.end());
  ctx.nodes.insert(ctx.nodes.end(), mine.begin(), mine.end());
}

dfs::DfsClientOptions DfsCluster::ClientOptions(const Runtime& rt) const {
  dfs::DfsClientOptions o = dfs::DfsClientOptions::FromKnobs(rt.knobs());
  o.masters = masters_list_;
  if (!ctx_->scenario.randomize_knobs) o.chunk_bytes = options_.default_chunk_bytes;
  o.call_timeout = seconds(1);
  o.operation_timeout = seconds(4);
  o.canary_skip_checksum = ctx_->Planted("skip-read-checks");
  return o;
}

DfsCluster::Totals DfsCluster::totals() const {
  Totals t = ended_;
  for (const auto& [id, service] : masters_) t.AddMaster(*service);
  for (const auto& [id, server] : live_servers_) {
    t.chunks_copied += server->stats().copies;
    t.garbage_removed += server->stats().garbage_removed;
    t.damage_found += server->stats().damaged_found;
  }
  return t;
}

Task<void> DfsCluster::JournalServer(Runtime& rt) {
  rpc::RpcNode rpc(rt);
  journal::JournalNodeOptions options = journal::JournalNodeOptions::FromKnobs(rt.knobs());
  std::string root = "journal";
  auto node = co_await journal::JournalNode::Open(rt, rpc, std::move(root), options);
  if (!node.ok()) {
    rt.Log(absl::StrCat("journal node cannot open: ", node.status().ToString()));
    co_return;  // a disk fault at recovery: the nemesis restarts us
  }
  std::string stream = kMasterStream;
  if (!(co_await (*node)->CreateStream(std::move(stream), journal_nodes_)).ok()) co_return;
  (*node)->RegisterMethods();
  rpc.Start();
  (*node)->Start();
  absl::Status failed = co_await (*node)->Failed();
  rt.Log(absl::StrCat("journal node exits after a storage failure: ", failed.ToString()));
}

Task<void> DfsCluster::Master(Runtime& rt) {
  rpc::RpcNode rpc(rt);
  master::MasterServiceOptions options = master::MasterServiceOptions::FromKnobs(rt.knobs());
  options.stream = kMasterStream;
  options.journal.replicas = journal_nodes_;
  options.journal.operation_timeout = seconds(3);
  if (!ctx_->scenario.randomize_knobs) {
    // The production bounds are for minutes-long outages; a 20 s run needs its repairs and
    // takeovers sooner.
    options.master.suspect_after = seconds(2);
    options.master.dead_after = seconds(4);
    options.master.repair_interval = milliseconds(300);
    options.takeover_after = milliseconds(1500);
    options.master.tick_interval = milliseconds(500);
    options.standby_poll = milliseconds(125);
  }
  options.master.default_replication = options_.replication;
  options.master.open_file_ttl = seconds(10);
  options.master.call_timeout = seconds(2);
  // Few hot chunks at once, so the bound is met; hot at 5 reads a second with default knobs.
  options.master.hot_chunks_max = 3;
  if (!ctx_->scenario.randomize_knobs) options.master.hot_reads_per_s = 5;
  options.master.canary_delete_ignores_references = ctx_->Planted("delete-ignores-references");
  master::MasterService service(rpc, options, Probes(rt));
  service.RegisterMethods();
  rpc.Start();
  masters_[rt.node_id()] = &service;
  struct Unlist {
    DfsCluster* self;
    NodeId id;
    master::MasterService* service;
    ~Unlist() {
      self->masters_.erase(id);
      self->ended_.AddMaster(*service);
    }
  } unlist{this, rt.node_id(), &service};
  co_await service.Run();
}

master::MasterService* DfsCluster::master_service() const {
  // The candidate serving at the newest epoch (a deposed one may not know it yet).
  master::MasterService* best = nullptr;
  for (const auto& [id, service] : masters_) {
    if (service->master() != nullptr && (best == nullptr || service->epoch() > best->epoch())) best = service;
  }
  return best;
}

Task<void> DfsCluster::FileServerNode(Runtime& rt) {
  rpc::RpcNode rpc(rt);
  auto store = co_await dfs::ChunkStore::Open(rt.disk(), "chunks", Probes(rt));
  if (!store.ok()) {
    rt.Log(absl::StrCat("chunk store cannot open: ", store.status().ToString()));
    co_return;
  }
  (*store)->set_canaries(dfs::ChunkStoreCanaries{.ack_before_sync = ctx_->Planted("ack-before-sync"),
                                                 .unverified_reads = ctx_->Planted("skip-read-checks")});
  dfs::FileServerOptions options = dfs::FileServerOptions::FromKnobs(rt.knobs());
  options.masters = masters_list_;
  if (rt.node_id() == file_servers_.back()) options.node_set = kOfflineSet;
  if (!ctx_->scenario.randomize_knobs) {
    options.heartbeat_interval = milliseconds(500);
    options.scrub_interval = milliseconds(100);
  }
  options.call_timeout = seconds(1);
  options.canary_copy_unchecked = ctx_->Planted("copy-from-corrupt-source");
  dfs::FileServer server(rpc, **store, options);
  server.RegisterMethods();
  rpc.Start();
  live_servers_[rt.node_id()] = &server;
  struct Unlist {
    DfsCluster* self;
    NodeId id;
    dfs::FileServer* server;
    ~Unlist() {
      self->live_servers_.erase(id);
      self->ended_.chunks_copied += server->stats().copies;
      self->ended_.garbage_removed += server->stats().garbage_removed;
      self->ended_.damage_found += server->stats().damaged_found;
    }
  } unlist{this, rt.node_id(), &server};
  co_await server.Run();
}

Task<DfsCluster::CopiesAudit> DfsCluster::AuditCopies(rpc::RpcNode& rpc, Instant until) const {
  struct Copy {
    dfs::ChunkRef chunk;
    NodeId server;
  };
  std::vector<Copy> copies;  // taken at once: the master's maps change while we ask
  if (master::MasterService* m = master_service(); m != nullptr && m->master() != nullptr) {
    for (const auto& [id, file] : m->master()->ns().files()) {
      if (!file.sealed) continue;
      for (const dfs::ChunkRef& c : file.chunks) {
        for (NodeId s : m->master()->HealthyCopies(c.id)) copies.push_back(Copy{c, s});
      }
    }
  }
  CopiesAudit audit;
  constexpr size_t kAskersMax = 8;
  TaskGroup askers(rpc.runtime().executor());
  size_t next = 0, running = std::min(kAskersMax, copies.size());
  for (size_t a = 0; a < running; ++a) {
    askers.Spawn([](rpc::RpcNode& node, const std::vector<Copy>* all, size_t* at, size_t* live, Instant end,
                    CopiesAudit* out) -> Task<void> {
      while (*at < all->size() && node.runtime().Now() < end) {
        const Copy& c = (*all)[(*at)++];
        absl::StatusOr<uint32_t> sum = co_await dfs::ReadCopyChecksum(node, c.server, c.chunk.id, end);
        if (!sum.ok()) {
          ++out->unanswered;
        } else {
          ++out->checked;
          if (*sum != c.chunk.checksum) {
            out->wrong.push_back(absl::StrCat("node ", c.server, " holds chunk ", c.chunk.id.ToString(),
                                              " counted healthy, with checksum ", *sum, " where the sealed one is ",
                                              c.chunk.checksum));
          }
        }
      }
      --*live;
    }(rpc, &copies, &next, &running, until, &audit));
  }
  while (running > 0) co_await rpc.runtime().Sleep(milliseconds(20));
  audit.unanswered += copies.size() - std::min(next, copies.size());  // not reached by `until`
  co_return audit;
}

}  // namespace cairn::sim

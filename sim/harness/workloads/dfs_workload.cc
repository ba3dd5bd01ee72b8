// The file system (src/dfs, src/master, docs/dfs.md) as a workload.
//
// The cluster of dfs_cluster.h — three journal nodes holding the master's stream, a master,
// four file servers (R = 3) that heartbeat, scrub and repair — and two clients that write files of a few small chunks at new
// paths, read back files they wrote, delete some. An auditor, once the faults have healed and
// repair has had `settle` to work, reads every file that should exist.
// Checked:
//  - exact-reads (invariant 5): a read that succeeds returns exactly the bytes written at that
//    path (paths are never reused, so a path has one content), whoever served it;
//  - no-lost-file: every file whose write was acknowledged and that was not deleted reads back
//    exactly at the audit;
//  - re-protected (liveness): within 3 s of the audit's start the master counts every chunk of
//    every sealed file at R healthy copies;
//  - true-copies: every copy the master counts healthy at the audit has the sealed chunk
//    checksum (DfsCluster::AuditCopies);
//  - liveness: after healing, each client completes an operation.
// Half of each client's reads go to its hot file of the moment (a new one every 5 s), so
// chunks turn hot, get extra copies, and cool again.
// Operations: kWrite writes a new file (now and then partly of another file's chunks, by
// reference), kRead reads one, kCas deletes one, kAppend creates or
// deletes a snapshot (the history's kinds, so tapes and shrinking work as for every workload;
// no linearizability model is checked).
#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "sim/harness/workloads/workloads.h"
#include "sim/harness/workloads/dfs_cluster.h"
#include "src/dfs/dfs_client.h"
#include "src/dfs/file_server.h"
#include "src/rpc/rpc_node.h"
#include "src/runtime/task_group.h"

namespace cairn::sim {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr int kFileServers = 4;
constexpr int kClients = 2;
constexpr int kAuditorProcess = 100;
constexpr size_t kAuditReaders = 4;
constexpr int kAuditAttempts = 3;
constexpr Duration kReprotectBound = std::chrono::seconds(3);  // reads of one file before the auditor calls it lost
constexpr uint32_t kReplication = 3;
constexpr uint32_t kChunkBytes = 16u << 10;  // small chunks: files of several, quickly
constexpr size_t kFileBytesMax = 5 * kChunkBytes;
constexpr Duration kHotPhase = std::chrono::seconds(5);  // how long a client's hot file stays hot

struct Written {
  std::string data;
  bool acked = false;    // WriteFile succeeded
  bool deleted = false;  // a delete succeeded (or may have: see deleting)
  bool deleting = false;  // a delete was tried and its outcome is unknown
};

class DfsWorkload final : public Workload {
 public:
  explicit DfsWorkload(const Scenario&) {}

  void Setup(WorkloadContext& ctx) override {
    ctx_ = &ctx;
    cluster_.Setup(ctx, DfsClusterOptions{.file_servers = kFileServers, .replication = kReplication,
                                          .default_chunk_bytes = kChunkBytes});
    stop_at_ = ctx.end - seconds(1);
    audit_at_ = ctx.chaos_end + (ctx.end - ctx.chaos_end) / 2;
    for (int c = 0; c < kClients; ++c) {
      ctx.nodes.push_back(ctx.world.AddNode(absl::StrCat("client", c), [this, c](Runtime& rt) { return Client(rt, c); }));
    }
    ctx.nodes.push_back(ctx.world.AddNode("auditor", [this](Runtime& rt) { return Auditor(rt); }));
    // The journal keeps its promises with one of three disks corrupted; the file servers with
    // R - 1 of them. One at a time keeps both.
    ctx.corruptible_servers_max = 1;
    ctx.nodes_description = absl::StrCat(cluster_.journal_nodes().size(), " journal nodes, a master, ", kFileServers, " file servers (R=",
                                         kReplication, "), ", kClients, " clients, an auditor");
  }

  std::vector<CheckResult> Check(WorkloadContext& ctx) override;
  std::vector<Figure> Figures() const override;

 private:
  Task<void> Client(Runtime& rt, int process);
  Task<void> Auditor(Runtime& rt);
  dfs::DfsClientOptions ClientOptions(const Runtime& rt) const { return cluster_.ClientOptions(rt); }
  // A successful read of `path` returned `got`.
  void CheckRead(const std::string& path, const std::string& got, const char* who);

  WorkloadContext* ctx_ = nullptr;
  DfsCluster cluster_;
  Instant stop_at_{}, audit_at_{};
  std::map<std::string, Written> files_;  // by path
  CheckResult exact_{"exact-reads"};
  CheckResult lost_{"no-lost-file"};
  bool audited_ = false;
  uint64_t audited_files_ = 0;
  master::DfsMaster::Protection protection_at_audit_;
  bool protection_known_ = false;
  CheckResult true_copies_{"true-copies"};
  DfsCluster::CopiesAudit copies_;
  uint64_t writes_ok_ = 0, writes_failed_ = 0, reads_ok_ = 0, reads_failed_ = 0, deletes_ok_ = 0, snapshot_ops_ = 0;
  uint64_t bytes_written_ = 0;
  uint64_t composed_ = 0;  // files written partly by reference to another file's chunks
};

void DfsWorkload::CheckRead(const std::string& path, const std::string& got, const char* who) {
  auto it = files_.find(path);
  if (it == files_.end()) {
    exact_.Violate(absl::StrCat(who, " read ", path, ", which nobody wrote"), ctx_->world.Now());
  } else if (got != it->second.data) {
    exact_.Violate(absl::StrCat(who, " read ", got.size(), " bytes of ", path, " that differ from the ",
                                it->second.data.size(), " written"),
                   ctx_->world.Now());
  }
}

Task<void> DfsWorkload::Client(Runtime& rt, int process) {
  rpc::RpcNode rpc(rt);
  rpc.Start();
  dfs::DfsClientOptions options = ClientOptions(rt);
  // Client 1 reads like an analysis job: copies in the offline node set first.
  if (process == 1) options.prefer_node_set = DfsCluster::kOfflineSet;
  dfs::DfsClient client(rpc, options);
  std::vector<std::string> mine;  // paths this client wrote (acked or not)
  std::vector<std::string> snapshots;  // its snapshots, oldest first
  for (int n = 0; rt.Now() < stop_at_; ++n) {
    const uint64_t draw = rt.random().Uniform(10);
    OpKind kind = mine.empty() || draw < 4 ? OpKind::kWrite
                  : draw < 8             ? OpKind::kRead
                  : draw < 9             ? OpKind::kCas
                                         : OpKind::kAppend;
    std::string key = mine.empty() ? "" : mine[rt.random().Uniform(mine.size())];
    // Half the reads go to this client's hot file of the moment (a new one every kHotPhase),
    // a few times over: its chunks turn hot, get extra copies, and cool when the next takes over.
    int reads = 1;
    if (kind == OpKind::kRead && rt.random().Chance(0.5)) {
      const size_t phase = static_cast<size_t>((rt.Now() - Instant{}) / kHotPhase);
      key = mine[std::min(mine.size() - 1, phase)];
      reads = 1 + static_cast<int>(rt.random().Uniform(8));
    }
    if (!co_await ctx_->NextOp(rt, process, kind, key)) co_return;
    if (kind == OpKind::kWrite) {
      key = absl::StrCat("/c", process, "/f", n);
      // Now and then an empty file: a seal with no chunks.
      const size_t bytes = rt.random().Uniform(20) == 0 ? 0 : rt.random().Uniform(kFileBytesMax + 1);
      std::string data(bytes, '\0');
      Random fill(rt.random().Next());  // its own stream: one draw in the trace, not one per byte
      for (char& ch : data) ch = static_cast<char>(fill.Uniform(256));
      // Now and then a file made partly of another's chunks, by reference (no byte of them
      // sent): this new data, then some chunks of a file this client wrote, then more.
      std::vector<dfs::FilePiece> pieces;
      std::string expected = data;
      if (const std::string source = mine.empty() ? "" : mine[rt.random().Uniform(mine.size())];
          !source.empty() && rt.random().Chance(0.3) && files_[source].acked && !files_[source].deleted &&
          !files_[source].deleting) {
        absl::StatusOr<dfs::OpenReply> opened = co_await client.Open(source);
        if (opened.ok()) {
          const std::string& source_data = files_[source].data;
          pieces.push_back(dfs::FilePiece{.data = data.substr(0, data.size() / 2)});
          expected = pieces.back().data;
          uint64_t offset = 0;
          for (const dfs::FileChunkProto& c : opened->chunks()) {
            if (rt.random().Chance(0.6) && offset + c.length() <= source_data.size()) {
              pieces.push_back(dfs::FilePiece{.chunk = dfs::ChunkRef{dfs::FromProto(c.id()), c.length(), c.checksum()}});
              expected += source_data.substr(offset, c.length());
            }
            offset += c.length();
          }
          pieces.push_back(dfs::FilePiece{.data = data.substr(data.size() / 2)});
          expected += pieces.back().data;
          ++composed_;
        }
      }
      if (pieces.empty()) pieces.push_back(dfs::FilePiece{.data = std::move(data)});
      files_[key].data = expected;
      mine.push_back(key);
      const uint64_t op = ctx_->history.Invoke(process, OpKind::kWrite, key, std::to_string(bytes), ctx_->world.Now());
      // Now and then a file whose placement asks for a copy in the offline node set.
      std::string node_set = rt.random().Chance(0.3) ? DfsCluster::kOfflineSet : "";
      absl::StatusOr<uint64_t> file = co_await client.WriteFile(key, std::move(pieces), 0, std::move(node_set));
      if (file.ok()) {
        files_[key].acked = true;
        ++writes_ok_;
        bytes_written_ += bytes;
        ctx_->history.Complete(op, OpOutcome::kOk, std::nullopt, ctx_->world.Now());
        ctx_->Completed(process);
      } else {
        ++writes_failed_;
        ctx_->history.Complete(op, OpOutcome::kInfo, std::nullopt, ctx_->world.Now(), file.status().ToString());
      }
    } else if (kind == OpKind::kRead && files_.contains(key)) {
      for (int r = 1; r < reads; ++r) {  // the hot file's extra reads, checked, not in the history
        absl::StatusOr<std::string> got = co_await client.ReadFile(key);
        if (got.ok()) CheckRead(key, *got, "a client");
      }
      const uint64_t op = ctx_->history.Invoke(process, OpKind::kRead, key, std::nullopt, ctx_->world.Now());
      absl::StatusOr<std::string> got = co_await client.ReadFile(key);
      if (got.ok()) {
        CheckRead(key, *got, "a client");
        ++reads_ok_;
        ctx_->history.Complete(op, OpOutcome::kOk, std::nullopt, ctx_->world.Now());
        ctx_->Completed(process);
      } else {
        ++reads_failed_;
        ctx_->history.Complete(op, OpOutcome::kFail, std::nullopt, ctx_->world.Now(), got.status().ToString());
      }
    } else if (kind == OpKind::kCas && files_.contains(key) && rt.Now() < audit_at_) {  // the audit's files stay
      const uint64_t op = ctx_->history.Invoke(process, OpKind::kCas, key, std::nullopt, ctx_->world.Now());
      files_[key].deleting = true;
      absl::Status deleted = co_await client.Delete(key);
      if (deleted.ok()) {
        files_[key].deleted = true;
        ++deletes_ok_;
        ctx_->history.Complete(op, OpOutcome::kOk, std::nullopt, ctx_->world.Now());
        ctx_->Completed(process);
      } else {
        ctx_->history.Complete(op, OpOutcome::kInfo, std::nullopt, ctx_->world.Now(), deleted.ToString());
      }
    } else if (kind == OpKind::kAppend) {
      // A snapshot of a few of its files, or the delete of its oldest snapshot: a file deleted
      // while a snapshot holds it stays (detached) until the snapshot goes.
      const uint64_t op = ctx_->history.Invoke(process, OpKind::kAppend, key, std::nullopt, ctx_->world.Now());
      absl::Status s;
      if (snapshots.size() < 3 && rt.random().Chance(0.7)) {
        std::string name = absl::StrCat("s", process, "-", n);
        std::vector<std::string> paths;
        for (int i = 0; i < 3; ++i) paths.push_back(mine[rt.random().Uniform(mine.size())]);
        std::sort(paths.begin(), paths.end());
        paths.erase(std::unique(paths.begin(), paths.end()), paths.end());
        s = co_await client.Snapshot(name, std::move(paths));
        snapshots.push_back(std::move(name));  // even if unknown: its delete is tried later
      } else if (!snapshots.empty()) {
        s = co_await client.DeleteSnapshot(snapshots.front());
        snapshots.erase(snapshots.begin());
      }
      if (s.ok()) {
        ++snapshot_ops_;
        ctx_->history.Complete(op, OpOutcome::kOk, std::nullopt, ctx_->world.Now());
        ctx_->Completed(process);
      } else {
        ctx_->history.Complete(op, OpOutcome::kInfo, std::nullopt, ctx_->world.Now(), s.ToString());
      }
    }
    co_await rt.Sleep(milliseconds(20 + static_cast<int64_t>(rt.random().Uniform(60))));
  }
}

Task<void> DfsWorkload::Auditor(Runtime& rt) {
  co_await rt.Sleep(audit_at_ - rt.Now());
  rpc::RpcNode rpc(rt);
  rpc.Start();
  const Instant give_up = std::min(rt.Now() + kReprotectBound, ctx_->end - seconds(1));
  std::vector<std::string> paths;
  for (const auto& [path, w] : files_) {
    if (w.acked && !w.deleted && !w.deleting) paths.push_back(path);
  }
  audited_files_ = paths.size();
  // A few readers at once: fault points stay on after the heal (a lost reply costs an RPC
  // attempt's timeout), and the audit must end within the healed phase.
  TaskGroup readers(rt.executor());
  size_t next = 0, running = kAuditReaders;
  for (size_t r = 0; r < kAuditReaders; ++r) {
    readers.Spawn([](DfsWorkload* self, rpc::RpcNode& node, std::vector<std::string>* todo, size_t* at,
                     size_t* live) -> Task<void> {
      dfs::DfsClient client(node, self->ClientOptions(node.runtime()));
      while (*at < todo->size()) {
        const std::string path = (*todo)[(*at)++];
        absl::StatusOr<std::string> got = absl::UnknownError("not read");
        for (int attempt = 0; attempt < kAuditAttempts && !got.ok(); ++attempt) got = co_await client.ReadFile(path);
        const Written& w = self->files_[path];
        if (got.ok()) {
          self->CheckRead(path, *got, "the auditor");
        } else if (!w.deleting) {
          self->lost_.Violate(absl::StrCat(path, " (", w.data.size(), " bytes, acknowledged) cannot be read: ",
                                           got.status().ToString()),
                              self->ctx_->world.Now());
        }
      }
      --*live;
    }(this, rpc, &paths, &next, &running));
  }
  while (running > 0) co_await rt.Sleep(milliseconds(50));
  // Re-protection: the master counts every chunk at R healthy copies within kReprotectBound of
  // the audit's start (repairs under way finish, a report's lag passes), checked after the reads.
  while (true) {
    if (master::MasterService* m = cluster_.master_service(); m != nullptr && m->master() != nullptr) {
      protection_at_audit_ = m->master()->CheckProtection();
      protection_known_ = true;
      if (protection_at_audit_.under_replicated == 0) break;
    }
    if (rt.Now() >= give_up) break;
    co_await rt.Sleep(milliseconds(100));
  }
  copies_ = co_await cluster_.AuditCopies(rpc, ctx_->end - milliseconds(500));
  for (const std::string& w : copies_.wrong) true_copies_.Violate(w, rt.Now());
  audited_ = true;
  ctx_->Completed(kAuditorProcess);
}

std::vector<CheckResult> DfsWorkload::Check(WorkloadContext& ctx) {
  std::vector<CheckResult> out = {exact_, lost_, true_copies_};
  CheckResult protected_check{"re-protected"};
  protected_check.liveness = true;
  if (!protection_known_) {
    protected_check.Violate("no master was serving when the audit began");
  } else if (protection_at_audit_.under_replicated > 0) {
    protected_check.Violate(absl::StrCat(protection_at_audit_.under_replicated, " of ", protection_at_audit_.chunks,
                                         " chunks were short of R healthy copies ", FormatDuration(kReprotectBound),
                                         " into the audit (", protection_at_audit_.lost,
                                         " with none): ", absl::StrJoin(protection_at_audit_.examples, "; ")));
  }
  out.push_back(protected_check);
  std::vector<std::pair<int, std::string>> live;
  for (int c = 0; c < kClients; ++c) live.emplace_back(c, absl::StrCat("client ", c));
  live.emplace_back(kAuditorProcess, "the auditor");
  CheckResult liveness = ctx.Liveness(live, ctx.chaos_end);
  if (!audited_) liveness.Violate("the audit did not finish");
  out.push_back(liveness);
  return out;
}

std::vector<Figure> DfsWorkload::Figures() const {
  const DfsCluster::Totals t = cluster_.totals();
  return {{"files written", writes_ok_},
          {"writes failed", writes_failed_},
          {"bytes written", bytes_written_},
          {"files made with referenced chunks", composed_},
          {"reads", reads_ok_},
          {"reads failed", reads_failed_},
          {"deletes", deletes_ok_},
          {"snapshots created or deleted", snapshot_ops_},
          {"files audited", audited_files_},
          {"counted copies checked", copies_.checked},
          {"master terms", t.master_terms},
          {"master checkpoints", t.master.checkpoints},
          {"stream records the master had not appended", t.master.foreign_applied},
          {"chunks copied by repair", t.chunks_copied},
          {"chunks turned hot", t.master.chunks_turned_hot},
          {"hot chunks cooled", t.master.chunks_cooled},
          {"hot extra copies ordered", t.master.hot_copies_ordered},
          {"surplus copies shed", t.master.copies_shed},
          {"garbage chunks removed", t.garbage_removed},
          {"damaged copies found", t.damage_found}};
}

}  // namespace

const WorkloadInfo& DfsWorkloadInfo() {
  static const WorkloadInfo info = [] {
    WorkloadInfo w;
    w.name = "dfs";
    w.title = "file system (master over a journal stream, 4 file servers, R=3)";
    w.description =
        "The DFS (docs/dfs.md): a master whose namespace lives in a journal stream on 3 journal\n"
        "nodes, 4 file servers holding chunks (R=3) that heartbeat, scrub and repair, 2 clients\n"
        "writing, reading and deleting files, and an auditor reading every file after the heal.\n"
        "Checks: exact-reads (invariant 5), no-lost-file, true-copies, re-protected, liveness.";
    w.canaries = {
        {"skip-read-checks", "readers and file servers take a chunk's bytes without checking them",
         {fault::FaultKind::kDiskErrors, fault::FaultKind::kCorruption}, milliseconds(300)},
        {"ack-before-sync", "a file server acknowledges a chunk before it is durable",
         {fault::FaultKind::kPowerLoss, fault::FaultKind::kCrashRestart}, milliseconds(300)},
        {"delete-ignores-references", "the master removes a deleted file's chunks that other files still reference",
         {fault::FaultKind::kCrashRestart}, milliseconds(300)},
        {"copy-from-corrupt-source", "a repair stores its source's bytes without checking them",
         {fault::FaultKind::kCorruption, fault::FaultKind::kCrashRestart}, milliseconds(300)},
    };
    w.probe_dirs = {"src/dfs", "src/master"};
    w.knob_prefixes = {"rpc_", "net_", "log_", "raft_", "nodelog_", "dfs_"};
    w.chaos = seconds(10);
    w.heal = seconds(10);
    for (int k = 0; k < static_cast<int>(fault::FaultKind::kCount); ++k) {
      w.fault_kinds.push_back(static_cast<fault::FaultKind>(k));
    }
    w.make = [](const Scenario& s) { return std::make_unique<DfsWorkload>(s); };
    return w;
  }();
  return info;
}

}  // namespace cairn::sim

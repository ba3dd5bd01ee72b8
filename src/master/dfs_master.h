// DfsMaster: the master's DFS role (docs/dfs.md, "The master's DFS state").
//
// Replicated: the Namespace, as a state machine over a journal stream. Every change is a
// NamespaceCommand appended to the stream and applied, in position order, once the append is
// durable; the outcome is a function of the state and the command, so a master that replays
// the stream from its start reaches the same state and the same outcomes. The master holds a
// writer that fenced the stream: a master another one has fenced since finds its next append
// refused, and stops. An append that fails or times out also stops it (the command may or may
// not be in the stream, so this master's state may lag it); its caller reopens, which replays.
//
// Not replicated, rebuilt from the servers within one heartbeat after a (re)open: which
// servers are alive, what each holds healthy. Silence is measured on this node's own
// monotonic clock, so no skew between machines enters failure detection: a server silent for
// `suspect_after` gets no new chunks, for `dead_after` its copies stop counting.
//
// Repair: every `repair_interval`, each chunk of a retained sealed file with fewer healthy
// copies than its file's replication (and at least one) is copied, most endangered first,
// onto a server that lacks it: the target fetches it from a holder and checks it end to end
// against the sealed checksum (dfs.copy_chunk). At most `copies_inflight_max` copies at once.
//
// Shedding: a chunk with more healthy copies than its replication (a server declared dead came
// back after its copies were replaced) has the surplus removed, from the most loaded servers
// first, while at least `replication` other copies are on servers heard from lately and listed
// in their own reports; the order goes out with the server's next heartbeat answer, checked
// again then, and only while this master's term is proven recent (a commit within a tick; a
// new term sheds nothing for two ticks), so a deposed master and its successor never shed at
// once.
//
// Hot chunks: servers report the reads they served per chunk (the busiest) with each
// heartbeat; every repair pass (the timed ones) turns the reads heard since the last into a
// rate and smooths it over time (a time constant of 2 s). A chunk of a retained file whose
// rate reaches `hot_reads_per_s` turns hot (the hottest first, at most `hot_chunks_max` at once) and its
// wanted copies become its replication plus `hot_extra_copies`: repair makes the extras, on
// the least loaded servers, after every endangered chunk; readers already spread over every
// copy the master lists. Once its rate falls below half the threshold it cools, and shedding
// takes the extras back. Heat is per chunk, since a chunk may be in several files; a hot
// file is one whose chunks are read. Extras never count toward protection (CheckProtection
// and `fsck` go by the file's replication), and heat is not replicated: a new master starts
// cold and sheds extras nobody reads any more.
//
// Garbage: a heartbeat is answered with the chunks the server holds that no file retains.
// Garbage is forever — a chunk no retained file contains can never be referenced again (a
// reference needs a live chunk, and file ids are never reused) — so a deposed master, whose
// state is a prefix of the stream, never names a chunk the current master needs; a chunk of an
// open file, or of a file this master has not heard of, is never garbage.
//
// Checkpoints: every checkpoint_records records the master appends its whole namespace as of
// the last record it applied (a CheckpointCommand), and trims the stream behind the checkpoint
// before it — a margin of one interval, so that an append of its own still on its way (a
// retry's first attempt, a duplicated message) almost never finds its first landing trimmed.
// If one does, the journal takes it for a new record: a record this master never appended,
// at a position no Commit waits for. The master applies every record of the stream in
// position order, its own or not: when the first position it holds is past the next to
// apply, it waits for the appends it had started by then to return, and reads the records
// still missing from the stream and applies them (stats: foreign_applied). Such a record is a
// command applied twice; commands carry no ids yet, so a duplicate delete of a path created
// again since would take the new file (docs/dfs.md, "Checkpoints": the margin makes it a
// duplicate delayed past a whole checkpoint interval). A master whose stream does not start at
// 1 replays from the first checkpoint that covers its start.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "src/dfs/dfs.pb.h"
#include "src/lsm/journal.h"
#include "src/master/namespace.h"
#include "src/rpc/rpc_node.h"
#include "src/runtime/knobs.h"
#include "src/runtime/notifier.h"
#include "src/runtime/probes.h"
#include "src/runtime/runtime.h"
#include "src/runtime/task_group.h"

namespace cairn::master {

struct DfsMasterOptions {
  uint32_t default_replication = 3;
  Duration suspect_after = std::chrono::seconds(3);
  Duration dead_after = std::chrono::seconds(8);
  Duration repair_interval = std::chrono::milliseconds(500);
  size_t copies_inflight_max = 8;
  // An open file its writer has not sealed after this long (since this master first saw it)
  // is aborted, and its chunks become garbage.
  Duration open_file_ttl = std::chrono::minutes(5);
  Duration call_timeout = std::chrono::seconds(5);
  // A master that has appended nothing for this long appends a tick (TickCommand), so that
  // standby candidates see the stream move while it serves (master_service.h).
  Duration tick_interval = std::chrono::seconds(1);
  // After this many records since the last checkpoint, the master appends its whole namespace
  // (CheckpointCommand) and trims the stream behind it, so replay reads a bounded stream.
  uint64_t checkpoint_records = 50000;
  // A namespace bigger than this is not checkpointed (one journal record holds it): the stream
  // then grows, and the master says so in its log.
  size_t checkpoint_bytes_max = 4u << 20;  // well under a network message's bound (net_message_bytes_max)
  size_t replay_read_bytes = 1u << 20;  // one journal read during replay
  size_t garbage_per_heartbeat_max = 4096;
  size_t sheds_per_pass_max = 256;  // surplus copies ordered removed per repair pass
  // Hot chunks (above): 0 reads per second turns the extras off.
  uint32_t hot_reads_per_s = 200;
  uint32_t hot_extra_copies = 2;
  size_t hot_chunks_max = 64;
  // Canary (docs/simulation.md): a chunk goes with the file it came from, though other files
  // still reference it. The dfs workload's sweeps must catch it.
  bool canary_delete_ignores_references = false;

  // The defaults, with the failure detection and repair pacing the knobs say.
  static DfsMasterOptions FromKnobs(const Knobs& knobs) {
    DfsMasterOptions o;
    o.suspect_after = std::chrono::milliseconds(knobs.dfs_suspect_after_ms);
    o.dead_after = std::chrono::milliseconds(knobs.dfs_dead_after_ms);
    o.repair_interval = std::chrono::milliseconds(knobs.dfs_repair_interval_ms);
    o.copies_inflight_max = static_cast<size_t>(knobs.dfs_copies_inflight_max);
    o.hot_reads_per_s = static_cast<uint32_t>(knobs.dfs_hot_reads_per_s);
    o.hot_extra_copies = static_cast<uint32_t>(knobs.dfs_hot_extra_copies);
    o.checkpoint_records = static_cast<uint64_t>(knobs.dfs_master_checkpoint_records);
    return o;
  }
};

struct DfsMasterStats {
  uint64_t replayed = 0;           // commands applied from the stream at open
  uint64_t commands = 0;           // committed since
  uint64_t commands_refused = 0;   // committed, and refused by the namespace
  uint64_t heartbeats = 0;
  uint64_t copies_ordered = 0, copies_done = 0, copies_failed = 0;
  uint64_t garbage_ordered = 0;    // chunks servers were told to remove
  uint64_t copies_shed = 0;        // surplus copies of live chunks servers were told to remove
  uint64_t damaged_removed = 0;    // damaged copies removed once their chunk was whole elsewhere
  uint64_t servers_declared_dead = 0;
  uint64_t open_files_expired = 0;
  uint64_t bad_reports = 0;
  uint64_t chunks_turned_hot = 0, chunks_cooled = 0;  // hot-chunk extras given and taken back
  uint64_t hot_copies_ordered = 0;  // copies ordered for a chunk at its file's replication already
  uint64_t checkpoints = 0;        // written (and the stream trimmed behind them)
  uint64_t foreign_applied = 0;    // records in the stream this master did not append, applied

  // Adds `o`'s counts (a candidate's totals over its terms).
  void Add(const DfsMasterStats& o);
};

class DfsMaster {
 public:
  // Replays the namespace from `journal` — a writer that has fenced the master's stream — and
  // returns the master, which serves once Start is called. `journal` outlives it.
  static Task<absl::StatusOr<std::unique_ptr<DfsMaster>>> Open(Runtime& rt, rpc::RpcNode& rpc, lsm::Journal& journal,
                                                               DfsMasterOptions options, Probes probes = {});
  ~DfsMaster();
  DfsMaster(const DfsMaster&) = delete;
  DfsMaster& operator=(const DfsMaster&) = delete;

  // Starts repair and expiry.
  void Start();
  // Returns once this master stopped: the journal refused or lost an append. Final.
  Task<absl::Status> Failed();
  bool failed() const { return !failure_.ok(); }

  // The requests of dfs.proto's namespace half (MasterService routes them here). An error a
  // client caused is the namespace's status; a stopped master answers Unavailable.
  Task<absl::StatusOr<dfs::CreateReply>> Create(dfs::CreateRequest request);
  Task<absl::StatusOr<dfs::PlaceReply>> Place(dfs::PlaceRequest request);
  Task<absl::StatusOr<dfs::SealReply>> Seal(dfs::SealRequest request);
  Task<absl::StatusOr<dfs::OpenReply>> OpenFile(dfs::OpenRequest request);
  Task<absl::StatusOr<dfs::DeleteReply>> Delete(dfs::DeleteRequest request);
  Task<absl::StatusOr<dfs::AbortReply>> Abort(dfs::AbortRequest request);
  Task<absl::StatusOr<dfs::ListReply>> List(dfs::ListRequest request);
  Task<absl::StatusOr<dfs::SnapshotReply>> Snapshot(dfs::SnapshotRequest request);
  Task<absl::StatusOr<dfs::DeleteSnapshotReply>> DeleteSnapshot(dfs::DeleteSnapshotRequest request);
  dfs::HeartbeatReply Heartbeat(NodeId server, const dfs::HeartbeatRequest& request);
  dfs::ReportBadReply ReportBad(const dfs::ReportBadRequest& request);

  const Namespace& ns() const { return ns_; }
  const DfsMasterStats& stats() const { return stats_; }
  // Healthy copies of `id` on servers not declared dead, as this master knows them.
  std::vector<NodeId> HealthyCopies(dfs::ChunkId id) const;
  // Chunks of retained sealed files with fewer healthy copies than their file's replication,
  // and those with none.
  struct Protection {
    uint64_t chunks = 0, under_replicated = 0, lost = 0;
    std::vector<std::string> examples;  // the first few short chunks, with their copies
  };
  Protection CheckProtection() const;

 private:
  struct Server {
    Instant last_heard;
    std::string node_set;
    // Healthy copies it reported, or was acknowledged for since, each with the number of
    // reports processed when it was last confirmed. A report lists what the server held when
    // it was made, after the answer to its previous report: a copy acknowledged before that
    // previous report was processed is in it, or gone; one acknowledged since may be missing
    // from it only because it is newer.
    std::map<dfs::ChunkId, uint64_t> held;
    uint64_t reports = 0;
    bool dead = false;
    // Surplus copies to remove at its next heartbeat, each with the healthy copies its chunk
    // must still have elsewhere then.
    std::map<dfs::ChunkId, uint32_t> shed;
    // Copies its own reports listed (not only a put's or copy's acknowledgement).
    std::set<dfs::ChunkId> listed;
    bool Confirmed(dfs::ChunkId id) const { return listed.contains(id); }
  };

  DfsMaster(Runtime& rt, rpc::RpcNode& rpc, lsm::Journal& journal, DfsMasterOptions options, Probes probes);
  Task<absl::Status> Replay();
  // Appends `command`, applies it in position order, and returns its outcome.
  Task<absl::StatusOr<Namespace::Outcome>> Commit(NamespaceCommand command);
  // Commit, for a command whose outcome is its status alone.
  Task<absl::Status> CommitChecked(NamespaceCommand command);
  void ApplyReady();
  // Applies one command of the stream, with the master's bookkeeping of open files.
  Namespace::Outcome ApplyOne(const NamespaceCommand& command);
  // Reads in and applies the records before the first of its own this master holds that are
  // not its own (see Checkpoints above), once the appends in flight when it looked returned.
  Task<void> FillGap();
  void Fail(absl::Status s);
  absl::Status Serving() const;
  bool Placeable(NodeId server) const;
  bool Alive(NodeId server) const;
  // Up to `count` placeable servers, none of `exclude`, the least loaded first (ties drawn at
  // random); one in `node_set` first when it is named and one is placeable.
  std::vector<NodeId> Pick(size_t count, const std::set<NodeId>& exclude, const std::string& node_set);
  void Hold(NodeId server, dfs::ChunkId id);
  void Forget(NodeId server, dfs::ChunkId id);
  bool IsGarbage(dfs::ChunkId id) const;
  Task<void> RepairLoop();
  Task<void> TickLoop();
  // Appends the namespace as of the last applied record, then trims the stream behind it.
  Task<void> Checkpoint();
  void RepairPass();
  // Turns the reads heard since the last pass into rates, and chunks hot or cool.
  void UpdateHeat();
  // What a chunk of a retained sealed file wants, as a repair pass works it out.
  struct WantedCopies {
    uint32_t file_replication = 0;  // the most any file containing it asks for
    uint32_t replication = 0;       // that, plus the extras of a hot chunk
    const dfs::ChunkRef* ref = nullptr;  // its length and checksum
    const std::string* node_set = nullptr;  // a node set a file containing it asks a copy in
  };
  // Orders surplus copies removed (see Shedding above), keeping the last copy in its node set.
  void ShedSurplus(const std::map<dfs::ChunkId, WantedCopies>& want);
  // How many of `servers` are in `node_set`.
  size_t InSet(const std::vector<NodeId>& servers, const std::string& node_set) const;
  // Copies of `id` on servers heard from lately whose own reports listed them.
  size_t ListedCopies(dfs::ChunkId id) const;
  Task<void> Copy(dfs::ChunkId id, uint32_t length, uint32_t checksum, NodeId target, std::vector<NodeId> sources);
  Task<void> Scrub(NodeId server, dfs::ChunkId id);
  // Each chunk of `file` with its healthy copies, those on servers in `prefer_node_set` first.
  void ListChunks(const FileInfo& file, const std::string& prefer_node_set,
                  google::protobuf::RepeatedPtrField<dfs::FileChunkProto>* out) const;

  Runtime& rt_;
  rpc::RpcNode& rpc_;
  lsm::Journal& journal_;
  const DfsMasterOptions options_;
  const Probes probes_;
  Namespace ns_;
  uint64_t last_checkpoint_ = 0;    // as_of of the newest checkpoint tried or replayed (pacing)
  uint64_t newest_checkpoint_ = 0;  // as_of of the newest checkpoint in the stream (trimming)
  std::set<uint64_t> appending_;    // tickets of the Commits whose append has not returned
  uint64_t next_append_ticket_ = 0;
  bool filling_ = false;            // FillGap runs
  Instant serving_since_{};   // Start
  Instant last_commit_ok_{};  // the last append the journal accepted: this term was current then
  Instant last_append_{};  // when this master last appended (a command or a tick)
  uint64_t next_apply_ = 0;  // the stream position applied next
  std::map<uint64_t, NamespaceCommand> appended_;  // durable, waiting for earlier positions
  std::map<uint64_t, Namespace::Outcome> outcomes_;  // applied, waiting for their caller
  Notifier applied_;
  absl::Status failure_;
  Notifier failed_;
  std::map<NodeId, Server> servers_;
  std::map<dfs::ChunkId, std::set<NodeId>> where_;  // healthy copies, by chunk
  std::set<dfs::ChunkId> copying_;
  struct Heat {
    uint64_t window_reads = 0;  // heard since the last pass
    uint64_t milli_rate = 0;    // smoothed, in thousandths of a read per second
    bool hot = false;
  };
  static constexpr size_t kHeatTrackedMax = 1 << 16;  // chunks whose reads are followed
  static constexpr uint64_t kWindowReadsMax = uint64_t{1} << 32;  // reads one window counts
  static constexpr uint64_t kHeatSmoothingMs = 2000;  // the rate's time constant
  std::map<dfs::ChunkId, Heat> heat_;
  Instant heat_updated_{};
  std::map<FileId, Instant> open_since_;  // open files, since this master saw them open
  DfsMasterStats stats_;
  TaskGroup tasks_;  // last
};

}  // namespace cairn::master

// FileServer: a node's file-server role — its ChunkStore served over RPC (dfs.proto):
//
//   dfs.put_chunk      store a chunk durably (checked before it is written)
//   dfs.read_chunk     whole verified blocks of a chunk, with its block table
//   dfs.list_chunks    every chunk held
//   dfs.remove_chunks  drop chunks the master found to be garbage
//   dfs.copy_chunk     the master's repair order: fetch a chunk from a peer, check it end to
//                      end against its sealed checksum, store it
//   dfs.scrub_chunk    re-read one chunk now (a reader reported it bad)
//   dfs.scan           the coprocessor: scan one SSTable here, answer with the result only
//                      (coprocessor.h)
//
// Every request is checked for sizes and ids before it reaches the store; what is wrong with
// it is InvalidArgument, a chunk that is not here NotFound, a damaged one DataLoss.
//
// Run adds the server's own work: a heartbeat to the master every `heartbeat_interval` with
// every chunk it holds healthy (a copy its reads or scrubs found damaged is reported as such,
// and not counted, until a put replaces it or a later scrub finds it whole: the read that
// failed may have failed once), removing the garbage the master answers with;
// and a scrub that re-reads one chunk every `scrub_interval`, round the store. The heartbeat
// also carries the read load: reads served per chunk since the last report a master answered
// (the master gives the hottest chunks extra copies: dfs_master.h).
//
// The chunk client's side (PutChunk, ReadChunk) computes the checksums a put carries and
// checks a read's reply end to end against the chunk checksum the caller trusts (the master's
// record), so a server that serves wrong bytes, whatever the reason, is caught by the reader.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "src/dfs/chunk_format.h"
#include "src/dfs/chunk_store.h"
#include "src/dfs/dfs.pb.h"
#include "src/rpc/rpc_node.h"
#include "src/runtime/knobs.h"
#include "src/runtime/task_group.h"

namespace cairn::dfs {

// Bounds on a request: ids in one remove, bytes in one read.
constexpr size_t kRemoveIdsMax = 1 << 16;
constexpr uint64_t kReadBytesMax = kChunkBytesMax;
constexpr int kCopySourcesMax = 16;
// Read load: chunks counted between reports (a read of a chunk past this many is not counted),
// and reported in one heartbeat (the busiest).
constexpr size_t kLoadTrackedChunksMax = 4096;
constexpr size_t kLoadReportChunksMax = 64;
// Reports of bad peer copies in flight at once (more are dropped: the scrub finds them).
constexpr size_t kReportsRunningMax = 16;

struct FileServerOptions {
  std::vector<NodeId> masters;  // where the master may be (any of them: the others refuse)
  std::string node_set = "online";
  Duration heartbeat_interval = std::chrono::seconds(1);
  Duration scrub_interval = std::chrono::milliseconds(200);  // one chunk each
  Duration call_timeout = std::chrono::seconds(2);
  // Canary (docs/simulation.md): a repair copies its source's bytes as they come, unchecked,
  // and stores them with checksums of its own making.
  bool canary_copy_unchecked = false;

  // The defaults, with the intervals the knobs say.
  static FileServerOptions FromKnobs(const Knobs& knobs) {
    FileServerOptions o;
    o.heartbeat_interval = std::chrono::milliseconds(knobs.dfs_heartbeat_ms);
    o.scrub_interval = std::chrono::milliseconds(knobs.dfs_scrub_interval_ms);
    return o;
  }
};

struct FileServerStats {
  uint64_t heartbeats = 0, heartbeats_failed = 0;
  uint64_t garbage_removed = 0;
  uint64_t copies = 0, copies_failed = 0;
  uint64_t bad_copies_reported = 0;  // peers' copies that served damaged blocks to a copy or scan
  uint64_t damaged_found = 0;
  uint64_t damage_cleared = 0;  // copies marked damaged that a later scrub found whole
  uint64_t scans = 0;           // coprocessor scans answered
  uint64_t reads = 0;           // read_chunk requests answered
};

class FileServer {
 public:
  FileServer(rpc::RpcNode& rpc, ChunkStore& store, FileServerOptions options = {})
      : rpc_(rpc), store_(store), options_(std::move(options)), reports_(rpc.runtime().executor()) {}
  ~FileServer() { rpc_.CancelHandlers(); }
  FileServer(const FileServer&) = delete;
  FileServer& operator=(const FileServer&) = delete;

  // Registers the dfs.* chunk methods; before rpc.Start().
  void RegisterMethods();
  // Heartbeats and scrubs until cancelled.
  Task<void> Run();

  const FileServerStats& stats() const { return stats_; }

 private:
  Task<void> HeartbeatOnce();
  Task<void> ScrubNext();
  // Tells the master that `server`'s copy of `id` failed an end-to-end check here (a copy's or
  // a scan's: peers send their blocks unchecked), so it has that server scrub it. Best effort,
  // in the background: a lost report leaves the copy to its server's own scrub.
  void ReportBad(ChunkId id, NodeId server, absl::Status error);
  Task<void> SendReportBad(ChunkId id, NodeId server, absl::Status error);
  // `method` on each master candidate once, the last that answered first, until one answers
  // (only the serving master does): a master that just took over hears from this server now.
  template <typename Reply, typename Request>
  Task<absl::StatusOr<Reply>> CallMaster(std::string method, Request request);
  // A read or scrub of `id` ended in `s`: a DataLoss marks the copy damaged; an OK (a scrub of
  // the whole chunk) clears the mark.
  void Note(ChunkId id, const absl::Status& s);
  // A read of `id` was served: counted for the next report.
  void CountRead(ChunkId id);

  rpc::RpcNode& rpc_;
  ChunkStore& store_;
  const FileServerOptions options_;
  std::set<ChunkId> damaged_;      // held, but found damaged: reported, not counted
  std::set<ChunkId> newly_damaged_;  // since the last heartbeat the master answered
  size_t master_guess_ = 0;        // index in options_.masters
  std::vector<ChunkId> scrub_queue_;  // the rest of the scrub's pass, last first
  std::map<ChunkId, uint32_t> reads_;  // served since the last answered report (bounded)
  FileServerStats stats_;
  size_t reports_running_ = 0;  // ReportBad's, at most kReportsRunningMax
  TaskGroup reports_;           // last: its tasks use the members above
};

// A chunk's identity on the wire, both ways (FromProto checks nothing: see the servers' checks).
ChunkIdProto ToProto(ChunkId id);
inline ChunkId FromProto(const ChunkIdProto& p) { return ChunkId{p.file(), p.index()}; }

// The client's side. Both are one attempt at one server; choosing another replica is the
// caller's.
Task<absl::Status> PutChunk(rpc::RpcNode& rpc, NodeId server, ChunkId id, std::string data, Instant deadline);
// Exactly bytes [offset, offset + length) of `chunk`, checked against its chunk checksum.
// `canary_unchecked`: the planted bug of the skip-read-checks canary, which takes the served
// bytes as they come.
Task<absl::StatusOr<std::string>> ReadChunk(rpc::RpcNode& rpc, NodeId server, ChunkRef chunk, uint64_t offset,
                                            uint64_t length, Instant deadline, bool canary_unchecked = false);
// The chunk checksum `server`'s copy of `id` is served with (its block table, read without
// its data). A copy whose checksum is not the sealed one is not the sealed chunk, whatever
// its own block checks say.
Task<absl::StatusOr<uint32_t>> ReadCopyChecksum(rpc::RpcNode& rpc, NodeId server, ChunkId id, Instant deadline);
// The read_chunk reply of blocks read from a store (what a server sends, and what it checks
// itself when it reads its own copy: the coprocessor).
ReadChunkReply ReplyOf(ChunkStore::Blocks blocks);
// ReadChunk's check of a reply, alone: DataLoss unless the reply's table matches the chunk
// checksum and its blocks match the table and cover the range.
absl::StatusOr<std::string> CheckReadReply(const ChunkRef& chunk, uint64_t offset, uint64_t length,
                                           ReadChunkReply reply, bool canary_unchecked = false);

}  // namespace cairn::dfs

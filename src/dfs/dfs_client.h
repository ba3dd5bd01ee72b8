// DfsClient: files on the DFS, as a program uses them (docs/dfs.md, "Write and seal", "Reads").
//
// WriteFile creates the path at the master, cuts the bytes into chunks of `chunk_bytes`, puts
// each chunk on the file's R servers at once, replaces a server that fails (dfs.place) for the
// chunks it lacked, and seals the file once every chunk is durable on R servers. A file never
// sealed (the writer gave up) is aborted, here or by the master's expiry. A file written piece
// by piece, as it is produced, goes through a DfsWriter (dfs_writer.h), which WriteFile uses.
//
// Read returns exactly bytes of the sealed file or an error, never other bytes (invariant 5):
// each chunk's bytes are checked end to end against the sealed checksum the master recorded,
// and a copy that fails the check, or a server that fails, is reported (dfs.report_bad) and
// another copy is read.
//
// Every master call goes to the candidate that answered last, and on to the next when one
// refuses (not the master) or does not answer, until the operation's deadline.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "src/dfs/chunk_format.h"
#include "src/dfs/dfs.pb.h"
#include "src/rpc/rpc_node.h"
#include "src/runtime/knobs.h"

namespace cairn::dfs {

struct DfsClientOptions {
  std::vector<NodeId> masters;  // the master's candidates
  uint32_t chunk_bytes = 2u << 20;  // at most kChunkBytesMax
  Duration call_timeout = std::chrono::seconds(2);
  Duration operation_timeout = std::chrono::seconds(30);  // one master call, or one chunk's puts or read
  Duration retry_backoff = std::chrono::milliseconds(50);
  // Chunks a writer puts, or a reader reads, at once.
  size_t chunks_inflight_max = 4;
  // Servers tried for one chunk beyond its R (replacements for those that failed).
  int replacements_per_chunk_max = 6;
  // Reads try copies on servers of this node set first ("": any copy), so that analysis reads
  // stay off the servers that serve traffic.
  std::string prefer_node_set;
  bool canary_skip_checksum = false;  // planted bug: reads take served bytes unchecked

  // The defaults, with the chunk size the knobs say.
  static DfsClientOptions FromKnobs(const Knobs& knobs) {
    DfsClientOptions o;
    o.chunk_bytes = static_cast<uint32_t>(knobs.dfs_chunk_bytes);
    return o;
  }
};

// A piece of a file to write: new bytes, or a chunk of a sealed file by reference (its id,
// length and checksum as dfs.open lists them), of which no byte is sent (docs/dfs.md, "Files
// from existing chunks").
struct FilePiece {
  std::string data;               // new bytes, when `chunk` is unset
  std::optional<ChunkRef> chunk;  // a live chunk of a sealed file
};

struct DfsClientStats {
  uint64_t chunks_put = 0;
  uint64_t bytes_sent = 0;
  uint64_t bytes_referenced = 0;  // bytes of files written by reference to existing chunks
  uint64_t servers_replaced = 0;
  uint64_t bad_copies_reported = 0;
  uint64_t reads_failed_over = 0;
  std::map<NodeId, uint64_t> chunks_read_from;  // chunk reads answered, by server
};

class DfsClient {
 public:
  DfsClient(rpc::RpcNode& rpc, DfsClientOptions options);

  // Writes `data` as the sealed file `path` with `replication` copies of each chunk (0: the
  // master's default). Returns the file's id.
  Task<absl::StatusOr<uint64_t>> WriteFile(std::string path, std::string data, uint32_t replication = 0,
                                           std::string node_set = "");
  // Writes the sealed file `path` made of `pieces` in order: new bytes are cut into chunks and
  // put as WriteFile puts them; referenced chunks join the file as they are (the master
  // refuses a reference to a chunk that is not live, or whose length or checksum differ).
  Task<absl::StatusOr<uint64_t>> WriteFile(std::string path, std::vector<FilePiece> pieces, uint32_t replication = 0,
                                           std::string node_set = "");
  // Gives up on the open file `file` (a writer's that will never seal it).
  Task<absl::Status> Abort(uint64_t file);
  Task<absl::StatusOr<OpenReply>> Open(std::string path);
  // Bytes [offset, offset + length) of an opened file.
  Task<absl::StatusOr<std::string>> Read(const OpenReply& file, uint64_t offset, uint64_t length);
  Task<absl::StatusOr<std::string>> ReadFile(std::string path);
  Task<absl::Status> Delete(std::string path);
  Task<absl::StatusOr<ListReply>> List(std::string prefix);
  // The coprocessor (coprocessor.h): `request`'s scan of the SSTable at `path`, run on the
  // server holding most of its chunks (another if that one fails); the file fields of the
  // request are filled from the open.
  Task<absl::StatusOr<ScanReply>> Scan(std::string path, ScanRequest request);
  Task<absl::Status> Snapshot(std::string name, std::vector<std::string> paths);
  Task<absl::Status> DeleteSnapshot(std::string name);

  const DfsClientStats& stats() const { return stats_; }

 private:
  friend class DfsWriter;  // writes through CallMaster and PutEverywhere, and counts in stats_

  // Calls `method` on the master, trying the candidates in turn until `deadline`.
  template <typename Reply, typename Request>
  Task<absl::StatusOr<Reply>> CallMaster(std::string method, Request request, Instant deadline);
  // Puts chunk `id` on `servers` and, for those that fail, on replacements; returns the servers
  // that hold it durably (at least `replication`) or an error.
  Task<absl::StatusOr<std::vector<NodeId>>> PutEverywhere(uint64_t file, ChunkId id, const std::string& data,
                                                          std::vector<NodeId> servers, uint32_t replication,
                                                          Instant deadline);

  // Bytes [offset, offset + length) of one chunk, from any copy that passes the check; bad
  // copies are reported.
  Task<absl::StatusOr<std::string>> ReadPiece(uint64_t file, FileChunkProto chunk, uint64_t offset, uint64_t length,
                                              Instant deadline);

  rpc::RpcNode& rpc_;
  const DfsClientOptions options_;
  size_t master_guess_ = 0;
  DfsClientStats stats_;
};

}  // namespace cairn::dfs

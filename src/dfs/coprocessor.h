// The coprocessor (docs/dfs.md, "Coprocessor"): a scan of one SSTable that runs on a file
// server, next to the data, and returns only its result — a count, a sum, a minimum or
// maximum, or the matching rows up to a limit — instead of the file.
//
// ScanSst is the scan itself, over any File: keys in the request's range and prefix, per key
// the newest row at or below the snapshot unless it is a delete, filtered by a value predicate,
// aggregated. SUM, MIN and MAX read values as decimal 64-bit integers; a matched value that is
// not one is counted (not_numeric) and skipped; a sum that overflows is OutOfRange.
//
// SealedChunksFile is the file a server scans: a sealed file named by its chunks. A chunk the
// server holds is read from its store, any other from the servers listed for it; every read
// is checked end to end against the chunk's sealed checksum, so the scan sees exactly the
// sealed bytes or fails (invariant 5), whoever served them.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "src/dfs/chunk_store.h"
#include "src/dfs/dfs.pb.h"
#include "src/rpc/rpc_node.h"
#include "src/runtime/disk.h"

namespace cairn::dfs {

// Bounds on one scan: its answer, the servers named per chunk, and one read of the file (the
// SSTable's own index says how much to read, and the request is the caller's to make up).
constexpr uint32_t kScanRowsMax = 10'000;
constexpr uint64_t kScanReplyRowBytesMax = 4u << 20;
constexpr int kScanServersPerChunkMax = 16;
constexpr uint64_t kScanReadBytesMax = 256u << 20;

// Checks a request's own fields (the chunks are checked as they are read).
absl::Status ValidateScan(const ScanRequest& request);

Task<absl::StatusOr<ScanReply>> ScanSst(File& file, std::string name, const ScanRequest& request);

class SealedChunksFile final : public File {
 public:
  // Every read fails once `deadline` (the caller's) has passed; a peer read waits at most
  // `call_timeout` within it.
  SealedChunksFile(rpc::RpcNode& rpc, ChunkStore& store, const ScanRequest& request, Duration call_timeout,
                   Instant deadline);

  Task<absl::StatusOr<std::string>> Read(uint64_t offset, size_t length) override;
  Task<absl::Status> Write(uint64_t, std::string) override { co_return ReadOnly(); }
  Task<absl::Status> Append(std::string) override { co_return ReadOnly(); }
  Task<absl::Status> Sync() override { co_return absl::OkStatus(); }
  Task<absl::Status> Truncate(uint64_t) override { co_return ReadOnly(); }
  Task<absl::StatusOr<uint64_t>> Size() override { co_return length_; }

  uint64_t bytes_read() const { return bytes_read_; }
  uint64_t bytes_from_peers() const { return bytes_from_peers_; }
  // Copies that failed their end-to-end check (here or on a peer), for the server to note or
  // report; at most kBadCopiesMax.
  struct BadCopy {
    NodeId server;
    ChunkId id;
    absl::Status error;
  };
  const std::vector<BadCopy>& bad_copies() const { return bad_copies_; }
  static constexpr size_t kBadCopiesMax = 64;

 private:
  static absl::Status ReadOnly() { return absl::FailedPreconditionError("a sealed file is read-only"); }
  // Bytes [offset, offset + length) of chunk `i`, checked end to end.
  Task<absl::StatusOr<std::string>> ReadChunkPart(size_t i, uint64_t offset, uint64_t length);

  rpc::RpcNode& rpc_;
  ChunkStore& store_;
  const Duration call_timeout_;
  const Instant deadline_;
  uint64_t length_ = 0;
  std::vector<FileChunkProto> chunks_;
  std::vector<uint64_t> starts_;  // each chunk's offset in the file
  uint64_t bytes_read_ = 0, bytes_from_peers_ = 0;
  std::vector<BadCopy> bad_copies_;
  void NoteBad(NodeId server, ChunkId id, const absl::Status& error) {
    if (absl::IsDataLoss(error) && bad_copies_.size() < kBadCopiesMax) bad_copies_.push_back({server, id, error});
  }
};

}  // namespace cairn::dfs

// FileServer: a node's file-server role — its ChunkStore served over RPC (dfs.proto):
//
//   dfs.put_chunk      store a chunk durably (checked before it is written)
//   dfs.read_chunk     whole verified blocks of a chunk, with its block table
//   dfs.list_chunks    every chunk held (the report the master will ask for)
//   dfs.remove_chunks  drop chunks the master found to be garbage
//
// Every request is checked for sizes and ids before it reaches the store; what is wrong with
// it is InvalidArgument, a chunk that is not here NotFound, a damaged one DataLoss.
//
// The chunk client's side (PutChunk, ReadChunk) computes the checksums a put carries and
// checks a read's reply end to end against the chunk checksum the caller trusts (the master's
// record), so a server that serves wrong bytes, whatever the reason, is caught by the reader.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "src/dfs/chunk_format.h"
#include "src/dfs/chunk_store.h"
#include "src/dfs/dfs.pb.h"
#include "src/rpc/rpc_node.h"

namespace cairn::dfs {

// Bounds on a request: ids in one remove, bytes in one read.
constexpr size_t kRemoveIdsMax = 1 << 16;
constexpr uint64_t kReadBytesMax = kChunkBytesMax;

class FileServer {
 public:
  FileServer(rpc::RpcNode& rpc, ChunkStore& store) : rpc_(rpc), store_(store) {}
  ~FileServer() { rpc_.CancelHandlers(); }
  FileServer(const FileServer&) = delete;
  FileServer& operator=(const FileServer&) = delete;

  // Registers the dfs.* chunk methods; before rpc.Start().
  void RegisterMethods();

 private:
  rpc::RpcNode& rpc_;
  ChunkStore& store_;
};

// The client's side. Both are one attempt at one server; choosing another replica is the
// caller's.
Task<absl::Status> PutChunk(rpc::RpcNode& rpc, NodeId server, ChunkId id, std::string data, Instant deadline);
// Exactly bytes [offset, offset + length) of `chunk`, checked against its chunk checksum.
Task<absl::StatusOr<std::string>> ReadChunk(rpc::RpcNode& rpc, NodeId server, ChunkRef chunk, uint64_t offset,
                                            uint64_t length, Instant deadline);
// ReadChunk's check of a reply, alone: DataLoss unless the reply's table matches the chunk
// checksum and its blocks match the table and cover the range.
absl::StatusOr<std::string> CheckReadReply(const ChunkRef& chunk, uint64_t offset, uint64_t length,
                                           ReadChunkReply reply);

}  // namespace cairn::dfs

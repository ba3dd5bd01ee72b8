// DfsWriter: one DFS file written front to back, then sealed (docs/dfs.md, "Write and seal").
//
// Create registers the path at the master as an open file: no reader can open it, and the
// master aborts it if it is not sealed within its time to live. Append cuts new bytes into
// chunks of at most the client's chunk_bytes — a chunk never spans two Appends, so a writer
// that appends macroblock by macroblock gets one chunk per macroblock — and puts each on the
// file's R servers at once, replacing a server that fails; up to chunks_inflight_max chunks
// are in flight, and Append waits only for room. AppendChunk adds a live chunk of a sealed
// file by reference: no byte of it is sent. Flush waits until every chunk appended so far is
// durable on R servers. Seal flushes, then has the master record the file; Abort gives up on
// it. After the first failure every call returns that failure, and Seal aborts the file.
//
// A DfsWriter is used from its client's executor only; destroying it unsealed cancels its
// puts and leaves the open file to the master's expiry.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "src/dfs/chunk_format.h"
#include "src/dfs/dfs_client.h"
#include "src/runtime/channel.h"
#include "src/runtime/task_group.h"

namespace cairn::dfs {

class DfsWriter {
 public:
  // `replication` 0 is the master's default.
  static Task<absl::StatusOr<std::unique_ptr<DfsWriter>>> Create(DfsClient& client, std::string path,
                                                                 uint32_t replication = 0, std::string node_set = "");
  DfsWriter(const DfsWriter&) = delete;
  DfsWriter& operator=(const DfsWriter&) = delete;

  Task<absl::Status> Append(std::string data);
  Task<absl::Status> AppendChunk(ChunkRef chunk);
  Task<absl::Status> Flush();
  // The file's id once the master has it sealed.
  Task<absl::StatusOr<uint64_t>> Seal();
  // Best effort: the master's expiry aborts what this does not reach.
  Task<void> Abort();

  const std::string& path() const { return path_; }
  uint64_t file() const { return file_; }
  uint64_t length() const { return length_; }
  // The file's chunks so far, in order (a new one's checksum is known once it is appended).
  size_t chunks() const { return slots_.size(); }

 private:
  struct Slot {
    ChunkRef chunk;              // the id this file records: its own for a new chunk
    bool referenced = false;     // a chunk of another file
    std::vector<NodeId> held;    // a new chunk's servers, once durable on R
  };
  struct Put {  // (a StatusOr member here trips GCC 12's maybe-uninitialized in Channel)
    size_t index;
    absl::Status status;
    std::vector<NodeId> held;
  };

  DfsWriter(DfsClient& client, std::string path, uint64_t file, std::vector<NodeId> servers);
  // Waits for one put to finish and records its outcome.
  Task<void> TakeOne();
  absl::Status Usable() const;

  DfsClient& client_;
  const std::string path_;
  const uint64_t file_;
  const std::vector<NodeId> servers_;  // the master's placement; each chunk's R is their number
  std::vector<Slot> slots_;
  uint64_t length_ = 0;
  size_t running_ = 0;
  absl::Status failed_;
  bool finished_ = false;  // sealed or aborted
  Channel<Put> done_;
  TaskGroup puts_;  // last: its tasks use the members above
};

}  // namespace cairn::dfs

// Disk: a node's files. Every call can fail with an absl::Status (IO error, no space, not
// found); callers handle it. Data written is durable only after File::Sync, and a created,
// renamed or removed name only after SyncDir on its directory: a crash may lose anything
// else, and may tear an unsynced write at sector granularity (docs/runtime.md, "Crash
// semantics"). Paths are relative to the node's data directory, '/'-separated.
//
// Buffers are owned (std::string in and out), so a cancelled caller can never leave an IO
// writing into or reading from freed memory.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "src/runtime/task.h"

namespace cairn {

class File {
 public:
  virtual ~File() = default;
  // Up to `length` bytes at `offset`; fewer only at end of file.
  virtual Task<absl::StatusOr<std::string>> Read(uint64_t offset, size_t length) = 0;
  // Read, into `buffer`: its contents are replaced, its memory reused, so a caller that reads
  // block after block hands the last one back instead of allocating (and zero-filling) a new
  // one each time. The buffer travels with the call, so a cancelled read never leaves a
  // thread writing into freed memory.
  virtual Task<absl::StatusOr<std::string>> ReadInto(uint64_t offset, size_t length, std::string buffer) {
    (void)buffer;
    co_return co_await Read(offset, length);
  }
  virtual Task<absl::Status> Write(uint64_t offset, std::string data) = 0;
  virtual Task<absl::Status> Append(std::string data) = 0;
  // Makes every completed write durable. After a failed Sync the durable state of the file's
  // unsynced writes is unknown (as with fsync on Linux): treat the file as suspect.
  virtual Task<absl::Status> Sync() = 0;
  // Write, then Sync: durable when it returns. One call, so that a disk running calls on
  // threads hands off once for both (a synced append's latency is mostly hand-offs and the
  // sync). The same crash semantics as the two calls.
  virtual Task<absl::Status> WriteAndSync(uint64_t offset, std::string data) {
    absl::Status s = co_await Write(offset, std::move(data));
    if (!s.ok()) co_return s;
    co_return co_await Sync();
  }
  virtual Task<absl::Status> Truncate(uint64_t size) = 0;
  // Appends bytes [source_offset, source_offset + length) of `source` to this file without
  // them passing through the caller, where the store holding both files can (a DFS file takes
  // whole chunks of a sealed file by reference: docs/dfs.md, "Files from existing chunks").
  // Unimplemented when it cannot — the caller then reads the bytes and appends them itself;
  // any other error is a failed append. The same crash semantics as Append.
  virtual Task<absl::Status> AppendFrom(File& source, uint64_t source_offset, uint64_t length) {
    (void)source;
    (void)source_offset;
    (void)length;
    co_return absl::UnimplementedError("this file copies bytes only through its caller");
  }
  // A hint: the written bytes in [offset, offset + length) will be synced soon, so a real disk
  // may start writing them back now and leave less for the Sync. It promises nothing about
  // durability; a disk without the notion ignores it.
  virtual Task<absl::Status> StartWriteback(uint64_t offset, uint64_t length) {
    (void)offset;
    (void)length;
    co_return absl::OkStatus();
  }
  virtual Task<absl::StatusOr<uint64_t>> Size() = 0;
};

// Who waits on a file's IO. User IO serves requests (reads for gets and scans, the journal);
// system IO is background work (flush and compaction outputs; later migration and backup). A
// disk may serve the classes on separate resources so that system IO never queues ahead of
// user IO: PosixDisk runs them on separate thread pools. Rate limits on system IO are the
// caller's (lsm::TokenBucket).
enum class IoClass : uint8_t { kUser, kSystem };

struct OpenOptions {
  bool create = false;     // create the file if it does not exist
  bool exclusive = false;  // with create: fail with AlreadyExists if it exists
  bool truncate = false;   // empty the file on open
  IoClass io_class = IoClass::kUser;  // of every call on the opened file
};

class Disk {
 public:
  virtual ~Disk() = default;
  virtual Task<absl::StatusOr<std::unique_ptr<File>>> Open(std::string path,
                                                           OpenOptions options) = 0;
  virtual Task<absl::Status> Rename(std::string from, std::string to) = 0;
  virtual Task<absl::Status> Remove(std::string path) = 0;
  // The names (not paths) of the entries of `dir`, sorted.
  virtual Task<absl::StatusOr<std::vector<std::string>>> List(std::string dir) = 0;
  virtual Task<absl::Status> CreateDir(std::string dir) = 0;
  // Makes the creations, renames and removals of names in `dir` durable.
  virtual Task<absl::Status> SyncDir(std::string dir) = 0;
};

}  // namespace cairn

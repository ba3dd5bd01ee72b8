// PosixDisk: the Disk of a real node, as POSIX files under one data directory.
//
// Every call runs its system calls on the BlockingPool and resumes the caller on the loop
// thread. A job owns everything it touches (the file descriptor through a shared holder, the
// data by value, the result in shared state), so destroying a waiting caller is safe at any
// point: the call still runs to completion on its thread, and its result is dropped.
//
// Durability is exactly the Disk contract's: a File's data after Sync (fdatasync), a created,
// renamed or removed name only after SyncDir on its directory. Nothing here syncs a directory
// on its own; callers decide when a name must be durable.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "src/runtime/disk.h"
#include "src/runtime/real/blocking_pool.h"

namespace cairn::real {

// An open file descriptor and its full path (for error messages), closed when the last holder
// lets go (which may be a pool thread finishing a call after the File was destroyed). Each IO
// call copies one pointer to it, not the path.
class FdHolder {
 public:
  FdHolder(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~FdHolder();
  FdHolder(const FdHolder&) = delete;
  FdHolder& operator=(const FdHolder&) = delete;
  int fd() const { return fd_; }
  const std::string& path() const { return path_; }
  // Held across "find the end, write there" so that two Appends cannot pick the same end.
  std::mutex& append_mu() { return append_mu_; }

 private:
  int fd_;
  std::string path_;
  std::mutex append_mu_;
};

class PosixFile final : public File {
 public:
  PosixFile(BlockingPool& pool, std::shared_ptr<FdHolder> fd) : pool_(pool), fd_(std::move(fd)) {}

  Task<absl::StatusOr<std::string>> Read(uint64_t offset, size_t length) override;
  Task<absl::StatusOr<std::string>> ReadInto(uint64_t offset, size_t length, std::string buffer) override;
  Task<absl::Status> Write(uint64_t offset, std::string data) override;
  // Writes at the size the file has when the call runs. Appends that are in flight at the same
  // time land in an unspecified order; a caller that needs an order awaits each one.
  Task<absl::Status> Append(std::string data) override;
  Task<absl::Status> Sync() override;
  Task<absl::Status> WriteAndSync(uint64_t offset, std::string data) override;
  Task<absl::Status> Truncate(uint64_t size) override;
  // sync_file_range(SYNC_FILE_RANGE_WRITE): starts writeback of the range without waiting.
  Task<absl::Status> StartWriteback(uint64_t offset, uint64_t length) override;
  Task<absl::StatusOr<uint64_t>> Size() override;

 private:
  BlockingPool& pool_;
  std::shared_ptr<FdHolder> fd_;
};

class PosixDisk final : public Disk {
 public:
  // `root` must exist; every path is relative to it. An empty `root` is a node without a
  // disk (a client): every call fails with FailedPrecondition. `pool` must outlive this Disk
  // and every File it opened. Files opened for system IO run their calls on `system_pool`
  // when one is given (so background writes and syncs never hold up user reads), else on
  // `pool`.
  PosixDisk(BlockingPool& pool, std::string root, BlockingPool* system_pool = nullptr)
      : pool_(pool), system_pool_(system_pool != nullptr ? *system_pool : pool), root_(std::move(root)) {}

  // Paths are '/'-separated and relative: one starting with '/' or with a ".." component is
  // InvalidArgument. For directory calls, "" (or ".") is the data directory itself.
  Task<absl::StatusOr<std::unique_ptr<File>>> Open(std::string path,
                                                   OpenOptions options) override;
  Task<absl::Status> Rename(std::string from, std::string to) override;
  // A file, or an empty directory.
  Task<absl::Status> Remove(std::string path) override;
  Task<absl::StatusOr<std::vector<std::string>>> List(std::string dir) override;
  // OK if `dir` already exists as a directory; its parent must exist.
  Task<absl::Status> CreateDir(std::string dir) override;
  Task<absl::Status> SyncDir(std::string dir) override;

  const std::string& root() const { return root_; }

 private:
  // The full path of `path`, or InvalidArgument.
  absl::StatusOr<std::string> Resolve(const std::string& path, bool allow_root) const;

  BlockingPool& pool_;
  BlockingPool& system_pool_;
  std::string root_;
};

}  // namespace cairn::real

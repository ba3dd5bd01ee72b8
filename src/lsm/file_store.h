// FileStore: where a shard keeps its immutable files (SSTables).
//
// A file is created, written front to back, sealed, then only read, until it is removed. Until
// Seal returns the file has no name: a crash before then leaves nothing a reader can open
// (the store may hold the remains under a name List does not show, and Open removes them).
// After Seal the file is durable and never changes.
//
// Implementations: LocalFileStore (a directory of the node's Disk, this issue) and the DFS
// client (src/dfs, later). Both are used only from their node's executor.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "src/runtime/disk.h"
#include "src/runtime/task.h"

namespace cairn::lsm {

class FileStore {
 public:
  virtual ~FileStore() = default;
  // A new file to write; `name` must not exist. Write and Sync it through the File, then Seal.
  virtual Task<absl::StatusOr<std::unique_ptr<File>>> Create(std::string name) = 0;
  // Gives the written (and synced) file its name, durably.
  virtual Task<absl::Status> Seal(std::string name) = 0;
  // A sealed file, for reading.
  virtual Task<absl::StatusOr<std::unique_ptr<File>>> Open(std::string name) = 0;
  virtual Task<absl::Status> Remove(std::string name) = 0;
  // The sealed files, sorted.
  virtual Task<absl::StatusOr<std::vector<std::string>>> List() = 0;
};

// The files under `dir` of a Disk. An unsealed file is `<name>.tmp`; Seal renames it.
class LocalFileStore final : public FileStore {
 public:
  // Creates `dir` if need be and removes the remains of unsealed files.
  static Task<absl::StatusOr<std::unique_ptr<LocalFileStore>>> Open(Disk& disk, std::string dir);

  Task<absl::StatusOr<std::unique_ptr<File>>> Create(std::string name) override;
  Task<absl::Status> Seal(std::string name) override;
  Task<absl::StatusOr<std::unique_ptr<File>>> Open(std::string name) override;
  Task<absl::Status> Remove(std::string name) override;
  Task<absl::StatusOr<std::vector<std::string>>> List() override;

 private:
  LocalFileStore(Disk& disk, std::string dir) : disk_(disk), dir_(std::move(dir)) {}
  std::string Path(const std::string& name) const { return dir_ + "/" + name; }
  Disk& disk_;
  const std::string dir_;
};

}  // namespace cairn::lsm

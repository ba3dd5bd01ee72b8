// MemDisk: a Disk held in memory whose every call completes without suspending.
//
// For tools that build files only to measure them (`cairn sst analyze`), and for unit tests
// of file formats that want direct access to the bytes (to flip one and see it caught). It
// models no crash and no fault: that is SimDisk's job, under the simulator. Durability calls
// succeed and do nothing.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "src/runtime/disk.h"

namespace cairn {

class MemDisk final : public Disk {
 public:
  Task<absl::StatusOr<std::unique_ptr<File>>> Open(std::string path, OpenOptions options) override;
  Task<absl::Status> Rename(std::string from, std::string to) override;
  Task<absl::Status> Remove(std::string path) override;
  Task<absl::StatusOr<std::vector<std::string>>> List(std::string dir) override;
  Task<absl::Status> CreateDir(std::string dir) override;
  Task<absl::Status> SyncDir(std::string dir) override;

  // The bytes of a file, for tests to inspect and damage; nullptr if there is none.
  std::string* Contents(const std::string& path);
  // Total bytes held.
  size_t TotalBytes() const;

 private:
  std::map<std::string, std::shared_ptr<std::string>> files_;
  std::set<std::string> dirs_;
};

}  // namespace cairn

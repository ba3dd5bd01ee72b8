#include "src/runtime/mem_disk.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace cairn {
namespace {

class MemFile final : public File {
 public:
  explicit MemFile(std::shared_ptr<std::string> data) : data_(std::move(data)) {}

  Task<absl::StatusOr<std::string>> Read(uint64_t offset, size_t length) override {
    if (offset >= data_->size()) co_return std::string();
    co_return data_->substr(offset, std::min<uint64_t>(length, data_->size() - offset));
  }
  Task<absl::Status> Write(uint64_t offset, std::string data) override {
    if (data_->size() < offset + data.size()) data_->resize(offset + data.size(), '\0');
    data_->replace(offset, data.size(), data);
    co_return absl::OkStatus();
  }
  Task<absl::Status> Append(std::string data) override {
    data_->append(data);
    co_return absl::OkStatus();
  }
  Task<absl::Status> Sync() override { co_return absl::OkStatus(); }
  Task<absl::Status> Truncate(uint64_t size) override {
    data_->resize(size, '\0');
    co_return absl::OkStatus();
  }
  Task<absl::StatusOr<uint64_t>> Size() override { co_return uint64_t{data_->size()}; }

 private:
  std::shared_ptr<std::string> data_;
};

}  // namespace

Task<absl::StatusOr<std::unique_ptr<File>>> MemDisk::Open(std::string path, OpenOptions options) {
  auto it = files_.find(path);
  if (it == files_.end()) {
    if (!options.create) co_return absl::NotFoundError(absl::StrCat("open ", path, ": no such file"));
    it = files_.emplace(path, std::make_shared<std::string>()).first;
  } else if (options.create && options.exclusive) {
    co_return absl::AlreadyExistsError(absl::StrCat("open ", path, ": file exists"));
  }
  if (options.truncate) it->second->clear();
  co_return std::unique_ptr<File>(std::make_unique<MemFile>(it->second));
}

Task<absl::Status> MemDisk::Rename(std::string from, std::string to) {
  auto it = files_.find(from);
  if (it == files_.end()) co_return absl::NotFoundError(absl::StrCat("rename ", from, ": no such file"));
  auto data = it->second;
  files_.erase(it);
  files_[to] = std::move(data);
  co_return absl::OkStatus();
}

Task<absl::Status> MemDisk::Remove(std::string path) {
  if (files_.erase(path) == 0 && dirs_.erase(path) == 0) {
    co_return absl::NotFoundError(absl::StrCat("remove ", path, ": no such file"));
  }
  co_return absl::OkStatus();
}

Task<absl::StatusOr<std::vector<std::string>>> MemDisk::List(std::string dir) {
  const std::string prefix = dir.empty() || dir == "." ? "" : dir + "/";
  std::set<std::string> names;
  auto add = [&](const std::string& path) {
    if (path.compare(0, prefix.size(), prefix) != 0) return;
    const std::string rest = path.substr(prefix.size());
    if (!rest.empty() && rest.find('/') == std::string::npos) names.insert(rest);
  };
  for (const auto& [path, data] : files_) add(path);
  for (const std::string& d : dirs_) add(d);
  co_return std::vector<std::string>(names.begin(), names.end());
}

Task<absl::Status> MemDisk::CreateDir(std::string dir) {
  dirs_.insert(dir);
  co_return absl::OkStatus();
}

Task<absl::Status> MemDisk::SyncDir(std::string) { co_return absl::OkStatus(); }

std::string* MemDisk::Contents(const std::string& path) {
  auto it = files_.find(path);
  return it == files_.end() ? nullptr : it->second.get();
}

size_t MemDisk::TotalBytes() const {
  size_t total = 0;
  for (const auto& [path, data] : files_) total += data->size();
  return total;
}

}  // namespace cairn

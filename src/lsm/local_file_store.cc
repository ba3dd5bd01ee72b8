#include "src/lsm/file_store.h"

#include "absl/strings/str_cat.h"
#include "src/base/status.h"

namespace cairn::lsm {
namespace {
constexpr std::string_view kUnsealedSuffix = ".tmp";

absl::Status CheckName(const std::string& name) {
  if (name.empty() || name.find('/') != std::string::npos || name.ends_with(kUnsealedSuffix)) {
    return absl::InvalidArgumentError(absl::StrCat("bad file name \"", name, "\""));
  }
  return absl::OkStatus();
}
}  // namespace

Task<absl::StatusOr<std::unique_ptr<LocalFileStore>>> LocalFileStore::Open(Disk& disk, std::string dir) {
  CO_RETURN_IF_ERROR(co_await disk.CreateDir(dir));
  absl::StatusOr<std::vector<std::string>> names = co_await disk.List(dir);
  if (!names.ok()) co_return names.status();
  for (const std::string& name : *names) {
    if (!name.ends_with(kUnsealedSuffix)) continue;
    std::string path = dir + "/" + name;  // a named argument: see docs/runtime.md on g++ 12
    CO_RETURN_IF_ERROR(co_await disk.Remove(std::move(path)));
  }
  CO_RETURN_IF_ERROR(co_await disk.SyncDir(dir));
  co_return std::unique_ptr<LocalFileStore>(new LocalFileStore(disk, std::move(dir)));
}

Task<absl::StatusOr<std::unique_ptr<File>>> LocalFileStore::Create(std::string name) {
  CO_RETURN_IF_ERROR(CheckName(name));
  std::string path = Path(name) + std::string(kUnsealedSuffix);
  co_return co_await disk_.Open(std::move(path),
                                OpenOptions{.create = true, .truncate = true, .io_class = IoClass::kSystem});
}

Task<absl::Status> LocalFileStore::Seal(std::string name) {
  CO_RETURN_IF_ERROR(CheckName(name));
  std::string from = Path(name) + std::string(kUnsealedSuffix);
  std::string to = Path(name);
  CO_RETURN_IF_ERROR(co_await disk_.Rename(std::move(from), std::move(to)));
  co_return co_await disk_.SyncDir(dir_);
}

Task<absl::StatusOr<std::unique_ptr<File>>> LocalFileStore::Open(std::string name) {
  CO_RETURN_IF_ERROR(CheckName(name));
  std::string path = Path(name);
  co_return co_await disk_.Open(std::move(path), OpenOptions{});
}

Task<absl::Status> LocalFileStore::Remove(std::string name) {
  CO_RETURN_IF_ERROR(CheckName(name));
  std::string path = Path(name);
  CO_RETURN_IF_ERROR(co_await disk_.Remove(std::move(path)));
  co_return co_await disk_.SyncDir(dir_);
}

Task<absl::StatusOr<std::vector<std::string>>> LocalFileStore::List() {
  absl::StatusOr<std::vector<std::string>> names = co_await disk_.List(dir_);
  if (!names.ok()) co_return names.status();
  std::vector<std::string> sealed;
  for (std::string& n : *names) {
    if (!n.ends_with(kUnsealedSuffix)) sealed.push_back(std::move(n));
  }
  co_return sealed;
}

}  // namespace cairn::lsm

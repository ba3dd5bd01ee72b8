#include "src/runtime/real/posix_disk.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace cairn::real {
namespace {

// Call right after the failing system call, before anything can change errno.
absl::Status ErrnoError(absl::string_view op, const std::string& path) {
  return absl::ErrnoToStatus(errno, absl::StrCat(op, " ", path));
}

absl::Status PwriteAll(int fd, absl::string_view data, uint64_t offset, const std::string& path) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::pwrite(fd, data.data() + done, data.size() - done,
                               static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("pwrite", path);
    }
    if (n == 0) return absl::InternalError(absl::StrCat("pwrite ", path, ": wrote nothing"));
    done += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> FileSize(int fd, const std::string& path) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return ErrnoError("fstat", path);
  return static_cast<uint64_t>(st.st_size);
}

int OpenRetrying(const char* path, int flags, mode_t mode) {
  int fd;
  do {
    fd = ::open(path, flags, mode);
  } while (fd < 0 && errno == EINTR);
  return fd;
}

constexpr size_t kReadWithoutStatBytesMax = 4 << 20;

}  // namespace

FdHolder::~FdHolder() {
  // close(2) must not be retried on EINTR on Linux: the descriptor is gone either way. Its
  // error (a deferred write-back failure) would surface on fsync; Sync is where callers learn.
  if (fd_ >= 0) ::close(fd_);
}

namespace {
// fdatasync also flushes the size, which is what reading the data back needs.
absl::Status Fdatasync(const FdHolder& fd) {
  if (::fdatasync(fd.fd()) != 0) return ErrnoError("fdatasync", fd.path());
  return absl::OkStatus();
}
}  // namespace

// Each call builds its awaiter in a statement of its own, never as a lambda temporary inside
// the co_await expression: g++ 12 destroys such a closure twice (a double free).

Task<absl::StatusOr<std::string>> PosixFile::Read(uint64_t offset, size_t length) {
  co_return co_await ReadInto(offset, length, std::string());
}

Task<absl::StatusOr<std::string>> PosixFile::ReadInto(uint64_t offset, size_t length, std::string buffer) {
  auto call = pool_.Call<absl::StatusOr<std::string>>(
      [fd = fd_, offset, length, out = std::move(buffer)]() mutable -> absl::StatusOr<std::string> {
        // A large request is sized by what the file holds, not by what was asked for; a
        // small one skips the fstat, which would double the cost of a block read.
        size_t want = length;
        if (length > kReadWithoutStatBytesMax) {
          absl::StatusOr<uint64_t> size = FileSize(fd->fd(), fd->path());
          if (!size.ok()) return size.status();
          if (offset >= *size) return std::string();
          want = static_cast<size_t>(std::min<uint64_t>(length, *size - offset));
        }
        out.resize(want);  // zero-fills only past what the reused buffer already held
        size_t done = 0;
        while (done < want) {
          const ssize_t n = ::pread(fd->fd(), out.data() + done, want - done,
                                    static_cast<off_t>(offset + done));
          if (n < 0) {
            if (errno == EINTR) continue;
            return ErrnoError("pread", fd->path());
          }
          if (n == 0) break;  // the file shrank meanwhile
          done += static_cast<size_t>(n);
        }
        out.resize(done);
        return std::move(out);
      });
  co_return co_await call;
}

Task<absl::Status> PosixFile::Write(uint64_t offset, std::string data) {
  auto call = pool_.Call<absl::Status>(
      [fd = fd_, offset, data = std::move(data)]() {
        return PwriteAll(fd->fd(), data, offset, fd->path());
      });
  co_return co_await call;
}

Task<absl::Status> PosixFile::Append(std::string data) {
  // Not O_APPEND: on Linux it makes pwrite ignore its offset, which would break Write.
  auto call = pool_.Call<absl::Status>(
      [fd = fd_, data = std::move(data)]() -> absl::Status {
        std::lock_guard<std::mutex> lock(fd->append_mu());
        absl::StatusOr<uint64_t> size = FileSize(fd->fd(), fd->path());
        if (!size.ok()) return size.status();
        return PwriteAll(fd->fd(), data, *size, fd->path());
      });
  co_return co_await call;
}

Task<absl::Status> PosixFile::Sync() {
  auto call = pool_.Call<absl::Status>([fd = fd_]() -> absl::Status {
    return Fdatasync(*fd);
  });
  co_return co_await call;
}

Task<absl::Status> PosixFile::WriteAndSync(uint64_t offset, std::string data) {
  auto call = pool_.Call<absl::Status>([fd = fd_, offset, data = std::move(data)]() -> absl::Status {
    if (absl::Status s = PwriteAll(fd->fd(), data, offset, fd->path()); !s.ok()) return s;
    return Fdatasync(*fd);
  });
  co_return co_await call;
}

Task<absl::Status> PosixFile::Truncate(uint64_t size) {
  auto call = pool_.Call<absl::Status>([fd = fd_, size]() -> absl::Status {
    std::lock_guard<std::mutex> lock(fd->append_mu());
    int rc;
    do {
      rc = ::ftruncate(fd->fd(), static_cast<off_t>(size));
    } while (rc != 0 && errno == EINTR);
    if (rc != 0) return ErrnoError("ftruncate", fd->path());
    return absl::OkStatus();
  });
  co_return co_await call;
}

Task<absl::Status> PosixFile::StartWriteback(uint64_t offset, uint64_t length) {
  auto call = pool_.Call<absl::Status>([fd = fd_, offset, length]() -> absl::Status {
    if (::sync_file_range(fd->fd(), static_cast<off_t>(offset), static_cast<off_t>(length),
                          SYNC_FILE_RANGE_WRITE) != 0 &&
        errno != ENOSYS && errno != EINVAL) {  // a file system without it: only a hint lost
      return ErrnoError("sync_file_range", fd->path());
    }
    return absl::OkStatus();
  });
  co_return co_await call;
}

Task<absl::StatusOr<uint64_t>> PosixFile::Size() {
  auto call = pool_.Call<absl::StatusOr<uint64_t>>(
      [fd = fd_]() { return FileSize(fd->fd(), fd->path()); });
  co_return co_await call;
}

absl::StatusOr<std::string> PosixDisk::Resolve(const std::string& path, bool allow_root) const {
  if (root_.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("disk call on '", path, "': this node has no data directory"));
  }
  if (path.empty() || path == ".") {
    if (allow_root) return root_;
    return absl::InvalidArgumentError("empty path");
  }
  if (path.front() == '/') {
    return absl::InvalidArgumentError(
        absl::StrCat("path '", path, "' is absolute; disk paths are relative to the data dir"));
  }
  if (path.find('\0') != std::string::npos) {
    return absl::InvalidArgumentError("path contains a NUL byte");
  }
  std::string_view rest = path;
  while (true) {
    const size_t slash = rest.find('/');
    if (rest.substr(0, slash) == "..") {
      return absl::InvalidArgumentError(
          absl::StrCat("path '", path, "' has a '..' component; it must stay in the data dir"));
    }
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  return absl::StrCat(root_, "/", path);
}

// The real disk makes every name change durable before it reports success: after creating,
// renaming or removing a name it fsyncs the parent directory. The Disk contract still asks
// callers to SyncDir (the simulated disk holds them to it, and other platforms need it); this
// is belt and braces for a real machine.
static absl::Status FsyncParentOf(const std::string& full) {
  const size_t slash = full.rfind('/');
  const std::string dir = slash == std::string::npos ? std::string(".") : full.substr(0, slash);
  const int raw = OpenRetrying(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
  if (raw < 0) return ErrnoError("open dir", dir);
  FdHolder fd(raw, dir);
  if (::fsync(fd.fd()) != 0) return ErrnoError("fsync dir", dir);
  return absl::OkStatus();
}

Task<absl::StatusOr<std::unique_ptr<File>>> PosixDisk::Open(std::string path,
                                                            OpenOptions options) {
  absl::StatusOr<std::string> full = Resolve(path, /*allow_root=*/false);
  if (!full.ok()) co_return full.status();
  int flags = O_RDWR | O_CLOEXEC;
  if (options.create) flags |= O_CREAT;
  if (options.create && options.exclusive) flags |= O_EXCL;
  if (options.truncate) flags |= O_TRUNC;
  // The descriptor travels in a holder, so that a cancelled Open still closes it.
  auto call = pool_.Call<absl::StatusOr<std::shared_ptr<FdHolder>>>(
      [full = *full, flags]() -> absl::StatusOr<std::shared_ptr<FdHolder>> {
        const int fd = OpenRetrying(full.c_str(), flags, 0644);
        if (fd < 0) return ErrnoError("open", full);
        auto holder = std::make_shared<FdHolder>(fd, full);
        if (flags & O_CREAT) {
          if (absl::Status s = FsyncParentOf(full); !s.ok()) return s;
        }
        return holder;
      });
  absl::StatusOr<std::shared_ptr<FdHolder>> fd = co_await call;
  if (!fd.ok()) co_return fd.status();
  co_return std::make_unique<PosixFile>(options.io_class == IoClass::kSystem ? system_pool_ : pool_, *std::move(fd));
}

Task<absl::Status> PosixDisk::Rename(std::string from, std::string to) {
  absl::StatusOr<std::string> full_from = Resolve(from, /*allow_root=*/false);
  if (!full_from.ok()) co_return full_from.status();
  absl::StatusOr<std::string> full_to = Resolve(to, /*allow_root=*/false);
  if (!full_to.ok()) co_return full_to.status();
  auto call = pool_.Call<absl::Status>(
      [from = *full_from, to = *full_to]() -> absl::Status {
        if (::rename(from.c_str(), to.c_str()) != 0) {
          return ErrnoError("rename", absl::StrCat(from, " to ", to));
        }
        if (absl::Status s = FsyncParentOf(to); !s.ok()) return s;
        return FsyncParentOf(from);
      });
  co_return co_await call;
}

Task<absl::Status> PosixDisk::Remove(std::string path) {
  absl::StatusOr<std::string> full = Resolve(path, /*allow_root=*/false);
  if (!full.ok()) co_return full.status();
  auto call = pool_.Call<absl::Status>([full = *full]() -> absl::Status {
    if (::unlink(full.c_str()) == 0) return FsyncParentOf(full);
    // unlink fails on a directory with EISDIR on Linux (EPERM elsewhere).
    if (errno != EISDIR && errno != EPERM) return ErrnoError("unlink", full);
    if (::rmdir(full.c_str()) != 0) return ErrnoError("rmdir", full);
    return FsyncParentOf(full);
  });
  co_return co_await call;
}

Task<absl::StatusOr<std::vector<std::string>>> PosixDisk::List(std::string dir) {
  absl::StatusOr<std::string> full = Resolve(dir, /*allow_root=*/true);
  if (!full.ok()) co_return full.status();
  auto call = pool_.Call<absl::StatusOr<std::vector<std::string>>>(
      [full = *full]() -> absl::StatusOr<std::vector<std::string>> {
        DIR* d = ::opendir(full.c_str());
        if (d == nullptr) return ErrnoError("opendir", full);
        std::vector<std::string> names;
        for (;;) {
          errno = 0;
          const struct dirent* entry = ::readdir(d);
          if (entry == nullptr) {
            if (errno != 0) {
              absl::Status error = ErrnoError("readdir", full);
              ::closedir(d);
              return error;
            }
            break;
          }
          const std::string_view name = entry->d_name;
          if (name == "." || name == "..") continue;
          names.emplace_back(name);
        }
        ::closedir(d);
        std::sort(names.begin(), names.end());
        return names;
      });
  co_return co_await call;
}

Task<absl::Status> PosixDisk::CreateDir(std::string dir) {
  absl::StatusOr<std::string> full = Resolve(dir, /*allow_root=*/true);
  if (!full.ok()) co_return full.status();
  auto call = pool_.Call<absl::Status>([full = *full]() -> absl::Status {
    if (::mkdir(full.c_str(), 0755) == 0) return FsyncParentOf(full);
    if (errno != EEXIST) return ErrnoError("mkdir", full);
    struct stat st;
    if (::stat(full.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return absl::OkStatus();
    return absl::AlreadyExistsError(
        absl::StrCat("mkdir ", full, ": exists and is not a directory"));
  });
  co_return co_await call;
}

Task<absl::Status> PosixDisk::SyncDir(std::string dir) {
  absl::StatusOr<std::string> full = Resolve(dir, /*allow_root=*/true);
  if (!full.ok()) co_return full.status();
  auto call = pool_.Call<absl::Status>([full = *full]() -> absl::Status {
    const int raw = OpenRetrying(full.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
    if (raw < 0) return ErrnoError("open dir", full);
    FdHolder fd(raw, full);
    if (::fsync(fd.fd()) != 0) return ErrnoError("fsync dir", full);
    return absl::OkStatus();
  });
  co_return co_await call;
}

}  // namespace cairn::real

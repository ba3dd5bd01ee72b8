#include "src/storage/sealed_file.h"

#include "absl/strings/str_cat.h"
#include "src/base/check.h"
#include "src/base/coding.h"
#include "src/base/crc32c.h"
#include "src/base/status.h"
#include "src/base/strings.h"

namespace cairn::storage {

std::string SealBody(std::string_view magic, std::string_view body) {
  CAIRN_CHECK_EQ(magic.size(), 8u);
  std::string out(magic);
  PutFixed32(&out, static_cast<uint32_t>(body.size()));
  out.append(body);
  PutFixed32(&out, crc32c::Mask(crc32c::Value(body)));
  return out;
}

absl::StatusOr<std::string_view> OpenSealedBody(std::string_view magic, std::string_view bytes,
                                                std::string_view what) {
  const std::string_view w = what;
  if (bytes.size() < magic.size() + 8 || bytes.substr(0, magic.size()) != magic) {
    return absl::DataLossError(absl::StrCat(AbslView(w), ": bad magic (not a Cairn ", AbslView(w), ")"));
  }
  const uint32_t length = DecodeFixed32(bytes.data() + magic.size());
  if (bytes.size() != magic.size() + 8 + uint64_t{length}) {
    return absl::DataLossError(absl::StrCat(AbslView(w), ": ", bytes.size(), " bytes, header says ",
                                            magic.size() + 8 + uint64_t{length}));
  }
  const std::string_view body = bytes.substr(magic.size() + 4, length);
  if (crc32c::Mask(crc32c::Value(body)) != DecodeFixed32(bytes.data() + magic.size() + 4 + length)) {
    return absl::DataLossError(absl::StrCat(AbslView(w), ": checksum mismatch"));
  }
  return body;
}

Task<absl::Status> ReplaceSealedFile(Disk& disk, std::string dir, std::string name, std::string bytes, bool sync) {
  std::string tmp = absl::StrCat(dir, "/", name, ".tmp");
  std::string path = absl::StrCat(dir, "/", name);
  for (int attempt = 1;; ++attempt) {
    // Unlink any old temp file before creating ours, never truncate it in place: a crash
    // between an earlier rename and its directory sync may keep the rename's link but not its
    // unlink, leaving `tmp` and `path` two names of the live file, so truncating and
    // rewriting `tmp` would rewrite the live file, unsynced (POSIX rename(2) allows that
    // window; SimDisk's crash rules model it). Removing the name leaves `path` intact.
    std::string remove_name = tmp;
    if (absl::Status removed = co_await disk.Remove(std::move(remove_name));
        !removed.ok() && !absl::IsNotFound(removed)) {
      co_return removed;
    }
    std::string open_name = tmp;
    absl::StatusOr<std::unique_ptr<File>> file =
        co_await disk.Open(std::move(open_name), OpenOptions{.create = true, .truncate = true});
    if (!file.ok()) co_return file.status();
    std::string copy = bytes;
    CO_RETURN_IF_ERROR(co_await (*file)->Write(0, std::move(copy)));
    if (sync) CO_RETURN_IF_ERROR(co_await (*file)->Sync());
    // Read back before the rename makes it the file: a misdirected write reports success.
    absl::StatusOr<std::string> back = co_await (*file)->Read(0, bytes.size() + 1);
    if (back.ok() && *back == bytes) break;
    if (attempt == kSealedWriteAttemptsMax) {
      co_return back.ok() ? absl::DataLossError(absl::StrCat(tmp, ": reads back different from what was written, ",
                                                             attempt, " times"))
                          : back.status();
    }
  }
  CO_RETURN_IF_ERROR(co_await disk.Rename(std::move(tmp), std::move(path)));
  co_return co_await disk.SyncDir(std::move(dir));
}

Task<absl::StatusOr<std::string>> ReadSealedFile(Disk& disk, std::string path, size_t bytes_max) {
  absl::StatusOr<std::unique_ptr<File>> file = co_await disk.Open(std::move(path), OpenOptions{});
  if (!file.ok()) co_return file.status();
  co_return co_await (*file)->Read(0, bytes_max);
}

Task<absl::StatusOr<std::string>> ReadSealedBody(Disk& disk, std::string path, std::string_view magic,
                                                 std::string_view what, size_t bytes_max) {
  absl::Status problem;
  for (int attempt = 1; attempt <= kSealedReadAttemptsMax; ++attempt) {
    std::string p = path;
    absl::StatusOr<std::string> bytes = co_await ReadSealedFile(disk, std::move(p), bytes_max);
    if (absl::IsNotFound(bytes.status())) co_return bytes.status();
    if (!bytes.ok()) {
      problem = bytes.status();
      continue;
    }
    absl::StatusOr<std::string_view> body = OpenSealedBody(magic, *bytes, what);
    if (body.ok()) co_return std::string(*body);
    problem = body.status();
  }
  co_return problem;
}

}  // namespace cairn::storage

#include "src/lsm/manifest.h"

#include "absl/strings/str_cat.h"
#include "src/base/coding.h"
#include "src/base/crc32c.h"
#include "src/base/status.h"
#include "src/base/varint.h"
#include "src/storage/sealed_file.h"

namespace cairn::lsm {
namespace {
constexpr std::string_view kMagic = "CRNMANIF";
constexpr uint64_t kFormatVersion = 1;
constexpr uint64_t kManifestBytesMax = 64u << 20;
}  // namespace

const char* LevelName(Level level) {
  switch (level) {
    case Level::kMini:
      return "mini";
    case Level::kMinor:
      return "minor";
    case Level::kMajor:
      return "major";
  }
  return "unknown";
}

std::string EncodeManifest(const ManifestState& state) {
  std::string body;
  PutVarint64(&body, kFormatVersion);
  PutVarint64(&body, state.next_file_number);
  PutVarint64(&body, state.flushed_position);
  PutVarint64(&body, state.retained_floor);
  PutVarint64(&body, state.files.size());
  for (const FileMeta& f : state.files) {
    PutVarint64(&body, f.number);
    PutVarint64(&body, static_cast<uint64_t>(f.level));
    PutVarint64(&body, f.min_version);
    PutVarint64(&body, f.max_version);
    PutVarint64(&body, f.size_bytes);
    PutVarint64(&body, f.rows);
  }
  return storage::SealBody(kMagic, body);
}

absl::StatusOr<ManifestState> DecodeManifest(std::string_view bytes) {
  absl::StatusOr<std::string_view> sealed = storage::OpenSealedBody(kMagic, bytes, "manifest");
  if (!sealed.ok()) return sealed.status();
  const std::string_view body = *sealed;
  ByteReader r(body);
  ManifestState s;
  const uint64_t version = r.Varint64();
  s.next_file_number = r.Varint64();
  s.flushed_position = r.Varint64();
  s.retained_floor = r.Varint64();
  const uint64_t count = r.Varint64();
  if (!r.ok() || version != kFormatVersion || count > body.size()) {
    return absl::DataLossError(absl::StrCat("manifest: bad header (format version ", version, ")"));
  }
  for (uint64_t i = 0; i < count; ++i) {
    FileMeta f;
    f.number = r.Varint64();
    const uint64_t level = r.Varint64();
    f.min_version = r.Varint64();
    f.max_version = r.Varint64();
    f.size_bytes = r.Varint64();
    f.rows = r.Varint64();
    if (!r.ok() || level > static_cast<uint64_t>(Level::kMajor) || f.number == 0 ||
        f.number >= s.next_file_number) {
      return absl::DataLossError(absl::StrCat("manifest: file entry ", i, " is malformed"));
    }
    f.level = static_cast<Level>(level);
    s.files.push_back(f);
  }
  if (r.remaining() != 0) return absl::DataLossError("manifest: trailing bytes");
  return s;
}

Task<absl::StatusOr<ManifestState>> ReadManifest(Disk& disk, std::string dir) {
  absl::StatusOr<std::string> bytes = co_await storage::ReadSealedFile(disk, dir + "/MANIFEST", kManifestBytesMax);
  if (!bytes.ok()) co_return bytes.status();
  co_return DecodeManifest(*bytes);
}

Task<absl::Status> WriteManifest(Disk& disk, std::string dir, ManifestState state, bool sync) {
  co_return co_await storage::ReplaceSealedFile(disk, std::move(dir), "MANIFEST", EncodeManifest(state), sync);
}

}  // namespace cairn::lsm

// Manifest: the durable record of a shard engine's live files.
//
// The whole state is small (tens of files), so every change writes it whole: to
// `<dir>/MANIFEST.tmp`, synced, then renamed over `<dir>/MANIFEST` and the directory synced.
// The rename is the atomic switch: a crash leaves the old manifest or the new one, never a mix.
//
//   "CRNMANIF"  magic
//   u32 length  of the body
//   body        varint fields (below)
//   u32         masked CRC-32C of the body
//
// Body: varint format version (1), next file number, flushed position (every journal record at
// or before it lives in the SSTables listed), retained floor (the snapshot of the last major
// compaction: reads below it are refused), file count, then per file: number, level, min and
// max version, size in bytes, rows.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "src/runtime/disk.h"
#include "src/runtime/task.h"

namespace cairn::lsm {

enum class Level : uint8_t { kMini = 0, kMinor = 1, kMajor = 2 };
const char* LevelName(Level level);

struct FileMeta {
  uint64_t number = 0;
  Level level = Level::kMini;
  uint64_t min_version = 0;
  uint64_t max_version = 0;
  uint64_t size_bytes = 0;
  uint64_t rows = 0;
  friend bool operator==(const FileMeta&, const FileMeta&) = default;
};

struct ManifestState {
  // A reservation: every file number below it may have been handed out, and none at or above
  // it has been. The engine allocates only below it, so a number is never used twice.
  uint64_t next_file_number = 1;
  uint64_t flushed_position = 0;
  uint64_t retained_floor = 0;
  std::vector<FileMeta> files;  // minis newest first, then the minor, then the major
  friend bool operator==(const ManifestState&, const ManifestState&) = default;
};

std::string EncodeManifest(const ManifestState& state);
absl::StatusOr<ManifestState> DecodeManifest(std::string_view bytes);

// Reads `<dir>/MANIFEST`: NotFound if there is none (a new engine).
Task<absl::StatusOr<ManifestState>> ReadManifest(Disk& disk, std::string dir);
// Writes it as described above. `sync` false skips the file sync: only for the canary that
// shows the simulator catches a manifest that can be lost.
Task<absl::Status> WriteManifest(Disk& disk, std::string dir, ManifestState state, bool sync = true);

}  // namespace cairn::lsm

// Sealed files: small files written whole, framed and checksummed, and replaced atomically —
// the engine's manifest, a Raft group's hard state.
//
//   magic (8 bytes)  u32 body length  body  u32 masked CRC-32C of the body
//
// ReplaceSealedFile writes `<dir>/<name>.tmp`, syncs it, reads it back (a write the device
// put in the wrong place is caught here, and written again), renames it over `<dir>/<name>`
// and syncs the directory, so a crash leaves the old file or the new one, never a mix.
// ReadSealedBody re-reads a file whose checksum fails before it believes the damage: a bit
// flipped in transit is not a bit flipped at rest.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "src/runtime/disk.h"
#include "src/runtime/task.h"

namespace cairn::storage {

// The framed bytes of `body`. `magic` is 8 bytes.
std::string SealBody(std::string_view magic, std::string_view body);
// The body of framed `bytes`, or DataLoss naming `what` ("manifest: checksum mismatch").
absl::StatusOr<std::string_view> OpenSealedBody(std::string_view magic, std::string_view bytes,
                                                std::string_view what);

// `sync` false skips the file's sync (a canary); the rename and the directory sync still run.
Task<absl::Status> ReplaceSealedFile(Disk& disk, std::string dir, std::string name, std::string bytes, bool sync);
// The whole file, at most `bytes_max` of it.
Task<absl::StatusOr<std::string>> ReadSealedFile(Disk& disk, std::string path, size_t bytes_max);
// The body of the sealed file at `path`: NotFound when there is none, DataLoss when every one
// of kSealedReadAttemptsMax reads finds it damaged.
Task<absl::StatusOr<std::string>> ReadSealedBody(Disk& disk, std::string path, std::string_view magic,
                                                 std::string_view what, size_t bytes_max);

inline constexpr int kSealedReadAttemptsMax = 3;
inline constexpr int kSealedWriteAttemptsMax = 4;

}  // namespace cairn::storage

// Namespace: the DFS's replicated state — paths, files, their chunks, chunk references and
// snapshots — as a deterministic state machine over NamespaceCommand (namespace.proto). The
// master appends each command to its journal stream and applies it once committed; a new
// master replays the stream and reaches the same state (docs/dfs.md).
//
// Files: CreateFile makes an open file at a path, with a new id (never reused). SealFile gives
// it its chunks, once: new chunks (identity: this file) and references to live chunks of
// other files, which must match their recorded length and checksum. A sealed file never
// changes. DeletePath removes a path: an open file goes (aborted); a sealed one goes unless a
// snapshot holds it, in which case it stays, detached, until its last snapshot goes.
// AbortFile removes an open file (its writer gave up or died). A create retried with the
// token of the open file at its path is answered with that file (its first answer was lost).
//
// Chunks: a chunk is live while a retained sealed file contains it; its reference count is
// the number of such files. A chunk no live file contains is garbage, and so is every chunk
// of an aborted file (the master never learned them).
//
// Promises (CheckInvariants): every chunk of a retained sealed file is live with the count of
// files containing it; every path names a retained file with that path; a detached file is
// held by a snapshot; every snapshot's files are retained and list it; open files hold no
// chunks. Errors a client can cause are absl::Status outcomes, never crashes.
//
// No fault point (BUGGIFY) lives here: Apply must stay a function of the state and the command,
// or a replay would diverge. The master around it forces the rare paths (retried seals, seals
// that race a delete); the probes here prove a sweep reached their outcomes.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "src/dfs/chunk_format.h"
#include "src/master/namespace.pb.h"
#include "src/runtime/probes.h"

namespace cairn::master {

using FileId = uint64_t;

using dfs::ChunkRef;

struct FileInfo {
  FileId id = 0;
  std::string path;  // empty once deleted while a snapshot holds it (detached)
  bool sealed = false;
  uint32_t replication = 0;
  std::string node_set;
  int64_t created_ns = 0;
  uint64_t create_token = 0;  // the writer's, to answer a retried create
  std::vector<ChunkRef> chunks;  // in file order, once sealed
  uint64_t length = 0;
  std::set<std::string> snapshots;
  friend bool operator==(const FileInfo&, const FileInfo&) = default;
};

// Bounds on what a command may ask for.
constexpr size_t kPathBytesMax = 1024;
constexpr size_t kSnapshotNameBytesMax = 256;
constexpr uint32_t kReplicationMax = 9;
using dfs::kChunksPerFileMax;
constexpr size_t kSnapshotPathsMax = 1 << 16;

class Namespace {
 public:
  // `probes`: a simulated run's coverage probes (inert by default).
  explicit Namespace(Probes probes = {}) : probes_(probes) {}

  struct Outcome {
    absl::Status status;
    FileId file = 0;  // CreateFile: the new file's id
  };
  Outcome Apply(const NamespaceCommand& command);

  const FileInfo* Lookup(std::string_view path) const;
  const FileInfo* File(FileId id) const;
  // Paths starting with `prefix`, sorted, with their files.
  std::vector<const FileInfo*> List(std::string_view prefix) const;
  // Files that retain a path or a snapshot, by id.
  const std::map<FileId, FileInfo>& files() const { return files_; }
  // Live chunks: contained by a retained sealed file. 0 for garbage or unknown chunks.
  uint32_t ChunkRefs(dfs::ChunkId id) const;
  bool SnapshotExists(std::string_view name) const { return snapshots_.contains(std::string(name)); }
  FileId next_file_id() const { return next_file_; }

  // The invariants of the header comment; a description of the first broken one, or empty.
  std::string CheckInvariants() const;

  // The whole state, for a checkpoint; Restore makes the same namespace of it (DataLoss if the
  // state is not one a namespace can be in).
  NamespaceStateProto Save() const;
  static absl::StatusOr<Namespace> Restore(const NamespaceStateProto& state, Probes probes = {});

  // The same state (probes aside).
  friend bool operator==(const Namespace& a, const Namespace& b) {
    return a.next_file_ == b.next_file_ && a.paths_ == b.paths_ && a.files_ == b.files_ && a.chunks_ == b.chunks_ &&
           a.snapshots_ == b.snapshots_;
  }

  // A path is '/' followed by names separated by single '/', each of [A-Za-z0-9._-], no name
  // "." or "..", at most kPathBytesMax bytes.
  static absl::Status ValidatePath(std::string_view path);

 private:
  struct Chunk {
    uint32_t length = 0;
    uint32_t checksum = 0;
    uint32_t refs = 0;
    friend bool operator==(const Chunk&, const Chunk&) = default;
  };
  Outcome Create(const CreateFileCommand& c);
  absl::Status Seal(const SealFileCommand& c);
  absl::Status DeletePath(const DeletePathCommand& c);
  absl::Status Abort(const AbortFileCommand& c);
  absl::Status CreateSnapshot(const CreateSnapshotCommand& c);
  absl::Status DeleteSnapshot(const DeleteSnapshotCommand& c);
  // Removes a file that nothing retains any more, releasing its chunks if it was sealed.
  void Drop(FileId id);

  Probes probes_;
  FileId next_file_ = 1;
  std::map<std::string, FileId, std::less<>> paths_;
  std::map<FileId, FileInfo> files_;
  std::map<dfs::ChunkId, Chunk> chunks_;  // live chunks
  std::map<std::string, std::vector<FileId>, std::less<>> snapshots_;
};

}  // namespace cairn::master

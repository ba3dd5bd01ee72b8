#include "src/master/namespace.h"

#include <algorithm>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "src/base/check.h"
#include "src/base/strings.h"
#include "src/runtime/assertions.h"

namespace cairn::master {
namespace {

bool NameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
         c == '-';
}

// A name of a snapshot: 1 to kSnapshotNameBytesMax of [A-Za-z0-9._-].
absl::Status ValidateSnapshotName(std::string_view name) {
  if (name.empty() || name.size() > kSnapshotNameBytesMax || !std::all_of(name.begin(), name.end(), NameChar)) {
    return absl::InvalidArgumentError(absl::StrCat("bad snapshot name \"", absl::CEscape(AbslView(name)),
                                                   "\": want 1-", kSnapshotNameBytesMax, " of [A-Za-z0-9._-]"));
  }
  return absl::OkStatus();
}

ChunkRef FromProto(const ChunkRefProto& p) {
  return ChunkRef{.id = dfs::ChunkId{p.file(), p.index()}, .length = p.length(), .checksum = p.checksum()};
}

}  // namespace

absl::Status Namespace::ValidatePath(std::string_view path) {
  auto bad = [&](std::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("bad path \"", absl::CEscape(AbslView(path.substr(0, 200))),
                                                   "\": ", AbslView(why)));
  };
  if (path.size() < 2 || path.front() != '/') return bad("want '/' and at least one name");
  if (path.size() > kPathBytesMax) return bad(absl::StrCat("longer than ", kPathBytesMax, " bytes"));
  std::string_view rest = path.substr(1);
  while (true) {
    const size_t slash = rest.find('/');
    const std::string_view name = rest.substr(0, slash);
    if (name.empty()) return bad("an empty name (a doubled or trailing '/')");
    if (name == "." || name == "..") return bad("a name '.' or '..'");
    if (!std::all_of(name.begin(), name.end(), NameChar)) return bad("a name with a character outside [A-Za-z0-9._-]");
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  return absl::OkStatus();
}

Namespace::Outcome Namespace::Apply(const NamespaceCommand& command) {
  switch (command.command_case()) {
    case NamespaceCommand::kCreate:
      return Create(command.create());
    case NamespaceCommand::kSeal:
      return Outcome{.status = Seal(command.seal())};
    case NamespaceCommand::kDeletePath:
      return Outcome{.status = DeletePath(command.delete_path())};
    case NamespaceCommand::kAbort:
      return Outcome{.status = Abort(command.abort())};
    case NamespaceCommand::kCreateSnapshot:
      return Outcome{.status = CreateSnapshot(command.create_snapshot())};
    case NamespaceCommand::kDeleteSnapshot:
      return Outcome{.status = DeleteSnapshot(command.delete_snapshot())};
    case NamespaceCommand::kTick:
    case NamespaceCommand::kCheckpoint:
      return Outcome{.status = absl::OkStatus()};
    case NamespaceCommand::COMMAND_NOT_SET:
      break;
  }
  return Outcome{.status = absl::InvalidArgumentError("an empty namespace command")};
}

Namespace::Outcome Namespace::Create(const CreateFileCommand& c) {
  if (absl::Status s = ValidatePath(c.path()); !s.ok()) return Outcome{.status = s};
  if (c.replication() < 1 || c.replication() > kReplicationMax) {
    return Outcome{.status = absl::InvalidArgumentError(
                       absl::StrCat("replication ", c.replication(), " is out of range [1, ", kReplicationMax, "]"))};
  }
  if (!c.node_set().empty() && (c.node_set().size() > kSnapshotNameBytesMax ||
                                !std::all_of(c.node_set().begin(), c.node_set().end(), NameChar))) {
    return Outcome{.status = absl::InvalidArgumentError("bad node set: want [A-Za-z0-9._-]")};
  }
  if (auto at = paths_.find(c.path()); at != paths_.end()) {
    const FileInfo& existing = files_.at(at->second);
    if (c.token() != 0 && existing.create_token == c.token() && !existing.sealed) {
      CAIRN_SOMETIMES(probes_, true, "namespace.create-retried");
      return Outcome{.status = absl::OkStatus(), .file = existing.id};
    }
    return Outcome{.status = absl::AlreadyExistsError(absl::StrCat(c.path(), " exists"))};
  }
  const FileId id = next_file_++;
  FileInfo& f = files_[id];
  f.id = id;
  f.path = c.path();
  f.replication = c.replication();
  f.node_set = c.node_set();
  f.created_ns = c.now_ns();
  f.create_token = c.token();
  paths_[c.path()] = id;
  return Outcome{.status = absl::OkStatus(), .file = id};
}

absl::Status Namespace::Seal(const SealFileCommand& c) {
  auto it = files_.find(c.file());
  if (it == files_.end()) return absl::NotFoundError(absl::StrCat("no file ", c.file(), " (deleted, aborted, or never created)"));
  FileInfo& f = it->second;
  std::vector<ChunkRef> chunks;
  chunks.reserve(static_cast<size_t>(c.chunks_size()));
  for (const ChunkRefProto& p : c.chunks()) chunks.push_back(FromProto(p));
  if (f.sealed) {
    // The same seal again (a retry whose answer was lost) succeeds; any other is refused.
    CAIRN_SOMETIMES(probes_, chunks == f.chunks, "namespace.seal-retried");
    if (chunks == f.chunks) return absl::OkStatus();
    return absl::FailedPreconditionError(absl::StrCat(f.path.empty() ? "file" : f.path, " (file ", f.id,
                                                      ") is sealed already; a sealed file never changes"));
  }
  if (chunks.size() > kChunksPerFileMax) {
    return absl::InvalidArgumentError(absl::StrCat(chunks.size(), " chunks; at most ", kChunksPerFileMax, " per file"));
  }
  // Validate everything before changing anything.
  std::set<dfs::ChunkId> seen;
  for (const ChunkRef& r : chunks) {
    if (!seen.insert(r.id).second) {
      return absl::InvalidArgumentError(absl::StrCat("chunk ", r.id.ToString(), " appears twice"));
    }
    if (r.length > dfs::kChunkBytesMax) {
      return absl::InvalidArgumentError(absl::StrCat("chunk ", r.id.ToString(), " of ", r.length, " bytes exceeds ",
                                                     dfs::kChunkBytesMax));
    }
    if (r.id.file == f.id) continue;  // a new chunk of this file
    auto live = chunks_.find(r.id);
    if (live == chunks_.end()) {
      return absl::FailedPreconditionError(
          absl::StrCat("referenced chunk ", r.id.ToString(), " is not live (its files are gone, or it never was)"));
    }
    if (live->second.length != r.length || live->second.checksum != r.checksum) {
      return absl::FailedPreconditionError(absl::StrCat("referenced chunk ", r.id.ToString(),
                                                        " has another length or checksum than recorded"));
    }
  }
  uint64_t length = 0;
  for (const ChunkRef& r : chunks) {
    length += r.length;
    Chunk& chunk = chunks_[r.id];
    if (chunk.refs == 0) {
      chunk.length = r.length;
      chunk.checksum = r.checksum;
    }
    ++chunk.refs;
  }
  f.chunks = std::move(chunks);
  f.length = length;
  f.sealed = true;
  return absl::OkStatus();
}

absl::Status Namespace::DeletePath(const DeletePathCommand& c) {
  auto p = paths_.find(c.path());
  if (p == paths_.end()) return absl::NotFoundError(absl::StrCat("no file at ", c.path()));
  const FileId id = p->second;
  paths_.erase(p);
  FileInfo& f = files_.at(id);
  f.path.clear();
  if (f.snapshots.empty()) Drop(id);  // else detached: its snapshots keep it
  return absl::OkStatus();
}

absl::Status Namespace::Abort(const AbortFileCommand& c) {
  auto it = files_.find(c.file());
  if (it == files_.end()) return absl::NotFoundError(absl::StrCat("no file ", c.file()));
  if (it->second.sealed) return absl::FailedPreconditionError(absl::StrCat("file ", c.file(), " is sealed; delete its path"));
  paths_.erase(it->second.path);
  Drop(c.file());
  return absl::OkStatus();
}

absl::Status Namespace::CreateSnapshot(const CreateSnapshotCommand& c) {
  if (absl::Status s = ValidateSnapshotName(c.name()); !s.ok()) return s;
  if (snapshots_.contains(c.name())) return absl::AlreadyExistsError(absl::StrCat("snapshot ", c.name(), " exists"));
  if (c.paths_size() > static_cast<int>(kSnapshotPathsMax)) {
    return absl::InvalidArgumentError(absl::StrCat(c.paths_size(), " paths; at most ", kSnapshotPathsMax));
  }
  std::vector<FileId> ids;
  for (const std::string& path : c.paths()) {
    auto p = paths_.find(path);
    if (p == paths_.end()) return absl::NotFoundError(absl::StrCat("no file at ", path));
    if (!files_.at(p->second).sealed) {
      return absl::FailedPreconditionError(absl::StrCat(path, " is not sealed; a snapshot holds sealed files"));
    }
    ids.push_back(p->second);
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  for (FileId id : ids) files_.at(id).snapshots.insert(c.name());
  snapshots_[c.name()] = std::move(ids);
  return absl::OkStatus();
}

absl::Status Namespace::DeleteSnapshot(const DeleteSnapshotCommand& c) {
  auto it = snapshots_.find(c.name());
  if (it == snapshots_.end()) return absl::NotFoundError(absl::StrCat("no snapshot ", c.name()));
  const std::vector<FileId> ids = std::move(it->second);
  snapshots_.erase(it);
  for (FileId id : ids) {
    FileInfo& f = files_.at(id);
    f.snapshots.erase(c.name());
    CAIRN_SOMETIMES(probes_, f.snapshots.empty() && f.path.empty(), "namespace.detached-file-dropped-with-its-snapshot");
    if (f.snapshots.empty() && f.path.empty()) Drop(id);
  }
  return absl::OkStatus();
}

void Namespace::Drop(FileId id) {
  auto it = files_.find(id);
  CAIRN_CHECK(it != files_.end());
  CAIRN_CHECK(it->second.path.empty() || !it->second.sealed);
  CAIRN_CHECK(it->second.snapshots.empty());
  if (it->second.sealed) {
    for (const ChunkRef& r : it->second.chunks) {
      auto c = chunks_.find(r.id);
      CAIRN_CHECK(c != chunks_.end() && c->second.refs > 0);
      if (--c->second.refs == 0) {
        chunks_.erase(c);
      } else {
        // Another file holds it: a compaction's output that reused it.
        CAIRN_SOMETIMES(probes_, r.id.file == id, "namespace.chunk-outlived-the-file-it-came-from");
      }
    }
  }
  files_.erase(it);
}

const FileInfo* Namespace::Lookup(std::string_view path) const {
  auto p = paths_.find(path);
  return p == paths_.end() ? nullptr : &files_.at(p->second);
}

const FileInfo* Namespace::File(FileId id) const {
  auto it = files_.find(id);
  return it == files_.end() ? nullptr : &it->second;
}

std::vector<const FileInfo*> Namespace::List(std::string_view prefix) const {
  std::vector<const FileInfo*> out;
  for (auto p = paths_.lower_bound(prefix); p != paths_.end() && std::string_view(p->first).starts_with(prefix); ++p) {
    out.push_back(&files_.at(p->second));
  }
  return out;
}

uint32_t Namespace::ChunkRefs(dfs::ChunkId id) const {
  auto it = chunks_.find(id);
  return it == chunks_.end() ? 0 : it->second.refs;
}

std::string Namespace::CheckInvariants() const {
  std::map<dfs::ChunkId, uint32_t> counted;
  for (const auto& [id, f] : files_) {
    if (f.id != id) return absl::StrCat("file ", id, " says it is ", f.id);
    if (id >= next_file_) return absl::StrCat("file ", id, " is not below the next id ", next_file_);
    if (f.path.empty() && f.snapshots.empty()) return absl::StrCat("file ", id, " is retained by nothing");
    if (!f.path.empty()) {
      auto p = paths_.find(f.path);
      if (p == paths_.end() || p->second != id) return absl::StrCat("file ", id, "'s path ", f.path, " does not name it");
    }
    if (!f.sealed && (!f.chunks.empty() || !f.snapshots.empty())) {
      return absl::StrCat("open file ", id, " holds chunks or snapshots");
    }
    uint64_t length = 0;
    for (const ChunkRef& r : f.chunks) {
      ++counted[r.id];
      length += r.length;
      auto c = chunks_.find(r.id);
      if (c == chunks_.end()) return absl::StrCat("file ", id, "'s chunk ", r.id.ToString(), " is not live");
      if (c->second.length != r.length || c->second.checksum != r.checksum) {
        return absl::StrCat("file ", id, "'s chunk ", r.id.ToString(), " disagrees with the live chunk");
      }
    }
    if (length != f.length) return absl::StrCat("file ", id, " has length ", f.length, ", its chunks ", length);
    for (const std::string& s : f.snapshots) {
      auto snap = snapshots_.find(s);
      if (snap == snapshots_.end() || !std::binary_search(snap->second.begin(), snap->second.end(), id)) {
        return absl::StrCat("file ", id, " lists snapshot ", s, ", which does not hold it");
      }
    }
  }
  for (const auto& [path, id] : paths_) {
    auto f = files_.find(id);
    if (f == files_.end() || f->second.path != path) return absl::StrCat("path ", path, " names no file with it");
  }
  for (const auto& [name, ids] : snapshots_) {
    for (FileId id : ids) {
      auto f = files_.find(id);
      if (f == files_.end() || !f->second.snapshots.contains(name)) {
        return absl::StrCat("snapshot ", name, " holds file ", id, ", which is gone or does not list it");
      }
    }
  }
  if (counted.size() != chunks_.size()) {
    return absl::StrCat(chunks_.size(), " live chunks, but retained files contain ", counted.size());
  }
  for (const auto& [id, n] : counted) {
    if (chunks_.at(id).refs != n) {
      return absl::StrCat("chunk ", id.ToString(), " counts ", chunks_.at(id).refs, " references, files hold ", n);
    }
  }
  return "";
}

NamespaceStateProto Namespace::Save() const {
  NamespaceStateProto out;
  out.set_next_file(next_file_);
  for (const auto& [id, f] : files_) {
    FileStateProto* p = out.add_files();
    p->set_id(f.id);
    p->set_path(f.path);
    p->set_sealed(f.sealed);
    p->set_replication(f.replication);
    p->set_node_set(f.node_set);
    p->set_created_ns(f.created_ns);
    p->set_create_token(f.create_token);
    for (const ChunkRef& c : f.chunks) {
      ChunkRefProto* r = p->add_chunks();
      r->set_file(c.id.file);
      r->set_index(c.id.index);
      r->set_length(c.length);
      r->set_checksum(c.checksum);
    }
    p->set_length(f.length);
    for (const std::string& s : f.snapshots) p->add_snapshots(s);
  }
  for (const auto& [name, ids] : snapshots_) {
    SnapshotStateProto* p = out.add_snapshots();
    p->set_name(name);
    for (FileId id : ids) p->add_files(id);
  }
  return out;
}

absl::StatusOr<Namespace> Namespace::Restore(const NamespaceStateProto& state, Probes probes) {
  Namespace ns(probes);
  ns.next_file_ = state.next_file();
  for (const FileStateProto& p : state.files()) {
    FileInfo f{.id = p.id(),
               .path = p.path(),
               .sealed = p.sealed(),
               .replication = p.replication(),
               .node_set = p.node_set(),
               .created_ns = p.created_ns(),
               .create_token = p.create_token(),
               .length = p.length()};
    for (const ChunkRefProto& r : p.chunks()) {
      f.chunks.push_back(ChunkRef{dfs::ChunkId{r.file(), r.index()}, r.length(), r.checksum()});
    }
    f.snapshots.insert(p.snapshots().begin(), p.snapshots().end());
    if (!f.path.empty()) {
      if (absl::Status s = ValidatePath(f.path); !s.ok()) return absl::DataLossError(s.message());
      if (!ns.paths_.emplace(f.path, f.id).second) {
        return absl::DataLossError(absl::StrCat("checkpoint: path ", f.path, " names two files"));
      }
    }
    if (f.sealed) {
      for (const ChunkRef& c : f.chunks) {
        Chunk& chunk = ns.chunks_[c.id];
        if (chunk.refs > 0 && (chunk.length != c.length || chunk.checksum != c.checksum)) {
          return absl::DataLossError(absl::StrCat("checkpoint: chunk ", c.id.ToString(), " differs between files"));
        }
        chunk.length = c.length;
        chunk.checksum = c.checksum;
        ++chunk.refs;
      }
    }
    const FileId id = f.id;
    if (!ns.files_.emplace(id, std::move(f)).second) {
      return absl::DataLossError(absl::StrCat("checkpoint: file ", id, " twice"));
    }
  }
  for (const SnapshotStateProto& p : state.snapshots()) {
    if (!ns.snapshots_.emplace(p.name(), std::vector<FileId>(p.files().begin(), p.files().end())).second) {
      return absl::DataLossError(absl::StrCat("checkpoint: snapshot ", p.name(), " twice"));
    }
  }
  if (std::string broken = ns.CheckInvariants(); !broken.empty()) {
    return absl::DataLossError(absl::StrCat("checkpoint: ", broken));
  }
  return ns;
}

}  // namespace cairn::master

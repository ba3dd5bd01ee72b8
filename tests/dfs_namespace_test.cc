// The DFS namespace state machine: units for its rules, and a RapidCheck model — random
// create/seal/delete/abort/snapshot commands applied to the real thing and to a model written
// separately from the spec, their answers and chunk references compared after every step, then
// the whole command stream replayed from its encoding into a fresh namespace (a master
// failover) and the two states compared.
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "rapidcheck/gtest.h"
#include "src/master/namespace.h"

namespace cairn::master {
namespace {

NamespaceCommand Create(std::string path, uint32_t replication = 3) {
  NamespaceCommand c;
  c.mutable_create()->set_path(std::move(path));
  c.mutable_create()->set_replication(replication);
  return c;
}

NamespaceCommand Seal(FileId file, const std::vector<ChunkRef>& chunks) {
  NamespaceCommand c;
  c.mutable_seal()->set_file(file);
  for (const ChunkRef& r : chunks) {
    ChunkRefProto* p = c.mutable_seal()->add_chunks();
    p->set_file(r.id.file);
    p->set_index(r.id.index);
    p->set_length(r.length);
    p->set_checksum(r.checksum);
  }
  return c;
}

NamespaceCommand Delete(std::string path) {
  NamespaceCommand c;
  c.mutable_delete_path()->set_path(std::move(path));
  return c;
}

NamespaceCommand Abort(FileId file) {
  NamespaceCommand c;
  c.mutable_abort()->set_file(file);
  return c;
}

NamespaceCommand Snapshot(std::string name, const std::vector<std::string>& paths) {
  NamespaceCommand c;
  c.mutable_create_snapshot()->set_name(std::move(name));
  for (const std::string& p : paths) c.mutable_create_snapshot()->add_paths(p);
  return c;
}

NamespaceCommand DropSnapshot(std::string name) {
  NamespaceCommand c;
  c.mutable_delete_snapshot()->set_name(std::move(name));
  return c;
}

absl::StatusCode Code(Namespace& ns, const NamespaceCommand& c) { return ns.Apply(c).status.code(); }

TEST(Namespace, CreatesSealsAndNeverChangesASealedFile) {
  Namespace ns;
  const Namespace::Outcome created = ns.Apply(Create("/shard1/000042.sst"));
  ASSERT_TRUE(created.status.ok()) << created.status;
  const FileId f = created.file;
  EXPECT_EQ(Code(ns, Create("/shard1/000042.sst")), absl::StatusCode::kAlreadyExists);
  const std::vector<ChunkRef> chunks = {{{f, 0}, 2 << 20, 11}, {{f, 1}, 1000, 12}};
  EXPECT_TRUE(ns.Apply(Seal(f, chunks)).status.ok());
  EXPECT_TRUE(ns.Apply(Seal(f, chunks)).status.ok());  // a retried seal
  EXPECT_EQ(Code(ns, Seal(f, {{{f, 0}, 5, 5}})), absl::StatusCode::kFailedPrecondition);
  const FileInfo* info = ns.Lookup("/shard1/000042.sst");
  ASSERT_NE(info, nullptr);
  EXPECT_TRUE(info->sealed);
  EXPECT_EQ(info->length, (2u << 20) + 1000);
  EXPECT_EQ(info->chunks, chunks);
  EXPECT_EQ(ns.ChunkRefs({f, 1}), 1u);
  EXPECT_EQ(ns.List("/shard1/").size(), 1u);
  EXPECT_EQ(ns.List("/shard2/").size(), 0u);
  EXPECT_EQ(ns.CheckInvariants(), "");
}

TEST(Namespace, RefusesBadInput) {
  Namespace ns;
  for (const char* bad : {"", "/", "x", "//a", "/a/", "/a//b", "/a/../b", "/./a", "/a b", "/a\n"}) {
    EXPECT_EQ(Code(ns, Create(bad)), absl::StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_EQ(Code(ns, Create("/" + std::string(kPathBytesMax, 'a'))), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Code(ns, Create("/a", 0)), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Code(ns, Create("/a", kReplicationMax + 1)), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Code(ns, NamespaceCommand()), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Code(ns, Seal(99, {})), absl::StatusCode::kNotFound);
  const FileId f = ns.Apply(Create("/a")).file;
  EXPECT_EQ(Code(ns, Seal(f, {{{f, 0}, 1, 1}, {{f, 0}, 1, 1}})), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Code(ns, Seal(f, {{{f, 0}, dfs::kChunkBytesMax + 1, 1}})), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Code(ns, Seal(f, {{{77, 0}, 1, 1}})), absl::StatusCode::kFailedPrecondition);  // not a live chunk
  EXPECT_EQ(Code(ns, Snapshot("s", {"/a"})), absl::StatusCode::kFailedPrecondition);      // not sealed
  EXPECT_EQ(Code(ns, Snapshot("bad name", {})), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Code(ns, Snapshot("s", {"/missing"})), absl::StatusCode::kNotFound);
  EXPECT_EQ(Code(ns, Delete("/missing")), absl::StatusCode::kNotFound);
  EXPECT_EQ(Code(ns, DropSnapshot("s")), absl::StatusCode::kNotFound);
  EXPECT_EQ(ns.CheckInvariants(), "");
}

// A compaction's output references a macroblock of its input; the input is deleted; the
// shared chunk lives on until the output goes too.
TEST(Namespace, AReferencedChunkOutlivesTheFileItCameFrom) {
  Namespace ns;
  const FileId a = ns.Apply(Create("/s/1.sst")).file;
  ASSERT_TRUE(ns.Apply(Seal(a, {{{a, 0}, 100, 7}, {{a, 1}, 50, 8}})).status.ok());
  const FileId b = ns.Apply(Create("/s/2.sst")).file;
  EXPECT_EQ(Code(ns, Seal(b, {{{a, 0}, 100, 999}})), absl::StatusCode::kFailedPrecondition);  // wrong checksum
  ASSERT_TRUE(ns.Apply(Seal(b, {{{a, 0}, 100, 7}, {{b, 0}, 30, 9}})).status.ok());
  EXPECT_EQ(ns.Lookup("/s/2.sst")->length, 130u);
  EXPECT_EQ(ns.ChunkRefs({a, 0}), 2u);
  ASSERT_TRUE(ns.Apply(Delete("/s/1.sst")).status.ok());
  EXPECT_EQ(ns.File(a), nullptr);
  EXPECT_EQ(ns.ChunkRefs({a, 0}), 1u);  // still in 2.sst
  EXPECT_EQ(ns.ChunkRefs({a, 1}), 0u);  // garbage
  ASSERT_TRUE(ns.Apply(Delete("/s/2.sst")).status.ok());
  EXPECT_EQ(ns.ChunkRefs({a, 0}), 0u);
  EXPECT_EQ(ns.CheckInvariants(), "");
}

TEST(Namespace, ARestoreRefusesAStateNoNamespaceCanBeIn) {
  NamespaceStateProto state;
  state.set_next_file(5);
  FileStateProto* f = state.add_files();
  f->set_id(7);  // not below next_file
  f->set_path("/a");
  EXPECT_EQ(Namespace::Restore(state).status().code(), absl::StatusCode::kDataLoss);
  f->set_id(3);
  EXPECT_TRUE(Namespace::Restore(state).ok());
  FileStateProto* g = state.add_files();
  g->set_id(4);
  g->set_path("/a");  // two files at one path
  EXPECT_EQ(Namespace::Restore(state).status().code(), absl::StatusCode::kDataLoss);
  g->set_path("");  // retained by nothing
  EXPECT_EQ(Namespace::Restore(state).status().code(), absl::StatusCode::kDataLoss);
}

TEST(Namespace, ASnapshotKeepsDeletedFilesUntilItGoes) {
  Namespace ns;
  const FileId a = ns.Apply(Create("/t/a")).file;
  ASSERT_TRUE(ns.Apply(Seal(a, {{{a, 0}, 10, 1}})).status.ok());
  ASSERT_TRUE(ns.Apply(Snapshot("v1", {"/t/a", "/t/a"})).status.ok());
  EXPECT_EQ(Code(ns, Snapshot("v1", {})), absl::StatusCode::kAlreadyExists);
  ASSERT_TRUE(ns.Apply(Delete("/t/a")).status.ok());
  EXPECT_EQ(ns.Lookup("/t/a"), nullptr);
  ASSERT_NE(ns.File(a), nullptr);  // detached, held by v1
  EXPECT_EQ(ns.ChunkRefs({a, 0}), 1u);
  // The path is free again: a new file there is another file.
  const FileId a2 = ns.Apply(Create("/t/a")).file;
  EXPECT_NE(a2, a);
  EXPECT_EQ(ns.CheckInvariants(), "");
  ASSERT_TRUE(ns.Apply(DropSnapshot("v1")).status.ok());
  EXPECT_EQ(ns.File(a), nullptr);
  EXPECT_EQ(ns.ChunkRefs({a, 0}), 0u);
  // An open file is aborted by its id or by deleting its path.
  EXPECT_EQ(Code(ns, Abort(a2)), absl::StatusCode::kOk);
  EXPECT_EQ(ns.Lookup("/t/a"), nullptr);
  EXPECT_EQ(ns.CheckInvariants(), "");
}

// --- The model: the spec again, written as plainly as possible ---

struct Model {
  struct MFile {
    std::optional<std::string> path;
    bool sealed = false;
    std::vector<ChunkRef> chunks;
    std::set<std::string> snapshots;
  };
  std::map<FileId, MFile> files;
  std::map<std::string, FileId> paths;
  std::map<std::string, std::set<FileId>> snapshots;
  FileId next = 1;

  // chunk -> (count, the ref) over retained sealed files
  std::map<dfs::ChunkId, std::pair<uint32_t, ChunkRef>> Live() const {
    std::map<dfs::ChunkId, std::pair<uint32_t, ChunkRef>> out;
    for (const auto& [id, f] : files) {
      if (!f.sealed) continue;
      for (const ChunkRef& r : f.chunks) {
        auto& e = out[r.id];
        ++e.first;
        e.second = r;
      }
    }
    return out;
  }
  void Collect() {
    for (auto it = files.begin(); it != files.end();) {
      it = (!it->second.path.has_value() && it->second.snapshots.empty()) ? files.erase(it) : std::next(it);
    }
  }
  absl::StatusCode Apply(const NamespaceCommand& c) {
    const absl::StatusCode code = Step(c);
    Collect();
    return code;
  }
  absl::StatusCode Step(const NamespaceCommand& c) {
    using C = absl::StatusCode;
    if (c.has_create()) {
      if (!Namespace::ValidatePath(c.create().path()).ok()) return C::kInvalidArgument;
      if (c.create().replication() < 1 || c.create().replication() > kReplicationMax) return C::kInvalidArgument;
      if (paths.contains(c.create().path())) return C::kAlreadyExists;
      files[next].path = c.create().path();
      paths[c.create().path()] = next++;
      return C::kOk;
    }
    if (c.has_seal()) {
      auto it = files.find(c.seal().file());
      if (it == files.end()) return C::kNotFound;
      std::vector<ChunkRef> chunks;
      for (const ChunkRefProto& p : c.seal().chunks()) chunks.push_back({{p.file(), p.index()}, p.length(), p.checksum()});
      if (it->second.sealed) return chunks == it->second.chunks ? C::kOk : C::kFailedPrecondition;
      const auto live = Live();
      std::set<dfs::ChunkId> seen;
      for (const ChunkRef& r : chunks) {
        if (!seen.insert(r.id).second) return C::kInvalidArgument;
        if (r.length > dfs::kChunkBytesMax) return C::kInvalidArgument;
        if (r.id.file == it->first) continue;
        auto l = live.find(r.id);
        if (l == live.end() || !(l->second.second == r)) return C::kFailedPrecondition;
      }
      it->second.sealed = true;
      it->second.chunks = chunks;
      return C::kOk;
    }
    if (c.has_delete_path()) {
      auto p = paths.find(c.delete_path().path());
      if (p == paths.end()) return C::kNotFound;
      files[p->second].path.reset();
      paths.erase(p);
      return C::kOk;
    }
    if (c.has_abort()) {
      auto it = files.find(c.abort().file());
      if (it == files.end()) return C::kNotFound;
      if (it->second.sealed) return C::kFailedPrecondition;
      paths.erase(*it->second.path);
      files.erase(it);
      return C::kOk;
    }
    if (c.has_create_snapshot()) {
      const std::string& name = c.create_snapshot().name();
      if (name.empty() || name.find(' ') != std::string::npos) return C::kInvalidArgument;
      if (snapshots.contains(name)) return C::kAlreadyExists;
      std::set<FileId> held;
      for (const std::string& path : c.create_snapshot().paths()) {
        auto p = paths.find(path);
        if (p == paths.end()) return C::kNotFound;
        if (!files[p->second].sealed) return C::kFailedPrecondition;
        held.insert(p->second);
      }
      for (FileId id : held) files[id].snapshots.insert(name);
      snapshots[name] = held;
      return C::kOk;
    }
    if (c.has_delete_snapshot()) {
      auto s = snapshots.find(c.delete_snapshot().name());
      if (s == snapshots.end()) return C::kNotFound;
      for (FileId id : s->second) files[id].snapshots.erase(s->first);
      snapshots.erase(s);
      return C::kOk;
    }
    return C::kInvalidArgument;
  }
};

// RapidCheck scales inRange with the test's size, so early runs would pick only small values
// (mostly creates, file 1): pick at full size, and let the step count carry the growth.
template <typename T>
T Pick(T lo, T hi) {
  return *rc::gen::resize(100, rc::gen::inRange<T>(lo, hi));
}

RC_GTEST_PROP(NamespaceModel, AgreesWithTheModelAndReplaysToTheSameState, ()) {
  const std::vector<std::string> paths = {"/a", "/b", "/d/c", "/d/e", "/bad//x"};
  const std::vector<std::string> names = {"s1", "s2", "bad name"};
  Namespace ns;
  Model model;
  std::vector<std::string> log;  // the journal: every command, encoded
  std::set<dfs::ChunkId> mentioned;
  const int steps = Pick<int>(50, 200);
  for (int step = 0; step < steps; ++step) {
    NamespaceCommand c;
    const int kind = Pick<int>(0, 100);
    if (kind < 25) {
      c = Create(*rc::gen::elementOf(paths), Pick<uint32_t>(0, 5));
    } else if (kind < 55) {
      // A seal, mostly of an open file, with new chunks and references to live ones.
      std::vector<FileId> open;
      for (const auto& [id, f] : model.files) {
        if (!f.sealed) open.push_back(id);
      }
      const FileId file = !open.empty() && Pick<int>(0, 10) < 8 ? *rc::gen::elementOf(open)
                                                                        : Pick<FileId>(1, model.next + 1);
      std::vector<ChunkRef> chunks;
      const auto live = model.Live();
      const int n = Pick<int>(0, 4);
      for (int i = 0; i < n; ++i) {
        const int what = Pick<int>(0, 10);
        if (what < 4 || live.empty()) {
          chunks.push_back({{file, Pick<uint32_t>(0, 4)}, Pick<uint32_t>(0, 100),
                            Pick<uint32_t>(0, 3)});
        } else {
          auto it = live.begin();
          std::advance(it, Pick<size_t>(0, live.size()));
          ChunkRef r = it->second.second;
          if (what == 9) r.checksum ^= 1;  // a reference that does not match
          if (what == 8) r.length += 1;
          chunks.push_back(r);
        }
      }
      for (const ChunkRef& r : chunks) mentioned.insert(r.id);
      c = Seal(file, chunks);
    } else if (kind < 70) {
      c = Delete(*rc::gen::elementOf(paths));
    } else if (kind < 78) {
      c = Abort(Pick<FileId>(1, model.next + 1));
    } else if (kind < 90) {
      std::vector<std::string> held;
      const int n = Pick<int>(0, 3);
      for (int i = 0; i < n; ++i) held.push_back(*rc::gen::elementOf(paths));
      c = Snapshot(*rc::gen::elementOf(names), held);
    } else {
      c = DropSnapshot(*rc::gen::elementOf(names));
    }
    const absl::Status got = ns.Apply(c).status;
    RC_ASSERT(got.code() == model.Apply(c));
    std::string encoded;
    RC_ASSERT(c.SerializeToString(&encoded));
    log.push_back(std::move(encoded));
    RC_ASSERT(ns.CheckInvariants() == "");

    const auto live = model.Live();
    for (const dfs::ChunkId& id : mentioned) {
      auto l = live.find(id);
      RC_ASSERT(ns.ChunkRefs(id) == (l == live.end() ? 0u : l->second.first));
    }
    for (const std::string& p : paths) {
      const FileInfo* f = ns.Lookup(p);
      auto m = model.paths.find(p);
      RC_ASSERT((f == nullptr) == (m == model.paths.end()));
      if (f != nullptr) {
        RC_ASSERT(f->id == m->second);
        RC_ASSERT(f->sealed == model.files[m->second].sealed);
        RC_ASSERT(f->chunks == model.files[m->second].chunks);
      }
    }
    RC_ASSERT(ns.files().size() == model.files.size());
    // A checkpoint of the state restores to the same state.
    if (step % 7 == 0) {
      absl::StatusOr<Namespace> restored = Namespace::Restore(ns.Save());
      RC_ASSERT(restored.ok());
      RC_ASSERT(*restored == ns);
    }
  }
  // A new master replays the journal and reaches the same state.
  Namespace replayed;
  for (const std::string& entry : log) {
    NamespaceCommand c;
    RC_ASSERT(c.ParseFromString(entry));
    replayed.Apply(c);
  }
  RC_ASSERT(replayed == ns);
}

}  // namespace
}  // namespace cairn::master

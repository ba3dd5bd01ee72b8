// DfsFileStore: the engine's lsm::FileStore on the DFS, so a shard's SSTables live on the file
// servers and src/lsm runs unchanged (docs/dfs.md, "The engine on the DFS").
//
// A file `name` is the DFS path `dir/name`. Create starts a DfsWriter: each Write of the file
// is one or more chunks (an SstWriter writes macroblock by macroblock, so a macroblock is a
// chunk when it fits one), Sync waits until every chunk written is durable on R servers, and
// Seal has the master record the file — before that no reader can open it, as the FileStore
// contract asks. AppendFrom a file of the same store refers to whole chunks of it: a major
// compaction that reuses a macroblock sends none of its bytes. Open reads through the client,
// every chunk checked end to end, from any copy; a read that finds no copy where the open
// said asks the master again once (repair may have moved them).
//
// A store has one owner (a shard's engine): Open aborts the open files an earlier owner left
// under `dir`. Used from the client's executor only.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "src/dfs/dfs_client.h"
#include "src/dfs/dfs_writer.h"
#include "src/lsm/file_store.h"

namespace cairn::dfs {

struct DfsFileStoreOptions {
  uint32_t replication = 0;  // copies of each chunk; 0: the master's default
  std::string node_set;      // a set the placement must include a copy in, or none
};

class DfsFileStore final : public lsm::FileStore {
 public:
  // `dir` is an absolute DFS path ("/shards/7"); `client` must outlive the store. (No default
  // for `options`: g++ 12 destroys a braced default argument of a coroutine twice.)
  static Task<absl::StatusOr<std::unique_ptr<DfsFileStore>>> Open(DfsClient& client, std::string dir,
                                                                  DfsFileStoreOptions options);

  Task<absl::StatusOr<std::unique_ptr<File>>> Create(std::string name) override;
  // The file Create returned must still be open.
  Task<absl::Status> Seal(std::string name) override;
  Task<absl::StatusOr<std::unique_ptr<File>>> Open(std::string name) override;
  Task<absl::Status> Remove(std::string name) override;
  Task<absl::StatusOr<std::vector<std::string>>> List() override;

  const std::string& dir() const { return dir_; }

 private:
  DfsFileStore(DfsClient& client, std::string dir, DfsFileStoreOptions options)
      : client_(client), dir_(std::move(dir)), options_(std::move(options)) {}
  std::string Path(const std::string& name) const { return dir_ + "/" + name; }

  DfsClient& client_;
  const std::string dir_;
  const DfsFileStoreOptions options_;
  // Files created and not yet sealed, by name; each is owned by the File Create returned.
  std::map<std::string, std::weak_ptr<DfsWriter>> writing_;
};

// A sealed DFS file as a read-only runtime File (what DfsFileStore::Open returns), for tools
// that read one file by path (`cairn sst ... PATH` on a DFS path).
Task<absl::StatusOr<std::unique_ptr<File>>> OpenDfsFile(DfsClient& client, std::string path);

}  // namespace cairn::dfs

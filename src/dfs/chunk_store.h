// ChunkStore: one file server's chunks, each a file `<dir>/<file, 16 hex>-<index, 8 hex>.chunk`
// on the node's Disk (the format: chunk_format.h).
//
// Promises:
// - A chunk that Put acknowledged is durable and whole: it was written under a temporary name,
//   synced, renamed and the directory synced. A crash before then leaves a `.tmp` file, which
//   Open removes, never a listed chunk with part of its bytes.
// - Put checks the data against its checksums before writing anything: bytes damaged on their
//   way in are refused (DataLoss), never stored.
// - Read and Scrub check what they read before returning it: a damaged header, table or block,
//   or a file holding another chunk's bytes, is DataLoss naming the chunk, never bytes.
// - Put of a chunk already held with the same checksum is a success (a retried write); with a
//   different one, AlreadyExists (a chunk's bytes never change).
// Remove does not sync the directory: a removed chunk a crash brings back is garbage that the
// master's next report answer removes again.
//
// Used from its node's executor only.
#pragma once

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "src/dfs/chunk_format.h"
#include "src/runtime/disk.h"
#include "src/runtime/probes.h"
#include "src/runtime/task.h"

namespace cairn::dfs {

// Planted bugs (docs/simulation.md, "Canaries"): the dfs workload's sweeps must catch them.
struct ChunkStoreCanaries {
  bool ack_before_sync = false;   // Put acknowledges before the chunk file and directory sync
  bool unverified_reads = false;  // Read serves blocks without checking them
};

class ChunkStore {
 public:
  // Opens the store in `dir` (creating it), removing the remains of cut-off writes. `probes`:
  // a simulated run's fault points and coverage probes (inert by default).
  static Task<absl::StatusOr<std::unique_ptr<ChunkStore>>> Open(Disk& disk, std::string dir, Probes probes = {});

  // Stores chunk `id` durably (see the header comment). `data` is the whole chunk.
  Task<absl::Status> Put(ChunkId id, std::string data, uint32_t block_bytes, ChunkSums sums);

  // The whole blocks of chunk `id` that cover [offset, offset + length), verified, with the
  // chunk's block table (for a reader to check against the chunk checksum it trusts).
  struct Blocks {
    ChunkHeader header;
    std::vector<uint32_t> table;
    uint32_t first_block = 0;
    std::string data;  // blocks first_block.. whole; the chunk's last block may be short
  };
  // NotFound if the chunk is not here; OutOfRange past its end; DataLoss if damaged. With
  // `verify_blocks` false the blocks go out as they lie (the header and table are still
  // checked): for a caller that checks them end to end against the sealed checksum anyway.
  Task<absl::StatusOr<Blocks>> Read(ChunkId id, uint64_t offset, uint64_t length, bool verify_blocks = true);

  // Reads all of chunk `id` and checks it (system IO): OK, DataLoss, NotFound or an IO error.
  Task<absl::Status> Scrub(ChunkId id);

  Task<absl::Status> Remove(ChunkId id);

  // The chunks held, sorted.
  Task<absl::StatusOr<std::vector<ChunkId>>> List();

  struct Stats {
    uint64_t puts = 0, puts_repeated = 0, puts_refused = 0;
    uint64_t reads = 0, read_bytes = 0, damaged_reads = 0;
    uint64_t scrubbed = 0, scrub_damage = 0;
    uint64_t removed = 0, cut_writes_removed = 0;
  };
  const Stats& stats() const { return stats_; }
  void set_canaries(ChunkStoreCanaries canaries) { canaries_ = canaries; }

  // The file name of a chunk, and the chunk a name is (if it is one).
  static std::string FileName(ChunkId id);
  static bool ParseFileName(std::string_view name, ChunkId* id);

 private:
  ChunkStore(Disk& disk, std::string dir, Probes probes) : disk_(disk), dir_(std::move(dir)), probes_(probes) {}
  std::string Path(ChunkId id) const { return dir_ + "/" + FileName(id); }
  // How errors name a chunk: "chunk F/I (PATH)".
  static std::string Where(ChunkId id, const std::string& path);
  // The header and block table of an open chunk file, checked against each other and `id`.
  Task<absl::StatusOr<std::pair<ChunkHeader, std::vector<uint32_t>>>> ReadMeta(File& file, ChunkId id,
                                                                                const std::string& path);

  // The whole chunk file checked: its header, table and every block.
  Task<absl::StatusOr<ChunkHeader>> VerifyFile(File& file, ChunkId id, const std::string& path);

  Disk& disk_;
  const std::string dir_;
  const Probes probes_;
  std::set<ChunkId> writing_;  // Puts in flight: a second Put of one chunk waits its turn
  Stats stats_;
  ChunkStoreCanaries canaries_;
};

}  // namespace cairn::dfs

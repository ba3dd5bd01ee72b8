// Compaction: merges SSTables into one, as a pure function of (inputs, spec, options).
//
// Nothing here knows about the engine: given the same input files, snapshot and options it
// writes the same output rows, so the job system can later run a compaction on another node.
// The engine chooses the three kinds of seed 002 by what it passes:
//
//   mini   the minis           → one mini    spec {snapshot S, bottommost false}
//   minor  the minor + minis   → one minor   spec {snapshot S, bottommost false}
//   major  everything          → one major   spec {snapshot S, bottommost true}
//
// The retention rule, per key: every row newer than S is kept (a reader at a later version may
// need it); of the rows at or below S only the newest is kept, since no reader below S exists
// (S is at or below every live snapshot); in a bottommost compaction that newest row is dropped
// too when it is a delete, since nothing older remains for it to shadow. So the content visible
// at every version >= S is unchanged, which VerifyCompaction checks with logical checksums.
//
// Macroblock reuse: an input macroblock whose rows would all be kept unchanged and that no row
// of another input falls between is copied into the output as it is (its bytes, checksums and
// identity), instead of being decoded and re-encoded. A macroblock qualifies when its key
// range [first, last] is clear of every other input's next row and of the last row written,
// and its own rows survive the rule: one row per key (nothing to drop), and no deletes if the
// compaction is bottommost.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "src/format/logical_checksum.h"
#include "src/format/sst_file.h"
#include "src/format/sst_options.h"
#include "src/format/sst_reader.h"
#include "src/format/sst_writer.h"
#include "src/lsm/file_store.h"
#include "src/runtime/executor.h"
#include "src/runtime/task.h"

namespace cairn::lsm {

struct CompactionSpec {
  uint64_t snapshot = 0;  // S; 0 keeps every row (versions start at 1)
  bool bottommost = false;
  bool reuse_macroblocks = true;
};

// What a compaction may touch besides its inputs and output. Neither changes what it writes.
struct CompactionHooks {
  // Pre-warming: an output microblock holding a row whose input block was in this cache (hot)
  // enters it decoded, so reads after the compaction find the new file's blocks hot.
  format::BlockCache* warm_cache = nullptr;
  // System IO: every input read and output write awaits it.
  format::IoThrottle* throttle = nullptr;
  // The node's executor, to let its other tasks (user reads) run after every
  // `yield_every_bytes` of rows merged: a node runs on one thread, and a compaction that only
  // paused at IO would hold it for a whole macroblock's encoding.
  Executor* executor = nullptr;
  size_t yield_every_bytes = 16u << 10;
};

// Counts the bytes of rows a flush or compaction merged, and says when it is time to let the
// node's other tasks run (CompactionHooks::yield_every_bytes).
class YieldBudget {
 public:
  explicit YieldBudget(size_t every_bytes) : every_bytes_(every_bytes) {}
  // True, once per `every_bytes` spent: co_await the executor's Yield() then.
  bool Spend(size_t bytes) {
    spent_ += bytes;
    if (spent_ < every_bytes_) return false;
    spent_ = 0;
    return true;
  }

 private:
  const size_t every_bytes_;
  size_t spent_ = 0;
};

struct CompactionStats {
  uint64_t rows_in = 0;
  uint64_t rows_out = 0;
  uint64_t rows_dropped = 0;
  uint64_t macroblocks_reused = 0;
  uint64_t bytes_reused = 0;
  // Of bytes_reused, those the file store copied file to file (the DFS by chunk reference):
  // never read, sent or written again.
  uint64_t bytes_reused_by_reference = 0;
  uint64_t macroblocks_written = 0;
  uint64_t bytes_written = 0;  // macroblocks encoded anew
  uint64_t input_bytes = 0;
  uint64_t blocks_warmed = 0;  // output microblocks put into the warm cache
};

struct CompactionOutput {
  format::SstProperties properties;
  CompactionStats stats;
};

// A new SSTable `name` of `store`, to write; then SealSst finishes it (synced) and names it.
Task<absl::StatusOr<std::unique_ptr<format::SstWriter>>> CreateSst(FileStore& store, std::string name,
                                                                   uint64_t file_id, format::SstOptions options,
                                                                   format::IoThrottle* throttle = nullptr);
Task<absl::StatusOr<format::SstProperties>> SealSst(format::SstWriter& writer, FileStore& store, std::string name);

// Writes the merge of `inputs` as the sealed file `name` of `store`, with identity `file_id`.
// The inputs must not share a (key, version). The readers are used only until the task ends.
Task<absl::StatusOr<CompactionOutput>> Compact(std::vector<format::SstReader*> inputs, CompactionSpec spec,
                                               FileStore& store, std::string name, uint64_t file_id,
                                               format::SstOptions options, CompactionHooks hooks = {});

// The logical checksum of the content visible at `version`: per key, its newest row at or
// below `version`, when that row is a put.
Task<absl::StatusOr<format::LogicalChecksum>> ContentChecksum(std::vector<format::SstReader*> sources,
                                                              uint64_t version);

// Checks that `output` shows the same content as `inputs` at S and at the latest version: the
// invariant of docs/lsm.md. FailedPrecondition, naming the version, if not.
Task<absl::Status> VerifyCompaction(std::vector<format::SstReader*> inputs, format::SstReader* output,
                                    uint64_t snapshot);

}  // namespace cairn::lsm

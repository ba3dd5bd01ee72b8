// SstWriter: writes one SSTable, once, front to back, through the runtime Disk.
//
// Rows go in row order (key ascending, version descending), each (key, version) once; a row
// out of order is InvalidArgument and the row is not written. Macroblocks are built in memory
// and written whole. The file is complete and durable (synced) when Finish returns; naming it
// (a rename, a directory sync, a manifest entry) is the caller's business, so a crash before
// then leaves only a file that nothing refers to.
//
//   SstWriter w = co_await SstWriter::Create(disk, "000042.sst", 42, options);
//   for (row : rows) CO_RETURN_IF_ERROR(co_await w->Append(row));
//   SstProperties props = co_await w->Finish();
//
// Add is the synchronous form of Append for tight loops: after it, if has_pending_writes(),
// the caller must co_await WritePending() before the next Add.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "src/format/compression.h"
#include "src/format/io_throttle.h"
#include "src/format/macroblock.h"
#include "src/format/row.h"
#include "src/format/sst_file.h"
#include "src/format/sst_options.h"
#include "src/runtime/disk.h"
#include "src/runtime/task.h"

namespace cairn::format {

class SstReader;

class SstWriter {
 public:
  // Creates `path` (which must not exist). `file_id` is the file's identity: every checksum of
  // the macroblocks it writes is bound to it, so it must be unique among the SSTables that can
  // meet (the engine uses its file numbers). 0 is reserved.
  static Task<absl::StatusOr<std::unique_ptr<SstWriter>>> Create(Disk& disk, std::string path,
                                                                  uint64_t file_id,
                                                                  SstOptions options);
  // The same over a file already created and empty (a FileStore's), named `name` in errors.
  static absl::StatusOr<std::unique_ptr<SstWriter>> Create(std::unique_ptr<File> file, std::string name,
                                                           uint64_t file_id, SstOptions options);
  ~SstWriter();

  absl::Status Add(const RowView& row);
  bool has_pending_writes() const { return !pending_.empty(); }
  Task<absl::Status> WritePending();
  // Add, then WritePending if a macroblock was sealed. `row` must stay alive until it returns.
  Task<absl::Status> Append(const RowView& row);

  // Copies macroblock `index` of `source` into this file unchanged: its bytes, checksums and
  // identity. Its rows must all sort after every row written so far. The open macroblock is
  // sealed first (short). Where the file store can copy file to file (File::AppendFrom: the
  // DFS refers to the source's chunks), no byte is read or sent; otherwise the bytes are read
  // and verified before they are copied, so a corrupt block is never propagated.
  Task<absl::Status> ReuseMacroblock(SstReader& source, size_t index);

  // Seals the last macroblock, writes the file index, properties and footer, and syncs.
  Task<absl::StatusOr<SstProperties>> Finish();

  const std::vector<MacroblockMeta>& macroblocks() const { return metas_; }
  // Bytes of reused macroblocks the file store copied file to file, never read or sent.
  uint64_t bytes_by_reference() const { return bytes_by_reference_; }

  // Pre-warming (compaction): marks the microblock the last Add went into as hot, so that its
  // decoded payload enters `cache` when it is sealed.
  void set_warm_cache(BlockCache* cache) { builder_.set_warm_cache(cache); }
  void MarkHot() {
    if (builder_open_) builder_.MarkHot();
  }
  uint64_t warmed_blocks() const { return builder_.warmed_blocks(); }
  // System IO: each write, and each read of a reused macroblock, first awaits the throttle.
  void set_throttle(IoThrottle* throttle) { throttle_ = throttle; }

 private:
  SstWriter(std::unique_ptr<File> file, std::string path, uint64_t file_id, SstOptions options);
  void SealMacroblock();
  absl::Status CheckOrder(std::string_view key, uint64_t version, const char* what) const;
  void NoteLast(std::string_view key, uint64_t version);

  std::unique_ptr<File> file_;
  const std::string path_;
  const uint64_t file_id_;
  const SstOptions options_;
  Codec codec_;
  MacroblockBuilder builder_;
  bool builder_open_ = false;
  std::string pending_;  // sealed macroblocks not yet written
  uint64_t written_ = 0;
  uint64_t bytes_by_reference_ = 0;
  uint64_t next_offset_ = 0;  // file offset of the next macroblock
  std::vector<MacroblockMeta> metas_;
  SstProperties props_;
  bool have_last_ = false;
  std::string last_key_;
  uint64_t last_version_ = 0;
  absl::Status error_;  // the first failure; the writer refuses everything after it
  bool finished_ = false;
  IoThrottle* throttle_ = nullptr;
};

// Writes `rows` (in row order) as a complete SSTable at `path`: Create, Append each, Finish.
// `rows` must outlive the task.
Task<absl::StatusOr<SstProperties>> WriteSst(Disk& disk, std::string path, uint64_t file_id,
                                             SstOptions options, const std::vector<Row>* rows);

}  // namespace cairn::format

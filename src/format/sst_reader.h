// SstReader: reads one SSTable through the runtime Disk.
//
// Open reads the footer, the file index and the properties, and checks how they fit together
// (every macroblock where the index says, keys ascending across macroblocks, totals matching
// the properties): a missing, truncated or foreign file fails there with a clear error. A
// macroblock's micro index and bloom filter are read the first time it is needed (one read:
// they are adjacent) and kept. Data blocks are read one at a time by Get, and in runs of up to
// `readahead_bytes` by iterators; each is verified against its checksum, and so against its
// identity, before anything in it is used.
//
// A reader is used by one node (one thread); it is not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "src/format/block_cache.h"
#include "src/format/bloom.h"
#include "src/format/compression.h"
#include "src/format/io_throttle.h"
#include "src/format/macroblock.h"
#include "src/format/microblock.h"
#include "src/format/row.h"
#include "src/format/sst_file.h"
#include "src/runtime/disk.h"
#include "src/runtime/probes.h"
#include "src/runtime/task.h"

namespace cairn::format {

struct ReaderOptions {
  uint64_t expected_file_id = 0;      // 0: any; else a file with another id is DataLoss
  BlockCache* block_cache = nullptr;  // decoded data blocks (Get only)
  // Bloom filters. Without it the reader keeps each macroblock's filter for its lifetime; with
  // it the reader keeps none, so filters count against the cache's budget, and a Get looks its
  // filter up in the cache (reading it again once evicted).
  BlockCache* filter_cache = nullptr;
  // Fault points and probes (inert by default). Buggify: a Get treats a cached filter as
  // evicted and reads it again, so the re-read path runs at every cache size.
  Probes probes;
};

struct IteratorOptions {
  std::optional<std::string> upper_bound;  // exclusive: the iterator ends before this key
  // Data blocks read per IO, at most. An iterator that may stop after a row or two (a seek)
  // reads its first blocks one at a time through the block cache; once it keeps moving it
  // reads ahead, 16 KiB then doubling up to this.
  size_t readahead_bytes = 256u << 10;
  // Reads far (compaction, checksums, verification): reads ahead from the first block and
  // leaves the block cache alone.
  bool sequential = false;
  IoThrottle* throttle = nullptr;  // awaited before each data read (system IO)
};

struct ReaderStats {
  uint64_t gets = 0;
  uint64_t bloom_checks = 0;
  uint64_t bloom_negatives = 0;  // gets answered by a filter alone
  uint64_t block_reads = 0;      // data block IOs
  uint64_t block_cache_hits = 0;
  uint64_t filter_reads = 0;     // filters read again after the filter cache let them go
  uint64_t bytes_read = 0;
};

struct GetResult {
  bool found = false;  // a row of the key at or below the snapshot exists (put or delete)
  RowKind kind = RowKind::kPut;
  uint64_t version = 0;
  std::string value;
};

class SstIterator;

class SstReader {
 public:
  static Task<absl::StatusOr<std::unique_ptr<SstReader>>> Open(std::unique_ptr<File> file,
                                                               std::string name,
                                                               ReaderOptions options = {});
  static Task<absl::StatusOr<std::unique_ptr<SstReader>>> Open(Disk& disk, std::string path,
                                                               ReaderOptions options = {});
  ~SstReader();

  const std::string& name() const { return name_; }
  const Footer& footer() const { return footer_; }
  const SstProperties& properties() const { return props_; }
  const std::vector<MacroblockMeta>& macroblocks() const { return metas_; }
  uint64_t file_size() const { return file_size_; }
  const ReaderStats& stats() const { return stats_; }

  // The newest row of `key` whose version is at most `snapshot`: bloom filter, then index,
  // then one microblock.
  Task<absl::StatusOr<GetResult>> Get(std::string key, uint64_t snapshot = kMaxVersion);

  // An iterator over every row (all versions), in row order. The reader must outlive it.
  std::unique_ptr<SstIterator> NewIterator(IteratorOptions options = {});

  // --- Raw access, for verification, tools and macroblock reuse ---

  // The whole macroblock, with its header and body checksums verified.
  Task<absl::StatusOr<std::string>> ReadMacroblock(size_t index);
  // The micro index and bloom filter of a macroblock, read on first use and kept.
  struct MacroblockIndex {
    std::vector<MicroIndexEntry> micro;
    std::vector<uint64_t> last_key_prefix;  // KeyPrefix of each micro[i].last_key
    // The filter, when the reader keeps it (no filter cache); with a filter cache, Get finds
    // it there.
    std::shared_ptr<const DecodedBlock> bloom_block;  // keeps `bloom` alive
    std::optional<BloomFilter> bloom;
  };
  Task<absl::StatusOr<const MacroblockIndex*>> LoadIndex(size_t index);
  // Bytes of the file; fewer only at its end. `buffer`'s memory is reused (File::ReadInto).
  Task<absl::StatusOr<std::string>> ReadBytes(uint64_t offset, size_t length, std::string buffer = {});
  // The position of a row: the first macroblock whose last row is at or after it, or
  // macroblocks().size() if none.
  size_t FindMacroblock(std::string_view key, uint64_t version) const;
  Codec& codec() { return codec_; }
  // The file read (a writer reusing a macroblock may copy it file to file: File::AppendFrom).
  File& file() { return *file_; }
  // "macroblock 3 (file offset 6291456)" and with a microblock, for error messages.
  std::string Where(size_t macroblock) const;
  std::string Where(size_t macroblock, const MicroIndexEntry& micro) const;

 private:
  friend class SstIterator;
  SstReader(std::unique_ptr<File> file, std::string name, ReaderOptions options)
      : file_(std::move(file)), name_(std::move(name)), options_(options) {}
  Task<absl::Status> Load();
  absl::Status CheckLayout() const;
  // Checks the bloom block `bytes` of macroblock `index` and wraps it for the filter cache.
  absl::StatusOr<std::shared_ptr<const DecodedBlock>> OpenBloom(size_t index, std::string bytes);
  // The filter of macroblock `index`, read again after the filter cache let it go, and put back.
  Task<absl::StatusOr<std::shared_ptr<const DecodedBlock>>> ReadBloomAgain(size_t index);
  // Reads and decodes one data block.
  Task<absl::StatusOr<std::shared_ptr<const DecodedBlock>>> ReadDataBlock(size_t macroblock,
                                                                          const MicroIndexEntry& e);

  std::unique_ptr<File> file_;
  std::string name_;
  ReaderOptions options_;
  uint64_t file_size_ = 0;
  Footer footer_;
  SstProperties props_;
  std::vector<MacroblockMeta> metas_;
  // KeyPrefix of each metas_[i].last_key: a binary search probes this flat array and reads a
  // key (a pointer away) only when the prefixes tie.
  std::vector<uint64_t> meta_prefix_;
  std::vector<std::unique_ptr<MacroblockIndex>> indexes_;
  Codec codec_;
  std::shared_ptr<DecodedBlock> spare_;  // see ReadDataBlock
  std::string read_buffer_;              // a compressed block's bytes, kept for the next read
  MicroblockCursor get_cursor_;
  ReaderStats stats_;
};

// Rows in order, from a Seek. Moving within a block needs no IO: Next() returns true when it
// moved (Valid() then tells whether a row follows) and false when the next row lies in a block
// not yet read, or the iterator failed — co_await Load() then, which reads the block or returns
// the failure. Advance() does both. Rows (row()) stay valid until the
// iterator moves.
class SstIterator {
 public:
  SstIterator(SstReader& reader, IteratorOptions options);

  Task<absl::Status> SeekToFirst();
  // To the first row at or after (key, version).
  Task<absl::Status> Seek(std::string key, uint64_t version = kMaxVersion);
  // To the first row of macroblock `m`; past the end (not Valid) when m is the count.
  Task<absl::Status> SeekToMacroblock(size_t m);
  bool Valid() const { return valid_; }
  RowView row() const { return cursor_.row(); }
  // The macroblock the current row is in, and whether the row is its first.
  size_t macroblock() const { return m_; }
  bool AtMacroblockStart() const;
  // The identity of the data block the current row is in (Valid() only): its cache key.
  BlockIdentity block_identity() const;
  bool Next();
  Task<absl::Status> Load();
  Task<absl::Status> Advance();
  const absl::Status& status() const { return status_; }

 private:
  // Makes macroblock m current, loading its index; false (with status_) on error.
  Task<bool> UseMacroblock(size_t m);
  // Makes block (m, j) current (reading it if it is not in the readahead buffer) and puts the
  // cursor on its first row.
  Task<absl::Status> Enter(size_t m, size_t j);
  // Decodes block (m_, j_) from the buffer; false on error.
  bool DecodeCurrent();
  // Puts the cursor on the first row of block (m_, j_), whose payload this is; false on error.
  bool DecodePayload(std::string_view payload);
  // How much the next read should take: 0 for one block through the cache.
  size_t ReadaheadBytes() const;
  bool InBuffer(size_t m, size_t j) const;
  // After the cursor moved: checks the bound; returns true.
  bool Settle();
  void Fail(absl::Status s);

  SstReader& reader_;
  const IteratorOptions options_;
  size_t m_ = 0, j_ = 0;
  const SstReader::MacroblockIndex* index_ = nullptr;
  std::string buffer_;  // data blocks [buffer_first_, buffer_end_) of macroblock buffer_m_
  size_t buffer_m_ = SIZE_MAX, buffer_first_ = 0, buffer_end_ = 0;
  std::string scratch_;
  std::shared_ptr<const DecodedBlock> single_;  // block (m_, j_) when read on its own
  size_t loads_since_seek_ = 0;                 // blocks entered by moving on, not seeking
  MicroblockCursor cursor_;
  bool valid_ = false;
  bool need_load_ = false;
  absl::Status status_;
};

}  // namespace cairn::format

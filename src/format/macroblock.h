// Macroblocks: the fixed-capacity unit of writing and of reuse.
//
// A macroblock is self-describing, so that it can be verified alone and copied unchanged into
// another SSTable:
//
//   header      96 bytes, see MacroblockHeader (its own checksum)
//   microblock* sealed data blocks
//   micro index a sealed block: per microblock its size, row count and last row key (offsets
//                follow: microblocks are packed from the end of the header)
//   bloom       a sealed block over the distinct keys (absent when bits_per_key is 0)
//
// Its identity is (origin file id, origin index): the file it was first written into and its
// position there. Every checksum inside is bound to that identity, which a macroblock keeps
// when it is reused, so its checksums stay valid in any file that includes it.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "src/format/block.h"
#include "src/format/block_cache.h"
#include "src/format/bloom.h"
#include "src/format/logical_checksum.h"
#include "src/format/microblock.h"
#include "src/format/row.h"
#include "src/format/sst_options.h"

namespace cairn::format {

constexpr uint32_t kMacroblockMagic = 0x4d4e5243;  // "CRNM"
constexpr uint16_t kFormatVersion = 1;
constexpr uint32_t kMacroblockHeaderBytes = 96;

// Per codec: how many microblocks, and their bytes before and after compression.
struct CodecCounts {
  uint64_t blocks = 0;
  uint64_t raw_bytes = 0;
  uint64_t stored_bytes = 0;
  void Merge(const CodecCounts& o) {
    blocks += o.blocks;
    raw_bytes += o.raw_bytes;
    stored_bytes += o.stored_bytes;
  }
  friend bool operator==(const CodecCounts&, const CodecCounts&) = default;
};
using CodecTable = std::array<CodecCounts, kCompressionCount>;

//   0 u32 magic            4 u16 format version   6 u16 header size (96)
//   8 u64 origin file id  16 u32 origin index    20 u32 size (bytes stored)
//  24 u32 microblocks     28 u32 micro index offset  32 u32 micro index size
//  36 u32 bloom offset    40 u32 bloom size      44 u32 reserved
//  48 u64 rows            56 u64 logical sum     64 u64 min version  72 u64 max version
//  80 u32 body checksum (identity ‖ bytes 96..size)   84 u32[2] reserved
//  92 u32 header checksum (identity ‖ bytes 0..92)
struct MacroblockHeader {
  uint64_t origin_file_id = 0;
  uint32_t origin_index = 0;
  uint32_t size = 0;
  uint32_t micro_count = 0;
  uint32_t micro_index_offset = 0;
  uint32_t micro_index_size = 0;
  uint32_t bloom_offset = 0;
  uint32_t bloom_size = 0;
  uint64_t rows = 0;
  uint64_t logical_sum = 0;
  uint64_t min_version = 0;
  uint64_t max_version = 0;
  uint32_t body_checksum = 0;

  BlockIdentity identity(uint64_t offset) const {
    return BlockIdentity{origin_file_id, origin_index, offset};
  }
  // Encodes the header of the macroblock in `block` (which starts with 96 bytes of room),
  // computing both checksums over it.
  void Seal(std::string* block);
  // Parses and checks a header: magic, version, header checksum, and that its regions lie in
  // order inside `capacity` bytes.
  static absl::StatusOr<MacroblockHeader> Parse(std::string_view header96, uint32_t capacity);
  // Checks the body checksum of a whole macroblock.
  absl::Status VerifyBody(std::string_view block) const;
};

struct MicroIndexEntry {
  uint32_t offset = 0;  // in the macroblock
  uint32_t size = 0;    // the sealed block's bytes
  uint32_t rows = 0;
  std::string last_key;
  uint64_t last_version = 0;
};

std::string EncodeMicroIndex(const std::vector<MicroIndexEntry>& entries);
// Parses, and checks that the microblocks lie in order between the header and the micro
// index, each larger than a block header, and that their last keys ascend.
absl::StatusOr<std::vector<MicroIndexEntry>> DecodeMicroIndex(std::string_view payload,
                                                              const MacroblockHeader& header);

// Content statistics of a macroblock, kept in the file index (a reused macroblock brings its
// own, since its rows are not read again).
struct MacroblockStats {
  uint64_t deletes = 0;
  uint64_t distinct_keys = 0;  // counted per macroblock: a key split across two counts twice
  uint64_t key_bytes = 0;
  uint64_t value_bytes = 0;
  friend bool operator==(const MacroblockStats&, const MacroblockStats&) = default;
};

// What the file index records of each macroblock.
struct MacroblockMeta {
  uint64_t offset = 0;  // in the file
  MacroblockHeader header;
  std::string raw_header;  // the header's 96 bytes as sealed
  std::string first_key;
  uint64_t first_version = 0;
  std::string last_key;
  uint64_t last_version = 0;
  CodecTable codecs{};
  MacroblockStats stats;
  bool reused = false;  // copied from another SSTable

  LogicalChecksum logical() const { return LogicalChecksum{header.logical_sum, header.rows}; }
};

// Builds one macroblock in memory.
class MacroblockBuilder {
 public:
  MacroblockBuilder(const SstOptions& options, Codec& codec);

  void Start(uint64_t file_id, uint32_t index);
  bool empty() const { return header_.rows == 0; }
  // Adds the row if the macroblock has room for it (after sealing the open microblock if need
  // be); false if it is full. `key_hash` is KeyHash(row.key); `new_key` is whether the key
  // differs from the previous row's.
  bool TryAdd(const RowView& row, uint64_t key_hash, bool new_key);
  // Seals the macroblock and returns its bytes; `meta` gets everything but the file offset.
  std::string Finish(MacroblockMeta* meta);
  // Pre-warming: the open microblock holds a row that was hot where it came from, so when it
  // is sealed its decoded payload goes into `cache` (set_warm_cache) under its identity.
  void MarkHot() { hot_ = !micro_.empty(); }
  void set_warm_cache(BlockCache* cache) { warm_cache_ = cache; }
  uint64_t warmed_blocks() const { return warmed_blocks_; }

 private:
  void SealMicroblock();
  size_t BytesWith(size_t open_payload_bytes, size_t extra_keys) const;

  const SstOptions& options_;
  Codec& codec_;
  MacroblockHeader header_;
  std::string block_;
  MicroblockBuilder micro_;
  std::vector<MicroIndexEntry> index_;
  size_t index_bytes_ = 0;  // estimate of the encoded micro index
  BloomBuilder bloom_;
  MacroblockMeta meta_;
  bool hot_ = false;
  BlockCache* warm_cache_ = nullptr;
  uint64_t warmed_blocks_ = 0;
};

}  // namespace cairn::format

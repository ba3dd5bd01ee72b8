// The sealed block: the envelope of every block of an SSTable — microblocks of rows, each
// macroblock's microblock index and bloom filter, and the file's index and properties.
//
//   offset 0  u8  type         BlockType: a block read as the wrong kind fails
//          1  u8  codecs       high nibble: the row encoder of a data block (0 for metadata);
//                              low nibble: Compression of the payload
//          2  u32 raw_size     payload size after decompression
//          6  u32 checksum     masked CRC-32C of identity ‖ bytes 0..6 ‖ payload
//         10  payload          `stored` bytes
//
// The checksum is bound to the block's identity: the macroblock it belongs to and its offset
// there (docs/format.md, "Checksums"). A block read from the wrong place — another offset,
// another macroblock, another file — fails verification even if its bytes are intact.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "src/format/compression.h"
#include "src/format/sst_options.h"

namespace cairn::format {

enum class BlockType : uint8_t {
  kData = 1,
  kMicroIndex = 2,
  kBloom = 3,
  kFileIndex = 4,
  kProperties = 5,
};
const char* BlockTypeName(BlockType t);

constexpr size_t kBlockHeaderBytes = 10;
// A block's payload is at most this before and after compression.
constexpr uint32_t kBlockPayloadBytesMax = 256u << 20;

// Where a block belongs. For a block inside a macroblock: the macroblock's own identity (the
// file it was first written into and its index there, which it keeps when reused) and the
// offset inside the macroblock. For file-level metadata: the file id, kFileLevel, and the
// offset in the file.
struct BlockIdentity {
  uint64_t file_id = 0;
  uint64_t macroblock = 0;
  uint64_t offset = 0;
};
constexpr uint64_t kFileLevel = UINT64_MAX;

struct BlockHeader {
  BlockType type = BlockType::kData;
  uint8_t encoder = 0;
  Compression compression = Compression::kNone;
  uint32_t raw_size = 0;
  uint32_t checksum = 0;
  uint32_t stored_size = 0;  // payload bytes as stored (block size - header)
};

// Masked CRC-32C of identity ‖ a ‖ b: every checksum of the format is one of these.
uint32_t BoundChecksum(const BlockIdentity& id, std::string_view a, std::string_view b = {});

// Appends a sealed block holding `raw` to `out`: compressed with `compression` when that
// shrinks it enough, raw otherwise.
void SealBlock(BlockType type, uint8_t encoder, Compression compression, int zstd_level,
               std::string_view raw, const BlockIdentity& id, Codec& codec, std::string* out);

// Parses and checks the header and checksum of the block that is exactly `block`.
absl::StatusOr<BlockHeader> VerifyBlock(std::string_view block, const BlockIdentity& id,
                                        BlockType expected);

// VerifyBlock, then the payload as raw bytes: a view into `block` when it is stored raw, else
// decompressed into `*scratch` (and a view of it).
absl::StatusOr<std::string_view> OpenBlock(std::string_view block, const BlockIdentity& id,
                                           BlockType expected, Codec& codec,
                                           std::string* scratch, BlockHeader* header = nullptr);

}  // namespace cairn::format

#include "src/dfs/chunk_format.h"

#include "absl/strings/str_cat.h"
#include "src/base/check.h"
#include "src/base/coding.h"
#include "src/base/crc32c.h"
#include "src/base/strings.h"

namespace cairn::dfs {
namespace {

constexpr uint32_t kChunkMagic = 0x4b4e5243;  // "CRNK"

// The chunk file's header, byte by byte (docs/dfs.md): every field named once, for encoding
// and parsing alike.
namespace layout {
constexpr FixedField<uint32_t> kMagic{0};
constexpr FixedField<uint16_t> kVersion{4};
constexpr FixedField<uint16_t> kHeaderBytes{6};
constexpr FixedField<uint64_t> kFile{8};
constexpr FixedField<uint32_t> kIndex{16};
constexpr FixedField<uint32_t> kLength{20};
constexpr FixedField<uint32_t> kBlockBytes{24};
constexpr FixedField<uint32_t> kBlockCount{28};
constexpr FixedField<uint32_t> kChunkChecksum{32};
constexpr FixedBytes<24> kReserved{36};
constexpr FixedField<uint32_t> kHeaderChecksum{60};  // of bytes [0, 60)
static_assert(Tiles({kMagic, kVersion, kHeaderBytes, kFile, kIndex, kLength, kBlockBytes, kBlockCount,
                     kChunkChecksum, kReserved, kHeaderChecksum},
                    kChunkHeaderBytes),
              "the chunk header's fields must cover its 64 bytes exactly");
}  // namespace layout

uint32_t Checksum(std::string_view prefix, std::string_view bytes) {
  return crc32c::Mask(crc32c::Extend(crc32c::Value(prefix), bytes));
}

std::string EncodeTable(const std::vector<uint32_t>& blocks) {
  std::string out;
  out.reserve(4 * blocks.size());
  for (uint32_t b : blocks) PutFixed32(&out, b);
  return out;
}

}  // namespace

std::string ChunkId::ToString() const { return absl::StrCat(file, "/", index); }

uint32_t BlockChecksum(ChunkId id, uint32_t block, std::string_view bytes) {
  std::string prefix;
  PutFixed64(&prefix, id.file);
  PutFixed32(&prefix, id.index);
  PutFixed32(&prefix, block);
  return Checksum(prefix, bytes);
}

uint32_t ChunkChecksum(ChunkId id, uint32_t length, uint32_t block_bytes, const std::vector<uint32_t>& blocks) {
  std::string prefix;
  PutFixed64(&prefix, id.file);
  PutFixed32(&prefix, id.index);
  PutFixed32(&prefix, length);
  PutFixed32(&prefix, block_bytes);
  return Checksum(prefix, EncodeTable(blocks));
}

ChunkSums ComputeChunkSums(ChunkId id, std::string_view data, uint32_t block_bytes) {
  CAIRN_CHECK_GT(block_bytes, 0u);
  CAIRN_CHECK_LE(data.size(), kChunkBytesMax);
  ChunkSums sums;
  const uint32_t length = static_cast<uint32_t>(data.size());
  const uint32_t count = BlockCount(length, block_bytes);
  sums.blocks.reserve(count);
  for (uint32_t b = 0; b < count; ++b) sums.blocks.push_back(BlockChecksum(id, b, data.substr(uint64_t{b} * block_bytes, block_bytes)));
  sums.chunk = ChunkChecksum(id, length, block_bytes, sums.blocks);
  return sums;
}

absl::Status VerifyChunk(ChunkId id, std::string_view data, uint32_t block_bytes, const ChunkSums& sums) {
  if (block_bytes == 0 || data.size() > kChunkBytesMax) {
    return absl::InvalidArgumentError(absl::StrCat("chunk ", id.ToString(), ": ", data.size(), " bytes in blocks of ",
                                                   block_bytes, " is out of bounds"));
  }
  const uint32_t length = static_cast<uint32_t>(data.size());
  if (sums.blocks.size() != BlockCount(length, block_bytes)) {
    return absl::DataLossError(absl::StrCat("chunk ", id.ToString(), ": ", sums.blocks.size(),
                                            " block checksums for ", length, " bytes"));
  }
  if (ChunkChecksum(id, length, block_bytes, sums.blocks) != sums.chunk) {
    return absl::DataLossError(absl::StrCat("chunk ", id.ToString(), ": block table does not match the chunk checksum"));
  }
  return VerifyBlocks(id, length, block_bytes, sums.blocks, 0, data);
}

absl::Status VerifyBlocks(ChunkId id, uint32_t length, uint32_t block_bytes, const std::vector<uint32_t>& table,
                          uint32_t first_block, std::string_view data) {
  CAIRN_CHECK_GT(block_bytes, 0u);
  const uint64_t begin = uint64_t{first_block} * block_bytes;
  if (begin > length || begin + data.size() > length || table.size() != BlockCount(length, block_bytes)) {
    return absl::InvalidArgumentError(absl::StrCat("chunk ", id.ToString(), ": blocks from ", first_block, " (",
                                                   data.size(), " bytes) do not lie within its ", length, " bytes"));
  }
  // Whole blocks only: the range must end at a block boundary or at the chunk's end.
  if (begin + data.size() != length && data.size() % block_bytes != 0) {
    return absl::InvalidArgumentError(absl::StrCat("chunk ", id.ToString(), ": ", data.size(),
                                                   " bytes are not whole blocks"));
  }
  for (uint64_t at = 0; at < data.size(); at += block_bytes) {
    const uint32_t block = first_block + static_cast<uint32_t>(at / block_bytes);
    if (BlockChecksum(id, block, data.substr(at, block_bytes)) != table[block]) {
      return absl::DataLossError(absl::StrCat("chunk ", id.ToString(), ": block ", block, " fails its checksum"));
    }
  }
  return absl::OkStatus();
}

std::string EncodeChunkFile(ChunkId id, std::string_view data, uint32_t block_bytes, const ChunkSums& sums) {
  CAIRN_CHECK_LE(data.size(), kChunkBytesMax);
  const uint32_t length = static_cast<uint32_t>(data.size());
  CAIRN_CHECK_EQ(sums.blocks.size(), BlockCount(length, block_bytes));
  std::string out(kChunkHeaderBytes, '\0');
  FixedWriter w(out.data(), kChunkHeaderBytes);
  w.Put(layout::kMagic, kChunkMagic);
  w.Put(layout::kVersion, kChunkFormatVersion);
  w.Put(layout::kHeaderBytes, static_cast<uint16_t>(kChunkHeaderBytes));
  w.Put(layout::kFile, id.file);
  w.Put(layout::kIndex, id.index);
  w.Put(layout::kLength, length);
  w.Put(layout::kBlockBytes, block_bytes);
  w.Put(layout::kBlockCount, static_cast<uint32_t>(sums.blocks.size()));
  w.Put(layout::kChunkChecksum, sums.chunk);
  w.Put(layout::kReserved, std::string(24, '\0'));
  w.Put(layout::kHeaderChecksum, crc32c::Mask(crc32c::Value(std::string_view(out.data(), layout::kHeaderChecksum.offset))));
  out.append(EncodeTable(sums.blocks));
  out.append(data);
  return out;
}

absl::StatusOr<ChunkHeader> ParseChunkHeader(std::string_view bytes, std::string_view where) {
  auto bad = [&](auto... parts) { return absl::DataLossError(absl::StrCat(AbslView(where), ": ", parts...)); };
  if (bytes.size() < kChunkHeaderBytes) return bad("only ", bytes.size(), " bytes, short of a chunk header");
  const FixedReader r(bytes.substr(0, kChunkHeaderBytes));
  if (r.Get(layout::kMagic) != kChunkMagic) return bad("bad magic (not a Cairn chunk)");
  if (crc32c::Mask(crc32c::Value(r.Before(layout::kHeaderChecksum))) != r.Get(layout::kHeaderChecksum)) {
    return bad("chunk header fails its checksum");
  }
  if (r.Get(layout::kVersion) != kChunkFormatVersion || r.Get(layout::kHeaderBytes) != kChunkHeaderBytes) {
    return bad("chunk format version ", r.Get(layout::kVersion), " with a ", r.Get(layout::kHeaderBytes),
               "-byte header; this build reads version ", kChunkFormatVersion);
  }
  ChunkHeader h;
  h.id = ChunkId{r.Get(layout::kFile), r.Get(layout::kIndex)};
  h.length = r.Get(layout::kLength);
  h.block_bytes = r.Get(layout::kBlockBytes);
  h.block_count = r.Get(layout::kBlockCount);
  h.chunk_checksum = r.Get(layout::kChunkChecksum);
  if (h.id.file == 0 || h.length > kChunkBytesMax || h.block_bytes == 0 ||
      h.block_count != BlockCount(h.length, h.block_bytes)) {
    return bad("chunk header out of bounds (file ", h.id.file, ", ", h.length, " bytes in ", h.block_count,
               " blocks of ", h.block_bytes, ")");
  }
  return h;
}

absl::StatusOr<std::vector<uint32_t>> ParseBlockTable(const ChunkHeader& header, std::string_view bytes,
                                                      std::string_view where) {
  if (bytes.size() != 4ull * header.block_count) {
    return absl::DataLossError(absl::StrCat(AbslView(where), ": block table of ", bytes.size(), " bytes, want ",
                                            4ull * header.block_count));
  }
  std::vector<uint32_t> table(header.block_count);
  for (uint32_t b = 0; b < header.block_count; ++b) table[b] = DecodeFixed32(bytes.data() + 4ull * b);
  if (ChunkChecksum(header.id, header.length, header.block_bytes, table) != header.chunk_checksum) {
    return absl::DataLossError(absl::StrCat(AbslView(where), ": block table does not match the chunk checksum"));
  }
  return table;
}

}  // namespace cairn::dfs

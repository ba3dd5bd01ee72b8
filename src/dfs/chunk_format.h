// Chunks: the pieces DFS files are made of, their checksums, and a chunk's file on a server's
// disk (docs/dfs.md, "Chunks").
//
// A chunk's identity is the file it was first written into and its index there; it keeps that
// identity when a later file references it. Every checksum is bound to the identity:
//
//   block checksum  masked CRC-32C of (file, index, block number) ‖ the block's bytes, for
//                   each kChunkBlockBytes block of the data (the last one may be short)
//   chunk checksum  masked CRC-32C of (file, index, length, block bytes) ‖ the block table
//                   (the block checksums, u32 each): what the master records at seal, the
//                   root a reader trusts
//
// The chunk file: a 64-byte header (its own checksum), the block table, the data.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace cairn::dfs {

struct ChunkId {
  uint64_t file = 0;  // the file the chunk was first written into (0 is no file)
  uint32_t index = 0;  // its position there
  friend auto operator<=>(const ChunkId&, const ChunkId&) = default;
  std::string ToString() const;  // "file/index", for messages
};

// A chunk as a file's chunk list names it: identity, length and chunk checksum.
struct ChunkRef {
  ChunkId id;
  uint32_t length = 0;
  uint32_t checksum = 0;
  friend bool operator==(const ChunkRef&, const ChunkRef&) = default;
};

constexpr uint32_t kChunkBlockBytes = 64u << 10;
// The largest chunk a store accepts: a bound on what a request can make it allocate.
constexpr uint32_t kChunkBytesMax = 64u << 20;
constexpr uint32_t kChunkHeaderBytes = 64;
// The most chunks one file may have (the master refuses more): a bound on a seal's size.
constexpr size_t kChunksPerFileMax = 1 << 20;
constexpr uint16_t kChunkFormatVersion = 1;

// A chunk's checksums (see the header comment).
struct ChunkSums {
  std::vector<uint32_t> blocks;
  uint32_t chunk = 0;
  friend bool operator==(const ChunkSums&, const ChunkSums&) = default;
};

uint32_t BlockChecksum(ChunkId id, uint32_t block, std::string_view bytes);
uint32_t ChunkChecksum(ChunkId id, uint32_t length, uint32_t block_bytes, const std::vector<uint32_t>& blocks);
// The checksums of `data` as chunk `id`. `block_bytes` > 0.
ChunkSums ComputeChunkSums(ChunkId id, std::string_view data, uint32_t block_bytes = kChunkBlockBytes);

// The number of blocks a chunk of `length` bytes has.
inline uint32_t BlockCount(uint32_t length, uint32_t block_bytes) {
  return static_cast<uint32_t>((uint64_t{length} + block_bytes - 1) / block_bytes);
}

// Checks `data` (the chunk's whole data) against `sums`: the table against the chunk
// checksum, then every block against the table. DataLoss names the chunk and what failed.
absl::Status VerifyChunk(ChunkId id, std::string_view data, uint32_t block_bytes, const ChunkSums& sums);

// Checks `blocks` against a table the caller already trusts: `data` is blocks
// [first_block, ...) of a chunk of `length` bytes, whole (the last block of the chunk may be
// short; no other).
absl::Status VerifyBlocks(ChunkId id, uint32_t length, uint32_t block_bytes, const std::vector<uint32_t>& table,
                          uint32_t first_block, std::string_view data);

// What a chunk file's header says.
struct ChunkHeader {
  ChunkId id;
  uint32_t length = 0;
  uint32_t block_bytes = kChunkBlockBytes;
  uint32_t block_count = 0;
  uint32_t chunk_checksum = 0;
  // Where the block table and the data begin in the file.
  uint64_t table_offset() const { return kChunkHeaderBytes; }
  uint64_t data_offset() const { return kChunkHeaderBytes + 4ull * block_count; }
  uint64_t file_bytes() const { return data_offset() + length; }
};

// The whole chunk file for `data` with its `sums` (which must be data's).
std::string EncodeChunkFile(ChunkId id, std::string_view data, uint32_t block_bytes, const ChunkSums& sums);
// Parses and checks the first kChunkHeaderBytes of a chunk file: magic, version, header
// checksum, and fields within bounds. `where` names the file in errors.
absl::StatusOr<ChunkHeader> ParseChunkHeader(std::string_view bytes, std::string_view where);
// Parses a block table (4 bytes per block) and checks it against the header's chunk checksum.
absl::StatusOr<std::vector<uint32_t>> ParseBlockTable(const ChunkHeader& header, std::string_view bytes,
                                                      std::string_view where);

}  // namespace cairn::dfs

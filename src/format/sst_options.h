// SstOptions: how an SSTable is blocked, encoded, compressed and filtered. Every setting is
// recorded in the file (its properties), so a reader never needs to be told them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#include "src/runtime/knobs.h"

namespace cairn::format {

// The codec of one microblock, recorded in its header.
enum class Compression : uint8_t { kNone = 0, kLz4 = 1, kZstd = 2 };
constexpr int kCompressionCount = 3;
const char* CompressionName(Compression c);
absl::StatusOr<Compression> ParseCompression(std::string_view name);

// The encoder of one microblock's rows, recorded in its header. Only kRows exists; a
// columnar encoder for typed schemas will take the next id without a format change.
enum class BlockEncoder : uint8_t { kRows = 1 };
constexpr int kEncoderIdMax = 1;
const char* EncoderName(uint8_t encoder);

constexpr uint32_t kMacroblockBytesMin = 64u << 10;
constexpr uint32_t kMacroblockBytesMax = 256u << 20;
constexpr uint32_t kMicroblockBytesMin = 4u << 10;
constexpr uint32_t kMicroblockBytesMax = 512u << 10;
constexpr uint32_t kRestartIntervalMax = 1024;
constexpr uint32_t kBloomBitsPerKeyMax = 64;

struct SstOptions {
  // The fixed capacity of a macroblock: a power of two. Macroblocks are the unit of writing,
  // of reuse in compaction, and of DFS chunks.
  uint32_t macroblock_bytes = 2u << 20;
  // The target size of a microblock before compression: the unit of reading, decoding and
  // caching. At most a quarter of a macroblock.
  uint32_t microblock_bytes = 16u << 10;
  Compression compression = Compression::kLz4;
  int zstd_level = 3;  // 1..22, for kZstd
  BlockEncoder encoder = BlockEncoder::kRows;
  // Every restart_interval-th row of a microblock stores its whole key: the points of binary
  // search. Between them keys share their prefix with the previous key.
  uint32_t restart_interval = 16;
  // Bloom filter bits per distinct key, per macroblock; 0 for none.
  uint32_t bloom_bits_per_key = 10;

  absl::Status Validate() const;
  // The defaults, with the sizes, restart interval and bloom bits the knobs say (Knobs: the
  // simulator draws them per seed within ranges that Validate accepts).
  static SstOptions FromKnobs(const Knobs& knobs);
  // The largest key + value a row may have: it must fit a macroblock with room to spare.
  uint64_t RowBytesMax() const { return macroblock_bytes / 2; }
};

}  // namespace cairn::format

// The file level of an SSTable: its footer, its index of macroblocks, and its properties.
//
//   macroblock 0 .. n-1   packed from offset 0; each at most the macroblock capacity
//   file index            a sealed block: one entry per macroblock (MacroblockMeta)
//   properties            a sealed block: tagged fields (SstProperties)
//   footer                64 bytes (Footer)
//
// The two sealed blocks are bound to (file id, kFileLevel, their file offset); the footer's
// checksum to (file id, kFileLevel, the footer's offset). See docs/format.md.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "src/format/logical_checksum.h"
#include "src/format/macroblock.h"
#include "src/format/sst_options.h"

namespace cairn::format {

constexpr size_t kFooterBytes = 64;
constexpr std::string_view kFooterMagic = "CAIRNSST";

//  0 magic "CAIRNSST"      8 u32 format version   12 u32 macroblock capacity
// 16 u64 file id          24 u64 index offset     32 u32 index size   36 u32 properties size
// 40 u64 properties offset 48 u64 macroblock count 56 u32 reserved    60 u32 checksum
struct Footer {
  uint64_t file_id = 0;
  uint32_t macroblock_capacity = 0;
  uint64_t index_offset = 0;
  uint32_t index_size = 0;
  uint64_t properties_offset = 0;
  uint32_t properties_size = 0;
  uint64_t macroblock_count = 0;

  std::string Encode(uint64_t footer_offset) const;
  // Parses and checks the footer found at `footer_offset` (the file size - 64).
  static absl::StatusOr<Footer> Parse(std::string_view bytes, uint64_t footer_offset);
};

// Everything an SSTable says about itself. Stored as tagged fields, so that later versions
// can add fields that older readers skip.
struct SstProperties {
  uint64_t file_id = 0;
  uint64_t rows = 0;
  uint64_t deletes = 0;
  uint64_t distinct_keys = 0;
  uint64_t key_bytes = 0;    // sum of key sizes over rows
  uint64_t value_bytes = 0;  // sum of value sizes over rows
  std::string first_key, last_key;
  uint64_t first_version = 0, last_version = 0;  // of the first and last rows
  uint64_t min_version = 0, max_version = 0;
  uint64_t macroblocks = 0, microblocks = 0, reused_macroblocks = 0;
  uint64_t data_bytes = 0;         // all macroblocks
  uint64_t micro_index_bytes = 0;  // inside the macroblocks
  uint64_t bloom_bytes = 0;        // inside the macroblocks
  uint64_t file_index_bytes = 0;
  LogicalChecksum logical;
  SstOptions options;  // the settings the writer used (reused macroblocks may differ)
  CodecTable codecs{};

  std::string Encode() const;
  static absl::StatusOr<SstProperties> Decode(std::string_view payload);
};

std::string EncodeFileIndex(const std::vector<MacroblockMeta>& entries);
// Parses the entries and checks each embedded macroblock header. The caller checks how the
// entries fit together (SstReader::Open).
absl::StatusOr<std::vector<MacroblockMeta>> DecodeFileIndex(std::string_view payload,
                                                            uint32_t capacity);

}  // namespace cairn::format

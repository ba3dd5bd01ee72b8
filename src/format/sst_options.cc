#include "src/format/sst_options.h"

#include "absl/strings/str_cat.h"
#include "src/base/strings.h"

namespace cairn::format {

const char* CompressionName(Compression c) {
  switch (c) {
    case Compression::kNone:
      return "none";
    case Compression::kLz4:
      return "lz4";
    case Compression::kZstd:
      return "zstd";
  }
  return "unknown";
}

absl::StatusOr<Compression> ParseCompression(std::string_view name) {
  for (int i = 0; i < kCompressionCount; ++i) {
    if (name == CompressionName(static_cast<Compression>(i))) return static_cast<Compression>(i);
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown compression '", AbslView(name), "' (expected none, lz4 or zstd)"));
}

const char* EncoderName(uint8_t encoder) {
  return encoder == static_cast<uint8_t>(BlockEncoder::kRows) ? "rows" : "unknown";
}

SstOptions SstOptions::FromKnobs(const Knobs& knobs) {
  SstOptions o;
  o.macroblock_bytes = uint32_t{1} << knobs.sst_macroblock_bytes_log2;
  o.microblock_bytes = static_cast<uint32_t>(knobs.sst_microblock_bytes);
  o.restart_interval = static_cast<uint32_t>(knobs.sst_restart_interval);
  o.bloom_bits_per_key = static_cast<uint32_t>(knobs.sst_bloom_bits_per_key);
  return o;
}

absl::Status SstOptions::Validate() const {
  auto bad = [](auto... parts) { return absl::InvalidArgumentError(absl::StrCat(parts...)); };
  if (macroblock_bytes < kMacroblockBytesMin || macroblock_bytes > kMacroblockBytesMax ||
      (macroblock_bytes & (macroblock_bytes - 1)) != 0) {
    return bad("macroblock size ", macroblock_bytes, " must be a power of two in [",
               kMacroblockBytesMin, ", ", kMacroblockBytesMax, "] bytes");
  }
  if (microblock_bytes < kMicroblockBytesMin || microblock_bytes > kMicroblockBytesMax) {
    return bad("microblock size ", microblock_bytes, " must be in [", kMicroblockBytesMin, ", ",
               kMicroblockBytesMax, "] bytes");
  }
  if (microblock_bytes > macroblock_bytes / 4) {
    return bad("microblock size ", microblock_bytes,
               " must be at most a quarter of the macroblock size ", macroblock_bytes);
  }
  if (static_cast<int>(compression) >= kCompressionCount) return bad("unknown compression");
  if (zstd_level < 1 || zstd_level > 22) return bad("zstd level ", zstd_level, " not in [1, 22]");
  if (encoder != BlockEncoder::kRows) return bad("unknown encoder");
  if (restart_interval < 1 || restart_interval > kRestartIntervalMax) {
    return bad("restart interval ", restart_interval, " not in [1, ", kRestartIntervalMax, "]");
  }
  if (bloom_bits_per_key > kBloomBitsPerKeyMax) {
    return bad("bloom bits per key ", bloom_bits_per_key, " not in [0, ", kBloomBitsPerKeyMax, "]");
  }
  return absl::OkStatus();
}

}  // namespace cairn::format

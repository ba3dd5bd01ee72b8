#include "src/format/block.h"

#include "absl/strings/str_cat.h"
#include "src/base/check.h"
#include "src/base/coding.h"
#include "src/base/crc32c.h"

namespace cairn::format {
uint32_t BoundChecksum(const BlockIdentity& id, std::string_view a, std::string_view b) {
  char identity[24];
  for (int i = 0; i < 8; ++i) {
    identity[i] = static_cast<char>(id.file_id >> (8 * i));
    identity[8 + i] = static_cast<char>(id.macroblock >> (8 * i));
    identity[16 + i] = static_cast<char>(id.offset >> (8 * i));
  }
  uint32_t crc = crc32c::Value(std::string_view(identity, 24));
  crc = crc32c::Extend(crc, a);
  crc = crc32c::Extend(crc, b);
  return crc32c::Mask(crc);
}

const char* BlockTypeName(BlockType t) {
  switch (t) {
    case BlockType::kData:
      return "data";
    case BlockType::kMicroIndex:
      return "micro-index";
    case BlockType::kBloom:
      return "bloom";
    case BlockType::kFileIndex:
      return "file-index";
    case BlockType::kProperties:
      return "properties";
  }
  return "unknown";
}

void SealBlock(BlockType type, uint8_t encoder, Compression compression, int zstd_level,
               std::string_view raw, const BlockIdentity& id, Codec& codec, std::string* out) {
  CAIRN_CHECK_LE(raw.size(), kBlockPayloadBytesMax);
  std::string compressed;
  std::string_view payload = raw;
  if (compression != Compression::kNone &&
      codec.Compress(compression, zstd_level, raw, &compressed)) {
    payload = compressed;
  } else {
    compression = Compression::kNone;
  }
  const size_t start = out->size();
  CAIRN_CHECK_LE(encoder, kEncoderIdMax);
  out->push_back(static_cast<char>(type));
  out->push_back(static_cast<char>(encoder << 4 | static_cast<uint8_t>(compression)));
  PutFixed32(out, static_cast<uint32_t>(raw.size()));
  const uint32_t crc = BoundChecksum(id, std::string_view(out->data() + start, 6), payload);
  PutFixed32(out, crc);
  out->append(payload);
}

absl::StatusOr<BlockHeader> VerifyBlock(std::string_view block, const BlockIdentity& id,
                                        BlockType expected) {
  if (block.size() < kBlockHeaderBytes) {
    return absl::DataLossError(absl::StrCat("block of ", block.size(), " bytes is shorter than its header"));
  }
  BlockHeader h;
  h.type = static_cast<BlockType>(static_cast<uint8_t>(block[0]));
  h.encoder = static_cast<uint8_t>(block[1]) >> 4;
  h.compression = static_cast<Compression>(static_cast<uint8_t>(block[1]) & 0xf);
  h.raw_size = DecodeFixed32(block.data() + 2);
  h.checksum = DecodeFixed32(block.data() + 6);
  h.stored_size = static_cast<uint32_t>(block.size() - kBlockHeaderBytes);
  const std::string_view payload = block.substr(kBlockHeaderBytes);
  const uint32_t actual = BoundChecksum(id, block.substr(0, 6), payload);
  if (actual != h.checksum) {
    return absl::DataLossError(absl::StrCat(
        "checksum mismatch (stored ", absl::Hex(h.checksum, absl::kZeroPad8), ", computed ",
        absl::Hex(actual, absl::kZeroPad8),
        "): the block is corrupt or was read from the wrong place"));
  }
  // The checksum held, so these were written as they are; check them anyway, since a reader
  // must never trust that a file came from a correct writer.
  if (h.type != expected) {
    return absl::DataLossError(absl::StrCat("expected a ", BlockTypeName(expected),
                                            " block, found type ", static_cast<int>(h.type)));
  }
  if (static_cast<int>(h.compression) >= kCompressionCount) {
    return absl::DataLossError(absl::StrCat("bad block header (compression ",
                                            static_cast<int>(h.compression), ")"));
  }
  if (h.raw_size > kBlockPayloadBytesMax ||
      (h.compression == Compression::kNone && h.raw_size != h.stored_size)) {
    return absl::DataLossError(absl::StrCat("bad block size ", h.raw_size));
  }
  if (expected == BlockType::kData ? h.encoder == 0 || h.encoder > kEncoderIdMax : h.encoder != 0) {
    return absl::DataLossError(absl::StrCat("unknown block encoder ", static_cast<int>(h.encoder)));
  }
  return h;
}

absl::StatusOr<std::string_view> OpenBlock(std::string_view block, const BlockIdentity& id,
                                           BlockType expected, Codec& codec,
                                           std::string* scratch, BlockHeader* header) {
  absl::StatusOr<BlockHeader> h = VerifyBlock(block, id, expected);
  if (!h.ok()) return h.status();
  if (header != nullptr) *header = *h;
  const std::string_view payload = block.substr(kBlockHeaderBytes);
  if (h->compression == Compression::kNone) return payload;
  absl::Status s = codec.Decompress(h->compression, payload, h->raw_size, scratch);
  if (!s.ok()) return s;
  return std::string_view(*scratch);
}

}  // namespace cairn::format

#include "src/format/sst_file.h"

#include "absl/strings/str_cat.h"
#include "src/base/coding.h"
#include "src/base/varint.h"
#include "src/format/block.h"

namespace cairn::format {

namespace {

// The footer, byte by byte (docs/format.md): every field named once, for Encode and Parse alike.
namespace footer {
constexpr FixedBytes<8> kMagic{0};
constexpr FixedField<uint32_t> kVersion{8};
constexpr FixedField<uint32_t> kMacroblockCapacity{12};
constexpr FixedField<uint64_t> kFileId{16};
constexpr FixedField<uint64_t> kIndexOffset{24};
constexpr FixedField<uint32_t> kIndexSize{32};
constexpr FixedField<uint32_t> kPropertiesSize{36};
constexpr FixedField<uint64_t> kPropertiesOffset{40};
constexpr FixedField<uint64_t> kMacroblockCount{48};
constexpr FixedField<uint32_t> kReserved{56};
constexpr FixedField<uint32_t> kChecksum{60};  // of bytes [0, 60), bound to (file id, file level, offset)
static_assert(Tiles({kMagic, kVersion, kMacroblockCapacity, kFileId, kIndexOffset, kIndexSize, kPropertiesSize,
                     kPropertiesOffset, kMacroblockCount, kReserved, kChecksum},
                    kFooterBytes),
              "the footer's fields must cover its 64 bytes exactly");
static_assert(kFooterMagic.size() == 8);
}  // namespace footer

}  // namespace

std::string Footer::Encode(uint64_t footer_offset) const {
  std::string out(kFooterBytes, '\0');
  FixedWriter w(out.data(), out.size());
  w.Put(footer::kMagic, kFooterMagic);
  w.Put(footer::kVersion, kFormatVersion);
  w.Put(footer::kMacroblockCapacity, macroblock_capacity);
  w.Put(footer::kFileId, file_id);
  w.Put(footer::kIndexOffset, index_offset);
  w.Put(footer::kIndexSize, index_size);
  w.Put(footer::kPropertiesSize, properties_size);
  w.Put(footer::kPropertiesOffset, properties_offset);
  w.Put(footer::kMacroblockCount, macroblock_count);
  w.Put(footer::kReserved, uint32_t{0});
  w.Put(footer::kChecksum, BoundChecksum(BlockIdentity{file_id, kFileLevel, footer_offset},
                                 std::string_view(out).substr(0, footer::kChecksum.offset)));
  return out;
}

absl::StatusOr<Footer> Footer::Parse(std::string_view b, uint64_t footer_offset) {
  if (b.size() != kFooterBytes || FixedReader(b).Get(footer::kMagic) != kFooterMagic) {
    return absl::DataLossError(absl::StrCat("no Cairn SSTable footer at offset ", footer_offset));
  }
  const FixedReader r(b);
  Footer f;
  f.file_id = r.Get(footer::kFileId);
  if (r.Get(footer::kChecksum) != BoundChecksum(BlockIdentity{f.file_id, kFileLevel, footer_offset}, r.Before(footer::kChecksum))) {
    return absl::DataLossError(absl::StrCat("footer at offset ", footer_offset, ": checksum mismatch"));
  }
  const uint32_t version = r.Get(footer::kVersion);
  if (version != kFormatVersion) {
    return absl::DataLossError(absl::StrCat("footer: format version ", version, " (this build reads ",
                                            kFormatVersion, ")"));
  }
  f.macroblock_capacity = r.Get(footer::kMacroblockCapacity);
  f.index_offset = r.Get(footer::kIndexOffset);
  f.index_size = r.Get(footer::kIndexSize);
  f.properties_size = r.Get(footer::kPropertiesSize);
  f.properties_offset = r.Get(footer::kPropertiesOffset);
  f.macroblock_count = r.Get(footer::kMacroblockCount);
  const uint32_t cap = f.macroblock_capacity;
  if (cap < kMacroblockBytesMin || cap > kMacroblockBytesMax || (cap & (cap - 1)) != 0) {
    return absl::DataLossError(absl::StrCat("footer: bad macroblock capacity ", cap));
  }
  if (f.index_offset + f.index_size != f.properties_offset ||
      f.properties_offset + f.properties_size != footer_offset || f.index_size < kBlockHeaderBytes ||
      f.properties_size < kBlockHeaderBytes) {
    return absl::DataLossError(absl::StrCat("footer: index (", f.index_offset, "+", f.index_size,
                                            ") and properties (", f.properties_offset, "+",
                                            f.properties_size, ") do not end at the footer (",
                                            footer_offset, ")"));
  }
  return f;
}

namespace {

enum Tag : uint32_t {
  kTagFileId = 1, kTagRows, kTagDeletes, kTagDistinctKeys, kTagKeyBytes, kTagValueBytes, kTagFirstKey, kTagFirstVersion,
  kTagLastKey, kTagLastVersion, kTagMinVersion, kTagMaxVersion, kTagMacroblocks, kTagMicroblocks, kTagReused,
  kTagDataBytes, kTagMicroIndexBytes, kTagBloomBytes, kTagFileIndexBytes, kTagLogicalSum,
  kTagOptMacroblock = 30, kTagOptMicroblock, kTagOptCompression, kTagOptZstdLevel, kTagOptEncoder,
  kTagOptRestart, kTagOptBloomBits,
  kTagCodecBase = 50,  // 50 + codec: blocks, raw bytes, stored bytes
};

void PutField(std::string* out, uint32_t tag, std::string_view value) {
  PutVarint64(out, tag);
  PutLengthPrefixed(out, value);
}
void PutNumber(std::string* out, uint32_t tag, uint64_t v) {
  std::string value;
  PutVarint64(&value, v);
  PutField(out, tag, value);
}

}  // namespace

std::string SstProperties::Encode() const {
  std::string out;
  PutNumber(&out, kTagFileId, file_id);
  PutNumber(&out, kTagRows, rows);
  PutNumber(&out, kTagDeletes, deletes);
  PutNumber(&out, kTagDistinctKeys, distinct_keys);
  PutNumber(&out, kTagKeyBytes, key_bytes);
  PutNumber(&out, kTagValueBytes, value_bytes);
  PutField(&out, kTagFirstKey, first_key);
  PutNumber(&out, kTagFirstVersion, first_version);
  PutField(&out, kTagLastKey, last_key);
  PutNumber(&out, kTagLastVersion, last_version);
  PutNumber(&out, kTagMinVersion, min_version);
  PutNumber(&out, kTagMaxVersion, max_version);
  PutNumber(&out, kTagMacroblocks, macroblocks);
  PutNumber(&out, kTagMicroblocks, microblocks);
  PutNumber(&out, kTagReused, reused_macroblocks);
  PutNumber(&out, kTagDataBytes, data_bytes);
  PutNumber(&out, kTagMicroIndexBytes, micro_index_bytes);
  PutNumber(&out, kTagBloomBytes, bloom_bytes);
  PutNumber(&out, kTagFileIndexBytes, file_index_bytes);
  std::string sum;
  PutFixed64(&sum, logical.sum);
  PutField(&out, kTagLogicalSum, sum);
  PutNumber(&out, kTagOptMacroblock, options.macroblock_bytes);
  PutNumber(&out, kTagOptMicroblock, options.microblock_bytes);
  PutNumber(&out, kTagOptCompression, static_cast<uint64_t>(options.compression));
  PutNumber(&out, kTagOptZstdLevel, static_cast<uint64_t>(options.zstd_level));
  PutNumber(&out, kTagOptEncoder, static_cast<uint64_t>(options.encoder));
  PutNumber(&out, kTagOptRestart, options.restart_interval);
  PutNumber(&out, kTagOptBloomBits, options.bloom_bits_per_key);
  for (int c = 0; c < kCompressionCount; ++c) {
    std::string value;
    PutVarint64(&value, codecs[c].blocks);
    PutVarint64(&value, codecs[c].raw_bytes);
    PutVarint64(&value, codecs[c].stored_bytes);
    PutField(&out, kTagCodecBase + c, value);
  }
  return out;
}

absl::StatusOr<SstProperties> SstProperties::Decode(std::string_view payload) {
  SstProperties p;
  ByteReader r(payload);
  while (r.ok() && r.remaining() > 0) {
    const uint64_t tag = r.Varint64();
    const std::string_view value = r.LengthPrefixed();
    if (!r.ok()) break;
    ByteReader v(value);
    auto num = [&v] { return v.Varint64(); };
    switch (tag) {
      case kTagFileId: p.file_id = num(); break;
      case kTagRows: p.rows = num(); break;
      case kTagDeletes: p.deletes = num(); break;
      case kTagDistinctKeys: p.distinct_keys = num(); break;
      case kTagKeyBytes: p.key_bytes = num(); break;
      case kTagValueBytes: p.value_bytes = num(); break;
      case kTagFirstKey: p.first_key = std::string(value); break;
      case kTagFirstVersion: p.first_version = num(); break;
      case kTagLastKey: p.last_key = std::string(value); break;
      case kTagLastVersion: p.last_version = num(); break;
      case kTagMinVersion: p.min_version = num(); break;
      case kTagMaxVersion: p.max_version = num(); break;
      case kTagMacroblocks: p.macroblocks = num(); break;
      case kTagMicroblocks: p.microblocks = num(); break;
      case kTagReused: p.reused_macroblocks = num(); break;
      case kTagDataBytes: p.data_bytes = num(); break;
      case kTagMicroIndexBytes: p.micro_index_bytes = num(); break;
      case kTagBloomBytes: p.bloom_bytes = num(); break;
      case kTagFileIndexBytes: p.file_index_bytes = num(); break;
      case kTagLogicalSum: p.logical.sum = v.Fixed64(); break;
      case kTagOptMacroblock: p.options.macroblock_bytes = static_cast<uint32_t>(num()); break;
      case kTagOptMicroblock: p.options.microblock_bytes = static_cast<uint32_t>(num()); break;
      case kTagOptCompression: p.options.compression = static_cast<Compression>(num()); break;
      case kTagOptZstdLevel: p.options.zstd_level = static_cast<int>(num()); break;
      case kTagOptEncoder: p.options.encoder = static_cast<BlockEncoder>(num()); break;
      case kTagOptRestart: p.options.restart_interval = static_cast<uint32_t>(num()); break;
      case kTagOptBloomBits: p.options.bloom_bits_per_key = static_cast<uint32_t>(num()); break;
      default:
        if (tag >= kTagCodecBase && tag < kTagCodecBase + kCompressionCount) {
          CodecCounts& c = p.codecs[tag - kTagCodecBase];
          c.blocks = num();
          c.raw_bytes = num();
          c.stored_bytes = num();
        }
        // Unknown tags are fields of a later version: skipped.
        break;
    }
    if (!v.ok()) return absl::DataLossError(absl::StrCat("properties: malformed field ", tag));
  }
  if (!r.ok()) return absl::DataLossError("properties: truncated");
  p.logical.rows = p.rows;
  return p;
}

std::string EncodeFileIndex(const std::vector<MacroblockMeta>& entries) {
  std::string out;
  PutVarint64(&out, entries.size());
  std::string e;
  for (const MacroblockMeta& m : entries) {
    e.clear();
    PutVarint64(&e, m.offset);
    // A byte-for-byte copy of the macroblock's header (verify compares the two).
    e.append(m.raw_header);
    PutLengthPrefixed(&e, m.first_key);
    PutVarint64(&e, m.first_version);
    PutLengthPrefixed(&e, m.last_key);
    PutVarint64(&e, m.last_version);
    for (const CodecCounts& c : m.codecs) {
      PutVarint64(&e, c.blocks);
      PutVarint64(&e, c.raw_bytes);
      PutVarint64(&e, c.stored_bytes);
    }
    PutVarint64(&e, m.stats.deletes);
    PutVarint64(&e, m.stats.distinct_keys);
    PutVarint64(&e, m.stats.key_bytes);
    PutVarint64(&e, m.stats.value_bytes);
    e.push_back(m.reused ? '\1' : '\0');
    PutLengthPrefixed(&out, e);
  }
  return out;
}

absl::StatusOr<std::vector<MacroblockMeta>> DecodeFileIndex(std::string_view payload,
                                                            uint32_t capacity) {
  ByteReader r(payload);
  const uint64_t count = r.Varint64();
  if (!r.ok() || count > payload.size()) return absl::DataLossError("file index: bad entry count");
  std::vector<MacroblockMeta> entries;
  entries.reserve(count);
  for (uint64_t i = 0; i < count; ++i) {
    ByteReader e(r.LengthPrefixed());
    if (!r.ok()) return absl::DataLossError(absl::StrCat("file index: truncated at entry ", i));
    MacroblockMeta m;
    m.offset = e.Varint64();
    m.raw_header = std::string(e.Bytes(kMacroblockHeaderBytes));
    m.first_key = std::string(e.LengthPrefixed());
    m.first_version = e.Varint64();
    m.last_key = std::string(e.LengthPrefixed());
    m.last_version = e.Varint64();
    for (CodecCounts& c : m.codecs) {
      c.blocks = e.Varint64();
      c.raw_bytes = e.Varint64();
      c.stored_bytes = e.Varint64();
    }
    m.stats.deletes = e.Varint64();
    m.stats.distinct_keys = e.Varint64();
    m.stats.key_bytes = e.Varint64();
    m.stats.value_bytes = e.Varint64();
    m.reused = e.Byte() != 0;
    // Bytes after these are fields of a later version: skipped.
    if (!e.ok()) return absl::DataLossError(absl::StrCat("file index: entry ", i, " is malformed"));
    absl::StatusOr<MacroblockHeader> h = MacroblockHeader::Parse(m.raw_header, capacity);
    if (!h.ok()) {
      return absl::DataLossError(absl::StrCat("file index entry ", i, ": ", h.status().message()));
    }
    m.header = *h;
    entries.push_back(std::move(m));
  }
  if (r.remaining() != 0) return absl::DataLossError("file index: trailing bytes");
  return entries;
}

}  // namespace cairn::format

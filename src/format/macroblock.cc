#include "src/format/macroblock.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "src/base/check.h"
#include "src/base/coding.h"
#include "src/base/varint.h"

namespace cairn::format {
namespace {

// The macroblock header, byte by byte (docs/format.md): every field named once, for Seal and
// Parse alike.
namespace layout {
constexpr FixedField<uint32_t> kMagic{0};
constexpr FixedField<uint16_t> kVersion{4};
constexpr FixedField<uint8_t> kHeaderSize{6};
constexpr FixedField<uint8_t> kReserved7{7};
constexpr FixedField<uint64_t> kOriginFileId{8};
constexpr FixedField<uint32_t> kOriginIndex{16};
constexpr FixedField<uint32_t> kSize{20};
constexpr FixedField<uint32_t> kMicroCount{24};
constexpr FixedField<uint32_t> kMicroIndexOffset{28};
constexpr FixedField<uint32_t> kMicroIndexSize{32};
constexpr FixedField<uint32_t> kBloomOffset{36};
constexpr FixedField<uint32_t> kBloomSize{40};
constexpr FixedField<uint32_t> kReserved44{44};
constexpr FixedField<uint64_t> kRows{48};
constexpr FixedField<uint64_t> kLogicalSum{56};
constexpr FixedField<uint64_t> kMinVersion{64};
constexpr FixedField<uint64_t> kMaxVersion{72};
constexpr FixedField<uint32_t> kBodyChecksum{80};
constexpr FixedField<uint64_t> kReserved84{84};
constexpr FixedField<uint32_t> kHeaderChecksum{92};  // of bytes [0, 92), bound to the block's identity
static_assert(Tiles({kMagic, kVersion, kHeaderSize, kReserved7, kOriginFileId, kOriginIndex, kSize, kMicroCount,
                     kMicroIndexOffset, kMicroIndexSize, kBloomOffset, kBloomSize, kReserved44, kRows, kLogicalSum,
                     kMinVersion, kMaxVersion, kBodyChecksum, kReserved84, kHeaderChecksum},
                    kMacroblockHeaderBytes),
              "the macroblock header's fields must cover its 96 bytes exactly");
}  // namespace layout

}  // namespace

void MacroblockHeader::Seal(std::string* block) {
  CAIRN_CHECK_GE(block->size(), kMacroblockHeaderBytes);
  CAIRN_CHECK_EQ(block->size(), size);
  FixedWriter w(block->data(), kMacroblockHeaderBytes);
  w.Put(layout::kMagic, kMacroblockMagic);
  w.Put(layout::kVersion, static_cast<uint16_t>(kFormatVersion));
  w.Put(layout::kHeaderSize, static_cast<uint8_t>(kMacroblockHeaderBytes));
  w.Put(layout::kReserved7, uint8_t{0});
  w.Put(layout::kOriginFileId, origin_file_id);
  w.Put(layout::kOriginIndex, origin_index);
  w.Put(layout::kSize, size);
  w.Put(layout::kMicroCount, micro_count);
  w.Put(layout::kMicroIndexOffset, micro_index_offset);
  w.Put(layout::kMicroIndexSize, micro_index_size);
  w.Put(layout::kBloomOffset, bloom_offset);
  w.Put(layout::kBloomSize, bloom_size);
  w.Put(layout::kReserved44, uint32_t{0});
  w.Put(layout::kRows, rows);
  w.Put(layout::kLogicalSum, logical_sum);
  w.Put(layout::kMinVersion, min_version);
  w.Put(layout::kMaxVersion, max_version);
  body_checksum = BoundChecksum(identity(0), std::string_view(*block).substr(kMacroblockHeaderBytes));
  w.Put(layout::kBodyChecksum, body_checksum);
  w.Put(layout::kReserved84, uint64_t{0});
  w.Put(layout::kHeaderChecksum, BoundChecksum(identity(0), std::string_view(block->data(), layout::kHeaderChecksum.offset)));
}

absl::StatusOr<MacroblockHeader> MacroblockHeader::Parse(std::string_view h, uint32_t capacity) {
  auto bad = [](auto... parts) {
    return absl::DataLossError(absl::StrCat("macroblock header: ", parts...));
  };
  if (h.size() < kMacroblockHeaderBytes) return bad("only ", h.size(), " bytes");
  const FixedReader r(h.substr(0, kMacroblockHeaderBytes));
  if (r.Get(layout::kMagic) != kMacroblockMagic) return bad("bad magic (not a Cairn macroblock)");
  MacroblockHeader m;
  m.origin_file_id = r.Get(layout::kOriginFileId);
  m.origin_index = r.Get(layout::kOriginIndex);
  if (r.Get(layout::kHeaderChecksum) != BoundChecksum(m.identity(0), r.Before(layout::kHeaderChecksum))) {
    return bad("checksum mismatch: corrupt, or not the macroblock the index names");
  }
  const uint16_t version = r.Get(layout::kVersion);
  if (version != kFormatVersion) return bad("format version ", version, " (this build reads ", kFormatVersion, ")");
  if (r.Get(layout::kHeaderSize) != kMacroblockHeaderBytes || r.Get(layout::kReserved7) != 0) {
    return bad("header size ", r.Get(layout::kHeaderSize) | (uint32_t{r.Get(layout::kReserved7)} << 8));
  }
  m.size = r.Get(layout::kSize);
  m.micro_count = r.Get(layout::kMicroCount);
  m.micro_index_offset = r.Get(layout::kMicroIndexOffset);
  m.micro_index_size = r.Get(layout::kMicroIndexSize);
  m.bloom_offset = r.Get(layout::kBloomOffset);
  m.bloom_size = r.Get(layout::kBloomSize);
  m.rows = r.Get(layout::kRows);
  m.logical_sum = r.Get(layout::kLogicalSum);
  m.min_version = r.Get(layout::kMinVersion);
  m.max_version = r.Get(layout::kMaxVersion);
  m.body_checksum = r.Get(layout::kBodyChecksum);
  const uint64_t index_end = uint64_t{m.micro_index_offset} + m.micro_index_size;
  if (m.size > capacity || m.size < kMacroblockHeaderBytes) return bad("size ", m.size, " exceeds capacity ", capacity);
  if (m.micro_count == 0 || m.rows < m.micro_count) return bad(m.micro_count, " microblocks with ", m.rows, " rows");
  if (m.micro_index_offset < kMacroblockHeaderBytes + uint64_t{m.micro_count} * (kBlockHeaderBytes + 8) ||
      m.micro_index_size < kBlockHeaderBytes || index_end > m.size) {
    return bad("micro index at ", m.micro_index_offset, "+", m.micro_index_size, " out of place");
  }
  if (m.bloom_size == 0 ? (m.bloom_offset != 0 || index_end != m.size)
                        : (m.bloom_offset != index_end || uint64_t{m.bloom_offset} + m.bloom_size != m.size)) {
    return bad("bloom filter at ", m.bloom_offset, "+", m.bloom_size, " out of place");
  }
  if (m.min_version > m.max_version) return bad("version range ", m.min_version, "..", m.max_version);
  return m;
}

absl::Status MacroblockHeader::VerifyBody(std::string_view block) const {
  if (block.size() != size) {
    return absl::DataLossError(absl::StrCat("macroblock is ", block.size(), " bytes, header says ", size));
  }
  const uint32_t actual = BoundChecksum(identity(0), block.substr(kMacroblockHeaderBytes));
  if (actual != body_checksum) {
    return absl::DataLossError(absl::StrCat("macroblock body checksum mismatch (stored ",
                                            absl::Hex(body_checksum, absl::kZeroPad8), ", computed ",
                                            absl::Hex(actual, absl::kZeroPad8), ")"));
  }
  return absl::OkStatus();
}

std::string EncodeMicroIndex(const std::vector<MicroIndexEntry>& entries) {
  std::string out;
  PutVarint64(&out, entries.size());
  for (const MicroIndexEntry& e : entries) {
    // The offset is not stored: microblocks are packed from the end of the macroblock header.
    PutVarint64(&out, e.size);
    PutVarint64(&out, e.rows);
    PutLengthPrefixed(&out, e.last_key);
    PutVarint64(&out, e.last_version);
  }
  return out;
}

absl::StatusOr<std::vector<MicroIndexEntry>> DecodeMicroIndex(std::string_view payload,
                                                              const MacroblockHeader& header) {
  ByteReader r(payload);
  const uint64_t count = r.Varint64();
  if (!r.ok() || count != header.micro_count) {
    return absl::DataLossError(absl::StrCat("micro index lists ", count, " microblocks, header says ",
                                            header.micro_count));
  }
  std::vector<MicroIndexEntry> entries(count);
  uint64_t expected_offset = kMacroblockHeaderBytes;
  uint64_t rows = 0;
  for (uint64_t i = 0; i < count; ++i) {
    MicroIndexEntry& e = entries[i];
    e.offset = static_cast<uint32_t>(expected_offset);
    e.size = r.Varint32();
    e.rows = r.Varint32();
    e.last_key = std::string(r.LengthPrefixed());
    e.last_version = r.Varint64();
    if (!r.ok()) return absl::DataLossError(absl::StrCat("micro index truncated at entry ", i));
    if (e.size <= kBlockHeaderBytes || e.rows == 0 || expected_offset + e.size > header.micro_index_offset) {
      return absl::DataLossError(absl::StrCat("micro index entry ", i, " (offset ", e.offset, ", size ",
                                              e.size, ", ", e.rows, " rows) does not fit before the index"));
    }
    if (i > 0 && CompareRowKeys(entries[i - 1].last_key, entries[i - 1].last_version, e.last_key,
                                e.last_version) >= 0) {
      return absl::DataLossError(absl::StrCat("micro index entry ", i, ": last keys out of order"));
    }
    expected_offset += e.size;
    rows += e.rows;
  }
  if (expected_offset != header.micro_index_offset || rows != header.rows || r.remaining() != 0) {
    return absl::DataLossError(absl::StrCat("micro index covers bytes up to ", expected_offset, " and ",
                                            rows, " rows; header says ", header.micro_index_offset,
                                            " and ", header.rows));
  }
  return entries;
}

MacroblockBuilder::MacroblockBuilder(const SstOptions& options, Codec& codec)
    : options_(options), codec_(codec), micro_(options.restart_interval) {}

void MacroblockBuilder::Start(uint64_t file_id, uint32_t index) {
  header_ = MacroblockHeader{};
  header_.origin_file_id = file_id;
  header_.origin_index = index;
  header_.min_version = kMaxVersion;
  block_.clear();
  block_.reserve(options_.macroblock_bytes);
  block_.resize(kMacroblockHeaderBytes, '\0');
  micro_.Reset();
  index_.clear();
  index_bytes_ = 10;
  bloom_.Reset();
  hot_ = false;
  meta_ = MacroblockMeta{};
}

size_t MacroblockBuilder::BytesWith(size_t open_payload_bytes, size_t extra_keys) const {
  size_t total = block_.size() + index_bytes_ + 2 * kBlockHeaderBytes +
                 BloomBuilder::PayloadBytes(bloom_.keys() + extra_keys, options_.bloom_bits_per_key);
  if (open_payload_bytes > 0) {
    // The open microblock, stored raw at worst, and its micro index entry.
    total += kBlockHeaderBytes + open_payload_bytes + micro_.last_key().size() + 4 * 10;
  }
  return total;
}

bool MacroblockBuilder::TryAdd(const RowView& row, uint64_t key_hash, bool new_key) {
  if (!micro_.empty() &&
      micro_.PayloadBytesWith(row.key.size(), row.value.size()) > options_.microblock_bytes) {
    SealMicroblock();
  }
  const size_t with_row = micro_.PayloadBytesWith(row.key.size(), row.value.size()) + row.key.size();
  if (header_.rows > 0 && BytesWith(with_row, new_key ? 1 : 0) > options_.macroblock_bytes) {
    if (micro_.empty()) return false;
    // Compression may make room: seal the open microblock and look again.
    SealMicroblock();
    if (BytesWith(micro_.PayloadBytesWith(row.key.size(), row.value.size()) + row.key.size(),
                  new_key ? 1 : 0) > options_.macroblock_bytes) {
      return false;
    }
  }
  micro_.Add(row);
  if (header_.rows == 0) {
    meta_.first_key.assign(row.key);
    meta_.first_version = row.version;
  }
  if (new_key || header_.rows == 0) {
    bloom_.AddKeyHash(key_hash);
    ++meta_.stats.distinct_keys;
  }
  if (row.kind == RowKind::kDelete) ++meta_.stats.deletes;
  meta_.stats.key_bytes += row.key.size();
  meta_.stats.value_bytes += row.value.size();
  header_.logical_sum += RowHash(key_hash, row.version, row.kind, row.value);  // LogicalChecksum's sum
  ++header_.rows;
  header_.min_version = std::min(header_.min_version, row.version);
  header_.max_version = std::max(header_.max_version, row.version);
  return true;
}

void MacroblockBuilder::SealMicroblock() {
  CAIRN_CHECK(!micro_.empty());
  const std::string_view payload = micro_.Finish();
  const uint32_t offset = static_cast<uint32_t>(block_.size());
  SealBlock(BlockType::kData, static_cast<uint8_t>(options_.encoder), options_.compression,
            options_.zstd_level, payload, header_.identity(offset), codec_, &block_);
  MicroIndexEntry e;
  e.offset = offset;
  e.size = static_cast<uint32_t>(block_.size() - offset);
  e.rows = micro_.rows();
  e.last_key.assign(micro_.last_key());
  e.last_version = micro_.last_version();
  const auto used = static_cast<uint8_t>(block_[offset + 1]) & 0xf;
  CodecCounts& c = meta_.codecs[used];
  ++c.blocks;
  c.raw_bytes += payload.size();
  c.stored_bytes += e.size - kBlockHeaderBytes;
  index_bytes_ += e.last_key.size() + 4 * 10;
  index_.push_back(std::move(e));
  if (hot_ && warm_cache_ != nullptr) {
    auto decoded = std::make_shared<DecodedBlock>();
    decoded->storage.assign(payload);
    decoded->payload = decoded->storage;
    warm_cache_->Insert(BlockCacheKey::Of(header_.identity(offset)), std::move(decoded));
    ++warmed_blocks_;
  }
  hot_ = false;
  micro_.Reset();
}

std::string MacroblockBuilder::Finish(MacroblockMeta* meta) {
  CAIRN_CHECK_GT(header_.rows, 0u);
  if (!micro_.empty()) SealMicroblock();
  header_.micro_count = static_cast<uint32_t>(index_.size());
  header_.micro_index_offset = static_cast<uint32_t>(block_.size());
  SealBlock(BlockType::kMicroIndex, 0, Compression::kNone, 0, EncodeMicroIndex(index_),
            header_.identity(header_.micro_index_offset), codec_, &block_);
  header_.micro_index_size = static_cast<uint32_t>(block_.size() - header_.micro_index_offset);
  if (options_.bloom_bits_per_key > 0) {
    header_.bloom_offset = static_cast<uint32_t>(block_.size());
    SealBlock(BlockType::kBloom, 0, Compression::kNone, 0, bloom_.Finish(options_.bloom_bits_per_key),
              header_.identity(header_.bloom_offset), codec_, &block_);
    header_.bloom_size = static_cast<uint32_t>(block_.size() - header_.bloom_offset);
  }
  CAIRN_CHECK_LE(block_.size(), options_.macroblock_bytes);
  header_.size = static_cast<uint32_t>(block_.size());
  header_.Seal(&block_);
  meta_.header = header_;
  meta_.raw_header = block_.substr(0, kMacroblockHeaderBytes);
  meta_.last_key.assign(index_.back().last_key);
  meta_.last_version = index_.back().last_version;
  *meta = std::move(meta_);
  return std::move(block_);
}

}  // namespace cairn::format

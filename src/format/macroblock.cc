#include "src/format/macroblock.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "src/base/check.h"
#include "src/base/coding.h"
#include "src/base/varint.h"

namespace cairn::format {
namespace {

void Store32(std::string* b, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) (*b)[at + i] = static_cast<char>(v >> (8 * i));
}
void Store64(std::string* b, size_t at, uint64_t v) {
  for (int i = 0; i < 8; ++i) (*b)[at + i] = static_cast<char>(v >> (8 * i));
}

}  // namespace

void MacroblockHeader::Seal(std::string* block) {
  CAIRN_CHECK_GE(block->size(), kMacroblockHeaderBytes);
  CAIRN_CHECK_EQ(block->size(), size);
  std::string& b = *block;
  Store32(&b, 0, kMacroblockMagic);
  b[4] = static_cast<char>(kFormatVersion);
  b[5] = static_cast<char>(kFormatVersion >> 8);
  b[6] = static_cast<char>(kMacroblockHeaderBytes);
  b[7] = 0;
  Store64(&b, 8, origin_file_id);
  Store32(&b, 16, origin_index);
  Store32(&b, 20, size);
  Store32(&b, 24, micro_count);
  Store32(&b, 28, micro_index_offset);
  Store32(&b, 32, micro_index_size);
  Store32(&b, 36, bloom_offset);
  Store32(&b, 40, bloom_size);
  Store32(&b, 44, 0);
  Store64(&b, 48, rows);
  Store64(&b, 56, logical_sum);
  Store64(&b, 64, min_version);
  Store64(&b, 72, max_version);
  body_checksum = BoundChecksum(identity(0), std::string_view(b).substr(kMacroblockHeaderBytes));
  Store32(&b, 80, body_checksum);
  Store32(&b, 84, 0);
  Store32(&b, 88, 0);
  Store32(&b, 92, BoundChecksum(identity(0), std::string_view(b.data(), 92)));
}

absl::StatusOr<MacroblockHeader> MacroblockHeader::Parse(std::string_view h, uint32_t capacity) {
  auto bad = [](auto... parts) {
    return absl::DataLossError(absl::StrCat("macroblock header: ", parts...));
  };
  if (h.size() < kMacroblockHeaderBytes) return bad("only ", h.size(), " bytes");
  if (DecodeFixed32(h.data()) != kMacroblockMagic) return bad("bad magic (not a Cairn macroblock)");
  MacroblockHeader m;
  m.origin_file_id = DecodeFixed64(h.data() + 8);
  m.origin_index = DecodeFixed32(h.data() + 16);
  const uint32_t stored = DecodeFixed32(h.data() + 92);
  const uint32_t actual = BoundChecksum(m.identity(0), h.substr(0, 92));
  if (stored != actual) return bad("checksum mismatch: corrupt, or not the macroblock the index names");
  const uint16_t version = static_cast<uint16_t>(DecodeFixed32(h.data() + 4));
  const uint16_t header_size = static_cast<uint16_t>(DecodeFixed32(h.data() + 4) >> 16);
  if (version != kFormatVersion) return bad("format version ", version, " (this build reads ", kFormatVersion, ")");
  if (header_size != kMacroblockHeaderBytes) return bad("header size ", header_size);
  m.size = DecodeFixed32(h.data() + 20);
  m.micro_count = DecodeFixed32(h.data() + 24);
  m.micro_index_offset = DecodeFixed32(h.data() + 28);
  m.micro_index_size = DecodeFixed32(h.data() + 32);
  m.bloom_offset = DecodeFixed32(h.data() + 36);
  m.bloom_size = DecodeFixed32(h.data() + 40);
  m.rows = DecodeFixed64(h.data() + 48);
  m.logical_sum = DecodeFixed64(h.data() + 56);
  m.min_version = DecodeFixed64(h.data() + 64);
  m.max_version = DecodeFixed64(h.data() + 72);
  m.body_checksum = DecodeFixed32(h.data() + 80);
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

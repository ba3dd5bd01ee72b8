// libFuzzer target: the SSTable reader and every decoder under it, on arbitrary bytes.
//
// Property: no input crashes, trips a sanitizer (ASan, UBSan, LeakSanitizer) or fails a
// CAIRN_CHECK. Malformed input must come back as an error status.
//
// Each input is used three ways:
//   1. As an SSTable, opened with SstReader (on a MemDisk); if it opens: VerifySst, a full
//      scan, and point gets with and without a block cache.
//   2. The same, after Reseal() has recomputed every checksum it can locate. Checksums stop
//      almost every mutation at the first block read; resealing lets a mutated file reach
//      the code behind them (layout checks, micro indexes, filters, row decoding).
//   3. Directly, as the payload of each decoder: MicroblockCursor, DecodeMicroIndex,
//      SstProperties::Decode, BloomFilter, Footer::Parse, Codec::Decompress, OpenBlock.
//
// Run with scripts/fuzz.sh; seeds come from sst_fuzz_seeds (tests/fuzz/sst_fuzz_seeds.cc).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "src/base/coding.h"
#include "src/base/varint.h"
#include "src/format/block.h"
#include "src/format/block_cache.h"
#include "src/format/bloom.h"
#include "src/format/compression.h"
#include "src/format/logical_checksum.h"
#include "src/format/macroblock.h"
#include "src/format/microblock.h"
#include "src/format/sst_file.h"
#include "src/format/sst_reader.h"
#include "src/format/sst_verify.h"
#include "src/runtime/mem_disk.h"
#include "src/runtime/run_inline.h"

namespace cairn::format {
namespace {

// Bounds on the work one input may cause, so that the fuzzer never times out on a large but
// valid file.
constexpr size_t kScanRowsMax = 20000;
constexpr size_t kCursorRowsMax = 20000;
constexpr size_t kRawSizeMax = 1u << 20;  // Codec::Decompress output

void Store32(std::string* s, uint64_t pos, uint32_t v) {
  for (int i = 0; i < 4; ++i) (*s)[pos + i] = static_cast<char>(v >> (8 * i));
}

// Recomputes the checksum of the sealed block at [pos, pos + len) of `f`, if it lies there.
void ResealBlock(std::string* f, uint64_t pos, uint64_t len, const BlockIdentity& id) {
  if (len < kBlockHeaderBytes || pos > f->size() || len > f->size() - pos) return;
  const std::string_view b(f->data() + pos, len);
  Store32(f, pos + 8, BoundChecksum(id, b.substr(0, 8), b.substr(kBlockHeaderBytes)));
}

// The payload of the sealed block `b` (decompressed if need be), without checking its checksum.
bool PayloadOf(std::string_view b, Codec& codec, std::string* scratch, std::string_view* payload) {
  if (b.size() < kBlockHeaderBytes) return false;
  const auto c = static_cast<Compression>(b[2]);
  const uint32_t raw_size = DecodeFixed32(b.data() + 4);
  if (c == Compression::kNone) {
    *payload = b.substr(kBlockHeaderBytes);
    return true;
  }
  if ((c != Compression::kLz4 && c != Compression::kZstd) || raw_size > kRawSizeMax) return false;
  if (!codec.Decompress(c, b.substr(kBlockHeaderBytes), raw_size, scratch).ok()) return false;
  *payload = *scratch;
  return true;
}

// Best effort: makes every checksum of the SSTable image `f` match its bytes — each block of
// each macroblock found by walking from offset 0, each macroblock's body and header, the copies
// of the headers in the file index, the file index, the properties and the footer. Returns
// whether `f` has a footer to start from.
bool Reseal(std::string* f) {
  if (f->size() < kFooterBytes) return false;
  const uint64_t footer_offset = f->size() - kFooterBytes;
  if (std::string_view(*f).substr(footer_offset, 8) != kFooterMagic) return false;
  const char* footer = f->data() + footer_offset;
  const uint64_t file_id = DecodeFixed64(footer + 16);
  const uint64_t index_offset = DecodeFixed64(footer + 24);
  const uint32_t index_size = DecodeFixed32(footer + 32);
  const uint32_t properties_size = DecodeFixed32(footer + 36);
  const uint64_t properties_offset = DecodeFixed64(footer + 40);
  Codec codec;
  std::string scratch;

  std::map<uint64_t, std::string> headers;  // file offset -> resealed header
  uint64_t offset = 0;
  const uint64_t data_end = std::min<uint64_t>(index_offset, footer_offset);
  while (offset + kMacroblockHeaderBytes <= data_end && headers.size() < 4096) {
    const char* h = f->data() + offset;
    if (DecodeFixed32(h) != kMacroblockMagic) break;
    const uint64_t origin = DecodeFixed64(h + 8);
    const uint32_t index = DecodeFixed32(h + 16);
    const uint32_t size = DecodeFixed32(h + 20);
    if (size < kMacroblockHeaderBytes || size > data_end - offset) break;
    const uint32_t micro_index_offset = DecodeFixed32(h + 28);
    const uint32_t micro_index_size = DecodeFixed32(h + 32);
    const uint32_t bloom_offset = DecodeFixed32(h + 36);
    const uint32_t bloom_size = DecodeFixed32(h + 40);
    auto in_block = [&](uint64_t at, uint64_t len) { return at <= size && len <= size - at; };
    if (in_block(bloom_offset, bloom_size)) {
      ResealBlock(f, offset + bloom_offset, bloom_size, BlockIdentity{origin, index, bloom_offset});
    }
    if (in_block(micro_index_offset, micro_index_size)) {
      ResealBlock(f, offset + micro_index_offset, micro_index_size,
                  BlockIdentity{origin, index, micro_index_offset});
      std::string_view payload;
      if (PayloadOf(std::string_view(*f).substr(offset + micro_index_offset, micro_index_size), codec,
                    &scratch, &payload)) {
        const std::string entries(payload);  // Reseal writes into *f, which payload may view
        ByteReader r(entries);
        const uint64_t count = r.Varint64();
        for (uint64_t i = 0; i < count && r.ok(); ++i) {
          const uint32_t micro_offset = r.Varint32();
          const uint32_t micro_size = r.Varint32();
          r.Varint32();
          r.LengthPrefixed();
          r.Varint64();
          if (r.ok() && in_block(micro_offset, micro_size)) {
            ResealBlock(f, offset + micro_offset, micro_size, BlockIdentity{origin, index, micro_offset});
          }
        }
      }
    }
    const BlockIdentity id{origin, index, 0};
    Store32(f, offset + 80,
            BoundChecksum(id, std::string_view(*f).substr(offset + kMacroblockHeaderBytes,
                                                          size - kMacroblockHeaderBytes)));
    Store32(f, offset + 92, BoundChecksum(id, std::string_view(*f).substr(offset, 92)));
    headers.emplace(offset, f->substr(offset, kMacroblockHeaderBytes));
    offset += size;
  }

  // The file index holds a copy of each header: replace them, then reseal it.
  if (index_offset <= footer_offset && index_size <= footer_offset - index_offset &&
      index_size >= kBlockHeaderBytes && static_cast<Compression>((*f)[index_offset + 2]) == Compression::kNone) {
    const uint64_t payload_offset = index_offset + kBlockHeaderBytes;
    const std::string_view payload = std::string_view(*f).substr(payload_offset, index_size - kBlockHeaderBytes);
    ByteReader r(payload);
    const uint64_t count = r.Varint64();
    for (uint64_t i = 0; i < count && r.ok(); ++i) {
      ByteReader e(r.LengthPrefixed());
      const uint64_t macroblock_offset = e.Varint64();
      const char* raw_header = e.position();
      if (!r.ok() || !e.ok() || e.remaining() < kMacroblockHeaderBytes) break;
      if (auto it = headers.find(macroblock_offset); it != headers.end()) {
        f->replace(static_cast<size_t>(raw_header - f->data()), kMacroblockHeaderBytes, it->second);
      }
    }
    ResealBlock(f, index_offset, index_size, BlockIdentity{file_id, kFileLevel, index_offset});
  }
  ResealBlock(f, properties_offset, properties_size, BlockIdentity{file_id, kFileLevel, properties_offset});
  Store32(f, footer_offset + 60,
          BoundChecksum(BlockIdentity{file_id, kFileLevel, footer_offset},
                        std::string_view(*f).substr(footer_offset, 60)));
  return true;
}

Task<void> Scan(SstReader* reader, std::vector<std::string>* keys) {
  IteratorOptions options;
  options.readahead_bytes = 8 << 10;
  std::unique_ptr<SstIterator> it = reader->NewIterator(options);
  absl::Status s = co_await it->SeekToFirst();
  size_t rows = 0;
  while (s.ok() && it->Valid() && rows++ < kScanRowsMax) {
    if (keys->size() < 8 || rows % 64 == 0) keys->emplace_back(it->row().key);
    s = co_await it->Advance();
  }
  // A bounded scan from a key in the middle, to the key after it.
  if (keys->size() >= 2) {
    options.upper_bound = (*keys)[keys->size() - 1];
    std::unique_ptr<SstIterator> bounded = reader->NewIterator(options);
    s = co_await bounded->Seek((*keys)[keys->size() / 2], kMaxVersion);
    for (size_t n = 0; s.ok() && bounded->Valid() && n < kScanRowsMax; ++n) s = co_await bounded->Advance();
  }
}

Task<void> Gets(SstReader* reader, const std::vector<std::string>* keys, std::string probe) {
  for (const std::string& key : *keys) {
    (void)co_await reader->Get(key);
    (void)co_await reader->Get(key, 1);
  }
  (void)co_await reader->Get(probe);
  (void)co_await reader->Get(reader->properties().first_key, reader->properties().first_version);
  (void)co_await reader->Get(reader->properties().last_key);
  (void)co_await reader->Get(std::string());
}

void ExerciseReader(const std::string& bytes) {
  MemDisk disk;
  CAIRN_CHECK_OK(RunInline(disk.Open("f.sst", OpenOptions{.create = true})).status());
  *disk.Contents("f.sst") = bytes;
  absl::StatusOr<std::unique_ptr<SstReader>> reader = RunInline(SstReader::Open(disk, "f.sst"));
  if (!reader.ok()) return;
  (void)RunInline(VerifySst(**reader));
  std::vector<std::string> keys;
  RunInline(Scan(reader->get(), &keys));
  RunInline(Gets(reader->get(), &keys, bytes.substr(0, 16)));

  // Again through a block cache and a filter cache, from a fresh reader: twice, so that the
  // second round is answered from the caches.
  LruBlockCache cache(1 << 20), filters(1 << 20);
  reader = RunInline(SstReader::Open(disk, "f.sst", ReaderOptions{.block_cache = &cache, .filter_cache = &filters}));
  if (!reader.ok()) return;
  RunInline(Gets(reader->get(), &keys, bytes.substr(0, 16)));
  RunInline(Gets(reader->get(), &keys, bytes.substr(0, 16)));
}

void ExerciseCursor(std::string_view data) {
  MicroblockCursor cursor;
  if (!cursor.Reset(data).ok()) return;
  std::vector<std::pair<std::string, uint64_t>> rows;
  cursor.SeekToFirst();
  for (size_t n = 0; cursor.Valid() && n < kCursorRowsMax; ++n) {
    if (rows.size() < 8) rows.emplace_back(cursor.row().key, cursor.row().version);
    cursor.Next();
  }
  for (const auto& [key, version] : rows) {
    cursor.Seek(key, version);
    cursor.Seek(key, 0);
  }
  cursor.Seek(std::string_view(), kMaxVersion);
  cursor.Seek(data.substr(0, 8), 7);
  cursor.Seek(std::string_view("\xff\xff\xff\xff", 4), 0);
}

// A header that MacroblockHeader::Parse accepts, shaped to `data` read as a micro index (its
// count and row total), so that DecodeMicroIndex gets past its first checks.
std::optional<MacroblockHeader> HeaderFor(std::string_view data) {
  ByteReader r(data);
  const uint64_t count = r.Varint64();
  if (!r.ok() || count == 0 || count > 4096) return std::nullopt;
  uint64_t end = kMacroblockHeaderBytes, rows = 0;
  for (uint64_t i = 0; i < count && r.ok(); ++i) {
    r.Varint32();
    end += r.Varint32();
    rows += r.Varint32();
    r.LengthPrefixed();
    r.Varint64();
  }
  const uint32_t capacity = 2u << 20;
  const uint64_t index_offset = std::max<uint64_t>(end, kMacroblockHeaderBytes + count * (kBlockHeaderBytes + 8));
  const uint64_t index_size = kBlockHeaderBytes + data.size();
  if (index_offset + index_size > capacity || rows > UINT32_MAX) return std::nullopt;
  std::string h;
  PutFixed32(&h, kMacroblockMagic);
  PutFixed32(&h, kFormatVersion | (kMacroblockHeaderBytes << 16));
  PutFixed64(&h, 1);                                             // origin file id
  PutFixed32(&h, 0);                                             // origin index
  PutFixed32(&h, static_cast<uint32_t>(index_offset + index_size));  // size
  PutFixed32(&h, static_cast<uint32_t>(count));
  PutFixed32(&h, static_cast<uint32_t>(index_offset));
  PutFixed32(&h, static_cast<uint32_t>(index_size));
  PutFixed32(&h, 0);  // no bloom
  PutFixed32(&h, 0);
  PutFixed32(&h, 0);
  PutFixed64(&h, std::max<uint64_t>(rows, count));
  PutFixed64(&h, 0);
  PutFixed64(&h, 0);
  PutFixed64(&h, kMaxVersion);
  PutFixed32(&h, 0);
  PutFixed32(&h, 0);
  PutFixed32(&h, 0);
  PutFixed32(&h, BoundChecksum(BlockIdentity{1, 0, 0}, h));
  absl::StatusOr<MacroblockHeader> parsed = MacroblockHeader::Parse(h, capacity);
  if (!parsed.ok()) return std::nullopt;
  return *parsed;
}

void ExerciseDecoders(std::string_view data) {
  ExerciseCursor(data);

  for (uint32_t capacity : {2u << 20, 64u << 10}) {
    absl::StatusOr<MacroblockHeader> h = MacroblockHeader::Parse(data, capacity);
    if (h.ok()) {
      (void)h->VerifyBody(data);
      if (h->micro_index_offset + uint64_t{h->micro_index_size} <= data.size()) {
        // The payload as if stored raw (a compressed one fails, as it should).
        (void)DecodeMicroIndex(data.substr(h->micro_index_offset + kBlockHeaderBytes,
                                           h->micro_index_size - kBlockHeaderBytes), *h);
      }
    }
  }
  if (std::optional<MacroblockHeader> h = HeaderFor(data)) (void)DecodeMicroIndex(data, *h);

  (void)SstProperties::Decode(data);
  (void)DecodeFileIndex(data, 2u << 20);

  if (absl::StatusOr<BloomFilter> bloom = BloomFilter::Parse(data); bloom.ok()) {
    for (std::string_view key : {std::string_view(), data.substr(0, 4), data.substr(0, 16), data}) {
      (void)bloom->MayContain(KeyHash(key));
    }
  }

  if (data.size() >= kFooterBytes) {
    (void)Footer::Parse(data.substr(data.size() - kFooterBytes), data.size() - kFooterBytes);
    (void)Footer::Parse(data.substr(0, kFooterBytes), 0);
  }

  Codec codec;
  std::string out;
  for (Compression c : {Compression::kNone, Compression::kLz4, Compression::kZstd}) {
    // The first 4 bytes as the raw size of the rest, as a seed would give it; and a guess.
    if (data.size() >= 4) {
      (void)codec.Decompress(c, data.substr(4), DecodeFixed32(data.data()) % (kRawSizeMax + 1), &out);
    }
    (void)codec.Decompress(c, data, std::min<size_t>(data.size() * 4, kRawSizeMax), &out);
  }
  std::string scratch;
  for (BlockType t : {BlockType::kData, BlockType::kMicroIndex, BlockType::kBloom}) {
    (void)OpenBlock(data, BlockIdentity{1, 0, kMacroblockHeaderBytes}, t, codec, &scratch);
  }
}

}  // namespace
}  // namespace cairn::format

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  cairn::format::ExerciseReader(bytes);
  std::string resealed = bytes;
  if (cairn::format::Reseal(&resealed) && resealed != bytes) cairn::format::ExerciseReader(resealed);
  cairn::format::ExerciseDecoders(bytes);
  return 0;
}

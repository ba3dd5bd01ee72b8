#include "src/format/sst_reader.h"

#include <algorithm>
#include <cstring>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "src/base/strings.h"
#include "src/base/check.h"
#include "src/base/coding.h"
#include "src/base/status.h"

namespace cairn::format {
namespace {

absl::Status Prefixed(const absl::Status& s, std::string_view prefix) {
  return absl::Status(s.code(), absl::StrCat(AbslView(prefix), ": ", s.message()));
}

// Index position of the first entry whose last row is not before (key, version), searching
// `prefixes` and reading `last(i)` only on a tie.
template <typename Last>
size_t SearchLastRows(const std::vector<uint64_t>& prefixes, std::string_view key, uint64_t version,
                      const Last& last) {
  const uint64_t p = KeyPrefix(key);
  size_t lo = 0;
  size_t hi = prefixes.size();
  while (lo < hi) {
    const size_t mid = lo + (hi - lo) / 2;
    bool before;
    if (prefixes[mid] != p) {
      before = prefixes[mid] < p;
    } else {
      const auto [k, v] = last(mid);
      before = CompareRowKeys(k, v, key, version) < 0;
    }
    if (before) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo;
}

// The microblock holding the first row at or after (key, version): the first whose last row is
// not before it. Callers search only macroblocks whose last row is at or after the target, and
// LoadIndex checked that the last entry's last row is the macroblock's, so there always is one.
size_t FindMicroblock(const SstReader::MacroblockIndex& index, std::string_view key, uint64_t version) {
  const size_t i = SearchLastRows(index.last_key_prefix, key, version, [&](size_t j) {
    return std::pair<std::string_view, uint64_t>(index.micro[j].last_key, index.micro[j].last_version);
  });
  CAIRN_CHECK_LT(i, index.micro.size());
  return i;
}

}  // namespace

Task<absl::StatusOr<std::unique_ptr<SstReader>>> SstReader::Open(Disk& disk, std::string path,
                                                                 ReaderOptions options) {
  absl::StatusOr<std::unique_ptr<File>> file = co_await disk.Open(path, OpenOptions{});
  if (!file.ok()) co_return file.status();
  co_return co_await Open(std::move(*file), std::move(path), options);
}

Task<absl::StatusOr<std::unique_ptr<SstReader>>> SstReader::Open(std::unique_ptr<File> file,
                                                                 std::string name,
                                                                 ReaderOptions options) {
  std::unique_ptr<SstReader> reader(new SstReader(std::move(file), std::move(name), options));
  absl::Status s = co_await reader->Load();
  if (!s.ok()) co_return Prefixed(s, reader->name_);
  co_return reader;
}

SstReader::~SstReader() = default;

Task<absl::StatusOr<std::string>> SstReader::ReadBytes(uint64_t offset, size_t length, std::string buffer) {
  absl::StatusOr<std::string> bytes = co_await file_->ReadInto(offset, length, std::move(buffer));
  if (bytes.ok()) stats_.bytes_read += bytes->size();
  co_return bytes;
}

Task<absl::Status> SstReader::Load() {
  absl::StatusOr<uint64_t> size = co_await file_->Size();
  if (!size.ok()) co_return size.status();
  file_size_ = *size;
  if (file_size_ < kFooterBytes) {
    co_return absl::DataLossError(absl::StrCat(
        "not a Cairn SSTable: ", file_size_, " bytes is smaller than an SSTable footer (",
        kFooterBytes, " bytes)"));
  }
  const uint64_t footer_offset = file_size_ - kFooterBytes;
  absl::StatusOr<std::string> tail = co_await ReadBytes(footer_offset, kFooterBytes);
  if (!tail.ok()) co_return tail.status();
  absl::StatusOr<Footer> footer = Footer::Parse(*tail, footer_offset);
  if (!footer.ok()) {
    absl::StatusOr<std::string> head = co_await ReadBytes(0, 4);
    if (head.ok() && head->size() == 4 && DecodeFixed32(head->data()) == kMacroblockMagic &&
        tail->substr(0, 8) != kFooterMagic) {
      co_return absl::DataLossError(absl::StrCat(
          "truncated or damaged Cairn SSTable: it begins with a macroblock but its last ",
          kFooterBytes, " bytes are not a footer (", footer.status().message(), ")"));
    }
    if (tail->substr(0, 8) != kFooterMagic) {
      co_return absl::DataLossError("not a Cairn SSTable (no footer magic at the end of the file)");
    }
    co_return footer.status();
  }
  footer_ = *footer;
  if (options_.expected_file_id != 0 && footer_.file_id != options_.expected_file_id) {
    co_return absl::DataLossError(absl::StrCat("file id is ", footer_.file_id, ", expected ",
                                               options_.expected_file_id,
                                               ": this is another SSTable"));
  }
  absl::StatusOr<std::string> meta =
      co_await ReadBytes(footer_.index_offset, uint64_t{footer_.index_size} + footer_.properties_size);
  if (!meta.ok()) co_return meta.status();
  if (meta->size() != uint64_t{footer_.index_size} + footer_.properties_size) {
    co_return absl::DataLossError("short read of the file index and properties");
  }
  std::string scratch;
  absl::StatusOr<std::string_view> index_payload =
      OpenBlock(std::string_view(*meta).substr(0, footer_.index_size),
                BlockIdentity{footer_.file_id, kFileLevel, footer_.index_offset},
                BlockType::kFileIndex, codec_, &scratch);
  if (!index_payload.ok()) {
    co_return Prefixed(index_payload.status(), absl::StrCat("file index at offset ", footer_.index_offset));
  }
  absl::StatusOr<std::vector<MacroblockMeta>> metas =
      DecodeFileIndex(*index_payload, footer_.macroblock_capacity);
  if (!metas.ok()) co_return metas.status();
  metas_ = std::move(*metas);
  meta_prefix_.reserve(metas_.size());
  for (const MacroblockMeta& m : metas_) meta_prefix_.push_back(KeyPrefix(m.last_key));
  std::string props_scratch;
  absl::StatusOr<std::string_view> props_payload =
      OpenBlock(std::string_view(*meta).substr(footer_.index_size),
                BlockIdentity{footer_.file_id, kFileLevel, footer_.properties_offset},
                BlockType::kProperties, codec_, &props_scratch);
  if (!props_payload.ok()) {
    co_return Prefixed(props_payload.status(),
                       absl::StrCat("properties at offset ", footer_.properties_offset));
  }
  absl::StatusOr<SstProperties> props = SstProperties::Decode(*props_payload);
  if (!props.ok()) co_return props.status();
  props_ = std::move(*props);
  CO_RETURN_IF_ERROR(CheckLayout());
  indexes_.resize(metas_.size());
  co_return absl::OkStatus();
}

absl::Status SstReader::CheckLayout() const {
  auto bad = [](auto... parts) { return absl::DataLossError(absl::StrCat(parts...)); };
  if (metas_.size() != footer_.macroblock_count || metas_.size() != props_.macroblocks) {
    return bad("the file index lists ", metas_.size(), " macroblocks; the footer says ",
               footer_.macroblock_count, " and the properties ", props_.macroblocks);
  }
  if (props_.file_id != footer_.file_id) {
    return bad("properties name file id ", props_.file_id, ", the footer ", footer_.file_id);
  }
  uint64_t offset = 0;
  LogicalChecksum sum;
  absl::flat_hash_set<std::pair<uint64_t, uint32_t>> identities;
  for (size_t i = 0; i < metas_.size(); ++i) {
    const MacroblockMeta& m = metas_[i];
    if (m.offset != offset) {
      return bad(Where(i), ": the index places it at ", m.offset, ", after the previous one ends at ", offset);
    }
    offset += m.header.size;
    if (CompareRowKeys(m.first_key, m.first_version, m.last_key, m.last_version) > 0) {
      return bad(Where(i), ": first row sorts after its last");
    }
    if (i > 0 && CompareRowKeys(metas_[i - 1].last_key, metas_[i - 1].last_version, m.first_key, m.first_version) >= 0) {
      return bad(Where(i), ": its first row does not sort after the previous macroblock's last");
    }
    if (!identities.insert({m.header.origin_file_id, m.header.origin_index}).second) {
      return bad(Where(i), ": identity (", m.header.origin_file_id, ", ", m.header.origin_index,
                 ") appears twice");
    }
    sum.Merge(m.logical());
  }
  if (offset != footer_.index_offset) {
    return bad("macroblocks end at ", offset, " but the file index starts at ", footer_.index_offset);
  }
  if (sum != props_.logical) {
    return bad("macroblocks hold ", sum.ToString(), " (logical checksum/rows); the properties say ",
               props_.logical.ToString());
  }
  return absl::OkStatus();
}

std::string SstReader::Where(size_t macroblock) const {
  if (macroblock >= metas_.size()) return absl::StrCat("macroblock ", macroblock);
  return absl::StrCat("macroblock ", macroblock, " (file offset ", metas_[macroblock].offset, ")");
}

std::string SstReader::Where(size_t macroblock, const MicroIndexEntry& micro) const {
  const uint64_t base = macroblock < metas_.size() ? metas_[macroblock].offset : 0;
  return absl::StrCat(Where(macroblock), ", microblock at macroblock offset ", micro.offset,
                      " (file offset ", base + micro.offset, ", ", micro.size, " bytes)");
}

size_t SstReader::FindMacroblock(std::string_view key, uint64_t version) const {
  return SearchLastRows(meta_prefix_, key, version, [&](size_t j) {
    return std::pair<std::string_view, uint64_t>(metas_[j].last_key, metas_[j].last_version);
  });
}

Task<absl::StatusOr<std::string>> SstReader::ReadMacroblock(size_t index) {
  CAIRN_CHECK_LT(index, metas_.size());
  const MacroblockMeta& m = metas_[index];
  absl::StatusOr<std::string> bytes = co_await ReadBytes(m.offset, m.header.size);
  if (!bytes.ok()) co_return bytes.status();
  if (bytes->size() != m.header.size) {
    co_return absl::DataLossError(absl::StrCat(name_, ": ", Where(index), ": short read (", bytes->size(),
                                               " of ", m.header.size, " bytes)"));
  }
  if (std::string_view(*bytes).substr(0, kMacroblockHeaderBytes) != m.raw_header) {
    absl::StatusOr<MacroblockHeader> h = MacroblockHeader::Parse(*bytes, footer_.macroblock_capacity);
    co_return absl::DataLossError(absl::StrCat(
        name_, ": ", Where(index), ": header differs from the file index's copy",
        h.ok() ? "" : absl::StrCat(" (", h.status().message(), ")")));
  }
  absl::Status body = m.header.VerifyBody(*bytes);
  if (!body.ok()) co_return Prefixed(body, absl::StrCat(name_, ": ", Where(index)));
  co_return bytes;
}

Task<absl::StatusOr<const SstReader::MacroblockIndex*>> SstReader::LoadIndex(size_t index) {
  CAIRN_CHECK_LT(index, metas_.size());
  if (indexes_[index] != nullptr) co_return indexes_[index].get();
  const MacroblockMeta& m = metas_[index];
  const MacroblockHeader& h = m.header;
  auto where = [&](uint64_t offset) {
    return absl::StrCat(name_, ": ", Where(index), ", block at macroblock offset ", offset);
  };
  absl::StatusOr<std::string> bytes =
      co_await ReadBytes(m.offset + h.micro_index_offset, uint64_t{h.micro_index_size} + h.bloom_size);
  if (!bytes.ok()) co_return bytes.status();
  if (bytes->size() != uint64_t{h.micro_index_size} + h.bloom_size) {
    co_return absl::DataLossError(absl::StrCat(where(h.micro_index_offset), ": short read"));
  }
  auto result = std::make_unique<MacroblockIndex>();
  std::string scratch;
  absl::StatusOr<std::string_view> payload =
      OpenBlock(std::string_view(*bytes).substr(0, h.micro_index_size), h.identity(h.micro_index_offset),
                BlockType::kMicroIndex, codec_, &scratch);
  if (!payload.ok()) co_return Prefixed(payload.status(), where(h.micro_index_offset));
  absl::StatusOr<std::vector<MicroIndexEntry>> micro = DecodeMicroIndex(*payload, h);
  if (!micro.ok()) co_return Prefixed(micro.status(), where(h.micro_index_offset));
  result->micro = std::move(*micro);
  result->last_key_prefix.reserve(result->micro.size());
  for (const MicroIndexEntry& e : result->micro) result->last_key_prefix.push_back(KeyPrefix(e.last_key));
  if (result->micro.back().last_key != m.last_key || result->micro.back().last_version != m.last_version) {
    co_return absl::DataLossError(absl::StrCat(where(h.micro_index_offset),
                                               ": the micro index's last row differs from the file index's"));
  }
  if (h.bloom_size > 0) {
    // The filter is checked now either way, so that a damaged one fails the load.
    std::string bloom_bytes;
    if (options_.filter_cache != nullptr) {
      bloom_bytes.assign(std::string_view(*bytes).substr(h.micro_index_size));
    } else {
      bloom_bytes = std::move(*bytes);
      bloom_bytes.erase(0, h.micro_index_size);
    }
    absl::StatusOr<std::shared_ptr<const DecodedBlock>> block = OpenBloom(index, std::move(bloom_bytes));
    if (!block.ok()) co_return block.status();
    if (options_.filter_cache != nullptr) {
      options_.filter_cache->Insert(BlockCacheKey::Of(h.identity(h.bloom_offset)), *std::move(block));
    } else {
      result->bloom = *BloomFilter::Parse((*block)->payload);
      result->bloom_block = *std::move(block);
    }
  }
  // Another caller may have loaded it while this one waited for the disk: keep the first, since
  // its caller may hold a pointer to it.
  if (indexes_[index] == nullptr) indexes_[index] = std::move(result);
  co_return indexes_[index].get();
}

absl::StatusOr<std::shared_ptr<const DecodedBlock>> SstReader::OpenBloom(size_t index, std::string bytes) {
  const MacroblockHeader& h = metas_[index].header;
  auto block = std::make_shared<DecodedBlock>();
  block->storage = std::move(bytes);
  std::string scratch;
  absl::StatusOr<std::string_view> bloom =
      OpenBlock(block->storage, h.identity(h.bloom_offset), BlockType::kBloom, codec_, &scratch);
  absl::Status s = bloom.status();
  if (s.ok()) s = BloomFilter::Parse(*bloom).status();
  if (!s.ok()) {
    return Prefixed(s, absl::StrCat(name_, ": ", Where(index), ", block at macroblock offset ", h.bloom_offset));
  }
  if (bloom->data() >= block->storage.data() && bloom->data() < block->storage.data() + block->storage.size()) {
    block->payload = *bloom;  // stored raw (the writer never compresses filters): no copy
  } else {
    block->storage.assign(*bloom);
    block->payload = block->storage;
  }
  return std::shared_ptr<const DecodedBlock>(std::move(block));
}

Task<absl::StatusOr<std::shared_ptr<const DecodedBlock>>> SstReader::ReadBloomAgain(size_t index) {
  const MacroblockMeta& m = metas_[index];
  const MacroblockHeader& h = m.header;
  const BlockCacheKey key = BlockCacheKey::Of(h.identity(h.bloom_offset));
  ++stats_.filter_reads;
  CAIRN_SOMETIMES(options_.probes, true, "sst.filter-read-again");
  absl::StatusOr<std::string> bytes = co_await ReadBytes(m.offset + h.bloom_offset, h.bloom_size);
  if (!bytes.ok()) co_return bytes.status();
  if (bytes->size() != h.bloom_size) {
    co_return absl::DataLossError(absl::StrCat(name_, ": ", Where(index), ", block at macroblock offset ",
                                               h.bloom_offset, ": short read"));
  }
  absl::StatusOr<std::shared_ptr<const DecodedBlock>> block = OpenBloom(index, *std::move(bytes));
  if (!block.ok()) co_return block.status();
  options_.filter_cache->Insert(key, *block);
  co_return block;
}

Task<absl::StatusOr<std::shared_ptr<const DecodedBlock>>> SstReader::ReadDataBlock(
    size_t macroblock, const MicroIndexEntry& e) {
  const MacroblockMeta& m = metas_[macroblock];
  const BlockIdentity id = m.header.identity(e.offset);
  const BlockCacheKey key = BlockCacheKey::Of(id);
  if (options_.block_cache != nullptr) {
    std::shared_ptr<const DecodedBlock> hit = options_.block_cache->Lookup(key);
    if (hit != nullptr) {
      ++stats_.block_cache_hits;
      co_return hit;
    }
  }
  ++stats_.block_reads;
  absl::StatusOr<std::string> bytes = co_await ReadBytes(m.offset + e.offset, e.size, std::move(read_buffer_));
  if (!bytes.ok()) co_return bytes.status();
  if (bytes->size() != e.size) co_return absl::DataLossError(absl::StrCat(name_, ": ", Where(macroblock, e), ": short read"));
  // Without a cache, the last block's buffer is reused once its caller has let go of it:
  // decompressing into it then needs no allocation.
  std::shared_ptr<DecodedBlock> block;
  if (options_.block_cache == nullptr && spare_ != nullptr && spare_.use_count() == 1) {
    block = std::move(spare_);
  } else {
    block = std::make_shared<DecodedBlock>();
  }
  BlockHeader header;
  absl::StatusOr<std::string_view> payload =
      OpenBlock(*bytes, id, BlockType::kData, codec_, &block->storage, &header);
  if (!payload.ok()) co_return Prefixed(payload.status(), absl::StrCat(name_, ": ", Where(macroblock, e)));
  if (header.compression == Compression::kNone) {
    // Zero-copy: the block is the bytes as read.
    block->storage = std::move(*bytes);
    block->payload = std::string_view(block->storage).substr(kBlockHeaderBytes);
  } else {
    block->payload = block->storage;
    read_buffer_ = std::move(*bytes);  // the next read reuses it
  }
  if (options_.block_cache != nullptr) {
    options_.block_cache->Insert(key, block);
  } else {
    spare_ = block;
  }
  co_return std::shared_ptr<const DecodedBlock>(std::move(block));
}

Task<absl::StatusOr<GetResult>> SstReader::Get(std::string key, uint64_t snapshot) {
  ++stats_.gets;
  GetResult result;
  const size_t m = FindMacroblock(key, snapshot);
  if (m == metas_.size() || std::string_view(metas_[m].first_key) > std::string_view(key)) co_return result;
  // The index is usually loaded already: skip the coroutine call (and its frame) then.
  const MacroblockIndex* loaded = indexes_[m].get();
  if (loaded == nullptr) {
    absl::StatusOr<const MacroblockIndex*> index = co_await LoadIndex(m);
    if (!index.ok()) co_return index.status();
    loaded = *index;
  }
  const MacroblockIndex& idx = *loaded;
  std::optional<BloomFilter> bloom = idx.bloom;
  std::shared_ptr<const DecodedBlock> bloom_block;  // keeps a cached filter alive
  if (!bloom.has_value() && options_.filter_cache != nullptr && metas_[m].header.bloom_size > 0) {
    const MacroblockHeader& h = metas_[m].header;
    // A hit needs no coroutine call (and no frame): this is every cached get's path.
    bloom_block = options_.filter_cache->Lookup(BlockCacheKey::Of(h.identity(h.bloom_offset)));
    if (bloom_block == nullptr || CAIRN_BUGGIFY(options_.probes)) {
      absl::StatusOr<std::shared_ptr<const DecodedBlock>> read = co_await ReadBloomAgain(m);
      if (!read.ok()) co_return read.status();
      bloom_block = *std::move(read);
    }
    bloom = *BloomFilter::Parse(bloom_block->payload);  // checked when it was read
  }
  if (bloom.has_value()) {
    ++stats_.bloom_checks;
    if (!bloom->MayContain(KeyHash(key))) {
      ++stats_.bloom_negatives;
      co_return result;
    }
  }
  const MicroIndexEntry& entry = idx.micro[FindMicroblock(idx, key, snapshot)];
  absl::StatusOr<std::shared_ptr<const DecodedBlock>> block = co_await ReadDataBlock(m, entry);
  if (!block.ok()) co_return block.status();
  absl::Status s = get_cursor_.Reset((*block)->payload);
  if (s.ok()) {
    get_cursor_.Seek(key, snapshot);
    s = get_cursor_.status();
  }
  if (!s.ok()) co_return Prefixed(s, absl::StrCat(name_, ": ", Where(m, entry)));
  if (get_cursor_.Valid() && get_cursor_.row().key == key) {
    const RowView r = get_cursor_.row();
    result.found = true;
    result.kind = r.kind;
    result.version = r.version;
    result.value.assign(r.value);
  }
  co_return result;
}

std::unique_ptr<SstIterator> SstReader::NewIterator(IteratorOptions options) {
  return std::make_unique<SstIterator>(*this, std::move(options));
}

// --- SstIterator ---

SstIterator::SstIterator(SstReader& reader, IteratorOptions options)
    : reader_(reader), options_(std::move(options)) {}

void SstIterator::Fail(absl::Status s) {
  if (status_.ok()) status_ = std::move(s);
  valid_ = false;
  need_load_ = false;
}

bool SstIterator::Settle() {
  valid_ = cursor_.Valid();
  if (valid_ && options_.upper_bound.has_value() && cursor_.row().key >= *options_.upper_bound) {
    valid_ = false;
  }
  return true;
}

bool SstIterator::InBuffer(size_t m, size_t j) const {
  return m == buffer_m_ && j >= buffer_first_ && j < buffer_end_;
}

bool SstIterator::DecodeCurrent() {
  const MicroIndexEntry& e = index_->micro[j_];
  const uint64_t start = e.offset - index_->micro[buffer_first_].offset;
  const std::string_view block = std::string_view(buffer_).substr(start, e.size);
  const BlockIdentity id = reader_.metas_[m_].header.identity(e.offset);
  absl::StatusOr<std::string_view> payload =
      OpenBlock(block, id, BlockType::kData, reader_.codec_, &scratch_);
  if (!payload.ok()) {
    Fail(Prefixed(payload.status(), absl::StrCat(reader_.name_, ": ", reader_.Where(m_, e))));
    return false;
  }
  return DecodePayload(*payload);
}

bool SstIterator::DecodePayload(std::string_view payload) {
  absl::Status s = cursor_.Reset(payload);
  if (s.ok()) {
    cursor_.SeekToFirst();
    s = cursor_.status();
  }
  if (!s.ok()) {
    Fail(Prefixed(s, absl::StrCat(reader_.name_, ": ", reader_.Where(m_, index_->micro[j_]))));
    return false;
  }
  return true;
}

size_t SstIterator::ReadaheadBytes() const {
  if (options_.sequential) return options_.readahead_bytes;
  constexpr size_t kSingleBlockLoads = 2;
  if (loads_since_seek_ < kSingleBlockLoads) return 0;
  const size_t doublings = std::min<size_t>(loads_since_seek_ - kSingleBlockLoads, 16);
  return std::min<size_t>(options_.readahead_bytes, size_t{16} << 10 << doublings);
}

Task<bool> SstIterator::UseMacroblock(size_t m) {
  if (index_ != nullptr && m == m_) co_return true;
  absl::StatusOr<const SstReader::MacroblockIndex*> index = co_await reader_.LoadIndex(m);
  if (!index.ok()) {
    Fail(index.status());
    co_return false;
  }
  index_ = *index;
  m_ = m;
  co_return true;
}

Task<absl::Status> SstIterator::Enter(size_t m, size_t j) {
  if (!co_await UseMacroblock(m)) co_return status_;
  j_ = j;
  const size_t readahead = ReadaheadBytes();
  if (!InBuffer(m, j) && readahead == 0) {
    // One block, through the block cache.
    buffer_m_ = SIZE_MAX;
    absl::StatusOr<std::shared_ptr<const DecodedBlock>> block = co_await reader_.ReadDataBlock(m, index_->micro[j]);
    if (!block.ok()) {
      Fail(block.status());
      co_return status_;
    }
    single_ = *std::move(block);
    if (DecodePayload(single_->payload)) Settle();
    co_return status_;
  }
  if (!InBuffer(m, j)) {
    const auto& micro = index_->micro;
    size_t end = j + 1;
    uint64_t bytes = micro[j].size;
    while (end < micro.size() && bytes + micro[end].size <= readahead) bytes += micro[end++].size;
    buffer_m_ = SIZE_MAX;
    if (options_.throttle != nullptr) co_await options_.throttle->Acquire(bytes);
    absl::StatusOr<std::string> read =
        co_await reader_.ReadBytes(reader_.metas_[m].offset + micro[j].offset, bytes);
    if (!read.ok()) {
      Fail(read.status());
      co_return status_;
    }
    if (read->size() != bytes) {
      Fail(absl::DataLossError(absl::StrCat(reader_.name_, ": ", reader_.Where(m, micro[j]), ": short read")));
      co_return status_;
    }
    ++reader_.stats_.block_reads;
    buffer_ = std::move(*read);
    buffer_m_ = m;
    buffer_first_ = j;
    buffer_end_ = end;
  }
  if (DecodeCurrent()) Settle();
  co_return status_;
}

Task<absl::Status> SstIterator::SeekToFirst() { co_return co_await Seek(std::string(), kMaxVersion); }

Task<absl::Status> SstIterator::SeekToMacroblock(size_t m) {
  CAIRN_CHECK_LE(m, reader_.metas_.size());
  if (m == reader_.metas_.size()) {
    valid_ = false;
    need_load_ = false;
    status_ = absl::OkStatus();
    co_return status_;
  }
  const MacroblockMeta& meta = reader_.metas_[m];
  co_return co_await Seek(meta.first_key, meta.first_version);
}

BlockIdentity SstIterator::block_identity() const {
  CAIRN_CHECK(valid_);
  return reader_.metas_[m_].header.identity(index_->micro[j_].offset);
}

bool SstIterator::AtMacroblockStart() const {
  if (!valid_) return false;
  const MacroblockMeta& meta = reader_.metas_[m_];
  const RowView r = row();
  return r.version == meta.first_version && r.key == meta.first_key;
}

Task<absl::Status> SstIterator::Seek(std::string key, uint64_t version) {
  valid_ = false;
  need_load_ = false;
  loads_since_seek_ = 0;
  status_ = absl::OkStatus();
  const size_t m = reader_.FindMacroblock(key, version);
  if (m == reader_.metas_.size()) co_return status_;
  if (!co_await UseMacroblock(m)) co_return status_;
  CO_RETURN_IF_ERROR(co_await Enter(m, FindMicroblock(*index_, key, version)));
  cursor_.Seek(key, version);
  if (!cursor_.status().ok()) {
    Fail(Prefixed(cursor_.status(), absl::StrCat(reader_.name_, ": ", reader_.Where(m_, index_->micro[j_]))));
    co_return status_;
  }
  if (!cursor_.Valid()) {
    Fail(absl::DataLossError(absl::StrCat(reader_.name_, ": ", reader_.Where(m_, index_->micro[j_]),
                                          ": its last row is not the one the micro index names")));
    co_return status_;
  }
  Settle();
  co_return status_;
}

bool SstIterator::Next() {
  if (!valid_) return true;
  cursor_.Next();
  if (cursor_.Valid()) return Settle();
  // A failure returns false, like a block still to read: the caller's Load() returns the error.
  // (True would say "moved, and nothing follows", and a damaged block would end a scan early
  // with nothing said.)
  if (!cursor_.status().ok()) {
    Fail(Prefixed(cursor_.status(), absl::StrCat(reader_.name_, ": ", reader_.Where(m_, index_->micro[j_]))));
    return false;
  }
  valid_ = false;
  if (j_ + 1 < index_->micro.size()) {
    if (InBuffer(m_, j_ + 1)) {
      ++j_;
      if (!DecodeCurrent()) return false;
      Settle();
      return true;
    }
    need_load_ = true;
    return false;
  }
  if (m_ + 1 < reader_.metas_.size()) {
    need_load_ = true;
    return false;
  }
  return true;
}

Task<absl::Status> SstIterator::Load() {
  if (!need_load_) co_return status_;
  need_load_ = false;
  ++loads_since_seek_;
  if (j_ + 1 < index_->micro.size()) co_return co_await Enter(m_, j_ + 1);
  co_return co_await Enter(m_ + 1, 0);
}

Task<absl::Status> SstIterator::Advance() {
  if (!Next()) co_return co_await Load();
  co_return status_;
}

}  // namespace cairn::format

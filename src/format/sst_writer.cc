#include "src/format/sst_writer.h"

#include <algorithm>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "src/base/strings.h"
#include "src/base/check.h"
#include "src/base/status.h"
#include "src/format/block.h"
#include "src/format/sst_reader.h"

namespace cairn::format {

Task<absl::StatusOr<std::unique_ptr<SstWriter>>> SstWriter::Create(Disk& disk, std::string path,
                                                                    uint64_t file_id,
                                                                    SstOptions options) {
  CO_RETURN_IF_ERROR(options.Validate());
  if (file_id == 0) co_return absl::InvalidArgumentError("SSTable file id 0 is reserved");
  OpenOptions open{.create = true, .exclusive = true};
  absl::StatusOr<std::unique_ptr<File>> file = co_await disk.Open(path, open);
  if (!file.ok()) co_return file.status();
  co_return std::unique_ptr<SstWriter>(
      new SstWriter(std::move(*file), std::move(path), file_id, options));
}

absl::StatusOr<std::unique_ptr<SstWriter>> SstWriter::Create(std::unique_ptr<File> file, std::string name,
                                                             uint64_t file_id, SstOptions options) {
  RETURN_IF_ERROR(options.Validate());
  if (file_id == 0) return absl::InvalidArgumentError("SSTable file id 0 is reserved");
  CAIRN_CHECK(file != nullptr);
  return std::unique_ptr<SstWriter>(new SstWriter(std::move(file), std::move(name), file_id, options));
}

SstWriter::SstWriter(std::unique_ptr<File> file, std::string path, uint64_t file_id,
                     SstOptions options)
    : file_(std::move(file)),
      path_(std::move(path)),
      file_id_(file_id),
      options_(options),
      builder_(options_, codec_) {
  props_.file_id = file_id;
  props_.options = options_;
  props_.min_version = kMaxVersion;
}

SstWriter::~SstWriter() = default;

absl::Status SstWriter::CheckOrder(std::string_view key, uint64_t version, const char* what) const {
  if (have_last_ && CompareRowKeys(last_key_, last_version_, key, version) >= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, " (", absl::CHexEscape(AbslView(key.substr(0, 64))), ", version ", version,
        ") does not sort after the previous row (", absl::CHexEscape(AbslView(std::string_view(last_key_).substr(0, 64))),
        ", version ", last_version_, "): rows must ascend by key, then descend by version"));
  }
  return absl::OkStatus();
}

void SstWriter::NoteLast(std::string_view key, uint64_t version) {
  last_key_.assign(key);
  last_version_ = version;
  have_last_ = true;
}

absl::Status SstWriter::Add(const RowView& row) {
  if (!error_.ok()) return error_;
  CAIRN_CHECK_MSG(!finished_, "SstWriter::Add after Finish");
  CAIRN_CHECK_MSG(pending_.empty(), "SstWriter::Add with a sealed macroblock not yet written");
  if (!IsValidRowKind(static_cast<uint8_t>(row.kind))) {
    return absl::InvalidArgumentError("row kind is neither put nor delete");
  }
  if (row.key.size() + row.value.size() > options_.RowBytesMax()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "row of ", row.key.size() + row.value.size(), " bytes exceeds the largest row (",
        options_.RowBytesMax(), " bytes, half a macroblock) this SSTable can hold"));
  }
  RETURN_IF_ERROR(CheckOrder(row.key, row.version, "row"));
  const uint64_t key_hash = KeyHash(row.key);
  const bool new_key = !have_last_ || row.key != last_key_ || !builder_open_;
  if (!builder_open_) {
    builder_.Start(file_id_, static_cast<uint32_t>(metas_.size()));
    builder_open_ = true;
  }
  if (!builder_.TryAdd(row, key_hash, new_key)) {
    SealMacroblock();
    builder_.Start(file_id_, static_cast<uint32_t>(metas_.size()));
    builder_open_ = true;
    CAIRN_CHECK_MSG(builder_.TryAdd(row, key_hash, true), "a row that fits no empty macroblock");
  }
  NoteLast(row.key, row.version);
  return absl::OkStatus();
}

void SstWriter::SealMacroblock() {
  CAIRN_CHECK(builder_open_);
  MacroblockMeta meta;
  std::string block = builder_.Finish(&meta);
  builder_open_ = false;
  meta.offset = next_offset_;
  next_offset_ += block.size();
  if (pending_.empty()) {
    pending_ = std::move(block);
  } else {
    pending_.append(block);
  }
  metas_.push_back(std::move(meta));
}

Task<absl::Status> SstWriter::WritePending() {
  if (!error_.ok()) co_return error_;
  if (pending_.empty()) co_return absl::OkStatus();
  const size_t bytes = pending_.size();
  if (throttle_ != nullptr) co_await throttle_->Acquire(bytes);
  absl::Status s = co_await file_->Append(std::move(pending_));
  pending_.clear();
  if (!s.ok()) {
    error_ = absl::Status(s.code(), absl::StrCat("writing SSTable ", path_, ": ", s.message()));
    co_return error_;
  }
  // Start writing the bytes back now, so that Finish's Sync has little left to wait for. A
  // failed hint costs only that.
  (void)co_await file_->StartWriteback(written_, bytes);
  written_ += bytes;
  co_return absl::OkStatus();
}

Task<absl::Status> SstWriter::Append(const RowView& row) {
  CO_RETURN_IF_ERROR(Add(row));
  if (has_pending_writes()) co_return co_await WritePending();
  co_return absl::OkStatus();
}

Task<absl::Status> SstWriter::ReuseMacroblock(SstReader& source, size_t index) {
  if (!error_.ok()) co_return error_;
  CAIRN_CHECK_MSG(!finished_, "SstWriter::ReuseMacroblock after Finish");
  if (index >= source.macroblocks().size()) {
    co_return absl::InvalidArgumentError(absl::StrCat("macroblock ", index, " of ", source.name(),
                                                      " does not exist"));
  }
  const MacroblockMeta& src = source.macroblocks()[index];
  if (src.header.origin_file_id == file_id_) {
    co_return absl::InvalidArgumentError(
        absl::StrCat("cannot reuse a macroblock whose identity is this file's own id ", file_id_));
  }
  if (src.header.size > options_.macroblock_bytes) {
    co_return absl::InvalidArgumentError(absl::StrCat(
        "macroblock of ", src.header.size, " bytes exceeds this file's capacity ", options_.macroblock_bytes));
  }
  CO_RETURN_IF_ERROR(CheckOrder(src.first_key, src.first_version, "reused macroblock's first row"));
  // The open macroblock goes first, in a write of its own: a file store that cuts a file where
  // its writes fall (the DFS's chunks) then holds every macroblock whole, ready to be reused.
  if (builder_open_) SealMacroblock();
  CO_RETURN_IF_ERROR(co_await WritePending());
  MacroblockMeta meta = src;
  meta.offset = next_offset_;
  meta.reused = true;
  // File to file where the store can: no byte passes through here, and none is read or
  // checked, because the store's own end-to-end checks cover the copy (a DFS reference names
  // a sealed chunk by its checksum).
  absl::Status copied = co_await file_->AppendFrom(source.file(), src.offset, src.header.size);
  if (copied.ok()) {
    written_ += src.header.size;
    bytes_by_reference_ += src.header.size;
  } else if (absl::IsUnimplemented(copied)) {
    if (throttle_ != nullptr) co_await throttle_->Acquire(src.header.size);
    // Read and verified before they are copied, so a corrupt block is never propagated.
    absl::StatusOr<std::string> bytes = co_await source.ReadMacroblock(index);
    if (!bytes.ok()) co_return bytes.status();
    CAIRN_CHECK_EQ(bytes->size(), src.header.size);
    pending_.append(*bytes);
    CO_RETURN_IF_ERROR(co_await WritePending());
  } else {
    error_ = absl::Status(copied.code(), absl::StrCat("writing SSTable ", path_, ": ", copied.message()));
    co_return error_;
  }
  next_offset_ += src.header.size;
  metas_.push_back(std::move(meta));
  NoteLast(src.last_key, src.last_version);
  co_return absl::OkStatus();
}

Task<absl::StatusOr<SstProperties>> SstWriter::Finish() {
  if (!error_.ok()) co_return error_;
  CAIRN_CHECK_MSG(!finished_, "SstWriter::Finish twice");
  finished_ = true;
  if (builder_open_) SealMacroblock();
  CO_RETURN_IF_ERROR(co_await WritePending());

  // The properties follow from the macroblocks, reused or not.
  SstProperties& p = props_;
  const MacroblockMeta* previous = nullptr;
  for (const MacroblockMeta& m : metas_) {
    p.rows += m.header.rows;
    p.deletes += m.stats.deletes;
    p.distinct_keys += m.stats.distinct_keys;
    if (previous != nullptr && previous->last_key == m.first_key) --p.distinct_keys;
    p.key_bytes += m.stats.key_bytes;
    p.value_bytes += m.stats.value_bytes;
    p.min_version = std::min(p.min_version, m.header.min_version);
    p.max_version = std::max(p.max_version, m.header.max_version);
    p.microblocks += m.header.micro_count;
    p.reused_macroblocks += m.reused ? 1 : 0;
    p.data_bytes += m.header.size;
    p.micro_index_bytes += m.header.micro_index_size;
    p.bloom_bytes += m.header.bloom_size;
    p.logical.Merge(m.logical());
    for (int c = 0; c < kCompressionCount; ++c) p.codecs[c].Merge(m.codecs[c]);
    previous = &m;
  }
  p.macroblocks = metas_.size();
  if (p.rows == 0) p.min_version = 0;
  if (!metas_.empty()) {
    p.first_key = metas_.front().first_key;
    p.first_version = metas_.front().first_version;
    p.last_key = metas_.back().last_key;
    p.last_version = metas_.back().last_version;
  }

  Footer footer;
  footer.file_id = file_id_;
  footer.macroblock_capacity = options_.macroblock_bytes;
  footer.macroblock_count = metas_.size();
  footer.index_offset = next_offset_;
  std::string tail;
  SealBlock(BlockType::kFileIndex, 0, Compression::kNone, 0, EncodeFileIndex(metas_),
            BlockIdentity{file_id_, kFileLevel, footer.index_offset}, codec_, &tail);
  footer.index_size = static_cast<uint32_t>(tail.size());
  p.file_index_bytes = tail.size();
  footer.properties_offset = footer.index_offset + tail.size();
  SealBlock(BlockType::kProperties, 0, Compression::kNone, 0, p.Encode(),
            BlockIdentity{file_id_, kFileLevel, footer.properties_offset}, codec_, &tail);
  footer.properties_size = static_cast<uint32_t>(footer.index_offset + tail.size() - footer.properties_offset);
  tail.append(footer.Encode(footer.index_offset + tail.size()));
  pending_ = std::move(tail);
  CO_RETURN_IF_ERROR(co_await WritePending());
  absl::Status s = co_await file_->Sync();
  if (!s.ok()) {
    error_ = absl::Status(s.code(), absl::StrCat("syncing SSTable ", path_, ": ", s.message()));
    co_return error_;
  }
  co_return p;
}

Task<absl::StatusOr<SstProperties>> WriteSst(Disk& disk, std::string path, uint64_t file_id,
                                             SstOptions options, const std::vector<Row>* rows) {
  absl::StatusOr<std::unique_ptr<SstWriter>> w =
      co_await SstWriter::Create(disk, std::move(path), file_id, options);
  if (!w.ok()) co_return w.status();
  for (const Row& r : *rows) {
    const RowView v = r.view();
    CO_RETURN_IF_ERROR(co_await (*w)->Append(v));
  }
  co_return co_await (*w)->Finish();
}

}  // namespace cairn::format

#include "src/format/sst_verify.h"

#include <algorithm>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "src/base/strings.h"

namespace cairn::format {
namespace {

std::string ShowKey(std::string_view key, uint64_t version) {
  return absl::StrCat("(\"", absl::CHexEscape(AbslView(key.substr(0, 48))), key.size() > 48 ? "..." : "",
                      "\", ", version, ")");
}

class Verifier {
 public:
  explicit Verifier(SstReader& reader) : r_(reader) {}

  bool Problem(std::string message) {
    if (report_.problems.size() < kVerifyProblemsMax) report_.problems.push_back(std::move(message));
    return report_.problems.size() < kVerifyProblemsMax;
  }
  bool full() const { return report_.problems.size() >= kVerifyProblemsMax; }

  Task<void> Macroblock(size_t i) {
    const MacroblockMeta& meta = r_.macroblocks()[i];
    const MacroblockHeader& h = meta.header;
    const std::string where = absl::StrCat(r_.name(), ": ", r_.Where(i));
    // Read the bytes raw rather than through ReadMacroblock, so that a failed body checksum
    // does not stop the walk: the microblock checksums below then say exactly where.
    absl::StatusOr<std::string> bytes = co_await r_.ReadBytes(meta.offset, h.size);
    if (!bytes.ok() || bytes->size() != h.size) {
      Problem(absl::StrCat(where, ": cannot read ", h.size, " bytes: ",
                           bytes.ok() ? "short read" : bytes.status().message()));
      have_prev_ = false;
      co_return;
    }
    ++report_.macroblocks;
    report_.bytes += bytes->size();
    if (std::string_view(*bytes).substr(0, kMacroblockHeaderBytes) != meta.raw_header) {
      absl::StatusOr<MacroblockHeader> own = MacroblockHeader::Parse(*bytes, r_.footer().macroblock_capacity);
      Problem(absl::StrCat(where, ": header (file offset ", meta.offset, ", ", kMacroblockHeaderBytes,
                           " bytes) differs from the file index's copy",
                           own.ok() ? "" : absl::StrCat(": ", own.status().message())));
      if (full()) co_return;
    }
    if (absl::Status body = h.VerifyBody(*bytes); !body.ok()) {
      if (!Problem(absl::StrCat(where, ": ", body.message()))) co_return;
    }
    const std::string_view block = *bytes;
    std::string scratch;
    absl::StatusOr<std::string_view> index_payload =
        OpenBlock(block.substr(h.micro_index_offset, h.micro_index_size), h.identity(h.micro_index_offset),
                  BlockType::kMicroIndex, r_.codec(), &scratch);
    if (!index_payload.ok()) {
      Problem(absl::StrCat(where, ", micro index at macroblock offset ", h.micro_index_offset, ": ",
                           index_payload.status().message()));
      co_return;
    }
    absl::StatusOr<std::vector<MicroIndexEntry>> micro = DecodeMicroIndex(*index_payload, h);
    if (!micro.ok()) {
      Problem(absl::StrCat(where, ", micro index at macroblock offset ", h.micro_index_offset, ": ",
                           micro.status().message()));
      co_return;
    }
    std::optional<BloomFilter> bloom;
    if (h.bloom_size > 0) {
      std::string bloom_scratch;
      absl::StatusOr<std::string_view> payload =
          OpenBlock(block.substr(h.bloom_offset, h.bloom_size), h.identity(h.bloom_offset),
                    BlockType::kBloom, r_.codec(), &bloom_scratch);
      absl::StatusOr<BloomFilter> filter =
          payload.ok() ? BloomFilter::Parse(*payload) : absl::StatusOr<BloomFilter>(payload.status());
      if (!filter.ok()) {
        Problem(absl::StrCat(where, ", bloom filter at macroblock offset ", h.bloom_offset, ": ",
                             filter.status().message()));
      } else {
        bloom = *filter;
      }
    }

    CodecTable codecs{};
    MacroblockStats stats;
    LogicalChecksum logical;
    uint64_t min_version = kMaxVersion, max_version = 0;
    bool first = true;
    bool damaged = false;  // a microblock could not be read: its totals would only echo that
    std::string data_scratch;
    MicroblockCursor cursor;
    for (const MicroIndexEntry& e : *micro) {
      const std::string micro_where = absl::StrCat(r_.name(), ": ", r_.Where(i, e));
      BlockHeader bh;
      absl::StatusOr<std::string_view> payload =
          OpenBlock(block.substr(e.offset, e.size), h.identity(e.offset), BlockType::kData, r_.codec(),
                    &data_scratch, &bh);
      absl::Status s = payload.ok() ? cursor.Reset(*payload) : payload.status();
      if (!s.ok()) {
        if (!Problem(absl::StrCat(micro_where, ": ", s.message()))) co_return;
        have_prev_ = false;
        damaged = true;
        continue;
      }
      ++report_.microblocks;
      CodecCounts& c = codecs[static_cast<int>(bh.compression)];
      ++c.blocks;
      c.raw_bytes += bh.raw_size;
      c.stored_bytes += bh.stored_size;
      uint32_t rows = 0;
      for (cursor.SeekToFirst(); cursor.Valid(); cursor.Next()) {
        const RowView row = cursor.row();
        ++rows;
        const bool new_key = first || row.key != prev_key_;
        if (have_prev_ && CompareRowKeys(prev_key_, prev_version_, row.key, row.version) >= 0) {
          if (!Problem(absl::StrCat(micro_where, ", row ", rows - 1, ": ", ShowKey(row.key, row.version),
                                    " does not sort after ", ShowKey(prev_key_, prev_version_)))) {
            co_return;
          }
        }
        if (first) {
          first = false;
          if (row.key != meta.first_key || row.version != meta.first_version) {
            Problem(absl::StrCat(where, ": first row ", ShowKey(row.key, row.version),
                                 " is not the file index's ", ShowKey(meta.first_key, meta.first_version)));
          }
        }
        const uint64_t key_hash = KeyHash(row.key);
        if (new_key) {
          ++stats.distinct_keys;
          if (bloom.has_value()) {
            ++report_.bloom_probes;
            if (!bloom->MayContain(key_hash)) {
              if (!Problem(absl::StrCat(micro_where, ", row ", rows - 1, ": key ",
                                        ShowKey(row.key, row.version),
                                        " is not found through the macroblock's bloom filter"))) {
                co_return;
              }
            }
          }
        }
        if (row.kind == RowKind::kDelete) ++stats.deletes;
        stats.key_bytes += row.key.size();
        stats.value_bytes += row.value.size();
        logical.AddRowHash(RowHash(key_hash, row.version, row.kind, row.value));
        min_version = std::min(min_version, row.version);
        max_version = std::max(max_version, row.version);
        prev_key_.assign(row.key);
        prev_version_ = row.version;
        have_prev_ = true;
      }
      if (!cursor.status().ok()) {
        if (!Problem(absl::StrCat(micro_where, ", row ", rows, ": ", cursor.status().message()))) co_return;
        have_prev_ = false;
        damaged = true;
        continue;
      }
      if (rows != e.rows) {
        Problem(absl::StrCat(micro_where, ": holds ", rows, " rows, the micro index says ", e.rows));
      }
      if (have_prev_ && (prev_key_ != e.last_key || prev_version_ != e.last_version)) {
        Problem(absl::StrCat(micro_where, ": last row ", ShowKey(prev_key_, prev_version_),
                             " is not the micro index's ", ShowKey(e.last_key, e.last_version)));
      }
    }
    report_.rows += logical.rows;
    report_.logical.Merge(logical);
    if (damaged) {
      damaged_ = true;
      co_return;
    }
    auto differs = [&](std::string_view what, auto a, auto b) {
      if (a != b) Problem(absl::StrCat(where, ": ", AbslView(what), " is ", a, " by its rows, ", b, " by its metadata"));
    };
    differs("row count", logical.rows, h.rows);
    differs("logical checksum", absl::StrCat(absl::Hex(logical.sum)), absl::StrCat(absl::Hex(h.logical_sum)));
    differs("min version", min_version, h.min_version);
    differs("max version", max_version, h.max_version);
    differs("delete count", stats.deletes, meta.stats.deletes);
    differs("distinct key count", stats.distinct_keys, meta.stats.distinct_keys);
    differs("key bytes", stats.key_bytes, meta.stats.key_bytes);
    differs("value bytes", stats.value_bytes, meta.stats.value_bytes);
    for (int c = 0; c < kCompressionCount; ++c) {
      if (!(codecs[c] == meta.codecs[c])) {
        Problem(absl::StrCat(where, ": ", CompressionName(static_cast<Compression>(c)),
                             " block statistics differ from the file index's"));
      }
    }
  }

  Task<VerifyReport> Run(std::function<void(size_t, size_t)> progress) {
    const auto& metas = r_.macroblocks();
    for (size_t i = 0; i < metas.size() && !full(); ++i) {
      co_await Macroblock(i);
      if (progress) progress(i + 1, metas.size());
    }
    const SstProperties& p = r_.properties();
    if (!full() && !damaged_ && report_.macroblocks == metas.size()) {
      if (!(report_.logical == p.logical)) {
        Problem(absl::StrCat(r_.name(), ": the rows' logical checksum ", report_.logical.ToString(),
                             " differs from the properties' ", p.logical.ToString()));
      }
      if (report_.microblocks != p.microblocks) {
        Problem(absl::StrCat(r_.name(), ": ", report_.microblocks, " microblocks, the properties say ",
                             p.microblocks));
      }
    }
    co_return std::move(report_);
  }

 private:
  SstReader& r_;
  VerifyReport report_;
  bool have_prev_ = false;
  bool damaged_ = false;
  std::string prev_key_;
  uint64_t prev_version_ = 0;
};

}  // namespace

Task<VerifyReport> VerifySst(SstReader& reader, std::function<void(size_t, size_t)> progress) {
  Verifier v(reader);
  co_return co_await v.Run(std::move(progress));
}

}  // namespace cairn::format

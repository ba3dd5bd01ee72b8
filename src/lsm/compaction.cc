#include "src/lsm/compaction.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "src/base/check.h"
#include "src/base/status.h"
#include "src/format/sst_writer.h"

namespace cairn::lsm {
namespace {

using format::CompareRowKeys;
using format::MacroblockMeta;
using format::RowKind;
using format::RowView;
using format::SstIterator;
using format::SstReader;

// Iterators over every input, and the index of the one with the smallest row.
struct Inputs {
  std::vector<SstReader*> readers;
  std::vector<std::unique_ptr<SstIterator>> its;
  static constexpr size_t kNone = SIZE_MAX;

  Task<absl::Status> Start() {
    for (SstReader* r : readers) {
      its.push_back(r->NewIterator());
      CO_RETURN_IF_ERROR(co_await its.back()->SeekToFirst());
    }
    co_return absl::OkStatus();
  }
  size_t Smallest() const {
    size_t best = kNone;
    for (size_t i = 0; i < its.size(); ++i) {
      if (!its[i]->Valid()) continue;
      if (best == kNone) {
        best = i;
        continue;
      }
      const RowView a = its[i]->row();
      const RowView b = its[best]->row();
      const int c = CompareRowKeys(a.key, a.version, b.key, b.version);
      CAIRN_CHECK_MSG(c != 0, "two compaction inputs hold the same row version");
      if (c < 0) best = i;
    }
    return best;
  }
};

// Whether macroblock `meta` of input `from` can be copied whole (see compaction.h).
bool Reusable(const Inputs& in, size_t from, const MacroblockMeta& meta, const CompactionSpec& spec,
              bool have_key, const std::string& last_key, const format::SstOptions& options) {
  if (!spec.reuse_macroblocks || meta.header.size > options.macroblock_bytes) return false;
  if (meta.stats.distinct_keys != meta.header.rows) return false;
  if (spec.bottommost && meta.stats.deletes > 0) return false;
  if (have_key && std::string_view(last_key) >= std::string_view(meta.first_key)) return false;
  for (size_t i = 0; i < in.its.size(); ++i) {
    if (i == from || !in.its[i]->Valid()) continue;
    if (in.its[i]->row().key <= std::string_view(meta.last_key)) return false;
  }
  return true;
}

}  // namespace

Task<absl::StatusOr<CompactionOutput>> Compact(std::vector<SstReader*> inputs, CompactionSpec spec,
                                               FileStore& store, std::string name, uint64_t file_id,
                                               format::SstOptions options) {
  CompactionOutput out;
  Inputs in{.readers = inputs};
  for (SstReader* r : inputs) out.stats.input_bytes += r->file_size();
  CO_RETURN_IF_ERROR(co_await in.Start());
  std::string create_name = name;
  absl::StatusOr<std::unique_ptr<File>> file = co_await store.Create(std::move(create_name));
  if (!file.ok()) co_return file.status();
  absl::StatusOr<std::unique_ptr<format::SstWriter>> writer =
      format::SstWriter::Create(std::move(*file), name, file_id, options);
  if (!writer.ok()) co_return writer.status();
  format::SstWriter& w = **writer;

  // The key of the last row taken (written or dropped), and whether its newest row at or below
  // the snapshot has been seen: every older row of the key is then dropped.
  std::string key;
  bool have_key = false;
  bool seen_at_or_below = false;
  while (true) {
    const size_t i = in.Smallest();
    if (i == Inputs::kNone) break;
    SstIterator& it = *in.its[i];
    if (it.AtMacroblockStart()) {
      const size_t m = it.macroblock();
      const MacroblockMeta& meta = in.readers[i]->macroblocks()[m];
      if (Reusable(in, i, meta, spec, have_key, key, options)) {
        CO_RETURN_IF_ERROR(co_await w.ReuseMacroblock(*in.readers[i], m));
        ++out.stats.macroblocks_reused;
        out.stats.bytes_reused += meta.header.size;
        out.stats.rows_in += meta.header.rows;
        out.stats.rows_out += meta.header.rows;
        key = meta.last_key;
        have_key = true;
        seen_at_or_below = spec.snapshot != 0 && meta.last_version <= spec.snapshot;
        CO_RETURN_IF_ERROR(co_await it.SeekToMacroblock(m + 1));
        continue;
      }
    }
    const RowView row = it.row();
    ++out.stats.rows_in;
    if (!have_key || row.key != key) {
      key.assign(row.key);
      have_key = true;
      seen_at_or_below = false;
    }
    bool keep = true;
    if (spec.snapshot != 0 && row.version <= spec.snapshot) {
      if (seen_at_or_below) {
        keep = false;
      } else {
        seen_at_or_below = true;
        keep = !(spec.bottommost && row.kind == RowKind::kDelete);
      }
    }
    if (keep) {
      CO_RETURN_IF_ERROR(w.Add(row));
      ++out.stats.rows_out;
      if (w.has_pending_writes()) CO_RETURN_IF_ERROR(co_await w.WritePending());
    } else {
      ++out.stats.rows_dropped;
    }
    CO_RETURN_IF_ERROR(co_await it.Advance());
  }
  absl::StatusOr<format::SstProperties> props = co_await w.Finish();
  if (!props.ok()) co_return props.status();
  for (const MacroblockMeta& m : w.macroblocks()) {
    if (!m.reused) {
      ++out.stats.macroblocks_written;
      out.stats.bytes_written += m.header.size;
    }
  }
  out.properties = *props;
  CO_RETURN_IF_ERROR(co_await store.Seal(std::move(name)));
  CAIRN_CHECK_EQ(out.stats.rows_out, out.properties.rows);
  CAIRN_CHECK_EQ(out.stats.rows_in, out.stats.rows_out + out.stats.rows_dropped);
  co_return out;
}

Task<absl::StatusOr<format::LogicalChecksum>> ContentChecksum(std::vector<SstReader*> sources,
                                                              uint64_t version) {
  Inputs in{.readers = std::move(sources)};
  CO_RETURN_IF_ERROR(co_await in.Start());
  format::LogicalChecksum sum;
  std::string key;
  bool have_key = false;
  bool seen = false;
  while (true) {
    const size_t i = in.Smallest();
    if (i == Inputs::kNone) break;
    const RowView row = in.its[i]->row();
    if (!have_key || row.key != key) {
      key.assign(row.key);
      have_key = true;
      seen = false;
    }
    if (!seen && row.version <= version) {
      seen = true;
      if (row.kind == RowKind::kPut) sum.Add(row);
    }
    CO_RETURN_IF_ERROR(co_await in.its[i]->Advance());
  }
  co_return sum;
}

Task<absl::Status> VerifyCompaction(std::vector<SstReader*> inputs, SstReader* output, uint64_t snapshot) {
  std::vector<uint64_t> versions = {snapshot, format::kMaxVersion};
  for (const uint64_t version : versions) {
    if (version == 0) continue;
    absl::StatusOr<format::LogicalChecksum> before = co_await ContentChecksum(inputs, version);
    if (!before.ok()) co_return before.status();
    std::vector<SstReader*> outputs = {output};
    absl::StatusOr<format::LogicalChecksum> after = co_await ContentChecksum(std::move(outputs), version);
    if (!after.ok()) co_return after.status();
    if (*before != *after) {
      co_return absl::FailedPreconditionError(absl::StrCat(
          "compaction into ", output->name(), " changed the content visible at version ", version, ": inputs ",
          before->ToString(), ", output ", after->ToString()));
    }
  }
  co_return absl::OkStatus();
}

}  // namespace cairn::lsm

#include "src/lsm/compaction.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "src/base/check.h"
#include "src/base/status.h"
#include "src/format/sst_writer.h"
#include "src/lsm/row_stream.h"

namespace cairn::lsm {
namespace {

using format::MacroblockMeta;
using format::RowKind;
using format::RowView;
using format::SstReader;

// The merge of every input's rows; `streams[i]` is child i of `merge`.
struct Inputs {
  std::vector<SstStream*> streams;
  std::unique_ptr<MergingStream> merge;

  static Task<absl::StatusOr<Inputs>> Start(const std::vector<SstReader*>& readers,
                                            format::IoThrottle* throttle = nullptr) {
    Inputs in;
    std::vector<std::unique_ptr<RowStream>> children;
    for (SstReader* r : readers) {
      format::IteratorOptions io;
      io.throttle = throttle;
      io.sequential = true;
      auto s = std::make_unique<SstStream>(nullptr, *r, std::move(io));
      in.streams.push_back(s.get());
      children.push_back(std::move(s));
    }
    in.merge = std::make_unique<MergingStream>(std::move(children));
    CO_RETURN_IF_ERROR(co_await in.merge->SeekToFirst());
    co_return in;
  }
};

// Whether macroblock `meta` of input `from` can be copied whole (see compaction.h).
bool Reusable(const Inputs& in, size_t from, const MacroblockMeta& meta, const CompactionSpec& spec,
              const NewestAtOrBelow& taken, const format::SstOptions& options) {
  if (!spec.reuse_macroblocks || meta.header.size > options.macroblock_bytes) return false;
  if (meta.stats.distinct_keys != meta.header.rows) return false;
  if (spec.bottommost && meta.stats.deletes > 0) return false;
  if (!taken.Before(meta.first_key)) return false;
  const auto& children = in.merge->children();
  for (size_t i = 0; i < children.size(); ++i) {
    if (i == from || !children[i]->Valid()) continue;
    if (children[i]->row().key <= std::string_view(meta.last_key)) return false;
  }
  return true;
}

// Which input blocks are hot (in the warm cache), asked once per block as the merge enters it.
class HotBlocks {
 public:
  HotBlocks(const format::BlockCache* cache, size_t inputs) : cache_(cache), last_(inputs) {}
  bool IsHot(size_t input, const format::SstIterator& it) {
    if (cache_ == nullptr) return false;
    const format::BlockCacheKey key = format::BlockCacheKey::Of(it.block_identity());
    Last& last = last_[input];
    if (!last.valid || !(last.key == key)) last = Last{true, key, cache_->Contains(key)};
    return last.hot;
  }

 private:
  struct Last {
    bool valid = false;
    format::BlockCacheKey key;
    bool hot = false;
  };
  const format::BlockCache* cache_;
  std::vector<Last> last_;
};

}  // namespace

Task<absl::StatusOr<std::unique_ptr<format::SstWriter>>> CreateSst(FileStore& store, std::string name,
                                                                   uint64_t file_id, format::SstOptions options,
                                                                   format::IoThrottle* throttle) {
  std::string create_name = name;
  absl::StatusOr<std::unique_ptr<File>> file = co_await store.Create(std::move(create_name));
  if (!file.ok()) co_return file.status();
  absl::StatusOr<std::unique_ptr<format::SstWriter>> writer =
      format::SstWriter::Create(*std::move(file), std::move(name), file_id, options);
  if (writer.ok()) (*writer)->set_throttle(throttle);
  co_return writer;
}

Task<absl::StatusOr<format::SstProperties>> SealSst(format::SstWriter& writer, FileStore& store, std::string name) {
  absl::StatusOr<format::SstProperties> props = co_await writer.Finish();
  if (!props.ok()) co_return props.status();
  CO_RETURN_IF_ERROR(co_await store.Seal(std::move(name)));
  co_return props;
}

Task<absl::StatusOr<CompactionOutput>> Compact(std::vector<SstReader*> inputs, CompactionSpec spec,
                                               FileStore& store, std::string name, uint64_t file_id,
                                               format::SstOptions options, CompactionHooks hooks) {
  CompactionOutput out;
  for (SstReader* r : inputs) out.stats.input_bytes += r->file_size();
  absl::StatusOr<Inputs> in = co_await Inputs::Start(inputs, hooks.throttle);
  if (!in.ok()) co_return in.status();
  MergingStream& merge = *in->merge;
  absl::StatusOr<std::unique_ptr<format::SstWriter>> writer =
      co_await CreateSst(store, name, file_id, options, hooks.throttle);
  if (!writer.ok()) co_return writer.status();
  format::SstWriter& w = **writer;
  w.set_warm_cache(hooks.warm_cache);
  HotBlocks hot(hooks.warm_cache, inputs.size());
  YieldBudget yield(hooks.yield_every_bytes);

  // Per key, the newest row at or below the snapshot is kept (unless a bottommost delete) and
  // every older one dropped; rows above the snapshot are all kept. Snapshot 0 takes no row.
  NewestAtOrBelow taken(spec.snapshot);
  while (merge.Valid()) {
    const size_t i = merge.current();
    format::SstIterator& it = in->streams[i]->iterator();
    if (it.AtMacroblockStart()) {
      const size_t m = it.macroblock();
      const MacroblockMeta& meta = inputs[i]->macroblocks()[m];
      if (Reusable(*in, i, meta, spec, taken, options)) {
        CO_RETURN_IF_ERROR(co_await w.ReuseMacroblock(*inputs[i], m));
        ++out.stats.macroblocks_reused;
        out.stats.bytes_reused += meta.header.size;
        out.stats.rows_in += meta.header.rows;
        out.stats.rows_out += meta.header.rows;
        taken.SkipTo(meta.last_key, meta.last_version);
        CO_RETURN_IF_ERROR(co_await it.SeekToMacroblock(m + 1));
        merge.Refresh();
        continue;
      }
    }
    const RowView row = merge.row();
    ++out.stats.rows_in;
    const bool newest = taken.Take(row);
    const bool keep = row.version > spec.snapshot || (newest && !(spec.bottommost && row.kind == RowKind::kDelete));
    if (keep) {
      CO_RETURN_IF_ERROR(w.Add(row));
      if (hot.IsHot(i, it)) w.MarkHot();
      ++out.stats.rows_out;
      if (w.has_pending_writes()) CO_RETURN_IF_ERROR(co_await w.WritePending());
    } else {
      ++out.stats.rows_dropped;
    }
    if (yield.Spend(row.key.size() + row.value.size()) && hooks.executor != nullptr) {
      co_await hooks.executor->Yield();
    }
    if (!merge.Next()) CO_RETURN_IF_ERROR(co_await merge.Load());
  }
  absl::StatusOr<format::SstProperties> props = co_await SealSst(w, store, std::move(name));
  if (!props.ok()) co_return props.status();
  for (const MacroblockMeta& m : w.macroblocks()) {
    if (!m.reused) {
      ++out.stats.macroblocks_written;
      out.stats.bytes_written += m.header.size;
    }
  }
  out.properties = *props;
  out.stats.blocks_warmed = w.warmed_blocks();
  out.stats.bytes_reused_by_reference = w.bytes_by_reference();
  CAIRN_CHECK_EQ(out.stats.rows_out, out.properties.rows);
  CAIRN_CHECK_EQ(out.stats.rows_in, out.stats.rows_out + out.stats.rows_dropped);
  co_return out;
}

Task<absl::StatusOr<format::LogicalChecksum>> ContentChecksum(std::vector<SstReader*> sources,
                                                              uint64_t version) {
  absl::StatusOr<Inputs> in = co_await Inputs::Start(sources);
  if (!in.ok()) co_return in.status();
  MergingStream& merge = *in->merge;
  format::LogicalChecksum sum;
  NewestAtOrBelow visible(version);
  while (merge.Valid()) {
    const RowView row = merge.row();
    if (visible.Take(row) && row.kind == RowKind::kPut) sum.Add(row);
    if (!merge.Next()) CO_RETURN_IF_ERROR(co_await merge.Load());
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

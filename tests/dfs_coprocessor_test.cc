// The coprocessor's scan (src/dfs/coprocessor.h) against a model: random SSTables of a few
// versions per key, with deletes and values that are numbers or not, scanned with random
// ranges, prefixes, snapshots, predicates and aggregates; every answer must equal the model's,
// computed from the rows directly. And bad requests are refused, not crashed on.
#include <map>
#include <optional>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "src/base/random.h"
#include "src/dfs/coprocessor.h"
#include "src/format/sst_writer.h"
#include "src/runtime/mem_disk.h"
#include "src/runtime/run_inline.h"

namespace cairn::dfs {
namespace {

using format::Row;
using format::RowKind;

std::vector<Row> RandomRows(Random& rng) {
  std::vector<Row> rows;
  const int keys = 50 + static_cast<int>(rng.Uniform(400));
  for (int k = 0; k < keys; ++k) {
    const std::string key = absl::StrFormat("%c%04d", static_cast<char>('a' + rng.Uniform(3)), k);
    uint64_t version = 100 + rng.Uniform(50);
    for (int v = 0, n = 1 + static_cast<int>(rng.Uniform(3)); v < n && version > 0; ++v) {
      Row r{.key = key, .version = version, .kind = rng.Chance(0.15) ? RowKind::kDelete : RowKind::kPut};
      if (r.kind == RowKind::kPut) {
        r.value = rng.Chance(0.8) ? std::to_string(rng.UniformRange(-1000, 1000)) : absl::StrFormat("text %d", k);
      }
      rows.push_back(std::move(r));
      version -= 1 + rng.Uniform(40);
    }
  }
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
    return a.key != b.key ? a.key < b.key : a.version > b.version;
  });
  rows.erase(std::unique(rows.begin(), rows.end(),
                         [](const Row& a, const Row& b) { return a.key == b.key && a.version == b.version; }),
             rows.end());
  return rows;
}

ScanReply Model(const std::vector<Row>& rows, const ScanRequest& r) {
  ScanReply out;
  const uint64_t snapshot = r.snapshot() == 0 ? format::kMaxVersion : r.snapshot();
  std::map<std::string, const Row*> visible;  // per key, the newest row at or below the snapshot
  for (const Row& row : rows) {
    if (row.key < r.from() || (r.has_to() && row.key >= r.to()) || !row.key.starts_with(r.prefix())) continue;
    if (row.version <= snapshot && !visible.contains(row.key)) visible[row.key] = &row;
  }
  for (const auto& [key, row] : visible) {
    if (row->kind != RowKind::kPut) continue;
    int64_t n = 0;
    const bool numeric = absl::SimpleAtoi(row->value, &n);
    if (r.predicate() == ScanRequest::VALUE_CONTAINS && row->value.find(r.contains()) == std::string::npos) continue;
    if (r.predicate() == ScanRequest::VALUE_INT_RANGE && !(numeric && n >= r.int_min() && n <= r.int_max())) continue;
    out.set_rows_matched(out.rows_matched() + 1);
    if (r.aggregate() == ScanRequest::ROWS) {
      if (static_cast<uint32_t>(out.rows_size()) < r.limit()) {
        ScanRow* s = out.add_rows();
        s->set_key(row->key);
        s->set_version(row->version);
        s->set_value(row->value);
      } else {
        out.set_truncated(true);  // and the scan stops there
        break;
      }
    } else if (r.aggregate() != ScanRequest::COUNT) {
      if (!numeric) {
        out.set_not_numeric(out.not_numeric() + 1);
        continue;
      }
      out.set_sum(out.sum() + n);
      out.set_min(out.has_min_max() ? std::min(out.min(), n) : n);
      out.set_max(out.has_min_max() ? std::max(out.max(), n) : n);
      out.set_has_min_max(true);
    }
  }
  return out;
}

TEST(Coprocessor, ScansAgreeWithAModel) {
  Random rng(20261207);
  int compared = 0;
  for (int file = 0; file < 12; ++file) {
    MemDisk disk;
    const std::vector<Row> rows = RandomRows(rng);
    format::SstOptions options;
    options.microblock_bytes = 4096;
    options.macroblock_bytes = 64 << 10;
    ASSERT_TRUE(RunInline(format::WriteSst(disk, "t.sst", 7, options, &rows)).ok());
    absl::StatusOr<std::unique_ptr<File>> f = RunInline(disk.Open("t.sst", OpenOptions{}));
    ASSERT_TRUE(f.ok());
    const uint64_t size = *RunInline((*f)->Size());
    for (int q = 0; q < 40; ++q) {
      ScanRequest r;
      r.set_length(size);
      r.add_chunks()->set_length(static_cast<uint32_t>(size));
      if (rng.Chance(0.5)) r.set_from(absl::StrFormat("%c%04d", static_cast<char>('a' + rng.Uniform(3)), rng.Uniform(400)));
      if (rng.Chance(0.4)) {
        r.set_to(r.from() + "~");
        r.set_has_to(true);
      }
      if (rng.Chance(0.3)) r.set_prefix(std::string(1, static_cast<char>('a' + rng.Uniform(3))));
      if (rng.Chance(0.4)) r.set_snapshot(90 + rng.Uniform(60));
      const uint64_t p = rng.Uniform(3);
      if (p == 1) {
        r.set_predicate(ScanRequest::VALUE_CONTAINS);
        r.set_contains(rng.Chance(0.5) ? "text" : "5");
      } else if (p == 2) {
        r.set_predicate(ScanRequest::VALUE_INT_RANGE);
        r.set_int_min(rng.UniformRange(-1000, 0));
        r.set_int_max(rng.UniformRange(0, 1000));
      }
      r.set_aggregate(static_cast<ScanRequest::Aggregate>(rng.Uniform(5)));
      r.set_limit(1 + static_cast<uint32_t>(rng.Uniform(50)));
      absl::StatusOr<ScanReply> got = RunInline(ScanSst(**f, "t.sst", r));
      ASSERT_TRUE(got.ok()) << got.status() << " for " << r.ShortDebugString();
      const ScanReply want = Model(rows, r);
      EXPECT_EQ(got->rows_matched(), want.rows_matched()) << r.ShortDebugString();
      EXPECT_EQ(got->sum(), want.sum()) << r.ShortDebugString();
      EXPECT_EQ(got->has_min_max(), want.has_min_max()) << r.ShortDebugString();
      if (want.has_min_max()) {
        EXPECT_EQ(got->min(), want.min()) << r.ShortDebugString();
        EXPECT_EQ(got->max(), want.max()) << r.ShortDebugString();
      }
      EXPECT_EQ(got->not_numeric(), want.not_numeric()) << r.ShortDebugString();
      EXPECT_EQ(got->truncated(), want.truncated()) << r.ShortDebugString();
      ASSERT_EQ(got->rows_size(), want.rows_size()) << r.ShortDebugString();
      for (int i = 0; i < want.rows_size(); ++i) {
        EXPECT_EQ(got->rows(i).key(), want.rows(i).key());
        EXPECT_EQ(got->rows(i).version(), want.rows(i).version());
        EXPECT_EQ(got->rows(i).value(), want.rows(i).value());
      }
      ++compared;
    }
  }
  EXPECT_EQ(compared, 12 * 40);
}

TEST(Coprocessor, RefusesBadRequests) {
  ScanRequest none;
  EXPECT_EQ(ValidateScan(none).code(), absl::StatusCode::kInvalidArgument);  // no chunks
  ScanRequest r;
  r.set_length(10);
  r.add_chunks()->set_length(9);
  EXPECT_EQ(ValidateScan(r).code(), absl::StatusCode::kInvalidArgument);  // lengths disagree
  r.set_length(9);
  EXPECT_TRUE(ValidateScan(r).ok());
  r.set_from("b");
  r.set_to("a");
  r.set_has_to(true);
  EXPECT_EQ(ValidateScan(r).code(), absl::StatusCode::kInvalidArgument);  // empty range
  r.set_has_to(false);
  r.set_aggregate(ScanRequest::ROWS);
  r.set_limit(0);
  EXPECT_EQ(ValidateScan(r).code(), absl::StatusCode::kInvalidArgument);
  r.set_limit(kScanRowsMax + 1);
  EXPECT_EQ(ValidateScan(r).code(), absl::StatusCode::kInvalidArgument);
  r.set_limit(10);
  r.set_predicate(ScanRequest::VALUE_INT_RANGE);
  r.set_int_min(5);
  r.set_int_max(4);
  EXPECT_EQ(ValidateScan(r).code(), absl::StatusCode::kInvalidArgument);
  // A chunk named twice (a request could make a server read one chunk over and over), or on
  // more servers than a scan tries.
  ScanRequest twice;
  twice.set_length(2);
  for (int i = 0; i < 2; ++i) {
    FileChunkProto* c = twice.add_chunks();
    c->set_length(1);
    c->mutable_id()->set_file(9);
  }
  EXPECT_EQ(ValidateScan(twice).code(), absl::StatusCode::kInvalidArgument);
  twice.mutable_chunks(1)->mutable_id()->set_index(1);
  EXPECT_TRUE(ValidateScan(twice).ok());
  for (int i = 0; i <= kScanServersPerChunkMax; ++i) twice.mutable_chunks(0)->add_servers(static_cast<uint32_t>(i));
  EXPECT_EQ(ValidateScan(twice).code(), absl::StatusCode::kInvalidArgument);
}

TEST(Coprocessor, ASumThatOverflowsIsAnError) {
  MemDisk disk;
  const std::vector<Row> rows = {{.key = "a", .version = 1, .value = std::to_string(INT64_MAX)},
                                 {.key = "b", .version = 1, .value = "1"}};
  ASSERT_TRUE(RunInline(format::WriteSst(disk, "t.sst", 7, format::SstOptions{}, &rows)).ok());
  absl::StatusOr<std::unique_ptr<File>> f = RunInline(disk.Open("t.sst", OpenOptions{}));
  ScanRequest r;
  r.set_length(*RunInline((*f)->Size()));
  r.add_chunks()->set_length(static_cast<uint32_t>(r.length()));
  r.set_aggregate(ScanRequest::SUM);
  EXPECT_EQ(RunInline(ScanSst(**f, "t.sst", r)).status().code(), absl::StatusCode::kOutOfRange);
  r.set_aggregate(ScanRequest::MAX);
  absl::StatusOr<ScanReply> max = RunInline(ScanSst(**f, "t.sst", r));
  ASSERT_TRUE(max.ok()) << max.status();
  EXPECT_EQ(max->max(), INT64_MAX);
}

}  // namespace
}  // namespace cairn::dfs

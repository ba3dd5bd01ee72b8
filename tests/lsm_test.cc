// The shard engine's parts: memtable, write batch, manifest, local journal, compaction, and the
// engine itself on the simulated disk.
#include <map>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "sim/core/world.h"
#include "tests/sim_program.h"
#include "src/base/status.h"
#include "src/format/sst_writer.h"
#include "src/lsm/compaction.h"
#include "src/lsm/engine.h"
#include "src/lsm/file_store.h"
#include "src/storage/segmented_log.h"
#include "src/lsm/manifest.h"
#include "src/lsm/memtable.h"
#include "src/lsm/write_batch.h"
#include "src/runtime/mem_disk.h"
#include "src/runtime/run_inline.h"

namespace cairn::lsm {
namespace {

using format::Row;
using format::RowKind;
using KeyValues = std::map<std::string, std::string>;

using testing::OnSim;

TEST(Memtable, GetsTheNewestRowAtASnapshot) {
  Memtable m(1);
  m.Add("a", 1, RowKind::kPut, "a1");
  m.Add("b", 2, RowKind::kPut, "b2");
  m.Add("a", 3, RowKind::kDelete, "");
  m.Add("a", 4, RowKind::kPut, "a4");
  m.Add("a", 4, RowKind::kPut, "a4'");  // a batch writing a key twice: the later wins
  EXPECT_EQ(m.Get("a", 4)->value, "a4'");
  EXPECT_EQ(m.Get("a", 3)->kind, RowKind::kDelete);
  EXPECT_EQ(m.Get("a", 2)->value, "a1");
  EXPECT_FALSE(m.Get("a", 0).has_value());
  EXPECT_FALSE(m.Get("c", 10).has_value());
  EXPECT_FALSE(m.Get("b", 1).has_value());
  std::vector<std::pair<std::string, uint64_t>> order;
  for (auto it = m.begin(); it != m.end(); ++it) order.emplace_back(it->first.key, it->first.version);
  EXPECT_EQ(order, (std::vector<std::pair<std::string, uint64_t>>{{"a", 4}, {"a", 3}, {"a", 1}, {"b", 2}}));
  EXPECT_EQ(m.rows(), 4u);
  EXPECT_EQ(m.min_version(), 1u);
  EXPECT_EQ(m.max_version(), 4u);
}

TEST(WriteBatch, RoundTripsAndRejectsDamage) {
  WriteBatch b;
  b.Put("k", "v").Delete("gone").Put(std::string("\0x", 2), std::string(300, 'z'));
  const std::string enc = b.Encode();
  absl::StatusOr<WriteBatch> d = WriteBatch::Decode(enc);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->writes(), b.writes());
  for (size_t cut = 0; cut < enc.size(); ++cut) {
    EXPECT_FALSE(WriteBatch::Decode(enc.substr(0, cut)).ok()) << cut;
  }
  std::string bad_kind = enc;
  bad_kind[1] = 9;
  EXPECT_FALSE(WriteBatch::Decode(bad_kind).ok());
}

TEST(Manifest, RoundTripsAndRejectsDamage) {
  ManifestState s;
  s.next_file_number = 9;
  s.flushed_position = 1234;
  s.retained_floor = 1000;
  s.files = {FileMeta{8, Level::kMini, 1100, 1234, 4096, 10}, FileMeta{5, Level::kMajor, 1, 1000, 1 << 20, 999}};
  const std::string enc = EncodeManifest(s);
  absl::StatusOr<ManifestState> d = DecodeManifest(enc);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(*d, s);
  for (size_t i = 0; i < enc.size(); ++i) {
    std::string bad = enc;
    bad[i] ^= 0x10;
    EXPECT_FALSE(DecodeManifest(bad).ok()) << "flip at " << i;
  }
  EXPECT_FALSE(DecodeManifest(enc.substr(0, enc.size() - 1)).ok());
}

TEST(SegmentedLog, AppendsReadsTrimsAndRecovers) {
  OnSim(3, [](Runtime& rt) -> Task<void> {
    storage::SegmentedLogOptions o{.segment_bytes_max = 1000};
    {
      auto j = co_await storage::SegmentedLog::Open(rt.disk(), rt.executor(), "j", o);
      EXPECT_TRUE(j.ok()) << j.status();
      if (!j.ok()) co_return;
      for (int i = 1; i <= 100; ++i) {
        absl::StatusOr<uint64_t> p = co_await (*j)->Append(absl::StrCat("record-", i));
        EXPECT_TRUE(p.ok() && *p == static_cast<uint64_t>(i));
      }
      auto recs = co_await (*j)->Read(40, 200);
      EXPECT_TRUE(recs.ok());
      EXPECT_FALSE(recs->empty());
      EXPECT_EQ(recs->front().position, 40u);
      EXPECT_EQ(recs->front().payload, "record-40");
      EXPECT_TRUE((co_await (*j)->Trim(50)).ok());
      EXPECT_GT((*j)->start(), 1u);
      EXPECT_LE((*j)->start(), 50u);
      EXPECT_GT((*j)->stats().segments_trimmed, 0u);
      EXPECT_EQ((co_await (*j)->Read(1, 100)).status().code(), absl::StatusCode::kOutOfRange);
    }
    auto j = co_await storage::SegmentedLog::Open(rt.disk(), rt.executor(), "j", o);
    EXPECT_TRUE(j.ok()) << j.status();
    if (!j.ok()) co_return;
    EXPECT_EQ((*j)->next_position(), 101u);
    uint64_t next = 50;
    while (true) {
      auto recs = co_await (*j)->Read(next, 300);
      EXPECT_TRUE(recs.ok());
      if (!recs.ok() || recs->empty()) break;
      for (const JournalRecord& r : *recs) {
        EXPECT_EQ(r.position, next);
        EXPECT_EQ(r.payload, absl::StrCat("record-", next));
        ++next;
      }
    }
    EXPECT_EQ(next, 101u);
    EXPECT_EQ(*co_await (*j)->Append("after"), 101u);
  });
}

// The rewritable log the Raft storage needs: batches, truncation of a suffix, and a reset to
// a new start, each surviving a reopen.
TEST(SegmentedLog, AppendsBatchesTruncatesAndResets) {
  OnSim(4, [](Runtime& rt) -> Task<void> {
    storage::SegmentedLogOptions o{.segment_bytes_max = 400};  // 14 records of ~30 bytes
    {
      auto j = co_await storage::SegmentedLog::Open(rt.disk(), rt.executor(), "r", o);
      EXPECT_TRUE(j.ok()) << j.status();
      if (!j.ok()) co_return;
      std::vector<std::string> batch;
      for (int i = 1; i <= 40; ++i) batch.push_back(absl::StrCat("rec-", i));
      EXPECT_EQ(*co_await (*j)->AppendBatch(std::move(batch)), 40u);
      const uint64_t syncs_before = (*j)->stats().group_writes;
      std::vector<std::string> more = {"41", "42", "43"};
      EXPECT_EQ(*co_await (*j)->AppendBatch(std::move(more)), 43u);
      EXPECT_EQ((*j)->stats().group_writes, syncs_before + 1);  // one write, one sync
      // Truncate into an earlier segment: later segments go, the position is reused.
      EXPECT_TRUE((co_await (*j)->TruncateFrom(12)).ok());
      EXPECT_EQ((*j)->next_position(), 12u);
      EXPECT_EQ(*co_await (*j)->Append("new-12"), 12u);
    }
    {
      auto j = co_await storage::SegmentedLog::Open(rt.disk(), rt.executor(), "r", o);
      EXPECT_TRUE(j.ok()) << j.status();
      if (!j.ok()) co_return;
      EXPECT_EQ((*j)->next_position(), 13u);
      auto recs = co_await (*j)->Read(11, 1000);
      EXPECT_TRUE(recs.ok());
      EXPECT_EQ(recs->size(), 2u);
      EXPECT_EQ(recs->back().payload, "new-12");
      // Reset: everything goes, the journal starts over at 500.
      EXPECT_TRUE((co_await (*j)->Reset(500)).ok());
      EXPECT_EQ((*j)->start(), 500u);
      EXPECT_EQ(*co_await (*j)->Append("at-500"), 500u);
    }
    auto j = co_await storage::SegmentedLog::Open(rt.disk(), rt.executor(), "r", o);
    EXPECT_TRUE(j.ok()) << j.status();
    if (!j.ok()) co_return;
    EXPECT_EQ((*j)->start(), 500u);
    EXPECT_EQ((*j)->next_position(), 501u);
    EXPECT_EQ((co_await (*j)->Read(500, 100))->front().payload, "at-500");
  });
}

TEST(SegmentedLog, GroupCommitsConcurrentAppends) {
  OnSim(4, [](Runtime& rt) -> Task<void> {
    auto j = co_await storage::SegmentedLog::Open(rt.disk(), rt.executor(), "j");
    EXPECT_TRUE(j.ok());
    if (!j.ok()) co_return;
    TaskGroup group(rt.executor());
    std::vector<uint64_t> positions;
    int finished = 0;
    for (int i = 0; i < 64; ++i) {
      group.Spawn([](storage::SegmentedLog* jr, std::vector<uint64_t>* out, int* fin, int i) -> Task<void> {
        absl::StatusOr<uint64_t> p = co_await jr->Append(absl::StrCat("c", i));
        EXPECT_TRUE(p.ok());
        if (p.ok()) out->push_back(*p);
        ++*fin;
      }(j->get(), &positions, &finished, i));
    }
    while (finished < 64) co_await rt.Sleep(std::chrono::milliseconds(1));
    // Every position once, and many appends share a write and a sync.
    std::sort(positions.begin(), positions.end());
    std::vector<uint64_t> expected(64);
    for (int i = 0; i < 64; ++i) expected[i] = i + 1;
    EXPECT_EQ(positions, expected);
    EXPECT_LT((*j)->stats().group_writes, 16u);
  });
}

TEST(SegmentedLog, TruncatesATornTailAndRefusesDamageInside) {
  std::string seg;
  for (int i = 1; i <= 5; ++i) storage::AppendLogRecord(i, absl::StrCat("r", i), &seg);
  const size_t record_bytes = seg.size() / 5;
  for (const bool tail : {true, false}) {
    OnSim(5, [&](Runtime& rt) -> Task<void> {
      EXPECT_TRUE((co_await rt.disk().CreateDir("j")).ok());
      auto f = co_await rt.disk().Open("j/00000000000000000001.log", OpenOptions{.create = true});
      std::string bytes = seg;
      // A torn last record, or a flipped byte in the second.
      if (tail) {
        bytes.resize(bytes.size() - 3);
      } else {
        bytes[record_bytes + 17] ^= 1;
      }
      EXPECT_TRUE((co_await (*f)->Write(0, bytes)).ok());
      EXPECT_TRUE((co_await (*f)->Sync()).ok());
      auto j = co_await storage::SegmentedLog::Open(rt.disk(), rt.executor(), "j");
      if (tail) {
        EXPECT_TRUE(j.ok()) << j.status();
        if (!j.ok()) co_return;
        EXPECT_EQ((*j)->next_position(), 5u);
        EXPECT_GT((*j)->stats().truncated_tail_bytes, 0u);
      } else {
        // Intact records follow the damage: acknowledged records were lost, not a torn tail.
        EXPECT_EQ(j.status().code(), absl::StatusCode::kDataLoss) << j.status();
      }
    });
  }
  OnSim(6, [&](Runtime& rt) -> Task<void> {
    EXPECT_TRUE((co_await rt.disk().CreateDir("j")).ok());
    std::string bad = seg;
    bad[record_bytes + 17] ^= 1;
    auto f1 = co_await rt.disk().Open("j/00000000000000000001.log", OpenOptions{.create = true});
    EXPECT_TRUE((co_await (*f1)->Write(0, bad)).ok());
    std::string next;
    storage::AppendLogRecord(6, "r6", &next);
    auto f2 = co_await rt.disk().Open("j/00000000000000000006.log", OpenOptions{.create = true});
    EXPECT_TRUE((co_await (*f2)->Write(0, next)).ok());
    auto j = co_await storage::SegmentedLog::Open(rt.disk(), rt.executor(), "j");
    EXPECT_EQ(j.status().code(), absl::StatusCode::kDataLoss) << j.status();
  });
}

// With preallocate_bytes the log writes zeros ahead of its records, so that most syncs flush
// data alone. Recovery takes an all-zero tail for unused space, in any segment (with the
// option on or off); a torn write into it is still cut off, garbage in a closed segment's
// unused space costs no record, and a rotted last record keeps its place.
TEST(SegmentedLog, WritesZerosAheadAndTakesThemForUnusedSpace) {
  OnSim(9, [](Runtime& rt) -> Task<void> {
    const storage::SegmentedLogOptions ahead{.segment_bytes_max = 2000, .preallocate_bytes = 1000};
    auto open = [&rt](storage::SegmentedLogOptions o) { return storage::SegmentedLog::Open(rt.disk(), rt.executor(), "j", o); };
    auto read_all = [](storage::SegmentedLog& j) -> Task<std::vector<std::string>> {
      std::vector<std::string> out;
      for (uint64_t next = j.start();;) {
        auto recs = co_await j.Read(next, 1 << 20);
        EXPECT_TRUE(recs.ok()) << recs.status();
        if (!recs.ok() || recs->empty()) break;
        for (const storage::LogRecord& r : *recs) out.push_back(r.payload);
        next = recs->back().position + 1;
      }
      co_return out;
    };
    std::vector<std::string> expected;
    {
      auto j = co_await open(ahead);
      CAIRN_CHECK_OK(j.status());
      for (int i = 1; i <= 100; ++i) {
        expected.push_back(absl::StrCat("record-", i));
        EXPECT_EQ(*co_await (*j)->Append(expected.back()), static_cast<uint64_t>(i));
      }
      EXPECT_GT((*j)->segment_count(), 1u);
    }
    auto names = co_await rt.disk().List("j");
    CAIRN_CHECK_OK(names.status());
    auto last = co_await rt.disk().Open("j/" + names->back(), OpenOptions{});
    CAIRN_CHECK_OK(last.status());
    const uint64_t last_size = *co_await (*last)->Size();
    auto bytes = co_await (*last)->Read(0, last_size);
    CAIRN_CHECK_OK(bytes.status());
    const size_t records_end = bytes->find_last_not_of('\0') + 1;
    EXPECT_GT(last_size, records_end + 500) << "zeros written ahead";
    // Reopened, with the option or without: every record, nothing cut, appends go on in place.
    for (const bool with_option : {true, false}) {
      auto j = co_await open(with_option ? ahead : storage::SegmentedLogOptions{.preallocate_bytes = 0});
      CAIRN_CHECK_OK(j.status());
      EXPECT_EQ((*j)->next_position(), 101u);
      EXPECT_EQ((*j)->stats().truncated_tail_bytes, 0u);
      EXPECT_EQ(co_await read_all(**j), expected);
    }
    EXPECT_EQ(*co_await (*last)->Size(), last_size);
    // A torn write into the unused space: half a record after the last. Cut off.
    std::string record;
    storage::AppendLogRecord(101, "record-101-torn", &record);
    CAIRN_CHECK_OK(co_await (*last)->Write(records_end, record.substr(0, record.size() / 2)));
    {
      auto j = co_await open(ahead);
      CAIRN_CHECK_OK(j.status());
      EXPECT_EQ((*j)->next_position(), 101u);
      EXPECT_GT((*j)->stats().truncated_tail_bytes, 0u);
      expected.push_back("record-101");
      EXPECT_EQ(*co_await (*j)->Append(expected.back()), 101u);
      EXPECT_EQ(co_await read_all(**j), expected);
    }
    // Space written ahead stops at the segment size, so a closed segment ends at its last
    // record. Should one hold unused space (a segment size since lowered) and that space rot,
    // nothing is lost: the next segment starts where its records end. Opens, tolerating
    // damage or not.
    auto first = co_await rt.disk().Open("j/" + names->front(), OpenOptions{});
    CAIRN_CHECK_OK(first.status());
    const uint64_t first_size = *co_await (*first)->Size();
    EXPECT_NE((*co_await (*first)->Read(first_size - 1, 1))[0], '\0') << "a closed segment ends at its last record";
    CAIRN_CHECK_OK(co_await (*first)->Write(first_size, std::string(700, '\0') + "\x5a" + std::string(300, '\0')));
    for (const bool tolerate : {false, true}) {
      storage::SegmentedLogOptions o = ahead;
      o.tolerate_damage = tolerate;
      auto j = co_await open(o);
      CAIRN_CHECK_OK(j.status());
      EXPECT_TRUE((*j)->damaged().empty());
      EXPECT_EQ(co_await read_all(**j), expected);
    }
    // The last record rotted in place, zeros after it: kept, and the next append goes right
    // behind it (not after the unused space).
    {
      auto j = co_await open(ahead);
      CAIRN_CHECK_OK(j.status());
      j->reset();
    }
    names = co_await rt.disk().List("j");
    last = co_await rt.disk().Open("j/" + names->back(), OpenOptions{});
    bytes = co_await (*last)->Read(0, *co_await (*last)->Size());
    const size_t end = bytes->find_last_not_of('\0');
    CAIRN_CHECK_OK(co_await (*last)->Write(end, std::string(1, static_cast<char>((*bytes)[end] ^ 0x01))));
    storage::SegmentedLogOptions tolerant = ahead;
    tolerant.tolerate_damage = true;
    {
      auto j = co_await open(tolerant);
      CAIRN_CHECK_OK(j.status());
      EXPECT_EQ((*j)->stats().damaged_tail_position, 101u);
      EXPECT_EQ(*co_await (*j)->Append("record-101-again"), 101u);
    }
    auto j = co_await open(tolerant);
    CAIRN_CHECK_OK(j.status());
    EXPECT_EQ((*j)->next_position(), 102u);
    expected.back() = "record-101-again";
    EXPECT_EQ(co_await read_all(**j), expected);
    const uint64_t size_after = *co_await (*last)->Size();
    EXPECT_EQ(size_after, bytes->size()) << "the append went into the unused space";
  });
}

// Opens the segmented log in "j", tolerating damage, after writing `image` as its first
// segment (when given).
Task<absl::StatusOr<std::unique_ptr<storage::SegmentedLog>>> OpenTolerant(Runtime& rt, std::string image = "") {
  if (!image.empty()) {
    CAIRN_CHECK_OK(co_await rt.disk().CreateDir("j"));
    auto f = co_await rt.disk().Open("j/00000000000000000001.log", OpenOptions{.create = true});
    CAIRN_CHECK_OK(f.status());
    CAIRN_CHECK_OK(co_await (*f)->Write(0, std::move(image)));
    CAIRN_CHECK_OK(co_await (*f)->Sync());
  }
  co_return co_await storage::SegmentedLog::Open(rt.disk(), rt.executor(), "j",
                                                 storage::SegmentedLogOptions{.tolerate_damage = true});
}

// A write misdirected a few sectors forward lands behind the writes that went in place after
// it, even behind the last record: recovery (tolerating damage) still finds it there, and does
// not cut it off as a torn tail.
TEST(SegmentedLog, FindsARecordAMisdirectedWritePutBehindLaterOnes) {
  std::string r[6];
  for (int i = 1; i <= 5; ++i) storage::AppendLogRecord(i, absl::StrCat("record-", i), &r[i]);
  std::string bytes = r[1] + r[2] + std::string(r[3].size(), '\0') + r[4] + r[5];
  bytes += std::string(1024, '\0') + r[3];
  OnSim(7, [&](Runtime& rt) -> Task<void> {
    auto j = co_await OpenTolerant(rt, bytes);
    EXPECT_TRUE(j.ok()) << j.status();
    if (!j.ok()) co_return;
    EXPECT_EQ((*j)->next_position(), 6u);
    EXPECT_TRUE((*j)->damaged().empty());
    EXPECT_EQ((*j)->stats().truncated_tail_bytes, 0u);
    auto read = co_await (*j)->Read(1, 1 << 20);
    EXPECT_TRUE(read.ok()) << read.status();
    if (!read.ok()) co_return;
    EXPECT_EQ(read->size(), 5u);
    for (size_t i = 0; i < read->size(); ++i) EXPECT_EQ((*read)[i].payload, absl::StrCat("record-", i + 1));
    // Cutting from 4 keeps 3, which sits behind 4 and 5; they must not come back.
    EXPECT_TRUE((co_await (*j)->TruncateFrom(4)).ok());
    EXPECT_EQ(*co_await (*j)->Append("record-4-again"), 4u);
    j->reset();
    auto reopened = co_await OpenTolerant(rt);
    EXPECT_TRUE(reopened.ok()) << reopened.status();
    if (!reopened.ok()) co_return;
    EXPECT_EQ((*reopened)->next_position(), 5u);
    auto again = co_await (*reopened)->Read(1, 1 << 20);
    EXPECT_TRUE(again.ok()) << again.status();
    EXPECT_EQ(again.ok() ? again->size() : 0u, 4u);
    if (again.ok() && again->size() == 4) {
      EXPECT_EQ((*again)[2].payload, "record-3");
      EXPECT_EQ((*again)[3].payload, "record-4-again");
    }
  });
}

// The last record damaged: cut short, it is a torn write, cut off; present in full with a
// flipped bit, it was written and rotted since: recovery says so
// (stats().damaged_tail_position) and keeps it, appending after it, until the owner acts.
TEST(SegmentedLog, TellsARottedLastRecordFromATornOne) {
  std::string seg;
  for (int i = 1; i <= 3; ++i) storage::AppendLogRecord(i, absl::StrCat("record-", i), &seg);
  for (const bool torn : {true, false}) {
    OnSim(8, [&](Runtime& rt) -> Task<void> {
      std::string bytes = seg;
      if (torn) {
        bytes.resize(bytes.size() - 3);
      } else {
        bytes[bytes.size() - 2] ^= 0x10;
      }
      auto j = co_await OpenTolerant(rt, bytes);
      EXPECT_TRUE(j.ok()) << j.status();
      if (!j.ok()) co_return;
      EXPECT_EQ((*j)->next_position(), 3u);
      EXPECT_EQ((*j)->stats().truncated_tail_bytes > 0, torn);
      EXPECT_EQ((*j)->stats().damaged_tail_position, torn ? 0u : 3u);
      EXPECT_EQ(*co_await (*j)->Append("again"), 3u);
      j->reset();
      auto reopened = co_await OpenTolerant(rt);
      EXPECT_TRUE(reopened.ok()) << reopened.status();
      if (!reopened.ok()) co_return;
      EXPECT_EQ((*reopened)->next_position(), 4u);
      EXPECT_EQ((*reopened)->stats().damaged_tail_position, 0u);  // behind a later record now
      auto read = co_await (*reopened)->Read(1, 1 << 20);
      EXPECT_TRUE(read.ok()) << read.status();
      EXPECT_EQ(read.ok() ? read->size() : 0u, 3u);
      if (read.ok() && read->size() == 3) {
        EXPECT_EQ((*read)[2].payload, "again");
      }
    });
  }
}

// --- Compaction, as a pure function on an in-memory disk ---

format::SstOptions SmallSst() {
  format::SstOptions o;
  o.macroblock_bytes = 64 << 10;
  o.microblock_bytes = 4 << 10;
  return o;
}

// Rows for `keys` keys, each with 1-3 versions (some deletes), versions unique.
std::vector<Row> VersionedRows(int keys, uint64_t* next_version, std::mt19937_64& rng, bool deletes) {
  std::vector<Row> rows;
  for (int k = 0; k < keys; ++k) {
    const std::string key = absl::StrFormat("key%06d", k);
    const int versions = 1 + static_cast<int>(rng() % 3);
    for (int v = 0; v < versions; ++v) {
      const bool del = deletes && rng() % 5 == 0;
      rows.push_back(Row{key, (*next_version)++, del ? RowKind::kDelete : RowKind::kPut,
                         del ? "" : absl::StrCat("value-", k, "-", v, std::string(40, 'x'))});
    }
  }
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
    return format::CompareRowKeys(a.key, a.version, b.key, b.version) < 0;
  });
  return rows;
}

struct Store {
  MemDisk disk;
  std::unique_ptr<LocalFileStore> store = *RunInline(LocalFileStore::Open(disk, "sst"));
  std::unique_ptr<format::SstReader> Write(const std::string& name, uint64_t id, const std::vector<Row>& rows) {
    auto file = RunInline(store->Create(name));
    CAIRN_CHECK_OK(file.status());
    auto w = format::SstWriter::Create(*std::move(file), name, id, SmallSst());
    CAIRN_CHECK_OK(w.status());
    for (const Row& r : rows) CAIRN_CHECK_OK(RunInline((*w)->Append(r.view())));
    CAIRN_CHECK_OK(RunInline((*w)->Finish()).status());
    CAIRN_CHECK_OK(RunInline(store->Seal(name)));
    return Open(name);
  }
  std::unique_ptr<format::SstReader> Open(const std::string& name) {
    auto file = RunInline(store->Open(name));
    CAIRN_CHECK_OK(file.status());
    auto r = RunInline(format::SstReader::Open(*std::move(file), name));
    CAIRN_CHECK_OK(r.status());
    return *std::move(r);
  }
};

TEST(Compaction, KeepsTheContentAtEveryRetainedVersion) {
  std::mt19937_64 rng(7);
  uint64_t version = 1;
  Store s;
  // Three inputs with interleaved keys and disjoint version ranges.
  auto a = s.Write("1.sst", 1, VersionedRows(300, &version, rng, true));
  auto b = s.Write("2.sst", 2, VersionedRows(200, &version, rng, true));
  auto c = s.Write("3.sst", 3, VersionedRows(100, &version, rng, true));
  std::vector<format::SstReader*> in = {a.get(), b.get(), c.get()};
  for (const uint64_t snapshot : {uint64_t{0}, version / 3, version / 2, version - 1}) {
    for (const bool bottommost : {false, true}) {
      const std::string name = absl::StrCat("out-", snapshot, "-", bottommost, ".sst");
      auto out = RunInline(Compact(in, CompactionSpec{.snapshot = snapshot, .bottommost = bottommost}, *s.store, name,
                                   100 + snapshot * 2 + bottommost, SmallSst()));
      ASSERT_TRUE(out.ok()) << out.status();
      auto r = s.Open(name);
      // At S, at the latest version, and at every version in between.
      for (uint64_t v = std::max<uint64_t>(snapshot, 1); v < version; v += 97) {
        EXPECT_EQ(*RunInline(ContentChecksum(in, v)), *RunInline(ContentChecksum({r.get()}, v)))
            << "snapshot " << snapshot << " version " << v;
      }
      EXPECT_TRUE(RunInline(VerifyCompaction(in, r.get(), snapshot)).ok());
      if (snapshot == 0) {
        EXPECT_EQ(out->stats.rows_dropped, 0u);
      } else {
        EXPECT_GT(out->stats.rows_dropped, 0u);
      }
      EXPECT_EQ(out->stats.rows_in, a->properties().rows + b->properties().rows + c->properties().rows);
    }
  }
}

TEST(Compaction, MajorReusesMacroblocksThatOnePercentOfUpdatesMissed) {
  Store s;
  // Values that do not compress, so that the 20000 rows span about 36 macroblocks of 64 KiB.
  std::mt19937_64 rng(9);
  std::vector<Row> base;
  for (int k = 0; k < 20000; ++k) {
    std::string value(100, '\0');
    for (char& c : value) c = static_cast<char>(rng());
    base.push_back(Row{absl::StrFormat("key%08d", k * 10), 1, RowKind::kPut, std::move(value)});
  }
  auto major = s.Write("major.sst", 1, base);
  // 1% updates, clustered the way a hot range is, plus a few scattered ones.
  std::vector<Row> updates;
  for (int k = 5000; k < 5180; ++k) updates.push_back(Row{absl::StrFormat("key%08d", k * 10), uint64_t(2 + k), RowKind::kPut, "new"});
  for (int k : {17, 9000, 15555}) updates.push_back(Row{absl::StrFormat("key%08d", k * 10 + 5), uint64_t(9000 + k), RowKind::kPut, "x"});
  std::sort(updates.begin(), updates.end(), [](const Row& a, const Row& b) { return a.key < b.key; });
  auto mini = s.Write("mini.sst", 2, updates);
  std::vector<format::SstReader*> in = {major.get(), mini.get()};
  auto out = RunInline(Compact(in, CompactionSpec{.snapshot = 100000, .bottommost = true}, *s.store, "new.sst", 3, SmallSst()));
  ASSERT_TRUE(out.ok()) << out.status();
  const CompactionStats& st = out->stats;
  EXPECT_GT(st.macroblocks_reused, 0u);
  // The clustered updates touch one or two macroblocks, the scattered ones three more.
  EXPECT_GT(st.bytes_reused, 4 * st.bytes_written) << "reused " << st.bytes_reused << " rewritten " << st.bytes_written;
  auto r = s.Open("new.sst");
  EXPECT_TRUE(RunInline(VerifyCompaction(in, r.get(), 100000)).ok());
  EXPECT_EQ(r->properties().reused_macroblocks, st.macroblocks_reused);
  // With reuse off, the same rows, every block rewritten.
  auto full = RunInline(Compact(in, CompactionSpec{.snapshot = 100000, .bottommost = true, .reuse_macroblocks = false},
                                *s.store, "full.sst", 4, SmallSst()));
  ASSERT_TRUE(full.ok());
  EXPECT_EQ(full->stats.macroblocks_reused, 0u);
  EXPECT_EQ(full->properties.logical, out->properties.logical);
}

// --- The engine on the simulated disk ---

EngineOptions SmallEngine() {
  EngineOptions o;
  o.memtable_bytes = 16 << 10;
  o.minis_max = 3;
  o.minor_trigger_bytes = 256 << 10;
  o.sst = SmallSst();
  o.verify_compactions = true;
  return o;
}

TEST(Engine, WritesReadsSnapshotsCompactionsAndReopen) {
  OnSim(11, [](Runtime& rt) -> Task<void> {
    std::map<std::string, std::string> model;
    uint64_t snapshot_version = 0;
    std::map<std::string, std::string> at_snapshot;
    {
      auto e = co_await Engine::Open(rt.disk(), rt.executor(), "shard", SmallEngine());
      EXPECT_TRUE(e.ok()) << e.status();
      if (!e.ok()) co_return;
      Engine& engine = **e;
      Snapshot snap;
      for (int i = 0; i < 3000; ++i) {
        const std::string key = absl::StrFormat("k%04d", (i * 7919) % 1000);
        if (i % 13 == 0) {
          EXPECT_TRUE((co_await engine.Delete(key)).ok());
          model.erase(key);
        } else {
          const std::string value = absl::StrCat("v", i, std::string(i % 50, '.'));
          EXPECT_TRUE((co_await engine.Put(key, value)).ok());
          model[key] = value;
        }
        if (i == 1500) {
          snap = engine.GetSnapshot();
          snapshot_version = snap.version();
          at_snapshot = model;
        }
      }
      EXPECT_GT(engine.stats().flushes, 0u);
      for (const auto& [k, v] : model) EXPECT_EQ(*co_await engine.Get(k), v);
      EXPECT_FALSE((*co_await engine.Get("k0000x")).has_value());
      // Major compaction keeps what the snapshot sees.
      EXPECT_TRUE((co_await engine.Flush()).ok());
      auto major = co_await engine.CompactMajor();
      EXPECT_TRUE(major.ok()) << major.status();
      EXPECT_EQ(major->snapshot, snapshot_version);
      EXPECT_EQ(engine.files().back().level, Level::kMajor);
      auto scan = co_await engine.Scan("", "", kScanRowsMax, snap.read_options());
      EXPECT_TRUE(scan.ok());
      EXPECT_EQ(KeyValues(scan->begin(), scan->end()), at_snapshot);
      snap.Release();
      auto major2 = co_await engine.CompactMajor();
      EXPECT_TRUE(major2.ok());
      EXPECT_EQ(major2->snapshot, engine.visible_version());
      EXPECT_EQ((co_await engine.Get("k0001", ReadOptions{.version = snapshot_version})).status().code(),
                absl::StatusCode::kFailedPrecondition);
      auto bounded = co_await engine.Scan("k0100", "k0200", 10);
      EXPECT_TRUE(bounded.ok());
      EXPECT_EQ(bounded->size(), 10u);
      EXPECT_EQ(bounded->front().first, model.lower_bound("k0100")->first);
    }
    // Reopen: the manifest and the journal give back every acknowledged write.
    auto e = co_await Engine::Open(rt.disk(), rt.executor(), "shard", SmallEngine());
    EXPECT_TRUE(e.ok()) << e.status();
    if (!e.ok()) co_return;
    auto all = co_await (*e)->Scan("", "", kScanRowsMax);
    EXPECT_TRUE(all.ok());
    EXPECT_EQ(KeyValues(all->begin(), all->end()), model);
  });
}

TEST(Engine, RefusesBadInput) {
  OnSim(12, [](Runtime& rt) -> Task<void> {
    auto e = co_await Engine::Open(rt.disk(), rt.executor(), "shard", SmallEngine());
    EXPECT_TRUE(e.ok());
    if (!e.ok()) co_return;
    EXPECT_EQ((co_await (*e)->Write(WriteBatch())).status().code(), absl::StatusCode::kInvalidArgument);
    std::string huge(RowBytesMax(SmallEngine()) + 1, 'x');
    EXPECT_EQ((co_await (*e)->Put("k", huge)).status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ((co_await (*e)->Scan("", "", kScanRowsMax + 1)).status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ((co_await (*e)->Get("k", ReadOptions{.version = 99})).status().code(), absl::StatusCode::kOutOfRange);
  });
}

}  // namespace
}  // namespace cairn::lsm

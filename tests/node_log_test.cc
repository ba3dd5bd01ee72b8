// NodeLog against a model: several streams writing, truncating, resetting and trimming through
// one log with small segments, reopened now and then; every reopen must replay each stream to
// exactly the model's log, while the cleaner keeps the log to a few segments by copying idle
// streams forward. Concurrent writes of different streams share group commits.
#include <algorithm>
#include <map>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "src/base/check.h"
#include "src/journal/node_log.h"
#include "src/storage/segmented_log.h"
#include "src/runtime/notifier.h"
#include "src/runtime/task_group.h"
#include "tests/sim_program.h"

namespace cairn::journal {
namespace {

using testing::OnSim;

// One stream as the model sees it: its start (STATE's, in RaftStorage) and its entries.
struct ModelStream {
  LogStart start{.first_index = 1, .first_prev_term = 0, .members = {1}, .epoch = 0};
  std::vector<Entry> entries;  // from start.first_index on
  uint64_t last() const { return start.first_index - 1 + entries.size(); }
};

Entry MakeEntry(uint64_t index, uint64_t term, Random& random) {
  return Entry{.index = index, .term = term, .kind = EntryKind::kData,
               .payload = std::string(20 + random.Uniform(200), static_cast<char>('a' + random.Uniform(26)))};
}

NodeLogOptions SmallSegments() {
  NodeLogOptions o;
  o.log.segment_bytes_max = 8u << 10;
  o.segments_soft_max = 3;
  return o;
}

Task<std::unique_ptr<NodeLog>> OpenLog(Runtime& rt) {
  std::string dir = "nodelog";
  absl::StatusOr<std::unique_ptr<NodeLog>> log = co_await NodeLog::Open(rt.disk(), rt.executor(), std::move(dir), SmallSegments());
  CAIRN_CHECK_OK(log.status());
  co_return *std::move(log);
}

// Waits for the cleaner to finish, so that no file operation of the closed log is still in
// flight on the disk when the next one opens (a crash, in the simulator, ends those).
Task<void> Settle(Runtime& rt, const NodeLog& log) {
  while (log.cleaning()) co_await rt.Sleep(std::chrono::milliseconds(1));
}

TEST(NodeLog, EveryStreamReplaysToItsModelThroughTrimsResetsAndTheCleaner) {
  for (uint64_t seed = 1; seed <= 8; ++seed) {
    SCOPED_TRACE(absl::StrCat("seed ", seed));
    OnSim(seed, [seed](Runtime& rt) -> Task<void> {
      Random random(seed);
      constexpr int kStreams = 5;
      std::map<StreamKey, ModelStream> model;
      for (int i = 0; i < kStreams; ++i) model[StreamKey{.name = absl::StrCat("s", i), .incarnation = 2}];
      std::unique_ptr<NodeLog> log = co_await OpenLog(rt);
      for (auto& [key, m] : model) EXPECT_TRUE(log->Replay(key, m.start).entries.empty());
      CAIRN_CHECK_OK(co_await log->FinishRecovery());
      uint64_t term = 1, max_segments = 0, copied = 0;
      for (int round = 0; round < 80; ++round) {
        // A burst of concurrent writes, one per stream at most (one Write per stream at a time).
        // Stream s0 goes idle after the first rounds: only the cleaner moves its entries on.
        TaskGroup writes(rt.executor());
        int outstanding = 0;
        Notifier done(rt.executor());
        for (auto& [key, m] : model) {
          if (key.name == "s0" && round > 0) continue;
          if (key.name != "s0" && !random.Chance(0.7)) continue;
          LogChange change;
          const uint64_t roll = key.name == "s0" ? 10 : random.Uniform(20);
          if (roll == 0) {  // adopt a leader's start past the end
            LogStart s = m.start;
            s.first_index = m.last() + 1 + random.Uniform(50);
            s.first_prev_term = term;
            change.reset = s;
            m.start = s;  // STATE follows the reset (RaftStorage writes it after)
            m.entries.clear();
          } else if (roll <= 3 && !m.entries.empty()) {  // a new leader overwrites a suffix
            const uint64_t from = m.start.first_index + random.Uniform(m.entries.size());
            change.truncate_from = from;
            m.entries.resize(from - m.start.first_index);
            ++term;
          }
          const uint64_t n = key.name == "s0" ? 3 : random.Uniform(6);
          for (uint64_t i = 0; i < n; ++i) change.entries.push_back(MakeEntry(m.last() + 1 + i, term, random));
          for (const Entry& e : change.entries) m.entries.push_back(e);
          if (change.empty()) continue;
          ++outstanding;
          writes.Spawn([](NodeLog* log, StreamKey key, LogChange change, int* outstanding, Notifier* done) -> Task<void> {
            CAIRN_CHECK_OK(co_await log->Write(key, std::move(change)));
            --*outstanding;
            done->NotifyAll();
          }(log.get(), key, std::move(change), &outstanding, &done));
        }
        while (outstanding > 0) co_await done.Wait();
        // Trims: the writer keeps a few entries of each busy stream.
        for (auto& [key, m] : model) {
          if (m.entries.size() > 8 && random.Chance(0.5)) {
            const uint64_t keep = 2 + random.Uniform(4);
            const uint64_t drop = m.entries.size() - keep;
            m.start.first_index += drop;
            m.entries.erase(m.entries.begin(), m.entries.begin() + static_cast<ptrdiff_t>(drop));
            log->Trimmed(key, m.start.first_index);
          }
        }
        max_segments = std::max<uint64_t>(max_segments, log->segments());
        if (random.Chance(0.2)) {  // reopen: every stream replays to its model
          copied += log->stats().streams_copied;
          co_await Settle(rt, *log);
          log.reset();
          log = co_await OpenLog(rt);
          for (auto& [key, m] : model) {
            NodeLog::Replayed r = log->Replay(key, m.start);
            EXPECT_FALSE(r.reset.has_value());
            EXPECT_EQ(r.cut_at, 0u);
            EXPECT_EQ(r.entries, m.entries) << key.name << " at round " << round;
          }
          EXPECT_FALSE(log->unhandled_loss());
          CAIRN_CHECK_OK(co_await log->FinishRecovery());
        }
      }
      // A stream of another incarnation under the same name sees none of the old one's records.
      copied += log->stats().streams_copied;
      co_await Settle(rt, *log);
      log.reset();
      log = co_await OpenLog(rt);
      const StreamKey reborn{.name = "s1", .incarnation = 3};
      EXPECT_TRUE(log->Replay(reborn, model.begin()->second.start).entries.empty());
      // The idle stream pinned the oldest segment and was copied forward; the log stayed small.
      EXPECT_GT(copied, 0u);
      EXPECT_LE(max_segments, SmallSegments().segments_soft_max + 3);
    });
  }
}

// Seed 161 of the rotting-disk sweep: a record's two copies went out in different writes with
// a segment boundary between them, the second was torn at a crash, and a trim removed the
// segment holding the first, so the log starts at the torn second copy. No copy holds the
// record, and later records say it was synced; but a trim removes only records no stream
// needs, so it is not lost: no floor, nothing cut.
TEST(NodeLog, ARecordWhoseFirstCopyWasTrimmedIsNotLost) {
  OnSim(11, [](Runtime& rt) -> Task<void> {
    const StreamKey key{.name = "s", .incarnation = 2};
    ModelStream m;
    auto entry = [](uint64_t i) {
      return Entry{.index = i, .term = 1, .kind = EntryKind::kData, .payload = absl::StrCat("entry-", i, "-of-stream-s")};
    };
    {
      std::unique_ptr<NodeLog> log = co_await OpenLog(rt);
      EXPECT_TRUE(log->Replay(key, m.start).entries.empty());
      CAIRN_CHECK_OK(co_await log->FinishRecovery());
      for (uint64_t i = 1; i <= 6; ++i) {  // one record, synced, per write
        LogChange change;
        change.entries.push_back(entry(i));
        CAIRN_CHECK_OK(co_await log->Write(key, std::move(change)));
      }
      log->Trimmed(key, 5);  // entries 1..4 are dead
      co_await Settle(rt, *log);
    }
    // Rebuild the segment files as the trim left them: from entry 3's record's second copy,
    // torn (zeros), on.
    std::vector<storage::LogRecord> records;
    {
      auto raw = co_await storage::SegmentedLog::Open(rt.disk(), rt.executor(), "nodelog",
                                                      storage::SegmentedLogOptions{.tolerate_damage = true});
      CAIRN_CHECK_OK(raw.status());
      for (uint64_t next = (*raw)->start();;) {
        auto read = co_await (*raw)->Read(next, 1 << 20);
        CAIRN_CHECK_OK(read.status());
        if (read->empty()) break;
        records.insert(records.end(), read->begin(), read->end());
        next = read->back().position + 1;
      }
    }
    auto second = std::find_if(records.begin(), records.end(), [](const storage::LogRecord& r) {
      return r.payload.find("entry-3-of-stream-s") != std::string::npos && r.position % 2 == 1;
    });
    CAIRN_CHECK(second != records.end());
    std::string segment = std::string(storage::kLogRecordHeaderBytes + second->payload.size(), '\0');
    for (auto r = second + 1; r != records.end(); ++r) storage::AppendLogRecord(r->position, r->payload, &segment, r->synced_through);
    auto names = co_await rt.disk().List("nodelog");
    CAIRN_CHECK_OK(names.status());
    for (const std::string& name : *names) CAIRN_CHECK_OK(co_await rt.disk().Remove("nodelog/" + name));
    auto f = co_await rt.disk().Open(absl::StrFormat("nodelog/%020d.log", second->position), OpenOptions{.create = true});
    CAIRN_CHECK_OK(f.status());
    CAIRN_CHECK_OK(co_await (*f)->Write(0, segment));
    CAIRN_CHECK_OK(co_await (*f)->Sync());
    CAIRN_CHECK_OK(co_await rt.disk().SyncDir("nodelog"));

    std::unique_ptr<NodeLog> log = co_await OpenLog(rt);
    EXPECT_EQ(log->stats().lost_records, 0u);
    EXPECT_FALSE(log->unhandled_loss());
    m.start.first_index = 5;
    NodeLog::Replayed r = log->Replay(key, m.start);
    EXPECT_EQ(r.cut_at, 0u);
    EXPECT_EQ(r.entries, (std::vector<Entry>{entry(5), entry(6)}));
  });
}

// A stream created on a live node whose open fails after its replay (its first STATE write,
// say) is abandoned; the retried create replays the same key again (journal-membership
// seeds 1301 and 1694 crashed the node here), and what it writes then comes back at a reopen.
TEST(NodeLog, AStreamWhoseOpenFailedReplaysAgain) {
  OnSim(1, [](Runtime& rt) -> Task<void> {
    const LogStart start{.first_index = 1, .first_prev_term = 0, .members = {1}, .epoch = 0};
    StreamKey key;
    {
      std::unique_ptr<NodeLog> log = co_await OpenLog(rt);
      CAIRN_CHECK_OK(co_await log->FinishRecovery());
      key = StreamKey{.name = "late", .incarnation = log->NewIncarnation()};
      EXPECT_TRUE(log->Replay(key, start).entries.empty());
      log->Abandon(key);  // its open failed
      EXPECT_EQ(log->NewIncarnation(), key.incarnation);  // nothing was written: the same key
      NodeLog::Replayed again = log->Replay(key, start);
      EXPECT_TRUE(again.entries.empty());
      EXPECT_EQ(again.cut_at, 0u);
      LogChange change;
      change.entries = {Entry{.index = 1, .term = 1, .kind = EntryKind::kData, .payload = "x"}};
      CAIRN_CHECK_OK(co_await log->Write(key, std::move(change)));
      co_await Settle(rt, *log);
    }
    std::unique_ptr<NodeLog> log = co_await OpenLog(rt);
    NodeLog::Replayed back = log->Replay(key, start);
    EXPECT_EQ(back.entries.size(), 1u);
    CAIRN_CHECK_OK(co_await log->FinishRecovery());
  });
}

}  // namespace
}  // namespace cairn::journal

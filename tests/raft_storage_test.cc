// RaftStorage on the simulated disk, over a node log: what a Ready persists comes back after a
// reopen, through truncation, trims, resets (a follower adopting a start) and a crash in the
// middle of one; a RaftCore restarted from it carries on where it stopped; and damage to the
// node log or to STATE is repaired, or met with the vote floor.
#include <functional>
#include <limits>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "sim/core/world.h"
#include "tests/sim_program.h"
#include "src/journal/raft.h"
#include "src/base/check.h"
#include "src/base/coding.h"
#include "src/journal/log_encoding.h"
#include "src/journal/node_log.h"
#include "src/journal/raft_storage.h"
#include "src/storage/segmented_log.h"
#include "src/storage/sealed_file.h"

namespace cairn::journal {
namespace {

using testing::OnSim;

Entry E(uint64_t index, uint64_t term, std::string payload) {
  return Entry{.index = index, .term = term, .kind = EntryKind::kData, .payload = std::move(payload)};
}

std::vector<Entry> Entries(uint64_t from, uint64_t to, uint64_t term, const std::string& tag) {
  std::vector<Entry> out;
  for (uint64_t i = from; i <= to; ++i) out.push_back(E(i, term, absl::StrCat(tag, i)));
  return out;
}

// A node's log and one stream's storage on it, opened as a JournalNode opens them.
struct Group {
  std::unique_ptr<NodeLog> log;
  std::unique_ptr<RaftStorage> storage;  // after `log`, which it refers to
  RaftStorage* operator->() const { return storage.get(); }
};

Task<absl::StatusOr<Group>> OpenGroup(Runtime& rt, std::string stream, std::vector<NodeId> members) {
  Group g;
  std::string log_dir = "nodelog";
  absl::StatusOr<std::unique_ptr<NodeLog>> log = co_await NodeLog::Open(rt.disk(), rt.executor(), std::move(log_dir));
  if (!log.ok()) co_return log.status();
  g.log = *std::move(log);
  std::string dir = stream;
  absl::StatusOr<std::unique_ptr<RaftStorage>> s =
      co_await RaftStorage::Open(rt.disk(), *g.log, std::move(stream), std::move(dir), std::move(members));
  if (!s.ok()) co_return s.status();
  g.storage = *std::move(s);
  CAIRN_CHECK_OK(co_await g.log->FinishRecovery());
  co_return g;
}

// Stream g with members 1, 2, 3. (g++ 12: no temporaries built inside a co_await expression.)
Task<absl::StatusOr<Group>> OpenGroup(Runtime& rt) {
  std::string stream = "g";
  std::vector<NodeId> members = {1, 2, 3};
  co_return co_await OpenGroup(rt, std::move(stream), std::move(members));
}

TEST(RaftStorage, EntriesRoundTripThroughTheirEncoding) {
  Entry config{.index = 7, .term = 3, .kind = EntryKind::kConfig, .members = {1, 2, 4}};
  Entry fence{.index = 8, .term = 3, .kind = EntryKind::kFence, .epoch = 5};
  Entry data = E(9, 3, std::string(1000, 'x'));
  for (const Entry& e : {config, fence, data}) EXPECT_EQ(*DecodeEntry(e.index, EncodeEntry(e)), e);
  std::string bytes = EncodeEntry(data);
  bytes.pop_back();
  EXPECT_EQ(DecodeEntry(9, bytes).status().code(), absl::StatusCode::kDataLoss);
}

// A log start round-trips with the retries it carries; retries that cannot be (before the
// start's index, or answering a position at or past its first) do not decode.
TEST(RaftStorage, StartsRoundTripWithTheirRetries) {
  LogStart start{.first_index = 40, .first_prev_term = 6, .members = {1, 2, 3}, .epoch = 2, .first_position = 17,
                 .retries = {{41, 12}, {44, 16}}};
  for (const LogStart& s : {LogStart{}, start}) {
    std::string bytes;
    PutStart(&bytes, s);
    ByteReader r(bytes);
    LogStart back;
    EXPECT_TRUE(ReadStart(r, &back));
    EXPECT_EQ(back, s);
  }
  for (auto bad : {std::pair<uint64_t, uint64_t>{39, 12}, {41, 17}, {41, 0}}) {
    LogStart s = start;
    s.retries = {bad};
    std::string bytes;
    PutStart(&bytes, s);
    ByteReader r(bytes);
    LogStart back;
    EXPECT_FALSE(ReadStart(r, &back)) << bad.first << " -> " << bad.second;
  }
}

TEST(RaftStorage, PersistsTruncatesTrimsAndResets) {
  OnSim(1, [](Runtime& rt) -> Task<void> {
    // Named first: g++ 12 mishandles temporaries built inside a co_await expression.
    auto open = [&]() { return OpenGroup(rt); };
    {
      auto s = co_await open();
      EXPECT_TRUE(s.ok()) << s.status();
      if (!s.ok()) co_return;
      EXPECT_EQ((*s)->recovered().start.members, (std::vector<NodeId>{1, 2, 3}));
      EXPECT_TRUE((*s)->recovered().entries.empty());
      RaftCore::Ready r;
      r.entries = Entries(1, 10, 1, "a");
      r.hard_state = HardState{.term = 2, .vote = 3, .commit = 4};
      EXPECT_EQ(*co_await (*s)->Persist(r), 10u);
      RaftCore::Ready t;  // a new leader overwrites 6..10
      t.truncate_from = 6;
      t.entries = Entries(6, 8, 2, "b");
      EXPECT_EQ(*co_await (*s)->Persist(t), 8u);
    }
    {
      auto s = co_await open();
      EXPECT_TRUE(s.ok()) << s.status();
      if (!s.ok()) co_return;
      const RaftState& st = (*s)->recovered();
      EXPECT_EQ(st.hard.term, 2u);
      EXPECT_EQ(st.hard.vote, 3u);
      EXPECT_EQ(st.entries.size(), 8u);
      EXPECT_EQ(st.entries[4], E(5, 1, "a5"));
      EXPECT_EQ(st.entries[5], E(6, 2, "b6"));
      RaftCore::Ready t;  // trim below 5
      t.trim = LogStart{.first_index = 5, .first_prev_term = 1, .members = {1, 2, 3}, .epoch = 1, .first_position = 4};
      EXPECT_EQ(*co_await (*s)->Persist(t), 8u);
    }
    {
      auto s = co_await open();
      EXPECT_TRUE(s.ok()) << s.status();
      if (!s.ok()) co_return;
      const RaftState& st = (*s)->recovered();
      EXPECT_EQ(st.start.first_index, 5u);
      EXPECT_EQ(st.start.epoch, 1u);
      EXPECT_EQ(st.start.first_position, 4u);
      EXPECT_EQ(st.entries.front().index, 5u);
      EXPECT_EQ(st.entries.back().index, 8u);
      RaftCore::Ready r;  // adopt a leader's start at 100, then take its entries
      r.reset = LogStart{.first_index = 100, .first_prev_term = 7, .members = {1, 2}, .epoch = 3, .first_position = 60};
      r.entries = Entries(100, 102, 7, "c");
      r.hard_state = HardState{.term = 7, .vote = kNoNode, .commit = 99};
      EXPECT_EQ(*co_await (*s)->Persist(r), 102u);
    }
    auto s = co_await open();
    EXPECT_TRUE(s.ok()) << s.status();
    if (!s.ok()) co_return;
    const RaftState& st = (*s)->recovered();
    EXPECT_EQ(st.start, (LogStart{.first_index = 100, .first_prev_term = 7, .members = {1, 2}, .epoch = 3, .first_position = 60}));
    EXPECT_EQ(st.entries.size(), 3u);
    EXPECT_EQ(st.entries.front(), E(100, 7, "c100"));
    EXPECT_EQ(st.hard.term, 7u);
    EXPECT_EQ(st.hard.commit, 99u);
  });
}

// A crash after the log was reset and its start marker written, before STATE said so.
TEST(RaftStorage, ACrashInTheMiddleOfAResetComesBackAtTheNewStart) {
  OnSim(2, [](Runtime& rt) -> Task<void> {
    std::string old_state;
    {
      auto s = co_await OpenGroup(rt);
      EXPECT_TRUE(s.ok());
      if (!s.ok()) co_return;
      RaftCore::Ready r;
      r.entries = Entries(1, 5, 1, "a");
      r.hard_state = HardState{.term = 1, .vote = 1};
      EXPECT_TRUE((co_await (*s)->Persist(r)).ok());
      std::string state_path = "g/STATE.0";
      old_state = *co_await storage::ReadSealedFile(rt.disk(), std::move(state_path), 1 << 20);
      RaftCore::Ready reset;
      reset.reset = LogStart{.first_index = 50, .first_prev_term = 4, .members = {1, 2, 3}, .epoch = 0};
      EXPECT_TRUE((co_await (*s)->Persist(reset)).ok());
    }
    // Put the old STATE back, as if the crash came before its rewrite.
    std::string dir = "g";
    for (std::string_view copy : kStateFileNames) {
      std::string name(copy);
      EXPECT_TRUE((co_await storage::ReplaceSealedFile(rt.disk(), dir, std::move(name), old_state, true)).ok());
    }
    auto s = co_await OpenGroup(rt);
    EXPECT_TRUE(s.ok()) << s.status();
    if (!s.ok()) co_return;
    EXPECT_EQ((*s)->recovered().start.first_index, 50u);
    EXPECT_EQ((*s)->recovered().start.first_prev_term, 4u);
    EXPECT_TRUE((*s)->recovered().entries.empty());
    EXPECT_EQ((*s)->recovered().hard.term, 1u);
    RaftCore::Ready r;
    r.entries = Entries(50, 51, 4, "n");
    EXPECT_EQ(*co_await (*s)->Persist(r), 51u);
  });
}

// A one-node group: a core driven through its storage, stopped and started again from it.
TEST(RaftStorage, ACoreRestartedFromItsStorageCarriesOn) {
  OnSim(3, [](Runtime& rt) -> Task<void> {
    uint64_t last = 0;
    for (int incarnation = 0; incarnation < 3; ++incarnation) {
      std::string stream = "one";
      std::vector<NodeId> members = {1};
      auto s = co_await OpenGroup(rt, std::move(stream), std::move(members));
      EXPECT_TRUE(s.ok()) << s.status();
      if (!s.ok()) co_return;
      RaftCore core(1, (*s)->recovered(), RaftOptions{}, rt.random());
      EXPECT_EQ(core.last_index(), last);
      std::vector<Entry> applied;
      auto drive = [&]() -> Task<void> {
        while (core.HasReady()) {
          RaftCore::Ready r = core.TakeReady();
          absl::StatusOr<uint64_t> persisted = co_await (*s)->Persist(r);
          EXPECT_TRUE(persisted.ok()) << persisted.status();
          core.OnPersisted(*persisted);
          for (Entry& e : r.committed) applied.push_back(std::move(e));
        }
      };
      for (int t = 0; t < 40 && core.role() != Role::kLeader; ++t) {
        core.Tick();
        co_await drive();
      }
      EXPECT_EQ(core.role(), Role::kLeader);
      for (int i = 0; i < 5; ++i) EXPECT_TRUE(core.Propose(0, absl::StrCat("i", incarnation, "-", i)).ok());
      co_await drive();
      co_await drive();
      EXPECT_EQ(core.commit(), core.last_index());
      last = core.last_index();
    }
    EXPECT_EQ(last, 3u * 6u);  // per incarnation: a no-op and 5 records
  });
}

// --- Damage ---

// Flips one byte of `path` at `offset` (silent corruption at rest).
Task<void> FlipByte(Runtime& rt, std::string path, uint64_t offset) {
  auto file = co_await rt.disk().Open(std::move(path), OpenOptions{});
  CAIRN_CHECK_OK(file.status());
  absl::StatusOr<std::string> byte = co_await (*file)->Read(offset, 1);
  CAIRN_CHECK_OK(byte.status());
  CAIRN_CHECK_EQ(byte->size(), 1u);
  (*byte)[0] = static_cast<char>((*byte)[0] ^ 0x40);
  CAIRN_CHECK_OK(co_await (*file)->Write(offset, *std::move(byte)));
  CAIRN_CHECK_OK(co_await (*file)->Sync());
}

// Flips a byte in the payload of the node log's record copy at journal `position`.
Task<void> DamageCopy(Runtime& rt, uint64_t position) {
  std::string dir = "nodelog";
  auto names = co_await rt.disk().List(dir);
  CAIRN_CHECK_OK(names.status());
  for (const std::string& name : *names) {
    std::string path = absl::StrCat(dir, "/", name);
    auto file = co_await rt.disk().Open(path, OpenOptions{});
    CAIRN_CHECK_OK(file.status());
    absl::StatusOr<uint64_t> size = co_await (*file)->Size();
    absl::StatusOr<std::string> bytes = co_await (*file)->Read(0, *size);
    CAIRN_CHECK_OK(bytes.status());
    for (uint64_t at = 0; at + storage::kLogRecordHeaderBytes <= bytes->size();) {
      const uint32_t length = DecodeFixed32(bytes->data() + at + 4);
      if (DecodeFixed64(bytes->data() + at + 8) == position) {
        co_await FlipByte(rt, path, at + storage::kLogRecordHeaderBytes + 2);
        co_return;
      }
      at += storage::kLogRecordHeaderBytes + length;
    }
  }
  CAIRN_CHECK_MSG(false, "no record copy at the position");
}

// Tears the node log's last write as a crash would: the file ends a few bytes into the record
// copy at journal `position` (the sectors after it were never written).
Task<void> TearFrom(Runtime& rt, uint64_t position) {
  std::string dir = "nodelog";
  auto names = co_await rt.disk().List(dir);
  CAIRN_CHECK_OK(names.status());
  std::string path = absl::StrCat(dir, "/", names->back());
  auto file = co_await rt.disk().Open(path, OpenOptions{});
  CAIRN_CHECK_OK(file.status());
  absl::StatusOr<uint64_t> size = co_await (*file)->Size();
  absl::StatusOr<std::string> bytes = co_await (*file)->Read(0, *size);
  CAIRN_CHECK_OK(bytes.status());
  for (uint64_t at = 0; at + storage::kLogRecordHeaderBytes <= bytes->size();) {
    if (DecodeFixed64(bytes->data() + at + 8) == position) {
      CAIRN_CHECK_OK(co_await (*file)->Truncate(at + storage::kLogRecordHeaderBytes + 2));
      CAIRN_CHECK_OK(co_await (*file)->Sync());
      co_return;
    }
    at += storage::kLogRecordHeaderBytes + DecodeFixed32(bytes->data() + at + 4);
  }
  CAIRN_CHECK_MSG(false, "no record copy at the position");
}

// Two streams, g and h, on one node log.
struct TwoGroups {
  std::unique_ptr<NodeLog> log;
  std::unique_ptr<RaftStorage> g, h;
};

Task<TwoGroups> OpenTwo(Runtime& rt) {
  TwoGroups t;
  std::string log_dir = "nodelog";
  absl::StatusOr<std::unique_ptr<NodeLog>> log = co_await NodeLog::Open(rt.disk(), rt.executor(), std::move(log_dir));
  CAIRN_CHECK_OK(log.status());
  t.log = *std::move(log);
  for (std::unique_ptr<RaftStorage>* s : {&t.g, &t.h}) {
    std::string name = s == &t.g ? "g" : "h";
    std::string dir = name;
    std::vector<NodeId> members = {1, 2, 3};
    absl::StatusOr<std::unique_ptr<RaftStorage>> opened =
        co_await RaftStorage::Open(rt.disk(), *t.log, std::move(name), std::move(dir), std::move(members));
    CAIRN_CHECK_OK(opened.status());
    *s = *std::move(opened);
  }
  CAIRN_CHECK_OK(co_await t.log->FinishRecovery());
  co_return t;
}

constexpr uint64_t kAnyIndex = std::numeric_limits<uint64_t>::max();

// Each kind of damage recovery meets: what it repairs, and where it raises the vote floor.
// Records of the node log are numbered by position: a new log's first record sits at 2 and 3.
TEST(RaftStorage, RepairsWhatItCanAndRaisesTheVoteFloorOverWhatItCannot) {
  OnSim(4, [](Runtime& rt) -> Task<void> {
    {
      auto s = co_await OpenGroup(rt);
      CAIRN_CHECK_OK(s.status());
      RaftCore::Ready a;  // the record at 2, 3
      a.entries = Entries(1, 5, 1, "a");
      a.hard_state = HardState{.term = 1, .vote = 1};
      EXPECT_EQ(*co_await (*s)->Persist(a), 5u);
      RaftCore::Ready b;  // at 4, 5: a later write, enqueued once 2 and 3 were synced
      b.entries = Entries(6, 8, 2, "b");
      b.hard_state = HardState{.term = 2, .vote = 2};
      EXPECT_EQ(*co_await (*s)->Persist(b), 8u);
    }
    // One copy of the record of 1..5 rots: the other serves, nothing is lost.
    co_await DamageCopy(rt, 2);
    {
      auto s = co_await OpenGroup(rt);
      CAIRN_CHECK_OK(s.status());
      EXPECT_EQ((*s)->recovered().entries.size(), 8u);
      EXPECT_EQ((*s)->recovered().entries[2], E(3, 1, "a3"));
      EXPECT_EQ(s->log->stats().records_from_one_copy, 1u);
      EXPECT_FALSE((*s)->recovered().hard.floored());
    }
    // Both copies: entries 1..5 were synced before 6..8 were written, and may have been
    // acknowledged. The log comes back as it stood before them: empty, cut at 1 (a recovery
    // cut at 8, 9, after the record at 6, 7 the first recovery wrote to say the log was
    // synced), the floor raised over any index of term 2; the loss recorded as handled (at
    // 10, 11).
    co_await DamageCopy(rt, 3);
    for (int reopen = 0; reopen < 2; ++reopen) {
      auto s = co_await OpenGroup(rt);
      CAIRN_CHECK_OK(s.status());
      const RaftState& st = (*s)->recovered();
      EXPECT_TRUE(st.entries.empty());
      EXPECT_EQ(st.hard.floor_term, 2u);
      EXPECT_EQ(st.hard.floor_index, kAnyIndex);
      EXPECT_EQ(st.hard.term, 2u);
      EXPECT_EQ(s->log->stats().lost_records, reopen == 0 ? 1u : 0u);  // newly found
      // Once: the cut and the handled record keep the next recovery from doing it again.
      EXPECT_EQ((*s)->recovery_stats().holes_cut, reopen == 0 ? 1u : 0u);
      EXPECT_EQ((*s)->recovery_stats().floors_raised, reopen == 0 ? 1u : 0u);
    }
    // A core started from it refuses a candidate that lacks what it lost (any log ending in
    // term 2), grants one whose log goes past it.
    {
      auto s = co_await OpenGroup(rt);
      CAIRN_CHECK_OK(s.status());
      RaftCore core(1, (*s)->recovered(), RaftOptions{}, rt.random());
      EXPECT_TRUE(core.floored());
      core.Step(Message{.type = MessageType::kVote, .from = 2, .to = 1, .term = 3, .log_index = 8, .log_term = 2});
      core.Step(Message{.type = MessageType::kVote, .from = 3, .to = 1, .term = 4, .log_index = 1, .log_term = 3});
      RaftCore::Ready r = core.TakeReady();
      EXPECT_EQ(r.messages.size(), 2u);
      if (r.messages.size() == 2) {
        EXPECT_TRUE(r.messages[0].reject);
        EXPECT_FALSE(r.messages[1].reject);
      }
    }
    // The last write torn by a crash: its record (at 12, 13, after the recovery cut at 8, 9
    // and the record at 10, 11 saying the loss is handled) lost in both copies, and nothing
    // written after it. Never acknowledged (not synced), so dropped without a floor.
    {
      auto s = co_await OpenGroup(rt);
      CAIRN_CHECK_OK(s.status());
      RaftCore::Ready c;
      c.entries = Entries(1, 3, 3, "c");
      c.hard_state = HardState{.term = 3, .vote = 3, .floor_term = 2, .floor_index = kAnyIndex};
      EXPECT_EQ(*co_await (*s)->Persist(c), 3u);
    }
    co_await TearFrom(rt, 12);
    {
      auto s = co_await OpenGroup(rt);
      CAIRN_CHECK_OK(s.status());
      EXPECT_TRUE((*s)->recovered().entries.empty());
      // The local journal finds it cut short at its end, where a torn write would be, and cuts it.
      EXPECT_GT(s->log->stats().torn_tail_bytes, 0u);
      EXPECT_EQ((*s)->recovery_stats().floors_raised, 0u);
      EXPECT_EQ((*s)->recovered().hard.floor_term, 2u);
    }
    // STATE: one damaged copy is rewritten from the other; both damaged is DataLoss.
    const std::string state0 = "g/STATE.0", state1 = "g/STATE.1";
    co_await FlipByte(rt, state1, 10);
    {
      auto s = co_await OpenGroup(rt);
      CAIRN_CHECK_OK(s.status());
      EXPECT_EQ((*s)->recovery_stats().state_copies_repaired, 1u);
      EXPECT_EQ((*s)->recovered().hard.term, 3u);
    }
    co_await FlipByte(rt, state0, 10);
    co_await FlipByte(rt, state1, 10);
    auto s = co_await OpenGroup(rt);
    EXPECT_EQ(s.status().code(), absl::StatusCode::kDataLoss) << s.status();
  });
}

// Persists entries from..to of `term` (payloads tag + index) through `s`: one record in the
// node log, after cutting the log at `truncate_from` (0: none), with `hard` if given.
Task<void> PersistEntries(RaftStorage& s, uint64_t from, uint64_t to, uint64_t term, std::string tag,
                          std::optional<HardState> hard = std::nullopt, uint64_t truncate_from = 0) {
  RaftCore::Ready r;
  r.entries = Entries(from, to, term, tag);
  r.hard_state = hard;
  r.truncate_from = truncate_from;
  absl::StatusOr<uint64_t> last = co_await s.Persist(r);
  CAIRN_CHECK_OK(last.status());
  CAIRN_CHECK_EQ(*last, to);
}

// The last record, synced (and maybe acknowledged), rots in both copies before anything is
// written after it. It is not a torn write — the file holds all of it, every sector written —
// so it is a loss: the floor is raised.
TEST(RaftStorage, TheLastRecordRottedInBothCopiesIsLostNotTorn) {
  OnSim(8, [](Runtime& rt) -> Task<void> {
    {
      auto s = co_await OpenGroup(rt);
      CAIRN_CHECK_OK(s.status());
      co_await PersistEntries(*s->storage, 1, 3, 1, "a", HardState{.term = 1, .vote = 1});  // at 2, 3
      co_await PersistEntries(*s->storage, 4, 5, 1, "b");  // at 4, 5: the last record
    }
    co_await DamageCopy(rt, 4);
    co_await DamageCopy(rt, 5);
    for (int crash = 0; crash < 2; ++crash) {
      // Recoveries that find it and stop before the streams act on it (a crash): the next
      // one must still know, though the damaged record now sits behind what they wrote.
      std::string dir = "nodelog";
      auto log = co_await NodeLog::Open(rt.disk(), rt.executor(), std::move(dir));
      CAIRN_CHECK_OK(log.status());
      EXPECT_EQ((*log)->stats().lost_records, crash == 0 ? 1u : 0u);
      EXPECT_TRUE((*log)->unhandled_loss());
    }
    auto s = co_await OpenGroup(rt);
    CAIRN_CHECK_OK(s.status());
    EXPECT_EQ((*s)->recovered().entries, Entries(1, 3, 1, "a"));
    EXPECT_EQ(s->log->stats().lost_records, 0u);  // known from the first recovery's record
    EXPECT_EQ((*s)->recovery_stats().floors_raised, 1u);
    EXPECT_EQ((*s)->recovered().hard.floor_term, 1u);
  });
  OnSim(8, [](Runtime& rt) -> Task<void> {
    {
      auto s = co_await OpenGroup(rt);
      CAIRN_CHECK_OK(s.status());
      co_await PersistEntries(*s->storage, 1, 3, 1, "a", HardState{.term = 1, .vote = 1});
    }
    co_await DamageCopy(rt, 2);
    co_await DamageCopy(rt, 3);
    for (int reopen = 0; reopen < 2; ++reopen) {
      auto s = co_await OpenGroup(rt);
      CAIRN_CHECK_OK(s.status());
      EXPECT_EQ(s->log->stats().lost_records, reopen == 0 ? 1u : 0u);
      EXPECT_EQ((*s)->recovery_stats().floors_raised, reopen == 0 ? 1u : 0u);  // handled once
    }
  });
}

// A lost record that overwrote part of the log, and a later append that seems to extend what
// came before it: the replay must not splice the later entries onto the overwritten ones (a
// log this node never held, whose stale entries a leader's append would then seem to match).
// It comes back as it stood before the loss, floored, its commit relearned.
TEST(RaftStorage, ALostOverwriteDoesNotBringBackTheEntriesItReplaced) {
  OnSim(6, [](Runtime& rt) -> Task<void> {
    {
      auto s = co_await OpenGroup(rt);
      CAIRN_CHECK_OK(s.status());
      co_await PersistEntries(*s->storage, 1, 6, 1, "a", HardState{.term = 1, .vote = 1, .commit = 3});  // at 2, 3
      // at 4, 5: a leader of term 2 overwrites 4..6
      co_await PersistEntries(*s->storage, 4, 5, 2, "b", HardState{.term = 2, .vote = 2, .commit = 3}, 4);
      co_await PersistEntries(*s->storage, 6, 7, 2, "c", HardState{.term = 2, .vote = 2, .commit = 7});  // at 6, 7
    }
    co_await DamageCopy(rt, 4);
    co_await DamageCopy(rt, 5);
    for (int reopen = 0; reopen < 2; ++reopen) {
      auto s = co_await OpenGroup(rt);
      CAIRN_CHECK_OK(s.status());
      const RaftState& st = (*s)->recovered();
      EXPECT_EQ(st.entries, Entries(1, 6, 1, "a"));  // not a4, a5 of term 1 then c6, c7 of term 2
      EXPECT_EQ(st.hard.commit, 0u);                // STATE's 7 would apply a4..a6
      EXPECT_EQ(st.hard.floor_term, 2u);
      EXPECT_EQ((*s)->recovery_stats().floors_raised, reopen == 0 ? 1u : 0u);
      EXPECT_EQ((*s)->recovery_stats().holes_cut, reopen == 0 ? 1u : 0u);
    }
  });
}

// A recovery cut answers the loss its replay stopped at. When a record before that one is lost
// later, the replay stops earlier, and the old cut must not take it up again: the log below the
// cut was built from records the new loss changed.
TEST(RaftStorage, ARecoveryCutDoesNotResumeAReplayThatStoppedEarlier) {
  OnSim(9, [](Runtime& rt) -> Task<void> {
    {
      auto s = co_await OpenGroup(rt);
      CAIRN_CHECK_OK(s.status());
      co_await PersistEntries(*s->storage, 1, 10, 1, "a", HardState{.term = 1, .vote = 1});  // at 2, 3
      // at 4, 5: a leader of term 2 overwrites 5.. with 5, 6
      co_await PersistEntries(*s->storage, 5, 6, 2, "r", HardState{.term = 2, .vote = 2}, 5);
      co_await PersistEntries(*s->storage, 7, 8, 2, "m");  // at 6, 7
      co_await PersistEntries(*s->storage, 9, 9, 2, "l");  // at 8, 9: lost below
      co_await PersistEntries(*s->storage, 10, 10, 2, "x");  // at 10, 11
    }
    co_await DamageCopy(rt, 8);
    co_await DamageCopy(rt, 9);
    {
      auto s = co_await OpenGroup(rt);  // stops at l: 1..4 a, 5..6 r, 7..8 m; cut at 9
      CAIRN_CHECK_OK(s.status());
      std::vector<Entry> expected = Entries(1, 4, 1, "a");
      for (const Entry& e : Entries(5, 6, 2, "r")) expected.push_back(e);
      for (const Entry& e : Entries(7, 8, 2, "m")) expected.push_back(e);
      EXPECT_EQ((*s)->recovered().entries, expected);
      co_await PersistEntries(*s->storage, 9, 12, 3, "n", HardState{.term = 3, .vote = 3, .floor_term = 2, .floor_index = kAnyIndex});  // the next session builds on that
    }
    co_await DamageCopy(rt, 4);  // now r is lost too
    co_await DamageCopy(rt, 5);
    auto s = co_await OpenGroup(rt);
    CAIRN_CHECK_OK(s.status());
    // Back as it stood before r: a prefix of a's 1..10 (the old cut at 9 still cuts it, which
    // keeps it a prefix). Not a's 1..8 under n's 9..12 (the old cut taking the replay up
    // again), a log this node never held.
    const std::vector<Entry>& got = (*s)->recovered().entries;
    EXPECT_GE(got.size(), 4u);
    EXPECT_LE(got.size(), 10u);
    for (const Entry& e : got) EXPECT_TRUE(e == E(e.index, 1, absl::StrCat("a", e.index))) << "entry " << e.index;
    EXPECT_EQ((*s)->recovery_stats().floors_raised, 1u);
  });
}

// A record a recovery found, and whose last write nothing followed, rots in both copies later:
// it was synced (the recovery said so in a record of its own), so it is lost, not torn.
TEST(RaftStorage, ARecordARecoveryFoundIsLostNotTornWhenBothCopiesRotLater) {
  OnSim(7, [](Runtime& rt) -> Task<void> {
    {
      auto s = co_await OpenGroup(rt);
      CAIRN_CHECK_OK(s.status());
      co_await PersistEntries(*s->storage, 1, 3, 1, "a", HardState{.term = 1, .vote = 1});  // at 2, 3: acknowledged, then the node stops
    }
    {
      auto s = co_await OpenGroup(rt);  // finds a intact: says the log was synced through it
      CAIRN_CHECK_OK(s.status());
      EXPECT_EQ((*s)->recovered().entries.size(), 3u);
    }
    co_await DamageCopy(rt, 2);
    co_await DamageCopy(rt, 3);
    auto s = co_await OpenGroup(rt);
    CAIRN_CHECK_OK(s.status());
    EXPECT_TRUE((*s)->recovered().entries.empty());
    EXPECT_EQ(s->log->stats().lost_records, 1u);
    EXPECT_EQ((*s)->recovery_stats().floors_raised, 1u);
    EXPECT_EQ((*s)->recovered().hard.floor_term, 1u);
  });
}

// A record lost in both copies names no stream: every stream on the node takes the floor, the
// one whose record it was (h, its last) and the one whose log has no hole (g).
TEST(RaftStorage, ALostRecordThatNamesNoStreamFloorsEveryStream) {
  OnSim(5, [](Runtime& rt) -> Task<void> {
    {
      TwoGroups t = co_await OpenTwo(rt);
      RaftCore::Ready h;  // at 2, 3
      h.entries = Entries(1, 2, 1, "h");
      h.hard_state = HardState{.term = 1, .vote = 1};
      EXPECT_EQ(*co_await t.h->Persist(h), 2u);
      RaftCore::Ready g;  // at 4, 5
      g.entries = Entries(1, 4, 5, "g");
      g.hard_state = HardState{.term = 5, .vote = 2};
      EXPECT_EQ(*co_await t.g->Persist(g), 4u);
    }
    co_await DamageCopy(rt, 2);
    co_await DamageCopy(rt, 3);
    TwoGroups t = co_await OpenTwo(rt);
    EXPECT_EQ(t.g->recovered().entries.size(), 4u);
    EXPECT_TRUE(t.h->recovered().entries.empty());
    for (RaftStorage* s : {t.g.get(), t.h.get()}) {
      EXPECT_EQ(s->recovery_stats().floors_raised, 1u);
      // h's log is cut where the lost record was (a recovery cut: its next replay goes on
      // from there); g's own record, later, replaces its whole log and needs none.
      EXPECT_EQ(s->recovery_stats().holes_cut, s == t.h.get() ? 1u : 0u);
      EXPECT_EQ(s->recovered().hard.floor_term, s->recovered().hard.term);
      EXPECT_EQ(s->recovered().hard.floor_index, kAnyIndex);
    }
  });
}

}  // namespace
}  // namespace cairn::journal

// RaftStorage on the simulated disk: what a Ready persists comes back after a reopen, through
// truncation, trims, resets (a follower adopting a start) and a crash in the middle of one; and
// a RaftCore restarted from it carries on where it stopped.
#include <functional>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "sim/world.h"
#include "tests/sim_program.h"
#include "src/journal/raft.h"
#include "src/journal/raft_storage.h"
#include "src/lsm/sealed_file.h"

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

TEST(RaftStorage, EntriesRoundTripThroughTheirEncoding) {
  Entry config{.index = 7, .term = 3, .kind = EntryKind::kConfig, .members = {1, 2, 4}};
  Entry fence{.index = 8, .term = 3, .kind = EntryKind::kFence, .epoch = 5};
  Entry data = E(9, 3, std::string(1000, 'x'));
  for (const Entry& e : {config, fence, data}) EXPECT_EQ(*DecodeEntry(e.index, EncodeEntry(e)), e);
  std::string bytes = EncodeEntry(data);
  bytes.pop_back();
  EXPECT_EQ(DecodeEntry(9, bytes).status().code(), absl::StatusCode::kDataLoss);
}

TEST(RaftStorage, PersistsTruncatesTrimsAndResets) {
  OnSim(1, [](Runtime& rt) -> Task<void> {
    // Named first: g++ 12 mishandles temporaries built inside a co_await expression.
    auto open = [&]() {
      std::string dir = "g";
      std::vector<NodeId> members = {1, 2, 3};
      return RaftStorage::Open(rt.disk(), rt.executor(), std::move(dir), std::move(members));
    };
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
      std::string dir = "g";
      std::vector<NodeId> members = {1, 2, 3};
      auto s = co_await RaftStorage::Open(rt.disk(), rt.executor(), std::move(dir), std::move(members));
      EXPECT_TRUE(s.ok());
      if (!s.ok()) co_return;
      RaftCore::Ready r;
      r.entries = Entries(1, 5, 1, "a");
      r.hard_state = HardState{.term = 1, .vote = 1};
      EXPECT_TRUE((co_await (*s)->Persist(r)).ok());
      std::string state_path = "g/STATE";
      old_state = *co_await lsm::ReadSealedFile(rt.disk(), std::move(state_path), 1 << 20);
      RaftCore::Ready reset;
      reset.reset = LogStart{.first_index = 50, .first_prev_term = 4, .members = {1, 2, 3}, .epoch = 0};
      EXPECT_TRUE((co_await (*s)->Persist(reset)).ok());
    }
    // Put the old STATE back, as if the crash came before its rewrite.
    std::string dir = "g", name = "STATE";
    EXPECT_TRUE((co_await lsm::ReplaceSealedFile(rt.disk(), dir, std::move(name), old_state, true)).ok());
    std::vector<NodeId> members = {1, 2, 3};
    auto s = co_await RaftStorage::Open(rt.disk(), rt.executor(), std::move(dir), std::move(members));
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
      std::string dir = "one";
      std::vector<NodeId> members = {1};
      auto s = co_await RaftStorage::Open(rt.disk(), rt.executor(), std::move(dir), std::move(members));
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

}  // namespace
}  // namespace cairn::journal

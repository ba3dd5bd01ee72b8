// The master over its stream (src/master/dfs_master.h), on a local journal in the simulator:
// it applies a record it did not append (a late duplicate the journal took for a new append)
// in its place, and carries on; it checkpoints its namespace and trims the stream, and a
// master replaying the trimmed stream reaches the same namespace.
#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "sim/core/world.h"
#include "src/lsm/local_journal.h"
#include "src/master/dfs_master.h"

namespace cairn::master {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// Runs `body` on one simulated node, for at most a simulated minute.
void OnNode(uint64_t seed, std::function<Task<void>(Runtime&, rpc::RpcNode&)> body) {
  sim::World world(sim::WorldOptions{.seed = seed});
  bool done = false;
  const NodeId n = world.AddNode("master", [&](Runtime& rt) -> Task<void> {
    rpc::RpcNode rpc(rt);
    rpc.Start();
    co_await body(rt, rpc);
    done = true;
  });
  world.Start(n);
  world.RunUntilCondition([&] { return done; }, world.Now() + std::chrono::minutes(1));
  EXPECT_TRUE(done) << "the node did not finish";
}

DfsMasterOptions TestOptions() {
  DfsMasterOptions o;
  o.tick_interval = milliseconds(200);
  o.repair_interval = milliseconds(100);
  return o;
}

// Three file servers the master has heard from, so that creates find placements.
void HearServers(DfsMaster& m) {
  for (NodeId s : {11u, 12u, 13u}) (void)m.Heartbeat(s, dfs::HeartbeatRequest());
}

Task<absl::StatusOr<uint64_t>> Create(DfsMaster& m, const std::string& path, uint64_t token) {
  dfs::CreateRequest request;
  request.set_path(path);
  request.set_token(token);
  absl::StatusOr<dfs::CreateReply> reply = co_await m.Create(std::move(request));
  if (!reply.ok()) co_return reply.status();
  co_return reply->file();
}

TEST(DfsMaster, AppliesARecordItDidNotAppendInItsPlace) {
  OnNode(1, [](Runtime& rt, rpc::RpcNode& rpc) -> Task<void> {
    auto journal = co_await lsm::LocalJournal::Open(rt.disk(), rt.executor(), "stream");
    CAIRN_CHECK_OK(journal.status());
    auto master = co_await DfsMaster::Open(rt, rpc, **journal, TestOptions());
    CAIRN_CHECK_OK(master.status());
    DfsMaster& m = **master;
    m.Start();
    HearServers(m);
    EXPECT_TRUE((co_await Create(m, "/a", 1)).ok());
    // A record lands that this master never appended: what a late duplicate of one of its
    // appends becomes once a trim removed the first landing.
    NamespaceCommand foreign;
    foreign.mutable_create()->set_path("/foreign");
    foreign.mutable_create()->set_replication(3);
    foreign.mutable_create()->set_token(7);
    std::string payload;
    CAIRN_CHECK(foreign.SerializeToString(&payload));
    absl::StatusOr<uint64_t> at = co_await (*journal)->Append(std::move(payload));
    CAIRN_CHECK_OK(at.status());
    // The next append lands after it: the master fills the gap from the stream and goes on.
    absl::StatusOr<uint64_t> b = co_await Create(m, "/b", 2);
    EXPECT_TRUE(b.ok()) << b.status();
    EXPECT_NE(m.ns().Lookup("/foreign"), nullptr);
    EXPECT_NE(m.ns().Lookup("/b"), nullptr);
    EXPECT_EQ(m.stats().foreign_applied, 1u);
    EXPECT_TRUE((co_await Create(m, "/c", 3)).ok());
    EXPECT_FALSE(m.failed());
  });
}

TEST(DfsMaster, CheckpointsTrimsAndReplaysToTheSameNamespace) {
  OnNode(2, [](Runtime& rt, rpc::RpcNode& rpc) -> Task<void> {
    DfsMasterOptions options = TestOptions();
    options.checkpoint_records = 8;
    std::string before;
    uint64_t start = 0;
    // Small segments, so that a trim removes whole ones.
    const lsm::LocalJournalOptions small{.segment_bytes_max = 1024};
    {
      auto journal = co_await lsm::LocalJournal::Open(rt.disk(), rt.executor(), "stream", small);
      CAIRN_CHECK_OK(journal.status());
      auto master = co_await DfsMaster::Open(rt, rpc, **journal, options);
      CAIRN_CHECK_OK(master.status());
      DfsMaster& m = **master;
      m.Start();
      HearServers(m);
      for (int i = 0; i < 40; ++i) {
        EXPECT_TRUE((co_await Create(m, "/f" + std::to_string(i), 100 + i)).ok());
        if (i % 10 == 9) co_await rt.Sleep(milliseconds(200));  // a tick: the checkpoint's turn
      }
      co_await rt.Sleep(seconds(1));
      EXPECT_GE(m.stats().checkpoints, 2u);
      start = (*journal)->start();
      EXPECT_GT(start, 1u) << "the stream was never trimmed";
      CAIRN_CHECK(m.ns().Save().SerializeToString(&before));
    }
    auto journal = co_await lsm::LocalJournal::Open(rt.disk(), rt.executor(), "stream", small);
    CAIRN_CHECK_OK(journal.status());
    EXPECT_EQ((*journal)->start(), start);
    auto replayed = co_await DfsMaster::Open(rt, rpc, **journal, options);
    CAIRN_CHECK_OK(replayed.status());
    std::string after;
    CAIRN_CHECK((*replayed)->ns().Save().SerializeToString(&after));
    EXPECT_EQ(after, before);
    EXPECT_NE((*replayed)->ns().Lookup("/f39"), nullptr);
  });
}

}  // namespace
}  // namespace cairn::master

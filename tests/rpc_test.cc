// The RPC layer over the simulated network: replies, retries, deadlines, failures.
#include <algorithm>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "sim/core/world.h"
#include "src/rpc/rpc_node.h"

namespace cairn::rpc {
namespace {

using std::chrono::milliseconds;
using sim::World;
using sim::WorldOptions;

// A server with "echo" (replies with the body) and "count" (counts deliveries).
Task<void> Server(Runtime& rt, int* served) {
  RpcNode rpc(rt);
  rpc.Register("echo", [](CallContext, std::string body) -> Task<absl::StatusOr<std::string>> {
    co_return body;
  });
  rpc.Register("fail", [](CallContext, std::string) -> Task<absl::StatusOr<std::string>> {
    co_return absl::FailedPreconditionError("refused on purpose");
  });
  rpc.Register("count", [served](CallContext, std::string body) -> Task<absl::StatusOr<std::string>> {
    ++*served;
    co_return body;
  });
  rpc.Start();
  while (true) co_await rt.Sleep(std::chrono::seconds(1));
}

struct Outcome {
  absl::StatusOr<std::string> result = absl::UnknownError("not run");
  int64_t finished_ns = 0;
};

Task<void> Client(Runtime& rt, std::string method, Duration timeout, Outcome* out) {
  RpcNode rpc(rt);
  rpc.Start();
  out->result = co_await rpc.CallRaw(0, method, "hello", CallOptions{rt.DeadlineAfter(timeout)});
  out->finished_ns = ToNanos(rt.Now());
}

Outcome RunCall(uint64_t seed, std::string method, bool server_up, double loss = 0) {
  World world(WorldOptions{.seed = seed});
  int served = 0;
  Outcome out;
  const NodeId s = world.AddNode("server", [&served](Runtime& rt) { return Server(rt, &served); });
  const NodeId c = world.AddNode("client", [&out, method](Runtime& rt) {
    return Client(rt, method, std::chrono::seconds(2), &out);
  });
  world.network().faults().loss_probability = loss;
  if (server_up) world.Start(s);
  world.Start(c);
  world.RunFor(std::chrono::seconds(5));
  return out;
}

TEST(Rpc, CallGetsTheReply) {
  Outcome o = RunCall(1, "echo", true);
  ASSERT_TRUE(o.result.ok()) << o.result.status();
  EXPECT_EQ(*o.result, "hello");
}

TEST(Rpc, HandlerErrorsReachTheCaller) {
  Outcome o = RunCall(1, "fail", true);
  EXPECT_EQ(o.result.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(o.result.status().message().find("refused on purpose"), std::string_view::npos);
}

TEST(Rpc, UnknownMethodIsUnimplemented) {
  EXPECT_EQ(RunCall(1, "nope", true).result.status().code(), absl::StatusCode::kUnimplemented);
}

TEST(Rpc, ADownServerMeansDeadlineExceededWithinTheDeadline) {
  Outcome o = RunCall(1, "echo", false);
  EXPECT_EQ(o.result.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_LE(o.finished_ns, 2'000'000'000);
}

TEST(Rpc, RetriesGetThroughALossyNetwork) {
  int ok = 0;
  for (uint64_t seed = 1; seed <= 30; ++seed) ok += RunCall(seed, "echo", true, 0.3).result.ok();
  // One attempt succeeds with p = 0.49 (request and reply both arrive); three attempts with
  // p ~= 0.87. Without retries about 15 of 30 would succeed.
  EXPECT_GE(ok, 22);
}

// A one-way request runs its handler once and is never answered: no reply reaches the
// sender (its replies counter stays at zero), and the handler sees the sender's deadline.
TEST(Rpc, SendRunsTheHandlerWithoutAReply) {
  World world(WorldOptions{.seed = 7});
  std::vector<std::string> bodies;
  int64_t budget_ms = -1;
  RpcNode::Stats sender_stats;
  const NodeId s = world.AddNode("server", [&](Runtime& rt) -> Task<void> {
    RpcNode rpc(rt);
    rpc.Register("note", [&](CallContext c, std::string body) -> Task<absl::StatusOr<std::string>> {
      bodies.push_back(body);
      budget_ms = std::chrono::duration_cast<milliseconds>(c.deadline - rt.Now()).count();
      co_return std::string("a reply nobody reads");
    });
    rpc.Start();
    while (true) co_await rt.Sleep(std::chrono::seconds(1));
  });
  const NodeId c = world.AddNode("client", [&](Runtime& rt) -> Task<void> {
    RpcNode rpc(rt);
    rpc.Start();
    rpc.SendRaw(0, "note", "first", rt.DeadlineAfter(std::chrono::seconds(3)));
    rpc.SendRaw(0, "note", "second", rt.DeadlineAfter(std::chrono::seconds(3)));
    co_await rt.Sleep(std::chrono::seconds(2));
    sender_stats = rpc.stats();
  });
  world.Start(s);
  world.Start(c);
  world.RunFor(std::chrono::seconds(3));
  std::sort(bodies.begin(), bodies.end());  // the network may reorder them
  EXPECT_EQ(bodies, (std::vector<std::string>{"first", "second"}));
  EXPECT_GT(budget_ms, 2000);  // 3 s less the network's delay
  EXPECT_LE(budget_ms, 3000);
  EXPECT_EQ(sender_stats.sends, 2u);
  EXPECT_EQ(sender_stats.replies, 0u);
}

}  // namespace
}  // namespace cairn::rpc

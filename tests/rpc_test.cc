// The RPC layer over the simulated network: replies, retries, deadlines, failures.
#include <string>

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

// A one-way send runs the handler once and sends nothing back: one message, not two.
TEST(Rpc, AOneWaySendRunsTheHandlerAndIsNotAnswered) {
  World world(WorldOptions{.seed = 3});
  int served = 0;
  const NodeId s = world.AddNode("server", [&served](Runtime& rt) { return Server(rt, &served); });
  const NodeId c = world.AddNode("client", [](Runtime& rt) -> Task<void> {
    RpcNode rpc(rt);
    rpc.Start();
    for (int i = 0; i < 3; ++i) rpc.SendRaw(0, "count", "hello", std::chrono::seconds(1));
    while (true) co_await rt.Sleep(std::chrono::seconds(1));
  });
  world.Start(s);
  world.Start(c);
  world.RunFor(std::chrono::seconds(2));
  EXPECT_EQ(served, 3);
  EXPECT_EQ(world.network().stats().sent, 3u);
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

}  // namespace
}  // namespace cairn::rpc

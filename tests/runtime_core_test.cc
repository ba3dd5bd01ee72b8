// Tasks, task groups, channels, deadlines and cancellation, on a simulated node.
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "sim/core/world.h"
#include "src/runtime/channel.h"
#include "src/runtime/deadline.h"
#include "src/runtime/task_group.h"

namespace cairn {
namespace {

using std::chrono::milliseconds;
using sim::World;
using sim::WorldOptions;

// Runs `program` as the only node of a fresh world until nothing is left to do.
void RunOnNode(std::function<Task<void>(Runtime&)> program, uint64_t seed = 1) {
  World world(WorldOptions{.seed = seed});
  world.Start(world.AddNode("n0", std::move(program)));
  while (world.Step()) {
  }
}

Task<int> Leaf(int x) { co_return x * 2; }
Task<int> Chain(int depth) {
  if (depth == 0) co_return 0;
  const int below = co_await Chain(depth - 1);
  co_return below + 1;
}

TEST(Task, ReturnsValuesThroughAwaits) {
  int result = 0;
  RunOnNode([&result](Runtime&) -> Task<void> {
    const int a = co_await Leaf(21);
    result = a;
  });
  EXPECT_EQ(result, 42);
}

TEST(Task, NestedAwaitChainsComplete) {
  int result = 0;
  RunOnNode([&result](Runtime&) -> Task<void> { result = co_await Chain(10000); });
  EXPECT_EQ(result, 10000);
}

// Three million awaits of tasks that finish synchronously: constant stack in every build
// (this overflowed the stack under ASan and -O0 when Task relied on symmetric transfer alone).
TEST(Task, LoopsOfSynchronousAwaitsUseConstantStack) {
  int64_t sum = 0;
  RunOnNode([&sum](Runtime&) -> Task<void> {
    for (int i = 0; i < 3'000'000; ++i) sum += co_await Leaf(i);
  });
  EXPECT_EQ(sum, int64_t{3'000'000} * (3'000'000 - 1));
}

// The same with awaits that suspend (a yield) every so often in between.
TEST(Task, LoopsMixingSuspendingAndSynchronousAwaitsComplete) {
  int64_t sum = 0;
  RunOnNode([&sum](Runtime& rt) -> Task<void> {
    for (int i = 0; i < 200'000; ++i) {
      if (i % 1000 == 0) co_await rt.executor().Yield();
      sum += co_await Leaf(1);
    }
  });
  EXPECT_EQ(sum, 2 * 200'000);
}

TEST(Task, UnstartedTaskRunsNothing) {
  int runs = 0;
  auto body = [](int* runs) -> Task<void> {
    ++*runs;
    co_return;
  };
  { Task<void> t = body(&runs); }
  EXPECT_EQ(runs, 0);
}

TEST(Executor, SleepsWakeInTimeOrder) {
  std::vector<std::pair<int, int64_t>> wakes;
  RunOnNode([&wakes](Runtime& rt) -> Task<void> {
    TaskGroup group(rt.executor());
    auto sleeper = [](Runtime& rt, int id, Duration d, std::vector<std::pair<int, int64_t>>* out) -> Task<void> {
      co_await rt.Sleep(d);
      out->push_back({id, ToNanos(rt.Now())});
    };
    group.Spawn(sleeper(rt, 20, milliseconds(20), &wakes));
    group.Spawn(sleeper(rt, 5, milliseconds(5), &wakes));
    co_await rt.Sleep(milliseconds(30));
  });
  ASSERT_EQ(wakes.size(), 2u);
  EXPECT_EQ(wakes[0], (std::pair<int, int64_t>{5, 5'000'000}));
  EXPECT_EQ(wakes[1], (std::pair<int, int64_t>{20, 20'000'000}));
}

TEST(Channel, ReceiveTimesOutAtItsDeadline) {
  absl::Status status;
  int64_t at = 0;
  RunOnNode([&](Runtime& rt) -> Task<void> {
    Channel<int> ch(rt.executor(), 4);
    absl::StatusOr<int> r = co_await ch.Receive(rt.DeadlineAfter(milliseconds(7)));
    status = r.status();
    at = ToNanos(rt.Now());
  });
  EXPECT_EQ(status.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(at, 7'000'000);
}

TEST(Channel, SendWakesTheReceiverAndBoundsHold) {
  std::vector<int> got;
  bool overflow_refused = false;
  RunOnNode([&](Runtime& rt) -> Task<void> {
    Channel<int> ch(rt.executor(), 2);
    TaskGroup group(rt.executor());
    group.Spawn([](Runtime& rt, Channel<int>* ch, bool* refused) -> Task<void> {
      co_await rt.Sleep(milliseconds(3));
      EXPECT_TRUE(ch->TrySend(1));
      EXPECT_TRUE(ch->TrySend(2));
      *refused = !ch->TrySend(3);  // capacity 2
    }(rt, &ch, &overflow_refused));
    for (int i = 0; i < 2; ++i) {
      absl::StatusOr<int> r = co_await ch.Receive(rt.DeadlineAfter(milliseconds(100)));
      EXPECT_TRUE(r.ok());
      if (r.ok()) got.push_back(*r);
    }
    EXPECT_EQ(ToNanos(rt.Now()), 3'000'000);
  });
  EXPECT_EQ(got, (std::vector<int>{1, 2}));
  EXPECT_TRUE(overflow_refused);
}

TEST(Channel, CloseEndsTheWait) {
  absl::StatusCode code = absl::StatusCode::kOk;
  RunOnNode([&](Runtime& rt) -> Task<void> {
    Channel<int> ch(rt.executor(), 1);
    TaskGroup group(rt.executor());
    group.Spawn([](Runtime& rt, Channel<int>* ch) -> Task<void> {
      co_await rt.Sleep(milliseconds(1));
      ch->Close();
    }(rt, &ch));
    code = (co_await ch.Receive(rt.DeadlineAfter(milliseconds(50)))).status().code();
  });
  EXPECT_EQ(code, absl::StatusCode::kCancelled);
}

// Counts its own destruction, to observe that a cancelled frame was really destroyed.
struct DestructionProbe {
  int* destroyed;
  ~DestructionProbe() { ++*destroyed; }
};

TEST(TaskGroup, DestroyingTheGroupCancelsItsTasks) {
  int destroyed = 0, resumed_after_cancel = 0;
  RunOnNode([&](Runtime& rt) -> Task<void> {
    {
      TaskGroup group(rt.executor());
      for (int i = 0; i < 3; ++i) {
        group.Spawn([](Runtime& rt, int* destroyed, int* resumed) -> Task<void> {
          DestructionProbe probe{destroyed};
          co_await rt.Sleep(milliseconds(10));
          ++*resumed;
        }(rt, &destroyed, &resumed_after_cancel));
      }
      co_await rt.Sleep(milliseconds(1));
      EXPECT_EQ(group.size(), 3u);
    }  // the group dies here, with its three sleeping tasks
    EXPECT_EQ(destroyed, 3);
    co_await rt.Sleep(milliseconds(50));  // their timers fire into cleared slots
  });
  EXPECT_EQ(destroyed, 3);
  EXPECT_EQ(resumed_after_cancel, 0);
}

TEST(TaskGroup, FinishedTasksAreFreed) {
  size_t left = 99;
  RunOnNode([&](Runtime& rt) -> Task<void> {
    TaskGroup group(rt.executor());
    for (int i = 0; i < 10; ++i) group.Spawn([]() -> Task<void> { co_return; }());
    co_await rt.Sleep(milliseconds(1));
    left = group.size();
  });
  EXPECT_EQ(left, 0u);
}

Task<int> SlowAnswer(Runtime& rt, Duration d, int* side_effects) {
  co_await rt.Sleep(d);
  ++*side_effects;
  co_return 7;
}

TEST(WithDeadline, ReturnsInTimeOrCancels) {
  int side_effects = 0;
  absl::StatusOr<int> fast, slow;
  RunOnNode([&](Runtime& rt) -> Task<void> {
    fast = co_await WithDeadline(rt.executor(), rt.DeadlineAfter(milliseconds(10)),
                                 SlowAnswer(rt, milliseconds(2), &side_effects));
    slow = co_await WithDeadline(rt.executor(), rt.DeadlineAfter(milliseconds(10)),
                                 SlowAnswer(rt, milliseconds(50), &side_effects));
    co_await rt.Sleep(milliseconds(100));  // the abandoned task must not finish later
  });
  ASSERT_TRUE(fast.ok());
  EXPECT_EQ(*fast, 7);
  EXPECT_EQ(slow.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(side_effects, 1);
}

}  // namespace
}  // namespace cairn

// Tests of the real runtime (src/runtime/real) against the real world: loopback TCP between
// nodes on their own threads, files in a temporary directory, the OS clock.
#include <dirent.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "asio/connect.hpp"
#include "asio/executor_work_guard.hpp"
#include "asio/ip/tcp.hpp"
#include "asio/read.hpp"
#include "asio/write.hpp"
#include "gtest/gtest.h"
#include "src/base/coding.h"
#include "src/runtime/real/blocking_pool.h"
#include "src/runtime/real/posix_disk.h"
#include "src/runtime/real/real_executor.h"
#include "src/runtime/real/real_node.h"
#include "src/runtime/real/tcp_network.h"

namespace cairn::real {
namespace {

using namespace std::chrono_literals;
using asio::ip::tcp;

// In a coroutine a failed check must co_return, not return.
#define CO_EXPECT_OK(expr)                                      \
  do {                                                          \
    const absl::Status co_expect_status_ = (expr);              \
    EXPECT_TRUE(co_expect_status_.ok()) << co_expect_status_;   \
    if (!co_expect_status_.ok()) co_return co_expect_status_;   \
  } while (false)

std::string FreshDir(const std::string& name) {
  static std::atomic<int> counter{0};
  const std::string dir = testing::TempDir() + "/real_runtime_test_" + std::to_string(getpid()) +
                          "_" + std::to_string(counter++) + "_" + name;
  std::filesystem::remove_all(dir);
  return dir;
}

// A port that was free a moment ago, for a node that must be reachable before it starts.
uint16_t FreePort() {
  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  return acceptor.local_endpoint().port();
}

std::string Loopback(uint16_t port) { return "127.0.0.1:" + std::to_string(port); }

int OpenFdCount() {
  int count = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    ++count;
  }
  return count;
}

NodeConfig Config(NodeId id, std::string listen, std::map<NodeId, std::string> peers) {
  NodeConfig config;
  config.id = id;
  config.listen_address = std::move(listen);
  config.peers = std::move(peers);
  config.data_dir = FreshDir("node" + std::to_string(id));
  config.seed = 1;
  config.knobs.net_reconnect_backoff_ms_max = 50;
  return config;
}

std::unique_ptr<RealNode> MakeNode(NodeConfig config) {
  absl::StatusOr<std::unique_ptr<RealNode>> node = RealNode::Create(std::move(config));
  EXPECT_TRUE(node.ok()) << node.status();
  return node.ok() ? *std::move(node) : nullptr;
}

// Messages a node received, shared with the test thread.
class Inbox {
 public:
  void Add(Message m) {
    std::lock_guard<std::mutex> lock(mu_);
    messages_.push_back(std::move(m));
    cv_.notify_all();
  }
  // Waits until `done(messages)` holds; false after `timeout`.
  bool WaitFor(const std::function<bool(const std::vector<Message>&)>& done,
               std::chrono::milliseconds timeout = 2000ms) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return done(messages_); });
  }
  bool WaitForPayload(const std::string& payload, std::chrono::milliseconds timeout = 2000ms) {
    return WaitFor([&](const std::vector<Message>& ms) { return Contains(ms, payload); }, timeout);
  }
  std::vector<Message> Snapshot() {
    std::lock_guard<std::mutex> lock(mu_);
    return messages_;
  }
  static bool Contains(const std::vector<Message>& ms, const std::string& payload) {
    for (const Message& m : ms) {
      if (m.payload == payload) return true;
    }
    return false;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Message> messages_;
};

// Records every message; answers "echo:<payload>" to the sender if `echo`. Runs until stopped.
Task<absl::Status> Listen(Runtime& rt, Inbox* inbox, bool echo) {
  for (;;) {
    absl::StatusOr<Message> m = co_await rt.network().Receive(kInstantMax);
    if (!m.ok()) co_return m.status();
    if (echo && m->payload.rfind("echo:", 0) != 0) {
      CO_EXPECT_OK(rt.network().Send(m->from, "echo:" + m->payload));
    }
    inbox->Add(*std::move(m));
  }
}

// A node's event loop on its own thread, as in a real process. Its main runs until Join stops
// it; any other end (a failed check in a coroutine) is a test failure.
class NodeThread {
 public:
  NodeThread(RealNode& node, Task<absl::Status> main)
      : node_(node), thread_([this, main = std::move(main)]() mutable {
          status_ = node_.Run(std::move(main));
        }) {}
  ~NodeThread() { Join(); }
  void Join() {
    if (!thread_.joinable()) return;
    node_.Stop();
    thread_.join();
    EXPECT_EQ(status_.code(), absl::StatusCode::kCancelled) << status_;
  }

 private:
  RealNode& node_;
  absl::Status status_;
  std::thread thread_;
};

// ---------------------------------------------------------------------------------------------
// Executor

Task<void> SleepThenRecord(Executor& ex, Duration d, int tag, std::vector<int>* order) {
  co_await ex.SleepFor(d);
  order->push_back(tag);
}

Task<void> SleepUntilThenRecord(Executor& ex, Instant t, int tag, std::vector<int>* order) {
  co_await ex.SleepUntil(t);
  order->push_back(tag);
}

TEST(RealExecutorTest, ShorterSleepFinishesFirst) {
  asio::io_context io;
  RealExecutor ex(io);
  std::vector<int> order;
  const Instant start = ex.Now();
  ex.Spawn(SleepThenRecord(ex, 20ms, 20, &order));
  ex.Spawn(SleepThenRecord(ex, 5ms, 5, &order));
  ex.Spawn(SleepThenRecord(ex, 0ms, 0, &order));
  io.run();  // returns once no timer or handler is left
  EXPECT_EQ(order, (std::vector<int>{0, 5, 20}));
  EXPECT_GE(ex.Now() - start, 20ms);
  EXPECT_EQ(ex.spawned_tasks(), 0u);
}

TEST(RealExecutorTest, CancelledSleepNeverResumes) {
  asio::io_context io;
  RealExecutor ex(io);
  std::vector<int> order;
  ex.Spawn(SleepThenRecord(ex, 10ms, 10, &order));
  ex.Spawn(SleepUntilThenRecord(ex, kInstantMax, 99, &order));
  io.poll();  // both are now asleep
  EXPECT_EQ(ex.spawned_tasks(), 2u);
  ex.DestroyAllTasks();
  io.run();  // the 10ms timer still fires, into a cleared slot; the endless one armed nothing
  EXPECT_TRUE(order.empty());
}

// ---------------------------------------------------------------------------------------------
// Disk

Task<absl::Status> DiskWalkthrough(Runtime& rt) {
  Disk& disk = rt.disk();
  absl::StatusOr<std::unique_ptr<File>> opened = co_await disk.Open("a", {.create = true});
  CO_EXPECT_OK(opened.status());
  std::unique_ptr<File> file = *std::move(opened);
  CO_EXPECT_OK(co_await file->Write(0, "hello"));
  CO_EXPECT_OK(co_await file->Append(" world"));
  absl::StatusOr<std::string> read = co_await file->Read(0, 100);
  CO_EXPECT_OK(read.status());
  EXPECT_EQ(*read, "hello world");
  read = co_await file->Read(4, 3);
  EXPECT_EQ(read.value_or("?"), "o w");
  read = co_await file->Read(100, 3);
  EXPECT_EQ(read.value_or("?"), "");
  absl::StatusOr<uint64_t> size = co_await file->Size();
  EXPECT_EQ(size.value_or(0), 11u);
  CO_EXPECT_OK(co_await file->Truncate(5));
  size = co_await file->Size();
  EXPECT_EQ(size.value_or(0), 5u);
  CO_EXPECT_OK(co_await file->Append("!"));  // at the new end, not the old one
  read = co_await file->Read(0, 100);
  EXPECT_EQ(read.value_or("?"), "hello!");
  CO_EXPECT_OK(co_await file->Sync());
  file.reset();

  CO_EXPECT_OK(co_await disk.CreateDir("d"));
  CO_EXPECT_OK(co_await disk.CreateDir("d"));  // already a directory: fine
  CO_EXPECT_OK(co_await disk.Rename("a", "d/b"));
  CO_EXPECT_OK(co_await disk.SyncDir("d"));
  CO_EXPECT_OK(co_await disk.SyncDir(""));
  {
    absl::StatusOr<std::unique_ptr<File>> f = co_await disk.Open("d/c", {.create = true});
    CO_EXPECT_OK(f.status());
  }
  absl::StatusOr<std::vector<std::string>> names = co_await disk.List("d");
  EXPECT_EQ(names.value_or(std::vector<std::string>{"?"}), (std::vector<std::string>{"b", "c"}));
  names = co_await disk.List("");
  EXPECT_EQ(names.value_or(std::vector<std::string>{"?"}), (std::vector<std::string>{"d"}));

  // Errors.
  EXPECT_EQ((co_await disk.Open("missing", {})).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ((co_await disk.Open("d/b", {.create = true, .exclusive = true})).status().code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ((co_await disk.Open("../x", {.create = true})).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ((co_await disk.Open("d/../../x", {.create = true})).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ((co_await disk.Open("/etc/passwd", {})).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ((co_await disk.List("..")).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ((co_await disk.List("nodir")).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ((co_await disk.Rename("missing", "x")).code(), absl::StatusCode::kNotFound);
  EXPECT_FALSE((co_await disk.Remove("d")).ok());  // not empty

  // Truncate on open empties the file.
  {
    absl::StatusOr<std::unique_ptr<File>> f = co_await disk.Open("d/c", {.truncate = true});
    CO_EXPECT_OK(f.status());
    CO_EXPECT_OK(co_await (*f)->Append("kept"));
    CO_EXPECT_OK(co_await (*f)->Sync());
  }
  CO_EXPECT_OK(co_await disk.Remove("d/b"));
  EXPECT_EQ((co_await disk.Remove("d/b")).code(), absl::StatusCode::kNotFound);
  names = co_await disk.List("d");
  EXPECT_EQ(names.value_or(std::vector<std::string>{"?"}), (std::vector<std::string>{"c"}));
  CO_EXPECT_OK(co_await disk.CreateDir("empty"));
  CO_EXPECT_OK(co_await disk.Remove("empty"));  // an empty directory
  co_return absl::OkStatus();
}

TEST(PosixDiskTest, FilesAndDirectories) {
  NodeConfig config = Config(1, "", {});
  const std::string dir = config.data_dir;
  std::unique_ptr<RealNode> node = MakeNode(std::move(config));
  ASSERT_NE(node, nullptr);
  EXPECT_TRUE(std::filesystem::is_directory(dir));  // created
  absl::Status status = node->Run(DiskWalkthrough(node->runtime()));
  EXPECT_TRUE(status.ok()) << status;
  // The calls reached the real file system, under the data directory.
  std::ifstream in(dir + "/d/c");
  std::stringstream content;
  content << in.rdbuf();
  EXPECT_EQ(content.str(), "kept");
  EXPECT_FALSE(std::filesystem::exists(dir + "/d/b"));
}

Task<void> ReadAndRecord(std::unique_ptr<File> file, size_t length, std::atomic<int>* resumed) {
  absl::StatusOr<std::string> data = co_await file->Read(0, length);
  resumed->fetch_add(1);
}

Task<void> OpenInto(Disk& disk, std::string path, std::unique_ptr<File>* out) {
  absl::StatusOr<std::unique_ptr<File>> f = co_await disk.Open(std::move(path), {});
  EXPECT_TRUE(f.ok()) << f.status();
  if (f.ok()) *out = *std::move(f);
}

// The waiting task, and the File it owns, are destroyed while the read is with the pool: the
// read must still run safely, its completion must not resume anything, and the file must close.
TEST(PosixDiskTest, CancelledReadNeitherResumesNorLeaks) {
  const std::string dir = FreshDir("cancel");
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/big") << std::string(1 << 20, 'x');
  const int fds_before = OpenFdCount();
  {
    asio::io_context io;
    BlockingPool pool(io, 1);
    RealExecutor ex(io);
    PosixDisk disk(pool, dir);
    // The loop must wait for the pool, so it needs work to keep it from returning early.
    auto work = asio::make_work_guard(io);
    auto run_until = [&io](const std::function<bool()>& done) {
      const auto deadline = std::chrono::steady_clock::now() + 2s;
      while (!done() && std::chrono::steady_clock::now() < deadline) io.run_one_for(10ms);
      return done();
    };
    std::unique_ptr<File> file;
    ex.Spawn(OpenInto(disk, "big", &file));
    ASSERT_TRUE(run_until([&] { return file != nullptr; }));
    EXPECT_EQ(OpenFdCount(), fds_before + 1);

    // Hold the pool's only thread, so the read waits in its queue.
    std::promise<void> gate;
    pool.Submit([opened = gate.get_future().share()] { opened.wait(); }, nullptr);
    std::atomic<int> resumed{0};
    ex.Spawn(ReadAndRecord(std::move(file), 1 << 20, &resumed));
    io.poll();  // the read is submitted; its task waits
    EXPECT_EQ(ex.spawned_tasks(), 1u);
    ex.DestroyAllTasks();
    gate.set_value();
    // Jobs start in order on the one thread: once this one completes, the read has run.
    bool drained = false;
    pool.Submit([] {}, [&] { drained = true; });
    EXPECT_TRUE(run_until([&] { return drained; }));
    io.poll();
    EXPECT_EQ(resumed.load(), 0);
    EXPECT_EQ(OpenFdCount(), fds_before);

    // Cancel many reads at arbitrary points of their life, for the sanitizers.
    for (int round = 0; round < 20; ++round) {
      for (int i = 0; i < 4; ++i) {
        std::unique_ptr<File> f;
        ex.Spawn(OpenInto(disk, "big", &f));
        ASSERT_TRUE(run_until([&] { return f != nullptr; }));
        ex.Spawn(ReadAndRecord(std::move(f), (1 << 20) >> i, &resumed));
      }
      io.run_for(std::chrono::microseconds(100 * round));
      ex.DestroyAllTasks();
    }
  }  // pool joined, io_context gone: every job finished or was dropped
  EXPECT_EQ(OpenFdCount(), fds_before);
}

Task<void> ReadForever(Runtime& rt) {
  absl::StatusOr<std::unique_ptr<File>> f = co_await rt.disk().Open("f", {.create = true});
  if (!f.ok()) co_return;
  (void)co_await (*f)->Write(0, std::string(256 << 10, 'y'));
  for (;;) (void)co_await (*f)->Read(0, 256 << 10);
}

Task<absl::Status> SpawnReadersAndLeave(Runtime& rt) {
  for (int i = 0; i < 4; ++i) rt.executor().Spawn(ReadForever(rt));
  co_await rt.Sleep(20ms);
  co_return absl::OkStatus();
}

TEST(RealNodeTest, DestroyedWithDiskCallsInFlight) {
  const int fds_before = OpenFdCount();
  {
    std::unique_ptr<RealNode> node = MakeNode(Config(1, "", {}));
    ASSERT_NE(node, nullptr);
    EXPECT_TRUE(node->Run(SpawnReadersAndLeave(node->runtime())).ok());
    EXPECT_EQ(node->runtime().executor().spawned_tasks(), 4u);
  }
  EXPECT_EQ(OpenFdCount(), fds_before);
}

// ---------------------------------------------------------------------------------------------
// RealNode lifecycle

Task<absl::Status> ReturnStatus(absl::Status s) { co_return s; }

Task<absl::Status> SleepForever(Runtime& rt) {
  co_await rt.executor().SleepUntil(kInstantMax);
  co_return absl::OkStatus();
}

Task<absl::Status> RaiseThenSleep(Runtime& rt) {
  co_await rt.Sleep(1ms);
  std::raise(SIGTERM);
  co_await rt.Sleep(10s);
  co_return absl::OkStatus();
}

TEST(RealNodeTest, RunReturnsMainsStatusOrCancelled) {
  std::unique_ptr<RealNode> node = MakeNode(Config(1, "", {}));
  ASSERT_NE(node, nullptr);
  EXPECT_EQ(node->Run(ReturnStatus(absl::DataLossError("x"))).code(),
            absl::StatusCode::kDataLoss);

  node->Stop();  // before Run: the next Run returns at once
  EXPECT_EQ(node->Run(SleepForever(node->runtime())).code(), absl::StatusCode::kCancelled);

  std::thread stopper([&] {
    std::this_thread::sleep_for(30ms);
    node->Stop();
  });
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(node->Run(SleepForever(node->runtime())).code(), absl::StatusCode::kCancelled);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 30ms);
  stopper.join();

  EXPECT_EQ(node->Run(RaiseThenSleep(node->runtime()), /*handle_signals=*/true).code(),
            absl::StatusCode::kCancelled);
  EXPECT_TRUE(node->Run(ReturnStatus(absl::OkStatus())).ok());  // still usable
}

Task<absl::Status> TryDisk(Runtime& rt) {
  absl::StatusOr<std::unique_ptr<File>> f = co_await rt.disk().Open("x", {.create = true});
  co_return f.status();
}

TEST(RealNodeTest, NodeWithoutDataDirHasNoDisk) {
  NodeConfig config = Config(1, "", {});
  config.data_dir.clear();
  std::unique_ptr<RealNode> node = MakeNode(config);
  ASSERT_NE(node, nullptr);
  EXPECT_EQ(node->Run(TryDisk(node->runtime())).code(), absl::StatusCode::kFailedPrecondition);
}

TEST(RealNodeTest, BadConfigIsRejected) {
  EXPECT_EQ(RealNode::Create(Config(1, "127.0.0.1", {})).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(RealNode::Create(Config(1, "", {{2, "nowhere"}})).status().code(),
            absl::StatusCode::kInvalidArgument);
  // A port already taken.
  std::unique_ptr<RealNode> first = MakeNode(Config(1, "127.0.0.1:0", {}));
  ASSERT_NE(first, nullptr);
  EXPECT_FALSE(RealNode::Create(Config(2, first->listen_address(), {})).ok());
}

// ---------------------------------------------------------------------------------------------
// Network

Task<absl::Status> AskOnce(Runtime& rt, NodeId server) {
  CO_EXPECT_OK(rt.network().Send(server, "hi"));
  absl::StatusOr<Message> reply = co_await rt.network().Receive(rt.DeadlineAfter(2s));
  CO_EXPECT_OK(reply.status());
  EXPECT_EQ(reply->from, server);
  EXPECT_EQ(reply->payload, "echo:hi");
  co_return absl::OkStatus();
}

TEST(TcpNetworkTest, ClientWithoutListenerGetsReplyOverItsConnection) {
  std::unique_ptr<RealNode> server = MakeNode(Config(1, "127.0.0.1:0", {}));
  ASSERT_NE(server, nullptr);
  const std::string address = server->listen_address();
  EXPECT_NE(address, "127.0.0.1:0");
  EXPECT_EQ(address.rfind("127.0.0.1:", 0), 0u);
  Inbox server_inbox;
  NodeThread server_thread(*server, Listen(server->runtime(), &server_inbox, /*echo=*/true));

  std::unique_ptr<RealNode> client = MakeNode(Config(100, "", {{1, address}}));
  ASSERT_NE(client, nullptr);
  EXPECT_EQ(client->listen_address(), "");
  absl::Status status = client->Run(AskOnce(client->runtime(), 1));
  EXPECT_TRUE(status.ok()) << status;
  ASSERT_TRUE(server_inbox.WaitForPayload("hi"));
  EXPECT_EQ(server_inbox.Snapshot()[0].from, 100u);
}

Task<absl::Status> SendAllThenListen(Runtime& rt, NodeId to, int count, Inbox* inbox) {
  for (int i = 0; i < count; ++i) {
    CO_EXPECT_OK(rt.network().Send(to, std::to_string(rt.node_id()) + "#" + std::to_string(i)));
  }
  co_return co_await Listen(rt, inbox, /*echo=*/false);
}

TEST(TcpNetworkTest, TwoServersExchangeMessagesBothWays) {
  const uint16_t port_a = FreePort();
  const uint16_t port_b = FreePort();
  std::unique_ptr<RealNode> a = MakeNode(Config(1, Loopback(port_a), {{2, Loopback(port_b)}}));
  std::unique_ptr<RealNode> b = MakeNode(Config(2, Loopback(port_b), {{1, Loopback(port_a)}}));
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  constexpr int kCount = 200;
  Inbox inbox_a, inbox_b;
  NodeThread thread_a(*a, SendAllThenListen(a->runtime(), 2, kCount, &inbox_a));
  NodeThread thread_b(*b, SendAllThenListen(b->runtime(), 1, kCount, &inbox_b));
  auto all = [](const std::vector<Message>& ms) { return ms.size() >= kCount; };
  EXPECT_TRUE(inbox_a.WaitFor(all));
  EXPECT_TRUE(inbox_b.WaitFor(all));
  thread_a.Join();
  thread_b.Join();
  // Each got every message of the other, once, from the right sender. (Both dialed, so there
  // were two connections; the order across them is not promised.)
  for (auto [inbox, from] : {std::pair{&inbox_a, 2u}, std::pair{&inbox_b, 1u}}) {
    std::set<std::string> payloads;
    for (const Message& m : inbox->Snapshot()) {
      EXPECT_EQ(m.from, from);
      payloads.insert(m.payload);
    }
    EXPECT_EQ(payloads.size(), static_cast<size_t>(kCount));
    EXPECT_TRUE(payloads.count(std::to_string(from) + "#" + std::to_string(kCount - 1)));
  }
}

Task<absl::Status> SendToUnknownAndSelf(Runtime& rt) {
  EXPECT_EQ(rt.network().Send(5, "x").code(), absl::StatusCode::kNotFound);
  CO_EXPECT_OK(rt.network().Send(rt.node_id(), "me"));
  absl::StatusOr<Message> m = co_await rt.network().Receive(rt.DeadlineAfter(1s));
  CO_EXPECT_OK(m.status());
  EXPECT_EQ(m->from, rt.node_id());
  EXPECT_EQ(m->payload, "me");
  m = co_await rt.network().Receive(rt.DeadlineAfter(5ms));
  EXPECT_EQ(m.status().code(), absl::StatusCode::kDeadlineExceeded);
  co_return absl::OkStatus();
}

TEST(TcpNetworkTest, UnknownNodeIsNotFoundAndSelfIsLocal) {
  std::unique_ptr<RealNode> node = MakeNode(Config(1, "", {}));
  ASSERT_NE(node, nullptr);
  EXPECT_TRUE(node->Run(SendToUnknownAndSelf(node->runtime())).ok());
}

// Sends "early" to a peer that is down, then a tick every 10ms, forever.
Task<absl::Status> SendEarlyThenTick(Runtime& rt, NodeId to, std::atomic<int>* send_errors) {
  if (!rt.network().Send(to, "early").ok()) send_errors->fetch_add(1);
  for (int i = 0;; ++i) {
    co_await rt.Sleep(10ms);
    if (!rt.network().Send(to, "tick" + std::to_string(i)).ok()) send_errors->fetch_add(1);
  }
}

TEST(TcpNetworkTest, DeliveryResumesWhenPeerStartsAndRestarts) {
  const uint16_t port_b = FreePort();
  std::unique_ptr<RealNode> a = MakeNode(Config(1, "127.0.0.1:0", {{2, Loopback(port_b)}}));
  ASSERT_NE(a, nullptr);
  std::atomic<int> send_errors{0};
  NodeThread thread_a(*a, SendEarlyThenTick(a->runtime(), 2, &send_errors));
  std::this_thread::sleep_for(150ms);  // a few refused dials, with backoff

  {
    // B does not know A's address: everything arrives over A's one connection, in order.
    NodeConfig config_b = Config(2, Loopback(port_b), {});
    std::unique_ptr<RealNode> b = MakeNode(config_b);
    ASSERT_NE(b, nullptr);
    Inbox inbox_b;
    NodeThread thread_b(*b, Listen(b->runtime(), &inbox_b, /*echo=*/false));
    ASSERT_TRUE(inbox_b.WaitFor([](const auto& ms) { return ms.size() >= 3; }));
    const std::vector<Message> got = inbox_b.Snapshot();
    EXPECT_EQ(got[0].payload, "early");  // queued while B was down
    EXPECT_EQ(got[0].from, 1u);
    EXPECT_EQ(got[1].payload.rfind("tick", 0), 0u);
  }  // B stops; its connections close

  std::unique_ptr<RealNode> b2 = MakeNode(Config(2, Loopback(port_b), {}));
  ASSERT_NE(b2, nullptr);
  Inbox inbox_b2;
  NodeThread thread_b2(*b2, Listen(b2->runtime(), &inbox_b2, /*echo=*/false));
  EXPECT_TRUE(inbox_b2.WaitFor([](const auto& ms) { return ms.size() >= 2; }));
  thread_b2.Join();
  thread_a.Join();
  EXPECT_EQ(send_errors.load(), 0);  // a peer being down is never a Send error
}

// Fills the queue for a down peer past its bound, then checks what got through.
Task<absl::Status> OverfillQueueThenMark(Runtime& rt, RealNode* node) {
  Network& net = rt.network();
  CO_EXPECT_OK(net.Send(2, std::string(400, '1')));
  CO_EXPECT_OK(net.Send(2, std::string(400, '2')));
  CO_EXPECT_OK(net.Send(2, std::string(400, '3')));  // over 1000 queued bytes: dropped
  EXPECT_EQ(node->network_stats().dropped_queue_full, 1u);
  for (int echoes = 0; echoes < 2;) {
    absl::StatusOr<Message> m = co_await net.Receive(rt.DeadlineAfter(2s));
    CO_EXPECT_OK(m.status());
    ++echoes;
  }
  CO_EXPECT_OK(net.Send(2, "marker"));
  absl::StatusOr<Message> m = co_await net.Receive(rt.DeadlineAfter(2s));
  CO_EXPECT_OK(m.status());
  EXPECT_EQ(m->payload, "echo:marker");
  co_return absl::OkStatus();
}

TEST(TcpNetworkTest, SendQueueToDownPeerIsBounded) {
  const uint16_t port_b = FreePort();
  NodeConfig config_a = Config(1, "", {{2, Loopback(port_b)}});
  config_a.knobs.net_send_queue_bytes_max = 1000;
  std::unique_ptr<RealNode> a = MakeNode(config_a);
  ASSERT_NE(a, nullptr);
  absl::Status status_a;
  std::thread thread_a([&] { status_a = a->Run(OverfillQueueThenMark(a->runtime(), a.get())); });
  std::this_thread::sleep_for(100ms);
  std::unique_ptr<RealNode> b = MakeNode(Config(2, Loopback(port_b), {}));
  ASSERT_NE(b, nullptr);
  Inbox inbox_b;
  NodeThread thread_b(*b, Listen(b->runtime(), &inbox_b, /*echo=*/true));
  thread_a.join();
  EXPECT_TRUE(status_a.ok()) << status_a;
  thread_b.Join();
  std::vector<std::string> payloads;
  for (const Message& m : inbox_b.Snapshot()) payloads.push_back(m.payload);
  EXPECT_EQ(payloads,
            (std::vector<std::string>{std::string(400, '1'), std::string(400, '2'), "marker"}));
}

// Sends one frame too big for the receiver, then small ones until one is answered.
Task<absl::Status> SendBigThenSmall(Runtime& rt, NodeId to) {
  Network& net = rt.network();
  EXPECT_EQ(net.Send(to, std::string(4097, 'x')).code(), absl::StatusCode::kInvalidArgument);
  CO_EXPECT_OK(net.Send(to, std::string(4096, 'b')));  // fits our limit, not the receiver's
  for (int i = 0;; ++i) {
    CO_EXPECT_OK(net.Send(to, "small" + std::to_string(i)));
    absl::StatusOr<Message> m = co_await net.Receive(rt.DeadlineAfter(20ms));
    if (m.ok()) co_return absl::OkStatus();
  }
}

TEST(TcpNetworkTest, OversizedMessagesAreRefusedAndCloseTheConnection) {
  NodeConfig config_b = Config(2, "127.0.0.1:0", {});
  config_b.knobs.net_message_bytes_max = 1024;
  std::unique_ptr<RealNode> b = MakeNode(config_b);
  ASSERT_NE(b, nullptr);
  Inbox inbox_b;
  NodeThread thread_b(*b, Listen(b->runtime(), &inbox_b, /*echo=*/true));
  NodeConfig config_a = Config(1, "", {{2, b->listen_address()}});
  config_a.knobs.net_message_bytes_max = 4096;
  std::unique_ptr<RealNode> a = MakeNode(config_a);
  ASSERT_NE(a, nullptr);
  const absl::Status status = a->Run(SendBigThenSmall(a->runtime(), 2));
  EXPECT_TRUE(status.ok()) << status;
  thread_b.Join();
  const std::vector<Message> got = inbox_b.Snapshot();
  ASSERT_FALSE(got.empty());
  for (const Message& m : got) EXPECT_LT(m.payload.size(), 1024u);
  EXPECT_GE(b->network_stats().connections_rejected, 1u);
}

TEST(TcpNetworkTest, BadHelloClosesTheConnection) {
  std::unique_ptr<RealNode> b = MakeNode(Config(2, "127.0.0.1:0", {}));
  ASSERT_NE(b, nullptr);
  Inbox inbox_b;
  NodeThread thread_b(*b, Listen(b->runtime(), &inbox_b, /*echo=*/false));

  asio::io_context io;
  tcp::socket socket(io);
  const std::string address = b->listen_address();
  socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"),
                               static_cast<uint16_t>(std::stoi(address.substr(10)))));
  const timeval timeout{2, 0};  // a failure must not hang the test
  ASSERT_EQ(setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &timeout,
                       sizeof(timeout)), 0);
  // The node greets first: length 8, magic, its id.
  char hello[12];
  asio::read(socket, asio::buffer(hello));
  EXPECT_EQ(DecodeFixed32(hello), 8u);
  EXPECT_EQ(DecodeFixed32(hello + 4), kHelloMagic);
  EXPECT_EQ(DecodeFixed32(hello + 8), 2u);
  std::string bad;
  PutFixed32(&bad, 8);
  PutFixed32(&bad, 0xdeadbeef);
  PutFixed32(&bad, 7);
  asio::write(socket, asio::buffer(bad));
  char byte;
  std::error_code error;
  asio::read(socket, asio::buffer(&byte, 1), error);
  EXPECT_TRUE(error == asio::error::eof || error == asio::error::connection_reset) << error;
  thread_b.Join();
  EXPECT_TRUE(inbox_b.Snapshot().empty());
  EXPECT_EQ(b->network_stats().connections_rejected, 1u);
}

}  // namespace
}  // namespace cairn::real

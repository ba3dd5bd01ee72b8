#include "sim/core/node_runtime.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "src/base/hash.h"
#include "src/base/strings.h"

namespace cairn::sim {

class NodeRuntime::SimClock final : public Clock {
 public:
  SimClock(World& world, NodeId id) : world_(world), id_(id) {}
  Instant Now() const override { return world_.MonotonicOf(id_); }
  // Skew and drift are read at each call: a clock fault strikes a running node.
  WallTime WallNow() const override { return world_.WallClockOf(id_); }

 private:
  World& world_;
  NodeId id_;
};

class NodeRuntime::SimExecutor final : public Executor {
 public:
  SimExecutor(World& world, NodeId id) : world_(world), id_(id) {}
  // Node time: the node's own monotonic clock, which may drift from virtual time.
  Instant Now() const override { return world_.MonotonicOf(id_); }
  void Wake(WakeRef slot) override {
    world_.Schedule(world_.Now(), id_, "wake", 0, [slot] { ResumeSlot(*slot); });
  }
  void WakeAt(Instant when, WakeRef slot) override {
    if (when == kInstantMax) return;
    world_.Schedule(std::max(world_.VirtualTimeOf(id_, when), world_.Now()), id_, "timer", 0,
                    [slot] { ResumeSlot(*slot); });
  }

 private:
  World& world_;
  NodeId id_;
};

class NodeRuntime::SimNetworkEndpoint final : public Network {
 public:
  SimNetworkEndpoint(World& world, Executor& executor, NodeId id, size_t inbox_max)
      : Network(executor, id, inbox_max), world_(world) {}
  absl::Status Send(NodeId to, std::string payload) override {
    if (payload.size() > static_cast<size_t>(world_.knobs().net_message_bytes_max)) {
      return absl::InvalidArgumentError(
          absl::StrCat("message of ", payload.size(), " bytes exceeds net_message_bytes_max"));
    }
    return world_.network().Send(self(), to, std::move(payload));
  }
  bool DeliverMessage(Message m) { return Deliver(std::move(m)); }

 private:
  World& world_;
};

// Disk operations take simulated time: the operation is applied when it completes, in a world
// event of this node's incarnation (so a crash before completion means it never happened).
// The awaiting task may be cancelled meanwhile; the operation still completes, as real IO does.
class NodeRuntime::SimDiskAccess final : public Disk {
 public:
  SimDiskAccess(World& world, NodeId id, Random& random)
      : world_(world), id_(id), random_(random) {}

  template <typename T>
  struct OpState {
    std::optional<T> result;
    WakeRef slot;
  };

  template <typename T>
  class OpAwaiter {
   public:
    OpAwaiter(SimDiskAccess& disk, const char* what, bool is_sync, std::function<T()> op)
        : disk_(disk), what_(what), is_sync_(is_sync), op_(std::move(op)),
          state_(std::make_shared<OpState<T>>()) {}
    ~OpAwaiter() { ClearSlot(state_->slot); }
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> h) {
      state_->slot = MakeWakeSlot(h);
      const DiskFaults& f = disk_.world_.disk(disk_.id_).faults();
      const Duration latency = is_sync_
          ? disk_.random_.UniformDuration(f.sync_latency_min, f.sync_latency_max)
          : disk_.random_.UniformDuration(f.latency_min, f.latency_max);
      disk_.world_.Schedule(disk_.world_.Now() + latency, disk_.id_, what_, 0,
                            [state = state_, op = std::move(op_)] {
                              state->result.emplace(op());
                              if (state->slot) ResumeSlot(*state->slot);
                            });
    }
    T await_resume() { return std::move(*state_->result); }

   private:
    SimDiskAccess& disk_;
    const char* what_;
    bool is_sync_;
    std::function<T()> op_;
    std::shared_ptr<OpState<T>> state_;
  };

  template <typename T>
  OpAwaiter<T> Op(const char* what, bool is_sync, std::function<T()> op) {
    return OpAwaiter<T>(*this, what, is_sync, std::move(op));
  }

  SimDisk& state() { return world_.disk(id_); }
  Random& random() { return random_; }

  class SimFile final : public File {
   public:
    SimFile(SimDiskAccess& disk, std::shared_ptr<SimDisk::Inode> inode)
        : disk_(disk), inode_(std::move(inode)) {}
    // Each awaiter is a named local: GCC 12 mishandles non-trivial temporaries inside
    // `co_return co_await ...`.
    Task<absl::StatusOr<std::string>> Read(uint64_t offset, size_t length) override {
      auto op = disk_.Op<absl::StatusOr<std::string>>(
          "disk.read", false, [d = &disk_, i = inode_, offset, length] {
            return d->state().Read(*i, offset, length, d->random());
          });
      co_return co_await op;
    }
    Task<absl::Status> Write(uint64_t offset, std::string data) override {
      auto op = disk_.Op<absl::Status>(
          "disk.write", false, [d = &disk_, i = inode_, offset, data = std::move(data)] {
            return d->state().Write(*i, offset, data, d->random());
          });
      co_return co_await op;
    }
    Task<absl::Status> Append(std::string data) override {
      auto op = disk_.Op<absl::Status>("disk.append", false,
                                       [d = &disk_, i = inode_, data = std::move(data)] {
                                         return d->state().Append(*i, data, d->random());
                                       });
      co_return co_await op;
    }
    Task<absl::Status> Sync() override {
      auto op = disk_.Op<absl::Status>(
          "disk.sync", true, [d = &disk_, i = inode_] { return d->state().Sync(*i, d->random()); });
      co_return co_await op;
    }
    Task<absl::Status> Truncate(uint64_t size) override {
      auto op = disk_.Op<absl::Status>(
          "disk.truncate", false, [d = &disk_, i = inode_, size] { return d->state().Truncate(*i, size); });
      co_return co_await op;
    }
    Task<absl::StatusOr<uint64_t>> Size() override {
      auto op = disk_.Op<absl::StatusOr<uint64_t>>(
          "disk.size", false, [i = inode_]() -> absl::StatusOr<uint64_t> { return i->data.size(); });
      co_return co_await op;
    }

   private:
    SimDiskAccess& disk_;
    std::shared_ptr<SimDisk::Inode> inode_;
  };

  Task<absl::StatusOr<std::unique_ptr<File>>> Open(std::string path, OpenOptions o) override {
    auto op = Op<absl::StatusOr<std::shared_ptr<SimDisk::Inode>>>(
        "disk.open", false,
        [this, path, o] { return state().Open(path, o.create, o.exclusive, o.truncate); });
    absl::StatusOr<std::shared_ptr<SimDisk::Inode>> inode = co_await op;
    if (!inode.ok()) co_return inode.status();
    co_return std::unique_ptr<File>(std::make_unique<SimFile>(*this, *std::move(inode)));
  }
  Task<absl::Status> Rename(std::string from, std::string to) override {
    auto op = Op<absl::Status>("disk.rename", false,
                               [this, from, to] { return state().Rename(from, to); });
    co_return co_await op;
  }
  Task<absl::Status> Remove(std::string path) override {
    auto op = Op<absl::Status>("disk.remove", false, [this, path] { return state().Remove(path); });
    co_return co_await op;
  }
  Task<absl::StatusOr<std::vector<std::string>>> List(std::string dir) override {
    auto op = Op<absl::StatusOr<std::vector<std::string>>>(
        "disk.list", false, [this, dir] { return state().List(dir); });
    co_return co_await op;
  }
  Task<absl::Status> CreateDir(std::string dir) override {
    auto op = Op<absl::Status>("disk.mkdir", false, [this, dir] { return state().CreateDir(dir); });
    co_return co_await op;
  }
  Task<absl::Status> SyncDir(std::string dir) override {
    auto op = Op<absl::Status>("disk.syncdir", true, [this, dir] { return state().SyncDir(dir); });
    co_return co_await op;
  }

 private:
  World& world_;
  NodeId id_;
  Random& random_;
};

class NodeRuntime::SimLogSink final : public LogSink {
 public:
  SimLogSink(World& world, NodeId id) : world_(world), id_(id) {}
  void Write(std::string_view line) override { world_.LogLine(id_, line); }

 private:
  World& world_;
  NodeId id_;
};

class NodeRuntime::SimAssertions final : public Assertions {
 public:
  SimAssertions(World& world, NodeId id) : world_(world), id_(id) {}
  void Always(bool holds, std::string_view name, std::source_location where) override {
    AssertionStats::Site& site = Count(true, holds, name, where);
    (void)site;
    if (holds) return;
    AssertionStats& stats = world_.assertion_stats();
    if (stats.violations.size() < 5) {
      stats.violations.push_back(absl::StrFormat("%s (%s) failed on %s at %.6fs", AbslView(name),
                                                 absl::StrCat(where.file_name(), ":", where.line()),
                                                 world_.node_name(id_), ToSeconds(world_.Now())));
    }
    ++stats.violation_count;
    stats.first_violation = std::min(stats.first_violation, world_.Now());
    world_.LogLine(id_, absl::StrCat("ALWAYS violated: ", AbslView(name)));
  }
  void Sometimes(bool holds, std::string_view name, std::source_location where) override {
    Count(false, holds, name, where);
  }

 private:
  AssertionStats::Site& Count(bool always, bool holds, std::string_view name, std::source_location where) {
    AssertionStats::Site& site = world_.assertion_stats().sites[std::string(name)];
    site.always = always;
    if (site.where.empty()) site.where = absl::StrCat(where.file_name(), ":", where.line());
    ++site.reached;
    site.held += holds;
    return site;
  }
  World& world_;
  NodeId id_;
};

NodeRuntime::NodeRuntime(World& world, NodeId id, uint64_t incarnation)
    : world_(world),
      id_(id),
      random_(HashCombine(HashCombine(world.seed(), 0x6e6f6465ull + id), incarnation),
              &world.trace()) {
  if (world.options_.buggify) buggify_ = Buggify(world.seed(), &random_, &world.buggify_stats_);
  clock_ = std::make_unique<SimClock>(world, id);
  executor_ = std::make_unique<SimExecutor>(world, id);
  network_ = std::make_unique<SimNetworkEndpoint>(
      world, *executor_, id, static_cast<size_t>(world.knobs().net_inbox_messages_max));
  disk_ = std::make_unique<SimDiskAccess>(world, id, random_);
  log_ = std::make_unique<SimLogSink>(world, id);
  assertions_ = std::make_unique<SimAssertions>(world, id);
  runtime_ = std::make_unique<Runtime>(id, *clock_, random_, *executor_, *network_, *disk_,
                                       world.knobs(), buggify_, *log_, *assertions_);
}

NodeRuntime::~NodeRuntime() {
  // Tasks first, newest first, while everything they reference is still here.
  executor_->DestroyAllTasks();
}

bool NodeRuntime::DeliverMessage(Message message) {
  return network_->DeliverMessage(std::move(message));
}

}  // namespace cairn::sim

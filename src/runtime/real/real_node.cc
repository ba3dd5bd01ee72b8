#include "src/runtime/real/real_node.h"

#include <csignal>
#include <filesystem>
#include <optional>
#include <random>
#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"
#include "asio/executor_work_guard.hpp"
#include "asio/signal_set.hpp"

namespace cairn::real {
namespace {

uint64_t SeedFromOs() {
  std::random_device device;
  return (static_cast<uint64_t>(device()) << 32) ^ device();
}

}  // namespace

// One thread is enough for background writes and syncs; what matters is that they never
// occupy the threads user reads wait for. (A constant, not a knob: knobs are drawn by the
// simulator, and a new one would shift every seed's draws.)
constexpr int kSystemIoThreads = 1;

RealNode::RealNode(NodeConfig config)
    : config_(std::move(config)),
      pool_(io_, static_cast<int>(config_.knobs.disk_io_threads)),
      system_pool_(io_, kSystemIoThreads),
      executor_(io_),
      random_(config_.seed != 0 ? config_.seed : SeedFromOs()),
      log_(config_.id) {}

absl::StatusOr<std::unique_ptr<RealNode>> RealNode::Create(NodeConfig config) {
  if (config.id == kNoNode) return absl::InvalidArgumentError("node id is not set");
  if (!config.data_dir.empty()) {
    std::error_code error;
    std::filesystem::create_directories(config.data_dir, error);
    if (error) {
      return absl::ErrnoToStatus(error.value(),
                                 absl::StrCat("create data dir ", config.data_dir));
    }
    if (!std::filesystem::is_directory(config.data_dir, error)) {
      return absl::FailedPreconditionError(
          absl::StrCat("data dir ", config.data_dir, " is not a directory"));
    }
  }
  std::unique_ptr<RealNode> node(new RealNode(std::move(config)));
  const NodeConfig& c = node->config_;
  absl::StatusOr<std::unique_ptr<TcpNetwork>> network = TcpNetwork::Create(
      node->io_, node->executor_, c.knobs, c.id, c.listen_address, c.peers);
  if (!network.ok()) return network.status();
  node->network_ = *std::move(network);
  node->disk_ = std::make_unique<PosixDisk>(node->pool_, c.data_dir, &node->system_pool_);
  node->runtime_ =
      std::make_unique<Runtime>(c.id, node->clock_, node->random_, node->executor_,
                                *node->network_, *node->disk_, c.knobs, node->buggify_, node->log_,
                                node->assertions_);
  return node;
}

RealNode::~RealNode() {
  executor_.DestroyAllTasks();
  runtime_.reset();
  network_.reset();
  disk_.reset();
  pool_.Shutdown();
  system_pool_.Shutdown();
  // The io_context, destroyed last, frees the handlers that never ran.
}

Task<void> RealNode::RunMain(Task<absl::Status> main, absl::Status* result, RealNode* node) {
  *result = co_await std::move(main);
  node->main_finished_ = true;
  node->io_.stop();
}

absl::Status RealNode::Run(Task<absl::Status> main, bool handle_signals) {
  absl::Status result = absl::CancelledError("stopped");
  main_finished_ = false;
  {
    // Owns `main` for this call only: if the loop stops first, leaving this scope cancels it.
    TaskGroup main_group(executor_);
    main_group.Spawn(RunMain(std::move(main), &result, this));
    std::optional<asio::signal_set> signals;
    if (handle_signals) {
      signals.emplace(io_, SIGINT, SIGTERM);
      signals->async_wait([this](const std::error_code& error, int signal_number) {
        if (error) return;
        stop_requested_ = true;
        io_.stop();
        (void)signal_number;
      });
    }
    // Keeps run() going while the loop is idle, e.g. while the only task waits for the pool.
    auto work = asio::make_work_guard(io_);
    io_.restart();
    // Checked after restart(), so that a Stop() racing with this call is never lost: either
    // its flag is seen here, or its io_.stop() comes after restart() and ends run().
    if (!stop_requested_.load()) io_.run();
    if (signals) {
      std::error_code ignored;
      signals->cancel(ignored);
    }
  }
  stop_requested_ = false;
  return main_finished_ ? result : absl::CancelledError("stopped");
}

void RealNode::Stop() {
  stop_requested_ = true;
  io_.stop();
}

}  // namespace cairn::real

// RealNode: one Cairn node as an OS process: an Asio event loop on the thread that calls Run,
// a BlockingPool for file IO, TCP to the other nodes, POSIX files under a data directory, the
// OS clocks, and a Random seeded from the OS (or from a given seed). It assembles the Runtime
// that the node's components are given.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "asio/io_context.hpp"
#include "src/runtime/runtime.h"
#include "src/runtime/real/blocking_pool.h"
#include "src/runtime/real/posix_disk.h"
#include "src/runtime/real/real_clock.h"
#include "src/runtime/real/real_executor.h"
#include "src/runtime/real/logging_assertions.h"
#include "src/runtime/real/stderr_log_sink.h"
#include "src/runtime/real/tcp_network.h"

namespace cairn::real {

struct NodeConfig {
  NodeId id = 0;
  std::string listen_address;           // "host:port" (port 0 = ephemeral); empty = a client
  std::map<NodeId, std::string> peers;  // addresses of other nodes
  std::string data_dir;                 // root of this node's Disk; created if missing;
                                        // empty = no disk (a client; Disk calls fail)
  uint64_t seed = 0;                    // 0 = seed Random from the OS
  Knobs knobs;
};

class RealNode {
 public:
  // Creates the data directory (if one is given) and binds the listener. InvalidArgument for a
  // bad config; the OS error if the directory or the port cannot be had.
  static absl::StatusOr<std::unique_ptr<RealNode>> Create(NodeConfig config);
  // Destroys all tasks first, while everything they may touch is alive; then the network and
  // disk; then joins the pool. Must not run concurrently with Run.
  ~RealNode();
  RealNode(const RealNode&) = delete;
  RealNode& operator=(const RealNode&) = delete;

  Runtime& runtime() { return *runtime_; }
  NodeId id() const { return config_.id; }
  // The bound "host:port" (the real port when 0 was asked for); "" for a client.
  std::string listen_address() const { return network_->listen_address(); }
  const TcpNetworkStats& network_stats() const { return network_->stats(); }

  // Runs `main` and the event loop on the calling thread until `main` finishes, Stop() is
  // called, or (if `handle_signals`) SIGINT or SIGTERM arrives. Returns main's status, or
  // Cancelled if stopped first; `main` is then destroyed (cancelled) before Run returns. Tasks
  // spawned on the executor live on until the node is destroyed, and run again if Run is
  // called again.
  absl::Status Run(Task<absl::Status> main, bool handle_signals = false);

  // Makes Run return soon (or the next Run return at once). Thread-safe.
  void Stop();

 private:
  static Task<void> RunMain(Task<absl::Status> main, absl::Status* result, RealNode* node);

  explicit RealNode(NodeConfig config);

  const NodeConfig config_;
  // Declaration order is construction order; destruction runs backwards, so the io_context
  // outlives the pool (which posts to it) and everything else that refers to it.
  asio::io_context io_;
  BlockingPool pool_;         // user IO
  BlockingPool system_pool_;  // system IO (IoClass::kSystem), so it never queues ahead
  RealExecutor executor_;
  RealClock clock_;
  Random random_;
  Buggify buggify_;  // never fires in a real process
  StderrLogSink log_;
  LoggingAssertions assertions_{log_};
  std::unique_ptr<PosixDisk> disk_;
  std::unique_ptr<TcpNetwork> network_;
  std::unique_ptr<Runtime> runtime_;
  std::atomic<bool> stop_requested_ = false;
  bool main_finished_ = false;
};

}  // namespace cairn::real

// NodeRuntime: the simulated Runtime of one incarnation of one node.
//
// Everything here is node memory: the World creates a NodeRuntime when a node starts and
// destroys it when the node crashes, and the destructor first destroys every task of the node
// (newest first) while everything they may touch still exists. Events the node had scheduled
// are dropped by the World (they belong to a dead incarnation); wake slots make sure nothing
// resumes into a destroyed frame. The disk state lives in the World and survives.
#pragma once

#include <memory>
#include <string>

#include "sim/core/world.h"
#include "src/runtime/runtime.h"

namespace cairn::sim {

class NodeRuntime {
 public:
  NodeRuntime(World& world, NodeId id, uint64_t incarnation);
  ~NodeRuntime();
  NodeRuntime(const NodeRuntime&) = delete;
  NodeRuntime& operator=(const NodeRuntime&) = delete;

  Runtime& runtime() { return *runtime_; }
  // Hands a message that arrived over the SimNetwork to this node; false if its inbox is full.
  bool DeliverMessage(Message message);

 private:
  class SimClock;
  class SimExecutor;
  class SimNetworkEndpoint;
  class SimDiskAccess;
  class SimLogSink;
  class SimAssertions;

  World& world_;
  NodeId id_;
  Random random_;
  Buggify buggify_;
  std::unique_ptr<SimClock> clock_;
  std::unique_ptr<SimExecutor> executor_;
  std::unique_ptr<SimNetworkEndpoint> network_;
  std::unique_ptr<SimDiskAccess> disk_;
  std::unique_ptr<SimLogSink> log_;
  std::unique_ptr<SimAssertions> assertions_;
  std::unique_ptr<Runtime> runtime_;
};

}  // namespace cairn::sim

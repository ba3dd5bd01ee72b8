// RegisterReplica: one storage node of the demo service, a linearizable multi-key register
// replicated over majority quorums (the ABD algorithm: Attiya, Bar-Noy, Dolev; the client side
// is RegisterClient).
//
// A replica keeps, per key, the value with the highest timestamp it has been asked to store,
// and acknowledges a Store only once the record is durable in its RegisterLog. Storing is
// idempotent and ordered by timestamp, so duplicated, delayed and reordered Store messages are
// harmless. docs/demo.md has the protocol and why it is linearizable.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "src/demo/quorum.h"
#include "src/demo/register_log.h"
#include "src/rpc/rpc_node.h"

namespace cairn::demo {

struct ReplicaOptions {
  // Canary: the log acknowledges an append before its fsync (a planted bug).
  bool ack_before_fsync = false;
};

class RegisterReplica {
 public:
  RegisterReplica(RegisterLog& log, std::map<std::string, Versioned> recovered);

  // Registers ReadTs and Store on `rpc` (before rpc.Start()).
  void RegisterMethods(rpc::RpcNode& rpc);

  // Folds a record recovered from the log into `state`.
  static void ApplyRecovered(std::map<std::string, Versioned>& state, const Versioned& record);

  size_t keys() const { return state_.size(); }

 private:
  Task<absl::StatusOr<Versioned>> ReadTs(rpc::CallContext context, KeyRequest request);
  Task<absl::StatusOr<Empty>> Store(rpc::CallContext context, StoreRequest request);

  RegisterLog& log_;
  std::map<std::string, Versioned> state_;
};

// A replica's whole program: recover from the log, then serve until the log breaks (then it
// exits, as a process would, so that a restart recovers from what is on disk).
Task<void> RunReplica(Runtime& rt, ReplicaOptions options);

}  // namespace cairn::demo

// RegisterReplica: one storage node of the demo service, a linearizable multi-key register
// replicated over majority quorums (the ABD algorithm: Attiya, Bar-Noy, Dolev; the client side
// is RegisterClient).
//
// A replica keeps, per key, the value with the highest timestamp it has been asked to store,
// and acknowledges a Store only once the record is durable in its RegisterLog. Storing is
// idempotent and ordered by timestamp, so duplicated, delayed and reordered Store messages are
// harmless.
//
// Leases: a replica grants a read lease on a key to one lease id at a time, until it expires by
// the replica's own clock; while it lasts, it refuses every Store to that key that does not
// carry that lease id (fencing: a holder whose lease expired is refused too).
//
// Repair: a replica whose log lost anything on recovery (a torn tail, or corruption: bit rot,
// a misdirected write) may have lost records it had acknowledged, and a quorum that counts it
// would then be wrong. So it answers no ReadTs or Store until it has repaired: waited out the
// store window (a write it acknowledged may not have reached the others yet; StoreQuorum),
// then fetched every record from *all* other replicas (any acknowledged write is on a
// majority, so on at least one of them) and made them durable locally. A marker file keeps a
// crash during repair from leaving a log that looks whole but is not. docs/demo.md has the
// argument.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "src/demo/quorum.h"
#include "src/demo/register_log.h"
#include "src/rpc/rpc_node.h"

namespace cairn::demo {

struct ReplicaOptions {
  std::vector<NodeId> replicas;  // every replica of the group, this one included
  // Canary: the log acknowledges an append before its fsync (a planted bug).
  bool ack_before_fsync = false;
  // Canary: the log replays records whose checksum does not match (a planted bug).
  bool ignore_checksum = false;
  // Canary: Stores to a leased key are not checked against the lease: no fencing, so any
  // writer, a holder whose lease expired included, writes under another's lease (a planted bug).
  bool no_lease_check = false;
  // An observer (unset: none) told of each record the log restores at startup. The simulator
  // checks that it holds a value some client wrote (every write's value is unique), so a
  // record restored wrong is seen at once, whether or not a client ever reads it.
  std::function<void(const Versioned& record)> recovered;
};

class RegisterReplica {
 public:
  // `granted_before`: this replica's disk says it granted leases in an earlier life (the
  // marker file "register/leases"), so it must wait them out before trusting it holds none.
  RegisterReplica(Runtime& rt, rpc::RpcNode& rpc, RegisterLog& log, ReplicaOptions options,
                  std::map<std::string, Versioned> recovered, bool granted_before);
  ~RegisterReplica();

  // Registers ReadTs, Store and Dump on the RpcNode (before it starts).
  void RegisterMethods();

  // Starts repair (see the class comment); ReadTs and Store are refused until it completes.
  void StartRepair(std::string marker_path);
  bool repairing() const { return repairing_; }

  // Folds a record recovered from the log into `state`.
  static void ApplyRecovered(std::map<std::string, Versioned>& state, const Versioned& record);

 private:
  Task<absl::StatusOr<Versioned>> ReadTs(rpc::CallContext context, KeyRequest request);
  Task<absl::StatusOr<Empty>> Store(rpc::CallContext context, StoreRequest request);
  Task<absl::StatusOr<DumpReply>> Dump(rpc::CallContext context, Empty request);
  Task<absl::StatusOr<LeaseReply>> GrantLease(rpc::CallContext context, LeaseRequest request);
  // Refuses a Store that a lease on its key forbids (or any, right after a restart).
  absl::Status CheckLease(const StoreRequest& request) const;
  Task<absl::Status> StoreLocally(const Versioned& record, Instant deadline);
  Task<void> Repair(std::string marker_path);
  Task<absl::Status> RepairOnce();

  Runtime& rt_;
  rpc::RpcNode& rpc_;
  RegisterLog& log_;
  ReplicaOptions options_;
  std::map<std::string, Versioned> state_;
  bool repairing_ = false;
  struct Lease {
    uint64_t id = 0;
    Instant expires{};  // by this replica's clock
  };
  std::map<std::string, Lease> leases_;
  // Stores that passed the lease check and are on their way to disk. A grant must report
  // them too: they may complete after it, and the new holder must not miss them.
  std::multimap<std::string, Versioned> pending_stores_;
  // Leases live in memory: a restarted replica has forgotten the ones it granted, so it
  // honours them all (refuses grants and Stores) until any of them must have expired. A
  // replica that never granted one (no marker on disk) has nothing to wait for.
  Instant leases_forgotten_until_{};
  bool lease_marker_written_ = false;
  TaskGroup background_;  // last: repair dies before the state it uses
};

inline constexpr char kLeaseMarker[] = "register/leases";

// A replica's whole program: recover from the log (repairing if it lost anything), then serve
// until the log breaks (then it exits, as a process would, so that a restart recovers from
// what is on disk).
Task<void> RunReplica(Runtime& rt, ReplicaOptions options);

}  // namespace cairn::demo

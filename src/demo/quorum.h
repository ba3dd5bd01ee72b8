// The two phases of the ABD register protocol, as a client runs them against the replicas.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "src/demo/register.pb.h"
#include "src/rpc/rpc_node.h"

namespace cairn::demo {

// Methods, as seen on the wire.
inline constexpr char kMethodReadTs[] = "register.ReadTs";
inline constexpr char kMethodStore[] = "register.Store";
inline constexpr char kMethodDump[] = "register.Dump";
inline constexpr char kMethodLease[] = "register.Lease";

bool TimestampLess(const Timestamp& a, const Timestamp& b);

// Phase 1: the highest (ts, value) of `key` among the replies of `quorum` replicas.
Task<absl::StatusOr<Versioned>> QueryQuorum(rpc::RpcNode& rpc, const std::vector<NodeId>& replicas,
                                            size_t quorum, std::string key, Instant deadline);

// Phase 2: `record` stored (durably) at `quorum` replicas, counting replies only within the
// store window (demo_store_window_ms) from now: a repairing replica relies on it.
// `canary_drop_retry` plants a bug: a Store that gets no reply is not retried and counts as
// stored.
Task<absl::Status> StoreQuorum(rpc::RpcNode& rpc, const std::vector<NodeId>& replicas,
                               size_t quorum, Versioned record, Instant deadline,
                               bool canary_drop_retry = false, uint64_t lease_id = 0);

// A lease on `key` granted by `quorum` replicas; the newest record of the key among the
// granting replicas.
Task<absl::StatusOr<Versioned>> LeaseQuorum(rpc::RpcNode& rpc, const std::vector<NodeId>& replicas,
                                            size_t quorum, LeaseRequest request, Instant deadline);

}  // namespace cairn::demo

// RegisterClient: reads and writes the demo register by running ABD's two phases against
// the replicas itself.
//
//   Put(k, v): phase 1 asks a majority for k's timestamps; phase 2 stores v under a higher
//              timestamp (counter + 1, with a random nonce) at a majority.
//   Get(k):    phase 1 asks a majority for k's (ts, value) and takes the highest; phase 2
//              stores it back at a majority, so no later Get returns anything older.
// Leased keys: before reading, the client takes a lease from a majority (no one else can then
// store to the key), reads as above, and answers further reads from a cache until the lease
// ends by its own clock, less a margin for clocks that run at different rates
// (2 x demo_clock_drift_ppm_max of the lease). Its writes carry the lease id; replicas refuse
// any other (docs/demo.md, "Leases").
// A failed Put has an unknown outcome (some replicas may have stored it). Timestamps are
// chosen before a Put completes, so a Store message that arrives late can never overwrite a
// write that began after this Put finished.
#pragma once

#include <map>
#include <set>
#include <optional>
#include <string>
#include <vector>

#include "src/demo/quorum.h"
#include "src/rpc/rpc_node.h"

namespace cairn::demo {

struct ClientOptions {
  std::vector<NodeId> replicas;
  // Canary: a Put is acknowledged once one replica stored it, not a majority (a planted bug).
  bool ack_before_replicate = false;
  // Canary: a Store that gets no reply is not retried and counts as stored (a planted bug).
  bool drop_retry = false;
  // Keys this client reads under a lease: while a majority has granted it one, no one else can
  // write the key, so its reads of the key are answered from a local cache.
  std::set<std::string> leased_keys;
  // Canary: the lease is trusted for its whole length by this client's clock, with no margin
  // for clocks that run at different rates (a planted bug).
  bool lease_without_drift_margin = false;
};

class RegisterClient {
 public:
  RegisterClient(rpc::RpcNode& rpc, ClientOptions options);

  Task<absl::Status> Put(std::string key, std::string value, Instant deadline);
  // The value of `key`, or nullopt if it was never written.
  Task<absl::StatusOr<std::optional<std::string>>> Get(std::string key, Instant deadline);

 private:
  size_t majority() const { return options_.replicas.size() / 2 + 1; }

  // Notes the newest timestamp this client has seen for `key`, checking that it never goes
  // back: after a Put or Get completes, later operations of the same client see it or newer.
  void Observe(const std::string& key, const Timestamp& ts);

  rpc::RpcNode& rpc_;
  ClientOptions options_;
  std::map<std::string, Timestamp> newest_seen_;

  struct HeldLease {
    uint64_t id = 0;
    Instant valid_until{};              // by this client's clock, margin taken off
    std::optional<Versioned> cached;    // the key's value while the lease holds
  };
  bool LeaseValid(const std::string& key) const;
  Task<absl::StatusOr<Versioned>> ReadUnderNewLease(const std::string& key, Instant deadline);
  std::map<std::string, HeldLease> leases_;
};

}  // namespace cairn::demo

// RegisterClient: reads and writes the demo register by running ABD's two phases against
// the replicas itself.
//
//   Put(k, v): phase 1 asks a majority for k's timestamps; phase 2 stores v under a higher
//              timestamp (counter + 1, with a random nonce) at a majority.
//   Get(k):    phase 1 asks a majority for k's (ts, value) and takes the highest; phase 2
//              stores it back at a majority, so no later Get returns anything older.
// A failed Put has an unknown outcome (some replicas may have stored it). Timestamps are
// chosen before a Put completes, so a Store message that arrives late can never overwrite a
// write that began after this Put finished.
#pragma once

#include <map>
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
};

}  // namespace cairn::demo

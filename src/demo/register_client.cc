#include "src/demo/register_client.h"

#include "src/base/status.h"

namespace cairn::demo {

RegisterClient::RegisterClient(rpc::RpcNode& rpc, ClientOptions options)
    : rpc_(rpc), options_(std::move(options)) {
  CAIRN_CHECK(!options_.replicas.empty());
}

Task<absl::Status> RegisterClient::Put(std::string key, std::string value, Instant deadline) {
  if (key.empty()) co_return absl::InvalidArgumentError("the key must not be empty");
  CO_ASSIGN_OR_RETURN(Versioned latest,
                      co_await QueryQuorum(rpc_, options_.replicas, majority(), key, deadline));
  Versioned record;
  record.set_key(key);
  record.set_value(std::move(value));
  record.set_has_value(true);
  record.mutable_ts()->set_counter(latest.ts().counter() + 1);
  record.mutable_ts()->set_nonce(rpc_.runtime().random().Next());
  const size_t quorum = options_.ack_before_replicate ? 1 : majority();
  co_return co_await StoreQuorum(rpc_, options_.replicas, quorum, std::move(record), deadline,
                                 options_.drop_retry);
}

Task<absl::StatusOr<std::optional<std::string>>> RegisterClient::Get(std::string key,
                                                                     Instant deadline) {
  if (key.empty()) co_return absl::InvalidArgumentError("the key must not be empty");
  CO_ASSIGN_OR_RETURN(Versioned latest,
                      co_await QueryQuorum(rpc_, options_.replicas, majority(), key, deadline));
  if (!latest.has_value()) co_return std::optional<std::string>();
  CO_RETURN_IF_ERROR(co_await StoreQuorum(rpc_, options_.replicas, majority(), latest, deadline));
  co_return std::optional<std::string>(latest.value());
}

}  // namespace cairn::demo

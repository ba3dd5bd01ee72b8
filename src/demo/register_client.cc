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
  const Timestamp ts = record.ts();
  CO_RETURN_IF_ERROR(co_await StoreQuorum(rpc_, options_.replicas, quorum, std::move(record),
                                          deadline, options_.drop_retry));
  Observe(key, ts);
  co_return absl::OkStatus();
}

void RegisterClient::Observe(const std::string& key, const Timestamp& ts) {
  Timestamp& newest = newest_seen_[key];
  CAIRN_ALWAYS(rpc_.runtime(), !TimestampLess(ts, newest), "client.never-sees-older-than-it-saw");
  if (TimestampLess(newest, ts)) newest = ts;
}

Task<absl::StatusOr<std::optional<std::string>>> RegisterClient::Get(std::string key,
                                                                     Instant deadline) {
  if (key.empty()) co_return absl::InvalidArgumentError("the key must not be empty");
  CO_ASSIGN_OR_RETURN(Versioned latest,
                      co_await QueryQuorum(rpc_, options_.replicas, majority(), key, deadline));
  CAIRN_SOMETIMES(rpc_.runtime(), latest.has_value(), "client.get-found-a-value");
  if (!latest.has_value()) {
    CAIRN_ALWAYS(rpc_.runtime(), !newest_seen_.contains(key), "client.never-sees-older-than-it-saw");
    co_return std::optional<std::string>();
  }
  CO_RETURN_IF_ERROR(co_await StoreQuorum(rpc_, options_.replicas, majority(), latest, deadline));
  Observe(key, latest.ts());
  co_return std::optional<std::string>(latest.value());
}

}  // namespace cairn::demo

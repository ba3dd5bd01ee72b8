#include "src/demo/register_client.h"

#include "src/base/status.h"

namespace cairn::demo {

RegisterClient::RegisterClient(rpc::RpcNode& rpc, ClientOptions options)
    : rpc_(rpc), options_(std::move(options)) {
  CAIRN_CHECK(!options_.replicas.empty());
}

Task<absl::Status> RegisterClient::Put(std::string key, std::string value, Instant deadline) {
  if (key.empty()) co_return absl::InvalidArgumentError("the key must not be empty");
  // Under which lease this write goes is decided once, up front: the lease may well expire
  // while the write is on its way (a pause, a slow network), which is what fencing is for.
  // The write carries the id of the lease this client holds or last held: replicas accept it
  // only while that is still their current lease (or none is), so fencing is unchanged, and
  // a holder whose lease just ended by its own, more cautious clock is not refused.
  const bool leased = LeaseValid(key);
  const auto held = leases_.find(key);
  const uint64_t lease_id = held == leases_.end() ? 0 : held->second.id;
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
  const Versioned written = record;
  absl::Status stored = co_await StoreQuorum(rpc_, options_.replicas, quorum, std::move(record),
                                             deadline, options_.drop_retry, lease_id);
  if (leased) {
    HeldLease* lease = &leases_[key];
    if (stored.ok() && lease->id == lease_id) {
      lease->cached = written;
    } else {
      // The write may or may not have landed: the cache is unknown. The lease itself still
      // holds (no one else can write); the next read refreshes the cache under it.
      lease->cached.reset();
    }
  }
  CO_RETURN_IF_ERROR(stored);
  Observe(key, ts);
  co_return absl::OkStatus();
}

bool RegisterClient::LeaseValid(const std::string& key) const {
  auto it = leases_.find(key);
  return it != leases_.end() && it->second.id != 0 && rpc_.runtime().Now() < it->second.valid_until;
}

Task<absl::StatusOr<Versioned>> RegisterClient::ReadUnderNewLease(const std::string& key,
                                                                   Instant deadline) {
  Runtime& rt = rpc_.runtime();
  const Duration length = std::chrono::milliseconds(rt.knobs().demo_lease_ms);
  const Duration margin = options_.lease_without_drift_margin
                              ? Duration(0)
                              : length * 2 * rt.knobs().demo_clock_drift_ppm_max / 1'000'000 +
                                    std::chrono::milliseconds(1);
  HeldLease fresh;
  // Renew under the id this client last held, if any: replicas that still hold it extend it
  // (a new id would be refused by them until it expired, and block this client's own reads).
  // A fresh id otherwise; never 0, which means "no lease".
  fresh.id = leases_[key].id != 0 ? leases_[key].id : (rt.random().Next() | 1);
  // Counted from before the request left: every replica starts its count later than this.
  const Instant sent = rt.Now();
  LeaseRequest request;
  request.set_key(key);
  request.set_lease_id(fresh.id);
  request.set_duration_us(std::chrono::duration_cast<std::chrono::microseconds>(length).count());
  leases_[key].cached.reset();
  leases_[key].valid_until = Instant{};
  // The newest record among the granting replicas: any write that completed before the lease
  // reached one of them first (a majority of granters refuses every later write).
  CO_ASSIGN_OR_RETURN(Versioned latest,
                      co_await LeaseQuorum(rpc_, options_.replicas, majority(), request, deadline));
  fresh.valid_until = sent + length - margin;
  if (latest.has_value()) {
    CO_RETURN_IF_ERROR(co_await StoreQuorum(rpc_, options_.replicas, majority(), latest, deadline,
                                            false, fresh.id));
  }
  fresh.cached = latest;
  leases_[key] = fresh;
  co_return latest;
}

void RegisterClient::Observe(const std::string& key, const Timestamp& ts) {
  Timestamp& newest = newest_seen_[key];
  CAIRN_ALWAYS(rpc_.runtime(), !TimestampLess(ts, newest), "client.never-sees-older-than-it-saw");
  if (TimestampLess(newest, ts)) newest = ts;
}

Task<absl::StatusOr<std::optional<std::string>>> RegisterClient::Get(std::string key,
                                                                     Instant deadline) {
  if (key.empty()) co_return absl::InvalidArgumentError("the key must not be empty");
  Versioned latest;
  if (options_.leased_keys.contains(key)) {
    const bool cached = LeaseValid(key) && leases_[key].cached.has_value();
    CAIRN_SOMETIMES(rpc_.runtime(), cached, "client.read-answered-under-lease");
    if (cached) {
      latest = *leases_[key].cached;
    } else {
      CO_ASSIGN_OR_RETURN(latest, co_await ReadUnderNewLease(key, deadline));
    }
    if (!latest.has_value()) {
      CAIRN_ALWAYS(rpc_.runtime(), !newest_seen_.contains(key), "client.never-sees-older-than-it-saw");
      co_return std::optional<std::string>();
    }
    Observe(key, latest.ts());
    co_return std::optional<std::string>(latest.value());
  }
  CO_ASSIGN_OR_RETURN(latest, co_await QueryQuorum(rpc_, options_.replicas, majority(), key, deadline));
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

#include "src/demo/register_replica.h"

#include "absl/strings/str_cat.h"
#include "src/base/status.h"

namespace cairn::demo {
namespace {
using std::chrono::milliseconds;
constexpr char kRepairMarker[] = "register/repairing";
}  // namespace

void RegisterReplica::ApplyRecovered(std::map<std::string, Versioned>& state,
                                     const Versioned& record) {
  auto it = state.find(record.key());
  if (it == state.end() || TimestampLess(it->second.ts(), record.ts())) state[record.key()] = record;
}

RegisterReplica::RegisterReplica(Runtime& rt, rpc::RpcNode& rpc, RegisterLog& log,
                                 ReplicaOptions options, std::map<std::string, Versioned> recovered,
                                 bool granted_before)
    : rt_(rt),
      rpc_(rpc),
      log_(log),
      options_(std::move(options)),
      state_(std::move(recovered)),
      background_(rt.executor()) {
  lease_marker_written_ = granted_before;
  if (granted_before) {
    const auto lease = std::chrono::milliseconds(rt.knobs().demo_lease_ms);
    leases_forgotten_until_ = rt.Now() + lease +
                              lease * rt.knobs().demo_clock_drift_ppm_max / 1'000'000 * 2 +
                              std::chrono::milliseconds(10);
  }
}

RegisterReplica::~RegisterReplica() {
  // Handlers run on this object: none may outlive it. Then its own background work.
  rpc_.CancelHandlers();
  background_.CancelAll();
}

void RegisterReplica::RegisterMethods() {
  rpc_.Register<KeyRequest, Versioned>(
      kMethodReadTs, [this](rpc::CallContext c, KeyRequest r) { return ReadTs(c, std::move(r)); });
  rpc_.Register<StoreRequest, Empty>(
      kMethodStore, [this](rpc::CallContext c, StoreRequest r) { return Store(c, std::move(r)); });
  rpc_.Register<Empty, DumpReply>(
      kMethodDump, [this](rpc::CallContext c, Empty r) { return Dump(c, std::move(r)); });
  rpc_.Register<LeaseRequest, LeaseReply>(
      kMethodLease, [this](rpc::CallContext c, LeaseRequest r) { return GrantLease(c, std::move(r)); });
}

Task<absl::StatusOr<Versioned>> RegisterReplica::ReadTs(rpc::CallContext, KeyRequest request) {
  CAIRN_SOMETIMES(rt_, repairing_, "replica.refused-while-repairing");
  if (repairing_) co_return absl::UnavailableError("replica is repairing its log");
  auto it = state_.find(request.key());
  if (it == state_.end()) {
    Versioned empty;
    empty.set_key(request.key());
    co_return empty;
  }
  co_return it->second;
}

Task<absl::Status> RegisterReplica::StoreLocally(const Versioned& record, Instant deadline) {
  auto it = state_.find(record.key());
  const bool stale = it != state_.end() && !TimestampLess(it->second.ts(), record.ts());
  CAIRN_SOMETIMES(rt_, stale, "replica.store-not-newer");
  if (stale) co_return absl::OkStatus();  // this or a newer value is already durable here
  CO_RETURN_IF_ERROR(co_await log_.Append(record, deadline));
  // Another Store of the key may have become durable meanwhile; keep the newest.
  ApplyRecovered(state_, record);
  co_return absl::OkStatus();
}

absl::Status RegisterReplica::CheckLease(const StoreRequest& request) const {
  const Instant now = rt_.Now();
  if (now < leases_forgotten_until_) {
    return absl::UnavailableError("replica restarted: honouring the leases it may have granted");
  }
  auto it = leases_.find(request.record().key());
  if (it == leases_.end() || it->second.expires <= now || it->second.id == request.lease_id()) {
    return absl::OkStatus();
  }
  if (options_.no_lease_check) return absl::OkStatus();  // the bug: no fencing at all
  return absl::FailedPreconditionError("the key is leased to another client");
}

Task<absl::StatusOr<LeaseReply>> RegisterReplica::GrantLease(rpc::CallContext, LeaseRequest request) {
  if (repairing_) co_return absl::UnavailableError("replica is repairing its log");
  if (rt_.Now() < leases_forgotten_until_) {
    co_return absl::UnavailableError("replica restarted: honouring the leases it may have granted");
  }
  if (!lease_marker_written_) {
    // Before the first grant of this replica's life on this disk, note durably that it grants
    // leases: a restart must then wait them out.
    OpenOptions create;
    create.create = true;
    absl::StatusOr<std::unique_ptr<File>> marker = co_await rt_.disk().Open(kLeaseMarker, create);
    absl::Status s = marker.status();
    if (s.ok()) s = co_await rt_.disk().SyncDir("register");
    if (!s.ok()) co_return s;
    lease_marker_written_ = true;
  }
  const Instant now = rt_.Now();  // after the marker: a grant counts from when it is made
  Lease& lease = leases_[request.key()];
  const bool held_by_other = lease.expires > now && lease.id != request.lease_id();
  CAIRN_SOMETIMES(rt_, held_by_other, "replica.lease-refused-while-held");
  if (held_by_other) co_return absl::FailedPreconditionError("the key is leased to another client");
  lease.id = request.lease_id();
  lease.expires = now + std::chrono::microseconds(std::max<int64_t>(0, request.duration_us()));
  LeaseReply reply;
  reply.set_granted(true);
  if (auto it = state_.find(request.key()); it != state_.end()) *reply.mutable_record() = it->second;
  // A store already admitted may become durable after this grant: report the newest of those too.
  auto [first, last] = pending_stores_.equal_range(request.key());
  for (auto it = first; it != last; ++it) {
    CAIRN_SOMETIMES(rt_, true, "replica.grant-saw-a-store-in-flight");
    if (!reply.record().has_value() || TimestampLess(reply.record().ts(), it->second.ts())) {
      *reply.mutable_record() = it->second;
    }
  }
  co_return reply;
}

Task<absl::StatusOr<Empty>> RegisterReplica::Store(rpc::CallContext context, StoreRequest request) {
  if (repairing_) co_return absl::UnavailableError("replica is repairing its log");
  // A repair waits out the store window, trusting that no client counts this acknowledgement
  // after it (StoreQuorum): refuse a caller whose budget says otherwise.
  if (context.deadline > rt_.Now() + milliseconds(rt_.knobs().demo_store_window_ms)) {
    co_return absl::InvalidArgumentError("Store budget longer than demo_store_window_ms");
  }
  if (absl::Status lease = CheckLease(request); !lease.ok()) {
    CAIRN_SOMETIMES(rt_, true, "replica.store-refused-by-lease");
    co_return lease;
  }
  struct Pending {  // visible to lease grants until the store is done, whatever its outcome
    std::multimap<std::string, Versioned>& stores;
    std::multimap<std::string, Versioned>::iterator it;
    ~Pending() { stores.erase(it); }
  } pending{pending_stores_, pending_stores_.emplace(request.record().key(), request.record())};
  const Versioned& record = request.record();
  if (!record.has_value() || record.key().empty()) {
    co_return absl::InvalidArgumentError("Store needs a key and a value");
  }
  CO_RETURN_IF_ERROR(co_await StoreLocally(record, context.deadline));
  co_return Empty();
}

Task<absl::StatusOr<DumpReply>> RegisterReplica::Dump(rpc::CallContext, Empty) {
  // Answered even while repairing: after a power loss every replica may be repairing, and
  // each needs the others' records.
  DumpReply reply;
  for (const auto& [key, record] : state_) *reply.add_records() = record;
  co_return reply;
}

void RegisterReplica::StartRepair(std::string marker_path) {
  repairing_ = true;
  background_.Spawn(Repair(std::move(marker_path)));
}

Task<absl::Status> RegisterReplica::RepairOnce() {
  const Instant deadline = rt_.DeadlineAfter(milliseconds(1000));
  std::map<std::string, Versioned> merged;
  for (NodeId peer : options_.replicas) {
    if (peer == rt_.node_id()) continue;
    absl::StatusOr<DumpReply> dump = co_await rpc_.Call<DumpReply>(peer, kMethodDump, Empty(),
                                                                   rpc::CallOptions{deadline});
    if (!dump.ok()) co_return dump.status();
    for (const Versioned& record : dump->records()) ApplyRecovered(merged, record);
  }
  for (const auto& [key, record] : merged) {
    CO_RETURN_IF_ERROR(co_await StoreLocally(record, rt_.DeadlineAfter(milliseconds(1000))));
  }
  co_return absl::OkStatus();
}

Task<void> RegisterReplica::Repair(std::string marker_path) {
  // This replica may have acknowledged a Store before its restart and lost it, while the
  // write's other acknowledgements were still to come: the Store still on another replica's
  // disk, or refused there and resent later. Dumps read now would miss it, and the write would
  // complete held by a minority (seeds 1550 and 3637). A client counts acknowledgements only
  // within the store window from when it sent the Store (StoreQuorum), and this replica
  // acknowledged before it restarted, so once the window has passed, by any clock that keeps
  // within the drift bound, every write that counted this replica is durable on the others.
  // (1 + 3 x drift) covers the client's clock running slow and this one fast.
  const Duration window = milliseconds(rt_.knobs().demo_store_window_ms);
  co_await rt_.Sleep(window + window * 3 * rt_.knobs().demo_clock_drift_ppm_max / 1'000'000 +
                     milliseconds(10));
  for (int attempt = 1;; ++attempt) {
    absl::Status s = co_await RepairOnce();
    if (s.ok()) break;
    if (attempt == 1 || attempt % 20 == 0) {
      rt_.Log(absl::StrCat("repair attempt ", attempt, " failed: ", s.ToString()));
    }
    if (!log_.healthy()) co_return;  // the replica is about to exit; a restart repairs again
    co_await rt_.Sleep(milliseconds(200));
  }
  // Every record is durable here again; only then may the marker go (and durably so). A disk
  // that refuses is retried: giving up would leave the replica refusing everything, forever.
  for (int attempt = 1;; ++attempt) {
    absl::Status s = co_await rt_.disk().Remove(marker_path);
    if (absl::IsNotFound(s)) s = absl::OkStatus();  // an earlier attempt removed it
    if (s.ok()) s = co_await rt_.disk().SyncDir("register");
    if (s.ok()) break;
    if (attempt == 1 || attempt % 20 == 0) {
      rt_.Log(absl::StrCat("repair done but the marker could not be removed (attempt ", attempt,
                           "): ", s.ToString()));
    }
    co_await rt_.Sleep(milliseconds(200));
  }
  repairing_ = false;
  CAIRN_SOMETIMES(rt_, true, "replica.repair-completed");
  rt_.Log(absl::StrCat("repair complete: ", state_.size(), " keys"));
}

// Creates the repair marker durably (name and directory synced).
Task<absl::Status> WriteRepairMarker(Runtime& rt) {
  OpenOptions create;
  create.create = true;
  absl::StatusOr<std::unique_ptr<File>> made = co_await rt.disk().Open(kRepairMarker, create);
  if (!made.ok()) co_return made.status();
  co_return co_await rt.disk().SyncDir("register");
}

Task<void> RunReplica(Runtime& rt, ReplicaOptions options) {
  std::map<std::string, Versioned> state;
  RegisterLog::Options log_options;
  log_options.ack_before_fsync = options.ack_before_fsync;
  log_options.ignore_checksum = options.ignore_checksum;
  RegisterLog::Recovery recovery;
  // The marker must be durable before the log is cut: a crash right after the cut must not
  // leave a clean-looking but shortened log. (Named locals: g++ 12 mishandles lambdas
  // converted to std::function inside a co_await expression.)
  bool marked = false;
  RegisterLog::ApplyFn apply = [&state, &options](const Versioned& r) {
    if (options.recovered) options.recovered(r);
    RegisterReplica::ApplyRecovered(state, r);
  };
  RegisterLog::BeforeCutFn before_cut = [&rt, &marked]() -> Task<absl::Status> {
    absl::Status s = co_await WriteRepairMarker(rt);
    marked = s.ok();
    co_return s;
  };
  absl::StatusOr<std::unique_ptr<RegisterLog>> log =
      co_await RegisterLog::Open(rt, log_options, apply, before_cut, &recovery);
  if (!log.ok()) {
    rt.Log(absl::StrCat("replica cannot open its log: ", log.status().ToString()));
    co_return;
  }
  // A repair left unfinished by a crash must be finished, whatever the log looks like now.
  bool needs_repair = marked;
  if (!needs_repair) {
    absl::StatusOr<std::unique_ptr<File>> marker = co_await rt.disk().Open(kRepairMarker, OpenOptions());
    if (!marker.ok() && !absl::IsNotFound(marker.status())) {
      rt.Log(absl::StrCat("replica cannot read its repair marker: ", marker.status().ToString()));
      co_return;
    }
    needs_repair = marker.ok();
  }
  rt.Log(absl::StrCat("replica up: ", recovery.records, " records, ", state.size(),
                      " keys; cut ", recovery.discarded_bytes, " bytes of torn or corrupt log",
                      needs_repair ? "; repairing from the other replicas" : ""));
  rpc::RpcNode rpc(rt);
  absl::StatusOr<std::unique_ptr<File>> lease_marker = co_await rt.disk().Open(kLeaseMarker, OpenOptions());
  if (!lease_marker.ok() && !absl::IsNotFound(lease_marker.status())) {
    rt.Log(absl::StrCat("replica cannot read its lease marker: ", lease_marker.status().ToString()));
    co_return;
  }
  RegisterReplica replica(rt, rpc, **log, std::move(options), std::move(state), lease_marker.ok());
  replica.RegisterMethods();
  rpc.Start();
  if (needs_repair) replica.StartRepair(kRepairMarker);
  while ((*log)->healthy()) co_await rt.Sleep(milliseconds(100));
  rt.Log("replica exits: its log is broken");
}

}  // namespace cairn::demo

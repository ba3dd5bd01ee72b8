#include "src/demo/register_replica.h"

#include "absl/strings/str_cat.h"
#include "src/base/status.h"

namespace cairn::demo {

void RegisterReplica::ApplyRecovered(std::map<std::string, Versioned>& state,
                                     const Versioned& record) {
  auto it = state.find(record.key());
  if (it == state.end() || TimestampLess(it->second.ts(), record.ts())) state[record.key()] = record;
}

RegisterReplica::RegisterReplica(RegisterLog& log, std::map<std::string, Versioned> recovered)
    : log_(log), state_(std::move(recovered)) {}

void RegisterReplica::RegisterMethods(rpc::RpcNode& rpc) {
  rpc.Register<KeyRequest, Versioned>(
      kMethodReadTs, [this](rpc::CallContext c, KeyRequest r) { return ReadTs(c, std::move(r)); });
  rpc.Register<StoreRequest, Empty>(
      kMethodStore, [this](rpc::CallContext c, StoreRequest r) { return Store(c, std::move(r)); });
}

Task<absl::StatusOr<Versioned>> RegisterReplica::ReadTs(rpc::CallContext, KeyRequest request) {
  auto it = state_.find(request.key());
  if (it == state_.end()) {
    Versioned empty;
    empty.set_key(request.key());
    co_return empty;
  }
  co_return it->second;
}

Task<absl::StatusOr<Empty>> RegisterReplica::Store(rpc::CallContext context, StoreRequest request) {
  const Versioned& record = request.record();
  if (!record.has_value() || record.key().empty()) {
    co_return absl::InvalidArgumentError("Store needs a key and a value");
  }
  auto it = state_.find(record.key());
  if (it != state_.end() && !TimestampLess(it->second.ts(), record.ts())) {
    co_return Empty();  // this or a newer value is already durable here
  }
  CO_RETURN_IF_ERROR(co_await log_.Append(record, context.deadline));
  // Another Store of the key may have become durable meanwhile; keep the newest.
  ApplyRecovered(state_, record);
  co_return Empty();
}

Task<void> RunReplica(Runtime& rt, ReplicaOptions options) {
  std::map<std::string, Versioned> state;
  RegisterLog::Options log_options;
  log_options.ack_before_fsync = options.ack_before_fsync;
  RegisterLog::Recovery recovery;
  absl::StatusOr<std::unique_ptr<RegisterLog>> log = co_await RegisterLog::Open(
      rt, log_options, [&state](const Versioned& r) { RegisterReplica::ApplyRecovered(state, r); },
      &recovery);
  if (!log.ok()) {
    rt.Log(absl::StrCat("replica cannot open its log: ", log.status().ToString()));
    co_return;
  }
  rt.Log(absl::StrCat("replica up: ", recovery.records, " records, ", state.size(),
                      " keys; cut a torn tail of ", recovery.discarded_bytes, " bytes"));
  RegisterReplica replica(**log, std::move(state));
  rpc::RpcNode rpc(rt);
  replica.RegisterMethods(rpc);
  rpc.Start();
  while ((*log)->healthy()) co_await rt.Sleep(std::chrono::milliseconds(100));
  rt.Log("replica exits: its log is broken");
}

}  // namespace cairn::demo

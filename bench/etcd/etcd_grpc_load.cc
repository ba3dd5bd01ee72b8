// etcd_grpc_load: the etcd side of bench/journal_vs_etcd.sh at its best — N concurrent clients
// putting values of a given size into a running etcd cluster over etcd's native gRPC API,
// reporting puts per second and latency percentiles in the same JSON as `cairn journal bench`.
//
// Like etcd's own `benchmark put` tool: clients share a few HTTP/2 connections (--conns), each
// client keeps one put outstanding and sends the next as soon as it is acknowledged, and every
// put goes to the leader (the endpoint whose Maintenance.Status names itself), as Cairn's
// appends do. One thread drives every client through a completion queue, so the generator
// takes little of the machine's CPU from etcd.
//
// This is a benchmark, outside src/: it uses threads, sockets and clocks directly.
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bench/etcd/etcd_kv.grpc.pb.h"
#include "bench/etcd/put_load.h"

namespace {

using Clock = std::chrono::steady_clock;

constexpr char kUsage[] =
    "usage: etcd_grpc_load --endpoints HOST:PORT,... [--clients N] [--conns N] [--value-bytes B]\n"
    "                      [--seconds S] [--warmup-seconds W] [--json]\n"
    "Puts from N concurrent clients to the etcd leader over gRPC (--conns connections,\n"
    "default min(N, 8)); prints puts/s and p50/p99 latency.\n";

std::shared_ptr<grpc::Channel> Connect(const std::string& target) {
  grpc::ChannelArguments args;
  // Each channel its own TCP connection: gRPC otherwise shares one among channels to a target.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
}

// One put in flight: what the completion queue hands back.
struct Call {
  int client = 0;
  Clock::time_point begin;
  grpc::ClientContext context;
  etcdserverpb::PutResponse response;
  grpc::Status status;
  std::unique_ptr<grpc::ClientAsyncResponseReader<etcdserverpb::PutResponse>> reader;
};

}  // namespace

int main(int argc, char** argv) {
  const cairn::bench::PutLoadFlags flags = cairn::bench::ParsePutLoadFlags(argc, argv, kUsage);
  const int clients = flags.clients;
  const int conns = flags.conns > 0 ? flags.conns : std::min(clients, 8);

  // The leader: the endpoint whose status names itself.
  std::optional<std::string> leader;
  for (const std::string& ep : flags.endpoints) {
    auto stub = etcdserverpb::Maintenance::NewStub(Connect(ep));
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
    etcdserverpb::StatusResponse status;
    if (stub->Status(&context, etcdserverpb::StatusRequest(), &status).ok() && status.leader() != 0 &&
        status.leader() == status.header().member_id()) {
      leader = ep;
    }
  }
  if (!leader) {
    std::fprintf(stderr, "etcd_grpc_load: no endpoint reports itself as the leader\n");
    return 1;
  }

  std::vector<std::unique_ptr<etcdserverpb::KV::Stub>> stubs;
  for (int c = 0; c < conns; ++c) stubs.push_back(etcdserverpb::KV::NewStub(Connect(*leader)));
  const auto to_clock = [](double s) { return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s)); };
  const Clock::time_point measure_from = Clock::now() + to_clock(flags.warmup_seconds);
  const Clock::time_point end = measure_from + to_clock(flags.seconds);

  grpc::CompletionQueue cq;
  std::vector<uint64_t> sent(static_cast<size_t>(clients), 0);
  etcdserverpb::PutRequest request;
  request.set_value(cairn::bench::PutValue(flags.value_bytes));
  const auto issue = [&](int client) {
    auto* call = new Call;
    call->client = client;
    request.set_key("bench/" + std::to_string(client) + "/" + std::to_string(sent[static_cast<size_t>(client)]++));
    call->begin = Clock::now();
    call->reader = stubs[static_cast<size_t>(client % conns)]->AsyncPut(&call->context, request, &cq);
    call->reader->Finish(&call->response, &call->status, call);
  };
  for (int c = 0; c < clients; ++c) issue(c);
  std::vector<int64_t> latencies_us;
  uint64_t errors = 0;
  std::string first_error;
  for (int outstanding = clients; outstanding > 0;) {
    void* tag = nullptr;
    bool ok = false;
    if (!cq.Next(&tag, &ok)) break;
    std::unique_ptr<Call> call(static_cast<Call*>(tag));
    const Clock::time_point done = Clock::now();
    if (!ok || !call->status.ok()) {
      if (errors++ == 0) first_error = call->status.error_message();
    } else if (call->begin >= measure_from && done <= end) {
      latencies_us.push_back(std::chrono::duration_cast<std::chrono::microseconds>(done - call->begin).count());
    }
    if (done < end && errors == 0) {
      issue(call->client);
    } else {
      --outstanding;
    }
  }
  cq.Shutdown();
  cairn::bench::PrintPutLoadReport("etcd-grpc", flags, std::move(latencies_us), errors);
  if (errors > 0) std::fprintf(stderr, "etcd_grpc_load: %llu puts failed; the first: %s\n",
                               static_cast<unsigned long long>(errors), first_error.c_str());
  return errors == 0 ? 0 : 1;
}

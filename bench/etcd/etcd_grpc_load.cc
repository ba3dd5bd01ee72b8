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

namespace {

using Clock = std::chrono::steady_clock;

void Usage() {
  std::fprintf(stderr,
               "usage: etcd_grpc_load --endpoints HOST:PORT,... [--clients N] [--conns N] [--value-bytes B]\n"
               "                      [--seconds S] [--warmup-seconds W] [--json]\n"
               "Puts from N concurrent clients to the etcd leader over gRPC (--conns connections,\n"
               "default min(N, 8)); prints puts/s and p50/p99 latency.\n");
  std::exit(2);
}

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
  std::vector<std::string> endpoints;
  int clients = 16, conns = 0;
  size_t value_bytes = 100;
  double seconds = 5, warmup = 1;
  bool json = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const auto next = [&]() -> std::string {
      if (i + 1 >= argc) Usage();
      return argv[++i];
    };
    if (a == "--endpoints") {
      const std::string list = next();
      for (size_t from = 0; from <= list.size();) {
        const size_t comma = std::min(list.find(',', from), list.size());
        if (comma > from) endpoints.push_back(list.substr(from, comma - from));
        from = comma + 1;
      }
    } else if (a == "--clients") {
      clients = std::atoi(next().c_str());
    } else if (a == "--conns") {
      conns = std::atoi(next().c_str());
    } else if (a == "--value-bytes") {
      value_bytes = std::strtoull(next().c_str(), nullptr, 10);
    } else if (a == "--seconds") {
      seconds = std::atof(next().c_str());
    } else if (a == "--warmup-seconds") {
      warmup = std::atof(next().c_str());
    } else if (a == "--json") {
      json = true;
    } else {
      Usage();
    }
  }
  if (conns == 0) conns = std::min(clients, 8);
  if (endpoints.empty() || clients < 1 || clients > 100'000 || conns < 1 || value_bytes < 1 || seconds <= 0) Usage();

  // The leader: the endpoint whose status names itself.
  std::optional<std::string> leader;
  for (const std::string& ep : endpoints) {
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
  std::string value(value_bytes, 'x');
  for (size_t i = 0; i < value.size(); ++i) value[i] = static_cast<char>('a' + (i * 7919) % 26);
  const auto to_clock = [](double s) { return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s)); };
  const Clock::time_point measure_from = Clock::now() + to_clock(warmup);
  const Clock::time_point end = measure_from + to_clock(seconds);

  grpc::CompletionQueue cq;
  std::vector<uint64_t> sent(static_cast<size_t>(clients), 0);
  etcdserverpb::PutRequest request;
  request.set_value(value);
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
  std::sort(latencies_us.begin(), latencies_us.end());
  const auto percentile_ms = [&](double p) {
    if (latencies_us.empty()) return 0.0;
    const size_t i = std::min(latencies_us.size() - 1, static_cast<size_t>(p * static_cast<double>(latencies_us.size())));
    return static_cast<double>(latencies_us[i]) / 1000.0;
  };
  const double rate = static_cast<double>(latencies_us.size()) / seconds;
  if (json) {
    std::printf("{\"system\": \"etcd-grpc\", \"appenders\": %d, \"conns\": %d, \"record_bytes\": %zu, "
                "\"appends_per_s\": %.6g, \"p50_ms\": %.6g, \"p99_ms\": %.6g, \"errors\": %llu}\n",
                clients, conns, value_bytes, rate, percentile_ms(0.5), percentile_ms(0.99),
                static_cast<unsigned long long>(errors));
  } else {
    std::printf("etcd over gRPC, %d clients on %d connections, %zu-byte values: %.0f puts/s, p50 %.2f ms, "
                "p99 %.2f ms (%zu puts measured, %llu errors)\n",
                clients, conns, value_bytes, rate, percentile_ms(0.5), percentile_ms(0.99), latencies_us.size(),
                static_cast<unsigned long long>(errors));
  }
  if (errors > 0) std::fprintf(stderr, "etcd_grpc_load: %llu puts failed; the first: %s\n",
                               static_cast<unsigned long long>(errors), first_error.c_str());
  return errors == 0 ? 0 : 1;
}

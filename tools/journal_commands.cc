// cairn journal serve | info | bench: the journal service as real processes over TCP — the
// same JournalNode and JournalClient the simulator runs.
#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "src/journal/journal_client.h"
#include "src/journal/journal_node.h"
#include "src/runtime/real/real_node.h"
#include "src/runtime/task_group.h"
#include "tools/commands.h"
#include "tools/json_writer.h"
#include "tools/peer_flags.h"

namespace cairn::tools {
namespace {

using journal::JournalClient;
using journal::JournalClientOptions;
using journal::JournalNode;
using journal::JournalNodeOptions;

// Runs `main` on a short-lived client node (no listener, no disk) and returns the exit code.
int RunClient(const PeerFlags& flags, std::function<Task<absl::Status>(Runtime&, std::vector<NodeId>)> main) {
  absl::StatusOr<PeerNode> client = CreateClientNode(flags);
  if (!client.ok()) return Fail(client.status());
  real::RealNode& node = *client->node;
  absl::Status s = node.Run(main(node.runtime(), client->replicas), /*handle_signals=*/true);
  return s.ok() ? 0 : Fail(s);
}

// Runs one operator's call on a stream through a reader client (no fence) and prints OK.
int RunOperatorCall(const PeerFlags& flags, std::string stream,
                    std::function<Task<absl::Status>(JournalClient&)> call) {
  return RunClient(flags, [stream, call](Runtime& rt, std::vector<NodeId> replicas) -> Task<absl::Status> {
    rpc::RpcNode rpc(rt);
    rpc.Start();
    JournalClientOptions options;
    options.replicas = replicas;
    options.writer = false;
    std::string name = stream;
    absl::StatusOr<std::unique_ptr<JournalClient>> client = co_await JournalClient::Open(rt, rpc, name, options);
    if (!client.ok()) co_return client.status();
    CO_RETURN_IF_ERROR(co_await call(**client));
    std::printf("OK\n");
    co_return absl::OkStatus();
  });
}

Task<absl::Status> Serve(Runtime& rt, std::vector<std::string> streams, std::vector<NodeId> members,
                         JournalNodeOptions options) {
  rpc::RpcNode rpc(rt);
  std::string root = "journal";
  absl::StatusOr<std::unique_ptr<JournalNode>> node =
      co_await JournalNode::Open(rt, rpc, std::move(root), std::move(options));
  if (!node.ok()) co_return node.status();
  for (std::string& stream : streams) {
    CO_RETURN_IF_ERROR(co_await (*node)->CreateStream(stream, members));
  }
  (*node)->RegisterMethods();
  rpc.Start();
  (*node)->Start();
  std::fprintf(stderr, "journal node %u: %zu streams\n", rt.node_id(), (*node)->streams().size());
  absl::Status failed = co_await (*node)->Failed();
  co_return absl::InternalError(absl::StrCat("a stream's storage failed; restart the node to recover: ",
                                             failed.ToString()));
}

struct BenchResult {
  uint64_t appends = 0;
  uint64_t errors = 0;
  double seconds = 0;
  std::vector<int64_t> latencies_us;  // of the appends after the warmup
};

Task<void> Appender(Runtime& rt, JournalClient* client, std::string payload, Instant measure_from, Instant end,
                    BenchResult* result) {
  while (rt.Now() < end) {
    const Instant begin = rt.Now();
    absl::StatusOr<uint64_t> position = co_await client->Append(payload);
    const Instant done = rt.Now();
    if (!position.ok()) {
      ++result->errors;
      if (absl::IsFailedPrecondition(position.status())) co_return;  // fenced by another writer
      continue;
    }
    if (begin >= measure_from && done <= end) {
      ++result->appends;
      result->latencies_us.push_back(std::chrono::duration_cast<std::chrono::microseconds>(done - begin).count());
    }
  }
}

double PercentileMs(std::vector<int64_t>& sorted_us, double p) {
  if (sorted_us.empty()) return 0;
  const size_t at = std::min(sorted_us.size() - 1, static_cast<size_t>(p * static_cast<double>(sorted_us.size())));
  return static_cast<double>(sorted_us[at]) / 1000.0;
}

// cairn journal serve
void AddServeCommand(CLI::App* journal, Action& action) {
  auto flags = std::make_shared<PeerFlags>();
  auto id = std::make_shared<NodeId>(0);
  auto dir = std::make_shared<std::string>();
  auto streams = std::make_shared<std::vector<std::string>>();
  CLI::App* serve = journal->add_subcommand(
      "serve", "Run one journal node in the foreground until SIGINT/SIGTERM. Streams found under --dir "
               "are recovered; each --stream is created (replicated by every node of --peers) unless it exists");
  serve->add_option("--id", *id, "This node's id (one of --peers)")->required();
  serve->add_option("--dir", *dir, "This node's data directory")->required();
  serve->add_option("--stream", *streams, "A stream to host (repeatable)");
  auto tick_ms = std::make_shared<int>(10);
  auto election_ms = std::make_shared<int>(1000);
  serve->add_option("--tick-ms", *tick_ms, "Raft tick: leaders of busy streams heartbeat every tick")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  serve->add_option("--election-ms", *election_ms,
                    "A follower that hears nothing from its leader for between this and twice this campaigns. "
                    "Keep it well above the time a vote takes to reach the disk when many streams elect at "
                    "once (each persists its term and vote)")
      ->check(CLI::Range(2, 600000))
      ->capture_default_str();
  flags->Add(serve);
  serve->callback([&action, flags, id, dir, streams, tick_ms, election_ms] {
    if (*election_ms < 2 * *tick_ms) throw CLI::ValidationError("--election-ms", "must be at least two ticks");
    action = [=] {
      absl::StatusOr<PeerNode> server = CreateServerNode(*flags, *id, *dir);
      if (!server.ok()) return Fail(server.status());
      real::RealNode& node = *server->node;
      JournalNodeOptions options = JournalNodeOptions::FromKnobs(node.runtime().knobs());
      options.tick = std::chrono::milliseconds(*tick_ms);
      options.raft.election_ticks = *election_ms / *tick_ms;
      std::fprintf(stderr, "journal node %u serving on %s, data in %s\n", *id, node.listen_address().c_str(),
                   dir->c_str());
      absl::Status s =
          node.Run(Serve(node.runtime(), *streams, server->replicas, std::move(options)), /*handle_signals=*/true);
      if (absl::IsCancelled(s)) return 0;  // a signal: a clean stop
      return Fail(s);
    };
  });
}

// cairn journal info
void AddInfoCommand(CLI::App* journal, Action& action) {
  auto flags = std::make_shared<PeerFlags>();
  auto stream = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  CLI::App* info = journal->add_subcommand("info", "Each replica's view of a stream: role, term, epoch, positions, "
                                                   "commit and applied indexes, members");
  info->add_option("stream", *stream, "The stream")->required();
  info->add_flag("--json", *json, "One JSON object per replica");
  flags->Add(info);
  info->callback([&action, flags, stream, json] {
    action = [=] {
      return RunClient(*flags, [stream, json](Runtime& rt, std::vector<NodeId> replicas) -> Task<absl::Status> {
        rpc::RpcNode rpc(rt);
        rpc.Start();
        journal::InfoRequest request;
        request.set_stream(*stream);
        bool any = false;
        for (NodeId r : replicas) {
          rpc::CallOptions call{.deadline = rt.DeadlineAfter(std::chrono::seconds(2)), .attempts_max = 1};
          std::string method = "journal.info";
          absl::StatusOr<journal::InfoReply> reply = co_await rpc.Call<journal::InfoReply>(r, method, request, call);
          if (!reply.ok()) {
            std::printf("node %u: %s\n", r, reply.status().ToString().c_str());
            continue;
          }
          any = true;
          if (*json) {
            JsonWriter w;
            w.BeginObject().Field("node", r).Field("role", reply->role()).Field("term", reply->term());
            w.Field("leader", reply->leader()).Field("epoch", reply->epoch()).Field("start", reply->start());
            w.Field("next", reply->next()).Field("commit", reply->commit()).Field("applied", reply->applied());
            w.Field("first_index", reply->first_index()).Field("last_index", reply->last_index());
            w.Key("members").BeginArray();
            for (NodeId m : reply->members()) w.Uint(m);
            w.EndArray().EndObject();
            std::printf("%s\n", w.str().c_str());
          } else {
            std::string members;
            for (NodeId m : reply->members()) absl::StrAppend(&members, members.empty() ? "" : ",", m);
            std::printf("node %u: %-9s term %llu  epoch %llu  positions [%llu, %llu)  commit %llu  applied %llu  "
                        "log [%llu, %llu]  members %s\n",
                        r, reply->role().c_str(), static_cast<unsigned long long>(reply->term()),
                        static_cast<unsigned long long>(reply->epoch()), static_cast<unsigned long long>(reply->start()),
                        static_cast<unsigned long long>(reply->next()), static_cast<unsigned long long>(reply->commit()),
                        static_cast<unsigned long long>(reply->applied()),
                        static_cast<unsigned long long>(reply->first_index()),
                        static_cast<unsigned long long>(reply->last_index()), members.c_str());
          }
        }
        co_return any ? absl::OkStatus() : absl::UnavailableError("no replica answered");
      });
    };
  });
}

// cairn journal members
void AddMembersCommand(CLI::App* journal, Action& action) {
  auto flags = std::make_shared<PeerFlags>();
  auto stream = std::make_shared<std::string>();
  auto members = std::make_shared<std::vector<NodeId>>();
  CLI::App* cmd = journal->add_subcommand(
      "members", "Move a stream to the given replicas, one at a time (additions first), each change "
                 "committed before the next; a new replica is made to host the stream first");
  cmd->add_option("stream", *stream, "The stream")->required();
  cmd->add_option("--set", *members, "The replicas wanted, e.g. --set 0,1,3")->required()->delimiter(',');
  flags->Add(cmd);
  cmd->callback([&action, flags, stream, members] {
    action = [=] {
      return RunOperatorCall(*flags, *stream, [members](JournalClient& c) { return c.ChangeMembers(*members); });
    };
  });
}

// cairn journal transfer
void AddTransferCommand(CLI::App* journal, Action& action) {
  auto flags = std::make_shared<PeerFlags>();
  auto stream = std::make_shared<std::string>();
  auto to = std::make_shared<NodeId>(0);
  CLI::App* cmd = journal->add_subcommand("transfer", "Hand a stream's leadership to one of its replicas");
  cmd->add_option("stream", *stream, "The stream")->required();
  cmd->add_option("--to", *to, "The replica to lead")->required();
  flags->Add(cmd);
  cmd->callback([&action, flags, stream, to] {
    action = [=] {
      return RunOperatorCall(*flags, *stream, [to](JournalClient& c) { return c.TransferLeadership(*to); });
    };
  });
}

// cairn journal bench
void AddBenchCommand(CLI::App* journal, Action& action) {
  auto flags = std::make_shared<PeerFlags>();
  auto streams = std::make_shared<std::vector<std::string>>();
  auto appenders = std::make_shared<int>(16);
  auto record_bytes = std::make_shared<size_t>(100);
  auto seconds = std::make_shared<double>(5);
  auto warmup = std::make_shared<double>(1);
  auto json = std::make_shared<bool>(false);
  CLI::App* bench = journal->add_subcommand(
      "bench", "Fence streams and append to them from N concurrent appenders for a while (spread round-robin "
               "over the streams); print appends per second and latency percentiles (an append is "
               "acknowledged once a majority has it on disk)");
  bench->add_option("--stream", *streams, "A stream to append to (repeatable; each must exist: `serve --stream`; "
                                           "default: bench)");
  bench->add_option("--appenders", *appenders, "Concurrent appenders")->check(CLI::Range(1, 1000))->capture_default_str();
  bench->add_option("--record-bytes", *record_bytes, "Bytes per record")->check(CLI::Range(1, 1 << 20))->capture_default_str();
  bench->add_option("--seconds", *seconds, "Measured time")->check(CLI::Range(0.1, 3600.0))->capture_default_str();
  bench->add_option("--warmup-seconds", *warmup, "Unmeasured time first")->check(CLI::Range(0.0, 600.0))->capture_default_str();
  bench->add_flag("--json", *json, "One JSON object");
  flags->Add(bench);
  bench->callback([&action, flags, streams, appenders, record_bytes, seconds, warmup, json] {
    if (streams->empty()) streams->push_back("bench");
    action = [=] {
      return RunClient(*flags, [=](Runtime& rt, std::vector<NodeId> replicas) -> Task<absl::Status> {
        rpc::RpcNode rpc(rt);
        rpc.Start();
        JournalClientOptions options;
        options.replicas = replicas;
        std::vector<std::unique_ptr<JournalClient>> clients;
        for (const std::string& stream : *streams) {
          std::string name = stream;
          absl::StatusOr<std::unique_ptr<JournalClient>> client = co_await JournalClient::Open(rt, rpc, name, options);
          if (!client.ok()) co_return client.status();
          clients.push_back(*std::move(client));
        }
        std::string payload(*record_bytes, 'x');
        for (size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>('a' + rt.random().Uniform(26));
        const auto to_duration = [](double s) {
          return std::chrono::duration_cast<Duration>(std::chrono::duration<double>(s));
        };
        const Instant measure_from = rt.Now() + to_duration(*warmup);
        const Instant end = measure_from + to_duration(*seconds);
        BenchResult result;
        {
          TaskGroup tasks(rt.executor());
          for (int i = 0; i < *appenders; ++i) {
            tasks.Spawn(Appender(rt, clients[static_cast<size_t>(i) % clients.size()].get(), payload, measure_from, end,
                                 &result));
          }
          while (!tasks.empty()) co_await rt.Sleep(std::chrono::milliseconds(10));
        }
        std::sort(result.latencies_us.begin(), result.latencies_us.end());
        const double rate = static_cast<double>(result.appends) / *seconds;
        const double p50 = PercentileMs(result.latencies_us, 0.50);
        const double p99 = PercentileMs(result.latencies_us, 0.99);
        if (*json) {
          JsonWriter w;
          w.BeginObject().Field("system", std::string("cairn")).Field("streams", clients.size());
          w.Field("appenders", *appenders).Field("record_bytes", *record_bytes);
          w.Field("appends_per_s", rate).Field("p50_ms", p50).Field("p99_ms", p99).Field("errors", result.errors).EndObject();
          std::printf("%s\n", w.str().c_str());
        } else {
          std::printf("cairn journal, %zu streams, %d appenders, %zu-byte records: %.0f appends/s, p50 %.2f ms, "
                      "p99 %.2f ms (%llu appends measured, %llu errors)\n",
                      clients.size(), *appenders, *record_bytes, rate, p50, p99,
                      static_cast<unsigned long long>(result.appends),
                      static_cast<unsigned long long>(result.errors));
        }
        co_return absl::OkStatus();
      });
    };
  });
}

}  // namespace

void AddJournalCommands(CLI::App& app, Action& action) {
  CLI::App* journal = app.add_subcommand(
      "journal", "The replicated journal (Raft per stream) as real processes on TCP: serve a node, "
                 "inspect a stream, measure appends");
  journal->require_subcommand(1);
  AddServeCommand(journal, action);
  AddInfoCommand(journal, action);
  AddMembersCommand(journal, action);
  AddTransferCommand(journal, action);
  AddBenchCommand(journal, action);
}

}  // namespace cairn::tools

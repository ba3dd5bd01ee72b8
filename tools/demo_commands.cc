// cairn demo serve | cluster | put | get: the demo register as real processes over TCP.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "src/demo/register_client.h"
#include "src/demo/register_replica.h"
#include "src/runtime/real/real_node.h"
#include "tools/commands.h"
#include "tools/peer_flags.h"

namespace cairn::tools {
namespace {

// Runs one client operation as a short-lived node with no listener.
int RunClientOp(const PeerFlags& flags, int64_t timeout_ms,
                std::function<Task<absl::Status>(demo::RegisterClient&, Instant)> op) {
  absl::StatusOr<PeerNode> client = CreateClientNode(flags);
  if (!client.ok()) return Fail(client.status());
  Runtime& rt = client->node->runtime();
  const std::vector<NodeId> replicas = client->replicas;
  auto main = [](Runtime& node_rt, std::vector<NodeId> peers, int64_t wait_ms,
                 std::function<Task<absl::Status>(demo::RegisterClient&, Instant)> call)
      -> Task<absl::Status> {
    rpc::RpcNode rpc(node_rt);
    rpc.Start();
    demo::ClientOptions options;
    options.replicas = peers;
    demo::RegisterClient register_client(rpc, options);
    co_return co_await call(register_client, node_rt.DeadlineAfter(std::chrono::milliseconds(wait_ms)));
  };
  absl::Status s = client->node->Run(main(rt, replicas, timeout_ms, std::move(op)), true);
  return s.ok() ? 0 : Fail(s);
}

}  // namespace

void AddDemoCommands(CLI::App& app, Action& action) {
  CLI::App* demo = app.add_subcommand(
      "demo", "The demo replicated register as real processes on TCP (the same code the "
              "simulator runs)");
  demo->require_subcommand(1);

  // cairn demo serve
  {
    auto flags = std::make_shared<PeerFlags>();
    auto id = std::make_shared<NodeId>(0);
    auto dir = std::make_shared<std::string>();
    CLI::App* serve = demo->add_subcommand(
        "serve", "Run one replica in the foreground until SIGINT/SIGTERM");
    serve->add_option("--id", *id, "This replica's id (one of --peers)")->required();
    serve->add_option("--dir", *dir, "This replica's data directory")->required();
    flags->Add(serve);
    serve->callback([&action, flags, id, dir] {
      action = [=] {
        absl::StatusOr<PeerNode> server = CreateServerNode(*flags, *id, *dir);
        if (!server.ok()) return Fail(server.status());
        std::unique_ptr<real::RealNode>& node = server->node;
        std::fprintf(stderr, "replica %u serving on %s, data in %s\n", *id,
                     node->listen_address().c_str(), dir->c_str());
        demo::ReplicaOptions replica_options;
        replica_options.replicas = server->replicas;
        auto main = [](Runtime& rt, demo::ReplicaOptions options) -> Task<absl::Status> {
          co_await demo::RunReplica(rt, std::move(options));
          co_return absl::InternalError("the replica stopped (see its log above)");
        };
        absl::Status s = node->Run(main(node->runtime(), std::move(replica_options)), true);
        if (absl::IsCancelled(s)) return 0;  // a signal: a clean stop
        return Fail(s);
      };
    });
  }

  // cairn demo cluster
  {
    auto nodes = std::make_shared<int>(3);
    auto base_port = std::make_shared<int>(7101);
    auto dir = std::make_shared<std::string>("/tmp/cairn-demo");
    CLI::App* cluster = demo->add_subcommand(
        "cluster", "Start N replicas as child processes on 127.0.0.1 and wait (Ctrl-C stops all)");
    cluster->add_option("--nodes", *nodes, "Replicas")->check(CLI::Range(1, 9))->capture_default_str();
    cluster->add_option("--base-port", *base_port, "Port of replica 0; replica i uses base+i")
        ->check(CLI::Range(1024, 65000))->capture_default_str();
    cluster->add_option("--dir", *dir, "Parent of the replicas' data directories")->capture_default_str();
    cluster->callback([&action, nodes, base_port, dir] {
      action = [=] {
        std::vector<std::string> parts;
        for (int i = 0; i < *nodes; ++i) parts.push_back(absl::StrCat(i, "=127.0.0.1:", *base_port + i));
        const std::string peers = absl::StrJoin(parts, ",");
        // Block the signals now; children unblock them, the parent waits for them.
        sigset_t stop;
        sigemptyset(&stop);
        sigaddset(&stop, SIGINT);
        sigaddset(&stop, SIGTERM);
        sigprocmask(SIG_BLOCK, &stop, nullptr);
        std::vector<pid_t> children;
        for (int i = 0; i < *nodes; ++i) {
          const std::string id = std::to_string(i);
          const std::string data = absl::StrCat(*dir, "/replica", i);
          const pid_t pid = fork();
          if (pid == 0) {
            sigprocmask(SIG_UNBLOCK, &stop, nullptr);
            execl("/proc/self/exe", "cairn", "demo", "serve", "--id", id.c_str(), "--dir",
                  data.c_str(), "--peers", peers.c_str(), static_cast<char*>(nullptr));
            std::perror("exec cairn demo serve");
            _exit(127);
          }
          if (pid < 0) {
            std::perror("fork");
            for (pid_t c : children) kill(c, SIGTERM);
            return 1;
          }
          children.push_back(pid);
        }
        std::printf("cluster of %d replicas: --peers %s\n", *nodes, peers.c_str());
        std::printf("try:  cairn demo put greeting hello --peers %s\n", peers.c_str());
        std::printf("      cairn demo get greeting --peers %s\n", peers.c_str());
        std::printf("Ctrl-C (or SIGTERM) stops every replica.\n");
        std::fflush(stdout);
        int signal_number = 0;
        sigwait(&stop, &signal_number);
        for (pid_t c : children) kill(c, SIGTERM);
        for (pid_t c : children) waitpid(c, nullptr, 0);
        std::printf("stopped\n");
        return 0;
      };
    });
  }

  // cairn demo put / get
  {
    auto flags = std::make_shared<PeerFlags>();
    auto key = std::make_shared<std::string>();
    auto value = std::make_shared<std::string>();
    auto timeout_ms = std::make_shared<int64_t>(3000);
    CLI::App* put = demo->add_subcommand("put", "Write KEY=VALUE; prints OK once a majority has it on disk");
    put->add_option("key", *key, "Key")->required();
    put->add_option("value", *value, "Value")->required();
    put->add_option("--timeout-ms", *timeout_ms, "Give up after this long")->capture_default_str();
    flags->Add(put);
    put->callback([&action, flags, key, value, timeout_ms] {
      action = [=] {
        const int rc = RunClientOp(*flags, *timeout_ms, [key, value](demo::RegisterClient& c, Instant d) {
          return c.Put(*key, *value, d);
        });
        if (rc == 0) std::printf("OK\n");
        return rc;
      };
    });
  }
  {
    auto flags = std::make_shared<PeerFlags>();
    auto key = std::make_shared<std::string>();
    auto timeout_ms = std::make_shared<int64_t>(3000);
    CLI::App* get = demo->add_subcommand("get", "Read KEY; prints its value, or (nil); exit 0 either way");
    get->add_option("key", *key, "Key")->required();
    get->add_option("--timeout-ms", *timeout_ms, "Give up after this long")->capture_default_str();
    flags->Add(get);
    get->callback([&action, flags, key, timeout_ms] {
      action = [=] {
        return RunClientOp(*flags, *timeout_ms, [key](demo::RegisterClient& c, Instant d) -> Task<absl::Status> {
          absl::StatusOr<std::optional<std::string>> v = co_await c.Get(*key, d);
          if (!v.ok()) co_return v.status();
          std::printf("%s\n", v->has_value() ? (*v)->c_str() : "(nil)");
          co_return absl::OkStatus();
        });
      };
    });
  }
}

}  // namespace cairn::tools

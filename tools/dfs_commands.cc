// cairn dfs serve | put | get | ls | stat | rm | snapshot | fsck | scan: the file system (docs/dfs.md)
// as real processes over TCP — the same JournalNode, MasterService, FileServer and DfsClient the
// simulator runs.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string_view>
#include <utility>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "src/dfs/chunk_store.h"
#include "src/dfs/coprocessor.h"
#include "src/dfs/dfs_client.h"
#include "src/dfs/dfs_writer.h"
#include "src/dfs/file_server.h"
#include "src/journal/journal_node.h"
#include "src/master/master_service.h"
#include "src/runtime/real/real_node.h"
#include "src/runtime/task_group.h"
#include "tools/commands.h"
#include "tools/dfs_flags.h"
#include "tools/peer_flags.h"

namespace cairn::tools {
namespace {

constexpr char kMasterStream[] = "dfs-master";
// `get` reads this many chunks' worth at a time (the client reads chunks_inflight_max at once).
constexpr uint32_t kGetWindowChunks = 16;

// Where `get` writes: stdout ("-"); a device or pipe (/dev/null), written as it is; or a
// regular file, written beside it under a temporary name and renamed over it at Commit, so
// that a get that fails or is interrupted leaves the old file (or none), never part of one.
class LocalOutput {
 public:
  static absl::StatusOr<LocalOutput> Open(const std::string& path) {
    LocalOutput o;
    o.path_ = path;
    if (path == "-") {
      o.file_ = stdout;
      return o;
    }
    struct stat st;
    if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
      o.file_ = std::fopen(path.c_str(), "wb");
      if (o.file_ == nullptr) return absl::PermissionDeniedError(absl::StrCat(path, ": cannot open: ", std::strerror(errno)));
      o.owned_ = true;
      return o;
    }
    o.tmp_ = path + ".cairn-get-XXXXXX";
    const int fd = ::mkstemp(o.tmp_.data());
    if (fd < 0) return absl::PermissionDeniedError(absl::StrCat(path, ": cannot create beside it: ", std::strerror(errno)));
    o.file_ = ::fdopen(fd, "wb");
    if (o.file_ == nullptr) {
      ::close(fd);
      ::unlink(o.tmp_.c_str());
      return absl::InternalError(absl::StrCat(o.tmp_, ": fdopen: ", std::strerror(errno)));
    }
    o.owned_ = true;
    return o;
  }
  LocalOutput(LocalOutput&& o) noexcept
      : path_(std::move(o.path_)), tmp_(std::exchange(o.tmp_, "")), file_(std::exchange(o.file_, nullptr)),
        owned_(std::exchange(o.owned_, false)) {}
  LocalOutput& operator=(LocalOutput&&) = delete;
  ~LocalOutput() {
    if (owned_ && file_ != nullptr) std::fclose(file_);
    if (!tmp_.empty()) ::unlink(tmp_.c_str());  // not committed
  }

  absl::Status Write(std::string_view bytes) {
    if (std::fwrite(bytes.data(), 1, bytes.size(), file_) != bytes.size()) {
      return absl::InternalError(absl::StrCat(path_, ": write failed: ", std::strerror(errno)));
    }
    return absl::OkStatus();
  }
  absl::Status Commit() {
    if (std::fflush(file_) != 0) return absl::InternalError(absl::StrCat(path_, ": write failed: ", std::strerror(errno)));
    if (owned_) {
      const int rc = std::fclose(std::exchange(file_, nullptr));
      if (rc != 0) return absl::InternalError(absl::StrCat(path_, ": write failed: ", std::strerror(errno)));
    }
    if (!tmp_.empty()) {
      if (::rename(tmp_.c_str(), path_.c_str()) != 0) {
        return absl::InternalError(absl::StrCat(path_, ": rename into place: ", std::strerror(errno)));
      }
      tmp_.clear();
    }
    return absl::OkStatus();
  }

 private:
  LocalOutput() = default;
  std::string path_, tmp_;
  FILE* file_ = nullptr;
  bool owned_ = false;
};

bool Contains(const std::vector<NodeId>& v, NodeId n) { return std::find(v.begin(), v.end(), n) != v.end(); }

Task<absl::Status> Serve(Runtime& rt, DfsFlags flags, std::string node_set, bool file_server) {
  rpc::RpcNode rpc(rt);
  std::unique_ptr<journal::JournalNode> journal_node;
  if (Contains(flags.journal_nodes, rt.node_id())) {
    std::string root = "journal";
    absl::StatusOr<std::unique_ptr<journal::JournalNode>> node = co_await journal::JournalNode::Open(
        rt, rpc, std::move(root), journal::JournalNodeOptions::FromKnobs(rt.knobs()));
    if (!node.ok()) co_return node.status();
    journal_node = *std::move(node);
    std::string stream = kMasterStream;
    CO_RETURN_IF_ERROR(co_await journal_node->CreateStream(std::move(stream), flags.journal_nodes));
    journal_node->RegisterMethods();
  }
  std::unique_ptr<master::MasterService> master;
  if (Contains(flags.masters, rt.node_id())) {
    master::MasterServiceOptions options = master::MasterServiceOptions::FromKnobs(rt.knobs());
    options.stream = kMasterStream;
    options.journal.replicas = flags.journal_nodes;
    master = std::make_unique<master::MasterService>(rpc, options);
    master->RegisterMethods();
  }
  std::unique_ptr<dfs::ChunkStore> store;
  std::unique_ptr<dfs::FileServer> server;
  if (file_server) {
    absl::StatusOr<std::unique_ptr<dfs::ChunkStore>> opened = co_await dfs::ChunkStore::Open(rt.disk(), "chunks");
    if (!opened.ok()) co_return opened.status();
    store = *std::move(opened);
    dfs::FileServerOptions options = dfs::FileServerOptions::FromKnobs(rt.knobs());
    options.masters = flags.masters;
    options.node_set = std::move(node_set);
    server = std::make_unique<dfs::FileServer>(rpc, *store, options);
    server->RegisterMethods();
  }
  rpc.Start();
  TaskGroup roles(rt.executor());
  if (journal_node != nullptr) journal_node->Start();
  if (master != nullptr) roles.Spawn(master->Run());
  if (server != nullptr) roles.Spawn(server->Run());
  std::fprintf(stderr, "dfs node %u:%s%s%s\n", rt.node_id(), journal_node != nullptr ? " journal" : "",
               master != nullptr ? " master" : "", server != nullptr ? " file-server" : "");
  if (journal_node != nullptr) {
    absl::Status failed = co_await journal_node->Failed();
    co_return absl::InternalError(
        absl::StrCat("the master's journal stream failed here; restart the node to recover: ", failed.ToString()));
  }
  while (true) co_await rt.Sleep(std::chrono::hours(1));
}

// Runs `main` with a DfsClient on a short-lived client node; returns the exit code.
int RunClient(DfsFlags flags, std::function<Task<absl::Status>(Runtime&, dfs::DfsClient&)> main) {
  absl::Status s = RunDfsClient(std::move(flags), std::move(main));
  return s.ok() ? 0 : Fail(s);
}

std::string FileLine(const dfs::FileStatProto& f) {
  return absl::StrCat(f.path(), "\t", f.length(), " bytes\tR=", f.replication(), "\t", f.chunks(), " chunks",
                      f.sealed() ? "" : "\topen", f.chunks_under_replicated() > 0 ? absl::StrCat("\t", f.chunks_under_replicated(), " under-replicated") : "",
                      f.chunks_lost() > 0 ? absl::StrCat("\t", f.chunks_lost(), " LOST") : "");
}

void AddServe(CLI::App* dfs, Action& action) {
  auto flags = std::make_shared<DfsFlags>();
  auto id = std::make_shared<NodeId>(0);
  auto dir = std::make_shared<std::string>();
  auto node_set = std::make_shared<std::string>("online");
  auto no_files = std::make_shared<bool>(false);
  CLI::App* cmd = dfs->add_subcommand(
      "serve", "Run one DFS node in the foreground until SIGINT/SIGTERM: a file server (chunks under --dir), "
               "and, when --id is among them, a journal node of the master's stream and a master candidate");
  cmd->add_option("--id", *id, "This node's id (one of --peers)")->required();
  cmd->add_option("--dir", *dir, "This node's data directory")->required();
  cmd->add_option("--node-set", *node_set, "This file server's node set (placement and reads may ask for one)")
      ->capture_default_str();
  cmd->add_flag("--no-file-server", *no_files, "Hold no chunks (a journal or master node only)");
  flags->Add(cmd);
  cmd->callback([&action, flags, id, dir, node_set, no_files] {
    action = [=] {
      absl::StatusOr<PeerNode> server = CreateServerNode(flags->peers, *id, *dir);
      if (!server.ok()) return Fail(server.status());
      DfsFlags f = *flags;
      if (absl::Status s = f.Resolve(server->replicas); !s.ok()) return Fail(s);
      real::RealNode& node = *server->node;
      std::fprintf(stderr, "dfs node %u serving on %s, data in %s (master stream on %s; masters %s)\n", *id,
                   node.listen_address().c_str(), dir->c_str(), absl::StrJoin(f.journal_nodes, ",").c_str(),
                   absl::StrJoin(f.masters, ",").c_str());
      absl::Status s = node.Run(Serve(node.runtime(), f, *node_set, !*no_files), /*handle_signals=*/true);
      if (absl::IsCancelled(s)) return 0;
      return Fail(s);
    };
  });
}

void AddPut(CLI::App* dfs, Action& action) {
  auto flags = std::make_shared<DfsFlags>();
  auto local = std::make_shared<std::string>();
  auto path = std::make_shared<std::string>();
  auto replication = std::make_shared<uint32_t>(0);
  auto node_set = std::make_shared<std::string>();
  CLI::App* cmd = dfs->add_subcommand("put", "Write a local file (or - for stdin) as a sealed DFS file");
  cmd->add_option("local", *local,
                  "The local file, or - for stdin (read between chunk puts: a producer slower than --timeout-s "
                  "per chunk fails the put)")
      ->required();
  cmd->add_option("path", *path, "The DFS path, /a/b")->required();
  cmd->add_option("--replication,-r", *replication, "Copies of each chunk (default: the master's, 3)")
      ->check(CLI::Range(1, 9));
  cmd->add_option("--node-set", *node_set, "Place one copy of each chunk on a server of this node set (e.g. offline)");
  flags->Add(cmd);
  flags->AddTimeout(cmd);
  cmd->callback([&action, flags, local, path, replication, node_set] {
    action = [=] {
      // Streamed: chunk-sized pieces go out as they are read, a few in flight (the writer's
      // bound), so a file of any size fits in memory.
      FILE* in = *local == "-" ? stdin : std::fopen(local->c_str(), "rb");
      if (in == nullptr) return Fail(absl::NotFoundError(absl::StrCat(*local, ": cannot open")));
      struct Closer {
        void operator()(FILE* f) const { std::fclose(f); }
      };
      std::unique_ptr<FILE, Closer> closer(in == stdin ? nullptr : in);
      return RunClient(*flags, [in, name = *local, p = *path, r = *replication, set = *node_set](
                                   Runtime& rt, dfs::DfsClient& c) -> Task<absl::Status> {
        absl::StatusOr<std::unique_ptr<dfs::DfsWriter>> writer = co_await dfs::DfsWriter::Create(c, p, r, set);
        if (!writer.ok()) co_return writer.status();
        const size_t piece_bytes = static_cast<size_t>(rt.knobs().dfs_chunk_bytes);
        while (true) {
          std::string piece(piece_bytes, '\0');
          const size_t got = std::fread(piece.data(), 1, piece_bytes, in);
          if (got < piece_bytes && std::ferror(in)) {
            co_await (*writer)->Abort();
            co_return absl::DataLossError(absl::StrCat(name, ": read failed after ", (*writer)->length(), " bytes"));
          }
          if (got == 0) break;
          piece.resize(got);
          if (absl::Status s = co_await (*writer)->Append(std::move(piece)); !s.ok()) {
            co_await (*writer)->Abort();
            co_return s;
          }
          if (got < piece_bytes) break;  // the end of the input
        }
        absl::StatusOr<uint64_t> file = co_await (*writer)->Seal();
        if (!file.ok()) co_return file.status();
        std::printf("%s: file %llu, %llu bytes, %llu chunks put, %llu servers replaced\n", p.c_str(),
                    static_cast<unsigned long long>(*file), static_cast<unsigned long long>((*writer)->length()),
                    static_cast<unsigned long long>(c.stats().chunks_put),
                    static_cast<unsigned long long>(c.stats().servers_replaced));
        co_return absl::OkStatus();
      });
    };
  });
}

void AddGet(CLI::App* dfs, Action& action) {
  auto flags = std::make_shared<DfsFlags>();
  auto path = std::make_shared<std::string>();
  auto local = std::make_shared<std::string>("-");
  CLI::App* cmd = dfs->add_subcommand("get", "Copy a DFS file out, every chunk checked end to end against its sealed checksum");
  cmd->add_option("path", *path, "The DFS path")->required();
  cmd->add_option("local", *local, "The local file to write, or - for stdout")->capture_default_str();
  cmd->add_option("--prefer-set", flags->prefer_node_set,
                  "Read copies on servers of this node set first (e.g. offline: analysis stays off the online servers)");
  auto verbose = std::make_shared<bool>(false);
  cmd->add_flag("--verbose,-v", *verbose, "Say which servers the chunks were read from (on stderr)");
  flags->Add(cmd);
  flags->AddTimeout(cmd);
  cmd->callback([&action, flags, path, local, verbose] {
    action = [=] {
      return RunClient(*flags, [p = *path, out = *local, v = *verbose](Runtime&, dfs::DfsClient& c) -> Task<absl::Status> {
        absl::StatusOr<dfs::OpenReply> file = co_await c.Open(p);
        if (!file.ok()) co_return file.status();
        absl::StatusOr<LocalOutput> to = LocalOutput::Open(out);
        if (!to.ok()) co_return to.status();
        // Streamed: a window of chunks at a time (read a few at once), written out in order.
        uint32_t chunk_bytes_max = 1;
        for (const dfs::FileChunkProto& ch : file->chunks()) chunk_bytes_max = std::max(chunk_bytes_max, ch.length());
        const uint64_t window = uint64_t{kGetWindowChunks} * chunk_bytes_max;
        for (uint64_t offset = 0; offset < file->length();) {
          const uint64_t n = std::min(window, file->length() - offset);
          absl::StatusOr<std::string> bytes = co_await c.Read(*file, offset, n);
          if (!bytes.ok()) co_return bytes.status();  // `to` removes what it wrote
          CO_RETURN_IF_ERROR(to->Write(*bytes));
          offset += n;
        }
        CO_RETURN_IF_ERROR(to->Commit());
        if (c.stats().bad_copies_reported > 0) {
          std::fprintf(stderr, "%s: %llu bad copies read around and reported\n", p.c_str(),
                       static_cast<unsigned long long>(c.stats().bad_copies_reported));
        }
        if (v) {
          std::vector<std::string> from;
          for (const auto& [server, n] : c.stats().chunks_read_from) from.push_back(absl::StrCat("node ", server, " ", n));
          std::fprintf(stderr, "%s: chunks read from %s\n", p.c_str(), from.empty() ? "none" : absl::StrJoin(from, ", ").c_str());
        }
        co_return absl::OkStatus();
      });
    };
  });
}

void AddList(CLI::App* dfs, Action& action, const char* name, const char* help) {
  auto flags = std::make_shared<DfsFlags>();
  auto prefix = std::make_shared<std::string>("/");
  CLI::App* cmd = dfs->add_subcommand(name, help);
  cmd->add_option("prefix", *prefix, "Paths starting with this")->capture_default_str();
  flags->Add(cmd);
  flags->AddTimeout(cmd);
  const bool fsck = std::string(name) == "fsck";
  cmd->callback([&action, flags, prefix, fsck] {
    action = [=] {
      return RunClient(*flags, [p = *prefix, fsck](Runtime&, dfs::DfsClient& c) -> Task<absl::Status> {
        absl::StatusOr<dfs::ListReply> list = co_await c.List(p);
        if (!list.ok()) co_return list.status();
        uint64_t under = 0, lost = 0, chunks = 0;
        for (const dfs::FileStatProto& f : list->files()) {
          chunks += f.chunks();
          under += f.chunks_under_replicated() > 0;
          lost += f.chunks_lost() > 0;
          if (!fsck || f.chunks_under_replicated() > 0) std::printf("%s\n", FileLine(f).c_str());
        }
        if (fsck) {
          std::printf("%d files, %llu chunks: %llu files under-replicated, %llu with lost chunks\n", list->files_size(),
                      static_cast<unsigned long long>(chunks), static_cast<unsigned long long>(under),
                      static_cast<unsigned long long>(lost));
          if (lost > 0) co_return absl::DataLossError(absl::StrCat(lost, " files have chunks with no healthy copy"));
        }
        co_return absl::OkStatus();
      });
    };
  });
}

void AddStat(CLI::App* dfs, Action& action) {
  auto flags = std::make_shared<DfsFlags>();
  auto path = std::make_shared<std::string>();
  CLI::App* cmd = dfs->add_subcommand("stat", "A sealed file: its id, length, replication, and each chunk's checksum and copies");
  cmd->add_option("path", *path, "The DFS path")->required();
  flags->Add(cmd);
  flags->AddTimeout(cmd);
  cmd->callback([&action, flags, path] {
    action = [=] {
      return RunClient(*flags, [p = *path](Runtime&, dfs::DfsClient& c) -> Task<absl::Status> {
        absl::StatusOr<dfs::OpenReply> f = co_await c.Open(p);
        if (!f.ok()) co_return f.status();
        std::printf("%s: file %llu, %llu bytes, R=%u, %d chunks\n", p.c_str(), static_cast<unsigned long long>(f->file()),
                    static_cast<unsigned long long>(f->length()), f->replication(), f->chunks_size());
        for (const dfs::FileChunkProto& ch : f->chunks()) {
          const std::string hot =
              ch.hot_reads_per_s() > 0 ? absl::StrCat("\thot (", ch.hot_reads_per_s(), " reads/s)") : "";
          std::printf("  chunk %llu/%u\t%u bytes\tchecksum %08x\tcopies on %s%s\n",
                      static_cast<unsigned long long>(ch.id().file()), ch.id().index(), ch.length(), ch.checksum(),
                      ch.servers().empty() ? "none" : absl::StrJoin(ch.servers(), ",").c_str(), hot.c_str());
        }
        co_return absl::OkStatus();
      });
    };
  });
}

void AddRemove(CLI::App* dfs, Action& action) {
  auto flags = std::make_shared<DfsFlags>();
  auto path = std::make_shared<std::string>();
  CLI::App* cmd = dfs->add_subcommand("rm", "Delete a path (a file a snapshot holds stays until the snapshot goes)");
  cmd->add_option("path", *path, "The DFS path")->required();
  flags->Add(cmd);
  flags->AddTimeout(cmd);
  cmd->callback([&action, flags, path] {
    action = [=] {
      return RunClient(*flags, [p = *path](Runtime&, dfs::DfsClient& c) -> Task<absl::Status> {
        co_return co_await c.Delete(p);
      });
    };
  });
}

void AddSnapshot(CLI::App* dfs, Action& action) {
  auto flags = std::make_shared<DfsFlags>();
  auto name = std::make_shared<std::string>();
  auto paths = std::make_shared<std::vector<std::string>>();
  auto remove = std::make_shared<bool>(false);
  CLI::App* cmd = dfs->add_subcommand("snapshot", "Hold a set of files by reference (or, with --delete, release a snapshot)");
  cmd->add_option("name", *name, "The snapshot's name")->required();
  cmd->add_option("paths", *paths, "The paths it holds");
  cmd->add_flag("--delete", *remove, "Delete the snapshot, releasing its files");
  flags->Add(cmd);
  flags->AddTimeout(cmd);
  cmd->callback([&action, flags, name, paths, remove] {
    if (!*remove && paths->empty()) throw CLI::ValidationError("paths", "a snapshot holds at least one path");
    action = [=] {
      return RunClient(*flags, [n = *name, ps = *paths, del = *remove](Runtime&, dfs::DfsClient& c) -> Task<absl::Status> {
        if (del) co_return co_await c.DeleteSnapshot(n);
        co_return co_await c.Snapshot(n, ps);
      });
    };
  });
}

struct ScanFlags {
  std::string path, from, to, prefix, contains;
  uint64_t snapshot = 0;
  std::optional<int64_t> int_min, int_max;
  std::string aggregate = "count";
  uint32_t limit = 100;
};

void AddScan(CLI::App* dfs, Action& action) {
  auto flags = std::make_shared<DfsFlags>();
  auto f = std::make_shared<ScanFlags>();
  CLI::App* cmd = dfs->add_subcommand(
      "scan", "The coprocessor: scan one SSTable on the file server that holds it and print only the result "
              "(a count, sum, min, max, or the matching rows), with the bytes that did not cross the network");
  cmd->add_option("path", f->path, "The DFS path of an SSTable")->required();
  cmd->add_option("--from", f->from, "First key (inclusive)");
  cmd->add_option("--to", f->to, "Last key (exclusive)");
  cmd->add_option("--prefix", f->prefix, "Only keys that start with this");
  cmd->add_option("--snapshot", f->snapshot, "Read as of this version (default: the newest)");
  cmd->add_option("--contains", f->contains, "Only values that contain this");
  cmd->add_option("--int-min", f->int_min, "Only values that are decimal integers at least this");
  cmd->add_option("--int-max", f->int_max, "Only values that are decimal integers at most this");
  cmd->add_option("--aggregate", f->aggregate, "count, sum, min, max (of values as decimal integers) or rows")
      ->check(CLI::IsMember({"count", "sum", "min", "max", "rows"}))
      ->capture_default_str();
  cmd->add_option("--limit", f->limit, "With --aggregate rows: the most rows returned")
      ->check(CLI::Range(1u, dfs::kScanRowsMax))
      ->capture_default_str();
  flags->Add(cmd);
  flags->AddTimeout(cmd);
  cmd->callback([&action, flags, f] {
    if (!f->contains.empty() && (f->int_min || f->int_max)) {
      throw CLI::ValidationError("--contains", "one value filter: --contains, or --int-min/--int-max");
    }
    action = [=] {
      dfs::ScanRequest r;
      r.set_from(f->from);
      if (!f->to.empty()) {
        r.set_to(f->to);
        r.set_has_to(true);
      }
      r.set_prefix(f->prefix);
      r.set_snapshot(f->snapshot);
      if (!f->contains.empty()) {
        r.set_predicate(dfs::ScanRequest::VALUE_CONTAINS);
        r.set_contains(f->contains);
      } else if (f->int_min || f->int_max) {
        r.set_predicate(dfs::ScanRequest::VALUE_INT_RANGE);
        r.set_int_min(f->int_min.value_or(INT64_MIN));
        r.set_int_max(f->int_max.value_or(INT64_MAX));
      }
      const std::map<std::string, dfs::ScanRequest::Aggregate> aggregates = {
          {"count", dfs::ScanRequest::COUNT}, {"sum", dfs::ScanRequest::SUM}, {"min", dfs::ScanRequest::MIN},
          {"max", dfs::ScanRequest::MAX},     {"rows", dfs::ScanRequest::ROWS}};
      r.set_aggregate(aggregates.at(f->aggregate));
      r.set_limit(f->limit);
      return RunClient(*flags, [p = f->path, r](Runtime&, dfs::DfsClient& c) -> Task<absl::Status> {
        absl::StatusOr<dfs::OpenReply> file = co_await c.Open(p);
        if (!file.ok()) co_return file.status();
        absl::StatusOr<dfs::ScanReply> reply = co_await c.Scan(p, r);
        if (!reply.ok()) co_return reply.status();
        for (const dfs::ScanRow& row : reply->rows()) {
          std::printf("%s\t%llu\t%s\n", absl::CEscape(row.key()).c_str(), static_cast<unsigned long long>(row.version()),
                      absl::CEscape(row.value()).c_str());
        }
        std::printf("rows scanned %llu, matched %llu", static_cast<unsigned long long>(reply->rows_scanned()),
                    static_cast<unsigned long long>(reply->rows_matched()));
        if (r.aggregate() == dfs::ScanRequest::SUM) std::printf(", sum %lld", static_cast<long long>(reply->sum()));
        if ((r.aggregate() == dfs::ScanRequest::MIN || r.aggregate() == dfs::ScanRequest::MAX)) {
          if (reply->has_min_max()) {
            std::printf(", %s %lld", r.aggregate() == dfs::ScanRequest::MIN ? "min" : "max",
                        static_cast<long long>(r.aggregate() == dfs::ScanRequest::MIN ? reply->min() : reply->max()));
          } else {
            std::printf(", no numeric value");
          }
        }
        if (reply->not_numeric() > 0) {
          std::printf(", %llu not numeric", static_cast<unsigned long long>(reply->not_numeric()));
        }
        if (reply->truncated()) std::printf(" (truncated at %zu rows)", static_cast<size_t>(reply->rows_size()));
        const uint64_t answer = reply->ByteSizeLong();
        std::printf("\n");
        std::fflush(stdout);  // the answer before the accounting, on a terminal too
        // What stayed on the server: the file against the answer.
        std::fprintf(stderr,
                     "the scan read %llu bytes next to the data (%llu from peers); the answer is %llu bytes, the file "
                     "%llu: %llu bytes not sent\n",
                     static_cast<unsigned long long>(reply->bytes_read()),
                     static_cast<unsigned long long>(reply->bytes_from_peers()), static_cast<unsigned long long>(answer),
                     static_cast<unsigned long long>(file->length()),
                     static_cast<unsigned long long>(file->length() > answer ? file->length() - answer : 0));
        co_return absl::OkStatus();
      });
    };
  });
}

}  // namespace

void AddDfsCommands(CLI::App& app, Action& action) {
  CLI::App* dfs = app.add_subcommand(
      "dfs", "The file system as real processes on TCP: serve a node (file server, master, the master's journal); "
             "put, get, list, delete and snapshot files; check that every file is protected");
  dfs->require_subcommand(1);
  AddServe(dfs, action);
  AddPut(dfs, action);
  AddGet(dfs, action);
  AddList(dfs, action, "ls", "List the files under a prefix: length, replication, chunks, protection");
  AddStat(dfs, action);
  AddRemove(dfs, action);
  AddSnapshot(dfs, action);
  AddScan(dfs, action);
  AddList(dfs, action, "fsck",
          "List the files with chunks short of their copies; exit 1 (5) when any chunk has no healthy copy");
}

}  // namespace cairn::tools

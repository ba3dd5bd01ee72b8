#include "src/dfs/dfs_client.h"

#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "src/base/check.h"
#include "src/base/status.h"
#include "src/dfs/dfs_writer.h"
#include "src/dfs/file_server.h"
#include "src/runtime/channel.h"
#include "src/runtime/task_group.h"

namespace cairn::dfs {
namespace {

// Worth asking another candidate: this one is not the master, or did not answer.
bool TryAnotherMaster(const absl::Status& s) { return absl::IsUnavailable(s) || absl::IsDeadlineExceeded(s); }

}  // namespace

DfsClient::DfsClient(rpc::RpcNode& rpc, DfsClientOptions options) : rpc_(rpc), options_(std::move(options)) {
  CAIRN_CHECK(!options_.masters.empty());
  CAIRN_CHECK(options_.chunk_bytes > 0 && options_.chunk_bytes <= kChunkBytesMax);
}

template <typename Reply, typename Request>
Task<absl::StatusOr<Reply>> DfsClient::CallMaster(std::string method, Request request, Instant deadline) {
  Runtime& rt = rpc_.runtime();
  absl::Status last = absl::DeadlineExceededError(absl::StrCat(method, ": no master answered in time"));
  while (rt.Now() < deadline) {
    const NodeId master = options_.masters[master_guess_ % options_.masters.size()];
    // One attempt: a master call is not always safe to repeat (a create would find its own file).
    const Instant until = std::min(deadline, rt.DeadlineAfter(options_.call_timeout));
    absl::StatusOr<Reply> reply =
        co_await rpc_.Call<Reply>(master, method, request, rpc::CallOptions{.deadline = until, .attempts_max = 1});
    if (reply.ok() || !TryAnotherMaster(reply.status())) co_return reply;
    last = reply.status();
    ++master_guess_;
    co_await rt.Sleep(options_.retry_backoff);
  }
  co_return absl::Status(last.code(), absl::StrCat(method, ": ", last.message()));
}

Task<absl::StatusOr<std::vector<NodeId>>> DfsClient::PutEverywhere(uint64_t file, ChunkId id, const std::string& data,
                                                                   std::vector<NodeId> servers, uint32_t replication,
                                                                   Instant deadline) {
  std::vector<NodeId> durable;
  std::set<NodeId> tried;
  int replacements = 0;
  absl::Status last = absl::UnavailableError("no server tried");
  while (true) {
    // The servers not yet tried, all at once.
    std::vector<NodeId> batch;
    for (NodeId s : servers) {
      if (tried.insert(s).second) batch.push_back(s);
    }
    if (!batch.empty()) {
      Channel<std::pair<NodeId, absl::Status>> done(rpc_.runtime().executor(), batch.size());
      TaskGroup puts(rpc_.runtime().executor());
      for (NodeId s : batch) {
        // A coroutine lambda takes what it uses as parameters (captures would dangle).
        puts.Spawn([](rpc::RpcNode& rpc, NodeId to, ChunkId chunk, std::string bytes, Instant until,
                      Channel<std::pair<NodeId, absl::Status>>* out) -> Task<void> {
          absl::Status put = co_await PutChunk(rpc, to, chunk, std::move(bytes), until);
          (void)out->TrySend({to, std::move(put)});
        }(rpc_, s, id, data, std::min(deadline, rpc_.runtime().DeadlineAfter(options_.call_timeout)), &done));
      }
      for (size_t answered = 0; answered < batch.size(); ++answered) {
        absl::StatusOr<std::pair<NodeId, absl::Status>> r = co_await done.Receive(deadline);
        if (!r.ok()) break;
        if (r->second.ok()) {
          durable.push_back(r->first);
          stats_.bytes_sent += data.size();
        } else {
          last = absl::Status(r->second.code(), absl::StrCat("node ", r->first, ": ", r->second.message()));
        }
      }
      puts.CancelAll();
    }
    if (durable.size() >= replication) break;
    if (replacements >= options_.replacements_per_chunk_max || rpc_.runtime().Now() >= deadline) {
      co_return absl::UnavailableError(absl::StrCat("chunk ", id.ToString(), " is durable on ", durable.size(), " of ",
                                                    replication, " servers; last error: ", last.message()));
    }
    // Replacements for the servers that failed.
    PlaceRequest place;
    place.set_file(file);
    place.set_count(static_cast<uint32_t>(replication - durable.size()));
    for (NodeId s : tried) place.add_exclude(s);
    absl::StatusOr<PlaceReply> placed = co_await CallMaster<PlaceReply>("dfs.place", place, deadline);
    if (!placed.ok()) co_return placed.status();
    if (placed->servers().empty()) {
      co_await rpc_.runtime().Sleep(options_.retry_backoff);
      tried.clear();  // every server was tried: try the ones that failed again
      for (NodeId s : durable) tried.insert(s);
      servers.clear();
      ++replacements;
      continue;
    }
    servers.assign(placed->servers().begin(), placed->servers().end());
    replacements += placed->servers_size();
    stats_.servers_replaced += placed->servers_size();
  }
  ++stats_.chunks_put;
  co_return durable;
}

Task<absl::StatusOr<uint64_t>> DfsClient::WriteFile(std::string path, std::string data, uint32_t replication,
                                                    std::string node_set) {
  std::vector<FilePiece> pieces;
  if (!data.empty()) pieces.push_back(FilePiece{.data = std::move(data)});
  co_return co_await WriteFile(std::move(path), std::move(pieces), replication, std::move(node_set));
}

Task<absl::StatusOr<uint64_t>> DfsClient::WriteFile(std::string path, std::vector<FilePiece> pieces,
                                                    uint32_t replication, std::string node_set) {
  absl::StatusOr<std::unique_ptr<DfsWriter>> writer =
      co_await DfsWriter::Create(*this, std::move(path), replication, std::move(node_set));
  if (!writer.ok()) co_return writer.status();
  for (FilePiece& piece : pieces) {
    // Two statements, not a ?: of two co_awaits (g++ 12 destroys its result twice).
    absl::Status added;
    if (piece.chunk.has_value()) {
      added = co_await (*writer)->AppendChunk(*piece.chunk);
    } else {
      added = co_await (*writer)->Append(std::move(piece.data));
    }
    if (!added.ok()) break;  // Seal returns the failure and aborts the file
  }
  co_return co_await (*writer)->Seal();
}

Task<absl::Status> DfsClient::Abort(uint64_t file) {
  AbortRequest abort;
  abort.set_file(file);
  co_return (co_await CallMaster<AbortReply>("dfs.abort", abort, rpc_.runtime().DeadlineAfter(options_.call_timeout)))
      .status();
}

Task<absl::StatusOr<OpenReply>> DfsClient::Open(std::string path) {
  OpenRequest request;
  request.set_path(std::move(path));
  request.set_prefer_node_set(options_.prefer_node_set);
  co_return co_await CallMaster<OpenReply>("dfs.open", request, rpc_.runtime().DeadlineAfter(options_.operation_timeout));
}

Task<absl::StatusOr<std::string>> DfsClient::ReadPiece(uint64_t file, FileChunkProto chunk, uint64_t offset,
                                                       uint64_t length, Instant deadline) {
  const ChunkRef ref{ChunkId{chunk.id().file(), chunk.id().index()}, chunk.length(), chunk.checksum()};
  // The copies in a random order, so reads spread over them; those in the preferred node set
  // (the first `preferred` listed) before the others.
  std::vector<NodeId> servers(chunk.servers().begin(), chunk.servers().end());
  const size_t preferred = chunk.preferred() == 0 ? servers.size() : std::min<size_t>(chunk.preferred(), servers.size());
  for (size_t i = preferred; i > 1; --i) std::swap(servers[i - 1], servers[rpc_.runtime().random().Uniform(i)]);
  for (size_t i = servers.size(); i > preferred + 1; --i) {
    std::swap(servers[i - 1], servers[preferred + rpc_.runtime().random().Uniform(i - preferred)]);
  }
  absl::Status last = absl::UnavailableError("the master knows no healthy copy");
  for (NodeId s : servers) {
    const Instant until = std::min(deadline, rpc_.runtime().DeadlineAfter(options_.call_timeout));
    absl::StatusOr<std::string> bytes =
        co_await ReadChunk(rpc_, s, ref, offset, length, until, options_.canary_skip_checksum);
    if (bytes.ok()) {
      ++stats_.chunks_read_from[s];
      co_return bytes;
    }
    last = bytes.status();
    ++stats_.reads_failed_over;
    if (absl::IsDataLoss(last) || absl::IsNotFound(last)) {
      // A copy that is damaged or gone: the master has its server check it.
      ReportBadRequest report;
      *report.mutable_id() = chunk.id();
      report.set_server(s);
      report.set_error(std::string(last.message()));
      ++stats_.bad_copies_reported;
      (void)co_await CallMaster<ReportBadReply>("dfs.report_bad", report,
                                                rpc_.runtime().DeadlineAfter(options_.call_timeout));
    }
  }
  co_return absl::Status(last.code(), absl::StrCat("file ", file, ", chunk ", ref.id.ToString(), ": no copy could be read (",
                                                   servers.size(), " tried); last error: ", last.message()));
}

Task<absl::StatusOr<std::string>> DfsClient::Read(const OpenReply& file, uint64_t offset, uint64_t length) {
  if (offset > file.length() || length > file.length() - offset) {
    co_return absl::OutOfRangeError(absl::StrCat("read of [", offset, ", +", length, ") past the end of file ", file.file(),
                                                 " (", file.length(), " bytes)"));
  }
  // The pieces: per chunk the part of [offset, offset + length) it holds.
  struct Piece {
    const FileChunkProto* chunk;
    uint64_t offset, length;  // within the chunk
  };
  std::vector<Piece> pieces;
  uint64_t chunk_start = 0;
  for (const FileChunkProto& c : file.chunks()) {
    const uint64_t chunk_end = chunk_start + c.length();
    const uint64_t lo = std::max(offset, chunk_start), hi = std::min(offset + length, chunk_end);
    if (lo < hi) pieces.push_back({&c, lo - chunk_start, hi - lo});
    chunk_start = chunk_end;
  }
  // Up to chunks_inflight_max pieces at once, assembled in order.
  struct Got {
    size_t index;
    absl::Status status;
    std::string bytes;
  };
  std::vector<std::string> parts(pieces.size());
  Channel<Got> done(rpc_.runtime().executor(), std::max<size_t>(pieces.size(), 1));
  TaskGroup reads(rpc_.runtime().executor());
  size_t next = 0, running = 0;
  absl::Status failed;
  while ((next < pieces.size() || running > 0) && failed.ok()) {
    while (next < pieces.size() && running < options_.chunks_inflight_max) {
      const Piece& p = pieces[next];
      reads.Spawn([](DfsClient* self, size_t index, uint64_t id, FileChunkProto chunk, uint64_t off, uint64_t len,
                     Instant until, Channel<Got>* out) -> Task<void> {
        absl::StatusOr<std::string> bytes = co_await self->ReadPiece(id, std::move(chunk), off, len, until);
        (void)out->TrySend(bytes.ok() ? Got{index, absl::OkStatus(), *std::move(bytes)} : Got{index, bytes.status(), {}});
      }(this, next, file.file(), *p.chunk, p.offset, p.length, rpc_.runtime().DeadlineAfter(options_.operation_timeout),
                                          &done));
      ++next;
      ++running;
    }
    absl::StatusOr<Got> got = co_await done.Receive(kInstantMax);
    CAIRN_CHECK(got.ok());  // every read answers by its own deadline
    --running;
    if (got->status.ok()) {
      parts[got->index] = std::move(got->bytes);
    } else {
      failed = got->status;
    }
  }
  reads.CancelAll();
  if (!failed.ok()) co_return failed;
  std::string out;
  out.reserve(length);
  for (std::string& part : parts) out += part;
  CAIRN_CHECK_EQ(out.size(), length);
  co_return out;
}

Task<absl::StatusOr<std::string>> DfsClient::ReadFile(std::string path) {
  absl::StatusOr<OpenReply> file = co_await Open(std::move(path));
  if (!file.ok()) co_return file.status();
  co_return co_await Read(*file, 0, file->length());
}

Task<absl::Status> DfsClient::Delete(std::string path) {
  DeleteRequest request;
  request.set_path(std::move(path));
  co_return (co_await CallMaster<DeleteReply>("dfs.delete", request,
                                              rpc_.runtime().DeadlineAfter(options_.operation_timeout)))
      .status();
}

Task<absl::StatusOr<ListReply>> DfsClient::List(std::string prefix) {
  ListRequest request;
  request.set_prefix(std::move(prefix));
  co_return co_await CallMaster<ListReply>("dfs.list", request, rpc_.runtime().DeadlineAfter(options_.operation_timeout));
}

Task<absl::StatusOr<ScanReply>> DfsClient::Scan(std::string path, ScanRequest request) {
  absl::StatusOr<OpenReply> file = co_await Open(std::move(path));
  if (!file.ok()) co_return file.status();
  request.set_file(file->file());
  request.set_length(file->length());
  *request.mutable_chunks() = file->chunks();
  // The servers by how many of the file's chunks they hold, most first (ties at random): the
  // fewer chunks a server must fetch from its peers, the fewer bytes cross the network.
  std::map<NodeId, size_t> held;
  for (const FileChunkProto& c : file->chunks()) {
    for (uint32_t s : c.servers()) ++held[s];
  }
  std::vector<std::pair<size_t, NodeId>> order;
  for (const auto& [s, n] : held) order.emplace_back(n, s);
  for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rpc_.runtime().random().Uniform(i)]);
  std::stable_sort(order.begin(), order.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  absl::Status last = absl::UnavailableError("no server holds any of its chunks");
  const Instant deadline = rpc_.runtime().DeadlineAfter(options_.operation_timeout);
  for (const auto& [n, server] : order) {
    // One send, waiting as long as the operation may: a scan of a large file takes a while,
    // and a resent scan would start over.
    absl::StatusOr<ScanReply> reply = co_await rpc_.Call<ScanReply>(
        server, "dfs.scan", request,
        rpc::CallOptions{.deadline = deadline, .attempts_max = 1, .attempt_timeout = options_.operation_timeout});
    if (reply.ok() || absl::IsInvalidArgument(reply.status()) || absl::IsOutOfRange(reply.status())) co_return reply;
    last = absl::Status(reply.status().code(), absl::StrCat("node ", server, ": ", reply.status().message()));
    if (rpc_.runtime().Now() >= deadline) break;
  }
  co_return last;
}

Task<absl::Status> DfsClient::Snapshot(std::string name, std::vector<std::string> paths) {
  SnapshotRequest request;
  request.set_name(std::move(name));
  for (std::string& p : paths) request.add_paths(std::move(p));
  co_return (co_await CallMaster<SnapshotReply>("dfs.snapshot", request,
                                                rpc_.runtime().DeadlineAfter(options_.operation_timeout)))
      .status();
}

Task<absl::Status> DfsClient::DeleteSnapshot(std::string name) {
  DeleteSnapshotRequest request;
  request.set_name(std::move(name));
  co_return (co_await CallMaster<DeleteSnapshotReply>("dfs.delete_snapshot", request,
                                                      rpc_.runtime().DeadlineAfter(options_.operation_timeout)))
      .status();
}

// The calls DfsWriter makes (the template is defined here only).
template Task<absl::StatusOr<CreateReply>> DfsClient::CallMaster<CreateReply, CreateRequest>(std::string, CreateRequest,
                                                                                           Instant);
template Task<absl::StatusOr<SealReply>> DfsClient::CallMaster<SealReply, SealRequest>(std::string, SealRequest, Instant);

}  // namespace cairn::dfs

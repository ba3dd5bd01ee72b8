#include "src/dfs/file_server.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "src/base/status.h"
#include "src/dfs/coprocessor.h"

namespace cairn::dfs {
namespace {

absl::StatusOr<ChunkId> IdOf(const ChunkIdProto& p) {
  if (p.file() == 0) return absl::InvalidArgumentError("chunk of file 0: no such file");
  return FromProto(p);
}

}  // namespace

ChunkIdProto ToProto(ChunkId id) {
  ChunkIdProto p;
  p.set_file(id.file);
  p.set_index(id.index);
  return p;
}

void FileServer::RegisterMethods() {
  rpc_.Register<PutChunkRequest, PutChunkReply>(
      "dfs.put_chunk", [this](rpc::CallContext, PutChunkRequest r) -> Task<absl::StatusOr<PutChunkReply>> {
        absl::StatusOr<ChunkId> id = IdOf(r.id());
        if (!id.ok()) co_return id.status();
        if (r.data().size() > kChunkBytesMax || r.block_bytes() == 0 || r.block_bytes() > kChunkBytesMax) {
          co_return absl::InvalidArgumentError(absl::StrCat("chunk ", id->ToString(), ": ", r.data().size(),
                                                            " bytes in blocks of ", r.block_bytes(), "; at most ",
                                                            kChunkBytesMax, " in blocks of 1..", kChunkBytesMax));
        }
        const uint32_t blocks = BlockCount(static_cast<uint32_t>(r.data().size()), r.block_bytes());
        if (static_cast<uint32_t>(r.blocks_size()) != blocks) {
          co_return absl::InvalidArgumentError(absl::StrCat("chunk ", id->ToString(), ": ", r.blocks_size(),
                                                            " block checksums for ", blocks, " blocks"));
        }
        ChunkSums sums;
        sums.blocks.assign(r.blocks().begin(), r.blocks().end());
        sums.chunk = r.chunk_checksum();
        CO_RETURN_IF_ERROR(co_await store_.Put(*id, std::move(*r.mutable_data()), r.block_bytes(), std::move(sums)));
        damaged_.erase(*id);  // a damaged copy is replaced by a put
        co_return PutChunkReply();
      });
  rpc_.Register<ReadChunkRequest, ReadChunkReply>(
      "dfs.read_chunk", [this](rpc::CallContext, ReadChunkRequest r) -> Task<absl::StatusOr<ReadChunkReply>> {
        absl::StatusOr<ChunkId> id = IdOf(r.id());
        if (!id.ok()) co_return id.status();
        if (r.length() > kReadBytesMax) {
          co_return absl::InvalidArgumentError(absl::StrCat("a read of ", r.length(), " bytes; at most ", kReadBytesMax));
        }
        absl::StatusOr<ChunkStore::Blocks> blocks = co_await store_.Read(*id, r.offset(), r.length(), !r.unverified());
        if (!blocks.ok()) {
          Note(*id, blocks.status());
          co_return blocks.status();
        }
        CountRead(*id);
        co_return ReplyOf(*std::move(blocks));
      });
  rpc_.Register<ListChunksRequest, ListChunksReply>(
      "dfs.list_chunks", [this](rpc::CallContext, ListChunksRequest) -> Task<absl::StatusOr<ListChunksReply>> {
        absl::StatusOr<std::vector<ChunkId>> ids = co_await store_.List();
        if (!ids.ok()) co_return ids.status();
        ListChunksReply reply;
        for (ChunkId id : *ids) *reply.add_ids() = ToProto(id);
        co_return reply;
      });
  rpc_.Register<RemoveChunksRequest, RemoveChunksReply>(
      "dfs.remove_chunks", [this](rpc::CallContext, RemoveChunksRequest r) -> Task<absl::StatusOr<RemoveChunksReply>> {
        if (static_cast<size_t>(r.ids_size()) > kRemoveIdsMax) {
          co_return absl::InvalidArgumentError(absl::StrCat(r.ids_size(), " chunks in one remove; at most ", kRemoveIdsMax));
        }
        RemoveChunksReply reply;
        for (const ChunkIdProto& p : r.ids()) {
          absl::StatusOr<ChunkId> id = IdOf(p);
          if (!id.ok()) co_return id.status();
          absl::Status s = co_await store_.Remove(*id);
          if (s.ok()) reply.set_removed(reply.removed() + 1);
          if (s.ok() || absl::IsNotFound(s)) damaged_.erase(*id);
          if (!s.ok() && !absl::IsNotFound(s)) co_return s;
        }
        co_return reply;
      });
  rpc_.Register<CopyChunkRequest, CopyChunkReply>(
      "dfs.copy_chunk", [this](rpc::CallContext context, CopyChunkRequest r) -> Task<absl::StatusOr<CopyChunkReply>> {
        absl::StatusOr<ChunkId> id = IdOf(r.id());
        if (!id.ok()) co_return id.status();
        if (r.length() > kChunkBytesMax || r.sources().empty() || r.sources_size() > kCopySourcesMax) {
          co_return absl::InvalidArgumentError(absl::StrCat("copy of chunk ", id->ToString(), ": ", r.length(),
                                                            " bytes (at most ", kChunkBytesMax, ") from ",
                                                            r.sources_size(), " sources (1..", kCopySourcesMax, ")"));
        }
        const ChunkRef ref{*id, r.length(), r.checksum()};
        absl::Status last = absl::UnavailableError("no source tried");
        for (uint32_t source : r.sources()) {
          if (source == rpc_.runtime().node_id()) continue;
          // Checked end to end against the sealed checksum (the source sends its blocks unchecked):
          // a corrupt source is never copied, and is reported.
          const bool unchecked = options_.canary_copy_unchecked;
          absl::StatusOr<std::string> data =
              co_await ReadChunk(rpc_, source, ref, 0, r.length(), context.deadline, unchecked);
          if (!data.ok()) {
            last = data.status();
            if (absl::IsDataLoss(last)) ReportBad(*id, source, last);
            continue;
          }
          ChunkSums sums = ComputeChunkSums(*id, *data);
          if (sums.chunk != r.checksum() && !unchecked) {
            // The source's table matched with another block size: store nothing we cannot serve as sealed.
            last = absl::DataLossError(absl::StrCat("chunk ", id->ToString(), " from node ", source,
                                                    ": not written in blocks of ", kChunkBlockBytes));
            continue;
          }
          last = co_await store_.Put(*id, *std::move(data), kChunkBlockBytes, std::move(sums));
          if (last.ok()) {
            damaged_.erase(*id);
            ++stats_.copies;
            co_return CopyChunkReply();
          }
          if (!absl::IsDataLoss(last)) break;  // this store's own failure: another source will not cure it
        }
        ++stats_.copies_failed;
        co_return last;
      });
  rpc_.Register<ScrubChunkRequest, ScrubChunkReply>(
      "dfs.scrub_chunk", [this](rpc::CallContext, ScrubChunkRequest r) -> Task<absl::StatusOr<ScrubChunkReply>> {
        absl::StatusOr<ChunkId> id = IdOf(r.id());
        if (!id.ok()) co_return id.status();
        absl::Status s = co_await store_.Scrub(*id);
        Note(*id, s);
        if (!s.ok()) co_return s;
        co_return ScrubChunkReply();
      });
  rpc_.Register<ScanRequest, ScanReply>(
      "dfs.scan", [this](rpc::CallContext context, ScanRequest r) -> Task<absl::StatusOr<ScanReply>> {
        CO_RETURN_IF_ERROR(ValidateScan(r));
        for (const FileChunkProto& c : r.chunks()) CO_RETURN_IF_ERROR(IdOf(c.id()).status());
        SealedChunksFile file(rpc_, store_, r, options_.call_timeout, context.deadline);
        absl::StatusOr<ScanReply> reply = co_await ScanSst(file, absl::StrCat("file ", r.file()), r);
        if (!reply.ok()) co_return reply.status();
        for (const SealedChunksFile::BadCopy& bad : file.bad_copies()) {
          if (bad.server == rpc_.runtime().node_id()) {
            Note(bad.id, bad.error);
          } else {
            ReportBad(bad.id, bad.server, bad.error);
          }
        }
        reply->set_bytes_read(file.bytes_read());
        reply->set_bytes_from_peers(file.bytes_from_peers());
        ++stats_.scans;
        co_return reply;
      });
}

void FileServer::Note(ChunkId id, const absl::Status& s) {
  // A whole-chunk scrub that passed clears the mark: the DataLoss that set it was a read that
  // failed once (a bit flipped on the way, an EIO), not damage at rest — and this copy may be
  // the last good one.
  if (s.ok()) {
    if (damaged_.erase(id) > 0) {
      newly_damaged_.erase(id);
      ++stats_.damage_cleared;
    }
    return;
  }
  if (!absl::IsDataLoss(s) || damaged_.contains(id)) return;
  damaged_.insert(id);
  newly_damaged_.insert(id);
  ++stats_.damaged_found;
}

Task<void> FileServer::Run() {
  Runtime& rt = rpc_.runtime();
  Instant next_heartbeat = rt.Now();
  while (true) {
    if (rt.Now() >= next_heartbeat) {
      co_await HeartbeatOnce();
      next_heartbeat = rt.Now() + options_.heartbeat_interval;
    }
    co_await ScrubNext();
    co_await rt.Sleep(options_.scrub_interval);
  }
}

template <typename Reply, typename Request>
Task<absl::StatusOr<Reply>> FileServer::CallMaster(std::string method, Request request) {
  Runtime& rt = rpc_.runtime();
  absl::StatusOr<Reply> reply = absl::UnavailableError("no master candidate");
  for (size_t tried = 0; tried < options_.masters.size(); ++tried) {
    const NodeId master = options_.masters[master_guess_ % options_.masters.size()];
    reply = co_await rpc_.Call<Reply>(master, method, request,
                                      rpc::CallOptions{.deadline = rt.DeadlineAfter(options_.call_timeout), .attempts_max = 1});
    if (reply.ok()) break;
    ++master_guess_;  // not the master, or not reachable: the next candidate
  }
  co_return reply;
}

Task<void> FileServer::HeartbeatOnce() {
  if (options_.masters.empty()) co_return;
  Runtime& rt = rpc_.runtime();
  absl::StatusOr<std::vector<ChunkId>> held = co_await store_.List();
  if (!held.ok()) {
    rt.Log(absl::StrCat("dfs server: cannot list its chunks: ", held.status().ToString()));
    co_return;
  }
  HeartbeatRequest request;
  request.set_node_set(options_.node_set);
  for (ChunkId id : *held) {
    if (!damaged_.contains(id)) *request.add_chunks() = ToProto(id);
  }
  // Every damaged copy still here (the master has one removed once the chunk is whole elsewhere).
  const std::set<ChunkId> reported_damaged = newly_damaged_;
  for (ChunkId id : damaged_) *request.add_damaged() = ToProto(id);
  // The load since the last answered report, the busiest chunks; put back if no master answers.
  std::map<ChunkId, uint32_t> load = std::move(reads_);
  reads_.clear();
  {
    std::vector<std::pair<uint32_t, ChunkId>> busiest;
    for (const auto& [id, n] : load) busiest.emplace_back(n, id);
    const size_t report = std::min(busiest.size(), kLoadReportChunksMax);
    std::partial_sort(busiest.begin(), busiest.begin() + static_cast<ptrdiff_t>(report), busiest.end(),
                      [](const auto& a, const auto& b) { return a > b; });
    for (size_t i = 0; i < report; ++i) {
      ChunkLoad* l = request.add_load();
      *l->mutable_id() = ToProto(busiest[i].second);
      l->set_reads(busiest[i].first);
    }
  }
  ++stats_.heartbeats;
  // Each candidate once, the last that answered first: a new master learns where copies are
  // from these reports, so one that took over should hear this one now, not an interval later.
  absl::StatusOr<HeartbeatReply> reply = co_await CallMaster<HeartbeatReply>("dfs.heartbeat", std::move(request));
  if (!reply.ok()) {
    ++stats_.heartbeats_failed;
    for (const auto& [id, n] : load) {
      if (reads_.size() < kLoadTrackedChunksMax || reads_.contains(id)) reads_[id] += n;
    }
    co_return;
  }
  for (ChunkId id : reported_damaged) newly_damaged_.erase(id);
  for (const ChunkIdProto& p : reply->remove()) {
    absl::StatusOr<ChunkId> id = IdOf(p);
    if (!id.ok()) continue;
    absl::Status s = co_await store_.Remove(*id);
    if (s.ok()) ++stats_.garbage_removed;
    if (s.ok() || absl::IsNotFound(s)) damaged_.erase(*id);
  }
}

void FileServer::CountRead(ChunkId id) {
  ++stats_.reads;
  if (reads_.size() < kLoadTrackedChunksMax || reads_.contains(id)) ++reads_[id];
}

void FileServer::ReportBad(ChunkId id, NodeId server, absl::Status error) {
  if (reports_running_ >= kReportsRunningMax) return;
  ++reports_running_;
  reports_.Spawn(SendReportBad(id, server, std::move(error)));
}

Task<void> FileServer::SendReportBad(ChunkId id, NodeId server, absl::Status error) {
  struct Done {
    size_t& running;
    ~Done() { --running; }
  } done{reports_running_};
  ReportBadRequest report;
  *report.mutable_id() = ToProto(id);
  report.set_server(server);
  report.set_error(std::string(error.message()));
  ++stats_.bad_copies_reported;
  (void)co_await CallMaster<ReportBadReply>("dfs.report_bad", std::move(report));
}

Task<void> FileServer::ScrubNext() {
  if (scrub_queue_.empty()) {  // a new pass round the store
    absl::StatusOr<std::vector<ChunkId>> held = co_await store_.List();
    if (!held.ok()) co_return;
    scrub_queue_.assign(held->rbegin(), held->rend());
    if (scrub_queue_.empty()) co_return;
  }
  const ChunkId id = scrub_queue_.back();
  scrub_queue_.pop_back();
  absl::Status s = co_await store_.Scrub(id);
  if (!absl::IsNotFound(s)) Note(id, s);  // removed since the pass began
}

Task<absl::Status> PutChunk(rpc::RpcNode& rpc, NodeId server, ChunkId id, std::string data, Instant deadline) {
  if (data.size() > kChunkBytesMax) {
    co_return absl::InvalidArgumentError(absl::StrCat("chunk of ", data.size(), " bytes; at most ", kChunkBytesMax));
  }
  const ChunkSums sums = ComputeChunkSums(id, data);
  PutChunkRequest request;
  *request.mutable_id() = ToProto(id);
  request.set_block_bytes(kChunkBlockBytes);
  *request.mutable_blocks() = {sums.blocks.begin(), sums.blocks.end()};
  request.set_chunk_checksum(sums.chunk);
  request.set_data(std::move(data));
  absl::StatusOr<PutChunkReply> reply =
      co_await rpc.Call<PutChunkReply>(server, "dfs.put_chunk", request, rpc::CallOptions{.deadline = deadline});
  co_return reply.status();
}

Task<absl::StatusOr<std::string>> ReadChunk(rpc::RpcNode& rpc, NodeId server, ChunkRef chunk, uint64_t offset,
                                            uint64_t length, Instant deadline, bool canary_unchecked) {
  ReadChunkRequest request;
  *request.mutable_id() = ToProto(chunk.id);
  request.set_offset(offset);
  request.set_length(length);
  request.set_unverified(true);  // checked here
  absl::StatusOr<ReadChunkReply> reply =
      co_await rpc.Call<ReadChunkReply>(server, "dfs.read_chunk", request, rpc::CallOptions{.deadline = deadline});
  if (!reply.ok()) co_return reply.status();
  absl::StatusOr<std::string> bytes = CheckReadReply(chunk, offset, length, *std::move(reply), canary_unchecked);
  if (!bytes.ok()) {
    co_return absl::Status(bytes.status().code(), absl::StrCat("node ", server, ": ", bytes.status().message()));
  }
  co_return bytes;
}

Task<absl::StatusOr<uint32_t>> ReadCopyChecksum(rpc::RpcNode& rpc, NodeId server, ChunkId id, Instant deadline) {
  ReadChunkRequest request;
  *request.mutable_id() = ToProto(id);
  request.set_offset(0);
  request.set_length(0);
  absl::StatusOr<ReadChunkReply> reply =
      co_await rpc.Call<ReadChunkReply>(server, "dfs.read_chunk", request, rpc::CallOptions{.deadline = deadline});
  if (!reply.ok()) co_return reply.status();
  if (reply->length() > kChunkBytesMax || reply->block_bytes() == 0 ||
      static_cast<uint32_t>(reply->blocks_size()) != BlockCount(reply->length(), reply->block_bytes())) {
    co_return absl::DataLossError(absl::StrCat("node ", server, " serves chunk ", id.ToString(),
                                               " with a block table that does not fit its length"));
  }
  const std::vector<uint32_t> table(reply->blocks().begin(), reply->blocks().end());
  co_return ChunkChecksum(id, reply->length(), reply->block_bytes(), table);
}

ReadChunkReply ReplyOf(ChunkStore::Blocks blocks) {
  ReadChunkReply reply;
  reply.set_length(blocks.header.length);
  reply.set_block_bytes(blocks.header.block_bytes);
  *reply.mutable_blocks() = {blocks.table.begin(), blocks.table.end()};
  reply.set_first_block(blocks.first_block);
  reply.set_data(std::move(blocks.data));
  return reply;
}

absl::StatusOr<std::string> CheckReadReply(const ChunkRef& chunk, uint64_t offset, uint64_t length,
                                           ReadChunkReply reply, bool canary_unchecked) {
  const std::string what = absl::StrCat("chunk ", chunk.id.ToString());
  if (canary_unchecked) {
    // The planted bug: whatever came, cut to the range (only what keeps the slicing in bounds).
    const uint64_t begin = uint64_t{reply.first_block()} * reply.block_bytes();
    if (reply.block_bytes() == 0 || begin > offset || begin + reply.data().size() < offset + length) {
      return absl::DataLossError(absl::StrCat(what, ": served blocks that do not cover the range"));
    }
    return reply.data().substr(offset - begin, length);
  }
  if (reply.length() != chunk.length) {
    return absl::DataLossError(absl::StrCat(what, ": served with ", reply.length(), " bytes, sealed with ", chunk.length));
  }
  if (reply.block_bytes() == 0 || static_cast<uint32_t>(reply.blocks_size()) != BlockCount(chunk.length, reply.block_bytes())) {
    return absl::DataLossError(absl::StrCat(what, ": served with a block table that does not fit its length"));
  }
  const std::vector<uint32_t> table(reply.blocks().begin(), reply.blocks().end());
  if (ChunkChecksum(chunk.id, chunk.length, reply.block_bytes(), table) != chunk.checksum) {
    return absl::DataLossError(absl::StrCat(what, ": served with a block table that fails the sealed checksum"));
  }
  const uint64_t begin = uint64_t{reply.first_block()} * reply.block_bytes();
  if (offset > chunk.length || length > chunk.length - offset ||
      (length > 0 && (begin > offset || begin + reply.data().size() < offset + length))) {
    return absl::DataLossError(absl::StrCat(what, ": served blocks that do not cover [", offset, ", +", length, ")"));
  }
  if (absl::Status s = VerifyBlocks(chunk.id, chunk.length, reply.block_bytes(), table, reply.first_block(), reply.data());
      !s.ok()) {
    return absl::DataLossError(absl::StrCat("served damaged: ", s.message()));
  }
  std::string* data = reply.mutable_data();
  if (length == 0) return std::string();
  data->erase(0, offset - begin);
  data->resize(length);
  return std::move(*data);
}

}  // namespace cairn::dfs

#include "src/dfs/dfs_writer.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "src/base/check.h"
#include "src/dfs/file_server.h"

namespace cairn::dfs {

Task<absl::StatusOr<std::unique_ptr<DfsWriter>>> DfsWriter::Create(DfsClient& client, std::string path,
                                                                   uint32_t replication, std::string node_set) {
  Runtime& rt = client.rpc_.runtime();
  CreateRequest create;
  create.set_path(path);
  create.set_replication(replication);
  create.set_node_set(std::move(node_set));
  create.set_token(rt.random().Next() | 1);  // a retry after a lost answer gets the same file
  absl::StatusOr<CreateReply> created =
      co_await client.CallMaster<CreateReply>("dfs.create", create, rt.DeadlineAfter(client.options_.operation_timeout));
  if (!created.ok()) co_return absl::Status(created.status().code(), absl::StrCat(path, ": ", created.status().message()));
  if (created->file() == 0 || created->servers().empty()) {
    co_return absl::InternalError(absl::StrCat(path, ": the master created file ", created->file(), " on ",
                                               created->servers_size(), " servers"));
  }
  std::vector<NodeId> servers(created->servers().begin(), created->servers().end());
  co_return std::unique_ptr<DfsWriter>(new DfsWriter(client, std::move(path), created->file(), std::move(servers)));
}

DfsWriter::DfsWriter(DfsClient& client, std::string path, uint64_t file, std::vector<NodeId> servers)
    : client_(client),
      path_(std::move(path)),
      file_(file),
      servers_(std::move(servers)),
      done_(client.rpc_.runtime().executor(), client.options_.chunks_inflight_max),
      puts_(client.rpc_.runtime().executor()) {}

absl::Status DfsWriter::Usable() const {
  if (!failed_.ok()) return failed_;
  if (finished_) return absl::FailedPreconditionError(absl::StrCat(path_, " is already sealed or aborted"));
  return absl::OkStatus();
}

Task<void> DfsWriter::TakeOne() {
  CAIRN_CHECK(running_ > 0);
  absl::StatusOr<Put> put = co_await done_.Receive(kInstantMax);
  CAIRN_CHECK(put.ok());  // every put answers by its own deadline
  --running_;
  if (put->status.ok()) {
    CAIRN_CHECK(put->held.size() >= servers_.size());
    slots_[put->index].held = std::move(put->held);
  } else if (failed_.ok()) {
    failed_ = absl::Status(put->status.code(), absl::StrCat(path_, ": ", put->status.message()));
  }
}

Task<absl::Status> DfsWriter::Append(std::string data) {
  CO_RETURN_IF_ERROR(Usable());
  const uint32_t chunk_bytes = client_.options_.chunk_bytes;
  for (size_t at = 0; at < data.size(); at += chunk_bytes) {
    while (running_ >= client_.options_.chunks_inflight_max) co_await TakeOne();
    CO_RETURN_IF_ERROR(Usable());
    if (slots_.size() >= kChunksPerFileMax) {
      failed_ = absl::ResourceExhaustedError(absl::StrCat(path_, ": more than ", kChunksPerFileMax, " chunks"));
      co_return failed_;
    }
    std::string bytes = data.substr(at, chunk_bytes);
    const ChunkId id{file_, static_cast<uint32_t>(slots_.size())};
    const uint32_t length = static_cast<uint32_t>(bytes.size());
    slots_.push_back(Slot{.chunk = ChunkRef{id, length, ComputeChunkSums(id, bytes).chunk}});
    length_ += length;
    Runtime& rt = client_.rpc_.runtime();
    // Each chunk has the operation timeout to itself, so a file's size does not bound its time.
    // A coroutine lambda takes what it uses as parameters (captures would dangle).
    puts_.Spawn([](DfsClient* client, size_t index, ChunkId chunk, std::string chunk_bytes_, std::vector<NodeId> to,
                   uint32_t copies, Instant until, Channel<Put>* out) -> Task<void> {
      absl::StatusOr<std::vector<NodeId>> on =
          co_await client->PutEverywhere(chunk.file, chunk, chunk_bytes_, std::move(to), copies, until);
      (void)out->TrySend(on.ok() ? Put{index, absl::OkStatus(), *std::move(on)} : Put{index, on.status(), {}});
    }(&client_, slots_.size() - 1, id, std::move(bytes), servers_, static_cast<uint32_t>(servers_.size()),
                                     rt.DeadlineAfter(client_.options_.operation_timeout), &done_));
    ++running_;
  }
  co_return absl::OkStatus();
}

Task<absl::Status> DfsWriter::AppendChunk(ChunkRef chunk) {
  CO_RETURN_IF_ERROR(Usable());
  if (chunk.id.file == 0 || chunk.id.file == file_ || chunk.length == 0 || chunk.length > kChunkBytesMax) {
    co_return absl::InvalidArgumentError(
        absl::StrCat(path_, ": cannot reference chunk ", chunk.id.ToString(), " of ", chunk.length, " bytes"));
  }
  if (slots_.size() >= kChunksPerFileMax) {
    failed_ = absl::ResourceExhaustedError(absl::StrCat(path_, ": more than ", kChunksPerFileMax, " chunks"));
    co_return failed_;
  }
  slots_.push_back(Slot{.chunk = chunk, .referenced = true});
  length_ += chunk.length;
  client_.stats_.bytes_referenced += chunk.length;
  co_return absl::OkStatus();
}

Task<absl::Status> DfsWriter::Flush() {
  while (running_ > 0) co_await TakeOne();
  co_return Usable();
}

Task<absl::StatusOr<uint64_t>> DfsWriter::Seal() {
  absl::Status flushed = co_await Flush();
  if (!flushed.ok()) {
    if (!finished_) co_await Abort();
    co_return flushed;
  }
  SealRequest seal;
  seal.set_file(file_);
  for (const Slot& slot : slots_) {
    FileChunkProto* c = seal.add_chunks();
    *c->mutable_id() = ToProto(slot.chunk.id);
    c->set_length(slot.chunk.length);
    c->set_checksum(slot.chunk.checksum);
    for (NodeId s : slot.held) c->add_servers(s);
  }
  Runtime& rt = client_.rpc_.runtime();
  absl::StatusOr<SealReply> sealed =
      co_await client_.CallMaster<SealReply>("dfs.seal", seal, rt.DeadlineAfter(client_.options_.operation_timeout));
  if (!sealed.ok()) {
    failed_ = absl::Status(sealed.status().code(), absl::StrCat(path_, ": ", sealed.status().message()));
    co_await Abort();
    co_return failed_;
  }
  finished_ = true;
  if (sealed->length() != length_) {
    co_return absl::InternalError(absl::StrCat(path_, ": sealed with ", sealed->length(), " bytes, written ", length_));
  }
  co_return file_;
}

Task<void> DfsWriter::Abort() {
  if (finished_) co_return;
  finished_ = true;
  puts_.CancelAll();
  running_ = 0;
  (void)co_await client_.Abort(file_);
}

}  // namespace cairn::dfs

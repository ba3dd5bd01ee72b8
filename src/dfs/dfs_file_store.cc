#include "src/dfs/dfs_file_store.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "src/base/status.h"
#include "src/dfs/file_server.h"

namespace cairn::dfs {
namespace {

absl::Status CheckName(const std::string& name) {
  if (name.empty() || name.find('/') != std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat("bad file name \"", name, "\""));
  }
  return absl::OkStatus();
}

// A sealed file, read through the client.
class DfsReadingFile final : public File {
 public:
  DfsReadingFile(DfsClient& client, std::string path, OpenReply file)
      : client_(client), path_(std::move(path)), file_(std::make_shared<const OpenReply>(std::move(file))) {
    IndexChunks();
  }

  Task<absl::StatusOr<std::string>> Read(uint64_t offset, size_t length) override {
    // Reads run concurrently, and DfsClient::Read keeps pointers into the reply it reads: each
    // keeps its own reference, so a refresh by another read never frees it under this one.
    std::shared_ptr<const OpenReply> file = file_;
    if (offset >= file->length()) co_return std::string();
    const uint64_t n = std::min<uint64_t>(length, file->length() - offset);
    absl::StatusOr<std::string> got = co_await client_.Read(*file, offset, n);
    if (got.ok() || absl::IsOutOfRange(got.status())) co_return got;
    // The copies the open named may be gone (a server died, repair copied elsewhere): ask the
    // master where they are now, once. The path must still name the same file.
    absl::StatusOr<OpenReply> again = co_await client_.Open(path_);
    if (!again.ok() || again->file() != file->file()) co_return got;
    file = std::make_shared<const OpenReply>(*std::move(again));
    file_ = file;
    IndexChunks();
    co_return co_await client_.Read(*file, offset, n);
  }
  Task<absl::Status> Write(uint64_t, std::string) override { co_return ReadOnly(); }
  Task<absl::Status> Append(std::string) override { co_return ReadOnly(); }
  Task<absl::Status> Sync() override { co_return absl::OkStatus(); }  // nothing unwritten
  Task<absl::Status> Truncate(uint64_t) override { co_return ReadOnly(); }
  Task<absl::StatusOr<uint64_t>> Size() override { co_return file_->length(); }

  DfsClient& client() const { return client_; }
  // The chunks that hold exactly [offset, offset + length), or none if the range does not
  // begin and end at chunk boundaries, or a chunk had fewer copies than the file's replication
  // when it was opened (a reference must not make a new file of a chunk in danger: the writer
  // then copies the bytes, checking them).
  std::vector<ChunkRef> ChunksCovering(uint64_t offset, uint64_t length) const {
    std::vector<ChunkRef> out;
    auto at = std::lower_bound(starts_.begin(), starts_.end(), offset);
    if (at == starts_.end() || *at != offset || length == 0) return {};
    uint64_t covered = 0;
    for (size_t i = static_cast<size_t>(at - starts_.begin()); i < static_cast<size_t>(file_->chunks_size()) &&
                                                               covered < length;
         ++i) {
      const FileChunkProto& c = file_->chunks(static_cast<int>(i));
      if (static_cast<uint32_t>(c.servers_size()) < file_->replication()) return {};
      out.push_back(ChunkRef{FromProto(c.id()), c.length(), c.checksum()});
      covered += c.length();
    }
    if (covered != length) return {};
    return out;
  }

 private:
  absl::Status ReadOnly() const {
    return absl::FailedPreconditionError(absl::StrCat(path_, " is sealed: DFS files never change"));
  }
  void IndexChunks() {
    starts_.clear();
    uint64_t at = 0;
    for (const FileChunkProto& c : file_->chunks()) {
      starts_.push_back(at);
      at += c.length();
    }
  }

  DfsClient& client_;
  const std::string path_;
  std::shared_ptr<const OpenReply> file_;  // the latest open
  std::vector<uint64_t> starts_;  // each chunk's offset in the file (the same in every open)
};

// A file being written: a DfsWriter, which the store seals by name.
class DfsWritingFile final : public File {
 public:
  DfsWritingFile(DfsClient& client, std::shared_ptr<DfsWriter> writer)
      : client_(client), writer_(std::move(writer)) {}

  Task<absl::StatusOr<std::string>> Read(uint64_t, size_t) override {
    co_return absl::FailedPreconditionError(absl::StrCat(writer_->path(), " is not sealed yet: nobody can read it"));
  }
  Task<absl::Status> Write(uint64_t offset, std::string data) override {
    if (offset != writer_->length()) {
      co_return absl::InvalidArgumentError(absl::StrCat(writer_->path(), ": a write at ", offset, " of a file of ",
                                                        writer_->length(), " bytes (DFS files are written in order)"));
    }
    co_return co_await writer_->Append(std::move(data));
  }
  Task<absl::Status> Append(std::string data) override { co_return co_await writer_->Append(std::move(data)); }
  Task<absl::Status> AppendFrom(File& source, uint64_t source_offset, uint64_t length) override {
    auto* from = dynamic_cast<DfsReadingFile*>(&source);
    if (from == nullptr || &from->client() != &client_) {
      co_return absl::UnimplementedError("the source is not a DFS file of this client");
    }
    const std::vector<ChunkRef> chunks = from->ChunksCovering(source_offset, length);
    if (chunks.empty()) co_return absl::UnimplementedError("the range is not whole, well-protected chunks of the source");
    for (const ChunkRef& c : chunks) CO_RETURN_IF_ERROR(co_await writer_->AppendChunk(c));
    co_return absl::OkStatus();
  }
  Task<absl::Status> Sync() override { co_return co_await writer_->Flush(); }
  Task<absl::Status> Truncate(uint64_t) override {
    co_return absl::FailedPreconditionError(absl::StrCat(writer_->path(), ": DFS files are never truncated"));
  }
  Task<absl::StatusOr<uint64_t>> Size() override { co_return writer_->length(); }

 private:
  DfsClient& client_;
  const std::shared_ptr<DfsWriter> writer_;
};

}  // namespace

Task<absl::StatusOr<std::unique_ptr<DfsFileStore>>> DfsFileStore::Open(DfsClient& client, std::string dir,
                                                                       DfsFileStoreOptions options) {
  if (dir.size() < 2 || dir.front() != '/' || dir.back() == '/') {
    co_return absl::InvalidArgumentError(absl::StrCat("bad DFS directory \"", dir, "\": want /NAME[/NAME...]"));
  }
  // An earlier owner's unsealed files will never be sealed: abort them now rather than wait
  // for the master's expiry.
  absl::StatusOr<ListReply> listed = co_await client.List(dir + "/");
  if (!listed.ok()) co_return listed.status();
  for (const FileStatProto& f : listed->files()) {
    if (!f.sealed()) CO_RETURN_IF_ERROR(co_await client.Abort(f.file()));
  }
  co_return std::unique_ptr<DfsFileStore>(new DfsFileStore(client, std::move(dir), std::move(options)));
}

Task<absl::StatusOr<std::unique_ptr<File>>> DfsFileStore::Create(std::string name) {
  CO_RETURN_IF_ERROR(CheckName(name));
  std::erase_if(writing_, [](const auto& entry) { return entry.second.expired(); });
  absl::StatusOr<std::unique_ptr<DfsWriter>> writer =
      co_await DfsWriter::Create(client_, Path(name), options_.replication, options_.node_set);
  if (!writer.ok()) co_return writer.status();
  std::shared_ptr<DfsWriter> shared = *std::move(writer);
  writing_[name] = shared;
  co_return std::unique_ptr<File>(new DfsWritingFile(client_, std::move(shared)));
}

Task<absl::Status> DfsFileStore::Seal(std::string name) {
  CO_RETURN_IF_ERROR(CheckName(name));
  auto it = writing_.find(name);
  std::shared_ptr<DfsWriter> writer = it == writing_.end() ? nullptr : it->second.lock();
  if (writer == nullptr) {
    co_return absl::FailedPreconditionError(
        absl::StrCat(Path(name), ": no open file of that name here (never created, or closed before its seal)"));
  }
  writing_.erase(it);
  absl::StatusOr<uint64_t> sealed = co_await writer->Seal();
  co_return sealed.status();
}

Task<absl::StatusOr<std::unique_ptr<File>>> DfsFileStore::Open(std::string name) {
  CO_RETURN_IF_ERROR(CheckName(name));
  co_return co_await OpenDfsFile(client_, Path(name));
}

Task<absl::Status> DfsFileStore::Remove(std::string name) {
  CO_RETURN_IF_ERROR(CheckName(name));
  co_return co_await client_.Delete(Path(name));
}

Task<absl::StatusOr<std::vector<std::string>>> DfsFileStore::List() {
  const std::string prefix = dir_ + "/";
  absl::StatusOr<ListReply> listed = co_await client_.List(prefix);
  if (!listed.ok()) co_return listed.status();
  std::vector<std::string> names;
  for (const FileStatProto& f : listed->files()) {
    if (!f.sealed() || !f.path().starts_with(prefix)) continue;
    std::string name = f.path().substr(prefix.size());
    if (name.find('/') == std::string::npos) names.push_back(std::move(name));  // not a subdirectory's
  }
  std::sort(names.begin(), names.end());
  co_return names;
}

Task<absl::StatusOr<std::unique_ptr<File>>> OpenDfsFile(DfsClient& client, std::string path) {
  absl::StatusOr<OpenReply> opened = co_await client.Open(path);
  if (!opened.ok()) co_return opened.status();
  co_return std::unique_ptr<File>(new DfsReadingFile(client, std::move(path), *std::move(opened)));
}

}  // namespace cairn::dfs

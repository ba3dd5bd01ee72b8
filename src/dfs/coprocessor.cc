#include "src/dfs/coprocessor.h"

#include <algorithm>
#include <set>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "src/base/check.h"
#include "src/base/status.h"
#include "src/base/strings.h"
#include "src/dfs/file_server.h"
#include "src/format/sst_reader.h"

namespace cairn::dfs {

absl::Status ValidateScan(const ScanRequest& r) {
  if (r.chunks_size() == 0 || static_cast<size_t>(r.chunks_size()) > kChunksPerFileMax) {
    return absl::InvalidArgumentError(absl::StrCat("a scan of a file of ", r.chunks_size(), " chunks"));
  }
  uint64_t length = 0;
  std::set<ChunkId> ids;
  for (const FileChunkProto& c : r.chunks()) {
    if (c.length() == 0 || c.length() > kChunkBytesMax) {
      return absl::InvalidArgumentError(absl::StrCat("a chunk of ", c.length(), " bytes"));
    }
    if (c.servers_size() > kScanServersPerChunkMax) {
      return absl::InvalidArgumentError(absl::StrCat("a chunk on ", c.servers_size(), " servers; at most ",
                                                     kScanServersPerChunkMax));
    }
    if (!ids.insert(ChunkId{c.id().file(), c.id().index()}).second) {
      return absl::InvalidArgumentError(absl::StrCat("chunk ", c.id().file(), "/", c.id().index(), " twice"));
    }
    length += c.length();
  }
  if (length != r.length()) {
    return absl::InvalidArgumentError(absl::StrCat("chunks of ", length, " bytes for a file of ", r.length()));
  }
  if (r.has_to() && r.to() <= r.from()) return absl::InvalidArgumentError("an empty key range (to <= from)");
  if (r.predicate() == ScanRequest::VALUE_INT_RANGE && r.int_min() > r.int_max()) {
    return absl::InvalidArgumentError(absl::StrCat("an empty value range [", r.int_min(), ", ", r.int_max(), "]"));
  }
  if (!ScanRequest::Predicate_IsValid(r.predicate()) || !ScanRequest::Aggregate_IsValid(r.aggregate())) {
    return absl::InvalidArgumentError("an unknown predicate or aggregate");
  }
  if (r.aggregate() == ScanRequest::ROWS && (r.limit() == 0 || r.limit() > kScanRowsMax)) {
    return absl::InvalidArgumentError(absl::StrCat("a row limit of ", r.limit(), "; want 1..", kScanRowsMax));
  }
  return absl::OkStatus();
}

Task<absl::StatusOr<ScanReply>> ScanSst(File& file, std::string name, const ScanRequest& r) {
  CO_RETURN_IF_ERROR(ValidateScan(r));
  // The file is owned by its caller; the reader gets a view of it.
  class View final : public File {
   public:
    explicit View(File& f) : f_(f) {}
    Task<absl::StatusOr<std::string>> Read(uint64_t offset, size_t length) override {
      co_return co_await f_.Read(offset, length);
    }
    Task<absl::Status> Write(uint64_t offset, std::string data) override { co_return co_await f_.Write(offset, std::move(data)); }
    Task<absl::Status> Append(std::string data) override { co_return co_await f_.Append(std::move(data)); }
    Task<absl::Status> Sync() override { co_return co_await f_.Sync(); }
    Task<absl::Status> Truncate(uint64_t size) override { co_return co_await f_.Truncate(size); }
    Task<absl::StatusOr<uint64_t>> Size() override { co_return co_await f_.Size(); }

   private:
    File& f_;
  };
  format::ReaderOptions reader_options;  // a named argument: see docs/runtime.md on g++ 12
  absl::StatusOr<std::unique_ptr<format::SstReader>> reader =
      co_await format::SstReader::Open(std::make_unique<View>(file), std::move(name), reader_options);
  if (!reader.ok()) co_return reader.status();
  format::IteratorOptions options;
  options.sequential = true;
  if (r.has_to()) options.upper_bound = r.to();
  std::unique_ptr<format::SstIterator> it = (*reader)->NewIterator(options);
  const std::string start = std::max(r.from(), r.prefix());
  CO_RETURN_IF_ERROR(co_await it->Seek(start));
  const uint64_t snapshot = r.snapshot() == 0 ? format::kMaxVersion : r.snapshot();

  ScanReply reply;
  uint64_t row_bytes = 0;
  std::string last_key;
  bool have_last = false, key_done = false;
  absl::Status s;
  while (s.ok() && it->Valid()) {
    const format::RowView row = it->row();
    if (!row.key.starts_with(std::string_view(r.prefix()))) break;  // keys with the prefix are contiguous, from `start`
    reply.set_rows_scanned(reply.rows_scanned() + 1);
    if (!have_last || row.key != last_key) {
      last_key.assign(row.key);
      have_last = true;
      key_done = false;
    }
    // Rows of a key come newest first: the first at or below the snapshot is the visible one.
    if (!key_done && row.version <= snapshot) {
      key_done = true;
      if (row.kind == format::RowKind::kPut) {
        int64_t number = 0;
        const bool numeric = absl::SimpleAtoi(AbslView(row.value), &number);
        bool match = true;
        if (r.predicate() == ScanRequest::VALUE_CONTAINS) {
          match = row.value.find(std::string_view(r.contains())) != std::string_view::npos;
        } else if (r.predicate() == ScanRequest::VALUE_INT_RANGE) {
          match = numeric && number >= r.int_min() && number <= r.int_max();
        }
        if (match) {
          reply.set_rows_matched(reply.rows_matched() + 1);
          switch (r.aggregate()) {
            default:  // COUNT (ValidateScan refused the rest)
              break;
            case ScanRequest::SUM:
            case ScanRequest::MIN:
            case ScanRequest::MAX:
              if (!numeric) {
                reply.set_not_numeric(reply.not_numeric() + 1);
                break;
              }
              if (int64_t sum = 0; __builtin_add_overflow(reply.sum(), number, &sum)) {
                if (r.aggregate() == ScanRequest::SUM) {
                  co_return absl::OutOfRangeError(absl::StrCat("the sum overflows 64 bits at key ", absl::CEscape(AbslView(row.key))));
                }
              } else {
                reply.set_sum(sum);
              }
              reply.set_min(reply.has_min_max() ? std::min(reply.min(), number) : number);
              reply.set_max(reply.has_min_max() ? std::max(reply.max(), number) : number);
              reply.set_has_min_max(true);
              break;
            case ScanRequest::ROWS:
              if (static_cast<uint32_t>(reply.rows_size()) >= r.limit() ||
                  row_bytes + row.key.size() + row.value.size() > kScanReplyRowBytesMax) {
                reply.set_truncated(true);
                break;
              }
              row_bytes += row.key.size() + row.value.size();
              ScanRow* out = reply.add_rows();
              out->set_key(std::string(row.key));
              out->set_version(row.version);
              out->set_value(std::string(row.value));
              break;
          }
        }
      }
    }
    if (r.aggregate() == ScanRequest::ROWS && reply.truncated()) break;
    if (!it->Next()) s = co_await it->Load();
  }
  if (!s.ok()) co_return s;
  CO_RETURN_IF_ERROR(it->status());
  co_return reply;
}

SealedChunksFile::SealedChunksFile(rpc::RpcNode& rpc, ChunkStore& store, const ScanRequest& request,
                                   Duration call_timeout, Instant deadline)
    : rpc_(rpc),
      store_(store),
      call_timeout_(call_timeout),
      deadline_(deadline),
      chunks_(request.chunks().begin(), request.chunks().end()) {
  for (const FileChunkProto& c : chunks_) {
    starts_.push_back(length_);
    length_ += c.length();
  }
}

Task<absl::StatusOr<std::string>> SealedChunksFile::ReadChunkPart(size_t i, uint64_t offset, uint64_t length) {
  const FileChunkProto& c = chunks_[i];
  const ChunkRef ref{FromProto(c.id()), c.length(), c.checksum()};
  absl::Status last = absl::UnavailableError("no server listed for it");
  // Here first: no byte crosses the network. The blocks are checked once, against the sealed
  // checksum.
  const NodeId self = rpc_.runtime().node_id();
  absl::StatusOr<ChunkStore::Blocks> local = co_await store_.Read(ref.id, offset, length, /*verify_blocks=*/false);
  if (local.ok()) {
    absl::StatusOr<std::string> bytes = CheckReadReply(ref, offset, length, ReplyOf(*std::move(local)));
    if (bytes.ok()) co_return bytes;
    last = bytes.status();
    NoteBad(self, ref.id, last);
  } else if (!absl::IsNotFound(local.status())) {
    last = local.status();
    NoteBad(self, ref.id, last);
  }
  for (const uint32_t server : c.servers()) {
    if (server == self) continue;
    absl::StatusOr<std::string> bytes =
        co_await ReadChunk(rpc_, server, ref, offset, length, std::min(deadline_, rpc_.runtime().DeadlineAfter(call_timeout_)));
    if (bytes.ok()) {
      bytes_from_peers_ += bytes->size();
      co_return bytes;
    }
    last = bytes.status();
    NoteBad(server, ref.id, last);
  }
  co_return absl::Status(last.code(), absl::StrCat("chunk ", ref.id.ToString(), ": ", last.message()));
}

Task<absl::StatusOr<std::string>> SealedChunksFile::Read(uint64_t offset, size_t length) {
  if (offset >= length_) co_return std::string();
  if (rpc_.runtime().Now() >= deadline_) co_return absl::DeadlineExceededError("the scan ran out of time");
  if (length > kScanReadBytesMax) {
    co_return absl::InvalidArgumentError(absl::StrCat("a read of ", length, " bytes; a scan reads at most ",
                                                      kScanReadBytesMax, " at once"));
  }
  const uint64_t end = std::min<uint64_t>(length_, offset + length);
  std::string out;
  size_t i = static_cast<size_t>(std::upper_bound(starts_.begin(), starts_.end(), offset) - starts_.begin()) - 1;
  for (uint64_t at = offset; at < end; ++i) {
    const uint64_t chunk_end = starts_[i] + chunks_[i].length();
    const uint64_t n = std::min(end, chunk_end) - at;
    absl::StatusOr<std::string> part = co_await ReadChunkPart(i, at - starts_[i], n);
    if (!part.ok()) co_return part.status();
    CAIRN_CHECK_EQ(part->size(), n);
    out += *part;
    at += n;
  }
  bytes_read_ += out.size();
  co_return out;
}

}  // namespace cairn::dfs

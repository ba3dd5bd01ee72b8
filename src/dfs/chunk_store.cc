#include "src/dfs/chunk_store.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "src/base/status.h"
#include "src/base/strings.h"
#include "src/runtime/assertions.h"
#include "src/runtime/buggify.h"

namespace cairn::dfs {
namespace {

constexpr std::string_view kSuffix = ".chunk";
constexpr std::string_view kTmpSuffix = ".tmp";
// The first read of a chunk file: its header and the block table of a chunk of up to 128
// blocks (8 MiB), so that a read of a default-sized chunk costs one read for its metadata.
constexpr size_t kMetaReadBytes = kChunkHeaderBytes + 4 * 128;

}  // namespace

std::string ChunkStore::FileName(ChunkId id) {
  return absl::StrFormat("%016x-%08x%s", id.file, id.index, AbslView(kSuffix));
}

bool ChunkStore::ParseFileName(std::string_view name, ChunkId* id) {
  if (name.size() != 16 + 1 + 8 + kSuffix.size() || name[16] != '-' || !name.ends_with(kSuffix)) return false;
  uint64_t file = 0;
  uint32_t index = 0;
  if (!absl::SimpleHexAtoi(AbslView(name.substr(0, 16)), &file) ||
      !absl::SimpleHexAtoi(AbslView(name.substr(17, 8)), &index) || file == 0) {
    return false;
  }
  *id = ChunkId{file, index};
  return FileName(*id) == name;  // one spelling per chunk (lower-case hex, zero-padded)
}

std::string ChunkStore::Where(ChunkId id, const std::string& path) {
  return absl::StrCat("chunk ", id.ToString(), " (", path, ")");
}

Task<absl::StatusOr<std::unique_ptr<ChunkStore>>> ChunkStore::Open(Disk& disk, std::string dir, Probes probes) {
  std::unique_ptr<ChunkStore> store(new ChunkStore(disk, std::move(dir), probes));
  CO_RETURN_IF_ERROR(co_await disk.CreateDir(store->dir_));
  absl::StatusOr<std::vector<std::string>> names = co_await disk.List(store->dir_);
  if (!names.ok()) co_return names.status();
  bool removed = false;
  for (const std::string& name : *names) {
    if (!name.ends_with(kTmpSuffix)) continue;
    CO_RETURN_IF_ERROR(co_await disk.Remove(absl::StrCat(store->dir_, "/", name)));
    ++store->stats_.cut_writes_removed;
    CAIRN_SOMETIMES(store->probes_, true, "dfs.cut-off-chunk-write-removed");
    removed = true;
  }
  if (removed) CO_RETURN_IF_ERROR(co_await disk.SyncDir(store->dir_));
  co_return store;
}

Task<absl::StatusOr<std::pair<ChunkHeader, std::vector<uint32_t>>>> ChunkStore::ReadMeta(File& file, ChunkId id,
                                                                                          const std::string& path) {
  // Buggify: the header alone first, so the second read of a large chunk's table (over 128
  // blocks) runs for small chunks too.
  absl::StatusOr<std::string> meta = co_await file.Read(0, CAIRN_BUGGIFY(probes_) ? kChunkHeaderBytes : kMetaReadBytes);
  if (!meta.ok()) co_return meta.status();
  absl::StatusOr<ChunkHeader> header = ParseChunkHeader(*meta, Where(id, path));
  if (!header.ok()) co_return header.status();
  if (header->id != id) {
    co_return absl::DataLossError(absl::StrCat(Where(id, path), ": holds chunk ", header->id.ToString()));
  }
  if (meta->size() < header->data_offset()) {
    absl::StatusOr<std::string> more = co_await file.Read(meta->size(), header->data_offset() - meta->size());
    if (!more.ok()) co_return more.status();
    meta->append(*more);
  }
  if (meta->size() < header->data_offset()) {
    co_return absl::DataLossError(absl::StrCat(Where(id, path), ": cut short inside its block table"));
  }
  absl::StatusOr<std::vector<uint32_t>> table = ParseBlockTable(
      *header, std::string_view(*meta).substr(header->table_offset(), 4ull * header->block_count),
      Where(id, path));
  if (!table.ok()) co_return table.status();
  co_return std::make_pair(*header, *std::move(table));
}

Task<absl::Status> ChunkStore::Put(ChunkId id, std::string data, uint32_t block_bytes, ChunkSums sums) {
  if (id.file == 0) co_return absl::InvalidArgumentError("chunk of file 0: no such file");
  if (block_bytes == 0 || block_bytes > kChunkBytesMax || data.size() > kChunkBytesMax) {
    co_return absl::InvalidArgumentError(absl::StrCat("chunk ", id.ToString(), ": ", data.size(), " bytes in blocks of ",
                                                      block_bytes, "; at most ", kChunkBytesMax, " in blocks of 1..",
                                                      kChunkBytesMax));
  }
  if (absl::Status s = VerifyChunk(id, data, block_bytes, sums); !s.ok()) {
    ++stats_.puts_refused;
    co_return absl::Status(s.code(), absl::StrCat("refused, arrived damaged: ", s.message()));
  }
  if (!writing_.insert(id).second) {
    co_return absl::UnavailableError(absl::StrCat("chunk ", id.ToString(), " is being written; try again"));
  }
  struct Done {
    std::set<ChunkId>& writing;
    ChunkId id;
    ~Done() { writing.erase(id); }
  } done{writing_, id};

  const std::string path = Path(id);
  absl::StatusOr<std::unique_ptr<File>> existing = co_await disk_.Open(path, OpenOptions{});
  if (existing.ok()) {
    absl::StatusOr<ChunkHeader> held = co_await VerifyFile(**existing, id, path);
    if (held.ok() && held->chunk_checksum == sums.chunk && held->length == data.size()) {
      ++stats_.puts_repeated;
      co_return absl::OkStatus();  // a retried write of what is here
    }
    if (held.ok()) {
      co_return absl::AlreadyExistsError(absl::StrCat("chunk ", id.ToString(), " is held with other bytes"));
    }
    // A damaged copy is replaced below by the good bytes; an IO error stops here.
    if (!absl::IsDataLoss(held.status())) co_return held.status();
    CAIRN_SOMETIMES(probes_, true, "dfs.damaged-chunk-replaced-by-a-put");
  } else if (!absl::IsNotFound(existing.status())) {
    co_return existing.status();
  }
  const std::string tmp = absl::StrCat(path, AbslView(kTmpSuffix));
  absl::StatusOr<std::unique_ptr<File>> file =
      co_await disk_.Open(tmp, OpenOptions{.create = true, .truncate = true});
  if (!file.ok()) co_return file.status();
  CO_RETURN_IF_ERROR(co_await (*file)->Write(0, EncodeChunkFile(id, data, block_bytes, sums)));
  if (!canaries_.ack_before_sync) CO_RETURN_IF_ERROR(co_await (*file)->Sync());
  file->reset();
  CO_RETURN_IF_ERROR(co_await disk_.Rename(tmp, path));
  if (!canaries_.ack_before_sync) CO_RETURN_IF_ERROR(co_await disk_.SyncDir(dir_));
  ++stats_.puts;
  co_return absl::OkStatus();
}

Task<absl::StatusOr<ChunkStore::Blocks>> ChunkStore::Read(ChunkId id, uint64_t offset, uint64_t length,
                                                        bool verify_blocks) {
  const std::string path = Path(id);
  absl::StatusOr<std::unique_ptr<File>> file = co_await disk_.Open(path, OpenOptions{});
  if (!file.ok()) {
    if (absl::IsNotFound(file.status())) co_return absl::NotFoundError(absl::StrCat("no chunk ", id.ToString(), " here"));
    co_return file.status();
  }
  absl::StatusOr<std::pair<ChunkHeader, std::vector<uint32_t>>> meta = co_await ReadMeta(**file, id, path);
  if (!meta.ok()) {
    if (absl::IsDataLoss(meta.status())) ++stats_.damaged_reads;
    co_return meta.status();
  }
  Blocks out;
  out.header = meta->first;
  out.table = std::move(meta->second);
  const ChunkHeader& h = out.header;
  if (offset > h.length || length > h.length - offset) {
    co_return absl::OutOfRangeError(absl::StrCat("chunk ", id.ToString(), " has ", h.length, " bytes; [", offset, ", +",
                                                 length, ") lies past them"));
  }
  out.first_block = static_cast<uint32_t>(offset / h.block_bytes);
  const uint64_t begin = uint64_t{out.first_block} * h.block_bytes;
  const uint64_t end = length == 0 ? begin : std::min<uint64_t>(h.length, (offset + length + h.block_bytes - 1) /
                                                                              h.block_bytes * h.block_bytes);
  absl::StatusOr<std::string> bytes = co_await (*file)->Read(h.data_offset() + begin, end - begin);
  if (!bytes.ok()) co_return bytes.status();
  if (bytes->size() != end - begin) {
    ++stats_.damaged_reads;
    co_return absl::DataLossError(absl::StrCat(Where(id, path), ": cut short (", bytes->size(), " of ", end - begin,
                                               " bytes from offset ", begin, ")"));
  }
  if (absl::Status s = verify_blocks && !canaries_.unverified_reads
                           ? VerifyBlocks(id, h.length, h.block_bytes, out.table, out.first_block, *bytes)
                           : absl::OkStatus();
      !s.ok()) {
    ++stats_.damaged_reads;
    co_return s;
  }
  ++stats_.reads;
  stats_.read_bytes += bytes->size();
  out.data = *std::move(bytes);
  co_return out;
}

Task<absl::StatusOr<ChunkHeader>> ChunkStore::VerifyFile(File& file, ChunkId id, const std::string& path) {
  absl::StatusOr<std::pair<ChunkHeader, std::vector<uint32_t>>> meta = co_await ReadMeta(file, id, path);
  if (!meta.ok()) co_return meta.status();
  const ChunkHeader& h = meta->first;
  absl::StatusOr<std::string> bytes = co_await file.Read(h.data_offset(), h.length);
  if (!bytes.ok()) co_return bytes.status();
  if (bytes->size() != h.length) {
    co_return absl::DataLossError(
        absl::StrCat(Where(id, path), ": ", bytes->size(), " of ", h.length, " data bytes"));
  }
  CO_RETURN_IF_ERROR(VerifyBlocks(id, h.length, h.block_bytes, meta->second, 0, *bytes));
  co_return h;
}

Task<absl::Status> ChunkStore::Scrub(ChunkId id) {
  const std::string path = Path(id);
  absl::StatusOr<std::unique_ptr<File>> file = co_await disk_.Open(path, OpenOptions{.io_class = IoClass::kSystem});
  if (!file.ok()) {
    if (absl::IsNotFound(file.status())) co_return absl::NotFoundError(absl::StrCat("no chunk ", id.ToString(), " here"));
    co_return file.status();
  }
  ++stats_.scrubbed;
  absl::Status s = (co_await VerifyFile(**file, id, path)).status();
  if (absl::IsDataLoss(s)) ++stats_.scrub_damage;
  CAIRN_SOMETIMES(probes_, absl::IsDataLoss(s), "dfs.scrub-found-a-damaged-chunk");
  co_return s;
}

Task<absl::Status> ChunkStore::Remove(ChunkId id) {
  absl::Status s = co_await disk_.Remove(Path(id));
  if (s.ok()) ++stats_.removed;
  if (absl::IsNotFound(s)) co_return absl::NotFoundError(absl::StrCat("no chunk ", id.ToString(), " here"));
  co_return s;
}

Task<absl::StatusOr<std::vector<ChunkId>>> ChunkStore::List() {
  absl::StatusOr<std::vector<std::string>> names = co_await disk_.List(dir_);
  if (!names.ok()) co_return names.status();
  std::vector<ChunkId> ids;
  for (const std::string& name : *names) {
    ChunkId id;
    if (ParseFileName(name, &id)) ids.push_back(id);
  }
  std::sort(ids.begin(), ids.end());
  co_return ids;
}

}  // namespace cairn::dfs

#include "src/lsm/engine.h"

#include <algorithm>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "src/base/check.h"
#include "src/runtime/assertions.h"
#include "src/base/status.h"
#include "src/format/sst_writer.h"
#include "src/lsm/row_stream.h"

namespace cairn::lsm {
namespace {

constexpr size_t kReplayReadBytes = 4u << 20;
constexpr int kManifestReadAttemptsMax = 3;
constexpr Duration kBackgroundRetryBase = std::chrono::milliseconds(50);

// Sets a flag for the lifetime of a scope and notifies when it drops, also when the coroutine
// holding it is destroyed mid-wait.
class FlagGuard {
 public:
  FlagGuard(bool& flag, Notifier& released) : flag_(flag), released_(released) { flag_ = true; }
  ~FlagGuard() {
    flag_ = false;
    released_.NotifyAll();
  }
  FlagGuard(const FlagGuard&) = delete;
  FlagGuard& operator=(const FlagGuard&) = delete;

 private:
  bool& flag_;
  Notifier& released_;
};

}  // namespace

// Obsolete files wait here until the last reader lets go of them; DeleteLoop removes them.
struct Engine::Graveyard {
  explicit Graveyard(Executor& executor) : wake(executor) {}
  std::vector<std::string> names;
  Notifier wake;
};

struct Engine::TableFile {
  FileMeta meta;
  std::string name;
  std::unique_ptr<format::SstReader> reader;
  std::shared_ptr<Graveyard> graveyard;
  bool obsolete = false;  // no longer in the manifest: delete once unreferenced
  ~TableFile() {
    if (!obsolete) return;
    graveyard->names.push_back(name);
    graveyard->wake.NotifyAll();
  }
};

struct Engine::Applied {
  bool done = false;
  absl::StatusOr<uint64_t> result = uint64_t{0};
};

std::vector<std::shared_ptr<Engine::TableFile>> Engine::State::Tables() const {
  std::vector<std::shared_ptr<TableFile>> all = minis;
  if (minor) all.push_back(minor);
  if (major) all.push_back(major);
  return all;
}

size_t RowBytesMax(const EngineOptions& options) { return options.sst.RowBytesMax() - 64; }

Snapshot& Snapshot::operator=(Snapshot&& o) noexcept {
  if (this != &o) {
    Release();
    engine_ = std::exchange(o.engine_, nullptr);
    version_ = o.version_;
  }
  return *this;
}

void Snapshot::Release() {
  if (engine_ != nullptr) std::exchange(engine_, nullptr)->Unpin(version_);
}

Engine::Engine(Disk& disk, Executor& executor, std::string dir, std::unique_ptr<Journal> journal,
               std::unique_ptr<FileStore> store, EngineOptions options)
    : disk_(disk),
      executor_(executor),
      dir_(std::move(dir)),
      journal_(std::move(journal)),
      store_(std::move(store)),
      options_(std::move(options)),
      state_(std::make_shared<State>()),
      graveyard_(std::make_shared<Graveyard>(executor)),
      flushed_(executor),
      flush_work_(executor),
      compact_work_(executor),
      manifest_free_(executor),
      applied_(executor),
      tasks_(executor) {
  state_->active = std::make_shared<Memtable>(next_memtable_id_++);
}

Engine::~Engine() {
  tasks_.CancelAll();
  // Files still referenced by readers outside (there should be none) are not deleted now.
  graveyard_->names.clear();
}

std::string Engine::FileName(uint64_t number) { return absl::StrFormat("%06d.sst", number); }

Task<absl::StatusOr<uint64_t>> Engine::AllocateFileNumber() {
  if (next_file_number_ >= file_numbers_reserved_) {
    // Record a new reservation before handing out a number beyond the last one.
    const uint64_t before = file_numbers_reserved_;
    file_numbers_reserved_ = next_file_number_ + kFileNumbersReservedPerManifest;
    std::function<void(State&)> unchanged = [](State&) {};
    absl::Status s = co_await Install(std::move(unchanged), std::nullopt, retained_floor_);
    if (!s.ok()) {
      file_numbers_reserved_ = before;
      co_return s;
    }
  }
  CAIRN_CHECK_LT(next_file_number_, uint64_t{1} << kFileNumberBits);  // ids would collide
  co_return next_file_number_++;
}

EngineOptions EngineOptions::FromKnobs(const Knobs& knobs) {
  EngineOptions o;
  o.memtable_bytes = static_cast<size_t>(knobs.lsm_memtable_bytes);
  o.frozen_memtables_max = static_cast<size_t>(knobs.lsm_frozen_memtables_max);
  o.minis_max = static_cast<size_t>(knobs.lsm_minis_max);
  o.minor_trigger_bytes = static_cast<uint64_t>(knobs.lsm_minor_trigger_bytes);
  o.background_attempts_max = static_cast<int>(knobs.lsm_background_attempts_max);
  o.sst = format::SstOptions::FromKnobs(knobs);
  o.journal = LocalJournalOptions::FromKnobs(knobs);
  return o;
}

EngineOptions EngineOptions::Tiny() {
  EngineOptions o;
  o.memtable_bytes = 4 << 10;
  o.minis_max = 2;
  o.minor_trigger_bytes = 24 << 10;
  o.sst.macroblock_bytes = 64 << 10;
  o.sst.microblock_bytes = 4 << 10;
  o.journal.segment_bytes_max = 16 << 10;
  return o;
}

namespace {
Task<absl::StatusOr<std::unique_ptr<Journal>>> OpenLocalJournal(Disk& disk, Executor& executor, const std::string& dir,
                                                                const EngineOptions& options) {
  CO_RETURN_IF_ERROR(co_await disk.CreateDir(dir));
  LocalJournalOptions journal_options = options.journal;
  journal_options.probes = options.probes;
  absl::StatusOr<std::unique_ptr<LocalJournal>> journal =
      co_await LocalJournal::Open(disk, executor, dir + "/journal", journal_options);
  if (!journal.ok()) co_return journal.status();
  co_return std::unique_ptr<Journal>(*std::move(journal));
}
}  // namespace

Task<absl::StatusOr<std::unique_ptr<Engine>>> Engine::Open(Disk& disk, Executor& executor, std::string dir,
                                                           EngineOptions options) {
  absl::StatusOr<std::unique_ptr<Journal>> journal = co_await OpenLocalJournal(disk, executor, dir, options);
  if (!journal.ok()) co_return journal.status();
  std::string sst_dir = dir + "/sst";
  absl::StatusOr<std::unique_ptr<LocalFileStore>> store = co_await LocalFileStore::Open(disk, std::move(sst_dir));
  if (!store.ok()) co_return store.status();
  std::unique_ptr<FileStore> fs = *std::move(store);
  co_return co_await Open(disk, executor, std::move(dir), *std::move(journal), std::move(fs), std::move(options));
}

Task<absl::StatusOr<std::unique_ptr<Engine>>> Engine::Open(Disk& disk, Executor& executor, std::string dir,
                                                           std::unique_ptr<FileStore> store, EngineOptions options) {
  absl::StatusOr<std::unique_ptr<Journal>> journal = co_await OpenLocalJournal(disk, executor, dir, options);
  if (!journal.ok()) co_return journal.status();
  co_return co_await Open(disk, executor, std::move(dir), *std::move(journal), std::move(store), std::move(options));
}

Task<absl::StatusOr<std::unique_ptr<Engine>>> Engine::Open(Disk& disk, Executor& executor, std::string dir,
                                                           std::unique_ptr<Journal> journal,
                                                           std::unique_ptr<FileStore> store,
                                                           EngineOptions options) {
  CO_RETURN_IF_ERROR(options.sst.Validate());
  if (options.memtable_bytes == 0 || options.frozen_memtables_max == 0 || options.minis_max == 0 ||
      options.background_attempts_max < 1) {
    co_return absl::InvalidArgumentError("engine options: memtable_bytes, frozen_memtables_max, minis_max and "
                                         "background_attempts_max must be positive");
  }
  if (options.shard_id > kShardIdMax) {
    co_return absl::InvalidArgumentError(
        absl::StrCat("engine options: shard_id ", options.shard_id, " exceeds ", kShardIdMax));
  }
  std::unique_ptr<Engine> e(
      new Engine(disk, executor, std::move(dir), std::move(journal), std::move(store), std::move(options)));
  CO_RETURN_IF_ERROR(co_await e->Recover());
  e->tasks_.Spawn(e->FlushLoop());
  e->tasks_.Spawn(e->CompactLoop());
  e->tasks_.Spawn(e->DeleteLoop());
  co_return e;
}

// --- Recovery ---

Task<absl::Status> Engine::Recover() {
  CO_RETURN_IF_ERROR(co_await disk_.CreateDir(dir_));
  absl::StatusOr<ManifestState> manifest = absl::UnknownError("unread");
  for (int attempt = 1; attempt <= kManifestReadAttemptsMax; ++attempt) {
    manifest = co_await ReadManifest(disk_, dir_);
    if (manifest.ok() || absl::IsNotFound(manifest.status())) break;
  }
  if (absl::IsNotFound(manifest.status())) {
    manifest = ManifestState{};
    CO_RETURN_IF_ERROR(co_await WriteManifest(disk_, dir_, *manifest, !options_.canary_skip_manifest_sync));
  }
  if (!manifest.ok()) co_return manifest.status();
  // Every number below the recorded one may have been used (by files since removed, or by
  // cached blocks of work a crash or an error cut short): start above them all.
  next_file_number_ = manifest->next_file_number;
  file_numbers_reserved_ = next_file_number_;
  flushed_position_ = manifest->flushed_position;
  retained_floor_ = manifest->retained_floor;
  auto state = std::make_shared<State>(*state_);
  absl::flat_hash_set<std::string> live;
  for (const FileMeta& meta : manifest->files) {
    absl::StatusOr<std::shared_ptr<TableFile>> table = co_await OpenTable(meta);
    if (!table.ok()) co_return table.status();
    live.insert((*table)->name);
    switch (meta.level) {
      case Level::kMini:
        state->minis.push_back(*table);
        break;
      case Level::kMinor:
        if (state->minor != nullptr) co_return absl::DataLossError("manifest lists two minor SSTables");
        state->minor = *table;
        break;
      case Level::kMajor:
        if (state->major != nullptr) co_return absl::DataLossError("manifest lists two major SSTables");
        state->major = *table;
        break;
    }
  }
  state_ = state;
  // Files the manifest does not name: outputs of work a crash interrupted, or obsolete files
  // whose deletion it interrupted.
  absl::StatusOr<std::vector<std::string>> names = co_await store_->List();
  if (!names.ok()) co_return names.status();
  for (const std::string& name : *names) {
    if (live.contains(name)) continue;
    // Already gone is done: a store whose removal is a call may have removed it on an attempt
    // whose answer was lost (the DFS).
    absl::Status removed = co_await store_->Remove(name);
    if (!removed.ok() && !absl::IsNotFound(removed)) co_return removed;
  }
  // The journal must hold every write after the flushed position.
  if (journal_->start() > flushed_position_ + 1 || journal_->next_position() < flushed_position_ + 1) {
    co_return absl::DataLossError(absl::StrCat("the journal holds positions ", journal_->start(), "..",
                                               journal_->next_position(), " but the SSTables end at ",
                                               flushed_position_));
  }
  visible_version_ = flushed_position_;
  co_return co_await Replay(flushed_position_ + 1);
}

Task<absl::Status> Engine::Replay(uint64_t from) {
  uint64_t position = from;
  while (true) {
    absl::StatusOr<std::vector<JournalRecord>> records = co_await journal_->Read(position, kReplayReadBytes);
    if (!records.ok()) co_return records.status();
    if (records->empty()) break;
    for (const JournalRecord& r : *records) {
      CAIRN_CHECK_EQ(r.position, position);
      absl::StatusOr<WriteBatch> batch = WriteBatch::Decode(r.payload);
      if (!batch.ok()) {
        co_return absl::DataLossError(absl::StrCat("journal record ", r.position, ": ", batch.status().message()));
      }
      if (state_->active->memory_bytes() >= options_.memtable_bytes) {
        if (state_->frozen.size() >= options_.frozen_memtables_max) CO_RETURN_IF_ERROR(co_await FlushOldest());
        FreezeActive();
      }
      ApplyBatch(position, *batch);
      visible_version_ = position;
      ++position;
      ++stats_.recovered_records;
    }
  }
  CAIRN_SOMETIMES(options_.probes, stats_.recovered_records > 0, "engine.journal-replayed-at-open");
  co_return absl::OkStatus();
}

Task<absl::StatusOr<std::shared_ptr<Engine::TableFile>>> Engine::OpenTable(const FileMeta& meta) {
  auto table = std::make_shared<TableFile>();
  table->meta = meta;
  table->name = FileName(meta.number);
  table->graveyard = graveyard_;
  std::string name = table->name;
  absl::StatusOr<std::unique_ptr<File>> file = co_await store_->Open(std::move(name));
  if (!file.ok()) co_return file.status();
  format::ReaderOptions ro{.expected_file_id = IdOf(meta.number), .probes = options_.probes};
  if (options_.cache != nullptr) {
    ro.block_cache = &options_.cache->blocks();
    ro.filter_cache = &options_.cache->filters();
  }
  absl::StatusOr<std::unique_ptr<format::SstReader>> reader =
      co_await format::SstReader::Open(*std::move(file), table->name, ro);
  if (!reader.ok()) co_return reader.status();
  table->reader = *std::move(reader);
  const format::SstProperties& p = table->reader->properties();
  if (p.rows != meta.rows || (meta.size_bytes != 0 && table->reader->file_size() != meta.size_bytes)) {
    co_return absl::DataLossError(absl::StrCat(table->name, ": holds ", p.rows, " rows in ",
                                               table->reader->file_size(), " bytes; the manifest says ", meta.rows,
                                               " rows in ", meta.size_bytes));
  }
  table->meta.size_bytes = table->reader->file_size();
  co_return table;
}

// --- Writes ---

absl::Status Engine::WritesRefused() const {
  if (!write_error_.ok()) return write_error_;
  return background_error_;
}

Task<absl::StatusOr<uint64_t>> Engine::Put(std::string key, std::string value) {
  WriteBatch b;
  b.Put(std::move(key), std::move(value));
  co_return co_await Write(std::move(b));
}

Task<absl::StatusOr<uint64_t>> Engine::Delete(std::string key) {
  WriteBatch b;
  b.Delete(std::move(key));
  co_return co_await Write(std::move(b));
}

Task<absl::StatusOr<uint64_t>> Engine::Write(WriteBatch batch) {
  if (batch.empty()) co_return absl::InvalidArgumentError("empty write batch");
  for (const BatchWrite& w : batch.writes()) {
    if (w.key.size() + w.value.size() > RowBytesMax(options_)) {
      co_return absl::InvalidArgumentError(absl::StrCat("a key and value of ", w.key.size() + w.value.size(),
                                                        " bytes exceed the row limit of ", RowBytesMax(options_)));
    }
  }
  CO_RETURN_IF_ERROR(co_await MakeRoomForWrite());
  // The append and apply run in the engine's own task, so that a caller that gives up (or is
  // cancelled) cannot leave a journaled write unapplied.
  auto result = std::make_shared<Applied>();
  tasks_.Spawn(AppendAndApply(std::move(batch), result));
  while (!result->done) co_await applied_.Wait();
  ++stats_.writes;
  co_return result->result;
}

Task<absl::Status> Engine::MakeRoomForWrite() {
  while (true) {
    CO_RETURN_IF_ERROR(WritesRefused());
    const size_t bytes = state_->active->memory_bytes();
    // Buggify: freeze a memtable early now and then, so flushes come at every size.
    const bool freeze = bytes >= options_.memtable_bytes || (bytes > 0 && CAIRN_BUGGIFY(options_.probes));
    if (!freeze) co_return absl::OkStatus();
    if (state_->frozen.size() < options_.frozen_memtables_max) {
      FreezeActive();
      co_return absl::OkStatus();
    }
    if (bytes < options_.memtable_bytes) co_return absl::OkStatus();  // an early freeze never stalls
    CAIRN_SOMETIMES(options_.probes, true, "engine.write-waited-for-a-flush");
    ++stats_.write_stalls;
    co_await flushed_.Wait();
  }
}

Task<void> Engine::AppendAndApply(WriteBatch batch, std::shared_ptr<Applied> result) {
  std::string payload = batch.Encode();
  absl::StatusOr<uint64_t> position = co_await journal_->Append(std::move(payload));
  if (!position.ok()) {
    // The record may or may not be in the journal; a restart settles it. Until then no write
    // may take a later position, or versions could be applied out of order.
    if (write_error_.ok()) write_error_ = position.status();
    result->result = position.status();
    result->done = true;
    applied_.NotifyAll();
    co_return;
  }
  CAIRN_CHECK_GT(*position, visible_version_);
  out_of_order_.emplace(*position, std::make_pair(std::move(batch), std::move(result)));
  while (!out_of_order_.empty() && out_of_order_.begin()->first == visible_version_ + 1) {
    auto node = out_of_order_.extract(out_of_order_.begin());
    ApplyBatch(node.key(), node.mapped().first);
    visible_version_ = node.key();
    node.mapped().second->result = node.key();
    node.mapped().second->done = true;
  }
  applied_.NotifyAll();
}

void Engine::ApplyBatch(uint64_t version, const WriteBatch& batch) {
  Memtable& m = *state_->active;
  for (const BatchWrite& w : batch.writes()) m.Add(w.key, version, w.kind, w.value);
}

void Engine::FreezeActive() {
  if (state_->active->empty()) return;
  auto next = std::make_shared<State>(*state_);
  next->active->Freeze(visible_version_);
  next->frozen.push_back(next->active);
  next->active = std::make_shared<Memtable>(next_memtable_id_++);
  state_ = next;
  flush_work_.NotifyAll();
}

// --- Reads ---

absl::Status Engine::CheckReadVersion(uint64_t version) const {
  if (version < retained_floor_) {
    return absl::FailedPreconditionError(absl::StrCat("version ", version, " is below the retained floor ",
                                                      retained_floor_, ": compaction dropped what it would see"));
  }
  if (version > visible_version_) {
    return absl::OutOfRangeError(absl::StrCat("version ", version, " is not written yet (latest ", visible_version_, ")"));
  }
  return absl::OkStatus();
}

Task<absl::StatusOr<std::optional<std::string>>> Engine::Get(std::string key, ReadOptions options) {
  const uint64_t version = options.version.value_or(visible_version_);
  CO_RETURN_IF_ERROR(CheckReadVersion(version));
  ++stats_.gets;
  const std::shared_ptr<State> s = state_;
  auto answer = [](format::RowKind kind, std::string_view value) -> std::optional<std::string> {
    if (kind == format::RowKind::kDelete) return std::nullopt;
    return std::string(value);
  };
  if (std::optional<format::RowView> r = s->active->Get(key, version)) co_return answer(r->kind, r->value);
  for (auto it = s->frozen.rbegin(); it != s->frozen.rend(); ++it) {
    if (std::optional<format::RowView> r = (*it)->Get(key, version)) co_return answer(r->kind, r->value);
  }
  const std::vector<std::shared_ptr<TableFile>> tables = s->Tables();
  for (const std::shared_ptr<TableFile>& t : tables) {
    if (t->meta.min_version > version) continue;
    absl::StatusOr<format::GetResult> r = co_await TableGet(*t, key, version);
    if (!r.ok()) co_return r.status();
    if (r->found) co_return answer(r->kind, r->value);
  }
  co_return std::nullopt;
}

Task<absl::StatusOr<format::GetResult>> Engine::TableGet(const TableFile& t, const std::string& key,
                                                         uint64_t version) {
  SharedCache* cache = options_.row_cache ? options_.cache : nullptr;
  if (cache == nullptr) co_return co_await t.reader->Get(key, version);
  // A cached row is the newest of its key in the (immutable) file, so it answers any read at
  // or above its version; an older read goes to the file.
  const uint64_t file_id = IdOf(t.meta.number);
  if (std::shared_ptr<const SharedCache::Row> row = cache->LookupRow(file_id, key)) {
    if (row->version <= version) {
      ++stats_.row_cache_hits;
      co_return format::GetResult{.found = true, .kind = row->kind, .version = row->version, .value = row->value};
    }
  }
  absl::StatusOr<format::GetResult> r = co_await t.reader->Get(key, version);
  // Only a read at or above the file's newest version is sure to have found the key's newest
  // row in it.
  if (r.ok() && r->found && version >= t.meta.max_version) {
    cache->InsertRow(file_id, key, SharedCache::Row{.kind = r->kind, .version = r->version, .value = r->value});
  }
  co_return r;
}

CompactionHooks Engine::Hooks() {
  CompactionHooks hooks;
  if (options_.cache != nullptr) hooks.warm_cache = &options_.cache->blocks();
  hooks.throttle = options_.system_io;
  hooks.executor = &executor_;
  return hooks;
}

absl::StatusOr<std::unique_ptr<EngineIterator>> Engine::NewIterator(ReadOptions options, std::string to) {
  const uint64_t version = options.version.value_or(visible_version_);
  RETURN_IF_ERROR(CheckReadVersion(version));
  const std::shared_ptr<State> s = state_;
  std::vector<std::unique_ptr<RowStream>> children;
  children.push_back(std::make_unique<MemtableStream>(s->active));
  for (const auto& m : s->frozen) children.push_back(std::make_unique<MemtableStream>(m));
  format::IteratorOptions io;
  if (!to.empty()) io.upper_bound = to;
  for (const std::shared_ptr<TableFile>& t : s->Tables()) {
    if (t->meta.min_version > version) continue;
    children.push_back(std::make_unique<SstStream>(t, *t->reader, io));
  }
  return std::make_unique<EngineIterator>(std::make_unique<MergingStream>(std::move(children)), version,
                                          std::move(to));
}

Task<absl::StatusOr<std::vector<std::pair<std::string, std::string>>>> Engine::Scan(std::string from,
                                                                                      std::string to, size_t limit,
                                                                                      ReadOptions options) {
  if (limit > kScanRowsMax) {
    co_return absl::InvalidArgumentError(absl::StrCat("scan limit ", limit, " exceeds ", kScanRowsMax));
  }
  absl::StatusOr<std::unique_ptr<EngineIterator>> it = NewIterator(options, std::move(to));
  if (!it.ok()) co_return it.status();
  ++stats_.scans;
  EngineIterator& i = **it;
  std::vector<std::pair<std::string, std::string>> out;
  CO_RETURN_IF_ERROR(co_await i.Seek(std::move(from)));
  while (i.Valid() && out.size() < limit) {
    out.emplace_back(i.key(), i.value());
    if (out.size() < limit && !i.Next()) CO_RETURN_IF_ERROR(co_await i.Load());
  }
  co_return out;
}

// --- EngineIterator ---

bool EngineIterator::Settle() {
  while (merge_->Valid()) {
    const format::RowView row = merge_->row();
    if (!to_.empty() && row.key >= std::string_view(to_)) break;
    if (visible_->Take(row) && row.kind == format::RowKind::kPut) {
      valid_ = true;
      return true;
    }
    if (!merge_->Next()) return false;
  }
  valid_ = false;
  return true;
}

Task<absl::Status> EngineIterator::Seek(std::string key) {
  valid_ = false;
  visible_.emplace(version_);
  status_ = co_await merge_->Seek(std::move(key), format::kMaxVersion);
  if (!status_.ok()) co_return status_;
  while (!Settle()) {
    status_ = co_await merge_->Load();
    if (!status_.ok()) co_return status_;
  }
  co_return status_;
}

bool EngineIterator::Next() {
  CAIRN_CHECK(valid_);
  valid_ = false;
  if (!merge_->Next()) return false;
  return Settle();
}

Task<absl::Status> EngineIterator::Load() {
  do {
    status_ = co_await merge_->Load();
    if (!status_.ok()) {
      valid_ = false;
      co_return status_;
    }
  } while (!Settle());
  co_return status_;
}

std::vector<FileMeta> Engine::files() const {
  return ManifestOf(*state_, flushed_position_, retained_floor_).files;
}

std::vector<format::SstReader*> Engine::readers() const {
  std::vector<format::SstReader*> out;
  for (const auto& t : state_->Tables()) out.push_back(t->reader.get());
  return out;
}

// --- Snapshots ---

uint64_t Engine::Pin(uint64_t version) {
  pinned_.insert(version);
  return version;
}

void Engine::Unpin(uint64_t version) {
  auto it = pinned_.find(version);
  CAIRN_CHECK(it != pinned_.end());
  pinned_.erase(it);
}

uint64_t Engine::OldestPinned(uint64_t otherwise) const {
  return pinned_.empty() ? otherwise : std::min(*pinned_.begin(), otherwise);
}

// --- Manifest ---

ManifestState Engine::ManifestOf(const State& s, uint64_t flushed_position, uint64_t floor) const {
  ManifestState m;
  m.next_file_number = file_numbers_reserved_;
  m.flushed_position = flushed_position;
  m.retained_floor = floor;
  for (const auto& t : s.Tables()) m.files.push_back(t->meta);
  return m;
}

Task<absl::Status> Engine::Install(std::function<void(State&)> change, std::optional<uint64_t> flushed_position,
                                   uint64_t floor) {
  while (manifest_busy_) co_await manifest_free_.Wait();
  FlagGuard busy(manifest_busy_, manifest_free_);
  const uint64_t flushed = std::max(flushed_position.value_or(0), flushed_position_);
  floor = std::max(floor, retained_floor_);
  State preview = *state_;
  change(preview);
  ManifestState manifest = ManifestOf(preview, flushed, floor);
  CO_RETURN_IF_ERROR(co_await WriteManifest(disk_, dir_, std::move(manifest), !options_.canary_skip_manifest_sync));
  auto next = std::make_shared<State>(*state_);
  change(*next);
  state_ = next;
  flushed_position_ = flushed;
  retained_floor_ = floor;
  co_return absl::OkStatus();
}

// --- Flush (mini compaction of a memtable) ---

Task<absl::Status> Engine::FlushOldest() {
  CAIRN_CHECK(!state_->frozen.empty());
  const std::shared_ptr<Memtable> mem = state_->frozen.front();
  absl::StatusOr<uint64_t> allocated = co_await AllocateFileNumber();
  if (!allocated.ok()) co_return allocated.status();
  const uint64_t number = *allocated;
  std::string name = FileName(number);
  absl::StatusOr<std::unique_ptr<format::SstWriter>> writer =
      co_await CreateSst(*store_, name, IdOf(number), options_.sst, options_.system_io);
  if (!writer.ok()) co_return writer.status();
  format::SstWriter& w = **writer;
  YieldBudget yield(Hooks().yield_every_bytes);  // let user requests in (see CompactionHooks)
  for (auto it = mem->begin(); it != mem->end(); ++it) {
    const format::RowView row = Memtable::View(it);
    CO_RETURN_IF_ERROR(w.Add(row));
    if (w.has_pending_writes()) CO_RETURN_IF_ERROR(co_await w.WritePending());
    if (yield.Spend(row.key.size() + row.value.size())) co_await executor_.Yield();
  }
  absl::StatusOr<format::SstProperties> props = co_await SealSst(w, *store_, name);
  if (!props.ok()) co_return props.status();
  absl::StatusOr<std::shared_ptr<TableFile>> table = co_await OpenTable(
      FileMeta{number, Level::kMini, props->min_version, props->max_version, 0, props->rows});
  if (!table.ok()) co_return table.status();
  CAIRN_CHECK_EQ(props->rows, mem->rows());
  std::shared_ptr<TableFile> t = *table;
  // A named function, not a lambda temporary in the co_await (docs/runtime.md on g++ 12).
  std::function<void(State&)> change = [&](State& s) {
    CAIRN_CHECK(!s.frozen.empty() && s.frozen.front() == mem);
    s.frozen.erase(s.frozen.begin());
    s.minis.insert(s.minis.begin(), t);
  };
  CO_RETURN_IF_ERROR(co_await Install(std::move(change), mem->upto(), 0));
  ++stats_.flushes;
  compact_work_.NotifyAll();
  // The journal may drop what the SSTables now hold. A failure here costs only space.
  (void)co_await journal_->Trim(flushed_position_ + 1);
  co_return absl::OkStatus();
}

Task<absl::Status> Engine::Flush() {
  FreezeActive();
  if (state_->frozen.empty()) co_return absl::OkStatus();
  const uint64_t last_id = state_->frozen.back()->id();
  while (!state_->frozen.empty() && state_->frozen.front()->id() <= last_id) {
    CO_RETURN_IF_ERROR(background_error_);
    co_await flushed_.Wait();
  }
  co_return absl::OkStatus();
}

void Engine::BackgroundFailed(const absl::Status& s, const char* what) {
  if (!background_error_.ok()) return;
  background_error_ = absl::Status(s.code(), absl::StrCat(what, " failed ", options_.background_attempts_max,
                                                          " times; the engine refuses writes until reopened: ",
                                                          s.message()));
}

Task<void> Engine::FlushLoop() {
  while (true) {
    if (state_->frozen.empty() || !background_error_.ok()) {
      co_await flush_work_.Wait();
      continue;
    }
    for (int attempt = 1;; ++attempt) {
      // Buggify: a flush that fails before it starts, so the retry path runs. (An if, not
      // `?:`: g++ 12 mishandles a co_await inside a conditional expression — the result's
      // temporary outlives its storage in the coroutine frame.)
      absl::Status s = absl::UnavailableError("buggify: flush failed");
      if (!CAIRN_BUGGIFY(options_.probes)) s = co_await FlushOldest();
      if (s.ok()) {
        CAIRN_SOMETIMES(options_.probes, attempt > 1, "engine.flush-succeeded-on-a-retry");
        break;
      }
      if (attempt == options_.background_attempts_max) {
        BackgroundFailed(s, "flush");
        break;
      }
      ++stats_.background_retries;
      co_await executor_.SleepFor(kBackgroundRetryBase * attempt);
    }
    flushed_.NotifyAll();
  }
}

// --- Compactions ---

Task<void> Engine::CompactLoop() {
  while (true) {
    std::optional<Kind> kind;
    if (options_.auto_compact && background_error_.ok()) {
      uint64_t mini_bytes = 0;
      for (const auto& t : state_->minis) mini_bytes += t->meta.size_bytes;
      if (!state_->minis.empty() && mini_bytes > options_.minor_trigger_bytes) {
        kind = Kind::kMinor;
      } else if (state_->minis.size() > options_.minis_max) {
        kind = Kind::kMinis;
      }
    }
    if (!kind) {
      co_await compact_work_.Wait();
      continue;
    }
    for (int attempt = 1;; ++attempt) {
      // Buggify: a compaction that fails before it starts, so the retry path runs.
      absl::StatusOr<CompactionReport> r = absl::UnavailableError("buggify: compaction failed");
      if (!CAIRN_BUGGIFY(options_.probes)) r = co_await RunCompaction(*kind, std::nullopt);
      if (r.ok()) {
        CAIRN_SOMETIMES(options_.probes, attempt > 1, "engine.compaction-succeeded-on-a-retry");
        break;
      }
      if (attempt == options_.background_attempts_max) {
        BackgroundFailed(r.status(), "compaction");
        break;
      }
      ++stats_.background_retries;
      co_await executor_.SleepFor(kBackgroundRetryBase * attempt);
    }
  }
}

Task<void> Engine::DeleteLoop() {
  while (true) {
    if (graveyard_->names.empty()) {
      co_await graveyard_->wake.Wait();
      continue;
    }
    std::string name = graveyard_->names.back();
    graveyard_->names.pop_back();
    std::string remove_name = name;
    absl::Status s = co_await store_->Remove(std::move(remove_name));
    if (s.ok() || absl::IsNotFound(s)) {
      ++stats_.files_deleted;
    } else {
      // Orphans are removed at the next open anyway; try again a little later.
      graveyard_->names.insert(graveyard_->names.begin(), std::move(name));
      co_await executor_.SleepFor(kBackgroundRetryBase);
    }
  }
}

Task<absl::StatusOr<CompactionReport>> Engine::CompactMinis() { co_return co_await RunCompaction(Kind::kMinis, std::nullopt); }
Task<absl::StatusOr<CompactionReport>> Engine::CompactMinor() { co_return co_await RunCompaction(Kind::kMinor, std::nullopt); }
Task<absl::StatusOr<CompactionReport>> Engine::CompactMajor(std::optional<uint64_t> snapshot) {
  absl::StatusOr<CompactionReport> report = co_await RunCompaction(Kind::kMajor, snapshot);
  // A major compaction that kept a macroblock as it was, unchanged (docs/lsm.md, reuse).
  CAIRN_SOMETIMES(options_.probes, report.ok() && report->stats.macroblocks_reused > 0, "engine.macroblock-reused");
  co_return report;
}

Task<absl::StatusOr<CompactionReport>> Engine::RunCompaction(Kind kind, std::optional<uint64_t> snapshot) {
  while (compacting_) co_await manifest_free_.Wait();
  FlagGuard compacting(compacting_, manifest_free_);
  CO_RETURN_IF_ERROR(background_error_);
  const std::shared_ptr<State> s = state_;
  CompactionReport report;
  std::vector<std::shared_ptr<TableFile>> inputs = s->minis;
  Level level = Level::kMini;
  switch (kind) {
    case Kind::kMinis:
      report.kind = "mini";
      if (inputs.size() < 2) co_return report;
      break;
    case Kind::kMinor:
      report.kind = "minor";
      level = Level::kMinor;
      if (inputs.empty()) co_return report;
      if (s->minor) inputs.push_back(s->minor);
      break;
    case Kind::kMajor:
      report.kind = "major";
      level = Level::kMajor;
      if (s->minor) inputs.push_back(s->minor);
      if (s->major) inputs.push_back(s->major);
      if (inputs.empty()) co_return report;
      break;
  }
  uint64_t at = snapshot.value_or(visible_version_);
  if (at > visible_version_ || at < retained_floor_) {
    co_return absl::InvalidArgumentError(absl::StrCat("compaction snapshot ", at, " is outside the readable versions ",
                                                      retained_floor_, "..", visible_version_));
  }
  at = OldestPinned(at);
  report.snapshot = at;
  std::vector<format::SstReader*> readers;
  for (const auto& t : inputs) {
    readers.push_back(t->reader.get());
    report.inputs.push_back(t->meta.number);
  }
  absl::StatusOr<uint64_t> allocated = co_await AllocateFileNumber();
  if (!allocated.ok()) co_return allocated.status();
  const uint64_t number = *allocated;
  const CompactionSpec spec{.snapshot = at, .bottommost = kind == Kind::kMajor};
  std::string name = FileName(number);
  absl::StatusOr<CompactionOutput> out =
      co_await Compact(readers, spec, *store_, std::move(name), IdOf(number), options_.sst, Hooks());
  if (!out.ok()) co_return out.status();
  report.stats = out->stats;
  const format::SstProperties& p = out->properties;
  absl::StatusOr<std::shared_ptr<TableFile>> table =
      co_await OpenTable(FileMeta{number, level, p.min_version, p.max_version, 0, p.rows});
  if (!table.ok()) co_return table.status();
  if (options_.verify_compactions) {
    absl::Status v = co_await VerifyCompaction(readers, (*table)->reader.get(), at);
    // Content that differs (FailedPrecondition) is a broken invariant (docs/lsm.md): crash. A
    // read that failed is the world's doing (a disk error): the compaction fails, and is retried.
    CAIRN_CHECK_MSG(!absl::IsFailedPrecondition(v), v.ToString());
    if (!v.ok()) co_return v;
  }
  std::shared_ptr<TableFile> output = *table;
  if (p.rows == 0) {
    output->obsolete = true;  // deleted once dropped below
    output = nullptr;
  } else {
    report.output = number;
  }
  std::function<void(State&)> change = [&](State& st) {
    std::erase_if(st.minis, [&](const std::shared_ptr<TableFile>& t) {
      return std::find(inputs.begin(), inputs.end(), t) != inputs.end();
    });
    switch (kind) {
      case Kind::kMinis:
        if (output) st.minis.push_back(output);  // older than any mini flushed meanwhile
        break;
      case Kind::kMinor:
        st.minor = output;
        break;
      case Kind::kMajor:
        st.minor = nullptr;
        st.major = output;
        break;
    }
  };
  CO_RETURN_IF_ERROR(co_await Install(std::move(change), std::nullopt, at));
  for (const auto& t : inputs) t->obsolete = true;
  switch (kind) {
    case Kind::kMinis:
      ++stats_.mini_merges;
      break;
    case Kind::kMinor:
      ++stats_.minor_compactions;
      break;
    case Kind::kMajor:
      ++stats_.major_compactions;
      break;
  }
  co_return report;
}

}  // namespace cairn::lsm

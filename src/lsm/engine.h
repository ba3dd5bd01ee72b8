// Engine: the LSM storage engine of one shard (seed 002), usable embedded.
//
// Writes go to the Journal first; a write's commit version is its journal position. Then they
// enter the active memtable. A full memtable is frozen and dumped to a mini SSTable (mini
// compaction); too many minis merge into one; minis past a size merge into the single minor
// SSTable (minor compaction); a major compaction merges everything into a new major SSTable at
// a snapshot version, dropping what no reader at or after it can see, and copying unchanged
// macroblocks as they are. The Manifest names the live files and the journal position they
// cover; recovery reads it and replays the journal from there. docs/lsm.md has the whole
// design, its invariants and failure handling.
//
// Reads see a consistent state: a point get or a scan reads at one version (the latest
// acknowledged write, or a snapshot's) through the memtables and SSTables of the moment it
// started, which stay alive until it ends. Everything runs on the node's executor; the engine
// reaches the world only through its Disk, Journal and FileStore.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "src/format/io_throttle.h"
#include "src/format/sst_options.h"
#include "src/format/sst_reader.h"
#include "src/lsm/compaction.h"
#include "src/lsm/file_store.h"
#include "src/lsm/journal.h"
#include "src/lsm/local_journal.h"
#include "src/runtime/knobs.h"
#include "src/runtime/probes.h"
#include "src/lsm/manifest.h"
#include "src/lsm/memtable.h"
#include "src/lsm/row_stream.h"
#include "src/lsm/shared_cache.h"
#include "src/lsm/write_batch.h"
#include "src/runtime/disk.h"
#include "src/runtime/executor.h"
#include "src/runtime/notifier.h"
#include "src/runtime/task_group.h"

namespace cairn::lsm {

// A file's identity (the id its blocks' checksums and cache keys are bound to): the shard id in
// the high 24 bits, the engine's file number in the low 40. Unique across the shards of a node,
// so their engines can share one cache.
constexpr int kFileNumberBits = 40;
constexpr uint32_t kShardIdMax = (1u << 24) - 1;
constexpr uint64_t FileId(uint32_t shard_id, uint64_t number) {
  return (uint64_t{shard_id} << kFileNumberBits) | number;
}

struct EngineOptions {
  // The shard this engine serves; its files' ids carry it (FileId). At most kShardIdMax.
  uint32_t shard_id = 0;
  // Shared by the engines of a node; not owned, must outlive the engine. Null: none.
  //   cache      row, block and filter caches under one budget (SharedCache)
  //   system_io  paces flush and compaction IO (a TokenBucket); user reads are never paced
  SharedCache* cache = nullptr;
  format::IoThrottle* system_io = nullptr;
  // Keep rows found by gets in the cache's row cache. It pays for skewed reads; under uniform
  // reads over more data than the cache it rarely hits and costs an insert per get.
  bool row_cache = true;
  // A memtable is frozen once it holds this many bytes (Memtable::memory_bytes).
  size_t memtable_bytes = 8u << 20;
  // Writes wait (back-pressure) while this many frozen memtables wait for their flush.
  size_t frozen_memtables_max = 2;
  // More minis than this merge into one mini.
  size_t minis_max = 4;
  // Minis larger than this in total merge into the minor SSTable.
  uint64_t minor_trigger_bytes = 64ull << 20;
  // Run mini and minor compactions in the background when their triggers fire.
  bool auto_compact = true;
  format::SstOptions sst;
  LocalJournalOptions journal;
  // Check every compaction's output against its inputs with logical checksums (the
  // invariant of docs/lsm.md). It reads everything twice: for tests, the simulator and debug
  // builds.
#ifdef NDEBUG
  bool verify_compactions = false;
#else
  bool verify_compactions = true;
#endif
  // A failed background step (flush, compaction) is retried this many times, a little later
  // each time, before the engine stops taking writes.
  int background_attempts_max = 5;
  // Canary: write the manifest without syncing it. The simulator must catch the loss.
  bool canary_skip_manifest_sync = false;
  // Fault points and coverage probes (a simulated run's, or inert); the journal gets them too.
  Probes probes;

  // The defaults, with the tunables the knobs say (memtable, compaction triggers, retries,
  // the SSTable and journal sizes).
  static EngineOptions FromKnobs(const Knobs& knobs);
  // Kilobyte memtables, 64 KiB macroblocks, 16 KiB journal segments: every short test or
  // simulation flushes, compacts and rolls segments.
  static EngineOptions Tiny();
};

// A key or value larger than this is refused (a row must fit a macroblock).
size_t RowBytesMax(const EngineOptions& options);

struct ReadOptions {
  // Read the content as of this version; empty reads the latest acknowledged writes. A version
  // below retained_floor() is refused: compaction may have dropped what it would see.
  std::optional<uint64_t> version;
};

constexpr size_t kScanRowsMax = 100000;
// File numbers reserved by one manifest write (see Engine::AllocateFileNumber).
constexpr uint64_t kFileNumbersReservedPerManifest = 64;

struct CompactionReport {
  const char* kind = "";
  uint64_t snapshot = 0;
  std::vector<uint64_t> inputs;  // file numbers
  uint64_t output = 0;           // file number; 0 when every row was dropped
  CompactionStats stats;
};

struct EngineStats {
  uint64_t writes = 0;
  uint64_t write_stalls = 0;  // writes that waited for a flush
  uint64_t gets = 0;
  uint64_t row_cache_hits = 0;  // table lookups a get answered from the row cache
  uint64_t scans = 0;
  uint64_t flushes = 0;
  uint64_t mini_merges = 0;
  uint64_t minor_compactions = 0;
  uint64_t major_compactions = 0;
  uint64_t files_deleted = 0;
  uint64_t recovered_records = 0;
  uint64_t background_retries = 0;
};

class Engine;

// The content at one version, in key order, from a Seek: the newest row of each key at or below
// the version, when it is a put. It reads the memtables and files of the moment it was made,
// which stay alive until it is destroyed. Moving within loaded blocks needs no IO: Next()
// returns true when it moved (Valid() then tells whether a row follows) and false when the
// next row lies in a block not yet read — co_await Load() then. key() and value() stay valid
// until the iterator moves.
//
//   for (co_await it->Seek(from); it->Valid();) { use(it->key(), it->value());
//                                                 if (!it->Next()) co_await it->Load(); }
class EngineIterator {
 public:
  EngineIterator(std::unique_ptr<MergingStream> merge, uint64_t version, std::string to)
      : merge_(std::move(merge)), version_(version), to_(std::move(to)) {}
  Task<absl::Status> Seek(std::string key);
  bool Valid() const { return valid_; }
  std::string_view key() const { return merge_->row().key; }
  std::string_view value() const { return merge_->row().value; }
  bool Next();
  Task<absl::Status> Load();
  uint64_t version() const { return version_; }

 private:
  // Skips rows the version does not see, without IO; false if that needs a Load.
  bool Settle();

  std::unique_ptr<MergingStream> merge_;
  const uint64_t version_;
  const std::string to_;  // exclusive bound; empty: none
  std::optional<NewestAtOrBelow> visible_;
  bool valid_ = false;
  absl::Status status_;
};

// A version pinned for reading: compaction keeps what a read at it sees until it is released.
class Snapshot {
 public:
  Snapshot() = default;
  Snapshot(Snapshot&& o) noexcept : engine_(std::exchange(o.engine_, nullptr)), version_(o.version_) {}
  Snapshot& operator=(Snapshot&& o) noexcept;
  ~Snapshot() { Release(); }
  uint64_t version() const { return version_; }
  ReadOptions read_options() const { return ReadOptions{.version = version_}; }
  void Release();

 private:
  friend class Engine;
  Snapshot(Engine* engine, uint64_t version) : engine_(engine), version_(version) {}
  Engine* engine_ = nullptr;
  uint64_t version_ = 0;
};

class Engine {
 public:
  // The engine in `dir` of `disk`: MANIFEST, journal/ (a LocalJournal) and sst/ (a
  // LocalFileStore). Creates it if there is no manifest; otherwise recovers.
  static Task<absl::StatusOr<std::unique_ptr<Engine>>> Open(Disk& disk, Executor& executor, std::string dir,
                                                            EngineOptions options = {});
  // The same with the SSTables in `store` (the DFS).
  static Task<absl::StatusOr<std::unique_ptr<Engine>>> Open(Disk& disk, Executor& executor, std::string dir,
                                                            std::unique_ptr<FileStore> store,
                                                            EngineOptions options = {});
  // The same with the journal and file store given (the Raft journal, the DFS).
  static Task<absl::StatusOr<std::unique_ptr<Engine>>> Open(Disk& disk, Executor& executor, std::string dir,
                                                            std::unique_ptr<Journal> journal,
                                                            std::unique_ptr<FileStore> store,
                                                            EngineOptions options = {});
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Each returns the commit version once the write is durable in the journal. On an error the
  // write may or may not have happened (it may appear after a restart).
  Task<absl::StatusOr<uint64_t>> Put(std::string key, std::string value);
  Task<absl::StatusOr<uint64_t>> Delete(std::string key);
  Task<absl::StatusOr<uint64_t>> Write(WriteBatch batch);

  // The value of `key`, or nullopt if it has none at the read version.
  Task<absl::StatusOr<std::optional<std::string>>> Get(std::string key, ReadOptions options = {});
  // Keys in [from, to) (to empty: no bound) with their values, at most `limit` (<= kScanRowsMax).
  Task<absl::StatusOr<std::vector<std::pair<std::string, std::string>>>> Scan(std::string from, std::string to,
                                                                               size_t limit,
                                                                               ReadOptions options = {});

  // An iterator over keys before `to` (empty: no bound) at the read version; Seek it first.
  absl::StatusOr<std::unique_ptr<EngineIterator>> NewIterator(ReadOptions options = {}, std::string to = "");

  Snapshot GetSnapshot() { return Snapshot(this, Pin(visible_version_)); }

  // Freezes the active memtable (if it has rows) and waits until every frozen one is flushed.
  Task<absl::Status> Flush();
  // The compactions, run now (after any compaction in progress). Flush first to include the
  // memtables. `snapshot` for the major defaults to the latest version; either way it is
  // lowered to the oldest live snapshot.
  Task<absl::StatusOr<CompactionReport>> CompactMinis();
  Task<absl::StatusOr<CompactionReport>> CompactMinor();
  Task<absl::StatusOr<CompactionReport>> CompactMajor(std::optional<uint64_t> snapshot = std::nullopt);

  uint64_t visible_version() const { return visible_version_; }
  uint64_t retained_floor() const { return retained_floor_; }
  const EngineStats& stats() const { return stats_; }
  // The live files, as the manifest lists them (minis newest first, then minor, then major).
  std::vector<FileMeta> files() const;
  // The readers of the live files, for tools and tests (valid until the next compaction).
  std::vector<format::SstReader*> readers() const;
  size_t frozen_memtables() const { return state_->frozen.size(); }
  // Not OK once a background failure outlasted its retries: writes are refused; reads work.
  const absl::Status& background_error() const { return background_error_; }
  Journal& journal() { return *journal_; }

 private:
  friend class Snapshot;
  struct TableFile;
  struct Graveyard;
  // The memtables and files of a moment. Replaced whole, never changed, except the active
  // memtable taking rows.
  struct State {
    std::shared_ptr<Memtable> active;
    std::vector<std::shared_ptr<Memtable>> frozen;  // oldest first
    std::vector<std::shared_ptr<TableFile>> minis;  // newest first
    std::shared_ptr<TableFile> minor;
    std::shared_ptr<TableFile> major;
    // Newest first: the minis, the minor, the major (the order reads search them in).
    std::vector<std::shared_ptr<TableFile>> Tables() const;
  };
  struct Applied;

  Engine(Disk& disk, Executor& executor, std::string dir, std::unique_ptr<Journal> journal,
         std::unique_ptr<FileStore> store, EngineOptions options);
  Task<absl::Status> Recover();
  Task<absl::Status> Replay(uint64_t from);
  void ApplyBatch(uint64_t version, const WriteBatch& batch);
  Task<void> AppendAndApply(WriteBatch batch, std::shared_ptr<Applied> result);
  Task<absl::Status> MakeRoomForWrite();
  void FreezeActive();
  Task<absl::StatusOr<std::shared_ptr<TableFile>>> OpenTable(const FileMeta& meta);
  Task<absl::Status> FlushOldest();
  // Writes the manifest for the current state changed by `change`, then installs that state:
  // `change` runs on the state of the moment twice (before and after the write, since
  // memtables may freeze meanwhile), so it must only touch the files. The one manifest writer
  // at a time. `flushed_position` (flushes) and `floor` (compactions) only ever rise.
  Task<absl::Status> Install(std::function<void(State&)> change, std::optional<uint64_t> flushed_position,
                             uint64_t floor);
  ManifestState ManifestOf(const State& s, uint64_t flushed_position, uint64_t floor) const;
  enum class Kind { kMinis, kMinor, kMajor };
  Task<absl::StatusOr<CompactionReport>> RunCompaction(Kind kind, std::optional<uint64_t> snapshot);
  Task<void> FlushLoop();
  Task<void> CompactLoop();
  Task<void> DeleteLoop();
  absl::Status WritesRefused() const;
  void BackgroundFailed(const absl::Status& s, const char* what);
  uint64_t Pin(uint64_t version);
  void Unpin(uint64_t version);
  uint64_t OldestPinned(uint64_t otherwise) const;
  static std::string FileName(uint64_t number);
  // The next file number. Numbers are never reused, not even after a crash or a reopen in the
  // same process, because cache keys and block checksums are bound to them: the manifest records
  // a reservation (next_file_number) and the engine hands out numbers only below it, recording
  // a new one first when it runs out.
  Task<absl::StatusOr<uint64_t>> AllocateFileNumber();
  uint64_t IdOf(uint64_t number) const { return FileId(options_.shard_id, number); }
  // A get's lookup in one table: through the row cache when there is one.
  Task<absl::StatusOr<format::GetResult>> TableGet(const TableFile& t, const std::string& key, uint64_t version);
  CompactionHooks Hooks();
  absl::Status CheckReadVersion(uint64_t version) const;

  Disk& disk_;
  Executor& executor_;
  const std::string dir_;
  std::unique_ptr<Journal> journal_;
  std::unique_ptr<FileStore> store_;
  const EngineOptions options_;
  std::shared_ptr<State> state_;
  std::shared_ptr<Graveyard> graveyard_;
  uint64_t next_file_number_ = 1;
  uint64_t file_numbers_reserved_ = 1;  // the manifest's: numbers below it may be in use
  uint64_t flushed_position_ = 0;
  uint64_t retained_floor_ = 0;
  uint64_t visible_version_ = 0;   // every write at or below it is applied
  // Appended, waiting for an earlier position to be applied first.
  std::map<uint64_t, std::pair<WriteBatch, std::shared_ptr<Applied>>> out_of_order_;
  absl::Status write_error_;  // a failed journal append: later writes are refused
  std::multiset<uint64_t> pinned_;  // live snapshots
  uint64_t next_memtable_id_ = 1;
  absl::Status background_error_;
  bool manifest_busy_ = false;
  bool compacting_ = false;
  EngineStats stats_;
  Notifier flushed_;        // a frozen memtable was flushed (or flushing failed)
  Notifier flush_work_;     // a memtable was frozen
  Notifier compact_work_;   // a flush added a mini
  Notifier manifest_free_;  // manifest_busy_ or compacting_ went false
  Notifier applied_;        // visible_version_ moved
  TaskGroup tasks_;         // last: background tasks end before the members they use
};

}  // namespace cairn::lsm

// SegmentedLog: an append-only log of numbered records in segment files on the node's own
// Disk, with group commit. The engine's local journal (src/lsm/local_journal.h) and the
// journal system's per-node log (src/journal/node_log.h) both keep their records in one.
//
// Records live in segment files `<dir>/<first position, 20 digits>.log`, each a run of
//
//   u32 checksum   masked CRC-32C of the next 20 bytes and the payload
//   u32 length     payload bytes
//   u64 position
//   u64 synced     the log was synced through this position when the record was written
//   payload
//
// and, with preallocate_bytes, zeros after the last record: space written ahead of need.
//
// `synced` makes every write vouch for the writes before it: a record missing at recovery
// that a later record says was synced was acknowledged, and is lost, not torn.
//
// Appends that arrive while a write is in flight wait and go out together in the next write,
// with one Sync for all of them (group commit); each returns when its own record is durable.
// A failed write or Sync poisons the journal: the failed records and every later Append fail
// with that error, since the durable state of unsynced bytes is unknown after a failed fsync.
// Reopen to recover.
//
// Recovery (Open) reads every segment. A record that fails its checksum, or is cut short, at
// the end of the last segment is taken for the tail of a write that was never acknowledged (a
// torn or lost write at a crash): the segment is truncated there. (Writes are taken to be
// atomic per 512-byte sector, as devices promise: a record present in full whose every sector
// was written, yet damaged, rotted after it was written; with `tolerate_damage` it stays, and
// stats().damaged_tail_position names it.) Anywhere else — an intact record for
// a later position follows it, or a later segment does — it is damage: by default DataLoss,
// since an acknowledged record is damaged and the journal will not silently skip it. With
// `tolerate_damage` the journal opens anyway, lists the positions it lost (damaged()), and
// serves the rest; its owner decides what the loss means (the Raft log keeps two copies of
// each entry and repairs from the peers, src/journal/raft_storage.h). Recovery finds an
// intact record wherever the segment holds it, so a record a misdirected write put a few
// sectors off is still found.
#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "src/storage/log_record.h"
#include "src/runtime/disk.h"
#include "src/runtime/executor.h"
#include "src/runtime/knobs.h"
#include "src/runtime/probes.h"
#include "src/runtime/notifier.h"
#include "src/runtime/task_group.h"

namespace cairn::storage {

struct SegmentedLogOptions {
  // A segment is closed and a new one started once it holds this many bytes.
  uint64_t segment_bytes_max = 16ull << 20;
  // One group-commit write carries at most this many bytes of records.
  uint64_t group_commit_bytes_max = 4ull << 20;
  // Sync each group commit. false acknowledges an append once the OS has it: a process crash
  // loses nothing, a machine crash may lose acknowledged appends (RocksDB's WriteOptions::sync
  // = false). For benchmarks and data that can be rebuilt, never for promised durability.
  bool sync = true;
  // Write zeros this far ahead of the records (0: never), so that most appends overwrite
  // bytes the file already holds: a sync then flushes data alone, where an append that grows
  // the file also commits the file system's metadata (on ext4 about a third of a small
  // synced write's cost). Recovery takes an all-zero tail for space not yet used. A log
  // that does not sync writes none.
  uint64_t preallocate_bytes = 1 << 20;
  // Open past damaged records instead of failing (see the header comment).
  bool tolerate_damage = false;
  // Fault points and coverage probes (a simulated run's, or inert).
  Probes probes;

  // The defaults, with the segment and group-commit sizes the knobs say.
  static SegmentedLogOptions FromKnobs(const Knobs& knobs) {
    SegmentedLogOptions o;
    o.segment_bytes_max = static_cast<uint64_t>(knobs.log_segment_bytes_max);
    o.group_commit_bytes_max = static_cast<uint64_t>(knobs.log_group_commit_bytes_max);
    o.preallocate_bytes = static_cast<uint64_t>(std::max<int64_t>(0, knobs.log_preallocate_bytes));
    return o;
  }
};

// A record: checksum (fixed32: masked CRC-32C of the rest of the header and the payload),
// payload length (fixed32), position (fixed64), the position the log was synced through when
// the record was written (fixed64), payload.
constexpr size_t kLogRecordChecksumOffset = 0;
constexpr size_t kLogRecordLengthOffset = 4;
constexpr size_t kLogRecordPositionOffset = 8;
constexpr size_t kLogRecordSyncedOffset = 16;
constexpr size_t kLogRecordHeaderBytes = 24;
static_assert(kLogRecordLengthOffset == kLogRecordChecksumOffset + 4 && kLogRecordPositionOffset == kLogRecordLengthOffset + 4 &&
              kLogRecordSyncedOffset == kLogRecordPositionOffset + 8 && kLogRecordHeaderBytes == kLogRecordSyncedOffset + 8);
constexpr uint32_t kLogRecordBytesMax = 64u << 20;

class SegmentedLog {
 public:
  // Opens (creating `dir` if need be) and recovers the log. A new log starts at position 1.
  // Append returns a record's position once it is durable; Read returns records in order
  // from `from`; Trim lets whole segments before `upto` go (the contract of lsm::Journal).
  static Task<absl::StatusOr<std::unique_ptr<SegmentedLog>>> Open(Disk& disk, Executor& executor,
                                                                  std::string dir,
                                                                  SegmentedLogOptions options = {});
  ~SegmentedLog();

  Task<absl::StatusOr<uint64_t>> Append(std::string payload);
  Task<absl::StatusOr<std::vector<LogRecord>>> Read(uint64_t from, size_t max_bytes);
  Task<absl::Status> Trim(uint64_t upto);
  uint64_t start() const;
  uint64_t next_position() const { return next_position_; }
  // Positions (at or after start(), before next_position()) whose records recovery found
  // damaged, with tolerate_damage; Read skips them.
  const std::set<uint64_t>& damaged() const { return damaged_; }
  // The damaged positions whose bytes were all written (every sector holds data): they rotted,
  // or a misdirected write landed on them. A torn write leaves whole sectors unwritten.
  const std::set<uint64_t>& rotted() const { return rotted_; }
  // Every record at or before it is synced.
  uint64_t durable_position() const { return durable_position_; }
  // The first position of each segment, oldest first. A segment is begun only when a write
  // begins, after every earlier one was synced: a record before the last segment's first
  // position was synced.
  std::vector<uint64_t> segment_starts() const;
  size_t segment_count() const { return segments_.size(); }

  // For a log that can be rewritten (the Raft journal's storage). Each waits for appends in
  // flight first, and is durable when it returns.
  //   AppendBatch  several records, all durable when it returns; returns the last position.
  //                Not one write: a group bound or the group-of-one fault point may split
  //                them, and a segment may end between them (the node log copes; see
  //                docs/journal.md, "Open")
  //   TruncateFrom drops every record at or after `position` (>= start())
  //   Reset        drops every record and starts over at `first` (>= 1); the segments go
  //                newest first, and the directory is synced before the new one is made, so a
  //                crash leaves a prefix of the old journal or the new empty one
  Task<absl::StatusOr<uint64_t>> AppendBatch(std::vector<std::string> payloads);
  Task<absl::Status> TruncateFrom(uint64_t position);
  Task<absl::Status> Reset(uint64_t first);

  struct Stats {
    uint64_t appends = 0;
    uint64_t group_writes = 0;  // one write + one Sync each
    uint64_t segments_created = 0;
    uint64_t segments_trimmed = 0;
    uint64_t recovered_records = 0;
    uint64_t truncated_tail_bytes = 0;  // dropped at Open: the unacknowledged tail
    uint64_t damaged_records = 0;       // found damaged at Open (tolerate_damage)
    // With tolerate_damage: the segment ends in a record written in full and damaged since —
    // every sector it spans holds some of it, and the file holds all of it: not a torn write,
    // which leaves whole sectors unwritten or the file short. Its position (0: none), which
    // the next append takes. It is not cut off: appends go after it, so that each recovery
    // finds it again until its owner has recorded what the loss means.
    uint64_t damaged_tail_position = 0;
  };
  const Stats& stats() const { return stats_; }

 private:
  struct Segment {
    uint64_t first = 0;                  // position of its first record
    // offsets[i]: record first + i (a damaged record: where the damage begins)
    std::vector<uint64_t> offsets;
    uint64_t size = 0;                   // bytes of whole records
    uint64_t allocated = 0;              // bytes the file holds: records, then zeros
    // Recovery found damaged or displaced records: offsets are not one contiguous run, so
    // reads take one record at a time.
    bool irregular = false;
    std::shared_ptr<File> file;          // opened on first use
    uint64_t end() const { return first + offsets.size(); }
  };
  struct Pending {
    uint64_t position;
    std::string payload;
  };

  SegmentedLog(Disk& disk, Executor& executor, std::string dir, SegmentedLogOptions options);
  Task<absl::Status> Recover();
  Task<absl::Status> RecoverSegment(Segment& s, bool last);
  Task<absl::StatusOr<std::vector<LogRecord>>> ReadIrregular(Segment& s, uint64_t from, size_t max_bytes);
  Task<absl::Status> StartSegment(uint64_t first);
  Task<absl::StatusOr<std::shared_ptr<File>>> FileOf(Segment& s);
  // TruncateFrom in an irregular segment: moves the cut (`offset`, where record `index` begins)
  // past earlier records that sit behind it, and spoils later records before it.
  Task<absl::Status> KeepRecordsBehind(Segment& seg, File& file, uint64_t index, uint64_t* offset);
  Task<void> CommitLoop();
  // Waits until `position` is durable (or the journal failed).
  Task<absl::StatusOr<uint64_t>> WaitDurable(uint64_t position);
  Task<void> WaitIdle();
  std::string SegmentPath(uint64_t first) const;

  Disk& disk_;
  Executor& executor_;
  const std::string dir_;
  const SegmentedLogOptions options_;
  // By position; the last is the one appended to. A deque, so that a reference to a segment
  // held across an await survives Trim erasing others and StartSegment adding one.
  std::deque<Segment> segments_;
  uint64_t next_position_ = 1;
  uint64_t durable_position_ = 0;  // every record before and at it is synced
  std::set<uint64_t> damaged_;
  std::set<uint64_t> rotted_;      // of damaged_
  std::vector<Pending> pending_;   // appended, not yet written
  bool committing_ = false;
  absl::Status error_;             // sticky: see the header comment
  Stats stats_;
  Notifier committed_;
  TaskGroup tasks_;  // last: its tasks end before the members they use
};

// Encodes one record (for tests that build damaged journals).
void AppendLogRecord(uint64_t position, std::string_view payload, std::string* out, uint64_t synced_through = 0);

}  // namespace cairn::storage

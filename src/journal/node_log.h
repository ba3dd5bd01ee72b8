// NodeLog: the one log every stream on a journal node writes its Raft entries to, so that one
// write and one fsync carry whatever every stream had to persist at that moment. Without it
// each stream synced its own log, and appends spread over 128 streams ran at a third of one
// stream's rate (bench/journal_streams.sh).
//
//   <root>/.nodelog/   a SegmentedLog (stream names cannot start with '.'). Each record is a
//                      stream's change — what one RaftStorage::Persist does to its log: reset
//                      it to a new start, truncate it from an index, append entries — tagged
//                      with the stream's name and incarnation. Every record is written twice, at
//                      journal positions 2k and 2k + 1 (record k), in one write. Concurrent
//                      Writes share a group commit: one write and one sync.
//
// A stream's term, vote, floor and start stay in its own STATE (src/journal/raft_storage.h);
// STATE carries the stream's incarnation (the node log's position when the stream was
// created), so records of an older stream of the same name are never replayed into a new one.
//
// Recovery (Open) reads the log once and keeps each stream's records until its RaftStorage asks
// for them (Replay): in log order, a reset empties the stream's log, a truncate cuts it, and
// entries replace it from their first index on. A record lost in both copies may have been any
// stream's (created before it): each stream's replay stops where its log stood at the loss,
// since what later records did built on what the lost one did — a lost truncate under a later
// append would bring back overwritten entries. Replay says where (cut_at); the stream writes a
// recovery cut there (raising its vote floor first when it skipped anything), and the next
// replay takes up again at that cut.
//
// Damage, by record (docs/journal.md, "The node log"):
//   - one copy damaged: read from the other;
//   - both copies lost, and the record was synced (an intact later record was written after the
//     lost one was synced — each record says how far the log was synced when it was enqueued —
//     or a later segment exists): it may have been acknowledged, and nothing says whose it was:
//     every stream raises its vote floor (unhandled_loss()) and cuts its log there, then
//     FinishRecovery records that the loss is handled (listing the lost records: one that
//     rots later is a new loss);
//   - the last record written in full and damaged since (SegmentedLog's
//     damaged_tail_position; not torn): lost like a synced record; recovery first writes a
//     pending-loss record, so that the loss outlives a crash before the floors are raised;
//   - both copies lost, never shown synced: the torn tail of the last write, never
//     acknowledged. The log is cut there. So that the last records a recovery found are not
//     mistaken for a torn tail if they rot later, recovery begins (after any pending-loss
//     record) with a record saying the log was synced through them.
//
// Space: a stream pins the oldest record holding an entry it still has (from its start on).
// Once the log holds more than `segments_soft_max` segments, a cleaner copies forward the live
// entries of the streams pinning the oldest segment — idle streams, mostly — and trims the
// segments nothing pins. It copies only a stream whose live entries are small next to a
// segment (copying a large one would fill the log as fast as it frees it): a busy stream that
// is never trimmed pins the log, which then grows past the soft bound until that stream trims.
// The engine trims its streams after each flush.
#pragma once

#include <compare>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "src/journal/raft.h"
#include "src/storage/segmented_log.h"
#include "src/runtime/disk.h"
#include "src/runtime/executor.h"
#include "src/runtime/notifier.h"
#include "src/runtime/task_group.h"

namespace cairn::journal {

struct StreamKey {
  std::string name;
  uint64_t incarnation = 0;
  friend auto operator<=>(const StreamKey&, const StreamKey&) = default;
};

// What one Persist does to a stream's log, applied in this order.
struct LogChange {
  std::optional<LogStart> reset;  // empty the log; it continues at reset->first_index
  uint64_t truncate_from = 0;     // drop entries at and after it (0: none)
  std::vector<Entry> entries;     // contiguous; replace the log from entries.front().index on
  // A truncate alone, written by recovery where a lost record left the stream's log (Replay's
  // cut_at): the log below it is the one that recovery replayed, which stopped at the lost
  // record `cut_answers` (a record number; 0: at a hole no lost record explains).
  bool recovery_cut = false;
  uint64_t cut_answers = 0;
  bool empty() const { return !reset.has_value() && truncate_from == 0 && entries.empty(); }
};

struct NodeLogOptions {
  storage::SegmentedLogOptions log;  // its probes serve the node log and the streams' storage
  // The cleaner starts once the log holds more segments than this.
  size_t segments_soft_max = 4;
  // A copy-forward record carries at most this many bytes of entries (larger logs take several).
  size_t copy_record_bytes_max = 4u << 20;

  // The defaults, with the segment sizes and the cleaner's bounds the knobs say.
  static NodeLogOptions FromKnobs(const Knobs& knobs) {
    NodeLogOptions o;
    o.log = storage::SegmentedLogOptions::FromKnobs(knobs);
    o.segments_soft_max = static_cast<size_t>(knobs.nodelog_segments_soft_max);
    o.copy_record_bytes_max = static_cast<size_t>(knobs.nodelog_copy_record_bytes_max);
    return o;
  }
};

struct NodeLogStats {
  uint64_t writes = 0;                 // Write calls
  uint64_t records_from_one_copy = 0;  // recovery: a record read from its surviving copy
  uint64_t torn_records_dropped = 0;   // recovery: records of a torn last write
  uint64_t torn_tail_bytes = 0;        // recovery: what the local journal cut off its end as torn
  uint64_t lost_records = 0;           // recovery: synced records newly found lost in both copies
  uint64_t streams_copied = 0;         // cleaner: a stream's live entries copied forward
  uint64_t segments_trimmed = 0;
};

class NodeLog {
 public:
  static Task<absl::StatusOr<std::unique_ptr<NodeLog>>> Open(Disk& disk, Executor& executor, std::string dir,
                                                             NodeLogOptions options = {});
  ~NodeLog();
  NodeLog(const NodeLog&) = delete;
  NodeLog& operator=(const NodeLog&) = delete;

  // An incarnation for a stream created now: no record of the log carries it yet.
  uint64_t NewIncarnation() const { return log_->next_position(); }

  // Recovery of one stream: its records replayed over `start` (its STATE's). Once per stream;
  // after FinishRecovery, only for a new one.
  struct Replayed {
    std::optional<LogStart> reset;  // a reset later than `start` (its STATE write was cut off)
    std::vector<Entry> entries;     // contiguous, from the start (the reset's, if any)
    // Past a record lost in both copies that may have been this stream's, the replay stops
    // where the log stood (see Replay in node_log.cc): cut_at is that end (0: no such loss).
    // The stream writes a recovery cut there, so that the next replay takes up after it.
    uint64_t cut_at = 0;
    uint64_t cut_answers = 0;  // the lost record the replay stopped at (a record number; 0: a hole)
    // Changes after cut_at were skipped: the stream may lack entries it acknowledged.
    bool dropped = false;
  };
  Replayed Replay(const StreamKey& key, const LogStart& start);
  // A replayed stream that did not open (its STATE write failed, say): the log forgets it, and
  // a retried open may replay it again. After recovery only a new stream is replayed, and its
  // open writes no record before it succeeds, so there is nothing of it to keep; a failed open
  // during recovery stops the node, and with it this log.
  void Abandon(const StreamKey& key);

  // Synced records were lost in both copies, and no recovery has handled them yet: every
  // stream must raise its vote floor before the node serves. FinishRecovery records that they
  // have.
  bool unhandled_loss() const { return unhandled_loss_; }
  // Ends recovery, once every stream has replayed (and raised its floor when it had to): the
  // records of streams that did not are dropped, a loss is recorded as handled, and the
  // cleaner may run.
  Task<absl::Status> FinishRecovery();

  // Makes `change` to the stream's log durable. One Write per stream at a time. On an error
  // the log is failed: the node must restart.
  Task<absl::Status> Write(const StreamKey& key, LogChange change);
  // The stream's start moved to `first_index` (its STATE says so): entries before it stop
  // pinning the log.
  void Trimmed(const StreamKey& key, uint64_t first_index);

  const NodeLogStats& stats() const { return stats_; }
  // The node's fault points and coverage probes, for the streams' storage too.
  const Probes& probes() const { return options_.log.probes; }
  size_t segments() const { return log_->segment_count(); }
  bool cleaning() const { return cleaning_; }

 public:
  // A record, decoded.
  struct Parsed {
    uint64_t position = 0;  // of its first copy
    char tag = 0;
    uint64_t durable_before = 0;  // the log was synced through here when it was enqueued
    StreamKey key;                // a change record's
    LogChange change;
    std::vector<uint64_t> handled;  // a handled record's: the lost records (by number) it handled
  };

 private:
  // What a record does to its stream's pins.
  struct Shape {
    bool reset = false;
    uint64_t truncate_from = 0;
    uint64_t first = 0, last = 0;  // its entries (0: none)
    uint64_t bytes = 0;            // the record's
  };
  struct Encoded {
    std::string bytes;
    Shape shape;
  };
  // A run of a stream's live entries, all in the record at `position`.
  struct Run {
    uint64_t position;
    uint64_t first;
    uint64_t last;
    uint64_t bytes;  // of the record (an upper bound on the run's share of it)
  };
  struct Pins {
    std::deque<Run> runs;
    uint64_t bytes = 0;  // the runs' bytes
    void PushBack(const Run& r) {
      bytes += r.bytes;
      runs.push_back(r);
    }
    void PopBack() {
      bytes -= runs.back().bytes;
      runs.pop_back();
    }
    void PopFront() {
      bytes -= runs.front().bytes;
      runs.pop_front();
    }
    void Clear() {
      runs.clear();
      bytes = 0;
    }
    bool busy = false;  // a Write or a copy-forward is in progress
    uint64_t trimmed_to = 0;  // a Trimmed that came while busy, applied at Release
  };

  NodeLog(Disk& disk, Executor& executor, NodeLogOptions options);
  // Recovery, in its phases: open the log; read every intact copy of every record; classify the
  // records no copy holds (synced and lost, or the torn tail of the last write, which is cut);
  // rewrite a last record's torn-off twin; index what is left by stream.
  struct FoundRecord {
    Parsed record;
    int copies = 0;
  };
  using FoundRecords = std::map<uint64_t, FoundRecord>;  // by record number
  Task<absl::Status> Recover(std::string dir);
  Task<absl::Status> ReadCopies(FoundRecords* found, std::map<uint64_t, std::string>* lone_payloads);
  Task<absl::Status> ClassifyMissing(FoundRecords* found);
  Task<absl::Status> RepairLoneTail(FoundRecords* found, std::map<uint64_t, std::string>* lone_payloads);
  void IndexByStream(FoundRecords* found);
  // Appends a record of the log's own (a vouch, a pending loss, or the losses handled: `tag`),
  // which says by its durable_before that every record before it is synced; `body` follows.
  Task<absl::Status> WriteMarker(char tag, std::string_view body = {});
  // Enqueues `records` (each twice) and waits until durable; then applies their shapes to
  // `pins` (if any). Returns the first record's position.
  Task<absl::StatusOr<uint64_t>> Append(Pins* pins, std::vector<Encoded> records);
  std::string Encode(const StreamKey& key, const LogChange& change) const;
  std::vector<Encoded> EncodeChange(const StreamKey& key, LogChange change) const;
  void Apply(Pins& pins, uint64_t position, const Shape& shape);
  static void TrimRuns(Pins& pins, uint64_t first_index);
  Task<void> Acquire(Pins& pins);
  void Release(Pins& pins);
  void MaybeClean();
  Task<void> Clean();
  Task<absl::Status> CopyForward(const StreamKey& key);
  Task<absl::Status> TrimUnpinned();

  Disk& disk_;
  Executor& executor_;
  const NodeLogOptions options_;
  std::unique_ptr<storage::SegmentedLog> log_;
  std::map<StreamKey, std::vector<Parsed>> parsed_;  // recovery, until each stream's Replay
  std::map<StreamKey, Pins> pins_;
  std::multiset<uint64_t> in_flight_;  // positions of Appends not yet durable and applied
  bool recovering_ = false;  // from Open to FinishRecovery
  bool unhandled_loss_ = false;
  std::set<uint64_t> lost_;     // records (by number) synced and lost in both copies, in the log
  std::set<uint64_t> handled_;  // lost records whose loss a recovery handled (and still in the log)
  bool cleaning_ = false;
  // The cleaner stopped at a stream too big to copy, with this many segments: it waits for a
  // trim, or for more segments, before it looks again (0: not stopped).
  size_t clean_blocked_at_segments_ = 0;
  NodeLogStats stats_;
  Notifier idle_;
  TaskGroup tasks_;  // last
};

}  // namespace cairn::journal

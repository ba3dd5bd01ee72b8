#include "src/journal/node_log.h"

#include <algorithm>
#include <limits>

#include "absl/strings/str_cat.h"
#include "src/base/check.h"
#include "src/runtime/assertions.h"
#include "src/base/status.h"
#include "src/base/varint.h"
#include "src/journal/log_encoding.h"

namespace cairn::journal {
namespace {

constexpr char kChangeTag = 'C';
// Written at the end of each recovery: the lost records whose loss every stream has handled
// (by number), and — by its durable_before — that everything recovered was synced. (Tag 'H',
// an earlier form, said "every loss below here is handled", which a record that rots later
// would hide behind; it no longer decodes, so its record reads as lost and floors rise once.)
constexpr char kHandledTag = 'L';
// Written first by a recovery that finds the log's last record rotted (written in full, then
// damaged: not torn), before anything else: the loss stands until a later handled record,
// even once that damaged record sits behind the records written after it.
constexpr char kLossPendingTag = 'P';
// Written at the start of a recovery whose last record found is a stream's: everything before
// it is synced (so that if those records rot later they are lost, not torn). It says nothing
// about losses.
constexpr char kVouchTag = 'V';
constexpr uint8_t kHasReset = 1, kHasTruncate = 2, kHasEntries = 4, kRecoveryCut = 8;
constexpr uint8_t kFlagsAll = kHasReset | kHasTruncate | kHasEntries | kRecoveryCut;
constexpr size_t kHandledListMax = 1u << 20;
constexpr size_t kRecoveryReadBytes = 4u << 20;
constexpr size_t kNameBytesMax = 1024;
constexpr size_t kEntriesPerRecordMax = 1u << 20;
constexpr int kCleanPassesMax = 8;
constexpr uint64_t kEntryOverheadBytes = 32;  // a guess at an entry's encoding beyond its payload

// A record's index k: its copies sit at journal positions 2k and 2k + 1.
uint64_t RecordOf(uint64_t position) { return position / 2; }

}  // namespace

namespace {

bool DecodeRecord(std::string_view payload, uint64_t position, NodeLog::Parsed* out);

}  // namespace

NodeLog::NodeLog(Disk& disk, Executor& executor, NodeLogOptions options)
    : disk_(disk), executor_(executor), options_(std::move(options)), idle_(executor), tasks_(executor) {}

NodeLog::~NodeLog() = default;

Task<absl::StatusOr<std::unique_ptr<NodeLog>>> NodeLog::Open(Disk& disk, Executor& executor, std::string dir,
                                                             NodeLogOptions options) {
  std::unique_ptr<NodeLog> log(new NodeLog(disk, executor, std::move(options)));
  CO_RETURN_IF_ERROR(co_await log->Recover(std::move(dir)));
  co_return log;
}

std::string NodeLog::Encode(const StreamKey& key, const LogChange& change) const {
  std::string out(1, kChangeTag);
  PutVarint64(&out, log_->durable_position());
  PutLengthPrefixed(&out, key.name);
  PutVarint64(&out, key.incarnation);
  CAIRN_CHECK(!change.recovery_cut || (change.truncate_from != 0 && !change.reset.has_value() &&
                                       change.entries.empty()));
  const uint8_t flags = (change.reset.has_value() ? kHasReset : 0) | (change.truncate_from != 0 ? kHasTruncate : 0) |
                        (change.entries.empty() ? 0 : kHasEntries) | (change.recovery_cut ? kRecoveryCut : 0);
  out.push_back(static_cast<char>(flags));
  if (change.reset.has_value()) PutStart(&out, *change.reset);
  if (change.truncate_from != 0) PutVarint64(&out, change.truncate_from);
  if (change.recovery_cut) PutVarint64(&out, change.cut_answers);
  if (!change.entries.empty()) {
    PutVarint64(&out, change.entries.front().index);
    PutVarint64(&out, change.entries.size());
    for (const Entry& e : change.entries) PutLengthPrefixed(&out, EncodeEntry(e));
  }
  return out;
}

namespace {

bool DecodeRecord(std::string_view payload, uint64_t position, NodeLog::Parsed* out) {
  ByteReader r(payload);
  out->position = position;
  out->tag = static_cast<char>(r.Byte());
  out->durable_before = r.Varint64();
  if (out->tag == kLossPendingTag || out->tag == kVouchTag) return r.ok() && r.remaining() == 0;
  if (out->tag == kHandledTag) {
    const uint64_t count = r.Varint64();
    if (!r.ok() || count > kHandledListMax) return false;
    for (uint64_t i = 0; i < count && r.ok(); ++i) out->handled.push_back(r.Varint64());
    return r.ok() && r.remaining() == 0;
  }
  if (out->tag != kChangeTag) return false;
  const std::string_view name = r.LengthPrefixed();
  if (!r.ok() || name.empty() || name.size() > kNameBytesMax) return false;
  out->key.name.assign(name);
  out->key.incarnation = r.Varint64();
  const uint8_t flags = r.Byte();
  if (!r.ok() || (flags & ~kFlagsAll) != 0 || (flags & ~kRecoveryCut) == 0) return false;
  // A recovery cut is a truncate alone.
  if ((flags & kRecoveryCut) != 0 && flags != (kRecoveryCut | kHasTruncate)) return false;
  out->change.recovery_cut = (flags & kRecoveryCut) != 0;
  if (flags & kHasReset) {
    LogStart s;
    if (!ReadStart(r, &s)) return false;
    out->change.reset = std::move(s);
  }
  if (flags & kHasTruncate) {
    out->change.truncate_from = r.Varint64();
    if (out->change.truncate_from == 0) return false;
  }
  if (flags & kRecoveryCut) out->change.cut_answers = r.Varint64();
  if (flags & kHasEntries) {
    const uint64_t first = r.Varint64();
    const uint64_t count = r.Varint64();
    if (!r.ok() || first == 0 || count == 0 || count > kEntriesPerRecordMax) return false;
    for (uint64_t i = 0; i < count; ++i) {
      const std::string_view bytes = r.LengthPrefixed();
      if (!r.ok()) return false;
      absl::StatusOr<Entry> e = DecodeEntry(first + i, bytes);
      if (!e.ok()) return false;
      out->change.entries.push_back(*std::move(e));
    }
  }
  return r.ok() && r.remaining() == 0;
}

}  // namespace

Task<absl::Status> NodeLog::Recover(std::string dir) {
  storage::SegmentedLogOptions journal_options = options_.log;
  journal_options.tolerate_damage = true;
  absl::StatusOr<std::unique_ptr<storage::SegmentedLog>> log =
      co_await storage::SegmentedLog::Open(disk_, executor_, std::move(dir), journal_options);
  if (!log.ok()) co_return log.status();
  log_ = *std::move(log);
  stats_.torn_tail_bytes = log_->stats().truncated_tail_bytes;
  // Records sit in pairs from an even position on; a new (or emptied) journal starts at 2.
  if (log_->next_position() == log_->start() && log_->start() % 2 == 1) {
    CO_RETURN_IF_ERROR(co_await log_->Reset(log_->start() + 1));
  }
  FoundRecords found;
  std::map<uint64_t, std::string> lone_payloads;  // a record's payload, for rewriting its twin
  CO_RETURN_IF_ERROR(co_await ReadCopies(&found, &lone_payloads));
  const uint64_t torn_before = stats_.torn_records_dropped;
  CO_RETURN_IF_ERROR(co_await ClassifyMissing(&found));
  if (const uint64_t p = log_->stats().damaged_tail_position;
      p != 0 && stats_.torn_records_dropped == torn_before && p % 2 == 0) {
    // The log ends in a record written in full and damaged since (not torn): it may have been
    // synced and acknowledged, and nothing after it can say. (An odd position is the twin of
    // an intact record, only a copy: RepairLoneTail writes it again. And behind a torn record
    // nothing was synced.) Say so durably before anything else is written.
    ++stats_.lost_records;
    CAIRN_SOMETIMES(options_.log.probes, true, "nodelog.last-record-rotted-in-both-copies");
    CO_RETURN_IF_ERROR(co_await WriteMarker(kLossPendingTag));
    unhandled_loss_ = true;
  }
  CO_RETURN_IF_ERROR(co_await RepairLoneTail(&found, &lone_payloads));
  // Only a later record can say the last one was synced; until one does, the last record's
  // loss in both copies would read as a torn write. The node is about to act on every record
  // it found (serve them, vote by them): say now that they are synced, before anything else
  // (a crash during recovery, then rot, must not make them look torn).
  if (const char last = found.empty() ? kVouchTag : found.rbegin()->second.record.tag;
      last != kHandledTag && last != kVouchTag && last != kLossPendingTag) {
    CO_RETURN_IF_ERROR(co_await WriteMarker(kVouchTag));
  }
  IndexByStream(&found);
  recovering_ = true;
  co_return absl::OkStatus();
}

// Every intact copy, by record: the first copy that decodes stands for both.
Task<absl::Status> NodeLog::ReadCopies(FoundRecords* found, std::map<uint64_t, std::string>* lone_payloads) {
  for (uint64_t position = log_->start(); position < log_->next_position();) {
    absl::StatusOr<std::vector<storage::LogRecord>> records = co_await log_->Read(position, kRecoveryReadBytes);
    if (!records.ok()) co_return records.status();
    if (records->empty()) break;
    for (storage::LogRecord& rec : *records) {
      position = rec.position + 1;
      const uint64_t k = RecordOf(rec.position);
      Parsed parsed;
      if (!DecodeRecord(rec.payload, 2 * k, &parsed)) continue;  // intact, yet not ours: a lost copy
      // What the log said when it wrote the copy, if it said more than the record did when it
      // was enqueued (the record waited behind other groups).
      parsed.durable_before = std::max(parsed.durable_before, rec.synced_through);
      auto [it, inserted] = found->try_emplace(k, FoundRecord{.record = std::move(parsed)});
      ++it->second.copies;
      if (rec.position + 1 == log_->next_position()) (*lone_payloads)[k] = std::move(rec.payload);
    }
  }
  for (const auto& [k, f] : *found) {
    if (f.record.tag == kHandledTag) handled_.insert(f.record.handled.begin(), f.record.handled.end());
    // A pending loss that no handled record follows: the recovery that found it did not finish.
    if (f.record.tag == kLossPendingTag) unhandled_loss_ = true;
    if (f.record.tag == kHandledTag) unhandled_loss_ = false;
  }
  // A record once lost stays lost, though it reads back now (the damage was in the reads): the
  // streams cut their logs past it, and their later records build on that.
  std::erase_if(*found, [this](const auto& kv) { return handled_.contains(kv.first); });
  co_return absl::OkStatus();
}

// The records no copy holds: synced (an intact record enqueued after they were synced, or a
// later segment, says so) or the torn tail of the last write, which is cut off.
Task<absl::Status> NodeLog::ClassifyMissing(FoundRecords* found) {
  if (log_->next_position() == log_->start()) co_return absl::OkStatus();
  const std::vector<uint64_t> segment_starts = log_->segment_starts();
  const uint64_t last_segment_first = segment_starts.back();
  // A log that starts at an odd position (a record's second copy) lost the first copy to a
  // trim, which removes only what no stream pins: that record was dead, not lost.
  const uint64_t k_first = RecordOf(log_->start()) + log_->start() % 2, k_last = RecordOf(log_->next_position() - 1);
  // evidence[k]: the most any intact record after record k says was synced.
  std::map<uint64_t, uint64_t> evidence;  // k → max durable_before over records after k
  uint64_t running = 0;
  for (auto it = found->rbegin(); it != found->rend(); ++it) {
    evidence[it->first] = running;
    running = std::max(running, it->second.record.durable_before);
  }
  std::optional<uint64_t> first_torn;
  for (uint64_t k = k_first; k <= k_last; ++k) {
    if (found->contains(k)) continue;
    // The most a record after k says: the evidence of the next intact record, and its own.
    auto next = found->upper_bound(k);
    const uint64_t said = next == found->end() ? 0 : std::max(evidence[next->first], next->second.record.durable_before);
    // A record whose two copies were written in full (every sector holds data) and damaged
    // since rotted after its write: it may have been synced like any other (a torn write
    // leaves whole sectors unwritten).
    const bool rotted = log_->rotted().contains(2 * k) && log_->rotted().contains(2 * k + 1);
    CAIRN_SOMETIMES(options_.log.probes, rotted && said < 2 * k + 1, "nodelog.unvouched-record-rotted-not-torn");
    const bool synced = said >= 2 * k + 1 || 2 * k + 1 < last_segment_first || rotted;
    if (!synced) {
      first_torn = k;
      break;
    }
    lost_.insert(k);
    if (handled_.contains(k)) continue;  // found before, and handled
    ++stats_.lost_records;
    CAIRN_SOMETIMES(options_.log.probes, true, "nodelog.synced-record-lost-in-both-copies");
    unhandled_loss_ = true;
  }
  std::erase_if(handled_, [this](uint64_t k) { return !lost_.contains(k); });  // trimmed since
  if (first_torn.has_value()) {
    // Never acknowledged: neither it nor anything after it was synced.
    stats_.torn_records_dropped += k_last - *first_torn + 1;
    CAIRN_SOMETIMES(options_.log.probes, true, "nodelog.torn-records-dropped");
    CO_RETURN_IF_ERROR(co_await log_->TruncateFrom(std::max(2 * *first_torn, log_->start())));
    found->erase(found->lower_bound(*first_torn), found->end());
  }
  co_return absl::OkStatus();
}

// A last record standing alone: its second copy was torn off; write it again (or drop it, when
// the copy that stands does not decode).
Task<absl::Status> NodeLog::RepairLoneTail(FoundRecords* found, std::map<uint64_t, std::string>* lone_payloads) {
  if (const uint64_t next = log_->next_position(); next % 2 == 1 && next > log_->start()) {
    const uint64_t k = RecordOf(next - 1);
    if (auto it = lone_payloads->find(k); it != lone_payloads->end() && found->contains(k)) {
      std::vector<std::string> twin = {std::move(it->second)};
      absl::StatusOr<uint64_t> at = co_await log_->AppendBatch(std::move(twin));
      if (!at.ok()) co_return at.status();
    } else {
      CO_RETURN_IF_ERROR(co_await log_->TruncateFrom(next - 1));
      found->erase(k);
    }
  }
  if (log_->next_position() == log_->start() && log_->start() % 2 == 1) {
    CO_RETURN_IF_ERROR(co_await log_->Reset(log_->start() + 1));
  }
  CAIRN_CHECK_EQ(log_->next_position() % 2, 0u);
  co_return absl::OkStatus();
}

// What recovery keeps, by stream, until each stream's Replay.
void NodeLog::IndexByStream(FoundRecords* found) {
  for (auto& [k, f] : *found) {
    if (f.copies == 1) ++stats_.records_from_one_copy;
    CAIRN_SOMETIMES(options_.log.probes, f.copies == 1, "nodelog.record-read-from-its-second-copy");
    if (f.record.tag == kChangeTag) parsed_[f.record.key].push_back(std::move(f.record));
  }
}

NodeLog::Replayed NodeLog::Replay(const StreamKey& key, const LogStart& start) {
  // After recovery only a new stream (an incarnation no record carries) opens.
  CAIRN_CHECK(recovering_ || !pins_.contains(key));
  Replayed out;
  uint64_t lo = start.first_index;
  std::map<uint64_t, std::pair<Entry, uint64_t>> log;  // index → the entry, and its record's position
  auto cut = [&log](uint64_t from) { log.erase(log.lower_bound(from), log.end()); };
  auto end = [&] { return log.empty() ? lo : log.rbegin()->first + 1; };
  // Broken: a record that may have been this stream's is lost (or its entries left a hole).
  // The log as replayed up to there is one the stream held; what later records do to it is
  // not (a lost truncate, say, would leave stale entries that a later append seems to
  // extend). So from `broken` on, only a record that does not build on what came before
  // takes the replay up again: a reset, a truncate or entries that replace the whole log, or
  // the cut a recovery wrote here (see RaftStorage), whose log below it is this one.
  uint64_t broken = 0;
  uint64_t broken_by = 0;  // the lost record the replay stopped at (0: a hole)
  bool dropped = false;    // a change was skipped since the replay broke
  auto resume = [&] {
    broken = 0;
    broken_by = 0;
    dropped = false;  // what was skipped, the record taking the replay up accounts for
  };
  auto lost = lost_.lower_bound(RecordOf(key.incarnation) + (key.incarnation % 2));  // could be this stream's
  auto cross = [&](uint64_t position) {  // the lost records before `position`
    for (; lost != lost_.end() && 2 * *lost < position; ++lost) {
      if (broken == 0) {
        broken = end();
        broken_by = *lost;
      }
      CAIRN_SOMETIMES(options_.log.probes, true, "nodelog.replay-crossed-a-lost-record");
    }
  };
  auto it = parsed_.find(key);
  if (it != parsed_.end()) {
    for (Parsed& p : it->second) {
      cross(p.position);
      LogChange& c = p.change;
      if (c.reset.has_value()) {
        log.clear();
        resume();
        if (c.reset->first_index > lo) {
          lo = c.reset->first_index;
          out.reset = c.reset;
        }
      }
      if (c.truncate_from != 0) {
        // A recovery cut takes the replay up only where it stopped then: at the same lost
        // record (a record lost since, earlier, leaves the log elsewhere).
        if (broken != 0 && (c.truncate_from <= lo ||
                            (c.recovery_cut && c.cut_answers == broken_by && c.truncate_from <= broken))) {
          resume();
        }
        cut(c.truncate_from);
        if (broken != 0) broken = std::min(broken, std::max(c.truncate_from, lo));
      }
      if (c.entries.empty()) continue;
      const uint64_t first = c.entries.front().index;
      if (broken != 0 && first <= lo) resume();  // it replaces the whole log
      if (broken == 0 && first > end()) {
        broken = end();  // a hole
        CAIRN_SOMETIMES(options_.log.probes, true, "nodelog.replay-found-a-hole");
      }
      if (broken != 0) {
        dropped = true;
        continue;
      }
      cut(first);
      for (Entry& e : c.entries) {
        if (e.index >= lo) log.emplace(e.index, std::pair(std::move(e), p.position));
      }
    }
    parsed_.erase(it);
  }
  cross(std::numeric_limits<uint64_t>::max());
  out.dropped = dropped;
  out.cut_answers = broken_by;
  out.cut_at = broken;
  Pins& pins = pins_[key];
  pins.Clear();
  out.entries.reserve(log.size());
  for (auto& [index, at] : log) {
    CAIRN_CHECK_EQ(index, lo + out.entries.size());
    if (pins.runs.empty() || pins.runs.back().position != at.second) {
      pins.PushBack(Run{.position = at.second, .first = index, .last = index, .bytes = 0});
    } else {
      pins.runs.back().last = index;
    }
    const uint64_t bytes = at.first.payload.size() + kEntryOverheadBytes;
    pins.runs.back().bytes += bytes;
    pins.bytes += bytes;
    out.entries.push_back(std::move(at.first));
  }
  return out;
}

void NodeLog::Abandon(const StreamKey& key) {
  auto it = pins_.find(key);
  if (it == pins_.end()) return;
  CAIRN_CHECK(!it->second.busy);
  CAIRN_CHECK(recovering_ || it->second.runs.empty());
  pins_.erase(it);
}

Task<absl::Status> NodeLog::FinishRecovery() {
  CAIRN_CHECK(recovering_);
  recovering_ = false;
  parsed_.clear();  // streams nobody replayed: no STATE names them, so they are gone
  if (unhandled_loss_) {
    // Every stream has raised its floor and cut its log past the lost records: their loss is
    // handled.
    handled_.insert(lost_.begin(), lost_.end());
    std::string list;
    PutVarint64(&list, handled_.size());
    for (uint64_t k : handled_) PutVarint64(&list, k);
    CO_RETURN_IF_ERROR(co_await WriteMarker(kHandledTag, list));
    unhandled_loss_ = false;
  }
  MaybeClean();
  co_return absl::OkStatus();
}

Task<absl::Status> NodeLog::WriteMarker(char tag, std::string_view body) {
  std::vector<Encoded> records(1);
  records[0].bytes = std::string(1, tag);
  PutVarint64(&records[0].bytes, log_->durable_position());
  records[0].bytes.append(body);
  absl::StatusOr<uint64_t> at = co_await Append(nullptr, std::move(records));
  co_return at.status();
}

std::vector<NodeLog::Encoded> NodeLog::EncodeChange(const StreamKey& key, LogChange change) const {
  // Entries go in records of at most copy_record_bytes_max each; the first carries the reset
  // and the truncate. Each later one replaces the log from its first entry: the same thing.
  std::vector<Encoded> out;
  LogChange part;
  part.reset = std::move(change.reset);
  part.truncate_from = change.truncate_from;
  part.recovery_cut = change.recovery_cut;
  part.cut_answers = change.cut_answers;
  size_t bytes = 0;
  auto flush = [&] {
    Encoded& e = out.emplace_back();
    e.shape = Shape{.reset = part.reset.has_value(), .truncate_from = part.truncate_from};
    if (!part.entries.empty()) {
      e.shape.first = part.entries.front().index;
      e.shape.last = part.entries.back().index;
    }
    e.bytes = Encode(key, part);
    e.shape.bytes = e.bytes.size();
    part = LogChange{};
    bytes = 0;
  };
  for (Entry& e : change.entries) {
    const size_t size = e.payload.size() + 64;
    if (!part.entries.empty() && bytes + size > options_.copy_record_bytes_max) flush();
    bytes += size;
    part.entries.push_back(std::move(e));
  }
  if (!part.empty()) flush();
  return out;
}

Task<absl::StatusOr<uint64_t>> NodeLog::Append(Pins* pins, std::vector<Encoded> records) {
  CAIRN_CHECK(!records.empty());
  std::vector<std::string> copies;
  copies.reserve(2 * records.size());
  for (const Encoded& r : records) {
    copies.push_back(r.bytes);
    copies.push_back(r.bytes);
  }
  // Nothing runs between reading next_position() and AppendBatch enqueuing the copies there.
  const uint64_t first = log_->next_position();
  CAIRN_CHECK_EQ(first % 2, 0u);
  in_flight_.insert(first);
  absl::StatusOr<uint64_t> last = co_await log_->AppendBatch(std::move(copies));
  // Durable: the records pin from here on (before they leave in_flight_, so no trim slips
  // between).
  if (last.ok() && pins != nullptr) {
    for (size_t j = 0; j < records.size(); ++j) Apply(*pins, first + 2 * j, records[j].shape);
  }
  in_flight_.erase(in_flight_.find(first));
  if (!last.ok()) co_return last.status();
  CAIRN_CHECK_EQ(*last, first + 2 * records.size() - 1);
  co_return first;
}

void NodeLog::Apply(Pins& pins, uint64_t position, const Shape& shape) {
  auto cut = [&pins](uint64_t from) {
    while (!pins.runs.empty() && pins.runs.back().first >= from) pins.PopBack();
    if (!pins.runs.empty() && pins.runs.back().last >= from) pins.runs.back().last = from - 1;
  };
  if (shape.reset) pins.Clear();
  if (shape.truncate_from != 0) cut(shape.truncate_from);
  if (shape.first != 0) {
    cut(shape.first);
    CAIRN_CHECK(pins.runs.empty() || pins.runs.back().last + 1 == shape.first);
    pins.PushBack(Run{.position = position, .first = shape.first, .last = shape.last, .bytes = shape.bytes});
  }
}

Task<void> NodeLog::Acquire(Pins& pins) {
  while (pins.busy) co_await idle_.Wait();
  pins.busy = true;
}

void NodeLog::Release(Pins& pins) {
  pins.busy = false;
  if (pins.trimmed_to != 0) {
    TrimRuns(pins, pins.trimmed_to);
    pins.trimmed_to = 0;
  }
  idle_.NotifyAll();
}

void NodeLog::TrimRuns(Pins& pins, uint64_t first_index) {
  while (!pins.runs.empty() && pins.runs.front().last < first_index) pins.PopFront();
  if (!pins.runs.empty()) pins.runs.front().first = std::max(pins.runs.front().first, first_index);
}

void NodeLog::Trimmed(const StreamKey& key, uint64_t first_index) {
  clean_blocked_at_segments_ = 0;  // the stream the cleaner waits for may be this one
  auto it = pins_.find(key);
  if (it == pins_.end()) return;
  if (it->second.busy) {
    it->second.trimmed_to = std::max(it->second.trimmed_to, first_index);  // after the copy in progress
  } else {
    TrimRuns(it->second, first_index);
  }
}

Task<absl::Status> NodeLog::Write(const StreamKey& key, LogChange change) {
  CAIRN_CHECK(!change.empty());
  ++stats_.writes;
  Pins& pins = pins_[key];  // map nodes stay put
  co_await Acquire(pins);
  std::vector<Encoded> records = EncodeChange(key, std::move(change));
  absl::StatusOr<uint64_t> at = co_await Append(&pins, std::move(records));
  Release(pins);
  if (!at.ok()) co_return at.status();
  MaybeClean();
  co_return absl::OkStatus();
}

void NodeLog::MaybeClean() {
  const size_t segments = log_->segment_count();
  if (recovering_ || cleaning_ || segments <= std::max(options_.segments_soft_max, clean_blocked_at_segments_)) return;
  cleaning_ = true;
  tasks_.Spawn(Clean());
}

Task<void> NodeLog::Clean() {
  for (int pass = 0; pass < kCleanPassesMax && log_->segment_count() > options_.segments_soft_max; ++pass) {
    const uint64_t oldest_end = log_->segment_starts()[1];
    std::vector<StreamKey> pinning;
    bool stuck = false;
    for (const auto& [key, pins] : pins_) {
      if (pins.runs.empty() || pins.runs.front().position >= oldest_end) continue;
      if (pins.bytes > options_.log.segment_bytes_max / 2) stuck = true;  // too big to copy: wait for its trim
      pinning.push_back(key);
    }
    if (stuck) {
      clean_blocked_at_segments_ = log_->segment_count();
      break;
    }
    for (const StreamKey& key : pinning) {
      absl::Status s = co_await CopyForward(key);
      if (!s.ok()) {
        stuck = true;  // a read failed, or the log did (every Write then fails too)
        break;
      }
    }
    if (stuck) break;
    if (!(co_await TrimUnpinned()).ok()) break;
  }
  cleaning_ = false;
}

Task<absl::Status> NodeLog::CopyForward(const StreamKey& key) {
  Pins& pins = pins_[key];
  co_await Acquire(pins);
  struct Releaser {
    NodeLog* log;
    Pins* pins;
    ~Releaser() { log->Release(*pins); }
  } releaser{this, &pins};
  if (pins.runs.empty()) co_return absl::OkStatus();
  const std::deque<Run> runs = pins.runs;
  LogChange copy;
  for (const Run& run : runs) {
    // Either copy of the record: Read skips one recovery found damaged.
    std::optional<Parsed> record;
    for (uint64_t position : {run.position, run.position + 1}) {
      absl::StatusOr<std::vector<storage::LogRecord>> read = co_await log_->Read(position, 1);
      if (!read.ok() || read->empty() || RecordOf(read->front().position) != RecordOf(run.position)) continue;
      Parsed p;
      if (DecodeRecord(read->front().payload, run.position, &p) && p.tag == kChangeTag && p.key == key) {
        record = std::move(p);
        break;
      }
    }
    if (!record.has_value()) {
      co_return absl::DataLossError(absl::StrCat("node log: the record at ", run.position, " of stream ", key.name,
                                                 " cannot be read back to copy it forward"));
    }
    for (Entry& e : record->change.entries) {
      if (e.index >= run.first && e.index <= run.last) copy.entries.push_back(std::move(e));
    }
  }
  CAIRN_CHECK_EQ(copy.entries.size(), runs.back().last - runs.front().first + 1);
  std::vector<Encoded> records = EncodeChange(key, std::move(copy));
  absl::StatusOr<uint64_t> at = co_await Append(&pins, std::move(records));
  if (!at.ok()) co_return at.status();
  ++stats_.streams_copied;
  CAIRN_SOMETIMES(options_.log.probes, true, "nodelog.cleaner-copied-a-stream-forward");
  co_return absl::OkStatus();
}

Task<absl::Status> NodeLog::TrimUnpinned() {
  uint64_t bound = log_->durable_position() + 1;
  for (const auto& [key, pins] : pins_) {
    if (!pins.runs.empty()) bound = std::min(bound, pins.runs.front().position);
  }
  if (!in_flight_.empty()) bound = std::min(bound, *in_flight_.begin());
  const size_t before = log_->segment_count();
  CO_RETURN_IF_ERROR(co_await log_->Trim(bound));
  stats_.segments_trimmed += before - log_->segment_count();
  CAIRN_SOMETIMES(options_.log.probes, log_->segment_count() < before, "nodelog.segments-trimmed");
  co_return absl::OkStatus();
}

}  // namespace cairn::journal

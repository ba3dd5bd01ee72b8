#include "src/storage/segmented_log.h"

#include <algorithm>
#include <set>
#include <optional>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "src/base/check.h"
#include "src/runtime/assertions.h"
#include "src/base/coding.h"
#include "src/base/crc32c.h"
#include "src/base/status.h"
#include "src/base/strings.h"

namespace cairn::storage {
namespace {

constexpr Duration kSlowSyncBuggify = std::chrono::milliseconds(20);

constexpr std::string_view kSegmentSuffix = ".log";
// A read that returns a damaged record is retried this many times before the damage is
// believed: the disk may have flipped a bit in transit rather than at rest.
constexpr int kReadAttemptsMax = 3;

uint32_t RecordChecksum(std::string_view header_rest, std::string_view payload) {
  return crc32c::Mask(crc32c::Extend(crc32c::Value(header_rest), payload));
}

// The length and position of the intact record at `at` of `bytes`, if there is one: its
// header and payload lie inside `bytes` and its checksum holds.
struct RecordHeader {
  uint32_t length;
  uint64_t position;
  uint64_t synced_through;
};
std::optional<RecordHeader> IntactRecordAt(std::string_view bytes, uint64_t at) {
  if (bytes.size() < kLogRecordHeaderBytes || at > bytes.size() - kLogRecordHeaderBytes) return std::nullopt;
  const char* h = bytes.data() + at;
  const RecordHeader r{DecodeFixed32(h + kLogRecordLengthOffset), DecodeFixed64(h + kLogRecordPositionOffset),
                       DecodeFixed64(h + kLogRecordSyncedOffset)};
  if (r.length > kLogRecordBytesMax || bytes.size() - at - kLogRecordHeaderBytes < r.length) return std::nullopt;
  if (RecordChecksum(std::string_view(h + kLogRecordLengthOffset, kLogRecordHeaderBytes - kLogRecordLengthOffset),
                     std::string_view(h + kLogRecordHeaderBytes, r.length)) != DecodeFixed32(h + kLogRecordChecksumOffset)) {
    return std::nullopt;
  }
  return r;
}

// The first intact record at or after offset `from` of `bytes` whose position is at least
// `min_position` (and plausible: no further on than the bytes could hold records).
struct FoundRecord {
  uint64_t offset;
  RecordHeader header;
};
std::optional<FoundRecord> FindIntactRecord(std::string_view bytes, uint64_t from, uint64_t min_position) {
  const uint64_t max_position = min_position + bytes.size() / kLogRecordHeaderBytes;
  for (uint64_t at = from; at + kLogRecordHeaderBytes <= bytes.size(); ++at) {
    // A cheap filter first, so the scan stays linear: a plausible position, then the checksum.
    const uint64_t position = DecodeFixed64(bytes.data() + at + 8);
    if (position < min_position || position > max_position) continue;
    if (std::optional<RecordHeader> r = IntactRecordAt(bytes, at)) return FoundRecord{at, *r};
  }
  return std::nullopt;
}

// The damaged record at `at` (the first byte past the last intact one) was written in full and
// changed since: the file holds all of it, and no sector it spans lacks it. A torn write leaves
// the file short, or whole sectors unwritten (zeros: past the old end, a file reads as zeros).
constexpr uint64_t kSectorBytes = 512;
bool AllZero(std::string_view bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](char c) { return c == 0; });
}
// No 512-byte sector's share of [begin, end) is all zeros: every sector of it was written.
bool EverySectorWritten(std::string_view bytes, uint64_t begin, uint64_t end) {
  if (begin >= end || end > bytes.size()) return false;
  for (uint64_t sector = begin / kSectorBytes * kSectorBytes; sector < end; sector += kSectorBytes) {
    const uint64_t lo = std::max(sector, begin), hi = std::min(sector + kSectorBytes, end);
    if (AllZero(bytes.substr(lo, hi - lo))) return false;
  }
  return true;
}
bool WrittenThenDamaged(std::string_view bytes, uint64_t at) {
  if (at + kLogRecordHeaderBytes > bytes.size()) return false;
  const uint32_t length = DecodeFixed32(bytes.data() + at + 4);
  if (length > kLogRecordBytesMax || at + kLogRecordHeaderBytes + length > bytes.size()) return false;
  return EverySectorWritten(bytes, at, at + kLogRecordHeaderBytes + length);
}

// A segment image, parsed: every record found intact, in position order from `first`, and the
// positions between them that it lacks (damaged, or lost to a misdirected write).
struct ParsedSegment {
  std::vector<uint64_t> offsets;  // per position; a missing one: where its damage begins
  std::vector<uint64_t> missing;
  // Missing positions whose damaged bytes (between the intact records around them) were all
  // written: they rotted, or a misdirected write landed on them; no torn write did it.
  std::set<uint64_t> rotted;
  uint64_t good = 0;              // the offset after the last intact record
  bool irregular = false;         // missing or displaced records
};
ParsedSegment ParseSegment(std::string_view bytes, uint64_t first) {
  ParsedSegment p;
  uint64_t at = 0;
  while (true) {
    const uint64_t expected = first + p.offsets.size();
    std::optional<RecordHeader> r = IntactRecordAt(bytes, at);
    if (!r.has_value() || r->position != expected) {
      std::optional<FoundRecord> found = FindIntactRecord(bytes, at, expected);
      if (!found.has_value()) break;  // nothing intact after: the tail
      p.irregular = true;
      const bool written = EverySectorWritten(bytes, at, found->offset);
      for (uint64_t q = expected; q < found->header.position; ++q) {
        p.offsets.push_back(at);
        p.missing.push_back(q);
        if (written) p.rotted.insert(q);
      }
      at = found->offset;
      r = found->header;
    }
    p.offsets.push_back(at);
    at += kLogRecordHeaderBytes + r->length;
    p.good = at;
  }
  if (p.missing.empty()) return p;
  // A misdirected write lands a few sectors off: forward, past where the writes after it went
  // in place, so that its records sit behind later ones, even behind the last (where a torn
  // tail would be); or back, over earlier records. Look for each missing position anywhere in
  // the segment, and keep the first intact copy.
  std::set<uint64_t> wanted(p.missing.begin(), p.missing.end());
  for (uint64_t from = 0; from + kLogRecordHeaderBytes <= bytes.size() && !wanted.empty(); ++from) {
    const uint64_t position = DecodeFixed64(bytes.data() + from + 8);
    if (!wanted.contains(position)) continue;
    std::optional<RecordHeader> r = IntactRecordAt(bytes, from);
    if (!r.has_value()) continue;
    wanted.erase(position);
    p.rotted.erase(position);
    p.offsets[position - first] = from;
    p.good = std::max(p.good, from + kLogRecordHeaderBytes + r->length);
  }
  std::erase_if(p.missing, [&](uint64_t q) { return !wanted.contains(q); });
  return p;
}

}  // namespace

void AppendLogRecord(uint64_t position, std::string_view payload, std::string* out, uint64_t synced_through) {
  CAIRN_CHECK_LE(payload.size(), kLogRecordBytesMax);
  CAIRN_CHECK_LT(synced_through, position);
  std::string header;
  PutFixed32(&header, static_cast<uint32_t>(payload.size()));
  PutFixed64(&header, position);
  PutFixed64(&header, synced_through);
  CAIRN_CHECK_EQ(header.size(), kLogRecordHeaderBytes - kLogRecordLengthOffset);
  PutFixed32(out, RecordChecksum(header, payload));
  out->append(header);
  out->append(payload);
}

SegmentedLog::SegmentedLog(Disk& disk, Executor& executor, std::string dir, SegmentedLogOptions options)
    : disk_(disk), executor_(executor), dir_(std::move(dir)), options_(options), committed_(executor),
      tasks_(executor) {}

SegmentedLog::~SegmentedLog() = default;

std::string SegmentedLog::SegmentPath(uint64_t first) const {
  return absl::StrFormat("%s/%020d%s", dir_, first, AbslView(kSegmentSuffix));
}

std::vector<uint64_t> SegmentedLog::segment_starts() const {
  std::vector<uint64_t> out;
  out.reserve(segments_.size());
  for (const Segment& s : segments_) out.push_back(s.first);
  return out;
}

uint64_t SegmentedLog::start() const {
  CAIRN_CHECK(!segments_.empty());
  return segments_.front().first;
}

Task<absl::StatusOr<std::unique_ptr<SegmentedLog>>> SegmentedLog::Open(Disk& disk, Executor& executor,
                                                                      std::string dir,
                                                                      SegmentedLogOptions options) {
  std::unique_ptr<SegmentedLog> j(new SegmentedLog(disk, executor, std::move(dir), options));
  CO_RETURN_IF_ERROR(co_await j->Recover());
  co_return j;
}

Task<absl::Status> SegmentedLog::Recover() {
  CO_RETURN_IF_ERROR(co_await disk_.CreateDir(dir_));
  absl::StatusOr<std::vector<std::string>> names = co_await disk_.List(dir_);
  if (!names.ok()) co_return names.status();
  std::vector<uint64_t> firsts;
  for (const std::string& name : *names) {
    uint64_t first = 0;
    if (name.size() != 20 + kSegmentSuffix.size() || !name.ends_with(kSegmentSuffix) ||
        !absl::SimpleAtoi(AbslView(std::string_view(name).substr(0, 20)), &first) || first == 0) {
      co_return absl::DataLossError(absl::StrCat(dir_, ": unexpected file ", name, " in the journal"));
    }
    firsts.push_back(first);
  }
  std::sort(firsts.begin(), firsts.end());
  if (firsts.empty()) {
    CO_RETURN_IF_ERROR(co_await StartSegment(1));
    co_return absl::OkStatus();
  }
  for (size_t i = 0; i < firsts.size(); ++i) {
    segments_.push_back(Segment{.first = firsts[i]});
    CO_RETURN_IF_ERROR(co_await RecoverSegment(segments_.back(), i + 1 == firsts.size()));
    Segment& s = segments_.back();
    if (options_.tolerate_damage && i + 1 < firsts.size()) {
      // A segment that lost its last records: the next one says where they ended.
      for (uint64_t q = s.end(); q < firsts[i + 1]; ++q) {
        s.offsets.push_back(s.size);
        damaged_.insert(q);
        ++stats_.damaged_records;
        s.irregular = true;
      }
    }
    if (i + 1 < firsts.size() && s.end() != firsts[i + 1]) {
      co_return absl::DataLossError(absl::StrCat(SegmentPath(s.first), ": damaged or missing records at offset ", s.size,
                                                 " before the end of the journal: it holds positions ", s.first, "..",
                                                 s.end(), " but the next segment starts at ", firsts[i + 1]));
    }
    stats_.recovered_records += s.offsets.size();
  }
  // Records that reached the file but were never synced (a crash between write and fsync) are
  // served from now on, so they must not vanish at the next crash: sync them now.
  absl::StatusOr<std::shared_ptr<File>> last = co_await FileOf(segments_.back());
  if (!last.ok()) co_return last.status();
  CO_RETURN_IF_ERROR(co_await (*last)->Sync());
  CO_RETURN_IF_ERROR(co_await disk_.SyncDir(dir_));
  next_position_ = segments_.back().end();
  durable_position_ = next_position_ - 1;
  co_return absl::OkStatus();
}

Task<absl::Status> SegmentedLog::RecoverSegment(Segment& s, bool last) {
  const std::string path = SegmentPath(s.first);
  absl::StatusOr<std::shared_ptr<File>> file = co_await FileOf(s);
  if (!file.ok()) co_return file.status();
  absl::StatusOr<uint64_t> size = co_await (*file)->Size();
  if (!size.ok()) co_return size.status();
  ParsedSegment parsed;
  bool tail_written_then_damaged = false;
  bool zero_tail = false;         // nothing but zeros after the records: preallocated space
  uint64_t damaged_tail_end = 0;  // with tail_written_then_damaged: where appends may go
  for (int attempt = 1;; ++attempt) {
    absl::StatusOr<std::string> bytes = co_await (*file)->Read(0, *size);
    if (!bytes.ok()) {
      if (attempt < kReadAttemptsMax) continue;
      co_return bytes.status();
    }
    parsed = ParseSegment(*bytes, s.first);
    tail_written_then_damaged = parsed.good < bytes->size() && WrittenThenDamaged(*bytes, parsed.good);
    zero_tail = parsed.good < bytes->size() && AllZero(std::string_view(*bytes).substr(parsed.good));
    if (tail_written_then_damaged) {
      const uint64_t end = parsed.good + kLogRecordHeaderBytes + DecodeFixed32(bytes->data() + parsed.good + kLogRecordLengthOffset);
      damaged_tail_end = AllZero(std::string_view(*bytes).substr(end)) ? end : *size;
    }
    if ((parsed.missing.empty() && (parsed.good == bytes->size() || zero_tail)) || attempt == kReadAttemptsMax) break;
  }
  if (!parsed.missing.empty()) {
    if (!options_.tolerate_damage) {
      co_return absl::DataLossError(absl::StrCat(path, ": damaged record at offset ", parsed.offsets[parsed.missing[0] - s.first],
                                                 " (position ", parsed.missing[0], ") before the end of the journal"));
    }
    stats_.damaged_records += parsed.missing.size();
    CAIRN_SOMETIMES(options_.probes, true, "log.damaged-record-tolerated");
    damaged_.insert(parsed.missing.begin(), parsed.missing.end());
    rotted_.insert(parsed.rotted.begin(), parsed.rotted.end());
  }
  s.offsets = std::move(parsed.offsets);
  // A record found away from where it belongs (a misdirected write moved it) or past damage.
  CAIRN_SOMETIMES(options_.probes, parsed.irregular, "log.displaced-or-damaged-record-recovered");
  s.irregular = parsed.irregular;
  s.size = parsed.good;
  s.allocated = *size;
  if (parsed.good < *size && zero_tail) co_return absl::OkStatus();  // written ahead (preallocate_bytes)
  if (parsed.good < *size) {
    if (!last) {
      // Not a torn tail: later segments were written after this one was complete. Recover
      // compares the records found with where the next segment starts: records lost are
      // damage (DataLoss, or listed with tolerate_damage); none lost, the bytes were space
      // written ahead of need, and changed since.
      if (options_.tolerate_damage) s.irregular = true;
      co_return absl::OkStatus();
    }
    if (tail_written_then_damaged && options_.tolerate_damage) {
      // Not a torn write: a record written in full and damaged since, which may have been
      // acknowledged. It stays (appends go after it), so that every recovery finds it until
      // the owner has acted on the loss: cut now, a crash before the owner acts would forget
      // it.
      stats_.damaged_tail_position = s.end();
      s.size = damaged_tail_end;
      s.irregular = true;
      CAIRN_SOMETIMES(options_.probes, true, "log.tail-written-then-damaged");
      co_return absl::OkStatus();
    }
    // The unacknowledged tail of the last segment: cut it off, durably, before appending.
    stats_.truncated_tail_bytes += *size - parsed.good;
    CAIRN_SOMETIMES(options_.probes, true, "log.torn-tail-cut");
    CO_RETURN_IF_ERROR(co_await (*file)->Truncate(parsed.good));
    CO_RETURN_IF_ERROR(co_await (*file)->Sync());
    s.allocated = parsed.good;
  }
  co_return absl::OkStatus();
}

Task<absl::StatusOr<std::shared_ptr<File>>> SegmentedLog::FileOf(Segment& s) {
  if (s.file == nullptr) {
    std::string path = SegmentPath(s.first);
    absl::StatusOr<std::unique_ptr<File>> f = co_await disk_.Open(std::move(path), OpenOptions{});
    if (!f.ok()) co_return f.status();
    s.file = std::move(*f);
  }
  co_return s.file;
}

Task<absl::Status> SegmentedLog::StartSegment(uint64_t first) {
  std::string path = SegmentPath(first);
  absl::StatusOr<std::unique_ptr<File>> f =
      co_await disk_.Open(std::move(path), OpenOptions{.create = true, .exclusive = true});
  if (!f.ok()) co_return f.status();
  CO_RETURN_IF_ERROR(co_await disk_.SyncDir(dir_));
  // Only the last segment is appended to; the others keep no descriptor.
  if (!segments_.empty()) segments_.back().file.reset();
  segments_.push_back(Segment{.first = first, .file = std::move(*f)});
  ++stats_.segments_created;
  co_return absl::OkStatus();
}

Task<absl::StatusOr<uint64_t>> SegmentedLog::Append(std::string payload) {
  if (!error_.ok()) co_return error_;
  if (payload.size() > kLogRecordBytesMax) {
    co_return absl::InvalidArgumentError(absl::StrCat("journal record of ", payload.size(), " bytes exceeds ",
                                                      kLogRecordBytesMax));
  }
  const uint64_t position = next_position_++;
  ++stats_.appends;
  pending_.push_back(Pending{position, std::move(payload)});
  co_return co_await WaitDurable(position);
}

Task<absl::StatusOr<uint64_t>> SegmentedLog::WaitDurable(uint64_t position) {
  if (!committing_) {
    committing_ = true;
    tasks_.Spawn(CommitLoop());
  }
  while (durable_position_ < position && error_.ok()) co_await committed_.Wait();
  if (durable_position_ >= position) co_return position;
  co_return error_;
}

Task<absl::StatusOr<uint64_t>> SegmentedLog::AppendBatch(std::vector<std::string> payloads) {
  if (!error_.ok()) co_return error_;
  CAIRN_CHECK(!payloads.empty());
  for (std::string& p : payloads) {
    if (p.size() > kLogRecordBytesMax) {
      co_return absl::InvalidArgumentError(absl::StrCat("journal record of ", p.size(), " bytes exceeds ",
                                                        kLogRecordBytesMax));
    }
  }
  for (std::string& p : payloads) {
    ++stats_.appends;
    pending_.push_back(Pending{next_position_++, std::move(p)});
  }
  co_return co_await WaitDurable(next_position_ - 1);
}

Task<void> SegmentedLog::WaitIdle() {
  while (committing_ || !pending_.empty()) co_await committed_.Wait();
}

Task<absl::Status> SegmentedLog::TruncateFrom(uint64_t position) {
  co_await WaitIdle();
  if (!error_.ok()) co_return error_;
  if (position >= next_position_) co_return absl::OkStatus();
  CAIRN_CHECK_GE(position, start());
  bool removed = false;
  while (segments_.size() > 1 && segments_.back().first >= position) {
    const std::string path = SegmentPath(segments_.back().first);
    segments_.pop_back();
    CO_RETURN_IF_ERROR(co_await disk_.Remove(path));
    removed = true;
  }
  Segment& seg = segments_.back();
  const uint64_t index = position - seg.first;
  CAIRN_CHECK_LE(index, seg.offsets.size());
  uint64_t offset = index < seg.offsets.size() ? seg.offsets[index] : seg.size;
  absl::StatusOr<std::shared_ptr<File>> file = co_await FileOf(seg);
  if (!file.ok()) co_return file.status();
  if (seg.irregular) CO_RETURN_IF_ERROR(co_await KeepRecordsBehind(seg, **file, index, &offset));
  CO_RETURN_IF_ERROR(co_await (*file)->Truncate(offset));
  CO_RETURN_IF_ERROR(co_await (*file)->Sync());
  if (removed) CO_RETURN_IF_ERROR(co_await disk_.SyncDir(dir_));
  seg.offsets.resize(index);
  seg.size = offset;
  seg.allocated = offset;
  damaged_.erase(damaged_.lower_bound(position), damaged_.end());
  rotted_.erase(rotted_.lower_bound(position), rotted_.end());
  next_position_ = position;
  durable_position_ = position - 1;
  co_return absl::OkStatus();
}

Task<absl::Status> SegmentedLog::Reset(uint64_t first) {
  CAIRN_CHECK_GE(first, 1u);
  co_await WaitIdle();
  if (!error_.ok()) co_return error_;
  while (!segments_.empty()) {
    const std::string path = SegmentPath(segments_.back().first);
    segments_.pop_back();
    CO_RETURN_IF_ERROR(co_await disk_.Remove(path));
  }
  CO_RETURN_IF_ERROR(co_await disk_.SyncDir(dir_));
  damaged_.clear();
  rotted_.clear();
  CO_RETURN_IF_ERROR(co_await StartSegment(first));
  next_position_ = first;
  durable_position_ = first - 1;
  co_return absl::OkStatus();
}

Task<void> SegmentedLog::CommitLoop() {
  while (!pending_.empty() && error_.ok()) {
    Segment* seg = &segments_.back();
    // Buggify: a segment closed early now and then, so recovery and trimming meet many small
    // segments whatever the configured size.
    if (seg->size >= options_.segment_bytes_max || (seg->size > 0 && CAIRN_BUGGIFY(options_.probes))) {
      absl::Status s = co_await StartSegment(pending_.front().position);
      if (!s.ok()) {
        error_ = s;
        break;
      }
      seg = &segments_.back();
    }
    // Take a group: whatever is pending, up to the group bound (at least one record). Buggify:
    // a group of one, so that appends waiting behind a write are the common case.
    const uint64_t group_bytes_max = CAIRN_BUGGIFY(options_.probes) ? 1 : options_.group_commit_bytes_max;
    std::string batch;
    size_t taken = 0;
    std::vector<uint64_t> offsets;
    while (taken < pending_.size() && (taken == 0 || batch.size() < group_bytes_max)) {
      offsets.push_back(seg->size + batch.size());
      AppendLogRecord(pending_[taken].position, pending_[taken].payload, &batch, durable_position_);
      ++taken;
    }
    CAIRN_SOMETIMES(options_.probes, taken > 1, "log.group-commit-batched");
    const uint64_t last = pending_[taken - 1].position;
    pending_.erase(pending_.begin(), pending_.begin() + static_cast<ptrdiff_t>(taken));
    CAIRN_CHECK_EQ(seg->end(), last + 1 - taken);
    const uint64_t bytes = batch.size();
    // Past the space written ahead: zeros after the records, in the same write.
    uint64_t allocated = std::max(seg->allocated, seg->size + bytes);
    // Only for a synced log: unsynced, no fdatasync pays for a growing file, and the zeros
    // would double what is written.
    if (options_.sync && options_.preallocate_bytes > 0 && seg->size + bytes > seg->allocated) {
      allocated = std::max(seg->size + bytes, std::min(seg->size + bytes + options_.preallocate_bytes,
                                                      std::max(options_.segment_bytes_max, seg->allocated)));
      batch.resize(allocated - seg->size, '\0');
      CAIRN_SOMETIMES(options_.probes, seg->allocated > 0, "log.preallocated-space-extended");
    }
    absl::Status s;
    // Buggify: a slow fsync, which widens every window between a write and its durability.
    if (options_.sync && CAIRN_BUGGIFY(options_.probes)) {
      s = co_await seg->file->Write(seg->size, std::move(batch));
      if (s.ok()) co_await executor_.SleepFor(kSlowSyncBuggify);
      if (s.ok()) s = co_await seg->file->Sync();
    } else if (options_.sync) {
      s = co_await seg->file->WriteAndSync(seg->size, std::move(batch));
    } else {
      s = co_await seg->file->Write(seg->size, std::move(batch));
    }
    if (!s.ok()) {
      error_ = absl::Status(s.code(), absl::StrCat("journal ", dir_, " failed and must be reopened: ", s.message()));
      break;
    }
    seg->size += bytes;
    seg->allocated = allocated;
    seg->offsets.insert(seg->offsets.end(), offsets.begin(), offsets.end());
    durable_position_ = last;
    ++stats_.group_writes;
    committed_.NotifyAll();
  }
  committing_ = false;
  committed_.NotifyAll();
}

Task<absl::StatusOr<std::vector<LogRecord>>> SegmentedLog::Read(uint64_t from, size_t max_bytes) {
  std::vector<LogRecord> out;
  if (from < start()) {
    co_return absl::OutOfRangeError(absl::StrCat("journal position ", from, " is trimmed (start ", start(), ")"));
  }
  while (damaged_.contains(from)) ++from;
  if (from > durable_position_) co_return out;
  auto seg = std::upper_bound(segments_.begin(), segments_.end(), from,
                              [](uint64_t p, const Segment& s) { return p < s.first; });
  CAIRN_CHECK(seg != segments_.begin());
  Segment& s = *std::prev(seg);
  if (s.irregular) co_return co_await ReadIrregular(s, from, max_bytes);
  const std::string path = SegmentPath(s.first);
  const uint64_t index = from - s.first;
  CAIRN_CHECK_LT(index, s.offsets.size());
  // Read a span of whole records: up to max_bytes past the first, at least one record.
  const uint64_t begin = s.offsets[index];
  uint64_t end_index = index + 1;
  while (end_index < s.offsets.size() && s.offsets[end_index] - begin < max_bytes &&
         s.first + end_index <= durable_position_) {
    ++end_index;
  }
  const uint64_t end = end_index < s.offsets.size() ? s.offsets[end_index] : s.size;
  // `s` may be trimmed while this waits: only the file handle and copies are used after it.
  absl::StatusOr<std::shared_ptr<File>> file = co_await FileOf(s);
  if (!file.ok()) co_return file.status();
  for (int attempt = 1;; ++attempt) {
    absl::StatusOr<std::string> bytes = co_await (*file)->Read(begin, end - begin);
    absl::Status problem;
    if (bytes.ok()) {
      const ParsedSegment parsed = ParseSegment(*bytes, from);
      if (!parsed.irregular && parsed.good == end - begin && parsed.offsets.size() == end_index - index) {
        out.reserve(parsed.offsets.size());
        for (size_t i = 0; i < parsed.offsets.size(); ++i) {
          const char* h = bytes->data() + parsed.offsets[i];
          out.push_back(LogRecord{from + i, std::string(h + kLogRecordHeaderBytes, DecodeFixed32(h + kLogRecordLengthOffset)),
                                  DecodeFixed64(h + kLogRecordSyncedOffset)});
        }
        co_return out;
      }
      const uint64_t bad = parsed.missing.empty() ? from + parsed.offsets.size() : parsed.missing.front();
      const uint64_t bad_offset = parsed.missing.empty() ? parsed.good : parsed.offsets[bad - from];
      problem = absl::DataLossError(absl::StrCat(path, ": record at offset ", begin + bad_offset, " (position ", bad,
                                                 ") is damaged"));
    } else {
      problem = bytes.status();
    }
    if (attempt == kReadAttemptsMax) co_return problem;
  }
}

Task<absl::StatusOr<std::vector<LogRecord>>> SegmentedLog::ReadIrregular(Segment& s, uint64_t from,
                                                                             size_t max_bytes) {
  const std::string path = SegmentPath(s.first);
  const uint64_t first = s.first;
  // Copied before the first await (`s` may be trimmed meanwhile), and bounded, so that reading
  // a long segment call by call stays linear.
  constexpr size_t kRecordsPerReadMax = 4096;
  std::vector<std::pair<uint64_t, uint64_t>> wanted;  // (position, offset)
  for (uint64_t q = from; q < s.end() && q <= durable_position_ && wanted.size() < kRecordsPerReadMax; ++q) {
    if (!damaged_.contains(q)) wanted.emplace_back(q, s.offsets[q - first]);
  }
  absl::StatusOr<std::shared_ptr<File>> file = co_await FileOf(s);
  if (!file.ok()) co_return file.status();
  std::vector<LogRecord> out;
  size_t bytes_out = 0;
  for (const auto& [position, offset] : wanted) {
    if (!out.empty() && bytes_out >= max_bytes) break;
    absl::Status problem;
    bool done = false;
    for (int attempt = 1; attempt <= kReadAttemptsMax && !done; ++attempt) {
      absl::StatusOr<std::string> header = co_await (*file)->Read(offset, kLogRecordHeaderBytes);
      if (!header.ok() || header->size() < kLogRecordHeaderBytes) {
        problem = header.ok() ? absl::DataLossError("short read") : header.status();
        continue;
      }
      const uint32_t length = std::min(DecodeFixed32(header->data() + 4), kLogRecordBytesMax);
      absl::StatusOr<std::string> bytes = co_await (*file)->Read(offset, kLogRecordHeaderBytes + length);
      if (!bytes.ok()) {
        problem = bytes.status();
        continue;
      }
      std::optional<RecordHeader> r = IntactRecordAt(*bytes, 0);
      if (r.has_value() && r->position == position) {
        out.push_back(LogRecord{position, bytes->substr(kLogRecordHeaderBytes, r->length), r->synced_through});
        bytes_out += r->length;
        done = true;
      } else {
        problem = absl::DataLossError(
            absl::StrCat(path, ": record at offset ", offset, " (position ", position, ") is damaged"));
      }
    }
    if (!done) co_return problem;
  }
  co_return out;
}

Task<absl::Status> SegmentedLog::Trim(uint64_t upto) {
  // Whole segments only, and never the one being appended to.
  while (segments_.size() > 1 && segments_[1].first <= upto) {
    const std::string path = SegmentPath(segments_.front().first);
    segments_.erase(segments_.begin());
    CO_RETURN_IF_ERROR(co_await disk_.Remove(path));
    ++stats_.segments_trimmed;
  }
  damaged_.erase(damaged_.begin(), damaged_.lower_bound(start()));
  rotted_.erase(rotted_.begin(), rotted_.lower_bound(start()));
  co_return co_await disk_.SyncDir(dir_);
}

Task<absl::Status> SegmentedLog::KeepRecordsBehind(Segment& seg, File& file, uint64_t index, uint64_t* offset) {
  // Records before the cut that recovery found behind it (a misdirected write put them there:
  // ParseSegment) stay: the cut moves past the last of them, and the records from the cut on
  // that sit before the new cut lose their headers, so that no recovery takes them back.
  uint64_t keep_end = *offset;
  for (uint64_t i = 0; i < index; ++i) {
    if (seg.offsets[i] < *offset || damaged_.contains(seg.first + i)) continue;
    absl::StatusOr<std::string> header = co_await file.Read(seg.offsets[i], kLogRecordHeaderBytes);
    if (!header.ok()) co_return header.status();
    if (header->size() < kLogRecordHeaderBytes) co_return absl::DataLossError("short read of a record header");
    keep_end = std::max(keep_end, seg.offsets[i] + kLogRecordHeaderBytes + DecodeFixed32(header->data() + 4));
  }
  if (keep_end == *offset) co_return absl::OkStatus();
  CAIRN_SOMETIMES(options_.probes, true, "log.cut-kept-a-record-behind-it");
  for (uint64_t j = index; j < seg.offsets.size(); ++j) {
    if (seg.offsets[j] >= keep_end || damaged_.contains(seg.first + j)) continue;
    CO_RETURN_IF_ERROR(co_await file.Write(seg.offsets[j], std::string(kLogRecordHeaderBytes, '\0')));
  }
  *offset = keep_end;
  co_return absl::OkStatus();
}

}  // namespace cairn::storage

#include "src/journal/raft_storage.h"

#include <map>
#include <optional>

#include "absl/strings/str_cat.h"
#include "src/base/check.h"
#include "src/base/status.h"
#include "src/base/strings.h"
#include "src/base/varint.h"
#include "src/lsm/sealed_file.h"

namespace cairn::journal {
namespace {

constexpr std::string_view kStateMagic = "CRNRAFTS";
constexpr uint64_t kStateFormatVersion = 3;  // 3: two copies with a sequence number, the vote floor
constexpr size_t kStateBytesMax = 1u << 20;
constexpr size_t kRecoveryReadBytes = 4u << 20;
constexpr char kEntryTag = 'E';
constexpr char kStartTag = 'S';
constexpr size_t kMembersMax = 1000;

void PutMembers(std::string* out, const std::vector<NodeId>& members) {
  PutVarint64(out, members.size());
  for (NodeId n : members) PutVarint64(out, n);
}

bool ReadMembers(ByteReader& r, std::vector<NodeId>* members) {
  const uint64_t count = r.Varint64();
  if (!r.ok() || count > kMembersMax) return false;
  members->clear();
  for (uint64_t i = 0; i < count; ++i) members->push_back(static_cast<NodeId>(r.Varint64()));
  return r.ok();
}

void PutStart(std::string* out, const LogStart& s) {
  PutVarint64(out, s.first_index);
  PutVarint64(out, s.first_prev_term);
  PutMembers(out, s.members);
  PutVarint64(out, s.epoch);
  PutVarint64(out, s.first_position);
}

bool ReadStart(ByteReader& r, LogStart* s) {
  s->first_index = r.Varint64();
  s->first_prev_term = r.Varint64();
  if (!ReadMembers(r, &s->members)) return false;
  s->epoch = r.Varint64();
  s->first_position = r.Varint64();
  return r.ok() && s->first_index >= 1 && s->first_position >= 1;
}

std::string EncodeStartMarker(const LogStart& s) {
  std::string out(1, kStartTag);
  PutStart(&out, s);
  return out;
}

// The fields of an entry after its tag; false when they do not parse.
bool ReadEntryFields(ByteReader& r, Entry* e) {
  e->term = r.Varint64();
  const uint64_t kind = r.Varint64();
  e->epoch = r.Varint64();
  const bool members_ok = ReadMembers(r, &e->members);
  e->payload.assign(r.LengthPrefixed());
  e->client = r.Varint64();
  e->seq = r.Varint64();
  e->position = r.Varint64();
  if (!r.ok() || !members_ok || kind > static_cast<uint64_t>(EntryKind::kTrim)) return false;
  e->kind = static_cast<EntryKind>(kind);
  return true;
}

// A log record: the entry, then the first index of the Persist that wrote it (which tells a
// torn last write from damage to an earlier one).
std::string EncodeEntryRecord(const Entry& e, uint64_t batch_first) {
  std::string out = EncodeEntry(e);
  PutVarint64(&out, batch_first);
  return out;
}

absl::Status DecodeEntryRecord(uint64_t index, std::string_view bytes, Entry* e, uint64_t* batch_first) {
  ByteReader r(bytes);
  e->index = index;
  const uint8_t tag = r.Byte();
  const bool fields_ok = ReadEntryFields(r, e);
  *batch_first = r.Varint64();
  if (!r.ok() || !fields_ok || tag != kEntryTag || r.remaining() != 0 || *batch_first > index) {
    return absl::DataLossError(absl::StrCat("raft log: the record of entry ", index, " is malformed"));
  }
  return absl::OkStatus();
}

}  // namespace

std::string EncodeEntry(const Entry& e) {
  std::string out(1, kEntryTag);
  PutVarint64(&out, e.term);
  PutVarint64(&out, static_cast<uint64_t>(e.kind));
  PutVarint64(&out, e.epoch);
  PutMembers(&out, e.members);
  PutLengthPrefixed(&out, e.payload);
  PutVarint64(&out, e.client);
  PutVarint64(&out, e.seq);
  PutVarint64(&out, e.position);
  return out;
}

absl::StatusOr<Entry> DecodeEntry(uint64_t index, std::string_view bytes) {
  ByteReader r(bytes);
  Entry e;
  e.index = index;
  const uint8_t tag = r.Byte();
  if (!ReadEntryFields(r, &e) || !r.ok() || tag != kEntryTag || r.remaining() != 0) {
    return absl::DataLossError(absl::StrCat("raft log: entry ", index, " is malformed"));
  }
  return e;
}

Task<absl::StatusOr<std::unique_ptr<RaftStorage>>> RaftStorage::Open(Disk& disk, Executor& executor, std::string dir,
                                                                     std::vector<NodeId> members) {
  std::unique_ptr<RaftStorage> s(new RaftStorage(disk, std::move(dir)));
  CO_RETURN_IF_ERROR(co_await s->Recover(executor, std::move(members)));
  co_return s;
}

Task<absl::Status> RaftStorage::WriteState() {
  std::string body;
  PutVarint64(&body, kStateFormatVersion);
  PutVarint64(&body, ++state_seq_);
  PutVarint64(&body, recovered_.hard.term);
  PutVarint64(&body, recovered_.hard.vote);
  PutVarint64(&body, recovered_.hard.commit);
  PutVarint64(&body, recovered_.hard.floor_term);
  PutVarint64(&body, recovered_.hard.floor_index);
  PutStart(&body, start_);
  const std::string sealed = lsm::SealBody(kStateMagic, body);
  // Copy 0, then copy 1; the caller acts only after both (see the header).
  for (std::string_view name : kStateFileNames) {
    CO_RETURN_IF_ERROR(co_await lsm::ReplaceSealedFile(disk_, dir_, std::string(name), sealed, true));
  }
  written_ = recovered_.hard;
  co_return absl::OkStatus();
}

uint64_t RaftStorage::LastIndex() const {
  CAIRN_CHECK_EQ(log_->next_position() % 2, 0u);
  return std::max(log_->next_position() / 2, start_.first_index) - 1;
}

Task<absl::Status> RaftStorage::Recover(Executor& executor, std::vector<NodeId> members) {
  CO_RETURN_IF_ERROR(co_await disk_.CreateDir(dir_));
  bool state_stale = false;
  CO_RETURN_IF_ERROR(co_await RecoverState(std::move(members), &state_stale));
  CO_RETURN_IF_ERROR(co_await RecoverLog(executor, &state_stale));
  if (state_stale) CO_RETURN_IF_ERROR(co_await WriteState());
  recovered_.start = start_;
  // The commit index is relearned from a leader; it never claims more than the log holds.
  recovered_.hard.commit = std::min(recovered_.hard.commit, LastIndex());
  co_return absl::OkStatus();
}

Task<absl::Status> RaftStorage::RecoverState(std::vector<NodeId> members, bool* state_stale) {
  struct Copy {
    absl::Status status;
    uint64_t seq = 0;
    HardState hard;
    LogStart start;
  };
  Copy copies[2];
  for (int c = 0; c < 2; ++c) {
    const std::string path = absl::StrCat(dir_, "/", AbslView(kStateFileNames[c]));
    absl::StatusOr<std::string> body = co_await lsm::ReadSealedBody(disk_, path, kStateMagic, path, kStateBytesMax);
    if (!body.ok()) {
      copies[c].status = body.status();
      continue;
    }
    ByteReader r(*body);
    Copy& copy = copies[c];
    const uint64_t version = r.Varint64();
    copy.seq = r.Varint64();
    copy.hard.term = r.Varint64();
    copy.hard.vote = static_cast<NodeId>(r.Varint64());
    copy.hard.commit = r.Varint64();
    copy.hard.floor_term = r.Varint64();
    copy.hard.floor_index = r.Varint64();
    if (!ReadStart(r, &copy.start) || version != kStateFormatVersion || r.remaining() != 0 ||
        (copy.hard.floor_term == 0) != (copy.hard.floor_index == 0)) {
      copy.status = absl::DataLossError(absl::StrCat(path, ": malformed (format version ", version, ")"));
    }
  }
  const bool ok0 = copies[0].status.ok(), ok1 = copies[1].status.ok();
  if (!ok0 && !ok1) {
    if (absl::IsDataLoss(copies[0].status) && absl::IsDataLoss(copies[1].status)) {
      co_return absl::DataLossError(absl::StrCat(dir_, ": both copies of STATE are damaged (", copies[0].status.message(),
                                                 "; ", copies[1].status.message(),
                                                 "): this replica forgot its votes; replace it with another"));
    }
    if (!absl::IsNotFound(copies[0].status) && !absl::IsDataLoss(copies[0].status)) co_return copies[0].status;
    if (!absl::IsNotFound(copies[1].status) && !absl::IsDataLoss(copies[1].status)) co_return copies[1].status;
    // No copy at all, or copy 0 only (damaged) and never copy 1: the group's creation was cut
    // off before its first STATE write finished, so this node never acted as a member.
    if (members.empty()) {
      co_return absl::NotFoundError(absl::StrCat(dir_, ": no raft group here (no STATE, and no members to create one)"));
    }
    *state_stale = true;  // a new group: write its first STATE
    start_ = LogStart{.first_index = 1, .first_prev_term = 0, .members = std::move(members), .epoch = 0};
    co_return absl::OkStatus();
  }
  for (int c = 0; c < 2; ++c) {
    if (!copies[c].status.ok() && !absl::IsNotFound(copies[c].status) && !absl::IsDataLoss(copies[c].status)) {
      co_return copies[c].status;  // an IO error: try again later rather than repair
    }
  }
  const int best = (ok0 && (!ok1 || copies[0].seq >= copies[1].seq)) ? 0 : 1;
  if (!ok0 || !ok1 || copies[0].seq != copies[1].seq) {
    *state_stale = true;  // rewrite both from the survivor (or the later write)
    if (!ok0 || !ok1) ++recovery_stats_.state_copies_repaired;
  }
  state_seq_ = copies[best].seq;
  recovered_.hard = copies[best].hard;
  written_ = recovered_.hard;
  start_ = copies[best].start;
  co_return absl::OkStatus();
}

Task<absl::Status> RaftStorage::RecoverLog(Executor& executor, bool* state_stale) {
  lsm::LocalJournalOptions options;
  options.tolerate_damage = true;
  absl::StatusOr<std::unique_ptr<lsm::LocalJournal>> log =
      co_await lsm::LocalJournal::Open(disk_, executor, dir_ + "/log", options);
  if (!log.ok()) co_return log.status();
  log_ = *std::move(log);

  // Every record: a start marker first if a reset wrote one, then entries, each twice.
  struct Found {
    Entry entry;
    uint64_t batch_first = 0;
    int copies = 0;
  };
  std::map<uint64_t, Found> found;  // by index, from start_.first_index on
  std::optional<LogStart> marker;     // the journal's start marker, if it has one
  for (uint64_t position = log_->start(); position < log_->next_position();) {
    absl::StatusOr<std::vector<lsm::JournalRecord>> records = co_await log_->Read(position, kRecoveryReadBytes);
    if (!records.ok()) co_return records.status();
    if (records->empty()) break;
    for (lsm::JournalRecord& rec : *records) {
      position = rec.position + 1;
      const uint64_t index = rec.position / 2;
      if (!rec.payload.empty() && rec.payload[0] == kStartTag) {
        ByteReader r(std::string_view(rec.payload).substr(1));
        LogStart read;
        if (!ReadStart(r, &read) || read.first_index != index + 1 || index != log_->start() / 2) {
          co_return absl::DataLossError(absl::StrCat(dir_, ": malformed start marker at ", rec.position));
        }
        if (read.first_index > start_.first_index) {
          start_ = read;  // a reset whose STATE write a crash cut off
          *state_stale = true;
        }
        marker = read;
        continue;
      }
      if (index < start_.first_index) continue;  // trimmed
      Found f;
      CO_RETURN_IF_ERROR(DecodeEntryRecord(index, rec.payload, &f.entry, &f.batch_first));
      auto [it, inserted] = found.try_emplace(index, std::move(f));
      ++it->second.copies;
    }
  }

  // The first index from the start that no copy holds.
  const uint64_t first = start_.first_index;
  uint64_t gap = first;
  while (found.contains(gap)) ++gap;
  if (const uint64_t next = log_->next_position(); next > JournalPositionOf(gap, 0)) {
    // The journal holds something at or after the gap: intact entries, or positions it found
    // damaged (followed by an intact record, or by a later segment).
    const uint64_t old_end = (next - 1) / 2;
    const bool intact_after = !found.empty() && found.rbegin()->first > gap;
    const uint64_t last = intact_after ? found.rbegin()->first : 0;
    const bool damaged_after_last =
        !log_->damaged().empty() && *log_->damaged().rbegin() > JournalPositionOf(last, 1);
    const uint64_t dropped = old_end - gap + 1;  // the damaged entries and the intact ones after them
    if (intact_after && found.rbegin()->second.batch_first <= gap && !damaged_after_last) {
      recovery_stats_.torn_entries_dropped += dropped;  // inside the last write: torn, never acknowledged
    } else {
      // An entry synced before a later write began was lost: raise the floor to the old end
      // (its term, when the entry there survived; else the current term, which no entry's
      // exceeds), durably, before the log forgets it.
      recovery_stats_.damaged_entries_dropped += dropped;
      HardState& hard = recovered_.hard;
      const uint64_t end_term = intact_after && last == old_end ? found.rbegin()->second.entry.term : hard.term;
      if (std::pair(end_term, old_end) > std::pair(hard.floor_term, hard.floor_index)) {
        hard.floor_term = end_term;
        hard.floor_index = old_end;
      }
      CO_RETURN_IF_ERROR(co_await WriteState());
      *state_stale = false;
    }
    CO_RETURN_IF_ERROR(co_await log_->TruncateFrom(std::max(JournalPositionOf(gap, 0), log_->start())));
    found.erase(found.lower_bound(gap), found.end());
  }
  // A last record standing alone: the second copy of the last entry (or of the start marker),
  // torn off; write it again. (A damaged record's lone twin: drop it.)
  if (const uint64_t next = log_->next_position(); next % 2 == 1 && next > log_->start()) {
    const uint64_t lone = (next - 1) / 2;
    auto it = found.find(lone);
    std::vector<std::string> again;
    if (it != found.end()) {
      again.push_back(EncodeEntryRecord(it->second.entry, it->second.batch_first));
    } else if (marker.has_value() && lone + 1 == marker->first_index) {
      again.push_back(EncodeStartMarker(*marker));
    }
    if (!again.empty()) {
      absl::StatusOr<uint64_t> at = co_await log_->AppendBatch(std::move(again));
      if (!at.ok()) co_return at.status();
    } else {
      CO_RETURN_IF_ERROR(co_await log_->TruncateFrom(next - 1));
    }
  }
  std::vector<Entry> entries;
  entries.reserve(found.size());
  for (auto& [index, f] : found) {
    CAIRN_CHECK_EQ(index, first + entries.size());
    if (f.copies == 1) ++recovery_stats_.entries_from_one_copy;
    entries.push_back(std::move(f.entry));
  }
  // A log that holds nothing from the start on (new, or cut off in a reset) continues there.
  if (entries.empty() && log_->next_position() != JournalPositionOf(first, 0)) {
    CO_RETURN_IF_ERROR(co_await log_->Reset(JournalPositionOf(first, 0)));
  }
  recovered_.entries = std::move(entries);
  co_return absl::OkStatus();
}

Task<absl::StatusOr<uint64_t>> RaftStorage::Persist(const RaftCore::Ready& ready) {
  if (failed_) co_return absl::FailedPreconditionError("raft storage failed before: reopen it");
  failed_ = true;  // until this Persist succeeds
  bool state_changed = false;
  if (ready.hard_state.has_value()) {
    state_changed = ready.hard_state->term != written_.term || ready.hard_state->vote != written_.vote ||
                    ready.hard_state->floor_index != written_.floor_index ||
                    ready.hard_state->floor_term != written_.floor_term;
    recovered_.hard = *ready.hard_state;
  }
  if (ready.reset.has_value()) {
    CAIRN_CHECK_GE(ready.reset->first_index, 2u);
    CO_RETURN_IF_ERROR(co_await log_->Reset(JournalPositionOf(ready.reset->first_index - 1, 0)));
    std::vector<std::string> marker = {EncodeStartMarker(*ready.reset), EncodeStartMarker(*ready.reset)};
    absl::StatusOr<uint64_t> at = co_await log_->AppendBatch(std::move(marker));
    if (!at.ok()) co_return at.status();
    start_ = *ready.reset;
    state_changed = true;
  }
  if (ready.trim.has_value()) {
    start_ = *ready.trim;
    CO_RETURN_IF_ERROR(co_await WriteState());  // first: recovery skips what the log still holds below
    state_changed = false;
    CO_RETURN_IF_ERROR(co_await log_->Trim(JournalPositionOf(start_.first_index, 0)));
  }
  if (ready.truncate_from != 0) {
    CO_RETURN_IF_ERROR(co_await log_->TruncateFrom(JournalPositionOf(ready.truncate_from, 0)));
  }
  if (!ready.entries.empty()) {
    const uint64_t batch_first = ready.entries.front().index;
    CAIRN_CHECK_EQ(batch_first, LastIndex() + 1);
    // Both copies of each entry, in one write: a flipped bit spoils one of them.
    std::vector<std::string> records;
    records.reserve(2 * ready.entries.size());
    for (const Entry& e : ready.entries) {
      records.push_back(EncodeEntryRecord(e, batch_first));
      records.push_back(records.back());
    }
    absl::StatusOr<uint64_t> last = co_await log_->AppendBatch(std::move(records));
    if (!last.ok()) co_return last.status();
    CAIRN_CHECK_EQ(*last, JournalPositionOf(ready.entries.back().index, 1));
  }
  if (state_changed) CO_RETURN_IF_ERROR(co_await WriteState());
  failed_ = false;
  co_return LastIndex();
}

}  // namespace cairn::journal

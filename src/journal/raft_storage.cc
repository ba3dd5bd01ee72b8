#include "src/journal/raft_storage.h"

#include "absl/strings/str_cat.h"
#include "src/base/check.h"
#include "src/base/status.h"
#include "src/base/varint.h"
#include "src/lsm/sealed_file.h"

namespace cairn::journal {
namespace {

constexpr std::string_view kStateMagic = "CRNRAFTS";
constexpr uint64_t kStateFormatVersion = 2;  // 2: the start carries first_position
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
  e.term = r.Varint64();
  const uint64_t kind = r.Varint64();
  e.epoch = r.Varint64();
  const bool members_ok = ReadMembers(r, &e.members);
  e.payload.assign(r.LengthPrefixed());
  e.client = r.Varint64();
  e.seq = r.Varint64();
  e.position = r.Varint64();
  if (!r.ok() || !members_ok || tag != kEntryTag || kind > static_cast<uint64_t>(EntryKind::kTrim) ||
      r.remaining() != 0) {
    return absl::DataLossError(absl::StrCat("raft log: entry ", index, " is malformed"));
  }
  e.kind = static_cast<EntryKind>(kind);
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
  PutVarint64(&body, recovered_.hard.term);
  PutVarint64(&body, recovered_.hard.vote);
  PutVarint64(&body, recovered_.hard.commit);
  PutStart(&body, start_);
  CO_RETURN_IF_ERROR(co_await lsm::ReplaceSealedFile(disk_, dir_, "STATE", lsm::SealBody(kStateMagic, body), true));
  written_ = recovered_.hard;
  co_return absl::OkStatus();
}

uint64_t RaftStorage::LastIndex() const { return std::max(log_->next_position(), start_.first_index) - 1; }

Task<absl::Status> RaftStorage::Recover(Executor& executor, std::vector<NodeId> members) {
  CO_RETURN_IF_ERROR(co_await disk_.CreateDir(dir_));
  // STATE: the hard state and the start, or a new group.
  bool fresh = false;
  {
    absl::StatusOr<std::string> bytes = co_await lsm::ReadSealedFile(disk_, dir_ + "/STATE", kStateBytesMax);
    if (absl::IsNotFound(bytes.status())) {
      if (members.empty()) {
        co_return absl::NotFoundError(absl::StrCat(dir_, ": no raft group here (no STATE, and no members to create one)"));
      }
      fresh = true;
      start_ = LogStart{.first_index = 1, .first_prev_term = 0, .members = std::move(members), .epoch = 0};
    } else {
      if (!bytes.ok()) co_return bytes.status();
      absl::StatusOr<std::string_view> body = lsm::OpenSealedBody(kStateMagic, *bytes, "raft state");
      if (!body.ok()) co_return body.status();
      ByteReader r(*body);
      const uint64_t version = r.Varint64();
      recovered_.hard.term = r.Varint64();
      recovered_.hard.vote = static_cast<NodeId>(r.Varint64());
      recovered_.hard.commit = r.Varint64();
      if (!ReadStart(r, &start_) || version != kStateFormatVersion || r.remaining() != 0) {
        co_return absl::DataLossError(absl::StrCat(dir_, "/STATE: malformed (format version ", version, ")"));
      }
    }
  }
  absl::StatusOr<std::unique_ptr<lsm::LocalJournal>> log = co_await lsm::LocalJournal::Open(disk_, executor, dir_ + "/log");
  if (!log.ok()) co_return log.status();
  log_ = *std::move(log);

  // The log: a start marker first if a reset wrote one, then entries.
  std::vector<Entry> entries;
  bool state_stale = fresh;
  for (uint64_t position = log_->start(); position < log_->next_position();) {
    absl::StatusOr<std::vector<lsm::JournalRecord>> records = co_await log_->Read(position, kRecoveryReadBytes);
    if (!records.ok()) co_return records.status();
    if (records->empty()) break;
    for (lsm::JournalRecord& rec : *records) {
      position = rec.position + 1;
      if (!rec.payload.empty() && rec.payload[0] == kStartTag) {
        ByteReader r(std::string_view(rec.payload).substr(1));
        LogStart marker;
        if (!ReadStart(r, &marker) || marker.first_index != rec.position + 1 || rec.position != log_->start()) {
          co_return absl::DataLossError(absl::StrCat(dir_, ": malformed start marker at ", rec.position));
        }
        if (marker.first_index > start_.first_index) {
          start_ = marker;  // a reset whose STATE write a crash cut off
          state_stale = true;
        }
        continue;
      }
      if (rec.position < start_.first_index) continue;  // trimmed
      absl::StatusOr<Entry> e = DecodeEntry(rec.position, rec.payload);
      if (!e.ok()) co_return e.status();
      if (entries.empty() && rec.position != start_.first_index) {
        co_return absl::DataLossError(absl::StrCat(dir_, ": the log resumes at ", rec.position, ", after its start ",
                                                   start_.first_index));
      }
      entries.push_back(*std::move(e));
    }
  }
  if (state_stale) CO_RETURN_IF_ERROR(co_await WriteState());
  // A log that holds nothing from the start on (new, or cut off in a reset) continues there.
  if (entries.empty() && log_->next_position() != start_.first_index) {
    CO_RETURN_IF_ERROR(co_await log_->Reset(start_.first_index));
  }
  recovered_.start = start_;
  recovered_.entries = std::move(entries);
  // The commit index is relearned from a leader; it never claims more than the log holds.
  recovered_.hard.commit = std::min(recovered_.hard.commit, LastIndex());
  co_return absl::OkStatus();
}

Task<absl::StatusOr<uint64_t>> RaftStorage::Persist(const RaftCore::Ready& ready) {
  if (failed_) co_return absl::FailedPreconditionError("raft storage failed before: reopen it");
  failed_ = true;  // until this Persist succeeds
  bool state_changed = false;
  if (ready.hard_state.has_value()) {
    state_changed = ready.hard_state->term != written_.term || ready.hard_state->vote != written_.vote;
    recovered_.hard = *ready.hard_state;
  }
  if (ready.reset.has_value()) {
    CAIRN_CHECK_GE(ready.reset->first_index, 2u);
    CO_RETURN_IF_ERROR(co_await log_->Reset(ready.reset->first_index - 1));
    std::vector<std::string> marker = {EncodeStartMarker(*ready.reset)};
    absl::StatusOr<uint64_t> at = co_await log_->AppendBatch(std::move(marker));
    if (!at.ok()) co_return at.status();
    start_ = *ready.reset;
    state_changed = true;
  }
  if (ready.trim.has_value()) {
    start_ = *ready.trim;
    CO_RETURN_IF_ERROR(co_await WriteState());  // first: recovery skips what the log still holds below
    state_changed = false;
    CO_RETURN_IF_ERROR(co_await log_->Trim(start_.first_index));
  }
  if (ready.truncate_from != 0) CO_RETURN_IF_ERROR(co_await log_->TruncateFrom(ready.truncate_from));
  if (!ready.entries.empty()) {
    CAIRN_CHECK_EQ(ready.entries.front().index, std::max(log_->next_position(), start_.first_index));
    std::vector<std::string> records;
    records.reserve(ready.entries.size());
    for (const Entry& e : ready.entries) records.push_back(EncodeEntry(e));
    absl::StatusOr<uint64_t> last = co_await log_->AppendBatch(std::move(records));
    if (!last.ok()) co_return last.status();
    CAIRN_CHECK_EQ(*last, ready.entries.back().index);
  }
  if (state_changed) CO_RETURN_IF_ERROR(co_await WriteState());
  failed_ = false;
  co_return LastIndex();
}

}  // namespace cairn::journal

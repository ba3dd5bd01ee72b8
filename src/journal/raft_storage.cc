#include "src/journal/raft_storage.h"

#include <limits>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "src/base/check.h"
#include "src/runtime/assertions.h"
#include "src/base/status.h"
#include "src/base/strings.h"
#include "src/base/varint.h"
#include "src/journal/log_encoding.h"
#include "src/storage/sealed_file.h"

namespace cairn::journal {
namespace {

constexpr std::string_view kStateMagic = "CRNRAFTS";
// 3: two copies with a sequence number, the vote floor; 4: the incarnation, entries in the node log;
// 5: the start's retries (LogStart::retries)
constexpr uint64_t kStateFormatVersion = 5;
constexpr size_t kStateBytesMax = 1u << 20;
constexpr std::string_view kStateLostPayload = "cairn.journal/state-lost";

}  // namespace

bool IsStateLost(const absl::Status& s) { return s.GetPayload(AbslView(kStateLostPayload)).has_value(); }

Task<absl::StatusOr<std::unique_ptr<RaftStorage>>> RaftStorage::Open(Disk& disk, NodeLog& log, std::string stream,
                                                                     std::string dir, std::vector<NodeId> members) {
  std::unique_ptr<RaftStorage> s(new RaftStorage(disk, log, std::move(stream), std::move(dir)));
  absl::Status recovered = co_await s->Recover(std::move(members));
  if (!recovered.ok()) {
    // The stream was replayed, but does not open: a retry (the operator's create, again)
    // replays it afresh.
    if (s->replayed_) log.Abandon(s->key_);
    co_return recovered;
  }
  co_return s;
}

Task<absl::Status> RaftStorage::WriteState() {
  std::string body;
  PutVarint64(&body, kStateFormatVersion);
  PutVarint64(&body, ++state_seq_);
  PutVarint64(&body, key_.incarnation);
  PutVarint64(&body, recovered_.hard.term);
  PutVarint64(&body, recovered_.hard.vote);
  PutVarint64(&body, recovered_.hard.commit);
  PutVarint64(&body, recovered_.hard.floor_term);
  PutVarint64(&body, recovered_.hard.floor_index);
  PutStart(&body, start_);
  const std::string sealed = storage::SealBody(kStateMagic, body);
  // Copy 0, then copy 1; the caller acts only after both (see the header).
  for (std::string_view name : kStateFileNames) {
    CO_RETURN_IF_ERROR(co_await storage::ReplaceSealedFile(disk_, dir_, std::string(name), sealed, true));
  }
  written_ = recovered_.hard;
  co_return absl::OkStatus();
}

Task<absl::Status> RaftStorage::Recover(std::vector<NodeId> members) {
  CO_RETURN_IF_ERROR(co_await disk_.CreateDir(dir_));
  bool state_stale = false;
  CO_RETURN_IF_ERROR(co_await RecoverState(std::move(members), &state_stale));
  NodeLog::Replayed log = log_.Replay(key_, start_);
  replayed_ = true;
  if (log.reset.has_value()) {
    start_ = *log.reset;  // a reset whose STATE write a crash cut off
    state_stale = true;
  }
  last_index_ = start_.first_index - 1 + log.entries.size();
  HardState& hard = recovered_.hard;
  const bool may_lack_acknowledged = log.dropped || log_.unhandled_loss();
  if (log.cut_at != 0 || may_lack_acknowledged) {
    // After a loss the log is one this node held before it, whose entries past the commit of
    // that time may since have been overwritten, while STATE's commit may be later: relearn it
    // from a leader, and do not let a later recovery find the old one.
    if (hard.commit > start_.first_index - 1) state_stale = true;
    hard.commit = start_.first_index - 1;
  }
  if (may_lack_acknowledged && hard.term > 0) {
    // Entries this node synced, and may have acknowledged, are gone (see the header). None
    // has a term past the current one.
    hard.floor_term = hard.term;
    hard.floor_index = std::numeric_limits<uint64_t>::max();
    ++recovery_stats_.floors_raised;
    CAIRN_SOMETIMES(log_.probes(), true, "raft.vote-floor-raised");
    state_stale = true;
  }
  if (state_stale) CO_RETURN_IF_ERROR(co_await WriteState());
  if (log.cut_at != 0) {
    // After the floor is durable: the cut, so that the next replay finds no hole here.
    ++recovery_stats_.holes_cut;
    LogChange cut;
    cut.truncate_from = log.cut_at;
    cut.recovery_cut = true;
    cut.cut_answers = log.cut_answers;
    CO_RETURN_IF_ERROR(co_await log_.Write(key_, std::move(cut)));
  }
  recovered_.start = start_;
  recovered_.entries = std::move(log.entries);
  // The commit index is relearned from a leader; it never claims more than the log holds.
  hard.commit = std::min(hard.commit, last_index_);
  co_return absl::OkStatus();
}

Task<absl::Status> RaftStorage::RecoverState(std::vector<NodeId> members, bool* state_stale) {
  struct Copy {
    absl::Status status;
    uint64_t seq = 0;
    uint64_t incarnation = 0;
    HardState hard;
    LogStart start;
  };
  Copy copies[2];
  for (int c = 0; c < 2; ++c) {
    const std::string path = absl::StrCat(dir_, "/", AbslView(kStateFileNames[c]));
    absl::StatusOr<std::string> body = co_await storage::ReadSealedBody(disk_, path, kStateMagic, path, kStateBytesMax);
    if (!body.ok()) {
      copies[c].status = body.status();
      continue;
    }
    ByteReader r(*body);
    Copy& copy = copies[c];
    const uint64_t version = r.Varint64();
    copy.seq = r.Varint64();
    copy.incarnation = r.Varint64();
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
      absl::Status lost = absl::DataLossError(absl::StrCat(dir_, ": both copies of STATE are damaged (",
                                                           copies[0].status.message(), "; ", copies[1].status.message(),
                                                           "): this replica forgot its votes; replace it with another"));
      lost.SetPayload(AbslView(kStateLostPayload), absl::Cord("1"));
      co_return lost;
    }
    if (!absl::IsNotFound(copies[0].status) && !absl::IsDataLoss(copies[0].status)) co_return copies[0].status;
    if (!absl::IsNotFound(copies[1].status) && !absl::IsDataLoss(copies[1].status)) co_return copies[1].status;
    // No copy at all, or copy 0 only (damaged) and never copy 1: the group's creation was cut
    // off before its first STATE write finished, so this node never acted as a member.
    if (members.empty()) {
      co_return absl::NotFoundError(absl::StrCat(dir_, ": no raft group here (no STATE, and no members to create one)"));
    }
    *state_stale = true;  // a new group: write its first STATE
    key_.incarnation = log_.NewIncarnation();
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
    CAIRN_SOMETIMES(log_.probes(), !ok0 || !ok1, "raft.state-copy-repaired");
  }
  state_seq_ = copies[best].seq;
  key_.incarnation = copies[best].incarnation;
  recovered_.hard = copies[best].hard;
  written_ = recovered_.hard;
  start_ = copies[best].start;
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
  if (ready.trim.has_value()) {
    start_ = *ready.trim;
    CO_RETURN_IF_ERROR(co_await WriteState());  // first: the node log may forget what lies below
    state_changed = false;
    last_index_ = std::max(last_index_, start_.first_index - 1);
    log_.Trimmed(key_, start_.first_index);
  }
  LogChange change;
  change.reset = ready.reset;
  change.truncate_from = ready.truncate_from;
  change.entries = ready.entries;
  if (ready.reset.has_value()) {
    CAIRN_CHECK_GE(ready.reset->first_index, 2u);
    last_index_ = ready.reset->first_index - 1;
    state_changed = true;
  }
  if (ready.truncate_from != 0) last_index_ = std::min(last_index_, ready.truncate_from - 1);
  if (!ready.entries.empty()) {
    CAIRN_CHECK_EQ(ready.entries.front().index, last_index_ + 1);
    last_index_ = ready.entries.back().index;
  }
  if (!change.empty()) CO_RETURN_IF_ERROR(co_await log_.Write(key_, std::move(change)));
  if (ready.reset.has_value()) start_ = *ready.reset;
  if (state_changed) CO_RETURN_IF_ERROR(co_await WriteState());
  failed_ = false;
  co_return last_index_;
}

}  // namespace cairn::journal

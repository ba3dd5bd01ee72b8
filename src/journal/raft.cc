#include "src/journal/raft.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "src/base/check.h"
#include "src/journal/leader_hint.h"
#include "src/runtime/assertions.h"

namespace cairn::journal {

const char* MessageTypeName(MessageType type) {
  switch (type) {
    case MessageType::kPreVote: return "PreVote";
    case MessageType::kPreVoteReply: return "PreVoteReply";
    case MessageType::kVote: return "Vote";
    case MessageType::kVoteReply: return "VoteReply";
    case MessageType::kAppend: return "Append";
    case MessageType::kAppendReply: return "AppendReply";
    case MessageType::kTimeoutNow: return "TimeoutNow";
  }
  return "?";
}

const char* RoleName(Role role) {
  switch (role) {
    case Role::kFollower: return "follower";
    case Role::kPreCandidate: return "pre-candidate";
    case Role::kCandidate: return "candidate";
    case Role::kLeader: return "leader";
  }
  return "?";
}

RaftCore::RaftCore(NodeId id, RaftState state, RaftOptions options, Random& random)
    : id_(id), options_(options), random_(random) {
  CAIRN_CHECK_GT(options.election_ticks, 0);
  CAIRN_CHECK_GT(options.heartbeat_ticks, 0);
  CAIRN_CHECK_GE(state.start.first_index, 1u);
  first_index_ = state.start.first_index;
  first_prev_term_ = state.start.first_prev_term;
  base_members_ = state.start.members;
  base_epoch_ = state.start.epoch;
  base_position_ = state.start.first_position;
  base_retries_ = state.start.retries;
  for (Entry& e : state.entries) {
    CAIRN_CHECK_EQ(e.index, first_index_ + entries_.size());
    entries_.push_back(std::move(e));
  }
  hard_ = state.hard;
  // Entries before the start are committed and applied by definition: they were trimmed.
  hard_.commit = std::max(hard_.commit, first_index_ - 1);
  CAIRN_CHECK_LE(hard_.commit, last_index());
  CAIRN_CHECK_EQ(hard_.floor_term == 0, hard_.floor_index == 0);
  MaybeClearFloor();
  persisted_hard_ = hard_;
  applied_ = first_index_ - 1;
  persisted_index_ = last_index();
  unstable_from_ = last_index() + 1;
  RecomputeConfigAndEpoch();
  ResetElectionTimer();
}

// --- Log ---

const Entry& RaftCore::entry(uint64_t index) const {
  CAIRN_CHECK(index >= first_index_ && index <= last_index());
  return entries_[index - first_index_];
}

std::optional<uint64_t> RaftCore::TermAt(uint64_t index) const {
  if (index + 1 == first_index_) return first_prev_term_;
  if (index < first_index_ || index > last_index()) return std::nullopt;
  return entries_[index - first_index_].term;
}

LogStart RaftCore::Start() const {
  return LogStart{first_index_, first_prev_term_, base_members_, base_epoch_, base_position_, base_retries_};
}

uint64_t RaftCore::AppendLocal(Entry e) {
  Unquiesce();  // followers must hear of it
  e.index = last_index() + 1;
  e.term = hard_.term;
  if (e.kind == EntryKind::kConfig) {
    members_ = e.members;
    config_index_ = e.index;
  }
  if (e.kind == EntryKind::kFence) epoch_ = e.epoch;
  entries_.push_back(std::move(e));
  return last_index();
}

void RaftCore::Truncate(uint64_t from) {
  CAIRN_CHECK_GT(from, hard_.commit);  // committed entries never change
  if (from > last_index()) return;
  if (options_.truncating) options_.truncating(*this, from);
  entries_.resize(from - first_index_);
  if (from < unstable_from_) {
    truncate_from_ = truncate_from_ == 0 ? from : std::min(truncate_from_, from);
    unstable_from_ = from;
  }
  persisted_index_ = std::min(persisted_index_, from - 1);
  truncated_since_take_ = std::min(truncated_since_take_, from);
  RecomputeConfigAndEpoch();
}

void RaftCore::RecomputeConfigAndEpoch() {
  members_ = base_members_;
  config_index_ = 0;
  epoch_ = base_epoch_;
  for (const Entry& e : entries_) {
    if (e.kind == EntryKind::kConfig) {
      members_ = e.members;
      config_index_ = e.index;
    } else if (e.kind == EntryKind::kFence) {
      epoch_ = e.epoch;
    }
  }
  if (role_ == Role::kLeader) {
    for (NodeId n : members_) {
      if (!progress_.contains(n)) progress_[n] = Progress{.match = 0, .next = last_index() + 1};
    }
    std::erase_if(progress_, [&](const auto& p) { return !IsMember(p.first); });
  }
}

bool RaftCore::IsMember(NodeId n) const { return std::find(members_.begin(), members_.end(), n) != members_.end(); }

bool RaftCore::LogUpToDate(uint64_t index, uint64_t term) const {
  // A floored node compares with the log it lost (MaybeClearFloor keeps the floor only while
  // it is ahead of the log it has).
  const uint64_t my_term = floored() ? hard_.floor_term : *TermAt(last_index());
  const uint64_t my_index = floored() ? hard_.floor_index : last_index();
  return term > my_term || (term == my_term && index >= my_index);
}

void RaftCore::MaybeClearFloor() {
  if (!floored()) return;
  const uint64_t my_term = *TermAt(last_index());
  if (my_term > hard_.floor_term || (my_term == hard_.floor_term && last_index() >= hard_.floor_index)) {
    hard_.floor_term = 0;
    hard_.floor_index = 0;
  }
}

void RaftCore::Trim(uint64_t upto, uint64_t first_position, std::map<uint64_t, uint64_t> retries) {
  CAIRN_CHECK_LE(upto, applied_ + 1);
  upto = std::min(upto, last_index());
  if (upto <= first_index_) return;
  CAIRN_CHECK_GE(first_position, base_position_);
  base_position_ = first_position;
  retries.erase(retries.begin(), retries.lower_bound(upto));
  base_retries_ = std::move(retries);
  for (uint64_t i = first_index_; i < upto; ++i) {
    const Entry& e = entry(i);
    if (e.kind == EntryKind::kConfig) base_members_ = e.members;
    if (e.kind == EntryKind::kFence) base_epoch_ = e.epoch;
  }
  first_prev_term_ = *TermAt(upto - 1);
  entries_.erase(entries_.begin(), entries_.begin() + static_cast<ptrdiff_t>(upto - first_index_));
  first_index_ = upto;
  if (config_index_ < first_index_) config_index_ = 0;
  trim_ = Start();
}

// --- Roles ---

void RaftCore::ResetElectionTimer() {
  ticks_since_heard_ = 0;
  election_timeout_ =
      options_.election_ticks + static_cast<int>(random_.Uniform(static_cast<uint64_t>(options_.election_ticks)));
}

void RaftCore::BecomeFollower(uint64_t term, NodeId leader) {
  quiesced_ = false;
  for (const PendingRead& r : pending_reads_) reads_failed_.push_back(r.id);
  pending_reads_.clear();
  if (term > hard_.term) {
    hard_.term = term;
    hard_.vote = kNoNode;
  }
  role_ = Role::kFollower;
  leader_ = leader;
  ticks_in_role_ = 0;
  votes_granted_.clear();
  votes_rejected_.clear();
  progress_.clear();
  transfer_target_ = kNoNode;
  ResetElectionTimer();
}

void RaftCore::BecomePreCandidate() {
  quiesced_ = false;
  role_ = Role::kPreCandidate;
  leader_ = kNoNode;
  ticks_in_role_ = 0;
  votes_granted_ = {id_};
  votes_rejected_.clear();
  ResetElectionTimer();
}

void RaftCore::BecomeCandidate() {
  quiesced_ = false;
  hard_.term += 1;
  hard_.vote = id_;
  role_ = Role::kCandidate;
  leader_ = kNoNode;
  ticks_in_role_ = 0;
  votes_granted_ = {id_};
  votes_rejected_.clear();
  ResetElectionTimer();
}

void RaftCore::BecomeLeader() {
  CAIRN_CHECK(role_ == Role::kCandidate);
  role_ = Role::kLeader;
  quiesced_ = false;
  leader_ = id_;
  ticks_in_role_ = 0;
  ticks_since_heard_ = 0;
  progress_.clear();
  for (NodeId n : members_) progress_[n] = Progress{.match = 0, .next = last_index() + 1, .recent_active = true};
  transfer_target_ = kNoNode;
  // An entry of its own term: committing it commits everything before it (Figure 8), and
  // until then the leader takes no membership change.
  AppendLocal(Entry{.kind = EntryKind::kNoop});
  BroadcastAppend();
  MaybeCommit();
}

void RaftCore::Campaign(bool pre_vote, bool transfer) {
  // A floored node may lack entries it acknowledged: it must not lead. Another member, whose
  // log reaches the floor, will; this one catches up from it.
  if (!IsMember(id_) || floored()) return;
  if (pre_vote) {
    BecomePreCandidate();
  } else {
    BecomeCandidate();
  }
  const uint64_t term = pre_vote ? hard_.term + 1 : hard_.term;
  if (Quorum(votes_granted_.size())) {  // a group of one
    if (pre_vote) {
      Campaign(false, transfer);
    } else {
      BecomeLeader();
    }
    return;
  }
  for (NodeId n : members_) {
    if (n == id_) continue;
    Send(Message{.type = pre_vote ? MessageType::kPreVote : MessageType::kVote,
                 .to = n,
                 .term = term,
                 .log_index = last_index(),
                 .log_term = *TermAt(last_index()),
                 .transfer = transfer});
  }
}

// --- Time ---

void RaftCore::Tick() {
  ++ticks_in_role_;
  ++ticks_since_heard_;
  if (role_ == Role::kLeader) {
    if (quiesced_) return;  // nothing to say, and nobody to check on until there is
    if (ticks_since_heard_ >= options_.heartbeat_ticks) {
      ticks_since_heard_ = 0;
      const bool quiesce = CanQuiesce();
      for (const auto& [n, pr] : progress_) {
        if (n != id_) SendAppend(n, /*heartbeat_only=*/pr.inflight.size() >= options_.inflight_appends_max, 0, quiesce);
      }
      if (quiesce) {
        quiesced_ = true;
        return;
      }
    }
    if (transfer_target_ != kNoNode && ++transfer_ticks_ >= options_.election_ticks) {
      transfer_target_ = kNoNode;  // it did not finish within an election timeout
    }
    if (ticks_in_role_ % options_.election_ticks == 0) {
      if (options_.check_quorum) {
        size_t active = 0;
        for (auto& [n, pr] : progress_) {
          if (n == id_ || pr.recent_active) ++active;
          pr.recent_active = false;
        }
        if (!Quorum(active)) {
          BecomeFollower(hard_.term, kNoNode);
          return;
        }
      }
    }
    return;
  }
  if (quiesced_) {
    const std::optional<uint64_t> generation = options_.node_liveness(leader_);
    if (generation.has_value() && *generation == quiesced_generation_) {
      ticks_since_heard_ = 0;  // the leader is there, with nothing to say
      return;
    }
    quiesced_ = false;  // its node is gone, or lost a leadership since: count from here
  }
  if (ticks_since_heard_ >= election_timeout_ && IsMember(id_)) Campaign(options_.pre_vote, false);
}

// --- Quiescence ---

bool RaftCore::CanQuiesce() const {
  if (!options_.node_liveness || role_ != Role::kLeader || !pending_reads_.empty() || transfer_target_ != kNoNode ||
      broadcast_pending_ || hard_.commit != last_index() || persisted_index_ != last_index()) {
    return false;
  }
  for (const auto& [n, pr] : progress_) {
    if (n != id_ && (pr.match != last_index() || !pr.inflight.empty())) return false;
  }
  return true;
}

void RaftCore::Unquiesce() {
  if (!quiesced_) return;
  quiesced_ = false;
  if (role_ == Role::kLeader) {
    ticks_since_heard_ = options_.heartbeat_ticks;  // heartbeat at the next tick
    ticks_in_role_ = 0;                             // and a fresh check-quorum window
    for (auto& [n, pr] : progress_) pr.recent_active = true;
  }
}

// --- Messages ---

void RaftCore::Send(Message m) {
  m.from = id_;
  if (m.term == 0) m.term = hard_.term;
  outbox_.push_back(std::move(m));
}

void RaftCore::Step(const Message& m) {
  const bool vote_request = m.type == MessageType::kPreVote || m.type == MessageType::kVote;
  if (quiesced_) {
    if (role_ == Role::kLeader) {
      // A member with something to say (not a plain acknowledgement) wakes the leader: a
      // follower that missed the last heartbeat campaigns, and its pre-vote lands here.
      if (IsMember(m.from) && !(m.type == MessageType::kAppendReply && !m.reject)) Unquiesce();
    } else if (!(m.type == MessageType::kAppend && m.from == leader_)) {
      Unquiesce();
      // The leader asking for votes has stopped leading; its lease is over.
      if (vote_request && m.from == leader_) leader_ = kNoNode;
    }
  }
  if (m.term > hard_.term) {
    if (vote_request && options_.check_quorum && !m.transfer && leader_ != kNoNode &&
        ticks_since_heard_ < options_.election_ticks) {
      // A leader was heard from recently: this candidate cannot be needed (the leader lease).
      // Neither the term nor the vote moves.
      if (m.type == MessageType::kPreVote) {
        Send(Message{.type = MessageType::kPreVoteReply, .to = m.from, .term = hard_.term, .reject = true});
      }
      return;
    }
    if (m.type == MessageType::kPreVote || (m.type == MessageType::kPreVoteReply && !m.reject)) {
      // Pre-votes happen at a term nobody has entered yet: they move no term.
    } else if (m.type == MessageType::kAppend) {
      BecomeFollower(m.term, m.from);
    } else {
      BecomeFollower(m.term, kNoNode);
    }
  } else if (m.term < hard_.term && !(options_.canary_skip_append_term_check && m.type == MessageType::kAppend)) {
    if (m.type == MessageType::kAppend) {
      // A deposed leader: tell it the term so it steps down.
      Send(Message{.type = MessageType::kAppendReply, .to = m.from, .reject = true});
    } else if (m.type == MessageType::kPreVote) {
      Send(Message{.type = MessageType::kPreVoteReply, .to = m.from, .reject = true});
    }
    return;
  }

  switch (m.type) {
    case MessageType::kPreVote:
    case MessageType::kVote:
      HandleVoteRequest(m);
      break;
    case MessageType::kPreVoteReply:
    case MessageType::kVoteReply:
      HandleVoteReply(m);
      break;
    case MessageType::kAppend:
      if (role_ != Role::kFollower) BecomeFollower(hard_.term, m.from);
      leader_ = m.from;
      ticks_since_heard_ = 0;
      HandleAppend(m);
      if (!m.quiesce) {
        quiesced_ = false;
      } else if (options_.node_liveness && last_index() == m.log_index + m.entries.size() &&
                 hard_.commit == last_index()) {
        if (std::optional<uint64_t> generation = options_.node_liveness(m.from); generation.has_value()) {
          quiesced_ = true;
          quiesced_generation_ = *generation;
        }
      }
      break;
    case MessageType::kAppendReply:
      if (role_ == Role::kLeader) HandleAppendReply(m);
      break;
    case MessageType::kTimeoutNow:
      if (m.term == hard_.term) Campaign(/*pre_vote=*/false, /*transfer=*/true);
      break;
  }
}

void RaftCore::HandleVoteRequest(const Message& m) {
  const bool pre = m.type == MessageType::kPreVote;
  const bool can_vote = hard_.vote == m.from || (hard_.vote == kNoNode && leader_ == kNoNode) ||
                        (pre && m.term > hard_.term);
  const MessageType reply = pre ? MessageType::kPreVoteReply : MessageType::kVoteReply;
  if (can_vote && LogUpToDate(m.log_index, m.log_term)) {
    if (!pre) {
      hard_.vote = m.from;
      ResetElectionTimer();
    }
    Send(Message{.type = reply, .to = m.from, .term = m.term});
  } else {
    Send(Message{.type = reply, .to = m.from, .term = hard_.term, .reject = true});
  }
}

void RaftCore::HandleVoteReply(const Message& m) {
  const bool pre = m.type == MessageType::kPreVoteReply;
  if (pre ? role_ != Role::kPreCandidate : role_ != Role::kCandidate) return;
  if (!IsMember(m.from)) return;  // a grant from outside the configuration counts for nothing
  if (pre && !m.reject && m.term != hard_.term + 1) return;
  if (!pre && m.term != hard_.term) return;
  (m.reject ? votes_rejected_ : votes_granted_).insert(m.from);
  if (Quorum(votes_granted_.size())) {
    if (pre) {
      Campaign(/*pre_vote=*/false, /*transfer=*/false);
    } else {
      BecomeLeader();
    }
  } else if (Quorum(votes_rejected_.size())) {
    BecomeFollower(hard_.term, kNoNode);
  }
}

void RaftCore::SendAppend(NodeId to, bool heartbeat_only, uint64_t context, bool quiesce) {
  Progress& pr = progress_[to];
  Message m{.type = MessageType::kAppend, .to = to, .commit = hard_.commit, .context = context, .quiesce = quiesce};
  if (pr.next < first_index_) pr.next = first_index_;  // it will adopt the start
  m.log_index = pr.next - 1;
  m.log_term = *TermAt(m.log_index);
  if (m.log_index + 1 == first_index_) m.start = Start();
  if (!heartbeat_only) {
    size_t bytes = 0;
    for (uint64_t i = pr.next; i <= last_index() && m.entries.size() < options_.entries_per_append_max; ++i) {
      const Entry& e = entry(i);
      if (!m.entries.empty() && bytes + e.payload.size() > options_.bytes_per_append_max) break;
      bytes += e.payload.size();
      m.entries.push_back(e);
    }
    if (!m.entries.empty()) {
      pr.next = m.entries.back().index + 1;  // optimistic: a rejection moves it back
      pr.inflight.push_back(pr.next - 1);
    }
  }
  Send(std::move(m));
}

void RaftCore::BroadcastAppend() {
  for (const auto& [n, pr] : progress_) {
    if (n != id_ && pr.inflight.size() < options_.inflight_appends_max && pr.next <= last_index()) SendAppend(n, false);
  }
}

void RaftCore::HandleAppend(const Message& m) {
  if (m.log_index < hard_.commit) {
    // Everything up to the commit index already matches any leader's log.
    Send(Message{.type = MessageType::kAppendReply, .to = m.from, .log_index = hard_.commit, .context = m.context});
    return;
  }
  // The leader sends its start with an append that begins there. Everything before it is
  // committed (it was trimmed), so a log that lacks the entry before it, or holds a different
  // one (uncommitted, from a deposed leader), cannot catch up by matching.
  if (m.start.has_value() && m.log_index == m.start->first_index - 1 &&
      (m.log_index > last_index() || TermAt(m.log_index) != m.log_term)) {
    // The leader no longer holds what this log lacks: everything before its start is committed
    // and lives in SSTables. Start over at it.
    entries_.clear();
    first_index_ = m.start->first_index;
    first_prev_term_ = m.start->first_prev_term;
    base_members_ = m.start->members;
    base_epoch_ = m.start->epoch;
    base_position_ = m.start->first_position;
    base_retries_ = m.start->retries;
    hard_.commit = std::max(hard_.commit, first_index_ - 1);
    applied_ = std::max(applied_, first_index_ - 1);
    persisted_index_ = first_index_ - 1;
    unstable_from_ = first_index_;
    truncate_from_ = 0;
    truncated_since_take_ = std::min(truncated_since_take_, first_index_);
    trim_.reset();
    reset_ = Start();
    RecomputeConfigAndEpoch();
  }
  const std::optional<uint64_t> term = TermAt(m.log_index);
  if (!term.has_value() || *term != m.log_term) {
    Message reply{.type = MessageType::kAppendReply, .to = m.from, .log_index = m.log_index, .context = m.context,
                  .reject = true};
    reply.hint_last_index = last_index();
    reply.floored = floored();
    if (term.has_value()) {
      reply.hint_term = *term;
      uint64_t first = m.log_index;
      while (first > first_index_ && entry(first - 1).term == *term) --first;
      reply.hint_term_first_index = first;
    }
    Send(std::move(reply));
    return;
  }
  for (const Entry& e : m.entries) {
    if (e.index <= last_index()) {
      if (entry(e.index).term == e.term) continue;
      Truncate(e.index);
    }
    CAIRN_CHECK_EQ(e.index, last_index() + 1);
    entries_.push_back(e);
    if (e.kind == EntryKind::kConfig) {
      members_ = e.members;
      config_index_ = e.index;
    }
    if (e.kind == EntryKind::kFence) epoch_ = e.epoch;
  }
  MaybeClearFloor();
  const uint64_t last_new = m.log_index + m.entries.size();
  const uint64_t commit = std::min(m.commit, last_new);
  if (commit > hard_.commit) hard_.commit = commit;
  Send(Message{.type = MessageType::kAppendReply, .to = m.from, .log_index = last_new, .context = m.context});
}

void RaftCore::HandleAppendReply(const Message& m) {
  auto it = progress_.find(m.from);
  if (it == progress_.end()) return;
  Progress& pr = it->second;
  pr.recent_active = true;
  if (m.context > pr.read_acked) {
    pr.read_acked = m.context;
    ConfirmReads();
  }
  // Every append whose entries end at or below what this reply acknowledges is answered
  // (a lost reply is covered by any later one).
  if (!m.reject) {
    while (!pr.inflight.empty() && pr.inflight.front() <= m.log_index) pr.inflight.pop_front();
  }
  if (m.reject) {
    if (m.log_index <= pr.match) {
      // A reject at or below the match answers an older append (stale) — unless the follower
      // is floored: it lost entries it may have acknowledged (both copies of a record rotted,
      // docs/journal.md). Then it stops counting for them until it holds them again (counting
      // it would commit them short of a quorum), and the leader sends them again. (A stale
      // reject taken this way only costs a re-send.)
      if (!m.floored) return;
      CAIRN_SOMETIMES(options_.probes, true, "raft.follower-forgot-what-it-acknowledged");
      pr.match = 0;
    }
    // Back up past the whole conflicting term at once (the thesis's fast backtracking).
    uint64_t next = m.log_index;
    if (m.hint_term != 0) {
      uint64_t last_of_term = 0;
      for (uint64_t i = std::min(m.log_index, last_index()); i >= first_index_ && i > 0; --i) {
        const uint64_t t = entry(i).term;
        if (t == m.hint_term) {
          last_of_term = i;
          break;
        }
        if (t < m.hint_term) break;
      }
      next = last_of_term != 0 ? last_of_term + 1 : m.hint_term_first_index;
    }
    next = std::min(next, m.hint_last_index + 1);
    pr.next = std::max(pr.match + 1, std::max<uint64_t>(next, 1));
    pr.inflight.clear();
    SendAppend(m.from, false);
    return;
  }
  if (m.log_index > pr.match) {
    pr.match = m.log_index;
    pr.next = std::max(pr.next, pr.match + 1);
    MaybeCommit();
    if (role_ != Role::kLeader) return;
  }
  if (transfer_target_ == m.from && pr.match == last_index()) {
    Send(Message{.type = MessageType::kTimeoutNow, .to = m.from});
  }
  if (pr.next <= last_index() && pr.inflight.size() < options_.inflight_appends_max) SendAppend(m.from, false);
}

void RaftCore::MaybeCommit() {
  if (role_ != Role::kLeader) return;
  std::vector<uint64_t> matches;
  for (NodeId n : members_) {
    if (n == id_) {
      matches.push_back(std::min(last_index(), persisted_index_));
    } else {
      auto it = progress_.find(n);
      matches.push_back(it == progress_.end() ? 0 : it->second.match);
    }
  }
  if (matches.empty()) return;
  std::sort(matches.begin(), matches.end(), std::greater<>());
  const uint64_t quorum_index = matches[members_.size() / 2];
  // Only an entry of the leader's own term is committed by counting (Figure 8).
  if (quorum_index > hard_.commit && TermAt(quorum_index) == hard_.term) {
    hard_.commit = quorum_index;
    if (!IsMember(id_) && hard_.commit >= config_index_) BecomeFollower(hard_.term, kNoNode);  // removed
  }
}

// --- Proposals ---

absl::Status RaftCore::NotLeader() const { return NotLeaderError(leader_); }

absl::Status RaftCore::CheckWriter(uint64_t epoch) const {
  if (role_ != Role::kLeader) return NotLeader();
  if (transfer_target_ != kNoNode) return absl::UnavailableError("leadership is being transferred");
  if (epoch < epoch_) {
    return absl::FailedPreconditionError(absl::StrCat("stale epoch ", epoch, ": the stream is fenced at ", epoch_));
  }
  if (epoch > epoch_) {
    return absl::InvalidArgumentError(absl::StrCat("epoch ", epoch, " was never issued (the stream is at ", epoch_, ")"));
  }
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> RaftCore::ProposeTrim(uint64_t epoch, uint64_t position) {
  if (absl::Status s = CheckWriter(epoch); !s.ok()) return s;
  const uint64_t index = AppendLocal(Entry{.kind = EntryKind::kTrim, .epoch = epoch, .position = position});
  broadcast_pending_ = true;
  MaybeCommit();
  return index;
}

absl::StatusOr<uint64_t> RaftCore::Propose(uint64_t epoch, std::string payload, uint64_t client, uint64_t seq) {
  if (absl::Status s = CheckWriter(epoch); !s.ok()) return s;
  const uint64_t index = AppendLocal(
      Entry{.kind = EntryKind::kData, .epoch = epoch, .payload = std::move(payload), .client = client, .seq = seq});
  broadcast_pending_ = true;
  MaybeCommit();
  return index;
}

absl::StatusOr<std::pair<uint64_t, uint64_t>> RaftCore::ProposeFence(uint64_t supersedes, uint64_t fence_id) {
  if (role_ != Role::kLeader) return NotLeader();
  if (transfer_target_ != kNoNode) return absl::UnavailableError("leadership is being transferred");
  if (fence_id != 0) {
    for (auto it = entries_.rbegin(); it != entries_.rend(); ++it) {
      if (it->kind != EntryKind::kFence) continue;
      if (it->client == fence_id) return std::make_pair(it->index, it->epoch);
      break;  // only the latest fence may be answered again
    }
  }
  if (supersedes != epoch_) {
    return absl::FailedPreconditionError(absl::StrCat("the stream is at epoch ", epoch_, ", not ", supersedes,
                                                      ": another writer fenced it first"));
  }
  const uint64_t epoch = epoch_ + 1;
  const uint64_t index = AppendLocal(Entry{.kind = EntryKind::kFence, .epoch = epoch, .client = fence_id});
  broadcast_pending_ = true;
  MaybeCommit();
  return std::make_pair(index, epoch);
}

absl::StatusOr<uint64_t> RaftCore::ProposeMembers(std::vector<NodeId> members) {
  if (role_ != Role::kLeader) return NotLeader();
  if (transfer_target_ != kNoNode) return absl::UnavailableError("leadership is being transferred");
  if (config_index_ > hard_.commit) return absl::UnavailableError("a membership change is not yet committed");
  if (TermAt(hard_.commit) != hard_.term) {
    return absl::UnavailableError("the leader has not yet committed an entry of its term");
  }
  std::sort(members.begin(), members.end());
  members.erase(std::unique(members.begin(), members.end()), members.end());
  std::vector<NodeId> current = members_;
  std::sort(current.begin(), current.end());
  std::vector<NodeId> diff;
  std::set_symmetric_difference(current.begin(), current.end(), members.begin(), members.end(),
                                std::back_inserter(diff));
  if (diff.size() != 1 || members.empty()) {
    return absl::InvalidArgumentError("a membership change adds or removes exactly one member");
  }
  const uint64_t index = AppendLocal(Entry{.kind = EntryKind::kConfig, .members = members});
  RecomputeConfigAndEpoch();  // progress for an added member
  broadcast_pending_ = true;
  MaybeCommit();
  return index;
}

absl::StatusOr<uint64_t> RaftCore::ReadIndex() {
  if (role_ != Role::kLeader) {
    return NotLeader();
  }
  Unquiesce();  // the read needs a heartbeat round
  if (TermAt(hard_.commit) != hard_.term) {
    // Transient (its no-op commits soon): Unavailable, which clients retry. FailedPrecondition
    // told a client opening a stream just after an election to give up.
    return absl::UnavailableError("the leader has not yet committed an entry of its term");
  }
  const uint64_t id = next_read_id_++;
  pending_reads_.push_back(PendingRead{id, hard_.commit});
  for (const auto& [n, pr] : progress_) {
    if (n != id_) SendAppend(n, /*heartbeat_only=*/true, /*context=*/id);
  }
  ConfirmReads();  // a group of one confirms at once
  return id;
}

void RaftCore::ConfirmReads() {
  while (!pending_reads_.empty()) {
    const PendingRead& r = pending_reads_.front();
    size_t acks = 0;
    for (NodeId n : members_) {
      if (n == id_) {
        ++acks;
      } else if (auto it = progress_.find(n); it != progress_.end() && it->second.read_acked >= r.id) {
        ++acks;
      }
    }
    if (!Quorum(acks)) break;
    reads_ready_.emplace_back(r.id, r.index);
    pending_reads_.pop_front();
  }
}

absl::Status RaftCore::TransferLeadership(NodeId to) {
  if (role_ != Role::kLeader) return NotLeader();
  if (to == id_ || !IsMember(to)) return absl::InvalidArgumentError(absl::StrCat("node ", to, " cannot take over"));
  Unquiesce();
  transfer_target_ = to;
  transfer_ticks_ = 0;
  if (progress_[to].match == last_index()) {
    Send(Message{.type = MessageType::kTimeoutNow, .to = to});
  } else {
    SendAppend(to, false);
  }
  return absl::OkStatus();
}

// --- Output ---

bool RaftCore::HasReady() const {
  return !outbox_.empty() || !reads_ready_.empty() || !reads_failed_.empty() || unstable_from_ <= last_index() ||
         truncate_from_ != 0 || reset_.has_value() ||
         trim_.has_value() || !(hard_ == persisted_hard_) || broadcast_pending_ ||
         applied_ < std::min(hard_.commit, persisted_index_);
}

RaftCore::Ready RaftCore::TakeReady() {
  // One Ready at a time: OnPersisted's bookkeeping (truncated_since_take_) covers the last one.
  CAIRN_CHECK_MSG(!ready_outstanding_, "TakeReady before OnPersisted of the previous Ready");
  ready_outstanding_ = true;
  if (broadcast_pending_) {
    broadcast_pending_ = false;
    if (role_ == Role::kLeader) BroadcastAppend();
  }
  Ready r;
  r.reset = std::move(reset_);
  reset_.reset();
  r.trim = std::move(trim_);
  trim_.reset();
  r.truncate_from = truncate_from_;
  truncate_from_ = 0;
  for (uint64_t i = std::max(unstable_from_, first_index_); i <= last_index(); ++i) r.entries.push_back(entry(i));
  unstable_from_ = last_index() + 1;
  // The previous Ready's hard state is durable (OnPersisted came first); this one's is not yet.
  const uint64_t durable_term = persisted_hard_.term;
  if (!(hard_ == persisted_hard_)) {
    r.hard_state = hard_;
    persisted_hard_ = hard_;
  }
  for (Message& m : outbox_) {
    // A message must never carry a term this node could still forget in a crash.
    const bool early = m.type == MessageType::kAppend && role_ == Role::kLeader && m.term <= durable_term;
    (early ? r.messages_before_persist : r.messages).push_back(std::move(m));
  }
  outbox_.clear();
  const uint64_t apply_to = std::min(hard_.commit, persisted_index_);
  for (uint64_t i = std::max(applied_ + 1, first_index_); i <= apply_to; ++i) r.committed.push_back(entry(i));
  applied_ = std::max(applied_, apply_to);
  r.reads = std::move(reads_ready_);
  reads_ready_.clear();
  r.reads_failed = std::move(reads_failed_);
  reads_failed_.clear();
  truncated_since_take_ = UINT64_MAX;
  return r;
}

void RaftCore::OnPersisted(uint64_t index) {
  CAIRN_CHECK_MSG(ready_outstanding_, "OnPersisted without a Ready");
  ready_outstanding_ = false;
  // A Step between TakeReady and now may have overwritten part of what was persisted: only the
  // part below the overwrite is both durable and still in the log.
  if (truncated_since_take_ != UINT64_MAX) index = std::min(index, truncated_since_take_ - 1);
  index = std::min(index, last_index());
  if (index > persisted_index_) {
    persisted_index_ = index;
    MaybeCommit();
  }
}

}  // namespace cairn::journal

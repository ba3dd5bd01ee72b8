// RaftCore: the Raft consensus algorithm for one journal stream, as a pure state machine.
//
// It does no IO and reads no clock: the driver feeds it ticks (Tick), messages from peers
// (Step) and proposals (Propose), and drains what it decided (TakeReady): entries and a hard
// state to persist, messages to send, committed entries to apply. The driver must persist a
// Ready (and sync it) before it sends that Ready's messages, and report what it persisted
// (OnPersisted); a vote or an append acknowledgement then never outruns the disk. The same
// core runs in the simulator and for real, and the scenario tests drive it directly.
//
// The log is the stream: entry index = stream position. Trim drops a prefix whose records live
// in SSTables; a follower too far behind for the leader's log adopts the leader's start (no
// snapshots: there is no state to transfer but the log). docs/journal.md has the design and the
// safety argument.
//
// Extensions of the Raft paper (Ongaro's thesis):
//   pre-vote      a node that lost its leader first asks whether it could win, without raising
//                 its term, so a partitioned node cannot disrupt a healthy group on return;
//   check-quorum  a leader that has not heard from a quorum within an election timeout steps
//                 down, and followers that heard from a leader recently refuse (pre-)votes;
//   transfer      the leader brings a target up to date, then tells it to campaign at once;
//   membership    one member added or removed per change (single-server changes), a new
//                 configuration taking effect when appended; at most one change uncommitted, and
//                 none before the leader has committed an entry of its own term.
//   fencing       an append carries the writer's epoch; Fence appends an entry raising the
//                 stream's epoch, after which the leader refuses appends with an older epoch.
//   quiescence    a leader with nothing to send (every follower holds its whole log, which is
//                 committed) tells its followers so in one last heartbeat and stops
//                 heartbeating; a quiesced follower counts no election ticks while the
//                 driver's node-level liveness says the leader's node is up and has lost no
//                 leadership since (RaftOptions::node_liveness). Anything to say wakes it.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "src/runtime/network.h"
#include "src/runtime/probes.h"
#include "src/base/random.h"

namespace cairn::journal {

enum class EntryKind : uint8_t {
  kNoop = 0,    // a new leader's first entry, which commits everything before it
  kData = 1,    // a stream record
  kFence = 2,   // raises the stream's epoch to `epoch`
  kConfig = 3,  // the member list becomes `members`
  kTrim = 4,    // the stream's writer allows records before `position` to be dropped
};

struct Entry {
  uint64_t index = 0;
  uint64_t term = 0;
  EntryKind kind = EntryKind::kData;
  uint64_t epoch = 0;            // kData: the writer's epoch; kFence: the new epoch
  std::string payload;           // kData: the record
  std::vector<NodeId> members;   // kConfig
  // kData: the writer's append id, so that a retried append is recognized (0: none).
  // kFence: `client` is the fence id (ProposeFence).
  uint64_t client = 0;
  uint64_t seq = 0;
  uint64_t position = 0;  // kTrim: the first stream position to keep
  friend bool operator==(const Entry&, const Entry&) = default;
};

// Where the log starts, and what held there (trims forget the entries that said it).
struct LogStart {
  uint64_t first_index = 1;      // the first index the log holds
  uint64_t first_prev_term = 0;  // the term of the entry before it
  std::vector<NodeId> members;   // the configuration in force at the start
  uint64_t epoch = 0;            // the stream's epoch at the start
  // The stream position the first data record at or after first_index takes. Positions are the
  // driver's numbering (StreamReplica): the core only carries this along with the start.
  uint64_t first_position = 1;
  // Retries at or after first_index whose first append lies before it (trimmed), by index: the
  // position each answers. A replica that starts here no longer holds those first appends, and
  // must still apply the retries as its peers did — as duplicates, not as new records.
  std::map<uint64_t, uint64_t> retries;
  friend bool operator==(const LogStart&, const LogStart&) = default;
};

enum class MessageType : uint8_t {
  kPreVote,
  kPreVoteReply,
  kVote,
  kVoteReply,
  kAppend,       // entries after (log_index, log_term); empty: a heartbeat
  kAppendReply,  // accepted up to log_index, or rejected with a hint
  kTimeoutNow,   // leadership transfer: campaign now
};
const char* MessageTypeName(MessageType type);

struct Message {
  MessageType type = MessageType::kAppend;
  NodeId from = kNoNode;
  NodeId to = kNoNode;
  uint64_t term = 0;
  // Votes: the candidate's last (index, term). Appends: the entry before `entries`. Append
  // replies: the index the follower now matches up to (or, rejected, the index it could not
  // match).
  uint64_t log_index = 0;
  uint64_t log_term = 0;
  std::vector<Entry> entries;
  uint64_t commit = 0;
  // Appends that begin at the leader's first index carry its start; a follower whose log ends
  // before it adopts that start.
  std::optional<LogStart> start;
  bool transfer = false;  // votes: a leadership transfer, which overrides the leader lease
  // Heartbeats for a read: the leader's read id, echoed by the reply (which proves the follower
  // still took this leader's term when it answered).
  uint64_t context = 0;
  bool reject = false;
  bool quiesce = false;  // appends: the leader's last heartbeat until it has something to send
  // Append replies: the follower's vote floor is raised — it lost entries it may have
  // acknowledged, so a reject at or below its match is news, not a stale reply.
  bool floored = false;
  // A rejected append's hint for fast backtracking: the follower's last index, and the term of
  // its entry at log_index with the first index of that term (0 when it has none there).
  uint64_t hint_last_index = 0;
  uint64_t hint_term = 0;
  uint64_t hint_term_first_index = 0;
};

struct HardState {
  uint64_t term = 0;
  NodeId vote = kNoNode;
  uint64_t commit = 0;
  // The end (last index, and its term) of a log this node had and lost part of to storage
  // damage (RaftStorage found it; 0: none). Entries it acknowledged may have been lost with
  // it, so until its log is again at least as up to date as this end, the node votes as if it
  // still had that log, and does not campaign: a leader elected by it still holds everything
  // it acknowledged. docs/journal.md has the argument.
  uint64_t floor_term = 0;
  uint64_t floor_index = 0;
  bool floored() const { return floor_index != 0; }
  friend bool operator==(const HardState&, const HardState&) = default;
};

class RaftCore;

struct RaftOptions {
  // A follower campaigns after a random number of ticks in [election_ticks, 2 * election_ticks)
  // without hearing from a leader.
  int election_ticks = 10;
  int heartbeat_ticks = 1;
  bool pre_vote = true;
  bool check_quorum = true;
  size_t entries_per_append_max = 64;
  size_t bytes_per_append_max = 1u << 20;
  // Appends sent and not yet answered, per follower, before the leader waits.
  size_t inflight_appends_max = 16;
  // Canary: accept AppendEntries without checking the sender's term. The sweeps must catch it.
  bool canary_skip_append_term_check = false;
  // Quiescence (unset: never). For a node, whether it is up — heard from within an election
  // timeout — and if so its leadership generation, a number its driver raises whenever any of
  // its replicas stops leading. A quiesced follower waits while its leader's node is up at the
  // generation it quiesced under; otherwise it wakes and counts towards an election.
  std::function<std::optional<uint64_t>(NodeId)> node_liveness;
  // An observer (unset: none), told before the core removes its entries from `from` on (they
  // conflict with its leader's). The simulator checks across the replicas that none of them is
  // committed: Raft never removes a committed entry from any log (leader completeness), so this
  // sees a follower swayed by a deposed leader at once, without waiting for the loss to show.
  std::function<void(const RaftCore& core, uint64_t from)> truncating;
  // Coverage probes for the core's rare outcomes (default: inert).
  Probes probes;
};

enum class Role : uint8_t { kFollower, kPreCandidate, kCandidate, kLeader };
const char* RoleName(Role role);

// What a core starts from: what it persisted before.
struct RaftState {
  HardState hard;
  LogStart start;
  std::vector<Entry> entries;  // start.first_index, start.first_index + 1, ...
};

class RaftCore {
 public:
  RaftCore(NodeId id, RaftState state, RaftOptions options, Random& random);

  void Tick();
  void Step(const Message& m);

  // Appends a record (as the leader) and returns its index, which becomes its stream position
  // once committed. FailedPrecondition when not the leader (leader() may name one), or when
  // `epoch` is older than the stream's.
  absl::StatusOr<uint64_t> Propose(uint64_t epoch, std::string payload, uint64_t client = 0, uint64_t seq = 0);
  // Appends a trim entry: once applied, the driver drops the records before `position`
  // (Trim). Refused like Propose for an older or unissued epoch.
  absl::StatusOr<uint64_t> ProposeTrim(uint64_t epoch, uint64_t position);
  // Appends a fence raising the epoch from `supersedes` to supersedes + 1 and returns (index,
  // new epoch). The fence is conditional: when the stream is no longer at `supersedes` it is
  // refused (FailedPrecondition, naming the stream's epoch), so a fence request that
  // was overtaken by another writer's fence — a late retry of a writer that gave up — can never
  // depose the newer writer. `fence_id` (nonzero) makes a retry idempotent: when the latest
  // fence in the log carries the same id, that one is answered instead, so a writer whose
  // first attempt landed unanswered does not fence itself out with its retry.
  absl::StatusOr<std::pair<uint64_t, uint64_t>> ProposeFence(uint64_t supersedes, uint64_t fence_id = 0);
  // Adds or removes one member. Unavailable (try again shortly) while a change is uncommitted
  // or before the leader committed an entry of its term; InvalidArgument unless the change
  // adds or removes exactly one member.
  absl::StatusOr<uint64_t> ProposeMembers(std::vector<NodeId> members);
  // Ends quiescence (a leader then heartbeats at the next tick). The driver wakes its leaders
  // when its node's generation moves, so their followers hear from them before they time out.
  void Wake() { Unquiesce(); }
  // Hands leadership to `to` once its log matches.
  absl::Status TransferLeadership(NodeId to);
  // A linearizable read (the ReadIndex protocol of the Raft thesis): remembers the commit index
  // now and confirms, by a heartbeat round a quorum answers, that this node was still the
  // leader after the read arrived. A Ready then lists (id, index) among `reads`: everything
  // committed before the read began is at or below `index`, so the read may be served once
  // `index` is applied. FailedPrecondition when not the leader (leader() may name one);
  // Unavailable, which clients retry, before the leader has committed an entry of its term
  // (its commit index could be behind; its no-op commits soon).
  absl::StatusOr<uint64_t> ReadIndex();
  // Drops entries below `upto` (which must be applied); `first_position` is the stream
  // position of the first data record at or after it. The log keeps at least its last entry,
  // so `upto` is clamped to last_index(); the driver passes the position for the clamped
  // index, which is the same when no data record lies between.
  void Trim(uint64_t upto, uint64_t first_position, std::map<uint64_t, uint64_t> retries = {});

  // --- Output ---
  struct Ready {
    // Persist first, in this order: `reset` (a follower adopting the leader's start) empties
    // the log and starts it there; `trim` drops the entries before its start; then drop every
    // persisted entry at or after `truncate_from` (0: none) and write `entries`; then the hard
    // state if set.
    std::optional<LogStart> reset;
    std::optional<LogStart> trim;
    uint64_t truncate_from = 0;
    std::vector<Entry> entries;
    std::optional<HardState> hard_state;
    // Sent before the persist, while it runs: a leader's appends whose term is already
    // durable (Raft thesis §10.2.1). They promise nothing about the leader's own log — the
    // leader counts itself toward a commit only from OnPersisted — so the followers' fsyncs
    // overlap the leader's instead of following it.
    std::vector<Message> messages_before_persist;
    // Then, once persisted, send these (every reply and vote waits for the disk), then apply these.
    std::vector<Message> messages;
    std::vector<Entry> committed;
    // Reads confirmed: (id, index). Reads this node can no longer confirm (it stopped leading).
    std::vector<std::pair<uint64_t, uint64_t>> reads;
    std::vector<uint64_t> reads_failed;
  };
  bool HasReady() const;
  // One at a time: each TakeReady is followed by its OnPersisted before the next.
  Ready TakeReady();
  // The driver made the last Ready durable, and the log up to `index` with it.
  void OnPersisted(uint64_t index);

  // --- State ---
  NodeId id() const { return id_; }
  Role role() const { return role_; }
  uint64_t term() const { return hard_.term; }
  NodeId leader() const { return leader_; }
  uint64_t commit() const { return hard_.commit; }
  uint64_t applied() const { return applied_; }
  uint64_t first_index() const { return first_index_; }
  uint64_t last_index() const { return first_index_ + entries_.size() - 1; }
  uint64_t epoch() const { return epoch_; }
  bool floored() const { return hard_.floored(); }
  bool quiesced() const { return quiesced_; }
  const HardState& hard_state() const { return hard_; }
  const std::vector<NodeId>& members() const { return members_; }
  uint64_t config_index() const { return config_index_; }  // the latest configuration's entry (0: the start's)
  // The entry at `index` (first_index() <= index <= last_index()).
  const Entry& entry(uint64_t index) const;
  // The term of the entry at `index`; for first_index() - 1 the remembered term; nullopt
  // outside.
  std::optional<uint64_t> TermAt(uint64_t index) const;

 private:
  struct Progress {
    uint64_t match = 0;
    uint64_t next = 1;
    std::deque<uint64_t> inflight;  // the last index of each append not yet acknowledged
    bool recent_active = false;  // heard from since the last check-quorum
    uint64_t read_acked = 0;     // the highest read context it echoed in this term
  };
  struct PendingRead {
    uint64_t id;
    uint64_t index;
  };
  void ConfirmReads();

  void BecomeFollower(uint64_t term, NodeId leader);
  void BecomePreCandidate();
  void BecomeCandidate();
  void BecomeLeader();
  void Campaign(bool pre_vote, bool transfer);
  void ResetElectionTimer();
  bool Quorum(size_t votes) const { return votes * 2 > members_.size(); }
  bool IsMember(NodeId n) const;
  bool LogUpToDate(uint64_t last_index, uint64_t last_term) const;
  // Drops the floor once the log is at least as up to date as it.
  void MaybeClearFloor();
  void Send(Message m);
  // An append of what `to` lacks (or, heartbeat_only, none), carrying a read's `context`.
  void SendAppend(NodeId to, bool heartbeat_only, uint64_t context = 0, bool quiesce = false);
  absl::Status NotLeader() const;
  // Whether a writer with `epoch` may append now.
  absl::Status CheckWriter(uint64_t epoch) const;
  void BroadcastAppend();
  void HandleAppend(const Message& m);
  void HandleAppendReply(const Message& m);
  void Truncate(uint64_t from);
  LogStart Start() const;
  void HandleVoteRequest(const Message& m);
  void HandleVoteReply(const Message& m);
  void MaybeCommit();
  uint64_t AppendLocal(Entry e);
  void RecomputeConfigAndEpoch();
  // Quiescence: whether the leader has nothing to send; wake up (either role).
  bool CanQuiesce() const;
  void Unquiesce();

  const NodeId id_;
  const RaftOptions options_;
  Random& random_;

  // Log: entries_[i] has index first_index_ + i.
  std::deque<Entry> entries_;
  uint64_t first_index_ = 1;
  uint64_t first_prev_term_ = 0;
  std::vector<NodeId> base_members_;  // in force at the log's start
  uint64_t base_epoch_ = 0;
  uint64_t base_position_ = 1;        // LogStart::first_position
  std::map<uint64_t, uint64_t> base_retries_;  // LogStart::retries

  HardState hard_;
  HardState persisted_hard_;
  Role role_ = Role::kFollower;
  NodeId leader_ = kNoNode;
  std::vector<NodeId> members_;  // the latest configuration in the log
  uint64_t config_index_ = 0;    // its entry's index (0: base_members_)
  uint64_t epoch_ = 0;           // the latest epoch in the log
  uint64_t applied_ = 0;
  uint64_t persisted_index_ = 0;  // every entry at or below it is durable here
  uint64_t unstable_from_ = 0;    // the first index not yet handed out in a Ready
  uint64_t truncate_from_ = 0;    // the lowest handed-out index overwritten since (0: none)
  uint64_t truncated_since_take_ = UINT64_MAX;  // caps OnPersisted (see there)
  std::optional<LogStart> reset_;
  std::optional<LogStart> trim_;
  bool broadcast_pending_ = false;  // proposals since the last Ready: send them then
  bool ready_outstanding_ = false;  // taken, not yet reported persisted

  int ticks_since_heard_ = 0;   // followers: since the leader; leaders: since the heartbeat
  bool quiesced_ = false;
  uint64_t quiesced_generation_ = 0;  // followers: the leader node's, when it quiesced
  int election_timeout_ = 0;    // randomized
  int ticks_in_role_ = 0;
  std::set<NodeId> votes_granted_, votes_rejected_;
  std::map<NodeId, Progress> progress_;
  NodeId transfer_target_ = kNoNode;
  int transfer_ticks_ = 0;
  std::vector<Message> outbox_;
  uint64_t next_read_id_ = 1;
  std::deque<PendingRead> pending_reads_;
  std::vector<std::pair<uint64_t, uint64_t>> reads_ready_;
  std::vector<uint64_t> reads_failed_;
};

}  // namespace cairn::journal

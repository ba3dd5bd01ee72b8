#include "src/journal/journal_node.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "src/base/status.h"
#include "src/base/strings.h"

namespace cairn::journal {

JournalNode::JournalNode(Runtime& rt, rpc::RpcNode& rpc, std::string root, JournalNodeOptions options)
    : rt_(rt),
      rpc_(rpc),
      root_(std::move(root)),
      options_(std::move(options)),
      outbox_(rt, rpc, options_.outbox),
      failed_(rt.executor()),
      boot_(rt.random().Next() & 0xffffffffu),
      loops_(rt.executor()) {
  outbox_.set_generation(Generation());
}

JournalNode::~JournalNode() { rpc_.CancelHandlers(); }

absl::Status JournalNode::ValidateStreamName(std::string_view name) {
  const bool chars_ok = std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
           c == '.';
  });
  if (name.empty() || name.size() > 128 || name[0] == '.' || !chars_ok) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad stream name \"", AbslView(name), "\": want 1-128 of [A-Za-z0-9_.-], not starting with '.'"));
  }
  return absl::OkStatus();
}

JournalNodeOptions JournalNodeOptions::FromKnobs(const Knobs& knobs) {
  JournalNodeOptions o;
  o.raft.election_ticks = static_cast<int>(knobs.raft_election_ticks);
  o.raft.heartbeat_ticks = static_cast<int>(knobs.raft_heartbeat_ticks);
  o.raft.entries_per_append_max = static_cast<size_t>(knobs.raft_entries_per_append_max);
  o.raft.bytes_per_append_max = static_cast<size_t>(knobs.raft_bytes_per_append_max);
  o.raft.inflight_appends_max = static_cast<size_t>(knobs.raft_inflight_appends_max);
  o.node_log = NodeLogOptions::FromKnobs(knobs);
  return o;
}

Task<absl::StatusOr<std::unique_ptr<JournalNode>>> JournalNode::Open(Runtime& rt, rpc::RpcNode& rpc, std::string root,
                                                                     JournalNodeOptions options) {
  options.node_log.log.probes = Probes(rt);  // the node log's and the streams' storage's
  std::unique_ptr<JournalNode> node(new JournalNode(rt, rpc, std::move(root), std::move(options)));
  CO_RETURN_IF_ERROR(co_await rt.disk().CreateDir(node->root_));
  absl::StatusOr<std::unique_ptr<NodeLog>> log =
      co_await NodeLog::Open(rt.disk(), rt.executor(), absl::StrCat(node->root_, "/.nodelog"), node->options_.node_log);
  if (!log.ok()) co_return log.status();
  node->log_ = *std::move(log);
  absl::StatusOr<std::vector<std::string>> names = co_await rt.disk().List(node->root_);
  if (!names.ok()) co_return names.status();
  std::sort(names->begin(), names->end());
  for (std::string& name : *names) {
    if (!ValidateStreamName(name).ok()) continue;
    absl::Status s = co_await node->OpenStream(name, {});
    if (absl::IsNotFound(s)) {
      rt.Log(absl::StrCat("journal: ", node->root_, "/", name, " holds no stream (its creation was cut off); ignored"));
      continue;
    }
    if (IsStateLost(s)) {
      // Its STATE is gone: it must never vote again, nor be created afresh here (see the header).
      rt.Log(absl::StrCat("journal: stream ", name, " stays down on this node: ", s.ToString()));
      node->lost_[name] = absl::FailedPreconditionError(
          absl::StrCat("the replica of stream ", name, " on node ", rt.node_id(),
                       " lost its state and stays down; replace it with another node (", s.message(), ")"));
      continue;
    }
    // Any other failure stops the node: an IO error, tried again at the next start.
    if (!s.ok()) co_return s;
  }
  CO_RETURN_IF_ERROR(co_await node->log_->FinishRecovery());
  co_return node;
}

Task<absl::Status> JournalNode::OpenStream(std::string name, std::vector<NodeId> members) {
  StreamReplicaOptions options;
  options.members = std::move(members);
  options.raft = options_.raft;
  if (options_.quiesce) {
    options.raft.node_liveness = [this](NodeId n) { return NodeLiveness(n); };
    // The generation moves when a replica here stops leading: followers quiesced under the
    // old one wake. The leaders still here wake too, so that their followers hear from them
    // before they time out.
    options.on_leadership_lost = [this] {
      ++stats_.leaderships_lost;
      outbox_.set_generation(Generation());
      WakeLeaders();
    };
  }
  options.read_bytes_max = options_.read_bytes_max;
  options.canary_ack_before_fsync = options_.canary_ack_before_fsync;
  if (options_.applying) {
    options.applying = [this, name](const Entry& e, uint64_t position) { options_.applying(name, e, position); };
  }
  options.on_failure = [this](const absl::Status& s) {
    if (failure_.ok()) failure_ = s;
    failed_.NotifyAll();
  };
  absl::StatusOr<std::unique_ptr<StreamReplica>> replica = co_await StreamReplica::Open(
      rt_, *log_, name, absl::StrCat(root_, "/", name), std::move(options),
      [this](RaftMessage m) { outbox_.Send(std::move(m)); });
  if (!replica.ok()) co_return replica.status();
  if (started_) (*replica)->Start();
  streams_[name] = *std::move(replica);
  co_return absl::OkStatus();
}

Task<absl::Status> JournalNode::CreateStream(std::string stream, std::vector<NodeId> members) {
  CO_RETURN_IF_ERROR(ValidateStreamName(stream));
  std::sort(members.begin(), members.end());
  members.erase(std::unique(members.begin(), members.end()), members.end());
  if (members.empty() || members.size() > options_.members_max) {
    co_return absl::InvalidArgumentError(
        absl::StrCat("a stream has 1 to ", options_.members_max, " members, not ", members.size()));
  }
  if (!std::binary_search(members.begin(), members.end(), rt_.node_id())) {
    co_return absl::InvalidArgumentError(absl::StrCat("node ", rt_.node_id(), " is not among the stream's members"));
  }
  if (streams_.contains(stream)) co_return absl::OkStatus();
  if (auto lost = lost_.find(stream); lost != lost_.end()) co_return lost->second;
  if (creating_.contains(stream)) co_return absl::UnavailableError(absl::StrCat("stream ", stream, " is being created"));
  if (streams_.size() + creating_.size() >= options_.streams_max) {
    co_return absl::ResourceExhaustedError(absl::StrCat("this node hosts ", options_.streams_max, " streams already"));
  }
  creating_.insert(stream);
  absl::Status s = co_await OpenStream(stream, std::move(members));
  creating_.erase(stream);
  co_return s;
}

Task<absl::Status> JournalNode::Failed() {
  while (failure_.ok()) co_await failed_.Wait();
  co_return failure_;
}

StreamReplica* JournalNode::stream(const std::string& name) const {
  auto it = streams_.find(name);
  return it == streams_.end() ? nullptr : it->second.get();
}

absl::StatusOr<StreamReplica*> JournalNode::Find(const std::string& name) const {
  StreamReplica* s = stream(name);
  if (auto lost = lost_.find(name); s == nullptr && lost != lost_.end()) {
    // Unavailable, not the loss's own code: the stream serves on at its other replicas, and a
    // client must go and ask them rather than give up here.
    return absl::UnavailableError(lost->second.message());
  }
  if (s == nullptr) return absl::NotFoundError(absl::StrCat("no journal stream \"", name, "\" on node ", rt_.node_id()));
  return s;
}

template <typename Request, typename Reply>
void JournalNode::RegisterRouted(std::string method,
                                 Task<absl::StatusOr<Reply>> (StreamReplica::*serve)(const Request&, Instant)) {
  rpc_.Register<Request, Reply>(std::move(method), [this, serve](rpc::CallContext c, Request r) -> Task<absl::StatusOr<Reply>> {
    absl::StatusOr<StreamReplica*> s = Find(r.stream());
    if (!s.ok()) co_return s.status();
    co_return co_await ((*s)->*serve)(r, c.deadline);
  });
}

void JournalNode::RegisterMethods() {
  rpc_.Register<CreateRequest, CreateReply>("journal.create", [this](rpc::CallContext, CreateRequest r) -> Task<absl::StatusOr<CreateReply>> {
    std::vector<NodeId> members(r.members().begin(), r.members().end());
    std::string name = r.stream();
    CO_RETURN_IF_ERROR(co_await CreateStream(std::move(name), std::move(members)));
    co_return CreateReply();
  });
  rpc_.Register<StepBatch, StepReply>("journal.step", [this](rpc::CallContext c, StepBatch batch) -> Task<absl::StatusOr<StepReply>> {
    // Before the messages: a quiesce heartbeat among them is taken under this generation. A
    // peer whose generation moved lost a leadership or restarted (and may be behind, or
    // floored, with nothing to say): the leaders here wake, so that it hears from them.
    auto [heard, first] = heard_.try_emplace(c.from);
    const bool moved = first || heard->second.generation != batch.generation();
    heard->second = Heard{.at = rt_.Now(), .generation = batch.generation()};
    if (moved && options_.quiesce) WakeLeaders();
    for (const RaftMessage& m : batch.messages()) {
      if (StreamReplica* s = stream(m.stream()); s != nullptr) {
        s->Step(m);
      } else {
        ++stats_.steps_unknown_stream;
      }
    }
    co_return StepReply();
  });
  RegisterRouted<AppendRequest, AppendReply>("journal.append", &StreamReplica::Append);
  RegisterRouted<FenceRequest, FenceReply>("journal.fence", &StreamReplica::Fence);
  RegisterRouted<TrimRequest, TrimReply>("journal.trim", &StreamReplica::Trim);
  RegisterRouted<ReadRequest, ReadReply>("journal.read", &StreamReplica::Read);
  RegisterRouted<InfoRequest, InfoReply>("journal.info", &StreamReplica::Describe);
  RegisterRouted<MembersRequest, MembersReply>("journal.members", &StreamReplica::ChangeMembers);
  RegisterRouted<TransferRequest, TransferReply>("journal.transfer", &StreamReplica::Transfer);
}

void JournalNode::Start() {
  started_ = true;
  for (auto& [name, replica] : streams_) replica->Start();
  loops_.Spawn(TickLoop());
}

Task<void> JournalNode::TickLoop() {
  while (true) {
    co_await rt_.Sleep(options_.tick);
    // Every stream ticks at once, so their heartbeats to a peer share one outbox call.
    for (auto& [name, replica] : streams_) replica->Tick();
    if (options_.quiesce) outbox_.HeartbeatAll();  // the node's liveness, which quiesced followers wait on
  }
}

void JournalNode::WakeLeaders() {
  for (auto& [name, replica] : streams_) {
    if (replica->core().role() == Role::kLeader) replica->Wake();
  }
}

uint64_t JournalNode::Generation() const { return boot_ << 32 | (stats_.leaderships_lost & 0xffffffffu); }

std::optional<uint64_t> JournalNode::NodeLiveness(NodeId node) const {
  if (node == rt_.node_id()) return Generation();
  auto it = heard_.find(node);
  if (it == heard_.end() || rt_.Now() - it->second.at > options_.tick * options_.raft.election_ticks) return std::nullopt;
  return it->second.generation;
}

}  // namespace cairn::journal

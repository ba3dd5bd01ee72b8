#include "src/journal/peer_outbox.h"

namespace cairn::journal {

PeerOutbox::PeerOutbox(Runtime& rt, rpc::RpcNode& rpc, PeerOutboxOptions options)
    : rt_(rt), rpc_(rpc), options_(options), flushers_(rt.executor()) {}

void PeerOutbox::Send(RaftMessage message) {
  const NodeId to = message.to();
  Peer& peer = peers_[to];
  if (peer.queued.size() >= options_.queued_messages_max) {
    ++stats_.messages_dropped;
    return;
  }
  peer.queued.push_back(std::move(message));
  if (!peer.flushing) {
    // The flusher starts after the current task yields, so what this tick or Ready queues for
    // the peer leaves together.
    peer.flushing = true;
    flushers_.Spawn(Flush(to));
  }
}

void PeerOutbox::Heartbeat(NodeId to) {
  Peer& peer = peers_[to];
  peer.heartbeat_due = true;
  if (!peer.flushing) {
    peer.flushing = true;
    flushers_.Spawn(Flush(to));
  }
}

void PeerOutbox::HeartbeatAll() {
  for (const auto& [to, peer] : peers_) Heartbeat(to);
}

Task<void> PeerOutbox::Flush(NodeId to) {
  while (true) {
    Peer& peer = peers_[to];
    if (peer.queued.empty() && !peer.heartbeat_due) {
      peer.flushing = false;
      co_return;
    }
    peer.heartbeat_due = false;
    StepBatch batch;
    batch.set_generation(generation_);
    size_t bytes = 0, taken = 0;
    for (; taken < peer.queued.size(); ++taken) {
      const size_t size = peer.queued[taken].ByteSizeLong();
      if (taken > 0 && bytes + size > options_.batch_bytes_max) break;
      bytes += size;
      *batch.add_messages() = std::move(peer.queued[taken]);
    }
    peer.queued.erase(peer.queued.begin(), peer.queued.begin() + static_cast<ptrdiff_t>(taken));
    ++stats_.calls;
    stats_.messages += taken;
    rpc_.Send(to, "journal.step", batch, options_.batch_budget);
    // Let the tasks that are ready run before the next batch leaves, so that what they queue
    // (other streams' Readies) shares it.
    co_await rt_.executor().Yield();
  }
}

}  // namespace cairn::journal

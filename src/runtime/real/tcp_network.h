// TcpNetwork: the Network of a real node, as TCP connections between processes.
//
// Wire format: a stream of frames, each a 4-byte little-endian length then that many payload
// bytes. The first frame each side sends on a new connection is a hello, magic "CRN1"
// (0x314E5243) then the sender's NodeId, both fixed32, so an acceptor learns who connected and
// a dialer that it reached the node it meant. After the hellos either side sends on the
// connection: a node replies to a client that does not listen over the client's own connection.
//
// Sending queues the message for the peer (bounded by net_send_queue_bytes_max; beyond it new
// messages are dropped) and writes it on the newest open connection to that peer, whichever
// side opened it; with none, it dials the peer's address, and while messages stay queued it
// redials with doubling backoff capped at net_reconnect_backoff_ms_max. Messages written to a
// connection that then breaks are lost: the Network contract allows loss, and the RPC layer
// retries. A frame longer than net_message_bytes_max, or a bad hello, closes its connection.
//
// Everything runs on the node's loop thread with Asio asynchronous operations. Pending
// handlers hold the network only through an anchor that the destructor clears, so they may
// outlive it harmlessly.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "asio/io_context.hpp"
#include "asio/ip/tcp.hpp"
#include "asio/steady_timer.hpp"
#include "src/runtime/knobs.h"
#include "src/runtime/network.h"

namespace cairn::real {

inline constexpr uint32_t kHelloMagic = 0x314E5243;  // "CRN1" as little-endian bytes

struct TcpNetworkStats {
  uint64_t dropped_queue_full = 0;      // Send found the peer's queue full
  uint64_t dropped_inbox_full = 0;      // a received message found the inbox full
  uint64_t connections_rejected = 0;    // closed for a bad hello or an oversized frame
};

class TcpNetwork final : public Network {
 public:
  // Listens on `listen_address` ("host:port", port 0 = an ephemeral port; "" = do not listen)
  // and knows `peers`' addresses. InvalidArgument for a malformed address; the bind error if
  // the port cannot be had. Call on the loop thread (or before the loop runs).
  static absl::StatusOr<std::unique_ptr<TcpNetwork>> Create(
      asio::io_context& io, Executor& executor, const Knobs& knobs, NodeId self,
      const std::string& listen_address, std::map<NodeId, std::string> peers);
  ~TcpNetwork() override;

  // InvalidArgument if the payload exceeds net_message_bytes_max; NotFound if `to` has neither
  // an open connection nor an address. A message to this node itself is delivered locally.
  absl::Status Send(NodeId to, std::string payload) override;

  // The bound "host:port" (the real port when 0 was asked for); "" without a listener.
  std::string listen_address() const;
  const TcpNetworkStats& stats() const { return stats_; }

 private:
  struct Anchor;
  struct Frame;
  struct Connection;
  struct Peer;

  TcpNetwork(asio::io_context& io, Executor& executor, const Knobs& knobs, NodeId self);

  Peer& GetPeer(NodeId id);
  void MaybeDial(Peer& peer);
  void Dial(Peer& peer);
  void OnDialed(const std::shared_ptr<Connection>& conn, const std::error_code& error);
  void ScheduleReconnect(Peer& peer);
  void StartAccept();
  void OnAccepted(const std::shared_ptr<Connection>& conn, const std::error_code& error);
  void StartRead(const std::shared_ptr<Connection>& conn);
  void OnHeader(const std::shared_ptr<Connection>& conn);
  void OnFrame(const std::shared_ptr<Connection>& conn);
  void Pump(const std::shared_ptr<Connection>& conn);
  void Close(const std::shared_ptr<Connection>& conn);

  asio::io_context& io_;
  const uint64_t message_bytes_max_;
  const uint64_t send_queue_bytes_max_;
  const int64_t reconnect_backoff_ms_max_;
  std::shared_ptr<Anchor> anchor_;
  std::unique_ptr<asio::ip::tcp::acceptor> acceptor_;  // null without a listener
  asio::steady_timer accept_retry_timer_;
  asio::ip::tcp::resolver resolver_;
  std::map<NodeId, std::unique_ptr<Peer>> peers_;
  std::set<std::shared_ptr<Connection>> connections_;  // every open one, for the destructor
  TcpNetworkStats stats_;
};

}  // namespace cairn::real

#include "src/runtime/real/tcp_network.h"

#include <algorithm>
#include <chrono>
#include <string>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "asio/connect.hpp"
#include "asio/post.hpp"
#include "asio/read.hpp"
#include "asio/write.hpp"
#include "src/base/check.h"
#include "src/base/coding.h"

namespace cairn::real {
namespace {

using asio::ip::tcp;

constexpr uint32_t kHelloBytes = 8;
constexpr int64_t kReconnectBackoffInitialMs = 10;
constexpr auto kAcceptRetryDelay = std::chrono::milliseconds(50);
// Frames handed to one write; bounds the gather list, not the bytes.
constexpr size_t kFramesPerWriteMax = 256;

struct HostPort {
  std::string host;
  uint16_t port;
};

// "host:port" or "[v6]:port".
absl::StatusOr<HostPort> SplitHostPort(absl::string_view address) {
  const size_t colon = address.rfind(':');
  uint32_t port = 0;
  if (colon == absl::string_view::npos || colon == 0 ||
      !absl::SimpleAtoi(address.substr(colon + 1), &port) || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("address '", address, "' is not of the form host:port"));
  }
  absl::string_view host = address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return HostPort{std::string(host), static_cast<uint16_t>(port)};
}

absl::Status SocketError(const std::error_code& error, absl::string_view what) {
  if (!error) return absl::UnavailableError(absl::StrCat(what, ": no address found"));
  if (error.category() == std::system_category()) return absl::ErrnoToStatus(error.value(), what);
  return absl::UnavailableError(absl::StrCat(what, ": ", error.message()));
}

std::string FormatEndpoint(const tcp::endpoint& endpoint) {
  const asio::ip::address address = endpoint.address();
  return address.is_v6() ? absl::StrCat("[", address.to_string(), "]:", endpoint.port())
                         : absl::StrCat(address.to_string(), ":", endpoint.port());
}

}  // namespace

// Handlers reach the network through this; the destructor clears it, so a handler that runs
// (or is destroyed) after the network is gone does nothing.
struct TcpNetwork::Anchor {
  TcpNetwork* net;
};

struct TcpNetwork::Frame {
  explicit Frame(std::string p) : payload(std::move(p)) {
    std::string h;
    PutFixed32(&h, static_cast<uint32_t>(payload.size()));
    std::copy(h.begin(), h.end(), header);
  }
  char header[4];
  std::string payload;
};

struct TcpNetwork::Connection {
  Connection(asio::io_context& io, bool is_outgoing, NodeId peer_id)
      : socket(io), outgoing(is_outgoing), peer(peer_id) {}
  tcp::socket socket;
  const bool outgoing;
  NodeId peer;                  // for an accepted connection, known once its hello arrives
  bool hello_received = false;
  bool hello_sent = false;
  bool writing = false;
  bool closed = false;
  char read_header[4];
  std::string read_payload;
  std::string hello;                     // our hello, alive while written
  std::vector<Frame> inflight;           // frames being written
  std::vector<asio::const_buffer> gather;
};

struct TcpNetwork::Peer {
  Peer(asio::io_context& io, NodeId peer_id) : id(peer_id), reconnect_timer(io) {}
  const NodeId id;
  std::string address;                            // "" = reachable only over its own connections
  std::deque<Frame> queue;                        // not yet handed to a connection
  uint64_t queued_bytes = 0;
  std::vector<std::shared_ptr<Connection>> conns;  // open and identified, newest (used) first
  std::shared_ptr<Connection> dialing;            // outgoing, until the peer's hello arrives
  bool reconnect_pending = false;
  int64_t backoff_ms = 0;
  asio::steady_timer reconnect_timer;
};

TcpNetwork::TcpNetwork(asio::io_context& io, Executor& executor, const Knobs& knobs, NodeId self)
    : Network(executor, self,
              static_cast<size_t>(std::max<int64_t>(1, knobs.net_inbox_messages_max))),
      io_(io),
      message_bytes_max_(static_cast<uint64_t>(knobs.net_message_bytes_max)),
      send_queue_bytes_max_(static_cast<uint64_t>(knobs.net_send_queue_bytes_max)),
      reconnect_backoff_ms_max_(std::max<int64_t>(1, knobs.net_reconnect_backoff_ms_max)),
      anchor_(std::make_shared<Anchor>(Anchor{this})),
      accept_retry_timer_(io),
      resolver_(io) {}

absl::StatusOr<std::unique_ptr<TcpNetwork>> TcpNetwork::Create(
    asio::io_context& io, Executor& executor, const Knobs& knobs, NodeId self,
    const std::string& listen_address, std::map<NodeId, std::string> peers) {
  if (self == kNoNode) return absl::InvalidArgumentError("node id is not set");
  std::unique_ptr<TcpNetwork> net(new TcpNetwork(io, executor, knobs, self));
  for (auto& [id, address] : peers) {
    absl::StatusOr<HostPort> parsed = SplitHostPort(address);
    if (!parsed.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("peer ", id, ": ", parsed.status().message()));
    }
    net->GetPeer(id).address = std::move(address);
  }
  if (listen_address.empty()) return net;

  absl::StatusOr<HostPort> parsed = SplitHostPort(listen_address);
  if (!parsed.ok()) return parsed.status();
  std::error_code error;
  tcp::endpoint endpoint;
  const asio::ip::address address = asio::ip::make_address(parsed->host, error);
  if (!error) {
    endpoint = tcp::endpoint(address, parsed->port);
  } else {
    // A host name: resolving it blocks, which is fine once, at startup.
    tcp::resolver::results_type results =
        net->resolver_.resolve(parsed->host, std::to_string(parsed->port), error);
    if (error || results.empty()) {
      return SocketError(error, absl::StrCat("resolve ", listen_address));
    }
    endpoint = results.begin()->endpoint();
  }
  auto acceptor = std::make_unique<tcp::acceptor>(io);
  const std::string what = absl::StrCat("listen on ", listen_address);
  acceptor->open(endpoint.protocol(), error);
  // A restarted node must get its port back while old connections sit in TIME_WAIT.
  if (!error) acceptor->set_option(tcp::acceptor::reuse_address(true), error);
  if (!error) acceptor->bind(endpoint, error);
  if (!error) acceptor->listen(asio::socket_base::max_listen_connections, error);
  if (error) return SocketError(error, what);
  net->acceptor_ = std::move(acceptor);
  net->StartAccept();
  return net;
}

TcpNetwork::~TcpNetwork() {
  anchor_->net = nullptr;
  std::error_code ignored;
  if (acceptor_) acceptor_->close(ignored);
  accept_retry_timer_.cancel();
  resolver_.cancel();
  for (auto& [id, peer] : peers_) peer->reconnect_timer.cancel();
  // Close now, so peers see the node go away at once rather than when the io_context ends.
  for (const std::shared_ptr<Connection>& conn : connections_) {
    conn->closed = true;
    conn->socket.close(ignored);
  }
}

std::string TcpNetwork::listen_address() const {
  if (!acceptor_) return "";
  std::error_code error;
  const tcp::endpoint endpoint = acceptor_->local_endpoint(error);
  return error ? "" : FormatEndpoint(endpoint);
}

TcpNetwork::Peer& TcpNetwork::GetPeer(NodeId id) {
  std::unique_ptr<Peer>& peer = peers_[id];
  if (!peer) peer = std::make_unique<Peer>(io_, id);
  return *peer;
}

absl::Status TcpNetwork::Send(NodeId to, std::string payload) {
  if (payload.size() > message_bytes_max_) {
    return absl::InvalidArgumentError(absl::StrCat("message of ", payload.size(),
                                                   " bytes exceeds net_message_bytes_max (",
                                                   message_bytes_max_, ")"));
  }
  if (to == self()) {
    // Delivered from a fresh handler, so that Send never runs the receiver's code inline.
    asio::post(io_, [anchor = anchor_, payload = std::move(payload)]() mutable {
      if (TcpNetwork* net = anchor->net) {
        if (!net->Deliver(Message{net->self(), std::move(payload)})) {
          ++net->stats_.dropped_inbox_full;
        }
      }
    });
    return absl::OkStatus();
  }
  auto it = peers_.find(to);
  if (it == peers_.end() || (it->second->address.empty() && it->second->conns.empty())) {
    return absl::NotFoundError(absl::StrCat("no address for node ", to));
  }
  Peer& peer = *it->second;
  const uint64_t bytes = payload.size() + sizeof(Frame::header);
  if (peer.queued_bytes + bytes > send_queue_bytes_max_) {
    ++stats_.dropped_queue_full;  // the contract allows loss; a full queue is where it happens
    return absl::OkStatus();
  }
  peer.queue.emplace_back(std::move(payload));
  peer.queued_bytes += bytes;
  if (!peer.conns.empty()) {
    Pump(peer.conns.front());
  } else {
    MaybeDial(peer);
  }
  return absl::OkStatus();
}

void TcpNetwork::MaybeDial(Peer& peer) {
  if (peer.address.empty() || peer.dialing || peer.reconnect_pending || !peer.conns.empty() ||
      peer.queue.empty()) {
    return;
  }
  Dial(peer);
}

void TcpNetwork::Dial(Peer& peer) {
  auto conn = std::make_shared<Connection>(io_, /*outgoing=*/true, peer.id);
  peer.dialing = conn;
  connections_.insert(conn);
  absl::StatusOr<HostPort> parsed = SplitHostPort(peer.address);
  CAIRN_CHECK_MSG(parsed.ok(), "peer addresses are checked in Create");
  auto on_connect = [anchor = anchor_, conn](const std::error_code& error, const tcp::endpoint&) {
    if (TcpNetwork* net = anchor->net; net != nullptr && !conn->closed) net->OnDialed(conn, error);
  };
  std::error_code error;
  const asio::ip::address address = asio::ip::make_address(parsed->host, error);
  if (!error) {
    const std::vector<tcp::endpoint> endpoints = {
        tcp::endpoint(address, parsed->port)};
    asio::async_connect(conn->socket, endpoints, std::move(on_connect));
    return;
  }
  // Only host names need the resolver (and Asio's internal resolver thread).
  resolver_.async_resolve(
      parsed->host, std::to_string(parsed->port),
      [anchor = anchor_, conn, on_connect = std::move(on_connect)](
          const std::error_code& resolve_error, tcp::resolver::results_type results) mutable {
        TcpNetwork* net = anchor->net;
        if (net == nullptr || conn->closed) return;
        if (resolve_error) {
          net->OnDialed(conn, resolve_error);
          return;
        }
        asio::async_connect(conn->socket, results, std::move(on_connect));
      });
}

void TcpNetwork::OnDialed(const std::shared_ptr<Connection>& conn, const std::error_code& error) {
  if (error) {
    Close(conn);  // schedules the redial
    return;
  }
  std::error_code ignored;
  conn->socket.set_option(tcp::no_delay(true), ignored);
  // The connection carries messages only once the peer's hello shows that the address
  // reached the node we meant; until then Pump sends our hello alone.
  StartRead(conn);
  Pump(conn);
}

void TcpNetwork::ScheduleReconnect(Peer& peer) {
  if (peer.address.empty() || peer.queue.empty() || !peer.conns.empty() || peer.dialing ||
      peer.reconnect_pending) {
    return;  // nothing waits to be sent, or a connection is (being) had
  }
  peer.backoff_ms = peer.backoff_ms == 0
                        ? std::min(kReconnectBackoffInitialMs, reconnect_backoff_ms_max_)
                        : std::min(peer.backoff_ms * 2, reconnect_backoff_ms_max_);
  peer.reconnect_pending = true;
  peer.reconnect_timer.expires_after(std::chrono::milliseconds(peer.backoff_ms));
  peer.reconnect_timer.async_wait([anchor = anchor_, id = peer.id](const std::error_code& error) {
    TcpNetwork* net = anchor->net;
    if (net == nullptr || error) return;
    Peer& again = net->GetPeer(id);
    again.reconnect_pending = false;
    net->MaybeDial(again);
  });
}

void TcpNetwork::StartAccept() {
  auto conn = std::make_shared<Connection>(io_, /*outgoing=*/false, kNoNode);
  acceptor_->async_accept(conn->socket, [anchor = anchor_, conn](const std::error_code& error) {
    if (TcpNetwork* net = anchor->net) net->OnAccepted(conn, error);
  });
}

void TcpNetwork::OnAccepted(const std::shared_ptr<Connection>& conn,
                            const std::error_code& error) {
  if (error == asio::error::operation_aborted) return;
  if (error) {
    // Out of descriptors or similar: try again shortly rather than spin.
    accept_retry_timer_.expires_after(kAcceptRetryDelay);
    accept_retry_timer_.async_wait([anchor = anchor_](const std::error_code& timer_error) {
      if (TcpNetwork* net = anchor->net; net != nullptr && !timer_error) net->StartAccept();
    });
    return;
  }
  std::error_code ignored;
  conn->socket.set_option(tcp::no_delay(true), ignored);
  connections_.insert(conn);
  StartRead(conn);
  Pump(conn);  // our hello
  StartAccept();
}

void TcpNetwork::StartRead(const std::shared_ptr<Connection>& conn) {
  asio::async_read(conn->socket, asio::buffer(conn->read_header),
                   [anchor = anchor_, conn](const std::error_code& error, size_t) {
                     TcpNetwork* net = anchor->net;
                     if (net == nullptr || conn->closed) return;
                     if (error) {
                       net->Close(conn);
                       return;
                     }
                     net->OnHeader(conn);
                   });
}

void TcpNetwork::OnHeader(const std::shared_ptr<Connection>& conn) {
  const uint32_t length = DecodeFixed32(conn->read_header);
  if (length > message_bytes_max_ || (!conn->hello_received && length != kHelloBytes)) {
    ++stats_.connections_rejected;
    Close(conn);
    return;
  }
  conn->read_payload.resize(length);
  asio::async_read(conn->socket, asio::buffer(conn->read_payload),
                   [anchor = anchor_, conn](const std::error_code& error, size_t) {
                     TcpNetwork* net = anchor->net;
                     if (net == nullptr || conn->closed) return;
                     if (error) {
                       net->Close(conn);
                       return;
                     }
                     net->OnFrame(conn);
                   });
}

void TcpNetwork::OnFrame(const std::shared_ptr<Connection>& conn) {
  if (conn->hello_received) {
    if (!Deliver(Message{conn->peer, std::move(conn->read_payload)})) {
      ++stats_.dropped_inbox_full;
    }
    conn->read_payload = std::string();
    StartRead(conn);
    return;
  }
  const uint32_t magic = DecodeFixed32(conn->read_payload.data());
  const NodeId from = DecodeFixed32(conn->read_payload.data() + 4);
  // A dialed address must answer as the node we meant to reach; nobody may claim to be us.
  if (magic != kHelloMagic || from == kNoNode || from == self() ||
      (conn->outgoing && from != conn->peer)) {
    ++stats_.connections_rejected;
    Close(conn);
    return;
  }
  conn->hello_received = true;
  conn->peer = from;
  Peer& peer = GetPeer(from);
  if (conn->outgoing) {
    peer.dialing.reset();
    peer.backoff_ms = 0;  // the peer is up and answering
  }
  peer.conns.insert(peer.conns.begin(), conn);
  StartRead(conn);
  Pump(conn);
}

void TcpNetwork::Pump(const std::shared_ptr<Connection>& conn) {
  if (conn->closed || conn->writing) return;
  conn->gather.clear();
  if (!conn->hello_sent) {
    conn->hello.clear();
    PutFixed32(&conn->hello, kHelloBytes);
    PutFixed32(&conn->hello, kHelloMagic);
    PutFixed32(&conn->hello, self());
    conn->gather.push_back(asio::buffer(conn->hello));
    conn->hello_sent = true;
  }
  // Only the peer's newest connection drains its queue.
  if (conn->peer != kNoNode) {
    Peer& peer = GetPeer(conn->peer);
    if (!peer.conns.empty() && peer.conns.front() == conn) {
      while (!peer.queue.empty() && conn->inflight.size() < kFramesPerWriteMax) {
        peer.queued_bytes -= peer.queue.front().payload.size() + sizeof(Frame::header);
        conn->inflight.push_back(std::move(peer.queue.front()));
        peer.queue.pop_front();
      }
    }
  }
  // Buffers point into `inflight`, which is not touched again until the write completes.
  for (const Frame& frame : conn->inflight) {
    conn->gather.push_back(asio::buffer(frame.header));
    if (!frame.payload.empty()) conn->gather.push_back(asio::buffer(frame.payload));
  }
  if (conn->gather.empty()) return;
  conn->writing = true;
  asio::async_write(conn->socket, conn->gather,
                    [anchor = anchor_, conn](const std::error_code& error, size_t) {
                      TcpNetwork* net = anchor->net;
                      if (net == nullptr || conn->closed) return;
                      conn->writing = false;
                      conn->inflight.clear();
                      if (error) {
                        net->Close(conn);
                        return;
                      }
                      net->Pump(conn);
                    });
}

void TcpNetwork::Close(const std::shared_ptr<Connection>& conn) {
  if (conn->closed) return;
  conn->closed = true;
  std::error_code ignored;
  conn->socket.close(ignored);
  connections_.erase(conn);
  if (conn->peer == kNoNode) return;  // never identified
  Peer& peer = GetPeer(conn->peer);
  if (peer.dialing == conn) peer.dialing.reset();
  bool was_used = false;
  if (auto it = std::find(peer.conns.begin(), peer.conns.end(), conn); it != peer.conns.end()) {
    was_used = it == peer.conns.begin();
    peer.conns.erase(it);
  }
  // Frames in flight on `conn` are lost; what is still queued goes out another way.
  if (!peer.conns.empty()) {
    if (was_used) Pump(peer.conns.front());
  } else {
    ScheduleReconnect(peer);
  }
}

}  // namespace cairn::real

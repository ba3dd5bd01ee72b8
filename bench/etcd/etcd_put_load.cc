// etcd_put_load: the etcd side of bench/journal_vs_etcd.sh — N concurrent clients putting
// values of a given size into a running etcd cluster, as fast as each put is acknowledged,
// reporting puts per second and latency percentiles in the same form as `cairn journal bench`.
//
// It speaks etcd's v3 JSON gateway (POST /v3/kv/put over HTTP/1.1 keep-alive connections,
// one per client) because Debian packages no etcd client library or benchmark tool; the
// gateway translates to gRPC inside the server, which costs etcd some CPU per request (stated
// next to the results). Every put goes to the leader, as Cairn's appends do: the endpoint whose
// /v3/maintenance/status names itself as leader.
//
// This is a benchmark, outside src/: it uses threads, sockets and clocks directly.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "bench/etcd/put_load.h"

namespace {

using Clock = std::chrono::steady_clock;

std::string Base64(const std::string& in) {
  static const char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (i + 1 == in.size()) {
    const uint32_t v = uint8_t(in[i]) << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    const uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

// One keep-alive HTTP/1.1 connection to host:port.
class Connection {
 public:
  Connection(const std::string& host, int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    ::inet_pton(AF_INET, host.c_str(), &addr.sin_addr);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      std::perror("connect");
      std::exit(2);
    }
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  }
  ~Connection() { ::close(fd_); }

  // POSTs `body` to `path`; the response body, or nullopt on a non-200 answer or a broken connection.
  std::optional<std::string> Post(const std::string& path, const std::string& body) {
    std::string request = "POST " + path + " HTTP/1.1\r\nHost: etcd\r\nContent-Type: application/json\r\n" +
                          "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    for (size_t sent = 0; sent < request.size();) {
      const ssize_t n = ::send(fd_, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return std::nullopt;
      sent += static_cast<size_t>(n);
    }
    size_t header_end;
    while ((header_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (!Fill()) return std::nullopt;
    }
    const std::string headers = buffer_.substr(0, header_end);
    const bool ok = headers.compare(0, 12, "HTTP/1.1 200") == 0;
    size_t length = 0;
    for (const char* name : {"Content-Length: ", "content-length: "}) {
      if (size_t at = headers.find(name); at != std::string::npos) length = std::strtoull(headers.c_str() + at + 16, nullptr, 10);
    }
    while (buffer_.size() < header_end + 4 + length) {
      if (!Fill()) return std::nullopt;
    }
    std::string response = buffer_.substr(header_end + 4, length);
    buffer_.erase(0, header_end + 4 + length);
    if (!ok) return std::nullopt;
    return response;
  }

 private:
  bool Fill() {
    char chunk[65536];
    const ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
    if (n <= 0) return false;
    buffer_.append(chunk, static_cast<size_t>(n));
    return true;
  }

  int fd_ = -1;
  std::string buffer_;
};

// The value of a JSON string field `"name":"value"` (etcd's gateway quotes 64-bit ids).
std::string JsonField(const std::string& json, const std::string& name) {
  const std::string key = "\"" + name + "\":\"";
  const size_t at = json.find(key);
  if (at == std::string::npos) return "";
  const size_t begin = at + key.size();
  return json.substr(begin, json.find('"', begin) - begin);
}

constexpr char kUsage[] =
    "usage: etcd_put_load --endpoints HOST:PORT,... [--clients N] [--value-bytes B] [--seconds S]\n"
    "                     [--warmup-seconds W] [--json]\n"
    "Puts from N concurrent clients to the etcd leader; prints puts/s and p50/p99 latency.\n";

}  // namespace

int main(int argc, char** argv) {
  const cairn::bench::PutLoadFlags flags = cairn::bench::ParsePutLoadFlags(argc, argv, kUsage);
  std::vector<std::pair<std::string, int>> endpoints;
  for (const std::string& ep : flags.endpoints) {
    const size_t colon = ep.rfind(':');
    endpoints.emplace_back(ep.substr(0, colon), std::atoi(ep.c_str() + colon + 1));
  }
  const int clients = flags.clients;
  const double seconds = flags.seconds, warmup = flags.warmup_seconds;

  // The leader: the endpoint whose status names itself.
  std::optional<std::pair<std::string, int>> leader;
  for (const auto& ep : endpoints) {
    Connection c(ep.first, ep.second);
    std::optional<std::string> status = c.Post("/v3/maintenance/status", "{}");
    if (status && !JsonField(*status, "leader").empty() && JsonField(*status, "leader") == JsonField(*status, "member_id")) {
      leader = ep;
    }
  }
  if (!leader) {
    std::fprintf(stderr, "etcd_put_load: no endpoint reports itself as the leader\n");
    return 1;
  }

  const std::string value64 = Base64(cairn::bench::PutValue(flags.value_bytes));
  const Clock::time_point measure_from = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(warmup));
  const Clock::time_point end = measure_from + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  std::mutex mu;
  std::vector<int64_t> latencies_us;
  std::atomic<uint64_t> errors = 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < clients; ++t) {
    threads.emplace_back([&, t] {
      Connection c(leader->first, leader->second);
      std::vector<int64_t> mine;
      for (uint64_t n = 0; Clock::now() < end; ++n) {
        const std::string body = "{\"key\":\"" + Base64("bench/" + std::to_string(t) + "/" + std::to_string(n)) +
                                 "\",\"value\":\"" + value64 + "\"}";
        const Clock::time_point begin = Clock::now();
        std::optional<std::string> reply = c.Post("/v3/kv/put", body);
        const Clock::time_point done = Clock::now();
        if (!reply) {
          ++errors;
          return;
        }
        if (begin >= measure_from && done <= end) {
          mine.push_back(std::chrono::duration_cast<std::chrono::microseconds>(done - begin).count());
        }
      }
      std::lock_guard<std::mutex> lock(mu);
      latencies_us.insert(latencies_us.end(), mine.begin(), mine.end());
    });
  }
  for (std::thread& t : threads) t.join();
  cairn::bench::PrintPutLoadReport("etcd", flags, std::move(latencies_us), errors.load());
  return errors.load() == 0 ? 0 : 1;
}

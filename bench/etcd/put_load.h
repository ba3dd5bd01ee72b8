// What the two etcd load generators of bench/journal_vs_etcd.sh share: their flags, the value
// they put, and their report, in the JSON `cairn journal bench --json` prints, so the script
// reads all three alike. etcd_put_load speaks etcd's JSON gateway, etcd_grpc_load its gRPC API.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace cairn::bench {

struct PutLoadFlags {
  std::vector<std::string> endpoints;  // host:port
  int clients = 16;
  int conns = 0;  // gRPC connections (0: the generator's default); the gateway opens one per client
  size_t value_bytes = 100;
  double seconds = 5;
  double warmup_seconds = 1;
  bool json = false;
};

// Parses argv; on a bad or missing flag prints `usage` and exits 2.
inline PutLoadFlags ParsePutLoadFlags(int argc, char** argv, const char* usage) {
  const auto fail = [usage] {
    std::fprintf(stderr, "%s", usage);
    std::exit(2);
  };
  PutLoadFlags f;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const auto next = [&]() -> std::string {
      if (i + 1 >= argc) fail();
      return argv[++i];
    };
    if (a == "--endpoints") {
      const std::string list = next();
      for (size_t from = 0; from <= list.size();) {
        const size_t comma = std::min(list.find(',', from), list.size());
        const std::string ep = list.substr(from, comma - from);
        if (ep.rfind(':') == std::string::npos) fail();
        f.endpoints.push_back(ep);
        from = comma + 1;
      }
    } else if (a == "--clients") {
      f.clients = std::atoi(next().c_str());
    } else if (a == "--conns") {
      f.conns = std::atoi(next().c_str());
    } else if (a == "--value-bytes") {
      f.value_bytes = std::strtoull(next().c_str(), nullptr, 10);
    } else if (a == "--seconds") {
      f.seconds = std::atof(next().c_str());
    } else if (a == "--warmup-seconds") {
      f.warmup_seconds = std::atof(next().c_str());
    } else if (a == "--json") {
      f.json = true;
    } else {
      fail();
    }
  }
  if (f.endpoints.empty() || f.clients < 1 || f.clients > 100'000 || f.conns < 0 || f.value_bytes < 1 ||
      f.seconds <= 0 || f.warmup_seconds < 0) {
    fail();
  }
  return f;
}

// The value every put carries: printable, not all one byte.
inline std::string PutValue(size_t bytes) {
  std::string value(bytes, 'x');
  for (size_t i = 0; i < value.size(); ++i) value[i] = static_cast<char>('a' + (i * 7919) % 26);
  return value;
}

// Prints the rate and latency percentiles of the puts measured (`latencies_us`, sorted here).
inline void PrintPutLoadReport(const char* system, const PutLoadFlags& f, std::vector<int64_t> latencies_us,
                               uint64_t errors) {
  std::sort(latencies_us.begin(), latencies_us.end());
  const auto percentile_ms = [&](double p) {
    if (latencies_us.empty()) return 0.0;
    const size_t i = std::min(latencies_us.size() - 1, static_cast<size_t>(p * static_cast<double>(latencies_us.size())));
    return static_cast<double>(latencies_us[i]) / 1000.0;
  };
  const double rate = static_cast<double>(latencies_us.size()) / f.seconds;
  if (f.json) {
    std::printf("{\"system\": \"%s\", \"appenders\": %d, \"record_bytes\": %zu, \"appends_per_s\": %.6g, "
                "\"p50_ms\": %.6g, \"p99_ms\": %.6g, \"errors\": %llu}\n",
                system, f.clients, f.value_bytes, rate, percentile_ms(0.5), percentile_ms(0.99),
                static_cast<unsigned long long>(errors));
  } else {
    std::printf("%s, %d clients, %zu-byte values: %.0f puts/s, p50 %.2f ms, p99 %.2f ms (%zu puts measured, %llu errors)\n",
                system, f.clients, f.value_bytes, rate, percentile_ms(0.5), percentile_ms(0.99), latencies_us.size(),
                static_cast<unsigned long long>(errors));
  }
}

}  // namespace cairn::bench

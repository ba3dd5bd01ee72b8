// SSTable speed and size: Cairn's SstWriter/SstReader against RocksDB's SstFileWriter and table
// reader (SstFileReader), on the same rows, codec, block size and bloom filter, side by side.
//
//   build/bench/sst_bench            every dataset and codec (about 90 s)
//   build/bench/sst_bench --quick    a tenth of the rows
//   build/bench/sst_bench --case 1 --side cairn    one case, one side (to profile it)
//
// Datasets: (a) 16-byte keys, 100-byte values whose first half is random printable bytes and
// second half repeats it (db_bench's default, compression ratio 0.5); (b) 16-byte keys with
// 50..250-byte values of words from a small vocabulary (text-like). Keys are db_bench's: the
// row number big-endian in 8 bytes, padded with '0' to 16.
//
// Figures per side:
//   build MB/s     user bytes (keys + values) / time from create to a synced, finished file.
//                  RocksDB's SstFileWriter keeps its default invalidate_page_cache: it
//                  fadvises DONTNEED every 1 MiB, which starts writeback early and leaves
//                  less for the final fsync; Cairn writes 2 MiB macroblocks and syncs once
//   file MB        the file's size (smaller is better)
//   get uncached   random existing keys, no block cache (index and filters held by the reader;
//                  the file is in the OS page cache): one data block read, checked and
//                  decompressed per get
//   get cached     the same keys again, with an LRU block cache larger than the file, warmed
//   scan MB/s      user bytes / time of a full iterator scan (no block cache)
// Cairn point gets are SstReader::Get; SstFileReader has no Get, so a RocksDB point get is
// Seek on one reused iterator plus a key compare (it skips the bloom filter, which for
// existing keys only costs time).
//
// Each figure is the best of several runs. Reads of a working set larger than the CPU caches
// (cached gets) vary by up to 20% from run to run on a shared machine.
//
// Cairn's IO goes through PosixDisk on an inline BlockingPool (no thread hand-off), RocksDB's
// through its default Env; both read with pread, and each file is read once before its reads
// are timed, so both sit in the page cache. Files live in a fresh directory under /tmp,
// removed at exit.
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "asio/io_context.hpp"
#include "src/base/check.h"
#include "src/base/status.h"
#include "src/format/block_cache.h"
#include "src/format/sst_reader.h"
#include "src/format/sst_writer.h"
#include "src/runtime/real/blocking_pool.h"
#include "src/runtime/real/posix_disk.h"
#include "src/runtime/run_inline.h"

#ifdef CAIRN_HAVE_ROCKSDB
#include "rocksdb/cache.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/iterator.h"
#include "rocksdb/options.h"
#include "rocksdb/sst_file_reader.h"
#include "rocksdb/sst_file_writer.h"
#include "rocksdb/table.h"
#include "rocksdb/version.h"
#endif

namespace cairn::format {
namespace {

constexpr size_t kKeyBytes = 16;
constexpr uint32_t kBlockBytes = 16u << 10;
constexpr uint32_t kMacroblockBytes = 2u << 20;
constexpr uint32_t kBloomBitsPerKey = 10;
constexpr size_t kCacheBytes = size_t{1} << 30;  // larger than any file here

uint64_t SplitMix(uint64_t* x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// Rows in key order, in two arenas.
struct Dataset {
  std::string name;
  std::string keys;  // kKeyBytes each
  std::string values;
  std::vector<uint64_t> value_end;  // value i is values[value_end[i-1], value_end[i])

  size_t rows() const { return value_end.size(); }
  std::string_view key(size_t i) const { return std::string_view(keys).substr(i * kKeyBytes, kKeyBytes); }
  std::string_view value(size_t i) const {
    const uint64_t begin = i == 0 ? 0 : value_end[i - 1];
    return std::string_view(values).substr(begin, value_end[i] - begin);
  }
  uint64_t user_bytes() const { return keys.size() + values.size(); }
};

void AddKey(Dataset* d, uint64_t i) {
  for (int b = 7; b >= 0; --b) d->keys.push_back(static_cast<char>((i >> (8 * b)) & 0xff));
  d->keys.append(kKeyBytes - 8, '0');
}

// db_bench's CompressibleString at ratio 0.5: 50 random printable bytes, then the same again.
Dataset MakeHalfRandom(size_t n) {
  Dataset d;
  d.name = "a: 16B keys, 100B values (ratio 0.5)";
  d.keys.reserve(n * kKeyBytes);
  d.values.reserve(n * 100);
  uint64_t seed = 1;
  for (size_t i = 0; i < n; ++i) {
    AddKey(&d, i);
    char half[50];
    for (char& c : half) c = static_cast<char>(' ' + SplitMix(&seed) % 95);
    d.values.append(half, sizeof half);
    d.values.append(half, sizeof half);
    d.value_end.push_back(d.values.size());
  }
  return d;
}

// Values of 50..250 bytes: words of a 400-word vocabulary, the frequent ones far more often.
Dataset MakeText(size_t n) {
  Dataset d;
  d.name = "b: 16B keys, text values (avg 150B)";
  uint64_t seed = 2;
  std::vector<std::string> vocabulary;
  for (int w = 0; w < 400; ++w) {
    std::string word;
    const size_t len = 2 + SplitMix(&seed) % 8;
    for (size_t c = 0; c < len; ++c) word.push_back(static_cast<char>('a' + SplitMix(&seed) % 26));
    vocabulary.push_back(std::move(word));
  }
  d.keys.reserve(n * kKeyBytes);
  d.values.reserve(n * 150);
  for (size_t i = 0; i < n; ++i) {
    AddKey(&d, i);
    const size_t len = 50 + SplitMix(&seed) % 201;
    const size_t begin = d.values.size();
    while (d.values.size() - begin < len) {
      // u^3 skews towards the first words, roughly like word frequencies in text.
      const double u = static_cast<double>(SplitMix(&seed) >> 11) / static_cast<double>(1ull << 53);
      const std::string& word = vocabulary[static_cast<size_t>(u * u * u * vocabulary.size())];
      if (d.values.size() > begin) d.values.push_back(' ');
      d.values.append(word);
    }
    d.values.resize(begin + len);
    d.value_end.push_back(d.values.size());
  }
  return d;
}

// Each figure is the best of several runs: the machine is shared and its disk is virtual. Reads
// of a working set larger than the CPU caches vary most, and cost least to repeat.
constexpr int kBuildRuns = 3;
constexpr int kReadRuns = 5;

// The shortest of `runs` runs of `run`, in seconds.
template <typename Fn>
double BestSeconds(int runs, Fn run) {
  double best = 1e300;
  for (int i = 0; i < runs; ++i) {
    const auto start = std::chrono::steady_clock::now();
    run();
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  return best;
}

// Reads the whole file, so that it sits in the OS page cache whatever its writer did (RocksDB's
// SstFileWriter drops the pages it wrote: posix_fadvise DONTNEED every 1 MiB).
void WarmPageCache(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  CAIRN_CHECK_GE(fd, 0);
  std::string buffer(1 << 20, '\0');
  while (::read(fd, buffer.data(), buffer.size()) > 0) {
  }
  ::close(fd);
}

struct Figures {
  double build_mb_s = 0;
  uint64_t file_bytes = 0;
  double get_uncached_ops_s = 0;
  double get_cached_ops_s = 0;
  double scan_mb_s = 0;
};

// --- Cairn ---

Task<absl::StatusOr<uint64_t>> CairnBuild(Disk* disk, std::string path, SstOptions options,
                                          const Dataset* d) {
  absl::StatusOr<std::unique_ptr<SstWriter>> w = co_await SstWriter::Create(*disk, path, 1, options);
  if (!w.ok()) co_return w.status();
  for (size_t i = 0; i < d->rows(); ++i) {
    CO_RETURN_IF_ERROR((*w)->Add(RowView{d->key(i), 1, RowKind::kPut, d->value(i)}));
    if ((*w)->has_pending_writes()) CO_RETURN_IF_ERROR(co_await (*w)->WritePending());
  }
  absl::StatusOr<SstProperties> props = co_await (*w)->Finish();
  if (!props.ok()) co_return props.status();
  co_return props->rows;
}

// The number of gets that found the key with the right value.
Task<absl::StatusOr<uint64_t>> CairnGets(SstReader* reader, const Dataset* d,
                                         const std::vector<uint32_t>* order) {
  uint64_t found = 0;
  for (uint32_t i : *order) {
    absl::StatusOr<GetResult> got = co_await reader->Get(std::string(d->key(i)));
    if (!got.ok()) co_return got.status();
    found += got->found && got->value == d->value(i);
  }
  co_return found;
}

// Rows and user bytes of a full scan.
Task<absl::StatusOr<std::pair<uint64_t, uint64_t>>> CairnScan(SstReader* reader) {
  std::unique_ptr<SstIterator> it = reader->NewIterator();
  CO_RETURN_IF_ERROR(co_await it->SeekToFirst());
  uint64_t rows = 0, bytes = 0;
  while (it->Valid()) {
    const RowView r = it->row();
    ++rows;
    bytes += r.key.size() + r.value.size();
    if (!it->Next()) CO_RETURN_IF_ERROR(co_await it->Load());
  }
  CO_RETURN_IF_ERROR(it->status());
  co_return std::make_pair(rows, bytes);
}

std::unique_ptr<SstReader> CairnOpen(Disk& disk, const std::string& path, BlockCache* cache) {
  absl::StatusOr<std::unique_ptr<SstReader>> r =
      RunInline(SstReader::Open(disk, path, ReaderOptions{.block_cache = cache}));
  CAIRN_CHECK_OK(r.status());
  return std::move(*r);
}

Figures RunCairn(real::PosixDisk& disk, const std::string& path, Compression codec, const Dataset& d,
                 const std::vector<uint32_t>& order) {
  Figures f;
  SstOptions options;
  options.macroblock_bytes = kMacroblockBytes;
  options.microblock_bytes = kBlockBytes;
  options.compression = codec;
  options.bloom_bits_per_key = kBloomBitsPerKey;

  const std::string full_path = disk.root() + "/" + path;
  double seconds = BestSeconds(kBuildRuns, [&] {
    std::filesystem::remove(full_path);
    absl::StatusOr<uint64_t> rows = RunInline(CairnBuild(&disk, path, options, &d));
    CAIRN_CHECK_OK(rows.status());
    CAIRN_CHECK_EQ(*rows, d.rows());
  });
  f.build_mb_s = static_cast<double>(d.user_bytes()) / 1e6 / seconds;
  WarmPageCache(full_path);

  auto gets = [&](SstReader* reader) {
    absl::StatusOr<uint64_t> found = RunInline(CairnGets(reader, &d, &order));
    CAIRN_CHECK_OK(found.status());
    CAIRN_CHECK_EQ(*found, order.size());
  };
  {
    std::unique_ptr<SstReader> reader = CairnOpen(disk, path, nullptr);
    f.file_bytes = reader->file_size();
    seconds = BestSeconds(kReadRuns, [&] { gets(reader.get()); });
    f.get_uncached_ops_s = static_cast<double>(order.size()) / seconds;

    seconds = BestSeconds(kReadRuns, [&] {
      absl::StatusOr<std::pair<uint64_t, uint64_t>> scanned = RunInline(CairnScan(reader.get()));
      CAIRN_CHECK_OK(scanned.status());
      CAIRN_CHECK_EQ(scanned->first, d.rows());
      CAIRN_CHECK_EQ(scanned->second, d.user_bytes());
    });
    f.scan_mb_s = static_cast<double>(d.user_bytes()) / 1e6 / seconds;
  }
  {
    LruBlockCache cache(kCacheBytes);
    std::unique_ptr<SstReader> reader = CairnOpen(disk, path, &cache);
    gets(reader.get());  // warms the cache
    const uint64_t block_reads = reader->stats().block_reads;
    seconds = BestSeconds(kReadRuns, [&] { gets(reader.get()); });
    f.get_cached_ops_s = static_cast<double>(order.size()) / seconds;
    CAIRN_CHECK_EQ(reader->stats().block_reads, block_reads);  // every get hit the cache
  }
  return f;
}

// --- RocksDB ---

#ifdef CAIRN_HAVE_ROCKSDB

void CheckOk(const rocksdb::Status& s, const char* what) {
  if (!s.ok()) {
    std::fprintf(stderr, "sst_bench: RocksDB %s: %s\n", what, s.ToString().c_str());
    std::abort();
  }
}

rocksdb::Options RocksOptions(Compression codec, std::shared_ptr<rocksdb::Cache> cache) {
  rocksdb::BlockBasedTableOptions table;
  table.block_size = kBlockBytes;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(kBloomBitsPerKey, false));
  table.cache_index_and_filter_blocks = false;  // held by the reader, as Cairn does
  if (cache != nullptr) {
    table.block_cache = std::move(cache);
  } else {
    table.no_block_cache = true;
  }
  rocksdb::Options options;
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  switch (codec) {
    case Compression::kNone: options.compression = rocksdb::kNoCompression; break;
    case Compression::kLz4: options.compression = rocksdb::kLZ4Compression; break;
    case Compression::kZstd: options.compression = rocksdb::kZSTD; break;
  }
  return options;
}

uint64_t RocksGets(rocksdb::SstFileReader& reader, const Dataset& d, const std::vector<uint32_t>& order) {
  std::unique_ptr<rocksdb::Iterator> it(reader.NewIterator(rocksdb::ReadOptions()));
  uint64_t found = 0;
  for (uint32_t i : order) {
    const std::string_view key = d.key(i);
    it->Seek(rocksdb::Slice(key.data(), key.size()));
    if (it->Valid() && it->key().ToStringView() == key) found += it->value().ToStringView() == d.value(i);
  }
  CheckOk(it->status(), "seek");
  return found;
}

Figures RunRocks(const std::string& path, Compression codec, const Dataset& d,
                 const std::vector<uint32_t>& order) {
  Figures f;
  double seconds = BestSeconds(kBuildRuns, [&] {
    std::filesystem::remove(path);
    rocksdb::SstFileWriter writer(rocksdb::EnvOptions(), RocksOptions(codec, nullptr));
    CheckOk(writer.Open(path), "open for writing");
    for (size_t i = 0; i < d.rows(); ++i) {
      const std::string_view k = d.key(i), v = d.value(i);
      CheckOk(writer.Put(rocksdb::Slice(k.data(), k.size()), rocksdb::Slice(v.data(), v.size())), "put");
    }
    CheckOk(writer.Finish(), "finish");  // syncs
  });
  f.build_mb_s = static_cast<double>(d.user_bytes()) / 1e6 / seconds;
  f.file_bytes = std::filesystem::file_size(path);
  WarmPageCache(path);

  auto gets = [&](rocksdb::SstFileReader& reader) { CAIRN_CHECK_EQ(RocksGets(reader, d, order), order.size()); };
  {
    rocksdb::SstFileReader reader(RocksOptions(codec, nullptr));
    CheckOk(reader.Open(path), "open");
    seconds = BestSeconds(kReadRuns, [&] { gets(reader); });
    f.get_uncached_ops_s = static_cast<double>(order.size()) / seconds;

    seconds = BestSeconds(kReadRuns, [&] {
      rocksdb::ReadOptions scan_options;
      scan_options.fill_cache = false;
      std::unique_ptr<rocksdb::Iterator> it(reader.NewIterator(scan_options));
      uint64_t rows = 0, bytes = 0;
      for (it->SeekToFirst(); it->Valid(); it->Next()) {
        ++rows;
        bytes += it->key().size() + it->value().size();
      }
      CheckOk(it->status(), "scan");
      CAIRN_CHECK_EQ(rows, d.rows());
      CAIRN_CHECK_EQ(bytes, d.user_bytes());
    });
    f.scan_mb_s = static_cast<double>(d.user_bytes()) / 1e6 / seconds;
  }
  {
    rocksdb::SstFileReader reader(RocksOptions(codec, rocksdb::NewLRUCache(kCacheBytes)));
    CheckOk(reader.Open(path), "open");
    gets(reader);  // warms the cache
    seconds = BestSeconds(kReadRuns, [&] { gets(reader); });
    f.get_cached_ops_s = static_cast<double>(order.size()) / seconds;
  }
  return f;
}

#endif  // CAIRN_HAVE_ROCKSDB

// --- The table ---

void PrintRow(const char* figure, double cairn, const Figures* rocks, double rocks_value,
              const char* format, const char* note = "") {
  char c[32], r[32], ratio[32];
  std::snprintf(c, sizeof c, format, cairn);
  if (rocks != nullptr) {
    std::snprintf(r, sizeof r, format, rocks_value);
    std::snprintf(ratio, sizeof ratio, "%.2f", cairn / rocks_value);
  } else {
    std::snprintf(r, sizeof r, "-");
    std::snprintf(ratio, sizeof ratio, "-");
  }
  std::printf("  %-26s %12s %12s %8s  %s\n", figure, c, r, ratio, note);
}

void PrintFigures(const Figures& c, const Figures* r) {
  const Figures none;
  const Figures& rr = r != nullptr ? *r : none;
  PrintRow("build MB/s", c.build_mb_s, r, rr.build_mb_s, "%.1f");
  PrintRow("file MB", static_cast<double>(c.file_bytes) / 1e6, r, static_cast<double>(rr.file_bytes) / 1e6,
           "%.2f", "(smaller is better)");
  PrintRow("get uncached Kops/s", c.get_uncached_ops_s / 1e3, r, rr.get_uncached_ops_s / 1e3, "%.1f");
  PrintRow("get cached Kops/s", c.get_cached_ops_s / 1e3, r, rr.get_cached_ops_s / 1e3, "%.1f");
  PrintRow("scan MB/s", c.scan_mb_s, r, rr.scan_mb_s, "%.1f");
}

constexpr const char* kUsage =
    "usage: sst_bench [--quick] [--case N] [--side cairn|rocksdb]\n"
    "  --quick    a tenth of the rows and gets\n"
    "  --case N   only case N (0..5: a none, a lz4, a zstd, b none, b lz4, b zstd)\n"
    "  --side S   only one side (for a profiler); the table then shows it alone\n";

int Main(int argc, char** argv) {
  bool quick = false;
  int only_case = -1;
  std::string side;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--quick") {
      quick = true;
    } else if (arg == "--case" && i + 1 < argc) {
      only_case = std::atoi(argv[++i]);
    } else if (arg == "--side" && i + 1 < argc && (std::string_view(argv[i + 1]) == "cairn" ||
                                                    std::string_view(argv[i + 1]) == "rocksdb")) {
      side = argv[++i];
    } else {
      std::fprintf(stderr, "%s", kUsage);
      return 2;
    }
  }
  const bool run_cairn = side != "rocksdb";
  const size_t scale = quick ? 10 : 1;

  char dir_template[] = "/tmp/cairn_sst_bench.XXXXXX";
  if (::mkdtemp(dir_template) == nullptr) {
    std::perror("sst_bench: mkdtemp");
    return 1;
  }
  const std::string dir = dir_template;
  asio::io_context io;
  real::BlockingPool pool(io, 0);
  real::PosixDisk disk(pool, dir);

#ifdef CAIRN_HAVE_ROCKSDB
  char rocks_version[64];
  std::snprintf(rocks_version, sizeof rocks_version, "RocksDB %d.%d.%d", ROCKSDB_MAJOR, ROCKSDB_MINOR,
                ROCKSDB_PATCH);
#else
  const char* rocks_version = "no RocksDB (librocksdb-dev was not found when configuring)";
#endif
  std::printf("sst_bench: best of %d builds and %d read runs per figure; %u KiB blocks, bloom %u bits/key, Cairn macroblocks %u MiB, cache %zu MiB; %s\n",
              kBuildRuns, kReadRuns, kBlockBytes >> 10, kBloomBitsPerKey, kMacroblockBytes >> 20, kCacheBytes >> 20, rocks_version);
  std::printf("files in %s (page cache); ratio = Cairn/RocksDB (higher is better except file MB)\n\n",
              dir.c_str());

  struct Case {
    const Dataset* data;
    Compression codec;
    size_t gets;
  };
  const Dataset a = MakeHalfRandom(1'000'000 / scale);
  const Dataset b = MakeText(500'000 / scale);
  const Case cases[] = {
      {&a, Compression::kNone, 150'000 / scale}, {&a, Compression::kLz4, 150'000 / scale},
      {&a, Compression::kZstd, 75'000 / scale},  {&b, Compression::kNone, 150'000 / scale},
      {&b, Compression::kLz4, 150'000 / scale},  {&b, Compression::kZstd, 75'000 / scale},
  };
  std::printf("  %-26s %12s %12s %8s\n", "", "Cairn", "RocksDB", "ratio");
  int n = -1;
  for (const Case& c : cases) {
    ++n;
    if (only_case >= 0 && n != only_case) continue;
    std::vector<uint32_t> order(c.gets);
    uint64_t seed = 7 + n;
    for (uint32_t& i : order) i = static_cast<uint32_t>(SplitMix(&seed) % c.data->rows());
    std::printf("%s, %zu rows, %.1f MB user bytes, %s, %zu gets\n", c.data->name.c_str(), c.data->rows(),
                static_cast<double>(c.data->user_bytes()) / 1e6, CompressionName(c.codec), c.gets);
    std::fflush(stdout);
    Figures cairn;
    if (run_cairn) {
      const std::string cairn_name = "cairn_" + std::to_string(n) + ".sst";
      cairn = RunCairn(disk, cairn_name, c.codec, *c.data, order);
      std::filesystem::remove(dir + "/" + cairn_name);
    }
#ifdef CAIRN_HAVE_ROCKSDB
    if (side != "cairn") {
      const std::string rocks_path = dir + "/rocksdb_" + std::to_string(n) + ".sst";
      const Figures rocks = RunRocks(rocks_path, c.codec, *c.data, order);
      std::filesystem::remove(rocks_path);
      PrintFigures(cairn, &rocks);
    } else {
      PrintFigures(cairn, nullptr);
    }
#else
    PrintFigures(cairn, nullptr);
#endif
    std::fflush(stdout);
  }
  std::filesystem::remove_all(dir);
  return 0;
}

}  // namespace
}  // namespace cairn::format

int main(int argc, char** argv) { return cairn::format::Main(argc, argv); }

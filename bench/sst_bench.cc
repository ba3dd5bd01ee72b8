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
//                  less for the final fsync; Cairn writes 2 MiB macroblocks, starts the
//                  writeback of each (sync_file_range) and syncs once. The previous run's
//                  file is removed before the clock starts: unlinking a file whose pages
//                  are cached (Cairn's) costs milliseconds that dropped pages do not
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
// Each figure is the best of several runs, and the two sides take turns run by run (Measure),
// so a slow spell of the shared machine falls on both. Reads of a working set larger than the
// CPU caches (cached gets) still vary by up to 20% from run to run.
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

// Runs per figure and side (the best counts): the machine is shared and its disk is virtual.
// Reads of a working set larger than the CPU caches vary most, and cost least to repeat.
constexpr int kBuildRuns = 5;
constexpr int kReadRuns = 5;

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

// One side of the comparison, on one dataset, codec and order of gets. Every method checks
// what it read (rows, bytes, values) and aborts on a difference: a fast wrong answer is no figure.
class Contender {
 public:
  virtual ~Contender() = default;
  virtual void Discard() = 0;  // removes the file (untimed: unlinking a cached file costs ms)
  virtual void Build() = 0;    // writes the file anew, synced
  virtual std::string path() const = 0;
  virtual void OpenUncached() = 0;  // a reader without a block cache
  virtual void OpenCached() = 0;    // a reader with a block cache larger than the file
  virtual void Gets() = 0;          // every key of the order, on the open reader
  virtual void Scan() = 0;          // a full scan, on the open reader
};

// Measures each figure of every side, alternating the sides run by run (one run of Cairn, one of
// RocksDB, and again): a slow spell of the shared machine then falls on both sides alike, not on
// whichever happened to be running. Each figure is the side's best run.
std::vector<Figures> Measure(const std::vector<Contender*>& sides, const Dataset& d, size_t gets) {
  std::vector<Figures> f(sides.size());
  auto best_seconds = [&](int runs, void (Contender::*phase)(), void (Contender::*untimed_first)() = nullptr) {
    std::vector<double> best(sides.size(), 1e300);
    for (int r = 0; r < runs; ++r) {
      for (size_t i = 0; i < sides.size(); ++i) {
        if (untimed_first != nullptr) (sides[i]->*untimed_first)();
        const auto start = std::chrono::steady_clock::now();
        (sides[i]->*phase)();
        best[i] = std::min(best[i], std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
      }
    }
    return best;
  };
  const double mb = static_cast<double>(d.user_bytes()) / 1e6;
  std::vector<double> s = best_seconds(kBuildRuns, &Contender::Build, &Contender::Discard);
  for (size_t i = 0; i < sides.size(); ++i) {
    f[i].build_mb_s = mb / s[i];
    f[i].file_bytes = std::filesystem::file_size(sides[i]->path());
    WarmPageCache(sides[i]->path());
    sides[i]->OpenUncached();
  }
  s = best_seconds(kReadRuns, &Contender::Gets);
  for (size_t i = 0; i < sides.size(); ++i) f[i].get_uncached_ops_s = static_cast<double>(gets) / s[i];
  s = best_seconds(kReadRuns, &Contender::Scan);
  for (size_t i = 0; i < sides.size(); ++i) f[i].scan_mb_s = mb / s[i];
  for (Contender* c : sides) {
    c->OpenCached();
    c->Gets();  // warms the cache
  }
  s = best_seconds(kReadRuns, &Contender::Gets);
  for (size_t i = 0; i < sides.size(); ++i) f[i].get_cached_ops_s = static_cast<double>(gets) / s[i];
  return f;
}

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

class CairnSide final : public Contender {
 public:
  CairnSide(real::PosixDisk& disk, std::string name, Compression codec, const Dataset& d,
            const std::vector<uint32_t>& order)
      : disk_(disk), name_(std::move(name)), d_(d), order_(order) {
    options_.macroblock_bytes = kMacroblockBytes;
    options_.microblock_bytes = kBlockBytes;
    options_.compression = codec;
    options_.bloom_bits_per_key = kBloomBitsPerKey;
  }
  ~CairnSide() override {
    reader_.reset();
    std::filesystem::remove(path());
  }

  std::string path() const override { return disk_.root() + "/" + name_; }
  void Discard() override { std::filesystem::remove(path()); }
  void Build() override {
    absl::StatusOr<uint64_t> rows = RunInline(CairnBuild(&disk_, name_, options_, &d_));
    CAIRN_CHECK_OK(rows.status());
    CAIRN_CHECK_EQ(*rows, d_.rows());
  }
  void OpenUncached() override { Open(nullptr); }
  void OpenCached() override {
    cache_ = std::make_unique<LruBlockCache>(kCacheBytes);
    Open(cache_.get());
  }
  void Gets() override {
    const uint64_t block_reads = reader_->stats().block_reads;
    absl::StatusOr<uint64_t> found = RunInline(CairnGets(reader_.get(), &d_, &order_));
    CAIRN_CHECK_OK(found.status());
    CAIRN_CHECK_EQ(*found, order_.size());
    // Once warmed, every get of a cached reader hits its cache.
    if (warmed_) CAIRN_CHECK_EQ(reader_->stats().block_reads, block_reads);
    warmed_ = cache_ != nullptr;
  }
  void Scan() override {
    absl::StatusOr<std::pair<uint64_t, uint64_t>> scanned = RunInline(CairnScan(reader_.get()));
    CAIRN_CHECK_OK(scanned.status());
    CAIRN_CHECK_EQ(scanned->first, d_.rows());
    CAIRN_CHECK_EQ(scanned->second, d_.user_bytes());
  }

 private:
  void Open(BlockCache* cache) {
    reader_.reset();
    absl::StatusOr<std::unique_ptr<SstReader>> r =
        RunInline(SstReader::Open(disk_, name_, ReaderOptions{.block_cache = cache}));
    CAIRN_CHECK_OK(r.status());
    reader_ = std::move(*r);
    warmed_ = false;
  }

  real::PosixDisk& disk_;
  const std::string name_;
  const Dataset& d_;
  const std::vector<uint32_t>& order_;
  SstOptions options_;
  std::unique_ptr<LruBlockCache> cache_;
  std::unique_ptr<SstReader> reader_;  // after cache_: it may refer to it
  bool warmed_ = false;
};

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

class RocksSide final : public Contender {
 public:
  RocksSide(std::string path, Compression codec, const Dataset& d, const std::vector<uint32_t>& order)
      : path_(std::move(path)), codec_(codec), d_(d), order_(order) {}
  ~RocksSide() override {
    reader_.reset();
    std::filesystem::remove(path_);
  }

  std::string path() const override { return path_; }
  void Discard() override { std::filesystem::remove(path_); }
  void Build() override {
    rocksdb::SstFileWriter writer(rocksdb::EnvOptions(), RocksOptions(codec_, nullptr));
    CheckOk(writer.Open(path_), "open for writing");
    for (size_t i = 0; i < d_.rows(); ++i) {
      const std::string_view k = d_.key(i), v = d_.value(i);
      CheckOk(writer.Put(rocksdb::Slice(k.data(), k.size()), rocksdb::Slice(v.data(), v.size())), "put");
    }
    CheckOk(writer.Finish(), "finish");  // syncs
  }
  void OpenUncached() override { Open(nullptr); }
  void OpenCached() override { Open(rocksdb::NewLRUCache(kCacheBytes)); }
  // A point get is Seek on one reused iterator and a key compare (SstFileReader has no Get).
  void Gets() override {
    std::unique_ptr<rocksdb::Iterator> it(reader_->NewIterator(rocksdb::ReadOptions()));
    uint64_t found = 0;
    for (uint32_t i : order_) {
      const std::string_view key = d_.key(i);
      it->Seek(rocksdb::Slice(key.data(), key.size()));
      if (it->Valid() && it->key().ToStringView() == key) found += it->value().ToStringView() == d_.value(i);
    }
    CheckOk(it->status(), "seek");
    CAIRN_CHECK_EQ(found, order_.size());
  }
  void Scan() override {
    rocksdb::ReadOptions scan_options;
    scan_options.fill_cache = false;
    std::unique_ptr<rocksdb::Iterator> it(reader_->NewIterator(scan_options));
    uint64_t rows = 0, bytes = 0;
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      ++rows;
      bytes += it->key().size() + it->value().size();
    }
    CheckOk(it->status(), "scan");
    CAIRN_CHECK_EQ(rows, d_.rows());
    CAIRN_CHECK_EQ(bytes, d_.user_bytes());
  }

 private:
  void Open(std::shared_ptr<rocksdb::Cache> cache) {
    reader_.reset();
    reader_ = std::make_unique<rocksdb::SstFileReader>(RocksOptions(codec_, std::move(cache)));
    CheckOk(reader_->Open(path_), "open");
  }

  const std::string path_;
  const Compression codec_;
  const Dataset& d_;
  const std::vector<uint32_t>& order_;
  std::unique_ptr<rocksdb::SstFileReader> reader_;
};

#endif  // CAIRN_HAVE_ROCKSDB

// --- The table ---

// One figure of each side ("-" for a side not run) and their ratio.
void PrintRow(const char* figure, const Figures* cairn, const Figures* rocks, double (*value)(const Figures&),
              const char* format, const char* note = "") {
  char c[32] = "-", r[32] = "-", ratio[32] = "-";
  if (cairn != nullptr) std::snprintf(c, sizeof c, format, value(*cairn));
  if (rocks != nullptr) std::snprintf(r, sizeof r, format, value(*rocks));
  if (cairn != nullptr && rocks != nullptr) std::snprintf(ratio, sizeof ratio, "%.2f", value(*cairn) / value(*rocks));
  std::printf("  %-26s %12s %12s %8s  %s\n", figure, c, r, ratio, note);
}

void PrintFigures(const Figures* c, const Figures* r) {
  PrintRow("build MB/s", c, r, [](const Figures& f) { return f.build_mb_s; }, "%.1f");
  PrintRow("file MB", c, r, [](const Figures& f) { return static_cast<double>(f.file_bytes) / 1e6; }, "%.2f",
           "(smaller is better)");
  PrintRow("get uncached Kops/s", c, r, [](const Figures& f) { return f.get_uncached_ops_s / 1e3; }, "%.1f");
  PrintRow("get cached Kops/s", c, r, [](const Figures& f) { return f.get_cached_ops_s / 1e3; }, "%.1f");
  PrintRow("scan MB/s", c, r, [](const Figures& f) { return f.scan_mb_s; }, "%.1f");
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
#ifndef CAIRN_HAVE_ROCKSDB
  if (side != "cairn") {
    std::fprintf(stderr,
                 "sst_bench: RocksDB, the anchor this bench measures Cairn against, is missing: librocksdb-dev\n"
                 "was not found when CMake configured the build. Install it and rebuild (scripts/setup.sh --bench),\n"
                 "or pass --side cairn to time Cairn alone.\n");
    return 1;
  }
#endif
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
    std::vector<std::unique_ptr<Contender>> owned;
    if (run_cairn) {
      owned.push_back(std::make_unique<CairnSide>(disk, "cairn_" + std::to_string(n) + ".sst", c.codec, *c.data, order));
    }
#ifdef CAIRN_HAVE_ROCKSDB
    if (side != "cairn") {
      owned.push_back(std::make_unique<RocksSide>(dir + "/rocksdb_" + std::to_string(n) + ".sst", c.codec, *c.data, order));
    }
#endif
    std::vector<Contender*> sides;
    for (const auto& o : owned) sides.push_back(o.get());
    const std::vector<Figures> f = Measure(sides, *c.data, order.size());
    const Figures* cairn = run_cairn ? &f[0] : nullptr;
    const Figures* rocks = f.size() == 2 ? &f[1] : !run_cairn ? &f[0] : nullptr;
    PrintFigures(cairn, rocks);
    std::fflush(stdout);
  }
  std::filesystem::remove_all(dir);
  return 0;
}

}  // namespace
}  // namespace cairn::format

int main(int argc, char** argv) { return cairn::format::Main(argc, argv); }

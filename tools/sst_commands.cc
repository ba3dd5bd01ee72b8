// cairn sst: inspect, verify, analyze and build SSTables from the command line.
//
// Every command but `build` only reads its file. Exit codes: 0 success; 1 a negative answer
// (verify found problems, get found no row); 2 bad usage; 3 the file cannot be read as an
// SSTable (missing, truncated, foreign) — except for verify, where a damaged file is a
// finding (exit 1) and only a missing or unreadable one is 3.
//
// File IO goes through the runtime's PosixDisk on an inline pool, the same Disk the engine
// uses, so the tool reads exactly what a node would. A file named dfs:PATH is a sealed file of
// a running DFS (its --peers): copied out whole, every chunk checked end to end, then read
// from memory.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "asio/io_context.hpp"
#include "src/base/coding.h"
#include "src/base/strings.h"
#include "src/format/sst_reader.h"
#include "src/format/sst_verify.h"
#include "src/format/sst_writer.h"
#include "src/runtime/mem_disk.h"
#include "src/runtime/real/blocking_pool.h"
#include "src/runtime/real/posix_disk.h"
#include "src/runtime/run_inline.h"
#include "tools/cli.h"
#include "tools/commands.h"
#include "tools/dfs_flags.h"
#include "tools/json_writer.h"

namespace cairn::tools {
namespace {

using format::Compression;
using format::MacroblockMeta;
using format::Row;
using format::RowKind;
using format::RowView;
using format::SstOptions;
using format::SstProperties;
using format::SstReader;

int Fail(int code, absl::string_view message) { return tools::Fail(code, "sst", StdView(message)); }

constexpr std::string_view kDfsPrefix = "dfs:";

struct Common {
  std::string file;
  bool json = false;
  bool hex = false;
  uint64_t file_id = 0;
  DfsFlags dfs;  // for a dfs:PATH file
};

// Local files through an inline PosixDisk rooted at each file's directory; DFS files copied
// into a MemDisk.
class LocalDisk {
 public:
  LocalDisk() : pool_(io_, 0) {}
  // The disk of `path`'s directory, and the file's name in it.
  absl::StatusOr<std::pair<Disk*, std::string>> For(const Common& c) {
    if (c.file.starts_with(kDfsPrefix)) {
      const std::string path = c.file.substr(kDfsPrefix.size());
      absl::StatusOr<std::string> bytes = ReadDfsFile(c.dfs, path);
      if (!bytes.ok()) return bytes.status();
      const std::string name = "dfs-file";
      absl::StatusOr<std::unique_ptr<File>> created = RunInline(mem_.Open(name, OpenOptions{.create = true}));
      if (!created.ok()) return created.status();
      *mem_.Contents(name) = *std::move(bytes);
      return std::pair<Disk*, std::string>{&mem_, name};
    }
    const std::filesystem::path p = std::filesystem::absolute(c.file);
    disks_.push_back(std::make_unique<real::PosixDisk>(pool_, p.parent_path().string()));
    return std::pair<Disk*, std::string>{disks_.back().get(), p.filename().string()};
  }

 private:
  asio::io_context io_;
  real::BlockingPool pool_;
  std::vector<std::unique_ptr<real::PosixDisk>> disks_;
  MemDisk mem_;
};

void AddCommon(CLI::App* cmd, Common* c, bool hex = false) {
  cmd->add_option("file", c->file, "The SSTable: a local path, or dfs:PATH for a file of a running DFS (--peers)")
      ->required();
  cmd->add_flag("--json", c->json, "Print JSON instead of text");
  cmd->add_option("--file-id", c->file_id, "Refuse the file unless it has this id");
  if (hex) cmd->add_flag("--hex", c->hex, "Keys and values in hex, in and out");
  c->dfs.Add(cmd);
  c->dfs.AddTimeout(cmd);
}

absl::StatusOr<std::unique_ptr<SstReader>> OpenSst(LocalDisk& local, const Common& c) {
  absl::StatusOr<std::pair<Disk*, std::string>> where = local.For(c);
  if (!where.ok()) return where.status();
  auto [disk, name] = *where;
  absl::StatusOr<std::unique_ptr<File>> file = RunInline(disk->Open(name, OpenOptions{}));
  if (!file.ok()) return file.status();
  // Named by the path as the user gave it, which every error message then starts with.
  return RunInline(SstReader::Open(std::move(*file), c.file,
                                   format::ReaderOptions{.expected_file_id = c.file_id}));
}

std::string Show(std::string_view bytes, bool hex) {
  return hex ? absl::BytesToHexString(AbslView(bytes)) : absl::CEscape(AbslView(bytes));
}

absl::StatusOr<std::string> ParseKey(const std::string& text, bool hex) {
  std::string out;
  if (hex) {
    if (text.size() % 2 != 0 || text.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat("'", text, "' is not hex"));
    }
    return absl::HexStringToBytes(text);
  }
  std::string error;
  if (!absl::CUnescape(text, &out, &error)) {
    return absl::InvalidArgumentError(absl::StrCat("'", text, "': ", error));
  }
  return out;
}

std::string Bytes(uint64_t n) {
  if (n < 10 * 1024) return absl::StrCat(n, " B");
  if (n < 10 * 1024 * 1024) return absl::StrFormat("%.1f KiB", n / 1024.0);
  if (n < 10ull * 1024 * 1024 * 1024) return absl::StrFormat("%.1f MiB", n / 1048576.0);
  return absl::StrFormat("%.2f GiB", n / 1073741824.0);
}

double Ratio(uint64_t raw, uint64_t stored) { return stored == 0 ? 0 : static_cast<double>(raw) / stored; }

bool Tty() { return isatty(STDERR_FILENO) != 0; }

// --- info ---

int RunInfo(const Common& c) {
  LocalDisk local;
  absl::StatusOr<std::unique_ptr<SstReader>> r = OpenSst(local, c);
  if (!r.ok()) return Fail(kExitUnreadable, r.status().message());
  const SstReader& sst = **r;
  const SstProperties& p = sst.properties();
  const uint64_t user_bytes = p.key_bytes + p.value_bytes;
  if (c.json) {
    JsonWriter j;
    j.BeginObject().Field("file", c.file).Field("file_bytes", sst.file_size()).Field("file_id", p.file_id);
    j.Field("format_version", uint64_t{format::kFormatVersion}).Field("rows", p.rows).Field("deletes", p.deletes);
    j.Field("distinct_keys", p.distinct_keys).Field("first_key", Show(p.first_key, c.hex));
    j.Field("first_version", p.first_version).Field("last_key", Show(p.last_key, c.hex));
    j.Field("last_version", p.last_version).Field("min_version", p.min_version).Field("max_version", p.max_version);
    j.Field("key_bytes", p.key_bytes).Field("value_bytes", p.value_bytes);
    j.Field("macroblocks", p.macroblocks).Field("reused_macroblocks", p.reused_macroblocks);
    j.Field("microblocks", p.microblocks).Field("data_bytes", p.data_bytes);
    j.Field("micro_index_bytes", p.micro_index_bytes).Field("bloom_bytes", p.bloom_bytes);
    j.Field("file_index_bytes", p.file_index_bytes).Field("logical_checksum", p.logical.ToString());
    j.Field("compression_ratio", Ratio(user_bytes, sst.file_size()));
    j.Key("settings").BeginObject().Field("macroblock_bytes", uint64_t{p.options.macroblock_bytes});
    j.Field("microblock_bytes", uint64_t{p.options.microblock_bytes});
    j.Field("compression", format::CompressionName(p.options.compression));
    j.Field("zstd_level", p.options.zstd_level).Field("restart_interval", uint64_t{p.options.restart_interval});
    j.Field("bloom_bits_per_key", uint64_t{p.options.bloom_bits_per_key}).EndObject();
    j.Key("codecs").BeginArray();
    for (int i = 0; i < format::kCompressionCount; ++i) {
      const format::CodecCounts& cc = p.codecs[i];
      j.BeginObject().Field("codec", format::CompressionName(static_cast<Compression>(i)));
      j.Field("blocks", cc.blocks).Field("raw_bytes", cc.raw_bytes).Field("stored_bytes", cc.stored_bytes).EndObject();
    }
    j.EndArray().EndObject();
    std::printf("%s\n", j.str().c_str());
    return kExitOk;
  }
  absl::PrintF("file              %s (%s)\n", c.file, Bytes(sst.file_size()));
  absl::PrintF("file id           %d, format version %d\n", p.file_id, format::kFormatVersion);
  absl::PrintF("rows              %d (%d puts, %d deletes), %d distinct keys\n", p.rows,
               p.rows - p.deletes, p.deletes, p.distinct_keys);
  if (p.rows > 0) {
    absl::PrintF("keys              \"%s\" @%d .. \"%s\" @%d\n", Show(p.first_key, c.hex), p.first_version,
                 Show(p.last_key, c.hex), p.last_version);
    absl::PrintF("versions          %d .. %d\n", p.min_version, p.max_version);
  }
  absl::PrintF("user bytes        %s of keys, %s of values\n", Bytes(p.key_bytes), Bytes(p.value_bytes));
  absl::PrintF("macroblocks       %d of at most %s (%d reused), %d microblocks (%s stored on average)\n",
               p.macroblocks, Bytes(p.options.macroblock_bytes), p.reused_macroblocks, p.microblocks,
               Bytes(p.microblocks == 0 ? 0 : (p.data_bytes - p.micro_index_bytes - p.bloom_bytes) / p.microblocks));
  absl::PrintF("layout            data %s, of which micro indexes %s and bloom filters %s; file index %s; "
               "properties and footer %s\n",
               Bytes(p.data_bytes), Bytes(p.micro_index_bytes), Bytes(p.bloom_bytes), Bytes(p.file_index_bytes),
               Bytes(sst.file_size() - p.data_bytes - p.file_index_bytes));
  for (int i = 0; i < format::kCompressionCount; ++i) {
    const format::CodecCounts& cc = p.codecs[i];
    if (cc.blocks == 0) continue;
    absl::PrintF("  %-5s           %d blocks, %s -> %s (ratio %.2f)\n",
                 format::CompressionName(static_cast<Compression>(i)), cc.blocks, Bytes(cc.raw_bytes),
                 Bytes(cc.stored_bytes), Ratio(cc.raw_bytes, cc.stored_bytes));
  }
  absl::PrintF("overall ratio     %.2f (key and value bytes per file byte)\n", Ratio(user_bytes, sst.file_size()));
  absl::PrintF("logical checksum  %s\n", p.logical.ToString());
  absl::PrintF("settings          microblocks of %s, %s compression%s, restart every %d rows, bloom %d bits/key\n",
               Bytes(p.options.microblock_bytes), format::CompressionName(p.options.compression),
               p.options.compression == Compression::kZstd ? absl::StrCat(" (level ", p.options.zstd_level, ")") : "",
               p.options.restart_interval, p.options.bloom_bits_per_key);
  return kExitOk;
}

// --- layout ---

struct LayoutFlags {
  Common c;
  int64_t macroblock = -1;
  bool summary = false;
};

int RunLayout(const LayoutFlags& f) {
  LocalDisk local;
  absl::StatusOr<std::unique_ptr<SstReader>> r = OpenSst(local, f.c);
  if (!r.ok()) return Fail(kExitUnreadable, r.status().message());
  SstReader& sst = **r;
  const auto& metas = sst.macroblocks();
  if (f.macroblock >= static_cast<int64_t>(metas.size())) {
    return Fail(kExitUsage, absl::StrCat("--macroblock ", f.macroblock, ": the file has ", metas.size()));
  }
  JsonWriter j;
  j.BeginObject().Field("file", f.c.file).Key("macroblocks").BeginArray();
  int exit = kExitOk;
  for (size_t i = 0; i < metas.size(); ++i) {
    if (f.macroblock >= 0 && static_cast<int64_t>(i) != f.macroblock) continue;
    const MacroblockMeta& m = metas[i];
    const format::MacroblockHeader& h = m.header;
    if (f.c.json) {
      j.BeginObject().Field("index", uint64_t{i}).Field("offset", m.offset).Field("size", uint64_t{h.size});
      j.Field("origin_file_id", h.origin_file_id).Field("origin_index", uint64_t{h.origin_index});
      j.Field("reused", m.reused).Field("rows", h.rows).Field("microblocks", uint64_t{h.micro_count});
      j.Field("logical_checksum", m.logical().ToString());
      j.Field("first_key", Show(m.first_key, f.c.hex)).Field("last_key", Show(m.last_key, f.c.hex));
      j.Field("micro_index_offset", uint64_t{h.micro_index_offset}).Field("micro_index_size", uint64_t{h.micro_index_size});
      j.Field("bloom_offset", uint64_t{h.bloom_offset}).Field("bloom_size", uint64_t{h.bloom_size});
    } else {
      absl::PrintF("macroblock %d  offset %d  size %d (%.1f%% of %s)  identity (%d, %d)%s\n", i, m.offset, h.size,
                   100.0 * h.size / sst.footer().macroblock_capacity, Bytes(sst.footer().macroblock_capacity),
                   h.origin_file_id, h.origin_index, m.reused ? "  reused" : "");
      absl::PrintF("  rows %d in %d microblocks, versions %d..%d, logical %s\n", h.rows, h.micro_count,
                   h.min_version, h.max_version, m.logical().ToString());
      absl::PrintF("  keys \"%s\" @%d .. \"%s\" @%d\n", Show(m.first_key, f.c.hex), m.first_version,
                   Show(m.last_key, f.c.hex), m.last_version);
    }
    if (!f.summary) {
      absl::StatusOr<const SstReader::MacroblockIndex*> index = RunInline(sst.LoadIndex(i));
      absl::StatusOr<std::string> bytes =
          index.ok() ? RunInline(sst.ReadBytes(m.offset, h.size)) : absl::StatusOr<std::string>(index.status());
      if (!bytes.ok()) {
        exit = kExitUnreadable;
        if (f.c.json) {
          j.Field("error", bytes.status().message());
        } else {
          absl::PrintF("  cannot read its index: %s\n", bytes.status().message());
        }
      } else {
        if (f.c.json) j.Key("microblocks_detail").BeginArray();
        for (size_t k = 0; k < (*index)->micro.size(); ++k) {
          const format::MicroIndexEntry& e = (*index)->micro[k];
          std::string_view block = std::string_view(*bytes).substr(e.offset, e.size);
          const auto codec = static_cast<Compression>(static_cast<uint8_t>(block[2]));
          const uint32_t raw = DecodeFixed32(block.data() + 4);
          const uint64_t stored = e.size - format::kBlockHeaderBytes;
          if (f.c.json) {
            j.BeginObject().Field("index", uint64_t{k}).Field("offset", uint64_t{e.offset});
            j.Field("stored_bytes", stored).Field("raw_bytes", uint64_t{raw});
            j.Field("compression", format::CompressionName(codec));
            j.Field("encoder", format::EncoderName(static_cast<uint8_t>(block[1])));
            j.Field("rows", uint64_t{e.rows}).Field("last_key", Show(e.last_key, f.c.hex));
            j.Field("last_version", e.last_version).EndObject();
          } else {
            absl::PrintF("  micro %4d  offset %7d  stored %6d  raw %6d  %-4s %-4s ratio %5.2f  rows %5d  last \"%s\" @%d\n",
                         k, e.offset, stored, raw, format::CompressionName(codec),
                         format::EncoderName(static_cast<uint8_t>(block[1])), Ratio(raw, stored), e.rows,
                         Show(e.last_key, f.c.hex), e.last_version);
          }
        }
        if (f.c.json) {
          j.EndArray();
        } else {
          absl::PrintF("  micro index offset %d size %d;  bloom offset %d size %d%s\n", h.micro_index_offset,
                       h.micro_index_size, h.bloom_offset, h.bloom_size,
                       (*index)->bloom ? absl::StrCat(" (", (*index)->bloom->probes(), " probes)") : "");
        }
      }
    }
    if (f.c.json) j.EndObject();
  }
  j.EndArray();
  if (f.c.json) {
    const format::Footer& ft = sst.footer();
    j.Field("file_index_offset", ft.index_offset).Field("file_index_size", uint64_t{ft.index_size});
    j.Field("properties_offset", ft.properties_offset).Field("properties_size", uint64_t{ft.properties_size});
    j.Field("footer_offset", sst.file_size() - format::kFooterBytes).EndObject();
    std::printf("%s\n", j.str().c_str());
  } else if (f.macroblock < 0) {
    const format::Footer& ft = sst.footer();
    absl::PrintF("file index  offset %d size %d\nproperties  offset %d size %d\nfooter      offset %d size %d\n",
                 ft.index_offset, ft.index_size, ft.properties_offset, ft.properties_size,
                 sst.file_size() - format::kFooterBytes, format::kFooterBytes);
  }
  return exit;
}

// --- dump and get ---

struct DumpFlags {
  Common c;
  std::string from, to;
  bool has_from = false, has_to = false;
  uint64_t limit = UINT64_MAX;
};

std::string RowLine(const RowView& r, bool hex) {
  return absl::StrCat(Show(r.key, hex), "\t", r.version, "\t", format::RowKindName(r.kind),
                      r.kind == RowKind::kPut ? absl::StrCat("\t", Show(r.value, hex)) : "");
}

void RowJson(JsonWriter& j, const RowView& r, bool hex) {
  j.BeginObject().Field("key", Show(r.key, hex)).Field("version", r.version);
  j.Field("kind", format::RowKindName(r.kind)).Field("value", Show(r.value, hex)).EndObject();
}

int RunDump(const DumpFlags& f) {
  LocalDisk local;
  absl::StatusOr<std::unique_ptr<SstReader>> r = OpenSst(local, f.c);
  if (!r.ok()) return Fail(kExitUnreadable, r.status().message());
  format::IteratorOptions io;
  if (f.has_to) {
    absl::StatusOr<std::string> to = ParseKey(f.to, f.c.hex);
    if (!to.ok()) return Fail(kExitUsage, absl::StrCat("--to ", to.status().message()));
    io.upper_bound = *to;
  }
  std::string from;
  if (f.has_from) {
    absl::StatusOr<std::string> k = ParseKey(f.from, f.c.hex);
    if (!k.ok()) return Fail(kExitUsage, absl::StrCat("--from ", k.status().message()));
    from = *k;
  }
  std::unique_ptr<format::SstIterator> it = (*r)->NewIterator(io);
  absl::Status s = RunInline(it->Seek(from));
  JsonWriter j;
  j.BeginArray();
  uint64_t n = 0;
  for (; s.ok() && it->Valid() && n < f.limit; ++n) {
    if (f.c.json) {
      RowJson(j, it->row(), f.c.hex);
    } else {
      std::printf("%s\n", RowLine(it->row(), f.c.hex).c_str());
    }
    s = RunInline(it->Advance());
  }
  if (f.c.json) std::printf("%s\n", j.EndArray().str().c_str());
  if (!s.ok()) return Fail(kExitUnreadable, s.message());
  return kExitOk;
}

struct GetFlags {
  Common c;
  std::string key;
  uint64_t version = format::kMaxVersion;
};

int RunGet(const GetFlags& f) {
  LocalDisk local;
  absl::StatusOr<std::unique_ptr<SstReader>> r = OpenSst(local, f.c);
  if (!r.ok()) return Fail(kExitUnreadable, r.status().message());
  absl::StatusOr<std::string> key = ParseKey(f.key, f.c.hex);
  if (!key.ok()) return Fail(kExitUsage, key.status().message());
  absl::StatusOr<format::GetResult> got = RunInline((*r)->Get(*key, f.version));
  if (!got.ok()) return Fail(kExitUnreadable, got.status().message());
  const RowView row{*key, got->version, got->kind, got->value};
  if (f.c.json) {
    JsonWriter j;
    j.BeginObject().Field("found", got->found);
    if (got->found) j.Key("row"), RowJson(j, row, f.c.hex);
    std::printf("%s\n", j.EndObject().str().c_str());
  } else if (got->found) {
    std::printf("%s\n", RowLine(row, f.c.hex).c_str());
  } else {
    std::fprintf(stderr, "not found: no row of that key at or below version %llu\n",
                 static_cast<unsigned long long>(f.version));
  }
  return got->found ? kExitOk : kExitNegative;
}

// --- verify ---

int RunVerify(const Common& c) {
  LocalDisk local;
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<std::unique_ptr<SstReader>> r = OpenSst(local, c);
  format::VerifyReport report;
  if (!r.ok()) {
    if (r.status().code() != absl::StatusCode::kDataLoss) return Fail(kExitUnreadable, r.status().message());
    report.problems.push_back(std::string(r.status().message()));
  } else {
    const bool progress = Tty() && !c.json && (*r)->macroblocks().size() > 8;
    report = RunInline(format::VerifySst(**r, [progress](size_t done, size_t total) {
      if (progress) std::fprintf(stderr, "\rverifying macroblock %zu of %zu", done, total);
    }));
    if (progress) std::fprintf(stderr, "\r%60s\r", "");
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (c.json) {
    JsonWriter j;
    j.BeginObject().Field("file", c.file).Field("ok", report.ok()).Key("problems").BeginArray();
    for (const std::string& p : report.problems) j.String(p);
    j.EndArray().Field("macroblocks", report.macroblocks).Field("microblocks", report.microblocks);
    j.Field("rows", report.rows).Field("bytes", report.bytes).Field("bloom_probes", report.bloom_probes);
    j.Field("logical_checksum", report.logical.ToString()).Field("seconds", seconds).EndObject();
    std::printf("%s\n", j.str().c_str());
  } else if (report.ok()) {
    absl::PrintF("OK  %s: %d macroblocks, %d microblocks, %d rows, %s checked in %.2f s; every checksum, key order, "
                 "index entry and bloom filter holds; logical checksum %s\n",
                 c.file, report.macroblocks, report.microblocks, report.rows, Bytes(report.bytes), seconds,
                 report.logical.ToString());
  } else {
    absl::PrintF("FAILED  %s: %d problem%s%s\n", c.file, report.problems.size(),
                 report.problems.size() == 1 ? "" : "s",
                 report.problems.size() >= format::kVerifyProblemsMax ? " (stopped at the limit)" : "");
    for (const std::string& p : report.problems) absl::PrintF("  %s\n", p);
  }
  return report.ok() ? kExitOk : kExitNegative;
}

// --- stats ---

// Counts by power-of-two bucket (or by fixed edges for ratios).
class Histogram {
 public:
  explicit Histogram(std::string name, std::vector<double> edges = {}) : name_(std::move(name)), edges_(std::move(edges)) {}
  void Add(double v) {
    ++count_;
    sum_ += v;
    min_ = std::min(min_, v);
    max_ = std::max(max_, v);
    size_t b;
    if (edges_.empty()) {
      b = v < 1 ? 0 : static_cast<size_t>(std::floor(std::log2(v))) + 1;
    } else {
      b = static_cast<size_t>(std::upper_bound(edges_.begin(), edges_.end(), v) - edges_.begin());
    }
    buckets_[b]++;
  }
  std::string Label(size_t b) const {
    if (edges_.empty()) return b == 0 ? "0" : absl::StrCat(uint64_t{1} << (b - 1), "..", (uint64_t{1} << b) - 1);
    if (b == 0) return absl::StrCat("< ", edges_[0]);
    if (b == edges_.size()) return absl::StrCat(">= ", edges_.back());
    return absl::StrCat(edges_[b - 1], "..", edges_[b]);
  }
  void Print() const {
    absl::PrintF("%s: %d values, min %.6g, mean %.6g, max %.6g\n", name_, count_, count_ ? min_ : 0,
                 count_ ? sum_ / count_ : 0, count_ ? max_ : 0);
    for (const auto& [b, n] : buckets_) {
      const double pct = 100.0 * n / count_;
      absl::PrintF("  %-16s %10d  %5.1f%%  %s\n", Label(b), n, pct, std::string(static_cast<size_t>(pct / 2.5), '#'));
    }
  }
  void Json(JsonWriter& j) const {
    j.BeginObject().Field("name", name_).Field("count", count_).Field("min", count_ ? min_ : 0);
    j.Field("mean", count_ ? sum_ / count_ : 0).Field("max", count_ ? max_ : 0).Key("buckets").BeginArray();
    for (const auto& [b, n] : buckets_) j.BeginObject().Field("range", Label(b)).Field("count", n).EndObject();
    j.EndArray().EndObject();
  }

 private:
  std::string name_;
  std::vector<double> edges_;
  std::map<size_t, uint64_t> buckets_;
  uint64_t count_ = 0;
  double sum_ = 0, min_ = 1e300, max_ = -1e300;
};

int RunStats(const Common& c) {
  LocalDisk local;
  absl::StatusOr<std::unique_ptr<SstReader>> r = OpenSst(local, c);
  if (!r.ok()) return Fail(kExitUnreadable, r.status().message());
  SstReader& sst = **r;
  Histogram stored("microblock stored bytes"), raw("microblock raw bytes"), rows("rows per microblock");
  Histogram ratio("microblock compression ratio", {1, 1.25, 1.5, 2, 3, 4, 6, 8, 16});
  Histogram macro_fill("macroblock fill (% of capacity)", {50, 75, 90, 95, 98, 99, 100});
  Histogram key_size("key bytes"), value_size("value bytes"), versions("versions per key");
  for (size_t i = 0; i < sst.macroblocks().size(); ++i) {
    const MacroblockMeta& m = sst.macroblocks()[i];
    macro_fill.Add(100.0 * m.header.size / sst.footer().macroblock_capacity);
    absl::StatusOr<const SstReader::MacroblockIndex*> index = RunInline(sst.LoadIndex(i));
    if (!index.ok()) return Fail(kExitUnreadable, index.status().message());
    for (const format::MicroIndexEntry& e : (*index)->micro) {
      absl::StatusOr<std::string> head = RunInline(sst.ReadBytes(m.offset + e.offset, format::kBlockHeaderBytes));
      if (!head.ok() || head->size() != format::kBlockHeaderBytes) return Fail(kExitUnreadable, "short read");
      const uint32_t raw_size = DecodeFixed32(head->data() + 4);
      stored.Add(e.size - format::kBlockHeaderBytes);
      raw.Add(raw_size);
      ratio.Add(Ratio(raw_size, e.size - format::kBlockHeaderBytes));
      rows.Add(e.rows);
    }
  }
  std::unique_ptr<format::SstIterator> it = sst.NewIterator();
  absl::Status s = RunInline(it->SeekToFirst());
  std::string last_key;
  uint64_t run = 0;
  for (; s.ok() && it->Valid(); s = RunInline(it->Advance())) {
    const RowView row = it->row();
    key_size.Add(row.key.size());
    value_size.Add(row.value.size());
    if (run > 0 && row.key != last_key) {
      versions.Add(run);
      run = 0;
    }
    last_key.assign(row.key);
    ++run;
  }
  if (run > 0) versions.Add(run);
  if (!s.ok()) return Fail(kExitUnreadable, s.message());
  const std::vector<const Histogram*> all = {&macro_fill, &stored, &raw, &ratio, &rows, &key_size, &value_size, &versions};
  if (c.json) {
    JsonWriter j;
    j.BeginObject().Field("file", c.file).Key("histograms").BeginArray();
    for (const Histogram* h : all) h->Json(j);
    std::printf("%s\n", j.EndArray().EndObject().str().c_str());
  } else {
    for (const Histogram* h : all) {
      h->Print();
      std::printf("\n");
    }
  }
  return kExitOk;
}

// --- analyze ---

struct AnalyzeFlags {
  Common c;
  uint64_t sample_bytes = 8u << 20;
  std::string codecs = "none,lz4,zstd:1,zstd:3,zstd:9";
  std::string block_sizes = "4K,16K,64K,256K";
};

absl::StatusOr<uint32_t> ParseSize(std::string_view s) {
  uint64_t mult = 1;
  if (!s.empty() && (s.back() == 'K' || s.back() == 'k')) mult = 1024, s.remove_suffix(1);
  else if (!s.empty() && (s.back() == 'M' || s.back() == 'm')) mult = 1 << 20, s.remove_suffix(1);
  uint64_t n;
  if (!absl::SimpleAtoi(AbslView(s), &n) || n * mult > UINT32_MAX) {
    return absl::InvalidArgumentError(absl::StrCat("'", AbslView(s), "' is not a size (like 16K or 1M)"));
  }
  return static_cast<uint32_t>(n * mult);
}

// Rows from evenly spaced places in the file, up to `budget` key and value bytes.
absl::StatusOr<std::vector<Row>> SampleRows(SstReader& sst, uint64_t budget) {
  std::vector<Row> rows;
  const auto& metas = sst.macroblocks();
  const size_t segments = std::min<size_t>(16, metas.size());
  uint64_t taken = 0;
  for (size_t s = 0; s < segments; ++s) {
    const size_t m = s * metas.size() / segments;
    const size_t next = (s + 1) * metas.size() / segments;
    std::unique_ptr<format::SstIterator> it = sst.NewIterator();
    absl::Status st = RunInline(it->Seek(metas[m].first_key, metas[m].first_version));
    uint64_t segment = 0;
    const uint64_t segment_budget = budget / segments;
    for (; st.ok() && it->Valid() && segment < segment_budget; st = RunInline(it->Advance())) {
      const RowView row = it->row();
      if (next < metas.size() && format::CompareRowKeys(row.key, row.version, metas[next].first_key,
                                                        metas[next].first_version) >= 0) {
        break;
      }
      rows.push_back(Row::From(row));
      segment += row.key.size() + row.value.size();
    }
    if (!st.ok()) return st;
    taken += segment;
  }
  return rows;
}

int RunAnalyze(const AnalyzeFlags& f) {
  LocalDisk local;
  absl::StatusOr<std::unique_ptr<SstReader>> r = OpenSst(local, f.c);
  if (!r.ok()) return Fail(kExitUnreadable, r.status().message());
  struct Codec {
    Compression c;
    int level;
    std::string name;
  };
  std::vector<Codec> codecs;
  for (absl::string_view part : absl::StrSplit(f.codecs, ',', absl::SkipEmpty())) {
    std::pair<std::string, std::string> kv = absl::StrSplit(part, absl::MaxSplits(':', 1));
    absl::StatusOr<Compression> c = format::ParseCompression(kv.first);
    if (!c.ok()) return Fail(kExitUsage, c.status().message());
    int level = 3;
    if (!kv.second.empty() && (!absl::SimpleAtoi(kv.second, &level) || level < 1 || level > 22)) {
      return Fail(kExitUsage, absl::StrCat("bad zstd level in '", part, "'"));
    }
    codecs.push_back({*c, level, std::string(part)});
  }
  std::vector<uint32_t> sizes;
  for (absl::string_view part : absl::StrSplit(f.block_sizes, ',', absl::SkipEmpty())) {
    absl::StatusOr<uint32_t> n = ParseSize(StdView(part));
    if (!n.ok()) return Fail(kExitUsage, n.status().message());
    sizes.push_back(*n);
  }
  absl::StatusOr<std::vector<Row>> sample = SampleRows(**r, f.sample_bytes);
  if (!sample.ok()) return Fail(kExitUnreadable, sample.status().message());
  uint64_t user_bytes = 0;
  for (const Row& row : *sample) user_bytes += row.key.size() + row.value.size();
  if (!f.c.json) {
    absl::PrintF("sample: %d rows, %s of keys and values, from %s\n\n", sample->size(), Bytes(user_bytes), f.c.file);
    absl::PrintF("%-8s %10s %12s %8s %12s %12s\n", "codec", "microblock", "file bytes", "ratio", "build MB/s", "scan MB/s");
  }
  JsonWriter j;
  j.BeginObject().Field("file", f.c.file).Field("sample_rows", uint64_t{sample->size()});
  j.Field("sample_bytes", user_bytes).Key("results").BeginArray();
  int n = 0;
  for (const Codec& codec : codecs) {
    for (uint32_t size : sizes) {
      SstOptions o = (*r)->properties().options;
      o.compression = codec.c;
      o.zstd_level = codec.level;
      o.microblock_bytes = size;
      o.macroblock_bytes = std::max<uint32_t>(2u << 20, 4 * size);
      if (absl::Status v = o.Validate(); !v.ok()) return Fail(kExitUsage, v.message());
      MemDisk disk;
      const std::string name = absl::StrCat("analyze-", n++, ".sst");
      const auto t0 = std::chrono::steady_clock::now();
      absl::StatusOr<SstProperties> p = RunInline(format::WriteSst(disk, name, 1, o, &*sample));
      const auto t1 = std::chrono::steady_clock::now();
      if (!p.ok()) return Fail(kExitUnreadable, p.status().message());
      const uint64_t file_bytes = disk.Contents(name)->size();
      absl::StatusOr<std::unique_ptr<SstReader>> built = RunInline(SstReader::Open(disk, name));
      if (!built.ok()) return Fail(kExitUnreadable, built.status().message());
      const auto t2 = std::chrono::steady_clock::now();
      std::unique_ptr<format::SstIterator> it = (*built)->NewIterator();
      uint64_t scanned = 0;
      absl::Status s = RunInline(it->SeekToFirst());
      for (; s.ok() && it->Valid(); s = RunInline(it->Advance())) scanned += it->row().key.size() + it->row().value.size();
      const auto t3 = std::chrono::steady_clock::now();
      const double build_mbs = user_bytes / 1e6 / std::chrono::duration<double>(t1 - t0).count();
      const double scan_mbs = scanned / 1e6 / std::chrono::duration<double>(t3 - t2).count();
      if (f.c.json) {
        j.BeginObject().Field("codec", codec.name).Field("microblock_bytes", uint64_t{size});
        j.Field("file_bytes", file_bytes).Field("ratio", Ratio(user_bytes, file_bytes));
        j.Field("build_mb_per_s", build_mbs).Field("scan_mb_per_s", scan_mbs).EndObject();
      } else {
        absl::PrintF("%-8s %10s %12d %8.2f %12.1f %12.1f\n", codec.name, Bytes(size), file_bytes,
                     Ratio(user_bytes, file_bytes), build_mbs, scan_mbs);
      }
    }
  }
  if (f.c.json) std::printf("%s\n", j.EndArray().EndObject().str().c_str());
  else absl::PrintF("\nratio: key and value bytes per file byte. Speeds are of this machine, in memory.\n");
  return kExitOk;
}

// --- build ---

struct BuildFlags {
  std::string rows_file, out;
  uint64_t file_id = 1;
  std::string compression = "lz4";
  int zstd_level = 3;
  std::string microblock = "16K", macroblock = "2M";
  uint32_t restart_interval = 16, bloom_bits = 10;
  bool sort = false, hex = false, force = false, json = false;
};

absl::StatusOr<Row> ParseRowLine(std::string_view line, bool hex) {
  std::vector<absl::string_view> fields = absl::StrSplit(AbslView(line), '\t');
  if (fields.size() < 3 || fields.size() > 4) {
    return absl::InvalidArgumentError("expected KEY<TAB>VERSION<TAB>put|delete[<TAB>VALUE]");
  }
  Row row;
  absl::StatusOr<std::string> key = ParseKey(std::string(fields[0]), hex);
  if (!key.ok()) return key.status();
  row.key = *key;
  if (!absl::SimpleAtoi(fields[1], &row.version)) {
    return absl::InvalidArgumentError(absl::StrCat("version '", fields[1], "' is not an unsigned integer"));
  }
  if (fields[2] == "put") {
    row.kind = RowKind::kPut;
  } else if (fields[2] == "delete") {
    row.kind = RowKind::kDelete;
  } else {
    return absl::InvalidArgumentError(absl::StrCat("kind '", fields[2], "' is neither put nor delete"));
  }
  if (fields.size() == 4) {
    absl::StatusOr<std::string> value = ParseKey(std::string(fields[3]), hex);
    if (!value.ok()) return value.status();
    row.value = *value;
  }
  if (row.kind == RowKind::kDelete && !row.value.empty()) {
    return absl::InvalidArgumentError("a delete has no value");
  }
  return row;
}

Task<absl::Status> BuildTask(Disk* disk, std::string tmp, const BuildFlags* f, SstOptions options,
                             std::istream* in, SstProperties* out) {
  absl::StatusOr<std::unique_ptr<format::SstWriter>> w =
      co_await format::SstWriter::Create(*disk, tmp, f->file_id, options);
  if (!w.ok()) co_return w.status();
  std::vector<Row> all;
  std::string line;
  uint64_t line_no = 0, added = 0;
  const bool progress = Tty() && !f->json;
  while (std::getline(*in, line)) {
    ++line_no;
    if (line.empty() || line[0] == '#') continue;
    absl::StatusOr<Row> row = ParseRowLine(line, f->hex);
    if (!row.ok()) {
      co_return absl::InvalidArgumentError(absl::StrCat(f->rows_file, ":", line_no, ": ", row.status().message()));
    }
    if (f->sort) {
      all.push_back(std::move(*row));
      continue;
    }
    const RowView v = row->view();
    absl::Status s = co_await (*w)->Append(v);
    if (!s.ok()) co_return absl::Status(s.code(), absl::StrCat(f->rows_file, ":", line_no, ": ", s.message()));
    if (progress && ++added % 1000000 == 0) std::fprintf(stderr, "\r%llu rows", static_cast<unsigned long long>(added));
  }
  if (in->bad()) co_return absl::DataLossError(absl::StrCat("cannot read ", f->rows_file));
  if (f->sort) {
    std::stable_sort(all.begin(), all.end(), [](const Row& a, const Row& b) {
      return format::CompareRowKeys(a.key, a.version, b.key, b.version) < 0;
    });
    for (const Row& row : all) {
      const RowView v = row.view();
      absl::Status s = co_await (*w)->Append(v);
      if (!s.ok()) co_return absl::Status(s.code(), absl::StrCat(f->rows_file, ": ", s.message(), " (after sorting: two rows with one key and version)"));
    }
  }
  if (progress && added >= 1000000) std::fprintf(stderr, "\r%40s\r", "");
  absl::StatusOr<SstProperties> p = co_await (*w)->Finish();
  if (!p.ok()) co_return p.status();
  *out = *p;
  co_return absl::OkStatus();
}

int RunBuild(const BuildFlags& f) {
  SstOptions o;
  absl::StatusOr<Compression> c = format::ParseCompression(f.compression);
  if (!c.ok()) return Fail(kExitUsage, c.status().message());
  o.compression = *c;
  o.zstd_level = f.zstd_level;
  absl::StatusOr<uint32_t> micro = ParseSize(f.microblock), macro = ParseSize(f.macroblock);
  if (!micro.ok()) return Fail(kExitUsage, micro.status().message());
  if (!macro.ok()) return Fail(kExitUsage, macro.status().message());
  o.microblock_bytes = *micro;
  o.macroblock_bytes = *macro;
  o.restart_interval = f.restart_interval;
  o.bloom_bits_per_key = f.bloom_bits;
  if (absl::Status v = o.Validate(); !v.ok()) return Fail(kExitUsage, v.message());
  if (f.file_id == 0) return Fail(kExitUsage, "--file-id 0 is reserved");
  std::ifstream file;
  std::istream* in = &std::cin;
  if (f.rows_file != "-") {
    file.open(f.rows_file, std::ios::binary);
    if (!file) return Fail(kExitUnreadable, absl::StrCat("cannot open rows file '", f.rows_file, "'"));
    in = &file;
  }
  if (f.out.starts_with(kDfsPrefix)) {
    return Fail(kExitUsage, "build writes a local file (copy it in with `cairn dfs put`)");
  }
  LocalDisk local;
  Common out;
  out.file = f.out;
  absl::StatusOr<std::pair<Disk*, std::string>> where = local.For(out);
  if (!where.ok()) return Fail(kExitUnreadable, where.status().message());
  auto [disk, name] = *where;
  if (std::filesystem::exists(f.out) && !f.force) {
    return Fail(kExitUsage, absl::StrCat(f.out, " exists (use --force to replace it)"));
  }
  // Built under a temporary name and renamed when complete and synced: a crash or an error
  // never leaves a partial file under the real name.
  const std::string tmp = name + ".building";
  (void)RunInline(disk->Remove(tmp));
  SstProperties p;
  absl::Status s = RunInline(BuildTask(disk, tmp, &f, o, in, &p));
  if (s.ok()) s = RunInline(disk->Rename(tmp, name));
  if (s.ok()) s = RunInline(disk->SyncDir(""));
  if (!s.ok()) {
    (void)RunInline(disk->Remove(tmp));
    return Fail(s.code() == absl::StatusCode::kInvalidArgument ? kExitUsage : kExitUnreadable, s.message());
  }
  const uint64_t size = std::filesystem::file_size(f.out);
  if (f.json) {
    JsonWriter j;
    j.BeginObject().Field("file", f.out).Field("file_bytes", size).Field("file_id", p.file_id);
    j.Field("rows", p.rows).Field("macroblocks", p.macroblocks).Field("microblocks", p.microblocks);
    j.Field("logical_checksum", p.logical.ToString()).EndObject();
    std::printf("%s\n", j.str().c_str());
  } else {
    absl::PrintF("wrote %s: %d rows in %d macroblocks and %d microblocks, %s (ratio %.2f), logical checksum %s\n",
                 f.out, p.rows, p.macroblocks, p.microblocks, Bytes(size), Ratio(p.key_bytes + p.value_bytes, size),
                 p.logical.ToString());
  }
  return kExitOk;
}

}  // namespace

void AddSstCommands(CLI::App& app, Action& action) {
  CLI::App* sst = app.add_subcommand(
      "sst", "Inspect, verify, analyze and build SSTables (docs/format.md describes the format)");
  sst->require_subcommand(1);
  sst->footer(
      "Exit codes: 0 success; 1 a negative answer (verify found problems, get found nothing);\n"
      "2 bad usage; 3 the file cannot be read as an SSTable. Keys and values print C-escaped;\n"
      "--hex prints (and takes) them in hex. `dump` prints the format `build` reads.");

  auto info = std::make_shared<Common>();
  CLI::App* info_cmd = sst->add_subcommand("info", "Properties and a layout summary");
  AddCommon(info_cmd, info.get(), true);
  info_cmd->callback([&action, info] { action = [info] { return RunInfo(*info); }; });

  auto layout = std::make_shared<LayoutFlags>();
  CLI::App* layout_cmd = sst->add_subcommand(
      "layout", "The macroblock -> microblock tree: offsets, sizes, codecs, compression ratios");
  AddCommon(layout_cmd, &layout->c, true);
  layout_cmd->add_option("--macroblock", layout->macroblock, "Only this macroblock");
  layout_cmd->add_flag("--summary", layout->summary, "Macroblocks only, without their microblocks");
  layout_cmd->callback([&action, layout] { action = [layout] { return RunLayout(*layout); }; });

  auto dump = std::make_shared<DumpFlags>();
  CLI::App* dump_cmd = sst->add_subcommand(
      "dump", "Rows, one per line: KEY<TAB>VERSION<TAB>put|delete<TAB>VALUE (every version)");
  AddCommon(dump_cmd, &dump->c, true);
  dump_cmd->add_option("--from", dump->from, "First key (inclusive)");
  dump_cmd->add_option("--to", dump->to, "Last key (exclusive)");
  dump_cmd->add_option("--limit", dump->limit, "Most rows to print");
  dump_cmd->callback([&action, dump, dump_cmd] {
    dump->has_from = dump_cmd->count("--from") > 0;
    dump->has_to = dump_cmd->count("--to") > 0;
    action = [dump] { return RunDump(*dump); };
  });

  auto get = std::make_shared<GetFlags>();
  CLI::App* get_cmd = sst->add_subcommand(
      "get", "The newest row of KEY at or below --version (bloom filter, index, one microblock)");
  AddCommon(get_cmd, &get->c, true);
  get_cmd->add_option("key", get->key, "The key (C escapes allowed; hex with --hex)")->required();
  get_cmd->add_option("--version", get->version, "Read as of this version (default: the newest)");
  get_cmd->callback([&action, get] { action = [get] { return RunGet(*get); }; });

  auto verify = std::make_shared<Common>();
  CLI::App* verify_cmd = sst->add_subcommand(
      "verify",
      "Check every checksum, key order, index entry and bloom filter; name the exact place of any problem");
  AddCommon(verify_cmd, verify.get());
  verify_cmd->callback([&action, verify] { action = [verify] { return RunVerify(*verify); }; });

  auto stats = std::make_shared<Common>();
  CLI::App* stats_cmd = sst->add_subcommand(
      "stats", "Histograms: block sizes, compression ratios, rows per block, key and value sizes");
  AddCommon(stats_cmd, stats.get());
  stats_cmd->callback([&action, stats] { action = [stats] { return RunStats(*stats); }; });

  auto analyze = std::make_shared<AnalyzeFlags>();
  CLI::App* analyze_cmd = sst->add_subcommand(
      "analyze", "Re-encode a sample of the rows with other codecs and block sizes; report ratio and speed");
  AddCommon(analyze_cmd, &analyze->c);
  analyze_cmd->add_option("--sample-bytes", analyze->sample_bytes, "Key and value bytes to sample")
      ->capture_default_str();
  analyze_cmd->add_option("--codecs", analyze->codecs, "Codecs to try (zstd:LEVEL for a level)")
      ->capture_default_str();
  analyze_cmd->add_option("--block-sizes", analyze->block_sizes, "Microblock sizes to try")
      ->capture_default_str();
  analyze_cmd->callback([&action, analyze] { action = [analyze] { return RunAnalyze(*analyze); }; });

  auto build = std::make_shared<BuildFlags>();
  CLI::App* build_cmd = sst->add_subcommand(
      "build",
      "Write an SSTable from a rows file (KEY<TAB>VERSION<TAB>put|delete[<TAB>VALUE] per line, as dump prints)");
  build_cmd->add_option("rows", build->rows_file, "The rows file ('-' for stdin); blank and # lines are skipped")
      ->required();
  build_cmd->add_option("out", build->out, "The SSTable to write")->required();
  build_cmd->add_option("--file-id", build->file_id, "The file's id (its checksums are bound to it)")
      ->capture_default_str();
  build_cmd->add_option("--compression", build->compression, "none, lz4 or zstd")->capture_default_str();
  build_cmd->add_option("--zstd-level", build->zstd_level, "1..22")->capture_default_str();
  build_cmd->add_option("--microblock", build->microblock, "Microblock target size, 4K..512K")
      ->capture_default_str();
  build_cmd->add_option("--macroblock", build->macroblock, "Macroblock capacity, a power of two, 64K..256M")
      ->capture_default_str();
  build_cmd->add_option("--restart-interval", build->restart_interval, "Rows between full keys")
      ->capture_default_str();
  build_cmd->add_option("--bloom-bits", build->bloom_bits, "Bloom filter bits per key (0: none)")
      ->capture_default_str();
  build_cmd->add_flag("--sort", build->sort, "Sort the rows first (otherwise they must be in order)");
  build_cmd->add_flag("--hex", build->hex, "Keys and values are hex");
  build_cmd->add_flag("--force", build->force, "Replace OUT if it exists");
  build_cmd->add_flag("--json", build->json, "Print JSON");
  build_cmd->callback([&action, build] { action = [build] { return RunBuild(*build); }; });
}

}  // namespace cairn::tools

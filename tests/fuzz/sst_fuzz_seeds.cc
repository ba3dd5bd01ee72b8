// Writes the seed corpus of sst_reader_fuzz into a directory: small valid SSTables built with
// different codecs and settings, and the payloads inside one of them (a microblock, a micro
// index, a bloom filter, the properties, the file index, a macroblock, a footer, compressed
// blocks prefixed by their raw size), so that each decoder the fuzzer feeds starts from
// something it accepts.
//
//   sst_fuzz_seeds DIR
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "src/base/check.h"
#include "src/base/coding.h"
#include "src/format/block.h"
#include "src/format/compression.h"
#include "src/format/sst_reader.h"
#include "src/format/sst_writer.h"
#include "src/runtime/mem_disk.h"
#include "src/runtime/run_inline.h"

namespace cairn::format {
namespace {

// Keys with shared prefixes, several versions of some, a delete now and then, values from
// compressible to random.
std::vector<Row> MakeRows(size_t n, size_t value_bytes, uint64_t seed) {
  std::vector<Row> rows;
  uint64_t x = seed;
  auto next = [&x] {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    return x >> 33;
  };
  for (size_t i = 0; i < n; ++i) {
    char key[32];
    std::snprintf(key, sizeof key, "user%06zu", i * 3);
    const int versions = next() % 4 == 0 ? 3 : 1;
    for (int v = versions; v >= 1; --v) {
      Row r;
      r.key = key;
      r.version = static_cast<uint64_t>(v) * 10;
      r.kind = next() % 8 == 0 ? RowKind::kDelete : RowKind::kPut;
      if (r.kind == RowKind::kPut) {
        for (size_t b = 0; b < value_bytes; ++b) {
          r.value.push_back(static_cast<char>(b % 4 == 0 ? next() : 'a' + (b % 5)));
        }
      }
      rows.push_back(std::move(r));
    }
  }
  return rows;
}

void Save(const std::string& dir, const std::string& name, const std::string& bytes) {
  std::ofstream out(dir + "/" + name, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  CAIRN_CHECK_MSG(out.good(), "cannot write a seed file");
}

std::string Payload(std::string_view block, const BlockIdentity& id, BlockType type, Codec& codec) {
  std::string scratch;
  absl::StatusOr<std::string_view> payload = OpenBlock(block, id, type, codec, &scratch);
  CAIRN_CHECK_OK(payload.status());
  return std::string(*payload);
}

// The payloads inside `path`, one seed each.
void SavePayloads(MemDisk& disk, const std::string& path, const std::string& dir, const std::string& prefix) {
  absl::StatusOr<std::unique_ptr<SstReader>> opened = RunInline(SstReader::Open(disk, path));
  CAIRN_CHECK_OK(opened.status());
  SstReader& r = **opened;
  Codec codec;
  const Footer& f = r.footer();
  const std::string& file = *disk.Contents(path);
  Save(dir, prefix + "footer", file.substr(file.size() - kFooterBytes));
  Save(dir, prefix + "file_index",
       Payload(std::string_view(file).substr(f.index_offset, f.index_size),
               BlockIdentity{f.file_id, kFileLevel, f.index_offset}, BlockType::kFileIndex, codec));
  Save(dir, prefix + "properties",
       Payload(std::string_view(file).substr(f.properties_offset, f.properties_size),
               BlockIdentity{f.file_id, kFileLevel, f.properties_offset}, BlockType::kProperties, codec));
  if (r.macroblocks().empty()) return;
  absl::StatusOr<std::string> block = RunInline(r.ReadMacroblock(0));
  CAIRN_CHECK_OK(block.status());
  Save(dir, prefix + "macroblock", *block);
  const MacroblockHeader& h = r.macroblocks()[0].header;
  Save(dir, prefix + "micro_index",
       Payload(std::string_view(*block).substr(h.micro_index_offset, h.micro_index_size),
               h.identity(h.micro_index_offset), BlockType::kMicroIndex, codec));
  if (h.bloom_size > 0) {
    Save(dir, prefix + "bloom",
         Payload(std::string_view(*block).substr(h.bloom_offset, h.bloom_size), h.identity(h.bloom_offset),
                 BlockType::kBloom, codec));
  }
  absl::StatusOr<const SstReader::MacroblockIndex*> index = RunInline(r.LoadIndex(0));
  CAIRN_CHECK_OK(index.status());
  const MicroIndexEntry& e = (*index)->micro[0];
  const std::string micro = Payload(std::string_view(*block).substr(e.offset, e.size), h.identity(e.offset),
                                    BlockType::kData, codec);
  Save(dir, prefix + "microblock", micro);
  // Compressed, after the 4-byte raw size the fuzzer reads first.
  for (Compression c : {Compression::kLz4, Compression::kZstd}) {
    std::string compressed;
    if (!codec.Compress(c, 3, micro, &compressed)) continue;
    std::string seed;
    PutFixed32(&seed, static_cast<uint32_t>(micro.size()));
    seed.append(compressed);
    Save(dir, prefix + "microblock." + CompressionName(c), seed);
  }
}

int Main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: sst_fuzz_seeds DIR\n");
    return 2;
  }
  const std::string dir = argv[1];
  struct Seed {
    const char* name;
    Compression codec;
    uint32_t macroblock_bytes, microblock_bytes, restart_interval, bloom_bits;
    size_t rows, value_bytes;
  };
  const Seed seeds[] = {
      {"lz4", Compression::kLz4, 64 << 10, 4 << 10, 16, 10, 900, 60},
      {"none", Compression::kNone, 64 << 10, 4 << 10, 1, 0, 300, 40},
      {"zstd", Compression::kZstd, 64 << 10, 8 << 10, 4, 20, 1500, 30},
      {"large_rows", Compression::kLz4, 64 << 10, 4 << 10, 16, 10, 12, 9000},
      {"one_row", Compression::kNone, 64 << 10, 4 << 10, 16, 10, 1, 5},
      {"empty", Compression::kLz4, 64 << 10, 4 << 10, 16, 10, 0, 0},
      {"small_blocks", Compression::kLz4, 64 << 10, 4 << 10, 2, 6, 200, 200},
  };
  MemDisk disk;
  uint64_t id = 1;
  for (const Seed& s : seeds) {
    SstOptions o;
    o.compression = s.codec;
    o.macroblock_bytes = s.macroblock_bytes;
    o.microblock_bytes = s.microblock_bytes;
    o.restart_interval = s.restart_interval;
    o.bloom_bits_per_key = s.bloom_bits;
    const std::vector<Row> rows = MakeRows(s.rows, s.value_bytes, id);
    const std::string path = std::string(s.name) + ".sst";
    CAIRN_CHECK_OK(RunInline(WriteSst(disk, path, id, o, &rows)).status());
    ++id;
    const std::string& file = *disk.Contents(path);
    CAIRN_CHECK_LE(file.size(), 300000u);  // the fuzzer's -max_len
    Save(dir, "sst." + std::string(s.name), file);
    if (s.rows > 1) SavePayloads(disk, path, dir, std::string(s.name) + ".");
  }
  return 0;
}

}  // namespace
}  // namespace cairn::format

int main(int argc, char** argv) { return cairn::format::Main(argc, argv); }

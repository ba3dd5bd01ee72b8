// VerifySst: checks everything an SSTable claims, reading every byte once.
//
// Every checksum (footer, file index, properties — already by SstReader::Open — and each
// macroblock header and body, micro index, bloom filter and microblock), key order within and
// across blocks, index consistency (each index entry against what it indexes: row counts,
// last rows, first rows, codec and content statistics, logical checksums, the properties'
// totals), and bloom soundness (every key is found through its macroblock's filter). Every
// problem names the exact macroblock, microblock and offset.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "src/format/logical_checksum.h"
#include "src/format/sst_reader.h"

namespace cairn::format {

constexpr size_t kVerifyProblemsMax = 20;

struct VerifyReport {
  std::vector<std::string> problems;  // at most kVerifyProblemsMax; then verification stops
  uint64_t macroblocks = 0;
  uint64_t microblocks = 0;
  uint64_t rows = 0;
  uint64_t bytes = 0;
  uint64_t bloom_probes = 0;
  LogicalChecksum logical;  // recomputed from the rows
  bool ok() const { return problems.empty(); }
};

// `progress(done, total)` is called after each macroblock, if given.
Task<VerifyReport> VerifySst(SstReader& reader,
                             std::function<void(size_t, size_t)> progress = nullptr);

}  // namespace cairn::format

// Codec: compresses and decompresses microblocks. Owns the zstd contexts, so one Codec serves
// one writer or one reader (not thread-safe; Cairn's nodes are single-threaded).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "src/format/sst_options.h"

namespace cairn::format {

class Codec {
 public:
  Codec();
  ~Codec();
  Codec(const Codec&) = delete;
  Codec& operator=(const Codec&) = delete;

  // Compresses `raw` into `out` (replacing its contents). False if the codec failed or the
  // result did not shrink enough to pay for decompression (less than 1/8 smaller): the block
  // is then stored raw.
  bool Compress(Compression c, int zstd_level, std::string_view raw, std::string* out);

  // Decompresses `stored` into `out`, which must come out exactly `raw_size` bytes. Corrupt
  // input is an error, never a crash.
  absl::Status Decompress(Compression c, std::string_view stored, size_t raw_size,
                          std::string* out);

 private:
  void* zstd_cctx_ = nullptr;
  void* zstd_dctx_ = nullptr;
};

}  // namespace cairn::format

#include "src/format/compression.h"

#include <lz4.h>
// For ZSTD_c_format / ZSTD_d_format (magicless frames). They are parameters of the stable
// setParameter calls, so the shared library serves them.
#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>

#include "absl/strings/str_cat.h"

namespace cairn::format {

Codec::Codec() = default;

Codec::~Codec() {
  if (zstd_cctx_ != nullptr) ZSTD_freeCCtx(static_cast<ZSTD_CCtx*>(zstd_cctx_));
  if (zstd_dctx_ != nullptr) ZSTD_freeDCtx(static_cast<ZSTD_DCtx*>(zstd_dctx_));
}

bool Codec::Compress(Compression c, int zstd_level, std::string_view raw, std::string* out) {
  out->clear();
  if (raw.empty() || raw.size() > static_cast<size_t>(LZ4_MAX_INPUT_SIZE)) return false;
  switch (c) {
    case Compression::kNone:
      return false;
    case Compression::kLz4: {
      out->resize(static_cast<size_t>(LZ4_compressBound(static_cast<int>(raw.size()))));
      const int n = LZ4_compress_default(raw.data(), out->data(), static_cast<int>(raw.size()),
                                         static_cast<int>(out->size()));
      if (n <= 0) return false;
      out->resize(static_cast<size_t>(n));
      break;
    }
    case Compression::kZstd: {
      auto* cctx = static_cast<ZSTD_CCtx*>(zstd_cctx_);
      if (cctx == nullptr) {
        zstd_cctx_ = cctx = ZSTD_createCCtx();
        // The block header records the codec and the raw size, and CRC-32C covers the bytes:
        // the frame's magic, content size and checksum would repeat them in every block.
        ZSTD_CCtx_setParameter(cctx, ZSTD_c_format, ZSTD_f_zstd1_magicless);
        ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 0);
        ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 0);
        ZSTD_CCtx_setParameter(cctx, ZSTD_c_dictIDFlag, 0);
      }
      ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, zstd_level);
      out->resize(ZSTD_compressBound(raw.size()));
      const size_t n = ZSTD_compress2(cctx, out->data(), out->size(), raw.data(), raw.size());
      if (ZSTD_isError(n)) return false;
      out->resize(n);
      break;
    }
  }
  return out->size() < raw.size() - raw.size() / 8;
}

absl::Status Codec::Decompress(Compression c, std::string_view stored, size_t raw_size,
                               std::string* out) {
  out->resize(raw_size);
  switch (c) {
    case Compression::kNone:
      if (stored.size() != raw_size) return absl::DataLossError("raw block size mismatch");
      out->assign(stored);
      return absl::OkStatus();
    case Compression::kLz4: {
      if (raw_size > static_cast<size_t>(LZ4_MAX_INPUT_SIZE) || stored.size() > INT32_MAX) {
        return absl::DataLossError("lz4 block too large");
      }
      const int n = LZ4_decompress_safe(stored.data(), out->data(), static_cast<int>(stored.size()),
                                        static_cast<int>(raw_size));
      if (n < 0 || static_cast<size_t>(n) != raw_size) {
        return absl::DataLossError("lz4 block does not decompress to its recorded size");
      }
      return absl::OkStatus();
    }
    case Compression::kZstd: {
      if (zstd_dctx_ == nullptr) {
        zstd_dctx_ = ZSTD_createDCtx();
        ZSTD_DCtx_setParameter(static_cast<ZSTD_DCtx*>(zstd_dctx_), ZSTD_d_format, ZSTD_f_zstd1_magicless);
      }
      const size_t n = ZSTD_decompressDCtx(static_cast<ZSTD_DCtx*>(zstd_dctx_), out->data(),
                                           raw_size, stored.data(), stored.size());
      if (ZSTD_isError(n)) {
        return absl::DataLossError(absl::StrCat("zstd: ", ZSTD_getErrorName(n)));
      }
      if (n != raw_size) return absl::DataLossError("zstd block does not decompress to its recorded size");
      return absl::OkStatus();
    }
  }
  return absl::DataLossError(absl::StrCat("unknown compression ", static_cast<int>(c)));
}

}  // namespace cairn::format

// Varint (LEB128) encoding, and a bounds-checked reader of untrusted bytes.
//
// Every on-disk structure that is not Protobuf is parsed with ByteReader: it never reads past
// its buffer, and a malformed or truncated input makes it fail (ok() false) instead of
// crashing, so readers of files from disk can turn any garbage into an error.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "src/base/coding.h"

namespace cairn {

inline void PutVarint64(std::string* out, uint64_t v) {
  char buf[10];
  size_t n = 0;
  while (v >= 0x80) {
    buf[n++] = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  buf[n++] = static_cast<char>(v);
  out->append(buf, n);
}

inline void PutLengthPrefixed(std::string* out, std::string_view s) {
  PutVarint64(out, s.size());
  out->append(s);
}

class ByteReader {
 public:
  explicit ByteReader(std::string_view data) : p_(data.data()), end_(data.data() + data.size()) {}

  bool ok() const { return ok_; }
  size_t remaining() const { return static_cast<size_t>(end_ - p_); }
  const char* position() const { return p_; }

  uint64_t Varint64() {
    uint64_t v = 0;
    for (int shift = 0; shift <= 63; shift += 7) {
      if (p_ >= end_) return Fail();
      const uint8_t byte = static_cast<uint8_t>(*p_++);
      if (shift == 63 && byte > 1) return Fail();  // more than 64 bits
      v |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if (byte < 0x80) return v;
    }
    return Fail();
  }
  uint32_t Varint32() {
    const uint64_t v = Varint64();
    if (v > UINT32_MAX) return static_cast<uint32_t>(Fail());
    return static_cast<uint32_t>(v);
  }
  uint32_t Fixed32() {
    if (remaining() < 4) return static_cast<uint32_t>(Fail());
    const uint32_t v = DecodeFixed32(p_);
    p_ += 4;
    return v;
  }
  uint64_t Fixed64() {
    if (remaining() < 8) return Fail();
    const uint64_t v = DecodeFixed64(p_);
    p_ += 8;
    return v;
  }
  uint8_t Byte() {
    if (remaining() < 1) return static_cast<uint8_t>(Fail());
    return static_cast<uint8_t>(*p_++);
  }
  std::string_view Bytes(uint64_t n) {
    if (n > remaining()) {
      Fail();
      return {};
    }
    std::string_view v(p_, static_cast<size_t>(n));
    p_ += n;
    return v;
  }
  std::string_view LengthPrefixed() { return Bytes(Varint64()); }

 private:
  uint64_t Fail() {
    ok_ = false;
    p_ = end_;
    return 0;
  }
  const char* p_;
  const char* end_;
  bool ok_ = true;
};

}  // namespace cairn

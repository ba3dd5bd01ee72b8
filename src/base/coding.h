// Fixed-width little-endian integer encoding, the byte order of every Cairn on-disk and
// on-wire format that is not Protobuf; and fixed layouts (a header, a footer) whose fields
// are named once, so that encoding and parsing cannot disagree about where a field lies.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <string>
#include <string_view>
#include <type_traits>

#include "src/base/check.h"

namespace cairn {

inline void PutFixed32(std::string* out, uint32_t v) {
  char buf[4];
  for (int i = 0; i < 4; ++i) buf[i] = static_cast<char>(v >> (8 * i));
  out->append(buf, 4);
}

inline void PutFixed64(std::string* out, uint64_t v) {
  char buf[8];
  for (int i = 0; i < 8; ++i) buf[i] = static_cast<char>(v >> (8 * i));
  out->append(buf, 8);
}

inline uint32_t DecodeFixed32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(static_cast<uint8_t>(p[i])) << (8 * i);
  return v;
}

inline uint64_t DecodeFixed64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(static_cast<uint8_t>(p[i])) << (8 * i);
  return v;
}

// A field of a fixed layout: an unsigned little-endian integer of sizeof(T) bytes at `offset`.
template <typename T>
struct FixedField {
  static_assert(std::is_unsigned_v<T> && sizeof(T) <= 8);
  size_t offset;
  constexpr size_t bytes() const { return sizeof(T); }
  constexpr size_t end() const { return offset + sizeof(T); }
};
// A field of N raw bytes (a magic string).
template <size_t N>
struct FixedBytes {
  size_t offset;
  constexpr size_t bytes() const { return N; }
  constexpr size_t end() const { return offset + N; }
};

struct FieldExtent {
  size_t offset;
  size_t bytes;
  template <typename F>
  constexpr FieldExtent(F field) : offset(field.offset), bytes(field.bytes()) {}  // NOLINT: implicit by design
};
// True if `fields`, in order, cover [0, total) exactly: no gap, no overlap. For static_assert
// on every layout: static_assert(Tiles({kMagic, kVersion, ...}, kHeaderBytes));
constexpr bool Tiles(std::initializer_list<FieldExtent> fields, size_t total) {
  size_t at = 0;
  for (const FieldExtent& f : fields) {
    if (f.offset != at) return false;
    at += f.bytes;
  }
  return at == total;
}

// Fills the fields of a layout in place: `at` points to `size` bytes of it.
class FixedWriter {
 public:
  FixedWriter(char* at, size_t size) : at_(at), size_(size) {}
  template <typename T>
  void Put(FixedField<T> field, std::type_identity_t<T> value) {
    CAIRN_CHECK_LE(field.end(), size_);
    for (size_t i = 0; i < sizeof(T); ++i) at_[field.offset + i] = static_cast<char>(uint64_t{value} >> (8 * i));
  }
  template <size_t N>
  void Put(FixedBytes<N> field, std::string_view value) {
    CAIRN_CHECK_LE(field.end(), size_);
    CAIRN_CHECK_EQ(value.size(), N);
    std::memcpy(at_ + field.offset, value.data(), N);
  }

 private:
  char* at_;
  size_t size_;
};

// Reads the fields of a layout; the caller has checked that `bytes` is the layout's size.
class FixedReader {
 public:
  explicit FixedReader(std::string_view bytes) : bytes_(bytes) {}
  template <typename T>
  T Get(FixedField<T> field) const {
    CAIRN_CHECK_LE(field.end(), bytes_.size());
    uint64_t v = 0;
    for (size_t i = 0; i < sizeof(T); ++i) {
      v |= uint64_t{static_cast<uint8_t>(bytes_[field.offset + i])} << (8 * i);
    }
    return static_cast<T>(v);
  }
  template <size_t N>
  std::string_view Get(FixedBytes<N> field) const {
    CAIRN_CHECK_LE(field.end(), bytes_.size());
    return bytes_.substr(field.offset, N);
  }
  // The bytes before `field` (what a trailing checksum covers).
  template <typename F>
  std::string_view Before(F field) const {
    return bytes_.substr(0, field.offset);
  }

 private:
  std::string_view bytes_;
};

}  // namespace cairn

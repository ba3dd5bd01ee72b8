// CRC-32C (Castagnoli), the checksum of Cairn's records and blocks. Uses the SSE4.2
// instruction when the CPU has it (checked once at start), tables otherwise.
#pragma once

#include <cstdint>
#include <string_view>

namespace cairn::crc32c {

// Extends `crc` (the value of a previous call, or 0) with `data`.
uint32_t Extend(uint32_t crc, std::string_view data);
inline uint32_t Value(std::string_view data) { return Extend(0, data); }
// Extend, by the hardware instruction (when the CPU has SSE4.2) or by tables: tests check
// that the two agree.
uint32_t ExtendForTesting(uint32_t crc, std::string_view data, bool hardware);

// A stored CRC is masked so that a CRC over data that itself contains CRCs stays strong
// (the LevelDB convention).
inline uint32_t Mask(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + 0xa282ead8u; }
inline uint32_t Unmask(uint32_t masked) {
  uint32_t rot = masked - 0xa282ead8u;
  return (rot >> 17) | (rot << 15);
}

}  // namespace cairn::crc32c

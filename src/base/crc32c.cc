#include "src/base/crc32c.h"

#include <array>

namespace cairn::crc32c {
namespace {

constexpr uint32_t kPolynomial = 0x82f63b78u;  // reflected Castagnoli polynomial

// Slicing-by-8 tables, built at compile time.
constexpr std::array<std::array<uint32_t, 256>, 8> BuildTables() {
  std::array<std::array<uint32_t, 256>, 8> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ kPolynomial : c >> 1;
    t[0][i] = c;
  }
  for (uint32_t i = 0; i < 256; ++i) {
    for (int s = 1; s < 8; ++s) t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xff];
  }
  return t;
}

constexpr auto kTables = BuildTables();

#if defined(__x86_64__)
// Appending n zero bytes to a message multiplies its CRC register by x^(8n) modulo the
// polynomial. That lets three independent CRCs, computed side by side over three lanes, be
// joined into the CRC of the whole: crc(A‖B) = shift(crc(A), |B|) ^ crc(B).

// a·b mod P, in the reflected bit order CRCs use (bit 31 is the coefficient of x^0).
constexpr uint32_t MulModP(uint32_t a, uint32_t b) {
  uint32_t product = 0;
  for (int i = 0; i < 32; ++i) {
    if (a & (0x80000000u >> i)) product ^= b;
    b = (b & 1) ? (b >> 1) ^ kPolynomial : b >> 1;  // b·x
  }
  return product;
}

// x^(8·bytes) mod P.
constexpr uint32_t ShiftFactor(uint64_t bytes) {
  uint32_t result = 0x80000000u;  // x^0
  uint32_t power = 0x40000000u;   // x^1, then x^2, x^4, ...
  for (uint64_t e = 8 * bytes; e != 0; e >>= 1) {
    if (e & 1) result = MulModP(result, power);
    power = MulModP(power, power);
  }
  return result;
}

// Multiplying by a fixed factor is linear, so it is four table lookups, one per byte.
using ShiftTables = std::array<std::array<uint32_t, 256>, 4>;
constexpr ShiftTables BuildShiftTables(uint64_t bytes) {
  const uint32_t factor = ShiftFactor(bytes);
  ShiftTables t{};
  for (int k = 0; k < 4; ++k) {
    for (uint32_t b = 0; b < 256; ++b) t[k][b] = MulModP(factor, b << (8 * k));
  }
  return t;
}

constexpr size_t kLongLaneBytes = 4096;
constexpr size_t kShortLaneBytes = 256;
constexpr ShiftTables kShiftLong = BuildShiftTables(kLongLaneBytes);
constexpr ShiftTables kShiftShort = BuildShiftTables(kShortLaneBytes);

inline uint32_t Shift(const ShiftTables& t, uint32_t crc) {
  return t[0][crc & 0xff] ^ t[1][(crc >> 8) & 0xff] ^ t[2][(crc >> 16) & 0xff] ^ t[3][crc >> 24];
}

// Three lanes of `lane` bytes each at p, continuing register `c` (not inverted), side by side:
// the crc32 instruction's latency is 3 cycles but it issues every cycle.
__attribute__((target("sse4.2"))) inline uint64_t ThreeLanes(uint64_t c, const uint8_t* p,
                                                             size_t lane, const ShiftTables& t) {
  uint64_t c1 = 0xffffffffu, c2 = 0xffffffffu;
  for (size_t i = 0; i < lane; i += 8) {
    uint64_t w0, w1, w2;
    __builtin_memcpy(&w0, p + i, 8);
    __builtin_memcpy(&w1, p + lane + i, 8);
    __builtin_memcpy(&w2, p + 2 * lane + i, 8);
    c = __builtin_ia32_crc32di(c, w0);
    c1 = __builtin_ia32_crc32di(c1, w1);
    c2 = __builtin_ia32_crc32di(c2, w2);
  }
  // Registers to CRC values (inverted), joined, and back to a register.
  uint32_t crc = ~static_cast<uint32_t>(c);
  crc = Shift(t, crc) ^ ~static_cast<uint32_t>(c1);
  crc = Shift(t, crc) ^ ~static_cast<uint32_t>(c2);
  return ~crc;
}

__attribute__((target("sse4.2"))) uint32_t ExtendHardware(uint32_t crc, std::string_view data) {
  const auto* p = reinterpret_cast<const uint8_t*>(data.data());
  size_t n = data.size();
  uint64_t c = static_cast<uint32_t>(~crc);
  while (n >= 3 * kLongLaneBytes) {
    c = ThreeLanes(c, p, kLongLaneBytes, kShiftLong);
    p += 3 * kLongLaneBytes;
    n -= 3 * kLongLaneBytes;
  }
  while (n >= 3 * kShortLaneBytes) {
    c = ThreeLanes(c, p, kShortLaneBytes, kShiftShort);
    p += 3 * kShortLaneBytes;
    n -= 3 * kShortLaneBytes;
  }
  while (n >= 8) {
    uint64_t word;
    __builtin_memcpy(&word, p, 8);
    c = __builtin_ia32_crc32di(c, word);
    p += 8;
    n -= 8;
  }
  uint32_t c32 = static_cast<uint32_t>(c);
  while (n-- > 0) c32 = __builtin_ia32_crc32qi(c32, *p++);
  return ~c32;
}

const bool kHaveHardware = __builtin_cpu_supports("sse4.2");
#endif

uint32_t ExtendPortable(uint32_t crc, std::string_view data);

}  // namespace

uint32_t Extend(uint32_t crc, std::string_view data) {
#if defined(__x86_64__)
  if (kHaveHardware) return ExtendHardware(crc, data);
#endif
  return ExtendPortable(crc, data);
}

uint32_t ExtendForTesting(uint32_t crc, std::string_view data, bool hardware) {
#if defined(__x86_64__)
  if (hardware && kHaveHardware) return ExtendHardware(crc, data);
#else
  (void)hardware;
#endif
  return ExtendPortable(crc, data);
}

namespace {
uint32_t ExtendPortable(uint32_t crc, std::string_view data) {
  const auto* p = reinterpret_cast<const uint8_t*>(data.data());
  size_t n = data.size();
  uint32_t c = ~crc;
  while (n >= 8) {
    uint32_t lo = c ^ (uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 |
                       uint32_t{p[3]} << 24);
    uint32_t hi = uint32_t{p[4]} | uint32_t{p[5]} << 8 | uint32_t{p[6]} << 16 |
                  uint32_t{p[7]} << 24;
    c = kTables[7][lo & 0xff] ^ kTables[6][(lo >> 8) & 0xff] ^ kTables[5][(lo >> 16) & 0xff] ^
        kTables[4][lo >> 24] ^ kTables[3][hi & 0xff] ^ kTables[2][(hi >> 8) & 0xff] ^
        kTables[1][(hi >> 16) & 0xff] ^ kTables[0][hi >> 24];
    p += 8;
    n -= 8;
  }
  while (n-- > 0) c = kTables[0][(c ^ *p++) & 0xff] ^ (c >> 8);
  return ~c;
}
}  // namespace

}  // namespace cairn::crc32c

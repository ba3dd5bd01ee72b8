#include <string>

#include "gtest/gtest.h"
#include "src/base/coding.h"
#include "src/base/crc32c.h"
#include "src/runtime/knobs.h"
#include "src/base/random.h"

namespace cairn {
namespace {

TEST(Crc32c, KnownVectors) {
  // RFC 3720 (iSCSI) test vectors.
  EXPECT_EQ(crc32c::Value(std::string(32, '\0')), 0x8a9136aau);
  EXPECT_EQ(crc32c::Value(std::string(32, '\xff')), 0x62a8ab43u);
  EXPECT_EQ(crc32c::Value("123456789"), 0xe3069283u);
  std::string ascending;
  for (int i = 0; i < 32; ++i) ascending.push_back(static_cast<char>(i));
  EXPECT_EQ(crc32c::Value(ascending), 0x46dd794eu);
}

TEST(Crc32c, ExtendEqualsWhole) {
  const std::string s = "the quick brown fox jumps over the lazy dog, twice over";
  for (size_t cut = 0; cut <= s.size(); ++cut) {
    EXPECT_EQ(crc32c::Extend(crc32c::Value(s.substr(0, cut)), s.substr(cut)), crc32c::Value(s));
  }
}

TEST(Crc32c, HardwareAndTablesAgree) {
  std::string s;
  uint64_t x = 1;
  for (int i = 0; i < 40000; ++i) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    s.push_back(static_cast<char>(x >> 56));
  }
  // Lengths below, at and above each lane threshold of the hardware path (3 x 256, 3 x 4096).
  for (size_t start = 0; start < 9; ++start) {
    for (size_t len : {0, 1, 7, 8, 9, 63, 500, 767, 768, 769, 991, 1536, 2000, 12287, 12288,
                       12289, 16384, 16396, 30000, 39990}) {
      const std::string_view part = std::string_view(s).substr(start, len);
      EXPECT_EQ(crc32c::ExtendForTesting(77, part, true), crc32c::ExtendForTesting(77, part, false));
    }
  }
}

TEST(Crc32c, MaskRoundTrips) {
  for (uint32_t v : {0u, 1u, 0xdeadbeefu, 0xffffffffu}) {
    EXPECT_EQ(crc32c::Unmask(crc32c::Mask(v)), v);
    EXPECT_NE(crc32c::Mask(v), v);
  }
}

TEST(Coding, FixedRoundTrip) {
  std::string buf;
  PutFixed32(&buf, 0x01020304u);
  PutFixed64(&buf, 0x0102030405060708ull);
  ASSERT_EQ(buf.size(), 12u);
  EXPECT_EQ(buf[0], 0x04);  // little-endian
  EXPECT_EQ(DecodeFixed32(buf.data()), 0x01020304u);
  EXPECT_EQ(DecodeFixed64(buf.data() + 4), 0x0102030405060708ull);
}

// A layout of named fields: what the writer puts, the reader gets, at the bytes the offsets
// say, little-endian; and Tiles catches a gap, an overlap, or a layout that falls short.
TEST(Coding, FixedLayoutsPutAndGetNamedFields) {
  constexpr FixedBytes<4> kMagic{0};
  constexpr FixedField<uint16_t> kSmall{4};
  constexpr FixedField<uint8_t> kTiny{6};
  constexpr FixedField<uint8_t> kPad{7};
  constexpr FixedField<uint64_t> kBig{8};
  constexpr FixedField<uint32_t> kSum{16};
  static_assert(Tiles({kMagic, kSmall, kTiny, kPad, kBig, kSum}, 20));
  static_assert(!Tiles({kMagic, kSmall, kPad, kBig, kSum}, 20));        // a gap at 6
  static_assert(!Tiles({kMagic, kSmall, kTiny, kPad, kBig}, 20));       // falls short
  static_assert(!Tiles({kMagic, kSmall, kSmall, kTiny, kPad, kBig, kSum}, 20));  // overlap
  std::string buf(20, '\xff');
  FixedWriter w(buf.data(), buf.size());
  w.Put(kMagic, "CRN1");
  w.Put(kSmall, 0x0102);
  w.Put(kTiny, 7);
  w.Put(kPad, 0);
  w.Put(kBig, 0x0102030405060708ull);
  w.Put(kSum, 0xdeadbeef);
  EXPECT_EQ(buf.substr(0, 4), "CRN1");
  EXPECT_EQ(buf[4], 0x02);  // little-endian
  EXPECT_EQ(buf[8], 0x08);
  const FixedReader r(buf);
  EXPECT_EQ(r.Get(kMagic), "CRN1");
  EXPECT_EQ(r.Get(kSmall), 0x0102);
  EXPECT_EQ(r.Get(kTiny), 7);
  EXPECT_EQ(r.Get(kBig), 0x0102030405060708ull);
  EXPECT_EQ(r.Get(kSum), 0xdeadbeefu);
  EXPECT_EQ(r.Before(kSum), std::string_view(buf).substr(0, 16));
  EXPECT_EQ(DecodeFixed64(buf.data() + 8), r.Get(kBig));  // the same bytes the plain functions read
}

TEST(Random, SameSeedSameStream) {
  Random a(42), b(42), c(43);
  bool differs = false;
  for (int i = 0; i < 100; ++i) {
    const uint64_t x = a.Next();
    EXPECT_EQ(x, b.Next());
    differs |= x != c.Next();
  }
  EXPECT_TRUE(differs);
}

TEST(Random, UniformStaysInRangeAndCoversIt) {
  Random r(7);
  std::vector<int> seen(10, 0);
  for (int i = 0; i < 10000; ++i) {
    const uint64_t v = r.Uniform(10);
    ASSERT_LT(v, 10u);
    ++seen[v];
  }
  for (int count : seen) EXPECT_GT(count, 800);  // ~1000 each
  for (int i = 0; i < 1000; ++i) {
    const int64_t v = r.UniformRange(-3, 3);
    ASSERT_GE(v, -3);
    ASSERT_LE(v, 3);
  }
}

TEST(Random, ForkIsIndependentAndDoesNotConsume) {
  Random a(5), b(5);
  Random fork = a.Fork("child");
  EXPECT_EQ(a.Next(), b.Next());  // forking did not advance a
  EXPECT_NE(fork.Next(), Random(5).Fork("other").Next());
}

TEST(Knobs, SetParsesAndRejects) {
  Knobs k;
  EXPECT_TRUE(k.SetAssignment("rpc_attempts_max=5").ok());
  EXPECT_EQ(k.rpc_attempts_max, 5);
  EXPECT_EQ(k.DescribeChanges(), "rpc_attempts_max=5");
  EXPECT_EQ(k.SetAssignment("no_such_knob=1").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(k.SetAssignment("rpc_attempts_max=abc").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(k.SetAssignment("rpc_attempts_max").code(), absl::StatusCode::kInvalidArgument);
}

TEST(Knobs, RandomizeStaysInSimulationRanges) {
  Random r(1);
  for (int i = 0; i < 50; ++i) {
    Knobs k;
    k.Randomize(r);
    EXPECT_GE(k.rpc_attempts_max, 1);
    EXPECT_LE(k.rpc_attempts_max, 6);
    EXPECT_GE(k.rpc_attempt_timeout_ms, 20);
    EXPECT_LE(k.rpc_attempt_timeout_ms, 500);
  }
}

}  // namespace
}  // namespace cairn

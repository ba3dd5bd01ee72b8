// The register checks on hand-built histories, each right or wrong in a known way.
#include "gtest/gtest.h"
#include "sim/check/register_checker.h"

namespace cairn::sim {
namespace {

Instant T(int ms) { return InstantFromNanos(int64_t{ms} * 1'000'000); }

struct Builder {
  History h;
  void Write(int p, const std::string& v, int from, int to, OpOutcome o = OpOutcome::kOk) {
    const uint64_t i = h.Invoke(p, OpKind::kWrite, "k", v, T(from));
    h.Complete(i, o, std::nullopt, T(to));
  }
  void Read(int p, std::optional<std::string> v, int from, int to) {
    const uint64_t i = h.Invoke(p, OpKind::kRead, "k", std::nullopt, T(from));
    h.Complete(i, OpOutcome::kOk, std::move(v), T(to));
  }
  bool Passes(const std::string& check) const {
    for (const CheckResult& c : CheckRegisterHistory(h)) {
      if (c.name == check) return c.passed;
    }
    ADD_FAILURE() << "no check " << check;
    return false;
  }
};

TEST(RegisterChecker, SequentialHistoryPasses) {
  Builder b;
  b.Read(0, std::nullopt, 0, 1);
  b.Write(0, "a", 2, 3);
  b.Read(1, "a", 4, 5);
  b.Write(1, "b", 6, 7);
  b.Read(0, "b", 8, 9);
  EXPECT_TRUE(b.Passes("reads-see-writes"));
  EXPECT_TRUE(b.Passes("no-lost-write"));
}

TEST(RegisterChecker, ConcurrentReadMaySeeEitherValue) {
  Builder b;
  b.Write(0, "a", 0, 1);
  b.Write(1, "b", 2, 10);  // concurrent with both reads
  b.Read(2, "a", 3, 4);
  b.Read(3, "b", 5, 6);
  EXPECT_TRUE(b.Passes("no-lost-write"));
}

TEST(RegisterChecker, UnknownWriteMayOrMayNotBeSeen) {
  Builder b;
  b.Write(0, "a", 0, 1);
  b.Write(1, "b", 2, 3, OpOutcome::kInfo);
  b.Read(2, "b", 10, 11);
  b.Read(2, "a", 12, 13);  // fine too if b's effect is placed... no: b was read before.
  // "a" after "b" was observed is a real anomaly, but not a lost *acknowledged* write:
  // these two checks only judge acknowledged writes; the linearizability checker (issue 3)
  // catches this one.
  EXPECT_TRUE(b.Passes("reads-see-writes"));
  EXPECT_TRUE(b.Passes("no-lost-write"));
}

TEST(RegisterChecker, StaleReadAfterAcknowledgedOverwriteFails) {
  Builder b;
  b.Write(0, "a", 0, 1);
  b.Write(1, "b", 2, 3);
  b.Read(2, "a", 4, 5);  // b was acknowledged before the read began, after a finished
  EXPECT_FALSE(b.Passes("no-lost-write"));
  EXPECT_TRUE(b.Passes("reads-see-writes"));
}

TEST(RegisterChecker, ReadingNothingAfterAnAcknowledgedWriteFails) {
  Builder b;
  b.Write(0, "a", 0, 1);
  b.Read(1, std::nullopt, 2, 3);
  EXPECT_FALSE(b.Passes("no-lost-write"));
}

TEST(RegisterChecker, NeverWrittenOrFailedOrFutureValuesFail) {
  {
    Builder b;
    b.Read(0, "ghost", 0, 1);
    EXPECT_FALSE(b.Passes("reads-see-writes"));
  }
  {
    Builder b;
    b.Write(0, "a", 0, 1, OpOutcome::kFail);
    b.Read(1, "a", 2, 3);
    EXPECT_FALSE(b.Passes("reads-see-writes"));
  }
  {
    Builder b;
    b.Read(1, "a", 0, 1);
    b.Write(0, "a", 5, 6);  // invoked after the read ended
    EXPECT_FALSE(b.Passes("reads-see-writes"));
  }
}

TEST(RegisterChecker, ViolationsExplainTheOperations) {
  Builder b;
  b.Write(0, "a", 0, 1);
  b.Write(1, "b", 2, 3);
  b.Read(2, "a", 4, 5);
  for (const CheckResult& c : CheckRegisterHistory(b.h)) {
    if (c.name != "no-lost-write") continue;
    ASSERT_EQ(c.violations.size(), 1u);
    EXPECT_NE(c.violations[0].find("k=a"), std::string::npos);
    EXPECT_NE(c.violations[0].find("k=b"), std::string::npos);
  }
}

}  // namespace
}  // namespace cairn::sim

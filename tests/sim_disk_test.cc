// The simulated disk: what survives a crash, and what the faults do.
#include <map>
#include <string>

#include "gtest/gtest.h"
#include "rapidcheck.h"
#include "rapidcheck/gtest.h"
#include "sim/core/sim_disk.h"

namespace cairn::sim {
namespace {

std::string ReadAll(SimDisk& disk, const std::string& path, Random& r) {
  auto inode = disk.Open(path, false, false, false);
  EXPECT_TRUE(inode.ok()) << inode.status();
  if (!inode.ok()) return "";
  auto data = disk.Read(**inode, 0, 1 << 20, r);
  EXPECT_TRUE(data.ok());
  return data.ok() ? *data : "";
}

TEST(SimDisk, SyncedDataAndSyncedNamesSurviveACrash) {
  SimDisk disk;
  Random r(1);
  ASSERT_TRUE(disk.CreateDir("d").ok());
  ASSERT_TRUE(disk.SyncDir("").ok());
  auto f = disk.Open("d/f", true, true, false);
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE(disk.Append(**f, "durable", r).ok());
  ASSERT_TRUE(disk.Sync(**f, r).ok());
  ASSERT_TRUE(disk.SyncDir("d").ok());
  for (int i = 0; i < 20; ++i) {
    disk.ApplyCrash(r);
    EXPECT_EQ(ReadAll(disk, "d/f", r), "durable");
  }
}

TEST(SimDisk, AnUnsyncedNameCanVanish) {
  int vanished = 0;
  for (uint64_t seed = 0; seed < 40; ++seed) {
    SimDisk disk;
    Random r(seed);
    auto f = disk.Open("f", true, true, false);
    ASSERT_TRUE(f.ok());
    ASSERT_TRUE(disk.Append(**f, "data", r).ok());
    ASSERT_TRUE(disk.Sync(**f, r).ok());  // data synced, but the name never was
    disk.ApplyCrash(r);
    vanished += disk.Open("f", false, false, false).status().code() == absl::StatusCode::kNotFound;
  }
  EXPECT_GT(vanished, 5);
  EXPECT_LT(vanished, 35);
}

TEST(SimDisk, UnsyncedWritesAreKeptLostOrTornBySector) {
  int kept = 0, lost = 0, torn = 0;
  const std::string big(4 * SimDisk::kSectorBytes, 'x');
  for (uint64_t seed = 0; seed < 200; ++seed) {
    SimDisk disk;
    Random r(seed);
    auto f = disk.Open("f", true, true, false);
    ASSERT_TRUE(f.ok());
    ASSERT_TRUE(disk.SyncDir("").ok());
    ASSERT_TRUE(disk.Append(**f, big, r).ok());
    disk.ApplyCrash(r);
    const std::string after = ReadAll(disk, "f", r);
    if (after == big) {
      ++kept;
    } else if (after.find('x') == std::string::npos) {
      ++lost;
    } else {
      ++torn;
      // Torn means whole sectors: every sector is all 'x' or all zero.
      for (size_t s = 0; s < after.size(); s += SimDisk::kSectorBytes) {
        const std::string sector = after.substr(s, SimDisk::kSectorBytes);
        EXPECT_TRUE(sector == std::string(sector.size(), 'x') ||
                    sector == std::string(sector.size(), '\0'));
      }
    }
  }
  EXPECT_GT(kept, 20);
  EXPECT_GT(lost, 20);
  EXPECT_GT(torn, 20);
}

TEST(SimDisk, RenameIsAtomicAcrossACrash) {
  for (uint64_t seed = 0; seed < 50; ++seed) {
    SimDisk disk;
    Random r(seed);
    auto f = disk.Open("tmp", true, true, false);
    ASSERT_TRUE(f.ok());
    ASSERT_TRUE(disk.Append(**f, "v1", r).ok());
    ASSERT_TRUE(disk.Sync(**f, r).ok());
    ASSERT_TRUE(disk.SyncDir("").ok());
    ASSERT_TRUE(disk.Rename("tmp", "final").ok());
    disk.ApplyCrash(r);
    const bool has_tmp = disk.Open("tmp", false, false, false).ok();
    const bool has_final = disk.Open("final", false, false, false).ok();
    EXPECT_TRUE(has_tmp || has_final) << "seed " << seed << ": the file vanished";
  }
}

TEST(SimDisk, InjectedFaults) {
  SimDisk disk;
  Random r(4);
  auto f = disk.Open("f", true, true, false);
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE(disk.Append(**f, std::string(64, 'a'), r).ok());
  ASSERT_TRUE(disk.Sync(**f, r).ok());
  disk.faults().read_error_probability = 1;
  EXPECT_EQ(disk.Read(**f, 0, 64, r).status().code(), absl::StatusCode::kDataLoss);
  disk.faults().read_error_probability = 0;
  disk.faults().read_bitflip_probability = 1;
  auto flipped = disk.Read(**f, 0, 64, r);
  ASSERT_TRUE(flipped.ok());
  EXPECT_NE(*flipped, std::string(64, 'a'));
  disk.faults().read_bitflip_probability = 0;
  disk.faults().sync_error_probability = 1;
  EXPECT_FALSE(disk.Sync(**f, r).ok());
  disk.faults().sync_error_probability = 0;
  disk.faults().capacity_bytes = 100;
  EXPECT_EQ(disk.Append(**f, std::string(64, 'b'), r).code(), absl::StatusCode::kResourceExhausted);
  ASSERT_TRUE(disk.CorruptAtRest("f", 3, 0).ok());
  EXPECT_EQ((*disk.Read(**f, 3, 1, r))[0], 'a' ^ 1);
}

// After a failed fsync the unsynced writes are settled at once, as a crash would: some kept,
// some lost; a later successful fsync cannot bring the lost ones back.
TEST(SimDisk, AFailedSyncSettlesTheUnsyncedWrites) {
  int kept = 0, lost = 0;
  for (uint64_t seed = 0; seed < 40; ++seed) {
    SimDisk disk;
    Random r(seed);
    auto f = disk.Open("f", true, true, false);
    ASSERT_TRUE(f.ok());
    ASSERT_TRUE(disk.SyncDir("").ok());
    ASSERT_TRUE(disk.Append(**f, "synced", r).ok());
    ASSERT_TRUE(disk.Sync(**f, r).ok());
    ASSERT_TRUE(disk.Append(**f, "-pending", r).ok());
    disk.faults().sync_error_probability = 1;
    EXPECT_EQ(disk.Sync(**f, r).code(), absl::StatusCode::kDataLoss);
    disk.faults().sync_error_probability = 0;
    const std::string after_failure = *disk.Read(**f, 0, 100, r);
    ASSERT_TRUE(disk.Sync(**f, r).ok());
    disk.ApplyCrash(r);
    const std::string after_crash = *disk.Read(**f, 0, 100, r);
    EXPECT_EQ(after_crash, after_failure) << "seed " << seed;
    EXPECT_EQ(after_crash.substr(0, 6), "synced");
    kept += after_crash == "synced-pending";
    lost += after_crash == "synced";
  }
  EXPECT_GT(kept, 0);
  EXPECT_GT(lost, 0);
}

TEST(SimDisk, RenameToItselfKeepsTheFile) {
  SimDisk disk;
  Random r(1);
  ASSERT_TRUE(disk.Open("f", true, true, false).ok());
  ASSERT_TRUE(disk.SyncDir("").ok());
  ASSERT_TRUE(disk.Rename("f", "f").ok());
  ASSERT_TRUE(disk.SyncDir("").ok());
  disk.ApplyCrash(r);
  EXPECT_TRUE(disk.Open("f", false, false, false).ok());
}

TEST(SimDisk, ListAndRemoveAndBadPaths) {
  SimDisk disk;
  ASSERT_TRUE(disk.CreateDir("d").ok());
  ASSERT_TRUE(disk.Open("d/b", true, false, false).ok());
  ASSERT_TRUE(disk.Open("d/a", true, false, false).ok());
  EXPECT_EQ(*disk.List("d"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(disk.Remove("d").code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(disk.Remove("d/a").ok());
  EXPECT_EQ(disk.Remove("d/a").code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(disk.Open("../x", true, false, false).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(disk.Open("/abs", true, false, false).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(disk.Open("nodir/x", true, false, false).status().code(), absl::StatusCode::kNotFound);
}

// Property: for an append-only file whose name is durable, a crash leaves the last synced
// contents as a prefix, followed only by bytes that unsynced appends wrote (or zeros of a tear).
RC_GTEST_PROP(SimDiskProperty, CrashKeepsTheSyncedPrefixOfAnAppendOnlyFile,
              (uint64_t seed, std::vector<std::pair<bool, std::string>> steps)) {
  SimDisk disk;
  Random r(seed);
  auto f = disk.Open("log", true, true, false);
  RC_ASSERT(f.ok());
  RC_ASSERT(disk.SyncDir("").ok());
  std::string written, synced;
  for (const auto& [sync, bytes] : steps) {
    RC_ASSERT(disk.Append(**f, bytes, r).ok());
    written += bytes;
    if (sync) {
      RC_ASSERT(disk.Sync(**f, r).ok());
      synced = written;
    }
  }
  disk.ApplyCrash(r);
  auto g = disk.Open("log", false, false, false);
  RC_ASSERT(g.ok());
  const std::string after = *disk.Read(**g, 0, written.size() + 1, r);
  RC_ASSERT(after.size() >= synced.size());
  RC_ASSERT(after.substr(0, synced.size()) == synced);
  RC_ASSERT(after.size() <= written.size());
  for (size_t i = synced.size(); i < after.size(); ++i) {
    RC_ASSERT(after[i] == written[i] || after[i] == '\0');
  }
}

}  // namespace
}  // namespace cairn::sim

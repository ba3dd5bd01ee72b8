// SimDisk: one simulated node's disk, which outlives the node's crashes.
//
// It keeps two views: what the node currently sees, and what is durable. File data becomes
// durable on File::Sync; a created, renamed or removed name on SyncDir of its directory
// (namespace changes reach the durable view in the order they were made, like a journaling
// file system, so a rename is atomic across a crash). At a crash (ApplyCrash) every unsynced
// write is independently kept, lost, or torn at sector granularity, and a random prefix of the
// unsynced namespace changes survives. Faults (read errors, bit flips, failed fsyncs, a full
// disk, slowness) are injected per DiskFaults. A failed Sync settles the file's unsynced
// changes at once, as a crash would (Linux drops the dirty state on an fsync error). docs/simulation.md has the whole model.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <utility>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "src/base/random.h"
#include "src/base/time.h"

namespace cairn::sim {

struct DiskFaults {
  double read_error_probability = 0;    // a Read fails with an IO error
  double read_bitflip_probability = 0;  // a Read returns data with one bit flipped
  double sync_error_probability = 0;    // a Sync fails; unsynced state stays unknown
  double write_error_probability = 0;   // a Write/Append fails, nothing written
  double misdirected_write_probability = 0;  // a write silently lands 1-8 sectors off target
  double torn_write_probability = 0.3;  // at a crash: an unsynced write is torn (by sectors)
  double lost_write_probability = 0.3;  // at a crash: an unsynced write is lost entirely
  uint64_t capacity_bytes = 1ull << 40; // writes past this fail with ResourceExhausted
  Duration latency_min = std::chrono::microseconds(20);
  Duration latency_max = std::chrono::microseconds(200);
  Duration sync_latency_min = std::chrono::microseconds(500);
  Duration sync_latency_max = std::chrono::milliseconds(3);
};

struct DiskStats {
  uint64_t reads = 0, writes = 0, syncs = 0, dir_syncs = 0;
  uint64_t read_errors = 0, bitflips = 0, sync_errors = 0, write_errors = 0, full_errors = 0,
           misdirected_writes = 0, corrupted_at_rest = 0;
  uint64_t crash_writes_lost = 0, crash_writes_torn = 0, crash_writes_kept = 0;
  uint64_t crash_names_lost = 0;

  // Sums over disks (a run's replicas, a sweep's runs).
  DiskStats& operator+=(const DiskStats& o) {
    for (auto [mine, theirs] : {
             std::pair{&reads, o.reads}, {&writes, o.writes}, {&syncs, o.syncs},
             {&dir_syncs, o.dir_syncs}, {&read_errors, o.read_errors}, {&bitflips, o.bitflips},
             {&sync_errors, o.sync_errors}, {&write_errors, o.write_errors},
             {&full_errors, o.full_errors}, {&misdirected_writes, o.misdirected_writes},
             {&corrupted_at_rest, o.corrupted_at_rest}, {&crash_writes_lost, o.crash_writes_lost},
             {&crash_writes_torn, o.crash_writes_torn}, {&crash_writes_kept, o.crash_writes_kept},
             {&crash_names_lost, o.crash_names_lost}}) {
      *mine += theirs;
    }
    return *this;
  }
};

class SimDisk {
 public:
  static constexpr size_t kSectorBytes = 512;

  struct Inode {
    std::string data;     // what the node sees
    std::string durable;  // what survives a crash for sure
    struct Change {
      bool truncate = false;
      uint64_t offset = 0;  // write offset, or the new size for a truncate
      std::string bytes;
    };
    std::vector<Change> unsynced;
  };

  SimDisk() { dirs_.insert(""); durable_dirs_.insert(""); }

  DiskFaults& faults() { return faults_; }
  const DiskStats& stats() const { return stats_; }

  // Operations, applied at once (the simulated runtime adds latency around them). `random`
  // decides injected faults.
  absl::StatusOr<std::shared_ptr<Inode>> Open(const std::string& path, bool create,
                                              bool exclusive, bool truncate);
  absl::StatusOr<std::string> Read(Inode& inode, uint64_t offset, size_t length, Random& random);
  absl::Status Write(Inode& inode, uint64_t offset, std::string bytes, Random& random);
  absl::Status Append(Inode& inode, std::string bytes, Random& random);
  absl::Status Truncate(Inode& inode, uint64_t size);
  absl::Status Sync(Inode& inode, Random& random);
  absl::Status Rename(const std::string& from, const std::string& to);
  absl::Status Remove(const std::string& path);
  absl::StatusOr<std::vector<std::string>> List(const std::string& dir) const;
  absl::Status CreateDir(const std::string& dir);
  absl::Status SyncDir(const std::string& dir);

  // What a crash leaves behind: see the class comment.
  void ApplyCrash(Random& random);

  // Flips one bit of a file at rest, in both views (silent corruption of stored data).
  absl::Status CorruptAtRest(const std::string& path, uint64_t offset, int bit);

  uint64_t used_bytes() const;
  uint64_t FileSize(const std::string& path) const;  // 0 if there is no such file
  std::vector<std::string> AllFiles() const;  // every current file path, sorted

 private:
  struct NameChange {
    enum Kind { kLink, kUnlink, kMkdir, kRmdir } kind;
    std::string path;
    std::shared_ptr<Inode> inode;  // for kLink
  };
  static std::string Parent(const std::string& path);
  void SettleUnsynced(Inode& inode, Random& random);
  absl::Status CheckParent(const std::string& path) const;
  absl::Status Validate(const std::string& path) const;
  void ApplyToDurable(const NameChange& change);
  absl::Status Reserve(const Inode& inode, uint64_t end_offset);

  DiskFaults faults_;
  DiskStats stats_;
  std::map<std::string, std::shared_ptr<Inode>> files_;          // current view
  std::set<std::string> dirs_;
  std::map<std::string, std::shared_ptr<Inode>> durable_files_;  // durable view
  std::set<std::string> durable_dirs_;
  std::vector<NameChange> unsynced_names_;
};

}  // namespace cairn::sim

// RegisterLog: a replica's durable memory — an append-only file of checksummed records.
//
// Append returns only when the record is on disk (fsync), batching concurrent appends into one
// write and one fsync (group commit, at most demo_log_batch_records_max records per batch).
// Open first syncs the file (after a process crash the OS may still hold writes that never
// reached the disk; replaying and serving them would acknowledge what a power loss could
// still erase), then replays it, stopping at the first torn or corrupt record (what a crash
// in the middle of an append leaves, or corruption). If it must cut the file there, it first
// awaits `before_cut` (so the caller can durably note that records may be lost), then
// truncates and syncs, so later appends extend a clean prefix. Record frame: fixed32 payload length, fixed32 masked CRC-32C of the payload,
// payload (a serialized demo.Versioned).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "src/demo/register.pb.h"
#include "src/runtime/channel.h"
#include "src/runtime/runtime.h"
#include "src/runtime/task_group.h"

namespace cairn::demo {

class RegisterLog {
 public:
  struct Options {
    std::string dir = "register";
    // Canary: report an append durable before its fsync completes (a planted bug).
    bool ack_before_fsync = false;
    // Canary: replay records whose checksum does not match (a planted bug).
    bool ignore_checksum = false;
  };
  struct Recovery {
    uint64_t records = 0;
    uint64_t valid_bytes = 0;
    uint64_t discarded_bytes = 0;  // a torn or corrupt tail, cut off
  };

  using ApplyFn = std::function<void(const Versioned&)>;
  using BeforeCutFn = std::function<Task<absl::Status>()>;

  // Opens (creating if needed) and replays the log, calling `apply` for each valid record.
  static Task<absl::StatusOr<std::unique_ptr<RegisterLog>>> Open(Runtime& rt, Options options,
                                                                 ApplyFn apply,
                                                                 BeforeCutFn before_cut,
                                                                 Recovery* recovery);

  ~RegisterLog();

  // Completes once `record` is durable, or with the error that prevented it. After a failed
  // write or fsync the log refuses further appends: what reached the disk is unknown.
  Task<absl::Status> Append(Versioned record, Instant deadline);

  // False once a write or fsync failed.
  bool healthy() const { return broken_.ok(); }

  static std::string EncodeRecord(const Versioned& record);

 private:
  struct Pending {
    std::string frame;
    std::shared_ptr<Channel<absl::Status>> done;
  };
  RegisterLog(Runtime& rt, Options options, std::unique_ptr<File> file);
  Task<void> WriteLoop();

  Runtime& rt_;
  Options options_;
  std::unique_ptr<File> file_;
  std::vector<Pending> queue_;
  Channel<int> wake_;
  absl::Status broken_;
  TaskGroup writer_;  // last: the write loop dies before the state it uses
};

}  // namespace cairn::demo

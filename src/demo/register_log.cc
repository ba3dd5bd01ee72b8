#include "src/demo/register_log.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "src/base/coding.h"
#include "src/base/crc32c.h"
#include "src/base/status.h"

namespace cairn::demo {
namespace {
constexpr size_t kHeaderBytes = 8;
constexpr size_t kRecordBytesMax = 1 << 20;
constexpr size_t kReadChunkBytes = 16 << 10;  // small reads: each one may fail alone
}  // namespace

std::string RegisterLog::EncodeRecord(const Versioned& record) {
  std::string payload;
  CAIRN_CHECK(record.SerializeToString(&payload));
  CAIRN_CHECK(payload.size() <= kRecordBytesMax);
  std::string frame;
  PutFixed32(&frame, static_cast<uint32_t>(payload.size()));
  PutFixed32(&frame, crc32c::Mask(crc32c::Value(payload)));
  frame += payload;
  return frame;
}

RegisterLog::RegisterLog(Runtime& rt, Options options, std::unique_ptr<File> file)
    : rt_(rt),
      options_(std::move(options)),
      file_(std::move(file)),
      wake_(rt.executor(), 1),
      writer_(rt.executor()) {
  writer_.Spawn(WriteLoop());
}

RegisterLog::~RegisterLog() { writer_.CancelAll(); }

Task<absl::StatusOr<std::unique_ptr<RegisterLog>>> RegisterLog::Open(Runtime& rt,
                                                                      Options options,
                                                                      ApplyFn apply,
                                                                      BeforeCutFn before_cut,
                                                                      Recovery* recovery) {
  Disk& disk = rt.disk();
  CO_RETURN_IF_ERROR(co_await disk.CreateDir(options.dir));
  CO_RETURN_IF_ERROR(co_await disk.SyncDir(""));
  const std::string path = options.dir + "/log";
  OpenOptions open_options;
  open_options.create = true;
  CO_ASSIGN_OR_RETURN(std::unique_ptr<File> file, co_await disk.Open(path, open_options));
  // The name must survive a crash before any record is acknowledged, and so must every byte
  // replayed below: what a crashed process wrote may still be only in the OS's cache.
  CO_RETURN_IF_ERROR(co_await disk.SyncDir(options.dir));
  CO_RETURN_IF_ERROR(co_await file->Sync());

  std::string contents;
  while (true) {
    CO_ASSIGN_OR_RETURN(std::string chunk, co_await file->Read(contents.size(), kReadChunkBytes));
    if (chunk.empty()) break;
    contents += chunk;
  }
  Recovery result;
  size_t pos = 0;
  while (contents.size() - pos >= kHeaderBytes) {
    const uint32_t length = DecodeFixed32(contents.data() + pos);
    const uint32_t crc = crc32c::Unmask(DecodeFixed32(contents.data() + pos + 4));
    if (length > kRecordBytesMax || contents.size() - pos - kHeaderBytes < length) break;
    std::string_view payload(contents.data() + pos + kHeaderBytes, length);
    if (crc32c::Value(payload) != crc && !options.ignore_checksum) break;
    Versioned record;
    if (!record.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) break;
    apply(record);
    ++result.records;
    pos += kHeaderBytes + length;
  }
  result.valid_bytes = pos;
  CAIRN_SOMETIMES(rt, contents.size() > pos, "log.recovery-cut-torn-or-corrupt-tail");
  result.discarded_bytes = contents.size() - pos;
  if (result.discarded_bytes > 0) {
    if (before_cut) CO_RETURN_IF_ERROR(co_await before_cut());
    CO_RETURN_IF_ERROR(co_await file->Truncate(pos));
    CO_RETURN_IF_ERROR(co_await file->Sync());
  }
  if (recovery != nullptr) *recovery = result;
  co_return std::unique_ptr<RegisterLog>(new RegisterLog(rt, std::move(options), std::move(file)));
}

Task<absl::Status> RegisterLog::Append(Versioned record, Instant deadline) {
  if (!broken_.ok()) co_return broken_;
  auto done = std::make_shared<Channel<absl::Status>>(rt_.executor(), 1);
  queue_.push_back(Pending{EncodeRecord(record), done});
  (void)wake_.TrySend(0);  // a full wake channel already means "look again"
  absl::StatusOr<absl::Status> result = co_await done->Receive(deadline);
  if (!result.ok()) co_return result.status();
  co_return *result;
}

Task<void> RegisterLog::WriteLoop() {
  while (true) {
    (void)co_await wake_.Receive(rt_.DeadlineAfter(std::chrono::seconds(1)));
    while (!queue_.empty()) {
      size_t batch_size =
          std::min(queue_.size(), static_cast<size_t>(std::max<int64_t>(1, rt_.knobs().demo_log_batch_records_max)));
      // Fault point: one record per fsync, the batching path's rare extreme.
      if (CAIRN_BUGGIFY(rt_)) batch_size = 1;
      CAIRN_SOMETIMES(rt_, batch_size > 1, "log.group-commit-batched");
      std::vector<Pending> batch(std::make_move_iterator(queue_.begin()),
                                 std::make_move_iterator(queue_.begin() + static_cast<ptrdiff_t>(batch_size)));
      queue_.erase(queue_.begin(), queue_.begin() + static_cast<ptrdiff_t>(batch_size));
      std::string bytes;
      for (const Pending& p : batch) bytes += p.frame;
      absl::Status status = broken_;
      if (status.ok()) status = co_await file_->Append(std::move(bytes));
      if (status.ok() && options_.ack_before_fsync) {
        for (Pending& p : batch) (void)p.done->TrySend(absl::OkStatus());
      }
      // Fault point: a long gap between write and fsync widens the window a crash can hit.
      if (status.ok() && CAIRN_BUGGIFY(rt_)) co_await rt_.Sleep(std::chrono::milliseconds(20));
      if (status.ok()) status = co_await file_->Sync();
      if (!status.ok() && broken_.ok()) {
        broken_ = absl::Status(status.code(), absl::StrCat("log is broken: ", status.message()));
        rt_.Log(absl::StrCat("register log: ", broken_.message()));
      }
      for (Pending& p : batch) (void)p.done->TrySend(status);
    }
  }
}

}  // namespace cairn::demo

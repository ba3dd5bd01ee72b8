// Journal: the write-ahead log a shard's engine writes through.
//
// A journal is an ordered sequence of records, each at a position. The engine appends one
// record per write batch and uses its position as the batch's commit version, so positions
// start at 1 and rise by one per record. An Append returns only once the record is durable (on
// the local disk, or on a majority of replicas for the Raft journal); after a failed Append
// the record may or may not be in the journal, and the caller must treat the write as
// indeterminate. Records are read back in order from any position at or after start(), which
// Trim moves up once their contents live in SSTables.
//
// Implementations: LocalJournal (segments on the node's Disk) and JournalClient (a Raft-
// replicated stream over the network, src/journal). Both are used only from their node's executor.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "src/runtime/task.h"
#include "src/storage/log_record.h"

namespace cairn::lsm {

using JournalRecord = storage::LogRecord;

class Journal {
 public:
  virtual ~Journal() = default;

  // Appends `payload` as the next record and returns its position once it is durable.
  // An append that begins after another completed gets a later position; concurrent appends
  // may get their positions, and complete, in any order (the simulator shuffles wakeups, the
  // network reorders retries), so a caller that applies records in position order must hold
  // back a later one until the earlier ones are in.
  virtual Task<absl::StatusOr<uint64_t>> Append(std::string payload) = 0;

  // Records from position `from` (>= start()) in order: at least one if any exists, and no
  // more than about `max_bytes` of payload. Empty at the end of the journal.
  virtual Task<absl::StatusOr<std::vector<JournalRecord>>> Read(uint64_t from, size_t max_bytes) = 0;

  // Allows the journal to drop records before position `upto`. Trimming is lazy (a local
  // journal drops whole segments), so start() may stay below `upto`.
  virtual Task<absl::Status> Trim(uint64_t upto) = 0;

  // The first position that can be read, and the position the next Append will get.
  virtual uint64_t start() const = 0;
  virtual uint64_t next_position() const = 0;
};

}  // namespace cairn::lsm

// Knobs: every tunable of Cairn, in one list, with its production default and the range the
// simulator may randomize it within (per seed, FoundationDB-style), so that tests do not only
// ever see the defaults. Units are in the names. To add one: a line in CAIRN_KNOBS.
// `cairn ... --knob name=value` sets one from the command line.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"

namespace cairn {

class Random;

//        name                             default     sim min  sim max   help
#define CAIRN_KNOBS(X)                                                                          \
  X(rpc_attempts_max,                      3,          1,       6,        "sends of one RPC before it fails")          \
  X(rpc_attempt_timeout_ms,                200,        20,      500,      "wait for a reply to one send of an RPC")     \
  X(rpc_backoff_initial_ms,                10,         1,       50,       "backoff before the second send of an RPC")   \
  X(rpc_backoff_max_ms,                    200,        10,      500,      "cap of the doubling RPC backoff")            \
  X(rpc_inflight_calls_max,                4096,       64,      4096,     "outstanding outgoing RPCs per node")         \
  X(rpc_handlers_max,                      1024,       16,      1024,     "concurrent incoming RPC handlers per node")  \
  X(net_inbox_messages_max,                8192,       256,     8192,     "queued incoming messages per node")          \
  X(net_message_bytes_max,                 16 << 20,   16 << 20, 16 << 20, "largest message a node sends or accepts") \
  X(net_send_queue_bytes_max,              64 << 20,   64 << 20, 64 << 20, "bytes queued to one unreachable peer")    \
  X(net_reconnect_backoff_ms_max,          1000,       10,      1000,     "cap of the TCP reconnect backoff")           \
  X(demo_log_batch_records_max,            64,         1,       128,      "demo register: records per log fsync")       \
  X(demo_lease_ms,                         1000,       50,      3000,     "demo register: read lease length")           \
  X(demo_clock_drift_ppm_max,              50000,      50000,   50000,    "demo register: clock rate error leases allow for") \
  X(demo_store_window_ms,                  1000,       1000,    1000,     "demo register: longest a client waits for Store replies; a repair waits it out") \
  X(disk_io_threads,                       2,          1,       4,        "real runtime: threads for blocking disk IO (0: inline on the loop thread)") \
  X(log_segment_bytes_max,                 16 << 20,   4 << 10, 256 << 10, "segmented logs: a segment closes at this size") \
  X(log_group_commit_bytes_max,            4 << 20,    1 << 10, 4 << 20,  "segmented logs: record bytes in one write and fsync") \
  X(sst_macroblock_bytes_log2,             21,         16,      21,       "SSTables: log2 of the macroblock size")      \
  X(sst_microblock_bytes,                  16 << 10,   4 << 10, 16 << 10, "SSTables: microblock size before compression") \
  X(sst_restart_interval,                  16,         1,       32,       "SSTables: rows between whole keys in a microblock") \
  X(sst_bloom_bits_per_key,                10,         0,       16,       "SSTables: bloom filter bits per key (0: none)") \
  X(lsm_memtable_bytes,                    8 << 20,    2 << 10, 64 << 10, "engine: a memtable is frozen at this size")  \
  X(lsm_frozen_memtables_max,              2,          1,       4,        "engine: frozen memtables before writes wait") \
  X(lsm_minis_max,                         4,          1,       8,        "engine: more minis than this merge into one") \
  X(lsm_minor_trigger_bytes,               64 << 20,   8 << 10, 256 << 10, "engine: minis past this merge into the minor") \
  X(lsm_background_attempts_max,           5,          2,       8,        "engine: tries of a flush or compaction before writes stop") \
  X(raft_election_ticks,                   10,         5,       20,       "journal: ticks without a leader before a campaign") \
  X(raft_heartbeat_ticks,                  1,          1,       3,        "journal: ticks between a leader's heartbeats") \
  X(raft_entries_per_append_max,           64,         1,       64,       "journal: entries in one AppendEntries")      \
  X(raft_bytes_per_append_max,             1 << 20,    4 << 10, 1 << 20,  "journal: entry bytes in one AppendEntries")  \
  X(raft_inflight_appends_max,             16,         1,       16,       "journal: unanswered appends per follower")   \
  X(nodelog_segments_soft_max,             4,          1,       8,        "journal: node-log segments before the cleaner starts") \
  X(nodelog_copy_record_bytes_max,         4 << 20,    16 << 10, 4 << 20, "journal: entry bytes in one copy-forward record") \
  X(dfs_chunk_bytes,                       2 << 20,    4 << 10, 64 << 10, "dfs: a writer cuts files into chunks of this size") \
  X(dfs_heartbeat_ms,                      1000,       100,     1000,     "dfs: a file server's report to the master") \
  X(dfs_scrub_interval_ms,                 200,        20,      500,      "dfs: a file server re-reads one chunk this often") \
  X(dfs_suspect_after_ms,                  3000,       1000,    3000,     "dfs: a silent server gets no new chunks after this") \
  X(dfs_dead_after_ms,                     8000,       3000,    6000,     "dfs: a silent server's copies stop counting after this") \
  X(dfs_repair_interval_ms,                500,        50,      1000,     "dfs: the master looks for chunks short of copies this often") \
  X(dfs_copies_inflight_max,               8,          1,       16,       "dfs: repair copies the master runs at once") \
  X(log_preallocate_bytes,                 1 << 20,    -(64 << 10), 64 << 10, "segmented logs: zeros written ahead of the records (0 or less: none; the simulator's half of seeds)") \
  X(dfs_master_takeover_ms,                3000,       600,     2000,     "dfs: a standby master candidate fences once the master's stream is still this long (the master ticks at a third of it)") \
  X(dfs_hot_reads_per_s,                   200,        2,       12,       "dfs: a chunk read this often (per second, smoothed) gets extra copies until it cools to half") \
  X(dfs_hot_extra_copies,                  2,          1,       2,        "dfs: copies a hot chunk gets beyond its file's replication") \
  X(dfs_master_checkpoint_records,         50000,      8,       200,      "dfs: the master checkpoints its namespace into its stream, and trims it, after this many records")

struct Knobs {
#define CAIRN_KNOB_FIELD(name, def, lo, hi, help) int64_t name = def;
  CAIRN_KNOBS(CAIRN_KNOB_FIELD)
#undef CAIRN_KNOB_FIELD

  // Sets one knob from text: "name=value" parts. InvalidArgument names the bad part.
  absl::Status Set(std::string_view name, std::string_view value);
  absl::Status SetAssignment(std::string_view name_equals_value);

  // Draws every knob uniformly within its simulation range.
  void Randomize(Random& random);

  // "name=value" for every knob that differs from its default, space-separated; with
  // `prefixes`, only the knobs whose names start with one of them ("raft_", "rpc_").
  std::string DescribeChanges(const std::vector<std::string>& prefixes = {}) const;
  // Every knob with default, range and help, one per line (for --help texts).
  static std::string DescribeAll();
};

}  // namespace cairn

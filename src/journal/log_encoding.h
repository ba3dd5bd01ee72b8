// The encodings of what a journal node persists for its streams: Raft entries (in the node log,
// src/journal/node_log.h) and log starts (there, and in each stream's STATE). Decoders check
// every field they read; a payload that does not parse is DataLoss (or false), never a crash.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "src/base/varint.h"
#include "src/journal/raft.h"

namespace cairn::journal {

std::string EncodeEntry(const Entry& e);
absl::StatusOr<Entry> DecodeEntry(uint64_t index, std::string_view bytes);

void PutStart(std::string* out, const LogStart& s);
// False when the bytes do not hold a valid start.
bool ReadStart(ByteReader& r, LogStart* s);

}  // namespace cairn::journal

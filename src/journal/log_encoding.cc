#include "src/journal/log_encoding.h"

#include <vector>

#include "absl/strings/str_cat.h"

namespace cairn::journal {
namespace {

constexpr uint64_t kStartRetriesMax = 1u << 20;

constexpr char kEntryTag = 'E';
constexpr size_t kMembersMax = 1000;

void PutMembers(std::string* out, const std::vector<NodeId>& members) {
  PutVarint64(out, members.size());
  for (NodeId n : members) PutVarint64(out, n);
}

bool ReadMembers(ByteReader& r, std::vector<NodeId>* members) {
  const uint64_t count = r.Varint64();
  if (!r.ok() || count > kMembersMax) return false;
  members->clear();
  for (uint64_t i = 0; i < count; ++i) members->push_back(static_cast<NodeId>(r.Varint64()));
  return r.ok();
}

}  // namespace

void PutStart(std::string* out, const LogStart& s) {
  PutVarint64(out, s.first_index);
  PutVarint64(out, s.first_prev_term);
  PutMembers(out, s.members);
  PutVarint64(out, s.epoch);
  PutVarint64(out, s.first_position);
  PutVarint64(out, s.retries.size());
  for (const auto& [index, position] : s.retries) {
    PutVarint64(out, index);
    PutVarint64(out, position);
  }
}

bool ReadStart(ByteReader& r, LogStart* s) {
  s->first_index = r.Varint64();
  s->first_prev_term = r.Varint64();
  if (!ReadMembers(r, &s->members)) return false;
  s->epoch = r.Varint64();
  s->first_position = r.Varint64();
  const uint64_t retries = r.Varint64();
  if (!r.ok() || retries > kStartRetriesMax) return false;
  s->retries.clear();
  for (uint64_t i = 0; i < retries && r.ok(); ++i) {
    const uint64_t index = r.Varint64();
    const uint64_t position = r.Varint64();
    if (index < s->first_index || position == 0 || position >= s->first_position) return false;
    s->retries[index] = position;
  }
  return r.ok() && s->first_index >= 1 && s->first_position >= 1;
}

std::string EncodeEntry(const Entry& e) {
  std::string out(1, kEntryTag);
  PutVarint64(&out, e.term);
  PutVarint64(&out, static_cast<uint64_t>(e.kind));
  PutVarint64(&out, e.epoch);
  PutMembers(&out, e.members);
  PutLengthPrefixed(&out, e.payload);
  PutVarint64(&out, e.client);
  PutVarint64(&out, e.seq);
  PutVarint64(&out, e.position);
  return out;
}

absl::StatusOr<Entry> DecodeEntry(uint64_t index, std::string_view bytes) {
  ByteReader r(bytes);
  Entry e;
  e.index = index;
  const uint8_t tag = r.Byte();
  e.term = r.Varint64();
  const uint64_t kind = r.Varint64();
  e.epoch = r.Varint64();
  const bool members_ok = ReadMembers(r, &e.members);
  e.payload.assign(r.LengthPrefixed());
  e.client = r.Varint64();
  e.seq = r.Varint64();
  e.position = r.Varint64();
  if (!r.ok() || !members_ok || tag != kEntryTag || kind > static_cast<uint64_t>(EntryKind::kTrim) ||
      r.remaining() != 0) {
    return absl::DataLossError(absl::StrCat("raft log: entry ", index, " is malformed"));
  }
  e.kind = static_cast<EntryKind>(kind);
  return e;
}

}  // namespace cairn::journal

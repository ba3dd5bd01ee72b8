#include "sim/core/sim_disk.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "src/base/check.h"

namespace cairn::sim {

std::string SimDisk::Parent(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? "" : path.substr(0, slash);
}

absl::Status SimDisk::Validate(const std::string& path) const {
  if (path.empty() || path.front() == '/' || path.back() == '/' ||
      absl::StrContains(path, "//") || path == ".." || absl::StartsWith(path, "../") ||
      absl::StrContains(path, "/../") || absl::EndsWith(path, "/..")) {
    return absl::InvalidArgumentError(absl::StrCat("bad path '", path, "'"));
  }
  return absl::OkStatus();
}

absl::Status SimDisk::CheckParent(const std::string& path) const {
  if (!dirs_.contains(Parent(path))) {
    return absl::NotFoundError(absl::StrCat("no directory '", Parent(path), "' for '", path, "'"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<SimDisk::Inode>> SimDisk::Open(const std::string& path,
                                                              bool create, bool exclusive,
                                                              bool truncate) {
  if (absl::Status s = Validate(path); !s.ok()) return s;
  if (dirs_.contains(path)) return absl::FailedPreconditionError(absl::StrCat(path, " is a directory"));
  auto it = files_.find(path);
  if (it == files_.end()) {
    if (!create) return absl::NotFoundError(absl::StrCat("no file '", path, "'"));
    if (absl::Status s = CheckParent(path); !s.ok()) return s;
    auto inode = std::make_shared<Inode>();
    files_[path] = inode;
    unsynced_names_.push_back(NameChange{NameChange::kLink, path, inode});
    return inode;
  }
  if (create && exclusive) return absl::AlreadyExistsError(absl::StrCat("'", path, "' exists"));
  if (truncate) CAIRN_CHECK_OK(Truncate(*it->second, 0));
  return it->second;
}

absl::StatusOr<std::string> SimDisk::Read(Inode& inode, uint64_t offset, size_t length,
                                          Random& random) {
  ++stats_.reads;
  if (random.Chance(faults_.read_error_probability)) {
    ++stats_.read_errors;
    return absl::DataLossError("simulated read error (EIO)");
  }
  if (offset >= inode.data.size()) return std::string();
  std::string out = inode.data.substr(offset, length);
  if (!out.empty() && random.Chance(faults_.read_bitflip_probability)) {
    ++stats_.bitflips;
    const uint64_t bit = random.Uniform(out.size() * 8);
    out[bit / 8] = static_cast<char>(out[bit / 8] ^ (1 << (bit % 8)));
  }
  return out;
}

absl::Status SimDisk::Reserve(const Inode& inode, uint64_t end_offset) {
  const uint64_t growth = end_offset > inode.data.size() ? end_offset - inode.data.size() : 0;
  if (growth > 0 && used_bytes() + growth > faults_.capacity_bytes) {
    ++stats_.full_errors;
    return absl::ResourceExhaustedError("simulated disk full (ENOSPC)");
  }
  return absl::OkStatus();
}

absl::Status SimDisk::Write(Inode& inode, uint64_t offset, std::string bytes, Random& random) {
  ++stats_.writes;
  if (random.Chance(faults_.write_error_probability)) {
    ++stats_.write_errors;
    return absl::DataLossError("simulated write error (EIO)");
  }
  if (random.Chance(faults_.misdirected_write_probability)) {
    // The device reports success, but the data went elsewhere in the file.
    ++stats_.misdirected_writes;
    const int64_t shift = random.UniformRange(1, 8) * static_cast<int64_t>(kSectorBytes);
    offset = random.Chance(0.5) || offset < static_cast<uint64_t>(shift) ? offset + static_cast<uint64_t>(shift)
                                                                       : offset - static_cast<uint64_t>(shift);
  }
  if (absl::Status s = Reserve(inode, offset + bytes.size()); !s.ok()) return s;
  if (inode.data.size() < offset + bytes.size()) inode.data.resize(offset + bytes.size(), '\0');
  std::copy(bytes.begin(), bytes.end(), inode.data.begin() + static_cast<ptrdiff_t>(offset));
  inode.unsynced.push_back(Inode::Change{false, offset, std::move(bytes)});
  return absl::OkStatus();
}

absl::Status SimDisk::Append(Inode& inode, std::string bytes, Random& random) {
  return Write(inode, inode.data.size(), std::move(bytes), random);
}

absl::Status SimDisk::Truncate(Inode& inode, uint64_t size) {
  if (absl::Status s = Reserve(inode, size); !s.ok()) return s;
  inode.data.resize(size, '\0');
  inode.unsynced.push_back(Inode::Change{true, size, {}});
  return absl::OkStatus();
}

absl::Status SimDisk::Sync(Inode& inode, Random& random) {
  ++stats_.syncs;
  if (random.Chance(faults_.sync_error_probability)) {
    // As on Linux: the error is reported once, and what reached the device is unknown. Some
    // of the unsynced changes made it, some did not (or were torn), and the kernel no longer
    // holds the rest as dirty, so no later fsync will write them: settle them now.
    ++stats_.sync_errors;
    SettleUnsynced(inode, random);
    return absl::DataLossError("simulated fsync failure (EIO)");
  }
  inode.durable = inode.data;
  inode.unsynced.clear();
  return absl::OkStatus();
}

absl::Status SimDisk::Rename(const std::string& from, const std::string& to) {
  if (absl::Status s = Validate(from); !s.ok()) return s;
  if (absl::Status s = Validate(to); !s.ok()) return s;
  auto it = files_.find(from);
  if (it == files_.end()) return absl::NotFoundError(absl::StrCat("no file '", from, "'"));
  if (from == to) return absl::OkStatus();  // POSIX: renaming a file to itself does nothing
  if (absl::Status s = CheckParent(to); !s.ok()) return s;
  if (dirs_.contains(to)) return absl::FailedPreconditionError(absl::StrCat(to, " is a directory"));
  std::shared_ptr<Inode> inode = it->second;
  files_.erase(it);
  files_[to] = inode;
  // Link the new name before unlinking the old one: any crash prefix keeps one of them.
  unsynced_names_.push_back(NameChange{NameChange::kLink, to, inode});
  unsynced_names_.push_back(NameChange{NameChange::kUnlink, from, nullptr});
  return absl::OkStatus();
}

absl::Status SimDisk::Remove(const std::string& path) {
  if (absl::Status s = Validate(path); !s.ok()) return s;
  if (files_.erase(path) == 1) {
    unsynced_names_.push_back(NameChange{NameChange::kUnlink, path, nullptr});
    return absl::OkStatus();
  }
  if (dirs_.contains(path)) {
    const std::string prefix = path + "/";
    for (const auto& [name, inode] : files_) {
      if (absl::StartsWith(name, prefix)) return absl::FailedPreconditionError(absl::StrCat(path, " is not empty"));
    }
    for (const std::string& d : dirs_) {
      if (absl::StartsWith(d, prefix)) return absl::FailedPreconditionError(absl::StrCat(path, " is not empty"));
    }
    dirs_.erase(path);
    unsynced_names_.push_back(NameChange{NameChange::kRmdir, path, nullptr});
    return absl::OkStatus();
  }
  return absl::NotFoundError(absl::StrCat("no file '", path, "'"));
}

absl::StatusOr<std::vector<std::string>> SimDisk::List(const std::string& dir) const {
  if (!dirs_.contains(dir)) return absl::NotFoundError(absl::StrCat("no directory '", dir, "'"));
  std::vector<std::string> names;
  auto add = [&](const std::string& path) {
    if (path.empty() || Parent(path) != dir) return;
    names.push_back(dir.empty() ? path : path.substr(dir.size() + 1));
  };
  for (const auto& [path, inode] : files_) add(path);
  for (const std::string& d : dirs_) add(d);
  std::sort(names.begin(), names.end());
  return names;
}

absl::Status SimDisk::CreateDir(const std::string& dir) {
  if (absl::Status s = Validate(dir); !s.ok()) return s;
  if (dirs_.contains(dir)) return absl::OkStatus();
  if (files_.contains(dir)) return absl::AlreadyExistsError(absl::StrCat(dir, " is a file"));
  if (absl::Status s = CheckParent(dir); !s.ok()) return s;
  dirs_.insert(dir);
  unsynced_names_.push_back(NameChange{NameChange::kMkdir, dir, nullptr});
  return absl::OkStatus();
}

void SimDisk::ApplyToDurable(const NameChange& change) {
  switch (change.kind) {
    case NameChange::kLink: durable_files_[change.path] = change.inode; break;
    case NameChange::kUnlink: durable_files_.erase(change.path); break;
    case NameChange::kMkdir: durable_dirs_.insert(change.path); break;
    case NameChange::kRmdir: durable_dirs_.erase(change.path); break;
  }
}

absl::Status SimDisk::SyncDir(const std::string& dir) {
  ++stats_.dir_syncs;
  if (!dirs_.contains(dir)) return absl::NotFoundError(absl::StrCat("no directory '", dir, "'"));
  // Namespace changes reach the durable view in order: syncing one directory commits every
  // change up to the last one that touched it.
  size_t last = 0;
  for (size_t i = 0; i < unsynced_names_.size(); ++i) {
    if (Parent(unsynced_names_[i].path) == dir) last = i + 1;
  }
  for (size_t i = 0; i < last; ++i) ApplyToDurable(unsynced_names_[i]);
  unsynced_names_.erase(unsynced_names_.begin(), unsynced_names_.begin() + static_cast<ptrdiff_t>(last));
  return absl::OkStatus();
}

void SimDisk::SettleUnsynced(Inode& inode, Random& random) {
  // Each unsynced change is kept, lost, or torn by sectors.
  std::string result = inode.durable;
  for (const Inode::Change& change : inode.unsynced) {
    const double roll = random.UniformDouble();
    if (change.truncate) {
      if (roll >= faults_.lost_write_probability) result.resize(change.offset, '\0');
      continue;
    }
    if (roll < faults_.lost_write_probability) {
      ++stats_.crash_writes_lost;
      continue;
    }
    const bool torn = roll < faults_.lost_write_probability + faults_.torn_write_probability;
    if (torn) ++stats_.crash_writes_torn; else ++stats_.crash_writes_kept;
    for (uint64_t pos = change.offset; pos < change.offset + change.bytes.size();) {
      const uint64_t sector_end = (pos / kSectorBytes + 1) * kSectorBytes;
      const uint64_t end = std::min<uint64_t>(sector_end, change.offset + change.bytes.size());
      if (!torn || random.Chance(0.5)) {
        if (result.size() < end) result.resize(end, '\0');
        std::copy(change.bytes.begin() + static_cast<ptrdiff_t>(pos - change.offset),
                  change.bytes.begin() + static_cast<ptrdiff_t>(end - change.offset),
                  result.begin() + static_cast<ptrdiff_t>(pos));
      }
      pos = end;
    }
  }
  inode.durable = result;
  inode.data = std::move(result);
  inode.unsynced.clear();
}

void SimDisk::ApplyCrash(Random& random) {
  // Names: a random prefix of the unsynced changes made it to the journal.
  const size_t kept = random.Uniform(unsynced_names_.size() + 1);
  for (size_t i = 0; i < kept; ++i) ApplyToDurable(unsynced_names_[i]);
  stats_.crash_names_lost += unsynced_names_.size() - kept;
  unsynced_names_.clear();

  // Data: every inode, reachable or not, settles to durable + a random part of its unsynced
  // changes.
  std::set<Inode*> seen;
  auto settle = [&](const std::shared_ptr<Inode>& inode) {
    if (seen.insert(inode.get()).second) SettleUnsynced(*inode, random);
  };
  for (const auto& [path, inode] : files_) settle(inode);
  for (const auto& [path, inode] : durable_files_) settle(inode);
  files_ = durable_files_;
  dirs_ = durable_dirs_;
}

absl::Status SimDisk::CorruptAtRest(const std::string& path, uint64_t offset, int bit) {
  auto it = files_.find(path);
  if (it == files_.end()) return absl::NotFoundError(path);
  Inode& inode = *it->second;
  if (offset >= inode.data.size()) return absl::OutOfRangeError("offset past end of file");
  ++stats_.corrupted_at_rest;
  inode.data[offset] = static_cast<char>(inode.data[offset] ^ (1 << bit));
  if (offset < inode.durable.size()) {
    inode.durable[offset] = static_cast<char>(inode.durable[offset] ^ (1 << bit));
  }
  return absl::OkStatus();
}

uint64_t SimDisk::used_bytes() const {
  uint64_t total = 0;
  for (const auto& [path, inode] : files_) total += inode->data.size();
  return total;
}

uint64_t SimDisk::FileSize(const std::string& path) const {
  auto it = files_.find(path);
  return it == files_.end() ? 0 : it->second->data.size();
}

std::vector<std::string> SimDisk::AllFiles() const {
  std::vector<std::string> out;
  for (const auto& [path, inode] : files_) out.push_back(path);
  return out;
}

}  // namespace cairn::sim

#include "src/runtime/buggify.h"

#include "absl/strings/str_cat.h"
#include "src/base/hash.h"
#include "src/base/random.h"

namespace cairn {

Buggify::Buggify(uint64_t run_seed, Random* random, BuggifyStats* stats,
                 double site_enable_probability, double fire_probability)
    : run_seed_(run_seed),
      random_(random),
      stats_(stats),
      site_enable_probability_(site_enable_probability),
      fire_probability_(fire_probability) {}

bool Buggify::Decide(std::source_location where) {
  std::string site = absl::StrCat(where.file_name(), ":", where.line());
  // The site's switch depends on the seed and the site only.
  const uint64_t h = HashCombine(run_seed_, HashBytes(site));
  const bool site_enabled =
      static_cast<double>(h >> 11) * 0x1.0p-53 < site_enable_probability_;
  BuggifyStats::Site* stats = nullptr;
  if (stats_ != nullptr) {
    stats = &stats_->sites[site];
    stats->enabled = site_enabled;
    ++stats->reached;
  }
  if (!site_enabled || !random_->Chance(fire_probability_)) return false;
  if (stats != nullptr) ++stats->fired;
  return true;
}

}  // namespace cairn

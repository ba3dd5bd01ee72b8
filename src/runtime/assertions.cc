#include "src/runtime/assertions.h"

namespace cairn {
namespace {
std::vector<AssertionSite>& Catalog() {
  static std::vector<AssertionSite>* sites = new std::vector<AssertionSite>();
  return *sites;
}
}  // namespace

const std::vector<AssertionSite>& DeclaredAssertions() { return Catalog(); }

bool detail::DeclareAssertion(bool always, const char* name, const char* file, int line) {
  Catalog().push_back(AssertionSite{always, name, file, line});
  return true;
}

}  // namespace cairn

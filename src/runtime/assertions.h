// Always and Sometimes: properties stated where they hold, checked by the simulator.
//
//   CAIRN_ALWAYS(rt, condition, "name")     must hold every time it is reached
//   CAIRN_SOMETIMES(rt, condition, "name")  must hold at least once in a sweep: a coverage
//                                           probe that proves a rare path really runs
//
// In simulation every site's counts go into the run's results; an Always that fails is a
// failed check, and a sweep lists every Sometimes that never held, including sites never
// reached at all (each site is declared in a catalog at program start, whether or not it
// runs). In a real process an Always that fails is logged, and Sometimes costs a call.
// Names are stable identifiers ("replica.repair-completed"); they are what reports show.
#pragma once

#include <algorithm>
#include <cstddef>
#include <source_location>
#include <string_view>
#include <vector>

namespace cairn {

class Assertions {
 public:
  virtual ~Assertions() = default;
  virtual void Always(bool holds, std::string_view name, std::source_location where) = 0;
  virtual void Sometimes(bool holds, std::string_view name, std::source_location where) = 0;
};

// Counts nothing and says nothing.
class NullAssertions final : public Assertions {
 public:
  void Always(bool, std::string_view, std::source_location) override {}
  void Sometimes(bool, std::string_view, std::source_location) override {}
};

struct AssertionSite {
  bool always = false;
  const char* name = "";
  const char* file = "";
  int line = 0;
};

// Every site in the program, declared before main runs.
const std::vector<AssertionSite>& DeclaredAssertions();

namespace detail {
bool DeclareAssertion(bool always, const char* name, const char* file, int line);

template <size_t N>
struct FixedString {
  char value[N];
  constexpr FixedString(const char (&s)[N]) { std::copy_n(s, N, value); }
};

// One instantiation per site; its static member's initializer runs at program start.
template <bool kAlways, FixedString kName, FixedString kFile, int kLine>
struct AssertionDeclaration {
  static inline const bool declared = DeclareAssertion(kAlways, kName.value, kFile.value, kLine);
};
}  // namespace detail

}  // namespace cairn

#define CAIRN_ALWAYS(rt, condition, name)                                                    \
  ((void)::cairn::detail::AssertionDeclaration<true, name, __FILE__, __LINE__>::declared,   \
   (rt).assertions().Always(static_cast<bool>(condition), name, std::source_location::current()))

#define CAIRN_SOMETIMES(rt, condition, name)                                                 \
  ((void)::cairn::detail::AssertionDeclaration<false, name, __FILE__, __LINE__>::declared,  \
   (rt).assertions().Sometimes(static_cast<bool>(condition), name, std::source_location::current()))

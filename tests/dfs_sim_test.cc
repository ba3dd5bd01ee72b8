// The file system in the simulator: the `dfs` workload (a master over a journal stream, four
// file servers, clients and an auditor; docs/dfs.md) under the whole fault model. Every read
// returns exactly what was written, no acknowledged file is lost, every chunk is back at R
// healthy copies after the heal; and the sweep really exercises repair, garbage collection and
// damage detection. The engine on the DFS (`engine-dfs`): no acknowledged write lost, and a
// major compaction sends none of the macroblocks it reuses.
#include <cstdio>

#include "gtest/gtest.h"
#include "sim/harness/simulation.h"

namespace cairn {
namespace {

constexpr uint64_t kSweepSeeds = 40;

uint64_t FigureOf(const sim::RunResult& r, const std::string& name) {
  for (const sim::Figure& f : r.figures) {
    if (f.name == name) return f.value;
  }
  ADD_FAILURE() << "no figure " << name;
  return 0;
}

TEST(DfsSweep, ReadsAreExactAndFilesSurviveAndAreReprotected) {
  uint64_t written = 0, audited = 0, copied = 0, garbage = 0, damaged = 0, terms = 0, hot = 0, cooled = 0,
           extras = 0, shed = 0;
  for (uint64_t seed = 1; seed <= kSweepSeeds; ++seed) {
    sim::Scenario s = *sim::ScenarioFor("dfs");
    s.seed = seed;
    sim::RunResult r = sim::RunScenario(s);
    EXPECT_TRUE(r.passed()) << sim::FormatSummary(s, r, 0, *sim::ScenarioFor("dfs"));
    written += FigureOf(r, "files written");
    audited += FigureOf(r, "files audited");
    copied += FigureOf(r, "chunks copied by repair");
    garbage += FigureOf(r, "garbage chunks removed");
    damaged += FigureOf(r, "damaged copies found");
    terms += FigureOf(r, "master terms");
    hot += FigureOf(r, "chunks turned hot");
    cooled += FigureOf(r, "hot chunks cooled");
    extras += FigureOf(r, "hot extra copies ordered");
    shed += FigureOf(r, "surplus copies shed");
  }
  std::printf("dfs sweep: %llu chunks turned hot, %llu cooled, %llu extra copies ordered, %llu surplus copies shed\n",
              static_cast<unsigned long long>(hot), static_cast<unsigned long long>(cooled),
              static_cast<unsigned long long>(extras), static_cast<unsigned long long>(shed));
  std::printf("dfs sweep: %d seeds, %llu files written, %llu audited, %llu chunks copied by repair, %llu garbage "
              "chunks removed, %llu damaged copies found, %llu master terms\n",
              static_cast<int>(kSweepSeeds), static_cast<unsigned long long>(written),
              static_cast<unsigned long long>(audited), static_cast<unsigned long long>(copied),
              static_cast<unsigned long long>(garbage), static_cast<unsigned long long>(damaged),
              static_cast<unsigned long long>(terms));
  EXPECT_GT(written, 1000u);
  EXPECT_GT(audited, 500u);
  EXPECT_GT(copied, 50u);    // servers died and their chunks were re-protected
  EXPECT_GT(garbage, 500u);  // deleted and aborted files' chunks were collected
  EXPECT_GT(damaged, 10u);   // scrubs and reads found corrupted copies
  EXPECT_GT(terms, kSweepSeeds);  // masters crashed and replayed the stream
  // Each client's hot file of the moment: its chunks got extra copies, and gave them back.
  EXPECT_GT(hot, kSweepSeeds);
  EXPECT_GT(cooled, kSweepSeeds / 2);
  EXPECT_GT(extras, kSweepSeeds / 2);
  EXPECT_GT(shed, kSweepSeeds / 2);
}

TEST(EngineOnDfsSweep, NoWriteIsLostAndReusedMacroblocksAreReferencedNotSent) {
  constexpr uint64_t kSeeds = 24;
  uint64_t acked = 0, majors = 0, reused = 0, referenced = 0;
  for (uint64_t seed = 1; seed <= kSeeds; ++seed) {
    sim::Scenario s = *sim::ScenarioFor("engine-dfs");
    s.seed = seed;
    sim::RunResult r = sim::RunScenario(s);
    EXPECT_TRUE(r.passed()) << sim::FormatSummary(s, r, 0, *sim::ScenarioFor("engine-dfs"));
    acked += FigureOf(r, "acknowledged writes");
    majors += FigureOf(r, "major compactions");
    reused += FigureOf(r, "bytes reused by compactions");
    referenced += FigureOf(r, "bytes reused by reference");
  }
  std::printf("engine-dfs sweep: %d seeds, %llu acknowledged writes, %llu major compactions, %llu bytes reused, %llu "
              "of them by reference\n",
              static_cast<int>(kSeeds), static_cast<unsigned long long>(acked), static_cast<unsigned long long>(majors),
              static_cast<unsigned long long>(reused), static_cast<unsigned long long>(referenced));
  EXPECT_GT(acked, 10000u);
  EXPECT_GT(majors, 500u);
  EXPECT_GT(reused, 0u);
  // An SstWriter writes macroblock by macroblock, so every reused macroblock is whole chunks
  // of its source and goes by reference — unless a chunk of it was short of copies when the
  // source was opened (then its bytes are copied, checked): rare.
  EXPECT_LE(referenced, reused);
  EXPECT_GT(referenced, reused * 9 / 10);
}

TEST(EngineOnDfsSweep, CatchesADeleteThatIgnoresReferences) {
  const sim::WorkloadInfo& w = *sim::FindWorkload("engine-dfs");
  int caught = 0;
  for (uint64_t seed = 1; seed <= 20 && caught == 0; ++seed) {
    if (!sim::RunScenario(sim::CanaryHunt(w, w.canaries.at(0), seed)).passed()) caught = static_cast<int>(seed);
  }
  EXPECT_GT(caught, 0) << "the sweep missed the delete-ignores-references canary";
}

}  // namespace
}  // namespace cairn

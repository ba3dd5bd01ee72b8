// cairn: the one command-line program of Cairn. `cairn --help` lists the subcommands.
#include <malloc.h>

#include <cstdio>

#include "tools/cli.h"
#include "tools/commands.h"

int main(int argc, char** argv) {
  // Chunks, macroblocks and RPC frames are megabytes each and short-lived. glibc serves blocks
  // over its mmap threshold with fresh mappings and gives freed heap back past its trim
  // threshold, so each such buffer would cost page faults and zeroing on the way in and an
  // munmap on the way out; keeping them in the heap made DFS reads ~1.5x faster
  // (bench/dfs_vs_disk.sh, docs/dfs.md "Measured").
  mallopt(M_MMAP_THRESHOLD, 64 << 20);
  mallopt(M_TRIM_THRESHOLD, 512 << 20);
  CLI::App app{
      "Cairn: a disaggregated LSM storage engine, tested by a seeded deterministic simulator.\n"
      "Every subcommand has its own --help."};
  app.footer(cairn::tools::ExitCodesHelp());
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Print the help of every subcommand");
  cairn::tools::Action action;
  cairn::tools::AddSimCommands(app, action);
  cairn::tools::AddTraceCommands(app, action);
  cairn::tools::AddDemoCommands(app, action);
  cairn::tools::AddKnobsCommand(app, action);
  cairn::tools::AddCheckCommand(app, action);
  cairn::tools::AddSstCommands(app, action);
  cairn::tools::AddJournalCommands(app, action);
  cairn::tools::AddDfsCommands(app, action);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // CLI11 prints the help or the error; its own codes (104, 109, ...) become Cairn's: a
    // request for help is success, anything else bad usage.
    const int code = app.exit(e);
    return code == 0 ? cairn::tools::kExitOk : cairn::tools::kExitUsage;
  }
  if (!action) {
    std::fprintf(stderr, "%s", app.help().c_str());
    return cairn::tools::kExitUsage;
  }
  return action();
}

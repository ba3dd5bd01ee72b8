// The `cairn` command line: each file adds one family of subcommands.
#pragma once

#include <functional>

#include "CLI/CLI.hpp"

namespace cairn::tools {

// A subcommand's action, run after parsing; returns the process exit code.
using Action = std::function<int()>;

void AddSimCommands(CLI::App& app, Action& action);
void AddTraceCommands(CLI::App& app, Action& action);
void AddDemoCommands(CLI::App& app, Action& action);
void AddKnobsCommand(CLI::App& app, Action& action);
void AddCheckCommand(CLI::App& app, Action& action);
void AddSstCommands(CLI::App& app, Action& action);
void AddJournalCommands(CLI::App& app, Action& action);
void AddDfsCommands(CLI::App& app, Action& action);

}  // namespace cairn::tools

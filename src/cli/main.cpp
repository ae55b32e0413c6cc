// accel: one binary, one subcommand per tool. Global options live here (and in
// common_flags.cpp); everything else is in the cmd_*.cpp files that register themselves (see
// command.h).
#include <algorithm>
#include <cstdio>
#include <exception>
#include <iostream>
#include <new>

#include "cli/command.h"
#include "cli/common_flags.h"
#include "core/redact.h"
#include "core/version.h"

namespace accel::cli {

std::vector<CommandSpec>& Commands() {
  static std::vector<CommandSpec> commands;
  return commands;
}

int ReportError(const Status& status) {
  // Messages can carry URLs, connection strings and server bodies: secrets are masked, control
  // bytes escaped and the line capped.
  std::fprintf(stderr, "accel: %s\n", RedactForDisplay(status.message()).c_str());
  return kExitBadInput;
}

}  // namespace accel::cli

int main(int argc, char** argv) {
  using namespace accel::cli;
  CLI::App app{"ipfs-accelerate: run, verify and benchmark Hugging Face models on the hardware you have"};
  app.set_version_flag("--version", std::string("accel ") + accel::kVersion + " (" + accel::kGitCommit + ")");
  app.require_subcommand(1);
  // Every option's default is shown in --help (subcommands inherit this and fallthrough).
  app.option_defaults()->always_capture_default();
  app.fallthrough();

  auto& commands = Commands();
  std::sort(commands.begin(), commands.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  Action chosen;
  for (auto& spec : commands) {
    CLI::App* sub = app.add_subcommand(spec.name, spec.help);
    Action action = spec.setup(*sub);
    sub->callback([&chosen, action] { chosen = action; });
  }
  GlobalOptions global;
  AddGlobalOptions(app, global);
  app.footer(EnvironmentHelp());
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() != 0) {
      std::vector<std::string> args(argv + 1, argv + argc);
      if (auto unknown = UnknownCommandMessage(app, args)) {
        std::fprintf(stderr, "accel: %s\n", unknown->c_str());
        return kExitBadInput;
      }
    }
    int code = app.exit(e);
    return code == 0 ? 0 : kExitBadInput;
  }
  ApplyGlobalOptions(global);
  if (!chosen) return kExitBadInput;
  // No exception ends the process as an abort: it becomes one line and exit 2.
  try {
    return chosen();
  } catch (const std::bad_alloc&) {
    return ReportError(accel::OutOfMemory("out of memory"));
  } catch (const std::exception& e) {
    return ReportError(accel::Internal(std::string("unexpected error: ") + e.what()));
  } catch (...) {
    return ReportError(accel::Internal("unexpected error"));
  }
}

// accel: one binary, one subcommand per tool. Global options live here; everything else is
// in the cmd_*.cpp files that register themselves (see command.h).
#include <algorithm>
#include <cstdio>
#include <iostream>

#include "cli/command.h"
#include "core/thread_pool.h"
#include "core/version.h"

namespace accel::cli {

std::vector<CommandSpec>& Commands() {
  static std::vector<CommandSpec> commands;
  return commands;
}

int ReportError(const Status& status) {
  std::fprintf(stderr, "accel: %s\n", status.message().c_str());
  return kExitBadInput;
}

}  // namespace accel::cli

int main(int argc, char** argv) {
  using namespace accel::cli;
  CLI::App app{"ipfs-accelerate: run, verify and benchmark Hugging Face models on the hardware you have"};
  app.set_version_flag("--version", std::string("accel ") + accel::kVersion + " (" + accel::kGitCommit + ")");
  app.require_subcommand(1);
  int threads = 0;
  app.add_option("--threads", threads, "worker threads (default: ACCEL_NUM_THREADS or all cores)")
      ->check(CLI::Range(1, 1024));

  auto& commands = Commands();
  std::sort(commands.begin(), commands.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  Action chosen;
  for (auto& spec : commands) {
    CLI::App* sub = app.add_subcommand(spec.name, spec.help);
    sub->fallthrough();  // global options (--threads) may follow the subcommand
    Action action = spec.setup(*sub);
    sub->callback([&chosen, action] { chosen = action; });
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : kExitBadInput;
  }
  if (threads > 0) accel::ThreadPool::SetDefaultThreads(threads);
  if (!chosen) return kExitBadInput;
  return chosen();
}

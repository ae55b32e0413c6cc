// accel: one binary, one subcommand per tool. Global options live here; everything else is
// in the cmd_*.cpp files that register themselves (see command.h).
#include <algorithm>
#include <cstdio>
#include <exception>
#include <iostream>
#include <new>

#include "cli/command.h"
#include "core/redact.h"
#include "core/thread_pool.h"
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
  int threads = 0;
  app.add_option("--threads", threads, "worker threads (default: ACCEL_NUM_THREADS or all cores)")
      ->check(CLI::Range(1, accel::ThreadPool::kMaxThreads));

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
  if (threads > 0) {
    accel::ThreadPool::SetDefaultThreads(threads);
  } else if (auto env = accel::ThreadPool::ThreadsFromEnvironment(); !env.ok()) {
    return ReportError(env.status());
  }
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

#pragma once
// Subcommands register themselves: each src/cli/cmd_*.cpp adds its options to a CLI11
// sub-app and returns the action to run when that subcommand is chosen. Adding a command is
// adding one file.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "core/status.h"

namespace accel::cli {

// Exit codes shared by every command.
inline constexpr int kExitOk = 0;
inline constexpr int kExitCheckFailed = 1;  // ran fine, the answer is "no" (verification failed)
inline constexpr int kExitBadInput = 2;     // could not run: unusable input, with a one-line error

using Action = std::function<int()>;
using Setup = std::function<Action(CLI::App&)>;

struct CommandSpec {
  std::string name;
  std::string help;
  Setup setup;
};

std::vector<CommandSpec>& Commands();

struct Registrar {
  Registrar(std::string name, std::string help, Setup setup) {
    Commands().push_back({std::move(name), std::move(help), std::move(setup)});
  }
};

// Prints "accel: <message>" on stderr and returns kExitBadInput.
int ReportError(const Status& status);

}  // namespace accel::cli

#define ACCEL_CLI_CONCAT2(a, b) a##b
#define ACCEL_CLI_CONCAT(a, b) ACCEL_CLI_CONCAT2(a, b)
#define ACCEL_REGISTER_COMMAND(name, help, setup) \
  static ::accel::cli::Registrar ACCEL_CLI_CONCAT(accel_cmd_, __LINE__)(name, help, setup)

// accel hw [--json]: what this machine is and which backends the engine can use on it.
#include <cstdio>

#include "cli/command.h"
#include "hw/hw_report.h"

namespace accel::cli {
namespace {
Action SetupHw(CLI::App& app) {
  auto json = std::make_shared<bool>(false);
  app.add_flag("--json", *json, "print the report as JSON");
  return [json] {
    hw::HwReport report = hw::DetectHardware(hw::HwSources::FromEnv());
    if (*json) std::printf("%s\n", hw::ToJson(report).dump(2).c_str());
    else std::printf("%s", hw::ToText(report).c_str());
    return kExitOk;
  };
}
}  // namespace
ACCEL_REGISTER_COMMAND("hw", "show the hardware this machine has and which backends can use it", SetupHw);
}  // namespace accel::cli

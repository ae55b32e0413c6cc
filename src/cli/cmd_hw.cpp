// accel hw: what this machine is (the hardware layer owns the details).
#include <cstdio>

#include "cli/command.h"
#include "core/cpu_features.h"
#include "core/thread_pool.h"

namespace accel::cli {
namespace {
Action SetupHw(CLI::App& app) {
  return [] {
    const CpuFeatures& f = GetCpuFeatures();
    std::printf("cpu: %s (%s), %d threads usable\n", f.brand.c_str(), f.vendor.c_str(), ThreadPool::DetectedThreads());
    std::printf("isa: %s\n", f.IsaString().c_str());
    return kExitOk;
  };
}
}  // namespace
ACCEL_REGISTER_COMMAND("hw", "show the hardware this machine has", SetupHw);
}  // namespace accel::cli

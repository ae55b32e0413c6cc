// accel verify: the correctness contract. Exit 0 when every output of every fixture is within
// tolerance, 1 when any is not, 2 when a fixture cannot be used.
#include <cstdio>
#include <filesystem>
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "cli/common_flags.h"
#include "core/cpu_features.h"
#include "core/thread_pool.h"
#include "runtime/verify.h"

namespace accel::cli {
namespace {

struct VerifyOptions {
  std::vector<std::string> fixtures;
  std::string all_root;
  std::string device = "cpu";
  bool json = false;
};

void PrintTable(const VerifyReport& r) {
  std::printf("%s  %s (%s) on %s  load %.1f ms, run %.1f ms\n", r.fixture.c_str(), r.architecture.c_str(),
              r.model_type.c_str(), r.device.c_str(), r.load_ms, r.run_ms);
  if (r.exec.fallback_ops > 0) {
    std::printf("  fell back to the CPU: %s (%lld copies, %lld bytes)\n", r.exec.FallbackSummary().c_str(),
                static_cast<long long>(r.exec.edge_copies), static_cast<long long>(r.exec.edge_bytes));
  }
  std::printf("  %-34s %12s %12s %10s %10s  %s\n", "output", "max_abs", "max_rel", "atol", "rtol", "ok");
  for (const auto& c : r.checks) {
    std::printf("  %-34s %12.3e %12.3e %10.1e %10.1e  %s%s%s\n", c.name.c_str(), c.max_abs_diff, c.max_rel_diff, c.atol,
                c.rtol, c.ok ? "ok" : "FAIL", c.error.empty() ? "" : " — ", c.error.c_str());
  }
}

Action SetupVerify(CLI::App& app) {
  auto opt = std::make_shared<VerifyOptions>();
  app.add_option("fixtures", opt->fixtures, "fixture folders (config.json, model.safetensors, reference.*)");
  app.add_option("-m,--model", opt->fixtures, "a fixture folder (repeatable; the same as the positional fixtures)");
  app.add_option("--all", opt->all_root, "verify every fixture folder under this folder (skips unsupported types)");
  AddDeviceOption(app, opt->device);
  app.add_flag("--json", opt->json, "print JSON instead of a table");
  return [opt] {
    std::vector<std::string> dirs = opt->fixtures;
    const bool sweep = !opt->all_root.empty();
    if (sweep) {
      std::error_code ec;
      for (const auto& e : std::filesystem::directory_iterator(opt->all_root, ec)) {
        if (std::filesystem::exists(e.path() / "reference.json")) dirs.push_back(e.path().string());
      }
      if (ec) return ReportError(NotFound(opt->all_root + ": " + ec.message()));
      std::sort(dirs.begin(), dirs.end());
      const CpuFeatures& f = GetCpuFeatures();
      if (!opt->json) std::printf("hardware: %s, %d threads, isa: %s\n\n", f.brand.c_str(), ThreadPool::Global().num_threads(), f.IsaString().c_str());
    }
    if (dirs.empty()) return ReportError(InvalidArgument("verify: give fixture folders or --all FOLDER"));
    int exit_code = kExitOk;
    int passed = 0, failed = 0, skipped = 0;
    nlohmann::json all = nlohmann::json::array();
    for (const auto& dir : dirs) {
      Status kind = ExpectFileKind(dir, {"a folder"}, "a fixture folder (config.json, model.safetensors, reference.json)");
      if (!kind.ok()) {
        if (opt->json) all.push_back({{"fixture", dir}, {"error", kind.message()}});
        ReportError(kind);
        exit_code = kExitBadInput;
        continue;
      }
      LoadOptions lo;
      lo.device = opt->device;
      auto report = VerifyFixture(dir, lo);
      if (!report.ok()) {
        if (sweep && report.status().code() == StatusCode::kUnsupported) {
          ++skipped;
          if (opt->json) all.push_back({{"fixture", dir}, {"skipped", report.status().message()}});
          else std::printf("%s  skipped: %s\n\n", dir.c_str(), report.status().message().c_str());
          continue;
        }
        if (opt->json) all.push_back({{"fixture", dir}, {"error", report.status().message()}});
        ReportError(report.status());
        exit_code = kExitBadInput;
        continue;
      }
      if (report->ok()) ++passed; else ++failed;
      if (!report->ok() && exit_code == kExitOk) exit_code = kExitCheckFailed;
      if (opt->json) all.push_back(ToJson(*report));
      else { PrintTable(*report); std::printf("\n"); }
    }
    if (opt->json) {
      std::cout << (all.size() == 1 && !sweep ? all[0] : all).dump(2) << "\n";
    } else if (dirs.size() > 1) {
      std::printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
    }
    return exit_code;
  };
}
}  // namespace
ACCEL_REGISTER_COMMAND("verify", "run fixture folders and compare every output with its reference", SetupVerify);
}  // namespace accel::cli

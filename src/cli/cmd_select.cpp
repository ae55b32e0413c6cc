// accel select <model> [--batch B] [--seq S] [--memory-limit M] [--history FILE] [--json]:
// ranks the devices and dtypes this machine offers for a model and workload, with reasons.
#include <cstdio>

#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "cli/common_flags.h"
#include "placement/device_selection.h"
#include "placement/memory_budget.h"

namespace accel::cli {
namespace {

struct SelectOptions {
  std::string model, memory_limit, history;
  int64_t batch = 1, seq = 128;
  bool json = false;
};

Action SetupSelect(CLI::App& app) {
  auto o = std::make_shared<SelectOptions>();
  AddModelOption(app, o->model, "model folder, config.json, or HF id in the local cache (org/name or gpt2)");
  app.add_option("MODEL", o->model, "the same as -m");
  app.add_option("--batch", o->batch, "batch size")->check(CLI::Range(1, 1 << 20));
  app.add_option("--seq", o->seq, "sequence length (tokens; for decoders, prompt + generated)")->check(CLI::Range(1, 1 << 24));
  AddMemoryLimitOption(app, o->memory_limit);
  app.add_option("--history", o->history, "benchmark results as JSON lines (until the benchmark database is connected)");
  app.add_flag("--json", o->json, "print JSON");
  return [o] {
    if (o->model.empty()) return ReportError(InvalidArgument("give a model: -m DIR|config.json|HF_ID (or as the first argument)"));
    auto ev = registry::GatherEvidence(o->model);
    if (!ev.ok()) return ReportError(ev.status());
    auto profile = ModelProfile::FromEvidence(*ev);
    if (!profile.ok()) return ReportError(profile.status());
    hw::HwReport hardware = hw::DetectHardware(hw::HwSources::FromEnv());
    SelectionOptions options;
    if (!o->memory_limit.empty() || std::getenv("ACCEL_MEMORY_LIMIT")) {
      auto limit = ResolveMemoryLimit(o->memory_limit, hardware.memory);
      if (!limit.ok()) return ReportError(limit.status());
      options.memory_limit_bytes = *limit;
    } else if (hardware.memory.available_bytes > 0) {
      options.memory_limit_bytes = static_cast<int64_t>(hardware.memory.available_bytes * 0.9);
    }
    std::unique_ptr<InMemoryPerfHistory> history;
    if (!o->history.empty()) {
      auto loaded = InMemoryPerfHistory::LoadJsonLines(o->history);
      if (!loaded.ok()) return ReportError(loaded.status());
      history = std::move(*loaded);
    }
    auto sel = SelectDevice(*profile, {o->batch, o->seq}, hardware, history.get(), options);
    if (!sel.ok()) return ReportError(sel.status());
    if (o->json) {
      nlohmann::json out = ToJson(*sel, *profile, {o->batch, o->seq});
      out["model"] = o->model;
      std::printf("%s\n", out.dump(2).c_str());
    } else {
      std::printf("model: %s (%s, %lld parameters), batch %lld x seq %lld\n", o->model.c_str(),
                  profile->classification.family.c_str(), static_cast<long long>(profile->params.params),
                  static_cast<long long>(o->batch), static_cast<long long>(o->seq));
      for (const auto& n : sel->notes) std::printf("note: %s\n", n.c_str());
      for (const auto& c : sel->candidates) {
        std::string head = c.compatible ? "#" + std::to_string(c.rank) : "--";
        std::string pred = c.predicted_ms >= 0 ? " ~" + std::to_string(static_cast<long long>(c.predicted_ms + 0.5)) +
                                                     " ms (+/- " + std::to_string(static_cast<long long>(c.error_ms + 0.5)) + ")"
                                               : "";
        std::printf("%-3s %-8s %-5s %-40s needs %-10s%s\n     %s\n", head.c_str(), c.backend.c_str(), c.dtype.c_str(),
                    c.device.substr(0, 40).c_str(), hw::FormatBytes(c.memory.total_bytes).c_str(), pred.c_str(),
                    (c.compatible ? c.reason : c.why_not).c_str());
      }
    }
    return sel->best() ? kExitOk : kExitCheckFailed;
  };
}
}  // namespace
ACCEL_REGISTER_COMMAND("select", "rank this machine's devices and dtypes for a model and workload", SetupSelect);
}  // namespace accel::cli

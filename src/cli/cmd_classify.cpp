// accel classify <model-dir|config.json|hf-id> [--batch B] [--seq S] [--dtype D] [--json]:
// family, tasks and memory needs of a model, with the evidence, before loading it.
#include <cstdio>

#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "cli/common_flags.h"
#include "hw/hw_report.h"
#include "registry/classifier.h"
#include "registry/memory_estimator.h"

namespace accel::cli {
namespace {

struct ClassifyOptions {
  std::string model;
  int64_t batch = 1, seq = 128;
  std::vector<std::string> dtypes = {"f32", "bf16", "f16", "q8_0", "q4_0"};
  bool json = false;
};

std::optional<DType> ParseDType(const std::string& s) {
  for (DType t : {DType::kF32, DType::kF16, DType::kBF16, DType::kQ8_0, DType::kQ4_0})
    if (Name(t) == s) return t;
  return std::nullopt;
}

Action SetupClassify(CLI::App& app) {
  auto o = std::make_shared<ClassifyOptions>();
  AddModelOption(app, o->model, "model folder, config.json, or HF id in the local cache (org/name or gpt2)");
  app.add_option("MODEL", o->model, "the same as -m");
  app.add_option("--batch", o->batch, "batch size for the memory estimate")->check(CLI::Range(1, 1 << 20));
  app.add_option("--seq", o->seq, "sequence length for the memory estimate")->check(CLI::Range(1, 1 << 24));
  app.add_option("--dtype", o->dtypes, "weight dtypes to estimate (f32, bf16, f16, q8_0, q4_0)");
  app.add_flag("--json", o->json, "print JSON");
  return [o] {
    if (o->model.empty()) return ReportError(InvalidArgument("give a model: -m DIR|config.json|HF_ID (or as the first argument)"));
    auto ev = registry::GatherEvidence(o->model);
    if (!ev.ok()) return ReportError(ev.status());
    registry::Classification c = registry::Classify(*ev, registry::ModelCatalog::Builtin());
    auto params = registry::CountParams(*ev);
    if (!params.ok()) return ReportError(params.status());
    bool decoder = c.family == "text-generation" || c.family == "text2text-generation" ||
                   c.subfamily == "vision-language-generation" || c.subfamily == "speech-seq2seq";
    nlohmann::json memory = nlohmann::json::array();
    std::string memory_text;
    for (const auto& name : o->dtypes) {
      auto dtype = ParseDType(name);
      if (!dtype) return ReportError(InvalidArgument("--dtype '" + name + "' is not one of f32, bf16, f16, q8_0, q4_0"));
      auto m = registry::EstimateMemory(ev->config, *params, *dtype, o->batch, o->seq, decoder);
      if (!m.ok()) return ReportError(m.status());
      memory.push_back({{"dtype", name}, {"weights_bytes", m->weights_bytes}, {"activation_bytes", m->activation_bytes},
                        {"kv_cache_bytes", m->kv_cache_bytes}, {"total_bytes", m->total_bytes}});
      memory_text += "  " + name + ": " + hw::FormatBytes(m->total_bytes) + " (weights " + hw::FormatBytes(m->weights_bytes) +
                     ", activations " + hw::FormatBytes(m->activation_bytes) + ", KV cache " +
                     hw::FormatBytes(m->kv_cache_bytes) + ")\n";
    }
    if (o->json) {
      nlohmann::json j = {{"model", o->model}, {"model_type", c.model_type}, {"in_catalog", c.in_catalog},
                          {"family", c.family}, {"subfamily", c.subfamily}, {"tasks", c.tasks},
                          {"modalities", c.modalities}, {"template", c.template_name},
                          {"support", registry::SupportName(c.support)}, {"key_class", c.key_class},
                          {"confidence", c.confidence}, {"evidence", c.evidence},
                          {"parameters", params->params}, {"parameters_source", params->source},
                          {"batch", o->batch}, {"seq", o->seq}, {"memory", memory}};
      if (!params->bytes_by_dtype.empty()) j["file_bytes_by_dtype"] = params->bytes_by_dtype;
      std::printf("%s\n", j.dump(2).c_str());
      return kExitOk;
    }
    std::string tasks, mods;
    for (const auto& t : c.tasks) tasks += (tasks.empty() ? "" : ", ") + t;
    for (const auto& t : c.modalities) mods += (mods.empty() ? "" : ", ") + t;
    std::printf("model:       %s\n", o->model.c_str());
    std::printf("model_type:  %s%s\n", c.model_type.empty() ? "(none)" : c.model_type.c_str(),
                c.in_catalog ? "" : " (not in catalog)");
    std::printf("family:      %s / %s  (confidence %.2f)\n", c.family.c_str(), c.subfamily.c_str(), c.confidence);
    std::printf("tasks:       %s\n", tasks.c_str());
    std::printf("modalities:  %s\n", mods.c_str());
    std::printf("engine:      %s (template %s)\n", registry::SupportName(c.support),
                c.template_name.empty() ? "none" : c.template_name.c_str());
    std::printf("parameters:  %lld (%s)\n", static_cast<long long>(params->params), params->source.c_str());
    std::printf("memory at batch %lld x seq %lld:\n%s", static_cast<long long>(o->batch), static_cast<long long>(o->seq),
                memory_text.c_str());
    std::printf("evidence:\n");
    for (const auto& e : c.evidence) std::printf("  - %s\n", e.c_str());
    return kExitOk;
  };
}
}  // namespace
ACCEL_REGISTER_COMMAND("classify", "family, tasks and memory needs of a model, before loading it", SetupClassify);
}  // namespace accel::cli

// accel quantize: a LLaMA/Mistral/Qwen2/Qwen3 model (HF folder, HF id in the local cache, or a
// GGUF to re-quantize) written as a GGUF with its projections in one of llama-quantize's types,
// each block's scale found by a weighted error search (formats/quant_search.h), weighted by an
// importance matrix with --imatrix (formats/gguf_model's exporter). The file is written beside the
// output and renamed into place, so a failure leaves no partial file.
#include <algorithm>
#include <cstdio>
#include <map>
#include <filesystem>

#include "cli/command.h"
#include "cli/common_flags.h"
#include "core/units.h"
#include "formats/gguf_model.h"
#include "formats/mixed_plan.h"

namespace accel::cli {
namespace {

namespace fs = std::filesystem;

struct QuantizeArgs {
  std::string model, type, out, imatrix, mixed;
  double target_bpw = 0;
  bool rtn = false;
};

// --mixed auto: a type per projection for --target-bpw (formats/mixed_plan.h), printed and
// recorded in the file's metadata; the file type is that of most weights.
Status PlanMixed(const QuantizeArgs& a, WeightStore& weights, GgufExportOptions& options) {
  ACCEL_ASSIGN_OR_RETURN(MixedPlan plan, PlanMixedPrecision(weights, a.target_bpw, options.imatrix, options.search));
  std::map<DType, int64_t> by_type;
  std::printf("%-48s %-7s %10s %12s\n", "projection", "type", "weights", "rel. error");
  for (const MixedPlanRow& r : plan.rows) {
    std::printf("%-48s %-7s %10lld %12.3e\n", r.group.c_str(), std::string(Name(r.type)).c_str(), static_cast<long long>(r.elements), r.error);
    by_type[r.type] += r.elements;
  }
  std::printf("plan: %.3f bits per weight (target %.3f)\n", plan.bpw, plan.target_bpw);
  options.weight_dtype = std::max_element(by_type.begin(), by_type.end(), [](const auto& x, const auto& y) { return x.second < y.second; })->first;
  options.tensor_types = plan.types;
  options.extra_metadata.emplace_back("accel.mixed.target_bpw", plan.target_bpw);
  options.extra_metadata.emplace_back("accel.mixed.bpw", plan.bpw);
  return Status::Ok();
}

Status Write(const QuantizeArgs& a, const std::string& path, const HfConfig& config, WeightStore& weights, GgufExportOptions options) {
  if (!a.mixed.empty()) ACCEL_RETURN_IF_ERROR(PlanMixed(a, weights, options));
  return WriteLlamaGguf(path, config, weights, options);
}

bool IsGguf(const std::string& path) { return path.size() > 5 && path.compare(path.size() - 5, 5, ".gguf") == 0; }

// The tokenizer files of an HF folder, copied beside the output: accel reads them there (the
// GGUF itself carries no vocabulary when it comes from a folder). An existing file is kept.
void CopyTokenizerFiles(const std::string& dir, const fs::path& out) {
  for (const char* name : {"tokenizer.json", "tokenizer_config.json", "tokenizer.model", "special_tokens_map.json"}) {
    const fs::path from = fs::path(dir) / name, to = out.parent_path() / name;
    std::error_code ec;
    if (!fs::exists(from, ec)) continue;
    if (fs::exists(to, ec)) {
      std::fprintf(stderr, "accel: kept the %s already beside %s\n", name, out.string().c_str());
      continue;
    }
    fs::copy_file(from, to, ec);
    if (ec) std::fprintf(stderr, "accel: warning: could not copy %s beside the output: %s\n", name, ec.message().c_str());
  }
}

Status Quantize(const QuantizeArgs& a) {
  if (!IsGguf(a.out)) return InvalidArgument("--out must name a .gguf file, got '" + a.out + "'");
  if (a.type.empty() == a.mixed.empty()) return InvalidArgument("give either --type or --mixed auto");
  if (!a.mixed.empty() && a.mixed != "auto") return InvalidArgument("--mixed takes 'auto', got '" + a.mixed + "'");
  if (!a.mixed.empty() && a.target_bpw <= 0) return InvalidArgument("--mixed auto needs --target-bpw (e.g. 4.5)");
  GgufExportOptions options;
  if (!a.type.empty()) { ACCEL_ASSIGN_OR_RETURN(options, GgufExportOptionsFor(a.type)); }
  options.name = fs::path(a.out).stem().string();
  options.search = a.rtn ? quant::ScaleSearch::kNearest : quant::ScaleSearch::kSearch;
  Imatrix imatrix;
  if (!a.imatrix.empty()) {
    if (a.rtn) return InvalidArgument("--imatrix weighs the scale search, which --rtn turns off");
    ACCEL_ASSIGN_OR_RETURN(imatrix, ReadImatrix(a.imatrix));
    options.imatrix = &imatrix;
  }
  const fs::path out = fs::absolute(a.out);
  const std::string partial = out.string() + ".partial";
  std::shared_ptr<GgufFile> source;
  std::string folder;
  Status written = Status::Ok();
  if (IsGguf(a.model)) {
    ACCEL_ASSIGN_OR_RETURN(source, GgufFile::Open(a.model));
    ACCEL_ASSIGN_OR_RETURN(GgufModelParts parts, GgufToHf(*source));
    options.tokenizer_source = source.get();
    written = Write(a, partial, parts.config, parts.weights, options);
  } else {
    ACCEL_ASSIGN_OR_RETURN(folder, ResolveModelDir(a.model));
    ACCEL_ASSIGN_OR_RETURN(HfConfig config, HfConfig::Load((fs::path(folder) / "config.json").string()));
    ACCEL_RETURN_IF_ERROR(config.CheckSchema());
    ACCEL_ASSIGN_OR_RETURN(WeightStore weights, WeightStore::Open(folder));
    written = Write(a, partial, config, weights, options);
  }
  std::error_code ec;
  if (written.ok()) fs::rename(partial, out, ec);
  if (!written.ok() || ec) {
    fs::remove(partial, ec);
    return written.ok() ? IoError("cannot move the quantized file into place at " + out.string()) : written;
  }
  if (!folder.empty()) CopyTokenizerFiles(folder, out);
  const auto bytes = static_cast<int64_t>(fs::file_size(out, ec));
  std::printf("wrote %s (%s, %s)\n", out.string().c_str(), a.mixed.empty() ? a.type.c_str() : "mixed", FormatBytes(ec ? -1 : bytes).c_str());
  return Status::Ok();
}

Action SetupQuantize(CLI::App& app) {
  auto a = std::make_shared<QuantizeArgs>();
  AddModelOption(app, a->model, "model to quantize: an HF folder, an HF id in the local cache, or a .gguf to re-quantize")->required();
  app.add_option("--type", a->type,
                 "weight type of the projections: q4_k_m, q5_k_m, q6_k, q8_0, q4_0, q4_k, q5_k, q3_k, q2_k, iq4_nl, iq4_xs, f16, bf16, f32 "
                 "(_m: the output head and some attn_v/ffn_down in q6_k, as llama-quantize's _M recipes); or --mixed");
  app.add_option("-o,--out", a->out, "the GGUF file to write")->required();
  app.add_option("--imatrix", a->imatrix, "importance matrix from `accel imatrix`: weighs each block's scale search by its columns' activations");
  app.add_option("--mixed", a->mixed, "'auto': a type per projection (q2_k..q8_0, iq4_xs) by measured sensitivity, for --target-bpw");
  app.add_option("--target-bpw", a->target_bpw, "bits per weight of the projections with --mixed auto (e.g. 4.5)");
  app.add_flag("--rtn", a->rtn, "round to nearest under each block's max scale, no search (the baseline the search is measured against)");
  return [a] {
    Status s = Quantize(*a);
    return s.ok() ? kExitOk : ReportError(s);
  };
}

}  // namespace
ACCEL_REGISTER_COMMAND("quantize", "write a LLaMA/Mistral/Qwen model as a GGUF in a llama-quantize type (q4_k_m, q8_0, ...)", SetupQuantize);
}  // namespace accel::cli

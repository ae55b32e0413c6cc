#include "bench/engine_workloads.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "core/cpu_features.h"
#include "core/dtype_names.h"
#include "core/mapped_file.h"
#include "core/version.h"
#include "formats/gguf.h"
#include "formats/model_source.h"
#include "formats/safetensors.h"
#include "models/registry.h"
#include "models/synthetic/synthetic.h"
#include "runtime/devices.h"
#include "runtime/generation/generator.h"
#include "runtime/loaded_model.h"
#include "runtime/verify.h"

namespace accel {

namespace fs = std::filesystem;

std::string BundledModelsDir() {
  if (const char* d = std::getenv("ACCEL_MODELS_DIR"); d && *d) return d;
  // Found from the running binary: an installed one (<prefix>/bin/accel) next to
  // <prefix>/share/accel/models, a build tree (<checkout>/build/accel) under the checkout.
  std::error_code ec;
  const fs::path exe_dir = fs::read_symlink("/proc/self/exe", ec).parent_path();
  if (!ec) {
    for (const fs::path& candidate : {exe_dir / ".." / "share" / "accel" / "models", exe_dir / ".." / "tests" / "data" / "models"})
      if (fs::is_directory(candidate, ec)) return fs::weakly_canonical(candidate, ec).string();
  }
  return "tests/data/models";  // relative to the working directory, as a last resort
}

namespace {

Result<DType> ParseComputeDType(const std::string& dtype) {
  if (dtype == "f32") return DType::kF32;
  if (dtype == "bf16") return DType::kBF16;
  return Unsupported("dtype '" + dtype + "' is not supported by the engine (f32, bf16)");
}

// Repeats the rows of every input cyclically to `batch` rows (dimension 0).
Result<TensorMap> RepeatToBatch(const TensorMap& inputs, int batch) {
  TensorMap out;
  for (const auto& [name, t] : inputs) {
    if (t.rank() < 1 || t.dim(0) <= 0) return InvalidArgument("input '" + name + "' has no batch dimension");
    Shape shape = t.shape();
    const int64_t rows = shape[0];
    shape[0] = batch;
    ACCEL_ASSIGN_OR_RETURN(Tensor r, Tensor::Zeros(t.dtype(), shape));
    const size_t row_bytes = t.nbytes() / static_cast<size_t>(rows);
    for (int b = 0; b < batch; ++b) {
      std::memcpy(static_cast<char*>(r.raw()) + b * row_bytes, static_cast<const char*>(t.raw()) + (b % rows) * row_bytes, row_bytes);
    }
    out[name] = r;
  }
  return out;
}

std::vector<float> Sample(const TensorMap& outputs) {
  if (outputs.empty()) return {};
  const Tensor& t = outputs.begin()->second;
  if (t.dtype() != DType::kF32) return {};
  return std::vector<float>(t.data<float>(), t.data<float>() + std::min<size_t>(16, t.numel()));
}

// A fixture folder's verify report as the benchmark's validation record; skipped without one.
db::ValidationRecord ValidateAgainstFixture(const std::string& fixture, DType compute) {
  if (fixture.empty()) {
    return db::ValidationRecord{"reference", "skipped", std::nullopt, "", "no reference outputs for this model (it runs on synthetic inputs)"};
  }
  LoadOptions options;
  options.device = "cpu";
  options.compute = compute;
  auto report = VerifyFixture(fixture, options);
  if (!report.ok()) return db::ValidationRecord{"reference", "failed", std::nullopt, fixture, report.status().message()};
  double max_abs = 0;
  std::string detail;
  for (const auto& c : report->checks) {
    max_abs = std::max(max_abs, c.max_abs_diff);
    if (!c.ok) detail += c.name + (c.error.empty() ? " out of tolerance; " : ": " + c.error + "; ");
  }
  return db::ValidationRecord{"reference", report->ok() ? "passed" : "failed", max_abs,
                              fixture + "/reference.safetensors", detail.empty() ? "all outputs within tolerance" : detail};
}

// Tokens generated per run by a decoder's benchmark point when it names none, after a prompt of
// the point's sequence length: llama-bench's prompt-processing / token-generation split.
constexpr int kBenchNewTokens = 32;

// A decoder benchmarked as people use it: greedy generation (EOS ignored) of `new_tokens`
// after `seq_len` prompt tokens per row, timed as prefill and decode tokens/s.
class GenerationWorkload final : public bench::Workload {
 public:
  GenerationWorkload(std::unique_ptr<LoadedModel> model, std::vector<std::vector<int64_t>> prompts, int new_tokens,
                     std::string fixture_dir, DType compute)
      : model_(std::move(model)), generator_(*model_->causal_lm(), model_->backend()), prompts_(std::move(prompts)),
        new_tokens_(new_tokens), fixture_(std::move(fixture_dir)), compute_(compute) {
    options_.max_new_tokens = new_tokens_;
    options_.max_context = static_cast<int64_t>(prompts_.front().size()) + new_tokens_;
  }

  Status RunOnce() override {
    ACCEL_ASSIGN_OR_RETURN(generation::GenerationResult r, generator_.Run(prompts_, options_));
    // The first new token comes out of the prefill; decode makes the rest.
    const int64_t rows = static_cast<int64_t>(prompts_.size());
    timing_ = bench::GenerationTiming{r.prefill_ms, r.decode_ms, r.prompt_tokens, std::max<int64_t>(0, r.generated_tokens - rows),
                                      new_tokens_};
    return Status::Ok();
  }
  double ItemsPerRun() const override { return static_cast<double>(prompts_.size()) * new_tokens_; }
  std::string ThroughputUnit() const override { return "tokens/s"; }
  std::optional<bench::GenerationTiming> LastGenerationTiming() const override { return timing_; }
  Result<db::ValidationRecord> Validate() override { return ValidateAgainstFixture(fixture_, compute_); }

 private:
  std::unique_ptr<LoadedModel> model_;
  generation::Generator generator_;
  std::vector<std::vector<int64_t>> prompts_;
  int new_tokens_;
  generation::GenerationOptions options_;
  std::string fixture_;
  DType compute_;
  bench::GenerationTiming timing_;
};

class ModelWorkload final : public bench::Workload {
 public:
  ModelWorkload(std::unique_ptr<LoadedModel> model, TensorMap inputs, int batch, std::string fixture_dir, DType compute)
      : model_(std::move(model)), inputs_(std::move(inputs)), batch_(batch), fixture_(std::move(fixture_dir)), compute_(compute) {}

  Status RunOnce() override {
    auto out = model_->Run(inputs_);
    if (!out.ok()) return out.status();
    last_ = std::move(*out);
    return Status::Ok();
  }
  double ItemsPerRun() const override { return batch_; }
  std::vector<float> OutputSample() const override { return Sample(last_); }

  Result<db::ValidationRecord> Validate() override { return ValidateAgainstFixture(fixture_, compute_); }

 private:
  std::unique_ptr<LoadedModel> model_;
  TensorMap inputs_;
  int batch_;
  std::string fixture_;
  DType compute_;
  TensorMap last_;
};

struct Bundled {
  std::string name, dir;
  int64_t seq = 0;
};

// Supported bundled fixtures (not preprocessing ones), sorted by name.
std::vector<Bundled> ListBundled() {
  std::vector<Bundled> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(BundledModelsDir(), ec)) {
    auto cfg = HfConfig::Load((e.path() / "config.json").string());
    if (!cfg.ok() || !models::IsSupportedModelType(cfg->model_type())) continue;
    auto ref = ReadFileToString((e.path() / "reference.json").string());
    if (!ref.ok()) continue;
    auto j = nlohmann::json::parse(*ref, nullptr, false);
    if (!j.is_object() || j.contains("processor")) continue;
    int64_t seq = 0;
    if (j.contains("inputs") && j["inputs"].is_array()) {
      for (const auto& in : j["inputs"]) {
        if (in.value("name", "") == "input.input_ids" && in.contains("shape") && in["shape"].size() == 2) seq = in["shape"][1].get<int64_t>();
      }
    }
    out.push_back({e.path().filename().string(), e.path().string(), seq});
  }
  std::sort(out.begin(), out.end(), [](const Bundled& a, const Bundled& b) { return a.name < b.name; });
  return out;
}

std::string FamilyOf(const std::string& model_type) {
  const auto* t = models::FindTemplate(model_type);
  return t ? t->name : model_type;
}

// A model of the user's: a folder, an HF id in the local cache, or a .gguf file. It runs on
// synthetic inputs of the point's shape; a folder with reference.json (a fixture) is also
// checked against its reference outputs.
struct UserModel {
  std::string path;  // the folder or the .gguf file
  bool gguf = false;
};

std::optional<UserModel> FindUserModel(const std::string& spec) {
  std::error_code ec;
  if (spec.size() > 5 && spec.compare(spec.size() - 5, 5, ".gguf") == 0) {
    if (fs::is_regular_file(spec, ec)) return UserModel{spec, true};
    return std::nullopt;
  }
  auto dir = ResolveModelDir(spec);
  if (!dir.ok() || !fs::is_regular_file(fs::path(*dir) / "config.json", ec)) return std::nullopt;
  return UserModel{*dir, false};
}

Result<db::ModelRecord> DescribeUserModel(const std::string& spec, const UserModel& m) {
  int64_t params = 0;
  std::string model_type, architecture;
  if (m.gguf) {
    ACCEL_ASSIGN_OR_RETURN(auto file, GgufFile::Open(m.path));
    for (const auto& [name, info] : file->tensors()) params += static_cast<int64_t>(NumElements(info.shape).value_or(0));
    model_type = file->metadata().value("general.architecture", "gguf");
    architecture = file->metadata().value("general.name", model_type);
  } else {
    ACCEL_ASSIGN_OR_RETURN(HfConfig cfg, HfConfig::Load(m.path + "/config.json"));
    model_type = cfg.model_type();
    architecture = cfg.architecture();
    if (auto weights = WeightStore::Open(m.path); weights.ok()) {
      for (const auto& name : weights->Names()) {
        if (auto t = weights->Get(name); t.ok()) params += static_cast<int64_t>(t->numel());
      }
    }
  }
  return db::ModelRecord{spec, FamilyOf(model_type), architecture, m.path, false, params};
}

class EngineFactory final : public bench::WorkloadFactory {
 public:
  // Real-shape synthetic workloads on every available device: bert-base, ViT-B/16 and the
  // Whisper-base encoder in each compute dtype, and a LLaMA-1B-shaped decoder in the weight
  // types people download (all supported types in the full suite). The bundled fixtures are
  // for `accel verify`; they can still be timed by name (--models bert-tiny).
  std::vector<bench::BenchPoint> DefaultPoints(const std::string& suite) const override {
    const bool full = suite == "full";
    std::vector<std::string> compute_dtypes = {"f32"};
    if (FindBf16()) compute_dtypes.push_back("bf16");
    std::vector<std::string> weight_dtypes = {"q8_0", "q4_0", "q4_k"};
    if (FindBf16()) weight_dtypes.insert(weight_dtypes.begin(), "bf16");
    if (full) weight_dtypes = {"f32", "f16", "bf16", "q8_0", "q4_0", "q4_k", "q5_k", "q6_k", "q3_k", "q2_k", "iq4_nl"};
    std::vector<bench::BenchPoint> points;
    for (const auto& device : AvailableDevices()) {
      for (const auto& s : synthetic::Catalog()) {
        if (!full && s.name == "roberta-base") continue;  // bert-base's template at another vocabulary
        if (s.task == synthetic::kTextGeneration) {
          for (const auto& dtype : weight_dtypes) points.push_back({s.name, device, dtype, 1, 128, kBenchNewTokens});
          continue;
        }
        for (const auto& dtype : compute_dtypes) {
          for (int batch : {1, 8}) points.push_back({s.name, device, dtype, batch, s.takes_sequence ? 128 : 0});
        }
      }
      if (!full) continue;
      for (const auto& m : ListBundled()) {
        for (int batch : {1, 8}) points.push_back({m.name, device, "f32", batch, static_cast<int>(m.seq)});
      }
    }
    return points;
  }

  // A folder, cached HF id or .gguf file of the user's: one point per device at the defaults,
  // timed as generation when its template generates text.
  std::vector<bench::BenchPoint> PointsFor(const std::string& model) const override {
    std::vector<bench::BenchPoint> points = WorkloadFactory::PointsFor(model);
    if (points.size() != 1 || synthetic::Describe(model).ok()) return points;
    auto user = FindUserModel(model);
    if (!user) return points;
    bool generates = user->gguf;
    if (!generates) {
      auto cfg = HfConfig::Load(user->path + "/config.json");
      const auto* t = cfg.ok() ? models::FindTemplate(cfg->model_type()) : nullptr;
      generates = t && t->generates_text;
    }
    if (generates) points.front().gen_tokens = kBenchNewTokens;
    return points;
  }

  Result<db::ModelRecord> DescribeModel(const std::string& model) const override {
    if (auto s = synthetic::Describe(model); s.ok()) {
      return db::ModelRecord{model, FamilyOf(s->model_type), s->task, "synthetic", true, std::nullopt};
    }
    for (const auto& m : ListBundled()) {
      if (m.name != model) continue;
      auto cfg = HfConfig::Load(m.dir + "/config.json");
      int64_t params = 0;
      if (auto st = SafetensorsFile::Open(m.dir + "/model.safetensors"); st.ok()) {
        for (const auto& [n, e] : (*st)->entries()) params += static_cast<int64_t>(NumElements(e.shape).value_or(0));
      }
      return db::ModelRecord{model, FamilyOf(cfg.ok() ? cfg->model_type() : ""), cfg.ok() ? cfg->architecture() : "", m.dir, false, params};
    }
    if (auto user = FindUserModel(model)) return DescribeUserModel(model, *user);
    return NotFound("no bundled or synthetic model named '" + model +
                    "', and no model folder, HF id in the local cache or .gguf file by that name");
  }

  Result<db::DeviceRecord> DescribeDevice(const std::string& device) const override {
    auto devices = AvailableDevices();
    if (std::find(devices.begin(), devices.end(), device) == devices.end()) return NotFound("device '" + device + "' is not available");
    return db::DeviceRecord{device, device, GetCpuFeatures().brand + " (" + GetCpuFeatures().IsaString() + ")"};
  }

  Result<std::unique_ptr<bench::Workload>> Create(const bench::BenchPoint& point) override {
    LoadOptions options;
    options.device = point.device;
    if (auto info = synthetic::Describe(point.model); info.ok()) {
      if (info->task == synthetic::kTextGeneration) {
        const auto weights = DTypeFromName(point.dtype);
        if (!weights) return InvalidArgument("unknown weight type '" + point.dtype + "'");
        // bf16 weights run bf16 arithmetic, as llama.cpp runs BF16 files; the rest run f32.
        options.compute = *weights == DType::kBF16 ? DType::kBF16 : DType::kF32;
        ACCEL_ASSIGN_OR_RETURN(auto parts, synthetic::Make(point.model, 1234, synthetic::Size::kReal, *weights));
        ACCEL_ASSIGN_OR_RETURN(auto model, LoadedModel::FromParts(std::move(parts.config), std::move(parts.weights), options));
        return MakeGeneration(std::move(model), point, "", options.compute);
      }
      ACCEL_ASSIGN_OR_RETURN(DType compute, ParseComputeDType(point.dtype));
      options.compute = compute;
      ACCEL_ASSIGN_OR_RETURN(auto parts, synthetic::Make(point.model));
      ACCEL_ASSIGN_OR_RETURN(auto model, LoadedModel::FromParts(std::move(parts.config), std::move(parts.weights), options));
      ACCEL_ASSIGN_OR_RETURN(TensorMap inputs, synthetic::MakeInputs(model->config(), synthetic::InputNames(model->model()),
                                                                     point.batch, point.seq_len));
      return std::unique_ptr<bench::Workload>(new ModelWorkload(std::move(model), std::move(inputs), point.batch, "", compute));
    }
    ACCEL_ASSIGN_OR_RETURN(DType compute, ParseComputeDType(point.dtype));
    options.compute = compute;
    for (const auto& m : ListBundled()) {
      if (m.name != point.model) continue;
      if (m.seq && point.seq_len != m.seq) {
        return InvalidArgument(m.name + " runs on its reference inputs: sequence length " + std::to_string(m.seq));
      }
      ACCEL_ASSIGN_OR_RETURN(auto model, LoadedModel::Load(m.dir, options));
      ACCEL_ASSIGN_OR_RETURN(auto ref, SafetensorsFile::Open(m.dir + "/reference.safetensors"));
      TensorMap inputs;
      for (const auto& [name, e] : ref->entries()) {
        if (name.rfind("input.", 0) == 0) {
          ACCEL_ASSIGN_OR_RETURN(inputs[name.substr(6)], ref->Get(name));
        }
      }
      ACCEL_ASSIGN_OR_RETURN(TensorMap batch_inputs, RepeatToBatch(inputs, point.batch));
      return std::unique_ptr<bench::Workload>(new ModelWorkload(std::move(model), std::move(batch_inputs), point.batch, m.dir, compute));
    }
    if (auto user = FindUserModel(point.model)) {
      ACCEL_ASSIGN_OR_RETURN(auto model, LoadedModel::Load(user->path, options));
      std::error_code ec;
      const bool is_fixture = !user->gguf && fs::is_regular_file(fs::path(user->path) / "reference.json", ec);
      const std::string fixture = is_fixture ? user->path : "";
      if (model->causal_lm()) return MakeGeneration(std::move(model), point, fixture, compute);
      ACCEL_ASSIGN_OR_RETURN(TensorMap inputs, synthetic::MakeInputs(model->config(), synthetic::InputNames(model->model()),
                                                                     point.batch, point.seq_len));
      return std::unique_ptr<bench::Workload>(new ModelWorkload(std::move(model), std::move(inputs), point.batch, fixture, compute));
    }
    return NotFound("no bundled or synthetic model named '" + point.model + "'");
  }

 private:
  // Prompts of the point's length (synthetic ids inside the vocabulary), then point.gen_tokens
  // new tokens per run (kBenchNewTokens when the point names none).
  static Result<std::unique_ptr<bench::Workload>> MakeGeneration(std::unique_ptr<LoadedModel> model, const bench::BenchPoint& point,
                                                                 const std::string& fixture, DType compute) {
    const int new_tokens = point.gen_tokens > 0 ? point.gen_tokens : kBenchNewTokens;
    CausalLm* lm = model->causal_lm();
    if (point.seq_len < 1 || point.seq_len + new_tokens > lm->max_positions())
      return InvalidArgument("a prompt of " + std::to_string(point.seq_len) + " tokens plus " + std::to_string(new_tokens) +
                             " new ones does not fit the model's " + std::to_string(lm->max_positions()) + " positions");
    ACCEL_ASSIGN_OR_RETURN(TensorMap ids, synthetic::MakeInputs(model->config(), {"input_ids"}, point.batch, point.seq_len));
    const Tensor& t = ids.at("input_ids");
    std::vector<std::vector<int64_t>> prompts(point.batch);
    for (int b = 0; b < point.batch; ++b)
      prompts[b].assign(t.data<int64_t>() + b * point.seq_len, t.data<int64_t>() + (b + 1) * point.seq_len);
    return std::unique_ptr<bench::Workload>(new GenerationWorkload(std::move(model), std::move(prompts), new_tokens, fixture, compute));
  }

  static bool FindBf16() {
    const CpuFeatures& f = GetCpuFeatures();
    return f.avx512f && f.avx512_bf16;
  }
};

}  // namespace

std::unique_ptr<bench::WorkloadFactory> MakeEngineWorkloadFactory() { return std::make_unique<EngineFactory>(); }

}  // namespace accel

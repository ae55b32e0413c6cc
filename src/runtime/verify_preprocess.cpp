#include "runtime/verify_preprocess.h"

#include <chrono>
#include <filesystem>

#include "core/mapped_file.h"
#include "formats/safetensors.h"
#include "preprocess/audio.h"
#include "preprocess/image_processor.h"

namespace accel {

namespace {
using Json = nlohmann::json;
namespace fs = std::filesystem;

// Any numeric tensor as f64, so uint8 images compare with the same rule as floats.
Result<Tensor> AsF64(const Tensor& t) {
  ACCEL_ASSIGN_OR_RETURN(Tensor out, Tensor::Zeros(DType::kF64, t.shape()));
  double* o = out.data<double>();
  for (size_t i = 0; i < t.numel(); ++i) {
    switch (t.dtype()) {
      case DType::kU8: o[i] = t.data<uint8_t>()[i]; break;
      case DType::kF32: o[i] = t.data<float>()[i]; break;
      case DType::kF64: o[i] = t.data<double>()[i]; break;
      case DType::kI64: o[i] = static_cast<double>(t.data<int64_t>()[i]); break;
      case DType::kI32: o[i] = t.data<int32_t>()[i]; break;
      default: return Unsupported("reference tensor dtype " + std::string(Name(t.dtype())) + " cannot be compared");
    }
  }
  return out;
}

Result<Tensor> ImageTensor(const preprocess::Image& img) {
  ACCEL_ASSIGN_OR_RETURN(Tensor t, Tensor::Zeros(DType::kU8, {img.height, img.width, 3}));
  std::copy(img.rgb.begin(), img.rgb.end(), t.data<uint8_t>());
  return t;
}

// The first input that names a file.
Result<std::string> InputFile(const Json& spec, const std::string& label) {
  if (spec.contains("inputs") && spec["inputs"].is_array()) {
    for (const auto& in : spec["inputs"]) {
      if (in.is_object() && in.contains("file") && in["file"].is_string()) return in["file"].get<std::string>();
    }
  }
  return Corrupt(label + ": no input names a raw 'file' to decode");
}

bool IsAudioConfig(const Json& cfg) {
  const std::string t = cfg.value("feature_extractor_type", std::string());
  return t.find("FeatureExtractor") != std::string::npos && !cfg.contains("image_processor_type");
}
}  // namespace

Result<VerifyReport> VerifyPreprocessFixture(const std::string& dir, const Json& spec) {
  const std::string label = (fs::path(dir) / "reference.json").string();
  VerifyReport report;
  report.fixture = dir;
  report.device = "cpu";
  report.model_type = "preprocess";
  report.architecture = spec["processor"].is_string() ? spec["processor"].get<std::string>() : "processor";
  const std::string cfg_path = (fs::path(dir) / "preprocessor_config.json").string();
  ACCEL_ASSIGN_OR_RETURN(std::string cfg_text, ReadFileToString(cfg_path));
  Json cfg = Json::parse(cfg_text, nullptr, false);
  if (cfg.is_discarded() || !cfg.is_object()) return Corrupt(cfg_path + ": not a JSON object");
  ACCEL_ASSIGN_OR_RETURN(std::string file, InputFile(spec, label));
  const std::string raw = (fs::path(dir) / file).string();

  auto t0 = std::chrono::steady_clock::now();
  std::map<std::string, Tensor> produced;  // "output.pixel_values", "intermediate.resized_hwc_uint8", ...
  if (IsAudioConfig(cfg)) {
    ACCEL_ASSIGN_OR_RETURN(auto config, preprocess::AudioFeatureConfig::FromJson(cfg, cfg_path));
    ACCEL_ASSIGN_OR_RETURN(preprocess::Audio audio, preprocess::LoadAudio(raw));
    report.load_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    std::string name;
    ACCEL_ASSIGN_OR_RETURN(Tensor features, preprocess::ExtractAudioFeatures(audio, config, &name));
    produced["output." + name] = features;
  } else {
    ACCEL_ASSIGN_OR_RETURN(auto config, preprocess::ImageProcessorConfig::FromJson(cfg, cfg_path));
    ACCEL_ASSIGN_OR_RETURN(preprocess::Image image, preprocess::LoadImage(raw));
    report.load_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    ACCEL_ASSIGN_OR_RETURN(auto result, preprocess::RunImagePipeline(image, config));
    produced["output.pixel_values"] = result.pixel_values;
    ACCEL_ASSIGN_OR_RETURN(produced["intermediate.resized_hwc_uint8"], ImageTensor(result.resized));
  }
  report.run_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() - report.load_ms;

  ACCEL_ASSIGN_OR_RETURN(auto ref, SafetensorsFile::Open((fs::path(dir) / "reference.safetensors").string()));
  // output.* carry tolerances in "outputs"; intermediate.* (uint8 images) must match exactly
  // unless "intermediates" gives tolerances.
  std::vector<std::pair<std::string, Json>> wanted;
  if (spec.contains("outputs") && spec["outputs"].is_object()) {
    for (auto it = spec["outputs"].begin(); it != spec["outputs"].end(); ++it) wanted.emplace_back(it.key(), it.value());
  }
  if (spec.contains("intermediates") && spec["intermediates"].is_object()) {
    for (auto it = spec["intermediates"].begin(); it != spec["intermediates"].end(); ++it) wanted.emplace_back(it.key(), it.value());
  }
  if (wanted.empty()) return Corrupt(label + ": no outputs to compare");
  for (const auto& [name, tol] : wanted) {
    OutputCheck c;
    c.name = name;
    if (!tol.is_object()) return Corrupt(label + ": '" + name + "' is not an object");
    c.atol = tol.contains("atol") && tol["atol"].is_number() ? tol["atol"].get<double>() : 0.0;
    c.rtol = tol.contains("rtol") && tol["rtol"].is_number() ? tol["rtol"].get<double>() : 0.0;
    c.exact = tol.value("exact", !tol.contains("atol") && !tol.contains("rtol"));
    auto expected = ref->Get(name);
    if (!expected.ok()) return Corrupt(ref->path() + ": reference tensor '" + name + "' is missing");
    auto got = produced.find(name);
    if (got == produced.end()) {
      c.ok = false;
      c.error = report.architecture + " pipeline produced no '" + name + "'";
    } else {
      ACCEL_ASSIGN_OR_RETURN(Tensor g, AsF64(got->second));
      ACCEL_ASSIGN_OR_RETURN(Tensor r, AsF64(*expected));
      CompareTensors(g, r, c);
    }
    report.checks.push_back(std::move(c));
  }
  return report;
}

}  // namespace accel

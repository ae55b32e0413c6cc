#include "runtime/verify.h"

#include <chrono>
#include <cmath>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "core/mapped_file.h"
#include "formats/safetensors.h"
#if !ACCEL_ENGINE_ONLY
#include "runtime/verify_preprocess.h"
#endif

namespace accel {

namespace {
using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;

double Ms(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double, std::milli>(b - a).count(); }

// Reads element i of a numeric tensor as double (reference outputs may be f32, f64 or ints).
double At(const Tensor& t, size_t i) {
  switch (t.dtype()) {
    case DType::kF32: return t.data<float>()[i];
    case DType::kF64: return t.data<double>()[i];
    case DType::kI64: return static_cast<double>(t.data<int64_t>()[i]);
    case DType::kI32: return t.data<int32_t>()[i];
    default: return NAN;
  }
}
}  // namespace

bool VerifyReport::ok() const {
  if (checks.empty()) return false;
  for (const auto& c : checks) {
    if (!c.ok) return false;
  }
  return true;
}

void CompareTensors(const Tensor& got, const Tensor& ref, OutputCheck& c) {
  c.got_shape = got.shape();
  c.expected_shape = ref.shape();
  if (got.numel() != ref.numel() || got.shape() != ref.shape()) {
    c.ok = false;
    c.error = "shape " + ShapeToString(got.shape()) + " != expected " + ShapeToString(ref.shape());
    return;
  }
  c.max_abs_diff = c.max_rel_diff = 0;
  c.mismatches = 0;
  for (size_t i = 0; i < ref.numel(); ++i) {
    const double g = At(got, i), r = At(ref, i);
    const double diff = std::fabs(g - r);
    const bool bad = std::isnan(g) || (c.exact ? g != r : !(diff <= c.atol + c.rtol * std::fabs(r)));
    if (std::isnan(g)) {
      c.max_abs_diff = INFINITY;
    } else {
      c.max_abs_diff = std::max(c.max_abs_diff, diff);
      if (r != 0) c.max_rel_diff = std::max(c.max_rel_diff, diff / std::fabs(r));
    }
    c.mismatches += bad;
  }
  c.ok = c.mismatches == 0;
}

Result<VerifyReport> VerifyFixture(const std::string& dir, const LoadOptions& options) {
  namespace fs = std::filesystem;
  const std::string ref_json_path = (fs::path(dir) / "reference.json").string();
  auto text = ReadFileToString(ref_json_path);
  if (!text.ok()) return NotFound(ref_json_path + ": missing (a fixture folder needs reference.json)");
  Json spec = Json::parse(*text, nullptr, false);
  if (spec.is_discarded() || !spec.is_object()) return Corrupt(ref_json_path + ": not a JSON object");
#if ACCEL_ENGINE_ONLY
  if (spec.contains("processor")) {
    return Unsupported(dir + ": preprocessing fixtures need the image/audio decoders, which the engine-only build leaves out");
  }
#else
  if (spec.contains("processor")) return VerifyPreprocessFixture(dir, spec);
#endif
  if (!spec.contains("outputs") || !spec["outputs"].is_object() || spec["outputs"].empty()) {
    return Corrupt(ref_json_path + ": 'outputs' must be a non-empty object");
  }

  VerifyReport report;
  report.fixture = dir;
  report.device = options.device;
  auto t0 = Clock::now();
  ACCEL_ASSIGN_OR_RETURN(auto model, LoadedModel::Load(dir, options));
  auto t1 = Clock::now();
  report.load_ms = Ms(t0, t1);
  report.architecture = model->model().architecture();
  report.model_type = model->config().model_type();

  ACCEL_ASSIGN_OR_RETURN(auto ref, SafetensorsFile::Open((fs::path(dir) / "reference.safetensors").string()));
  TensorMap inputs;
  for (const auto& [name, entry] : ref->entries()) {
    if (name.rfind("input.", 0) != 0) continue;
    ACCEL_ASSIGN_OR_RETURN(Tensor t, ref->Get(name));
    inputs[name.substr(6)] = t;
  }
  if (inputs.empty()) return Corrupt(ref->path() + ": no input.* tensors");

  auto t2 = Clock::now();
  auto outputs = model->Run(inputs);
  report.run_ms = Ms(t2, Clock::now());
  if (!outputs.ok()) return outputs.status().WithContext(dir);

  // generate.* inputs and the stopping rules of reference.json's "generate" block.
  GenerateRequest gen;
  for (const auto& [name, entry] : ref->entries()) {
    if (name.rfind("generate.", 0) != 0 || name == "generate.output_ids") continue;
    ACCEL_ASSIGN_OR_RETURN(Tensor t, ref->Get(name));
    gen.inputs[name.substr(9)] = t;
  }
  if (spec.contains("generate") && spec["generate"].is_object()) {
    const Json& g = spec["generate"];
    if (g.contains("max_new_tokens") && g["max_new_tokens"].is_number_integer()) gen.max_new_tokens = g["max_new_tokens"].get<int64_t>();
    if (g.contains("eos_token_id")) {
      const Json& e = g["eos_token_id"];
      if (e.is_number_integer()) gen.eos_token_ids.push_back(e.get<int64_t>());
      if (e.is_array()) for (const auto& x : e) if (x.is_number_integer()) gen.eos_token_ids.push_back(x.get<int64_t>());
    }
    if (g.contains("pad_token_id") && g["pad_token_id"].is_number_integer()) gen.pad_token_id = g["pad_token_id"].get<int64_t>();
  }

  for (auto it = spec["outputs"].begin(); it != spec["outputs"].end(); ++it) {
    OutputCheck c;
    c.name = it.key();
    const Json& tol = it.value();
    if (!tol.is_object()) return Corrupt(ref_json_path + ": outputs['" + c.name + "'] is not an object");
    c.exact = tol.value("exact", false);
    c.atol = tol.contains("atol") && tol["atol"].is_number() ? tol["atol"].get<double>() : 0.0;
    c.rtol = tol.contains("rtol") && tol["rtol"].is_number() ? tol["rtol"].get<double>() : 0.0;
    if (!c.exact && !tol.contains("atol") && !tol.contains("rtol")) {
      return Corrupt(ref_json_path + ": outputs['" + c.name + "'] has neither atol/rtol nor exact");
    }
    auto expected = ref->Get(c.name);
    if (!expected.ok()) return Corrupt(ref->path() + ": reference tensor '" + c.name + "' is missing");
    const std::string short_name = c.name.substr(c.name.find('.') + 1);
    if (c.name == "generate.output_ids") {
      auto t3 = Clock::now();
      auto ids = model->Generate(gen);
      report.run_ms += Ms(t3, Clock::now());
      if (!ids.ok()) {
        c.ok = false;
        c.error = ids.status().message();
      } else {
        CompareTensors(*ids, *expected, c);
      }
      report.checks.push_back(std::move(c));
      continue;
    }
    auto got = outputs->find(short_name);
    if (got == outputs->end()) {
      c.ok = false;
      c.error = report.architecture + " produced no '" + short_name + "'";
    } else {
      CompareTensors(got->second, *expected, c);
    }
    report.checks.push_back(std::move(c));
  }
  report.exec = model->exec_stats();
  return report;
}

nlohmann::json ToJson(const VerifyReport& r) {
  nlohmann::json j = {{"fixture", r.fixture}, {"architecture", r.architecture}, {"model_type", r.model_type},
                      {"device", r.device},   {"ok", r.ok()},                   {"load_ms", r.load_ms},
                      {"run_ms", r.run_ms},   {"outputs", nlohmann::json::array()}};
  j["fallback"] = {{"ops", r.exec.fallback_ops}, {"copies", r.exec.edge_copies}, {"bytes", r.exec.edge_bytes},
                   {"by_op", r.exec.FallbackSummary()}};
  for (const auto& c : r.checks) {
    nlohmann::json o = {{"name", c.name}, {"ok", c.ok}, {"shape", c.got_shape}, {"expected_shape", c.expected_shape},
                        {"max_abs_diff", c.max_abs_diff}, {"max_rel_diff", c.max_rel_diff}, {"atol", c.atol},
                        {"rtol", c.rtol}, {"exact", c.exact}, {"mismatches", c.mismatches}};
    if (!c.error.empty()) o["error"] = c.error;
    j["outputs"].push_back(o);
  }
  return j;
}

}  // namespace accel

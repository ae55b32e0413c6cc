#include "placement/device_selection.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace accel {

namespace {

int BackendPriority(const std::string& b) {
  static const char* order[] = {"cuda", "rocm", "mps", "vulkan", "openvino", "opencl", "cpu", "webgpu", "webnn"};
  for (int i = 0; i < 9; ++i)
    if (b == order[i]) return i;
  return 99;
}

// Lower is preferred by the rules: 16-bit where the hardware does it natively (half the bytes,
// a faster GEMM: 1.85x f32 with AVX512-BF16 alone, docs/PERFORMANCE.md), then f32 (reference accuracy), then
// quantized formats (they change the results slightly; chosen when the others do not fit).
int DTypePriority(const std::string& d) {
  if (d == "bf16" || d == "f16") return 0;
  if (d == "f32") return 1;
  if (d == "q8_0") return 2;
  return 3;
}

std::string DTypeRule(const std::string& backend, const std::string& d) {
  if (d == "bf16" && backend == "cpu")
    return "bf16 on a CPU with AVX512-BF16: ~1.85x the f32 GEMM rate measured on BERT shapes without AMX, half the bytes";
  if (d == "bf16" || d == "f16") return d + ": native 16-bit on this device, half the bytes of f32";
  if (d == "f32") return "f32: reference accuracy";
  if (d == "q8_0") return "q8_0: 3.8x fewer weight bytes than f32 (8.5 bits per weight), small accuracy loss";
  if (d == "q4_0") return "q4_0: 7.1x fewer weight bytes than f32 (4.5 bits per weight), noticeable accuracy loss";
  return d + ": fewer weight bytes than f32, some accuracy loss";
}

bool BackendRunsFamily(const std::string& backend, const std::string& family) {
  if (backend == "cpu") return true;  // the reference backend runs every template
  return family != "time-series" && family != "graph" && family != "reinforcement-learning" && family != "unknown";
}

std::vector<std::string> DTypesFor(const hw::BackendReport& b, const hw::DeviceInfo& d, const hw::HwReport& hw,
                                   bool decoder) {
  std::vector<std::string> out = {"f32"};
  if (b.name == "vulkan") return out;  // f32 activations; 16-bit and quantized weights are widened (issue 16)
  if (b.name == "cpu") {
    if (hw.cpu.Has("avx512_bf16") || hw.cpu.Has("amx_bf16")) out.push_back("bf16");
  } else {
    out.push_back("f16");
    // bf16 needs compute capability 8.0+ on CUDA; other runtimes do not say, so offer f16 only.
    if (b.name == "cuda" && !d.compute_capability.empty() && d.compute_capability >= "8.0") out.push_back("bf16");
  }
  if (decoder) {
    out.push_back("q8_0");
    out.push_back("q4_0");
  }
  return out;
}

std::optional<DType> ToDType(const std::string& s) {
  for (DType t : {DType::kF32, DType::kF16, DType::kBF16, DType::kQ8_0, DType::kQ4_0})
    if (Name(t) == s) return t;
  return std::nullopt;
}

// Solves the normal equations A^T A x = A^T y by Gaussian elimination with partial pivoting.
bool SolveLeastSquares(const std::vector<std::vector<double>>& rows, const std::vector<double>& y, std::vector<double>& x) {
  size_t k = rows.empty() ? 0 : rows[0].size();
  std::vector<std::vector<double>> m(k, std::vector<double>(k + 1, 0.0));
  for (size_t r = 0; r < rows.size(); ++r)
    for (size_t i = 0; i < k; ++i) {
      for (size_t j = 0; j < k; ++j) m[i][j] += rows[r][i] * rows[r][j];
      m[i][k] += rows[r][i] * y[r];
    }
  double scale = 0;
  for (size_t i = 0; i < k; ++i) scale = std::max(scale, std::fabs(m[i][i]));
  for (size_t c = 0; c < k; ++c) {
    size_t pivot = c;
    for (size_t r = c + 1; r < k; ++r)
      if (std::fabs(m[r][c]) > std::fabs(m[pivot][c])) pivot = r;
    if (std::fabs(m[pivot][c]) <= 1e-9 * std::max(scale, 1e-300)) return false;
    std::swap(m[c], m[pivot]);
    for (size_t r = 0; r < k; ++r) {
      if (r == c) continue;
      double f = m[r][c] / m[c][c];
      for (size_t j = c; j <= k; ++j) m[r][j] -= f * m[c][j];
    }
  }
  x.assign(k, 0);
  for (size_t i = 0; i < k; ++i) x[i] = m[i][k] / m[i][i];
  return true;
}

std::string Ms(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), v < 10 ? "%.2f ms" : "%.0f ms", v);
  return buf;
}

}  // namespace

LatencyFit FitLatency(const std::vector<PerfSample>& samples, std::string basis) {
  LatencyFit fit;
  fit.basis = std::move(basis);
  fit.samples = static_cast<int>(samples.size());
  if (samples.empty()) return fit;
  std::vector<double> y;
  for (const auto& s : samples) y.push_back(s.latency_ms);
  std::vector<double> x;
  bool full = false;
  if (samples.size() >= 4) {
    std::vector<std::vector<double>> rows;
    for (const auto& s : samples) rows.push_back({s.flops / 1e9, s.bytes / 1e9, 1.0});
    full = SolveLeastSquares(rows, y, x);
  }
  if (full) {
    fit.ms_per_gflop = x[0];
    fit.ms_per_gb = x[1];
    fit.intercept_ms = x[2];
  } else {
    std::vector<std::vector<double>> rows;
    for (const auto& s : samples) rows.push_back({s.flops / 1e9});
    if (!SolveLeastSquares(rows, y, x)) {
      fit.samples = 0;  // every sample has zero FLOPs: nothing to fit
      return fit;
    }
    fit.ms_per_gflop = x[0];
  }
  double sum = 0;
  for (const auto& s : samples) {
    double rel = (PredictMs(fit, s.flops, s.bytes) - s.latency_ms) / std::max(s.latency_ms, 1e-9);
    sum += rel * rel;
  }
  fit.relative_rms_error = std::sqrt(sum / static_cast<double>(samples.size()));
  return fit;
}

double PredictMs(const LatencyFit& fit, double flops, double bytes) {
  return fit.ms_per_gflop * flops / 1e9 + fit.ms_per_gb * bytes / 1e9 + fit.intercept_ms;
}

Result<ModelProfile> ModelProfile::FromEvidence(const registry::ModelEvidence& ev) {
  ModelProfile p;
  p.name = ev.spec;
  p.config = ev.config;
  p.classification = registry::Classify(ev, registry::ModelCatalog::Builtin());
  ACCEL_ASSIGN_OR_RETURN(p.params, registry::CountParams(ev));
  const auto& c = p.classification;
  p.decoder = c.family == "text-generation" || c.family == "text2text-generation" ||
              c.subfamily == "vision-language-generation" || c.subfamily == "speech-seq2seq";
  return p;
}

namespace {
// Prediction for one candidate from its device's history: measured, else fitted, else none.
void Predict(Candidate& cand, const ModelProfile& model, const Workload& w, const PerfHistory& history) {
  std::vector<PerfSample> all;
  for (auto& s : history.Samples(cand.backend, cand.dtype))
    if (s.device == cand.device) all.push_back(std::move(s));
  if (all.empty()) return;
  std::vector<double> exact;
  std::vector<PerfSample> same_model, same_family;
  for (const auto& s : all) {
    if (s.model == model.name) {
      same_model.push_back(s);
      if (s.batch == w.batch && s.seq == w.seq) exact.push_back(s.latency_ms);
    }
    if (!s.family.empty() && s.family == model.classification.family) same_family.push_back(s);
  }
  if (!exact.empty()) {
    std::sort(exact.begin(), exact.end());
    cand.method = "measured";
    cand.predicted_ms = exact[exact.size() / 2];
    cand.error_ms = (exact.back() - exact.front()) / 2;
    cand.reason = "measured " + std::to_string(exact.size()) + " time(s) at this batch and length: median " +
                  Ms(cand.predicted_ms);
    return;
  }
  LatencyFit fit;
  if (same_model.size() >= 2) fit = FitLatency(same_model, "same model");
  else if (same_family.size() >= 3) fit = FitLatency(same_family, "same family (" + model.classification.family + ")");
  else if (all.size() >= 3) fit = FitLatency(all, "all models on this device");
  if (fit.samples == 0) return;
  double bytes = static_cast<double>(cand.memory.weights_bytes);
  double ms = PredictMs(fit, cand.memory.flops, bytes);
  if (!(ms > 0)) return;  // the fit extrapolates below zero: not a prediction to trust
  cand.method = "fit";
  cand.fit = fit;
  cand.predicted_ms = ms;
  cand.error_ms = ms * fit.relative_rms_error;
  char buf[200];
  std::snprintf(buf, sizeof(buf), "fit on %d benchmark(s) of %s: %.3g ms/GFLOP + %.3g ms/GB + %.3g ms, error %.0f%%",
                fit.samples, fit.basis.c_str(), fit.ms_per_gflop, fit.ms_per_gb, fit.intercept_ms,
                100 * fit.relative_rms_error);
  cand.reason = buf;
}
}  // namespace

Result<Selection> SelectDevice(const ModelProfile& model, const Workload& w, const hw::HwReport& hw,
                               const PerfHistory* history, const SelectionOptions& options) {
  Selection sel;
  const auto& cls = model.classification;
  if (cls.support != registry::Support::kSupported)
    sel.notes.push_back("model_type '" + cls.model_type + "' is " + registry::SupportName(cls.support) +
                        (cls.template_name.empty() ? "" : " (template " + cls.template_name + ")") +
                        ": the engine cannot run it yet; the ranking shows where it would run");
  for (const auto& b : hw.backends) {
    for (size_t i = 0; i < b.devices.size(); ++i) {
      const hw::DeviceInfo& d = b.devices[i];
      for (const std::string& dtype : DTypesFor(b, d, hw, model.decoder)) {
        Candidate c;
        c.backend = b.name;
        c.device = d.name;
        c.device_index = static_cast<int>(i);
        c.dtype = dtype;
        ACCEL_ASSIGN_OR_RETURN(c.memory, registry::EstimateMemory(model.config, model.params, *ToDType(dtype), w.batch,
                                                                  w.seq, model.decoder));
        int64_t budget = d.memory_free_bytes >= 0 ? d.memory_free_bytes : d.memory_total_bytes;
        if (options.memory_limit_bytes > 0 && (budget <= 0 || options.memory_limit_bytes < budget))
          budget = options.memory_limit_bytes;
        c.budget_bytes = budget;
        if (!b.available) {
          c.why_not = b.name + ": " + b.reason;
        } else if (b.name != "cpu" && d.type == "cpu") {
          // lavapipe and the like: the same cores, behind an emulation layer.
          c.why_not = b.name + ": " + d.name + " is a software device on the CPU; the cpu backend runs the model directly";
        } else if (!BackendRunsFamily(b.name, cls.family)) {
          c.why_not = b.name + " has no kernels for the " + cls.family + " family";
        } else if (Status fits = registry::CheckFits(c.memory, budget, b.name + " (" + d.name + ")"); !fits.ok()) {
          c.why_not = fits.message();
        } else {
          c.compatible = true;
          c.method = "rules";
          c.reason = DTypeRule(b.name, dtype);
          if (history) Predict(c, model, w, *history);
        }
        sel.candidates.push_back(std::move(c));
      }
    }
  }
  // Predicted candidates by time, then the rest by the rules, then the incompatible ones.
  std::stable_sort(sel.candidates.begin(), sel.candidates.end(), [](const Candidate& a, const Candidate& b) {
    if (a.compatible != b.compatible) return a.compatible;
    bool pa = a.predicted_ms >= 0, pb = b.predicted_ms >= 0;
    if (pa != pb) return pa;
    if (pa) return a.predicted_ms < b.predicted_ms;
    if (BackendPriority(a.backend) != BackendPriority(b.backend)) return BackendPriority(a.backend) < BackendPriority(b.backend);
    return DTypePriority(a.dtype) < DTypePriority(b.dtype);
  });
  int rank = 0;
  for (auto& c : sel.candidates)
    if (c.compatible) c.rank = ++rank;
  if (rank == 0) sel.notes.push_back("no device can run this model for this workload");
  return sel;
}

nlohmann::json ToJson(const Selection& selection, const ModelProfile& profile, const Workload& workload) {
  nlohmann::json cands = nlohmann::json::array();
  for (const auto& c : selection.candidates) {
    nlohmann::json j = {{"rank", c.rank}, {"backend", c.backend}, {"device", c.device}, {"dtype", c.dtype},
                        {"compatible", c.compatible}, {"memory_bytes", c.memory.total_bytes},
                        {"budget_bytes", c.budget_bytes}, {"method", c.method},
                        {"reason", c.compatible ? c.reason : c.why_not}};
    if (c.predicted_ms >= 0) {
      j["predicted_ms"] = c.predicted_ms;
      j["error_ms"] = c.error_ms;
    }
    if (c.method == "fit")
      j["fit"] = {{"samples", c.fit.samples}, {"basis", c.fit.basis}, {"ms_per_gflop", c.fit.ms_per_gflop},
                  {"ms_per_gb", c.fit.ms_per_gb}, {"intercept_ms", c.fit.intercept_ms},
                  {"relative_rms_error", c.fit.relative_rms_error}};
    cands.push_back(j);
  }
  nlohmann::json out = {{"family", profile.classification.family},
                        {"parameters", profile.params.params}, {"batch", workload.batch}, {"seq", workload.seq},
                        {"notes", selection.notes}, {"candidates", cands}};
  return out;
}

}  // namespace accel

#include "formats/mixed_plan.h"

#include <algorithm>
#include <cmath>

#include "core/thread_pool.h"
#include "formats/quant.h"

namespace accel {

namespace {

struct Group {
  std::string label;
  std::vector<std::string> names;
  int64_t elements = 0;
  int64_t cols = 0;
  std::vector<DType> candidates;  // cheapest first
  std::vector<double> error;      // per candidate
  size_t chosen = 0;
};

// Fused at load: q/k/v of one layer, gate/up of one layer.
std::string GroupKey(const std::string& name) {
  for (const char* part : {"q_proj", "k_proj", "v_proj"}) {
    const auto at = name.find(std::string("self_attn.") + part);
    if (at != std::string::npos) return name.substr(0, at) + "self_attn.{q,k,v}_proj";
  }
  for (const char* part : {"gate_proj", "up_proj"}) {
    const auto at = name.find(std::string("mlp.") + part);
    if (at != std::string::npos) return name.substr(0, at) + "mlp.{gate,up}_proj";
  }
  return name.substr(0, name.size() - std::string(".weight").size());
}

bool IsProjection(const std::string& name) {
  const std::string suffix = "_proj.weight";
  return name == "lm_head.weight" || (name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0);
}

// The importance of a weight's columns (null without a matrix), checked against its width.
Result<const float*> ImportanceOf(const Imatrix* imatrix, const std::string& name, int64_t cols) {
  if (imatrix == nullptr) return static_cast<const float*>(nullptr);
  auto it = imatrix->values.find(name);
  if (it == imatrix->values.end()) return InvalidArgument("the importance matrix has no entry for '" + name + "' (computed on another model?)");
  if (static_cast<int64_t>(it->second.size()) != cols) {
    return InvalidArgument("the importance matrix entry '" + name + "' has " + std::to_string(it->second.size()) + " columns, the weight has " +
                           std::to_string(cols));
  }
  return it->second.data();
}

// Relative importance-weighted error of a group's tensors (f32 copies, with their importance)
// under `t`.
Result<double> GroupError(const std::vector<Tensor>& tensors, const std::vector<const float*>& importance, int64_t cols, DType t,
                          quant::ScaleSearch search) {
  double err = 0, norm = 0;
  for (size_t k = 0; k < tensors.size(); ++k) {
    const Tensor& f = tensors[k];
    const float* imp = importance[k];
    ACCEL_ASSIGN_OR_RETURN(Tensor q, quant::Quantize(f, t, {search, imp}));
    ACCEL_ASSIGN_OR_RETURN(Tensor back, quant::ToF32(q));
    const float* a = f.data<float>();
    const float* b = back.data<float>();
    for (size_t i = 0; i < f.numel(); ++i) {
      const double wj = imp ? imp[i % static_cast<size_t>(cols)] : 1.0, d = double(a[i]) - b[i];
      err += wj * d * d, norm += wj * double(a[i]) * a[i];
    }
  }
  return norm > 0 ? err / norm : 0.0;
}

}  // namespace

double BitsPerWeight(DType t) { return 8.0 * static_cast<double>(Info(t).block_bytes) / static_cast<double>(Info(t).block_elems); }

Result<MixedPlan> PlanMixedPrecision(WeightStore& weights, double target_bpw, const Imatrix* imatrix, quant::ScaleSearch search) {
  if (!(target_bpw > 0) || !std::isfinite(target_bpw)) return InvalidArgument("--target-bpw must be a positive number");
  std::map<std::string, Group> by_key;
  for (const std::string& name : weights.Names()) {
    if (!IsProjection(name)) continue;
    ACCEL_ASSIGN_OR_RETURN(Tensor w, weights.Get(name));
    if (w.rank() != 2) continue;
    Group& g = by_key[GroupKey(name)];
    g.label = GroupKey(name);
    if (g.cols != 0 && g.cols != w.dim(1)) return Corrupt(weights.label() + ": projections fused with '" + name + "' differ in width");
    g.cols = w.dim(1);
    g.names.push_back(name);
    g.elements += static_cast<int64_t>(w.numel());
  }
  if (by_key.empty()) return InvalidArgument(weights.label() + ": no projections to plan");
  std::vector<Group> groups;
  for (auto& [key, g] : by_key) {
    g.candidates = g.cols % 256 == 0 ? std::vector<DType>{DType::kQ2_K, DType::kQ3_K, DType::kIQ4_XS, DType::kQ4_K, DType::kQ5_K,
                                                          DType::kQ6_K, DType::kQ8_0}
                                     : std::vector<DType>{DType::kQ4_0, DType::kQ8_0};
    g.error.assign(g.candidates.size(), 0.0);
    groups.push_back(std::move(g));
  }
  // Measure every candidate of a group: one group's f32 weights in memory at a time, its
  // candidates spread over the pool (the weight store itself is read on this thread only).
  for (Group& g : groups) {
    std::vector<Tensor> tensors;
    std::vector<const float*> importance;
    for (const std::string& name : g.names) {
      ACCEL_ASSIGN_OR_RETURN(Tensor w, weights.Get(name));
      ACCEL_ASSIGN_OR_RETURN(Tensor f, quant::ToF32(w));
      tensors.push_back(std::move(f));
      ACCEL_ASSIGN_OR_RETURN(const float* imp, ImportanceOf(imatrix, name, g.cols));
      importance.push_back(imp);
    }
    std::vector<Status> failed(g.candidates.size(), Status::Ok());
    ThreadPool::Global().ParallelFor(static_cast<int64_t>(g.candidates.size()), 1, [&](int64_t c0, int64_t c1) {
      for (int64_t c = c0; c < c1; ++c) {
        auto e = GroupError(tensors, importance, g.cols, g.candidates[c], search);
        if (e.ok()) {
          g.error[c] = *e;
        } else {
          failed[c] = e.status();
        }
      }
    });
    for (const Status& s : failed) ACCEL_RETURN_IF_ERROR(s);
  }

  double total = 0, bits = 0;
  for (const Group& g : groups) total += static_cast<double>(g.elements), bits += BitsPerWeight(g.candidates[0]) * static_cast<double>(g.elements);
  const double budget = target_bpw * total;
  if (bits > budget + 1e-6 * total) {
    return InvalidArgument("--target-bpw " + std::to_string(target_bpw) + " is below the smallest mix, " + std::to_string(bits / total) + " bits per weight");
  }
  for (;;) {
    // The upgrade with the most error removed per added bit that still fits.
    double best_ratio = 0, best_cost = 0;
    size_t best_g = groups.size(), best_c = 0;
    for (size_t gi = 0; gi < groups.size(); ++gi) {
      const Group& g = groups[gi];
      for (size_t ci = g.chosen + 1; ci < g.candidates.size(); ++ci) {
        const double cost = (BitsPerWeight(g.candidates[ci]) - BitsPerWeight(g.candidates[g.chosen])) * static_cast<double>(g.elements);
        const double gain = g.error[g.chosen] - g.error[ci];
        if (cost <= 0 || gain <= 0 || bits + cost > budget) continue;
        if (gain / cost > best_ratio) best_ratio = gain / cost, best_cost = cost, best_g = gi, best_c = ci;
      }
    }
    if (best_g == groups.size()) break;
    groups[best_g].chosen = best_c;
    bits += best_cost;
  }
  MixedPlan plan;
  plan.target_bpw = target_bpw;
  plan.bpw = bits / total;
  for (const Group& g : groups) {
    const DType t = g.candidates[g.chosen];
    for (const std::string& name : g.names) plan.types[name] = t;
    plan.rows.push_back({g.label, t, g.elements, g.error[g.chosen]});
  }
  return plan;
}

}  // namespace accel

#include "runtime/imatrix.h"

namespace accel {

Status ImatrixCollector::OnLinear(const LinearLayer& layer, const Tensor& x) {
  if (layer.sources.empty()) return Status::Ok();
  if (x.dtype() != DType::kF32 || !x.contiguous()) return Unsupported("importance matrices need f32 dense Linear inputs");
  const int64_t in = x.dim(-1), rows = static_cast<int64_t>(x.numel()) / in;
  // One pass over the activations for the first source, copied to the others.
  Sums& first = sums_[layer.sources.front()];
  if (first.sum_x2.empty()) first.sum_x2.assign(static_cast<size_t>(in), 0.0);
  if (static_cast<int64_t>(first.sum_x2.size()) != in) {
    return Corrupt("Linear '" + layer.sources.front() + "' saw inputs of " + std::to_string(in) + " and " +
                   std::to_string(first.sum_x2.size()) + " columns");
  }
  std::vector<double> add(static_cast<size_t>(in), 0.0);
  const float* p = x.data<float>();
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t j = 0; j < in; ++j) add[j] += static_cast<double>(p[r * in + j]) * p[r * in + j];
  }
  for (const std::string& name : layer.sources) {
    Sums& s = sums_[name];
    if (s.sum_x2.empty()) s.sum_x2.assign(static_cast<size_t>(in), 0.0);
    for (int64_t j = 0; j < in; ++j) s.sum_x2[j] += add[j];
    s.rows += rows;
  }
  return Status::Ok();
}

Imatrix ImatrixCollector::Means(int64_t chunk_count, int64_t chunk_size, const std::string& dataset) const {
  Imatrix m;
  m.chunk_count = chunk_count;
  m.chunk_size = chunk_size;
  m.dataset = dataset;
  for (const auto& [name, s] : sums_) {
    std::vector<float> mean(s.sum_x2.size());
    for (size_t j = 0; j < mean.size(); ++j) mean[j] = s.rows > 0 ? static_cast<float>(s.sum_x2[j] / static_cast<double>(s.rows)) : 0.0f;
    m.values.emplace(name, std::move(mean));
  }
  return m;
}

Result<Imatrix> CollectImatrix(LoadedModel& model, const std::vector<int64_t>& tokens, const ChunkOptions& o,
                               const std::string& dataset, const std::function<void(int64_t, int64_t)>& progress) {
  ACCEL_ASSIGN_OR_RETURN(int64_t chunks, ChunkCount(tokens.size(), o));
  ImatrixCollector collector;
  ACCEL_RETURN_IF_ERROR(RunChunks(model, tokens, o, &collector, [&](int64_t c, const std::vector<int64_t>&, const Tensor&) {
    if (progress) progress(c + 1, chunks);
    return Status::Ok();
  }));
  return collector.Means(chunks, o.ctx, dataset);
}

}  // namespace accel

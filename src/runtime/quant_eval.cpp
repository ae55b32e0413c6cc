#include "runtime/quant_eval.h"

#include <algorithm>
#include <cmath>

namespace accel {

namespace {
// log softmax of one row, in double: KL of near-equal distributions is a small difference of
// large terms.
void LogSoftmax(const float* z, int64_t n, std::vector<double>& out) {
  out.resize(static_cast<size_t>(n));
  const double mx = *std::max_element(z, z + n);
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += std::exp(static_cast<double>(z[i]) - mx);
  const double lse = mx + std::log(sum);
  for (int64_t i = 0; i < n; ++i) out[i] = z[i] - lse;
}
}  // namespace

Result<LogitComparison> CompareLogits(LoadedModel& reference, LoadedModel& test, const std::vector<int64_t>& tokens,
                                      const ChunkOptions& o) {
  ACCEL_ASSIGN_OR_RETURN(int64_t chunks, ChunkCount(tokens.size(), o));
  LogitComparison r;
  double nll_ref = 0, nll_test = 0;
  int64_t scored = 0, agree = 0;
  std::vector<double> lp, lq;
  ChunkOptions one = o;
  one.max_chunks = 1;
  for (int64_t c = 0; c < chunks; ++c) {
    // Chunk by chunk, so only one chunk's logits of each model are held at a time.
    const std::vector<int64_t> slice(tokens.begin() + c * o.ctx, tokens.begin() + (c + 1) * o.ctx);
    Tensor ref_logits;
    ACCEL_RETURN_IF_ERROR(RunChunks(reference, slice, one, nullptr, [&](int64_t, const std::vector<int64_t>&, const Tensor& l) {
      ref_logits = l.Clone();
      return Status::Ok();
    }));
    ACCEL_RETURN_IF_ERROR(RunChunks(test, slice, one, nullptr, [&](int64_t, const std::vector<int64_t>& ids, const Tensor& l) {
      if (l.shape() != ref_logits.shape()) {
        return InvalidArgument("the models' vocabularies differ: " + ShapeToString(ref_logits.shape()) + " and " + ShapeToString(l.shape()));
      }
      const int64_t vocab = l.dim(1);
      for (int64_t t = 0; t < o.ctx; ++t) {
        const float* p = ref_logits.data<float>() + t * vocab;
        const float* q = l.data<float>() + t * vocab;
        LogSoftmax(p, vocab, lp);
        LogSoftmax(q, vocab, lq);
        double kl = 0;
        for (int64_t i = 0; i < vocab; ++i) {
          kl += std::exp(lp[i]) * (lp[i] - lq[i]);
          r.max_abs_diff = std::max(r.max_abs_diff, static_cast<double>(std::fabs(p[i] - q[i])));
        }
        r.mean_kl += kl;
        r.max_kl = std::max(r.max_kl, kl);
        agree += (std::max_element(p, p + vocab) - p) == (std::max_element(q, q + vocab) - q);
        if (t + 1 < o.ctx) nll_ref -= lp[ids[t + 1]], nll_test -= lq[ids[t + 1]], ++scored;
      }
      r.positions += o.ctx;
      return Status::Ok();
    }));
  }
  r.mean_kl /= static_cast<double>(r.positions);
  r.top1_agreement = static_cast<double>(agree) / static_cast<double>(r.positions);
  r.ref_perplexity = std::exp(nll_ref / static_cast<double>(scored));
  r.test_perplexity = std::exp(nll_test / static_cast<double>(scored));
  return r;
}

}  // namespace accel

#include "runtime/sentence_embedding.h"

#include <cmath>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "core/mapped_file.h"

namespace accel {

Result<Pooling> ParsePooling(const std::string& name) {
  if (name == "cls") return Pooling::kCls;
  if (name == "mean") return Pooling::kMean;
  return InvalidArgument("pooling must be 'cls' or 'mean', not '" + name + "'");
}

Pooling PoolingForModelDir(const std::string& dir) {
  auto text = ReadFileToString((std::filesystem::path(dir) / "1_Pooling" / "config.json").string());
  if (!text.ok()) return Pooling::kMean;
  auto j = nlohmann::json::parse(*text, nullptr, false);
  if (j.is_object() && j.value("pooling_mode_cls_token", false)) return Pooling::kCls;
  return Pooling::kMean;
}

Result<Tensor> PoolSentences(const Tensor& hidden, const Tensor* mask, Pooling pooling, bool normalize) {
  if (hidden.rank() != 3 || hidden.dtype() != DType::kF32) return InvalidArgument("hidden states must be f32 [batch, seq, hidden]");
  const int64_t B = hidden.dim(0), S = hidden.dim(1), H = hidden.dim(2);
  if (mask && (mask->numel() != static_cast<size_t>(B * S) || mask->dtype() != DType::kI64)) {
    return InvalidArgument("attention mask must be i64 [batch, seq]");
  }
  ACCEL_ASSIGN_OR_RETURN(Tensor out, Tensor::Zeros(DType::kF32, {B, H}));
  for (int64_t b = 0; b < B; ++b) {
    float* o = out.data<float>() + b * H;
    const float* hb = hidden.data<float>() + b * S * H;
    if (pooling == Pooling::kCls) {
      std::copy(hb, hb + H, o);
    } else {
      int64_t count = 0;
      for (int64_t s = 0; s < S; ++s) {
        if (mask && mask->data<int64_t>()[b * S + s] == 0) continue;
        ++count;
        for (int64_t h = 0; h < H; ++h) o[h] += hb[s * H + h];
      }
      // sentence-transformers clamps the token count at 1e-9: an all-padding row pools to zeros
      for (int64_t h = 0; h < H; ++h) o[h] /= static_cast<float>(std::max<int64_t>(count, 1));
    }
    if (normalize) {
      double ss = 0;
      for (int64_t h = 0; h < H; ++h) ss += double(o[h]) * o[h];
      const float inv = static_cast<float>(1.0 / std::max(std::sqrt(ss), 1e-12));
      for (int64_t h = 0; h < H; ++h) o[h] *= inv;
    }
  }
  return out;
}

}  // namespace accel

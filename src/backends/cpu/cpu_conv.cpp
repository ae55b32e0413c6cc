// Convolutions lowered to the packed GEMM, without materialising what the GEMM can read in
// place (the GEMM packs its A operand itself, from any row stride).
//
// Conv1d: the input is transposed once to channels-last with zero rows for the padding,
// [L + 2 * padding, Cin]. Output position o needs input rows o * stride .. o * stride + Kw - 1:
// Kw * Cin consecutive floats. With one group the GEMM reads them straight from the transposed
// input (row stride stride * Cin) against the weight permuted to [Cout][Kw][Cin] — no unfolded
// copy at all (Whisper's two convolutions); with groups each group's slices are copied into rows.
// Conv2d: unfolded rows in the weight's own (channel, kh, kw) order, built from runs of
// contiguous input (a whole patch row for ViT's stride = kernel), for every batch item at once
// so that the GEMM has many rows.
// Both produce [positions, Cout] with the bias fused into the GEMM, then transpose to the
// contract's channels-first output in parallel tiles. Scratch buffers persist per calling
// thread, so steady-state inference does not allocate or fault pages in.
// MaxPool2d: a direct loop, parallel over the (batch, channel) planes; windows are clipped to
// the image, so padding is never the maximum (as torch pads with -inf).
#include <algorithm>
#include <cstring>
#include <vector>

#include "backends/cpu/cpu_backend.h"
#include "backends/cpu/gemm.h"
#include "core/thread_pool.h"

namespace accel {

namespace {

float* Scratch(std::vector<float>& v, size_t n) {
  if (v.size() < n) v.resize(n);
  return v.data();
}

Status CheckConv(const Tensor& x, const Tensor& w, const Tensor* bias, const Tensor& y, int rank, int stride, int padding,
                 int groups, const char* op) {
  if (x.rank() != rank || w.rank() != rank || y.rank() != rank || groups <= 0 || stride <= 0 || padding < 0) {
    return InvalidArgument(std::string(op) + " shapes: x " + ShapeToString(x.shape()) + ", w " + ShapeToString(w.shape()) + ", y " +
                           ShapeToString(y.shape()));
  }
  if (x.dtype() != DType::kF32 || w.dtype() != DType::kF32 || y.dtype() != DType::kF32 || (bias && bias->dtype() != DType::kF32)) {
    return InvalidArgument(std::string(op) + " needs f32 tensors");
  }
  if (x.dim(1) % groups || w.dim(0) % groups || w.dim(1) * groups != x.dim(1)) return InvalidArgument(std::string(op) + " channels/groups");
  if (bias && static_cast<int64_t>(bias->numel()) != w.dim(0)) return InvalidArgument(std::string(op) + " bias size");
  return Status::Ok();
}

Tensor View(float* p, Shape shape) { return Tensor::Wrap(DType::kF32, std::move(shape), p, nullptr); }

}  // namespace

Status CpuBackend::Conv1d(const Tensor& x, const Tensor& w, const Tensor* bias, int stride, int padding, int groups,
                          Tensor& y) {
  ACCEL_RETURN_IF_ERROR(CheckConv(x, w, bias, y, 3, stride, padding, groups, "Conv1d"));
  const int64_t batch = x.dim(0), cin = x.dim(1), len = x.dim(2), cout = w.dim(0), kw = w.dim(2);
  const int64_t lpad = len + 2 * padding, lout = lpad >= kw ? (lpad - kw) / stride + 1 : 0;
  if (lout <= 0 || y.dim(0) != batch || y.dim(1) != cout || y.dim(2) != lout) return InvalidArgument("Conv1d output shape");
  const int64_t cin_g = cin / groups, cout_g = cout / groups, kdim = kw * cin_g;
  thread_local std::vector<float> xt_buf, cols_buf, out_buf, w_buf;
  float* xt = Scratch(xt_buf, static_cast<size_t>(batch * lpad * cin));
  float* out = Scratch(out_buf, static_cast<size_t>(batch * lout * cout));
  for (int64_t b = 0; b < batch; ++b) {
    float* xb = xt + b * lpad * cin;
    std::fill(xb, xb + padding * cin, 0.0f);
    std::fill(xb + (padding + len) * cin, xb + lpad * cin, 0.0f);
    Tensor rows = View(xb + padding * cin, {1, len, cin});
    ACCEL_RETURN_IF_ERROR(TransposeLast2(View(const_cast<float*>(x.data<float>()) + b * cin * len, {1, cin, len}), rows));
  }
  for (int64_t g = 0; g < groups; ++g) {
    // [cout_g][kw][cin_g]: the order in which an output position's input rows lie in memory.
    float* wp = Scratch(w_buf, static_cast<size_t>(cout_g * kdim));
    const float* wg = w.data<float>() + g * cout_g * cin_g * kw;
    for (int64_t co = 0; co < cout_g; ++co)
      for (int64_t c = 0; c < cin_g; ++c)
        for (int64_t k = 0; k < kw; ++k) wp[(co * kw + k) * cin_g + c] = wg[(co * cin_g + c) * kw + k];
    ACCEL_ASSIGN_OR_RETURN(auto packed, cpu::PackWeight(View(wp, {cout_g, kdim}), DType::kF32));
    const float* bg = bias ? bias->data<float>() + g * cout_g : nullptr;
    for (int64_t b = 0; b < batch; ++b) {
      const float* xb = xt + b * lpad * cin;
      const float* a = xb;
      int64_t lda = stride * cin;
      if (groups > 1) {
        float* cols = Scratch(cols_buf, static_cast<size_t>(lout * kdim));
        pool_.ParallelFor(lout, 64, [&](int64_t o0, int64_t o1) {
          for (int64_t o = o0; o < o1; ++o)
            for (int64_t k = 0; k < kw; ++k)
              std::memcpy(cols + o * kdim + k * cin_g, xb + (o * stride + k) * cin + g * cin_g, sizeof(float) * cin_g);
        });
        a = cols;
        lda = kdim;
      }
      cpu::GemmPacked(a, lout, lda, *packed, out + b * lout * cout + g * cout_g, cout, bg, Activation::kNone, pool_);
    }
  }
  return TransposeLast2(View(out, {batch, lout, cout}), y);
}

Status CpuBackend::Conv2d(const Tensor& x, const Tensor& w, const Tensor* bias, int stride, int padding, int groups,
                          Tensor& y) {
  ACCEL_RETURN_IF_ERROR(CheckConv(x, w, bias, y, 4, stride, padding, groups, "Conv2d"));
  const int64_t batch = x.dim(0), cin = x.dim(1), height = x.dim(2), width = x.dim(3);
  const int64_t cout = w.dim(0), kh = w.dim(2), kw = w.dim(3);
  const int64_t ho = height + 2 * padding >= kh ? (height + 2 * padding - kh) / stride + 1 : 0;
  const int64_t wo = width + 2 * padding >= kw ? (width + 2 * padding - kw) / stride + 1 : 0;
  if (ho <= 0 || wo <= 0 || y.dim(0) != batch || y.dim(1) != cout || y.dim(2) != ho || y.dim(3) != wo) {
    return InvalidArgument("Conv2d output shape");
  }
  const int64_t cin_g = cin / groups, cout_g = cout / groups, kdim = cin_g * kh * kw;
  const int64_t positions = ho * wo, m = batch * positions;
  thread_local std::vector<float> cols_buf, out_buf;
  float* cols = Scratch(cols_buf, static_cast<size_t>(m * kdim));
  float* out = Scratch(out_buf, static_cast<size_t>(m * cout));
  const float* xp = x.data<float>();
  for (int64_t g = 0; g < groups; ++g) {
    pool_.ParallelFor(m, 16, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        const int64_t b = r / positions, oh = (r % positions) / wo, ow = r % wo;
        const int64_t iw0 = ow * stride - padding;
        // The kernel row's columns that fall inside the image: [lo, hi).
        const int64_t lo = std::clamp<int64_t>(-iw0, 0, kw), hi = std::clamp<int64_t>(width - iw0, lo, kw);
        float* row = cols + r * kdim;
        for (int64_t c = 0; c < cin_g; ++c) {
          const float* plane = xp + ((b * cin + g * cin_g + c) * height) * width;
          for (int64_t i = 0; i < kh; ++i) {
            float* dst = row + (c * kh + i) * kw;
            const int64_t ih = oh * stride - padding + i;
            if (ih < 0 || ih >= height) {
              std::fill(dst, dst + kw, 0.0f);
              continue;
            }
            std::fill(dst, dst + lo, 0.0f);
            if (hi > lo) std::memcpy(dst + lo, plane + ih * width + iw0 + lo, sizeof(float) * (hi - lo));
            std::fill(dst + hi, dst + kw, 0.0f);
          }
        }
      }
    });
    Tensor wg = View(const_cast<float*>(w.data<float>()) + g * cout_g * kdim, {cout_g, kdim});
    ACCEL_ASSIGN_OR_RETURN(auto packed, cpu::PackWeight(wg, DType::kF32));
    cpu::GemmPacked(cols, m, kdim, *packed, out + g * cout_g, cout, bias ? bias->data<float>() + g * cout_g : nullptr,
                    Activation::kNone, pool_);
  }
  ACCEL_ASSIGN_OR_RETURN(Tensor maps, y.Reshape({batch, cout, positions}));
  return TransposeLast2(View(out, {batch, positions, cout}), maps);
}

Status CpuBackend::MaxPool2d(const Tensor& x, int kernel, int stride, int padding, Tensor& y) {
  if (x.rank() != 4 || y.rank() != 4 || x.dtype() != DType::kF32 || y.dtype() != DType::kF32 || kernel <= 0 || stride <= 0 ||
      padding < 0 || 2 * padding > kernel) {
    return InvalidArgument("MaxPool2d: x " + ShapeToString(x.shape()) + ", y " + ShapeToString(y.shape()) + ", kernel " +
                           std::to_string(kernel) + ", stride " + std::to_string(stride) + ", padding " + std::to_string(padding));
  }
  const int64_t planes = x.dim(0) * x.dim(1), height = x.dim(2), width = x.dim(3);
  const int64_t ho = height + 2 * padding >= kernel ? (height + 2 * padding - kernel) / stride + 1 : 0;
  const int64_t wo = width + 2 * padding >= kernel ? (width + 2 * padding - kernel) / stride + 1 : 0;
  if (ho <= 0 || wo <= 0 || y.dim(0) != x.dim(0) || y.dim(1) != x.dim(1) || y.dim(2) != ho || y.dim(3) != wo) {
    return InvalidArgument("MaxPool2d output shape " + ShapeToString(y.shape()) + " for input " + ShapeToString(x.shape()));
  }
  const float* xp = x.data<float>();
  float* yp = y.data<float>();
  pool_.ParallelFor(planes, 1, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      const float* plane = xp + p * height * width;
      float* out = yp + p * ho * wo;
      for (int64_t oh = 0; oh < ho; ++oh) {
        // 2 * padding <= kernel keeps every window's clipped range non-empty.
        const int64_t h0 = std::max<int64_t>(oh * stride - padding, 0), h1 = std::min(oh * stride - padding + kernel, height);
        for (int64_t ow = 0; ow < wo; ++ow) {
          const int64_t w0 = std::max<int64_t>(ow * stride - padding, 0), w1 = std::min(ow * stride - padding + kernel, width);
          float m = plane[h0 * width + w0];
          for (int64_t i = h0; i < h1; ++i)
            for (int64_t j = w0; j < w1; ++j) m = std::max(m, plane[i * width + j]);
          out[oh * wo + ow] = m;
        }
      }
    }
  });
  return Status::Ok();
}

}  // namespace accel

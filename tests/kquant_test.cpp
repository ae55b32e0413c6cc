// GGUF K-quants (Q4_K, Q5_K, Q6_K): the dequantizers against an element-by-element reading of
// the documented bit layouts (formats/kquants.h), quantize -> dequantize error bounds, every
// kernel set against the exact product of the dequantized operands, the CPU Linear, GGUF
// round trips and a LLaMA-shaped decoder quantized to each type; ggml types named in errors.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <random>
#include <vector>

#include "backends/cpu/cpu_backend.h"
#include "backends/cpu/kquant_gemm.h"
#include "core/cpu_features.h"
#include "core/half.h"
#include "core/thread_pool.h"
#include "formats/gguf.h"
#include "formats/gguf_model.h"
#include "formats/kquants.h"
#include "formats/quant.h"
#include "runtime/loaded_model.h"
#include "synthetic_llama.h"
#include "test_util.h"

namespace accel {
namespace {

using test::RandomTensor;

constexpr DType kTypes[] = {DType::kQ4_K, DType::kQ5_K, DType::kQ6_K};

// Weight i of a block read straight off the layout comments, one bit field at a time.
float ElementFromLayout(DType t, const uint8_t* blk, int i) {
  auto f16 = [&](int off) { uint16_t h; std::memcpy(&h, blk + off, 2); return F16ToF32(h); };
  if (t == DType::kQ6_K) {
    const uint8_t* ql = blk;
    const uint8_t* qh = blk + 128;
    const int8_t sc = static_cast<int8_t>(blk[192 + i / 16]);
    const int h = i / 128, r = i % 128, l = r % 32;
    int q;
    if (r < 32) q = (ql[64 * h + l] & 15) | ((qh[32 * h + l] >> 0) & 3) << 4;
    else if (r < 64) q = (ql[64 * h + 32 + l] & 15) | ((qh[32 * h + l] >> 2) & 3) << 4;
    else if (r < 96) q = (ql[64 * h + l] >> 4) | ((qh[32 * h + l] >> 4) & 3) << 4;
    else q = (ql[64 * h + 32 + l] >> 4) | ((qh[32 * h + l] >> 6) & 3) << 4;
    return f16(208) * sc * (q - 32);
  }
  const uint8_t* scales = blk + 4;
  const int j = i / 32, c = i / 64, l = i % 32;
  int sc, m;
  if (j < 4) {
    sc = scales[j] & 63, m = scales[j + 4] & 63;
  } else {
    sc = (scales[j + 4] & 15) | (scales[j - 4] >> 6) << 4;
    m = (scales[j + 4] >> 4) | (scales[j] >> 6) << 4;
  }
  const uint8_t* qs = blk + (t == DType::kQ5_K ? 48 : 16);
  int q = (i % 64) < 32 ? qs[32 * c + l] & 15 : qs[32 * c + l] >> 4;
  if (t == DType::kQ5_K) q |= ((blk[16 + l] >> ((i % 64) < 32 ? 2 * c : 2 * c + 1)) & 1) << 4;
  return f16(0) * sc * q - f16(2) * m;
}

TEST(KQuant, DequantizersFollowTheDocumentedBitLayouts) {
  std::mt19937 rng(7);
  for (DType t : kTypes) {
    const size_t bytes = Info(t).block_bytes;
    std::vector<uint8_t> raw(3 * bytes);
    for (auto& b : raw) b = static_cast<uint8_t>(rng());
    // Finite, moderate fp16 scales (random bytes could be inf/nan).
    for (int b = 0; b < 3; ++b) {
      uint8_t* blk = raw.data() + b * bytes;
      const uint16_t d = F32ToF16(0.01f * (b + 1)), dmin = F32ToF16(0.003f * (b + 2));
      if (t == DType::kQ6_K) {
        std::memcpy(blk + 208, &d, 2);
      } else {
        std::memcpy(blk, &d, 2), std::memcpy(blk + 2, &dmin, 2);
      }
    }
    std::vector<float> got(3 * 256);
    quant::DequantizeK(t, raw.data(), got.size(), got.data());
    for (int b = 0; b < 3; ++b)
      for (int i = 0; i < 256; ++i) ASSERT_EQ(got[b * 256 + i], ElementFromLayout(t, raw.data() + b * bytes, i)) << Name(t) << " " << b << "," << i;
  }
}

// Uniform weights in [-1, 1): RTN's rms error is step / sqrt(12) with step = range / levels,
// about 0.038 (Q4_K: 16 levels over a sub-block's range), 0.019 (Q5_K), 0.009 (Q6_K: 64 levels
// over twice the max of 16). The bounds allow 25% for the 6/8-bit scale rounding; the search
// must beat plain RTN's rms on the same data.
TEST(KQuant, RoundTripErrorIsThatOfTheBitWidth) {
  const Tensor x = RandomTensor({16, 1024}, 3);
  const double bound[] = {0.048, 0.024, 0.0115};
  for (int ti = 0; ti < 3; ++ti) {
    const DType t = kTypes[ti];
    auto q = quant::Quantize(x, t);
    ASSERT_TRUE(q.ok()) << q.status().message();
    EXPECT_EQ(q->nbytes(), x.numel() / 256 * Info(t).block_bytes);
    auto back = quant::ToF32(*q);
    ASSERT_TRUE(back.ok());
    double se = 0, max_err = 0;
    for (size_t i = 0; i < x.numel(); ++i) {
      const double e = back->data<float>()[i] - x.data<float>()[i];
      se += e * e, max_err = std::max(max_err, std::fabs(e));
    }
    const double rms = std::sqrt(se / x.numel());
    EXPECT_LT(rms, bound[ti]) << Name(t);
    EXPECT_GT(rms, bound[ti] / 4) << Name(t) << ": suspiciously exact";
  }
  // Rows that are not whole super-blocks are refused with the reason.
  auto bad = quant::Quantize(RandomTensor({2, 96}, 1), DType::kQ4_K);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("256"), std::string::npos) << bad.status().message();
}

std::vector<const cpu::KQuantKernels*> KernelSets() {
  std::vector<const cpu::KQuantKernels*> sets = {&cpu::KQuantKernelsGeneric()};
  const CpuFeatures& f = GetCpuFeatures();
  if (f.avx2 && f.fma && f.f16c) sets.push_back(&cpu::KQuantKernelsAvx2());
  if (f.avx512f && f.avx512bw && f.avx512vl && f.avx512_vnni) sets.push_back(&cpu::KQuantKernelsAvx512Vnni());
  return sets;
}

// Every kernel set computes the product of the dequantized weight and the dequantized Q8_K
// activations: the integer part is exact, so what is left is f32 rounding of a few hundred
// terms (relative 1e-5 of sum |w x| is ~100 ulps of headroom).
TEST(KQuant, KernelsEqualTheProductOfDequantizedOperands) {
  const int64_t n = 37, k = 768, nb = k / 256;
  const Tensor w = RandomTensor({n, k}, 11);
  for (DType t : kTypes) {
    const Tensor wq = quant::Quantize(w, t).value();
    const Tensor wd = quant::ToF32(wq).value();
    // m = 1..17 and 24: decode, the one-row tiles and (512-bit build, m >= 8) the 16-row groups
    // repacked per call with every tile remainder; 20 + 17 columns leave partial groups.
    for (int64_t m : {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 24}) {
      const Tensor x = RandomTensor({m, k}, static_cast<uint32_t>(m), 3.0f);
      std::vector<quant::BlockQ8_K> xq(m * nb);
      quant::QuantizeQ8_K(x.data<float>(), x.numel(), xq.data());
      std::vector<double> want(m * n), mag(m * n);
      for (int64_t r = 0; r < m; ++r)
        for (int64_t j = 0; j < n; ++j)
          for (int64_t i = 0; i < k; ++i) {
            const double xv = double(xq[r * nb + i / 256].d) * xq[r * nb + i / 256].qs[i % 256];
            want[r * n + j] += wd.data<float>()[j * k + i] * xv;
            mag[r * n + j] += std::fabs(wd.data<float>()[j * k + i] * xv);
          }
      for (const cpu::KQuantKernels* ks : KernelSets()) {
        std::vector<float> y(m * n, -1.0f);
        const size_t row_bytes = nb * Info(t).block_bytes;
        // Two calls over column ranges, as the threads split them.
        ks->For(t)(static_cast<const uint8_t*>(wq.raw()), row_bytes, 0, 20, xq.data(), m, nb, y.data(), n);
        ks->For(t)(static_cast<const uint8_t*>(wq.raw()), row_bytes, 20, n, xq.data(), m, nb, y.data(), n);
        for (int64_t i = 0; i < m * n; ++i) {
          ASSERT_NEAR(y[i], want[i], 1e-5 * mag[i] + 1e-6) << ks->name << " " << Name(t) << " m=" << m << " at " << i;
        }
      }
    }
  }
}

TEST(KQuant, CpuLinearMatchesF32LinearOnDequantizedWeights) {
  CpuBackend cpu(ThreadPool::Global());
  const int64_t n = 70, k = 512;
  const Tensor w = RandomTensor({n, k}, 21), bias = RandomTensor({n}, 22);
  for (DType t : kTypes) {
    const Tensor wq = quant::Quantize(w, t).value();
    const Tensor wd = quant::ToF32(wq).value();
    auto pq = cpu.PackLinear(wq, DType::kF32);
    auto pf = cpu.PackLinear(wd, DType::kF32);
    ASSERT_TRUE(pq.ok() && pf.ok()) << pq.status().message();
    for (int64_t m : {1, 3, 17, 64}) {
      const Tensor x = RandomTensor({m, k}, static_cast<uint32_t>(100 + m));
      Tensor got = Tensor::Zeros(DType::kF32, {m, n}).value(), want = Tensor::Zeros(DType::kF32, {m, n}).value();
      ASSERT_TRUE(cpu.Linear(x, *pq, &bias, Activation::kSilu, got).ok());
      ASSERT_TRUE(cpu.Linear(x, *pf, &bias, Activation::kSilu, want).ok());
      // Activations round to int8 per 256 with step max|x| / 127: each product moves by at most
      // |w| * max|x| / 254 (SiLU's slope is below 1.1).
      for (int64_t r = 0; r < m; ++r)
        for (int64_t j = 0; j < n; ++j) {
          double bound = 1e-4;
          for (int64_t b0 = 0; b0 < k; b0 += 256) {
            float amax = 0;
            for (int64_t i = b0; i < b0 + 256; ++i) amax = std::max(amax, std::fabs(x.data<float>()[r * k + i]));
            for (int64_t i = b0; i < b0 + 256; ++i) bound += std::fabs(wd.data<float>()[j * k + i]) * amax / 254.0;
          }
          ASSERT_NEAR(got.data<float>()[r * n + j], want.data<float>()[r * n + j], 1.1 * bound) << Name(t) << " m=" << m;
        }
    }
  }
}

std::string WriteSynthetic(const std::string& dir, DType t, bool mix) {
  HfConfig config = HfConfig::FromJson(nlohmann::json::object(), "x");
  WeightStore ws = test::SyntheticLlamaWeights(&config);  // hidden 256, ffn 512: whole super-blocks
  GgufExportOptions o;
  o.weight_dtype = t;
  o.k_quant_mix = mix;
  const std::string path = dir + "/synthetic-" + std::string(Name(t)) + (mix ? "-m" : "") + ".gguf";
  Status st = WriteLlamaGguf(path, config, ws, o);
  EXPECT_TRUE(st.ok()) << st.message();
  return path;
}

Tensor Logits(const std::string& path) {
  auto model = LoadedModel::Load(path);
  EXPECT_TRUE(model.ok()) << model.status().message();
  const int64_t ids[] = {1, 17, 200, 45, 99, 3, 250, 31, 64, 7, 128, 300};
  const int64_t T = sizeof(ids) / sizeof(ids[0]);
  Tensor in = Tensor::Zeros(DType::kI64, {1, T}).value(), mask = Tensor::Zeros(DType::kI64, {1, T}).value();
  for (int64_t i = 0; i < T; ++i) in.data<int64_t>()[i] = ids[i], mask.data<int64_t>()[i] = 1;
  auto out = (*model)->Run({{"input_ids", in}, {"attention_mask", mask}});
  EXPECT_TRUE(out.ok()) << out.status().message();
  return out->at("logits");
}

// Tolerances: the f32 model's logits have rms 0.99 and reach |4.1|; quantizing every projection
// (and the activations to int8 per 256, as the kernels do) moved them by at most 0.57 (Q4_K),
// 0.50 (Q4_K _M mix), 0.28 (Q5_K) and 0.17 (Q6_K, where the activations' rounding is about half
// of it). The bounds are 1.5x those; the same measure for llama-tiny's Q4_0 is 6.1 of |8.1|.
TEST(KQuant, QuantizedDecoderStaysWithinTolerance) {
  const std::string dir = test::MakeTempDir("kquant");
  const Tensor ref = Logits(WriteSynthetic(dir, DType::kF32, false));
  double sum2 = 0, amax = 0;
  for (size_t i = 0; i < ref.numel(); ++i) sum2 += double(ref.data<float>()[i]) * ref.data<float>()[i], amax = std::max(amax, double(std::fabs(ref.data<float>()[i])));
  std::printf("f32 logits: rms %.3f, max |.| %.3f\n", std::sqrt(sum2 / ref.numel()), amax);
  struct Case { DType t; bool mix; double tol; };
  for (Case c : {Case{DType::kQ4_K, false, 0.85}, Case{DType::kQ4_K, true, 0.75}, Case{DType::kQ5_K, false, 0.42},
                 Case{DType::kQ6_K, false, 0.25}}) {
    const std::string path = WriteSynthetic(dir, c.t, c.mix);
    const Tensor got = Logits(path);
    ASSERT_EQ(got.shape(), ref.shape());
    double diff = 0, top1 = 0;
    const int64_t T = got.dim(1), V = got.dim(2);
    for (int64_t p = 0; p < T; ++p) {
      const float* a = got.data<float>() + p * V;
      const float* b = ref.data<float>() + p * V;
      for (int64_t v = 0; v < V; ++v) diff = std::max(diff, double(std::fabs(a[v] - b[v])));
      top1 += std::max_element(a, a + V) - a == std::max_element(b, b + V) - b;
    }
    std::printf("%s%s: max |logit diff| %.4f, top-1 agreement %.0f/%ld\n", std::string(Name(c.t)).c_str(), c.mix ? " (_M mix)" : "",
                diff, top1, static_cast<long>(T));
    EXPECT_LT(diff, c.tol) << Name(c.t);
    EXPECT_GT(diff, 1e-5) << Name(c.t) << ": quantization should change something";
    if (c.t == DType::kQ4_K && !c.mix) {
      // The file keeps its types, and the CLI generates from it.
      auto f = GgufFile::Open(path);
      ASSERT_TRUE(f.ok());
      EXPECT_EQ((*f)->tensors().at("blk.0.ffn_down.weight").dtype, DType::kQ4_K);
      auto r = test::RunCli("generate -m " + path + " --prompt-ids 1,17,200,45 -n 6");
      EXPECT_EQ(r.exit_code, 0) << r.out;
    }
    if (c.mix) {
      auto f = GgufFile::Open(path);
      ASSERT_TRUE(f.ok());
      EXPECT_EQ((*f)->tensors().at("output.weight").dtype, DType::kQ6_K);
      // use_more_bits with 2 layers: the last eighth (layer 1), not layer 0.
      EXPECT_EQ((*f)->tensors().at("blk.1.attn_v.weight").dtype, DType::kQ6_K);
      EXPECT_EQ((*f)->tensors().at("blk.0.attn_v.weight").dtype, DType::kQ4_K);
      EXPECT_EQ((*f)->tensors().at("blk.0.attn_q.weight").dtype, DType::kQ4_K);
    }
  }
  std::filesystem::remove_all(dir);
}

// A one-tensor GGUF of the given ggml type id (the data bytes are not looked at before the
// type is).
std::string OneTensorGguf(uint32_t type, size_t data_bytes) {
  std::string b;
  auto put = [&](auto v) { b.append(reinterpret_cast<const char*>(&v), sizeof v); };
  put(uint32_t{0x46554747}), put(uint32_t{3}), put(uint64_t{1}), put(uint64_t{0});
  const std::string name = "output.weight";
  put(uint64_t{name.size()}), b += name;
  put(uint32_t{2}), put(uint64_t{256}), put(uint64_t{2}), put(type), put(uint64_t{0});
  b.resize((b.size() + 31) / 32 * 32, '\0');
  b.append(data_bytes, '\0');
  return b;
}

TEST(KQuant, GgmlTypesAreNamedInErrors) {
  auto parse = [](const std::string& b) {
    return GgufFile::Parse(reinterpret_cast<const uint8_t*>(b.data()), b.size(), "m.gguf", nullptr).status();
  };
  Status s = parse(OneTensorGguf(16, 2 * 66));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("tensor 'output.weight' has type IQ2_XXS"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("Q4_K"), std::string::npos) << s.message();
  s = parse(OneTensorGguf(21, 2 * 110));
  EXPECT_NE(s.message().find("type IQ3_S"), std::string::npos) << s.message();
  s = parse(OneTensorGguf(4, 64));
  EXPECT_NE(s.message().find("unknown ggml type 4"), std::string::npos) << s.message();
  // The types we run parse, and a truncated data section names the tensor.
  EXPECT_TRUE(parse(OneTensorGguf(12, 2 * 144)).ok());
  EXPECT_TRUE(parse(OneTensorGguf(23, 2 * 136)).ok());  // IQ4_XS
  s = parse(OneTensorGguf(23, 2 * 136 - 1));
  EXPECT_NE(s.message().find("output.weight"), std::string::npos) << s.message();
  s = parse(OneTensorGguf(14, 2 * 210 - 1));
  EXPECT_NE(s.message().find("output.weight"), std::string::npos) << s.message();
  EXPECT_EQ(*quant::GgmlTypeName(13), "Q5_K");
  EXPECT_EQ(*quant::GgmlTypeName(30), "BF16");
  EXPECT_FALSE(quant::GgmlTypeName(1000).has_value());
}

}  // namespace
}  // namespace accel

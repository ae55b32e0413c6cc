#include "runtime/sentence_embedding.h"

#include <gtest/gtest.h>

#include <cmath>

namespace accel {
namespace {

TEST(SentenceEmbedding, MeanPoolingSkipsPaddingAndNormalises) {
  Tensor h = Tensor::Zeros(DType::kF32, {1, 3, 2}).value();
  float v[] = {1, 2, 3, 4, 100, 100};
  std::copy(v, v + 6, h.data<float>());
  Tensor m = Tensor::Zeros(DType::kI64, {1, 3}).value();
  m.data<int64_t>()[0] = m.data<int64_t>()[1] = 1;
  Tensor mean = PoolSentences(h, &m, Pooling::kMean, false).value();
  EXPECT_FLOAT_EQ(mean.data<float>()[0], 2.0f);
  EXPECT_FLOAT_EQ(mean.data<float>()[1], 3.0f);
  Tensor unit = PoolSentences(h, &m, Pooling::kMean, true).value();
  EXPECT_NEAR(std::hypot(unit.data<float>()[0], unit.data<float>()[1]), 1.0, 1e-6);
  Tensor cls = PoolSentences(h, &m, Pooling::kCls, false).value();
  EXPECT_FLOAT_EQ(cls.data<float>()[1], 2.0f);
  EXPECT_FALSE(ParsePooling("max").ok());
}

}  // namespace
}  // namespace accel

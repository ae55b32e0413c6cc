// Sampling: each filter against its definition, distribution of draws, and the fixed-seed
// determinism guarantee.
#include <cmath>
#include <map>
#include <vector>

#include <gtest/gtest.h>

#include "runtime/generation/sampler.h"

namespace accel::generation {
namespace {

std::vector<float> LogProbs(const std::vector<double>& p) {
  std::vector<float> l;
  for (double x : p) l.push_back(static_cast<float>(std::log(x)));
  return l;
}

std::map<int64_t, int> Draw(SamplingParams sp, const std::vector<double>& probs, int n) {
  Sampler s(sp);
  std::map<int64_t, int> counts;
  for (int i = 0; i < n; ++i) {
    auto l = LogProbs(probs);
    ++counts[s.Next(l.data(), static_cast<int64_t>(l.size()), {}, {})];
  }
  return counts;
}

TEST(Sampler, GreedyIsArgmaxWithFirstTieWinning) {
  Sampler s({});
  std::vector<float> l = {0.1f, 3.0f, 3.0f, -1.0f};
  EXPECT_EQ(s.Next(l.data(), 4, {}, {}), 1);
}

TEST(Sampler, DrawsFollowTheDistribution) {
  SamplingParams sp;
  sp.temperature = 1.0f;
  sp.seed = 3;
  auto c = Draw(sp, {0.5, 0.3, 0.2}, 20000);
  EXPECT_NEAR(c[0] / 20000.0, 0.5, 0.02);
  EXPECT_NEAR(c[1] / 20000.0, 0.3, 0.02);
  EXPECT_NEAR(c[2] / 20000.0, 0.2, 0.02);
}

TEST(Sampler, TopKTopPMinPRestrictTheCandidates) {
  const std::vector<double> p = {0.4, 0.3, 0.2, 0.06, 0.04};
  SamplingParams sp;
  sp.temperature = 1.0f;
  sp.top_k = 2;
  auto c = Draw(sp, p, 4000);
  EXPECT_EQ(c.size(), 2u);
  EXPECT_NEAR(c[0] / 4000.0, 0.4 / 0.7, 0.03);
  sp.top_k = 0;
  sp.top_p = 0.85f;  // 0.4 + 0.3 + 0.2 = 0.9 >= 0.85: three tokens
  c = Draw(sp, p, 4000);
  EXPECT_EQ(c.size(), 3u);
  sp.top_p = 1.0f;
  sp.min_p = 0.6f;  // keep p >= 0.24
  c = Draw(sp, p, 4000);
  EXPECT_EQ(c.size(), 2u);
  EXPECT_EQ(c.count(2), 0u);
}

TEST(Sampler, PenaltiesChangeLogitsAsDefined) {
  SamplingParams sp;
  sp.repetition_penalty = 2.0f;
  Sampler s(sp);
  std::vector<float> l = {2.0f, -1.0f, 1.5f};
  // Token 0 (positive) is halved, token 1 (negative) doubled; 2 wins.
  EXPECT_EQ(s.Next(l.data(), 3, {0, 1, 0}, {}), 2);
  EXPECT_FLOAT_EQ(l[0], 1.0f);
  EXPECT_FLOAT_EQ(l[1], -2.0f);
  SamplingParams pf;
  pf.presence_penalty = 0.5f;
  pf.frequency_penalty = 0.25f;
  Sampler s2(pf);
  std::vector<float> l2 = {2.0f, 1.9f};
  EXPECT_EQ(s2.Next(l2.data(), 2, {}, {0, 0}), 1);
  EXPECT_FLOAT_EQ(l2[0], 2.0f - 0.5f - 0.5f);
}

TEST(Sampler, FixedSeedGivesTheSameTokensAndOtherSeedsDiffer) {
  SamplingParams sp;
  sp.temperature = 1.0f;
  sp.seed = 1234;
  std::vector<double> flat(50, 1.0 / 50);
  auto run = [&](uint64_t seed) {
    sp.seed = seed;
    Sampler s(sp);
    std::vector<int64_t> out;
    for (int i = 0; i < 32; ++i) {
      auto l = LogProbs(flat);
      out.push_back(s.Next(l.data(), 50, {}, {}));
    }
    return out;
  };
  EXPECT_EQ(run(1234), run(1234));
  EXPECT_NE(run(1234), run(1235));
  // The stream is mt19937_64's standard-mandated output: pin its first value so a change of
  // generator (which would break reproducibility across versions) fails here.
  Sampler s({.seed = 5489});
  EXPECT_DOUBLE_EQ(s.Uniform(), static_cast<double>(14514284786278117030ull >> 11) * 0x1.0p-53);
}

TEST(Sampler, RejectsBadParameters) {
  EXPECT_FALSE(ValidateSamplingParams({.temperature = -1.0f}).ok());
  EXPECT_FALSE(ValidateSamplingParams({.top_p = 0.0f}).ok());
  EXPECT_FALSE(ValidateSamplingParams({.min_p = 1.5f}).ok());
  EXPECT_FALSE(ValidateSamplingParams({.repetition_penalty = 0.0f}).ok());
  EXPECT_TRUE(ValidateSamplingParams({}).ok());
}

}  // namespace
}  // namespace accel::generation

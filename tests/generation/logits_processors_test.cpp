// Logits processors and Whisper's decoding plan on hand-made logits. The vocabulary mirrors
// Whisper's layout at a small size: text 0..9, <|endoftext|> 10, <|startoftranscript|> 11,
// languages 12 (en) 13 (de) 14 (fr), translate 15, transcribe 16, <|notimestamps|> 17,
// timestamps 18..29 (<|0.00|> .. <|0.22|>).
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include <gtest/gtest.h>

#include "runtime/generation/logits_processors.h"
#include "runtime/generation/whisper_timestamps.h"
#include "runtime/loaded_model.h"
#include "runtime/whisper_decoding.h"
#include "test_util.h"

namespace accel::generation {
namespace {

constexpr int64_t kVocab = 30, kEos = 10, kStart = 11, kEn = 12, kDe = 13, kFr = 14, kTranslate = 15, kTranscribe = 16,
                  kNoTs = 17, kTs = 18;
constexpr float kInf = std::numeric_limits<float>::infinity();
const std::vector<int64_t> kPrompt = {kStart, kEn, kTranscribe};  // begin_index 3

bool Masked(const std::vector<float>& l, int64_t t) { return l[t] == -kInf; }

int64_t Argmax(const std::vector<float>& l) { return std::max_element(l.begin(), l.end()) - l.begin(); }

std::vector<int64_t> Row(std::vector<int64_t> generated) {
  std::vector<int64_t> ids = kPrompt;
  ids.insert(ids.end(), generated.begin(), generated.end());
  return ids;
}

WhisperTimestampRules Rules(std::optional<int64_t> max_initial = 2) {
  WhisperTimestampParams p;
  p.no_timestamps_token_id = kNoTs;
  p.eos_token_id = kEos;
  p.begin_index = 3;
  p.max_initial_timestamp_index = max_initial;
  return WhisperTimestampRules(p);
}

TEST(SuppressTokens, MasksTheListedIdsOnlyAndIgnoresIdsOutsideTheVocabulary) {
  std::vector<float> l(kVocab, 1.0f);
  SuppressTokens({3, 7, -1, 999}).Apply(Row({}), l.data(), kVocab);
  for (int64_t t = 0; t < kVocab; ++t) EXPECT_EQ(Masked(l, t), t == 3 || t == 7) << t;
}

TEST(SuppressTokensAtBegin, MasksOnlyTheFirstGeneratedPosition) {
  SuppressTokensAtBegin p({kEos, 0}, 3);
  std::vector<float> first(kVocab, 1.0f), later(kVocab, 1.0f);
  p.Apply(Row({}), first.data(), kVocab);
  p.Apply(Row({4}), later.data(), kVocab);
  EXPECT_TRUE(Masked(first, kEos) && Masked(first, 0));
  EXPECT_FALSE(Masked(first, 1));
  for (int64_t t = 0; t < kVocab; ++t) EXPECT_FALSE(Masked(later, t)) << t;
}

TEST(LogitsProcessorList, ForcedPrefixPicksAmongItsChoicesAndBypassesTheProcessors) {
  LogitsProcessorList list;
  list.Add(std::make_shared<SuppressTokens>(std::vector<int64_t>{kTranscribe, 5}));
  list.ForcePrefix(1, {{kEn, kDe, kFr}, {kTranscribe}});
  auto fn = list.AsFunction();
  std::vector<float> l(kVocab, 0.0f);
  l[5] = 9;
  l[kDe] = 3;
  l[kFr] = 2;
  fn({kStart}, l.data(), kVocab);  // position 1: the best language, not the best token
  EXPECT_EQ(Argmax(l), kDe);
  for (int64_t t = 0; t < kVocab; ++t) EXPECT_EQ(Masked(l, t), t != kEn && t != kDe && t != kFr) << t;
  std::vector<float> f(kVocab, 0.0f);
  fn({kStart, kDe}, f.data(), kVocab);  // position 2: forced, though SuppressTokens lists it
  EXPECT_EQ(Argmax(f), kTranscribe);
  EXPECT_FALSE(Masked(f, kTranscribe));
  std::vector<float> after(kVocab, 0.0f);
  after[5] = 9;
  fn({kStart, kDe, kTranscribe}, after.data(), kVocab);  // past the prefix: the processors run
  EXPECT_TRUE(Masked(after, 5));
  EXPECT_FALSE(Masked(after, 4));
}

TEST(GreedyNextToken, ChoosesOnProcessedLogitsAndLeavesTheModelsUntouched) {
  GenerateRequest r;
  const std::vector<float> logits = {0, 5, 1, 5};
  std::vector<float> scratch;
  EXPECT_EQ(GreedyNextToken(r, {}, logits.data(), 4, scratch), 1);  // first maximum
  r.process_logits = [](const std::vector<int64_t>&, float* l, int64_t) { l[1] = -kInf; };
  EXPECT_EQ(GreedyNextToken(r, {}, logits.data(), 4, scratch), 3);
  EXPECT_EQ(logits[1], 5.0f);
}

TEST(GreedyNextToken, DecoderOnlyGenerationRunsTheProcessorOnEveryStep) {
  auto model = LoadedModel::Load(test::ModelDir("llama-tiny"));
  ASSERT_TRUE(model.ok()) << model.status().message();
  GenerateRequest r;
  Tensor prompt = Tensor::Zeros(DType::kI64, {1, 3}).value();
  const std::vector<int64_t> p = {1, 192, 108};
  std::copy(p.begin(), p.end(), prompt.data<int64_t>());
  r.inputs["input_ids"] = prompt;
  r.max_new_tokens = 6;
  auto plain = (*model)->Generate(r);
  ASSERT_TRUE(plain.ok()) << plain.status().message();
  const int64_t first = plain->data<int64_t>()[3];
  int calls = 0;
  r.process_logits = [&](const std::vector<int64_t>& ids, float* l, int64_t) {
    EXPECT_TRUE(std::equal(p.begin(), p.end(), ids.begin()));  // the row so far, prompt included
    EXPECT_EQ(ids.size(), 3u + calls);
    ++calls;
    l[first] = -kInf;
  };
  auto processed = (*model)->Generate(r);
  ASSERT_TRUE(processed.ok());
  EXPECT_EQ(calls, 6);
  for (int64_t i = 3; i < static_cast<int64_t>(processed->numel()); ++i) EXPECT_NE(processed->data<int64_t>()[i], first);
}

TEST(WhisperTimestampRules, NoTimestampsTokenIsNeverChosen) {
  std::vector<float> l(kVocab, 0.0f);
  l[kNoTs] = 50;
  l[4] = 5;  // above the timestamps' joint weight, log(11)
  Rules().Apply(Row({kTs, 4}), l.data(), kVocab);
  EXPECT_TRUE(Masked(l, kNoTs));
  EXPECT_FALSE(Masked(l, 4));
}

TEST(WhisperTimestampRules, FirstTokenIsATimestampNoLaterThanMaxInitial) {
  std::vector<float> l(kVocab, 0.0f);
  l[5] = 20;
  l[kEos] = 20;
  l[kTs + 5] = 10;
  Rules(2).Apply(Row({}), l.data(), kVocab);
  for (int64_t t = 0; t < kVocab; ++t) EXPECT_EQ(Masked(l, t), t < kTs || t > kTs + 2) << t;
  std::vector<float> open(kVocab, 0.0f);
  open[kTs + 5] = 10;
  Rules(std::nullopt).Apply(Row({}), open.data(), kVocab);
  EXPECT_EQ(Argmax(open), kTs + 5);  // no max_initial_timestamp_index: any timestamp may open
  EXPECT_TRUE(Masked(open, kEos));
}

TEST(WhisperTimestampRules, AnOpeningTimestampIsFollowedByText) {
  std::vector<float> l(kVocab, 0.0f);
  for (int64_t t = kTs; t < kVocab; ++t) l[t] = 30;  // timestamps would win by far
  Rules().Apply(Row({kTs}), l.data(), kVocab);
  for (int64_t t = kTs; t < kVocab; ++t) EXPECT_TRUE(Masked(l, t)) << t;
  for (int64_t t = 0; t < kEos; ++t) EXPECT_FALSE(Masked(l, t)) << t;
}

TEST(WhisperTimestampRules, ALoneTimestampAfterTextIsClosedByATimestampOrEos) {
  std::vector<float> l(kVocab, 0.0f);
  l[kEos] = 5;  // above log(8), the weight of the 8 timestamps still allowed
  Rules().Apply(Row({kTs, 3, 4, kTs + 4}), l.data(), kVocab);
  for (int64_t t = 0; t < kEos; ++t) EXPECT_TRUE(Masked(l, t)) << "text " << t;
  EXPECT_FALSE(Masked(l, kEos));
  for (int64_t t = kTs; t < kTs + 4; ++t) EXPECT_TRUE(Masked(l, t)) << "earlier time " << t;
  for (int64_t t = kTs + 4; t < kVocab; ++t) EXPECT_FALSE(Masked(l, t)) << "the same time may start the next segment " << t;
}

TEST(WhisperTimestampRules, AfterAPairTextFollowsAndTimeMovesForward) {
  std::vector<float> pair(kVocab, 0.0f);
  Rules().Apply(Row({kTs, 3, kTs + 4, kTs + 4}), pair.data(), kVocab);
  for (int64_t t = kTs; t < kVocab; ++t) EXPECT_TRUE(Masked(pair, t)) << t;
  EXPECT_FALSE(Masked(pair, 3));
  std::vector<float> text(kVocab, 0.0f);
  for (int64_t t = 0; t < kTs; ++t) text[t] = 3;  // above log(7): text stays possible
  Rules().Apply(Row({kTs, 3, kTs + 4, kTs + 4, 5}), text.data(), kVocab);
  for (int64_t t = kTs; t < kVocab; ++t) EXPECT_EQ(Masked(text, t), t <= kTs + 4) << t;
  EXPECT_FALSE(Masked(text, 5));
}

TEST(WhisperTimestampRules, OnlyGeneratedTokensCountNotThePrompt) {
  WhisperTimestampParams p;
  p.no_timestamps_token_id = kNoTs;
  p.eos_token_id = kEos;
  p.begin_index = 2;
  std::vector<float> l(kVocab, 0.0f);
  // A previous-text prompt may hold timestamps (<|0.14|> here). Counted, it would make the
  // generated <|0.04|> close a segment (no text next); it opens one: text next, no timestamp.
  WhisperTimestampRules(p).Apply({kTs + 7, kStart, kTs + 2}, l.data(), kVocab);
  for (int64_t t = kTs; t < kVocab; ++t) EXPECT_TRUE(Masked(l, t)) << t;
  for (int64_t t = 0; t < kEos; ++t) EXPECT_FALSE(Masked(l, t)) << t;
}

TEST(WhisperTimestampRules, TimestampsMoreProbableTogetherThanTheBestTextForceATimestamp) {
  // After "<|0.00|> 3" the timestamps 19..29 may come: 11 of them at logit 0 weigh log(11) ~ 2.398.
  std::vector<float> l(kVocab, -10.0f);
  for (int64_t t = kTs; t < kVocab; ++t) l[t] = 0.0f;
  l[3] = 2.3f;  // the single best token, yet less likely than the timestamps together
  Rules().Apply(Row({kTs, 3}), l.data(), kVocab);
  for (int64_t t = 0; t < kTs; ++t) EXPECT_TRUE(Masked(l, t)) << t;
  EXPECT_EQ(Argmax(l), kTs + 1);
  std::vector<float> keep(kVocab, -10.0f);
  for (int64_t t = kTs; t < kVocab; ++t) keep[t] = 0.0f;
  keep[3] = 2.5f;  // above log(11): text stays possible
  Rules().Apply(Row({kTs, 3}), keep.data(), kVocab);
  EXPECT_EQ(Argmax(keep), 3);
}

TEST(WhisperTimestampRules, OnlyAllowedTimestampsWeighInTheGroup) {
  // After the pair at <|0.14|> and text, timestamps 26..29 remain: log(4) ~ 1.386 < 1.5. The
  // masked earlier ones (logit 5) must not count, or text would be forbidden.
  std::vector<float> l(kVocab, -10.0f);
  for (int64_t t = kTs; t < kVocab; ++t) l[t] = t <= kTs + 7 ? 5.0f : 0.0f;
  l[3] = 1.5f;
  Rules().Apply(Row({kTs, 3, kTs + 7, kTs + 7, 4}), l.data(), kVocab);
  EXPECT_EQ(Argmax(l), 3);
  EXPECT_TRUE(Masked(l, kTs + 7));
}

TEST(WhisperTimestampRules, SuppressionBeforeTheRulesChangesTheGroupComparison) {
  // HF applies suppress_tokens before the timestamp rules, so a suppressed token is not the
  // "best text" the timestamps compete with.
  LogitsProcessorList list;
  list.Add(std::make_shared<SuppressTokens>(std::vector<int64_t>{3}));
  list.Add(std::make_shared<WhisperTimestampRules>(Rules()));
  std::vector<float> l(kVocab, -10.0f);
  for (int64_t t = kTs; t < kVocab; ++t) l[t] = 0.0f;
  l[3] = 5.0f;
  l[4] = 1.0f;
  list.Apply(Row({kTs, 6}), l.data(), kVocab);
  EXPECT_GE(Argmax(l), kTs + 1);  // in the other order token 4 would be chosen
}

TEST(TimestampSegments, SplitWhereTimestampsMeetAndDropTextAfterTheLast) {
  auto s = TimestampSegments({kTs, 3, 4, kTs + 4, kTs + 4, 5, kTs + 7, 6, kEos}, kTs);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_DOUBLE_EQ(s[0].start, 0.0);
  EXPECT_NEAR(s[0].end, 0.08, 1e-12);
  EXPECT_EQ(s[0].tokens, (std::vector<int64_t>{3, 4}));
  EXPECT_NEAR(s[1].start, 0.08, 1e-12);
  EXPECT_NEAR(s[1].end, 0.14, 1e-12);
  EXPECT_EQ(s[1].tokens, (std::vector<int64_t>{5}));
  EXPECT_TRUE(TimestampSegments({3, 4, kEos}, kTs).empty());
  EXPECT_TRUE(TimestampSegments({kTs, 3, 4}, kTs).empty());  // one timestamp: no segment
  auto open = TimestampSegments({kTs + 1, 3, kTs + 2}, kTs);  // two lone timestamps: one segment
  ASSERT_EQ(open.size(), 1u);
  EXPECT_NEAR(open[0].start, 0.02, 1e-12);
  EXPECT_NEAR(open[0].end, 0.04, 1e-12);
}

TEST(TimestampSegments, TimeGoingBackStartsANewWindow) {
  // After a lone closing timestamp the next window starts 1500 positions (30 s) later ...
  auto single = TimestampSegments({kTs, 3, kTs + 7, kTs + 7, 4, kTs + 10, kTs + 2, 6, kTs + 4}, kTs);
  ASSERT_EQ(single.size(), 3u);
  EXPECT_NEAR(single[2].start, 30.04, 1e-9);
  EXPECT_NEAR(single[2].end, 30.08, 1e-9);
  // ... after consecutive timestamps, at the last segment's end.
  auto paired = TimestampSegments({kTs, 3, kTs + 7, kTs + 8, kTs + 2, 6, kTs + 4}, kTs);
  ASSERT_EQ(paired.size(), 2u);
  EXPECT_NEAR(paired[1].start, 0.18, 1e-9);
  EXPECT_NEAR(paired[1].end, 0.22, 1e-9);
}

// --- the plan: prompt, detection and processors from a generation config ---

nlohmann::json MultilingualConfig() {
  return nlohmann::json::parse(R"({
    "decoder_start_token_id": 11, "eos_token_id": 10, "bos_token_id": 10, "pad_token_id": 10,
    "suppress_tokens": [1, 15, 16], "begin_suppress_tokens": [0, 10],
    "forced_decoder_ids": [[1, null], [2, 16]], "is_multilingual": true,
    "lang_to_id": {"<|en|>": 12, "<|de|>": 13, "<|fr|>": 14},
    "task_to_id": {"translate": 15, "transcribe": 16},
    "no_timestamps_token_id": 17, "max_initial_timestamp_index": 2})");
}

runtime::WhisperPlan Plan(const nlohmann::json& j, runtime::WhisperDecodeOptions o) {
  auto cfg = runtime::WhisperGenerationConfig::FromJson(j, "test");
  EXPECT_TRUE(cfg.ok()) << cfg.status().message();
  auto plan = runtime::PlanWhisperDecoding(*cfg, o);
  EXPECT_TRUE(plan.ok()) << plan.status().message();
  return plan.ok() ? std::move(*plan) : runtime::WhisperPlan{};
}

TEST(WhisperPlan, GivenLanguageAddsTranscribeAndNoTimestamps) {
  auto p = Plan(MultilingualConfig(), {"de", "", false});
  EXPECT_EQ(p.prompt, (std::vector<int64_t>{kStart, kDe, kTranscribe, kNoTs}));
  EXPECT_EQ(p.begin_index, 4);
  EXPECT_FALSE(p.detect_language);
  EXPECT_EQ(Plan(MultilingualConfig(), {"<|DE|>", "translate", false}).prompt,
            (std::vector<int64_t>{kStart, kDe, kTranslate, kNoTs}));
  auto ts = Plan(MultilingualConfig(), {"fr", "", true});
  EXPECT_EQ(ts.prompt, (std::vector<int64_t>{kStart, kFr, kTranscribe}));
  EXPECT_EQ(ts.timestamp_begin, kTs);
  EXPECT_EQ(ts.processors.size(), 3u);  // begin-suppress, suppress, timestamps
  // In HF's order: token 1 is suppressed before the timestamps compete with the best text.
  std::vector<float> l(kVocab, -10.0f);
  for (int64_t t = kTs; t < kVocab; ++t) l[t] = 0.0f;
  l[1] = 5.0f;
  l[4] = 1.0f;
  ts.processors.Apply({kStart, kFr, kTranscribe, kTs, 6}, l.data(), kVocab);
  EXPECT_EQ(Argmax(l), kTs + 1);
}

TEST(WhisperPlan, NoLanguageLeavesSlotOneToTheModelAmongLanguages) {
  auto p = Plan(MultilingualConfig(), {"", "", false});
  EXPECT_EQ(p.prompt, (std::vector<int64_t>{kStart}));
  EXPECT_TRUE(p.detect_language);
  EXPECT_EQ(p.begin_index, 4);  // start, language, transcribe (forced_decoder_ids), notimestamps
  std::vector<float> l(kVocab, 0.0f);
  l[5] = 9;
  l[kFr] = 1;
  p.processors.Apply({kStart}, l.data(), kVocab);
  EXPECT_EQ(Argmax(l), kFr);
  std::vector<float> task(kVocab, 0.0f);
  p.processors.Apply({kStart, kFr}, task.data(), kVocab);
  EXPECT_EQ(Argmax(task), kTranscribe);
  std::vector<float> nots(kVocab, 0.0f);
  p.processors.Apply({kStart, kFr, kTranscribe}, nots.data(), kVocab);
  EXPECT_EQ(Argmax(nots), kNoTs);
  std::vector<float> first(kVocab, 0.0f);  // the first free token: begin-suppress applies
  p.processors.Apply({kStart, kFr, kTranscribe, kNoTs}, first.data(), kVocab);
  EXPECT_TRUE(Masked(first, 0) && Masked(first, kEos) && Masked(first, 1));
  EXPECT_FALSE(Masked(first, 2));
}

TEST(WhisperPlan, TheConfigsLanguageAndTaskApplyUnlessGiven) {
  auto j = MultilingualConfig();
  j["language"] = "fr";
  j["task"] = "translate";
  EXPECT_EQ(Plan(j, {"", "", false}).prompt, (std::vector<int64_t>{kStart, kFr, kTranslate, kNoTs}));
  EXPECT_EQ(Plan(j, {"de", "transcribe", false}).prompt, (std::vector<int64_t>{kStart, kDe, kTranscribe, kNoTs}));
}

TEST(WhisperPlan, ErrorsWhereHfRaises) {
  auto cfg = runtime::WhisperGenerationConfig::FromJson(MultilingualConfig(), "test");
  ASSERT_TRUE(cfg.ok());
  EXPECT_FALSE(runtime::PlanWhisperDecoding(*cfg, {"xx", "", false}).ok());
  EXPECT_FALSE(runtime::PlanWhisperDecoding(*cfg, {"", "summarise", false}).ok());
  auto english = MultilingualConfig();
  english["is_multilingual"] = false;
  auto english_cfg = runtime::WhisperGenerationConfig::FromJson(english, "t");
  ASSERT_TRUE(english_cfg.ok());
  EXPECT_FALSE(runtime::PlanWhisperDecoding(*english_cfg, {"de", "", false}).ok());
  auto old = MultilingualConfig();
  old.erase("no_timestamps_token_id");
  auto old_cfg = runtime::WhisperGenerationConfig::FromJson(old, "t");
  ASSERT_TRUE(old_cfg.ok());
  EXPECT_FALSE(runtime::PlanWhisperDecoding(*old_cfg, {"", "", true}).ok());
  auto bad = MultilingualConfig();
  bad["suppress_tokens"] = "1,2";
  EXPECT_FALSE(runtime::WhisperGenerationConfig::FromJson(bad, "t").ok());
}

TEST(WhisperPlan, TheTinyFixtureDecodesPlainGreedy) {
  // whisper-tiny's generation_config.json sets no language, task, timestamps or suppression:
  // the prompt is the start token and no processor runs (its generate fixture is plain greedy).
  auto model = LoadedModel::Load(test::ModelDir("whisper-tiny"));
  ASSERT_TRUE(model.ok()) << model.status().message();
  auto cfg = runtime::WhisperGenerationConfig::Load(test::ModelDir("whisper-tiny"), (*model)->config());
  ASSERT_TRUE(cfg.ok()) << cfg.status().message();
  auto plan = runtime::PlanWhisperDecoding(*cfg, {});
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->prompt, (std::vector<int64_t>{91}));
  EXPECT_TRUE(plan->processors.empty());
  EXPECT_FALSE(runtime::PlanWhisperDecoding(*cfg, {"en", "", false}).ok());  // no lang_to_id
  EXPECT_FALSE(runtime::PlanWhisperDecoding(*cfg, {"", "", true}).ok());     // no <|notimestamps|>
}

}  // namespace
}  // namespace accel::generation

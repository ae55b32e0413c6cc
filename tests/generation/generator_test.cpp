// The generation loop on real fixture models: batched prompts of different lengths equal
// their single-row runs and HF's greedy output, streaming, stopping rules, seeds, the KV cache.
#include <gtest/gtest.h>

#include "runtime/generation/generator.h"
#include "runtime/loaded_model.h"
#include "test_util.h"

namespace accel::generation {
namespace {

using Fixture = test::LoadedLm;
Fixture Load(const std::string& name) { return test::LoadCausalLm(name); }

TEST(Generator, BatchOfDifferentLengthsMatchesSingleRowsAndReference) {
  Fixture f = Load("mistral-tiny");
  Generator gen(*f.lm, f.model->backend());
  GenerationOptions o;
  o.max_new_tokens = 8;
  // mistral-tiny's generate.output_ids (HF, left-padded batch).
  const std::vector<int64_t> a = {1, 158, 52, 29, 117, 243, 167}, b = {1, 64, 219, 24, 68};
  auto batch = gen.Run({a, b}, o);
  ASSERT_TRUE(batch.ok()) << batch.status().message();
  EXPECT_EQ(batch->rows[0].tokens, (std::vector<int64_t>{146, 242, 192, 106, 168, 26, 169, 23}));
  EXPECT_EQ(batch->rows[1].tokens, (std::vector<int64_t>{202, 72, 244, 66, 186, 50, 172, 23}));
  auto single = gen.Run({b}, o);
  ASSERT_TRUE(single.ok());
  EXPECT_EQ(single->rows[0].tokens, batch->rows[1].tokens);
  EXPECT_EQ(batch->prompt_tokens, 12);
  EXPECT_EQ(batch->generated_tokens, 16);
  EXPECT_GT(batch->kv_cache_bytes, 0u);
}

TEST(Generator, StreamsEveryTokenInOrderAndStopsOnCallback) {
  Fixture f = Load("llama-tiny");
  Generator gen(*f.lm, f.model->backend());
  GenerationOptions o;
  o.max_new_tokens = 8;
  std::vector<int64_t> streamed;
  auto r = gen.Run({{1, 192, 108, 182, 223, 91}}, o, [&](int64_t row, int64_t t) {
    streamed.push_back(t);
    return streamed.size() < 3;
  });
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(streamed, (std::vector<int64_t>{176, 62, 85}));
  EXPECT_EQ(r->rows[0].tokens, streamed);
  EXPECT_EQ(r->rows[0].finish_reason, "callback");
}

// Test detokenizer: token t reads "<t>".
std::string AngleText(const std::vector<int64_t>& ids) {
  std::string s;
  for (int64_t t : ids) s += "<" + std::to_string(t) + ">";
  return s;
}

TEST(Generator, EosStopStringsAndContextLimit) {
  Fixture f = Load("llama-tiny");
  Generator gen(*f.lm, f.model->backend());
  GenerationOptions o;
  o.max_new_tokens = 8;
  o.eos_token_ids = {62};  // the second greedy token
  auto r = gen.Run({{1, 192, 108, 182, 223, 91}}, o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->rows[0].tokens, (std::vector<int64_t>{176, 62}));
  EXPECT_EQ(r->rows[0].finish_reason, "eos");

  o.eos_token_ids.clear();
  o.stop_strings = {"<85>"};
  r = gen.Run({{1, 192, 108, 182, 223, 91}}, o, nullptr, AngleText);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->rows[0].tokens.size(), 3u);
  EXPECT_EQ(r->rows[0].finish_reason, "stop");
  EXPECT_EQ(r->rows[0].text, "<176><62>");

  o.stop_strings.clear();
  o.max_context = 9;  // 6 prompt tokens + 3 slots
  r = gen.Run({{1, 192, 108, 182, 223, 91}}, o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->rows[0].tokens.size(), 4u);  // the last token needs no slot of its own
  EXPECT_EQ(r->rows[0].finish_reason, "context_limit");

  o.max_context = 4;
  auto too_long = gen.Run({{1, 192, 108, 182, 223, 91}}, o);
  ASSERT_FALSE(too_long.ok());
  EXPECT_NE(too_long.status().message().find("exceeds the context limit"), std::string::npos);
  auto bad_id = gen.Run({{1, 100000}}, {});
  EXPECT_FALSE(bad_id.ok());
}

TEST(Generator, FixedSeedReproducesSampledTokensAndCacheIsReused) {
  Fixture f = Load("qwen2-tiny");
  Generator gen(*f.lm, f.model->backend());
  GenerationOptions o;
  o.max_new_tokens = 12;
  o.sampling.temperature = 1.5f;
  o.sampling.top_p = 0.95f;
  o.sampling.seed = 99;
  auto a = gen.Run({{1, 5, 6, 7}, {1, 9}}, o);
  ASSERT_TRUE(a.ok());
  const decoder::KvCache* first = gen.cache();
  auto b = gen.Run({{1, 5, 6, 7}, {1, 9}}, o);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(gen.cache(), first);  // same allocation, reset and reused
  EXPECT_EQ(a->rows[0].tokens, b->rows[0].tokens);
  EXPECT_EQ(a->rows[1].tokens, b->rows[1].tokens);
  o.sampling.seed = 100;
  auto c = gen.Run({{1, 5, 6, 7}, {1, 9}}, o);
  ASSERT_TRUE(c.ok());
  EXPECT_NE(a->rows[0].tokens, c->rows[0].tokens);
}

TEST(GenerateCli, PromptIdsStreamJsonAndErrors) {
  auto r = test::RunCli("generate -m " + test::ModelDir("gpt2-tiny") + " --prompt-ids 110,159,244,141,116 -n 8");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(r.out.rfind("232 90 70 35 104 238 106 242\n", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("timings: prompt 5 tokens"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("TTFT"), std::string::npos);

  r = test::RunCli("generate -m " + test::ModelDir("bloom-tiny") + " --prompt-ids '232,43,47,158,36,169;4,96,187,106' -n 8 --json");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("\"ids\":[83,95,182,89,142,135,112,136]"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"ids\":[165,165,95,95,95,95,95,29]"), std::string::npos) << r.out;

  r = test::RunCli("generate -m " + test::ModelDir("llama-tiny") + " --prompt-ids 1,x");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find("accel: --prompt-ids"), std::string::npos) << r.out;
  r = test::RunCli("generate -m " + test::ModelDir("bert-tiny") + " --prompt-ids 1,2");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find("not a decoder-only"), std::string::npos) << r.out;
  r = test::RunCli("generate -m " + test::ModelDir("llama-tiny") + " --prompt-ids 1,2 --top-p 0");
  EXPECT_EQ(r.exit_code, 2);
}

// Streaming with stop strings: text that may be the start of a stop string is held back and
// shown only once it cannot be; the stop string itself is never shown. llama-tiny's greedy
// continuation is 176 62 85 65 125 27 210 200.
TEST(Generator, StreamedTextHoldsBackPossibleStopStrings) {
  Fixture f = Load("llama-tiny");
  Generator gen(*f.lm, f.model->backend());
  GenerationOptions o;
  o.max_new_tokens = 8;
  const std::vector<int64_t> prompt = {1, 192, 108, 182, 223, 91};
  struct Event {
    size_t tokens;  // tokens generated when the text arrived
    std::string text;
  };
  std::vector<Event> events;
  size_t tokens = 0;
  auto count = [&](int64_t, int64_t) { return ++tokens, true; };
  auto on_text = [&](int64_t, const std::string& t) { events.push_back({tokens, t}); };

  // "<85><65>" completes at the 4th token: "<85>" (3rd) must never be shown.
  o.stop_strings = {"<85><65>"};
  auto r = gen.Run({prompt}, o, count, AngleText, on_text);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->rows[0].finish_reason, "stop");
  EXPECT_EQ(r->rows[0].tokens.size(), 4u);
  std::string shown;
  for (const auto& e : events) shown += e.text;
  EXPECT_EQ(shown, "<176><62>");
  EXPECT_EQ(r->rows[0].text, "<176><62>");

  // "<85><99>" is ruled out by the 4th token: "<85>" waits one token, then comes out.
  events.clear(), tokens = 0;
  o.stop_strings = {"<85><99>"};
  r = gen.Run({prompt}, o, count, AngleText, on_text);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->rows[0].finish_reason, "length");
  shown.clear();
  for (const auto& e : events) {
    EXPECT_EQ(e.text.find("<85>") != std::string::npos, e.tokens == 4) << e.tokens << ": " << e.text;
    shown += e.text;
  }
  EXPECT_EQ(shown, AngleText(r->rows[0].tokens));
  EXPECT_EQ(r->rows[0].text, shown);

  // A held-back tail at the end of generation is released: "<200" could begin "<2001>".
  events.clear(), tokens = 0;
  o.stop_strings = {"<200><1>", "0>!"};
  r = gen.Run({prompt}, o, count, AngleText, on_text);
  ASSERT_TRUE(r.ok());
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().text, "<200>");  // held back at the last token, released by the end
  shown.clear();
  for (const auto& e : events) shown += e.text;
  EXPECT_EQ(shown, AngleText(r->rows[0].tokens));
}

}  // namespace
}  // namespace accel::generation

// The C API (include/accel/accel.h, libaccel.so) as a program uses it: results equal the
// fixtures' references, and bad handles, shapes and text come back as statuses with messages.
#include "accel/accel.h"

#include <gtest/gtest.h>

#include <cmath>
#include <condition_variable>
#include <mutex>
#include <random>
#include <algorithm>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "formats/safetensors.h"
#include "test_util.h"

namespace {

using accel::test::ModelDir;
using json = nlohmann::json;

struct ModelHandle {
  accel_model* m = nullptr;
  ~ModelHandle() { accel_model_free(m); }
};

std::string TakeString(char* s) {
  std::string out = s ? s : "";
  accel_string_free(s);
  return out;
}

TEST(CApi, VersionAndStatusNames) {
  EXPECT_EQ(accel_api_version(), ACCEL_API_VERSION);
  EXPECT_NE(std::string(accel_version()).find('.'), std::string::npos);
  EXPECT_STREQ(accel_status_name(ACCEL_ERR_NOT_FOUND), "ACCEL_ERR_NOT_FOUND");
  EXPECT_STREQ(accel_status_name(static_cast<accel_status>(99)), "ACCEL_ERR_UNKNOWN");
}

TEST(CApi, NullFreedAndMissingAreStatusesWithMessages) {
  char* json = nullptr;
  EXPECT_EQ(accel_model_info(nullptr, &json), ACCEL_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(accel_last_error()).find("NULL"), std::string::npos) << accel_last_error();

  accel_model* m = nullptr;
  EXPECT_EQ(accel_model_load("/nonexistent/model", nullptr, &m), ACCEL_ERR_NOT_FOUND) << accel_last_error();
  EXPECT_EQ(m, nullptr);
  EXPECT_NE(std::string(accel_last_error()).find("/nonexistent/model"), std::string::npos) << accel_last_error();
  EXPECT_EQ(accel_model_load(nullptr, nullptr, &m), ACCEL_ERR_INVALID_ARGUMENT);

  ASSERT_EQ(accel_model_load(ModelDir("bert-tiny").c_str(), nullptr, &m), ACCEL_OK) << accel_last_error();
  accel_model_free(m);
  EXPECT_EQ(accel_model_info(m, &json), ACCEL_ERR_INVALID_ARGUMENT);  // freed
  EXPECT_NE(std::string(accel_last_error()).find("not a live model"), std::string::npos) << accel_last_error();
  accel_model_free(m);  // a second free is ignored
  accel_model_free(nullptr);

  accel_load_options o;
  accel_load_options_init(&o);
  o.memory_limit = "1K";  // memory admission: refused before loading, with the numbers
  EXPECT_EQ(accel_model_load(ModelDir("bert-tiny").c_str(), &o, &m), ACCEL_ERR_OUT_OF_MEMORY);
  EXPECT_NE(std::string(accel_last_error()).find("1.0 KiB"), std::string::npos) << accel_last_error();
  o.memory_limit = nullptr;
  o.device = "tpu";
  EXPECT_NE(accel_model_load(ModelDir("bert-tiny").c_str(), &o, &m), ACCEL_OK);
  EXPECT_NE(std::string(accel_last_error()).find("tpu"), std::string::npos) << accel_last_error();
}

TEST(CApi, RunMatchesTheReferenceAndChecksInputs) {
  ModelHandle h;
  ASSERT_EQ(accel_model_load(ModelDir("bert-tiny").c_str(), nullptr, &h.m), ACCEL_OK) << accel_last_error();
  auto ref = accel::SafetensorsFile::Open(ModelDir("bert-tiny") + "/reference.safetensors").value();
  std::vector<accel_tensor_view> inputs;
  std::vector<std::string> names;
  std::vector<accel::Tensor> keep;
  for (const char* name : {"input_ids", "attention_mask", "token_type_ids"}) {
    auto t = ref->Get(std::string("input.") + name);
    if (!t.ok()) continue;
    keep.push_back(*t);
  }
  const char* in_names[] = {"input_ids", "attention_mask", "token_type_ids"};
  for (size_t i = 0; i < keep.size(); ++i)
    inputs.push_back({in_names[i], ACCEL_DTYPE_I64, keep[i].rank(), keep[i].shape().data(), keep[i].raw()});

  accel_tensors* out = nullptr;
  ASSERT_EQ(accel_model_run(h.m, inputs.data(), inputs.size(), &out), ACCEL_OK) << accel_last_error();
  accel_tensor_view v;
  ASSERT_EQ(accel_tensors_find(out, "last_hidden_state", &v), ACCEL_OK) << accel_last_error();
  accel::Tensor expected = ref->Get("output.last_hidden_state").value();
  ASSERT_EQ(v.dtype, ACCEL_DTYPE_F32);
  ASSERT_EQ(std::vector<int64_t>(v.shape, v.shape + v.rank), expected.shape());
  double worst = 0;
  for (size_t i = 0; i < expected.numel(); ++i)
    worst = std::max(worst, std::fabs(double(static_cast<const float*>(v.data)[i]) - expected.data<float>()[i]));
  EXPECT_LT(worst, 1e-4);
  EXPECT_EQ(accel_tensors_find(out, "nope", &v), ACCEL_ERR_NOT_FOUND);
  EXPECT_EQ(accel_tensors_get(out, 99, &v), ACCEL_ERR_INVALID_ARGUMENT);
  accel_tensors_free(out);

  // No input_ids; input_ids as f32; a negative dimension; twice the same name.
  EXPECT_NE(accel_model_run(h.m, inputs.data() + 1, inputs.size() - 1, &out), ACCEL_OK);
  EXPECT_NE(std::string(accel_last_error()).find("input_ids"), std::string::npos) << accel_last_error();
  accel_tensor_view bad = inputs[0];
  bad.dtype = ACCEL_DTYPE_F32;
  EXPECT_EQ(accel_model_run(h.m, &bad, 1, &out), ACCEL_ERR_INVALID_ARGUMENT) << accel_last_error();
  const int64_t negative[] = {1, -4};
  bad = inputs[0];
  bad.shape = negative;
  EXPECT_EQ(accel_model_run(h.m, &bad, 1, &out), ACCEL_ERR_INVALID_ARGUMENT);
  std::vector<accel_tensor_view> twice = {inputs[0], inputs[0]};
  EXPECT_EQ(accel_model_run(h.m, twice.data(), 2, &out), ACCEL_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(accel_last_error()).find("twice"), std::string::npos) << accel_last_error();
}

TEST(CApi, TokenizeAndEmbed) {
  ModelHandle h;
  const std::string dir = accel::test::BertTinyWithTokenizer("capi_bert");
  ASSERT_EQ(accel_model_load(dir.c_str(), nullptr, &h.m), ACCEL_OK) << accel_last_error();
  json info = json::parse(TakeString([&] { char* s = nullptr; accel_model_info(h.m, &s); return s; }()));
  EXPECT_EQ(info["model_type"], "bert");
  EXPECT_EQ(info["has_tokenizer"], true);
  EXPECT_EQ(info["generates"], false);

  int64_t* ids = nullptr;
  size_t n = 0;
  ASSERT_EQ(accel_tokenize(h.m, "hello world", 1, &ids, &n), ACCEL_OK) << accel_last_error();
  ASSERT_GE(n, 3u);  // [CLS] ... [SEP]
  char* text = nullptr;
  ASSERT_EQ(accel_detokenize(h.m, ids, n, 1, &text), ACCEL_OK) << accel_last_error();
  EXPECT_EQ(TakeString(text), "hello world");
  accel_ids_free(ids);
  EXPECT_EQ(accel_tokenize(h.m, "bad \xC3\x28 utf8", 1, &ids, &n), ACCEL_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(accel_last_error()).find("UTF-8"), std::string::npos);

  const char* texts[] = {"hello world", "the cat sat"};
  accel_tensors* e = nullptr;
  ASSERT_EQ(accel_embed(h.m, texts, 2, 1, &e), ACCEL_OK) << accel_last_error();
  accel_tensor_view v;
  ASSERT_EQ(accel_tensors_get(e, 0, &v), ACCEL_OK);
  EXPECT_STREQ(v.name, "embeddings");
  ASSERT_EQ(v.rank, 2);
  EXPECT_EQ(v.shape[0], 2);
  for (int r = 0; r < 2; ++r) {
    double norm = 0;
    for (int64_t c = 0; c < v.shape[1]; ++c) norm += std::pow(static_cast<const float*>(v.data)[r * v.shape[1] + c], 2);
    EXPECT_NEAR(std::sqrt(norm), 1.0, 1e-5);
  }
  accel_tensors_free(e);
  const char* with_null[] = {"a", nullptr};
  EXPECT_EQ(accel_embed(h.m, with_null, 2, 1, &e), ACCEL_ERR_INVALID_ARGUMENT);
}

TEST(CApi, GreedyGenerationEqualsTheReference) {
  ModelHandle h;
  ASSERT_EQ(accel_model_load(ModelDir("llama-tiny").c_str(), nullptr, &h.m), ACCEL_OK) << accel_last_error();
  auto ref = accel::test::LoadGreedyReference("llama-tiny");
  accel_generate_options o;
  accel_generate_options_init(&o);
  for (size_t r = 0; r < ref.prompts.size(); ++r) {
    o.max_new_tokens = static_cast<int64_t>(ref.new_ids[r].size());
    int64_t* ids = nullptr;
    size_t n = 0;
    ASSERT_EQ(accel_generate_ids(h.m, ref.prompts[r].data(), ref.prompts[r].size(), &o, nullptr, nullptr, &ids, &n), ACCEL_OK)
        << accel_last_error();
    EXPECT_EQ(std::vector<int64_t>(ids, ids + n), ref.new_ids[r]) << "row " << r;
    accel_ids_free(ids);
  }
  // Ids outside the vocabulary, a text prompt without a tokenizer, a bad option.
  const int64_t out_of_vocab[] = {1, 1 << 20};
  EXPECT_EQ(accel_generate_ids(h.m, out_of_vocab, 2, &o, nullptr, nullptr, nullptr, nullptr), ACCEL_ERR_INVALID_ARGUMENT);
  EXPECT_NE(accel_generate(h.m, "hello", &o, nullptr, nullptr, nullptr), ACCEL_OK);
  EXPECT_NE(std::string(accel_last_error()).find("tokenizer"), std::string::npos) << accel_last_error();
  o.top_p = 7.0f;
  EXPECT_EQ(accel_generate_ids(h.m, ref.prompts[0].data(), ref.prompts[0].size(), &o, nullptr, nullptr, nullptr, nullptr),
            ACCEL_ERR_INVALID_ARGUMENT);
}

struct Streamed {
  std::vector<int64_t> tokens;
  std::string text;
  size_t stop_after = 0;  // 0 = never
};

int CollectTokens(int64_t token, const char* text, size_t length, void* user) {
  auto* s = static_cast<Streamed*>(user);
  s->tokens.push_back(token);
  s->text.append(text, length);
  return s->stop_after == 0 || s->tokens.size() < s->stop_after;
}

TEST(CApi, StreamsTextStopsAndCancels) {
  ModelHandle h;
  const std::string dir = accel::test::LlamaTinyWithWordTokenizer("capi_llama");
  ASSERT_EQ(accel_model_load(dir.c_str(), nullptr, &h.m), ACCEL_OK) << accel_last_error();
  auto ref = accel::test::LoadGreedyReference("llama-tiny");
  std::string prompt;
  for (size_t i = 0; i < ref.prompts[0].size(); ++i) prompt += (i ? " w" : "w") + std::to_string(ref.prompts[0][i]);

  accel_generate_options o;
  accel_generate_options_init(&o);
  o.max_new_tokens = static_cast<int64_t>(ref.new_ids[0].size());
  o.chat = 1;  // the template writes the content as it is
  Streamed s;
  char* text = nullptr;
  ASSERT_EQ(accel_generate(h.m, prompt.c_str(), &o, CollectTokens, &s, &text), ACCEL_OK) << accel_last_error();
  EXPECT_EQ(s.tokens, ref.new_ids[0]);
  const std::string whole = TakeString(text);
  EXPECT_EQ(s.text, whole);
  EXPECT_NE(whole.find("w" + std::to_string(ref.new_ids[0][0])), std::string::npos) << whole;

  Streamed two;
  two.stop_after = 2;  // the callback says stop
  ASSERT_EQ(accel_generate(h.m, prompt.c_str(), &o, CollectTokens, &two, nullptr), ACCEL_OK) << accel_last_error();
  EXPECT_EQ(two.tokens.size(), 2u);

  // accel_model_cancel from another thread while the generation waits in its callback.
  std::mutex mu;
  std::condition_variable cv;
  bool first_token = false, cancelled = false;
  struct Ctx {
    std::mutex* mu;
    std::condition_variable* cv;
    bool *first_token, *cancelled;
    int calls = 0;
  } ctx{&mu, &cv, &first_token, &cancelled};
  std::thread canceller([&] {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return first_token; });
    EXPECT_EQ(accel_model_cancel(h.m), ACCEL_OK);
    cancelled = true;
    cv.notify_all();
  });
  o.max_new_tokens = 20;
  auto on_token = [](int64_t, const char*, size_t, void* user) -> int {
    auto* c = static_cast<Ctx*>(user);
    if (++c->calls == 1) {
      std::unique_lock<std::mutex> lock(*c->mu);
      *c->first_token = true;
      c->cv->notify_all();
      c->cv->wait(lock, [&] { return *c->cancelled; });
    }
    return 1;
  };
  char* partial = nullptr;
  EXPECT_EQ(accel_generate(h.m, prompt.c_str(), &o, on_token, &ctx, &partial), ACCEL_ERR_CANCELLED);
  canceller.join();
  EXPECT_EQ(ctx.calls, 1);
  EXPECT_FALSE(TakeString(partial).empty());
  // A cancel with nothing running does not stop the next generation.
  EXPECT_EQ(accel_model_cancel(h.m), ACCEL_OK);
  Streamed after;
  o.max_new_tokens = 3;
  EXPECT_EQ(accel_generate(h.m, prompt.c_str(), &o, CollectTokens, &after, nullptr), ACCEL_OK) << accel_last_error();
  EXPECT_EQ(after.tokens.size(), 3u);
}

TEST(CApi, ConcurrentCallsOnOneModelAreSerialized) {
  ModelHandle h;
  const std::string dir = accel::test::BertTinyWithTokenizer("capi_threads");
  ASSERT_EQ(accel_model_load(dir.c_str(), nullptr, &h.m), ACCEL_OK) << accel_last_error();
  std::vector<std::thread> threads;
  std::vector<int> ok(4, 0);
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      const char* texts[] = {"hello world"};
      for (int i = 0; i < 10; ++i) {
        accel_tensors* e = nullptr;
        if (accel_embed(h.m, texts, 1, 1, &e) == ACCEL_OK) ++ok[t];
        accel_tensors_free(e);
      }
    });
  for (auto& th : threads) th.join();
  for (int t = 0; t < 4; ++t) EXPECT_EQ(ok[t], 10);
}

TEST(CApi, VerifyHardwareAndSelection) {
  char* report = nullptr;
  ASSERT_EQ(accel_verify(ModelDir("gpt2-tiny").c_str(), "cpu", &report), ACCEL_OK) << accel_last_error();
  json r = json::parse(TakeString(report));
  EXPECT_EQ(r["ok"], true);
  EXPECT_EQ(r["model_type"], "gpt2");
  EXPECT_EQ(accel_verify("/nonexistent", nullptr, nullptr), ACCEL_ERR_NOT_FOUND);

  char* hw = nullptr;
  ASSERT_EQ(accel_hardware_report(&hw), ACCEL_OK) << accel_last_error();
  json h = json::parse(TakeString(hw));
  EXPECT_TRUE(h.contains("cpu")) << h.dump();

  char* sel = nullptr;
  ASSERT_EQ(accel_select_device(ModelDir("bert-tiny").c_str(), 1, 32, &sel), ACCEL_OK) << accel_last_error();
  json s = json::parse(TakeString(sel));
  ASSERT_FALSE(s["candidates"].empty());
  EXPECT_EQ(s["candidates"][0]["rank"], 1);
  EXPECT_EQ(accel_select_device(ModelDir("bert-tiny").c_str(), 0, 32, &sel), ACCEL_ERR_INVALID_ARGUMENT);
}

// Random bytes as text and random tensor descriptions into the entry points that parse input:
// every call returns a status (the ASan/UBSan build of CI runs this too). Seeded: reproducible.
TEST(CApi, RandomInputsGiveStatusesNotCrashes) {
  ModelHandle h;
  const std::string dir = accel::test::BertTinyWithTokenizer("capi_random");
  ASSERT_EQ(accel_model_load(dir.c_str(), nullptr, &h.m), ACCEL_OK) << accel_last_error();
  std::mt19937 rng(1234);
  auto byte = [&] { return static_cast<char>(rng() & 0xFF); };
  for (int i = 0; i < 2000; ++i) {
    std::string text(rng() % 64, ' ');
    for (char& c : text) c = (rng() % 4) ? static_cast<char>('a' + rng() % 26) : byte();
    std::replace(text.begin(), text.end(), '\0', 'x');
    int64_t* ids = nullptr;
    size_t n = 0;
    const accel_status s = accel_tokenize(h.m, text.c_str(), 1, &ids, &n);
    ASSERT_TRUE(s == ACCEL_OK || s == ACCEL_ERR_INVALID_ARGUMENT) << accel_status_name(s) << " " << accel_last_error();
    if (s == ACCEL_OK) {
      char* back = nullptr;
      ASSERT_EQ(accel_detokenize(h.m, ids, n, 0, &back), ACCEL_OK) << accel_last_error();
      accel_string_free(back);
    }
    accel_ids_free(ids);
  }
  std::vector<int64_t> data(4096);
  for (int i = 0; i < 500; ++i) {
    const int32_t rank = static_cast<int32_t>(rng() % 5);
    std::vector<int64_t> shape(rank);
    for (auto& d : shape) d = static_cast<int64_t>(rng() % 9) - 1;  // -1 .. 7
    int64_t numel = 1;
    for (int64_t d : shape) numel *= std::max<int64_t>(d, 0);
    for (int64_t k = 0; k < std::min<int64_t>(numel, 4096); ++k) data[k] = static_cast<int64_t>(rng() % 200) - 20;
    const char* names[] = {"input_ids", "attention_mask", "token_type_ids", "pixel_values"};
    accel_tensor_view v = {names[rng() % 4], static_cast<accel_dtype>(rng() % 6), rank, shape.data(), data.data()};
    accel_tensors* out = nullptr;
    const accel_status s = accel_model_run(h.m, &v, 1, &out);
    EXPECT_TRUE(s == ACCEL_OK || s == ACCEL_ERR_INVALID_ARGUMENT || s == ACCEL_ERR_UNSUPPORTED)
        << accel_status_name(s) << " " << accel_last_error();
    EXPECT_NE(s == ACCEL_OK, out == nullptr);
    accel_tensors_free(out);
  }
}

}  // namespace

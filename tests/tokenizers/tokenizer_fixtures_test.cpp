// Every golden record of every tokenizer fixture (outputs of HF `tokenizers` and SentencePiece)
// must match: through the library and through the `accel tokenize --check` CLI contract.
#include <filesystem>

#include <gtest/gtest.h>

#include "test_util.h"
#include "tokenizers/expected_check.h"
#include "tokenizers/tokenizer.h"

namespace accel {
namespace {

std::string Dir(const std::string& name) { return test::DataDir() + "/tokenizers/" + name; }

class HfFixture : public ::testing::TestWithParam<std::string> {};

TEST_P(HfFixture, AllExpectedRecordsMatch) {
  auto tok = Tokenizer::Load(Dir(GetParam()));
  ASSERT_TRUE(tok.ok()) << tok.status().ToString();
  auto rep = CheckExpectedFile(*tok.value(), Dir(GetParam()) + "/expected.jsonl");
  ASSERT_TRUE(rep.ok()) << rep.status().ToString();
  EXPECT_EQ(rep->cases, 140u);
  for (const auto& m : rep->mismatches) ADD_FAILURE() << m;
  EXPECT_EQ(rep->passed, rep->cases);
}

INSTANTIATE_TEST_SUITE_P(Tokenizers, HfFixture,
                         ::testing::Values("bert-wordpiece", "gpt2-bytelevel-bpe", "llama3-bpe", "clip-bpe", "roberta-bpe",
                                           "t5-unigram", "t5-spm-unigram", "llama2-spm-bpe", "llama2-bpe-metaspace",
                                           "whisper-bpe"));

class SpmFixture : public ::testing::TestWithParam<std::string> {};

TEST_P(SpmFixture, SentencePieceModelMatchesLibrary) {
  auto tok = Tokenizer::Load(Dir(GetParam()) + "/tokenizer.model");
  ASSERT_TRUE(tok.ok()) << tok.status().ToString();
  EXPECT_TRUE(tok.value()->is_sentencepiece());
  auto rep = CheckExpectedFile(*tok.value(), Dir(GetParam()) + "/expected_spm.jsonl");
  ASSERT_TRUE(rep.ok()) << rep.status().ToString();
  EXPECT_EQ(rep->cases, 128u);
  for (const auto& m : rep->mismatches) ADD_FAILURE() << m;
  EXPECT_EQ(rep->passed, rep->cases);
}

INSTANTIATE_TEST_SUITE_P(Tokenizers, SpmFixture, ::testing::Values("llama2-spm-bpe", "t5-spm-unigram"));

TEST(TokenizeCli, CheckPassesOnEveryFixture) {
  for (const auto& entry : std::filesystem::directory_iterator(test::DataDir() + "/tokenizers")) {
    if (!entry.is_directory()) continue;
    std::string d = entry.path().string();
    auto r = test::RunCli("tokenize --tokenizer '" + d + "' --check '" + d + "/expected.jsonl'");
    EXPECT_EQ(r.exit_code, 0) << d << "\n" << r.out;
    EXPECT_NE(r.out.find("140/140 cases match"), std::string::npos) << r.out;
  }
  std::string spm = Dir("t5-spm-unigram");
  auto r = test::RunCli("tokenize --tokenizer '" + spm + "/tokenizer.model' --check '" + spm + "/expected_spm.jsonl'");
  EXPECT_EQ(r.exit_code, 0) << r.out;
}

TEST(TokenizeCli, CheckFailsAndPrintsMismatchOnWrongGolden) {
  std::string tmp = test::MakeTempDir("tok_check");
  std::string bad = tmp + "/bad.jsonl";
  FILE* f = std::fopen(bad.c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fputs(R"({"text":"Hello world","add_special_tokens":true,"ids":[12,4240,9,13],"tokens":["[CLS]","hello","world","[SEP]"],"offsets":[[0,0],[0,5],[6,11],[0,0]],"decoded":"hello world"})"
             "\n",
             f);
  std::fclose(f);
  auto r = test::RunCli("tokenize --tokenizer '" + Dir("bert-wordpiece") + "' --check '" + bad + "'");
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("MISMATCH"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("ids expected"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("0/1 cases match"), std::string::npos) << r.out;
}

TEST(TokenizeCli, PrintsIdsTokensOffsets) {
  auto r = test::RunCli("tokenize --tokenizer '" + Dir("bert-wordpiece") + "' --json 'Hello world'");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find(R"("ids":[12,4240,2854,13])"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(R"("offsets":[[0,0],[0,5],[6,11],[0,0]])"), std::string::npos) << r.out;
  r = test::RunCli("tokenize --tokenizer '" + Dir("bert-wordpiece") + "' --no-special --pair 'b' 'a'");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("2 tokens"), std::string::npos) << r.out;
}

TEST(TokenizeCli, BadInputIsOneLineErrorExit2) {
  auto r = test::RunCli("tokenize --tokenizer /nonexistent/dir 'x'");
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("accel: "), std::string::npos) << r.out;
}

}  // namespace
}  // namespace accel

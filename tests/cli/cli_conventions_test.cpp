// The command line as llama.cpp users type it (issue 20): -t is threads everywhere, -m/-p/-n/
// -c/-s/--temp, -n -1, strict id lists, "did you mean", defaults and environment variables in
// --help, org-less HF ids from the cache, file-kind mistakes answered with what was expected,
// and -v/--quiet.
#include <filesystem>
#include <fstream>
#include <regex>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "test_util.h"

namespace accel {
namespace {

namespace fs = std::filesystem;
using test::RunCli;

bool Has(const std::string& out, const std::string& what) { return out.find(what) != std::string::npos; }

std::string Llama() { return test::ModelDir("llama-tiny"); }

nlohmann::json Json(const test::CommandResult& r) {
  auto j = nlohmann::json::parse(r.out.substr(r.out.find('{')), nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << r.out;
  return j;
}

TEST(CliConventions, MistypedCommandSuggestsTheClosest) {
  auto r = RunCli("genrate -m x");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(Has(r.out, "unknown command 'genrate'; did you mean 'generate'?")) << r.out;
  r = RunCli("-t 2 verfy");  // an option value before the command is not taken for a command
  EXPECT_TRUE(Has(r.out, "unknown command 'verfy'; did you mean 'verify'?")) << r.out;
  r = RunCli("api opnai chat hi");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(Has(r.out, "unknown command 'opnai' for 'accel api'; did you mean 'openai'?")) << r.out;
  r = RunCli("zzzzzz");
  EXPECT_TRUE(Has(r.out, "unknown command 'zzzzzz'; commands:")) << r.out;
  EXPECT_TRUE(Has(r.out, " generate ")) << r.out;
}

TEST(CliConventions, ThreadsIsDashTAndTemperatureIsTemp) {
  const std::string base = "generate -m " + Llama() + " --prompt-ids 1,192,108,182 -n 6 --json";
  auto plain = RunCli(base);
  ASSERT_EQ(plain.exit_code, 0) << plain.out;
  // -t 4 is four threads (greedy output unchanged), never temperature 4.
  for (const char* flags : {" -t 1", " -t 4", " --threads 2", " --temp 0", " --temperature 0"}) {
    auto r = RunCli(base + flags);
    ASSERT_EQ(r.exit_code, 0) << flags << r.out;
    EXPECT_EQ(Json(r)["outputs"], Json(plain)["outputs"]) << flags;
  }
  // -t is also accepted before the command and on commands that do not compute (global).
  EXPECT_EQ(RunCli("-t 2 hw --json >/dev/null").exit_code, 0);
  EXPECT_EQ(RunCli("models -t 2 --supported >/dev/null").exit_code, 0);
  EXPECT_EQ(RunCli(base + " -t 0").exit_code, 0);  // 0: all cores
  for (const char* bad_value : {" -t abc", " -t 5000", " -t -2"}) {
    auto bad = RunCli(base + bad_value);
    EXPECT_EQ(bad.exit_code, 2) << bad_value;
    EXPECT_TRUE(Has(bad.out, "is not a thread count (0 to 1024; from -t/--threads or ACCEL_NUM_THREADS)")) << bad.out;
  }
  auto env = RunCli("--version >/dev/null; ACCEL_NUM_THREADS=lots " + std::string(ACCEL_CLI_PATH) + " hw");
  EXPECT_EQ(env.exit_code, 2);
  EXPECT_TRUE(Has(env.out, "'lots' is not a thread count")) << env.out;
  // Sampling with a seed (-s) repeats; --temp samples.
  auto s1 = RunCli(base + " --temp 1.5 -s 7"), s2 = RunCli(base + " --temp 1.5 --seed 7");
  ASSERT_EQ(s1.exit_code, 0) << s1.out;
  EXPECT_EQ(Json(s1)["outputs"], Json(s2)["outputs"]);
}

TEST(CliConventions, PromptIdListsAreStrict) {
  const std::string base = "generate -m " + Llama() + " -n 1 --json --prompt-ids ";
  auto commas = RunCli(base + "1,2,3"), spaces = RunCli(base + "'1 2 3'"), both = RunCli(base + "'1, 2,  3'");
  ASSERT_EQ(commas.exit_code, 0) << commas.out;
  ASSERT_EQ(spaces.exit_code, 0) << spaces.out;
  EXPECT_EQ(Json(spaces)["outputs"][0]["prompt_ids"], nlohmann::json({1, 2, 3}));  // never token 123
  EXPECT_EQ(Json(both)["outputs"][0]["prompt_ids"], nlohmann::json({1, 2, 3}));
  auto rows = RunCli(base + "'1 2;3 4'");
  ASSERT_EQ(rows.exit_code, 0) << rows.out;
  EXPECT_EQ(Json(rows)["outputs"].size(), 2u);
  for (const char* bad : {"'1,,2'", "'1 x'", "',1'", "'1,'", "'-3'", "'1;'", "''", "'1.5'"}) {
    auto r = RunCli(base + bad);
    EXPECT_EQ(r.exit_code, 2) << bad << r.out;
    EXPECT_TRUE(Has(r.out, "--prompt-ids")) << bad << r.out;
  }
}

TEST(CliConventions, NPredictMinusOneRunsToTheContext) {
  auto r = RunCli("generate -m " + Llama() + " --prompt-ids 1,2,3,4 -n -1 -c 12 --ignore-eos --json");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  auto j = Json(r);
  EXPECT_EQ(j["outputs"][0]["finish_reason"], "context_limit");
  EXPECT_EQ(j["outputs"][0]["ids"].size(), 9u);  // 12 positions - 4 prompt tokens, + the token sampled at the last one
  auto same = RunCli("generate -m " + Llama() + " --prompt-ids 1,2,3,4 --n-predict -1 --ctx-size 12 --ignore-eos --json");
  EXPECT_EQ(Json(same)["outputs"], j["outputs"]);
  for (const char* bad : {"-n -2", "--max-tokens x"}) {
    auto e = RunCli("generate -m " + Llama() + " --prompt-ids 1 " + bad);
    EXPECT_EQ(e.exit_code, 2) << e.out;
    EXPECT_FALSE(std::regex_search(e.out, std::regex("[0-9]{12}"))) << "no giant bound: " << e.out;
    EXPECT_TRUE(Has(e.out, "-1 for no limit")) << e.out;
  }
}

TEST(CliConventions, PromptFlagIsThePositionalPrompt) {
  // llama-tiny has no tokenizer: both spellings reach the same tokenizer error, not a parse error.
  auto p = RunCli("generate -m " + Llama() + " -p hello"), pos = RunCli("generate -m " + Llama() + " hello");
  EXPECT_EQ(p.exit_code, 2);
  EXPECT_EQ(p.out, pos.out);
  EXPECT_FALSE(Has(p.out, "not expected")) << p.out;
  auto none = RunCli("generate -m " + Llama());
  EXPECT_TRUE(Has(none.out, "-p TEXT")) << none.out;
}

TEST(CliConventions, HelpShowsDefaultsEnvironmentAndGlobalOptions) {
  auto gen = RunCli("generate --help");
  EXPECT_EQ(gen.exit_code, 0);
  for (const char* s : {"-m,--model", "-p,--prompt", "-n,--n-predict,--max-tokens", "=128", "-c,--ctx-size", "--temp,--temperature",
                        "-s,--seed", "-t,--threads", "ACCEL_NUM_THREADS", "-v,--verbose", "-q,--quiet", "-1: until EOS"}) {
    EXPECT_TRUE(Has(gen.out, s)) << s << "\n" << gen.out;
  }
  EXPECT_FALSE(Has(gen.out, "=[]")) << gen.out;
  auto top = RunCli("--help");
  for (const char* s : {"ACCEL_NUM_THREADS", "ACCEL_LOG_LEVEL", "ACCEL_DB", "OPENAI_API_KEY", "ANTHROPIC_API_KEY", "HF_HUB_CACHE"}) {
    EXPECT_TRUE(Has(top.out, s)) << s << "\n" << top.out;
  }
  auto chat = RunCli("api openai chat --help");
  EXPECT_TRUE(Has(chat.out, "OPENAI_API_KEY")) << chat.out;
  EXPECT_TRUE(Has(chat.out, "=120")) << chat.out;  // --timeout default
  auto claude = RunCli("api claude chat --help");
  EXPECT_TRUE(Has(claude.out, "ANTHROPIC_API_KEY")) << claude.out;
  // -m/--model on every command that takes a model.
  for (const char* cmd : {"generate", "embed", "classify", "select", "classify-image", "detect", "transcribe", "verify", "tokenize",
                          "query", "api openai chat"}) {
    const std::string help = RunCli(std::string(cmd) + " --help").out;
    EXPECT_TRUE(std::regex_search(help, std::regex("-m,[-a-z,]*--model"))) << cmd << "\n" << help;
  }
}

TEST(CliConventions, OrglessHfIdResolvesFromTheCache) {
  const std::string cache = test::MakeTempDir("hfcache");
  const fs::path snap = fs::path(cache) / "models--tinyllama" / "snapshots" / "abc123";
  fs::create_directories(snap);
  fs::create_directories(fs::path(cache) / "models--tinyllama" / "refs");
  std::ofstream(fs::path(cache) / "models--tinyllama" / "refs" / "main") << "abc123\n";
  for (const char* f : {"config.json", "model.safetensors"}) fs::copy_file(fs::path(Llama()) / f, snap / f);
  const std::string env = "env HF_HUB_CACHE=" + cache + " ";
  auto c = RunCli("--version >/dev/null; " + env + ACCEL_CLI_PATH + " classify -m tinyllama --json");
  EXPECT_EQ(c.exit_code, 0) << c.out;
  EXPECT_TRUE(Has(c.out, "\"model_type\": \"llama\"")) << c.out;
  auto g = RunCli("--version >/dev/null; " + env + ACCEL_CLI_PATH + " generate -v -m tinyllama --prompt-ids 1,2 -n 2");
  EXPECT_EQ(g.exit_code, 0) << g.out;
  EXPECT_TRUE(Has(g.out, "debug: model 'tinyllama' is ")) << g.out;  // -v says where it came from
  auto missing = RunCli("--version >/dev/null; " + env + ACCEL_CLI_PATH + " classify nosuchmodel");
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_TRUE(Has(missing.out, "no Hugging Face id 'nosuchmodel' in the cache at " + cache)) << missing.out;
  fs::remove_all(cache);
}

TEST(CliConventions, WrongFileKindsSayWhatWasExpected) {
  const std::string dir = test::MakeTempDir("filekinds");
  const std::string gguf = dir + "/x.gguf", png = dir + "/x.png", wav = dir + "/x.wav";
  std::ofstream(gguf, std::ios::binary) << std::string("GGUF\x03\0\0\0\0\0\0\0", 12);
  std::ofstream(png, std::ios::binary) << "\x89PNG\r\n\x1a\n0000";
  std::ofstream(wav, std::ios::binary) << std::string("RIFF\x24\0\0\0WAVEfmt ", 16);
  auto c = RunCli("classify " + gguf);
  EXPECT_EQ(c.exit_code, 2);
  EXPECT_TRUE(Has(c.out, "is a GGUF model file; expected a model folder, its config.json, or a Hugging Face id")) << c.out;
  EXPECT_FALSE(Has(c.out, "JSON file")) << c.out;
  auto s = RunCli("select -m " + gguf);
  EXPECT_TRUE(Has(s.out, "is a GGUF model file; expected")) << s.out;
  auto e = RunCli("embed -m " + png + " hi");
  EXPECT_TRUE(Has(e.out, "is a PNG image; expected a model folder (config.json + model.safetensors) or a Hugging Face id")) << e.out;
  auto t = RunCli("transcribe -m " + test::ModelDir("whisper-tiny") + " " + png);
  EXPECT_TRUE(Has(t.out, "is a PNG image; expected an audio file (WAV, FLAC or OGG)")) << t.out;
  auto i = RunCli("classify-image -m " + test::ModelDir("clip-tiny") + " --labels a,b " + wav);
  EXPECT_TRUE(Has(i.out, "is a WAV audio file; expected an image (PNG or JPEG)")) << i.out;
  auto v = RunCli("verify " + gguf);
  EXPECT_EQ(v.exit_code, 2);
  EXPECT_TRUE(Has(v.out, "is a GGUF model file; expected a fixture folder")) << v.out;
  auto tok = RunCli("tokenize -m " + gguf + " hi");
  EXPECT_TRUE(Has(tok.out, "is a GGUF model file; expected a model folder, an HF id in the local cache, tokenizer.json or tokenizer.model")) << tok.out;
  auto db = RunCli("db import " + png + " --db " + dir + "/x.db");
  EXPECT_TRUE(Has(db.out, "is a PNG image; expected a results JSON file written by `accel db export`")) << db.out;
  fs::remove_all(dir);
}

TEST(CliConventions, VerboseAndQuiet) {
  const std::string base = "generate -m " + Llama() + " --prompt-ids 1,2 -n 2";
  auto v = RunCli("-v " + base + " -t 2");
  ASSERT_EQ(v.exit_code, 0) << v.out;
  EXPECT_TRUE(Has(v.out, "accel: debug: threads: 2 (-t/--threads")) << v.out;
  auto plain = RunCli(base);
  EXPECT_FALSE(Has(plain.out, "debug:")) << plain.out;
  auto env = RunCli("--version >/dev/null; ACCEL_LOG_LEVEL=debug " + std::string(ACCEL_CLI_PATH) + " " + base);
  EXPECT_TRUE(Has(env.out, "debug: threads:")) << env.out;
  // Info lines (db export's summary) go with --quiet; results and errors stay.
  const std::string dir = test::MakeTempDir("quiet");
  auto loud = RunCli("db export --db " + dir + "/a.db --out " + dir + "/a.json");
  if (loud.exit_code == 0) {
    EXPECT_TRUE(Has(loud.out, "runs written")) << loud.out;
    auto quiet = RunCli("db export --quiet --db " + dir + "/a.db --out " + dir + "/b.json");
    EXPECT_EQ(quiet.exit_code, 0) << quiet.out;
    EXPECT_FALSE(Has(quiet.out, "runs written")) << quiet.out;
  }
  auto err = RunCli("-q classify " + dir + "/none");
  EXPECT_EQ(err.exit_code, 2);
  EXPECT_TRUE(Has(err.out, "accel: ")) << "errors are never silenced";
  fs::remove_all(dir);
}

}  // namespace
}  // namespace accel

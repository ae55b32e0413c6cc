// Issue 22: hostile inputs end in a clean one-line error (exit 2), within time and memory
// bounds, with no secret and no raw control byte in the output. Inputs are generated here.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "api/resilience/stats_file.h"
#include "core/bounded_read.h"
#include "core/mapped_file.h"
#include "core/redact.h"
#include "core/thread_pool.h"
#include "db/sql_connection.h"
#include "db/table.h"
#include "preprocess/audio.h"
#include "preprocess/image.h"
#include "formats/gguf.h"
#include "formats/gguf_model.h"
#include "formats/gguf_writer.h"
#include "formats/safetensors.h"
#include "text/jinja.h"
#include "tokenizers/tokenizer.h"
#include "test_util.h"

namespace accel {
namespace {

namespace fs = std::filesystem;
using test::MakeTempDir;
using test::RandomTensor;

using test::RunShell;

std::string Cli() { return ACCEL_CLI_PATH; }

std::string MakeFifo(const std::string& dir) {
  std::string p = dir + "/fifo";
  EXPECT_EQ(::mkfifo(p.c_str(), 0600), 0);
  return p;
}

bool HasControlBytes(const std::string& s) {
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\n' && c != '\t') || u == 0x7f) return true;
  }
  return false;
}

// ---- Input files: regular files only, bounded ----

TEST(BoundedRead, RefusesFifoDirectoryAndDevicesWithoutBlocking) {
  const std::string dir = MakeTempDir("hostile");
  const std::string fifo = MakeFifo(dir);
  auto start = std::chrono::steady_clock::now();
  auto r = ReadRegularFile(fifo, 1024);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("FIFO"), std::string::npos) << r.status().message();
  EXPECT_FALSE(MappedFile::Open(fifo).ok());
  EXPECT_FALSE(ReadFileToString(fifo).ok());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));

  auto d = ReadRegularFile(dir, 1024);
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("directory"), std::string::npos) << d.status().message();
  for (const char* dev : {"/dev/zero", "/dev/urandom", "/dev/null"}) {
    auto z = ReadFileToString(dev);
    ASSERT_FALSE(z.ok()) << dev;
    EXPECT_EQ(z.status().code(), StatusCode::kInvalidArgument);
    EXPECT_FALSE(MappedFile::Open(dev).ok()) << dev;
  }
  EXPECT_EQ(ReadRegularFile(dir + "/absent", 10).status().code(), StatusCode::kNotFound);
  fs::remove_all(dir);
}

TEST(BoundedRead, CapsTheSize) {
  const std::string dir = MakeTempDir("hostile");
  const std::string f = dir + "/big";
  std::ofstream(f) << std::string(5000, 'x');
  EXPECT_TRUE(ReadRegularFile(f, 5000).ok());
  auto r = ReadRegularFile(f, 4999, "thing");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("larger than"), std::string::npos);
  // /proc files report size 0 and are still read.
  auto p = ReadFileToString("/proc/self/status");
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_FALSE(p->empty());
  fs::remove_all(dir);
}

TEST(HostileCli, FifoAndDeviceInputsFailFast) {
  const std::string dir = MakeTempDir("hostile");
  const std::string fifo = MakeFifo(dir);
  const std::string b = Cli();
  for (const std::string& in : {fifo, std::string("/dev/zero"), std::string("/dev/urandom")}) {
    for (const std::string& args :
         {"tokenize --tokenizer " + in + " hello", "db import " + in + " --db " + dir + "/x.db",
          "api s3 put --base-url http://127.0.0.1:9 bucket key " + in, "classify " + in}) {
      auto r = RunShell(b + " " + args, 20);
      EXPECT_EQ(r.exit_code, 2) << args << "\n" << r.out;
    }
  }
  // a directory where a file is expected
  auto r = RunShell(b + " api s3 put --base-url http://127.0.0.1:9 bucket key " + dir, 20);
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("directory"), std::string::npos) << r.out;
  fs::remove_all(dir);
}

// ---- Parsers ----

TEST(HostileGguf, LongLayerTensorNameIsACleanShortError) {
  const std::string dir = MakeTempDir("hostile");
  const std::string path = dir + "/long.gguf";
  GgufWriter w;
  w.SetString("general.architecture", "llama");
  w.SetU32("llama.embedding_length", 4).SetU32("llama.attention.head_count", 1).SetU32("llama.block_count", 1);
  w.SetU32("llama.feed_forward_length", 4).SetU32("llama.context_length", 8);
  Tensor t = RandomTensor({2, 4}, 1);
  ASSERT_TRUE(w.AddTensor("blk.1." + std::string(30000, 'a'), t).ok());
  ASSERT_TRUE(w.AddTensor("blk.2." + std::string(1 << 20, 'b'), t).ok());
  ASSERT_TRUE(w.Write(path).ok());
  auto f = GgufFile::Open(path);
  ASSERT_TRUE(f.ok()) << f.status().message();
  auto parts = GgufToHf(**f);
  ASSERT_FALSE(parts.ok());
  EXPECT_LT(parts.status().message().size(), 1000u);
  fs::remove_all(dir);
}

TEST(HostileGguf, NonFiniteOrNegativeHyperParametersAreRejected) {
  const std::string dir = MakeTempDir("hostile");
  for (const auto& [key, v] : std::vector<std::pair<std::string, float>>{
           {"llama.rope.freq_base", std::nanf("")}, {"llama.rope.freq_base", -1.f},
           {"llama.attention.layer_norm_rms_epsilon", INFINITY}, {"llama.attention.layer_norm_rms_epsilon", 0.f}}) {
    GgufWriter w;
    w.SetString("general.architecture", "llama");
    w.SetU32("llama.embedding_length", 4).SetU32("llama.attention.head_count", 1).SetU32("llama.block_count", 1);
    w.SetU32("llama.feed_forward_length", 4).SetU32("llama.context_length", 8);
    w.SetF32(key, v);
    Tensor t = RandomTensor({2, 4}, 1);
    ASSERT_TRUE(w.AddTensor("token_embd.weight", t).ok());
    const std::string path = dir + "/m.gguf";
    ASSERT_TRUE(w.Write(path).ok());
    auto f = GgufFile::Open(path);
    ASSERT_TRUE(f.ok());
    auto parts = GgufToHf(**f);
    ASSERT_FALSE(parts.ok()) << key << "=" << v;
    EXPECT_NE(parts.status().message().find(key), std::string::npos) << parts.status().message();
  }
  fs::remove_all(dir);
}

std::string NestedSequence(const char* type_field, const char* list_field, const std::string& leaf, int depth) {
  std::string s;
  for (int i = 0; i < depth; ++i) s += std::string("{\"type\":\"Sequence\",\"") + list_field + "\":[";
  s += leaf;
  for (int i = 0; i < depth; ++i) s += "]}";
  (void)type_field;
  return s;
}

TEST(HostileTokenizer, DeeplyNestedSequencesAreRejected) {
  const std::string model = R"("model":{"type":"WordLevel","vocab":{"a":0,"[UNK]":1},"unk_token":"[UNK]"})";
  for (const auto& [field, list, leaf] : std::vector<std::array<std::string, 3>>{
           {"normalizer", "normalizers", R"({"type":"Lowercase"})"},
           {"pre_tokenizer", "pretokenizers", R"({"type":"Whitespace"})"},
           {"decoder", "decoders", R"({"type":"Fuse"})"},
           {"post_processor", "processors", R"({"type":"ByteLevel"})"}}) {
    const std::string doc = "{" + model + ",\"" + field + "\":" + NestedSequence("", list.c_str(), leaf, 50000) + "}";
    auto t = Tokenizer::FromJson(doc);
    ASSERT_FALSE(t.ok()) << field;
    EXPECT_NE(t.status().message().find("nests deeper"), std::string::npos) << t.status().message();
    // A few levels still load.
    const std::string ok = "{" + model + ",\"" + field + "\":" + NestedSequence("", list.c_str(), leaf, 5) + "}";
    auto t2 = Tokenizer::FromJson(ok);
    EXPECT_TRUE(t2.ok()) << field << ": " << t2.status().message();
  }
}

TEST(HostileTokenizer, HugePaddingIsRejected) {
  const std::string model = R"("model":{"type":"WordLevel","vocab":{"a":0,"[UNK]":1},"unk_token":"[UNK]"})";
  for (const std::string& pad : {std::string(R"({"strategy":{"Fixed":1099511627776}})"),
                                 std::string(R"({"strategy":"BatchLongest","pad_to_multiple_of":1099511627776})")}) {
    auto t = Tokenizer::FromJson("{" + model + ",\"padding\":" + pad + "}");
    ASSERT_FALSE(t.ok()) << pad;
    EXPECT_NE(t.status().message().find("padding"), std::string::npos) << t.status().message();
  }
}

TEST(HostileJinja, NestedLoopsStopAtTheStepBudget) {
  auto t = text::JinjaTemplate::Parse("{% for i in range(10000) %}{% for j in range(10000) %}x{% endfor %}{% endfor %}");
  ASSERT_TRUE(t.ok());
  auto start = std::chrono::steady_clock::now();
  auto r = t->Render(nlohmann::json::object(), size_t{1} << 40);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("steps"), std::string::npos) << r.status().message();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));
  // Real chat templates stay far below the budget.
  auto ok = text::JinjaTemplate::Parse("{% for m in messages %}<{{ m.role }}>{{ m.content | trim }}{% endfor %}");
  ASSERT_TRUE(ok.ok());
  nlohmann::json ctx = {{"messages", nlohmann::json::array()}};
  for (int i = 0; i < 1000; ++i) ctx["messages"].push_back({{"role", "user"}, {"content", " hi "}});
  EXPECT_TRUE(ok->Render(ctx).ok());
}

// Values that double or multiply inside the step budget (found while writing the fuzz seeds):
// each must stop at the output budget, quickly, without allocating gigabytes.
TEST(HostileJinja, GrowingValuesStopAtTheOutputBudget) {
  const std::string doubling = "{% set ns = namespace(s='x', l=[1]) %}{% for i in range(64) %}";
  for (const std::string& src : {doubling + "{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
                                 doubling + "{% set ns.s = ns.s + ns.s %}{% endfor %}",
                                 doubling + "{% set ns.l = ns.l + ns.l %}{% endfor %}",
                                 std::string("{{ ('x' * 60000)|replace('x', 'y' * 60000) }}"),
                                 std::string("{{ ('x' * 60000).replace('', 'y' * 60000) }}"),
                                 std::string("{{ range(60000)|join('y' * 60000) }}")}) {
    auto t = text::JinjaTemplate::Parse(src);
    ASSERT_TRUE(t.ok()) << src << ": " << t.status().message();
    auto start = std::chrono::steady_clock::now();
    auto r = t->Render(nlohmann::json::object(), 1 << 20);
    ASSERT_FALSE(r.ok()) << src;
    EXPECT_NE(r.status().message().find("would exceed 1048576 bytes"), std::string::npos) << src << ": " << r.status().message();
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10)) << src;
  }
  // range() counts its elements as steps: a 100,000-element range rebuilt in a loop is work.
  auto ranges = text::JinjaTemplate::Parse("{% for i in range(100000) %}{{ range(100000)|length > 0 }}{% endfor %}");
  ASSERT_TRUE(ranges.ok());
  auto r = ranges->Render(nlohmann::json::object(), 1 << 24);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("steps"), std::string::npos) << r.status().message();
  // Growth within the budget is still fine.
  auto fine = text::JinjaTemplate::Parse("{{ 'ab'|replace('a', 'xyz') ~ ('-' * 3) }}{{ [1, 2]|join(', ') }}");
  ASSERT_TRUE(fine.ok());
  EXPECT_EQ(fine->Render(nlohmann::json::object()).value(), "xyzb---1, 2");
}

// ---- Media ----

std::string Le32(uint32_t v) { return std::string{char(v), char(v >> 8), char(v >> 16), char(v >> 24)}; }
std::string Le16(uint16_t v) { return std::string{char(v), char(v >> 8)}; }

std::string FloatWav(const std::vector<float>& samples, uint32_t rate) {
  std::string data(reinterpret_cast<const char*>(samples.data()), samples.size() * 4);
  std::string fmt = Le16(3) + Le16(1) + Le32(rate) + Le32(rate * 4) + Le16(4) + Le16(32);
  std::string body = "WAVE" + std::string("fmt ") + Le32(fmt.size()) + fmt + "data" + Le32(data.size()) + data;
  return "RIFF" + Le32(body.size()) + body;
}

TEST(HostileMedia, NonFiniteAudioIsRejected) {
  auto good = preprocess::DecodeAudio(FloatWav({0.f, 0.5f, -0.5f}, 16000), "ok.wav");
  ASSERT_TRUE(good.ok()) << good.status().message();
  for (float bad : {std::nanf(""), INFINITY, -INFINITY}) {
    auto a = preprocess::DecodeAudio(FloatWav({0.f, bad, 0.f}, 16000), "bad.wav");
    ASSERT_FALSE(a.ok());
    EXPECT_NE(a.status().message().find("NaN or infinite"), std::string::npos) << a.status().message();
  }
}

TEST(HostileMedia, ResamplingIsCappedOnItsOutput) {
  // 32 K samples at 1 Hz would become 512 M samples (2 GB) at 16 kHz.
  auto r = preprocess::Resample(std::vector<float>(32000, 0.f), 1, 16000);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("limit"), std::string::npos) << r.status().message();
  EXPECT_TRUE(preprocess::Resample(std::vector<float>(4410, 0.f), 44100, 16000).ok());
  // Found by fuzz_resample: one sample at 1 Hz to 767,938 Hz ran libsoxr for minutes.
  auto start = std::chrono::steady_clock::now();
  auto far = preprocess::Resample(std::vector<float>(1, 0.5f), 1, 767938);
  ASSERT_FALSE(far.ok());
  EXPECT_NE(far.status().message().find("ratio over 65536"), std::string::npos) << far.status().message();
  EXPECT_FALSE(preprocess::Resample(std::vector<float>(100, 0.5f), 1'000'000, 1).ok());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_TRUE(preprocess::Resample(std::vector<float>(2, 0.5f), 1, 16000).ok());
}

TEST(HostileMedia, PngChunkLongerThanTheFileIsRejected) {
  std::string png = "\x89PNG\r\n\x1a\n";
  std::string ihdr = std::string("IHDR") + std::string{0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0};
  png += std::string{0, 0, 0, 13} + ihdr + "CRC!";
  png += std::string{0x7f, char(0xff), char(0xff), char(0xf0)} + "zTXt" + std::string(20, 'a');
  auto start = std::chrono::steady_clock::now();
  auto img = preprocess::DecodeImage(png, "evil.png");
  ASSERT_FALSE(img.ok());
  EXPECT_NE(img.status().message().find("claims"), std::string::npos) << img.status().message();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
}

// ---- CSV ----

TEST(HostileCsv, FormulasAreNeutralised) {
  db::Table t;
  t.columns = {"model", "latency"};
  t.rows = {{std::string("=HYPERLINK(\"http://x\")"), std::string("-1.5")},
            {std::string("@SUM(A1)"), std::string("+cmd|x")},
            {std::string("-2+3"), std::string("12")}};
  const std::string csv = db::FormatTable(t, db::TableFormat::kCsv);
  EXPECT_NE(csv.find("\"'=HYPERLINK("), std::string::npos) << csv;
  EXPECT_NE(csv.find("'@SUM(A1)"), std::string::npos) << csv;
  EXPECT_NE(csv.find("'+cmd|x"), std::string::npos) << csv;
  EXPECT_NE(csv.find("'-2+3"), std::string::npos) << csv;
  EXPECT_NE(csv.find(",-1.5\n"), std::string::npos) << csv;  // numbers stay numbers
}

// ---- Threads ----

TEST(HostileCli, NumThreadsEnvironmentIsBounded) {
  for (const char* v : {"100000", "-3", "abc", "4x"}) {
    ::setenv("ACCEL_NUM_THREADS", v, 1);
    EXPECT_FALSE(ThreadPool::ThreadsFromEnvironment().ok()) << v;
    auto r = RunShell(Cli() + " hw", 60);
    EXPECT_EQ(r.exit_code, 2) << v << ": " << r.out;
    EXPECT_NE(r.out.find("ACCEL_NUM_THREADS"), std::string::npos) << r.out;
  }
  ::setenv("ACCEL_NUM_THREADS", "2", 1);
  EXPECT_EQ(ThreadPool::ThreadsFromEnvironment().value(), 2);
  ::unsetenv("ACCEL_NUM_THREADS");
  EXPECT_EQ(ThreadPool::ThreadsFromEnvironment().value(), 0);
}

// ---- Secrets ----

TEST(Redact, MasksPasswordsKeysAndTokens) {
  struct Case {
    std::string in, secret;
  };
  for (const Case& c : std::vector<Case>{
           {"postgresql://user:hunter2@db:5432/x: refused", "hunter2"},
           {"postgresql://u@db/x?sslmode=require&password=hunter3: bad", "hunter3"},
           {"host=db port=5 password=hunter4 dbname=x", "hunter4"},
           {"host=db password='hunter 5' dbname=x", "hunter 5"},
           {R"({"error":"bad header","headers":{"Authorization":"Bearer sk-abcdef1234567890"}})", "abcdef1234567890"},
           {"HTTP 401: Authorization: Bearer tok_zzzzzzzz was rejected", "tok_zzzzzzzz"},
           {R"({"x-api-key": "sk-ant-secretsecret"})", "secretsecret"},
           {"https://gen.example/v1?key=AIzaSECRET&alt=sse", "AIzaSECRET"},
           {R"(invalid URI query parameter: "password=pw123")", "pw123"},
       }) {
    const std::string out = RedactSecrets(c.in);
    EXPECT_EQ(out.find(c.secret), std::string::npos) << c.in << " -> " << out;
    EXPECT_NE(out.find("***"), std::string::npos) << out;
  }
  // Words that merely contain a key name are left alone; masking twice changes nothing.
  EXPECT_EQ(RedactSecrets("keyword=1 password_hint=x"), "keyword=1 password_hint=x");
  const std::string once = RedactSecrets("postgres://a:b@h/x?password=c: oops");
  EXPECT_EQ(RedactSecrets(once), once);
  EXPECT_NE(once.find("***: oops"), std::string::npos) << once;
}

TEST(Redact, EscapesControlBytesAndCapsLength) {
  EXPECT_EQ(EscapeControlBytes("a\x1b[2Jb\x07\r"), "a\\x1b[2Jb\\x07\\x0d");
  EXPECT_EQ(EscapeControlBytes("line\nnext\t"), "line\nnext\t");
  const std::string capped = RedactForDisplay(std::string(1 << 20, 'n'));
  EXPECT_LT(capped.size(), 5000u);
  EXPECT_FALSE(HasControlBytes(RedactForDisplay("x\x1b]0;title\x07")));
}

TEST(HostileCli, PostgresSecretsAreNeverPrintedNorTakenAsSqlite) {
  const std::string dir = MakeTempDir("hostile");
  const std::string b = Cli();
  EXPECT_TRUE(db::IsPostgresUrl("host=127.0.0.1 port=1 password=pw"));
  EXPECT_FALSE(db::IsPostgresUrl(dir + "/accel.db"));
  for (const std::string& db : {std::string("postgresql://u@127.0.0.1:1/x?password=SeCrEt1"),
                                std::string("postgresql://u:SeCrEt1@127.0.0.1:1/x"),
                                std::string("postgresql://u@127.0.0.1:1/x?passwrd=1&password=SeCrEt1%zz"),
                                std::string("host=127.0.0.1 port=1 password=SeCrEt1")}) {
    for (const std::string& cmd : {std::string("query performance"), "db export --out " + dir + "/o.json", "report --out " + dir + "/r.html"}) {
      auto r = RunShell("cd " + dir + " && " + b + " " + cmd + " --db \"" + db + "\"", 30);
      EXPECT_NE(r.exit_code, 0) << cmd << " " << db << "\n" << r.out;
      EXPECT_NE(r.exit_code, 139) << r.out;
      EXPECT_EQ(r.out.find("SeCrEt1"), std::string::npos) << cmd << " " << db << "\n" << r.out;
    }
  }
  for (const auto& e : fs::directory_iterator(dir))
    EXPECT_EQ(e.path().filename().string().find("SeCrEt1"), std::string::npos) << e.path();
  fs::remove_all(dir);
}

// ---- API stats file ----

TEST(ApiStatsFile, TwentyConcurrentWritersLoseNothing) {
  const std::string dir = MakeTempDir("hostile");
  const std::string path = dir + "/sub/stats.json";
  constexpr int kProcs = 20;
  std::vector<pid_t> kids;
  for (int i = 0; i < kProcs; ++i) {
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      api::ApiStats s;
      api::Usage u;
      u.prompt_tokens = 3;
      u.completion_tokens = 5;
      s.Record({"openai", "m", "chat", "k#0"}, false, nullptr, 1000, u);
      _exit(api::MergeStatsIntoFile(path, s).ok() ? 0 : 1);
    }
    kids.push_back(pid);
  }
  for (pid_t pid : kids) {
    int st = 0;
    ::waitpid(pid, &st, 0);
    EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  }
  api::ApiStats all;
  ASSERT_TRUE(api::LoadStatsFile(path, &all).ok());
  auto snap = all.Snapshot();
  ASSERT_EQ(snap.size(), 1u);
  EXPECT_EQ(snap.begin()->second.attempts, uint64_t{kProcs});
  EXPECT_EQ(snap.begin()->second.successes, uint64_t{kProcs});
  // Token usage from responses survives the merge (it was always 0).
  EXPECT_EQ(snap.begin()->second.prompt_tokens, 3 * kProcs);
  EXPECT_EQ(snap.begin()->second.completion_tokens, 5 * kProcs);
  fs::remove_all(dir);
}

TEST(ApiStatsFile, DirectoryOrFifoIsACleanError) {
  const std::string dir = MakeTempDir("hostile");
  api::ApiStats s;
  EXPECT_FALSE(api::LoadStatsFile(dir, &s).ok());
  EXPECT_FALSE(api::MergeStatsIntoFile(dir, s).ok());
  const std::string fifo = MakeFifo(dir);
  EXPECT_FALSE(api::LoadStatsFile(fifo, &s).ok());
  EXPECT_FALSE(api::MergeStatsIntoFile(fifo, s).ok());
  auto r = RunShell("ACCEL_API_STATS=" + dir + " " + Cli() + " api stats", 20);
  EXPECT_EQ(r.exit_code, 2) << r.out;
  r = RunShell("ACCEL_API_STATS=" + fifo + " " + Cli() + " api stats", 20);
  EXPECT_EQ(r.exit_code, 2) << r.out;
  fs::remove_all(dir);
}

// Found by fuzz_stats_file: counts near 2^64 in the file wrapped to zero when a run merged its
// own (and the signed token counts overflowed). They saturate now.
TEST(ApiStatsFile, HugeCountsSaturateInsteadOfWrapping) {
  const std::string dir = MakeTempDir("hostile");
  const std::string path = dir + "/stats.json";
  const nlohmann::json cell = {{"provider", "p"}, {"model", "m"}, {"endpoint", "/e"}, {"key", "k"},
                               {"attempts", UINT64_MAX}, {"successes", UINT64_MAX}, {"prompt_tokens", UINT64_MAX},
                               {"completion_tokens", INT64_MAX}, {"histogram", {{0, UINT64_MAX}, {3, UINT64_MAX}}}};
  std::ofstream(path) << nlohmann::json{{"cells", {cell, cell}}}.dump();
  api::ApiStats run;
  run.Record({"p", "m", "/e", "k"}, false, nullptr, 10.0, {INT64_MAX, 1});
  ASSERT_TRUE(api::MergeStatsIntoFile(path, run).ok());
  api::ApiStats after;
  ASSERT_TRUE(api::LoadStatsFile(path, &after).ok());
  const auto cells = after.Snapshot();
  ASSERT_EQ(cells.size(), 1u);
  const api::StatsCell& c = cells.begin()->second;
  EXPECT_EQ(c.attempts, UINT64_MAX);
  EXPECT_EQ(c.successes, UINT64_MAX);
  EXPECT_EQ(c.prompt_tokens, INT64_MAX);
  EXPECT_EQ(c.completion_tokens, INT64_MAX);
  EXPECT_EQ(c.latency.count(), UINT64_MAX);
  EXPECT_GT(c.latency.Percentile(99), 0);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace accel

namespace accel {
namespace {

std::string SafetensorsBytes(const std::string& header) {
  std::string out;
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((header.size() >> (8 * i)) & 0xff));
  return out + header + std::string(8, '\0');
}

TEST(HostileSafetensors, BomAndDuplicateNamesAreRejected) {
  const std::string entry = R"({"dtype":"F32","shape":[2],"data_offsets":[0,8]})";
  auto parse = [](const std::string& bytes) {
    return SafetensorsFile::Parse(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), "x.safetensors", nullptr);
  };
  ASSERT_TRUE(parse(SafetensorsBytes("{\"a\":" + entry + "}")).ok());
  auto bom = parse(SafetensorsBytes("\xEF\xBB\xBF{\"a\":" + entry + "}"));
  ASSERT_FALSE(bom.ok());
  EXPECT_NE(bom.status().message().find("byte-order mark"), std::string::npos) << bom.status().message();
  auto dup = parse(SafetensorsBytes("{\"a\":" + entry + ",\"a\":" + entry + "}"));
  ASSERT_FALSE(dup.ok());
  EXPECT_NE(dup.status().message().find("twice"), std::string::npos) << dup.status().message();
  // Nested keys (metadata) may repeat names of tensors.
  EXPECT_TRUE(parse(SafetensorsBytes("{\"__metadata__\":{\"a\":\"x\"},\"a\":" + entry + "}")).ok());
}

}  // namespace
}  // namespace accel

#include "formats/hf_config.h"

namespace accel {
namespace {

TEST(HostileConfig, WrongTypesAndRangesAreErrorsNotDefaults) {
  for (const auto& [body, key] : std::vector<std::pair<std::string, std::string>>{
           {R"("hidden_act": 1)", "hidden_act"},
           {R"("layer_norm_eps": "x")", "layer_norm_eps"},
           {R"("max_position_embeddings": "64")", "max_position_embeddings"},
           {R"("rms_norm_eps": -1e-6)", "rms_norm_eps"},
           {R"("hidden_size": 0)", "hidden_size"},
           {R"("text_config": {"hidden_size": 1.5})", "hidden_size"},
           {R"("tie_word_embeddings": "yes")", "tie_word_embeddings"}}) {
    auto c = HfConfig::Parse("{\"model_type\": \"bert\", " + body + "}", "config.json");
    ASSERT_TRUE(c.ok()) << body;
    Status st = c->CheckSchema();
    ASSERT_FALSE(st.ok()) << body;
    EXPECT_NE(st.message().find("'" + key + "'"), std::string::npos) << st.message();
  }
  auto good = HfConfig::Parse(R"({"model_type": "bert", "hidden_act": "gelu", "n_inner": null, "layer_norm_eps": 1e-12})",
                              "config.json");
  ASSERT_TRUE(good.ok());
  EXPECT_TRUE(good->CheckSchema().ok());
  // Loading a model with such a config fails with exit 2 (it ran with the default before).
  const std::string dir = MakeTempDir("hostile-config");
  fs::copy(test::ModelDir("bert-tiny"), dir, fs::copy_options::recursive | fs::copy_options::overwrite_existing);
  auto cfg = nlohmann::json::parse(std::ifstream(dir + "/config.json"));
  cfg["hidden_act"] = 1;
  std::ofstream(dir + "/config.json") << cfg.dump();
  auto r = test::RunCli("verify " + dir);
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("hidden_act"), std::string::npos) << r.out;
  fs::remove_all(dir);
}

}  // namespace
}  // namespace accel

#include "db/records_json.h"

namespace accel {
namespace {

TEST(HostileDbImport, ImpossibleValuesAreRefused) {
  auto doc = [](const std::string& run_extra, const std::string& result_extra) {
    return R"({"format":")" + std::string(db::kExportFormat) + R"(","version":)" + std::to_string(db::kExportFormatVersion) +
           R"(,"runs":[{"uuid":"u1","started_at":"2026-01-02T10:00:00Z","machine":"m")" + run_extra +
           R"(,"results":[{"model":{"name":"x"},"device":{"name":"cpu"},"dtype":"f32","batch_size":1,"status":"ok")" +
           result_extra + "}]}]}";
  };
  auto good = db::ParseExportDocument(doc("", R"(,"latency_p50_ms":1.5)"), "in.json");
  ASSERT_TRUE(good.ok()) << good.status().message();
  for (const auto& [run_extra, result_extra, what] : std::vector<std::array<std::string, 3>>{
           {R"(,"started_at":"yesterday")", "", "started_at"},
           {R"(,"finished_at":"2026-13-45T99:00:00Z")", "", "finished_at"},
           {"", R"(,"latency_p50_ms":-3)", "latency_p50_ms"},
           {"", R"(,"throughput":-1e308)", "throughput"},
           {"", R"(,"scenario":"warp-speed")", "scenario"},
           {"", R"(,"peak_rss_bytes":-5)", "peak_rss_bytes"}}) {
    std::string text = doc(run_extra, result_extra);
    if (run_extra.find("started_at") != std::string::npos) {
      text.replace(text.find(R"("started_at":"2026-01-02T10:00:00Z",)"), 36, "");
    }
    auto r = db::ParseExportDocument(text, "in.json");
    ASSERT_FALSE(r.ok()) << what << "\n" << text;
    EXPECT_NE(r.status().message().find(what), std::string::npos) << r.status().message();
  }
}

}  // namespace
}  // namespace accel

namespace accel {
namespace {

TEST(HostileCli, MaxContextZeroIsRefused) {
  auto r = test::RunCli("generate -m " + test::ModelDir("llama-tiny") + " --prompt-ids 1,2 -n 1 --max-context 0");
  EXPECT_EQ(r.exit_code, 2) << r.out;
  // The error names the option (CLI11 calls it by its first long name, --ctx-size).
  EXPECT_TRUE(r.out.find("max-context") != std::string::npos || r.out.find("ctx-size") != std::string::npos) << r.out;
}

}  // namespace
}  // namespace accel

#include <csignal>
#include <thread>

#include "bench/isolated_runner.h"
#include "bench/selftest_factory.h"

namespace accel {
namespace {

// Children of `parent` per /proc (pid 0 when none).
pid_t ChildOf(pid_t parent) {
  for (const auto& e : fs::directory_iterator("/proc")) {
    const std::string name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream f(e.path() / "stat");
    std::string stat;
    std::getline(f, stat);
    size_t close = stat.rfind(')');
    if (close == std::string::npos) continue;
    char state = 0;
    int ppid = 0;
    if (std::sscanf(stat.c_str() + close + 1, " %c %d", &state, &ppid) == 2 && ppid == parent) return std::stoi(name);
  }
  return 0;
}

char StateOf(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  if (!std::getline(f, stat)) return 0;  // gone
  size_t close = stat.rfind(')');
  return close == std::string::npos || close + 2 >= stat.size() ? 0 : stat[close + 2];
}

// Killing the bench process (kill -9) takes its forked worker with it.
TEST(HostileBench, WorkerDiesWithItsParent) {
  pid_t bench = ::fork();
  ASSERT_GE(bench, 0);
  if (bench == 0) {
    auto factory = bench::MakeSelftestFactory();
    bench::BenchPoint point{"fault-hang", "cpu", "f32", 1, 8};
    auto model = factory->DescribeModel(point.model);
    auto device = factory->DescribeDevice("cpu");
    bench::IsolationOptions iso;
    iso.timeout_s = 120;
    (void)bench::MeasurePointIsolated(*factory, point, *model, *device, bench::MeasureOptions{}, iso);
    _exit(0);
  }
  pid_t worker = 0;
  for (int i = 0; i < 100 && !worker; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    worker = ChildOf(bench);
  }
  ASSERT_NE(worker, 0) << "the bench process forked no worker";
  ::kill(bench, SIGKILL);
  ::waitpid(bench, nullptr, 0);
  char state = 'S';
  for (int i = 0; i < 100; ++i) {
    state = StateOf(worker);
    if (state == 0 || state == 'Z' || state == 'X') break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(state == 0 || state == 'Z' || state == 'X') << "worker " << worker << " still running, state " << state;
  if (state != 0 && state != 'Z' && state != 'X') ::kill(worker, SIGKILL);
}

}  // namespace
}  // namespace accel

#include "db/bench_store.h"
#include "db/queries.h"
#include "report/html_report.h"
#include "report/report_data.h"

namespace accel {
namespace {

// A bench run killed with -9 never records its end: query stats and the report say so.
TEST(HostileBench, InterruptedRunsAreReported) {
  const std::string dir = MakeTempDir("hostile");
  auto store = db::BenchStore::Open(dir + "/accel.db");
  ASSERT_TRUE(store.ok()) << store.status().message();
  db::RunRecord done, killed;
  done.uuid = "run-done";
  done.started_at = "2026-01-01T00:00:00Z";
  done.machine = "m";
  killed = done;
  killed.uuid = "run-killed";
  auto id = (*store)->BeginRun(done);
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE((*store)->FinishRun(*id, "2026-01-01T00:01:00Z").ok());
  ASSERT_TRUE((*store)->BeginRun(killed).ok());  // never finished

  auto stats = db::RunQuery((*store)->connection(), "stats", {});
  ASSERT_TRUE(stats.ok()) << stats.status().message();
  bool found = false;
  for (const auto& row : stats->rows)
    if (row[0] == "runs_interrupted") found = (row[1] == std::optional<std::string>("1"));
  EXPECT_TRUE(found) << db::FormatTable(*stats, db::TableFormat::kCsv);

  auto data = report::LoadReportData((*store)->connection());
  ASSERT_TRUE(data.ok()) << data.status().message();
  int interrupted = 0;
  for (const auto& r : data->runs) interrupted += r.interrupted;
  EXPECT_EQ(interrupted, 1);
  EXPECT_NE(report::RenderHtmlReport(*data, "now").find("interrupted"), std::string::npos);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace accel

namespace accel {
namespace {

TEST(HostileGguf, OverlappingTensorDataIsRejected) {
  const std::string dir = MakeTempDir("hostile");
  GgufWriter w;
  w.SetString("general.architecture", "llama");
  Tensor t = RandomTensor({2, 4}, 1);
  ASSERT_TRUE(w.AddTensor("a.weight", t).ok());
  ASSERT_TRUE(w.AddTensor("b.weight", t).ok());
  const std::string path = dir + "/overlap.gguf";
  ASSERT_TRUE(w.Write(path).ok());
  ASSERT_TRUE(GgufFile::Open(path).ok());
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  // b.weight's info: name, n_dims (u32), 2 dims (u64), type (u32), then its offset (u64): point it at a.weight.
  size_t at = bytes.find("b.weight");
  ASSERT_NE(at, std::string::npos);
  const size_t offset_at = at + 8 + 4 + 16 + 4;
  std::memset(bytes.data() + offset_at, 0, 8);
  auto f = GgufFile::Parse(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), "overlap.gguf", nullptr);
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.status().message().find("overlap"), std::string::npos) << f.status().message();
  fs::remove_all(dir);
}

}  // namespace
}  // namespace accel

namespace accel {
namespace {

std::string Le64(uint64_t v) {
  std::string s;
  for (int i = 0; i < 8; ++i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  return s;
}

// A metadata array of 17 M one-byte elements (17 MB) would cost ~48x that as JSON values.
TEST(HostileGguf, MetadataArraysAreBudgeted) {
  const uint64_t count = (uint64_t{1} << 24) + 1000;
  const std::string key = "x.blob";
  std::string b = "GGUF" + Le32(3) + Le64(0) + Le64(1) + Le64(key.size()) + key + Le32(9) + Le32(0) + Le64(count);
  b.append(count, '\0');
  auto start = std::chrono::steady_clock::now();
  auto f = GgufFile::Parse(reinterpret_cast<const uint8_t*>(b.data()), b.size(), "blob.gguf", nullptr);
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.status().message().find("elements"), std::string::npos) << f.status().message();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
}

}  // namespace
}  // namespace accel

#include "formats/gguf_tokenizer.h"

namespace accel {
namespace {

// One long vocabulary token made deriving SentencePiece merges quadratic.
TEST(HostileGguf, LongVocabularyTokenLoadsFast) {
  nlohmann::json tokens = {"<unk>", "<s>", "</s>", "a", "b", "ab", std::string(1 << 20, 'a')};
  nlohmann::json md = {{"tokenizer.ggml.model", "llama"},
                       {"tokenizer.ggml.tokens", tokens},
                       {"tokenizer.ggml.scores", std::vector<float>(tokens.size(), 0.f)},
                       {"tokenizer.ggml.token_type", std::vector<int>{2, 3, 3, 1, 1, 1, 1}},
                       {"tokenizer.ggml.unknown_token_id", 0}, {"tokenizer.ggml.bos_token_id", 1},
                       {"tokenizer.ggml.eos_token_id", 2}};
  auto start = std::chrono::steady_clock::now();
  auto j = GgufTokenizerJson(md);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  ASSERT_TRUE(j.ok()) << j.status().message();
  EXPECT_NE(j->dump().find("\"a\",\"b\""), std::string::npos);  // the real merge is still derived
}

}  // namespace
}  // namespace accel

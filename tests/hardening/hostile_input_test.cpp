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
#include "formats/gguf.h"
#include "formats/gguf_model.h"
#include "formats/gguf_writer.h"
#include "text/jinja.h"
#include "tokenizers/tokenizer.h"
#include "test_util.h"

namespace accel {
namespace {

namespace fs = std::filesystem;
using test::CommandResult;
using test::MakeTempDir;
using test::RandomTensor;

// Runs a shell command line (stdout+stderr captured) under a time and address-space limit.
CommandResult RunShell(const std::string& line, int timeout_s = 30) {
  std::string cmd = "ulimit -v 4000000; timeout " + std::to_string(timeout_s) + " sh -c '" + line + "' 2>&1";
  CommandResult r{-1, ""};
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

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

}  // namespace
}  // namespace accel

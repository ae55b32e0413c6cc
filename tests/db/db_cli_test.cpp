// `accel bench`, `accel query`, `accel db` as a user runs them: real processes, real files.
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "generation/llama_tiny_gguf.h"
#include "test_util.h"

namespace accel {
namespace {

using test::RunCli;

class DbCliTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = test::MakeTempDir("dbcli"); }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Db(const std::string& name = "bench.db") { return dir_ + "/" + name; }
  std::string Fixture(const std::string& name) { return test::DataDir() + "/db/" + name; }
  std::string dir_;
};

// Tiny, fast points from the built-in selftest factory.
const char* kQuickBench = "bench --factory selftest --models matmul-64 --batch-sizes 1,2 --iterations 3 --time-budget 0.05 --warmup 0 --scenarios single-stream";

TEST_F(DbCliTest, BenchPrintsWhereResultsAreAndQueriesAnswer) {
  auto r = RunCli(std::string(kQuickBench) + " --db " + Db());
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("results stored in " + Db()), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("2 points, 2 results ok, 0 failed"), std::string::npos) << r.out;

  auto perf = RunCli("query performance --family selftest --format json --db " + Db());
  ASSERT_EQ(perf.exit_code, 0) << perf.out;
  auto rows = nlohmann::json::parse(perf.out);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0]["model"], "matmul-64");
  EXPECT_GT(rows[0]["p50_ms"].get<double>(), 0);

  auto csv = RunCli("query batch --model matmul-64 --hardware cpu --metric throughput --format csv --db " + Db());
  ASSERT_EQ(csv.exit_code, 0) << csv.out;
  EXPECT_EQ(csv.out.rfind("device,dtype,seq,scenario,batch,", 0), 0u) << csv.out;
  EXPECT_EQ(std::count(csv.out.begin(), csv.out.end(), '\n'), 3);

  for (const char* q : {"hardware --model matmul-64", "models --family selftest", "stats"}) {
    auto out = RunCli(std::string("query ") + q + " --db " + Db());
    EXPECT_EQ(out.exit_code, 0) << q << ": " << out.out;
    EXPECT_EQ(out.out.find("(no rows)"), std::string::npos) << q << ": " << out.out;
  }
}

// A user's own model (issue 20): a folder given to -m runs on synthetic inputs of the chosen
// shapes, is stored under its path with its family, and is verified when it is a fixture.
TEST_F(DbCliTest, BenchRunsTheUsersOwnModelFolders) {
  const std::string mine = test::CopyModel("bert-tiny", "bench_user");  // no reference.json
  const std::string fixture = test::ModelDir("llama-tiny");            // a fixture folder by path
  auto r = RunCli("bench -m " + mine + "," + fixture + " --batch-sizes 1,2 --seq-lens 16 --iterations 2 "
                  "--time-budget 0.05 --warmup 0 --scenarios single-stream --db " + Db());
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("4 points, 4 results ok, 0 failed"), std::string::npos) << r.out;
  auto models = RunCli("query models --format json --db " + Db());
  ASSERT_EQ(models.exit_code, 0) << models.out;
  auto rows = nlohmann::json::parse(models.out);
  std::map<std::string, std::string> family;
  for (const auto& row : rows) family[row["model"].get<std::string>()] = row.value("family", "");
  EXPECT_EQ(family[mine], "bert") << models.out;
  EXPECT_EQ(family[fixture], "llama") << models.out;
  EXPECT_NE(r.out.find(fixture + " cpu f32 b1 s16 n32: single-stream ok"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("reference passed"), std::string::npos) << r.out;  // the fixture is verified too
  // The decoder is timed as generation: 32 new tokens after the 16-token prompt.
  EXPECT_NE(r.out.find("tokens/s, pp16 "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(" tok/s, tg32 "), std::string::npos) << r.out;

  // A GGUF file (llama-tiny quantized to Q8_0 by the engine's exporter) and an HF id in a cache.
  const std::string gguf = test_gguf::WriteLlamaTinyGguf(DType::kQ8_0);
  const std::string cache = dir_ + "/hub";
  const std::string snapshot = cache + "/models--acme--tiny-bert/snapshots/abc123";
  std::filesystem::create_directories(snapshot);
  std::filesystem::create_directories(cache + "/models--acme--tiny-bert/refs");
  std::ofstream(cache + "/models--acme--tiny-bert/refs/main") << "abc123";
  for (const char* f : {"config.json", "model.safetensors"})
    std::filesystem::copy_file(test::ModelDir("bert-tiny") + "/" + f, snapshot + "/" + f);
  auto more = test::RunShell("HF_HUB_CACHE=" + cache + " " ACCEL_CLI_PATH " bench -m " + gguf +
                                 ",acme/tiny-bert --batch-sizes 1 --seq-lens 8 --iterations 2 --time-budget 0.05 "
                                 "--warmup 0 --scenarios single-stream --db " + Db(), 120);
  ASSERT_EQ(more.exit_code, 0) << more.out;
  EXPECT_NE(more.out.find("2 points, 2 results ok, 0 failed"), std::string::npos) << more.out;
  EXPECT_NE(more.out.find("acme/tiny-bert cpu f32 b1 s8: single-stream ok"), std::string::npos) << more.out;

  auto missing = RunCli("bench -m /nonexistent/model --db " + Db());
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.out.find("/nonexistent/model"), std::string::npos) << missing.out;
}

// llama-bench's flags on a generator: -p prompt lengths, -n new tokens, -r repetitions; each
// result carries mean ± sd token rates, the time to first token and the thread count, in the
// printed table, in --format json and in the database.
TEST_F(DbCliTest, BenchTakesLlamaBenchFlagsAndStoresThreadsAndTtft) {
  const std::string fixture = test::ModelDir("llama-tiny");
  auto r = RunCli("-t 1 bench -m " + fixture + " -p 8,12 -n 4 -r 3 --warmup 0 --scenarios single-stream --format json --db " + Db());
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const size_t start = r.out.find("[\n");
  ASSERT_NE(start, std::string::npos) << r.out;
  auto rows = nlohmann::json::parse(r.out.substr(start), nullptr, false);
  ASSERT_TRUE(rows.is_array()) << r.out;
  ASSERT_EQ(rows.size(), 2u) << r.out;
  EXPECT_EQ(rows[0]["test"], "b1 pp8+tg4");
  EXPECT_EQ(rows[1]["test"], "b1 pp12+tg4");
  for (const auto& row : rows) {
    EXPECT_EQ(row["threads"], 1) << row;
    EXPECT_GT(row["tg_tok_s"].get<double>(), 0.0) << row;
    EXPECT_GT(row["pp_tok_s"].get<double>(), 0.0) << row;
    EXPECT_FALSE(row["tg_sd"].is_null()) << row;
    EXPECT_GT(row["ttft_ms"].get<double>(), 0.0) << row;
  }
  auto stored = RunCli("db export --db " + Db());
  ASSERT_EQ(stored.exit_code, 0) << stored.out;
  auto runs = nlohmann::json::parse(stored.out, nullptr, false);
  ASSERT_TRUE(runs.is_object() || runs.is_array()) << stored.out;
  EXPECT_NE(stored.out.find("\"gen_tokens\": 4"), std::string::npos) << stored.out;
  EXPECT_NE(stored.out.find("\"threads\": 1"), std::string::npos) << stored.out;
  EXPECT_NE(stored.out.find("\"ttft_ms\""), std::string::npos) << stored.out;
  EXPECT_NE(stored.out.find("\"decode_tokens_per_s_sd\""), std::string::npos) << stored.out;

  auto bad = RunCli("bench -m " + fixture + " -n 0 --db " + Db());
  EXPECT_EQ(bad.exit_code, 2) << bad.out;
}

// The default suite times real-shape synthetic models (no fixture): a LLaMA-1B decoder in the
// weight types people download, as generation, beside the encoders.
TEST_F(DbCliTest, QuickSuiteTimesRealShapesNotFixtures) {
  auto r = RunCli("bench --list");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("llama-1b cpu q4_k b1 s128 n32"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("llama-1b cpu q8_0 b1 s128 n32"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("bert-base cpu f32 b8 s128"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("whisper-base cpu f32 b1"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("bert-tiny"), std::string::npos) << r.out;
  // A fixture can still be timed by name, at its reference inputs' length.
  auto named = RunCli("bench --list -m bert-tiny");
  ASSERT_EQ(named.exit_code, 0) << named.out;
  EXPECT_NE(named.out.find("bert-tiny cpu f32 b1"), std::string::npos) << named.out;
}

TEST_F(DbCliTest, FailedPointsAreRecordedAndTheRunGoesOn) {
  auto r = RunCli("bench --factory selftest --models fault-crash,matmul-64,fault-error --iterations 2 "
                  "--time-budget 0.05 --scenarios single-stream --point-timeout 20 --db " + Db());
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("crashed: killed by signal"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("4 points, 2 results ok, 2 failed"), std::string::npos) << r.out;
  auto strict = RunCli("bench --factory selftest --models fault-error --strict --db " + Db());
  EXPECT_EQ(strict.exit_code, 1) << strict.out;
}

TEST_F(DbCliTest, ConcurrentBenchProcessesLoseNoRows) {
  constexpr int kProcs = 4;
  std::vector<std::thread> threads;
  std::vector<test::CommandResult> results(kProcs);
  // A fresh file: the schema creation races too.
  for (int i = 0; i < kProcs; ++i)
    threads.emplace_back([&, i] { results[i] = RunCli(std::string(kQuickBench) + " --db " + Db()); });
  for (auto& t : threads) t.join();
  for (const auto& r : results) ASSERT_EQ(r.exit_code, 0) << r.out;
  auto stats = RunCli("query stats --format json --db " + Db());
  ASSERT_EQ(stats.exit_code, 0) << stats.out;
  std::map<std::string, nlohmann::json> s;
  for (const auto& row : nlohmann::json::parse(stats.out)) s[row["statistic"]] = row["value"];
  EXPECT_EQ(s["runs"], kProcs);
  EXPECT_EQ(s["results"], 2 * kProcs);
  EXPECT_EQ(s["models"], 1);
}

TEST_F(DbCliTest, ExportImportRoundTrip) {
  auto imp = RunCli("db import " + Fixture("two_devices.json") + " --db " + Db());
  ASSERT_EQ(imp.exit_code, 0) << imp.out;
  EXPECT_NE(imp.out.find("1 runs (4 results) added"), std::string::npos) << imp.out;
  auto again = RunCli("db import " + Fixture("two_devices.json") + " --db " + Db());
  EXPECT_NE(again.out.find("0 runs (0 results) added, 1 already present"), std::string::npos) << again.out;

  std::string exported = dir_ + "/export.json";
  auto exp = RunCli("db export --out " + exported + " --db " + Db());
  ASSERT_EQ(exp.exit_code, 0) << exp.out;
  auto imp2 = RunCli("db import " + exported + " --db " + Db("copy.db"));
  ASSERT_EQ(imp2.exit_code, 0) << imp2.out;
  auto a = RunCli("db export --db " + Db()), b = RunCli("db export --db " + Db("copy.db"));
  EXPECT_EQ(a.out, b.out);

  auto hw = RunCli("query hardware --model bert-base --format json --db " + Db());
  ASSERT_EQ(hw.exit_code, 0) << hw.out;
  auto rows = nlohmann::json::parse(hw.out);
  ASSERT_EQ(rows.size(), 3u);
  std::set<std::string> devices;
  for (const auto& row : rows) devices.insert(row["device"]);
  EXPECT_EQ(devices, (std::set<std::string>{"cpu", "cuda:0"}));
}

TEST_F(DbCliTest, MalformedImportsGiveOneLineErrors) {
  struct Case {
    const char* file;
    const char* expect;
  };
  for (const Case& c : {Case{"truncated.json", "not valid JSON"},
                        Case{"wrong_type.json", "runs[0].results[1].batch_size: expected an integer"},
                        Case{"wrong_format.json", "not an accel results file"},
                        Case{"future_version.json", "results format version 2 is not supported"},
                        Case{"does_not_exist.json", "no such file (expected a results JSON file written by `accel db export`)"}}) {
    auto r = RunCli("db import " + Fixture(c.file) + " --db " + Db());
    EXPECT_EQ(r.exit_code, 2) << c.file << ": " << r.out;
    EXPECT_NE(r.out.find(c.expect), std::string::npos) << c.file << ": " << r.out;
    EXPECT_EQ(r.out.rfind("accel: ", 0), 0u) << r.out;
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
  }
}

TEST_F(DbCliTest, UnusableDatabasesGiveClearErrors) {
  {
    std::ofstream f(Db("corrupt.db"));
    f << std::string(4096, 'z');
  }
  auto corrupt = RunCli("query stats --db " + Db("corrupt.db"));
  EXPECT_EQ(corrupt.exit_code, 2);
  EXPECT_NE(corrupt.out.find("not a usable SQLite database"), std::string::npos) << corrupt.out;

  auto missing = RunCli("query stats --db " + Db("missing.db"));
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.out.find("no benchmark database here"), std::string::npos) << missing.out;

  ASSERT_EQ(RunCli("db import " + Fixture("two_devices.json") + " --db " + Db()).exit_code, 0);
  std::string sql = "sqlite3 " + Db() + " \"INSERT INTO schema_version VALUES (42, 'future')\"";
  ASSERT_EQ(std::system(sql.c_str()), 0);
  auto newer = RunCli("query stats --db " + Db());
  EXPECT_EQ(newer.exit_code, 2);
  EXPECT_NE(newer.out.find("schema version 42 is newer than this accel understands"), std::string::npos) << newer.out;

  auto bad_metric = RunCli("query performance --metric speed --db " + Db());
  EXPECT_EQ(bad_metric.exit_code, 2);
  auto no_model = RunCli("query batch --db " + Db("x.db"));
  EXPECT_EQ(no_model.exit_code, 2);
}

// Issue 22: a database this user may not write is opened read-only: queries and the report work,
// writing commands fail with one line. Root may write any file, so as root the CLI runs as
// nobody (uid 65534). Both cases are covered: a read-only file in a folder nobody may write
// (SQLite cannot make the WAL's -shm file there) and one in a world-writable folder.
TEST_F(DbCliTest, ReadOnlyDatabaseIsReadButNotWritten) {
  std::string as_user;
  if (::geteuid() == 0) {
    if (std::system("command -v setpriv > /dev/null 2>&1") != 0) GTEST_SKIP() << "running as root without setpriv";
    if (!::getpwuid(65534)) GTEST_SKIP() << "running as root and uid 65534 does not exist";
    as_user = "setpriv --reuid=65534 --regid=65534 --clear-groups ";
  }
  ASSERT_EQ(RunCli("db import " + Fixture("two_devices.json") + " --db " + Db()).exit_code, 0);
  const std::string open_dir = dir_ + "/shared";  // world-writable, sticky, like /tmp
  std::filesystem::create_directories(open_dir);
  std::filesystem::copy_file(Db(), open_dir + "/bench.db");
  ASSERT_EQ(::chmod(open_dir.c_str(), 01777), 0);
  ASSERT_EQ(::chmod(dir_.c_str(), 0755), 0);
  for (const std::string& db : {Db(), open_dir + "/bench.db"}) {
    ASSERT_EQ(::chmod(db.c_str(), 0444), 0);
    const std::string cli = as_user + ACCEL_CLI_PATH;
    auto stats = test::RunShell(cli + " query stats --format json --db " + db);
    ASSERT_EQ(stats.exit_code, 0) << db << ": " << stats.out;
    std::map<std::string, nlohmann::json> s;
    for (const auto& row : nlohmann::json::parse(stats.out)) s[row["statistic"]] = row["value"];
    EXPECT_EQ(s["runs"], 1) << stats.out;
    EXPECT_EQ(s["results"], 4) << stats.out;

    const std::string html = open_dir + "/report.html";
    std::filesystem::remove(html);
    auto report = test::RunShell(cli + " report --db " + db + " --out " + html);
    EXPECT_EQ(report.exit_code, 0) << db << ": " << report.out;
    EXPECT_TRUE(std::filesystem::exists(html)) << report.out;

    auto write = test::RunShell(cli + " db import " + Fixture("two_devices.json") + " --db " + db);
    EXPECT_EQ(write.exit_code, 2) << db << ": " << write.out;
    EXPECT_NE(write.out.find("the database is read-only for this user"), std::string::npos) << write.out;
    EXPECT_EQ(std::count(write.out.begin(), write.out.end(), '\n'), 1) << write.out;
  }
}

}  // namespace
}  // namespace accel

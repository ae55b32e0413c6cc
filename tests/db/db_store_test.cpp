// The benchmark store and the query tool, run against SQLite and against a real PostgreSQL
// server with the same tests.
#include <gtest/gtest.h>

#include <filesystem>

#include "db/bench_store.h"
#include "db/migrations.h"
#include "db/queries.h"
#include "pg_server.h"
#include "test_util.h"

namespace accel::db {
namespace {

ResultRecord MakeResult(const std::string& model, const std::string& device, int batch, double p50,
                        const std::string& status = kStatusOk) {
  ResultRecord r;
  r.model = {model, model.substr(0, model.find('-')), "embedding", "synthetic", true, 110000000};
  r.device = {device, device.substr(0, device.find(':')), "test device " + device};
  r.dtype = "f32";
  r.batch_size = batch;
  r.seq_len = 128;
  r.scenario = "single-stream";
  r.status = status;
  if (status != kStatusOk) {
    r.error = "boom";
    return r;
  }
  r.iterations = 10;
  r.load_ms = 12.5;
  r.first_ms = 2 * p50;
  r.latency_p50_ms = p50;
  r.latency_p90_ms = p50 * 1.1;
  r.latency_p99_ms = p50 * 1.2;
  r.latency_mean_ms = p50;
  r.throughput = 1000.0 * batch / p50;
  r.throughput_unit = "samples/s";
  r.peak_rss_bytes = int64_t{100} << 20;
  r.validations.push_back({"reference", "passed", 1e-6, "fixture", "ok"});
  return r;
}

RunRecord MakeRun(const std::string& uuid) {
  RunRecord run;
  run.uuid = uuid;
  run.started_at = "2026-01-01T00:00:00Z";
  run.machine = "testhost";
  run.hardware = {{"cpu", {{"brand", "Test CPU"}}}};
  run.software_version = "0.1.0";
  run.git_commit = "abc123";
  run.suite = "quick";
  return run;
}

enum class Backend { kSqlite, kPostgres };

class StoreTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (GetParam() == Backend::kSqlite) {
      dir_ = test::MakeTempDir("dbtest");
      target_ = dir_ + "/bench.db";
    } else {
      std::string why;
      test::PgServer* server = test::PgServer::Get(&why);
      if (!server) GTEST_SKIP() << "PostgreSQL tests skipped: " << why;
      target_ = server->NewDatabaseUrl();
      ASSERT_FALSE(target_.empty()) << "createdb failed";
    }
    auto store = BenchStore::Open(target_);
    ASSERT_TRUE(store.ok()) << store.status().message();
    store_ = std::move(store).value();
  }
  void TearDown() override {
    store_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  int64_t Count(const std::string& table) {
    auto rows = store_->connection().Query("SELECT COUNT(*) FROM " + table, {});
    EXPECT_TRUE(rows.ok()) << rows.status().message();
    return rows.ok() ? CellInt(rows->rows[0][0]).value_or(-1) : -1;
  }
  // Two devices, three batch sizes of one model, a second model, one failed point.
  void Populate() {
    RunRecord run = MakeRun("run-1");
    auto id = store_->BeginRun(run);
    ASSERT_TRUE(id.ok()) << id.status().message();
    std::vector<ResultRecord> results = {
        MakeResult("bert-base", "cpu", 1, 100), MakeResult("bert-base", "cpu", 8, 600),
        MakeResult("bert-base", "cpu", 2, 180), MakeResult("bert-base", "cuda:0", 1, 5),
        MakeResult("bert-small", "cpu", 1, 20), MakeResult("gpt2-base", "cpu", 1, 0, kStatusCrashed)};
    auto ids = store_->AddResults(*id, run.machine, results);
    ASSERT_TRUE(ids.ok()) << ids.status().message();
    EXPECT_EQ(ids->size(), results.size());
    ASSERT_TRUE(store_->FinishRun(*id, "2026-01-01T00:01:00Z").ok());
  }

  std::string dir_, target_;
  std::unique_ptr<BenchStore> store_;
};

TEST_P(StoreTest, FreshDatabaseIsAtLatestSchema) {
  auto v = CurrentSchemaVersion(store_->connection());
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, LatestSchemaVersion());
  // Reopening migrates nothing and keeps one row per version.
  auto again = BenchStore::Open(target_);
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(Count("schema_version"), LatestSchemaVersion());
}

TEST_P(StoreTest, NewerSchemaIsRefusedClearly) {
  ASSERT_TRUE(store_->connection()
                  .Execute("INSERT INTO schema_version (version, applied_at) VALUES ($1, $2)", {int64_t{99}, "now"})
                  .ok());
  auto reopened = BenchStore::Open(target_);
  ASSERT_FALSE(reopened.ok());
  EXPECT_EQ(reopened.status().code(), StatusCode::kUnsupported);
  EXPECT_NE(reopened.status().message().find("schema version 99 is newer"), std::string::npos)
      << reopened.status().message();
}

TEST_P(StoreTest, ResultsRoundTripThroughExport) {
  Populate();
  EXPECT_EQ(Count("results"), 6);
  EXPECT_EQ(Count("models"), 3);
  EXPECT_EQ(Count("devices"), 2);
  EXPECT_EQ(Count("validations"), 5);
  auto runs = store_->ExportRuns();
  ASSERT_TRUE(runs.ok()) << runs.status().message();
  ASSERT_EQ(runs->size(), 1u);
  const RunRecord& run = (*runs)[0];
  EXPECT_EQ(run.uuid, "run-1");
  EXPECT_EQ(run.finished_at, "2026-01-01T00:01:00Z");
  EXPECT_EQ(run.hardware["cpu"]["brand"], "Test CPU");
  ASSERT_EQ(run.results.size(), 6u);
  const ResultRecord& r = run.results[3];
  EXPECT_EQ(r.device.name, "cuda:0");
  EXPECT_DOUBLE_EQ(*r.latency_p50_ms, 5);
  EXPECT_DOUBLE_EQ(*r.throughput, 200);
  EXPECT_EQ(*r.peak_rss_bytes, int64_t{100} << 20);
  EXPECT_TRUE(r.model.synthetic);
  ASSERT_EQ(r.validations.size(), 1u);
  EXPECT_EQ(r.validations[0].status, "passed");
  EXPECT_EQ(run.results[5].status, kStatusCrashed);
  EXPECT_FALSE(run.results[5].latency_p50_ms.has_value());
}

TEST_P(StoreTest, ImportSkipsRunsAlreadyPresent) {
  RunRecord run = MakeRun("imported-run");
  run.results = {MakeResult("bert-base", "cpu", 1, 100), MakeResult("bert-base", "cpu", 8, 600)};
  auto first = store_->ImportRun(run);
  ASSERT_TRUE(first.ok()) << first.status().message();
  EXPECT_TRUE(*first);
  auto second = store_->ImportRun(run);
  ASSERT_TRUE(second.ok());
  EXPECT_FALSE(*second);
  EXPECT_EQ(Count("runs"), 1);
  EXPECT_EQ(Count("results"), 2);
}

TEST_P(StoreTest, FailedTransactionWritesNothing) {
  auto id = store_->BeginRun(MakeRun("run-tx"));
  ASSERT_TRUE(id.ok());
  // Make the validation insert (after the first result's row) fail half-way through.
  ASSERT_TRUE(store_->connection().Execute("ALTER TABLE validations RENAME TO validations_away").ok());
  auto ids = store_->AddResults(*id, "testhost", {MakeResult("bert-base", "cpu", 1, 100)});
  EXPECT_FALSE(ids.ok());
  ASSERT_TRUE(store_->connection().Execute("ALTER TABLE validations_away RENAME TO validations").ok());
  EXPECT_EQ(Count("results"), 0);
  EXPECT_EQ(Count("models"), 0);
}

TEST_P(StoreTest, PerformanceQueryShowsLatestOkPoints) {
  Populate();
  // A later run measures bert-base on cpu at batch 1 again: the query shows the newer value.
  RunRecord run2 = MakeRun("run-2");
  run2.results = {MakeResult("bert-base", "cpu", 1, 90)};
  ASSERT_TRUE(store_->ImportRun(run2).ok());
  auto t = QueryPerformance(store_->connection(), {"bert", "", "", Metric::kLatency});
  ASSERT_TRUE(t.ok()) << t.status().message();
  ASSERT_EQ(t->rows.size(), 5u);  // gpt2 is another family; the crashed point has no metrics
  int found = 0;
  for (const auto& row : t->rows)
    if (row[1] == "bert-base" && row[3] == "cpu" && row[5] == "1") {
      EXPECT_EQ(row[8], "90");
      ++found;
    }
  EXPECT_EQ(found, 1);
}

TEST_P(StoreTest, HardwareQueryComparesDevicesBestFirst) {
  Populate();
  auto t = QueryHardware(store_->connection(), {"", "", "bert-base", Metric::kThroughput});
  ASSERT_TRUE(t.ok()) << t.status().message();
  ASSERT_GE(t->rows.size(), 2u);
  // batch 1: cuda (200/s) ranks above cpu (10/s).
  EXPECT_EQ(t->rows[0][0], "cuda:0");
  EXPECT_EQ(t->rows[1][0], "cpu");
  auto missing = QueryHardware(store_->connection(), {});
  EXPECT_FALSE(missing.ok());
}

TEST_P(StoreTest, ModelsQueryFiltersByFamilyAndDevice) {
  Populate();
  auto t = QueryModels(store_->connection(), {"bert", "cpu", "", Metric::kMemory});
  ASSERT_TRUE(t.ok()) << t.status().message();
  ASSERT_EQ(t->rows.size(), 4u);
  for (const auto& row : t->rows) {
    EXPECT_EQ(row[0], "cpu");
    EXPECT_EQ(row[8], "100");  // MiB
  }
  auto by_kind = QueryModels(store_->connection(), {"", "cuda", "", Metric::kLatency});
  ASSERT_TRUE(by_kind.ok());
  EXPECT_EQ(by_kind->rows.size(), 1u);
}

TEST_P(StoreTest, BatchQueryShowsScaling) {
  Populate();
  auto t = QueryBatch(store_->connection(), {"", "cpu", "bert-base", Metric::kThroughput});
  ASSERT_TRUE(t.ok()) << t.status().message();
  ASSERT_EQ(t->rows.size(), 3u);
  EXPECT_EQ(t->rows[0][4], "1");
  EXPECT_EQ(t->rows[1][4], "2");
  EXPECT_EQ(t->rows[2][4], "8");
  // throughput 10/s at batch 1, 8000/600 = 13.33/s at batch 8.
  EXPECT_EQ(t->rows[2][9], "1.333");
}

TEST_P(StoreTest, StatsCountEverything) {
  Populate();
  auto t = QueryStats(store_->connection());
  ASSERT_TRUE(t.ok()) << t.status().message();
  std::map<std::string, std::string> stats;
  for (const auto& row : t->rows) stats[*row[0]] = row[1].value_or("");
  EXPECT_EQ(stats["runs"], "1");
  EXPECT_EQ(stats["results"], "6");
  EXPECT_EQ(stats["results_failed"], "1");
  EXPECT_EQ(stats["models"], "3");
  EXPECT_EQ(stats["schema_version"], std::to_string(LatestSchemaVersion()));
  EXPECT_EQ(stats["backend"], GetParam() == Backend::kSqlite ? "sqlite" : "postgresql");
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreTest, ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         [](const auto& info) { return info.param == Backend::kSqlite ? "Sqlite" : "Postgres"; });

TEST(SqliteStore, CorruptFileGivesClearError) {
  std::string dir = test::MakeTempDir("dbcorrupt");
  std::string path = dir + "/bad.db";
  FILE* f = std::fopen(path.c_str(), "wb");
  std::string junk(8192, 'x');
  std::fwrite(junk.data(), 1, junk.size(), f);
  std::fclose(f);
  auto store = BenchStore::Open(path);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kCorrupt);
  EXPECT_NE(store.status().message().find("not a usable SQLite database"), std::string::npos)
      << store.status().message();
  std::filesystem::remove_all(dir);
}

TEST(PostgresStore, UnreachableServerGivesClearError) {
  auto store = BenchStore::Open("postgres://nobody:secret@127.0.0.1:1/none?connect_timeout=2");
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.status().message().find("cannot connect to PostgreSQL"), std::string::npos);
  EXPECT_EQ(store.status().message().find("secret"), std::string::npos) << "password leaked into the message";
}

}  // namespace
}  // namespace accel::db

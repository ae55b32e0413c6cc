// The HTML report: rendered in headless Chromium (Debian's package) to check what a reader
// sees, and checked to need nothing from the network.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "report/html_report.h"
#include "test_util.h"

namespace accel {
namespace {

std::string FindChromium() {
  for (const char* p : {"/usr/bin/chromium", "/usr/bin/chromium-browser"})
    if (std::filesystem::exists(p)) return p;
  return "";
}

std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// Runs headless Chromium with a fresh profile and nothing that phones home.
int RunChromium(const std::string& chromium, const std::string& profile, const std::string& args,
                const std::string& stdout_file) {
  std::string cmd = "timeout 120 " + chromium +
                    " --headless --no-sandbox --disable-gpu --disable-quic --no-first-run"
                    " --disable-background-networking --disable-component-update --disable-sync"
                    " --disable-dev-shm-usage --user-data-dir=" + profile + " " + args + " > " + stdout_file +
                    " 2> " + stdout_file + ".err";
  return std::system(cmd.c_str());
}

class ReportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test::MakeTempDir("report");
    db_ = dir_ + "/bench.db";
    ASSERT_EQ(test::RunCli("db import " + test::DataDir() + "/db/two_devices.json --db " + db_).exit_code, 0);
    auto bench = test::RunCli("bench --factory selftest --models matmul-64,fault-crash --batch-sizes 1,4 "
                              "--iterations 3 --time-budget 0.05 --warmup 0 --db " + db_);
    ASSERT_EQ(bench.exit_code, 0) << bench.out;
    html_ = dir_ + "/report.html";
    auto rep = test::RunCli("report --out " + html_ + " --db " + db_);
    ASSERT_EQ(rep.exit_code, 0) << rep.out;
    EXPECT_NE(rep.out.find("report: " + html_), std::string::npos) << rep.out;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_, db_, html_;
};

TEST_F(ReportTest, IsSelfContained) {
  std::string html = ReadFile(html_);
  // No external resources: no src/href attributes, no imports; the only URL is SVG's namespace.
  EXPECT_FALSE(std::regex_search(html, std::regex(R"((src|href)\s*=)", std::regex::icase)));
  EXPECT_EQ(html.find("@import"), std::string::npos);
  std::string without_ns = std::regex_replace(html, std::regex(R"(xmlns="http://www.w3.org/2000/svg")"), "");
  EXPECT_EQ(without_ns.find("http://"), std::string::npos);
  EXPECT_EQ(without_ns.find("https://"), std::string::npos);
}

TEST_F(ReportTest, RendersInHeadlessChromium) {
  std::string chromium = FindChromium();
  if (chromium.empty()) GTEST_SKIP() << "chromium is not installed (Debian package `chromium`; scripts/setup.sh adds it)";
  std::string dom_file = dir_ + "/dom.html", png = dir_ + "/shot.png";
  ASSERT_EQ(RunChromium(chromium, dir_ + "/profile1", "--dump-dom file://" + html_, dom_file), 0)
      << ReadFile(dom_file + ".err");
  std::string dom = ReadFile(dom_file);
  for (const char* text : {"Latency by device", "Throughput against batch size", "Memory", "Validation matrix",
                           "bert-base", "cuda:0", "matmul-64", "fault-crash", "crashed", "timeout", "synthetic"})
    EXPECT_NE(dom.find(text), std::string::npos) << "rendered page lacks \"" << text << "\"";
  // Charts: latency, memory, and one throughput chart per model with throughput.
  size_t svgs = 0;
  for (size_t pos = 0; (pos = dom.find("<svg", pos)) != std::string::npos; ++pos) ++svgs;
  EXPECT_GE(svgs, 4u);
  EXPECT_NE(dom.find("<rect class=\"bar\""), std::string::npos);
  EXPECT_NE(dom.find("<polyline class=\"line\""), std::string::npos);
  // The sort script ran without breaking the table: every result row survived.
  EXPECT_NE(dom.find("id=\"results\""), std::string::npos);

  ASSERT_EQ(RunChromium(chromium, dir_ + "/profile2", "--window-size=1200,2000 --screenshot=" + png + " file://" + html_,
                        dir_ + "/shot.log"),
            0)
      << ReadFile(dir_ + "/shot.log.err");
  std::string image = ReadFile(png);
  ASSERT_GT(image.size(), 20000u) << "screenshot suspiciously small";
  EXPECT_EQ(image.substr(1, 3), "PNG");
}

TEST(ReportHtml, EscapesWhatTheDatabaseHolds) {
  report::ReportData d;
  d.database = "x.db";
  report::PointRow p;
  p.model = "<script>alert(1)</script>";
  p.family = "f&g";
  p.device = "cpu";
  p.dtype = "f32";
  p.scenario = "single-stream";
  p.status = "ok";
  p.p50_ms = 1.0;
  p.throughput = 1000;
  p.peak_rss_mib = 10;
  d.points.push_back(p);
  std::string html = report::RenderHtmlReport(d, "now");
  EXPECT_EQ(html.find("<script>alert"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(html.find("f&amp;g"), std::string::npos);
}

}  // namespace
}  // namespace accel

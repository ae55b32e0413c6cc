// The HTML report: rendered in headless Chromium (Debian's package) to check what a reader
// sees, and checked to need nothing from the network.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include <nlohmann/json.hpp>

#include "report/html_report.h"
#include "report/report_summary.h"
#include "report/svg_charts.h"
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

void WriteFile(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

// Appended to a copy of the report (after its own script): measures what a reader sees and
// writes it into the page as JSON. Per SVG, every pair of <text>
// boxes is tested for overlap; the download links' data: URLs are decoded and parsed.
const char* kProbe = R"JS(<script>
(function(){
  var r = {width: innerWidth, overflow: document.scrollingElement.scrollWidth - innerWidth, texts: 0, overlaps: []};
  document.querySelectorAll('svg').forEach(function(svg, n){
    var texts = Array.prototype.slice.call(svg.querySelectorAll('text'));
    var boxes = texts.map(function(t){ return t.getBoundingClientRect(); });
    r.texts += texts.length;
    for (var i = 0; i < boxes.length; ++i) for (var j = i + 1; j < boxes.length; ++j) {
      var a = boxes[i], b = boxes[j];
      if (a.left < b.right - 0.5 && b.left < a.right - 0.5 && a.top < b.bottom - 0.5 && b.top < a.bottom - 0.5)
        r.overlaps.push(n + ': "' + texts[i].textContent + '" / "' + texts[j].textContent + '"');
    }
  });
  function body(id){
    var h = document.getElementById(id).getAttribute('href') || '';
    return {type: h.slice(0, h.indexOf(',')), text: decodeURIComponent(h.slice(h.indexOf(',') + 1))};
  }
  function parseCsv(text){  // RFC 4180: quoted fields may hold commas, quotes and newlines
    var rows = [[]], f = '', q = false;
    for (var i = 0; i < text.length; ++i) {
      var c = text[i];
      if (q) { if (c === '"' && text[i + 1] === '"') { f += '"'; ++i; } else if (c === '"') q = false; else f += c; }
      else if (c === '"') q = true;
      else if (c === ',') { rows[rows.length - 1].push(f); f = ''; }
      else if (c === '\n') { rows[rows.length - 1].push(f); f = ''; rows.push([]); }
      else f += c;
    }
    if (rows[rows.length - 1].length === 0) rows.pop();
    return rows;
  }
  var csv = body('download-csv'), json = body('download-json');
  r.csv_type = csv.type; r.json_type = json.type;
  var rows = parseCsv(csv.text);
  r.csv_header = rows.length ? rows[0] : [];
  r.csv_rows = rows.length - 1;
  r.csv_ragged = rows.filter(function(x){ return x.length !== r.csv_header.length; }).length;
  try { var j = JSON.parse(json.text); r.json_rows = j.length; r.json_first_model = j.length ? j[0].model : ''; }
  catch (e) { r.json_error = String(e); }
  r.regressions = document.querySelectorAll('#comparison tr.regression').length;
  var pre = document.createElement('pre'); pre.id = 'probe'; pre.textContent = JSON.stringify(r);
  document.body.appendChild(pre);
})();
</script>)JS";

std::string Unescape(std::string s) {
  for (auto [from, to] : {std::pair<std::string, std::string>{"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&amp;", "&"}})
    for (size_t pos = 0; (pos = s.find(from, pos)) != std::string::npos; pos += to.size()) s.replace(pos, from.size(), to);
  return s;
}

// Renders `html` with the probe at `width` CSS pixels and returns what the probe measured.
// Headless Chromium will not make a window narrower than 500 pixels, so the probed copy is
// shown in an iframe of the exact width; the host page copies the probe's result into its own
// DOM (file pages may read each other under --allow-file-access-from-files) for --dump-dom.
nlohmann::json Probe(const std::string& chromium, const std::string& dir, const std::string& html, int width) {
  std::string w = std::to_string(width), page = ReadFile(html), probed = dir + "/probed" + w + ".html";
  page.insert(page.rfind("</body>"), kProbe);
  WriteFile(probed, page);
  std::string host = dir + "/host" + w + ".html";
  WriteFile(host, "<!DOCTYPE html><html><body style=\"margin:0\"><iframe id=\"f\" style=\"border:0;width:" + w +
                      "px;height:900px\" onload=\"var p=this.contentDocument.getElementById('probe');"
                      "document.getElementById('out').textContent=p?p.textContent:'{}'\" src=\"probed" + w +
                      ".html\"></iframe><pre id=\"out\"></pre></body></html>");
  std::string out = dir + "/probe" + w + ".html";
  RunChromium(chromium, dir + "/profile-probe" + w,
              "--allow-file-access-from-files --hide-scrollbars --window-size=1400,1000 --dump-dom file://" + host, out);
  std::string dom = ReadFile(out);
  size_t a = dom.find("<pre id=\"out\">"), b = dom.find("</pre>", a);
  if (a == std::string::npos || b == std::string::npos) return nlohmann::json{{"error", "no probe output"}};
  a += std::string("<pre id=\"out\">").size();
  return nlohmann::json::parse(Unescape(dom.substr(a, b - a)), nullptr, false);
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

// At a desktop and a phone width: no horizontal page overflow, no overlapping chart labels,
// downloads that parse as CSV and JSON with one row per latest point; a screenshot of each.
TEST_F(ReportTest, LaysOutAtDesktopAndPhoneWidths) {
  std::string chromium = FindChromium();
  if (chromium.empty()) GTEST_SKIP() << "chromium is not installed";
  std::string html = ReadFile(html_);
  std::smatch m;
  ASSERT_TRUE(std::regex_search(html, m, std::regex(R"(id="point-count">(\d+)<)")));
  int points = std::stoi(m[1]);
  for (int width : {1280, 390}) {
    SCOPED_TRACE("width " + std::to_string(width));
    nlohmann::json r = Probe(chromium, dir_, html_, width);
    ASSERT_TRUE(r.is_object() && !r.contains("error")) << r.dump();
    EXPECT_EQ(r["width"], width);
    EXPECT_LE(r["overflow"].get<int>(), 0) << "the page scrolls sideways";
    EXPECT_GT(r["texts"].get<int>(), 10);
    EXPECT_TRUE(r["overlaps"].empty()) << r["overlaps"].dump(1);
    EXPECT_EQ(r["csv_type"], "data:text/csv;charset=utf-8");
    EXPECT_EQ(r["csv_rows"], points);
    EXPECT_EQ(r["csv_ragged"], 0);
    EXPECT_EQ(r["csv_header"][0], "model");
    EXPECT_EQ(r["json_type"], "data:application/json;charset=utf-8");
    EXPECT_FALSE(r.contains("json_error")) << r.dump();
    EXPECT_EQ(r["json_rows"], points);

    std::string png = dir_ + "/shot" + std::to_string(width) + ".png";
    ASSERT_EQ(RunChromium(chromium, dir_ + "/profile-shot" + std::to_string(width),
                          "--hide-scrollbars --window-size=" + std::to_string(width) + ",2400 --screenshot=" + png +
                              " file://" + html_,
                          dir_ + "/shot.log"),
              0);
    std::string image = ReadFile(png);
    ASSERT_GT(image.size(), 20000u) << "screenshot suspiciously small";
    EXPECT_EQ(image.substr(1, 3), "PNG");
    if (const char* keep = std::getenv("ACCEL_REPORT_SHOTS")) std::filesystem::copy_file(
        png, std::string(keep) + "/report" + std::to_string(width) + ".png",
        std::filesystem::copy_options::overwrite_existing);
  }
}

// Two runs of the same points, the second with bert-base on cpu slower (97 -> 150 ms) and on
// cuda:0 faster (3.5 -> 2.5 ms): the report flags one regression and one improvement.
TEST(ReportComparison, FlagsRegressionsBetweenTwoRuns) {
  std::string dir = test::MakeTempDir("report-cmp"), db = dir + "/bench.db", html = dir + "/report.html";
  std::string first = test::DataDir() + "/db/two_devices.json", second = ReadFile(first);
  for (auto [from, to] : {std::pair<std::string, std::string>{"-000000000001", "-000000000002"},
                          {"\"latency_p50_ms\": 97.0", "\"latency_p50_ms\": 150.0"},
                          {"\"latency_p50_ms\": 3.5,", "\"latency_p50_ms\": 2.5,"}}) {
    size_t pos = second.find(from);
    ASSERT_NE(pos, std::string::npos) << from;
    second.replace(pos, from.size(), to);
  }
  WriteFile(dir + "/second.json", second);
  ASSERT_EQ(test::RunCli("db import " + first + " --db " + db).exit_code, 0);
  ASSERT_EQ(test::RunCli("db import " + dir + "/second.json --db " + db).exit_code, 0);
  ASSERT_EQ(test::RunCli("report --out " + html + " --db " + db).exit_code, 0);
  std::string page = ReadFile(html);
  std::smatch m;
  ASSERT_TRUE(std::regex_search(page, m, std::regex(R"(<tr class="regression">(.*?)</tr>)")));
  EXPECT_NE(m[1].str().find("bert-base"), std::string::npos);
  EXPECT_NE(m[1].str().find("cpu f32"), std::string::npos);
  EXPECT_NE(m[1].str().find("+55% time (slower)"), std::string::npos) << m[1];
  ASSERT_TRUE(std::regex_search(page, m, std::regex(R"(<tr class="improvement">(.*?)</tr>)")));
  EXPECT_NE(m[1].str().find("cuda:0 f16"), std::string::npos);
  EXPECT_NE(page.find("1 regressions</span>"), std::string::npos);
  EXPECT_NE(page.find("1 improvements</span>"), std::string::npos);
  std::string chromium = FindChromium();
  if (!chromium.empty()) {
    nlohmann::json r = Probe(chromium, dir, html, 1280);
    EXPECT_EQ(r["regressions"], 1) << r.dump();
    EXPECT_TRUE(r["overlaps"].empty()) << r["overlaps"].dump(1);
  }
  std::filesystem::remove_all(dir);
}

TEST(ReportSummary, ComparesWithThePreviousResult) {
  report::PointRow p;
  EXPECT_EQ(report::CompareToPrevious(p).trend, report::Trend::kNone);
  p.p50_ms = 12;
  p.prev_p50_ms = 10;
  EXPECT_EQ(report::CompareToPrevious(p).trend, report::Trend::kSlower);
  p.p50_ms = 10.5;
  EXPECT_EQ(report::CompareToPrevious(p).trend, report::Trend::kSame);
  p.p50_ms = 8;
  EXPECT_EQ(report::CompareToPrevious(p).trend, report::Trend::kFaster);
  report::PointRow q;  // throughput only: less is slower
  q.throughput = 80;
  q.prev_throughput = 100;
  EXPECT_EQ(report::CompareToPrevious(q).trend, report::Trend::kSlower);
  EXPECT_DOUBLE_EQ(report::CompareToPrevious(q).ratio, 1.25);
}

TEST(ReportSummary, HeadlinesTakeTheBestAndRelateToCpuF32) {
  auto point = [](std::string device, std::string dtype, int batch, double p50, double tput) {
    report::PointRow p;
    p.model = "m";
    p.device = device;
    p.dtype = dtype;
    p.batch = batch;
    p.status = "ok";
    p.p50_ms = p50;
    p.throughput = tput;
    return p;
  };
  auto rows = report::Headlines({point("cpu", "f32", 1, 10, 100), point("cpu", "f32", 8, 60, 133),
                                 point("cuda:0", "f16", 1, 1, 1330)});
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].best_throughput, 133);
  EXPECT_EQ(rows[0].best_p50_ms, 10);
  EXPECT_DOUBLE_EQ(*rows[0].speedup, 1);
  EXPECT_DOUBLE_EQ(*rows[1].speedup, 10);
  EXPECT_EQ(rows[1].baseline, "cpu f32");
}

TEST(ReportSummary, MachineRowsReadTheHardwareJson) {
  report::RunRow run;
  run.machine = "host";
  run.hardware_json = R"({"cpu":{"brand":"X CPU","isa":"avx2 fma","threads":8},"memory_bytes":17179869184,)"
                      R"("gpus":[{"name":"G1","memory_total_bytes":8589934592}]})";
  run.software_version = "0.1.0";
  run.git_commit = "abc1234";
  std::map<std::string, std::string> rows;
  for (auto& [k, v] : report::MachineRows(run)) rows[k] = v;
  EXPECT_EQ(rows["CPU"], "X CPU");
  EXPECT_EQ(rows["cores (threads)"], "8");
  EXPECT_EQ(rows["ISA"], "avx2 fma");
  EXPECT_EQ(rows["memory"], "16 GiB");
  EXPECT_EQ(rows["GPUs"], "G1 (8 GiB)");
  EXPECT_EQ(rows["commit"], "abc1234");
  run.hardware_json = "not json";
  EXPECT_EQ(report::MachineRows(run)[1].second, "not json");
}

TEST(ReportCharts, TruncatesLabelsByCharacters) {
  EXPECT_EQ(report::Truncate("short", 10), "short");
  EXPECT_EQ(report::Truncate("abcdefghij", 5), "abcd\u2026");
  EXPECT_EQ(report::TruncateMiddle("abcdefghij", 5), "ab\u2026ij");
  EXPECT_EQ(report::TruncateMiddle("\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9", 5), "\u00e9\u00e9\u2026\u00e9\u00e9");
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
  // The embedded results JSON cannot close its script element.
  EXPECT_NE(html.find("\\u003cscript>alert(1)\\u003c/script>"), std::string::npos);
}

}  // namespace
}  // namespace accel

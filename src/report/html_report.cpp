#include "report/html_report.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>

#include "db/bench_store.h"
#include "db/table.h"
#include "report/svg_charts.h"

namespace accel::report {
namespace {

const char* kStyle = R"CSS(
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px auto;max-width:1100px;color:#222;padding:0 16px}
h1{font-size:1.6em;margin-bottom:4px}h2{margin-top:36px;border-bottom:1px solid #ddd;padding-bottom:4px}
.meta{color:#666;font-size:.9em}
table{border-collapse:collapse;font-size:.85em;margin:8px 0}
th,td{border:1px solid #ddd;padding:4px 8px;text-align:left}th{background:#f4f4f4;cursor:pointer;user-select:none}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.chart{width:100%;max-width:760px;height:auto;display:block;margin:8px 0 20px}
.chart-title{font-size:14px;font-weight:600}.axis-label{font-size:12px;fill:#444}.tick{font-size:11px;fill:#555}
.grid{stroke:#e5e5e5;stroke-width:1}
.cell-passed{background:#d9f2d9}.cell-failed{background:#f8d0d0}.cell-skipped{background:#eee}
.cell-error{background:#f6b26b}.cell-none{background:#fff}
.badge{display:inline-block;padding:1px 6px;border-radius:8px;background:#eef;font-size:.8em}
)CSS";

const char* kScript = R"JS(
document.querySelectorAll('table.sortable').forEach(function(table){
  table.querySelectorAll('th').forEach(function(th, col){
    th.addEventListener('click', function(){
      var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
      var asc = th.dataset.asc !== '1'; th.dataset.asc = asc ? '1' : '0';
      rows.sort(function(a, b){
        var x = a.cells[col].textContent, y = b.cells[col].textContent;
        var nx = parseFloat(x), ny = parseFloat(y);
        var c = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
        return asc ? c : -c;
      });
      rows.forEach(function(r){ body.appendChild(r); });
    });
  });
});
)JS";

std::string Fmt(const std::optional<double>& v) { return v ? db::FormatNumber(*v) : "-"; }

std::string SeriesName(const PointRow& p) { return p.device + " " + p.dtype; }

bool Ok(const PointRow& p) { return p.status == "ok"; }

// Latency (p50, single-stream, smallest batch of each model) by device.
std::string LatencyChart(const ReportData& d) {
  std::map<std::string, int> min_batch;
  for (const auto& p : d.points)
    if (Ok(p) && p.scenario == "single-stream" && p.p50_ms)
      min_batch[p.model] = min_batch.count(p.model) ? std::min(min_batch[p.model], p.batch) : p.batch;
  BarChartData c;
  c.title = "Latency by device (p50, single-stream, smallest batch)";
  c.y_label = "ms";
  std::set<std::string> series;
  for (const auto& p : d.points)
    if (Ok(p) && p.scenario == "single-stream" && p.p50_ms) series.insert(SeriesName(p));
  c.series.assign(series.begin(), series.end());
  for (const auto& [model, batch] : min_batch) {
    c.groups.push_back(model + " b" + std::to_string(batch));
    std::vector<std::optional<double>> row(c.series.size());
    for (const auto& p : d.points) {
      if (!Ok(p) || p.model != model || p.batch != batch || p.scenario != "single-stream" || !p.p50_ms) continue;
      size_t k = std::find(c.series.begin(), c.series.end(), SeriesName(p)) - c.series.begin();
      if (!row[k]) row[k] = *p.p50_ms;  // first sequence length listed
    }
    c.values.push_back(std::move(row));
  }
  if (c.groups.empty()) return "<p>No successful single-stream results yet.</p>";
  return GroupedBarChart(c);
}

// One chart per model: throughput against batch size, a line per device and dtype.
std::string ThroughputCharts(const ReportData& d) {
  std::map<std::string, std::map<std::string, std::map<int, double>>> by_model;  // model -> series -> batch -> y
  std::map<std::string, std::string> units;
  std::set<std::string> has_offline;
  for (const auto& p : d.points)
    if (Ok(p) && p.scenario == "offline" && p.throughput) has_offline.insert(p.model);
  for (const auto& p : d.points) {
    if (!Ok(p) || !p.throughput) continue;
    const char* wanted = has_offline.count(p.model) ? "offline" : "single-stream";
    if (p.scenario != wanted) continue;
    auto& series = by_model[p.model][SeriesName(p) + " (" + wanted + ")"];
    if (!series.count(p.batch)) series[p.batch] = *p.throughput;
    units[p.model] = p.unit;
  }
  std::string html;
  for (const auto& [model, series_map] : by_model) {
    LineChartData c;
    c.title = "Throughput vs batch size: " + model;
    c.x_label = "batch size";
    c.y_label = units[model].empty() ? "items/s" : units[model];
    for (const auto& [name, pts] : series_map) {
      LineSeries s{name, {}};
      for (const auto& [b, y] : pts) s.points.push_back({double(b), y});
      c.series.push_back(std::move(s));
    }
    html += LineChart(c);
  }
  return html.empty() ? "<p>No throughput results yet.</p>" : html;
}

std::string MemoryChart(const ReportData& d) {
  BarChartData c;
  c.title = "Peak resident memory (largest over each model's points)";
  c.y_label = "MiB";
  std::set<std::string> models, series;
  for (const auto& p : d.points)
    if (Ok(p) && p.peak_rss_mib) {
      models.insert(p.model);
      series.insert(SeriesName(p));
    }
  c.groups.assign(models.begin(), models.end());
  c.series.assign(series.begin(), series.end());
  for (const auto& m : c.groups) {
    std::vector<std::optional<double>> row(c.series.size());
    for (const auto& p : d.points) {
      if (!Ok(p) || p.model != m || !p.peak_rss_mib) continue;
      size_t k = std::find(c.series.begin(), c.series.end(), SeriesName(p)) - c.series.begin();
      row[k] = std::max(row[k].value_or(0), *p.peak_rss_mib);
    }
    c.values.push_back(std::move(row));
  }
  if (c.groups.empty()) return "<p>No memory measurements yet.</p>";
  return GroupedBarChart(c);
}

// Model x device: a failed point shows its failure; otherwise the worst validation.
std::string ValidationMatrix(const ReportData& d) {
  std::set<std::string> models, devices;
  std::map<std::pair<std::string, std::string>, std::pair<int, std::string>> cell;  // rank, text
  auto rank_of = [](const PointRow& p) -> std::pair<int, std::string> {
    if (!Ok(p)) return {5, p.status};
    if (p.validation == "failed") return {4, "failed"};
    if (p.validation == "passed") return {2, "passed"};
    if (p.validation == "skipped") return {1, "not validated"};
    return {0, "no check"};
  };
  for (const auto& p : d.points) {
    models.insert(p.model);
    devices.insert(p.device);
    auto r = rank_of(p);
    auto& c = cell[{p.model, p.device}];
    if (r.first > c.first || c.second.empty()) c = r;
  }
  if (models.empty()) return "<p>No results yet.</p>";
  std::string h = "<table id=\"validation-matrix\"><thead><tr><th>model</th>";
  for (const auto& dev : devices) h += "<th>" + HtmlEscape(dev) + "</th>";
  h += "</tr></thead><tbody>";
  for (const auto& m : models) {
    h += "<tr><td>" + HtmlEscape(m) + "</td>";
    for (const auto& dev : devices) {
      auto it = cell.find({m, dev});
      if (it == cell.end()) {
        h += "<td class=\"cell-none\">not run</td>";
        continue;
      }
      int rank = it->second.first;
      const char* cls = rank == 5 ? "cell-error" : rank == 4 ? "cell-failed" : rank == 2 ? "cell-passed" : "cell-skipped";
      h += std::string("<td class=\"") + cls + "\">" + HtmlEscape(it->second.second) + "</td>";
    }
    h += "</tr>";
  }
  return h + "</tbody></table>";
}

std::string ResultsTable(const ReportData& d) {
  std::string h =
      "<table class=\"sortable\" id=\"results\"><thead><tr><th>model</th><th>family</th><th>device</th><th>dtype</th>"
      "<th>batch</th><th>seq</th><th>scenario</th><th>status</th><th>p50 ms</th><th>p90 ms</th><th>p99 ms</th>"
      "<th>throughput</th><th>unit</th><th>peak MiB</th><th>load ms</th><th>first ms</th><th>validation</th>"
      "</tr></thead><tbody>";
  for (const auto& p : d.points) {
    auto num = [](const std::optional<double>& v) { return "<td class=\"num\">" + Fmt(v) + "</td>"; };
    h += "<tr><td>" + HtmlEscape(p.model) + (p.synthetic ? " <span class=\"badge\">synthetic</span>" : "") +
         "</td><td>" + HtmlEscape(p.family) + "</td><td>" + HtmlEscape(p.device) + "</td><td>" + HtmlEscape(p.dtype) +
         "</td><td class=\"num\">" + std::to_string(p.batch) + "</td><td class=\"num\">" + std::to_string(p.seq_len) +
         "</td><td>" + HtmlEscape(p.scenario) + "</td><td>" + HtmlEscape(p.status) + "</td>" + num(p.p50_ms) +
         num(p.p90_ms) + num(p.p99_ms) + num(p.throughput) + "<td>" + HtmlEscape(p.unit) + "</td>" +
         num(p.peak_rss_mib) + num(p.load_ms) + num(p.first_ms) + "<td title=\"" + HtmlEscape(p.validation_detail) +
         "\">" + HtmlEscape(p.validation.empty() ? "-" : p.validation) + "</td></tr>";
  }
  return h + "</tbody></table>";
}

std::string FailuresTable(const ReportData& d) {
  std::string rows;
  for (const auto& p : d.points)
    if (!Ok(p))
      rows += "<tr><td>" + HtmlEscape(p.model) + "</td><td>" + HtmlEscape(p.device) + "</td><td>" +
              HtmlEscape(p.dtype + " b" + std::to_string(p.batch) + " s" + std::to_string(p.seq_len)) + "</td><td>" +
              HtmlEscape(p.status) + "</td><td>" + HtmlEscape(p.error) + "</td></tr>";
  if (rows.empty()) return "<p>None: every latest point ran.</p>";
  return "<table id=\"failures\"><thead><tr><th>model</th><th>device</th><th>point</th><th>status</th><th>error</th>"
         "</tr></thead><tbody>" +
         rows + "</tbody></table>";
}

std::string RunsTable(const ReportData& d) {
  std::string h = "<table id=\"runs\"><thead><tr><th>started</th><th>machine</th><th>suite</th><th>version</th>"
                  "<th>commit</th><th>run</th></tr></thead><tbody>";
  size_t n = 0;
  for (const auto& r : d.runs) {
    if (++n > 20) break;
    h += "<tr><td>" + HtmlEscape(r.started_at) + (r.interrupted ? " <span class=\"badge\">interrupted</span>" : "") +
         "</td><td>" + HtmlEscape(r.machine) + "</td><td>" +
         HtmlEscape(r.suite) + "</td><td>" + HtmlEscape(r.software_version) + "</td><td>" +
         HtmlEscape(r.git_commit) + "</td><td>" + HtmlEscape(r.uuid) + "</td></tr>";
  }
  return h + "</tbody></table>";
}

}  // namespace

std::string RenderHtmlReport(const ReportData& d, const std::string& generated_at) {
  int ok = 0, failed = 0;
  for (const auto& p : d.points) (Ok(p) ? ok : failed)++;
  std::string h = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                  "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                  "<title>accel benchmark report</title><style>";
  h += kStyle;
  h += "</style></head><body>\n<h1>accel benchmark report</h1>\n<p class=\"meta\">Generated " +
       HtmlEscape(generated_at) + " from " + HtmlEscape(d.database) + ": " + std::to_string(d.runs.size()) +
       " runs, <span id=\"point-count\">" + std::to_string(d.points.size()) + "</span> latest points (" +
       std::to_string(ok) + " ok, " + std::to_string(failed) +
       " failed). Models marked synthetic ran random weights at real shapes: their speed is real, their outputs "
       "are not.</p>\n";
  if (!d.runs.empty())
    h += "<p class=\"meta\">Latest run on <b>" + HtmlEscape(d.runs[0].machine) + "</b>: <code>" +
         HtmlEscape(d.runs[0].hardware_json) + "</code></p>\n";
  h += "<h2 id=\"latency\">Latency by device</h2>\n" + LatencyChart(d);
  h += "\n<h2 id=\"throughput\">Throughput against batch size</h2>\n" + ThroughputCharts(d);
  h += "\n<h2 id=\"memory\">Memory</h2>\n" + MemoryChart(d);
  h += "\n<h2 id=\"validation\">Validation matrix</h2>\n" + ValidationMatrix(d);
  h += "\n<h2 id=\"all-results\">Latest results</h2>\n<p class=\"meta\">Click a column to sort.</p>" + ResultsTable(d);
  h += "\n<h2 id=\"failed\">Failed points</h2>\n" + FailuresTable(d);
  h += "\n<h2 id=\"recent-runs\">Runs</h2>\n" + RunsTable(d);
  h += "\n<script>";
  h += kScript;
  h += "</script>\n</body></html>\n";
  return h;
}

Status WriteHtmlReport(db::SqlConnection& conn, const std::string& path) {
  ACCEL_ASSIGN_OR_RETURN(ReportData data, LoadReportData(conn));
  std::string html = RenderHtmlReport(data, db::NowIsoUtc());
  std::ofstream out(path, std::ios::binary);
  if (!out) return IoError(path + ": cannot write the report");
  out << html;
  if (!out) return IoError(path + ": write failed");
  return Status::Ok();
}

}  // namespace accel::report

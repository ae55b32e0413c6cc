#include "report/html_report.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>

#include "db/bench_store.h"
#include "db/table.h"
#include "report/report_summary.h"
#include "report/svg_charts.h"

#include <nlohmann/json.hpp>

namespace accel::report {
namespace {

const char* kStyle = R"CSS(
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px auto;max-width:1180px;color:#222;padding:0 16px;overflow-wrap:anywhere}
h1{font-size:1.6em;margin-bottom:4px}h2{margin-top:36px;border-bottom:1px solid #ddd;padding-bottom:4px}
h3{font-size:1em;margin:16px 0 4px}
.meta{color:#666;font-size:.9em}
.scroll{overflow:auto;max-width:100%;width:fit-content;max-height:60vh;border:1px solid #ddd;margin:8px 0}
table{border-collapse:separate;border-spacing:0;font-size:.85em}
th,td{border-right:1px solid #eee;border-bottom:1px solid #eee;padding:4px 8px;text-align:left;white-space:nowrap}
thead th{position:sticky;top:0;background:#f4f4f4;z-index:1;white-space:nowrap}
table.sortable thead th{cursor:pointer;user-select:none}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
table.kv th{position:static}table.kv td{white-space:normal;overflow-wrap:anywhere;min-width:12em}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(100%,360px),1fr));gap:12px 20px}
.chart{width:100%;height:auto;display:block}
figure.small{margin:0}
.chart-title{font-size:13px;font-weight:600}.axis-label{font-size:11px;fill:#444}.tick{font-size:11px;fill:#555}
.grid{stroke:#e5e5e5;stroke-width:1}
.legend{font-size:.8em;color:#444;display:flex;flex-wrap:wrap;gap:2px 12px}
.legend span{white-space:nowrap;overflow:hidden;text-overflow:ellipsis;max-width:100%}
.legend i{display:inline-block;width:10px;height:10px;margin-right:4px;vertical-align:middle}
.cell-passed{background:#d9f2d9}.cell-failed{background:#f8d0d0}.cell-skipped{background:#eee}
.cell-error{background:#f6b26b}.cell-none{background:#fff}
.regression{color:#b00020;font-weight:600}.improvement{color:#1b7a1b;font-weight:600}
tr.regression td{background:#fde8e8}tr.improvement td{background:#e6f4e6}
.badge{display:inline-block;padding:1px 6px;border-radius:8px;background:#eef;font-size:.8em}
.downloads a{display:inline-block;margin-right:12px;padding:4px 10px;border:1px solid #4e79a7;border-radius:4px;color:#4e79a7;text-decoration:none}
)CSS";

// Table sorting, and the CSV/JSON downloads built from the results embedded in the page.
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
(function(){
  var rows = JSON.parse(document.getElementById('results-data').textContent);
  function cell(v){
    if (v === null || v === undefined) return '';
    var s = String(v);
    return /[",\n\r]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
  }
  var cols = rows.length ? Object.keys(rows[0]) : [];
  var csv = [cols.join(',')].concat(rows.map(function(r){
    return cols.map(function(c){ return cell(r[c]); }).join(',');
  })).join('\n') + '\n';
  document.getElementById('download-csv').setAttribute('href', 'data:text/csv;charset=utf-8,' + encodeURIComponent(csv));
  document.getElementById('download-json').setAttribute('href',
      'data:application/json;charset=utf-8,' + encodeURIComponent(JSON.stringify(rows, null, 1)));
})();
)JS";

std::string Fmt(const std::optional<double>& v) { return v ? db::FormatNumber(*v) : "-"; }

std::string SeriesName(const PointRow& p) { return p.device + " " + p.dtype; }

bool Ok(const PointRow& p) { return p.status == "ok"; }

std::string Td(const std::string& text) { return "<td>" + HtmlEscape(text) + "</td>"; }
std::string NumTd(const std::optional<double>& v) { return "<td class=\"num\">" + Fmt(v) + "</td>"; }

// A table in a scrolling box (the page never overflows; the header stays in view).
std::string ScrollTable(const std::string& attrs, const std::vector<std::string>& headers, const std::string& rows) {
  std::string h = "<div class=\"scroll\"><table " + attrs + "><thead><tr>";
  for (const auto& c : headers) h += "<th>" + HtmlEscape(c) + "</th>";
  return h + "</tr></thead><tbody>" + rows + "</tbody></table></div>";
}

// Device + dtype series, numbered once for the whole page so a colour means the same everywhere.
std::vector<std::string> AllSeries(const ReportData& d) {
  std::set<std::string> s;
  for (const auto& p : d.points)
    if (Ok(p)) s.insert(SeriesName(p));
  return {s.begin(), s.end()};
}

size_t SeriesIndex(const std::vector<std::string>& all, const std::string& name) {
  return std::find(all.begin(), all.end(), name) - all.begin();
}

std::string Legend(const std::vector<std::string>& series) {
  std::string h = "<div class=\"legend\">";
  for (size_t i = 0; i < series.size(); ++i)
    h += "<span><i style=\"background:" + std::string(SeriesColor(i)) + "\"></i>" + HtmlEscape(series[i]) + "</span>";
  return h + "</div>";
}

std::string MachineTable(const ReportData& d) {
  if (d.runs.empty()) return "<p>No runs yet.</p>";
  std::string h = "<div class=\"scroll\"><table class=\"kv\" id=\"machine\"><tbody>";
  for (const auto& [k, v] : MachineRows(d.runs[0])) h += "<tr><th>" + HtmlEscape(k) + "</th>" + Td(v) + "</tr>";
  return h + "</tbody></table></div>";
}

std::string SummaryTable(const ReportData& d) {
  std::string rows;
  for (const auto& s : Headlines(d.points)) {
    char speedup[32] = "-";
    if (s.speedup) std::snprintf(speedup, sizeof speedup, "%.3g\u00d7", *s.speedup);
    rows += "<tr>" + Td(s.model) + Td(s.device) + Td(s.dtype) + NumTd(s.best_throughput) + Td(s.unit) +
            NumTd(s.best_p50_ms) + NumTd(s.prefill_tps) + NumTd(s.decode_tps) + "<td class=\"num\" title=\"vs " +
            HtmlEscape(s.baseline) + "\">" + std::string(speedup) + "</td>" + Td(s.baseline) + "</tr>";
  }
  if (rows.empty()) return "<p>No successful results yet.</p>";
  return ScrollTable("class=\"sortable\" id=\"summary\"",
                     {"model", "device", "dtype", "best throughput", "unit", "best p50 ms", "prefill tok/s",
                      "decode tok/s", "speed-up", "vs"},
                     rows);
}

std::string ChangeText(const Change& c) {
  if (c.trend == Trend::kNone) return "";
  double pct = (c.ratio - 1) * 100;
  char buf[48];
  std::snprintf(buf, sizeof buf, "%+.0f%% time", pct);
  return std::string(buf) + (c.trend == Trend::kSlower ? " (slower)" : c.trend == Trend::kFaster ? " (faster)" : "");
}

const char* ChangeClass(const Change& c) {
  return c.trend == Trend::kSlower ? "regression" : c.trend == Trend::kFaster ? "improvement" : "";
}

// The latest run against each point's previous result: regressions first, then improvements;
// points within the threshold are only counted.
std::string ComparisonSection(const ReportData& d) {
  std::vector<std::pair<Change, const PointRow*>> changes;
  size_t compared = 0;
  for (const auto& p : d.points) {
    Change c = CompareToPrevious(p);
    compared += c.trend != Trend::kNone;
    if (c.trend == Trend::kSlower || c.trend == Trend::kFaster) changes.push_back({c, &p});
  }
  if (compared == 0) return "<p>No point of the latest run has an earlier result to compare with.</p>";
  std::stable_sort(changes.begin(), changes.end(), [](const auto& a, const auto& b) { return a.first.ratio > b.first.ratio; });
  int slower = 0, faster = 0;
  std::string rows;
  for (const auto& [c, p] : changes) {
    slower += c.trend == Trend::kSlower;
    faster += c.trend == Trend::kFaster;
    rows += std::string("<tr class=\"") + ChangeClass(c) + "\">" + Td(p->model) + Td(SeriesName(*p)) +
            Td("b" + std::to_string(p->batch) + " s" + std::to_string(p->seq_len) + " " + p->scenario) +
            NumTd(p->prev_p50_ms) + NumTd(p->p50_ms) + NumTd(p->prev_throughput) + NumTd(p->throughput) +
            "<td class=\"" + ChangeClass(c) + "\">" + HtmlEscape(ChangeText(c)) + "</td></tr>";
  }
  char pct[16];
  std::snprintf(pct, sizeof pct, "%.0f%%", kRegressionThreshold * 100);
  std::string h = "<p id=\"change-summary\">" + std::to_string(compared) +
                  " points of the latest run compared with their previous result: <span class=\"" +
                  std::string(slower ? "regression" : "") + "\">" + std::to_string(slower) +
                  " regressions</span> (more than " + pct + " slower), <span class=\"" +
                  std::string(faster ? "improvement" : "") + "\">" + std::to_string(faster) + " improvements</span>, " +
                  std::to_string(compared - changes.size()) + " within " + pct + ".</p>";
  if (changes.empty()) return h;
  return h + ScrollTable("id=\"comparison\"",
                         {"model", "device dtype", "point", "prev p50 ms", "p50 ms", "prev throughput", "throughput",
                          "change"},
                         rows);
}

// Small multiples: one chart per family, a bar per model x device x dtype.
std::string FamilyBarCharts(const ReportData& d, const std::vector<std::string>& series, const std::string& unit,
                            std::optional<double> (*value)(const PointRow&), const std::string& what) {
  std::map<std::string, std::map<std::string, HBar>> by_family;  // family -> label -> bar
  for (const auto& p : d.points) {
    auto v = value(p);
    if (!Ok(p) || !v || *v <= 0) continue;
    std::string label = p.model + " " + SeriesName(p);
    auto& bars = by_family[p.family.empty() ? "other" : p.family];
    if (!bars.count(label)) bars[label] = HBar{label, *v, SeriesIndex(series, SeriesName(p))};
  }
  if (by_family.empty()) return "<p>No " + what + " results yet.</p>";
  std::string h = "<div class=\"charts\">";
  for (const auto& [family, bars] : by_family) {
    HBarChartData c{family + ": " + what, unit, {}};
    for (const auto& [label, bar] : bars) c.bars.push_back(bar);
    h += HBarChart(c);
  }
  return h + "</div>";
}

std::optional<double> SingleStreamP50(const PointRow& p) {
  return p.scenario == "single-stream" ? p.p50_ms : std::nullopt;
}
std::optional<double> PeakMemory(const PointRow& p) { return p.peak_rss_mib; }

// Small multiples: one chart per model with at least two batch sizes, a line per device and dtype.
std::string ThroughputCharts(const ReportData& d, const std::vector<std::string>& all_series) {
  std::map<std::string, std::map<std::string, std::map<int, double>>> by_model;  // model -> series -> batch -> y
  std::map<std::string, std::string> units;
  std::set<std::string> has_offline;
  for (const auto& p : d.points)
    if (Ok(p) && p.scenario == "offline" && p.throughput) has_offline.insert(p.model);
  for (const auto& p : d.points) {
    if (!Ok(p) || !p.throughput || *p.throughput <= 0) continue;
    const char* wanted = has_offline.count(p.model) ? "offline" : "single-stream";
    if (p.scenario != wanted) continue;
    auto& series = by_model[p.model][SeriesName(p)];
    if (!series.count(p.batch)) series[p.batch] = *p.throughput;
    units[p.model] = p.unit;
  }
  std::string h;
  for (const auto& [model, series_map] : by_model) {
    std::set<int> batches;
    for (const auto& [name, pts] : series_map)
      for (const auto& [b, y] : pts) batches.insert(b);
    if (batches.size() < 2) continue;
    LineChartData c{model, "batch size", units[model].empty() ? "items/s" : units[model], {}};
    for (const auto& [name, pts] : series_map) {
      LineSeries s{name, {}, SeriesIndex(all_series, name)};
      for (const auto& [b, y] : pts) s.points.push_back({double(b), y});
      c.series.push_back(std::move(s));
    }
    h += LineChart(c);
  }
  return h.empty() ? "<p>No model has throughput at two or more batch sizes.</p>" : "<div class=\"charts\">" + h + "</div>";
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
  std::vector<std::string> headers{"model"};
  headers.insert(headers.end(), devices.begin(), devices.end());
  std::string rows;
  for (const auto& m : models) {
    rows += "<tr>" + Td(m);
    for (const auto& dev : devices) {
      auto it = cell.find({m, dev});
      if (it == cell.end()) {
        rows += "<td class=\"cell-none\">not run</td>";
        continue;
      }
      int rank = it->second.first;
      const char* cls = rank == 5 ? "cell-error" : rank == 4 ? "cell-failed" : rank == 2 ? "cell-passed" : "cell-skipped";
      rows += std::string("<td class=\"") + cls + "\">" + HtmlEscape(it->second.second) + "</td>";
    }
    rows += "</tr>";
  }
  return ScrollTable("id=\"validation-matrix\"", headers, rows);
}

std::string ResultsTable(const ReportData& d) {
  std::string rows;
  for (const auto& p : d.points) {
    Change c = CompareToPrevious(p);
    rows += "<tr><td>" + HtmlEscape(p.model) + (p.synthetic ? " <span class=\"badge\">synthetic</span>" : "") + "</td>" +
            Td(p.family) + Td(p.device) + Td(p.dtype) + "<td class=\"num\">" + std::to_string(p.batch) +
            "</td><td class=\"num\">" + std::to_string(p.seq_len) + "</td>" + Td(p.scenario) + Td(p.status) +
            NumTd(p.p50_ms) + NumTd(p.p90_ms) + NumTd(p.p99_ms) + NumTd(p.throughput) + Td(p.unit) +
            NumTd(p.prefill_tps) + NumTd(p.decode_tps) + NumTd(p.peak_rss_mib) + NumTd(p.load_ms) + NumTd(p.first_ms) +
            "<td title=\"" + HtmlEscape(p.validation_detail) + "\">" +
            HtmlEscape(p.validation.empty() ? "-" : p.validation) + "</td><td class=\"" + ChangeClass(c) + "\">" +
            HtmlEscape(ChangeText(c)) + "</td></tr>";
  }
  return ScrollTable("class=\"sortable\" id=\"results\"",
                     {"model", "family", "device", "dtype", "batch", "seq", "scenario", "status", "p50 ms", "p90 ms",
                      "p99 ms", "throughput", "unit", "prefill tok/s", "decode tok/s", "peak MiB", "load ms",
                      "first ms", "validation", "vs previous"},
                     rows);
}

// The latest results as JSON for the downloads; '<' escaped so the text cannot close its script.
std::string ResultsJson(const ReportData& d) {
  nlohmann::ordered_json rows = nlohmann::ordered_json::array();
  auto opt = [](const std::optional<double>& v) { return v ? nlohmann::ordered_json(*v) : nlohmann::ordered_json(nullptr); };
  for (const auto& p : d.points) {
    Change c = CompareToPrevious(p);
    rows.push_back({{"model", p.model}, {"family", p.family}, {"synthetic", p.synthetic}, {"device", p.device},
                    {"dtype", p.dtype}, {"batch", p.batch}, {"seq_len", p.seq_len}, {"scenario", p.scenario},
                    {"status", p.status}, {"error", p.error}, {"p50_ms", opt(p.p50_ms)}, {"p90_ms", opt(p.p90_ms)},
                    {"p99_ms", opt(p.p99_ms)}, {"throughput", opt(p.throughput)}, {"unit", p.unit},
                    {"prefill_tokens_per_s", opt(p.prefill_tps)}, {"decode_tokens_per_s", opt(p.decode_tps)},
                    {"peak_rss_mib", opt(p.peak_rss_mib)}, {"load_ms", opt(p.load_ms)}, {"first_ms", opt(p.first_ms)},
                    {"validation", p.validation}, {"prev_p50_ms", opt(p.prev_p50_ms)},
                    {"prev_throughput", opt(p.prev_throughput)},
                    {"change", c.trend == Trend::kSlower ? "regression" : c.trend == Trend::kFaster ? "improvement"
                               : c.trend == Trend::kSame ? "same" : ""}});
  }
  std::string text = rows.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace), out;
  for (char ch : text) out += ch == '<' ? std::string("\\u003c") : std::string(1, ch);
  return out;
}

std::string FailuresTable(const ReportData& d) {
  std::string rows;
  for (const auto& p : d.points)
    if (!Ok(p))
      rows += "<tr>" + Td(p.model) + Td(p.device) + Td(p.dtype + " b" + std::to_string(p.batch) + " s" +
                                                      std::to_string(p.seq_len)) +
              Td(p.status) + Td(p.error) + "</tr>";
  if (rows.empty()) return "<p>None: every latest point ran.</p>";
  return ScrollTable("id=\"failures\"", {"model", "device", "point", "status", "error"}, rows);
}

std::string RunsTable(const ReportData& d) {
  std::string rows;
  size_t n = 0;
  for (const auto& r : d.runs) {
    if (++n > 20) break;
    rows += "<tr><td>" + HtmlEscape(r.started_at) + (r.interrupted ? " <span class=\"badge\">interrupted</span>" : "") +
            "</td>" + Td(r.machine) + Td(r.suite) + Td(r.software_version) + Td(r.git_commit) + Td(r.uuid) + "</tr>";
  }
  return ScrollTable("id=\"runs\"", {"started", "machine", "suite", "version", "commit", "run"}, rows);
}

}  // namespace

std::string RenderHtmlReport(const ReportData& d, const std::string& generated_at) {
  int ok = 0, failed = 0;
  for (const auto& p : d.points) (Ok(p) ? ok : failed)++;
  std::vector<std::string> series = AllSeries(d);
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
  h += "<h2 id=\"machine-info\">Machine and software (latest run)</h2>\n" + MachineTable(d);
  h += "\n<h2 id=\"summary-section\">Summary: best per model, device and dtype</h2>\n<p class=\"meta\">Best throughput "
       "and p50 latency over batch sizes and scenarios; speed-up is throughput (else 1/latency) against the model's "
       "cpu f32 result, or its slowest device and dtype.</p>" +
       SummaryTable(d);
  h += "\n<h2 id=\"changes\">Changes since the previous run</h2>\n" + ComparisonSection(d);
  h += "\n<h2 id=\"latency\">Latency by device</h2>\n<p class=\"meta\">p50, single-stream, one chart per family; "
       "hover a label for the full name.</p>" +
       Legend(series) + FamilyBarCharts(d, series, "ms", SingleStreamP50, "p50 latency");
  h += "\n<h2 id=\"throughput\">Throughput against batch size</h2>\n" + ThroughputCharts(d, series);
  h += "\n<h2 id=\"memory\">Memory</h2>\n" + Legend(series) + FamilyBarCharts(d, series, "MiB", PeakMemory, "peak RSS");
  h += "\n<h2 id=\"validation\">Validation matrix (correctness)</h2>\n" + ValidationMatrix(d);
  h += "\n<h2 id=\"all-results\">Latest results</h2>\n<p class=\"downloads\"><a id=\"download-csv\" "
       "download=\"accel-results.csv\">Download CSV</a><a id=\"download-json\" download=\"accel-results.json\">"
       "Download JSON</a></p><p class=\"meta\">Click a column to sort.</p>" +
       ResultsTable(d);
  h += "\n<script type=\"application/json\" id=\"results-data\">" + ResultsJson(d) + "</script>";
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

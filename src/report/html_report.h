#pragma once
// The self-contained HTML report: one file with inline CSS, inline SVG charts and a little
// inline script (table sorting, CSV/JSON downloads from the embedded results); it loads
// nothing at view time. From the top: machine and software, the headline summary, changes
// since the previous run, latency and memory (one chart per family), throughput against batch
// size (one chart per model), the validation matrix, every latest result, failures, runs.
// What it shows is computed in report_data / report_summary; this file only renders it.
#include <string>

#include "db/sql_connection.h"
#include "report/report_data.h"

namespace accel::report {

std::string RenderHtmlReport(const ReportData& data, const std::string& generated_at);
// Loads the data, renders, writes `path`.
Status WriteHtmlReport(db::SqlConnection& conn, const std::string& path);

}  // namespace accel::report

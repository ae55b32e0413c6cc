#pragma once
// The self-contained HTML report: one file with inline CSS, inline SVG charts and a little
// inline script (table sorting); it loads nothing at view time.
//   latency by device, throughput against batch size (one chart per model), peak memory,
//   the validation matrix (model x device), every latest result, failures, recent runs.
#include <string>

#include "db/sql_connection.h"
#include "report/report_data.h"

namespace accel::report {

std::string RenderHtmlReport(const ReportData& data, const std::string& generated_at);
// Loads the data, renders, writes `path`.
Status WriteHtmlReport(db::SqlConnection& conn, const std::string& path);

}  // namespace accel::report

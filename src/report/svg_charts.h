#pragma once
// Inline SVG charts for the HTML report: drawn here as text, so the report needs no script
// library and no network to show them.
#include <optional>
#include <string>
#include <vector>

namespace accel::report {

// Bars grouped by category (e.g. model), one bar per series (e.g. device) in each group.
struct BarChartData {
  std::string title, y_label;
  std::vector<std::string> groups, series;
  std::vector<std::vector<std::optional<double>>> values;  // [group][series]
};
std::string GroupedBarChart(const BarChartData& data);

// Lines over a log2 x axis (batch sizes).
struct LineSeries {
  std::string name;
  std::vector<std::pair<double, double>> points;  // (x, y), x > 0
};
struct LineChartData {
  std::string title, x_label, y_label;
  std::vector<LineSeries> series;
};
std::string LineChart(const LineChartData& data);

std::string HtmlEscape(const std::string& s);
// The colour of series i, shared by charts and legends.
const char* SeriesColor(size_t i);

}  // namespace accel::report

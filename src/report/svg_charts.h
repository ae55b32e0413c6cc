#pragma once
// Inline SVG charts for the HTML report: drawn here as text, so the report needs no script
// library and no network to show them. Charts are small (meant for small multiples, several
// side by side), their value axes logarithmic, and every label sits in its own slot so none
// overlaps another: long labels are truncated, the full text is the element's <title> tooltip.
#include <optional>
#include <string>
#include <vector>

namespace accel::report {

// Horizontal bars on a log axis, one row per bar (so row labels cannot collide).
struct HBar {
  std::string label;  // shown truncated; the whole label is in the tooltip
  double value = 0;   // > 0
  size_t series = 0;  // colour index (SeriesColor)
};
struct HBarChartData {
  std::string title, unit;
  std::vector<HBar> bars;
};
std::string HBarChart(const HBarChartData& data);

// Lines over a log2 x axis (batch sizes) and a log10 y axis; the legend is HTML below the SVG.
struct LineSeries {
  std::string name;
  std::vector<std::pair<double, double>> points;  // (x, y), x > 0, y > 0
  size_t color = 0;                               // SeriesColor index
};
struct LineChartData {
  std::string title, x_label, y_label;
  std::vector<LineSeries> series;
};
std::string LineChart(const LineChartData& data);

std::string HtmlEscape(const std::string& s);
// s cut to at most `max_chars` characters (UTF-8 aware), with an ellipsis when cut.
std::string Truncate(const std::string& s, size_t max_chars);
// s with its middle cut out to fit `max_chars` (keeps both ends: "bert-ver…cuda:0 f16").
std::string TruncateMiddle(const std::string& s, size_t max_chars);
// The colour of series i, shared by charts and legends.
const char* SeriesColor(size_t i);

}  // namespace accel::report

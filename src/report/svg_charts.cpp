#include "report/svg_charts.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

namespace accel::report {
namespace {

std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

// A short tick or value label: 3 significant digits, powers of ten from 1e4 up as "1e4".
std::string Label(double v) {
  char buf[32];
  double a = std::fabs(v);
  if (a >= 1e4 || (a > 0 && a < 1e-3)) std::snprintf(buf, sizeof buf, "%.2g", v);
  else std::snprintf(buf, sizeof buf, "%.3g", v);
  std::string s = buf;
  auto e = s.find("e+0");
  if (e != std::string::npos) s.erase(e + 1, 2);
  else if ((e = s.find("e+")) != std::string::npos) s.erase(e + 1, 1);
  return s;
}

// A log10 axis from the decade at or below lo to the decade at or above hi (at least one decade).
struct LogAxis {
  double lo, hi;  // exponents
  LogAxis(double vmin, double vmax) {
    lo = std::floor(std::log10(std::max(vmin, 1e-12)));
    hi = std::ceil(std::log10(std::max(vmax, 1e-12)));
    if (hi <= lo) hi = lo + 1;
  }
  double Frac(double v) const { return (std::log10(std::max(v, 1e-12)) - lo) / (hi - lo); }
  // Values to label: at most 5 decades, so labels keep their distance; 2x and 5x as well when
  // the axis spans a single decade.
  std::vector<double> Ticks() const {
    std::vector<double> ticks;
    int step = std::max(1, static_cast<int>(std::ceil((hi - lo) / 5)));
    for (int e = static_cast<int>(lo); e <= hi; e += step) {
      ticks.push_back(std::pow(10.0, e));
      if (hi - lo == 1 && e < hi) ticks.push_back(2 * std::pow(10.0, e)), ticks.push_back(5 * std::pow(10.0, e));
    }
    return ticks;
  }
};

std::string Text(double x, double y, const std::string& cls, const std::string& anchor, const std::string& body,
                 const std::string& tooltip = "") {
  std::string s = "<text x=\"" + Num(x) + "\" y=\"" + Num(y) + "\" class=\"" + cls + "\"";
  if (anchor != "start") s += " text-anchor=\"" + anchor + "\"";
  s += ">";
  if (!tooltip.empty()) s += "<title>" + HtmlEscape(tooltip) + "</title>";
  return s + HtmlEscape(body) + "</text>";
}

std::string Line(double x1, double y1, double x2, double y2, const std::string& cls) {
  return "<line x1=\"" + Num(x1) + "\" y1=\"" + Num(y1) + "\" x2=\"" + Num(x2) + "\" y2=\"" + Num(y2) + "\" class=\"" +
         cls + "\"/>";
}

std::string OpenSvg(double w, double h, const std::string& title) {
  return "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " + Num(w) + " " + Num(h) +
         "\" role=\"img\" aria-label=\"" + HtmlEscape(title) + "\">";
}

}  // namespace

const char* SeriesColor(size_t i) {
  static const char* kColors[] = {"#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#9c755f"};
  return kColors[i % 8];
}

std::string HtmlEscape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

namespace {
// The byte offset where each UTF-8 character of s starts.
std::vector<size_t> CharStarts(const std::string& s) {
  std::vector<size_t> starts;
  for (size_t i = 0; i < s.size(); ++i)
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) starts.push_back(i);
  return starts;
}
}  // namespace

std::string Truncate(const std::string& s, size_t max_chars) {
  auto starts = CharStarts(s);
  if (starts.size() <= max_chars || max_chars < 2) return s;
  return s.substr(0, starts[max_chars - 1]) + "\u2026";
}

std::string TruncateMiddle(const std::string& s, size_t max_chars) {
  auto starts = CharStarts(s);
  if (starts.size() <= max_chars || max_chars < 3) return Truncate(s, max_chars);
  size_t head = (max_chars - 1) / 2, tail = max_chars - 1 - head;
  return s.substr(0, starts[head]) + "\u2026" + s.substr(starts[starts.size() - tail]);
}

// Rows: [label 0..kLabelW] [bar kLabelW+8..kW-kValueW] [value]; ticks along the bottom.
std::string HBarChart(const HBarChartData& d) {
  constexpr double kW = 400, kLabelW = 150, kValueW = 52, kRowH = 18, kTop = 26, kAxisH = 38;
  constexpr size_t kLabelChars = 22;
  if (d.bars.empty()) return "";
  double vmin = d.bars[0].value, vmax = vmin;
  for (const auto& b : d.bars) vmin = std::min(vmin, b.value), vmax = std::max(vmax, b.value);
  LogAxis axis(vmin, vmax);
  double x0 = kLabelW + 8, plot_w = kW - kValueW - x0, plot_h = kRowH * double(d.bars.size());
  double h = kTop + plot_h + kAxisH;
  std::string s = OpenSvg(kW, h, d.title) + Text(4, 16, "chart-title", "start", Truncate(d.title, 48), d.title);
  for (double v : axis.Ticks()) {
    double x = x0 + plot_w * axis.Frac(v);
    s += Line(x, kTop, x, kTop + plot_h, "grid") + Text(x, kTop + plot_h + 14, "tick", "middle", Label(v));
  }
  for (size_t i = 0; i < d.bars.size(); ++i) {
    const HBar& b = d.bars[i];
    double y = kTop + kRowH * double(i), bw = std::max(1.0, plot_w * axis.Frac(b.value));
    std::string tip = b.label + ": " + Label(b.value) + " " + d.unit;
    s += Text(kLabelW, y + 13, "tick", "end", TruncateMiddle(b.label, kLabelChars), tip);
    s += "<rect class=\"bar\" x=\"" + Num(x0) + "\" y=\"" + Num(y + 3) + "\" width=\"" + Num(bw) + "\" height=\"" +
         Num(kRowH - 6) + "\" fill=\"" + SeriesColor(b.series) + "\"><title>" + HtmlEscape(tip) + "</title></rect>";
    s += Text(kW - 2, y + 13, "tick value", "end", Label(b.value), tip);
  }
  s += Text(x0 + plot_w / 2, h - 2, "axis-label", "middle", d.unit + " (log scale)");
  return s + "</svg>";
}

std::string LineChart(const LineChartData& d) {
  constexpr double kW = 360, kH = 230, kLeft = 46, kRight = 12, kTop = 28, kBottom = 40;
  double xmin = 0, xmax = 0, ymin = 0, ymax = 0;
  bool first = true;
  for (const auto& ser : d.series)
    for (auto [x, y] : ser.points) {
      double lx = std::log2(std::max(x, 1e-9));
      if (first) xmin = xmax = lx, ymin = ymax = y;
      xmin = std::min(xmin, lx), xmax = std::max(xmax, lx);
      ymin = std::min(ymin, y), ymax = std::max(ymax, y);
      first = false;
    }
  if (xmax <= xmin) xmax = xmin + 1;
  LogAxis yaxis(ymin, ymax);
  double plot_w = kW - kLeft - kRight, plot_h = kH - kTop - kBottom;
  auto px = [&](double x) { return kLeft + plot_w * (std::log2(x) - xmin) / (xmax - xmin); };
  auto py = [&](double y) { return kTop + plot_h - plot_h * yaxis.Frac(y); };
  std::string s = OpenSvg(kW, kH, d.title) + Text(4, 16, "chart-title", "start", Truncate(d.title, 42), d.title);
  for (double v : yaxis.Ticks()) {
    double y = py(v);
    s += Line(kLeft, y, kW - kRight, y, "grid") + Text(kLeft - 4, y + 4, "tick", "end", Label(v));
  }
  // Batch ticks at powers of two, thinned so at most 8 are labelled.
  int xstep = std::max(1, static_cast<int>(std::ceil((xmax - xmin + 1) / 8)));
  for (double lx = std::ceil(xmin); lx <= xmax + 1e-9; lx += xstep)
    s += Text(px(std::pow(2.0, lx)), kTop + plot_h + 14, "tick", "middle", Label(std::pow(2.0, lx)));
  s += Text(kLeft + plot_w / 2, kH - 6, "axis-label", "middle", d.x_label + "; " + d.y_label + " (log)");
  std::string legend = "<div class=\"legend\">";
  for (size_t i = 0; i < d.series.size(); ++i) {
    const auto& ser = d.series[i];
    std::string pts;
    for (auto [x, y] : ser.points) pts += Num(px(x)) + "," + Num(py(y)) + " ";
    s += "<polyline class=\"line\" fill=\"none\" stroke-width=\"2\" stroke=\"" + std::string(SeriesColor(ser.color)) +
         "\" points=\"" + pts + "\"/>";
    for (auto [x, y] : ser.points)
      s += "<circle cx=\"" + Num(px(x)) + "\" cy=\"" + Num(py(y)) + "\" r=\"3\" fill=\"" + SeriesColor(ser.color) + "\"><title>" +
           HtmlEscape(ser.name + ", batch " + Label(x) + ": " + Label(y) + " " + d.y_label) + "</title></circle>";
    legend += "<span title=\"" + HtmlEscape(ser.name) + "\"><i style=\"background:" + SeriesColor(ser.color) + "\"></i>" +
              HtmlEscape(Truncate(ser.name, 32)) + "</span>";
  }
  return "<figure class=\"small\">" + s + "</svg>" + legend + "</div></figure>";
}

}  // namespace accel::report

#include "report/svg_charts.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace accel::report {
namespace {

constexpr double kWidth = 760, kHeight = 320, kLeft = 70, kRight = 20, kTop = 34, kBottom = 70;

std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

std::string Label(double v) {
  char buf[32];
  if (std::fabs(v) >= 100 || v == std::floor(v)) std::snprintf(buf, sizeof buf, "%.0f", v);
  else if (std::fabs(v) >= 1) std::snprintf(buf, sizeof buf, "%.2f", v);
  else std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}

// A "nice" axis maximum: 1, 2 or 5 times a power of ten at or above v.
double NiceMax(double v) {
  if (v <= 0) return 1;
  double p = std::pow(10.0, std::floor(std::log10(v)));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * p >= v) return m * p;
  return 10 * p;
}

std::string Open(const std::string& title, const std::string& y_label) {
  std::string s = "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " + Num(kWidth) + " " +
                  Num(kHeight) + "\" role=\"img\" aria-label=\"" + HtmlEscape(title) + "\">";
  s += "<text x=\"" + Num(kWidth / 2) + "\" y=\"20\" text-anchor=\"middle\" class=\"chart-title\">" + HtmlEscape(title) +
       "</text>";
  s += "<text transform=\"translate(16," + Num(kTop + (kHeight - kTop - kBottom) / 2) +
       ") rotate(-90)\" text-anchor=\"middle\" class=\"axis-label\">" + HtmlEscape(y_label) + "</text>";
  return s;
}

std::string YAxis(double ymax) {
  std::string s;
  double plot_h = kHeight - kTop - kBottom;
  for (int i = 0; i <= 4; ++i) {
    double v = ymax * i / 4, y = kTop + plot_h - plot_h * i / 4;
    s += "<line x1=\"" + Num(kLeft) + "\" x2=\"" + Num(kWidth - kRight) + "\" y1=\"" + Num(y) + "\" y2=\"" + Num(y) +
         "\" class=\"grid\"/>";
    s += "<text x=\"" + Num(kLeft - 6) + "\" y=\"" + Num(y + 4) + "\" text-anchor=\"end\" class=\"tick\">" + Label(v) +
         "</text>";
  }
  return s;
}

std::string Legend(const std::vector<std::string>& names) {
  std::string s;
  double x = kLeft;
  for (size_t i = 0; i < names.size(); ++i) {
    s += "<rect x=\"" + Num(x) + "\" y=\"" + Num(kHeight - 18) + "\" width=\"10\" height=\"10\" fill=\"" +
         SeriesColor(i) + "\"/>";
    s += "<text x=\"" + Num(x + 14) + "\" y=\"" + Num(kHeight - 9) + "\" class=\"tick\">" + HtmlEscape(names[i]) +
         "</text>";
    x += 24 + 7.0 * double(names[i].size());
  }
  return s;
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

std::string GroupedBarChart(const BarChartData& d) {
  double vmax = 0;
  for (const auto& g : d.values)
    for (const auto& v : g)
      if (v) vmax = std::max(vmax, *v);
  double ymax = NiceMax(vmax);
  std::string s = Open(d.title, d.y_label) + YAxis(ymax);
  double plot_w = kWidth - kLeft - kRight, plot_h = kHeight - kTop - kBottom;
  size_t ng = std::max<size_t>(1, d.groups.size()), ns = std::max<size_t>(1, d.series.size());
  double group_w = plot_w / double(ng), bar_w = group_w * 0.8 / double(ns);
  for (size_t g = 0; g < d.groups.size(); ++g) {
    double gx = kLeft + group_w * double(g);
    for (size_t k = 0; k < d.series.size() && g < d.values.size() && k < d.values[g].size(); ++k) {
      if (!d.values[g][k]) continue;
      double v = *d.values[g][k], h = plot_h * v / ymax;
      double x = gx + group_w * 0.1 + bar_w * double(k), y = kTop + plot_h - h;
      s += "<rect class=\"bar\" x=\"" + Num(x) + "\" y=\"" + Num(y) + "\" width=\"" + Num(bar_w * 0.92) +
           "\" height=\"" + Num(h) + "\" fill=\"" + SeriesColor(k) + "\"><title>" +
           HtmlEscape(d.groups[g] + " on " + d.series[k] + ": " + Label(v) + " " + d.y_label) + "</title></rect>";
    }
    s += "<text x=\"" + Num(gx + group_w / 2) + "\" y=\"" + Num(kTop + plot_h + 16) +
         "\" text-anchor=\"middle\" class=\"tick\">" + HtmlEscape(d.groups[g]) + "</text>";
  }
  return s + Legend(d.series) + "</svg>";
}

std::string LineChart(const LineChartData& d) {
  double xmin = 0, xmax = 0, ymax_raw = 0;
  bool first = true;
  for (const auto& ser : d.series)
    for (auto [x, y] : ser.points) {
      double lx = std::log2(std::max(x, 1e-9));
      if (first) xmin = xmax = lx;
      xmin = std::min(xmin, lx);
      xmax = std::max(xmax, lx);
      ymax_raw = std::max(ymax_raw, y);
      first = false;
    }
  if (xmax <= xmin) xmax = xmin + 1;
  double ymax = NiceMax(ymax_raw);
  double plot_w = kWidth - kLeft - kRight, plot_h = kHeight - kTop - kBottom;
  auto px = [&](double x) { return kLeft + plot_w * (std::log2(x) - xmin) / (xmax - xmin); };
  auto py = [&](double y) { return kTop + plot_h - plot_h * y / ymax; };
  std::string s = Open(d.title, d.y_label) + YAxis(ymax);
  for (double lx = std::ceil(xmin); lx <= xmax + 1e-9; lx += 1) {
    double x = std::pow(2.0, lx);
    s += "<text x=\"" + Num(px(x)) + "\" y=\"" + Num(kTop + plot_h + 16) + "\" text-anchor=\"middle\" class=\"tick\">" +
         Label(x) + "</text>";
  }
  s += "<text x=\"" + Num(kLeft + plot_w / 2) + "\" y=\"" + Num(kTop + plot_h + 34) +
       "\" text-anchor=\"middle\" class=\"axis-label\">" + HtmlEscape(d.x_label) + "</text>";
  std::vector<std::string> names;
  for (size_t i = 0; i < d.series.size(); ++i) {
    const auto& ser = d.series[i];
    names.push_back(ser.name);
    std::string pts;
    for (auto [x, y] : ser.points) pts += Num(px(x)) + "," + Num(py(y)) + " ";
    s += "<polyline class=\"line\" fill=\"none\" stroke-width=\"2\" stroke=\"" + std::string(SeriesColor(i)) +
         "\" points=\"" + pts + "\"/>";
    for (auto [x, y] : ser.points)
      s += "<circle cx=\"" + Num(px(x)) + "\" cy=\"" + Num(py(y)) + "\" r=\"3.5\" fill=\"" + SeriesColor(i) +
           "\"><title>" + HtmlEscape(ser.name + ", batch " + Label(x) + ": " + Label(y) + " " + d.y_label) +
           "</title></circle>";
  }
  return s + Legend(names) + "</svg>";
}

}  // namespace accel::report

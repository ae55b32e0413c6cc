#include "db/table.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include <nlohmann/json.hpp>

namespace accel::db {
namespace {

// A cell is emitted as a JSON number when all of it parses as one.
bool AsNumber(const std::string& s, double& out) {
  if (s.empty()) return false;
  char* end = nullptr;
  out = std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size() && std::isfinite(out);
}

bool IsPlainNumber(const std::string& s) {
  if (s.empty()) return false;
  char* end = nullptr;
  (void)std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size();
}

std::string CsvField(const std::string& raw) {
  // A cell starting with = + - @ (or a tab/CR) is a formula to a spreadsheet: neutralised with a
  // leading apostrophe, numbers such as -1.5 excepted.
  std::string s = raw;
  if (!s.empty() && std::string_view("=+-@\t\r").find(s[0]) != std::string_view::npos && !IsPlainNumber(s)) s = "'" + s;
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

}  // namespace

Result<TableFormat> ParseTableFormat(const std::string& name) {
  if (name == "table") return TableFormat::kTable;
  if (name == "json") return TableFormat::kJson;
  if (name == "csv") return TableFormat::kCsv;
  return InvalidArgument("unknown format \"" + name + "\" (expected table, json or csv)");
}

std::string FormatNumber(double v) {
  char buf[64];
  double a = std::fabs(v);
  if (a == std::floor(a) && a < 1e15) std::snprintf(buf, sizeof buf, "%.0f", v);
  else if (a >= 100) std::snprintf(buf, sizeof buf, "%.1f", v);
  else if (a >= 1) std::snprintf(buf, sizeof buf, "%.3f", v);
  else std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

std::string FormatTable(const Table& table, TableFormat format) {
  std::string out;
  if (format == TableFormat::kJson) {
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& row : table.rows) {
      nlohmann::json obj = nlohmann::json::object();
      for (size_t c = 0; c < table.columns.size() && c < row.size(); ++c) {
        double num;
        if (!row[c]) obj[table.columns[c]] = nullptr;
        else if (AsNumber(*row[c], num)) obj[table.columns[c]] = num;
        else obj[table.columns[c]] = *row[c];
      }
      arr.push_back(std::move(obj));
    }
    return arr.dump(2) + "\n";
  }
  if (format == TableFormat::kCsv) {
    for (size_t c = 0; c < table.columns.size(); ++c) out += (c ? "," : "") + CsvField(table.columns[c]);
    out += "\n";
    for (const auto& row : table.rows) {
      for (size_t c = 0; c < row.size(); ++c) out += (c ? "," : "") + CsvField(row[c].value_or(""));
      out += "\n";
    }
    return out;
  }
  std::vector<size_t> width(table.columns.size());
  for (size_t c = 0; c < table.columns.size(); ++c) width[c] = table.columns[c].size();
  for (const auto& row : table.rows)
    for (size_t c = 0; c < row.size() && c < width.size(); ++c) width[c] = std::max(width[c], row[c].value_or("-").size());
  auto line = [&](auto cell_of) {
    std::string s;
    for (size_t c = 0; c < width.size(); ++c) {
      std::string v = cell_of(c);
      s += v + std::string(width[c] - std::min(width[c], v.size()) + (c + 1 < width.size() ? 2 : 0), ' ');
    }
    while (!s.empty() && s.back() == ' ') s.pop_back();
    return s + "\n";
  };
  out += line([&](size_t c) { return table.columns[c]; });
  out += line([&](size_t c) { return std::string(width[c], '-'); });
  for (const auto& row : table.rows) out += line([&](size_t c) { return c < row.size() ? row[c].value_or("-") : "-"; });
  if (table.rows.empty()) out += "(no rows)\n";
  return out;
}

}  // namespace accel::db

#pragma once
// A small result table (what `accel query` prints) and its three output formats.
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"

namespace accel::db {

struct Table {
  std::vector<std::string> columns;
  std::vector<std::vector<std::optional<std::string>>> rows;  // nullopt prints as "-" / null
};

enum class TableFormat { kTable, kJson, kCsv };

Result<TableFormat> ParseTableFormat(const std::string& name);  // "table" | "json" | "csv"
std::string FormatTable(const Table& table, TableFormat format);

// Numbers as the query tool shows them: enough digits to compare, no exponent noise.
std::string FormatNumber(double v);

}  // namespace accel::db

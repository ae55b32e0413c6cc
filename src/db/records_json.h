#pragma once
// JSON form of the records: the `accel db export` / `accel db import` file format and the
// message a benchmark child process sends its parent. Parsing validates every field's type
// and names the offending path, so a malformed file gives one clear error.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "db/records.h"

namespace accel::db {

inline constexpr const char* kExportFormat = "accel-bench-results";
inline constexpr int kExportFormatVersion = 1;

nlohmann::json ToJson(const ResultRecord& r);
nlohmann::json ToJson(const RunRecord& r);
// {"format": kExportFormat, "version": 1, "runs": [...]}
nlohmann::json ExportDocument(const std::vector<RunRecord>& runs);

// `where` names the JSON path in error messages ("runs[2].results[0]").
Result<ResultRecord> ResultFromJson(const nlohmann::json& j, const std::string& where);
Result<RunRecord> RunFromJson(const nlohmann::json& j, const std::string& where);
// Parses a whole export document from text; `source` (a file name) prefixes errors.
Result<std::vector<RunRecord>> ParseExportDocument(const std::string& text, const std::string& source);

}  // namespace accel::db

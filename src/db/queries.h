#pragma once
// The questions `accel query` answers (after the original benchmark_query tool), each a
// table of the latest successful measurement per point:
//   performance  latest metrics, by family and hardware
//   hardware     one model compared across devices
//   models       the models of a family on one device
//   batch        batch-size scaling of one model on one device
//   stats        what the database holds
#include <string>

#include "db/sql_connection.h"
#include "db/table.h"

namespace accel::db {

enum class Metric { kLatency, kThroughput, kMemory };
Result<Metric> ParseMetric(const std::string& name);  // "latency" | "throughput" | "memory"

struct QueryFilter {
  std::string family;    // models.family
  std::string hardware;  // a device name ("cpu", "cuda:0") or kind ("cuda")
  std::string model;     // models.name
  Metric metric = Metric::kLatency;
};

Result<Table> QueryPerformance(SqlConnection& conn, const QueryFilter& f);
Result<Table> QueryHardware(SqlConnection& conn, const QueryFilter& f);  // needs f.model
Result<Table> QueryModels(SqlConnection& conn, const QueryFilter& f);
Result<Table> QueryBatch(SqlConnection& conn, const QueryFilter& f);  // needs f.model
Result<Table> QueryStats(SqlConnection& conn);

// Dispatches by question name; an unknown name is InvalidArgument.
Result<Table> RunQuery(SqlConnection& conn, const std::string& question, const QueryFilter& f);

}  // namespace accel::db

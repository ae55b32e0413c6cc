// accel query: answer questions from the benchmark database.
#include <cstdio>

#include "cli/command.h"
#include "cli/common_flags.h"
#include "cli/db_options.h"
#include "db/queries.h"

namespace accel::cli {
namespace {

struct QueryArgs {
  std::string db, question, metric = "latency", format = "table";
  db::QueryFilter filter;
};

Action SetupQuery(CLI::App& app) {
  auto a = std::make_shared<QueryArgs>();
  AddDbOption(app, a->db);
  app.add_option("question", a->question, "performance | hardware | models | batch | stats")
      ->required()
      ->check(CLI::IsMember({"performance", "hardware", "models", "batch", "stats"}));
  app.add_option("--family", a->filter.family, "model family (bert, gpt2, llama, ...)");
  app.add_option("--hardware", a->filter.hardware, "device name or kind (cpu, cuda:0, cuda)");
  app.add_option("-m,--model", a->filter.model, "model name");
  app.add_option("--metric", a->metric, "latency | throughput | memory")
      ->check(CLI::IsMember({"latency", "throughput", "memory"}));
  app.add_option("--format", a->format, "table | json | csv")->check(CLI::IsMember({"table", "json", "csv"}));
  return [a] {
    auto metric = db::ParseMetric(a->metric);
    if (!metric.ok()) return ReportError(metric.status());
    auto format = db::ParseTableFormat(a->format);
    if (!format.ok()) return ReportError(format.status());
    a->filter.metric = *metric;
    auto store = OpenStore(a->db, /*must_exist=*/true);
    if (!store.ok()) return ReportError(store.status());
    auto table = db::RunQuery((*store)->connection(), a->question, a->filter);
    if (!table.ok()) return ReportError(table.status());
    std::fputs(db::FormatTable(*table, *format).c_str(), stdout);
    return kExitOk;
  };
}

}  // namespace
ACCEL_REGISTER_COMMAND("query", "answer questions from the benchmark database", SetupQuery);
}  // namespace accel::cli

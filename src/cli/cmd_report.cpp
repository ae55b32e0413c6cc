// accel report: write the self-contained HTML report of the benchmark database.
#include <cstdio>
#include <filesystem>

#include "cli/command.h"
#include "cli/db_options.h"
#include "report/html_report.h"

namespace accel::cli {
namespace {

struct ReportArgs {
  std::string db, out = "report.html";
};

Action SetupReport(CLI::App& app) {
  auto a = std::make_shared<ReportArgs>();
  AddDbOption(app, a->db);
  app.add_option("--out", a->out, "where to write the HTML (default report.html)");
  return [a] {
    auto store = OpenStore(a->db, /*must_exist=*/true);
    if (!store.ok()) return ReportError(store.status());
    Status st = report::WriteHtmlReport((*store)->connection(), a->out);
    if (!st.ok()) return ReportError(st);
    std::error_code ec;
    auto abs = std::filesystem::absolute(a->out, ec);
    std::printf("report: %s (from %s)\n", (ec ? a->out : abs.string()).c_str(), (*store)->description().c_str());
    return kExitOk;
  };
}

}  // namespace
ACCEL_REGISTER_COMMAND("report", "write a self-contained HTML report of the benchmark database", SetupReport);
}  // namespace accel::cli

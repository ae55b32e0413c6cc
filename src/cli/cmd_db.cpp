// accel db import|export: move benchmark results between databases as JSON.
#include <cstdio>
#include <fstream>
#include <sstream>

#include "cli/command.h"
#include "cli/common_flags.h"
#include "core/bounded_read.h"
#include "cli/db_options.h"
#include "core/log.h"
#include "db/records_json.h"

namespace accel::cli {
namespace {

struct DbArgs {
  std::string db, file, out;
  bool do_import = false, do_export = false;
};

int Import(const DbArgs& a) {
  // The kind first (it never opens a pipe or device): a wrong file is named with what was expected.
  Status kind = ExpectFileKind(a.file, {"a JSON file"}, "a results JSON file written by `accel db export`");
  if (!kind.ok()) return ReportError(kind);
  auto text = ReadRegularFile(a.file, kDefaultMaxInputBytes, "import file");
  if (!text.ok()) return ReportError(text.status());
  auto runs = db::ParseExportDocument(*text, a.file);
  if (!runs.ok()) return ReportError(runs.status());
  auto store = OpenStore(a.db, /*must_exist=*/false);
  if (!store.ok()) return ReportError(store.status());
  int added = 0, skipped = 0, results = 0;
  for (const auto& run : *runs) {
    auto inserted = (*store)->ImportRun(run);
    if (!inserted.ok()) return ReportError(inserted.status());
    if (*inserted) {
      ++added;
      results += static_cast<int>(run.results.size());
    } else {
      ++skipped;
    }
  }
  std::printf("db import: %d runs (%d results) added, %d already present, into %s\n", added, results, skipped,
              (*store)->description().c_str());
  return kExitOk;
}

int Export(const DbArgs& a) {
  auto store = OpenStore(a.db, /*must_exist=*/true);
  if (!store.ok()) return ReportError(store.status());
  auto runs = (*store)->ExportRuns();
  if (!runs.ok()) return ReportError(runs.status());
  std::string text = db::ExportDocument(*runs).dump(2) + "\n";
  if (a.out.empty() || a.out == "-") {
    std::fputs(text.c_str(), stdout);
    return kExitOk;
  }
  std::ofstream out(a.out, std::ios::binary);
  if (!out || !(out << text)) return ReportError(IoError(a.out + ": cannot write"));
  log::Info("db export: " + std::to_string(runs->size()) + " runs written to " + a.out);
  return kExitOk;
}

Action SetupDb(CLI::App& app) {
  auto a = std::make_shared<DbArgs>();
  AddDbOption(app, a->db);
  app.require_subcommand(1);
  CLI::App* imp = app.add_subcommand("import", "add the runs of a results JSON file (runs already present are skipped)");
  imp->add_option("file", a->file, "results JSON written by `accel db export`")->required();
  imp->callback([a] { a->do_import = true; });
  imp->fallthrough();
  CLI::App* exp = app.add_subcommand("export", "write every run as JSON");
  exp->add_option("--out", a->out, "output file (default: standard output)");
  exp->callback([a] { a->do_export = true; });
  exp->fallthrough();
  return [a] { return a->do_import ? Import(*a) : Export(*a); };
}

}  // namespace
ACCEL_REGISTER_COMMAND("db", "import or export benchmark results as JSON", SetupDb);
}  // namespace accel::cli

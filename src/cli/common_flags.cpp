#include "cli/common_flags.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "core/file_kind.h"
#include "core/log.h"
#include "core/thread_pool.h"

namespace accel::cli {

namespace {

// 0..1024; the message names both places a value can come from.
CLI::Validator ThreadCount() {
  return CLI::Validator(
      [](std::string& s) -> std::string {
        size_t used = 0;
        long v = -1;
        try {
          v = std::stol(s, &used);
        } catch (...) {
          used = 0;
        }
        if (used != s.size() || v < 0 || v > 1024) {
          return "'" + s + "' is not a thread count (0 to 1024; from -t/--threads or ACCEL_NUM_THREADS)";
        }
        return std::string();
      },
      "0..1024");
}

}  // namespace

void AddGlobalOptions(CLI::App& app, GlobalOptions& g) {
  app.add_option("-t,--threads", g.threads, "worker threads (default, or 0: all cores)")
      ->envname("ACCEL_NUM_THREADS")
      ->check(ThreadCount())
      ->default_str("")
      ->group("Global options");
  app.add_flag("-v,--verbose", g.verbose, "also print debug detail on stderr")->group("Global options");
  app.add_flag("-q,--quiet", g.quiet, "print only results and errors")->group("Global options");
  // Defaults are shown in --help; an empty list's "[]" says nothing.
  for (CLI::Option* opt : app.get_options()) {
    if (opt->get_default_str() == "[]") opt->default_str("");
  }
  for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) AddGlobalOptions(*sub, g);
}

void ApplyGlobalOptions(const GlobalOptions& g) {
  if (g.threads > 0) ThreadPool::SetDefaultThreads(g.threads);
  if (g.quiet) log::SetLevel(log::Level::kError);
  if (g.verbose) log::SetLevel(log::Level::kDebug);
  if (log::Enabled(log::Level::kDebug))
    log::Debug("threads: " + std::to_string(ThreadPool::Global().num_threads()) +
               (g.threads > 0 ? " (-t/--threads or ACCEL_NUM_THREADS)" : " (all cores)"));
}

std::string EnvironmentHelp() {
  return "Environment:\n"
         "  ACCEL_NUM_THREADS   worker threads when -t/--threads is not given (default: all cores)\n"
         "  ACCEL_LOG_LEVEL     error, warn, info (default) or debug; -v and --quiet override it\n"
         "  ACCEL_MEMORY_LIMIT  memory cap per device for `accel select` (e.g. 8G)\n"
         "  ACCEL_DB            benchmark database for bench/query/report/db (default ./accel.db; or postgres://...)\n"
         "  ACCEL_MODELS_DIR    bundled fixture models for `accel bench` (default: the source tree's tests/data/models)\n"
         "  HF_HUB_CACHE, HF_HOME  where HF ids are looked up (default ~/.cache/huggingface/hub; offline)\n"
         "  OPENAI_API_KEY, ANTHROPIC_API_KEY, GEMINI_API_KEY, GROQ_API_KEY, VLLM_API_KEY, HF_TOKEN\n"
         "                      keys for `accel api` (comma-separated for several)\n"
         "  AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION  for `accel api s3`\n"
         "  ACCEL_API_STATS     request statistics file (default ~/.cache/accel/api-stats.json)\n"
         "Run `accel COMMAND --help` for a command's options.";
}

CLI::Option* AddModelOption(CLI::App& app, std::string& model, const std::string& help) {
  return app.add_option("-m,--model", model, help);
}

CLI::Option* AddDeviceOption(CLI::App& app, std::string& device) {
  return app.add_option("-d,--device", device,
                        "device to run on: cpu, cuda[:N], vulkan[:N], emulated (the CPU behind a device boundary) or auto "
                        "(CUDA when present, else the CPU)")
      ->capture_default_str();
}

CLI::Option* AddMemoryLimitOption(CLI::App& app, std::string& limit) {
  return app.add_option("--memory-limit", limit,
                        "memory budget, e.g. 8G; a model estimated not to fit is refused before loading "
                        "(default: ACCEL_MEMORY_LIMIT or 90% of available memory)");
}

size_t EditDistance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string ClosestName(const std::string& word, const std::vector<std::string>& names) {
  std::string best;
  size_t best_d = std::string::npos;
  for (const auto& n : names) {
    size_t d = EditDistance(word, n);
    // A prefix of three or more letters ("gen") is as good as a one-letter typo.
    if (word.size() >= 3 && n.compare(0, word.size(), word) == 0) d = std::min<size_t>(d, 1);
    if (d < best_d) best_d = d, best = n;
  }
  const size_t allowed = std::max<size_t>(2, word.size() / 3);
  return best_d <= allowed ? best : std::string();
}

std::optional<std::string> UnknownCommandMessage(CLI::App& app, const std::vector<std::string>& args) {
  CLI::App* cur = &app;
  std::string path = "accel";
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") return std::nullopt;
    if (a.size() > 1 && a[0] == '-') {
      if (a.find('=') != std::string::npos) continue;
      // Skip the value of an option that takes one (-t 4), looked up here and in the parents.
      for (CLI::App* p = cur; p; p = p->get_parent()) {
        const CLI::Option* opt = p->get_option_no_throw(a);
        if (opt) {
          if (opt->get_items_expected_max() > 0) ++i;
          break;
        }
      }
      continue;
    }
    auto subs = cur->get_subcommands([](CLI::App*) { return true; });
    if (subs.empty()) return std::nullopt;  // from here on the words are the command's arguments
    CLI::App* next = nullptr;
    std::vector<std::string> names;
    for (CLI::App* s : subs) {
      if (s->check_name(a)) next = s;
      names.push_back(s->get_name());
    }
    if (next) {
      cur = next;
      path += " " + next->get_name();
      continue;
    }
    std::string msg = "unknown command '" + a + "'" + (cur == &app ? "" : " for '" + path + "'");
    const std::string close = ClosestName(a, names);
    if (!close.empty()) {
      msg += "; did you mean '" + close + "'?";
    } else {
      std::sort(names.begin(), names.end());
      msg += "; commands:";
      for (const auto& n : names) msg += " " + n;
    }
    return msg;
  }
  return std::nullopt;
}

Result<std::vector<std::vector<int64_t>>> ParseIdRows(const std::string& text, const std::string& flag) {
  std::vector<std::vector<int64_t>> rows(1);
  std::string number;
  bool separator_pending = false;  // a ',' was read and no id followed yet
  auto bad = [&](const std::string& why) {
    return InvalidArgument(flag + " '" + text + "': " + why + " (expected token ids like 1,2,3 or \"1 2 3\"; ';' between rows)");
  };
  auto flush = [&]() -> Status {
    if (number.empty()) return Status::Ok();
    size_t used = 0;
    long long v = -1;
    try {
      v = std::stoll(number, &used);
    } catch (...) {
      used = 0;
    }
    if (used != number.size() || v < 0 || number[0] == '+') return bad("'" + number + "' is not a token id");
    rows.back().push_back(v);
    number.clear();
    separator_pending = false;
    return Status::Ok();
  };
  for (char c : text) {
    if (c == ' ' || c == '\t' || c == '\n') {
      ACCEL_RETURN_IF_ERROR(flush());
    } else if (c == ',') {
      ACCEL_RETURN_IF_ERROR(flush());
      if (separator_pending || rows.back().empty()) return bad("an empty id between commas");
      separator_pending = true;
    } else if (c == ';') {
      ACCEL_RETURN_IF_ERROR(flush());
      if (separator_pending || rows.back().empty()) return bad("an empty row");
      rows.emplace_back();
    } else {
      number += c;
    }
  }
  ACCEL_RETURN_IF_ERROR(flush());
  if (separator_pending || rows.back().empty()) return bad(rows.size() == 1 && rows[0].empty() ? "no ids" : "an empty id at the end");
  return rows;
}

CLI::Validator CountOrUnlimited() {
  return CLI::Validator(
      [](std::string& s) -> std::string {
        size_t used = 0;
        long long v = 0;
        try {
          v = std::stoll(s, &used);
        } catch (...) {
          used = 0;
        }
        if (used != s.size() || v < -1 || v > (1LL << 62)) return "'" + s + "' is not a count (a number >= 0, or -1 for no limit)";
        return std::string();
      },
      "N (-1 = no limit)");
}

Status ExpectFileKind(const std::string& path, const std::vector<std::string>& kinds, const std::string& expected) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return NotFound(path + ": no such file (expected " + expected + ")");
  const std::string kind = DescribeFileKind(path);
  if (kind.empty()) return Status::Ok();  // unknown: let the reader decide and explain
  for (const auto& k : kinds) {
    if (k == kind) return Status::Ok();
  }
  return InvalidArgument(path + " is " + kind + "; expected " + expected);
}

}  // namespace accel::cli

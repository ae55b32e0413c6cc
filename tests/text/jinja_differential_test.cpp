// Differential test of our Jinja against Jinja2: jinja_differential/gen_cases.py writes random
// chat templates and conversations from a grammar of what chat templates do, rendered with
// Jinja2 under transformers' settings; each must render to the same string here, or fail in
// both (with raise_exception's message, when that is what failed). A handful of real templates
// cannot cover the combinations (slices of filtered lists, namespaces set in nested loops,
// whitespace control around every tag, Unicode text through every string operation) that
// models' templates reach.
//
// More cases than the default: ACCEL_JINJA_DIFF_SEEDS=1-200 ACCEL_JINJA_DIFF_COUNT=100.
// One case again: python3 tests/text/jinja_differential/gen_cases.py --seed S --count I+1.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "test_util.h"
#include "text/jinja.h"

namespace accel::text {
namespace {

const std::string kGenerator = test::DataDir() + "/../text/jinja_differential/gen_cases.py";

int EnvInt(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::atoi(v) : fallback;
}

// "A-B" or "A": the generator seeds to run.
std::pair<int, int> SeedRange() {
  const char* v = std::getenv("ACCEL_JINJA_DIFF_SEEDS");
  if (!v || !*v) return {1, 4};
  const std::string s = v;
  const size_t dash = s.find('-');
  const int first = std::atoi(s.c_str());
  return {first, dash == std::string::npos ? first : std::atoi(s.c_str() + dash + 1)};
}

// Our result as jinja2's would be written: the output, or "error" with the message.
struct Outcome {
  bool ok;
  std::string text;
};

Outcome RenderOurs(const std::string& source, const nlohmann::json& context) {
  auto t = JinjaTemplate::Parse(source);
  if (!t.ok()) return {false, t.status().message()};
  auto r = t->Render(context);
  if (!r.ok()) return {false, r.status().message()};
  return {true, *r};
}

TEST(JinjaDifferential, GeneratedTemplatesRenderAsJinja2Does) {
  if (std::system("python3 -c 'import jinja2' >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "needs python3 with jinja2 (Debian: python3-jinja2) to write the expected outputs";
  }
  const auto [first_seed, last_seed] = SeedRange();
  const int count = EnvInt("ACCEL_JINJA_DIFF_COUNT", 100);
  const std::string dir = test::MakeTempDir("jinja-diff");
  int cases = 0, failures = 0, errors = 0;
  for (int seed = first_seed; seed <= last_seed; ++seed) {
    const std::string out = dir + "/cases-" + std::to_string(seed) + ".jsonl";
    auto gen = test::RunShell("python3 " + kGenerator + " --seed " + std::to_string(seed) + " --count " +
                                  std::to_string(count) + " --out " + out,
                              120);
    ASSERT_EQ(gen.exit_code, 0) << gen.out;
    std::ifstream in(out);
    for (std::string line; std::getline(in, line);) {
      const auto c = nlohmann::json::parse(line);
      ++cases;
      const std::string source = c["template"].get<std::string>();
      const Outcome ours = RenderOurs(source, c["context"]);
      const bool jinja2_failed = c.contains("error");
      errors += jinja2_failed;
      bool same = ours.ok == !jinja2_failed;
      if (same && ours.ok) same = ours.text == c["expected"].get<std::string>();
      if (same && c.contains("raised")) same = ours.text.find(c["raised"].get<std::string>()) != std::string::npos;
      if (same) continue;
      // The first few in full: enough to reproduce and fix, without drowning the log.
      if (++failures <= 10) {
        // Outputs as JSON strings: a stray space or newline shows.
        ADD_FAILURE() << "seed " << seed << " case " << c["index"] << " differs from Jinja2\n--- template:\n"
                      << source << "\n--- context:\n" << c["context"].dump(1) << "\n--- Jinja2:\n"
                      << (jinja2_failed ? "error: " + c["message"].get<std::string>() : c["expected"].dump())
                      << "\n--- ours:\n" << (ours.ok ? nlohmann::json(ours.text).dump() : "error: " + ours.text) << "\n---";
      }
    }
  }
  std::filesystem::remove_all(dir);
  EXPECT_EQ(failures, 0) << failures << " of " << cases << " cases differ";
  // A generator that stopped writing cases, or whose templates mostly fail, tests little.
  EXPECT_EQ(cases, (last_seed - first_seed + 1) * count);
  EXPECT_LT(errors, cases / 3) << "most generated cases should render, not fail";
}

}  // namespace
}  // namespace accel::text

// The load progress line (issue 20): drawn on a terminal and erased when the model is loaded,
// absent from pipes and under --quiet. `script` gives the CLI a pseudo-terminal as its stderr.
#include <gtest/gtest.h>

#include "test_util.h"

namespace accel {
namespace {

bool Has(const std::string& out, const std::string& what) { return out.find(what) != std::string::npos; }

// Runs `accel <args>` with stdin/stdout/stderr on a pseudo-terminal; returns what it wrote.
test::CommandResult RunOnTerminal(const std::string& args) {
  // RunShell quotes its line in single quotes: double quotes here.
  return test::RunShell("script -qec \"" + std::string(ACCEL_CLI_PATH) + " " + args + "\" /dev/null");
}

const std::string kGenerate = "generate -m " + test::ModelDir("llama-tiny") + " --prompt-ids 1,2 -n 2 -t 1";

TEST(LoadProgress, DrawnOnATerminalAndErasedBeforeTheResult) {
  if (test::RunShell("command -v script").exit_code != 0) GTEST_SKIP() << "no `script` (util-linux) for a pseudo-terminal";
  auto r = RunOnTerminal(kGenerate);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const size_t line = r.out.find("loading llama-tiny: ");
  ASSERT_NE(line, std::string::npos) << r.out;
  EXPECT_TRUE(Has(r.out.substr(line), "% of ")) << r.out;
  // The last frame is erased (carriage return + erase-line) after the last "loading" frame.
  const size_t last = r.out.rfind("loading llama-tiny: ");
  EXPECT_NE(r.out.find("\r\033[K", last), std::string::npos) << r.out;
}

TEST(LoadProgress, AbsentFromPipesAndUnderQuiet) {
  auto piped = test::RunCli(kGenerate);
  ASSERT_EQ(piped.exit_code, 0) << piped.out;
  EXPECT_FALSE(Has(piped.out, "loading")) << piped.out;
  if (test::RunShell("command -v script").exit_code != 0) GTEST_SKIP() << "no `script` (util-linux) for a pseudo-terminal";
  auto quiet = RunOnTerminal("--quiet " + kGenerate);
  ASSERT_EQ(quiet.exit_code, 0) << quiet.out;
  EXPECT_FALSE(Has(quiet.out, "loading")) << quiet.out;
}

}  // namespace
}  // namespace accel

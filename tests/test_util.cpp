#include "test_util.h"

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

namespace accel::test {

namespace {

// ASan and TSan reserve terabytes of shadow address space at start-up: under them an
// address-space cap (ulimit -v) kills every process before it runs.
constexpr bool kSanitized =
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
    true;
#else
    false;
#endif
#else
    false;
#endif

CommandResult Run(const std::string& cmd) {
  CommandResult r{-1, ""};
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

}  // namespace

CommandResult RunCli(const std::string& args) { return Run(std::string(ACCEL_CLI_PATH) + " " + args + " 2>&1"); }

CommandResult RunShell(const std::string& line, int timeout_s) {
  const std::string limit = kSanitized ? "" : "ulimit -v 4000000; ";
  return Run(limit + "timeout " + std::to_string(timeout_s) + " sh -c '" + line + "' 2>&1");
}

std::string MakeTempDir(const std::string& tag) {
  std::string templ = (std::filesystem::temp_directory_path() / ("accel-" + tag + "-XXXXXX")).string();
  char* p = mkdtemp(templ.data());
  return p ? std::string(p) : std::string();
}

}  // namespace accel::test

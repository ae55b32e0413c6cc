#include "test_util.h"

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

namespace accel::test {

CommandResult RunCli(const std::string& args) {
  std::string cmd = std::string(ACCEL_CLI_PATH) + " " + args + " 2>&1";
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

std::string MakeTempDir(const std::string& tag) {
  std::string templ = (std::filesystem::temp_directory_path() / ("accel-" + tag + "-XXXXXX")).string();
  char* p = mkdtemp(templ.data());
  return p ? std::string(p) : std::string();
}

}  // namespace accel::test

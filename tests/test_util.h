#pragma once
// Helpers shared by the tests: where the data is, and running the CLI as a user would.
#include <string>

namespace accel::test {

inline std::string DataDir() { return ACCEL_TEST_DATA_DIR; }
inline std::string ModelDir(const std::string& name) { return DataDir() + "/models/" + name; }

struct CommandResult {
  int exit_code;
  std::string out;  // stdout and stderr together
};
// Runs `accel <args>` through the shell (args are already quoted by the caller).
CommandResult RunCli(const std::string& args);

// A fresh empty directory under the system temp dir, removed by the caller if it wishes.
std::string MakeTempDir(const std::string& tag);

}  // namespace accel::test

#pragma once
// Flags and checks every command shares, spelled as llama.cpp spells them: -t/--threads,
// -v/--verbose and -q/--quiet on every command (global options), -m/--model for the model,
// defaults and environment variables in --help, "did you mean" for a mistyped command, and
// "X is a GGUF model file; expected ..." for a file of the wrong kind.
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "core/status.h"

namespace accel::cli {

struct GlobalOptions {
  int threads = 0;  // 0: all cores (what the thread pool picks by itself)
  bool verbose = false;
  bool quiet = false;
};

// Adds -t/--threads, -v/--verbose and -q/--quiet to `app` and to every subcommand below it,
// so that they are accepted (and listed in --help) before or after any command word.
void AddGlobalOptions(CLI::App& app, GlobalOptions& g);
// Sets the thread pool size and the log level from the parsed options.
void ApplyGlobalOptions(const GlobalOptions& g);

// The environment variables every command reads, for the main --help footer.
std::string EnvironmentHelp();

// -m/--model: the model a command runs (a folder, an HF id in the local cache, or a file).
CLI::Option* AddModelOption(CLI::App& app, std::string& model, const std::string& help);
// -d/--device: where a command runs its model (runtime/devices.h parses it).
CLI::Option* AddDeviceOption(CLI::App& app, std::string& device);
// --memory-limit: the budget a model must fit before it is loaded (placement/admission.h).
CLI::Option* AddMemoryLimitOption(CLI::App& app, std::string& limit);

// Levenshtein distance (insertions, deletions, substitutions).
size_t EditDistance(const std::string& a, const std::string& b);
// The name in `names` closest to `word` when it is close enough to be a typo; "" otherwise.
std::string ClosestName(const std::string& word, const std::vector<std::string>& names);
// When the command line names a command that does not exist ("accel genrate"), the message
// for it: "unknown command 'genrate'; did you mean 'generate'?". nullopt when every command
// word is known (the parse error is about something else).
std::optional<std::string> UnknownCommandMessage(CLI::App& app, const std::vector<std::string>& args);

// Token ids as a user types them: "1,2,3", "1 2 3" or "1, 2, 3"; rows separated by ';'.
// Anything else ("1 x", "1,,2", "-3") is an error that names the offending piece.
Result<std::vector<std::vector<int64_t>>> ParseIdRows(const std::string& text, const std::string& flag);

// A count where -1 means "no limit" (llama.cpp's -n -1): accepts -1 and 0..2^62.
CLI::Validator CountOrUnlimited();

// `path` must exist and be one of `kinds` (DescribeFileKind names, e.g. "a WAV audio file");
// the error says what it is and what `expected` is.
Status ExpectFileKind(const std::string& path, const std::vector<std::string>& kinds, const std::string& expected);

}  // namespace accel::cli

#include "test_util.h"

#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <fstream>

#include <nlohmann/json.hpp>

#include "formats/safetensors.h"

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

namespace {
// Every directory MakeTempDir made, removed when the test program exits (not when a forked
// child that inherited the list exits).
struct TempDirs {
  std::mutex mu;
  std::vector<std::string> dirs;
  const pid_t owner = ::getpid();
  ~TempDirs() {
    if (::getpid() != owner) return;
    std::error_code ec;
    for (const auto& d : dirs) std::filesystem::remove_all(d, ec);
  }
};
TempDirs& MadeTempDirs() {
  static TempDirs dirs;
  return dirs;
}
}  // namespace

std::string MakeTempDir(const std::string& tag) {
  std::string templ = (std::filesystem::temp_directory_path() / ("accel-" + tag + "-XXXXXX")).string();
  char* p = mkdtemp(templ.data());
  if (!p) return std::string();
  TempDirs& made = MadeTempDirs();
  std::lock_guard lock(made.mu);
  made.dirs.emplace_back(p);
  return p;
}

LoadedLm LoadCausalLm(const std::string& name) {
  LoadedLm f;
  auto m = LoadedModel::Load(ModelDir(name));
  EXPECT_TRUE(m.ok()) << m.status().message();
  if (!m.ok()) return f;
  f.model = std::move(*m);
  f.lm = f.model->causal_lm();
  EXPECT_NE(f.lm, nullptr) << name << " is not a decoder";
  return f;
}

std::string CopyModel(const std::string& name, const std::string& tag) {
  namespace fs = std::filesystem;
  std::string dir = MakeTempDir(tag) + "/" + name;
  fs::create_directories(dir);
  for (const char* f : {"config.json", "model.safetensors"}) fs::copy_file(ModelDir(name) + "/" + f, dir + "/" + f);
  return dir;
}

std::string LlamaTinyWithWordTokenizer(const std::string& tag) {
  using json = nlohmann::json;
  std::string dir = CopyModel("llama-tiny", tag);
  json vocab = json::object();
  for (int i = 0; i < 256; ++i) vocab["w" + std::to_string(i)] = i;
  json tok = {{"version", "1.0"}, {"truncation", nullptr}, {"padding", nullptr}, {"added_tokens", json::array()},
              {"normalizer", nullptr}, {"pre_tokenizer", {{"type", "WhitespaceSplit"}}}, {"post_processor", nullptr},
              {"decoder", nullptr}, {"model", {{"type", "WordLevel"}, {"vocab", vocab}, {"unk_token", "w0"}}}};
  std::ofstream(dir + "/tokenizer.json") << tok.dump();
  json cfg = {{"chat_template", "{% for m in messages %}{{ m['content'] }}{% endfor %}"}};
  std::ofstream(dir + "/tokenizer_config.json") << cfg.dump();
  return dir;
}

std::string BertTinyWithTokenizer(const std::string& tag) {
  std::string dir = CopyModel("bert-tiny", tag);
  std::filesystem::copy_file(DataDir() + "/test_tokenizers/bert-tiny-wordpiece.json", dir + "/tokenizer.json");
  return dir;
}

GreedyReference LoadGreedyReference(const std::string& model) {
  auto st = SafetensorsFile::Open(ModelDir(model) + "/reference.safetensors").value();
  Tensor in = st->Get("generate.input_ids").value(), mask = st->Get("generate.attention_mask").value();
  Tensor out = st->Get("generate.output_ids").value();
  GreedyReference r;
  const int64_t rows = in.dim(0), plen = in.dim(1), olen = out.dim(1);
  for (int64_t b = 0; b < rows; ++b) {
    std::vector<int64_t> p, n;
    for (int64_t t = 0; t < plen; ++t)
      if (mask.data<int64_t>()[b * plen + t]) p.push_back(in.data<int64_t>()[b * plen + t]);
    for (int64_t t = plen; t < olen; ++t) n.push_back(out.data<int64_t>()[b * olen + t]);
    r.prompts.push_back(p);
    r.new_ids.push_back(n);
  }
  return r;
}

}  // namespace accel::test

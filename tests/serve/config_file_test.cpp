// accel serve --config: JSON or TOML read into one structure; server settings under the command
// line's flags; errors one line naming the file and key.
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "serve/config_file.h"
#include "test_util.h"

namespace accel::serve {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

TEST(ServeConfigFile, BadTomlIsOneLineNamingTheFile) {
  const fs::path dir = test::MakeTempDir("serve_toml");
  auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(dir / name) << text;
    return (dir / name).string();
  };
  auto bad = ServeConfigAsJson(write("bad.toml", "[[routes.r]]\nprovider = \n"));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("bad.toml: not valid TOML: "), std::string::npos) << bad.status().message();
  EXPECT_EQ(bad.status().message().find('\n'), std::string::npos) << bad.status().message();
  auto deep = ServeConfigAsJson(write("deep.toml", "x = " + std::string(100000, '[') + std::string(100000, ']') + "\n"));
  ASSERT_FALSE(deep.ok());
  EXPECT_NE(deep.status().message().find("nested more than 32 levels"), std::string::npos) << deep.status().message();
  auto dates = ServeConfigAsJson(write("ok.toml", "when = 1979-05-27T07:32:00Z\n[t]\nn = 3\nf = 0.5\nb = true\na = [1, 2]\n"));
  ASSERT_TRUE(dates.ok()) << dates.status().message();
  json j = json::parse(*dates);
  EXPECT_EQ(j["t"], json({{"n", 3}, {"f", 0.5}, {"b", true}, {"a", {1, 2}}}));
  EXPECT_TRUE(j["when"].is_string());
  auto json_file = ServeConfigAsJson(write("plain.json", "{\"routes\": {}}"));
  ASSERT_TRUE(json_file.ok());
  EXPECT_EQ(*json_file, "{\"routes\": {}}");  // JSON is passed through as written
  EXPECT_FALSE(ServeConfigAsJson((dir / "missing.toml").string()).ok());
  fs::remove_all(dir);
}

TEST(ServeConfigFile, SettingsApplyUnderTheCommandLine) {
  const fs::path dir = test::MakeTempDir("serve_settings");
  std::ofstream(dir / "serve.toml") << "host = \"0.0.0.0\"\nport = 9000\nmodels = [\"a=/x\"]\napi_keys = [\"k2\"]\n"
                                       "max_queue = 3\nkey_rate_limit = 30.5\nmax_embed_batch = 16\nkv_cache = \"q8_0\"\n";
  auto text = ServeConfigAsJson((dir / "serve.toml").string());
  ASSERT_TRUE(text.ok()) << text.status().message();
  ServeOptions o;
  o.port = 1234;  // given on the command line
  o.models = {"b=/y"};
  o.api_keys = {"k1"};
  ASSERT_TRUE(ApplyServeConfig(*text, "serve.toml", {"port"}, &o).ok());
  EXPECT_EQ(o.host, "0.0.0.0");
  EXPECT_EQ(o.port, 1234);
  EXPECT_EQ(o.models, (std::vector<std::string>{"a=/x", "b=/y"}));
  EXPECT_EQ(o.api_keys, (std::vector<std::string>{"k1", "k2"}));
  EXPECT_EQ(o.max_queue, 3);
  EXPECT_EQ(o.key_rate_per_minute, 30.5);
  EXPECT_EQ(o.max_embed_batch, 16u);
  EXPECT_EQ(o.kv_cache, "q8_0");
  auto refused = [](const std::string& json_text) {
    ServeOptions ignored;
    Status s = ApplyServeConfig(json_text, "serve.toml", {}, &ignored);
    return s.ok() ? std::string("accepted") : s.message();
  };
  EXPECT_EQ(refused(R"({"prot": 80})").rfind("serve.toml: prot is not a setting (host, port,", 0), 0u) << refused(R"({"prot": 80})");
  EXPECT_EQ(refused(R"({"port": "80"})"), "serve.toml: port must be an integer in [0, 65535]");
  EXPECT_EQ(refused(R"({"port": 70000})"), "serve.toml: port must be an integer in [0, 65535]");
  EXPECT_EQ(refused(R"({"models": "a"})"), "serve.toml: models must be an array of strings");
  EXPECT_EQ(refused(R"({"http_threads": 1})"), "serve.toml: http_threads must be an integer in [2, 4096]");
  EXPECT_EQ(refused(R"({"routes": {}, "max_tokens": 5})"), "accepted");
  EXPECT_EQ(refused(R"({"kv_cache": "q5_k"})"), "serve.toml: kv_cache must be f32, q8_0 or q4_0");
  fs::remove_all(dir);
}

}  // namespace
}  // namespace accel::serve

// `accel api s3 put|ls|get` as a user runs them, against the signature-checking loopback S3.
#include <gtest/gtest.h>

#include <fstream>

#include "s3_mock.h"
#include "test_util.h"

namespace accel {
namespace {

TEST(S3Cli, PutListGetAndErrors) {
  test::S3Mock a("AKIACLI", "cli-secret"), b("AKIACLI", "cli-secret");
  a.AddBucket("bkt");
  b.AddBucket("bkt");
  std::string dir = test::MakeTempDir("s3-cli");
  {
    std::ofstream(dir + "/in.bin", std::ios::binary) << "hello s3 \x01\x02";
  }
  std::string env = "AWS_ACCESS_KEY_ID=AKIACLI AWS_SECRET_ACCESS_KEY=cli-secret ";
  std::string cli = "--version >/dev/null; " + env + std::string(ACCEL_CLI_PATH) + " api s3 ";
  std::string urls = " --base-url " + a.url() + "," + b.url() + " ";

  auto put = test::RunCli(cli + "put" + urls + "bkt models/x.bin " + dir + "/in.bin");
  EXPECT_EQ(put.exit_code, 0) << put.out;
  auto put2 = test::RunCli(cli + "put" + urls + "bkt models/y.bin " + dir + "/in.bin");
  EXPECT_EQ(put2.exit_code, 0) << put2.out;
  // Each run starts round-robin at the first endpoint; both objects landed on a.
  ASSERT_TRUE(a.Object("bkt", "models/x.bin").has_value());
  EXPECT_EQ(*a.Object("bkt", "models/x.bin"), "hello s3 \x01\x02");

  auto ls = test::RunCli(cli + "ls --json --base-url " + a.url() + " bkt models/");
  EXPECT_EQ(ls.exit_code, 0) << ls.out;
  EXPECT_NE(ls.out.find("\"key\":\"models/x.bin\""), std::string::npos) << ls.out;
  EXPECT_NE(ls.out.find("\"size\":11"), std::string::npos) << ls.out;

  auto get = test::RunCli(cli + "get --base-url " + a.url() + " bkt models/x.bin -o " + dir + "/out.bin");
  EXPECT_EQ(get.exit_code, 0) << get.out;
  std::ifstream in(dir + "/out.bin", std::ios::binary);
  std::string got((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(got, "hello s3 \x01\x02");

  auto missing = test::RunCli(cli + "get --base-url " + a.url() + " bkt nope");
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.out.find("NoSuchKey"), std::string::npos) << missing.out;

  auto bad_key = test::RunCli("--version >/dev/null; AWS_ACCESS_KEY_ID=AKIACLI AWS_SECRET_ACCESS_KEY=wrong " +
                              std::string(ACCEL_CLI_PATH) + " api s3 ls --base-url " + a.url() + " bkt");
  EXPECT_EQ(bad_key.exit_code, 2);
  EXPECT_NE(bad_key.out.find("SignatureDoesNotMatch"), std::string::npos) << bad_key.out;

  auto no_url = test::RunCli(cli + "ls bkt");
  EXPECT_EQ(no_url.exit_code, 2) << no_url.out;
}

}  // namespace
}  // namespace accel

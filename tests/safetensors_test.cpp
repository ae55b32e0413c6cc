#include "formats/safetensors.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

namespace accel {
namespace {

std::vector<uint8_t> Image(const std::string& header, size_t data_bytes, uint64_t claimed_len = UINT64_MAX) {
  uint64_t len = claimed_len == UINT64_MAX ? header.size() : claimed_len;
  // Sized once and filled in place (GCC 12 misreads insert() after a fixed-size vector as overflow).
  std::vector<uint8_t> out(8 + header.size() + data_bytes, 0);
  for (int i = 0; i < 8; ++i) out[i] = static_cast<uint8_t>(len >> (8 * i));
  std::copy(header.begin(), header.end(), out.begin() + 8);
  return out;
}

Status ParseStatus(const std::vector<uint8_t>& img) {
  auto r = SafetensorsFile::Parse(img.data(), img.size(), "t.safetensors", nullptr);
  return r.ok() ? Status::Ok() : r.status();
}

TEST(Safetensors, ParsesValidFile) {
  auto img = Image(R"({"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},"__metadata__":{"format":"pt"}})", 16);
  auto r = SafetensorsFile::Parse(img.data(), img.size(), "t", nullptr);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ((*r)->entries().size(), 1u);
  EXPECT_EQ((*r)->metadata().at("format"), "pt");
  auto t = (*r)->Get("a");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->shape(), (Shape{2, 2}));
}

TEST(Safetensors, RejectsHostileHeaders) {
  struct Case { std::vector<uint8_t> img; const char* needle; };
  std::vector<Case> cases = {
      {std::vector<uint8_t>{1, 2, 3}, "shorter than"},
      {Image("{}", 0, 1000), "past the end"},
      {Image("not json", 0), "not valid JSON"},
      {Image("[1,2]", 0), "not a JSON object"},
      {Image(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,16]}})", 16), "needs 8 bytes"},
      {Image(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", 8), "past the data section"},
      {Image(R"({"a":{"dtype":"X9","shape":[4],"data_offsets":[0,16]}})", 16), "unknown dtype"},
      {Image(R"({"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", 4), "negative"},
      {Image(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})", 8), "begin > end"},
      {Image(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})", 12), "overlap"},
      {Image(R"({"a":{"dtype":"F32","shape":[4611686018427387904,8],"data_offsets":[0,8]}})", 8), "overflows"},
      {Image(R"({"a":{"dtype":"F32","shape":[2]}})", 8), "data_offsets"},
  };
  for (const auto& c : cases) {
    Status s = ParseStatus(c.img);
    EXPECT_FALSE(s.ok()) << c.needle;
    EXPECT_NE(s.message().find(c.needle), std::string::npos) << s.message();
    EXPECT_EQ(s.message().find('\n'), std::string::npos);
  }
}

TEST(Safetensors, WriteThenReadRoundTrips) {
  auto t = Tensor::Zeros(DType::kF32, {3}).value();
  t.data<float>()[1] = 2.5f;
  std::string path = ::testing::TempDir() + "/rt.safetensors";
  ASSERT_TRUE(WriteSafetensors(path, {{"x", t}}).ok());
  auto f = SafetensorsFile::Open(path);
  ASSERT_TRUE(f.ok()) << f.status().message();
  auto x = (*f)->Get("x").value();
  EXPECT_EQ(x.data<float>()[1], 2.5f);
}

}  // namespace
}  // namespace accel

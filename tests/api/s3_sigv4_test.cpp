// SigV4 against AWS's published vectors: the aws-sig-v4-test-suite cases (credentials
// AKIDEXAMPLE / wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY, region us-east-1, service "service",
// 20150830T123600Z, host example.amazonaws.com) and the S3 API Reference's worked example
// "Signature Calculations for the Authorization Header ... Example: GET Object" (examplebucket,
// AKIAIOSFODNN7EXAMPLE / wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY, 20130524T000000Z).
// The expected signatures below are the published ones, not values this code produced.
#include <gtest/gtest.h>

#include "api/s3/sigv4.h"

namespace accel::api::s3 {
namespace {

const char* kEmptySha = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

SigV4Credentials SuiteCredentials() { return {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "us-east-1", "service"}; }

SigV4Request SuiteRequest(const std::string& method) {
  SigV4Request r;
  r.method = method;
  r.headers = {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", "20150830T123600Z"}};
  r.payload_sha256 = kEmptySha;
  return r;
}

TEST(S3SigV4, Sha256OfEmptyInput) { EXPECT_EQ(Sha256Hex(""), kEmptySha); }

// get-vanilla: also checks the suite's published canonical request and string to sign.
TEST(S3SigV4, SuiteGetVanilla) {
  SigV4Parts p = SignV4(SuiteRequest("GET"), SuiteCredentials(), "20150830T123600Z");
  EXPECT_EQ(p.canonical_request,
            "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n" + std::string(kEmptySha));
  EXPECT_EQ(p.string_to_sign,
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
            "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63");
  EXPECT_EQ(p.authorization,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
            "SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
}

// get-vanilla-query-order-key-case: ?Param2=value2&Param1=value1 is sorted by name.
TEST(S3SigV4, SuiteGetVanillaQueryOrderKeyCase) {
  SigV4Request r = SuiteRequest("GET");
  r.query = {{"Param2", "value2"}, {"Param1", "value1"}};
  EXPECT_EQ(SignV4(r, SuiteCredentials(), "20150830T123600Z").signature,
            "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500");
}

TEST(S3SigV4, SuitePostVanilla) {
  EXPECT_EQ(SignV4(SuiteRequest("POST"), SuiteCredentials(), "20150830T123600Z").signature,
            "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b");
}

// post-x-www-form-urlencoded: a signed Content-Type and a hashed body "Param1=value1".
TEST(S3SigV4, SuitePostFormUrlencoded) {
  SigV4Request r = SuiteRequest("POST");
  r.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
  r.payload_sha256 = Sha256Hex("Param1=value1");
  SigV4Parts p = SignV4(r, SuiteCredentials(), "20150830T123600Z");
  EXPECT_EQ(p.signed_headers, "content-type;host;x-amz-date");
  EXPECT_EQ(p.signature, "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a");
}

// S3 API Reference, sig-v4-header-based-auth, "Example: GET Object" (first 10 bytes of test.txt).
TEST(S3SigV4, S3DocumentedGetObject) {
  SigV4Request r;
  r.method = "GET";
  r.path = "/test.txt";
  r.headers = {{"Host", "examplebucket.s3.amazonaws.com"},
               {"Range", "bytes=0-9"},
               {"x-amz-content-sha256", kEmptySha},
               {"x-amz-date", "20130524T000000Z"}};
  r.payload_sha256 = kEmptySha;
  SigV4Credentials c{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "us-east-1", "s3"};
  SigV4Parts p = SignV4(r, c, "20130524T000000Z");
  EXPECT_EQ(p.signed_headers, "host;range;x-amz-content-sha256;x-amz-date");
  EXPECT_EQ(p.signature, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(S3SigV4, UriEncodingAndDates) {
  EXPECT_EQ(UriEncode("a b/c~d*é", false), "a%20b%2Fc~d%2A%C3%A9");
  EXPECT_EQ(UriEncode("dir/file name", true), "dir/file%20name");
  EXPECT_EQ(UriDecode("a%20b%2Fc%zz"), "a b/c%zz");
  EXPECT_EQ(AmzDate(1440938160), "20150830T123600Z");
}

TEST(S3SigV4, ParseAuthorizationRoundTripAndRejects) {
  SigV4Parts p = SignV4(SuiteRequest("GET"), SuiteCredentials(), "20150830T123600Z");
  ParsedAuthorization a = ParseAuthorization(p.authorization);
  ASSERT_TRUE(a.ok);
  EXPECT_EQ(a.access_key_id, "AKIDEXAMPLE");
  EXPECT_EQ(a.region, "us-east-1");
  EXPECT_EQ(a.signed_headers, (std::vector<std::string>{"host", "x-amz-date"}));
  EXPECT_EQ(a.signature, p.signature);
  EXPECT_FALSE(ParseAuthorization("Bearer x").ok);
  EXPECT_FALSE(ParseAuthorization("AWS4-HMAC-SHA256 Credential=a/b, SignedHeaders=host, Signature=00").ok);
  EXPECT_FALSE(ParseAuthorization("AWS4-HMAC-SHA256 garbage").ok);
}

}  // namespace
}  // namespace accel::api::s3

#pragma once
// AWS Signature Version 4 (header-based): the canonical request, the string to sign, the
// derived signing key and the Authorization header. Pure functions over strings, so the S3
// client signs with them and the loopback S3 test server re-derives every signature with them.
#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace accel::api::s3 {

std::string Sha256Hex(std::string_view data);
// Raw 32-byte HMAC-SHA256 of `data` under `key`.
std::string HmacSha256(std::string_view key, std::string_view data);
std::string HexEncode(std::string_view bytes);

// RFC 3986 percent-encoding as SigV4 wants it: unreserved characters (A-Z a-z 0-9 - _ . ~)
// stay, every other byte becomes %XX (upper-case); '/' stays too when `keep_slash`.
std::string UriEncode(std::string_view text, bool keep_slash);
// "%41b%2F" -> "Ab/"; malformed escapes are kept as they are.
std::string UriDecode(std::string_view text);

// 2015-08-30T12:36:00Z -> "20150830T123600Z".
std::string AmzDate(std::time_t t);

struct SigV4Request {
  std::string method;                                          // "GET"
  std::string path = "/";                                      // already URI-encoded, as sent
  std::vector<std::pair<std::string, std::string>> query;      // decoded name/value pairs
  std::vector<std::pair<std::string, std::string>> headers;    // the headers to sign (host included)
  std::string payload_sha256;                                  // hex, or "UNSIGNED-PAYLOAD"
};

struct SigV4Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string region = "us-east-1";
  std::string service = "s3";
};

struct SigV4Parts {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signed_headers;  // "host;x-amz-date"
  std::string signature;       // hex
  std::string authorization;   // the full Authorization header value
};

// Signs `request` at `amz_date` ("YYYYMMDDTHHMMSSZ"); the x-amz-date header must be among
// request.headers (the caller decides which headers exist; this only canonicalises them).
SigV4Parts SignV4(const SigV4Request& request, const SigV4Credentials& credentials, const std::string& amz_date);

// The parts of an Authorization header a server needs to re-derive the signature.
struct ParsedAuthorization {
  bool ok = false;
  std::string access_key_id, date, region, service;
  std::vector<std::string> signed_headers;
  std::string signature;
};
ParsedAuthorization ParseAuthorization(std::string_view header);

}  // namespace accel::api::s3

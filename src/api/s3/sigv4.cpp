#include "api/s3/sigv4.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cctype>

#include "core/collapse_blanks.h"

namespace accel::api::s3 {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

// Header values are signed trimmed, with runs of spaces collapsed to one.

}  // namespace

std::string Sha256Hex(std::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  return HexEncode(std::string_view(reinterpret_cast<const char*>(digest), sizeof digest));
}

std::string HmacSha256(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), out, &len);
  return std::string(reinterpret_cast<const char*>(out), len);
}

std::string HexEncode(std::string_view bytes) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

std::string UriEncode(std::string_view text, bool keep_slash) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || (keep_slash && c == '/')) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string UriDecode(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && std::isxdigit(static_cast<unsigned char>(text[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
      out += static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

std::string AmzDate(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

SigV4Parts SignV4(const SigV4Request& request, const SigV4Credentials& credentials, const std::string& amz_date) {
  SigV4Parts parts;
  // Query: each name and value encoded, sorted by name then value.
  std::vector<std::pair<std::string, std::string>> query;
  for (const auto& [k, v] : request.query) query.emplace_back(UriEncode(k, false), UriEncode(v, false));
  std::sort(query.begin(), query.end());
  std::string canonical_query;
  for (const auto& [k, v] : query) canonical_query += (canonical_query.empty() ? "" : "&") + k + "=" + v;
  // Headers: lower-case names, sorted; repeated names joined with ','.
  std::vector<std::pair<std::string, std::string>> headers;
  for (const auto& [k, v] : request.headers) headers.emplace_back(Lower(k), CollapseBlanks(v, " \t"));
  std::stable_sort(headers.begin(), headers.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string canonical_headers;
  for (size_t i = 0; i < headers.size(); ++i) {
    if (i > 0 && headers[i].first == headers[i - 1].first) {
      canonical_headers.pop_back();  // the '\n' of the previous line
      canonical_headers += "," + headers[i].second + "\n";
      continue;
    }
    canonical_headers += headers[i].first + ":" + headers[i].second + "\n";
    parts.signed_headers += (parts.signed_headers.empty() ? "" : ";") + headers[i].first;
  }
  parts.canonical_request = request.method + "\n" + (request.path.empty() ? "/" : request.path) + "\n" + canonical_query +
                            "\n" + canonical_headers + "\n" + parts.signed_headers + "\n" + request.payload_sha256;
  std::string date = amz_date.substr(0, 8);
  std::string scope = date + "/" + credentials.region + "/" + credentials.service + "/aws4_request";
  parts.string_to_sign = "AWS4-HMAC-SHA256\n" + amz_date + "\n" + scope + "\n" + Sha256Hex(parts.canonical_request);
  std::string key = HmacSha256("AWS4" + credentials.secret_access_key, date);
  key = HmacSha256(key, credentials.region);
  key = HmacSha256(key, credentials.service);
  key = HmacSha256(key, "aws4_request");
  parts.signature = HexEncode(HmacSha256(key, parts.string_to_sign));
  parts.authorization = "AWS4-HMAC-SHA256 Credential=" + credentials.access_key_id + "/" + scope +
                        ", SignedHeaders=" + parts.signed_headers + ", Signature=" + parts.signature;
  return parts;
}

ParsedAuthorization ParseAuthorization(std::string_view header) {
  ParsedAuthorization p;
  constexpr std::string_view kAlgo = "AWS4-HMAC-SHA256 ";
  if (header.substr(0, kAlgo.size()) != kAlgo) return p;
  header.remove_prefix(kAlgo.size());
  std::string credential, signed_headers;
  while (!header.empty()) {
    size_t comma = header.find(',');
    std::string_view item = header.substr(0, comma);
    header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    size_t eq = item.find('=');
    if (eq == std::string_view::npos) return p;
    std::string_view name = item.substr(0, eq), value = item.substr(eq + 1);
    if (name == "Credential") credential = value;
    else if (name == "SignedHeaders") signed_headers = value;
    else if (name == "Signature") p.signature = value;
  }
  // Credential = AKID/20150830/us-east-1/s3/aws4_request
  std::vector<std::string> fields;
  size_t start = 0;
  for (size_t slash; (slash = credential.find('/', start)) != std::string::npos; start = slash + 1)
    fields.push_back(credential.substr(start, slash - start));
  fields.push_back(credential.substr(start));
  if (fields.size() != 5 || fields[4] != "aws4_request" || signed_headers.empty() || p.signature.empty()) return p;
  p.access_key_id = fields[0];
  p.date = fields[1];
  p.region = fields[2];
  p.service = fields[3];
  start = 0;
  for (size_t semi; (semi = signed_headers.find(';', start)) != std::string::npos; start = semi + 1)
    p.signed_headers.push_back(signed_headers.substr(start, semi - start));
  p.signed_headers.push_back(signed_headers.substr(start));
  p.ok = true;
  return p;
}

}  // namespace accel::api::s3

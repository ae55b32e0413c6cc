#include "core/redact.h"

#include <array>
#include <cctype>

namespace accel {
namespace {

constexpr std::string_view kMask = "***";

// Parameter, header and JSON key names whose values are secrets (compared case-insensitively).
constexpr std::array<std::string_view, 22> kSecretKeys = {
    "password",      "passwd",          "pwd",           "sslpassword",    "api_key",
    "apikey",        "api-key",         "x-api-key",     "x-goog-api-key", "authorization",
    "access_token",  "refresh_token",   "token",         "secret",         "secret_key",
    "client_secret", "aws_secret_access_key", "x-amz-security-token", "x-amz-signature",
    "key",           "auth_token",      "proxy-authorization"};

bool IsWordChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
}

bool StartsWithNoCase(std::string_view s, size_t at, std::string_view word) {
  if (s.size() - at < word.size()) return false;
  for (size_t k = 0; k < word.size(); ++k) {
    if (std::tolower(static_cast<unsigned char>(s[at + k])) != word[k]) return false;
  }
  return true;
}

// If a secret key starts at `i` (at a word boundary) followed by `=` or `:`, returns the
// [begin, end) of its value; else begin == end == npos.
std::pair<size_t, size_t> SecretValueAt(std::string_view s, size_t i) {
  constexpr auto kNone = std::pair<size_t, size_t>{std::string_view::npos, std::string_view::npos};
  if (i > 0 && IsWordChar(s[i - 1])) return kNone;
  for (std::string_view key : kSecretKeys) {
    if (!StartsWithNoCase(s, i, key)) continue;
    size_t j = i + key.size();
    if (j < s.size() && IsWordChar(s[j])) continue;  // "password_hint", "keyword"
    if (j < s.size() && (s[j] == '"' || s[j] == '\'')) ++j;  // closing quote of a JSON key
    while (j < s.size() && s[j] == ' ') ++j;
    if (j >= s.size() || (s[j] != '=' && s[j] != ':')) continue;
    const bool header = s[j] == ':';
    if (header && (key == "key" || key == "token")) continue;  // only ?key= / ?token= (common words)
    ++j;
    while (j < s.size() && s[j] == ' ') ++j;
    if (j < s.size() && (s[j] == '"' || s[j] == '\'')) {
      const char q = s[j];
      size_t b = ++j;
      while (j < s.size() && s[j] != q) j += (s[j] == '\\' && j + 1 < s.size()) ? 2 : 1;
      return {b, std::min(j, s.size())};
    }
    size_t b = j;
    if (s.compare(b, kMask.size(), kMask) == 0) return {b, b + kMask.size()};  // already masked
    while (j < s.size()) {
      char c = s[j];
      if (c == '&' || c == '\n' || c == '\r' || c == '"' || c == '\'' || c == ',' || c == ';' || c == '}') break;
      if (!header && (c == ' ' || c == '\t')) break;  // key=value ends at a space; a header value may hold one
      if (!header && c == ':' && (j + 1 == s.size() || s[j + 1] == ' ')) break;  // "...password=x: cannot connect"
      ++j;
    }
    if (j == b) return kNone;
    return {b, j};
  }
  return kNone;
}

// scheme://user:password@host -> scheme://user:***@host
std::string MaskUrlPasswords(std::string_view s) {
  std::string out;
  size_t pos = 0;
  for (;;) {
    size_t sep = s.find("://", pos);
    if (sep == std::string_view::npos) break;
    size_t auth = sep + 3;
    size_t end = auth;
    while (end < s.size() && s[end] != '/' && s[end] != '?' && s[end] != '#' && s[end] != ' ' && s[end] != '\n' &&
           s[end] != '"' && s[end] != '\'' && s[end] != '>')
      ++end;
    std::string_view authority = s.substr(auth, end - auth);
    size_t at = authority.rfind('@');
    size_t colon = at == std::string_view::npos ? std::string_view::npos : authority.substr(0, at).find(':');
    out.append(s.substr(pos, auth - pos));
    if (colon != std::string_view::npos) {
      out.append(authority.substr(0, colon + 1));
      out.append(kMask);
      out.append(authority.substr(at));
    } else {
      out.append(authority);
    }
    pos = end;
  }
  out.append(s.substr(pos));
  return out;
}

}  // namespace

std::string RedactSecrets(std::string_view text) {
  std::string s = MaskUrlPasswords(text);
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    auto [b, e] = SecretValueAt(s, i);
    if (b != std::string_view::npos) {
      out.append(s, i, b - i);
      out.append(kMask);
      i = e;
      continue;
    }
    if (StartsWithNoCase(s, i, "bearer ") && (i == 0 || !IsWordChar(s[i - 1]))) {
      size_t j = i + 7;
      while (j < s.size() && s[j] == ' ') ++j;
      size_t k = j;
      while (k < s.size() && !std::isspace(static_cast<unsigned char>(s[k])) && s[k] != '"' && s[k] != '\'' && s[k] != ',') ++k;
      out.append(s, i, j - i);
      if (k > j) out.append(kMask);
      i = k;
      continue;
    }
    // Provider key shapes seen without a key name (sk-..., sk-ant-...).
    if (StartsWithNoCase(s, i, "sk-") && (i == 0 || !IsWordChar(s[i - 1]))) {
      size_t k = i + 3;
      while (k < s.size() && IsWordChar(s[k])) ++k;
      if (k - i >= 12) {
        out.append("sk-");
        out.append(kMask);
        i = k;
        continue;
      }
    }
    out.push_back(s[i++]);
  }
  return out;
}

std::string EscapeControlBytes(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f) {
      out += "\\x";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    } else {
      out.push_back(ch);
    }
  }
  return out;
}

std::string CapLength(std::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return std::string(text);
  size_t cut = max_bytes;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;  // UTF-8 boundary
  return std::string(text.substr(0, cut)) + "... (" + std::to_string(text.size()) + " bytes, cut)";
}

std::string RedactForDisplay(std::string_view text, size_t max_bytes) {
  return CapLength(EscapeControlBytes(RedactSecrets(text)), max_bytes);
}

}  // namespace accel

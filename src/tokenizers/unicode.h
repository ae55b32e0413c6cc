#pragma once
// UTF-8 and Unicode character properties for the tokenizer pipeline. Properties, case mapping,
// normalization and grapheme segmentation come from utf8proc; this file only adapts them to
// the (char, change) streams that NormalizedString::Transform consumes.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace accel::tok {

// One output character of a transformation and how it relates to the input, exactly as in
// Hugging Face `tokenizers`: 0 = replaces one input char, +1 = inserted after the previous
// output char, -n = replaces one input char and also removes the n input chars after it.
struct CharChange {
  char32_t c;
  int change;
};

// Decodes the code point at s[i] (s must be valid UTF-8) and returns it; *len gets its size.
char32_t DecodeUtf8(std::string_view s, size_t i, int* len);
void AppendUtf8(std::string& out, char32_t c);
int Utf8Len(char32_t c);
// Byte offset of the first invalid UTF-8 sequence, or npos when valid.
size_t FindInvalidUtf8(std::string_view s);
// Number of code points.
size_t CountChars(std::string_view s);
// Decodes a whole valid UTF-8 string.
std::u32string ToU32(std::string_view s);

bool IsWhitespace(char32_t c);       // Unicode White_Space (Rust char::is_whitespace)
bool IsControlOrOther(char32_t c);   // general category C* (Cc Cf Cs Co Cn)
bool IsPunctuation(char32_t c);      // general category P*
bool IsAsciiPunctuation(char32_t c);
bool IsNumeric(char32_t c);          // general category N*
bool IsMarkNonspacing(char32_t c);   // Mn
bool IsCombiningMark(char32_t c);    // Mn Mc Me
bool IsSpaceSeparator(char32_t c);   // Zs

// Full lowercase/uppercase mapping of one character (may give several, e.g. U+0130).
void LowercaseChar(char32_t c, std::vector<char32_t>& out);
void UppercaseChar(char32_t c, std::vector<char32_t>& out);

enum class NormalForm { kNfd, kNfkd, kNfc, kNfkc };
// Normalizes `s` and describes the result as a CharChange stream over the chars of `s`.
std::vector<CharChange> NormalizeWithChanges(std::string_view s, NormalForm form);

// Splits valid UTF-8 into extended grapheme clusters (byte ranges).
std::vector<std::pair<size_t, size_t>> GraphemeClusters(std::string_view s);

}  // namespace accel::tok

#pragma once
// Hand-written matchers for the two pre-tokenizer split patterns nearly every byte-level BPE
// tokenizer uses (GPT-2's and Llama-3's). Regex::Compile selects one only when the pattern
// text is exactly one of these strings; it then gives the same matches as PCRE2 on any valid
// UTF-8 (tests/tokenizers/split_scanner_test.cpp, fuzz/fuzz_split_scanner.cpp), several times
// faster, because each decision depends on at most the next two characters.
#include <cstddef>
#include <string_view>
#include <utility>
#include <vector>

namespace accel::tok {

inline constexpr std::string_view kGpt2SplitPattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
inline constexpr std::string_view kLlama3SplitPattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

enum class SplitScanner { kNone, kGpt2, kLlama3 };

// The scanner equivalent to `pattern`, or kNone.
SplitScanner ScannerForPattern(std::string_view pattern);

// Appends the [start, end) byte ranges of every match of the scanner's pattern in `text`
// (valid UTF-8), left to right, exactly as Regex::FindAll does with PCRE2.
void ScanSplits(SplitScanner scanner, std::string_view text, std::vector<std::pair<size_t, size_t>>& out);

}  // namespace accel::tok

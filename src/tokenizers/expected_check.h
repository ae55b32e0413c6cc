#pragma once
// Compares a tokenizer against golden records (the expected.jsonl / expected_spm.jsonl format
// of the shared fixtures): ids, tokens, code point offsets and decoded text, plus type ids and
// masks when the record has them. Used by `accel tokenize --check` and the tests.
#include <string>
#include <vector>

#include "core/status.h"
#include "tokenizers/tokenizer.h"

namespace accel {

struct CheckReport {
  size_t cases = 0;
  size_t passed = 0;
  std::vector<std::string> mismatches;  // one line per differing field
};

// Returns an error only if the file cannot be read or a line is not a valid record.
Result<CheckReport> CheckExpectedFile(const Tokenizer& tokenizer, const std::string& jsonl_path);

}  // namespace accel

#define PCRE2_CODE_UNIT_WIDTH 8
#include "tokenizers/regex.h"

#include <pcre2.h>

#include <cctype>

#include "tokenizers/unicode.h"

namespace accel::tok {
namespace {

// Per-thread match data and JIT stack: matching is called from many pool threads at once.
struct ThreadMatchState {
  pcre2_match_data* data = nullptr;
  pcre2_jit_stack* stack = nullptr;
  pcre2_match_context* ctx = nullptr;
  ThreadMatchState() {
    data = pcre2_match_data_create(1, nullptr);
    stack = pcre2_jit_stack_create(32 * 1024, 8 * 1024 * 1024, nullptr);
    ctx = pcre2_match_context_create(nullptr);
    if (ctx && stack) pcre2_jit_stack_assign(ctx, nullptr, stack);
  }
  ~ThreadMatchState() {
    pcre2_match_data_free(data);
    pcre2_match_context_free(ctx);
    pcre2_jit_stack_free(stack);
  }
};

ThreadMatchState& State() {
  thread_local ThreadMatchState state;
  return state;
}

}  // namespace

Regex::~Regex() { pcre2_code_free(static_cast<pcre2_code*>(code_)); }

Result<std::shared_ptr<const Regex>> Regex::Compile(const std::string& pattern, Engine engine) {
  int err = 0;
  PCRE2_SIZE err_offset = 0;
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                   PCRE2_UTF | PCRE2_UCP, &err, &err_offset, nullptr);
  if (!code) {
    PCRE2_UCHAR msg[256];
    pcre2_get_error_message(err, msg, sizeof(msg));
    return InvalidArgument("invalid regex '" + pattern + "' at offset " + std::to_string(err_offset) + ": " +
                           reinterpret_cast<const char*>(msg));
  }
  // Without JIT support PCRE2 falls back to its interpreter (same results, slower).
  const bool jit = pcre2_jit_compile(code, PCRE2_JIT_COMPLETE) == 0;
  std::shared_ptr<Regex> re(new Regex());
  re->pattern_ = pattern;
  re->code_ = code;
  re->jit_ = jit;
  if (engine == Engine::kAuto) re->scanner_ = ScannerForPattern(pattern);
  return std::shared_ptr<const Regex>(std::move(re));
}

Result<std::shared_ptr<const Regex>> Regex::Literal(const std::string& literal) {
  std::string escaped;
  for (char ch : literal) {
    // Escape every ASCII non-alphanumeric; PCRE2 treats an escaped non-alphanumeric literally.
    if (static_cast<unsigned char>(ch) < 0x80 && !std::isalnum(static_cast<unsigned char>(ch))) {
      if (ch == '\0') { escaped += "\\x{0}"; continue; }
      if (ch == '\n') { escaped += "\\n"; continue; }
      escaped.push_back('\\');
    }
    escaped.push_back(ch);
  }
  ACCEL_ASSIGN_OR_RETURN(auto re, Compile(escaped));
  return re;
}

Status Regex::FindAll(std::string_view text, std::vector<std::pair<size_t, size_t>>& out) const {
  if (scanner_ != SplitScanner::kNone) {
    ScanSplits(scanner_, text, out);
    return Status::Ok();
  }
  auto* code = static_cast<pcre2_code*>(code_);
  ThreadMatchState& st = State();
  if (!st.data) return OutOfMemory("pcre2 match data");
  size_t pos = 0;
  const size_t n = text.size();
  while (pos <= n) {
    int rc = pcre2_match(code, reinterpret_cast<PCRE2_SPTR>(text.data()), n, pos, PCRE2_NO_UTF_CHECK, st.data, st.ctx);
    if (rc == PCRE2_ERROR_NOMATCH) break;
    if (rc < 0) {
      PCRE2_UCHAR msg[256];
      pcre2_get_error_message(rc, msg, sizeof(msg));
      return InvalidArgument("regex '" + pattern_ + "' failed: " + reinterpret_cast<const char*>(msg));
    }
    PCRE2_SIZE* ov = pcre2_get_ovector_pointer(st.data);
    size_t s = ov[0], e = ov[1];
    if (e < s) e = s;  // \K can report end before start; treat as empty
    out.emplace_back(s, e);
    if (e > pos) {
      pos = e;
    } else {
      // Empty match: step over one character, as Oniguruma's iterator does.
      if (pos >= n) break;
      int len;
      DecodeUtf8(text, pos, &len);
      pos += len;
    }
  }
  return Status::Ok();
}

}  // namespace accel::tok

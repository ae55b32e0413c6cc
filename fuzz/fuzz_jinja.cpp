// libFuzzer target: the chat-template (Jinja subset) parser and renderer on arbitrary input.
// Output and step budgets are set low so that runaway templates (nested loops, recursive
// macros) end with an error quickly, as they must under the real budgets (issue 22).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "text/jinja.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view src(reinterpret_cast<const char*>(data), size);
  auto t = accel::text::JinjaTemplate::Parse(src);
  if (t.ok()) {
    nlohmann::json ctx = {{"messages", {{{"role", "user"}, {"content", "hi"}}, {{"role", "assistant"}, {"content", "yo"}}}},
                          {"bos_token", "<s>"}, {"eos_token", "</s>"}, {"add_generation_prompt", true}};
    (void)t->Render(ctx, /*max_output=*/1 << 16, /*max_steps=*/20000);
  }
  return 0;
}

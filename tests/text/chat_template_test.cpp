// Chat templates of Llama-3, Qwen2 and Mistral (the strings their hub tokenizer_config.json
// files carry) rendered as transformers' apply_chat_template renders them; Jinja details;
// templates that do not parse or raise give errors.
#include <gtest/gtest.h>

#include "text/chat_template.h"
#include "text/jinja.h"

namespace accel::text {
namespace {

const char* kLlama3 =
    "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + "
    "message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}"
    "{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ "
    "'<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}";
const char* kQwen2 =
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\\nYou "
    "are a helpful assistant.<|im_end|>\\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\\n' + "
    "message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' "
    "}}{% endif %}";
const char* kMistral =
    "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ "
    "raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if "
    "message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}{% elif message['role'] == "
    "'assistant' %}{{ message['content'] + eos_token}}{% else %}{{ raise_exception('Only user and assistant roles are "
    "supported!') }}{% endif %}{% endfor %}";

// The templates as they sit in tokenizer_config.json (JSON-escaped).
std::string Config(const char* tmpl, const char* bos, const char* eos) {
  nlohmann::json j = {{"chat_template", tmpl}, {"bos_token", bos}, {"eos_token", {{"content", eos}}}};
  return j.dump();
}

TEST(ChatTemplate, Llama3) {
  auto t = ChatTemplateFromTokenizerConfig(Config(kLlama3, "<|begin_of_text|>", "<|eot_id|>"), "cfg");
  ASSERT_TRUE(t.ok());
  auto r = RenderChat(*t, {{"system", "Be brief."}, {"user", "  Hi there \n"}}, true);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(*r,
            "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>"
            "<|start_header_id|>user<|end_header_id|>\n\nHi there<|eot_id|>"
            "<|start_header_id|>assistant<|end_header_id|>\n\n");
}

TEST(ChatTemplate, Qwen2AddsDefaultSystemPrompt) {
  auto t = ChatTemplateFromTokenizerConfig(Config(kQwen2, "", "<|im_end|>"), "cfg");
  ASSERT_TRUE(t.ok());
  auto r = RenderChat(*t, {{"user", "Hello"}, {"assistant", "Hi!"}, {"user", "2+2?"}}, true);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(*r,
            "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nHello<|im_end|>\n"
            "<|im_start|>assistant\nHi!<|im_end|>\n<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n");
  auto with_system = RenderChat(*t, {{"system", "S"}, {"user", "U"}}, false);
  ASSERT_TRUE(with_system.ok());
  EXPECT_EQ(*with_system, "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU<|im_end|>\n");
}

TEST(ChatTemplate, MistralAlternationAndRaise) {
  auto t = ChatTemplateFromTokenizerConfig(Config(kMistral, "<s>", "</s>"), "cfg");
  ASSERT_TRUE(t.ok());
  auto r = RenderChat(*t, {{"user", "Hi"}, {"assistant", "Hello"}, {"user", "Bye"}}, true);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(*r, "<s>[INST] Hi [/INST]Hello</s>[INST] Bye [/INST]");
  auto bad = RenderChat(*t, {{"user", "a"}, {"user", "b"}}, true);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("Conversation roles must alternate"), std::string::npos);
}

std::string Render(const std::string& src, const nlohmann::json& ctx = nlohmann::json::object()) {
  auto t = JinjaTemplate::Parse(src);
  if (!t.ok()) return "PARSE: " + t.status().message();
  auto r = t->Render(ctx);
  return r.ok() ? *r : "RENDER: " + r.status().message();
}

TEST(Jinja, WhitespaceControlAndTrimBlocks) {
  EXPECT_EQ(Render("a  {%- if true -%}  b  {%- endif %}\nc"), "abc");
  EXPECT_EQ(Render("{% for x in [1, 2] %}\n  {{ x }}\n{% endfor %}"), "  1\n  2\n");
  EXPECT_EQ(Render("{# comment #}x{{ 'y' }}"), "xy");
}

TEST(Jinja, ExpressionsFiltersTestsAndLoops) {
  nlohmann::json ctx = {{"xs", {3, 1, 2}}, {"m", {{"role", "user"}}}, {"s", " Hi "}};
  EXPECT_EQ(Render("{{ xs | length }}{{ xs[-1] }}{{ xs[1:] | join(',') }}", ctx), "32" "1,2");
  EXPECT_EQ(Render("{{ m.role ~ '!' }}{{ m.missing is defined }}{{ none is none }}", ctx), "user!FalseTrue");
  EXPECT_EQ(Render("{{ s.strip() }}|{{ s | trim | upper }}|{{ 'ab'.startswith('a') }}", ctx), "Hi|HI|True");
  EXPECT_EQ(Render("{% for x in xs %}{{ loop.index }}{{ 'L' if loop.last }}{% endfor %}", ctx), "123L");
  EXPECT_EQ(Render("{{ 7 // 2 }} {{ -7 % 3 }} {{ 1 + 2 * 3 }} {{ not (1 < 2) or 'x' in 'xyz' }}", ctx), "3 2 7 True");
  EXPECT_EQ(Render("{% set a = 1 %}{% if a == 2 %}two{% elif a == 1 %}one{% else %}?{% endif %}"), "one");
  // transformers' tojson is json.dumps: ", " between items.
  EXPECT_EQ(Render("{{ {'k': [1, 2]}['k'] | tojson }}"), "[1, 2]");
}

TEST(Jinja, BadTemplatesAreErrorsNamingTheLine) {
  EXPECT_NE(Render("line1\n{% if x %}never closed").find("PARSE: chat template does not parse: line 2"), std::string::npos)
      << Render("line1\n{% if x %}never closed");
  EXPECT_NE(Render("{{ 'unterminated }}").find("PARSE"), std::string::npos);
  EXPECT_NE(Render("{% call m() %}{% endcall %}").find("unsupported statement 'call'"), std::string::npos);
  EXPECT_NE(Render("{{ x | nosuchfilter }}").find("RENDER: chat template failed: unknown filter"), std::string::npos);
  EXPECT_NE(Render("{{ 1 + 'a' }}").find("RENDER"), std::string::npos);
  EXPECT_NE(Render("{{ 1 // 0 }}").find("division by zero"), std::string::npos);
  std::string deep(500, '(');
  EXPECT_NE(Render("{{ " + deep + " }}").find("PARSE"), std::string::npos);
  auto big = JinjaTemplate::Parse("{% for i in range(100000) %}{% for j in range(100000) %}xxxxxxxx{% endfor %}{% endfor %}");
  ASSERT_TRUE(big.ok());
  auto r = big->Render(nlohmann::json::object(), /*max_output=*/1 << 16);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("output exceeds"), std::string::npos) << r.status().message();
}

}  // namespace
}  // namespace accel::text

#pragma once
// A small interpreter for the subset of Jinja that Hugging Face chat templates use: text,
// {{ expressions }}, {% if/elif/else %}, {% for x in xs %} with `loop.*`, {% set %}, whitespace
// control ({%- -%}), HF's trim_blocks/lstrip_blocks, comments; expressions with literals,
// attribute/index/slice access, arithmetic and `~` concatenation, comparisons, and/or/not, in,
// `is defined/none/string/...` tests, conditional expressions, filters (trim, length, upper,
// lower, tojson, string, default, first, last, join) and string methods (strip, startswith,
// endswith, upper, lower, split), plus raise_exception(). Values are JSON values.
#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace accel::text {

namespace jinja_ast {
struct Node;
}

class JinjaTemplate {
 public:
  ~JinjaTemplate();
  JinjaTemplate(JinjaTemplate&&) noexcept;
  JinjaTemplate& operator=(JinjaTemplate&&) noexcept;

  // Errors name the line of the template that does not parse.
  static Result<JinjaTemplate> Parse(std::string_view source);
  // Renders with `context`'s keys as variables; errors (unknown filter, raise_exception, output
  // over `max_output` bytes, more than `max_steps` nodes run and expressions evaluated) are
  // values, never exceptions.
  Result<std::string> Render(const nlohmann::json& context, size_t max_output = 1 << 24,
                             size_t max_steps = 2'000'000) const;

 private:
  JinjaTemplate();
  std::unique_ptr<jinja_ast::Node> root_;
};

}  // namespace accel::text

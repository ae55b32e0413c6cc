#pragma once
// A small interpreter for the subset of Jinja that Hugging Face chat templates use, with
// Jinja2's semantics under transformers' settings (trim_blocks, lstrip_blocks, loopcontrols,
// json.dumps-style tojson): text, {{ expressions }}, {% if/elif/else %}, {% for x in xs [if c] %}
// with `loop.*` and {% break/continue %}, {% set x = ... %}, {% set ns.attr = ... %} on a
// namespace(), {% set x %}...{% endset %}, {% macro %} and calls with keyword arguments,
// {% generation %}, whitespace control ({%- -%}), comments; expressions with literals,
// attribute/index access, slices with steps (messages[::-1]), arithmetic, `~`, comparisons,
// and/or/not, in, `is` tests (defined, none, string, mapping, equalto, divisibleby, ...),
// conditional expressions, filters (trim, length, upper, lower, capitalize, title, tojson(indent),
// string, default, first, last, join, list, reverse, items, unique, replace, int, float, abs,
// sum/min/max, map, select/reject, selectattr/rejectattr) and string methods (strip, lstrip,
// rstrip, startswith, endswith, upper, lower, split, replace, find, title), dict items/keys/
// values/get, plus raise_exception(). Values are JSON values; objects iterate in key order.
// Strings are Python's: lengths, indexes, slices, case mapping and whitespace work on Unicode
// characters, not UTF-8 bytes. tests/text/jinja_differential_test.cpp checks all this against
// Jinja2 on generated templates.
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
  // or a string/list value over `max_output` bytes, more than `max_steps` nodes, loop iterations,
  // range() elements and macro calls) are values, never exceptions.
  Result<std::string> Render(const nlohmann::json& context, size_t max_output = 1 << 24, size_t max_steps = 1000000) const;

 private:
  JinjaTemplate();
  std::unique_ptr<jinja_ast::Node> root_;
};

}  // namespace accel::text

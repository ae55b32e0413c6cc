#include "text/jinja.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <vector>

#include <utf8proc.h>

#include "tokenizers/unicode.h"

namespace accel::text {

using Json = nlohmann::json;

namespace {

// Internal control flow only: every public entry point catches it and returns a Status.
struct JinjaError {
  std::string message;
};
[[noreturn]] void Fail(const std::string& m) { throw JinjaError{m}; }

Json Undefined() { return Json(Json::value_t::discarded); }
bool IsUndefined(const Json& v) { return v.is_discarded(); }

// Python strings are sequences of code points: lengths, indexes, slices, case mapping and
// whitespace work on those, not on UTF-8 bytes. A byte that is not UTF-8 (only a template's own
// text can hold one; JSON strings are valid) is one character, kept as it is, as Python's
// surrogateescape keeps it.
char32_t NextChar(std::string_view s, size_t& i) {
  const auto b = static_cast<unsigned char>(s[i]);
  const size_t len = b < 0x80 ? 1 : (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : (b >> 3) == 30 ? 4 : 0;
  if (len == 1 || (len > 1 && i + len <= s.size() && tok::FindInvalidUtf8(s.substr(i, len)) == std::string_view::npos)) {
    int n = 1;
    const char32_t c = tok::DecodeUtf8(s, i, &n);
    i += static_cast<size_t>(n);
    return c;
  }
  ++i;
  return 0xDC00 + b;
}

std::u32string Chars(std::string_view s) {
  std::u32string out;
  for (size_t i = 0; i < s.size();) out += NextChar(s, i);
  return out;
}

std::string Utf8(std::u32string_view cs) {
  std::string out;
  for (char32_t c : cs) {
    if (c >= 0xDC80 && c <= 0xDCFF) out += static_cast<char>(c - 0xDC00);
    else tok::AppendUtf8(out, c);
  }
  return out;
}

// str.isspace(), which str.strip()/split() and Jinja2's whitespace control (`-`, `\s`) use.
bool IsPySpace(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

// A string's characters, as iterating over a Python string gives them.
Json CharList(std::string_view s) {
  Json out = Json::array();
  for (size_t i = 0; i < s.size();) {
    const size_t at = i;
    NextChar(s, i);
    out.push_back(std::string(s.substr(at, i - at)));
  }
  return out;
}

// Byte offsets of the first character that is not whitespace, and of the end of the last one.
size_t SkipSpaceForward(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    size_t next = i;
    if (!IsPySpace(NextChar(s, next))) break;
    i = next;
  }
  return i;
}
size_t SkipSpaceBackward(std::string_view s) {
  size_t end = 0;
  for (size_t i = 0; i < s.size();) {
    if (!IsPySpace(NextChar(s, i))) end = i;
  }
  return end;
}

utf8proc_category_t Category(char32_t c) { return utf8proc_category(static_cast<utf8proc_int32_t>(c)); }
bool IsUpperOrTitle(char32_t c) { return Category(c) == UTF8PROC_CATEGORY_LU || Category(c) == UTF8PROC_CATEGORY_LT; }
bool IsCased(char32_t c) { return IsUpperOrTitle(c) || Category(c) == UTF8PROC_CATEGORY_LL; }

// Python's str.upper()/lower() (full mappings: "ß".upper() is "SS") and the titlecase that
// str.title()/capitalize() give a word's first letter.
std::string PyCase(std::string_view s, bool upper) {
  std::vector<char32_t> mapped;
  for (size_t i = 0; i < s.size();) {
    const char32_t c = NextChar(s, i);
    if (upper) tok::UppercaseChar(c, mapped);
    else tok::LowercaseChar(c, mapped);
  }
  return Utf8(std::u32string(mapped.begin(), mapped.end()));
}
std::string PyTitleChar(char32_t c) {
  if (c == 0xDF) return "Ss";
  return Utf8(std::u32string(1, static_cast<char32_t>(utf8proc_totitle(static_cast<utf8proc_int32_t>(c)))));
}

// str.title(): a letter after a cased letter is lowered, any other is titled ("it's" -> "It'S").
std::string PyTitleMethod(std::string_view s) {
  std::string out;
  bool after_cased = false;
  for (size_t i = 0; i < s.size();) {
    const size_t at = i;
    const char32_t c = NextChar(s, i);
    out += after_cased ? PyCase(s.substr(at, i - at), false) : PyTitleChar(c);
    after_cased = IsCased(c);
  }
  return out;
}

// str.capitalize(): the first character titled, the rest lowered.
std::string PyCapitalize(std::string_view s) {
  if (s.empty()) return "";
  size_t i = 0;
  const char32_t c = NextChar(s, i);
  return PyTitleChar(c) + PyCase(s.substr(i), false);
}

// Jinja2's title filter: words start after runs of whitespace and "-({[<"; each word's first
// character is uppered, the rest lowered ("it's" -> "It's").
std::string JinjaTitle(std::string_view s) {
  std::string out;
  bool word_start = true;
  for (size_t i = 0; i < s.size();) {
    const size_t at = i;
    const char32_t c = NextChar(s, i);
    const bool separator = IsPySpace(c) || (c < 0x80 && std::string_view("-({[<").find(static_cast<char>(c)) != std::string_view::npos);
    out += separator ? std::string(s.substr(at, i - at)) : PyCase(s.substr(at, i - at), word_start);
    word_start = separator;
  }
  return out;
}

// str.islower()/isupper(): some cased character, and none of the other case.
bool PyIsCase(std::string_view s, bool lower) {
  bool cased = false;
  for (size_t i = 0; i < s.size();) {
    const char32_t c = NextChar(s, i);
    if (lower ? IsUpperOrTitle(c) : Category(c) == UTF8PROC_CATEGORY_LL || Category(c) == UTF8PROC_CATEGORY_LT) return false;
    cased |= IsCased(c);
  }
  return cased;
}

// str.isprintable() of one character: what repr() writes as it is.
bool IsPrintable(char32_t c) {
  if (c == ' ') return true;
  switch (Category(c)) {
    case UTF8PROC_CATEGORY_CC: case UTF8PROC_CATEGORY_CF: case UTF8PROC_CATEGORY_CS: case UTF8PROC_CATEGORY_CO:
    case UTF8PROC_CATEGORY_CN: case UTF8PROC_CATEGORY_ZL: case UTF8PROC_CATEGORY_ZP: case UTF8PROC_CATEGORY_ZS:
      return false;
    default:
      return true;
  }
}

bool Truthy(const Json& v) {
  if (IsUndefined(v) || v.is_null()) return false;
  if (v.is_boolean()) return v.get<bool>();
  if (v.is_number_integer()) return v.get<int64_t>() != 0;
  if (v.is_number()) return v.get<double>() != 0.0;
  if (v.is_string()) return !v.get_ref<const std::string&>().empty();
  if (v.is_array() || v.is_object()) return !v.empty();
  return false;
}

// Python's ==: undefined equals undefined (Jinja2's Undefined compares by type), and True == 1.
bool PyEquals(const Json& a, const Json& b) {
  if (IsUndefined(a) || IsUndefined(b)) return IsUndefined(a) && IsUndefined(b);
  if (a.is_boolean() != b.is_boolean() && (a.is_number() || b.is_number())) {
    auto num = [](const Json& x) { return x.is_boolean() ? (x.get<bool>() ? 1.0 : 0.0) : x.get<double>(); };
    return (a.is_boolean() || a.is_number()) && (b.is_boolean() || b.is_number()) && num(a) == num(b);
  }
  return a == b;
}

// Namespaces (namespace(...)) are assignable by reference: the value is a handle into the
// renderer's table, an object whose only key is this.
const char* const kNamespaceKey = "\x01namespace";
bool IsNamespace(const Json& v) { return v.is_object() && v.size() == 1 && v.contains(kNamespaceKey); }

// Python's repr() of a value, which is what Jinja2 prints for a list or dict.
void PyRepr(const Json& v, std::string& out) {
  if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    const char q = s.find('\'') != std::string::npos && s.find('"') == std::string::npos ? '"' : '\'';
    out += q;
    for (size_t i = 0; i < s.size();) {
      const size_t at = i;
      const char32_t c = NextChar(s, i);
      if (c == static_cast<char32_t>(q) || c == '\\') {
        out += '\\', out += static_cast<char>(c);
      } else if (c == '\n' || c == '\t' || c == '\r') {
        out += c == '\n' ? "\\n" : c == '\t' ? "\\t" : "\\r";
      } else if (IsPrintable(c)) {
        out.append(s, at, i - at);
      } else {
        char buf[16];
        std::snprintf(buf, sizeof buf, c < 0x100 ? "\\x%02x" : c < 0x10000 ? "\\u%04x" : "\\U%08x", static_cast<unsigned>(c));
        out += buf;
      }
    }
    out += q;
  } else if (v.is_array()) {
    out += '[';
    for (size_t i = 0; i < v.size(); ++i) out += i ? ", " : "", PyRepr(v[i], out);
    out += ']';
  } else if (IsNamespace(v)) {
    out += "<Namespace>";
  } else if (v.is_object()) {
    out += '{';
    bool first = true;
    for (auto it = v.begin(); it != v.end(); ++it, first = false) {
      out += first ? "" : ", ";
      PyRepr(Json(it.key()), out);
      out += ": ";
      PyRepr(it.value(), out);
    }
    out += '}';
  } else if (v.is_null()) {
    out += "None";
  } else if (IsUndefined(v)) {  // in a list or dict (alone it prints as "")
    out += "Undefined";
  } else if (v.is_boolean()) {
    out += v.get<bool>() ? "True" : "False";
  } else {
    out += v.dump();
  }
}

std::string ToStr(const Json& v) {
  if (IsUndefined(v)) return "";
  if (v.is_string()) return v.get<std::string>();
  std::string out;
  PyRepr(v, out);
  return out;
}

// json.dumps(v, ensure_ascii=False, indent=indent) as transformers' chat-template tojson
// calls it: ", " and ": " between items without an indent, "," and newlines with one. (Keys
// come out sorted: nlohmann objects are ordered maps.)
void PyJson(const Json& v, int indent, int level, std::string& out) {
  auto newline = [&](int l) {
    out += '\n';
    out.append(static_cast<size_t>(indent) * static_cast<size_t>(l), ' ');
  };
  if (v.is_array() || (v.is_object() && !IsNamespace(v))) {
    const bool arr = v.is_array();
    if (v.empty()) {
      out += arr ? "[]" : "{}";
      return;
    }
    out += arr ? '[' : '{';
    bool first = true;
    for (auto it = v.begin(); it != v.end(); ++it, first = false) {
      if (!first) out += indent >= 0 ? "," : ", ";
      if (indent >= 0) newline(level + 1);
      if (!arr) out += Json(it.key()).dump() + ": ";
      PyJson(it.value(), indent, level + 1, out);
    }
    if (indent >= 0) newline(level);
    out += arr ? ']' : '}';
  } else if (IsUndefined(v)) {
    Fail("tojson: an undefined value is not JSON serializable");
  } else {
    out += v.dump();
  }
}

}  // namespace

// ---------------------------------------------------------------- expressions
namespace jinja_ast {

struct Expr {
  enum Kind { kLiteral, kVar, kAttr, kIndex, kSlice, kCall, kFilter, kTest, kUnary, kBinary, kCond, kList, kDict } kind;
  Json literal;
  std::string name;  // variable, attribute, function, filter, test or operator
  std::vector<std::unique_ptr<Expr>> args;  // operands / call arguments (args[0] is the target for attr, filter...)
  std::vector<std::string> kwnames;  // kCall/kFilter/kTest: the keyword of args[i] ("" = positional)
  bool negated = false;
};
using ExprPtr = std::unique_ptr<Expr>;

struct Node {
  enum Kind { kBody, kText, kOutput, kIf, kFor, kSet, kSetBlock, kMacro, kBreak, kContinue } kind = kBody;
  std::string text;                       // kText
  ExprPtr expr;                           // kOutput, kSet value, kFor iterable
  std::vector<std::string> targets;       // kFor loop variables; kSet name (and attribute); kMacro name, params
  ExprPtr filter;                         // kFor: `for x in xs if filter`
  std::vector<ExprPtr> defaults;          // kMacro: each parameter's default (null: none)
  std::vector<std::pair<ExprPtr, std::unique_ptr<Node>>> branches;  // kIf (cond null = else)
  std::vector<std::unique_ptr<Node>> children;                     // kBody
  std::unique_ptr<Node> body, else_body;  // kFor; kSetBlock, kMacro (body)
  size_t lookahead = 0;                   // kFor with a filter: how many items past the current one loop.* need
};

}  // namespace jinja_ast

namespace {
using jinja_ast::Expr;
using jinja_ast::ExprPtr;
using jinja_ast::Node;

struct Token {
  enum Kind { kName, kString, kInt, kFloat, kOp, kEnd } kind;
  std::string text;
};

std::vector<Token> LexExpr(std::string_view s) {
  std::vector<Token> out;
  size_t i = 0;
  while (i < s.size()) {
    const char c = s[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      size_t j = i;
      while (j < s.size() && (std::isalnum(static_cast<unsigned char>(s[j])) || s[j] == '_')) ++j;
      out.push_back({Token::kName, std::string(s.substr(i, j - i))});
      i = j;
    } else if (std::isdigit(static_cast<unsigned char>(c))) {
      size_t j = i;
      bool is_float = false;
      while (j < s.size() && (std::isdigit(static_cast<unsigned char>(s[j])) || (s[j] == '.' && !is_float && j + 1 < s.size() && std::isdigit(static_cast<unsigned char>(s[j + 1]))))) {
        is_float |= s[j] == '.';
        ++j;
      }
      out.push_back({is_float ? Token::kFloat : Token::kInt, std::string(s.substr(i, j - i))});
      i = j;
    } else if (c == '\'' || c == '"') {
      std::string v;
      size_t j = i + 1;
      for (; j < s.size() && s[j] != c; ++j) {
        if (s[j] != '\\' || j + 1 >= s.size()) {
          v += s[j];
          continue;
        }
        // Python's escapes (Jinja2 decodes literals as unicode-escape); an unknown one, like the
        // \d of a regular expression, keeps its backslash.
        const char e = s[++j];
        const char simple = e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r' : e == 'a' ? '\a' : e == 'b' ? '\b' : e == 'f' ? '\f'
                          : e == 'v' ? '\v' : e == '\\' || e == '\'' || e == '"' ? e : '\0';
        if (simple) {
          v += simple;
        } else if (e == '\n') {  // a line continuation
        } else if (e == 'x' || e == 'u' || e == 'U' || (e >= '0' && e <= '7')) {
          const bool octal = e >= '0' && e <= '7';
          const size_t most = octal ? 3 : e == 'x' ? 2 : e == 'u' ? 4 : 8;
          size_t from = octal ? j : j + 1, k = from;
          while (k < s.size() && k - from < most && (octal ? s[k] >= '0' && s[k] <= '7' : std::isxdigit(static_cast<unsigned char>(s[k])))) ++k;
          if (!octal && k - from < most) Fail(std::string("truncated \\") + e + " escape");
          const unsigned long code = std::stoul(std::string(s.substr(from, k - from)), nullptr, octal ? 8 : 16);
          if (code > 0x10FFFF) Fail("escape beyond Unicode");
          tok::AppendUtf8(v, static_cast<char32_t>(code));
          j = k - 1;
        } else {
          v += '\\';
          v += e;
        }
      }
      if (j >= s.size()) Fail("unterminated string literal");
      out.push_back({Token::kString, v});
      i = j + 1;
    } else {
      static const char* two[] = {"==", "!=", "<=", ">=", "//", "**"};
      std::string op(1, c);
      for (const char* t : two) {
        if (s.substr(i, 2) == t) op = t;
      }
      if (op.size() == 1 && std::string_view("()[]{}.,:|+-*/%~<>=").find(c) == std::string_view::npos) {
        Fail(std::string("unexpected character '") + c + "'");
      }
      out.push_back({Token::kOp, op});
      i += op.size();
    }
  }
  out.push_back({Token::kEnd, ""});
  return out;
}

class ExprParser {
 public:
  explicit ExprParser(std::vector<Token> t) : t_(std::move(t)) {}
  ExprPtr ParseAll() {
    ExprPtr e = Parse();
    if (!AtEnd()) Fail("unexpected '" + Peek().text + "'");
    return e;
  }
  ExprPtr Parse() { return Conditional(); }
  // An expression without a trailing `if`: a loop's iterable, before its filter.
  ExprPtr ParseNoConditional() { return Or(); }
  bool AtEnd() const { return t_[pos_].kind == Token::kEnd; }
  const Token& Peek() const { return t_[pos_]; }
  bool IsName(const char* n) const { return t_[pos_].kind == Token::kName && t_[pos_].text == n; }
  bool IsOp(const char* o) const { return t_[pos_].kind == Token::kOp && t_[pos_].text == o; }
  std::string Name() {
    if (t_[pos_].kind != Token::kName) Fail("expected a name, got '" + t_[pos_].text + "'");
    return t_[pos_++].text;
  }
  void Expect(const char* op) {
    if (!IsOp(op)) Fail(std::string("expected '") + op + "', got '" + t_[pos_].text + "'");
    ++pos_;
  }

 private:
  static ExprPtr Make(Expr::Kind k, std::string name = "") {
    auto e = std::make_unique<Expr>();
    e->kind = k;
    e->name = std::move(name);
    return e;
  }
  static ExprPtr Binary(std::string op, ExprPtr a, ExprPtr b) {
    auto e = Make(Expr::kBinary, std::move(op));
    e->args.push_back(std::move(a));
    e->args.push_back(std::move(b));
    return e;
  }
  void Enter() {
    if (++depth_ > 200) Fail("expression nested too deeply");
  }
  ExprPtr Conditional() {
    Enter();
    ExprPtr e = Or();
    while (IsName("if")) {
      ++pos_;
      auto c = Make(Expr::kCond);
      ExprPtr cond = Or();
      ExprPtr other = IsName("else") ? (++pos_, Or()) : Make(Expr::kLiteral);
      if (other->kind == Expr::kLiteral && other->literal.is_null()) other->literal = Undefined();
      c->args.push_back(std::move(e));
      c->args.push_back(std::move(cond));
      c->args.push_back(std::move(other));
      e = std::move(c);
    }
    --depth_;
    return e;
  }
  ExprPtr Or() {
    ExprPtr e = And();
    while (IsName("or")) ++pos_, e = Binary("or", std::move(e), And());
    return e;
  }
  ExprPtr And() {
    ExprPtr e = Not();
    while (IsName("and")) ++pos_, e = Binary("and", std::move(e), Not());
    return e;
  }
  ExprPtr Not() {
    if (IsName("not")) {
      ++pos_;
      Enter();
      auto e = Make(Expr::kUnary, "not");
      e->args.push_back(Not());
      --depth_;
      return e;
    }
    return Compare();
  }
  ExprPtr Compare() {
    ExprPtr e = Add();
    for (;;) {
      if (IsOp("==") || IsOp("!=") || IsOp("<") || IsOp(">") || IsOp("<=") || IsOp(">=")) {
        std::string op = t_[pos_++].text;
        e = Binary(op, std::move(e), Add());
      } else if (IsName("in")) {
        ++pos_;
        e = Binary("in", std::move(e), Add());
      } else if (IsName("not") && t_[pos_ + 1].kind == Token::kName && t_[pos_ + 1].text == "in") {
        pos_ += 2;
        auto n = Make(Expr::kUnary, "not");
        n->args.push_back(Binary("in", std::move(e), Add()));
        e = std::move(n);
      } else {
        return e;
      }
    }
  }
  ExprPtr Add() {
    ExprPtr e = Concat();
    while (IsOp("+") || IsOp("-")) {
      std::string op = t_[pos_++].text;
      e = Binary(op, std::move(e), Concat());
    }
    return e;
  }
  ExprPtr Concat() {
    ExprPtr e = Mul();
    while (IsOp("~")) ++pos_, e = Binary("~", std::move(e), Mul());
    return e;
  }
  ExprPtr Mul() {
    ExprPtr e = Unary();
    while (IsOp("*") || IsOp("/") || IsOp("//") || IsOp("%")) {
      std::string op = t_[pos_++].text;
      e = Binary(op, std::move(e), Unary());
    }
    return e;
  }
  ExprPtr Unary() {
    if (IsOp("-") || IsOp("+")) {
      std::string op = t_[pos_++].text;
      Enter();
      auto e = Make(Expr::kUnary, op);
      e->args.push_back(Unary());
      --depth_;
      return e;
    }
    return FilterAndTests(Postfix(Primary()));
  }
  // Appends the arguments of "(a, b, key=c)" to e->args, their keywords to e->kwnames.
  void CallArgs(Expr& e) {
    e.kwnames.resize(e.args.size());
    Expect("(");
    while (!IsOp(")")) {
      std::string key;
      if (Peek().kind == Token::kName && t_[pos_ + 1].kind == Token::kOp && t_[pos_ + 1].text == "=") {
        key = t_[pos_].text;
        pos_ += 2;
      }
      e.args.push_back(Parse());
      e.kwnames.push_back(key);
      if (!IsOp(")")) Expect(",");
    }
    ++pos_;
  }
  ExprPtr Postfix(ExprPtr e) {
    for (;;) {
      if (IsOp(".")) {
        ++pos_;
        auto a = Make(Expr::kAttr, Name());
        a->args.push_back(std::move(e));
        e = std::move(a);
      } else if (IsOp("[")) {
        ++pos_;
        ExprPtr lo = IsOp(":") ? nullptr : Parse();
        if (IsOp(":")) {
          ++pos_;
          auto s = Make(Expr::kSlice);  // [lo:hi:step], each optional (a null literal when absent)
          s->args.push_back(std::move(e));
          s->args.push_back(lo ? std::move(lo) : Make(Expr::kLiteral));
          s->args.push_back(IsOp("]") || IsOp(":") ? Make(Expr::kLiteral) : Parse());
          if (IsOp(":")) {
            ++pos_;
            s->args.push_back(IsOp("]") ? Make(Expr::kLiteral) : Parse());
          } else {
            s->args.push_back(Make(Expr::kLiteral));
          }
          e = std::move(s);
        } else {
          auto ix = Make(Expr::kIndex);
          ix->args.push_back(std::move(e));
          ix->args.push_back(std::move(lo));
          e = std::move(ix);
        }
        Expect("]");
      } else if (IsOp("(")) {
        auto c = Make(Expr::kCall);
        c->args.push_back(std::move(e));
        CallArgs(*c);
        e = std::move(c);
      } else {
        return e;
      }
    }
  }
  ExprPtr FilterAndTests(ExprPtr e) {
    for (;;) {
      if (IsOp("|")) {
        ++pos_;
        auto f = Make(Expr::kFilter, Name());
        f->args.push_back(std::move(e));
        f->kwnames.resize(1);
        if (IsOp("(")) CallArgs(*f);
        e = std::move(f);
      } else if (IsName("is")) {
        ++pos_;
        auto t = Make(Expr::kTest);
        if (IsName("not")) ++pos_, t->negated = true;
        t->name = IsName("none") || IsName("true") || IsName("false") ? t_[pos_++].text : Name();
        t->args.push_back(std::move(e));
        t->kwnames.resize(1);
        if (IsOp("(")) {
          CallArgs(*t);
        } else if (TestTakesArgument(t->name)) {
          t->args.push_back(Postfix(Primary()));
          t->kwnames.push_back("");
        }
        e = std::move(t);
      } else {
        return e;
      }
    }
  }
  ExprPtr Primary() {
    const Token tok = t_[pos_];
    if (tok.kind == Token::kEnd) Fail("unexpected end of expression");
    ++pos_;
    auto lit = Make(Expr::kLiteral);
    switch (tok.kind) {
      case Token::kString:
        lit->literal = tok.text;
        return lit;
      case Token::kInt:
        try {
          lit->literal = std::stoll(tok.text);
        } catch (...) {
          Fail("integer literal out of range");
        }
        return lit;
      case Token::kFloat:
        lit->literal = std::stod(tok.text);
        return lit;
      case Token::kName:
        if (tok.text == "true" || tok.text == "True" || tok.text == "false" || tok.text == "False") {
          lit->literal = tok.text[0] == 't' || tok.text[0] == 'T';
          return lit;
        }
        if (tok.text == "none" || tok.text == "None") {
          lit->literal = nullptr;
          return lit;
        }
        return Make(Expr::kVar, tok.text);
      default:
        break;
    }
    if (tok.text == "(") {
      Enter();
      ExprPtr e = Parse();
      Expect(")");
      --depth_;
      return e;
    }
    if (tok.text == "[") {
      auto l = Make(Expr::kList);
      while (!IsOp("]")) {
        l->args.push_back(Parse());
        if (!IsOp("]")) Expect(",");
      }
      ++pos_;
      return l;
    }
    if (tok.text == "{") {
      auto d = Make(Expr::kDict);
      while (!IsOp("}")) {
        d->args.push_back(Parse());
        Expect(":");
        d->args.push_back(Parse());
        if (!IsOp("}")) Expect(",");
      }
      ++pos_;
      return d;
    }
    Fail("unexpected '" + tok.text + "'");
  }

  static bool TestTakesArgument(const std::string& n) {
    for (const char* t : {"equalto", "eq", "==", "sameas", "ne", "!=", "divisibleby", "in", "gt", "lt", "ge", "le", ">", "<", ">=", "<="}) {
      if (n == t) return true;
    }
    return false;
  }

  std::vector<Token> t_;
  size_t pos_ = 0;
  int depth_ = 0;
};

// ---------------------------------------------------------------- template structure
struct Chunk {
  enum Kind { kText, kExpr, kStmt } kind;
  std::string content;
  int line;
};

std::vector<Chunk> SplitTemplate(std::string_view src) {
  std::vector<Chunk> out;
  size_t i = 0;
  int line = 1;
  bool strip_next = false, trim_newline = false;
  // Whether the text starts a line: at the start, or after a tag whose `-` or trim_blocks took
  // a newline. lstrip_blocks applies there even without a newline of the text's own (Jinja2's
  // lexer tracks the same).
  bool line_start = true;
  while (i < src.size()) {
    size_t open = src.find('{', i);
    while (open != std::string_view::npos && open + 1 < src.size() && src[open + 1] != '{' && src[open + 1] != '%' &&
           src[open + 1] != '#') {
      open = src.find('{', open + 1);
    }
    if (open + 1 >= src.size()) open = std::string_view::npos;
    std::string text(src.substr(i, open == std::string_view::npos ? std::string_view::npos : open - i));
    if (strip_next) {
      const size_t keep = SkipSpaceForward(text);
      line_start = keep > 0 && text[keep - 1] == '\n';
      text.erase(0, keep);
    } else if (trim_newline && !text.empty() && text[0] == '\n') {  // trim_blocks
      text.erase(0, 1);
      line_start = true;
    } else if (i > 0) {
      line_start = false;
    }
    strip_next = trim_newline = false;
    if (open == std::string_view::npos) {
      if (!text.empty()) out.push_back({Chunk::kText, text, line});
      break;
    }
    const char kind = src[open + 1];
    const bool strip_before = open + 2 < src.size() && src[open + 2] == '-';
    if (strip_before) {
      text.erase(SkipSpaceBackward(text));
    } else if (kind == '%' || kind == '#') {
      // lstrip_blocks: whitespace between the line start and a block tag goes.
      const size_t nl = text.find_last_of('\n');
      const size_t from = nl == std::string::npos ? 0 : nl + 1;
      if ((nl != std::string::npos || line_start) && from + SkipSpaceForward(std::string_view(text).substr(from)) == text.size()) {
        text.erase(from);
      }
    }
    if (!text.empty()) out.push_back({Chunk::kText, text, line});
    for (char c : src.substr(i, open - i)) line += c == '\n';
    const std::string close = kind == '{' ? "}}" : kind == '%' ? "%}" : "#}";
    size_t body_start = open + 2 + (strip_before ? 1 : 0);
    // The tag ends at the first close outside a string literal ({{- "}}" }} is one tag).
    size_t end = std::string_view::npos;
    char quote = 0;
    for (size_t k = body_start; k + 1 < src.size(); ++k) {
      const char ch = src[k];
      if (kind == '#') {
        if (src.compare(k, 2, close) == 0) {
          end = k;
          break;
        }
      } else if (quote) {
        if (ch == '\\') ++k;
        else if (ch == quote) quote = 0;
      } else if (ch == '\'' || ch == '"') {
        quote = ch;
      } else if (src.compare(k, 2, close) == 0) {
        end = k;
        break;
      }
    }
    if (end == std::string_view::npos) Fail("line " + std::to_string(line) + ": tag opened here is never closed");
    bool strip_after = end > body_start && src[end - 1] == '-';
    std::string body(src.substr(body_start, end - body_start - (strip_after ? 1 : 0)));
    if (kind != '#') out.push_back({kind == '{' ? Chunk::kExpr : Chunk::kStmt, body, line});
    for (char c : src.substr(open, end + 2 - open)) line += c == '\n';
    strip_next = strip_after;
    trim_newline = kind != '{';
    i = end + 2;
  }
  return out;
}

// How far past the current item a loop body's loop.* look: one item for last and nextitem, all
// for length and revindex (or `loop` used whole). Nested loops have their own `loop` (but their
// iterable, filter and else see this one); macros see none.
size_t LoopLookahead(const Expr& e) {
  if (e.kind == Expr::kAttr && e.args[0]->kind == Expr::kVar && e.args[0]->name == "loop") {
    if (e.name == "last" || e.name == "nextitem") return 1;
    if (e.name == "length" || e.name == "revindex" || e.name == "revindex0") return SIZE_MAX;
    return 0;
  }
  if (e.kind == Expr::kVar && e.name == "loop") return SIZE_MAX;
  size_t r = 0;
  for (const auto& a : e.args) r = std::max(r, LoopLookahead(*a));
  return r;
}
size_t LoopLookahead(const Node& n) {
  if (n.kind == Node::kMacro) return 0;
  size_t r = 0;
  for (const Expr* e : {n.expr.get(), n.filter.get()}) r = std::max(r, e ? LoopLookahead(*e) : 0);
  for (const auto& [cond, body] : n.branches) r = std::max({r, cond ? LoopLookahead(*cond) : 0, LoopLookahead(*body)});
  for (const auto& c : n.children) r = std::max(r, LoopLookahead(*c));
  if (n.body && n.kind != Node::kFor) r = std::max(r, LoopLookahead(*n.body));
  if (n.else_body) r = std::max(r, LoopLookahead(*n.else_body));
  return r;
}

class TemplateParser {
 public:
  explicit TemplateParser(std::vector<Chunk> c) : c_(std::move(c)) {}

  std::unique_ptr<Node> ParseAll() {
    std::string end;
    auto body = Body({}, end);
    return body;
  }

 private:
  static std::string FirstWord(const std::string& s) {
    const size_t b = s.find_first_not_of(" \t\r\n");
    if (b == std::string::npos) return "";
    size_t e = b;
    while (e < s.size() && (std::isalnum(static_cast<unsigned char>(s[e])) || s[e] == '_')) ++e;
    return s.substr(b, e - b);
  }
  std::string Where() const { return "line " + std::to_string(c_[pos_ - 1].line) + ": "; }

  // Parses nodes until a statement whose first word is in `ends` (returned in `end`).
  std::unique_ptr<Node> Body(const std::vector<std::string>& ends, std::string& end) {
    if (++depth_ > 100) Fail("blocks nested too deeply");
    auto body = std::make_unique<Node>();
    body->kind = Node::kBody;
    while (pos_ < c_.size()) {
      const Chunk& ch = c_[pos_++];
      try {
        if (ch.kind == Chunk::kText) {
          auto n = std::make_unique<Node>();
          n->kind = Node::kText;
          n->text = ch.content;
          body->children.push_back(std::move(n));
        } else if (ch.kind == Chunk::kExpr) {
          auto n = std::make_unique<Node>();
          n->kind = Node::kOutput;
          n->expr = ExprParser(LexExpr(ch.content)).ParseAll();
          body->children.push_back(std::move(n));
        } else {
          const std::string word = FirstWord(ch.content);
          for (const auto& e : ends) {
            if (word == e) {
              end = word;
              --depth_;
              return body;
            }
          }
          body->children.push_back(Statement(word, ch.content));
        }
      } catch (const JinjaError& e) {
        if (e.message.rfind("line ", 0) == 0) throw;
        Fail("line " + std::to_string(ch.line) + ": " + e.message);
      }
    }
    if (!ends.empty()) Fail("missing {% " + ends.back() + " %}");
    --depth_;
    return body;
  }

  std::unique_ptr<Node> Statement(const std::string& word, const std::string& content) {
    ExprParser p(LexExpr(content));
    p.Name();  // the keyword
    auto n = std::make_unique<Node>();
    if (word == "if") {
      n->kind = Node::kIf;
      ExprPtr cond = p.ParseAll();
      for (;;) {
        std::string end;
        auto body = Body({"elif", "else", "endif"}, end);
        n->branches.emplace_back(std::move(cond), std::move(body));
        const Chunk& closing = c_[pos_ - 1];
        if (end == "endif") break;
        if (end == "else") {
          std::string end2;
          auto else_body = Body({"endif"}, end2);
          n->branches.emplace_back(nullptr, std::move(else_body));
          break;
        }
        ExprParser q(LexExpr(closing.content));
        q.Name();
        cond = q.ParseAll();
      }
    } else if (word == "for") {
      n->kind = Node::kFor;
      n->targets.push_back(p.Name());
      while (p.IsOp(",")) {
        p.Expect(",");
        n->targets.push_back(p.Name());
      }
      if (!p.IsName("in")) Fail("expected 'in' in for loop");
      p.Name();
      n->expr = p.ParseNoConditional();
      if (p.IsName("if")) {
        p.Name();
        n->filter = p.ParseNoConditional();
      }
      if (!p.AtEnd()) Fail("unexpected '" + p.Peek().text + "' in for loop");
      std::string end;
      n->body = Body({"else", "endfor"}, end);
      if (end == "else") n->else_body = Body({"endfor"}, end);
      if (n->filter) n->lookahead = LoopLookahead(*n->body);
    } else if (word == "set") {
      n->kind = Node::kSet;
      n->targets.push_back(p.Name());
      if (p.IsOp(".")) {  // set ns.attr = value
        p.Expect(".");
        n->targets.push_back(p.Name());
      }
      if (p.AtEnd() && n->targets.size() == 1) {  // {% set x %}...{% endset %}
        n->kind = Node::kSetBlock;
        std::string end;
        n->body = Body({"endset"}, end);
        return n;
      }
      p.Expect("=");
      n->expr = p.ParseAll();
    } else if (word == "macro") {
      n->kind = Node::kMacro;
      n->targets.push_back(p.Name());
      p.Expect("(");
      while (!p.IsOp(")")) {
        n->targets.push_back(p.Name());
        ExprPtr dflt;
        if (p.IsOp("=")) {
          p.Expect("=");
          dflt = p.Parse();
        }
        n->defaults.push_back(std::move(dflt));
        if (!p.IsOp(")")) p.Expect(",");
      }
      p.Expect(")");
      if (!p.AtEnd()) Fail("unexpected '" + p.Peek().text + "' after macro parameters");
      std::string end;
      n->body = Body({"endmacro"}, end);
    } else if (word == "break" || word == "continue") {
      if (!p.AtEnd()) Fail("unexpected '" + p.Peek().text + "' after " + word);
      n->kind = word == "break" ? Node::kBreak : Node::kContinue;
    } else if (word == "generation") {
      // transformers' {% generation %} marks assistant text for masks; it renders its body.
      std::string end;
      return Body({"endgeneration"}, end);
    } else {
      Fail("unsupported statement '" + word + "'");
    }
    return n;
  }

  std::vector<Chunk> c_;
  size_t pos_ = 0;
  int depth_ = 0;
};

// ---------------------------------------------------------------- evaluation
struct BreakSignal {};
struct ContinueSignal {};

class Renderer {
 public:
  Renderer(const Json& context, size_t max_output, size_t max_steps) : max_output_(max_output), max_steps_(max_steps) {
    scopes_.push_back(context);
  }

  void Run(const Node& n, std::string& out) {
    Step();
    switch (n.kind) {
      case Node::kBody:
        for (const auto& c : n.children) Run(*c, out);
        break;
      case Node::kText:
        Emit(out, n.text);
        break;
      case Node::kOutput:
        Emit(out, ToStr(Eval(*n.expr)));
        break;
      case Node::kSet:
        if (n.targets.size() == 2) {
          const Json target = Lookup(n.targets[0]);
          if (!NamespaceOf(target)) Fail("cannot set attribute '" + n.targets[1] + "' of '" + n.targets[0] + "': not a namespace()");
          Json value = Eval(*n.expr);
          (*NamespaceOf(target))[n.targets[1]] = std::move(value);
        } else {
          scopes_.back()[n.targets[0]] = Eval(*n.expr);
        }
        break;
      case Node::kSetBlock: {
        std::string captured;
        Run(*n.body, captured);
        scopes_.back()[n.targets[0]] = captured;
        break;
      }
      case Node::kMacro:
        macros_[n.targets[0]] = &n;
        break;
      case Node::kBreak:
        throw BreakSignal{};
      case Node::kContinue:
        throw ContinueSignal{};
      case Node::kIf:
        for (const auto& [cond, body] : n.branches) {
          if (!cond || Truthy(Eval(*cond))) {
            Run(*body, out);
            break;
          }
        }
        break;
      case Node::kFor: {
        Json seq = Eval(*n.expr);
        if (seq.is_object()) {
          Json keys = Json::array();
          for (auto it = seq.begin(); it != seq.end(); ++it) keys.push_back(it.key());
          seq = keys;
        } else if (seq.is_string()) {
          seq = CharList(seq.get_ref<const std::string&>());
        } else if (IsUndefined(seq)) {
          seq = Json::array();
        } else if (!seq.is_array()) {
          Fail("cannot loop over " + std::string(seq.type_name()));
        }
        auto bind = [&](const Json& item) {
          Json scope = Json::object();
          if (n.targets.size() == 1) {
            scope[n.targets[0]] = item;
          } else {
            for (size_t t = 0; t < n.targets.size(); ++t) {
              scope[n.targets[t]] = item.is_array() && t < item.size() ? item[t] : Undefined();
            }
          }
          return scope;
        };
        // `for x in xs if cond`: loop.* count the items kept. Jinja2 filters as the loop reaches
        // each item (the body can change what the filter sees; the filter's error comes then),
        // and only as far ahead as loop.* need.
        Json kept = n.filter ? Json::array() : std::move(seq);
        size_t next_source = 0;
        auto fill = [&](size_t count) {
          while (n.filter && kept.size() < count && next_source < seq.size()) {
            Step();
            const Json& item = seq[next_source++];
            scopes_.push_back(bind(item));
            const bool keep = Truthy(Eval(*n.filter));
            scopes_.pop_back();
            if (keep) kept.push_back(item);
          }
        };
        // Jinja2 runs a loop's else unless some iteration reached the end of its body: a loop
        // whose iterations all end in break or continue runs it too.
        bool completed_one = false;
        for (size_t i = 0;; ++i) {
          fill(n.lookahead == SIZE_MAX ? SIZE_MAX : i + 1 + n.lookahead);
          if (i >= kept.size()) break;
          const size_t len = kept.size();  // as far as it is known (all of it where loop.* need that)
          Step();
          Json scope = bind(kept[i]);
          scope["loop"] = {{"index0", i}, {"index", i + 1}, {"first", i == 0}, {"last", i + 1 == len}, {"length", len},
                           {"revindex", len - i}, {"revindex0", len - i - 1},
                           {"previtem", i > 0 ? kept[i - 1] : Undefined()}, {"nextitem", i + 1 < len ? kept[i + 1] : Undefined()}};
          scopes_.push_back(std::move(scope));
          if (scopes_.size() > 200) Fail("loops nested too deeply");
          try {
            Run(*n.body, out);
            completed_one = true;
          } catch (const BreakSignal&) {
            scopes_.pop_back();
            break;
          } catch (const ContinueSignal&) {
          }
          scopes_.pop_back();
        }
        if (!completed_one && n.else_body) Run(*n.else_body, out);
        break;
      }
    }
  }

 private:
  // One unit of work (a node, a loop iteration, a macro call): a template that loops for
  // ever, or 10,000 x 10,000 times, stops with an error instead of hanging its caller.
  void Step() {
    if (++steps_ > max_steps_) Fail("template exceeded " + std::to_string(max_steps_) + " steps (a runaway loop?)");
  }

  // Values that grow (concatenation, replace, join, list +) are held to the output budget too:
  // doubling a string in a loop would otherwise reach gigabytes within the step budget.
  void CheckSize(size_t size, const char* what) const {
    if (size > max_output_) Fail(std::string(what) + " would exceed " + std::to_string(max_output_) + " bytes");
  }

  void Emit(std::string& out, const std::string& s) {
    if (out.size() + s.size() > max_output_) Fail("output exceeds " + std::to_string(max_output_) + " bytes");
    out += s;
  }

  Json Lookup(const std::string& name) const {
    for (auto it = scopes_.rbegin(); it != scopes_.rend(); ++it) {
      auto f = it->find(name);
      if (f != it->end()) return *f;
    }
    return Undefined();
  }

  // The values of a namespace() handle; null for anything else (a context or a dict literal
  // that merely looks like a handle included).
  Json* NamespaceOf(const Json& v) {
    if (!IsNamespace(v)) return nullptr;
    const Json& id = v[kNamespaceKey];
    if (!id.is_number_unsigned() || id.get<size_t>() >= namespaces_.size()) return nullptr;
    return &namespaces_[id.get<size_t>()];
  }
  const Json* NamespaceOf(const Json& v) const { return const_cast<Renderer*>(this)->NamespaceOf(v); }

  Json Index(const Json& v, const Json& key) const {
    if (const Json* found = NamespaceOf(v)) {
      const Json& ns = *found;
      auto it = key.is_string() ? ns.find(key.get<std::string>()) : ns.end();
      return it == ns.end() ? Undefined() : *it;
    }
    if (v.is_object() && key.is_string()) {
      auto it = v.find(key.get<std::string>());
      return it == v.end() ? Undefined() : *it;
    }
    if ((v.is_array() || v.is_string()) && key.is_number_integer()) {
      const std::u32string chars = v.is_string() ? Chars(v.get_ref<const std::string&>()) : std::u32string();
      const int64_t n = static_cast<int64_t>(v.is_array() ? v.size() : chars.size());
      int64_t i = key.get<int64_t>();
      if (i < 0) i += n;
      if (i < 0 || i >= n) return Undefined();
      return v.is_array() ? v[static_cast<size_t>(i)] : Json(Utf8(chars.substr(static_cast<size_t>(i), 1)));
    }
    return Undefined();
  }

  // Python's v[lo:hi:step], bounds clamped as slice.indices() clamps them.
  static Json Slice(const Json& v, const Json& lo, const Json& hi, const Json& step_value) {
    if (!v.is_array() && !v.is_string()) Fail("cannot slice " + std::string(IsUndefined(v) ? "undefined" : v.type_name()));
    const std::u32string chars = v.is_string() ? Chars(v.get_ref<const std::string&>()) : std::u32string();
    const int64_t n = static_cast<int64_t>(v.is_array() ? v.size() : chars.size());
    int64_t step = 1;
    if (!step_value.is_null()) {
      if (!step_value.is_number_integer()) Fail("slice step must be an integer");
      step = step_value.get<int64_t>();
      if (step == 0) Fail("slice step cannot be zero");
      if (step < -n - 1 || step > n + 1) step = step < 0 ? -n - 1 : n + 1;  // same elements, no overflow
    }
    auto bound = [&](const Json& x, int64_t if_absent) {
      if (x.is_null()) return if_absent;
      if (!x.is_number_integer()) Fail("slice indices must be integers");
      int64_t i = x.get<int64_t>();
      if (i < 0) i = i < -n ? (step < 0 ? -1 : 0) : i + n;
      else if (i >= n) i = step < 0 ? n - 1 : n;
      return i;
    };
    const int64_t a = bound(lo, step < 0 ? n - 1 : 0), b = bound(hi, step < 0 ? -1 : n);
    std::vector<int64_t> picks;
    for (int64_t i = a; step > 0 ? i < b : i > b; i += step) picks.push_back(i);
    if (v.is_string()) {
      std::u32string out;
      for (int64_t i : picks) out += chars[static_cast<size_t>(i)];
      return Utf8(out);
    }
    Json out = Json::array();
    for (int64_t i : picks) out.push_back(v[static_cast<size_t>(i)]);
    return out;
  }

  // str.strip(chars): the characters of `chars`, or whitespace when it is not a string.
  static std::string Strip(const std::string& s, const Json& chars, bool left, bool right) {
    const std::u32string set = chars.is_string() ? Chars(chars.get_ref<const std::string&>()) : std::u32string();
    auto strips = [&](char32_t c) { return chars.is_string() ? set.find(c) != std::u32string::npos : IsPySpace(c); };
    const std::u32string cs = Chars(s);
    size_t b = 0, e = cs.size();
    if (left) {
      while (b < e && strips(cs[b])) ++b;
    }
    if (right) {
      while (e > b && strips(cs[e - 1])) --e;
    }
    return Utf8(std::u32string_view(cs).substr(b, e - b));
  }

  Json CallMethod(const Json& target, const std::string& method, const std::vector<Json>& args) {
    if (target.is_string()) {
      const std::string& s = target.get_ref<const std::string&>();
      const Json chars = args.empty() ? Json() : args[0];
      if (method == "strip") return Strip(s, chars, true, true);
      if (method == "lstrip") return Strip(s, chars, true, false);
      if (method == "rstrip") return Strip(s, chars, false, true);
      if (method == "upper" || method == "lower") return PyCase(s, method == "upper");
      if ((method == "startswith" || method == "endswith") && !args.empty() && args[0].is_string()) {
        const std::string& p = args[0].get_ref<const std::string&>();
        if (p.size() > s.size()) return false;
        return method == "startswith" ? s.compare(0, p.size(), p) == 0 : s.compare(s.size() - p.size(), p.size(), p) == 0;
      }
      if (method == "replace" && args.size() >= 2) return Replace(s, ToStr(args[0]), ToStr(args[1]), args.size() > 2 ? args[2] : Json());
      // (Python's method and Jinja2's filter of the same name differ: "it's".title() is "It'S".)
      if (method == "title") return PyTitleMethod(s);
      if (method == "capitalize") return PyCapitalize(s);
      if (method == "find" && !args.empty() && args[0].is_string()) {
        const size_t at = s.find(args[0].get_ref<const std::string&>());
        return at == std::string::npos ? int64_t{-1} : static_cast<int64_t>(Chars(std::string_view(s).substr(0, at)).size());
      }
      if (method == "split" && (args.empty() || args[0].is_null())) {  // Python: runs of whitespace, no empties
        Json out = Json::array();
        std::string word;
        for (size_t i = 0; i < s.size();) {
          const size_t at = i;
          if (!IsPySpace(NextChar(s, i))) {
            word.append(s, at, i - at);
          } else if (!word.empty()) {
            out.push_back(std::move(word));
            word.clear();
          }
        }
        if (!word.empty()) out.push_back(std::move(word));
        return out;
      }
      if (method == "split") {
        Json out = Json::array();
        const std::string sep = args[0].is_string() ? args[0].get<std::string>() : " ";
        if (sep.empty()) Fail("split with an empty separator");
        size_t from = 0, at;
        while ((at = s.find(sep, from)) != std::string::npos) out.push_back(s.substr(from, at - from)), from = at + sep.size();
        out.push_back(s.substr(from));
        return out;
      }
    }
    if (target.is_object() && !IsNamespace(target) && (method == "items" || method == "keys" || method == "values")) {
      Json out = Json::array();
      for (auto it = target.begin(); it != target.end(); ++it) {
        out.push_back(method == "items" ? Json::array({it.key(), it.value()}) : method == "keys" ? Json(it.key()) : it.value());
      }
      return out;
    }
    if (target.is_object() && method == "get" && !args.empty()) {
      Json v = Index(target, args[0]);
      return IsUndefined(v) && args.size() > 1 ? args[1] : IsUndefined(v) ? Json(nullptr) : v;
    }
    Fail("unknown method '" + method + "' on " + std::string(IsUndefined(target) ? "undefined" : target.type_name()));
  }

  std::string Replace(const std::string& s, const std::string& from, const std::string& to, const Json& count) const {
    int64_t left = count.is_number_integer() ? count.get<int64_t>() : -1;
    // The result's size, known before it is built: every replacement adds to.size() - from.size().
    const Json chars = from.empty() ? CharList(s) : Json::array();
    size_t matches = 0;
    if (from.empty()) {
      matches = chars.size() + 1;
    } else {
      for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + from.size())) ++matches;
    }
    if (left >= 0) matches = std::min(matches, static_cast<size_t>(left));
    if (to.size() > from.size() && matches > 0) {
      if (to.size() - from.size() > max_output_ / matches) Fail("replace would exceed " + std::to_string(max_output_) + " bytes");
      CheckSize(s.size() + matches * (to.size() - from.size()), "replace");
    }
    if (from.empty()) {  // Python inserts `to` before every character and at the end, `count` times
      std::string out;
      for (size_t i = 0; i <= chars.size(); ++i) {
        if (left != 0) out += to, --left;
        if (i < chars.size()) out += chars[i].get_ref<const std::string&>();
      }
      return out;
    }
    std::string out;
    size_t from_pos = 0, at;
    while (left != 0 && (at = s.find(from, from_pos)) != std::string::npos) {
      out.append(s, from_pos, at - from_pos);
      out += to;
      from_pos = at + from.size();
      --left;
    }
    out.append(s, from_pos, std::string::npos);
    return out;
  }

  // The argument at `pos`, or the one named `key` (Jinja filters take both); null when absent.
  static Json Arg(const std::vector<Json>& args, const std::vector<std::string>& names, size_t pos, const char* key) {
    for (size_t i = 0; i < args.size(); ++i) {
      if (i < names.size() && names[i] == key) return args[i];
    }
    size_t positional = 0;
    for (size_t i = 0; i < args.size(); ++i) {
      if (i < names.size() && !names[i].empty()) continue;
      if (positional++ == pos) return args[i];
    }
    return Json();
  }

  static Json Attribute(const Json& item, const std::string& path) {
    Json v = item;
    size_t from = 0;
    for (;;) {  // "a.b" follows nested attributes; numeric parts index lists
      const size_t dot = path.find('.', from);
      const std::string part = path.substr(from, dot == std::string::npos ? std::string::npos : dot - from);
      if (v.is_object() && v.contains(part)) v = v[part];
      else if (v.is_array() && !part.empty() && part.size() <= 9 &&
               part.find_first_not_of("0123456789") == std::string::npos && std::stoul(part) < v.size()) v = v[std::stoul(part)];
      else return Undefined();
      if (dot == std::string::npos) return v;
      from = dot + 1;
    }
  }

  bool ApplyTest(const std::string& name, const Json& v, const std::vector<Json>& args) {
    auto arg = [&]() -> const Json& {
      if (args.empty()) Fail("test '" + name + "' needs an argument");
      return args[0];
    };
    auto number = [&](const Json& x) {
      if (!x.is_number()) Fail("test '" + name + "' compares numbers");
      return x.get<double>();
    };
    if (name == "defined") return !IsUndefined(v);
    if (name == "undefined") return IsUndefined(v);
    if (name == "none") return v.is_null();
    if (name == "string") return v.is_string();
    if (name == "number") return v.is_number();
    if (name == "integer") return v.is_number_integer();
    if (name == "float") return v.is_number_float();
    if (name == "boolean") return v.is_boolean();
    if (name == "mapping") return v.is_object();
    // Jinja2's Undefined iterates (as nothing) and has a length.
    if (name == "iterable" || name == "sequence") return v.is_array() || v.is_string() || v.is_object() || IsUndefined(v);
    if (name == "callable") return false;
    if (name == "true") return v.is_boolean() && v.get<bool>();
    if (name == "false") return v.is_boolean() && !v.get<bool>();
    if (name == "lower" || name == "upper") return PyIsCase(ToStr(v), name == "lower");
    if (name == "odd" || name == "even") {
      if (!v.is_number_integer()) Fail("test '" + name + "' needs an integer");
      return (v.get<int64_t>() % 2 != 0) == (name == "odd");
    }
    if (name == "divisibleby") {
      if (!v.is_number_integer() || !arg().is_number_integer() || arg().get<int64_t>() == 0) Fail("divisibleby needs non-zero integers");
      return arg().get<int64_t>() == -1 || v.get<int64_t>() % arg().get<int64_t>() == 0;
    }
    if (name == "equalto" || name == "eq" || name == "==" || name == "sameas") return PyEquals(v, arg());
    if (name == "ne" || name == "!=") return !PyEquals(v, arg());
    if (name == "in") return Truthy(Contains(arg(), v));
    if (name == "gt" || name == ">") return number(v) > number(arg());
    if (name == "lt" || name == "<") return number(v) < number(arg());
    if (name == "ge" || name == ">=") return number(v) >= number(arg());
    if (name == "le" || name == "<=") return number(v) <= number(arg());
    Fail("unknown test '" + name + "'");
  }

  static Json Contains(const Json& container, const Json& item) {
    if (container.is_string()) {
      if (!item.is_string()) Fail("'in <string>' needs a string on the left, not " + std::string(IsUndefined(item) ? "undefined" : item.type_name()));
      return container.get_ref<const std::string&>().find(item.get_ref<const std::string&>()) != std::string::npos;
    }
    if (container.is_array()) {
      for (const auto& x : container) {
        if (PyEquals(x, item)) return true;
      }
      return false;
    }
    if (container.is_object()) return item.is_string() && container.contains(item.get<std::string>());
    if (!IsUndefined(container)) Fail("'in' needs a container, not " + std::string(container.type_name()));
    return false;
  }

  static Json AsList(const Json& v, const std::string& filter) {
    if (v.is_array()) return v;
    if (IsUndefined(v)) return Json::array();
    if (v.is_string()) return CharList(v.get_ref<const std::string&>());
    if (v.is_object()) {
      Json out = Json::array();
      for (auto it = v.begin(); it != v.end(); ++it) out.push_back(it.key());
      return out;
    }
    Fail(filter + " needs a list, not " + std::string(v.type_name()));
  }

  Json Filter(const std::string& name, const Json& v, const std::vector<Json>& args, const std::vector<std::string>& names) {
    if (name == "trim") {
      const Json chars = Arg(args, names, 0, "chars");
      return Strip(ToStr(v), chars, true, true);
    }
    if (name == "length" || name == "count") {
      if (v.is_string()) return Chars(v.get_ref<const std::string&>()).size();
      if (v.is_array() || v.is_object()) return v.size();
      if (IsUndefined(v)) return 0;
      Fail(name + " of " + std::string(v.type_name()) + ": it has no length");
    }
    if (name == "upper" || name == "lower") return PyCase(ToStr(v), name == "upper");
    if (name == "capitalize") return PyCapitalize(ToStr(v));
    if (name == "title") return JinjaTitle(ToStr(v));
    if (name == "string") return ToStr(v);
    if (name == "safe") return v;
    if (name == "tojson") {
      const Json indent = Arg(args, names, 0, "indent");
      std::string out;
      PyJson(v, indent.is_number_integer() ? static_cast<int>(std::clamp<int64_t>(indent.get<int64_t>(), 0, 64)) : -1, 0, out);
      return out;
    }
    if (name == "default" || name == "d") {
      const bool falsy_too = Truthy(Arg(args, names, 1, "boolean"));
      const bool use_default = IsUndefined(v) || (falsy_too && !Truthy(v));
      return use_default ? (args.empty() ? Json("") : args[0]) : v;
    }
    if (name == "first" || name == "last") {
      const Json list = AsList(v, name);
      return list.empty() ? Undefined() : name == "first" ? list.front() : list.back();
    }
    if (name == "join") {
      const Json attr = Arg(args, names, 1, "attribute");
      const Json sep_value = Arg(args, names, 0, "d");
      std::string sep = sep_value.is_null() ? "" : ToStr(sep_value), out;
      const Json list = AsList(v, "join");
      for (size_t i = 0; i < list.size(); ++i) {
        out += (i ? sep : "") + ToStr(attr.is_string() ? Attribute(list[i], attr.get<std::string>()) : list[i]);
        CheckSize(out.size(), "join");
      }
      return out;
    }
    if (name == "list") return AsList(v, "list");
    if (name == "reverse") {
      if (v.is_string()) {
        std::u32string cs = Chars(v.get_ref<const std::string&>());
        return Utf8(std::u32string(cs.rbegin(), cs.rend()));
      }
      Json list = AsList(v, "reverse"), out = Json::array();
      for (auto it = list.rbegin(); it != list.rend(); ++it) out.push_back(*it);
      return out;
    }
    if (name == "items" || name == "dictsort") {
      if (IsUndefined(v)) return Json::array();
      if (!v.is_object() || IsNamespace(v)) Fail(name + " needs a mapping");
      return CallMethod(v, "items", {});
    }
    if (name == "unique") {  // a Python set underneath: strings compare ignoring case unless told
      const bool case_sensitive = Truthy(Arg(args, names, 0, "case_sensitive"));
      const Json attr = Arg(args, names, 1, "attribute");
      Json out = Json::array(), seen = Json::array();
      for (const auto& item : AsList(v, "unique")) {
        Json key = attr.is_string() ? Attribute(item, attr.get<std::string>()) : item;
        if (key.is_array() || key.is_object()) Fail("unique: a " + std::string(key.type_name()) + " is unhashable");
        if (!case_sensitive && key.is_string()) key = PyCase(key.get_ref<const std::string&>(), false);
        if (!Truthy(Contains(seen, key))) seen.push_back(std::move(key)), out.push_back(item);
      }
      return out;
    }
    if (name == "replace") {
      if (args.size() < 2) Fail("replace needs two arguments");
      return Replace(ToStr(v), ToStr(args[0]), ToStr(args[1]), Arg(args, names, 2, "count"));
    }
    if (name == "int") {
      if (v.is_number_integer()) return v;
      if (v.is_number()) {
        const double d = v.get<double>();
        if (!(d > -9.2e18 && d < 9.2e18)) Fail("int of " + v.dump() + " is out of range");
        return static_cast<int64_t>(d);
      }
      if (v.is_boolean()) return v.get<bool>() ? 1 : 0;
      try {
        return v.is_string() ? Json(static_cast<int64_t>(std::stoll(v.get<std::string>()))) : Json(0);
      } catch (...) {
        return 0;
      }
    }
    if (name == "float") {
      if (v.is_number()) return v.get<double>();
      try {
        return v.is_string() ? Json(std::stod(v.get<std::string>())) : Json(0.0);
      } catch (...) {
        return 0.0;
      }
    }
    if (name == "abs") {
      if (v.is_number_integer() && v.get<int64_t>() != INT64_MIN) return std::abs(v.get<int64_t>());
      if (v.is_number()) return std::abs(v.get<double>());
      Fail("abs needs a number");
    }
    if (name == "sum" || name == "min" || name == "max") {
      const Json attr = Arg(args, names, name == "sum" ? 0 : 1, "attribute");
      Json acc = name == "sum" ? Json(0) : Undefined();
      for (const auto& item : AsList(v, name)) {
        const Json x = attr.is_string() ? Attribute(item, attr.get<std::string>()) : item;
        if (name == "sum") {
          if (!x.is_number()) Fail("sum needs numbers");
          int64_t total = 0;
          if (acc.is_number_integer() && x.is_number_integer()) {
            if (__builtin_add_overflow(acc.get<int64_t>(), x.get<int64_t>(), &total)) Fail("integer overflow");
            acc = total;
          } else {
            acc = acc.get<double>() + x.get<double>();
          }
        } else if (IsUndefined(acc) || (name == "min" ? x < acc : acc < x)) {
          acc = x;
        }
      }
      return acc;
    }
    if (name == "map") {
      const Json attr = Arg(args, names, 999, "attribute");
      Json out = Json::array();
      for (const auto& item : AsList(v, "map")) {
        Step();
        if (attr.is_string()) {
          Json got = Attribute(item, attr.get<std::string>());
          const Json dflt = Arg(args, names, 999, "default");
          out.push_back(IsUndefined(got) && !dflt.is_null() ? dflt : got);
        } else {
          if (args.empty() || !args[0].is_string()) Fail("map needs a filter name or attribute=");
          out.push_back(Filter(args[0].get<std::string>(), item, std::vector<Json>(args.begin() + 1, args.end()),
                               std::vector<std::string>(names.begin() + std::min<size_t>(1, names.size()), names.end())));
        }
      }
      return out;
    }
    if (name == "select" || name == "reject" || name == "selectattr" || name == "rejectattr") {
      const bool by_attr = name == "selectattr" || name == "rejectattr";
      const bool keep_if = name == "select" || name == "selectattr";
      if (by_attr && (args.empty() || !args[0].is_string())) Fail(name + " needs an attribute name");
      const size_t test_at = by_attr ? 1 : 0;
      Json out = Json::array();
      for (const auto& item : AsList(v, name)) {
        Step();
        const Json x = by_attr ? Attribute(item, args[0].get<std::string>()) : item;
        bool r;
        if (args.size() <= test_at) {
          r = Truthy(x);
        } else {
          if (!args[test_at].is_string()) Fail(name + ": the test must be a name");
          r = ApplyTest(args[test_at].get<std::string>(), x, std::vector<Json>(args.begin() + static_cast<std::ptrdiff_t>(test_at) + 1, args.end()));
        }
        if (r == keep_if) out.push_back(item);
      }
      return out;
    }
    Fail("unknown filter '" + name + "'");
  }

  std::vector<std::string> KwNames(const Expr& e) const {
    std::vector<std::string> names;
    for (size_t i = 1; i < e.args.size(); ++i) names.push_back(i < e.kwnames.size() ? e.kwnames[i] : "");
    return names;
  }

  Json CallMacro(const Node& m, const std::vector<Json>& args, const std::vector<std::string>& names) {
    Step();
    if (++macro_depth_ > 50) Fail("macro calls nested too deeply");
    Json scope = Json::object();
    size_t positional = 0;
    for (size_t i = 0; i < args.size(); ++i) {
      if (names[i].empty()) {
        if (positional + 1 >= m.targets.size()) Fail("macro '" + m.targets[0] + "' takes " + std::to_string(m.targets.size() - 1) + " arguments");
        scope[m.targets[1 + positional++]] = args[i];
      }
    }
    for (size_t p = 1; p < m.targets.size(); ++p) {
      if (scope.contains(m.targets[p])) continue;
      bool given = false;
      for (size_t i = 0; i < args.size(); ++i) {
        if (names[i] == m.targets[p]) scope[m.targets[p]] = args[i], given = true;
      }
      if (!given) scope[m.targets[p]] = m.defaults[p - 1] ? Eval(*m.defaults[p - 1]) : Undefined();
    }
    // The body sees the template's globals and its parameters, not the caller's loop variables.
    std::vector<Json> saved = {scopes_[0], std::move(scope)};
    std::swap(saved, scopes_);
    std::string out;
    try {
      Run(*m.body, out);
    } catch (...) {
      saved[0] = std::move(scopes_[0]);
      std::swap(saved, scopes_);
      --macro_depth_;
      throw;
    }
    saved[0] = std::move(scopes_[0]);  // top-level sets made inside the macro stay (as namespaces do)
    std::swap(saved, scopes_);
    --macro_depth_;
    return out;
  }

  Json Eval(const Expr& e) {
    Step();
    switch (e.kind) {
      case Expr::kLiteral: return e.literal;
      case Expr::kVar: return Lookup(e.name);
      case Expr::kList: {
        Json out = Json::array();
        for (const auto& a : e.args) out.push_back(Eval(*a));
        return out;
      }
      case Expr::kDict: {
        Json out = Json::object();
        for (size_t i = 0; i + 1 < e.args.size(); i += 2) out[ToStr(Eval(*e.args[i]))] = Eval(*e.args[i + 1]);
        return out;
      }
      // An attribute or item of an undefined value fails, as Jinja2's default Undefined does
      // (`messages[5].content` on a shorter list is an error, `messages[5]` alone prints "").
      case Expr::kAttr: return Index(Defined(*e.args[0]), Json(e.name));
      case Expr::kIndex: return Index(Defined(*e.args[0]), Eval(*e.args[1]));
      case Expr::kSlice: return Slice(Eval(*e.args[0]), Eval(*e.args[1]), Eval(*e.args[2]), Eval(*e.args[3]));
      case Expr::kCond: return Truthy(Eval(*e.args[1])) ? Eval(*e.args[0]) : Eval(*e.args[2]);
      case Expr::kCall: {
        std::vector<Json> args;
        for (size_t i = 1; i < e.args.size(); ++i) args.push_back(Eval(*e.args[i]));
        const Expr& callee = *e.args[0];
        if (callee.kind == Expr::kVar && callee.name == "raise_exception") {
          Fail("template raised: " + (args.empty() ? std::string() : ToStr(args[0])));
        }
        if (callee.kind == Expr::kVar && callee.name == "range") {
          int64_t lo = 0, hi = 0;
          if (args.size() == 1 && args[0].is_number_integer()) hi = args[0].get<int64_t>();
          if (args.size() >= 2 && args[0].is_number_integer() && args[1].is_number_integer()) lo = args[0].get<int64_t>(), hi = args[1].get<int64_t>();
          int64_t span = 0;
          if (__builtin_sub_overflow(hi, lo, &span) || span > 100000) Fail("range too long");
          Json out = Json::array();
          for (int64_t i = lo; i < hi; ++i) {
            Step();  // each element is work: range(100000) in a loop must not escape the step budget
            out.push_back(i);
          }
          return out;
        }
        if (callee.kind == Expr::kVar && callee.name == "namespace") {
          Json values = Json::object();
          const auto names = KwNames(e);
          for (size_t i = 0; i < args.size(); ++i) {
            if (names[i].empty()) Fail("namespace() takes keyword arguments");
            values[names[i]] = args[i];
          }
          namespaces_.push_back(std::move(values));
          return Json{{kNamespaceKey, namespaces_.size() - 1}};
        }
        if (callee.kind == Expr::kVar) {
          auto m = macros_.find(callee.name);
          if (m != macros_.end() && IsUndefined(Lookup(callee.name))) return CallMacro(*m->second, args, KwNames(e));
        }
        if (callee.kind == Expr::kAttr) return CallMethod(Eval(*callee.args[0]), callee.name, args);
        Fail("unknown function '" + callee.name + "'");
      }
      case Expr::kFilter: {
        std::vector<Json> args;
        for (size_t i = 1; i < e.args.size(); ++i) args.push_back(Eval(*e.args[i]));
        return Filter(e.name, Eval(*e.args[0]), args, KwNames(e));
      }
      case Expr::kTest: {
        const Json v = Eval(*e.args[0]);
        std::vector<Json> args;
        for (size_t i = 1; i < e.args.size(); ++i) args.push_back(Eval(*e.args[i]));
        const bool r = ApplyTest(e.name, v, args);
        return e.negated ? !r : r;
      }
      case Expr::kUnary: {
        const Json v = Eval(*e.args[0]);
        if (e.name == "not") return !Truthy(v);
        if (!v.is_number()) Fail("unary " + e.name + " on " + std::string(v.type_name()));
        if (e.name == "+") return v;
        if (v.is_number_integer() && v.get<int64_t>() == INT64_MIN) Fail("integer overflow");
        return v.is_number_integer() ? Json(-v.get<int64_t>()) : Json(-v.get<double>());
      }
      case Expr::kBinary: return EvalBinary(e);
    }
    Fail("bad expression");
  }

  Json Defined(const Expr& e) {
    Json v = Eval(e);
    if (IsUndefined(v)) Fail("'" + (e.kind == Expr::kVar || e.kind == Expr::kAttr ? e.name : std::string("value")) + "' is undefined");
    return v;
  }

  Json EvalBinary(const Expr& e) {
    const std::string& op = e.name;
    if (op == "and") {
      Json a = Eval(*e.args[0]);
      return Truthy(a) ? Eval(*e.args[1]) : a;
    }
    if (op == "or") {
      Json a = Eval(*e.args[0]);
      return Truthy(a) ? a : Eval(*e.args[1]);
    }
    const Json a = Eval(*e.args[0]), b = Eval(*e.args[1]);
    if (op == "~") {
      std::string sa = ToStr(a), sb = ToStr(b);
      CheckSize(sa.size() + sb.size(), "'~'");
      return sa + sb;
    }
    if (op == "==") return PyEquals(a, b);
    if (op == "!=") return !PyEquals(a, b);
    if (op == "in") return Contains(b, a);
    if (op == "*" && (a.is_string() || b.is_string()) && (a.is_number_integer() || b.is_number_integer())) {
      const std::string& str = a.is_string() ? a.get_ref<const std::string&>() : b.get_ref<const std::string&>();
      const int64_t times = a.is_string() ? b.get<int64_t>() : a.get<int64_t>();
      if (str.empty() || times <= 0) return std::string();
      if (static_cast<uint64_t>(times) > max_output_ / str.size()) Fail("string repetition too long");
      std::string out;
      for (int64_t i = 0; i < times; ++i) out += str;
      return out;
    }
    if (op == "+" && a.is_string() && b.is_string()) {
      CheckSize(a.get_ref<const std::string&>().size() + b.get_ref<const std::string&>().size(), "'+'");
      return a.get<std::string>() + b.get<std::string>();
    }
    if (op == "+" && a.is_array() && b.is_array()) {
      CheckSize(a.size() + b.size(), "'+' of lists");
      Json out = a;
      for (const auto& x : b) out.push_back(x);
      return out;
    }
    if (op == "<" || op == ">" || op == "<=" || op == ">=") {
      if (a.is_string() && b.is_string()) {
        const int c = a.get<std::string>().compare(b.get<std::string>());
        return op == "<" ? c < 0 : op == ">" ? c > 0 : op == "<=" ? c <= 0 : c >= 0;
      }
    }
    if (!a.is_number() || !b.is_number()) {
      Fail("cannot apply '" + op + "' to " + std::string(IsUndefined(a) ? "undefined" : a.type_name()) + " and " +
           std::string(IsUndefined(b) ? "undefined" : b.type_name()));
    }
    if (op == "<") return a.get<double>() < b.get<double>();
    if (op == ">") return a.get<double>() > b.get<double>();
    if (op == "<=") return a.get<double>() <= b.get<double>();
    if (op == ">=") return a.get<double>() >= b.get<double>();
    const bool ints = a.is_number_integer() && b.is_number_integer();
    if (ints) {
      const int64_t x = a.get<int64_t>(), y = b.get<int64_t>();
      int64_t r = 0;
      if (op == "+" && !__builtin_add_overflow(x, y, &r)) return r;
      if (op == "-" && !__builtin_sub_overflow(x, y, &r)) return r;
      if (op == "*" && !__builtin_mul_overflow(x, y, &r)) return r;
      if (op == "+" || op == "-" || op == "*") Fail("integer overflow");
      if ((op == "%" || op == "//") && y == 0) Fail("division by zero");
      if ((op == "%" || op == "//") && y == -1) return op == "%" ? Json(0) : x == INT64_MIN ? (Fail("integer overflow"), Json()) : Json(-x);
      if (op == "%") return ((x % y) + y) % y;  // Python's sign convention
      if (op == "//") return x / y - ((x % y != 0) && ((x < 0) != (y < 0)));
    }
    const double x = a.get<double>(), y = b.get<double>();
    if (op == "+") return x + y;
    if (op == "-") return x - y;
    if (op == "*") return x * y;
    if (op == "/") {
      if (y == 0) Fail("division by zero");
      return x / y;
    }
    Fail("unsupported operator '" + op + "'");
  }

  size_t max_output_;
  size_t max_steps_;
  size_t steps_ = 0;
  int macro_depth_ = 0;
  std::vector<Json> scopes_;
  std::vector<Json> namespaces_;
  std::map<std::string, const Node*> macros_;
};

}  // namespace

JinjaTemplate::JinjaTemplate() = default;
JinjaTemplate::~JinjaTemplate() = default;
JinjaTemplate::JinjaTemplate(JinjaTemplate&&) noexcept = default;
JinjaTemplate& JinjaTemplate::operator=(JinjaTemplate&&) noexcept = default;

Result<JinjaTemplate> JinjaTemplate::Parse(std::string_view source) {
  try {
    JinjaTemplate t;
    // Jinja2 reads "\r\n" and "\r" as "\n", and drops one newline at the end of the template
    // (keep_trailing_newline is off).
    std::string normalized;
    for (size_t i = 0; i < source.size(); ++i) {
      if (source[i] != '\r') normalized += source[i];
      else if (i + 1 == source.size() || source[i + 1] != '\n') normalized += '\n';
    }
    if (!normalized.empty() && normalized.back() == '\n') normalized.pop_back();
    t.root_ = TemplateParser(SplitTemplate(normalized)).ParseAll();
    return t;
  } catch (const JinjaError& e) {
    return InvalidArgument("chat template does not parse: " + e.message);
  }
}

Result<std::string> JinjaTemplate::Render(const Json& context, size_t max_output, size_t max_steps) const {
  if (!context.is_object()) return InvalidArgument("template context must be an object");
  try {
    std::string out;
    Renderer(context, max_output, max_steps).Run(*root_, out);
    return out;
  } catch (const BreakSignal&) {
    return InvalidArgument("chat template failed: {% break %} outside a loop");
  } catch (const ContinueSignal&) {
    return InvalidArgument("chat template failed: {% continue %} outside a loop");
  } catch (const JinjaError& e) {
    return InvalidArgument("chat template failed: " + e.message);
  } catch (const Json::exception& e) {
    return InvalidArgument(std::string("chat template failed: ") + e.what());
  }
}

}  // namespace accel::text

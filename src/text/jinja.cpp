#include "text/jinja.h"

#include <cctype>
#include <cstdint>
#include <functional>
#include <map>
#include <vector>

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

bool Truthy(const Json& v) {
  if (IsUndefined(v) || v.is_null()) return false;
  if (v.is_boolean()) return v.get<bool>();
  if (v.is_number_integer()) return v.get<int64_t>() != 0;
  if (v.is_number()) return v.get<double>() != 0.0;
  if (v.is_string()) return !v.get_ref<const std::string&>().empty();
  if (v.is_array() || v.is_object()) return !v.empty();
  return false;
}

std::string ToStr(const Json& v) {
  if (IsUndefined(v)) return "";
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "None";
  if (v.is_boolean()) return v.get<bool>() ? "True" : "False";
  return v.dump();
}

}  // namespace

// ---------------------------------------------------------------- expressions
namespace jinja_ast {

struct Expr {
  enum Kind { kLiteral, kVar, kAttr, kIndex, kSlice, kCall, kFilter, kTest, kUnary, kBinary, kCond, kList, kDict } kind;
  Json literal;
  std::string name;  // variable, attribute, function, filter, test or operator
  std::vector<std::unique_ptr<Expr>> args;  // operands / call arguments (args[0] is the target for attr, filter...)
  bool negated = false;
};
using ExprPtr = std::unique_ptr<Expr>;

struct Node {
  enum Kind { kBody, kText, kOutput, kIf, kFor, kSet } kind = kBody;
  std::string text;                       // kText
  ExprPtr expr;                           // kOutput, kSet value, kFor iterable
  std::vector<std::string> targets;       // kFor loop variables, kSet name
  std::vector<std::pair<ExprPtr, std::unique_ptr<Node>>> branches;  // kIf (cond null = else)
  std::vector<std::unique_ptr<Node>> children;                     // kBody
  std::unique_ptr<Node> body, else_body;  // kFor
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
        if (s[j] == '\\' && j + 1 < s.size()) {
          const char e = s[++j];
          v += e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r' : e;
        } else {
          v += s[j];
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
  std::vector<ExprPtr> CallArgs() {
    std::vector<ExprPtr> args;
    Expect("(");
    while (!IsOp(")")) {
      // Keyword arguments are accepted and passed positionally.
      if (Peek().kind == Token::kName && t_[pos_ + 1].kind == Token::kOp && t_[pos_ + 1].text == "=") pos_ += 2;
      args.push_back(Parse());
      if (!IsOp(")")) Expect(",");
    }
    ++pos_;
    return args;
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
          auto s = Make(Expr::kSlice);
          s->args.push_back(std::move(e));
          s->args.push_back(lo ? std::move(lo) : Make(Expr::kLiteral));
          s->args.push_back(IsOp("]") ? Make(Expr::kLiteral) : Parse());
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
        for (auto& a : CallArgs()) c->args.push_back(std::move(a));
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
        if (IsOp("(")) {
          for (auto& a : CallArgs()) f->args.push_back(std::move(a));
        }
        e = std::move(f);
      } else if (IsName("is")) {
        ++pos_;
        auto t = Make(Expr::kTest);
        if (IsName("not")) ++pos_, t->negated = true;
        t->name = Name();
        t->args.push_back(std::move(e));
        if (t->name == "equalto" || t->name == "sameas") t->args.push_back(Primary());
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
  while (i < src.size()) {
    size_t open = src.find('{', i);
    while (open != std::string_view::npos && open + 1 < src.size() && src[open + 1] != '{' && src[open + 1] != '%' &&
           src[open + 1] != '#') {
      open = src.find('{', open + 1);
    }
    if (open + 1 >= src.size()) open = std::string_view::npos;
    std::string text(src.substr(i, open == std::string_view::npos ? std::string_view::npos : open - i));
    if (trim_newline && !text.empty() && text[0] == '\n') text.erase(0, 1);  // trim_blocks
    if (strip_next) text.erase(0, text.find_first_not_of(" \t\r\n") == std::string::npos ? text.size() : text.find_first_not_of(" \t\r\n"));
    strip_next = trim_newline = false;
    if (open == std::string_view::npos) {
      if (!text.empty()) out.push_back({Chunk::kText, text, line});
      break;
    }
    const char kind = src[open + 1];
    const bool strip_before = open + 2 < src.size() && src[open + 2] == '-';
    if (strip_before) {
      text.erase(text.find_last_not_of(" \t\r\n") == std::string::npos ? 0 : text.find_last_not_of(" \t\r\n") + 1);
    } else if (kind == '%' || kind == '#') {
      // lstrip_blocks: spaces and tabs between the line start and a block tag go.
      const size_t nl = text.find_last_of('\n');
      const size_t from = nl == std::string::npos ? 0 : nl + 1;
      if (text.find_first_not_of(" \t", from) == std::string::npos && (nl != std::string::npos || out.empty() || i == 0)) {
        text.erase(from);
      }
    }
    if (!text.empty()) out.push_back({Chunk::kText, text, line});
    for (char c : src.substr(i, open - i)) line += c == '\n';
    const std::string close = kind == '{' ? "}}" : kind == '%' ? "%}" : "#}";
    size_t body_start = open + 2 + (strip_before ? 1 : 0);
    size_t end = src.find(close, body_start);
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
      n->expr = p.Parse();
      if (p.IsName("if")) Fail("loop filters ('for x in y if c') are not supported");
      if (!p.AtEnd()) Fail("unexpected '" + p.Peek().text + "' in for loop");
      std::string end;
      n->body = Body({"else", "endfor"}, end);
      if (end == "else") n->else_body = Body({"endfor"}, end);
    } else if (word == "set") {
      n->kind = Node::kSet;
      n->targets.push_back(p.Name());
      if (p.IsOp(".")) Fail("attribute assignment (namespace) is not supported");
      p.Expect("=");
      n->expr = p.ParseAll();
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
      case Node::kSet: {
        Json v = Eval(*n.expr);
        if (v.is_string() && v.get_ref<const std::string&>().size() > max_output_)
          Fail("value of '" + n.targets[0] + "' exceeds " + std::to_string(max_output_) + " bytes");
        scopes_.back()[n.targets[0]] = std::move(v);
        break;
      }
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
          Json chars = Json::array();
          for (char ch : seq.get<std::string>()) chars.push_back(std::string(1, ch));
          seq = chars;
        } else if (IsUndefined(seq) || seq.is_null()) {
          seq = Json::array();
        } else if (!seq.is_array()) {
          Fail("cannot loop over " + std::string(seq.type_name()));
        }
        if (seq.empty() && n.else_body) Run(*n.else_body, out);
        const size_t len = seq.size();
        for (size_t i = 0; i < len; ++i) {
          Json scope = Json::object();
          if (n.targets.size() == 1) {
            scope[n.targets[0]] = seq[i];
          } else {
            for (size_t t = 0; t < n.targets.size(); ++t) {
              scope[n.targets[t]] = seq[i].is_array() && t < seq[i].size() ? seq[i][t] : Undefined();
            }
          }
          scope["loop"] = {{"index0", i}, {"index", i + 1}, {"first", i == 0}, {"last", i + 1 == len}, {"length", len},
                           {"revindex", len - i}, {"revindex0", len - i - 1}};
          scopes_.push_back(std::move(scope));
          if (scopes_.size() > 200) Fail("loops nested too deeply");
          Run(*n.body, out);
          scopes_.pop_back();
        }
        break;
      }
    }
  }

 private:
  // Every node run and expression evaluated is a step: a template cannot loop for ever.
  void Step() {
    if (++steps_ > max_steps_) Fail("template exceeds its budget of " + std::to_string(max_steps_) + " steps");
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

  static Json Index(const Json& v, const Json& key) {
    if (v.is_object() && key.is_string()) {
      auto it = v.find(key.get<std::string>());
      return it == v.end() ? Undefined() : *it;
    }
    if ((v.is_array() || v.is_string()) && key.is_number_integer()) {
      const int64_t n = static_cast<int64_t>(v.is_array() ? v.size() : v.get_ref<const std::string&>().size());
      int64_t i = key.get<int64_t>();
      if (i < 0) i += n;
      if (i < 0 || i >= n) return Undefined();
      return v.is_array() ? v[static_cast<size_t>(i)] : Json(std::string(1, v.get_ref<const std::string&>()[static_cast<size_t>(i)]));
    }
    return Undefined();
  }

  static Json Slice(const Json& v, const Json& lo, const Json& hi) {
    if (!v.is_array() && !v.is_string()) Fail("cannot slice " + std::string(v.type_name()));
    const int64_t n = static_cast<int64_t>(v.is_array() ? v.size() : v.get_ref<const std::string&>().size());
    auto clamp = [n](const Json& x, int64_t dflt) {
      if (!x.is_number_integer()) return dflt;
      int64_t i = x.get<int64_t>();
      if (i < 0) i += n;
      return std::max<int64_t>(0, std::min(n, i));
    };
    const int64_t a = clamp(lo, 0), b = std::max(a, clamp(hi, n));
    if (v.is_string()) return v.get<std::string>().substr(static_cast<size_t>(a), static_cast<size_t>(b - a));
    Json out = Json::array();
    for (int64_t i = a; i < b; ++i) out.push_back(v[static_cast<size_t>(i)]);
    return out;
  }

  static std::string Strip(const std::string& s, const std::string& chars, bool left, bool right) {
    size_t b = 0, e = s.size();
    if (left) {
      while (b < e && chars.find(s[b]) != std::string::npos) ++b;
    }
    if (right) {
      while (e > b && chars.find(s[e - 1]) != std::string::npos) --e;
    }
    return s.substr(b, e - b);
  }

  Json CallMethod(const Json& target, const std::string& method, const std::vector<Json>& args) {
    const std::string ws = " \t\r\n";
    if (target.is_string()) {
      const std::string& s = target.get_ref<const std::string&>();
      const std::string chars = !args.empty() && args[0].is_string() ? args[0].get<std::string>() : ws;
      if (method == "strip") return Strip(s, chars, true, true);
      if (method == "lstrip") return Strip(s, chars, true, false);
      if (method == "rstrip") return Strip(s, chars, false, true);
      if (method == "upper" || method == "lower") {
        std::string r = s;
        for (char& c : r) c = static_cast<char>(method == "upper" ? std::toupper(static_cast<unsigned char>(c)) : std::tolower(static_cast<unsigned char>(c)));
        return r;
      }
      if ((method == "startswith" || method == "endswith") && !args.empty() && args[0].is_string()) {
        const std::string& p = args[0].get_ref<const std::string&>();
        if (p.size() > s.size()) return false;
        return method == "startswith" ? s.compare(0, p.size(), p) == 0 : s.compare(s.size() - p.size(), p.size(), p) == 0;
      }
      if (method == "split") {
        Json out = Json::array();
        const std::string sep = !args.empty() && args[0].is_string() ? args[0].get<std::string>() : " ";
        if (sep.empty()) Fail("split with an empty separator");
        size_t from = 0, at;
        while ((at = s.find(sep, from)) != std::string::npos) out.push_back(s.substr(from, at - from)), from = at + sep.size();
        out.push_back(s.substr(from));
        return out;
      }
    }
    if (target.is_object() && method == "items") {
      Json out = Json::array();
      for (auto it = target.begin(); it != target.end(); ++it) out.push_back(Json::array({it.key(), it.value()}));
      return out;
    }
    if (target.is_object() && method == "get" && !args.empty()) {
      Json v = Index(target, args[0]);
      return IsUndefined(v) && args.size() > 1 ? args[1] : IsUndefined(v) ? Json(nullptr) : v;
    }
    Fail("unknown method '" + method + "' on " + std::string(IsUndefined(target) ? "undefined" : target.type_name()));
  }

  Json Filter(const std::string& name, const Json& v, const std::vector<Json>& args) {
    if (name == "trim") return Strip(ToStr(v), " \t\r\n", true, true);
    if (name == "length" || name == "count") {
      if (v.is_string()) return v.get_ref<const std::string&>().size();
      if (v.is_array() || v.is_object()) return v.size();
      return 0;
    }
    if (name == "upper" || name == "lower") return CallMethod(Json(ToStr(v)), name, {});
    if (name == "string") return ToStr(v);
    if (name == "tojson") return v.dump();
    if (name == "default" || name == "d") return IsUndefined(v) ? (args.empty() ? Json("") : args[0]) : v;
    if (name == "first") return v.is_array() && !v.empty() ? v.front() : Undefined();
    if (name == "last") return v.is_array() && !v.empty() ? v.back() : Undefined();
    if (name == "join") {
      std::string sep = !args.empty() ? ToStr(args[0]) : "", out;
      if (!v.is_array()) Fail("join needs a list");
      for (size_t i = 0; i < v.size(); ++i) out += (i ? sep : "") + ToStr(v[i]);
      return out;
    }
    Fail("unknown filter '" + name + "'");
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
      case Expr::kAttr: return Index(Eval(*e.args[0]), Json(e.name));
      case Expr::kIndex: return Index(Eval(*e.args[0]), Eval(*e.args[1]));
      case Expr::kSlice: return Slice(Eval(*e.args[0]), Eval(*e.args[1]), Eval(*e.args[2]));
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
          for (int64_t i = lo; i < hi; ++i) out.push_back(i);
          return out;
        }
        if (callee.kind == Expr::kAttr) return CallMethod(Eval(*callee.args[0]), callee.name, args);
        Fail("unknown function '" + callee.name + "'");
      }
      case Expr::kFilter: {
        std::vector<Json> args;
        for (size_t i = 1; i < e.args.size(); ++i) args.push_back(Eval(*e.args[i]));
        return Filter(e.name, Eval(*e.args[0]), args);
      }
      case Expr::kTest: {
        const Json v = Eval(*e.args[0]);
        bool r;
        if (e.name == "defined") r = !IsUndefined(v);
        else if (e.name == "undefined") r = IsUndefined(v);
        else if (e.name == "none") r = v.is_null();
        else if (e.name == "string") r = v.is_string();
        else if (e.name == "number") r = v.is_number();
        else if (e.name == "boolean") r = v.is_boolean();
        else if (e.name == "mapping") r = v.is_object();
        else if (e.name == "iterable" || e.name == "sequence") r = v.is_array() || v.is_string() || v.is_object();
        else if (e.name == "equalto" || e.name == "sameas") r = v == Eval(*e.args[1]);
        else if (e.name == "true") r = v.is_boolean() && v.get<bool>();
        else if (e.name == "false") r = v.is_boolean() && !v.get<bool>();
        else Fail("unknown test '" + e.name + "'");
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
    if (op == "~") return ToStr(a) + ToStr(b);
    if (op == "==") return a == b || (IsUndefined(a) && IsUndefined(b));
    if (op == "!=") return !(a == b || (IsUndefined(a) && IsUndefined(b)));
    if (op == "in") {
      if (b.is_string() && a.is_string()) return b.get_ref<const std::string&>().find(a.get_ref<const std::string&>()) != std::string::npos;
      if (b.is_array()) {
        for (const auto& x : b) {
          if (x == a) return true;
        }
        return false;
      }
      if (b.is_object() && a.is_string()) return b.contains(a.get<std::string>());
      return false;
    }
    if (op == "+" && a.is_string() && b.is_string()) return a.get<std::string>() + b.get<std::string>();
    if (op == "+" && a.is_array() && b.is_array()) {
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
  std::vector<Json> scopes_;
};

}  // namespace

JinjaTemplate::JinjaTemplate() = default;
JinjaTemplate::~JinjaTemplate() = default;
JinjaTemplate::JinjaTemplate(JinjaTemplate&&) noexcept = default;
JinjaTemplate& JinjaTemplate::operator=(JinjaTemplate&&) noexcept = default;

Result<JinjaTemplate> JinjaTemplate::Parse(std::string_view source) {
  try {
    JinjaTemplate t;
    t.root_ = TemplateParser(SplitTemplate(source)).ParseAll();
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
  } catch (const JinjaError& e) {
    return InvalidArgument("chat template failed: " + e.message);
  } catch (const Json::exception& e) {
    return InvalidArgument(std::string("chat template failed: ") + e.what());
  }
}

}  // namespace accel::text

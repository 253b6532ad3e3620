// Recursive descent over the C++ expressions the seeds' programs use.
#include "cpp_expr.hpp"

#include <cctype>

namespace evoprompt::codegen::cpp_expr {
namespace {

class Parser {
 public:
  Parser(const std::string& s, Syntax syntax) : s_(s), syntax_(syntax) {}
  Node all() {
    Node n = additive();
    ws();
    if (i_ != s_.size()) throw ParseError{};
    return n;
  }

 private:
  const std::string& s_;
  const Syntax syntax_;
  std::size_t i_ = 0;

  static bool digit(char c) { return std::isdigit(static_cast<unsigned char>(c)); }
  static bool ident_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
  static bool ident_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

  void ws() {
    while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_]))) ++i_;
  }
  bool peek(const char* tok) {
    ws();
    return s_.compare(i_, std::char_traits<char>::length(tok), tok) == 0;
  }
  bool eat(const char* tok) {
    if (!peek(tok)) return false;
    i_ += std::char_traits<char>::length(tok);
    return true;
  }
  void expect(const char* tok) {
    if (!eat(tok)) throw ParseError{};
  }
  std::string ident() {
    ws();
    if (i_ >= s_.size() || !ident_start(s_[i_])) throw ParseError{};
    const std::size_t b = i_;
    while (i_ < s_.size() && ident_char(s_[i_])) ++i_;
    return s_.substr(b, i_ - b);
  }
  std::string ident_or_number() {
    ws();
    const std::size_t b = i_;
    while (i_ < s_.size() && ident_char(s_[i_])) ++i_;
    if (b == i_) throw ParseError{};
    return s_.substr(b, i_ - b);
  }
  std::vector<Node> list(const char* close) {
    std::vector<Node> out;
    if (eat(close)) return out;
    for (;;) {
      out.push_back(additive());
      if (eat(close)) return out;
      expect(",");
    }
  }
  static Node bin(const std::string& op, Node a, Node b) {
    Node n;
    n.kind = Node::binop;
    n.text = op;
    n.args.push_back(std::move(a));
    n.args.push_back(std::move(b));
    return n;
  }
  Node additive() {
    Node n = multiplicative();
    for (;;) {
      if (eat("+")) n = bin("+", std::move(n), multiplicative());
      else if (!peek("->") && eat("-")) n = bin("-", std::move(n), multiplicative());
      else return n;
    }
  }
  Node multiplicative() {
    Node n = postfix();
    for (;;) {
      if (eat("*")) n = bin("*", std::move(n), postfix());
      else if (eat("/")) n = bin("/", std::move(n), postfix());
      else return n;
    }
  }
  Node postfix() {
    Node n = primary();
    while (eat(".") || eat("->")) {
      Node m;
      m.kind = Node::method;
      m.text = ident();
      expect("(");
      m.args.push_back(std::move(n));
      for (auto& a : list(")")) m.args.push_back(std::move(a));
      n = std::move(m);
    }
    return n;
  }
  Node number() {
    const std::size_t b = i_;
    if (s_[i_] == '-') ++i_;
    while (i_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[i_])) || s_[i_] == '.')) ++i_;
    Node n;
    n.kind = Node::num;
    n.text = s_.substr(b, i_ - b);
    return n;
  }
  Node primary() {
    ws();
    if (i_ >= s_.size()) throw ParseError{};
    if (eat("(")) {
      Node n = additive();
      expect(")");
      return n;
    }
    if (eat("{")) {
      Node n;
      n.kind = Node::braces;
      n.args = list("}");
      return n;
    }
    const char c = s_[i_];
    if (digit(c) || c == '.' ||
        (c == '-' && (syntax_.minus_starts_number || (i_ + 1 < s_.size() && digit(s_[i_ + 1])))))
      return number();
    if (c == '"') {
      const std::size_t close = s_.find('"', i_ + 1);
      if (close == std::string::npos) throw ParseError{};
      Node n;
      n.kind = Node::str;
      n.text = s_.substr(i_ + 1, close - i_ - 1);
      i_ = close + 1;
      return n;
    }
    Node n;
    n.text = ident();
    while (s_.compare(i_, 2, "::") == 0) {
      i_ += 2;
      n.text += "::" + ident();
    }
    if (syntax_.verbatim_template) {
      if (s_.compare(i_, 1, "<") == 0) {
        const std::size_t close = s_.find('>', i_);
        if (close == std::string::npos) throw ParseError{};
        n.text += s_.substr(i_, close + 1 - i_);
        i_ = close + 1;
      }
    } else if (n.text == "std::get" && eat("<")) {  // std::get<0>
      n.text += "<" + ident_or_number() + ">";
      expect(">");
    }
    if (eat("(")) {
      n.kind = Node::call;
      n.args = list(")");
    }
    return n;
  }
};

int precedence(const std::string& op) { return op == "+" || op == "-" ? 1 : 2; }

}  // namespace

Node parse(const std::string& s, Syntax syntax) { return Parser(s, syntax).all(); }

std::string show(const Node& n) {
  auto joined = [](const std::vector<Node>& v, std::size_t from) {
    std::string t;
    for (std::size_t i = from; i < v.size(); ++i) t += (i > from ? ", " : "") + show(v[i]);
    return t;
  };
  switch (n.kind) {
    case Node::num:
    case Node::name: return n.text;
    case Node::str: return "\"" + n.text + "\"";
    case Node::call: return n.text + "(" + joined(n.args, 0) + ")";
    case Node::method: return show(n.args[0]) + "." + n.text + "(" + joined(n.args, 1) + ")";
    case Node::braces: return "{" + joined(n.args, 0) + "}";
    case Node::binop: {
      std::string l = show(n.args[0]), r = show(n.args[1]);
      const int p = precedence(n.text);
      if (n.args[0].kind == Node::binop && precedence(n.args[0].text) < p) l = "(" + l + ")";
      if (n.args[1].kind == Node::binop && precedence(n.args[1].text) <= p) r = "(" + r + ")";
      return l + " " + n.text + " " + r;
    }
  }
  return "";
}

}  // namespace evoprompt::codegen::cpp_expr

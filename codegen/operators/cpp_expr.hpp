// The C++ expressions the mutate operators read in a parent's forward and
// constructor (mutate_lm.cpp for Model parents, mutate_triplet.cpp for Triplet
// parents): a parse tree and its printer. No torch.
#pragma once

#include <string>
#include <vector>

namespace evoprompt::codegen::cpp_expr {

// Outside the grammar. The operators throw it too, for programs outside their idiom.
struct ParseError {};

struct Node {
  enum Kind { num, str, name, call, method, binop, braces } kind = name;
  std::string text;        // the literal, name, callee, method name or operator
  std::vector<Node> args;  // method: object first; binop: lhs, rhs
};

// Two spellings the Model operator has always read its own way; they are
// kept so that its children stay byte-identical.
struct Syntax {
  bool minus_starts_number = false;  // `-x` and `-.5` are numbers (else `-` needs a digit after it)
  bool verbatim_template = false;    // any `name<..>` is taken as written up to `>` (else `std::get<N>`, spaces allowed)
};

// The whole of `s` as one expression: + - * / with C++ precedence, calls,
// `.`/`->` method calls, `{..}` lists, numbers, "strings" and qualified names.
Node parse(const std::string& s, Syntax syntax = {});

// The expression as C++ again, with the parentheses precedence needs.
std::string show(const Node& n);

}  // namespace evoprompt::codegen::cpp_expr

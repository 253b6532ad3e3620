// The triplet operator: read a Triplet parent into a small program (terms,
// reduction, output), edit it, check it is shape-correct, print it.
#include "mutate_triplet.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <numeric>
#include <optional>
#include <regex>
#include <stdexcept>

#include "cpp_expr.hpp"

namespace evoprompt::codegen {
namespace {

using mutate_detail::edit_count;
using mutate_detail::match_brace;
using mutate_detail::param_cap;
using mutate_detail::rewrite_one_site;
using mutate_detail::TextSite;
using mutate_detail::Rng;
using mutate_detail::statements;
using mutate_detail::strip_comments;

// ---------------------------------------------------------------- expressions
using cpp_expr::Node;
using cpp_expr::ParseError;
using cpp_expr::show;

bool is_int(const Node& n) {
  return n.kind == Node::num && !n.text.empty() &&
         std::all_of(n.text.begin() + (n.text[0] == '-' ? 1 : 0), n.text.end(),
                     [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }) &&
         n.text != "-";
}

int as_int(const Node& n) {
  if (!is_int(n) || n.text.size() > 6) throw ParseError{};
  return std::stoi(n.text);
}

// ---------------------------------------------------------------- the program
enum class Role { node, edge, graph };

const char* role_name(Role r) { return r == Role::node ? "node" : r == Role::edge ? "edge" : "graph"; }

// The seeds' inputs, by role.
const char* input_of(Role r) { return r == Role::node ? "z" : r == Role::edge ? "edge_fts" : "graph_fts"; }

std::optional<Role> input_role(const std::string& name) {
  if (name == "z") return Role::node;
  if (name == "edge_fts") return Role::edge;
  if (name == "graph_fts") return Role::graph;
  return std::nullopt;
}

// A width: base * num / den, base being nb_triplet_fts or out_size.
struct Size {
  std::string base = "nb_triplet_fts";
  int num = 1, den = 1;
  bool operator==(const Size& o) const { return base == o.base && num * o.den == o.num * den; }
  bool operator!=(const Size& o) const { return !(*this == o); }
};

Size scaled(Size s, int num, int den) {
  s.num *= num;
  s.den *= den;
  const int g = std::gcd(s.num, s.den);
  s.num /= g;
  s.den /= g;
  return s;
}

std::string show(const Size& s) {
  std::string t = s.base;
  if (s.num != 1) t += " * " + std::to_string(s.num);
  if (s.den != 1) t += " / " + std::to_string(s.den);
  return t;
}

// The width in a shape comment: H for nb_triplet_fts, as the seeds write.
std::string symbol(const Size& s) {
  const bool h = s.base == "nb_triplet_fts";
  std::string t = (s.num != 1 ? std::to_string(s.num) + (h ? "" : " * ") : "") + (h ? "H" : s.base);
  if (s.den != 1) t += "/" + std::to_string(s.den);
  return t;
}

// The paper's shapes, for parameter counts and size bounds.
constexpr std::int64_t kNodeWidth = 256, kEdgeWidth = 128, kGraphWidth = 128, kNb = 8, kOut = 128;

std::int64_t value(const Size& s) { return (s.base == "out_size" ? kOut : kNb) * s.num / s.den; }

Size parse_size(const Node& n) {
  if (n.kind == Node::name && (n.text == "nb_triplet_fts" || n.text == "out_size")) return Size{n.text, 1, 1};
  if (n.kind == Node::binop && n.text == "*") {
    if (is_int(n.args[1])) return scaled(parse_size(n.args[0]), as_int(n.args[1]), 1);
    if (is_int(n.args[0])) return scaled(parse_size(n.args[1]), as_int(n.args[0]), 1);
  }
  if (n.kind == Node::binop && n.text == "/" && is_int(n.args[1]))
    return scaled(parse_size(n.args[0]), 1, as_int(n.args[1]));
  throw ParseError{};
}

// How `rep_fn` combines its projection and its two-layer MLP (the seeds have
// v9's product and CONCATREP's concatenation, which doubles the width).
struct Style {
  enum Kind { none, product, concat } kind = none;
  int factor = 8;  // hidden width of the MLP, in units of size
  bool operator==(const Style& o) const { return kind == o.kind && (kind == none || factor == o.factor); }
};

// A representation: the helper the seeds call on an input.
struct Rep {
  enum Kind { linear, mlp, rep } kind = linear;
  std::vector<Size> sizes;  // linear, rep: one; mlp: the layer widths
  bool operator==(const Rep& o) const { return kind == o.kind && sizes == o.sizes; }
};

const char* rep_name(const Rep& r) {
  if (r.kind == Rep::linear) return "linear";
  if (r.kind == Rep::rep) return "rep_fn";
  return r.sizes.size() == 1 ? "mlp1" : r.sizes.size() == 2 ? "mlp2" : "mlp";
}

Size width_of(const Rep& r, const Style& style) {
  if (r.kind == Rep::rep && style.kind == Style::concat) return scaled(r.sizes.front(), 2, 1);
  return r.sizes.back();
}

// The representation of kind `kind` that is `width` wide.
Rep rep_with_width(Rep::Kind kind, int layers, const Size& width, const Style& style) {
  Rep r;
  r.kind = kind;
  if (kind == Rep::mlp) r.sizes.assign(static_cast<std::size_t>(layers), width);
  else if (kind == Rep::rep && style.kind == Style::concat) r.sizes = {scaled(width, 1, 2)};
  else r.sizes = {width};
  return r;
}

// One summed term: `auto var = rep(input).unsqueeze(..)...`.
struct Term {
  std::string var, module, input;
  Rep rep;
  std::vector<int> unsqueeze;
};

struct Preamble {  // `auto name = <element-wise expression of one input>`
  std::string name, rhs;
  Role role = Role::node;
};

struct ElemOp {  // torch::fn(x, args)
  std::string fn, args;
  bool operator==(const ElemOp& o) const { return fn == o.fn && args == o.args; }
};

enum class Reduction { max, min, mean, sum, maxmin, logsumexp, softmax };

const std::vector<Reduction> kReductions = {Reduction::max,    Reduction::mean,      Reduction::sum,
                                            Reduction::min,    Reduction::maxmin,    Reduction::logsumexp,
                                            Reduction::softmax};

const char* reduction_name(Reduction r) {
  switch (r) {
    case Reduction::max: return "max";
    case Reduction::min: return "min";
    case Reduction::mean: return "mean";
    case Reduction::sum: return "sum";
    case Reduction::maxmin: return "max-min";
    case Reduction::logsumexp: return "logsumexp";
    case Reduction::softmax: return "softmax-weighted sum";
  }
  return "?";
}

std::string reduction_text(Reduction r, const std::string& t) {
  switch (r) {
    case Reduction::max: return "std::get<0>(" + t + ".max(1))";
    case Reduction::min: return "std::get<0>(" + t + ".min(1))";
    case Reduction::mean: return t + ".mean(1)";
    case Reduction::sum: return t + ".sum(1)";
    case Reduction::maxmin: return "std::get<0>(" + t + ".max(1)) - std::get<0>(" + t + ".min(1))";
    case Reduction::logsumexp: return "torch::logsumexp(" + t + ", 1)";
    case Reduction::softmax: return "(torch::softmax(" + t + ", 1) * " + t + ").sum(1)";
  }
  return t;
}

struct Program {
  std::vector<Preamble> preamble;
  std::vector<Term> terms;
  std::vector<ElemOp> tri_ops;  // `triplets = torch::fn(triplets)`, in order
  Reduction reduction = Reduction::max;
  std::vector<ElemOp> post_ops;  // on the reduced tensor, innermost first
  bool has_out = true;
  Rep out;
  std::string out_module = "o3";
  Style style;
};

// Element-wise functions read in parents; the operator writes the first eight.
const std::vector<std::string> kElementwise = {"relu", "tanh", "sigmoid", "abs", "gelu", "silu", "elu",
                                               "clamp_min", "clamp_max", "selu", "softplus", "leaky_relu"};
const std::vector<ElemOp> kOpsWritten = {{"relu", ""},  {"tanh", ""}, {"sigmoid", ""}, {"abs", ""},
                                         {"gelu", ""},  {"silu", ""}, {"elu", ""},     {"clamp_min", "-100.0"}};

std::string op_text(const ElemOp& op, const std::string& x) {
  return "torch::" + op.fn + "(" + x + (op.args.empty() ? "" : ", " + op.args) + ")";
}

std::string op_name(const ElemOp& op) { return op.args.empty() ? op.fn : op.fn + "(" + op.args + ")"; }

std::optional<Role> role_of(const Program& p, const std::string& input) {
  if (auto r = input_role(input)) return r;
  for (const auto& pre : p.preamble)
    if (pre.name == input) return pre.role;
  return std::nullopt;
}

// ---------------------------------------------------------------- helpers' text
const char* kLinearHelper = R"(  // hk.Linear(size) applied to x.
  torch::Tensor linear(torch::nn::Linear& layer, const std::string& name, const torch::Tensor& x, int64_t size) {
    if (!layer) {
      layer = register_module(name, torch::nn::Linear(x.size(-1), size));
      layer->to(x.device());
    }
    return layer(x);
  }
)";

const char* kMlpHelper = R"(  // hk.nets.MLP(sizes) applied to x: Linear layers with ReLU between them
  // (none after the last).
  torch::Tensor mlp(torch::nn::Sequential& net, const std::string& name, const torch::Tensor& x,
                    const std::vector<int64_t>& sizes) {
    if (!net) {
      torch::nn::Sequential layers;
      int64_t in = x.size(-1);
      for (size_t i = 0; i < sizes.size(); ++i) {
        if (i > 0) layers->push_back(torch::nn::ReLU());
        layers->push_back(torch::nn::Linear(in, sizes[i]));
        in = sizes[i];
      }
      net = register_module(name, layers);
      net->to(x.device());
    }
    return net->forward(x);
  }
)";

std::string rep_helper(const Style& s) {
  const std::string head =
      "  torch::Tensor rep_fn(torch::nn::Sequential& a, torch::nn::Sequential& b, const std::string& name,\n"
      "                       const torch::Tensor& x, int64_t size) {\n";
  const std::string k = std::to_string(s.factor);
  if (s.kind == Style::concat)
    return "  // rep_fn(x, size): a projection and a two-layer MLP, concatenated.\n" + head +
           "    return torch::cat({mlp(a, name + \"_a\", x, {size}), mlp(b, name + \"_b\", x, {" + k +
           " * size, size})}, -1);\n  }\n";
  return "  // rep_fn(x, size): the product of a projection and a two-layer MLP (two\n"
         "  // statements, so the layers are always made, and initialised, in this order).\n" +
         head + "    auto projection = mlp(a, name + \"_a\", x, {size});\n" +
         "    return projection * mlp(b, name + \"_b\", x, {size * " + k + ", size});\n  }\n";
}

std::string squeeze_ws(const std::string& s) {
  std::string out;
  for (char c : strip_comments(s))
    if (!std::isspace(static_cast<unsigned char>(c))) out += c;
  return out;
}

// The member functions of the struct body: name -> text, at depth 0 only.
std::map<std::string, std::string> member_functions(const std::string& body) {
  static const std::regex head(R"(torch::Tensor\s+(\w+)\s*\()");
  std::map<std::string, std::string> out;
  std::size_t from = 0;
  std::smatch m;
  while (std::regex_search(body.begin() + static_cast<std::ptrdiff_t>(from), body.end(), m, head)) {
    const std::size_t at = from + static_cast<std::size_t>(m.position());
    const std::size_t open = body.find('{', at);
    if (open == std::string::npos) throw ParseError{};
    const std::size_t close = match_brace(body, open);
    if (close == std::string::npos) throw ParseError{};
    if (out.count(m[1].str())) throw ParseError{};  // overloads are outside the idiom
    out[m[1].str()] = body.substr(at, close - at);
    from = close;
  }
  return out;
}

// ---------------------------------------------------------------- parsing
struct RepCall {
  Rep rep;
  std::string module;
  Node input;
};

// `linear(m, "m", x, size)`, `mlp(m, "m", x, {sizes})`, `rep_fn(m_a, m_b, "m", x, size)`.
std::optional<RepCall> rep_call(const Node& n, const std::map<std::string, std::vector<Size>>& aliases) {
  if (n.kind != Node::call) return std::nullopt;
  RepCall c;
  std::size_t x = 0;
  if (n.text == "linear" || n.text == "mlp") {
    if (n.args.size() != 4 || n.args[0].kind != Node::name || n.args[1].kind != Node::str ||
        n.args[1].text != n.args[0].text)
      throw ParseError{};
    c.module = n.args[0].text;
    x = 2;
    if (n.text == "linear") {
      c.rep.kind = Rep::linear;
      c.rep.sizes = {parse_size(n.args[3])};
    } else {
      c.rep.kind = Rep::mlp;
      const Node& s = n.args[3];
      if (s.kind == Node::name && aliases.count(s.text)) {
        c.rep.sizes = aliases.at(s.text);
      } else if (s.kind == Node::braces && !s.args.empty()) {
        for (const auto& a : s.args) c.rep.sizes.push_back(parse_size(a));
      } else {
        throw ParseError{};
      }
    }
  } else if (n.text == "rep_fn") {
    if (n.args.size() != 5 || n.args[2].kind != Node::str || n.args[0].kind != Node::name ||
        n.args[1].kind != Node::name || n.args[0].text != n.args[2].text + "_a" ||
        n.args[1].text != n.args[2].text + "_b")
      throw ParseError{};
    c.module = n.args[2].text;
    c.rep.kind = Rep::rep;
    c.rep.sizes = {parse_size(n.args[4])};
    x = 3;
  } else {
    return std::nullopt;
  }
  c.input = n.args[x];
  return c;
}

bool is_elementwise(const std::string& fn) {
  return fn.rfind("torch::", 0) == 0 &&
         std::find(kElementwise.begin(), kElementwise.end(), fn.substr(7)) != kElementwise.end();
}

// `torch::fn(x, numbers...)` with fn element-wise: the op, and x.
std::optional<std::pair<ElemOp, Node>> elementwise_call(const Node& n) {
  if (n.kind != Node::call || !is_elementwise(n.text) || n.args.empty()) return std::nullopt;
  ElemOp op{n.text.substr(7), ""};
  for (std::size_t i = 1; i < n.args.size(); ++i) {
    if (n.args[i].kind != Node::num) return std::nullopt;
    op.args += (i > 1 ? ", " : "") + n.args[i].text;
  }
  return std::make_pair(op, n.args[0]);
}

bool is_name(const Node& n, const std::string& name) { return n.kind == Node::name && n.text == name; }
bool is_dim1(const Node& n) { return n.kind == Node::num && n.text == "1"; }

// `std::get<0>(t.max(1))` and friends, over the summed tensor `t`.
std::optional<Reduction> parse_reduction(const Node& n, const std::string& t) {
  auto get_of = [&](const Node& g, const char* fn) {
    return g.kind == Node::call && g.text == "std::get<0>" && g.args.size() == 1 && g.args[0].kind == Node::method &&
           g.args[0].text == fn && g.args[0].args.size() == 2 && is_name(g.args[0].args[0], t) &&
           is_dim1(g.args[0].args[1]);
  };
  if (get_of(n, "max")) return Reduction::max;
  if (get_of(n, "min")) return Reduction::min;
  if (n.kind == Node::method && n.args.size() == 2 && is_dim1(n.args[1])) {
    if (is_name(n.args[0], t)) {
      if (n.text == "mean") return Reduction::mean;
      if (n.text == "sum") return Reduction::sum;
      if (n.text == "amax") return Reduction::max;
      if (n.text == "amin") return Reduction::min;
    }
    const Node& w = n.args[0];
    if (n.text == "sum" && w.kind == Node::binop && w.text == "*" && is_name(w.args[1], t) &&
        w.args[0].kind == Node::call && w.args[0].text == "torch::softmax" && w.args[0].args.size() == 2 &&
        is_name(w.args[0].args[0], t) && is_dim1(w.args[0].args[1]))
      return Reduction::softmax;
  }
  if (n.kind == Node::binop && n.text == "-" && get_of(n.args[0], "max") && get_of(n.args[1], "min"))
    return Reduction::maxmin;
  if (n.kind == Node::call && n.text == "torch::logsumexp" && n.args.size() == 2 && is_name(n.args[0], t) &&
      is_dim1(n.args[1]))
    return Reduction::logsumexp;
  return std::nullopt;
}

// The names of a sum `a + b + c`, or nothing when it is not one.
bool sum_names(const Node& n, std::vector<std::string>& out) {
  if (n.kind == Node::name) {
    out.push_back(n.text);
    return true;
  }
  return n.kind == Node::binop && n.text == "+" && sum_names(n.args[0], out) && sum_names(n.args[1], out);
}

// An element-wise expression of exactly one input (e.g. `z / 2`): its role.
bool preamble_roles(const Node& n, std::set<Role>& roles) {
  switch (n.kind) {
    case Node::num: return true;
    case Node::name: {
      const auto r = input_role(n.text);
      if (r) roles.insert(*r);
      return r.has_value();
    }
    case Node::binop: return preamble_roles(n.args[0], roles) && preamble_roles(n.args[1], roles);
    case Node::call: {
      const auto op = elementwise_call(n);
      return op && preamble_roles(op->second, roles);
    }
    default: return false;
  }
}

const std::regex& triplet_opening() {
  static const std::regex r(R"(struct\s+Triplet\s*:\s*(public\s+)?torch::nn::Module\s*\{)");
  return r;
}

std::optional<Program> parse_triplet(const std::string& code) {
  try {
    const auto whole = mutate_detail::struct_body(code, triplet_opening());
    if (!whole) return std::nullopt;
    const std::string& body = *whole;

    static const std::regex ctor(
        R"(Triplet\s*\(\s*int64_t\s+nb_triplet_fts\s*,\s*int64_t\s+out_size\s*\)\s*:\s*nb_triplet_fts\s*\(\s*nb_triplet_fts\s*\)\s*,\s*out_size\s*\(\s*out_size\s*\)\s*\{\s*\})");
    if (!std::regex_search(body, ctor)) return std::nullopt;

    Program p;
    // Helpers must be the seeds' own (a different `linear` means something else).
    const auto fns = member_functions(body);
    if (fns.count("linear") && squeeze_ws(fns.at("linear")) != squeeze_ws(kLinearHelper)) return std::nullopt;
    if (fns.count("mlp") && squeeze_ws(fns.at("mlp")) != squeeze_ws(kMlpHelper)) return std::nullopt;
    if (fns.count("rep_fn")) {
      const std::string got = squeeze_ws(fns.at("rep_fn"));
      static const std::regex factor(R"(\{(\d+)\*size,size\}|\{size\*(\d+),size\})");
      std::smatch fm;
      if (!std::regex_search(got, fm, factor)) return std::nullopt;
      p.style.factor = std::stoi(fm[1].matched ? fm[1].str() : fm[2].str());
      p.style.kind = fm[1].matched ? Style::concat : Style::product;
      if (got != squeeze_ws(rep_helper(p.style))) return std::nullopt;
    }
    if (!fns.count("forward")) return std::nullopt;
    static const std::regex fwd_head(
        R"(^torch::Tensor\s+forward\s*\(\s*torch::Tensor\s+z\s*,\s*torch::Tensor\s+edge_fts\s*,\s*torch::Tensor\s+graph_fts\s*\)\s*\{)");
    const std::string& fwd = fns.at("forward");
    std::smatch fm;
    if (!std::regex_search(fwd, fm, fwd_head)) return std::nullopt;
    const std::string fwd_body = fwd.substr(static_cast<std::size_t>(fm.length()), fwd.size() - fm.length() - 1);

    static const std::regex alias(R"(\s*(const\s+)?std::vector<int64_t>\s+(\w+)\s*=\s*([\s\S]+))");
    static const std::regex decl(R"(\s*(auto|torch::Tensor)\s+(\w+)\s*=\s*([\s\S]+))");
    static const std::regex assign(R"(\s*(\w+)\s*=\s*([\s\S]+))");
    static const std::regex ret(R"(\s*return\b([\s\S]+))");
    std::map<std::string, std::vector<Size>> aliases;
    std::string sum_var;
    bool returned = false;
    for (const auto& st : statements(fwd_body)) {
      if (returned) return std::nullopt;
      std::smatch sm;
      if (std::regex_match(st, sm, alias)) {
        const Node n = cpp_expr::parse(sm[3].str());
        if (n.kind != Node::braces || n.args.empty() || aliases.count(sm[2].str())) return std::nullopt;
        for (const auto& a : n.args) aliases[sm[2].str()].push_back(parse_size(a));
      } else if (std::regex_match(st, sm, ret)) {
        if (sum_var.empty()) return std::nullopt;
        Node e = cpp_expr::parse(sm[1].str());
        if (auto c = rep_call(e, aliases)) {
          p.has_out = true;
          p.out = c->rep;
          p.out_module = c->module;
          e = c->input;
        } else {
          p.has_out = false;
        }
        while (auto op = elementwise_call(e)) {
          p.post_ops.insert(p.post_ops.begin(), op->first);
          e = op->second;
        }
        const auto r = parse_reduction(e, sum_var);
        if (!r) return std::nullopt;
        p.reduction = *r;
        returned = true;
      } else if (std::regex_match(st, sm, decl)) {
        const std::string var = sm[2].str();
        const Node e = cpp_expr::parse(sm[3].str());
        if (!sum_var.empty()) return std::nullopt;
        // A term: the representation, then its broadcast.
        const Node* call = &e;
        std::vector<int> dims;
        while (call->kind == Node::method && call->text == "unsqueeze" && call->args.size() == 2) {
          dims.insert(dims.begin(), as_int(call->args[1]));
          call = &call->args[0];
        }
        std::vector<std::string> names;
        if (auto c = rep_call(*call, aliases)) {
          if (c->input.kind != Node::name || !role_of(p, c->input.text)) return std::nullopt;
          p.terms.push_back(Term{var, c->module, c->input.text, c->rep, dims});
        } else if (sum_names(e, names) && !p.terms.empty()) {
          std::vector<std::string> vars;
          for (const auto& t : p.terms) vars.push_back(t.var);
          if (names != vars) return std::nullopt;  // every term, once, in order
          sum_var = var;
        } else {
          std::set<Role> roles;
          if (!p.terms.empty() || !preamble_roles(e, roles) || roles.size() != 1) return std::nullopt;
          p.preamble.push_back(Preamble{var, show(e), *roles.begin()});
        }
      } else if (std::regex_match(st, sm, assign) && !sum_var.empty() && sm[1].str() == sum_var) {
        const auto op = elementwise_call(cpp_expr::parse(sm[2].str()));
        if (!op || !is_name(op->second, sum_var)) return std::nullopt;
        p.tri_ops.push_back(op->first);
      } else {
        return std::nullopt;
      }
    }
    if (!returned) return std::nullopt;
    return p;
  } catch (const ParseError&) {
    return std::nullopt;
  } catch (const std::logic_error&) {  // stoi
    return std::nullopt;
  }
}

// ---------------------------------------------------------------- shapes and checks
// The term's shape after its broadcast, as B/N/1/W per axis; empty when the
// unsqueezes do not make a 5-d [B, ., ., ., W].
std::string term_shape(const Term& t, Role role) {
  std::string s = role == Role::node ? "BNW" : role == Role::edge ? "BNNW" : "BW";
  for (int d : t.unsqueeze) {
    const int rank = static_cast<int>(s.size());
    if (d < 0) d += rank + 1;
    if (d < 0 || d > rank) return "";
    s.insert(s.begin() + d, '1');
  }
  if (s.size() != 5 || s[0] != 'B' || s[4] != 'W') return "";
  return s;
}

std::string shape_comment(const std::string& shape, const std::string& width) {
  std::string t = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    t += i ? ", " : "";
    t += shape[i] == 'W' ? width : std::string(1, shape[i]);
  }
  return t + "]";
}

Size program_width(const Program& p) { return width_of(p.terms.front().rep, p.style); }

// The modules a representation registers, with their C++ type.
std::vector<std::pair<std::string, const char*>> modules_of(const Rep& r, const std::string& module) {
  if (r.kind == Rep::linear) return {{module, "Linear"}};
  if (r.kind == Rep::mlp) return {{module, "Sequential"}};
  return {{module + "_a", "Sequential"}, {module + "_b", "Sequential"}};
}

std::int64_t rep_params(const Rep& r, std::int64_t in, const Style& style) {
  std::int64_t n = 0;
  auto layers = [&](std::int64_t from, const std::vector<std::int64_t>& sizes) {
    for (auto s : sizes) {
      n += from * s + s;
      from = s;
    }
  };
  if (r.kind == Rep::rep) {
    const std::int64_t s = value(r.sizes.front());
    layers(in, {s});
    layers(in, {s * style.factor, s});
  } else {
    std::vector<std::int64_t> sizes;
    for (const auto& s : r.sizes) sizes.push_back(value(s));
    layers(in, sizes);
  }
  return n;
}

// Why the program is not a valid triplet function, or empty when it is.
std::string problem(const Program& p) {
  if (p.terms.empty()) return "no terms";
  const Size w = program_width(p);
  if (value(w) < 2 || value(w) > 64 || value(w) * w.den != (w.base == "out_size" ? kOut : kNb) * w.num)
    return "triplet width out of range";
  std::set<std::string> names = {"z", "edge_fts", "graph_fts", "triplets", "nb_triplet_fts", "out_size",
                                 "linear", "mlp", "rep_fn", "forward", "projection"};
  auto claim = [&](const std::string& n) { return names.insert(n).second; };
  for (const auto& pre : p.preamble)
    if (!claim(pre.name)) return "name clash: " + pre.name;
  std::map<std::string, std::pair<Rep, Role>> module_use;
  bool n2 = false, n3 = false;
  bool uses_rep = p.has_out && p.out.kind == Rep::rep;
  for (const auto& t : p.terms) {
    const auto role = role_of(p, t.input);
    if (!role) return "unknown input " + t.input;
    const std::string shape = term_shape(t, *role);
    if (shape.empty()) return "bad broadcast of " + t.var;
    n2 = n2 || shape[2] == 'N';
    n3 = n3 || shape[3] == 'N';
    if (width_of(t.rep, p.style) != w) return "width mismatch at " + t.var;
    for (const auto& s : t.rep.sizes)
      if (value(s) < 1 || value(s) > 1024) return "size out of range at " + t.var;
    uses_rep = uses_rep || t.rep.kind == Rep::rep;
    if (!claim(t.var)) return "name clash: " + t.var;
    // A module called from several terms is made once: same layers, same input.
    auto it = module_use.find(t.module);
    if (it != module_use.end()) {
      if (!(it->second.first == t.rep) || it->second.second != *role) return "module reused differently: " + t.module;
      continue;
    }
    module_use[t.module] = {t.rep, *role};
    for (const auto& [name, type] : modules_of(t.rep, t.module))
      if (!claim(name)) return "name clash: " + name;
  }
  if (!n2 || !n3) return "the sum does not span [B, ., N, N, .]";
  if (p.has_out) {
    if (p.out.sizes.empty()) return "empty output";
    for (const auto& s : p.out.sizes)
      if (value(s) < 1 || value(s) > 1024) return "output size out of range";
    for (const auto& [name, type] : modules_of(p.out, p.out_module))
      if (!claim(name)) return "name clash: " + name;
  }
  if (uses_rep && p.style.kind == Style::none) return "rep_fn without a style";
  return "";
}

bool valid(const Program& p) { return problem(p).empty(); }

std::int64_t count_params(const Program& p) {
  std::set<std::string> seen;
  std::int64_t n = 0;
  for (const auto& t : p.terms) {
    if (!seen.insert(t.module).second) continue;
    const Role role = *role_of(p, t.input);
    const std::int64_t in = role == Role::node ? kNodeWidth : role == Role::edge ? kEdgeWidth : kGraphWidth;
    n += rep_params(t.rep, in, p.style);
  }
  if (p.has_out) n += rep_params(p.out, value(program_width(p)), p.style);
  return n;
}

// ---------------------------------------------------------------- printing
std::string call_text(const Rep& r, const std::string& module, const std::string& x) {
  const std::string m = module + ", \"" + module + "\", ";
  switch (r.kind) {
    case Rep::linear: return "linear(" + m + x + ", " + show(r.sizes[0]) + ")";
    case Rep::mlp: {
      std::string s;
      for (std::size_t i = 0; i < r.sizes.size(); ++i) s += (i ? ", " : "") + show(r.sizes[i]);
      return "mlp(" + m + x + ", {" + s + "})";
    }
    case Rep::rep:
      return "rep_fn(" + module + "_a, " + module + "_b, \"" + module + "\", " + x + ", " + show(r.sizes[0]) + ")";
  }
  return x;
}

// Module declarations, one statement per run of same-typed modules of one
// role (graph and output share one, as in the seeds), wrapped at 120 columns.
std::string declarations(const Program& p) {
  struct Decl {
    std::string name;
    const char* type;
    int group;
  };
  std::vector<Decl> decls;
  std::set<std::string> seen;
  auto add = [&](const Rep& r, const std::string& module, int group) {
    for (const auto& [name, type] : modules_of(r, module))
      if (seen.insert(name).second) decls.push_back({name, type, group});
  };
  for (const auto& t : p.terms) add(t.rep, t.module, static_cast<int>(*role_of(p, t.input)));
  if (p.has_out) add(p.out, p.out_module, static_cast<int>(Role::graph));
  std::string out;
  for (std::size_t i = 0; i < decls.size();) {
    std::string line = std::string("  torch::nn::") + decls[i].type + " ";
    std::size_t j = i;
    for (; j < decls.size() && decls[j].group == decls[i].group && decls[j].type == decls[i].type; ++j) {
      const std::string item = decls[j].name + "{nullptr}";
      const std::size_t last_line = line.rfind('\n') == std::string::npos ? 0 : line.rfind('\n') + 1;
      if (j > i && line.size() - last_line + 2 + item.size() + 1 > 120) line += ",\n      " + item;
      else line += (j > i ? ", " : "") + item;
    }
    out += line + ";\n";
    i = j;
  }
  return out;
}

std::string print_triplet(const Program& p) {
  bool uses_linear = p.has_out && p.out.kind == Rep::linear, uses_mlp = p.has_out && p.out.kind != Rep::linear,
       uses_rep = p.has_out && p.out.kind == Rep::rep;
  for (const auto& t : p.terms) {
    uses_linear = uses_linear || t.rep.kind == Rep::linear;
    uses_mlp = uses_mlp || t.rep.kind != Rep::linear;
    uses_rep = uses_rep || t.rep.kind == Rep::rep;
  }
  std::string out = "\n  int64_t nb_triplet_fts, out_size;\n" + declarations(p) +
                    "\n  Triplet(int64_t nb_triplet_fts, int64_t out_size) : nb_triplet_fts(nb_triplet_fts), "
                    "out_size(out_size) {}\n";
  if (uses_linear) out += std::string("\n") + kLinearHelper;
  if (uses_mlp) out += std::string("\n") + kMlpHelper;
  if (uses_rep) out += "\n" + rep_helper(p.style);
  out += "\n  torch::Tensor forward(torch::Tensor z, torch::Tensor edge_fts, torch::Tensor graph_fts) {\n";
  for (const auto& pre : p.preamble) {
    const bool used =
        std::any_of(p.terms.begin(), p.terms.end(), [&](const Term& t) { return t.input == pre.name; });
    if (used) out += "    auto " + pre.name + " = " + pre.rhs + ";\n";
  }
  const std::string w = symbol(program_width(p));
  std::string sum, spans = "B111W";
  for (const auto& t : p.terms) {
    const std::string shape = term_shape(t, *role_of(p, t.input));
    std::string e = call_text(t.rep, t.module, t.input);
    for (int d : t.unsqueeze) e += ".unsqueeze(" + std::to_string(d) + ")";
    out += "    auto " + t.var + " = " + e + ";  // " + shape_comment(shape, w) + "\n";
    sum += (sum.empty() ? "" : " + ") + t.var;
    for (int a = 1; a < 4; ++a)
      if (shape[static_cast<std::size_t>(a)] == 'N') spans[static_cast<std::size_t>(a)] = 'N';
  }
  out += "    auto triplets = " + sum + ";  // " + shape_comment(spans, w) + "\n";
  for (const auto& op : p.tri_ops) out += "    triplets = " + op_text(op, "triplets") + ";\n";
  std::string e = reduction_text(p.reduction, "triplets");
  for (const auto& op : p.post_ops) e = op_text(op, e);
  if (p.has_out) e = call_text(p.out, p.out_module, e);
  const std::string f = p.has_out ? symbol(width_of(p.out, p.style)) : w;
  out += "    return " + e + ";  // " + shape_comment("BNNW", f) + "\n  }\n};\n";
  return out;
}

// ---------------------------------------------------------------- edits
struct Context {
  Rng& rng;
  const Program* other = nullptr;  // the other parent, when it differs
};

std::set<std::string> taken_names(const Program& p) {
  std::set<std::string> s;
  for (const auto& pre : p.preamble) s.insert(pre.name);
  for (const auto& t : p.terms) {
    s.insert(t.var);
    for (const auto& m : modules_of(t.rep, t.module)) s.insert(m.first);
    s.insert(t.module);
  }
  if (p.has_out)
    for (const auto& m : modules_of(p.out, p.out_module)) s.insert(m.first);
  s.insert(p.out_module);
  return s;
}

// The first stem + k (k = 1, 2, ...) such that every prefix + stem + k is
// free, and its rep_fn members (_a, _b) too.
std::string fresh(const std::set<std::string>& taken, const std::string& stem,
                  const std::vector<std::string>& prefixes = {""}) {
  for (int k = 1;; ++k) {
    const std::string name = stem + std::to_string(k);
    bool free = true;
    for (const auto& pre : prefixes)
      for (const char* post : {"", "_a", "_b"}) free = free && !taken.count(pre + name + post);
    if (free) return name;
  }
}

std::optional<Edit> edit_reduction(Program& p, Context& c) {
  std::vector<Reduction> options;
  for (auto r : kReductions)
    if (r != p.reduction) options.push_back(r);
  const Reduction to = c.rng.pick(options);
  const std::string detail = std::string(reduction_name(p.reduction)) + "->" + reduction_name(to);
  p.reduction = to;
  return Edit{EditKind::reduction, detail};
}

// Insert, remove or swap an element-wise op in `ops` (at most two).
std::optional<Edit> edit_ops(std::vector<ElemOp>& ops, const std::string& where, Context& c) {
  enum { insert, remove, swap };
  std::vector<int> moves;
  if (ops.size() < 2) moves.push_back(insert);
  if (!ops.empty()) {
    moves.push_back(remove);
    moves.push_back(swap);
  }
  const int move = c.rng.pick(moves);
  if (move == remove) {
    const std::size_t i = static_cast<std::size_t>(c.rng.uniform(0, static_cast<int>(ops.size()) - 1));
    const std::string name = op_name(ops[i]);
    ops.erase(ops.begin() + static_cast<std::ptrdiff_t>(i));
    return Edit{EditKind::activation, where + " -" + name};
  }
  const ElemOp op = c.rng.pick(kOpsWritten);
  if (move == insert) {
    if (!ops.empty() && ops.back() == op) return std::nullopt;
    ops.push_back(op);
    return Edit{EditKind::activation, where + " +" + op_name(op)};
  }
  const std::size_t i = static_cast<std::size_t>(c.rng.uniform(0, static_cast<int>(ops.size()) - 1));
  if (ops[i] == op) return std::nullopt;
  const std::string from = op_name(ops[i]);
  ops[i] = op;
  return Edit{EditKind::activation, where + " " + from + "->" + op_name(op)};
}

std::optional<Edit> edit_triplet_ops(Program& p, Context& c) { return edit_ops(p.tri_ops, "triplets", c); }
std::optional<Edit> edit_post_ops(Program& p, Context& c) { return edit_ops(p.post_ops, "reduced", c); }

std::optional<Edit> edit_remove_term(Program& p, Context& c) {
  if (p.terms.size() < 2) return std::nullopt;
  const std::size_t i = static_cast<std::size_t>(c.rng.uniform(0, static_cast<int>(p.terms.size()) - 1));
  const std::string var = p.terms[i].var;
  p.terms.erase(p.terms.begin() + static_cast<std::ptrdiff_t>(i));
  return Edit{EditKind::remove, var};
}

// The standard terms of v1 (Ibarz et al.): three node, three edge, one graph.
struct Standard {
  Role role;
  const char* suffix;
  std::vector<int> unsqueeze;
};

const std::vector<Standard>& standard_terms() {
  static const std::vector<Standard> s = {
      {Role::node, "1", {2, 3}},   {Role::node, "2", {1, 3}},   {Role::node, "3", {1, 2}},
      {Role::edge, "e_1", {3}},    {Role::edge, "e_2", {2}},    {Role::edge, "e_3", {1}},
      {Role::graph, "g", {1, 1, 1}},
  };
  return s;
}

// Restores one of v1's terms the program lacks (by role and broadcast).
std::optional<Edit> edit_add_term(Program& p, Context& c) {
  std::vector<const Standard*> missing;
  for (const auto& s : standard_terms()) {
    Term probe;
    probe.unsqueeze = s.unsqueeze;
    const std::string want = term_shape(probe, s.role);
    bool have = false;
    for (const auto& t : p.terms) {
      const auto role = role_of(p, t.input);
      have = have || (role == s.role && term_shape(t, *role) == want);
    }
    if (!have) missing.push_back(&s);
  }
  if (missing.empty()) return std::nullopt;
  const Standard& s = *c.rng.pick(missing);
  // The layers of a term of the same role, else of the first term.
  const Term* like = &p.terms.front();
  for (const auto& t : p.terms)
    if (role_of(p, t.input) == s.role) {
      like = &t;
      break;
    }
  Term t;
  t.rep = like->rep;
  t.input = role_of(p, like->input) == s.role ? like->input : input_of(s.role);
  t.unsqueeze = s.unsqueeze;
  const auto taken = taken_names(p);
  t.var = std::string("tri_") + s.suffix;
  t.module = std::string("t_") + s.suffix;
  if (taken.count(t.var) || taken.count(t.module) || taken.count(t.module + "_a")) {
    const std::string suffix = fresh(taken, std::string(s.suffix) + "_", {"tri_", "t_"});
    t.var = "tri_" + suffix;
    t.module = "t_" + suffix;
  }
  // After the last term of the same or an earlier role (node, edge, graph).
  std::size_t at = 0;
  for (std::size_t i = 0; i < p.terms.size(); ++i)
    if (static_cast<int>(*role_of(p, p.terms[i].input)) <= static_cast<int>(s.role)) at = i + 1;
  p.terms.insert(p.terms.begin() + static_cast<std::ptrdiff_t>(at), t);
  return Edit{EditKind::add, t.var + " (" + role_name(s.role) + ")"};
}

// Sets a representation's output width, keeping its kind.
void set_width(Rep& r, const Size& w, const Style& style) {
  if (r.kind == Rep::rep) r.sizes.front() = style.kind == Style::concat ? scaled(w, 1, 2) : w;
  else r.sizes.back() = w;
}

std::optional<Edit> edit_width(Program& p, Context& c) {
  const bool up = c.rng.chance(0.5);
  const int num = up ? 2 : 1, den = up ? 1 : 2;
  const int choice = c.rng.uniform(0, 2);
  if (choice == 0) {  // the triplet width, every term together
    const Size from = program_width(p), to = scaled(from, num, den);
    for (auto& t : p.terms) set_width(t.rep, to, p.style);
    return Edit{EditKind::width, "triplets " + show(from) + "->" + show(to)};
  }
  if (choice == 1) {  // the hidden width of one group's MLPs (the output's too)
    std::vector<int> groups;  // roles, 3 = the output
    for (const auto& t : p.terms)
      if (t.rep.kind == Rep::mlp && t.rep.sizes.size() >= 2) groups.push_back(static_cast<int>(*role_of(p, t.input)));
    if (p.has_out && p.out.kind == Rep::mlp && p.out.sizes.size() >= 2) groups.push_back(3);
    if (groups.empty()) return std::nullopt;
    const int g = c.rng.pick(groups);
    std::optional<Size> from;
    auto widen = [&](Rep& r) {
      if (r.kind != Rep::mlp || r.sizes.size() < 2) return;
      if (!from) from = r.sizes.front();
      r.sizes.front() = scaled(r.sizes.front(), num, den);
    };
    if (g == 3) widen(p.out);
    else
      for (auto& t : p.terms)
        if (static_cast<int>(*role_of(p, t.input)) == g) widen(t.rep);
    const std::string where = g == 3 ? "output" : role_name(static_cast<Role>(g));
    return Edit{EditKind::width, where + " hidden " + show(*from) + "->" + show(scaled(*from, num, den))};
  }
  if (p.style.kind == Style::none) return std::nullopt;  // rep_fn's hidden factor
  const int from = p.style.factor, to = up ? from * 2 : from / 2;
  if (to < 2 || to > 16) return std::nullopt;
  p.style.factor = to;
  return Edit{EditKind::width, "rep_fn hidden " + std::to_string(from) + "*size->" + std::to_string(to) + "*size"};
}

// The layers of one term group (node, edge or graph) or of the output.
std::optional<Edit> edit_representation(Program& p, Context& c) {
  std::vector<int> groups;  // roles present, 3 = the output
  for (const auto& t : p.terms) {
    const int g = static_cast<int>(*role_of(p, t.input));
    if (std::find(groups.begin(), groups.end(), g) == groups.end()) groups.push_back(g);
  }
  groups.push_back(3);
  const int g = c.rng.pick(groups);
  if (g == 3) {
    const Size out{"out_size", 1, 1};
    if (!p.has_out) {
      p.has_out = true;
      p.out = Rep{Rep::linear, {out}};
      p.out_module = "o3";  // a clash with a term's module fails the check
      return Edit{EditKind::representation, "output none->linear"};
    }
    std::vector<Rep> options = {Rep{Rep::linear, {out}}, Rep{Rep::mlp, {out, out}}};
    // v9's output; a concatenating rep_fn would make it 2 * out_size wide.
    if (p.style.kind == Style::product) options.push_back(Rep{Rep::rep, {out}});
    options.erase(std::remove(options.begin(), options.end(), p.out), options.end());
    const Rep to = c.rng.pick(options);
    const std::string detail = std::string("output ") + rep_name(p.out) + "->" + rep_name(to);
    p.out = to;
    return Edit{EditKind::representation, detail};
  }
  const Role role = static_cast<Role>(g);
  const Size w = program_width(p);
  Rep current;
  for (const auto& t : p.terms)
    if (role_of(p, t.input) == role) {
      current = t.rep;
      break;
    }
  std::vector<Rep> options;
  for (auto kind : {Rep::linear, Rep::mlp, Rep::rep}) {
    const int layers = kind == Rep::mlp && current.kind == Rep::mlp && current.sizes.size() == 2 ? 1 : 2;
    const Rep r = rep_with_width(kind, layers, w, p.style);
    if (!(r == current)) options.push_back(r);
  }
  Rep to = c.rng.pick(options);
  if (to.kind == Rep::rep && p.style.kind == Style::none) {
    p.style = Style{Style::product, 8};  // v9's rep_fn
    to.sizes = {w};
  }
  for (auto& t : p.terms)
    if (role_of(p, t.input) == role) t.rep = to;
  return Edit{EditKind::representation, std::string(role_name(role)) + " " + rep_name(current) + "->" + rep_name(to)};
}

// Takes a component of the other parent: the whole post-processing
// (element-wise ops, reduction, output), or one role's terms.
std::optional<Edit> edit_crossover(Program& p, Context& c) {
  if (!c.other) return std::nullopt;
  const Program& o = *c.other;
  auto uses_rep = [](const Program& q, bool terms, bool out) {
    bool u = out && q.has_out && q.out.kind == Rep::rep;
    if (terms)
      for (const auto& t : q.terms) u = u || t.rep.kind == Rep::rep;
    return u;
  };
  if (c.rng.chance(0.4)) {
    if (uses_rep(o, false, true) && !(o.style == p.style)) {
      if (uses_rep(p, true, false)) return std::nullopt;  // one rep_fn per program
      p.style = o.style;
    }
    p.tri_ops = o.tri_ops;
    p.reduction = o.reduction;
    p.post_ops = o.post_ops;
    p.has_out = o.has_out;
    p.out = o.out;
    p.out_module = o.out_module;
    for (const auto& t : p.terms)
      for (const auto& m : modules_of(t.rep, t.module))
        if (p.has_out && (m.first == p.out_module || m.first.rfind(p.out_module + "_", 0) == 0)) p.out_module = "out";
    return Edit{EditKind::crossover, "reduction and output of the other parent"};
  }
  std::vector<Role> roles;
  for (const auto& t : o.terms) {
    const Role r = *role_of(o, t.input);
    if (std::find(roles.begin(), roles.end(), r) == roles.end()) roles.push_back(r);
  }
  const Role role = c.rng.pick(roles);
  std::vector<Term> incoming;
  for (const auto& t : o.terms)
    if (role_of(o, t.input) == role) incoming.push_back(t);
  const bool rest_uses_rep = [&] {
    for (const auto& t : p.terms)
      if (role_of(p, t.input) != role && t.rep.kind == Rep::rep) return true;
    return p.has_out && p.out.kind == Rep::rep;
  }();
  bool in_rep = false;
  for (const auto& t : incoming) in_rep = in_rep || t.rep.kind == Rep::rep;
  if (in_rep && !(o.style == p.style)) {
    if (rest_uses_rep) return std::nullopt;
    p.style = o.style;
  }
  // The child's other terms stay, and with them its width; the incoming
  // terms take the place of the replaced ones (else follow earlier roles).
  std::vector<Term> kept;
  std::optional<std::size_t> at;
  for (const auto& t : p.terms) {
    if (role_of(p, t.input) != role) kept.push_back(t);
    else if (!at) at = kept.size();
  }
  std::optional<Size> width;
  if (!kept.empty()) width = program_width(p);
  if (!at) {
    at = 0;
    for (std::size_t i = 0; i < kept.size(); ++i)
      if (static_cast<int>(*role_of(p, kept[i].input)) <= static_cast<int>(role)) at = i + 1;
  }
  p.terms = kept;
  std::set<std::string> taken = taken_names(p);
  for (auto& t : incoming) {
    if (width) set_width(t.rep, *width, p.style);
    // Its preamble input (e.g. DIV2MEAN's half_z) comes along.
    if (!input_role(t.input)) {
      const Preamble* pre = nullptr;
      for (const auto& q : o.preamble)
        if (q.name == t.input) pre = &q;
      const Preamble* mine = nullptr;
      for (const auto& q : p.preamble)
        if (q.name == t.input) mine = &q;
      if (mine && mine->rhs != pre->rhs) return std::nullopt;
      if (!mine) {
        p.preamble.push_back(*pre);
        taken.insert(pre->name);
      }
    }
  }
  // Rename incoming terms and modules that clash with the child's, keeping
  // shared modules shared.
  std::map<std::string, std::string> module_names;
  for (auto& t : incoming) {
    if (taken.count(t.var)) t.var = fresh(taken, t.var + "_x");
    taken.insert(t.var);
    if (!module_names.count(t.module)) {
      std::string name = t.module;
      if (taken.count(name) || taken.count(name + "_a") || taken.count(name + "_b")) name = fresh(taken, name + "_x");
      module_names[t.module] = name;
      for (const auto& m : modules_of(t.rep, name)) taken.insert(m.first);
      taken.insert(name);
    }
    t.module = module_names[t.module];
  }
  p.terms.insert(p.terms.begin() + static_cast<std::ptrdiff_t>(*at), incoming.begin(), incoming.end());
  return Edit{EditKind::crossover, std::string(role_name(role)) + " terms of the other parent"};
}

using EditFn = std::optional<Edit> (*)(Program&, Context&);

struct EditChoice {
  EditFn fn;
  double weight;
};

const std::vector<EditChoice>& mutations() {
  static const std::vector<EditChoice> m = {
      {edit_reduction, 1.5},   {edit_triplet_ops, 1.2}, {edit_post_ops, 0.6},       {edit_remove_term, 0.8},
      {edit_add_term, 0.8},    {edit_width, 1.0},       {edit_representation, 1.0},
  };
  return m;
}

// ---------------------------------------------------------------- text fallback
// For Triplet parents outside the idiom (e.g. v8, or an LM's child): one
// shape-preserving edit of the text: a reduction over axis 1, an element-wise
// function, or a hidden layer of an `mlp(..., {sizes})` call.
MutationResult text_fallback(const std::string& code, Rng& rng, const std::set<std::string>& avoid) {
  MutationResult r;
  std::smatch m;
  if (!std::regex_search(code, m, triplet_opening())) return r;
  const std::string tail = code.substr(static_cast<std::size_t>(m.position() + m.length()));
  std::vector<TextSite> sites;
  static const std::regex reduction(R"(std::get<0>\((\w+)\.(max|min)\(1\)\)|\b(\w+)\.(mean|sum)\(1\))");
  for (auto it = std::sregex_iterator(tail.begin(), tail.end(), reduction); it != std::sregex_iterator(); ++it) {
    const std::string t = (*it)[1].matched ? (*it)[1].str() : (*it)[3].str();
    std::vector<std::string> to;
    for (const char* f : {"std::get<0>(T.max(1))", "std::get<0>(T.min(1))", "T.mean(1)", "T.sum(1)"})
      to.push_back(std::regex_replace(std::string(f), std::regex("T"), t));
    sites.push_back({static_cast<std::size_t>(it->position()), static_cast<std::size_t>(it->length()), to});
  }
  static const std::regex act(R"(torch::(relu|gelu|tanh|sigmoid|elu|silu)\()");
  for (auto it = std::sregex_iterator(tail.begin(), tail.end(), act); it != std::sregex_iterator(); ++it) {
    std::vector<std::string> to;
    for (const char* f : {"relu", "gelu", "tanh", "sigmoid", "elu", "silu"}) to.push_back(std::string("torch::") + f + "(");
    sites.push_back({static_cast<std::size_t>(it->position()), static_cast<std::size_t>(it->length()), to});
  }
  // `mlp(a, "a", x, {s})` -> `{s, s}` (a hidden layer) and `{h, s}` -> `{s}`.
  static const std::regex sizes(R"(\bmlp\([^;{}]*,\s*\{([^{}]+)\}\))");
  for (auto it = std::sregex_iterator(tail.begin(), tail.end(), sizes); it != std::sregex_iterator(); ++it) {
    const std::string list = (*it)[1].str();
    const std::size_t comma = list.rfind(',');
    const std::string last = list.substr(comma == std::string::npos ? 0 : comma + 1);
    const std::string trimmed = last.substr(last.find_first_not_of(' '));
    std::vector<std::string> to = {list + ", " + trimmed};
    if (comma != std::string::npos) to.push_back(trimmed);
    sites.push_back({static_cast<std::size_t>(it->position(1)), static_cast<std::size_t>(it->length(1)), to});
  }
  return rewrite_one_site(tail, sites, rng, 24, avoid);
}

}  // namespace

bool is_triplet_program(const std::string& code) { return std::regex_search(code, triplet_opening()); }

std::string canonical_triplet(const std::string& code) {
  const auto p = parse_triplet(code);
  return p && valid(*p) ? print_triplet(*p) : std::string();
}

std::int64_t triplet_params(const std::string& code) {
  const auto p = parse_triplet(code);
  return p && valid(*p) ? count_params(*p) : -1;
}

MutationResult make_triplet_child(const std::vector<PromptExample>& parents, double temperature,
                                  std::uint64_t stream, const std::set<std::string>& avoid) {
  Rng rng(stream);
  std::vector<std::size_t> triplets;  // parents that define struct Triplet
  std::vector<Program> parsed;
  std::vector<std::int64_t> sizes;
  for (std::size_t i = 0; i < parents.size(); ++i) {
    if (!is_triplet_program(parents[i].code)) continue;
    triplets.push_back(i);
    auto p = parse_triplet(parents[i].code);
    if (p && valid(*p)) {
      parsed.push_back(std::move(*p));
      sizes.push_back(count_params(parsed.back()));
    }
  }
  if (triplets.empty()) return MutationResult{};
  if (parsed.empty()) return text_fallback(parents[rng.pick(triplets)].code, rng, avoid);

  std::vector<std::string> texts;
  for (const auto& p : parsed) texts.push_back(print_triplet(p));
  const std::set<std::string> parent_texts(texts.begin(), texts.end());
  const std::int64_t cap = param_cap(sizes, 100000, 1000000);
  std::vector<double> weights;
  for (const auto& m : mutations()) weights.push_back(m.weight);

  for (int attempt = 0; attempt < 40; ++attempt) {
    const std::size_t ai = static_cast<std::size_t>(rng.uniform(0, static_cast<int>(parsed.size()) - 1));
    Program child = parsed[ai];
    std::vector<std::size_t> others;
    for (std::size_t i = 0; i < parsed.size(); ++i)
      if (texts[i] != texts[ai]) others.push_back(i);
    Context ctx{rng, others.empty() ? nullptr : &parsed[rng.pick(others)]};

    std::vector<Edit> edits;
    int n = edit_count(temperature, rng);
    auto try_edit = [&](EditFn fn) {
      Program trial = child;
      auto e = fn(trial, ctx);
      if (!e || !valid(trial) || count_params(trial) > cap || print_triplet(trial) == print_triplet(child))
        return false;
      child = std::move(trial);
      edits.push_back(*e);
      --n;
      return true;
    };
    if (ctx.other && rng.chance(0.45))
      for (int t = 0; t < 12 && !try_edit(edit_crossover); ++t) {
      }
    for (int t = 0; n > 0 && t < 30; ++t) {
      const EditFn fn = mutations()[rng.weighted(weights)].fn;
      // A second reduction swap would only overwrite the first.
      const bool swapped = std::any_of(edits.begin(), edits.end(), [](const Edit& e) { return e.kind == EditKind::reduction; });
      if (fn != edit_reduction || !swapped) try_edit(fn);
    }
    if (edits.empty()) continue;
    const std::string text = print_triplet(child);
    if (parent_texts.count(text) || avoid.count(text)) continue;
    MutationResult r;
    r.completion = text;
    r.edits = std::move(edits);
    r.structured = true;
    r.params = count_params(child);
    return r;
  }
  // Nothing new came out: fall back to the text-level edit of a parent.
  return text_fallback(parents[rng.pick(triplets)].code, rng, avoid);
}

}  // namespace evoprompt::codegen

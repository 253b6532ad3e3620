// The mutate operator: parse each parent into a straight-line list of ops
// (layers, activations, pools, reshapes, residual blocks), edit that list,
// re-derive every layer's input size from the shapes, and print the child.
#include "mutate_lm.hpp"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdio>
#include <map>
#include <optional>
#include <regex>
#include <stdexcept>

#include "cpp_expr.hpp"
#include "mutate_triplet.hpp"

namespace evoprompt::codegen {

const char* edit_kind_name(EditKind kind) {
  switch (kind) {
    case EditKind::width: return "width";
    case EditKind::kernel: return "kernel";
    case EditKind::stride: return "stride";
    case EditKind::padding: return "padding";
    case EditKind::add: return "add";
    case EditKind::remove: return "remove";
    case EditKind::duplicate: return "duplicate";
    case EditKind::activation: return "activation";
    case EditKind::crossover: return "crossover";
    case EditKind::fallback: return "fallback";
    case EditKind::reduction: return "reduction";
    case EditKind::representation: return "representation";
  }
  return "?";
}

namespace {

// ---------------------------------------------------------------- randomness
using mutate_detail::edit_count;
using mutate_detail::param_cap;
using mutate_detail::rewrite_one_site;
using mutate_detail::TextSite;
using mutate_detail::Rng;
using mutate_detail::splitmix;

std::uint64_t mix(std::uint64_t a, std::uint64_t b) {
  std::uint64_t s = a ^ (b * 0xD6E8FEB86659FD93ULL + 0x632BE59BD9B4E019ULL);
  return splitmix(s);
}

std::uint64_t fnv1a(const std::string& s) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ULL;
  return h;
}

// ---------------------------------------------------------------- the graph
enum class LayerType { conv, linear, gru, lstm, rnn, batchnorm, dropout };

struct Layer {
  std::string name;
  LayerType type = LayerType::linear;
  int dims = 1;         // conv, batchnorm: 1 (Conv1d, BatchNorm1d) or 2 (Conv2d, BatchNorm2d)
  int in = 0, out = 0;  // channels, features or hidden size
  int kernel = 1, stride = 1, pad = 0, dilation = 1;
  bool same = false;  // padding(torch::kSame)
  bool bias = true;
  bool bidirectional = false;
  int num_layers = 1;
  bool frozen = false;  // requires_grad_(false) on its parameters
  std::string dropout_p = "0.5";
};

enum class OpType { layer, act, pool, unsqueeze, flatten, transpose, mean, residual };

struct Op {
  OpType type = OpType::act;
  Layer layer;            // OpType::layer
  std::string name;       // activation name, or "avg"/"max" for pools
  int k = 2, s = 2, p = 0;  // pools
  int dims = 1;           // pools: 1 ([B, C, L]) or 2 ([B, C, H, W])
  int dim = 1;            // unsqueeze / mean
  std::vector<Op> body;   // residual: x = x + body(x)
};

using Ops = std::vector<Op>;

bool has_conv(const Ops& ops) {
  for (const auto& op : ops)
    if ((op.type == OpType::layer && op.layer.type == LayerType::conv) ||
        (op.type == OpType::residual && has_conv(op.body)))
      return true;
  return false;
}

const std::vector<std::string> kActivations = {"relu", "gelu", "tanh", "sigmoid", "elu", "silu"};

bool is_rnn(LayerType t) { return t == LayerType::gru || t == LayerType::lstm || t == LayerType::rnn; }



// [B, F] (flat), [B, C, L] (chan, what Conv1d takes), [B, L, F] (seq,
// batch-first, what the recurrent layers take), [B, C, H, W] (image, what
// Conv2d takes), or an input of any other rank (other: c values a sample,
// which only flatten(1) takes).
struct Shape {
  enum Kind { flat, chan, seq, image, other } kind = flat;
  int c = 40;  // features / channels
  int l = 1;   // length (chan, seq), height (image)
  int w = 1;   // width (image)
  bool operator==(const Shape& o) const {
    return kind == o.kind && c == o.c && (kind == flat || kind == other || l == o.l) && (kind != image || w == o.w);
  }
};

std::string shape_comment(const Shape& s) {
  if (s.kind == Shape::flat) return "[B, " + std::to_string(s.c) + "]";
  if (s.kind == Shape::chan) return "[B, " + std::to_string(s.c) + ", " + std::to_string(s.l) + "]";
  if (s.kind == Shape::image)
    return "[B, " + std::to_string(s.c) + ", " + std::to_string(s.l) + ", " + std::to_string(s.w) + "]";
  if (s.kind == Shape::other) return "[B, ...]";
  return "[B, " + std::to_string(s.l) + ", " + std::to_string(s.c) + "]";
}

// What the task feeds and expects: without a task header, MNIST-1D's
// [B, 40] -> [B, 10].
struct Io {
  Shape input;
  int classes = 10;
  bool header = false;
  Shape output() const { return Shape{Shape::flat, classes, 1}; }
};

// A header's shape read as the operator's kinds. Sizes it cannot hold make an
// input nothing takes, so such parents get the text-level edit.
Io io_of(const std::optional<TaskHeader>& header) {
  Io io;
  if (!header) return io;
  io.header = true;
  const auto& d = header->input_shape;
  std::int64_t n = 1;
  bool fits = header->classes >= 1 && header->classes <= INT_MAX && !d.empty();
  for (auto v : d) {
    if (v < 1 || v > INT_MAX || n > INT_MAX / v) fits = false;
    else n *= v;
  }
  io.classes = fits ? static_cast<int>(header->classes) : 0;
  if (!fits) io.input = {Shape::other, 0, 1};
  else if (d.size() == 1) io.input = {Shape::flat, static_cast<int>(d[0]), 1};
  else if (d.size() == 2) io.input = {Shape::chan, static_cast<int>(d[0]), static_cast<int>(d[1])};
  else if (d.size() == 3)
    io.input = {Shape::image, static_cast<int>(d[0]), static_cast<int>(d[1]), static_cast<int>(d[2])};
  else io.input = {Shape::other, static_cast<int>(n), 1};
  return io;
}

Layer* last_sized_layer(Ops& ops) {
  for (auto it = ops.rbegin(); it != ops.rend(); ++it)
    if (it->type == OpType::layer && (it->layer.type == LayerType::conv || it->layer.type == LayerType::linear ||
                                      is_rnn(it->layer.type)))
      return &it->layer;
  return nullptr;
}

constexpr std::int64_t kBig = std::int64_t(1) << 40;

// Sets each layer's input size from the incoming shape and walks the shape
// forward; false when some op cannot take the shape it gets.
bool derive(Ops& ops, Shape& s, std::int64_t& params) {
  for (auto& op : ops) {
    switch (op.type) {
      case OpType::layer: {
        Layer& y = op.layer;
        switch (y.type) {
          case LayerType::conv: {
            if (s.kind != (y.dims == 2 ? Shape::image : Shape::chan) || y.kernel < 1 || y.stride < 1 || y.pad < 0)
              return false;
            y.in = s.c;
            if (y.same) {
              if (y.stride != 1) return false;
            } else {
              // Square kernels, strides and paddings: H and W go the same way.
              const auto out_len = [&](int& len) {
                const int span = len + 2 * y.pad - y.dilation * (y.kernel - 1) - 1;
                if (span < 0) return false;
                len = span / y.stride + 1;
                return true;
              };
              if (!out_len(s.l) || (y.dims == 2 && !out_len(s.w))) return false;
            }
            s.c = y.out;
            params += std::int64_t(y.in) * y.out * y.kernel * (y.dims == 2 ? y.kernel : 1) + (y.bias ? y.out : 0);
            break;
          }
          case LayerType::linear:
            if (s.kind != Shape::flat) return false;
            y.in = s.c;
            s.c = y.out;
            params += std::int64_t(y.in) * y.out + (y.bias ? y.out : 0);
            break;
          case LayerType::gru:
          case LayerType::lstm:
          case LayerType::rnn: {
            if (s.kind != Shape::seq) return false;
            y.in = s.c;
            const int gates = y.type == LayerType::gru ? 3 : y.type == LayerType::lstm ? 4 : 1;
            const int dirs = y.bidirectional ? 2 : 1;
            std::int64_t n = 0;
            for (int l = 0; l < y.num_layers; ++l) {
              const std::int64_t in = l == 0 ? y.in : std::int64_t(y.out) * dirs;
              n += dirs * gates * (std::int64_t(y.out) * (in + y.out) + 2 * y.out);
            }
            if (!y.frozen) params += n;
            s.c = y.out * dirs;
            break;
          }
          case LayerType::batchnorm:
            if (y.dims == 2 ? s.kind != Shape::image : s.kind != Shape::flat && s.kind != Shape::chan) return false;
            y.in = y.out = s.c;
            params += 2 * std::int64_t(s.c);
            break;
          case LayerType::dropout:
            break;
        }
        if (s.c < 1 || s.l < 1 || s.w < 1) return false;
        break;
      }
      case OpType::act:
        break;
      case OpType::pool:
        if (s.kind != (op.dims == 2 ? Shape::image : Shape::chan) || op.k < 1 || op.s < 1 || op.p < 0 ||
            2 * op.p > op.k)
          return false;
        if (s.l + 2 * op.p < op.k || (op.dims == 2 && s.w + 2 * op.p < op.k)) return false;
        s.l = (s.l + 2 * op.p - op.k) / op.s + 1;
        if (op.dims == 2) s.w = (s.w + 2 * op.p - op.k) / op.s + 1;
        break;
      case OpType::unsqueeze:
        if (s.kind != Shape::flat) return false;
        if (op.dim == 1) s = {Shape::chan, 1, s.c};
        else s = {Shape::seq, 1, s.c};
        break;
      case OpType::flatten:
        if (s.kind == Shape::other) {
          if (s.c < 1) return false;
          s = {Shape::flat, s.c, 1};
        } else if (s.kind == Shape::image) {
          const std::int64_t n = std::int64_t(s.c) * s.l * s.w;
          if (n > INT_MAX) return false;
          s = {Shape::flat, static_cast<int>(n), 1};
        } else if (s.kind != Shape::flat) {
          s = {Shape::flat, s.c * s.l, 1};
        }
        break;
      case OpType::transpose:
        if (s.kind == Shape::chan) s.kind = Shape::seq;
        else if (s.kind == Shape::seq) s.kind = Shape::chan;
        else return false;
        break;
      case OpType::mean: {
        if (s.kind != Shape::chan && s.kind != Shape::seq) return false;
        const bool over_last = op.dim == 2;
        // chan [B,C,L]: mean(2) leaves C; seq [B,L,F]: mean(1) leaves F.
        const bool keeps_c = (s.kind == Shape::chan) == over_last;
        s = {Shape::flat, keeps_c ? s.c : s.l, 1};
        break;
      }
      case OpType::residual: {
        const Shape in = s;
        Layer* last = last_sized_layer(op.body);
        if (!last || is_rnn(last->type)) return false;
        last->out = in.c;
        if (!derive(op.body, s, params)) return false;
        if (!(s == in)) return false;
        break;
      }
    }
    if (params > kBig) return false;
  }
  return true;
}

// ---------------------------------------------------------------- parsing
using cpp_expr::Node;
using cpp_expr::ParseError;

// Model parents keep the spelling they were always read in, so children do
// not change. Operators other than + and strings parse, but parse_layer and
// to_chain refuse them, as the Model idiom has none.
Node parse_expr(const std::string& s) {
  cpp_expr::Syntax syntax;
  syntax.minus_starts_number = true;
  syntax.verbatim_template = true;
  return cpp_expr::parse(s, syntax);
}

int as_int(const Node& n) {
  if (n.kind == Node::braces && n.args.size() == 1) return as_int(n.args[0]);
  // Sizes written as products, as in `Linear(32 * 3 * 3, 4)`.
  if (n.kind == Node::binop && n.text == "*" && n.args.size() == 2) {
    const long long v = static_cast<long long>(as_int(n.args[0])) * as_int(n.args[1]);
    if (v > INT_MAX || v < INT_MIN) throw ParseError{};
    return static_cast<int>(v);
  }
  if (n.kind != Node::num) throw ParseError{};
  std::size_t used = 0;
  const int v = std::stoi(n.text, &used);
  if (used != n.text.size()) throw ParseError{};
  return v;
}

// A 2-d size: one int, or `{a, a}` (the operator keeps kernels square).
int as_square(const Node& n) {
  if (n.kind == Node::braces && n.args.size() == 2) {
    const int a = as_int(n.args[0]);
    if (as_int(n.args[1]) != a) throw ParseError{};
    return a;
  }
  return as_int(n);
}

bool as_bool(const Node& n) {
  if (n.kind == Node::name && n.text == "true") return true;
  if (n.kind == Node::name && n.text == "false") return false;
  throw ParseError{};
}

std::string strip_ns(const std::string& name) {
  for (const char* ns : {"torch::nn::functional::", "torch::nn::", "torch::", "at::", "F::"})
    if (name.rfind(ns, 0) == 0) return name.substr(std::char_traits<char>::length(ns));
  return name;
}

bool is_activation(const std::string& name) {
  return std::find(kActivations.begin(), kActivations.end(), name) != kActivations.end();
}

// `torch::nn::Conv1d(torch::nn::Conv1dOptions(1, 25, 5).stride(2))` and friends.
Layer parse_layer(const std::string& var, const Node& ctor) {
  if (ctor.kind != Node::call) throw ParseError{};
  const std::string type = strip_ns(ctor.text);
  Layer y;
  y.name = var;
  // Either the options object (with its chained setters) or plain arguments.
  std::vector<Node> args = ctor.args;
  std::vector<std::pair<std::string, std::vector<Node>>> setters;
  if (args.size() == 1 && (args[0].kind == Node::method || args[0].kind == Node::call)) {
    const Node root = args[0];
    const Node* n = &root;
    while (n->kind == Node::method) {
      setters.emplace_back(n->text, std::vector<Node>(n->args.begin() + 1, n->args.end()));
      n = &n->args[0];
    }
    if (n->kind == Node::call && strip_ns(n->text) == type + "Options") {
      std::reverse(setters.begin(), setters.end());
      args = n->args;
    } else if (!setters.empty()) {
      throw ParseError{};
    }
  }
  auto one = [](const std::vector<Node>& a) -> const Node& {
    if (a.size() != 1) throw ParseError{};
    return a[0];
  };
  if (type == "Conv1d" || type == "Conv2d") {
    y.type = LayerType::conv;
    y.dims = type == "Conv2d" ? 2 : 1;
    const auto size = y.dims == 2 ? as_square : as_int;
    if (args.size() != 3) throw ParseError{};
    y.in = as_int(args[0]), y.out = as_int(args[1]), y.kernel = size(args[2]);
    for (const auto& [m, a] : setters) {
      if (m == "stride") y.stride = size(one(a));
      else if (m == "dilation") y.dilation = size(one(a));
      else if (m == "bias") y.bias = as_bool(one(a));
      else if (m == "padding") {
        const Node& p = one(a);
        if (p.kind == Node::name && strip_ns(p.text) == "kSame") y.same = true;
        else if (p.kind == Node::name && strip_ns(p.text) == "kValid") y.pad = 0;
        else y.pad = size(p);
      } else if (m == "groups" && as_int(one(a)) == 1) {
      } else {
        throw ParseError{};
      }
    }
  } else if (type == "Linear") {
    y.type = LayerType::linear;
    if (args.size() != 2) throw ParseError{};
    y.in = as_int(args[0]), y.out = as_int(args[1]);
    for (const auto& [m, a] : setters) {
      if (m == "bias") y.bias = as_bool(one(a));
      else throw ParseError{};
    }
  } else if (type == "GRU" || type == "LSTM" || type == "RNN") {
    y.type = type == "GRU" ? LayerType::gru : type == "LSTM" ? LayerType::lstm : LayerType::rnn;
    if (args.size() != 2) throw ParseError{};
    y.in = as_int(args[0]), y.out = as_int(args[1]);
    bool batch_first = false;
    for (const auto& [m, a] : setters) {
      if (m == "batch_first") batch_first = as_bool(one(a));
      else if (m == "bidirectional") y.bidirectional = as_bool(one(a));
      else if (m == "num_layers") y.num_layers = as_int(one(a));
      else throw ParseError{};
    }
    if (!batch_first || y.num_layers < 1) throw ParseError{};
  } else if (type == "BatchNorm1d" || type == "BatchNorm2d") {
    y.type = LayerType::batchnorm;
    y.dims = type == "BatchNorm2d" ? 2 : 1;
    if (args.size() != 1 || !setters.empty()) throw ParseError{};
    y.in = y.out = as_int(args[0]);
  } else if (type == "Dropout") {
    y.type = LayerType::dropout;
    if (args.size() > 1 || !setters.empty()) throw ParseError{};
    if (args.size() == 1) {
      if (args[0].kind != Node::num) throw ParseError{};
      y.dropout_p = args[0].text;
    }
  } else {
    throw ParseError{};
  }
  return y;
}

struct ParseContext {
  std::map<std::string, Layer> modules;
  std::map<std::string, bool> used;
};

// The ops an expression applies, innermost first, and the variable they start from.
void to_chain(const Node& n, ParseContext& ctx, std::string& base, Ops& ops) {
  auto apply_module = [&](const std::string& name, const Node& arg) {
    auto it = ctx.modules.find(name);
    if (it == ctx.modules.end() || ctx.used[name]) throw ParseError{};  // unknown, or weights shared
    to_chain(arg, ctx, base, ops);
    ctx.used[name] = true;
    Op op;
    op.type = OpType::layer;
    op.layer = it->second;
    if (is_rnn(op.layer.type)) throw ParseError{};  // only through std::get<0>(rnn->forward(..))
    ops.push_back(std::move(op));
  };
  switch (n.kind) {
    case Node::name:
      if (ctx.modules.count(n.text) || !base.empty()) throw ParseError{};
      base = n.text;
      return;
    case Node::call: {
      if (ctx.modules.count(n.text)) {
        if (n.args.size() != 1) throw ParseError{};
        apply_module(n.text, n.args[0]);
        return;
      }
      const std::string f = strip_ns(n.text);
      if (n.args.empty()) throw ParseError{};
      if (is_activation(f) && n.args.size() == 1) {
        to_chain(n.args[0], ctx, base, ops);
        Op op;
        op.type = OpType::act;
        op.name = f;
        ops.push_back(op);
        return;
      }
      if ((f == "avg_pool1d" || f == "max_pool1d" || f == "avg_pool2d" || f == "max_pool2d") && n.args.size() >= 2 &&
          n.args.size() <= 4) {
        to_chain(n.args[0], ctx, base, ops);
        Op op;
        op.type = OpType::pool;
        op.name = f.substr(0, 3);
        op.dims = f.compare(f.size() - 2, 2, "2d") == 0 ? 2 : 1;
        const auto size = op.dims == 2 ? as_square : as_int;
        op.k = size(n.args[1]);
        op.s = n.args.size() >= 3 ? size(n.args[2]) : op.k;
        op.p = n.args.size() >= 4 ? size(n.args[3]) : 0;
        ops.push_back(op);
        return;
      }
      if (f == "flatten" && n.args.size() == 2 && as_int(n.args[1]) == 1) {
        to_chain(n.args[0], ctx, base, ops);
        Op op;
        op.type = OpType::flatten;
        ops.push_back(op);
        return;
      }
      if (n.text == "std::get<0>" && n.args.size() == 1) {
        const Node& m = n.args[0];
        if (m.kind != Node::method || m.text != "forward" || m.args.size() != 2 || m.args[0].kind != Node::name)
          throw ParseError{};
        const std::string& name = m.args[0].text;
        auto it = ctx.modules.find(name);
        if (it == ctx.modules.end() || ctx.used[name] || !is_rnn(it->second.type)) throw ParseError{};
        to_chain(m.args[1], ctx, base, ops);
        ctx.used[name] = true;
        Op op;
        op.type = OpType::layer;
        op.layer = it->second;
        ops.push_back(op);
        return;
      }
      throw ParseError{};
    }
    case Node::method: {
      const Node& obj = n.args[0];
      const std::vector<Node> args(n.args.begin() + 1, n.args.end());
      if (obj.kind == Node::name && ctx.modules.count(obj.text)) {
        if (n.text != "forward" || args.size() != 1) throw ParseError{};
        apply_module(obj.text, args[0]);
        return;
      }
      to_chain(obj, ctx, base, ops);
      Op op;
      if (n.text == "unsqueeze" && args.size() == 1) {
        const int d = as_int(args[0]);
        if (d != 1 && d != 2 && d != -1) throw ParseError{};
        op.type = OpType::unsqueeze;
        op.dim = d == 1 ? 1 : 2;
      } else if (n.text == "flatten" && args.size() >= 1 && args.size() <= 2 && as_int(args[0]) == 1 &&
                 (args.size() == 1 || as_int(args[1]) == -1)) {
        op.type = OpType::flatten;
      } else if (n.text == "transpose" && args.size() == 2) {
        const int a = as_int(args[0]), b = as_int(args[1]);
        const auto norm = [](int d) { return d == -1 ? 2 : d; };
        if (!((norm(a) == 1 && norm(b) == 2) || (norm(a) == 2 && norm(b) == 1))) throw ParseError{};
        op.type = OpType::transpose;
      } else if (n.text == "mean" && args.size() == 1) {
        const int d = as_int(args[0]);
        if (d != 1 && d != 2 && d != -1) throw ParseError{};
        op.type = OpType::mean;
        op.dim = d == 1 ? 1 : 2;
      } else if (is_activation(n.text) && args.empty()) {
        op.type = OpType::act;
        op.name = n.text;
      } else {
        throw ParseError{};
      }
      ops.push_back(op);
      return;
    }
    default:
      throw ParseError{};
  }
}

}  // namespace

namespace mutate_detail {

MutationResult rewrite_one_site(const std::string& text, const std::vector<TextSite>& sites, Rng& rng, int attempts,
                                const std::set<std::string>& avoid) {
  MutationResult r;
  r.completion = text;
  if (sites.empty()) return r;
  for (int attempt = 0; attempt < attempts; ++attempt) {
    const TextSite& site = rng.pick(sites);
    const std::string from = text.substr(site.at, site.len);
    const std::string to = rng.pick(site.to);
    if (to == from) continue;
    std::string child = text;
    child.replace(site.at, site.len, to);
    if (avoid.count(child)) continue;
    r.completion = child;
    r.edits = {Edit{EditKind::fallback, from + "->" + to}};
    return r;
  }
  return r;
}

std::int64_t param_cap(const std::vector<std::int64_t>& parent_params, std::int64_t floor, std::int64_t ceiling) {
  std::int64_t top = 0;
  for (auto p : parent_params) top = std::max(top, p);
  return std::min<std::int64_t>(ceiling, std::max<std::int64_t>(floor, top + top / 2));
}

std::optional<std::string> struct_body(const std::string& code, const std::regex& opening) {
  const std::string text = strip_comments(code);
  std::smatch m;
  if (!std::regex_search(text, m, opening)) return std::nullopt;
  const std::size_t open = static_cast<std::size_t>(m.position() + m.length()) - 1;
  const std::size_t close = match_brace(text, open);
  if (close == std::string::npos) return std::nullopt;
  return text.substr(open + 1, close - open - 2);
}

std::string strip_comments(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size();) {
    if (s.compare(i, 2, "//") == 0) {
      i = s.find('\n', i);
      if (i == std::string::npos) break;
    } else if (s.compare(i, 2, "/*") == 0) {
      const std::size_t e = s.find("*/", i + 2);
      if (e == std::string::npos) break;
      out += ' ';
      i = e + 2;
    } else {
      out += s[i++];
    }
  }
  return out;
}

// Index one past the brace matching the one at `open`, or npos.
std::size_t match_brace(const std::string& s, std::size_t open) {
  int depth = 0;
  for (std::size_t i = open; i < s.size(); ++i) {
    if (s[i] == '{') ++depth;
    else if (s[i] == '}' && --depth == 0) return i + 1;
  }
  return std::string::npos;
}

// Statements at depth 0, split on ';' (and after a closing brace at depth 0).
std::vector<std::string> statements(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  int depth = 0;
  for (char c : s) {
    if (c == '(' || c == '{' || c == '[') ++depth;
    if (c == ')' || c == '}' || c == ']') --depth;
    if (c == ';' && depth == 0) {
      out.push_back(cur);
      cur.clear();
      continue;
    }
    cur += c;
    // A braced `for` body ends its statement without ';'.
    if (c == '}' && depth == 0 && cur.find_first_not_of(" \t\r\n") != std::string::npos &&
        cur.compare(cur.find_first_not_of(" \t\r\n"), 3, "for") == 0) {
      out.push_back(cur);
      cur.clear();
    }
  }
  if (cur.find_first_not_of(" \t\r\n") != std::string::npos) out.push_back(cur);
  out.erase(std::remove_if(out.begin(), out.end(),
                           [](const std::string& t) { return t.find_first_not_of(" \t\r\n") == std::string::npos; }),
            out.end());
  return out;
}

}  // namespace mutate_detail

namespace {

using mutate_detail::match_brace;
using mutate_detail::struct_body;
using mutate_detail::statements;
using mutate_detail::strip_comments;

const std::regex& opening_regex() {
  static const std::regex r(R"(struct\s+Model\s*:\s*(public\s+)?torch::nn::Module\s*\{)");
  return r;
}

// Parses one program; nullopt when it is outside what the operator understands.
std::optional<Ops> parse_program(const std::string& code, const Io& io) {
  try {
    const auto whole = struct_body(code, opening_regex());
    if (!whole) return std::nullopt;
    std::string body = *whole;

    static const std::regex ctor_head(R"(Model\s*\(\s*\)\s*\{)");
    static const std::regex fwd_head(R"(torch::Tensor\s+forward\s*\(\s*(const\s+)?torch::Tensor\s*&?\s*(\w+)\s*\)\s*\{)");
    std::smatch cm, fm;
    if (!std::regex_search(body, cm, ctor_head)) return std::nullopt;
    const std::size_t c_open = static_cast<std::size_t>(cm.position() + cm.length()) - 1;
    const std::size_t c_close = match_brace(body, c_open);
    if (c_close == std::string::npos) return std::nullopt;
    const std::string ctor_body = body.substr(c_open + 1, c_close - c_open - 2);
    body.replace(static_cast<std::size_t>(cm.position()), c_close - static_cast<std::size_t>(cm.position()), ";");

    if (!std::regex_search(body, fm, fwd_head)) return std::nullopt;
    const std::string param = fm[2].str();
    const std::size_t f_open = static_cast<std::size_t>(fm.position() + fm.length()) - 1;
    const std::size_t f_close = match_brace(body, f_open);
    if (f_close == std::string::npos) return std::nullopt;
    const std::string fwd_body = body.substr(f_open + 1, f_close - f_open - 2);
    body.replace(static_cast<std::size_t>(fm.position()), f_close - static_cast<std::size_t>(fm.position()), ";");

    // What is left must be module member declarations.
    static const std::regex decl(R"(\s*(public\s*:\s*)?torch::nn::\w+\s+\w+\s*\{\s*nullptr\s*\}(\s*,\s*\w+\s*\{\s*nullptr\s*\})*\s*)");
    for (const auto& st : statements(body))
      if (!std::regex_match(st, decl)) return std::nullopt;

    ParseContext ctx;
    std::vector<std::string> order;
    static const std::regex reg(R"(\s*(\w+)\s*=\s*register_module\s*\(\s*"\w+"\s*,([\s\S]*)\)\s*)");
    static const std::regex freeze(
        R"(\s*for\s*\(\s*auto\s*&\s*(\w+)\s*:\s*(\w+)\s*->\s*parameters\s*\(\s*\)\s*\)\s*\{?\s*\1\s*\.\s*requires_grad_\s*\(\s*false\s*\)\s*;?\s*\}?\s*)");
    for (const auto& st : statements(ctor_body)) {
      std::smatch rm;
      if (std::regex_match(st, rm, reg)) {
        const std::string var = rm[1].str();
        if (ctx.modules.count(var)) return std::nullopt;
        ctx.modules[var] = parse_layer(var, parse_expr(rm[2].str()));
        order.push_back(var);
      } else if (std::regex_match(st, rm, freeze)) {
        auto it = ctx.modules.find(rm[2].str());
        if (it == ctx.modules.end()) return std::nullopt;
        it->second.frozen = true;
      } else {
        return std::nullopt;
      }
    }

    Ops ops;
    std::string cur = param;
    bool returned = false;
    static const std::regex assign(R"(\s*(auto|torch::Tensor|at::Tensor)?\s*(\w+)\s*=([\s\S]*))");
    static const std::regex ret(R"(\s*return\b([\s\S]*))");
    for (const auto& st : statements(fwd_body)) {
      if (returned) return std::nullopt;
      std::smatch sm;
      std::string lhs, rhs;
      if (std::regex_match(st, sm, ret)) {
        rhs = sm[1].str();
        returned = true;
      } else if (std::regex_match(st, sm, assign)) {
        lhs = sm[2].str();
        rhs = sm[3].str();
      } else {
        return std::nullopt;
      }
      const Node e = parse_expr(rhs);
      if (e.kind == Node::binop && e.text == "+") {
        if (e.args.size() != 2) return std::nullopt;
        const int skip = e.args[0].kind == Node::name && e.args[0].text == cur ? 0
                         : e.args[1].kind == Node::name && e.args[1].text == cur ? 1
                                                                                 : -1;
        if (skip < 0) return std::nullopt;
        Op res;
        res.type = OpType::residual;
        std::string base;
        to_chain(e.args[1 - skip], ctx, base, res.body);
        if (base != cur || res.body.empty()) return std::nullopt;
        ops.push_back(std::move(res));
      } else {
        std::string base;
        to_chain(e, ctx, base, ops);
        if (base != cur) return std::nullopt;
      }
      if (!lhs.empty()) cur = lhs;
    }
    if (!returned || ops.empty()) return std::nullopt;
    // Layers that forward never reaches are dropped (they add nothing).
    Shape s = io.input;
    std::int64_t params = 0;
    if (!derive(ops, s, params) || !(s == io.output())) return std::nullopt;
    return ops;
  } catch (const ParseError&) {
    return std::nullopt;
  } catch (const std::logic_error&) {  // stoi
    return std::nullopt;
  }
}

// ---------------------------------------------------------------- printing
void collect_layers(const Ops& ops, std::vector<const Layer*>& out) {
  for (const auto& op : ops) {
    if (op.type == OpType::layer) out.push_back(&op.layer);
    if (op.type == OpType::residual) collect_layers(op.body, out);
  }
}

const char* type_name(const Layer& y) {
  switch (y.type) {
    case LayerType::conv: return y.dims == 2 ? "Conv2d" : "Conv1d";
    case LayerType::linear: return "Linear";
    case LayerType::gru: return "GRU";
    case LayerType::lstm: return "LSTM";
    case LayerType::rnn: return "RNN";
    case LayerType::batchnorm: return y.dims == 2 ? "BatchNorm2d" : "BatchNorm1d";
    case LayerType::dropout: return "Dropout";
  }
  return "?";
}

std::string ctor_text(const Layer& y) {
  const std::string t = type_name(y);
  const std::string io = std::to_string(y.in) + ", " + std::to_string(y.out);
  switch (y.type) {
    case LayerType::conv: {
      std::string o = "torch::nn::" + t + "Options(" + io + ", " + std::to_string(y.kernel) + ")";
      if (y.stride != 1) o += ".stride(" + std::to_string(y.stride) + ")";
      if (y.same) o += ".padding(torch::kSame)";
      else if (y.pad != 0) o += ".padding(" + std::to_string(y.pad) + ")";
      if (y.dilation != 1) o += ".dilation(" + std::to_string(y.dilation) + ")";
      if (!y.bias) o += ".bias(false)";
      return "torch::nn::" + t + "(" + o + ")";
    }
    case LayerType::linear:
      if (y.bias) return "torch::nn::Linear(" + io + ")";
      return "torch::nn::Linear(torch::nn::LinearOptions(" + io + ").bias(false))";
    case LayerType::gru:
    case LayerType::lstm:
    case LayerType::rnn: {
      std::string o = "torch::nn::" + t + "Options(" + io + ").batch_first(true)";
      if (y.bidirectional) o += ".bidirectional(true)";
      if (y.num_layers != 1) o += ".num_layers(" + std::to_string(y.num_layers) + ")";
      return "torch::nn::" + t + "(" + o + ")";
    }
    case LayerType::batchnorm:
      return "torch::nn::" + t + "(" + std::to_string(y.out) + ")";
    case LayerType::dropout:
      return "torch::nn::Dropout(" + y.dropout_p + ")";
  }
  return "";
}

std::string apply_text(const Op& op, const std::string& e) {
  switch (op.type) {
    case OpType::layer:
      if (is_rnn(op.layer.type)) return "std::get<0>(" + op.layer.name + "->forward(" + e + "))";
      return op.layer.name + "(" + e + ")";
    case OpType::act: return "torch::" + op.name + "(" + e + ")";
    case OpType::pool: {
      std::string t = "torch::" + op.name + (op.dims == 2 ? "_pool2d(" : "_pool1d(") + e + ", " + std::to_string(op.k) +
                      ", " + std::to_string(op.s);
      if (op.p != 0) t += ", " + std::to_string(op.p);
      return t + ")";
    }
    case OpType::unsqueeze: return e + ".unsqueeze(" + std::to_string(op.dim == 1 ? 1 : -1) + ")";
    case OpType::flatten: return e + ".flatten(1)";
    case OpType::transpose: return e + ".transpose(1, 2)";
    case OpType::mean: return e + ".mean(" + std::to_string(op.dim) + ")";
    case OpType::residual: {
      std::string b = "x";
      for (const auto& inner : op.body) b = apply_text(inner, b);
      return e + " + " + b;
    }
  }
  return e;
}

// The child's text after the opening line, through `};`. The ops must derive.
std::string print_program(Ops ops, const Io& io) {
  Shape s = io.input;
  std::int64_t params = 0;
  derive(ops, s, params);
  std::vector<const Layer*> layers;
  collect_layers(ops, layers);

  std::string out = "\n";
  // Declarations, one line per module type in order of first use.
  std::vector<std::string> types;
  for (const auto* y : layers)
    if (std::find(types.begin(), types.end(), type_name(*y)) == types.end()) types.push_back(type_name(*y));
  for (const auto& t : types) {
    out += "  torch::nn::" + t + " ";
    bool first = true;
    for (const auto* y : layers) {
      if (type_name(*y) != t) continue;
      out += (first ? "" : ", ") + y->name + "{nullptr}";
      first = false;
    }
    out += ";\n";
  }
  out += "\n  Model() {\n";
  for (const auto* y : layers) {
    out += "    " + y->name + " = register_module(\"" + y->name + "\", " + ctor_text(*y) + ");\n";
    if (y->frozen) out += "    for (auto& p : " + y->name + "->parameters()) p.requires_grad_(false);\n";
  }
  out += "  }\n\n  torch::Tensor forward(torch::Tensor x) {\n";

  Shape shape = io.input;
  std::string e = "x";
  bool heavy = false;  // the pending expression already applies a layer or pool
  auto flush = [&] {
    if (e != "x") out += "    x = " + e + ";  // " + shape_comment(shape) + "\n";
    e = "x";
    heavy = false;
  };
  for (const auto& op : ops) {
    Ops one{op};
    if (op.type == OpType::residual) {
      flush();
      derive(one, shape, params);
      out += "    x = " + apply_text(op, "x") + ";\n";
      continue;
    }
    // Reshapes open the next statement, as in `linear(x.flatten(1))`.
    if (heavy && op.type != OpType::act) flush();
    derive(one, shape, params);
    e = apply_text(op, e);
    if (op.type == OpType::layer || op.type == OpType::pool) heavy = true;
  }
  out += "    return " + e + ";\n  }\n};\n";
  return out;
}

// ---------------------------------------------------------------- editing
struct Context {
  Rng& rng;
  const Ops* other = nullptr;  // the other parent, when it differs
  const Io& io;
};

std::int64_t count_params(Ops ops, const Io& io, bool* ok = nullptr) {
  Shape s = io.input;
  std::int64_t params = 0;
  const bool good = derive(ops, s, params) && s == io.output();
  if (ok) *ok = good;
  return good ? params : -1;
}

bool valid(const Ops& ops, const Io& io) {
  bool ok = false;
  count_params(ops, io, &ok);
  return ok;
}

void all_ops(Ops& ops, std::vector<Op*>& out, bool into_residuals = true) {
  for (auto& op : ops) {
    out.push_back(&op);
    if (into_residuals && op.type == OpType::residual) all_ops(op.body, out);
  }
}

// The index of the top-level layer that produces the logits.
int final_layer(const Ops& ops) {
  for (int i = static_cast<int>(ops.size()) - 1; i >= 0; --i)
    if (ops[static_cast<std::size_t>(i)].type == OpType::layer &&
        ops[static_cast<std::size_t>(i)].layer.type != LayerType::dropout &&
        ops[static_cast<std::size_t>(i)].layer.type != LayerType::batchnorm)
      return i;
  return -1;
}

std::set<std::string> names_of(const Ops& ops) {
  std::vector<const Layer*> layers;
  collect_layers(ops, layers);
  std::set<std::string> names;
  for (const auto* y : layers) names.insert(y->name);
  return names;
}

std::string fresh_name(const std::set<std::string>& taken, LayerType t) {
  const char* prefix = t == LayerType::conv ? "conv" : t == LayerType::linear ? "fc"
                       : t == LayerType::gru ? "gru" : t == LayerType::lstm ? "lstm"
                       : t == LayerType::rnn ? "rnn" : t == LayerType::batchnorm ? "bn" : "drop";
  for (int i = 1;; ++i) {
    const std::string n = prefix + std::to_string(i);
    if (!taken.count(n)) return n;
  }
}

// Gives every layer in `ops` a name that is not in `taken` (and adds it there).
void rename_fresh(Ops& ops, std::set<std::string>& taken) {
  for (auto& op : ops) {
    if (op.type == OpType::layer) {
      op.layer.name = fresh_name(taken, op.layer.type);
      taken.insert(op.layer.name);
    }
    if (op.type == OpType::residual) rename_fresh(op.body, taken);
  }
}

// Renames only the layers whose names clash with `taken` (or are "x").
void rename_clashes(Ops& ops, std::set<std::string>& taken) {
  for (auto& op : ops) {
    if (op.type == OpType::layer) {
      if (taken.count(op.layer.name) || op.layer.name == "x") op.layer.name = fresh_name(taken, op.layer.type);
      taken.insert(op.layer.name);
    }
    if (op.type == OpType::residual) rename_clashes(op.body, taken);
  }
}

// Shape entering top-level op i (i == size: the output); nullopt if invalid.
std::optional<Shape> shape_at(Ops ops, std::size_t i, const Io& io) {
  ops.resize(i);
  Shape s = io.input;
  std::int64_t p = 0;
  if (!derive(ops, s, p)) return std::nullopt;
  return s;
}

int scaled(int v, double f, int lo, int hi) {
  return std::clamp(static_cast<int>(std::lround(v * f)), lo, hi);
}

std::optional<Edit> edit_width(Ops& ops, Context& c) {
  const int fin = final_layer(ops);
  std::vector<Op*> cands;
  for (std::size_t i = 0; i < ops.size(); ++i) {
    Op& op = ops[i];
    if (op.type == OpType::layer && static_cast<int>(i) != fin &&
        (op.layer.type == LayerType::conv || op.layer.type == LayerType::linear || is_rnn(op.layer.type)))
      cands.push_back(&op);
    if (op.type == OpType::residual) {  // only inner layers before the last are free
      std::vector<Op*> inner;
      for (auto& b : op.body)
        if (b.type == OpType::layer && (b.layer.type == LayerType::conv || b.layer.type == LayerType::linear))
          inner.push_back(&b);
      if (inner.size() > 1) cands.insert(cands.end(), inner.begin(), inner.end() - 1);
    }
  }
  if (cands.empty()) return std::nullopt;
  Layer& y = c.rng.pick(cands)->layer;
  // Shrinking is likelier: fitness rewards fewer parameters.
  static const std::vector<double> factors = {0.5, 0.6, 0.7, 0.8, 1.25, 1.5, 2.0};
  static const std::vector<double> weights = {2, 2, 2, 1.5, 1.5, 1, 0.5};
  const double f = factors[c.rng.weighted(weights)];
  // Hidden layers narrower than the classes only hurt.
  const int hi = y.type == LayerType::conv ? 128 : y.type == LayerType::linear ? 512 : 64;
  const int lo = y.type == LayerType::conv     ? 4
                 : y.type == LayerType::linear ? std::min(hi, std::max(16, c.io.classes))
                                               : 2;
  int v = scaled(y.out, f, lo, hi);
  if (v == y.out) v = f < 1 ? std::max(lo, y.out - 1) : std::min(hi, y.out + 1);
  if (v == y.out) return std::nullopt;
  Edit e{EditKind::width, y.name + " " + std::to_string(y.out) + "->" + std::to_string(v)};
  y.out = v;
  return e;
}

std::optional<Edit> edit_kernel(Ops& ops, Context& c) {
  std::vector<Op*> all, cands;
  all_ops(ops, all);
  for (Op* op : all)
    if ((op->type == OpType::layer && op->layer.type == LayerType::conv) || op->type == OpType::pool)
      cands.push_back(op);
  if (cands.empty()) return std::nullopt;
  Op& op = *c.rng.pick(cands);
  if (op.type == OpType::pool) {
    const int k = c.rng.pick(std::vector<int>{2, 3, 4});
    if (k == op.k) return std::nullopt;
    Edit e{EditKind::kernel, op.name + "_pool kernel " + std::to_string(op.k) + "->" + std::to_string(k)};
    op.k = k;
    if (2 * op.p > op.k) op.p = op.k / 2;
    return e;
  }
  Layer& y = op.layer;
  // A 2-d kernel costs k*k: no 9x9.
  const std::vector<int> ks = y.dims == 2 ? std::vector<int>{1, 3, 3, 5, 5, 7} : std::vector<int>{1, 3, 3, 5, 5, 7, 9};
  const int k = ks[static_cast<std::size_t>(c.rng.uniform(0, static_cast<int>(ks.size()) - 1))];
  if (k == y.kernel) return std::nullopt;
  Edit e{EditKind::kernel, y.name + " kernel " + std::to_string(y.kernel) + "->" + std::to_string(k)};
  // A "same"-style padding keeps being same-style.
  if (!y.same && y.pad == (y.kernel - 1) / 2) y.pad = (k - 1) / 2;
  y.kernel = k;
  return e;
}

std::optional<Edit> edit_stride(Ops& ops, Context& c) {
  std::vector<Op*> cands;
  for (auto& op : ops)  // residual blocks must keep their length: top level only
    if ((op.type == OpType::layer && op.layer.type == LayerType::conv) || op.type == OpType::pool)
      cands.push_back(&op);
  if (cands.empty()) return std::nullopt;
  Op& op = *c.rng.pick(cands);
  const int s = c.rng.pick(std::vector<int>{1, 2, 2, 3});
  if (op.type == OpType::pool) {
    if (s == op.s) return std::nullopt;
    Edit e{EditKind::stride, op.name + "_pool stride " + std::to_string(op.s) + "->" + std::to_string(s)};
    op.s = s;
    return e;
  }
  Layer& y = op.layer;
  if (s == y.stride) return std::nullopt;
  Edit e{EditKind::stride, y.name + " stride " + std::to_string(y.stride) + "->" + std::to_string(s)};
  if (y.same && s != 1) {  // PyTorch refuses 'same' padding with strides
    y.same = false;
    y.pad = (y.kernel - 1) / 2;
  }
  y.stride = s;
  return e;
}

std::optional<Edit> edit_padding(Ops& ops, Context& c) {
  std::vector<Op*> cands;
  for (auto& op : ops)
    if (op.type == OpType::layer && op.layer.type == LayerType::conv) cands.push_back(&op);
  if (cands.empty()) return std::nullopt;
  Layer& y = c.rng.pick(cands)->layer;
  const std::string before = y.same ? "same" : std::to_string(y.pad);
  if (y.same) {
    y.same = false;
    y.pad = c.rng.chance(0.5) ? 0 : (y.kernel - 1) / 2;
  } else {
    const int choice = c.rng.uniform(0, 3);
    if (choice == 3 && y.stride == 1) y.same = true;
    else y.pad = std::vector<int>{0, 1, 2, (y.kernel - 1) / 2}[static_cast<std::size_t>(choice)];
  }
  const std::string after = y.same ? "same" : std::to_string(y.pad);
  if (after == before) return std::nullopt;
  return Edit{EditKind::padding, y.name + " padding " + before + "->" + after};
}

Op make_act(Rng& rng) {
  Op a;
  a.type = OpType::act;
  a.name = rng.chance(0.6) ? "relu" : rng.pick(kActivations);
  return a;
}

Op make_layer(LayerType t, int out, std::set<std::string>& taken) {
  Op op;
  op.type = OpType::layer;
  op.layer.type = t;
  op.layer.out = out;
  op.layer.name = fresh_name(taken, t);
  taken.insert(op.layer.name);
  return op;
}

std::optional<Edit> edit_add(Ops& ops, Context& c) {
  const int fin = final_layer(ops);
  if (fin < 0) return std::nullopt;
  // Insert before op i, never between a layer and its activation.
  std::vector<std::size_t> at;
  for (std::size_t i = 0; i <= static_cast<std::size_t>(fin); ++i)
    if (ops[i].type != OpType::act) at.push_back(i);
  const std::size_t i = c.rng.pick(at);
  const auto s = shape_at(ops, i, c.io);
  if (!s) return std::nullopt;
  std::set<std::string> taken = names_of(ops);
  Ops ins;
  std::string what;
  if (s->kind == Shape::chan || s->kind == Shape::image) {
    // Images get the 2-d twins of the 1-d layers, sized by the shorter side.
    const int dims = s->kind == Shape::image ? 2 : 1;
    const int len = dims == 2 ? std::min(s->l, s->w) : s->l;
    const int r = c.rng.uniform(0, 9);
    if (r < 4) {
      Op conv = make_layer(LayerType::conv, c.rng.pick(std::vector<int>{8, 12, 16, 24, 32}), taken);
      conv.layer.dims = dims;
      conv.layer.kernel = c.rng.pick(std::vector<int>{3, 3, 5});
      conv.layer.stride = len >= 8 && c.rng.chance(0.5) ? 2 : 1;
      conv.layer.pad = (conv.layer.kernel - 1) / 2;
      what = "conv " + conv.layer.name;
      ins = {conv, make_act(c.rng)};
    } else if (r < 7) {
      if (len < 4) return std::nullopt;
      Op pool;
      pool.type = OpType::pool;
      pool.dims = dims;
      pool.name = c.rng.chance(0.5) ? "avg" : "max";
      pool.k = pool.s = 2;
      what = pool.name + "_pool";
      ins = {pool};
    } else if (r < 9) {
      if (s->c < 4) return std::nullopt;  // a residual over one channel adds little
      Op res;
      res.type = OpType::residual;
      Op conv = make_layer(LayerType::conv, s->c, taken);
      conv.layer.dims = dims;
      conv.layer.kernel = 3;
      conv.layer.same = c.rng.chance(0.5);
      conv.layer.pad = conv.layer.same ? 0 : 1;
      res.body = {conv, make_act(c.rng)};
      what = "residual conv " + conv.layer.name;
      ins = {res};
    } else {
      Op bn = make_layer(LayerType::batchnorm, s->c, taken);
      bn.layer.dims = dims;
      what = "batchnorm " + bn.layer.name;
      ins = {bn};
    }
  } else if (s->kind == Shape::flat && i == 0 && !has_conv(ops) && c.rng.chance(0.5)) {
    // A convolutional front end for a program that has none (MLPs): on
    // MNIST-1D small CNNs beat MLPs by a wide margin.
    Op up;
    up.type = OpType::unsqueeze;
    Op conv = make_layer(LayerType::conv, c.rng.pick(std::vector<int>{8, 12, 16}), taken);
    conv.layer.kernel = 5;
    conv.layer.stride = 2;
    conv.layer.pad = 2;
    Op pool;
    pool.type = OpType::pool;
    pool.name = "max";
    Op flat;
    flat.type = OpType::flatten;
    what = "conv front end " + conv.layer.name;
    ins = {up, conv, make_act(c.rng), pool, flat};
  } else if (s->kind == Shape::flat) {
    if (c.rng.chance(0.7)) {
      const int h = c.rng.pick(std::vector<int>{16, 24, 32, 48, 64});
      Op fc = make_layer(LayerType::linear, h, taken);
      what = "linear " + fc.layer.name;
      ins = {fc, make_act(c.rng)};
    } else {
      if (s->c > 256) return std::nullopt;
      Op res;
      res.type = OpType::residual;
      Op fc = make_layer(LayerType::linear, s->c, taken);
      res.body = {fc, make_act(c.rng)};
      what = "residual linear " + fc.layer.name;
      ins = {res};
    }
  } else {
    return std::nullopt;
  }
  ops.insert(ops.begin() + static_cast<std::ptrdiff_t>(i), ins.begin(), ins.end());
  return Edit{EditKind::add, what + " at " + std::to_string(i)};
}

std::optional<Edit> edit_remove(Ops& ops, Context& c) {
  const int fin = final_layer(ops);
  std::vector<std::size_t> cands;
  for (std::size_t i = 0; i < ops.size(); ++i)
    if (static_cast<int>(i) != fin &&
        (ops[i].type == OpType::layer || ops[i].type == OpType::pool || ops[i].type == OpType::residual))
      cands.push_back(i);
  if (cands.empty()) return std::nullopt;
  const std::size_t i = c.rng.pick(cands);
  // Keep at least one hidden layer: a lone linear classifier is a dead end.
  auto hidden = [&](const Op& op) {
    return op.type == OpType::residual ||
           (op.type == OpType::layer && (op.layer.type == LayerType::conv || op.layer.type == LayerType::linear ||
                                         is_rnn(op.layer.type)));
  };
  if (hidden(ops[i])) {
    int n = 0;
    for (std::size_t k = 0; k < ops.size(); ++k) n += static_cast<int>(k) != fin && hidden(ops[k]);
    if (n <= 1) return std::nullopt;
  }
  std::string what = ops[i].type == OpType::layer ? ops[i].layer.name
                     : ops[i].type == OpType::pool ? ops[i].name + "_pool"
                                                   : "residual block";
  std::size_t end = i + 1;
  if (ops[i].type == OpType::layer && end < ops.size() && ops[end].type == OpType::act) ++end;
  ops.erase(ops.begin() + static_cast<std::ptrdiff_t>(i), ops.begin() + static_cast<std::ptrdiff_t>(end));
  return Edit{EditKind::remove, what};
}

std::optional<Edit> edit_duplicate(Ops& ops, Context& c) {
  const int fin = final_layer(ops);
  std::vector<std::size_t> cands;
  for (std::size_t i = 0; i < ops.size(); ++i) {
    const Op& op = ops[i];
    if (op.type == OpType::residual ||
        (op.type == OpType::layer && static_cast<int>(i) != fin &&
         (op.layer.type == LayerType::conv || op.layer.type == LayerType::linear)))
      cands.push_back(i);
  }
  if (cands.empty()) return std::nullopt;
  const std::size_t i = c.rng.pick(cands);
  std::size_t end = i + 1;
  if (ops[i].type == OpType::layer && end < ops.size() && ops[end].type == OpType::act) ++end;
  Ops copy(ops.begin() + static_cast<std::ptrdiff_t>(i), ops.begin() + static_cast<std::ptrdiff_t>(end));
  std::set<std::string> taken = names_of(ops);
  rename_fresh(copy, taken);
  // A strided conv repeated would halve the length again: repeat it unstrided.
  if (copy[0].type == OpType::layer && copy[0].layer.type == LayerType::conv && copy[0].layer.stride > 1 &&
      c.rng.chance(0.7)) {
    copy[0].layer.stride = 1;
    copy[0].layer.pad = (copy[0].layer.kernel - 1) / 2;
  }
  const std::string what = ops[i].type == OpType::layer ? ops[i].layer.name : "residual block";
  ops.insert(ops.begin() + static_cast<std::ptrdiff_t>(end), copy.begin(), copy.end());
  return Edit{EditKind::duplicate, what};
}

std::optional<Edit> edit_activation(Ops& ops, Context& c) {
  std::vector<Op*> acts;
  all_ops(ops, acts);
  acts.erase(std::remove_if(acts.begin(), acts.end(), [](Op* o) { return o->type != OpType::act; }), acts.end());
  const double r = c.rng.unit();
  if (!acts.empty() && r < 0.8) {
    Op& a = *c.rng.pick(acts);
    std::string to = c.rng.pick(kActivations);
    if (to == a.name) return std::nullopt;
    Edit e{EditKind::activation, a.name + "->" + to};
    a.name = to;
    return e;
  }
  // Add one after a hidden layer that has none, or drop one.
  const int fin = final_layer(ops);
  std::vector<std::size_t> bare;
  for (std::size_t i = 0; i < ops.size(); ++i)
    if (ops[i].type == OpType::layer && static_cast<int>(i) != fin && ops[i].layer.type != LayerType::dropout &&
        (i + 1 >= ops.size() || ops[i + 1].type != OpType::act))
      bare.push_back(i);
  if (!bare.empty() && r < 0.95) {
    const std::size_t i = c.rng.pick(bare);
    Op a = make_act(c.rng);
    ops.insert(ops.begin() + static_cast<std::ptrdiff_t>(i + 1), a);
    return Edit{EditKind::activation, "add " + a.name + " after " + ops[i].layer.name};
  }
  std::vector<std::size_t> top_acts;
  for (std::size_t i = 0; i < ops.size(); ++i)
    if (ops[i].type == OpType::act) top_acts.push_back(i);
  if (top_acts.empty()) return std::nullopt;
  const std::size_t i = c.rng.pick(top_acts);
  Edit e{EditKind::activation, "remove " + ops[i].name};
  ops.erase(ops.begin() + static_cast<std::ptrdiff_t>(i));
  return e;
}

// The unit starting at op i: a layer with its activation, or a single op.
std::size_t unit_end(const Ops& ops, std::size_t i) {
  std::size_t end = i + 1;
  if (ops[i].type == OpType::layer && end < ops.size() && ops[end].type == OpType::act) ++end;
  return end;
}

std::optional<Edit> edit_crossover(Ops& ops, Context& c) {
  if (!c.other) return std::nullopt;
  const Ops& b = *c.other;
  std::set<std::string> taken = names_of(ops);
  if (c.rng.chance(0.5)) {
    // Splice: a's ops before a cut, b's ops from a cut; both cuts come
    // before the classifier, so the child has one (b's).
    const int fa = final_layer(ops), fb = final_layer(b);
    if (fa < 0 || fb < 0) return std::nullopt;
    const std::size_t i = static_cast<std::size_t>(c.rng.uniform(0, fa));
    const std::size_t j = static_cast<std::size_t>(c.rng.uniform(0, fb));
    if ((i < ops.size() && ops[i].type == OpType::act) || b[j].type == OpType::act) return std::nullopt;
    const auto sa = shape_at(ops, i, c.io);
    const auto sb = shape_at(b, j, c.io);
    if (!sa || !sb) return std::nullopt;
    Ops tail(b.begin() + static_cast<std::ptrdiff_t>(j), b.end());
    Ops child(ops.begin(), ops.begin() + static_cast<std::ptrdiff_t>(i));
    std::set<std::string> head_names = names_of(child);
    rename_clashes(tail, head_names);
    // Adapters between the representations (none leads to an image or
    // another rank: those are only the input's).
    const auto own = [](Shape::Kind k) { return k == Shape::image || k == Shape::other; };
    if (sa->kind != sb->kind && sb->kind != Shape::flat && (own(sa->kind) || own(sb->kind))) return std::nullopt;
    if (sa->kind != sb->kind) {
      Op adapt;
      if (sb->kind == Shape::flat) adapt.type = OpType::flatten;
      else if (sa->kind != Shape::flat) adapt.type = OpType::transpose;
      else {
        adapt.type = OpType::unsqueeze;
        adapt.dim = sb->kind == Shape::chan ? 1 : 2;
      }
      child.push_back(adapt);
    }
    child.insert(child.end(), tail.begin(), tail.end());
    ops = std::move(child);
    return Edit{EditKind::crossover, "splice a[0:" + std::to_string(i) + "] + b[" + std::to_string(j) + ":]"};
  }
  // Insert one of b's units where a has the same kind of shape.
  std::vector<std::size_t> units;
  for (std::size_t j = 0; j < b.size(); ++j)
    if (b[j].type == OpType::residual || b[j].type == OpType::pool ||
        (b[j].type == OpType::layer && static_cast<int>(j) != final_layer(b)))
      units.push_back(j);
  if (units.empty()) return std::nullopt;
  const std::size_t j = c.rng.pick(units);
  const auto sb = shape_at(b, j, c.io);
  if (!sb) return std::nullopt;
  std::vector<std::size_t> at;
  const int fin = final_layer(ops);
  for (std::size_t i = 0; i <= static_cast<std::size_t>(std::max(fin, 0)); ++i) {
    if (i < ops.size() && ops[i].type == OpType::act) continue;
    const auto sa = shape_at(ops, i, c.io);
    if (sa && sa->kind == sb->kind && (b[j].type != OpType::residual || sa->c >= 4)) at.push_back(i);
  }
  if (at.empty()) return std::nullopt;
  const std::size_t i = c.rng.pick(at);
  Ops unit(b.begin() + static_cast<std::ptrdiff_t>(j), b.begin() + static_cast<std::ptrdiff_t>(unit_end(b, j)));
  rename_clashes(unit, taken);
  ops.insert(ops.begin() + static_cast<std::ptrdiff_t>(i), unit.begin(), unit.end());
  return Edit{EditKind::crossover, "insert b[" + std::to_string(j) + "] at " + std::to_string(i)};
}

// Drops what edits leave behind that does nothing: a flatten of a flat
// tensor, an unsqueeze undone by a flatten, two transposes in a row, an
// activation right after another. The ops must derive.
void simplify(Ops& ops, const Io& io) {
  Shape s = io.input;
  std::int64_t params = 0;
  Ops out;
  for (std::size_t i = 0; i < ops.size(); ++i) {
    const Op& op = ops[i];
    const bool next_flattens = i + 1 < ops.size() && ops[i + 1].type == OpType::flatten;
    if (op.type == OpType::flatten && s.kind == Shape::flat) continue;
    if (op.type == OpType::unsqueeze && next_flattens) {
      ++i;
      continue;
    }
    if (op.type == OpType::transpose && i + 1 < ops.size() && ops[i + 1].type == OpType::transpose) {
      ++i;
      continue;
    }
    if (op.type == OpType::act && !out.empty() && out.back().type == OpType::act) continue;
    Ops one{op};
    derive(one, s, params);
    out.push_back(op);
  }
  ops = std::move(out);
}

using EditFn = std::optional<Edit> (*)(Ops&, Context&);

struct EditChoice {
  EditFn fn;
  double weight;
};

const std::vector<EditChoice>& mutations() {
  static const std::vector<EditChoice> m = {
      {edit_width, 2.0},   {edit_kernel, 1.0},    {edit_stride, 0.8},     {edit_padding, 0.5},
      {edit_add, 0.9},     {edit_remove, 1.0},    {edit_duplicate, 0.5},  {edit_activation, 1.0},
  };
  return m;
}

// Text-level fallback: swap one activation in the parent's own text.
MutationResult text_fallback(const std::string& code, Rng& rng, const std::set<std::string>& avoid) {
  MutationResult r;
  std::smatch m;
  if (!std::regex_search(code, m, opening_regex())) return r;
  const std::string tail = code.substr(static_cast<std::size_t>(m.position() + m.length()));
  static const std::regex act(R"(torch::(relu|gelu|tanh|sigmoid|elu|silu)\()");
  std::vector<TextSite> sites;  // the activation's name
  for (auto it = std::sregex_iterator(tail.begin(), tail.end(), act); it != std::sregex_iterator(); ++it)
    sites.push_back({static_cast<std::size_t>(it->position(1)), static_cast<std::size_t>(it->length(1)), kActivations});
  return rewrite_one_site(tail, sites, rng, 12, avoid);
}

}  // namespace

MutationResult MutateOperator::make_child(const std::vector<PromptExample>& parents, double temperature,
                                          std::uint64_t stream, const std::set<std::string>& avoid,
                                          const std::optional<TaskHeader>& task) {
  // CLRS parents: the evolvable unit is the triplet function.
  for (const auto& p : parents)
    if (is_triplet_program(p.code)) return make_triplet_child(parents, temperature, stream, avoid);
  Rng rng(stream);
  MutationResult none;
  if (parents.empty()) return none;
  const Io io = io_of(task);
  std::vector<std::optional<Ops>> parsed;
  std::vector<std::int64_t> sizes;
  std::vector<std::size_t> good;
  for (std::size_t i = 0; i < parents.size(); ++i) {
    parsed.push_back(parse_program(parents[i].code, io));
    if (parsed.back()) {
      good.push_back(i);
      sizes.push_back(count_params(*parsed.back(), io));
    }
  }
  if (good.empty()) return text_fallback(rng.pick(parents).code, rng, avoid);

  std::set<std::string> parent_texts;
  for (std::size_t i : good) parent_texts.insert(print_program(*parsed[i], io));
  std::int64_t cap = param_cap(sizes, 20000, 300000);
  // A user's inputs can be large enough that a seed is over the ceiling:
  // children as large as their parents stay allowed.
  if (io.header) cap = std::max(cap, *std::max_element(sizes.begin(), sizes.end()));

  MutationResult fallback_result;
  for (int attempt = 0; attempt < 40; ++attempt) {
    const std::size_t ai = rng.pick(good);
    Ops child = *parsed[ai];
    // The other parent, when one differs from this one.
    const Ops* other = nullptr;
    std::vector<std::size_t> others;
    const std::string self = print_program(child, io);
    for (std::size_t i : good)
      if (i != ai && print_program(*parsed[i], io) != self) others.push_back(i);
    if (!others.empty()) other = &*parsed[rng.pick(others)];

    Context ctx{rng, other, io};
    std::vector<Edit> edits;
    int n = edit_count(temperature, rng);
    if (other && rng.chance(0.45)) {
      for (int t = 0; t < 12; ++t) {
        Ops trial = child;
        auto e = edit_crossover(trial, ctx);
        if (e && valid(trial, io) && count_params(trial, io) <= cap) {
          child = std::move(trial);
          edits.push_back(*e);
          --n;
          break;
        }
      }
    }
    std::vector<double> weights;
    for (const auto& m : mutations()) weights.push_back(m.weight);
    for (int t = 0; n > 0 && t < 30; ++t) {
      Ops trial = child;
      auto e = mutations()[rng.weighted(weights)].fn(trial, ctx);
      if (!e || !valid(trial, io) || count_params(trial, io) > cap) continue;
      child = std::move(trial);
      edits.push_back(*e);
      --n;
    }
    if (edits.empty()) continue;
    simplify(child, io);
    if (!valid(child, io)) continue;
    const std::string text = print_program(child, io);
    if (parent_texts.count(text) || avoid.count(text)) continue;
    MutationResult r;
    r.completion = text;
    r.edits = std::move(edits);
    r.structured = true;
    r.params = count_params(child, io);
    return r;
  }
  // Nothing new came out: fall back to the text-level edit of a parent.
  return text_fallback(parents[rng.pick(good)].code, rng, avoid);
}

std::string MutateOperator::canonical(const std::string& code, const std::optional<TaskHeader>& task) {
  if (is_triplet_program(code)) return canonical_triplet(code);
  const Io io = io_of(task);
  const auto ops = parse_program(code, io);
  return ops ? print_program(*ops, io) : std::string();
}

std::vector<Completion> MutateOperator::sample(const SampleRequest& request) {
  std::vector<Completion> out(request.temperatures.size());
  const auto parents = parse_prompt_examples(request.prompt);
  if (parents.empty()) {
    for (auto& c : out) c.error = "mutate: the prompt holds no parent programs";
    return out;
  }
  const std::uint64_t prompt_hash = fnv1a(request.prompt);
  const auto task = parse_task_header(request.prompt);
  std::set<std::string> avoid;
  for (const auto& p : parents) {
    const std::string canon = canonical(p.code, task);
    if (!canon.empty()) avoid.insert(canon);
  }
  for (std::size_t j = 0; j < out.size(); ++j) {
    const std::uint64_t stream = mix(mix(request.seed, request.first_sample + j), prompt_hash);
    const MutationResult r = make_child(parents, request.temperatures[j], stream, avoid, task);
    Completion& c = out[j];
    if (r.completion.empty()) {
      c.error = "mutate: could not read the parent programs";
      continue;
    }
    c.text = r.completion;
    c.finish_reason = "stop";
    // Rough token counts (about four characters a token) for the journal.
    c.prompt_tokens = static_cast<std::int64_t>(request.prompt.size() / 4);
    c.completion_tokens = static_cast<std::int64_t>(c.text.size() / 4);
    avoid.insert(r.completion);
  }
  return out;
}

}  // namespace evoprompt::codegen

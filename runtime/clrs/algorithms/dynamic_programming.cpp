// Dynamic programming: matrix-chain order, LCS length, optimal BST.
#include <numeric>
#include <stdexcept>

#include "clrs/algorithms/algorithms.hpp"

namespace evoprompt::clrs::algorithms {

Sample matrix_chain_order(const std::vector<double>& p) {
  ProbeRecorder probes(builtin_spec("matrix_chain_order"));
  const auto n = static_cast<std::int64_t>(p.size());
  const auto pred = array_probe(iota(n));
  probes.input({{"pos", positions(n)}, {"p", floats(p)}});
  const auto nn = static_cast<std::size_t>(n * n);
  std::vector<double> m(nn, 0.0), s(nn, 0.0), msk(nn, 0.0);
  for (std::int64_t i = 1; i < n; ++i) msk[i * n + i] = 1;
  while (true) {
    const auto prev_m = m;
    const auto prev_msk = msk;
    probes.hint({{"pred_h", pred},
                 {"m", matrix(n, n, prev_m, DType::float64)},
                 {"s_h", matrix(n, n, s, DType::float64)},
                 {"msk", matrix(n, n, msk, DType::float64)}});
    for (std::int64_t i = 1; i < n; ++i)
      for (std::int64_t j = i + 1; j < n; ++j) {
        double flag = prev_msk[i * n + j];
        for (std::int64_t k = i; k < j; ++k) {
          if (prev_msk[i * n + k] == 1 && prev_msk[(k + 1) * n + j] == 1) {
            msk[i * n + j] = 1;
            const double q = prev_m[i * n + k] + prev_m[(k + 1) * n + j] + p[i - 1] * p[k] * p[j];
            if (flag == 0 || q < m[i * n + j]) {
              m[i * n + j] = q;
              s[i * n + j] = static_cast<double>(k);
              flag = 1;
            }
          }
        }
      }
    if (prev_m == m) break;
  }
  probes.output({{"s", matrix(n, n, s, DType::float64)}});
  return probes.finish();
}

Sample lcs_length(const std::vector<std::int64_t>& x, const std::vector<std::int64_t>& y) {
  ProbeRecorder probes(builtin_spec("lcs_length"));
  const auto t = static_cast<std::int64_t>(x.size()), p = static_cast<std::int64_t>(y.size());
  // The reference indexes x[0] and y[0] (an IndexError for an empty string).
  if (t == 0 || p == 0) throw std::invalid_argument("clrs: lcs_length needs two non-empty strings");
  std::vector<std::int64_t> keys(x);
  keys.insert(keys.end(), y.begin(), y.end());
  probes.input({{"string", strings_id(t, p)}, {"pos", strings_pos(t, p)}, {"key", array_cat(keys, 4)}});
  const auto tp = static_cast<std::size_t>(t * p);
  std::vector<std::int64_t> b(tp, 0);
  std::vector<double> c(tp, 0.0);
  auto at = [p](std::int64_t i, std::int64_t j) { return static_cast<std::size_t>(i * p + j); };
  for (std::int64_t i = 0; i < t; ++i) {
    if (x[i] == y[0]) {
      c[at(i, 0)] = 1;
      b[at(i, 0)] = 0;
    } else if (i > 0 && c[at(i - 1, 0)] == 1) {
      c[at(i, 0)] = 1;
      b[at(i, 0)] = 1;
    } else {
      c[at(i, 0)] = 0;
      b[at(i, 0)] = 1;
    }
  }
  for (std::int64_t j = 0; j < p; ++j) {
    if (x[0] == y[j]) {
      c[at(0, j)] = 1;
      b[at(0, j)] = 0;
    } else if (j > 0 && c[at(0, j - 1)] == 1) {
      c[at(0, j)] = 1;
      b[at(0, j)] = 2;
    } else {
      c[at(0, j)] = 0;
      b[at(0, j)] = 1;
    }
  }
  const auto pred = strings_pred(t, p);
  while (true) {
    const auto prev_c = c;
    probes.hint({{"pred_h", pred}, {"b_h", strings_pair_cat(b, t, p, 3)}, {"c", strings_pair(prev_c, t, p)}});
    for (std::int64_t i = 1; i < t; ++i)
      for (std::int64_t j = 1; j < p; ++j) {
        if (x[i] == y[j]) {
          c[at(i, j)] = prev_c[at(i - 1, j - 1)] + 1;
          b[at(i, j)] = 0;
        } else if (prev_c[at(i - 1, j)] >= prev_c[at(i, j - 1)]) {
          c[at(i, j)] = prev_c[at(i - 1, j)];
          b[at(i, j)] = 1;
        } else {
          c[at(i, j)] = prev_c[at(i, j - 1)];
          b[at(i, j)] = 2;
        }
      }
    if (prev_c == c) break;
  }
  probes.output({{"b", strings_pair_cat(b, t, p, 3)}});
  return probes.finish();
}

Sample optimal_bst(const std::vector<double>& p, const std::vector<double>& q) {
  ProbeRecorder probes(builtin_spec("optimal_bst"));
  const auto n = static_cast<std::int64_t>(q.size());  // p has n - 1 keys
  const auto np = static_cast<std::int64_t>(p.size());
  const auto pred = array_probe(iota(n));
  std::vector<double> p_cpy(static_cast<std::size_t>(n), 0.0);
  for (std::int64_t i = 0; i < np; ++i) p_cpy[i] = p[i];
  probes.input({{"pos", positions(n)}, {"p", floats(p_cpy)}, {"q", floats(q)}});
  const auto nn = static_cast<std::size_t>(n * n);
  std::vector<double> e(nn, 0.0), w(nn, 0.0), root(nn, 0.0), msk(nn, 0.0);
  for (std::int64_t i = 0; i < n; ++i) {
    e[i * n + i] = q[i];
    w[i * n + i] = q[i];
    msk[i * n + i] = 1;
  }
  auto push = [&] {
    probes.hint({{"pred_h", pred},
                 {"root_h", matrix(n, n, root, DType::float64)},
                 {"e", matrix(n, n, e, DType::float64)},
                 {"w", matrix(n, n, w, DType::float64)},
                 {"msk", matrix(n, n, msk, DType::float64)}});
  };
  push();
  for (std::int64_t l = 1; l <= np; ++l) {
    for (std::int64_t i = 0; i < np - l + 1; ++i) {
      const auto j = i + l;
      e[i * n + j] = 1e9;
      w[i * n + j] = w[i * n + j - 1] + p[j - 1] + q[j];
      for (std::int64_t r = i; r < j; ++r) {
        const double tt = e[i * n + r] + e[(r + 1) * n + j] + w[i * n + j];
        if (tt < e[i * n + j]) {
          e[i * n + j] = tt;
          root[i * n + j] = static_cast<double>(r);
        }
      }
      msk[i * n + j] = 1;
    }
    push();
  }
  probes.output({{"root", matrix(n, n, root, DType::float64)}});
  return probes.finish();
}

}  // namespace evoprompt::clrs::algorithms

// Sorting, divide and conquer, greedy and string algorithms.
#include <algorithm>
#include <numeric>
#include <stdexcept>

#include "clrs/algorithms/algorithms.hpp"

namespace evoprompt::clrs::algorithms {

namespace {


// np.argsort of distinct values (ties keep index order).
std::vector<std::int64_t> argsort(const std::vector<double>& v) {
  auto idx = iota(static_cast<std::int64_t>(v.size()));
  std::stable_sort(idx.begin(), idx.end(), [&](std::int64_t a, std::int64_t b) { return v[a] < v[b]; });
  return idx;
}

}  // namespace

Sample insertion_sort(std::vector<double> A) {
  ProbeRecorder probes(builtin_spec("insertion_sort"));
  const auto n = static_cast<std::int64_t>(A.size());
  auto A_pos = iota(n);
  probes.input({{"pos", positions(n)}, {"key", floats(A)}});
  probes.hint({{"pred_h", array_probe(A_pos)}, {"i", mask_one(0, n)}, {"j", mask_one(0, n)}});
  for (std::int64_t j = 1; j < n; ++j) {
    const double key = A[j];
    std::int64_t i = j - 1;
    while (i >= 0 && A[i] > key) {
      A[i + 1] = A[i];
      A_pos[i + 1] = A_pos[i];
      --i;
    }
    A[i + 1] = key;
    const auto stor_pos = A_pos[i + 1];
    A_pos[i + 1] = j;
    probes.hint({{"pred_h", array_probe(A_pos)}, {"i", mask_one(stor_pos, n)}, {"j", mask_one(j, n)}});
  }
  probes.output({{"pred", array_probe(A_pos)}});
  return probes.finish();
}

Sample find_maximum_subarray_kadane(const std::vector<double>& A) {
  ProbeRecorder probes(builtin_spec("find_maximum_subarray_kadane"));
  const auto n = static_cast<std::int64_t>(A.size());
  const auto A_pos = iota(n);
  probes.input({{"pos", positions(n)}, {"key", floats(A)}});
  probes.hint({{"pred_h", array_probe(A_pos)},
               {"best_low", mask_one(0, n)},
               {"best_high", mask_one(0, n)},
               {"best_sum", scalar_f(A[0])},
               {"i", mask_one(0, n)},
               {"j", mask_one(0, n)},
               {"sum", scalar_f(A[0])}});
  std::int64_t best_low = 0, best_high = 0, i = 0;
  double best_sum = A[0], sum = A[0];
  for (std::int64_t j = 1; j < n; ++j) {
    const double x = A[j];
    if (sum + x >= x) {
      sum += x;
    } else {
      i = j;
      sum = x;
    }
    if (sum > best_sum) {
      best_low = i;
      best_high = j;
      best_sum = sum;
    }
    probes.hint({{"pred_h", array_probe(A_pos)},
                 {"best_low", mask_one(best_low, n)},
                 {"best_high", mask_one(best_high, n)},
                 {"best_sum", scalar_f(best_sum)},
                 {"i", mask_one(i, n)},
                 {"j", mask_one(j, n)},
                 {"sum", scalar_f(sum)}});
  }
  probes.output({{"start", mask_one(best_low, n)}, {"end", mask_one(best_high, n)}});
  return probes.finish();
}

Sample activity_selector(const std::vector<double>& s, const std::vector<double>& f) {
  ProbeRecorder probes(builtin_spec("activity_selector"));
  const auto n = static_cast<std::int64_t>(s.size());
  const auto A_pos = iota(n);
  probes.input({{"pos", positions(n)}, {"s", floats(s)}, {"f", floats(f)}});
  std::vector<double> A(static_cast<std::size_t>(n), 0.0);
  auto push = [&](std::int64_t m, std::int64_t k) {
    probes.hint({{"pred_h", array_probe(A_pos)}, {"selected_h", floats(A)}, {"m", mask_one(m, n)},
                 {"k", mask_one(k, n)}});
  };
  push(0, 0);
  const auto ind = argsort(f);
  A[ind[0]] = 1;
  std::int64_t k = ind[0];
  push(ind[0], k);
  for (std::int64_t m = 1; m < n; ++m) {
    if (s[ind[m]] >= f[k]) {
      A[ind[m]] = 1;
      k = ind[m];
    }
    push(ind[m], k);
  }
  probes.output({{"selected", floats(A)}});
  return probes.finish();
}

Sample naive_string_matcher(const std::vector<std::int64_t>& T, const std::vector<std::int64_t>& P) {
  ProbeRecorder probes(builtin_spec("naive_string_matcher"));
  const auto t = static_cast<std::int64_t>(T.size()), p = static_cast<std::int64_t>(P.size());
  const auto n = t + p;
  std::vector<std::int64_t> keys(T);
  keys.insert(keys.end(), P.begin(), P.end());
  probes.input({{"string", strings_id(t, p)}, {"pos", strings_pos(t, p)}, {"key", array_cat(keys, 4)}});
  const auto pred = strings_pred(t, p);
  auto push = [&](std::int64_t s, std::int64_t i, std::int64_t j) {
    probes.hint({{"pred_h", pred}, {"s", mask_one(s, n)}, {"i", mask_one(i, n)}, {"j", mask_one(t + j, n)}});
  };
  for (std::int64_t s = 0; s <= t - p; ++s) {
    std::int64_t i = s, j = 0;
    push(s, i, j);
    while (true) {
      if (T[i] != P[j]) break;
      if (j == p - 1) {
        probes.output({{"match", mask_one(s, n)}});
        return probes.finish();
      }
      ++i;
      ++j;
      push(s, i, j);
    }
  }
  // The reference returns here without finalizing its probes: no sample exists.
  throw std::runtime_error("clrs: naive_string_matcher found no match (the reference yields no sample)");
}

Sample task_scheduling(const std::vector<std::int64_t>& d, const std::vector<double>& w) {
  ProbeRecorder probes(builtin_spec("task_scheduling"));
  const auto n = static_cast<std::int64_t>(d.size());
  const auto pred = array_probe(iota(n));
  probes.input({{"pos", positions(n)}, {"d", ints(d)}, {"w", floats(w)}});
  std::vector<double> A(static_cast<std::size_t>(n), 0.0);
  auto push = [&](std::int64_t i, std::int64_t t) {
    probes.hint({{"pred_h", pred}, {"selected_h", floats(A)}, {"i", mask_one(i, n)}, {"t", scalar_i(t)}});
  };
  push(0, 0);
  // argsort(-w): by decreasing weight (the random weights are distinct).
  auto ind = iota(n);
  std::stable_sort(ind.begin(), ind.end(), [&](std::int64_t a, std::int64_t b) { return -w[a] < -w[b]; });
  A[ind[0]] = 1;
  std::int64_t t = 1;
  push(ind[0], t);
  for (std::int64_t i = 1; i < n; ++i) {
    if (t < d[ind[i]]) {
      A[ind[i]] = 1;
      ++t;
    }
    push(ind[i], t);
  }
  probes.output({{"selected", floats(A)}});
  return probes.finish();
}

Sample kmp_matcher(const std::vector<std::int64_t>& T, const std::vector<std::int64_t>& P) {
  ProbeRecorder probes(builtin_spec("kmp_matcher"));
  const auto t = static_cast<std::int64_t>(T.size()), p = static_cast<std::int64_t>(P.size());
  const auto n = t + p;
  std::vector<std::int64_t> keys(T);
  keys.insert(keys.end(), P.begin(), P.end());
  probes.input({{"string", strings_id(t, p)}, {"pos", strings_pos(t, p)}, {"key", array_cat(keys, 4)}});
  const auto pred = strings_pred(t, p);
  auto pi = iota(p);
  std::vector<double> is_reset(static_cast<std::size_t>(p), 0.0);
  auto push = [&](std::int64_t k, std::int64_t k_reset, std::int64_t q, std::int64_t q_reset, std::int64_t s,
                  std::int64_t i, std::int64_t phase) {
    std::vector<double> reset(static_cast<std::size_t>(t), 0.0);
    reset.insert(reset.end(), is_reset.begin(), is_reset.end());
    probes.hint({{"pred_h", pred},
                 {"pi", strings_pi(t, p, pi)},
                 {"is_reset", floats(reset)},
                 {"k", mask_one(k, n)},
                 {"k_reset", scalar_i(k_reset)},
                 {"q", mask_one(q, n)},
                 {"q_reset", scalar_i(q_reset)},
                 {"s", mask_one(s, n)},
                 {"i", mask_one(i, n)},
                 {"phase", scalar_i(phase)}});
  };
  std::int64_t k = 0, k_reset = 1;
  is_reset[0] = 1;
  const std::int64_t delta = p > 1 ? 1 : 0;  // |P| = 1 skips the prefix function
  push(t, k_reset, t + delta, 1, 0, 0, 0);
  for (std::int64_t q = 1; q < p; ++q) {
    while (k_reset == 0 && P[k + 1] != P[q]) {
      if (is_reset[k] == 1) {
        k_reset = 1;
        k = 0;
      } else {
        k = pi[k];
      }
      push(t + k, k_reset, t + q, 1, 0, 0, 0);
    }
    if (k_reset == 1) {
      k_reset = 0;
      k = -1;
    }
    if (P[k + 1] == P[q]) ++k;
    if (k == -1) {
      k = 0;
      k_reset = 1;
      is_reset[q] = 1;
    }
    pi[q] = k;
    push(t + k, k_reset, t + q, 1, 0, 0, 0);
  }
  std::int64_t q = 0, q_reset = 1, s = 0;
  for (std::int64_t i = 0; i < t; ++i) {
    if (i >= p) ++s;
    push(t + k, k_reset, t + q, q_reset, s, i, 1);
    while (q_reset == 0 && P[q + 1] != T[i]) {
      if (is_reset[q] == 1) {
        q = 0;
        q_reset = 1;
      } else {
        q = pi[q];
      }
      push(t + k, k_reset, t + q, q_reset, s, i, 1);
    }
    if (q_reset == 1) {
      q = -1;
      q_reset = 0;
    }
    if (P[q + 1] == T[i]) {
      if (q == p - 2) {
        probes.output({{"match", mask_one(s, n)}});
        return probes.finish();
      }
      ++q;
    }
    if (q == -1) {
      q_reset = 1;
      q = 0;
    }
  }
  // No match: by convention the head of the needle.
  probes.output({{"match", mask_one(t, n)}});
  return probes.finish();
}

}  // namespace evoprompt::clrs::algorithms

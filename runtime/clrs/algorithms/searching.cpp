// Searching: minimum, binary search, quickselect.
#include <functional>
#include <numeric>
#include <utility>

#include "clrs/algorithms/algorithms.hpp"

namespace evoprompt::clrs::algorithms {

Sample minimum(const std::vector<double>& A) {
  ProbeRecorder probes(builtin_spec("minimum"));
  const auto n = static_cast<std::int64_t>(A.size());
  const auto pred = array_probe(iota(n));
  probes.input({{"pos", positions(n)}, {"key", floats(A)}});
  probes.hint({{"pred_h", pred}, {"min_h", mask_one(0, n)}, {"i", mask_one(0, n)}});
  std::int64_t min = 0;
  for (std::int64_t i = 1; i < n; ++i) {
    if (A[min] > A[i]) min = i;
    probes.hint({{"pred_h", pred}, {"min_h", mask_one(min, n)}, {"i", mask_one(i, n)}});
  }
  probes.output({{"min", mask_one(min, n)}});
  return probes.finish();
}

Sample binary_search(const std::vector<double>& A, double x) {
  ProbeRecorder probes(builtin_spec("binary_search"));
  const auto n = static_cast<std::int64_t>(A.size());
  const auto pred = array_probe(iota(n));
  probes.input({{"pos", positions(n)}, {"key", floats(A)}, {"target", scalar_f(x)}});
  std::int64_t low = 0, high = n - 1;
  auto push = [&] {
    probes.hint({{"pred_h", pred},
                 {"low", mask_one(low, n)},
                 {"high", mask_one(high, n)},
                 {"mid", mask_one((low + high) / 2, n)}});
  };
  push();
  while (low < high) {
    const auto mid = (low + high) / 2;
    if (x <= A[mid])
      high = mid;
    else
      low = mid + 1;
    push();
  }
  probes.output({{"return", mask_one(high, n)}});
  return probes.finish();
}

Sample quickselect(std::vector<double> A) {
  ProbeRecorder probes(builtin_spec("quickselect"));
  const auto n = static_cast<std::int64_t>(A.size());
  auto A_pos = iota(n);
  probes.input({{"pos", positions(n)}, {"key", floats(A)}});
  const double dn = static_cast<double>(n);
  // The reference records i_rank as (i + 1) / n inside the partition loop but
  // (i + 1 - p) / n after its final swap; `pivot` is the node holding x.
  auto push = [&](std::int64_t p, std::int64_t r, std::int64_t i_node, std::int64_t j_node, double i_rank,
                  std::int64_t target, std::int64_t pivot) {
    probes.hint({{"pred_h", array_probe(A_pos)},
                 {"p", mask_one(A_pos[p], n)},
                 {"r", mask_one(A_pos[r], n)},
                 {"i", mask_one(i_node, n)},
                 {"j", mask_one(j_node, n)},
                 {"i_rank", scalar_f(i_rank * 1.0 / dn)},
                 {"target", scalar_f(static_cast<double>(target) * 1.0 / dn)},
                 {"pivot", mask_one(pivot, n)}});
  };
  auto partition = [&](std::int64_t p, std::int64_t r, std::int64_t target) {
    const double x = A[r];
    const auto pivot = A_pos[r];
    std::int64_t i = p - 1;
    for (std::int64_t j = p; j < r; ++j) {
      if (A[j] <= x) {
        ++i;
        std::swap(A[i], A[j]);
        std::swap(A_pos[i], A_pos[j]);
      }
      push(p, r, A_pos[i + 1], A_pos[j], static_cast<double>(i + 1), target, pivot);
    }
    std::swap(A[i + 1], A[r]);
    std::swap(A_pos[i + 1], A_pos[r]);
    push(p, r, A_pos[i + 1], A_pos[r], static_cast<double>(i + 1 - p), target, pivot);
    return i + 1;
  };
  std::int64_t p = 0, r = n - 1, i = n / 2;
  while (true) {
    const auto q = partition(p, r, i);
    const auto k = q - p;
    if (i == k) {
      probes.output({{"median", mask_one(A_pos[q], n)}});
      return probes.finish();
    }
    if (i < k) {
      r = q - 1;
    } else {
      p = q + 1;
      i = i - k - 1;
    }
  }
}

}  // namespace evoprompt::clrs::algorithms

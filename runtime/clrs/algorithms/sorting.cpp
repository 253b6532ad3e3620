// Bubble sort, heapsort and quicksort (insertion sort is in sequences.cpp).
#include <functional>
#include <numeric>
#include <utility>

#include "clrs/algorithms/algorithms.hpp"

namespace evoprompt::clrs::algorithms {

Sample bubble_sort(std::vector<double> A) {
  ProbeRecorder probes(builtin_spec("bubble_sort"));
  const auto n = static_cast<std::int64_t>(A.size());
  auto A_pos = iota(n);
  probes.input({{"pos", positions(n)}, {"key", floats(A)}});
  probes.hint({{"pred_h", array_probe(A_pos)}, {"i", mask_one(0, n)}, {"j", mask_one(0, n)}});
  for (std::int64_t i = 0; i < n - 1; ++i)
    for (std::int64_t j = n - 1; j >= i + 1; --j) {
      if (A[j] < A[j - 1]) {
        std::swap(A[j], A[j - 1]);
        std::swap(A_pos[j], A_pos[j - 1]);
      }
      probes.hint({{"pred_h", array_probe(A_pos)}, {"i", mask_one(A_pos[i], n)}, {"j", mask_one(A_pos[j], n)}});
    }
  probes.output({{"pred", array_probe(A_pos)}});
  return probes.finish();
}

Sample heapsort(std::vector<double> A) {
  ProbeRecorder probes(builtin_spec("heapsort"));
  const auto n = static_cast<std::int64_t>(A.size());
  auto A_pos = iota(n);
  probes.input({{"pos", positions(n)}, {"key", floats(A)}});
  auto push = [&](std::int64_t heap_size, std::int64_t i, std::int64_t j, std::int64_t largest,
                  std::int64_t heap_last, std::int64_t phase) {
    probes.hint({{"pred_h", array_probe(A_pos)},
                 {"parent", heap_probe(A_pos, heap_size)},
                 {"i", mask_one(i, n)},
                 {"j", mask_one(j, n)},
                 {"largest", mask_one(largest, n)},
                 {"heap_size", mask_one(heap_last, n)},
                 {"phase", mask_one(phase, 3)}});
  };
  push(n, n - 1, n - 1, n - 1, n - 1, 0);
  std::function<void(std::int64_t, std::int64_t, std::int64_t, std::int64_t)> max_heapify =
      [&](std::int64_t i, std::int64_t heap_size, std::int64_t ind, std::int64_t phase) {
        const auto l = 2 * i + 1, r = 2 * i + 2;
        std::int64_t largest = (l < heap_size && A[l] > A[i]) ? l : i;
        if (r < heap_size && A[r] > A[largest]) largest = r;
        if (largest != i) {
          std::swap(A[i], A[largest]);
          std::swap(A_pos[i], A_pos[largest]);
        }
        push(heap_size, A_pos[ind], A_pos[i], A_pos[largest], A_pos[heap_size - 1], phase);
        if (largest != i) max_heapify(largest, heap_size, ind, phase);
      };
  for (std::int64_t i = n - 1; i >= 0; --i) max_heapify(i, n, i, 0);
  std::int64_t heap_size = n;
  for (std::int64_t i = n - 1; i >= 1; --i) {
    std::swap(A[0], A[i]);
    std::swap(A_pos[0], A_pos[i]);
    --heap_size;
    push(heap_size, A_pos[0], A_pos[i], 0, A_pos[heap_size - 1], 1);
    max_heapify(0, heap_size, i, 2);
  }
  probes.output({{"pred", array_probe(A_pos)}});
  return probes.finish();
}

Sample quicksort(std::vector<double> A) {
  ProbeRecorder probes(builtin_spec("quicksort"));
  const auto n = static_cast<std::int64_t>(A.size());
  auto A_pos = iota(n);
  probes.input({{"pos", positions(n)}, {"key", floats(A)}});
  auto push = [&](std::int64_t p, std::int64_t r, std::int64_t i, std::int64_t j) {
    probes.hint({{"pred_h", array_probe(A_pos)},
                 {"p", mask_one(A_pos[p], n)},
                 {"r", mask_one(A_pos[r], n)},
                 {"i", mask_one(A_pos[i], n)},
                 {"j", mask_one(A_pos[j], n)}});
  };
  auto partition = [&](std::int64_t p, std::int64_t r) {
    const double x = A[r];
    std::int64_t i = p - 1;
    for (std::int64_t j = p; j < r; ++j) {
      if (A[j] <= x) {
        ++i;
        std::swap(A[i], A[j]);
        std::swap(A_pos[i], A_pos[j]);
      }
      push(p, r, i + 1, j);
    }
    std::swap(A[i + 1], A[r]);
    std::swap(A_pos[i + 1], A_pos[r]);
    push(p, r, i + 1, r);
    return i + 1;
  };
  std::function<void(std::int64_t, std::int64_t)> sort = [&](std::int64_t p, std::int64_t r) {
    if (p < r) {
      const auto q = partition(p, r);
      sort(p, q - 1);
      sort(q + 1, r);
    }
  };
  sort(0, n - 1);
  probes.output({{"pred", array_probe(A_pos)}});
  return probes.finish();
}

}  // namespace evoprompt::clrs::algorithms

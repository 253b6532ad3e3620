// Reference executions of the CLRS-30 algorithms: each records the probes
// that the reference implementation pushes, step for step.
#pragma once

#include <cstdint>
#include <numeric>
#include <vector>

#include "clrs/probes.hpp"

namespace evoprompt::clrs::algorithms {

// 0, 1, ..., n-1: an array's initial order, or every node pointing at itself.
inline std::vector<std::int64_t> iota(std::int64_t n) {
  std::vector<std::int64_t> v(static_cast<std::size_t>(n));
  std::iota(v.begin(), v.end(), std::int64_t{0});
  return v;
}

// Sorting / searching / divide and conquer / greedy.
Sample insertion_sort(std::vector<double> A);
Sample bubble_sort(std::vector<double> A);
Sample heapsort(std::vector<double> A);
Sample quicksort(std::vector<double> A);
Sample find_maximum_subarray_kadane(const std::vector<double>& A);
Sample activity_selector(const std::vector<double>& s, const std::vector<double>& f);
Sample task_scheduling(const std::vector<std::int64_t>& d, const std::vector<double>& w);
Sample minimum(const std::vector<double>& A);
Sample binary_search(const std::vector<double>& A, double x);  // A sorted
Sample quickselect(std::vector<double> A);                     // the median, index n / 2

// Dynamic programming.
Sample matrix_chain_order(const std::vector<double>& p);
Sample lcs_length(const std::vector<std::int64_t>& x, const std::vector<std::int64_t>& y);
Sample optimal_bst(const std::vector<double>& p, const std::vector<double>& q);  // |q| = |p| + 1

// Strings: T the haystack, P the needle, over a 4-letter alphabet.
Sample naive_string_matcher(const std::vector<std::int64_t>& T, const std::vector<std::int64_t>& P);
Sample kmp_matcher(const std::vector<std::int64_t>& T, const std::vector<std::int64_t>& P);

// Graphs: A is n x n.
Sample bfs(const Array& A, std::int64_t s);
Sample dfs(const Array& A);
Sample floyd_warshall(const Array& A);
Sample dijkstra(const Array& A, std::int64_t s);
Sample mst_kruskal(const Array& A);
Sample articulation_points(const Array& A);
Sample bridges(const Array& A);
Sample topological_sort(const Array& A);
Sample bellman_ford(const Array& A, std::int64_t s);
Sample mst_prim(const Array& A, std::int64_t s);
Sample dag_shortest_paths(const Array& A, std::int64_t s);
Sample strongly_connected_components(const Array& A);

// Geometry.
Sample segments_intersect(const std::vector<double>& xs, const std::vector<double>& ys);
Sample graham_scan(const std::vector<double>& xs, const std::vector<double>& ys);
Sample jarvis_march(const std::vector<double>& xs, const std::vector<double>& ys);

}  // namespace evoprompt::clrs::algorithms

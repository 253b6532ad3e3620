// Graph algorithms. A is n x n (row-major); the reference visits neighbours
// in increasing index and records the same snapshots.
#include <algorithm>
#include <numeric>
#include <stdexcept>

#include "clrs/algorithms/algorithms.hpp"

namespace evoprompt::clrs::algorithms {

namespace {

std::int64_t nodes_of(const Array& A) {
  if (A.shape.size() != 2 || A.shape[0] != A.shape[1]) throw std::invalid_argument("clrs: A must be square");
  return A.shape[0];
}


std::vector<std::int64_t> to_ints(const std::vector<int>& v) { return {v.begin(), v.end()}; }

}  // namespace

Sample bfs(const Array& A, std::int64_t s) {
  ProbeRecorder probes(builtin_spec("bfs"));
  const auto n = nodes_of(A);
  probes.input({{"pos", positions(n)}, {"s", mask_one(s, n)}, {"A", A}, {"adj", graph_probe(A)}});
  std::vector<double> reach(static_cast<std::size_t>(n), 0.0);
  auto pi = iota(n);
  reach[s] = 1;
  while (true) {
    const auto prev_reach = reach;
    probes.hint({{"reach_h", floats(prev_reach)}, {"pi_h", ints(pi)}});
    for (std::int64_t i = 0; i < n; ++i)
      for (std::int64_t j = 0; j < n; ++j)
        if (A.values[i * n + j] > 0 && prev_reach[i] == 1) {
          if (pi[j] == j && j != s) pi[j] = i;
          reach[j] = 1;
        }
    if (reach == prev_reach) break;
  }
  probes.output({{"pi", ints(pi)}});
  return probes.finish();
}

namespace {

enum class DfsKind { dfs, articulation_points, bridges };

// The iterative DFS shared by dfs, articulation_points (with `low`,
// `child_cnt`, `is_cut`) and bridges (with `low`, `is_bridge`).
Sample dfs_skeleton(const Array& A, DfsKind kind) {
  const bool cut = kind == DfsKind::articulation_points, bridge = kind == DfsKind::bridges;
  const bool with_low = cut || bridge;
  ProbeRecorder probes(builtin_spec(cut ? "articulation_points" : bridge ? "bridges" : "dfs"));
  const auto n = nodes_of(A);
  probes.input({{"pos", positions(n)}, {"A", A}, {"adj", graph_probe(A)}});
  auto at = [&](std::int64_t u, std::int64_t v) { return A.values[u * n + v]; };

  std::vector<int> color(static_cast<std::size_t>(n), 0);
  auto pi = iota(n);
  std::vector<double> d(static_cast<std::size_t>(n), 0.0), f(d), low(d), child_cnt(d), is_cut(d);
  auto s_prev = iota(n);
  double time = 0;
  bool time_is_int = true;  // the reference starts from the int 0
  // bridges: -1 (masked) off the graph, 0 on it (self-loops included).
  std::vector<double> is_bridge;
  if (bridge) {
    is_bridge = graph_probe(A).values;
    for (auto& x : is_bridge) x += -1.0;
  }

  std::int64_t s = 0, u = 0, v = 0, s_last = 0;
  auto push = [&] {
    ProbeValues values;
    if (cut) values.emplace_back("is_cut_h", floats(is_cut));
    if (bridge) values.emplace_back("is_bridge_h", matrix(n, n, is_bridge, DType::float64));
    values.emplace_back("pi_h", ints(pi));
    values.emplace_back("color", array_cat(to_ints(color), 3));
    values.emplace_back("d", floats(d));
    values.emplace_back("f", floats(f));
    if (with_low) values.emplace_back("low", floats(low));
    if (cut) values.emplace_back("child_cnt", floats(child_cnt));
    values.emplace_back("s_prev", ints(s_prev));
    values.emplace_back("s", mask_one(s, n));
    values.emplace_back("u", mask_one(u, n));
    values.emplace_back("v", mask_one(v, n));
    values.emplace_back("s_last", mask_one(s_last, n));
    values.emplace_back("time", time_is_int ? scalar_i(static_cast<std::int64_t>(time)) : scalar_f(time));
    probes.hint(values);
  };

  for (s = 0; s < n; ++s) {
    if (color[s] != 0) continue;
    s_last = s;
    u = s;
    v = s;
    push();
    while (true) {
      if (color[u] == 0 || d[u] == 0.0) {
        time += 0.01;
        time_is_int = false;
        d[u] = time;
        if (with_low) low[u] = time;
        color[u] = 1;
        push();
      }
      // Python's `for v in range(n)` leaves v at n - 1 when it does not break.
      for (v = 0; v < n; ++v) {
        if (at(u, v) == 0) continue;
        if (color[v] == 0) {
          pi[v] = u;
          color[v] = 1;
          s_prev[v] = s_last;
          s_last = v;
          if (cut) child_cnt[u] += 0.01;
          push();
          break;
        }
        if (with_low && v != pi[u]) {
          low[u] = std::min(low[u], d[v]);
          push();
        }
      }
      if (v == n) v = n - 1;

      if (s_last == u) {
        color[u] = 2;
        time += 0.01;
        time_is_int = false;
        f[u] = time;
        if (cut) {
          for (std::int64_t w = 0; w < n; ++w) {
            if (pi[w] == u) {
              low[u] = std::min(low[u], low[w]);
              if (pi[u] != u && low[w] >= d[u]) is_cut[u] = 1;
            }
          }
          if (pi[u] == u && child_cnt[u] > 0.01) is_cut[u] = 1;
        }
        if (bridge) {
          for (std::int64_t w = 0; w < n; ++w) {
            if (pi[w] == u) {
              low[u] = std::min(low[u], low[w]);
              if (low[w] > d[u]) {
                is_bridge[u * n + w] = 1;
                is_bridge[w * n + u] = 1;
              }
            }
          }
        }
        push();
        if (s_prev[u] == u) {
          if (s_prev[s_last] != s_last) throw std::logic_error("clrs: dfs stack inconsistent");
          break;
        }
        const auto pr = s_prev[s_last];
        s_prev[s_last] = s_last;
        s_last = pr;
      }
      u = s_last;
    }
  }
  if (cut)
    probes.output({{"is_cut", floats(is_cut)}});
  else if (bridge)
    probes.output({{"is_bridge", matrix(n, n, is_bridge, DType::float64)}});
  else
    probes.output({{"pi", ints(pi)}});
  return probes.finish();
}

}  // namespace

Sample dfs(const Array& A) { return dfs_skeleton(A, DfsKind::dfs); }
Sample articulation_points(const Array& A) { return dfs_skeleton(A, DfsKind::articulation_points); }
Sample bridges(const Array& A) { return dfs_skeleton(A, DfsKind::bridges); }

Sample topological_sort(const Array& A) {
  ProbeRecorder probes(builtin_spec("topological_sort"));
  const auto n = nodes_of(A);
  probes.input({{"pos", positions(n)}, {"A", A}, {"adj", graph_probe(A)}});
  std::vector<int> color(static_cast<std::size_t>(n), 0);
  auto topo = iota(n);
  auto s_prev = iota(n);
  std::int64_t topo_head = 0, s = 0, u = 0, v = 0, s_last = 0;
  auto push = [&] {
    probes.hint({{"topo_h", ints(topo)},
                 {"topo_head_h", mask_one(topo_head, n)},
                 {"color", array_cat(to_ints(color), 3)},
                 {"s_prev", ints(s_prev)},
                 {"s", mask_one(s, n)},
                 {"u", mask_one(u, n)},
                 {"v", mask_one(v, n)},
                 {"s_last", mask_one(s_last, n)}});
  };
  for (s = 0; s < n; ++s) {
    if (color[s] != 0) continue;
    s_last = u = v = s;
    push();
    while (true) {
      if (color[u] == 0) {
        color[u] = 1;
        push();
      }
      for (v = 0; v < n; ++v) {
        if (A.values[u * n + v] != 0 && color[v] == 0) {
          color[v] = 1;
          s_prev[v] = s_last;
          s_last = v;
          push();
          break;
        }
      }
      if (v == n) v = n - 1;
      if (s_last == u) {
        color[u] = 2;
        if (color[topo_head] == 2) topo[u] = topo_head;
        topo_head = u;
        push();
        if (s_prev[u] == u) break;
        const auto pr = s_prev[s_last];
        s_prev[s_last] = s_last;
        s_last = pr;
      }
      u = s_last;
    }
  }
  probes.output({{"topo", ints(topo)}, {"topo_head", mask_one(topo_head, n)}});
  return probes.finish();
}

Sample bellman_ford(const Array& A, std::int64_t s) {
  ProbeRecorder probes(builtin_spec("bellman_ford"));
  const auto n = nodes_of(A);
  probes.input({{"pos", positions(n)}, {"s", mask_one(s, n)}, {"A", A}, {"adj", graph_probe(A)}});
  std::vector<double> d(static_cast<std::size_t>(n), 0.0), msk(d);
  auto pi = iota(n);
  d[s] = 0;
  msk[s] = 1;
  while (true) {
    const auto prev_d = d;
    const auto prev_msk = msk;
    probes.hint({{"pi_h", ints(pi)}, {"d", floats(prev_d)}, {"msk", floats(prev_msk)}});
    for (std::int64_t u = 0; u < n; ++u)
      for (std::int64_t v = 0; v < n; ++v) {
        const double w = A.values[u * n + v];
        if (prev_msk[u] == 1 && w != 0) {
          if (msk[v] == 0 || prev_d[u] + w < d[v]) {
            d[v] = prev_d[u] + w;
            pi[v] = u;
          }
          msk[v] = 1;
        }
      }
    if (d == prev_d) break;
  }
  probes.output({{"pi", ints(pi)}});
  return probes.finish();
}

namespace {

// Prim and Dijkstra are one loop: take the queued node of least value (the
// first index of the minimum, as argsort(value + (1 - in_queue) * 1e9)[0]),
// mark it, then relax its unmarked neighbours. Prim's value is the edge
// weight w ("key"), Dijkstra's the distance d[u] + w ("d").
Sample least_value_first(const std::string& algorithm, const char* value_probe, bool distances, const Array& A,
                         std::int64_t s) {
  ProbeRecorder probes(builtin_spec(algorithm));
  const auto n = nodes_of(A);
  probes.input({{"pos", positions(n)}, {"s", mask_one(s, n)}, {"A", A}, {"adj", graph_probe(A)}});
  std::vector<double> value(static_cast<std::size_t>(n), 0.0), mark(value), in_queue(value);
  auto pi = iota(n);
  value[s] = 0;
  in_queue[s] = 1;
  auto push = [&](std::int64_t u) {
    probes.hint({{"pi_h", ints(pi)}, {value_probe, floats(value)}, {"mark", floats(mark)},
                 {"in_queue", floats(in_queue)}, {"u", mask_one(u, n)}});
  };
  push(s);
  for (std::int64_t step = 0; step < n; ++step) {
    std::int64_t u = 0;
    double best = 0;
    for (std::int64_t i = 0; i < n; ++i) {
      const double key = value[i] + (1.0 - in_queue[i]) * 1e9;
      if (i == 0 || key < best) {
        best = key;
        u = i;
      }
    }
    if (in_queue[u] == 0) break;
    mark[u] = 1;
    in_queue[u] = 0;
    for (std::int64_t v = 0; v < n; ++v) {
      const double w = A.values[u * n + v];
      const double candidate = distances ? value[u] + w : w;
      if (w != 0 && mark[v] == 0 && (in_queue[v] == 0 || candidate < value[v])) {
        pi[v] = u;
        value[v] = candidate;
        in_queue[v] = 1;
      }
    }
    push(u);
  }
  probes.output({{"pi", ints(pi)}});
  return probes.finish();
}

}  // namespace

Sample mst_prim(const Array& A, std::int64_t s) { return least_value_first("mst_prim", "key", false, A, s); }

Sample floyd_warshall(const Array& A) {
  ProbeRecorder probes(builtin_spec("floyd_warshall"));
  const auto n = nodes_of(A);
  probes.input({{"pos", positions(n)}, {"A", A}, {"adj", graph_probe(A)}});
  std::vector<double> D(A.values);
  std::vector<double> Pi(static_cast<std::size_t>(n * n));
  auto msk = graph_probe(A).values;
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = 0; j < n; ++j) Pi[i * n + j] = static_cast<double>(i);
  for (std::int64_t k = 0; k < n; ++k) {
    const auto prev_D = D;
    const auto prev_msk = msk;
    probes.hint({{"Pi_h", matrix(n, n, Pi, DType::float64)},
                 {"D", matrix(n, n, prev_D, DType::float64)},
                 {"msk", matrix(n, n, prev_msk, DType::float64)},
                 {"k", mask_one(k, n)}});
    for (std::int64_t i = 0; i < n; ++i)
      for (std::int64_t j = 0; j < n; ++j) {
        if (prev_msk[i * n + k] > 0 && prev_msk[k * n + j] > 0) {
          const double via = prev_D[i * n + k] + prev_D[k * n + j];
          if (msk[i * n + j] == 0 || via < D[i * n + j]) {
            D[i * n + j] = via;
            Pi[i * n + j] = Pi[k * n + j];
          } else {
            D[i * n + j] = prev_D[i * n + j];
          }
          msk[i * n + j] = 1;
        }
      }
  }
  probes.output({{"Pi", matrix(n, n, Pi, DType::float64)}});
  return probes.finish();
}

Sample dijkstra(const Array& A, std::int64_t s) { return least_value_first("dijkstra", "d", true, A, s); }

Sample mst_kruskal(const Array& A) {
  ProbeRecorder probes(builtin_spec("mst_kruskal"));
  const auto n = nodes_of(A);
  probes.input({{"pos", positions(n)}, {"A", A}, {"adj", graph_probe(A)}});
  auto pi = iota(n);
  std::vector<double> in_mst(static_cast<std::size_t>(n * n), 0.0);

  auto push = [&](std::int64_t u, std::int64_t v, std::int64_t root_u, std::int64_t root_v,
                  const std::vector<double>& mask_u, const std::vector<double>& mask_v, std::int64_t phase) {
    probes.hint({{"in_mst_h", matrix(n, n, in_mst, DType::float64)},
                 {"pi", ints(pi)},
                 {"u", mask_one(u, n)},
                 {"v", mask_one(v, n)},
                 {"root_u", mask_one(root_u, n)},
                 {"root_v", mask_one(root_v, n)},
                 {"mask_u", floats(mask_u)},
                 {"mask_v", floats(mask_v)},
                 {"phase", mask_one(phase, 3)}});
  };

  auto mst_union = [&](std::int64_t u, std::int64_t v) {
    std::int64_t root_u = u, root_v = v;
    std::vector<double> mask_u(static_cast<std::size_t>(n), 0.0), mask_v(mask_u);
    mask_u[u] = 1;
    mask_v[v] = 1;
    push(u, v, root_u, root_v, mask_u, mask_v, 1);
    while (pi[root_u] != root_u) {
      root_u = pi[root_u];
      for (std::int64_t i = 0; i < n; ++i)
        if (mask_u[i] == 1) pi[i] = root_u;
      mask_u[root_u] = 1;
      push(u, v, root_u, root_v, mask_u, mask_v, 1);
    }
    while (pi[root_v] != root_v) {
      root_v = pi[root_v];
      for (std::int64_t i = 0; i < n; ++i)
        if (mask_v[i] == 1) pi[i] = root_v;
      mask_v[root_v] = 1;
      push(u, v, root_u, root_v, mask_u, mask_v, 2);
    }
    if (root_u < root_v) {
      in_mst[u * n + v] = 1;
      in_mst[v * n + u] = 1;
      pi[root_u] = root_v;
    } else if (root_u > root_v) {
      in_mst[u * n + v] = 1;
      in_mst[v * n + u] = 1;
      pi[root_v] = root_u;
    }
    push(u, v, root_u, root_v, mask_u, mask_v, 0);
  };

  std::vector<std::int64_t> lx, ly;
  std::vector<double> wts;
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = i + 1; j < n; ++j)
      if (A.values[i * n + j] > 0) {
        lx.push_back(i);
        ly.push_back(j);
        wts.push_back(A.values[i * n + j]);
      }
  const std::vector<double> zeros(static_cast<std::size_t>(n), 0.0);
  push(0, 0, 0, 0, zeros, zeros, 0);
  auto order = iota(static_cast<std::int64_t>(wts.size()));
  std::stable_sort(order.begin(), order.end(), [&](std::int64_t a, std::int64_t b) { return wts[a] < wts[b]; });
  for (const auto ind : order) mst_union(lx[ind], ly[ind]);
  probes.output({{"in_mst", matrix(n, n, in_mst, DType::float64)}});
  return probes.finish();
}

Sample dag_shortest_paths(const Array& A, std::int64_t s) {
  ProbeRecorder probes(builtin_spec("dag_shortest_paths"));
  const auto n = nodes_of(A);
  probes.input({{"pos", positions(n)}, {"s", mask_one(s, n)}, {"A", A}, {"adj", graph_probe(A)}});
  auto pi = iota(n);
  std::vector<double> d(static_cast<std::size_t>(n), 0.0), mark(d);
  std::vector<int> color(static_cast<std::size_t>(n), 0);
  auto topo = iota(n);
  auto s_prev = iota(n);
  std::int64_t topo_head = 0, s_last = s, u = s, v = s;
  auto push = [&](std::int64_t phase) {
    probes.hint({{"pi_h", ints(pi)},
                 {"d", floats(d)},
                 {"mark", floats(mark)},
                 {"topo_h", ints(topo)},
                 {"topo_head_h", mask_one(topo_head, n)},
                 {"color", array_cat(to_ints(color), 3)},
                 {"s_prev", ints(s_prev)},
                 {"u", mask_one(u, n)},
                 {"v", mask_one(v, n)},
                 {"s_last", mask_one(s_last, n)},
                 {"phase", scalar_i(phase)}});
  };
  push(0);
  // Phase 0: the topological order of the nodes reachable from s (one DFS).
  while (true) {
    if (color[u] == 0) {
      color[u] = 1;
      push(0);
    }
    for (v = 0; v < n; ++v) {
      if (A.values[u * n + v] != 0 && color[v] == 0) {
        color[v] = 1;
        s_prev[v] = s_last;
        s_last = v;
        push(0);
        break;
      }
    }
    if (v == n) v = n - 1;
    if (s_last == u) {
      color[u] = 2;
      if (color[topo_head] == 2) topo[u] = topo_head;
      topo_head = u;
      push(0);
      if (s_prev[u] == u) {
        if (s_prev[s_last] != s_last) throw std::logic_error("clrs: dag_shortest_paths stack inconsistent");
        break;
      }
      const auto pr = s_prev[s_last];
      s_prev[s_last] = s_last;
      s_last = pr;
    }
    u = s_last;
  }
  if (topo_head != s) throw std::logic_error("clrs: dag_shortest_paths: the order does not start at s");
  // Phase 1: relax the out-edges in topological order.
  d[topo_head] = 0;
  mark[topo_head] = 1;
  while (topo[topo_head] != topo_head) {
    const auto i = topo_head;
    mark[topo_head] = 1;
    push(1);
    for (std::int64_t j = 0; j < n; ++j) {
      const double w = A.values[i * n + j];
      if (w != 0.0 && (mark[j] == 0 || d[i] + w < d[j])) {
        d[j] = d[i] + w;
        pi[j] = i;
        mark[j] = 1;
      }
    }
    topo_head = topo[topo_head];
  }
  push(1);
  probes.output({{"pi", ints(pi)}});
  return probes.finish();
}

Sample strongly_connected_components(const Array& A) {
  ProbeRecorder probes(builtin_spec("strongly_connected_components"));
  const auto n = nodes_of(A);
  probes.input({{"pos", positions(n)}, {"A", A}, {"adj", graph_probe(A)}});
  auto scc_id = iota(n);
  std::vector<int> color(static_cast<std::size_t>(n), 0);
  std::vector<double> d(static_cast<std::size_t>(n), 0.0), f(d);
  auto s_prev = iota(n);
  double time = 0;
  bool time_is_int = true;  // the reference starts from the int 0
  Array A_t = A;
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = 0; j < n; ++j) A_t.values[i * n + j] = A.values[j * n + i];
  const auto A_t_probe = graph_probe(A_t);
  std::int64_t s = 0, u = 0, v = 0, s_last = 0;
  auto push = [&](std::int64_t phase) {
    probes.hint({{"scc_id_h", ints(scc_id)},
                 {"A_t", A_t_probe},
                 {"color", array_cat(to_ints(color), 3)},
                 {"d", floats(d)},
                 {"f", floats(f)},
                 {"s_prev", ints(s_prev)},
                 {"s", mask_one(s, n)},
                 {"u", mask_one(u, n)},
                 {"v", mask_one(v, n)},
                 {"s_last", mask_one(s_last, n)},
                 {"time", time_is_int ? scalar_i(static_cast<std::int64_t>(time)) : scalar_f(time)},
                 {"phase", scalar_i(phase)}});
  };
  // One DFS from s over `G` (A in phase 0, A^T in phase 1).
  auto visit = [&](const Array& G, std::int64_t phase) {
    s_last = u = v = s;
    push(phase);
    while (true) {
      if (phase == 1) scc_id[u] = s;
      if (color[u] == 0 || d[u] == 0.0) {
        time += 0.01;
        time_is_int = false;
        d[u] = time;
        color[u] = 1;
        push(phase);
      }
      for (v = 0; v < n; ++v) {
        if (G.values[u * n + v] != 0 && color[v] == 0) {
          color[v] = 1;
          s_prev[v] = s_last;
          s_last = v;
          push(phase);
          break;
        }
      }
      if (v == n) v = n - 1;
      if (s_last == u) {
        color[u] = 2;
        time += 0.01;
        time_is_int = false;
        f[u] = time;
        push(phase);
        if (s_prev[u] == u) {
          if (s_prev[s_last] != s_last) throw std::logic_error("clrs: scc stack inconsistent");
          break;
        }
        const auto pr = s_prev[s_last];
        s_prev[s_last] = s_last;
        s_last = pr;
      }
      u = s_last;
    }
  };
  for (s = 0; s < n; ++s)
    if (color[s] == 0) visit(A, 0);
  std::fill(color.begin(), color.end(), 0);
  s_prev = iota(n);
  // argsort(-f): by decreasing finishing time (all distinct).
  auto order = iota(n);
  std::stable_sort(order.begin(), order.end(), [&](std::int64_t a, std::int64_t b) { return -f[a] < -f[b]; });
  for (const auto node : order) {
    s = node;
    if (color[s] == 0) visit(A_t, 1);
  }
  probes.output({{"scc_id", ints(scc_id)}});
  return probes.finish();
}

}  // namespace evoprompt::clrs::algorithms

// Geometry algorithms.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

#include "clrs/algorithms/algorithms.hpp"

namespace evoprompt::clrs::algorithms {

Sample segments_intersect(const std::vector<double>& xs, const std::vector<double>& ys) {
  if (xs.size() != 4 || ys.size() != 4) throw std::invalid_argument("clrs: segments_intersect needs 4 points");
  ProbeRecorder probes(builtin_spec("segments_intersect"));
  const std::int64_t n = 4;
  std::vector<double> dirs(4, 0.0), on_seg(4, 0.0);
  probes.input({{"pos", positions(n)}, {"x", floats(xs)}, {"y", floats(ys)}});
  auto push = [&](std::int64_t i, std::int64_t j, std::int64_t k) {
    probes.hint({{"i", mask_one(i, n)}, {"j", mask_one(j, n)}, {"k", mask_one(k, n)}, {"dir", floats(dirs)},
                 {"on_seg", floats(on_seg)}});
  };
  push(0, 0, 0);
  auto cross = [](double x1, double y1, double x2, double y2) { return x1 * y2 - x2 * y1; };
  auto direction = [&](int i, int j, int k) {
    return cross(xs[k] - xs[i], ys[k] - ys[i], xs[j] - xs[i], ys[j] - ys[i]);
  };
  auto on_segment = [&](int i, int j, int k) -> double {
    if (std::min(xs[i], xs[j]) <= xs[k] && xs[k] <= std::max(xs[i], xs[j]))
      if (std::min(ys[i], ys[j]) <= ys[k] && ys[k] <= std::max(ys[i], ys[j])) return 1;
    return 0;
  };
  const int order[4][3] = {{2, 3, 0}, {2, 3, 1}, {0, 1, 2}, {0, 1, 3}};
  for (int t = 0; t < 4; ++t) {
    const auto [i, j, k] = order[t];
    dirs[t] = direction(i, j, k);
    on_seg[t] = on_segment(i, j, k);
    push(i, j, k);
  }
  std::int64_t ret = 0;
  if (((dirs[0] > 0 && dirs[1] < 0) || (dirs[0] < 0 && dirs[1] > 0)) &&
      ((dirs[2] > 0 && dirs[3] < 0) || (dirs[2] < 0 && dirs[3] > 0)))
    ret = 1;
  else
    for (int t = 0; t < 4; ++t)
      if (dirs[t] == 0 && on_seg[t] != 0) {
        ret = 1;
        break;
      }
  probes.output({{"intersect", scalar_i(ret)}});
  return probes.finish();
}

Sample graham_scan(const std::vector<double>& xs, const std::vector<double>& ys) {
  ProbeRecorder probes(builtin_spec("graham_scan"));
  const auto n = static_cast<std::int64_t>(xs.size());
  std::vector<double> in_hull(static_cast<std::size_t>(n), 0.0), atans(in_hull);
  std::vector<std::int64_t> stack_prev(static_cast<std::size_t>(n));
  std::iota(stack_prev.begin(), stack_prev.end(), std::int64_t{0});
  probes.input({{"pos", positions(n)}, {"x", floats(xs)}, {"y", floats(ys)}});
  auto push = [&](std::int64_t best, std::int64_t last_stack, std::int64_t i, std::int64_t phase) {
    probes.hint({{"best", mask_one(best, n)},
                 {"atans", floats(atans)},
                 {"in_hull_h", floats(in_hull)},
                 {"stack_prev", ints(stack_prev)},
                 {"last_stack", mask_one(last_stack, n)},
                 {"i", mask_one(i, n)},
                 {"phase", mask_one(phase, 5)}});
  };
  push(0, 0, 0, 0);
  auto ccw = [&](std::int64_t i, std::int64_t j, std::int64_t k) {
    return ((xs[j] - xs[i]) * (ys[k] - ys[i]) - (ys[j] - ys[i]) * (xs[k] - xs[i])) <= 0;
  };
  std::int64_t best = 0;
  for (std::int64_t i = 0; i < n; ++i)
    if (ys[i] < ys[best] || (ys[i] == ys[best] && xs[i] < xs[best])) best = i;
  in_hull[best] = 1;
  std::int64_t last_stack = best;
  push(best, last_stack, best, 1);

  for (std::int64_t i = 0; i < n; ++i)
    if (i != best) atans[i] = std::atan2(ys[i] - ys[best], xs[i] - xs[best]);
  atans[best] = -123456789;
  std::vector<std::int64_t> ind(static_cast<std::size_t>(n));
  std::iota(ind.begin(), ind.end(), std::int64_t{0});
  std::stable_sort(ind.begin(), ind.end(), [&](std::int64_t a, std::int64_t b) { return atans[a] < atans[b]; });
  atans[best] = 0;
  push(best, last_stack, best, 2);

  for (std::int64_t i = 1; i < n; ++i) {
    if (i >= 3) {
      while (ccw(stack_prev[last_stack], last_stack, ind[i])) {
        const auto prev_last = last_stack;
        last_stack = stack_prev[last_stack];
        stack_prev[prev_last] = prev_last;
        in_hull[prev_last] = 0;
        push(best, last_stack, ind[i], 3);
      }
    }
    in_hull[ind[i]] = 1;
    stack_prev[ind[i]] = last_stack;
    last_stack = ind[i];
    push(best, last_stack, ind[i], 4);
  }
  probes.output({{"in_hull", floats(in_hull)}});
  return probes.finish();
}

Sample jarvis_march(const std::vector<double>& xs, const std::vector<double>& ys) {
  ProbeRecorder probes(builtin_spec("jarvis_march"));
  const auto n = static_cast<std::int64_t>(xs.size());
  std::vector<std::int64_t> order(static_cast<std::size_t>(n));
  std::iota(order.begin(), order.end(), std::int64_t{0});
  const auto pred = array_probe(order);
  std::vector<double> in_hull(static_cast<std::size_t>(n), 0.0);
  probes.input({{"pos", positions(n)}, {"x", floats(xs)}, {"y", floats(ys)}});
  std::int64_t best = 0, last_point = 0, endpoint = 0;
  auto push = [&](std::int64_t i, std::int64_t phase) {
    probes.hint({{"pred_h", pred},
                 {"in_hull_h", floats(in_hull)},
                 {"best", mask_one(best, n)},
                 {"last_point", mask_one(last_point, n)},
                 {"endpoint", mask_one(endpoint, n)},
                 {"i", mask_one(i, n)},
                 {"phase", mask_one(phase, 2)}});
  };
  push(0, 0);
  auto ccw = [&](std::int64_t i, std::int64_t j, std::int64_t k) {
    if (k == i || k == j) return false;
    return ((xs[j] - xs[i]) * (ys[k] - ys[i]) - (ys[j] - ys[i]) * (xs[k] - xs[i])) <= 0;
  };
  for (std::int64_t i = 0; i < n; ++i)
    if (ys[i] < ys[best] || (ys[i] == ys[best] && xs[i] < xs[best])) best = i;
  in_hull[best] = 1;
  last_point = best;
  endpoint = 0;
  push(0, 1);
  while (true) {
    for (std::int64_t i = 0; i < n; ++i) {
      if (endpoint == last_point || ccw(last_point, endpoint, i)) endpoint = i;
      push(i, 1);
    }
    if (in_hull[endpoint] > 0) break;
    in_hull[endpoint] = 1;
    last_point = endpoint;
    endpoint = 0;
    push(0, 1);
  }
  probes.output({{"in_hull", floats(in_hull)}});
  return probes.finish();
}

}  // namespace evoprompt::clrs::algorithms

#include "population.hpp"

#include <algorithm>

namespace evoprompt::engine {

double fitness(std::int64_t params, double best_val_acc) {
  return -(static_cast<double>(params) * (1.0 - best_val_acc));
}

bool fitter(const Individual& a, const Individual& b) {
  if (a.fitness != b.fitness) return a.fitness > b.fitness;
  return a.id < b.id;
}

void Population::add(const Individual& individual) {
  live_.push_back(individual);
  archive_.push_back(individual);
}

std::vector<Individual> Population::get_top(std::size_t p) {
  std::stable_sort(live_.begin(), live_.end(), fitter);
  const std::size_t take = std::min(p, live_.size());
  std::vector<Individual> top(live_.begin(), live_.begin() + static_cast<std::ptrdiff_t>(take));
  live_.erase(live_.begin(), live_.begin() + static_cast<std::ptrdiff_t>(take));
  return top;
}

std::vector<Individual> Population::draw_random(std::size_t p, std::mt19937_64& rng) {
  // Ordered first, so the draw depends only on the set and the RNG.
  std::stable_sort(live_.begin(), live_.end(), [](const Individual& a, const Individual& b) { return a.id < b.id; });
  std::vector<Individual> drawn;
  while (drawn.size() < p && !live_.empty()) {
    std::uniform_int_distribution<std::size_t> pick(0, live_.size() - 1);
    const std::size_t i = pick(rng);
    drawn.push_back(live_[i]);
    live_.erase(live_.begin() + static_cast<std::ptrdiff_t>(i));
  }
  return drawn;
}

std::vector<Individual> Population::archive_top(std::size_t p) const {
  std::vector<Individual> all = archive_;
  std::stable_sort(all.begin(), all.end(), fitter);
  if (all.size() > p) all.resize(p);
  return all;
}

}  // namespace evoprompt::engine

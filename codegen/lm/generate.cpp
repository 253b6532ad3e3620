#include "generate.hpp"

#include <algorithm>
#include <random>
#include <stdexcept>

namespace evoprompt::codegen::lm {

namespace {

std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// The earliest position where any stop string starts in text, or npos.
std::size_t find_stop(const std::string& text, const std::vector<std::string>& stop) {
  std::size_t best = std::string::npos;
  for (const std::string& s : stop) {
    if (s.empty()) continue;
    const std::size_t p = text.find(s);
    if (p < best) best = p;
  }
  return best;
}

}  // namespace

torch::Tensor sample_tokens(const torch::Tensor& logits_in, const std::vector<double>& temperatures, double top_p,
                            const std::vector<double>& uniforms) {
  torch::NoGradGuard no_grad;
  const std::int64_t n = logits_in.size(0);
  if (static_cast<std::int64_t>(temperatures.size()) != n || static_cast<std::int64_t>(uniforms.size()) != n) {
    throw std::invalid_argument("sample_tokens: one temperature and one uniform per row");
  }
  torch::Tensor logits = logits_in.to(torch::kFloat32);
  const auto dev = logits.device();
  torch::Tensor greedy = logits.argmax(-1);
  bool any_sampled = false;
  std::vector<float> inv_t(n, 1.0f);
  std::vector<std::uint8_t> is_greedy(n, 1);
  for (std::int64_t i = 0; i < n; ++i) {
    if (temperatures[i] > 0) {
      any_sampled = true;
      is_greedy[i] = 0;
      inv_t[i] = static_cast<float>(1.0 / temperatures[i]);
    }
  }
  if (!any_sampled) return greedy.to(torch::kCPU);
  torch::Tensor scale = torch::tensor(inv_t).to(dev).unsqueeze(1);
  torch::Tensor probs = torch::softmax(logits * scale, -1);
  auto sorted = probs.sort(-1, /*descending=*/true);
  torch::Tensor sp = std::get<0>(sorted), si = std::get<1>(sorted);
  torch::Tensor cum = sp.cumsum(-1);
  if (top_p < 1.0) {
    // Keep the smallest prefix whose mass reaches top_p (always the top token).
    torch::Tensor drop = (cum - sp) >= top_p;
    sp = sp.masked_fill(drop, 0.0);
    cum = sp.cumsum(-1);
  }
  torch::Tensor total = cum.narrow(-1, cum.size(-1) - 1, 1);
  std::vector<float> u(uniforms.begin(), uniforms.end());
  torch::Tensor target = torch::tensor(u).to(dev).unsqueeze(1) * total;
  // The first index whose cumulative mass exceeds the target.
  torch::Tensor idx = (cum <= target).sum(-1, true).clamp_max(cum.size(-1) - 1);
  // Never land on a dropped (zero-mass) token through rounding.
  torch::Tensor last_kept = ((sp > 0).sum(-1, true) - 1).clamp_min(0);
  idx = torch::minimum(idx, last_kept);
  torch::Tensor sampled = si.gather(-1, idx).squeeze(-1);
  torch::Tensor g = torch::tensor(std::vector<std::uint8_t>(is_greedy.begin(), is_greedy.end()))
                        .to(dev).to(torch::kBool);
  return torch::where(g, greedy, sampled).to(torch::kCPU);
}

std::vector<GeneratedSample> generate(LlamaModelImpl& model, const std::vector<std::int32_t>& prompt,
                                      const GenerateOptions& options, const Detokenizer& detokenize) {
  torch::NoGradGuard no_grad;
  const std::int64_t n = static_cast<std::int64_t>(options.temperatures.size());
  std::vector<GeneratedSample> out(n);
  if (n == 0) return out;
  if (prompt.empty()) throw std::invalid_argument("generate: empty prompt");
  if (!options.stop.empty() && !detokenize) throw std::invalid_argument("generate: stop strings need a detokenizer");
  if (options.max_new_tokens <= 0) {
    for (auto& s : out) s.finish_reason = "length";
    return out;
  }
  std::vector<std::mt19937_64> rngs;
  for (std::int64_t i = 0; i < n; ++i) {
    rngs.emplace_back(splitmix64(options.seed ^ splitmix64(options.first_stream + static_cast<std::uint64_t>(i) + 1)));
  }
  std::uniform_real_distribution<double> unif(0.0, 1.0);

  const std::int64_t plen = static_cast<std::int64_t>(prompt.size());
  const torch::Tensor& prefix = options.prefix_embeds;
  if (prefix.defined() && (prefix.dim() != 2 || prefix.size(1) != model.config().hidden_size)) {
    throw std::invalid_argument("generate: prefix_embeds must be [P, hidden]");
  }
  const std::int64_t pre = prefix.defined() ? prefix.size(0) : 0;
  KVCache cache = model.new_cache(1, pre + plen + options.max_new_tokens);
  torch::Tensor ids = torch::tensor(std::vector<std::int64_t>(prompt.begin(), prompt.end())).unsqueeze(0);
  torch::Tensor logits;  // [1, V]
  if (pre > 0) {
    torch::Tensor x = torch::cat({prefix.to(model.device(), model.dtype()).unsqueeze(0), model.embed(ids)}, 1);
    logits = model.forward_embeds(x, &cache).select(1, pre + plen - 1);
  } else {
    logits = model.forward(ids, &cache).select(1, plen - 1);
  }
  cache.expand(n);
  logits = logits.expand({n, logits.size(1)});

  std::vector<bool> text_done(n, false);
  std::vector<std::int64_t> active(n);   // batch row r holds sample active[r]
  for (std::int64_t i = 0; i < n; ++i) active[i] = i;
  for (std::int64_t step = 0; step < options.max_new_tokens && !active.empty(); ++step) {
    std::vector<double> temps, us;
    for (std::int64_t s : active) {
      temps.push_back(options.temperatures[s]);
      us.push_back(unif(rngs[s]));
    }
    torch::Tensor next = sample_tokens(logits, temps, options.top_p, us);
    const auto* np = next.data_ptr<std::int64_t>();
    std::vector<std::int64_t> keep_rows, still_active;
    std::vector<std::int64_t> feed;
    for (std::size_t r = 0; r < active.size(); ++r) {
      GeneratedSample& g = out[active[r]];
      const auto tok = static_cast<std::int32_t>(np[r]);
      bool done = false;
      if (std::find(options.stop_token_ids.begin(), options.stop_token_ids.end(), tok) !=
          options.stop_token_ids.end()) {
        g.finish_reason = "stop";
        done = true;
      } else {
        g.tokens.push_back(tok);
        if (!options.stop.empty()) {
          const std::string text = detokenize(g.tokens);
          const std::size_t p = find_stop(text, options.stop);
          if (p != std::string::npos) {
            g.text = text.substr(0, p);
            text_done[active[r]] = true;
            g.finish_reason = "stop";
            done = true;
          }
        }
        if (!done && static_cast<std::int64_t>(g.tokens.size()) >= options.max_new_tokens) {
          g.finish_reason = "length";
          done = true;
        }
      }
      if (!done) {
        keep_rows.push_back(static_cast<std::int64_t>(r));
        still_active.push_back(active[r]);
        feed.push_back(tok);
      }
    }
    if (still_active.empty()) break;
    if (still_active.size() != active.size()) cache.select(torch::tensor(keep_rows));
    active = std::move(still_active);
    logits = model.forward(torch::tensor(feed).unsqueeze(1), &cache).select(1, 0);
  }
  if (detokenize) {
    for (std::int64_t i = 0; i < n; ++i) {
      if (!text_done[i]) out[i].text = detokenize(out[i].tokens);
    }
  }
  return out;
}

}  // namespace evoprompt::codegen::lm

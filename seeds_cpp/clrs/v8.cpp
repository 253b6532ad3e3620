// Paper seed v8 (Appendix A.5, get_triplet_msgs_v8): no triplets at all, a
// simple linear representation: hk.nets.MLP([out_size]) of z, expanded at
// axis 1 and tiled [1, N, 1, 1] "to maintain dimensional consistency"
// (out[b, i, j] = MLP(z)[b, j]). The edge and graph features are unused.
// 32,896 parameters for z 256, out 128.
struct Triplet : torch::nn::Module {
  int64_t nb_triplet_fts, out_size;
  torch::nn::Sequential linear_rep{nullptr};

  Triplet(int64_t nb_triplet_fts, int64_t out_size) : nb_triplet_fts(nb_triplet_fts), out_size(out_size) {}

  // hk.Linear(size) applied to x.
  torch::Tensor linear(torch::nn::Linear& layer, const std::string& name, const torch::Tensor& x, int64_t size) {
    if (!layer) {
      layer = register_module(name, torch::nn::Linear(x.size(-1), size));
      layer->to(x.device());
    }
    return layer(x);
  }

  // hk.nets.MLP(sizes) applied to x: Linear layers with ReLU between them
  // (none after the last).
  torch::Tensor mlp(torch::nn::Sequential& net, const std::string& name, const torch::Tensor& x,
                    const std::vector<int64_t>& sizes) {
    if (!net) {
      torch::nn::Sequential layers;
      int64_t in = x.size(-1);
      for (size_t i = 0; i < sizes.size(); ++i) {
        if (i > 0) layers->push_back(torch::nn::ReLU());
        layers->push_back(torch::nn::Linear(in, sizes[i]));
        in = sizes[i];
      }
      net = register_module(name, layers);
      net->to(x.device());
    }
    return net->forward(x);
  }

  torch::Tensor forward(torch::Tensor z, torch::Tensor edge_fts, torch::Tensor graph_fts) {
    const int64_t n = z.size(1);
    auto rep = mlp(linear_rep, "linear_rep", z, {out_size});  // [B, N, out_size]
    return rep.unsqueeze(1).repeat({1, n, 1, 1});              // [B, N, N, out_size]
  }
};

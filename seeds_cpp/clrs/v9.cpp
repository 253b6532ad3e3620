// Paper seed v9 (Appendix A.5, get_triplet_msgs_v9): bilinear-style
// representations (Mnih & Hinton 2007),
//   rep_fn(x, size) = hk.nets.MLP([size])(x) * hk.nets.MLP([size * 8, size])(x),
// used for v1's three node, three edge and one graph terms (size
// nb_triplet_fts) and as the output layer, rep_fn(max over axis 1, out_size).
// 237,872 parameters for z 256, edges/graph 128, H 8, out 128.
struct Triplet : torch::nn::Module {
  int64_t nb_triplet_fts, out_size;
  torch::nn::Sequential t_1_a{nullptr}, t_1_b{nullptr}, t_2_a{nullptr}, t_2_b{nullptr}, t_3_a{nullptr}, t_3_b{nullptr};
  torch::nn::Sequential t_e_1_a{nullptr}, t_e_1_b{nullptr}, t_e_2_a{nullptr}, t_e_2_b{nullptr}, t_e_3_a{nullptr},
      t_e_3_b{nullptr};
  torch::nn::Sequential t_g_a{nullptr}, t_g_b{nullptr}, o3_a{nullptr}, o3_b{nullptr};

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

  // rep_fn(x, size): the product of a projection and a two-layer MLP (two
  // statements, so the layers are always made, and initialised, in this order).
  torch::Tensor rep_fn(torch::nn::Sequential& a, torch::nn::Sequential& b, const std::string& name,
                       const torch::Tensor& x, int64_t size) {
    auto projection = mlp(a, name + "_a", x, {size});
    return projection * mlp(b, name + "_b", x, {size * 8, size});
  }

  torch::Tensor forward(torch::Tensor z, torch::Tensor edge_fts, torch::Tensor graph_fts) {
    auto tri_1 = rep_fn(t_1_a, t_1_b, "t_1", z, nb_triplet_fts).unsqueeze(2).unsqueeze(3);  // [B, N, 1, 1, H]
    auto tri_2 = rep_fn(t_2_a, t_2_b, "t_2", z, nb_triplet_fts).unsqueeze(1).unsqueeze(3);  // [B, 1, N, 1, H]
    auto tri_3 = rep_fn(t_3_a, t_3_b, "t_3", z, nb_triplet_fts).unsqueeze(1).unsqueeze(2);  // [B, 1, 1, N, H]
    auto tri_e_1 = rep_fn(t_e_1_a, t_e_1_b, "t_e_1", edge_fts, nb_triplet_fts).unsqueeze(3);  // [B, N, N, 1, H]
    auto tri_e_2 = rep_fn(t_e_2_a, t_e_2_b, "t_e_2", edge_fts, nb_triplet_fts).unsqueeze(2);  // [B, N, 1, N, H]
    auto tri_e_3 = rep_fn(t_e_3_a, t_e_3_b, "t_e_3", edge_fts, nb_triplet_fts).unsqueeze(1);  // [B, 1, N, N, H]
    auto tri_g = rep_fn(t_g_a, t_g_b, "t_g", graph_fts, nb_triplet_fts).unsqueeze(1).unsqueeze(1).unsqueeze(1);
    auto triplets = tri_1 + tri_2 + tri_3 + tri_e_1 + tri_e_2 + tri_e_3 + tri_g;  // [B, N, N, N, H]
    return rep_fn(o3_a, o3_b, "o3", std::get<0>(triplets.max(1)), out_size);     // [B, N, N, out_size]
  }
};

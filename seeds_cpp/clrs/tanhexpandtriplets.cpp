// Paper function TANHEXPANDTRIPLETS (Appendix A.4, Listing 8), found by
// EvoPrompting: v1's three node and three edge terms; the graph
// representation hk.nets.MLP([nb_triplet_fts]) is added three times, with
// expand_dims axes (1,2,3), (2,3,1) and (3,1,2) (the same [B, 1, 1, 1, H]
// shape each time, and the same module: its parameters count once), then
// tanh of the max over axis 1 and hk.Linear(out_size).
// 11,448 parameters for z 256, edges/graph 128, H 8, out 128.
struct Triplet : torch::nn::Module {
  int64_t nb_triplet_fts, out_size;
  torch::nn::Linear t_1{nullptr}, t_2{nullptr}, t_3{nullptr};
  torch::nn::Linear t_e_1{nullptr}, t_e_2{nullptr}, t_e_3{nullptr};
  torch::nn::Sequential graph_rep{nullptr};
  torch::nn::Linear o3{nullptr};

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
    auto tri_1 = linear(t_1, "t_1", z, nb_triplet_fts).unsqueeze(2).unsqueeze(3);  // [B, N, 1, 1, H]
    auto tri_2 = linear(t_2, "t_2", z, nb_triplet_fts).unsqueeze(1).unsqueeze(3);  // [B, 1, N, 1, H]
    auto tri_3 = linear(t_3, "t_3", z, nb_triplet_fts).unsqueeze(1).unsqueeze(2);  // [B, 1, 1, N, H]
    auto tri_e_1 = linear(t_e_1, "t_e_1", edge_fts, nb_triplet_fts).unsqueeze(3);  // [B, N, N, 1, H]
    auto tri_e_2 = linear(t_e_2, "t_e_2", edge_fts, nb_triplet_fts).unsqueeze(2);  // [B, N, 1, N, H]
    auto tri_e_3 = linear(t_e_3, "t_e_3", edge_fts, nb_triplet_fts).unsqueeze(1);  // [B, 1, N, N, H]
    auto tri_g_1 = mlp(graph_rep, "graph_rep", graph_fts, {nb_triplet_fts}).unsqueeze(1).unsqueeze(1).unsqueeze(1);
    auto tri_g_2 = mlp(graph_rep, "graph_rep", graph_fts, {nb_triplet_fts}).unsqueeze(1).unsqueeze(1).unsqueeze(1);
    auto tri_g_3 = mlp(graph_rep, "graph_rep", graph_fts, {nb_triplet_fts}).unsqueeze(1).unsqueeze(1).unsqueeze(1);
    auto triplets = tri_1 + tri_2 + tri_3 + tri_e_1 + tri_e_2 + tri_e_3 + tri_g_1 + tri_g_2 + tri_g_3;  // [B, N, N, N, H]
    return linear(o3, "o3", torch::tanh(std::get<0>(triplets.max(1))), out_size);  // [B, N, N, out_size]
  }
};

// Paper seed v4 (Appendix A.5, get_triplet_msgs_v4): v1 (the Ibarz et al.
// triplet) with fully connected node representations: each of the three node
// terms is hk.nets.MLP([nb_triplet_fts, nb_triplet_fts]) of z. The edge and
// graph terms stay hk.Linear(nb_triplet_fts); max over axis 1, then
// hk.Linear(out_size). 11,664 parameters for z 256, edges/graph 128, H 8, out 128.
struct Triplet : torch::nn::Module {
  int64_t nb_triplet_fts, out_size;
  torch::nn::Sequential t_1{nullptr}, t_2{nullptr}, t_3{nullptr};
  torch::nn::Linear t_e_1{nullptr}, t_e_2{nullptr}, t_e_3{nullptr};
  torch::nn::Linear t_g{nullptr}, o3{nullptr};

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
    const std::vector<int64_t> node_sizes = {nb_triplet_fts, nb_triplet_fts};
    auto tri_1 = mlp(t_1, "t_1", z, node_sizes).unsqueeze(2).unsqueeze(3);  // [B, N, 1, 1, H]
    auto tri_2 = mlp(t_2, "t_2", z, node_sizes).unsqueeze(1).unsqueeze(3);  // [B, 1, N, 1, H]
    auto tri_3 = mlp(t_3, "t_3", z, node_sizes).unsqueeze(1).unsqueeze(2);  // [B, 1, 1, N, H]
    auto tri_e_1 = linear(t_e_1, "t_e_1", edge_fts, nb_triplet_fts).unsqueeze(3);  // [B, N, N, 1, H]
    auto tri_e_2 = linear(t_e_2, "t_e_2", edge_fts, nb_triplet_fts).unsqueeze(2);  // [B, N, 1, N, H]
    auto tri_e_3 = linear(t_e_3, "t_e_3", edge_fts, nb_triplet_fts).unsqueeze(1);  // [B, 1, N, N, H]
    auto tri_g = linear(t_g, "t_g", graph_fts, nb_triplet_fts).unsqueeze(1).unsqueeze(1).unsqueeze(1);  // [B, 1, 1, 1, H]
    auto triplets = tri_1 + tri_2 + tri_3 + tri_e_1 + tri_e_2 + tri_e_3 + tri_g;  // [B, N, N, N, H]
    return linear(o3, "o3", std::get<0>(triplets.max(1)), out_size);             // [B, N, N, out_size]
  }
};

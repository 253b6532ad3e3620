// Paper function DIV2MEAN (Appendix A.4, Listing 9), found by EvoPrompting:
// v1's three node projections hk.Linear(nb_triplet_fts) take z / 2 ("scales
// each of the node representations by 1/2"), v1's three edge terms, no graph
// term, the mean over axis 1 instead of the max, then hk.Linear(out_size).
// 10,416 parameters for z 256, edges 128, H 8, out 128.
struct Triplet : torch::nn::Module {
  int64_t nb_triplet_fts, out_size;
  torch::nn::Linear t_1{nullptr}, t_2{nullptr}, t_3{nullptr};
  torch::nn::Linear t_e_1{nullptr}, t_e_2{nullptr}, t_e_3{nullptr};
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

  torch::Tensor forward(torch::Tensor z, torch::Tensor edge_fts, torch::Tensor graph_fts) {
    auto half_z = z / 2;
    auto tri_1 = linear(t_1, "t_1", half_z, nb_triplet_fts).unsqueeze(2).unsqueeze(3);  // [B, N, 1, 1, H]
    auto tri_2 = linear(t_2, "t_2", half_z, nb_triplet_fts).unsqueeze(1).unsqueeze(3);  // [B, 1, N, 1, H]
    auto tri_3 = linear(t_3, "t_3", half_z, nb_triplet_fts).unsqueeze(1).unsqueeze(2);  // [B, 1, 1, N, H]
    auto tri_e_1 = linear(t_e_1, "t_e_1", edge_fts, nb_triplet_fts).unsqueeze(3);  // [B, N, N, 1, H]
    auto tri_e_2 = linear(t_e_2, "t_e_2", edge_fts, nb_triplet_fts).unsqueeze(2);  // [B, N, 1, N, H]
    auto tri_e_3 = linear(t_e_3, "t_e_3", edge_fts, nb_triplet_fts).unsqueeze(1);  // [B, 1, N, N, H]
    auto triplets = tri_1 + tri_2 + tri_3 + tri_e_1 + tri_e_2 + tri_e_3;  // [B, N, N, N, H]
    return linear(o3, "o3", triplets.mean(1), out_size);                 // [B, N, N, out_size]
  }
};

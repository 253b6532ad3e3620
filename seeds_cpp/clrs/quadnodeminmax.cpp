// Paper function QUADNODEMINMAX (Appendix A.4, Listing 6), found by
// EvoPrompting: four node projections hk.Linear(nb_triplet_fts) of z and no
// edge or graph terms, broadcast with node_pair_inversions
// [(1,2), (1,3), (2,3), (3,1)] (expand_dims axes; (3,1) gives the same shape
// as (1,3)), summed, then max minus min over axis 1. There is no output
// layer: the result is [B, N, N, nb_triplet_fts], not out_size wide.
// 8,224 parameters for z 256, H 8.
struct Triplet : torch::nn::Module {
  int64_t nb_triplet_fts, out_size;
  torch::nn::Linear t_1{nullptr}, t_2{nullptr}, t_3{nullptr}, t_4{nullptr};

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
    auto tri_1 = linear(t_1, "t_1", z, nb_triplet_fts).unsqueeze(1).unsqueeze(2);  // (1,2): [B, 1, 1, N, H]
    auto tri_2 = linear(t_2, "t_2", z, nb_triplet_fts).unsqueeze(1).unsqueeze(3);  // (1,3): [B, 1, N, 1, H]
    auto tri_3 = linear(t_3, "t_3", z, nb_triplet_fts).unsqueeze(2).unsqueeze(3);  // (2,3): [B, N, 1, 1, H]
    auto tri_4 = linear(t_4, "t_4", z, nb_triplet_fts).unsqueeze(1).unsqueeze(3);  // (3,1): [B, 1, N, 1, H]
    auto triplets = tri_1 + tri_2 + tri_3 + tri_4;                                 // [B, N, N, N, H]
    return std::get<0>(triplets.max(1)) - std::get<0>(triplets.min(1));           // [B, N, N, H]
  }
};

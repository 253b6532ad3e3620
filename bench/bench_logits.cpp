// Logits of a Hugging Face Llama / Qwen2 folder through the embedded LM's
// model (codegen/lm), for the logit-parity check of scripts/gpu-check.sh
// against transformers.
//   evoprompt_bench_logits DIR IDS OUT [--device cpu|cuda] [--dtype f32|bf16]
// IDS: comma-separated token ids; OUT: raw little-endian float32 [len(IDS), vocab].
#include <torch/torch.h>

#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "llama_model.hpp"

int main(int argc, char** argv) {
  namespace lm = evoprompt::codegen::lm;
  if (argc < 4) {
    std::cerr << "usage: evoprompt_bench_logits DIR IDS OUT [--device cpu|cuda] [--dtype f32|bf16]\n";
    return 2;
  }
  try {
    torch::Device device = torch::kCPU;
    torch::Dtype dtype = torch::kFloat32;
    for (int i = 4; i + 1 < argc; i += 2) {
      const std::string a = argv[i], v = argv[i + 1];
      if (a == "--device" && (v == "cpu" || v == "cuda")) device = v == "cuda" ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);
      else if (a == "--dtype" && (v == "f32" || v == "bf16")) dtype = v == "bf16" ? torch::kBFloat16 : torch::kFloat32;
      else throw std::invalid_argument("unknown argument " + a + " " + v);
    }
    std::vector<std::int64_t> ids;
    std::stringstream list(argv[2]);
    for (std::string id; std::getline(list, id, ',');) ids.push_back(std::stoll(id));
    if (ids.empty()) throw std::invalid_argument("no token ids");
    torch::NoGradGuard no_grad;
    lm::LlamaModel model = lm::load_llama_model(argv[1], device, dtype);
    const torch::Tensor logits =
        model->forward(torch::tensor(ids).unsqueeze(0)).squeeze(0).to(torch::kCPU, torch::kFloat32).contiguous();
    std::ofstream out(argv[3], std::ios::binary);
    out.write(reinterpret_cast<const char*>(logits.data_ptr<float>()), static_cast<std::streamsize>(logits.numel() * 4));
    if (!out) throw std::runtime_error(std::string("cannot write ") + argv[3]);
    std::cout << "{\"tokens\":" << logits.size(0) << ",\"vocab\":" << logits.size(1) << ",\"device\":\"" << device.str()
              << "\"}\n";
  } catch (const std::exception& e) {
    std::cerr << "evoprompt_bench_logits: error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

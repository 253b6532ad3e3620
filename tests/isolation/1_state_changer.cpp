// Changes process-wide torch state in its constructor: the RNG, the default
// dtype, the thread count, anomaly mode, cuDNN benchmarking, flush-denormal,
// deterministic algorithms and warn-always. Its own training
// then fails (double parameters against float inputs).
struct Model : torch::nn::Module {
  torch::nn::Linear fc{nullptr};
  Model() {
    torch::manual_seed(1234);
    torch::set_default_dtype(caffe2::TypeMeta::Make<double>());
    torch::set_num_threads(64);
    torch::autograd::AnomalyMode::set_enabled(true);
    at::globalContext().setBenchmarkCuDNN(true);
    at::globalContext().setFlushDenormal(true);
    at::globalContext().setDeterministicAlgorithms(true, true);
    c10::Warning::set_warnAlways(true);
    fc = register_module("fc", torch::nn::Linear(40, 10));
  }
  torch::Tensor forward(torch::Tensor x) { return fc(x); }
};

// evoprompt data mnist1d | clrs: generate a data set (see data_clrs.hpp).
#include <cstdio>

#include "cli.hpp"
#include "commands.hpp"
#include "data_clrs.hpp"
#include "mnist1d.hpp"

namespace evoprompt::cli {
namespace {

struct DataCommand {
  Mnist1dArgs args;
  std::vector<std::int64_t> padding{36, 60};
  std::string out;

  void add_to(CLI::App& app) {
    auto* data = app.add_subcommand("data", "Generate a data set");
    add_data_clrs_command(data);
    data->require_subcommand(1);
    auto* cmd = data->add_subcommand("mnist1d", "Generate MNIST-1D with the native generator");
    cmd->add_option("--out", out, "Output folder (created if missing)")->required();
    cmd->add_option("--seed", args.seed, "Generator seed")->capture_default_str();
    cmd->add_option("--num-samples", args.num_samples, "Total samples (train + test)")->capture_default_str();
    cmd->add_option("--train-split", args.train_split, "Fraction of samples used for training")->capture_default_str();
    cmd->add_option("--template-len", args.template_len, "Template length")->capture_default_str();
    cmd->add_option("--padding", padding, "Right padding range MIN MAX (inclusive)")->expected(2)->capture_default_str();
    cmd->add_option("--scale-coeff", args.scale_coeff, "Amplitude scale coefficient")->capture_default_str();
    cmd->add_option("--max-translation", args.max_translation, "Circular shift range")->capture_default_str();
    cmd->add_option("--corr-noise-scale", args.corr_noise_scale, "Correlated noise std")->capture_default_str();
    cmd->add_option("--iid-noise-scale", args.iid_noise_scale, "i.i.d. noise std")->capture_default_str();
    cmd->add_option("--shear-scale", args.shear_scale, "Shear coefficient scale")->capture_default_str();
    cmd->add_flag("--shuffle-seq", args.shuffle_seq, "Permute the sequence positions");
    cmd->add_option("--final-seq-length", args.final_seq_length, "Output sequence length")->capture_default_str();
    cmd->callback([this] { run(); });
  }

  void run() {
    args.padding_min = padding[0];
    args.padding_max = padding[1];
    Mnist1d data;
    try {
      data = generate_mnist1d(args);
    } catch (const std::invalid_argument& e) {
      throw UsageError(e.what());
    }
    save_mnist1d(data, out);
    std::printf("wrote %lld train and %lld test samples of length %lld to %s\n",
                static_cast<long long>(data.num_train()), static_cast<long long>(data.num_test()),
                static_cast<long long>(data.seq_len), out.c_str());
  }
};

}  // namespace

void add_data_command(CLI::App& app) {
  static DataCommand data;
  data.add_to(app);
}

}  // namespace evoprompt::cli

// The canonical MNIST-1D set as the tests use it: the native generator's
// output with the default arguments (seed 42). test_mnist1d.cpp checks it
// against the SHA-256 digests of the canonical arrays (tests/data/mnist1d.sha256),
// so no test needs the reference files.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <string>

#include "mnist1d.hpp"

namespace evoprompt::testing {

inline const Mnist1d& canonical_mnist1d() {
  static const Mnist1d data = generate_mnist1d(Mnist1dArgs{});
  return data;
}

// A folder with the set as .npy files, written once per test process and
// removed when it exits.
inline const std::string& canonical_mnist1d_dir() {
  struct Folder {
    std::string path = (std::filesystem::temp_directory_path() /
                        ("evoprompt_test_canonical_mnist1d_" + std::to_string(::getpid())))
                           .string();
    Folder() {
      std::filesystem::remove_all(path);
      save_mnist1d(canonical_mnist1d(), path);
    }
    ~Folder() {
      std::error_code ec;
      std::filesystem::remove_all(path, ec);
    }
  };
  static const Folder folder;
  return folder.path;
}

}  // namespace evoprompt::testing

#!/usr/bin/env bash
# Installs every Debian package evoprompt needs. Idempotent: packages already
# present are skipped, so a second run does no network work.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config
  libtorch-dev
  libopenblas0-openmp      # libtorch's BLAS: OpenBLAS instead of the reference BLAS, OpenMP threads
  libgoogle-perftools-dev  # tcmalloc_minimal, linked into the executables
  llvm-19-dev libclang-19-dev libclang-cpp19-dev clang-19
  libfmt-dev catch2 libcli11-dev libspdlog-dev nlohmann-json3-dev libsqlite3-dev
  libcurl4-openssl-dev libtomlplusplus-dev
  libcpp-httplib-dev       # tests only: a fake OpenAI-compatible server
  libpcre2-dev libicu-dev  # the tokenizer.json tokenizer: pre-tokenizer patterns, NFC
  nodejs                   # tests only: the tokenizers reference (tests/tokenizer_parity)
  python3-numpy            # tests only: the journal and .npy checks of the shell tests
  python3-torch            # tests and bench/: the PyTorch references (python_parity, llm_reference.py)
  libjs-d3 libjs-highlight.js  # `report`: inlined into the HTML page
  chromium                 # tests only: the report renders in headless Chromium
  libopenmpi-dev openmpi-bin  # `mpirun -n N evoprompt evolve`: remote worker ranks
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
else
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "install-deps: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Test-only npm packages of the tokenizer parity test, pinned by its
# package-lock.json.
parity_dir="$(cd "$(dirname "$0")/.." && pwd)/tests/tokenizer_parity"
if [ ! -d "$parity_dir/node_modules" ]; then
  if ! command -v npm >/dev/null; then  # Debian's nodejs comes without npm (NodeSource's has it)
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends npm
  fi
  echo "install-deps: npm ci in $parity_dir"
  (cd "$parity_dir" && npm ci --no-audit --no-fund --loglevel=error)
fi

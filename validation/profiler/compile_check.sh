#!/bin/sh
# compile_check.sh CMAKE SOURCE_DIR BUILD_DIR NVCC: configure a separate tree with
# -DSS_BUILD_PROFILER=ON (one GPU architecture, to keep it short), build servesim-profile
# with the project's warnings as errors, and run its --dry-run (no CUDA call). Registered
# as the CTest profiler_compile_check wherever nvcc is found, so the CUDA half cannot rot on
# machines without a GPU.
set -e
cmake=$1 src=$2 dir=$3 nvcc=$4
"$cmake" -S "$src" -B "$dir" -DCMAKE_BUILD_TYPE=Release -DSS_BUILD_PROFILER=ON \
  -DSS_BUILD_TESTS=OFF -DCMAKE_CUDA_COMPILER="$nvcc" -DCMAKE_CUDA_ARCHITECTURES=80 >/dev/null
"$cmake" --build "$dir" --target servesim-profile -j2
"$dir/validation/profiler/servesim-profile" --dry-run --model llama-3.1-8b --tp 2 --only gemm \
  | grep -q 'mlp_up_gate  *tp=2 n=14336 k=4096'
echo "compile_check: servesim-profile built and ran --dry-run"

#!/bin/sh
# compile_check.sh CMAKE SOURCE_DIR BUILD_DIR NVCC: configure a separate tree with
# -DSS_BUILD_PROFILER=ON (one GPU architecture, to keep it short), build servesim-profile
# with the project's warnings as errors, and run its --dry-run (no CUDA call); then compile
# the stubs that replace cuDNN attention and the NCCL all-reduce in builds without those
# libraries (this machine may have both). Registered as the CTest profiler_compile_check
# wherever nvcc is found, so the CUDA half cannot rot on machines without a GPU.
set -e
cmake=$1 src=$2 dir=$3 nvcc=$4
"$cmake" -S "$src" -B "$dir" -DCMAKE_BUILD_TYPE=Release -DSS_BUILD_PROFILER=ON \
  -DSS_BUILD_TESTS=OFF -DCMAKE_CUDA_COMPILER="$nvcc" -DCMAKE_CUDA_ARCHITECTURES=80 >/dev/null
"$cmake" --build "$dir" --target servesim-profile -j2
"$dir/validation/profiler/servesim-profile" --dry-run --model llama-3.1-8b --tp 2 --only gemm \
  | grep -q 'mlp_up_gate  *tp=2 n=14336 k=4096'
for f in attn_cudnn:SS_PROF_CUDNN allreduce:SS_PROF_NCCL; do
  "$nvcc" -std=c++17 -c -arch=sm_80 -D"${f#*:}"=0 -I"$src" -Werror=all-warnings \
    -Xcompiler=-Wall,-Wextra,-Werror "$src/validation/profiler/${f%%:*}.cu" -o "$dir/${f%%:*}-stub.o"
done
echo "compile_check: servesim-profile built and ran --dry-run; stubs compile"

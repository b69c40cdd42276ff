#!/bin/bash
# measure_unseen.sh BINARY OUTDIR [GPU_NAME]
# The servesim-profile runs behind hwprofiles/measured/*-2026-11-28 (README.md there):
# GEMMs and cuDNN attention of models and head configurations that no committed profile was
# fitted to, to test what the fitted profiles predict for a model nobody measured (docs/
# validation.md, "Models nobody measured"), and one table of 2026-11-27 measured
# again (Llama-3.1-8B, tp 1) to show how far two runs on two machines of one GPU type differ.
# L2 flushed everywhere. servesim-profile must have been built with cuDNN 9 (docs/profiler.md).
# Each step has a time limit and the log says how it ended; rows are written as measured.
set -u
B=$1
O=$2
G=${3:-}
STEP_ARGS=""
. "$(dirname "$0")/measure_lib.sh"
step repeat-llama-3.1-8b-bf16 40 --model llama-3.1-8b --tp 1 --only gemm --flush-l2 ||
  { echo "repeat failed" >> "$LOG"; exit 1; }
step llama-3.1-405b-bf16 60 --model llama-3.1-405b --tp 8 --only gemm --flush-l2
step codellama-34b-bf16 60 --model codellama-34b --tp 1,4 --only gemm --flush-l2
step internlm-20b-bf16 60 --model internlm-20b --tp 1,2 --only gemm --flush-l2
step qwen2.5-32b-bf16 60 --model qwen2.5-32b --tp 2,8 --only gemm --flush-l2
step llama-2-7b-bf16 40 --model llama-2-7b --tp 1,2 --only gemm --flush-l2
step qwen-72b-bf16 40 --model qwen-72b --tp 4 --only gemm --flush-l2
step codellama-34b-fp8 40 --model codellama-34b --tp 2 --dtype fp8 --only gemm --flush-l2
step qwen2.5-32b-fp8 40 --model qwen2.5-32b --tp 1 --dtype fp8 --only gemm --flush-l2
STEP_ARGS="--only attn --attn-kernel cudnn"
step cudnn-attention-internlm-20b 60 --model internlm-20b --tp 1,2 --flush-l2
step cudnn-attention-qwen2.5-32b 60 --model qwen2.5-32b --tp 1,2 --flush-l2
step cudnn-attention-llama-3.1-405b 30 --model llama-3.1-405b --tp 8 --flush-l2
step cudnn-attention-qwen-72b 30 --model qwen-72b --tp 4 --flush-l2
echo "all done $(date -u +%T)" >> "$LOG"

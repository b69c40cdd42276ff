#!/bin/bash
# measure.sh BINARY OUTDIR [GPU_NAME]
# The servesim-profile runs behind hwprofiles/measured/*-2026-11-27 (README.md there): a
# smoke run, then GEMM tables for Llama-3.1-8B (tp 1, 2, 4, 8), Llama-3.1-70B (tp 2, 4, 8)
# and Qwen3-32B (tp 1, 2) in bf16 with the L2 flush, fp8 GEMMs for Llama-3.1-8B and 70B,
# one bf16 table without the flush (to show what a warm L2 does), and a compute-sanitizer
# memcheck of a tiny grid when the tool exists. Each step has a time limit and the log says
# how each ended; rows are written as they are measured, so a step that runs out of time
# leaves a partial table. About 2 minutes on an H100 or H200 (docs/profiler.md).
# GPU_NAME is servesim's hardware name; without it, H100/H200 are recognised from nvidia-smi.
set -u
B=$1
O=$2
G=${3:-}
STEP_ARGS=""
. "$(dirname "$0")/measure_lib.sh"
step smoke 60 --model llama-3.1-8b --tokens 1,64,4096 --prefill-q 64,1024 --prefill-kv 0,256 \
  --decode-batch 1,8 --decode-kv 128,4096 --reps 5 --warmup 2 --flush-l2 ||
  { echo "smoke failed" >> "$LOG"; exit 1; }
step llama-3.1-8b-bf16 120 --model llama-3.1-8b --tp 1,2,4,8 --only gemm --flush-l2
step llama-3.1-70b-bf16 120 --model llama-3.1-70b --tp 2,4,8 --only gemm --flush-l2
step qwen3-32b-bf16 120 --model qwen3-32b --tp 1,2 --only gemm --flush-l2
step llama-3.1-8b-fp8 40 --model llama-3.1-8b --tp 1,2 --dtype fp8 --only gemm --flush-l2
step llama-3.1-70b-fp8 40 --model llama-3.1-70b --tp 4,8 --dtype fp8 --only gemm --flush-l2
step llama-3.1-8b-bf16-noflush 40 --model llama-3.1-8b --tp 1 --only gemm --max-tokens 512
CS=$(command -v compute-sanitizer || ls /usr/local/cuda/bin/compute-sanitizer 2>/dev/null)
if [ -n "$CS" ]; then
  echo "=== memcheck $(date -u +%T)" >> "$LOG"
  timeout 120 "$CS" --tool memcheck --error-exitcode 9 "$B" ${G:+--gpu $G} --out "$O/memcheck" \
    --model llama-3.1-8b --tp 1,8 --tokens 1,37,300 --prefill-q 16,100 --prefill-kv 0,37 \
    --decode-batch 1,3 --decode-kv 128,700 --reps 2 --warmup 1 > "$O/memcheck.txt" 2>&1
  echo "=== memcheck rc=$?" >> "$LOG"
fi
echo "all done $(date -u +%T)" >> "$LOG"

#!/bin/bash
# measure_attention.sh BINARY OUTDIR [GPU_NAME]
# The cuDNN attention runs behind hwprofiles/measured/*/cudnn-attention-* (README.md there):
# a smoke run with the self-checks on a small grid (stops here if cuDNN finds no engine or
# the check fails, with cuDNN's own error log in OUTDIR/cudnn-smoke.log), then the default
# prefill and decode grids, with the L2 flush, for nine head configurations: Llama-3.1-8B
# at tp 1, 2, 4, 8 (32/8, 16/4, 8/2, 4/1 query/KV heads), Qwen3-32B at tp 1, 2 (64/8, 32/4),
# Llama-3.1-70B at tp 8 (8/1) and Llama-2-7B at tp 1, 4 (32/32, 8/8: no grouping), all with
# head dim 128; then a compute-sanitizer memcheck of a tiny grid when the tool exists. Each
# step has a time limit and the log says how it ended; rows are written as they are
# measured. servesim-profile must have been built with cuDNN 9 (docs/profiler.md).
set -u
B=$1
O=$2
G=${3:-}
STEP_ARGS="--only attn --attn-kernel cudnn"
. "$(dirname "$0")/measure_lib.sh"
CUDNN_LOGLEVEL_DBG=2 CUDNN_LOGDEST_DBG="$O/cudnn-smoke.log" \
  step cudnn-smoke 60 --model llama-3.1-8b --tp 1,8 --prefill-q 64,1000 --prefill-kv 0,37,4096 \
  --decode-batch 1,8 --decode-kv 128,4096 --reps 5 --warmup 2 --flush-l2 ||
  { echo "smoke failed" >> "$LOG"; exit 1; }
step cudnn-attention-llama-3.1-8b 150 --model llama-3.1-8b --tp 1,2,4,8 --flush-l2
step cudnn-attention-qwen3-32b 80 --model qwen3-32b --tp 1,2 --flush-l2
step cudnn-attention-llama-3.1-70b 40 --model llama-3.1-70b --tp 8 --flush-l2
step cudnn-attention-llama-2-7b 60 --model llama-2-7b --tp 1,4 --flush-l2
CS=$(command -v compute-sanitizer || ls /usr/local/cuda/bin/compute-sanitizer 2>/dev/null)
if [ -n "$CS" ]; then
  echo "=== memcheck $(date -u +%T)" >> "$LOG"
  timeout 60 "$CS" --tool memcheck --error-exitcode 9 "$B" ${G:+--gpu $G} --out "$O/memcheck" \
    --only attn --attn-kernel cudnn --model llama-3.1-8b --tp 8 --prefill-q 16,100 \
    --prefill-kv 0,37 --decode-batch 1,3 --decode-kv 128,700 --reps 2 --warmup 1 \
    > "$O/memcheck.txt" 2>&1
  echo "=== memcheck rc=$?" >> "$LOG"
fi
echo "all done $(date -u +%T)" >> "$LOG"

#!/bin/sh
# dry_run_test.sh PROFILER NCCL_BUILT: `servesim-profile --dry-run` for Llama-3.1-8B at tp 1,2
# with 2 GPUs must exit 0 without touching CUDA and list the hand-computed shapes
# (docs/profiler.md) and the default grid sizes.
prof=$1
nccl=$2
out=$("$prof" --dry-run --model llama-3.1-8b --tp 1,2 --gpus 2 2>&1)
status=$?
printf '%s\n' "$out"
fail() { echo "dry_run_test: $1" >&2; exit 1; }
[ "$status" -eq 0 ] || fail "exit status $status"
for line in 'qkv_proj +tp=1 n=6144 k=4096' 'o_proj +tp=1 n=4096 k=4096' \
            'mlp_up_gate +tp=1 n=28672 k=4096' 'mlp_down +tp=1 n=4096 k=14336' \
            'lm_head +tp=1 n=128256 k=4096' 'qkv_proj +tp=2 n=3072 k=4096' \
            'o_proj +tp=2 n=4096 k=2048' 'mlp_down +tp=2 n=4096 k=7168' \
            'lm_head +tp=2 n=64128 k=4096' 'gemm: 10 shapes x 96 token counts' \
            'tp=2 heads=16 kv_heads=4 head_dim=128' '55 prefill points, 75 decode points'; do
  printf '%s\n' "$out" | grep -q -E -- "$line" || fail "missing /$line/"
done
printf '%s\n' "$out" | grep -q -E 'kernel (cudnn \(approx=0\)|servesim-fa \(approx=1\))' ||
  fail "attention kernel line"
if [ "$nccl" = 1 ]; then
  printf '%s\n' "$out" | grep -q 'total: 960 gemm, 260 attention, 19 allreduce' || fail "totals"
else
  printf '%s\n' "$out" | grep -q 'allreduce: not measured (built without NCCL)' || fail "nccl line"
  printf '%s\n' "$out" | grep -q 'total: 960 gemm, 260 attention, 0 allreduce' || fail "totals"
fi
exit 0

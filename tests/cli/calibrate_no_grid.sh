#!/bin/sh
# calibrate_no_grid.sh SERVESIM OUTDIR: a measured cuDNN attention table (every head
# configuration a grid) gets no note; a prefill table whose rows each sit on their own
# axis values (scattered: no cell lies between two measured ones) makes no grid, and
# calibrate says so on stderr, with its row count, while the profile is still written.
set -eu
S=$1 OUT=$2
M=hwprofiles/measured/h100-sxm-2026-11-27/cudnn-attention-llama-3.1-8b
rm -rf "$OUT" && mkdir -p "$OUT/scattered"
"$S" calibrate --source "servesim:$M" --gpu h100-sxm --out "$OUT/grids.yaml" > "$OUT/grids.out" 2> "$OUT/grids.err" || {
    cat "$OUT/grids.err" >&2
    exit 1
}
if grep -q "made no grid" "$OUT/grids.err"; then
    cat "$OUT/grids.err" >&2
    echo "calibrate_no_grid: a note for a table that has grids" >&2
    exit 1
fi
cp "$M/meta.yaml" "$OUT/scattered/"
{
    echo "batch,q,kv,heads,kv_heads,head_dim,dtype,kv_dtype,time_us,approx"
    i=0
    while [ $i -lt 12 ]; do
        echo "$((1 + i)),$((16 + 8 * i)),$((1024 + 100 * i)),32,8,128,bf16,bf16,$((20 + 9 * i)).5,0"
        i=$((i + 1))
    done
} > "$OUT/scattered/attn_prefill.csv"
gzip -dc "$M/attn_decode.csv.gz" > "$OUT/scattered/attn_decode.csv"
"$S" calibrate --source "servesim:$OUT/scattered" --gpu h100-sxm --out "$OUT/scattered.yaml" > "$OUT/scattered.out" 2> "$OUT/scattered.err" || {
    cat "$OUT/scattered.err" >&2
    exit 1
}
grep -q "servesim: note: 1 attention table (12 rows) made no grid (under half the cells measured or between measured cells, over 160 values on an axis, or over 100000 cells): the fitted basis prices its head configuration" "$OUT/scattered.err" || {
    cat "$OUT/scattered.err" >&2
    exit 1
}
grep -q "family: attn_prefill, dtype: bf16, heads: 32" "$OUT/scattered.yaml" && { echo "calibrate_no_grid: a prefill grid from scattered rows" >&2; exit 1; }
grep -q "family: attn_decode, dtype: bf16, heads: 32, kv_heads: 8" "$OUT/scattered.yaml" || { echo "calibrate_no_grid: the decode grid is missing" >&2; exit 1; }
echo "calibrate_no_grid: ok"

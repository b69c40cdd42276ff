#!/bin/sh
# calibrate_over_peak.sh SERVESIM OUTDIR: a measured BF16 GEMM table with FP8 rows of which
# one is faster than the H100's FP8 peak (8192^3 in 0.05 ms: 11x) leaves the FP8 series out
# -- a note on stderr naming the file, the profile's source records the rows left out, no
# FP8 GEMM model -- and keeps the BF16 one; the table without that row leaves nothing out;
# with every row over the peak there is nothing to calibrate: an error, with --stack too.
# validate calibration leaves the same rows out and lists them in its JSON report.
set -eu
S=$1 OUT=$2
M=hwprofiles/measured/h100-sxm-2026-11-27/llama-3.1-8b-bf16
rm -rf "$OUT" && mkdir -p "$OUT/good" "$OUT/bad"
for d in good bad; do cp "$M/meta.yaml" "$OUT/$d/"; done
gzip -dc "$M/gemm.csv.gz" > "$OUT/good/gemm.csv"
for m in 1024 2048 4096 8192 16384 32768; do echo "$m,8192,8192,fp8,$((m / 16)).0,20"; done >> "$OUT/good/gemm.csv"
cp "$OUT/good/gemm.csv" "$OUT/bad/gemm.csv"
echo "8192,8192,8192,fp8,50.0,20" >> "$OUT/bad/gemm.csv"
"$S" calibrate --source "servesim:$OUT/good" --gpu h100-sxm --out "$OUT/good.yaml" 2> "$OUT/good.err" || { cat "$OUT/good.err" >&2; exit 1; }
if grep -q "left_out_over_peak" "$OUT/good.yaml" || grep -q "note" "$OUT/good.err"; then
    echo "calibrate_over_peak: the valid table lost rows" >&2
    exit 1
fi
"$S" calibrate --source "servesim:$OUT/bad" --gpu h100-sxm --out "$OUT/bad.yaml" 2> "$OUT/bad.err" || { cat "$OUT/bad.err" >&2; exit 1; }
grep -q "bad/gemm.csv: gemm, fp8: 1 of its 7 rows take less time than their FLOPs need at h100-sxm's peak (1978 TFLOP/s; up to 11.1x faster)" "$OUT/bad.err" || {
    cat "$OUT/bad.err" >&2
    exit 1
}
grep -q "left_out_over_peak: 7" "$OUT/bad.yaml" || { echo "no left_out_over_peak: 7" >&2; exit 1; }
grep -A2 "family: gemm" "$OUT/bad.yaml" | grep -q "dtype: fp8" && { echo "an FP8 model from a series left out" >&2; exit 1; }
grep -A2 "family: gemm" "$OUT/good.yaml" | grep -q "dtype: fp8" || { echo "no FP8 model from the valid table" >&2; exit 1; }
grep -A2 "family: gemm" "$OUT/bad.yaml" | grep -q "dtype: bf16" || { echo "no BF16 model" >&2; exit 1; }
# validation leaves the same rows out, and its JSON report says so
"$S" validate calibration --source "servesim:$OUT/bad" --gpu h100-sxm --json "$OUT/bad.json" > "$OUT/val.out" 2> "$OUT/val.err" || {
    cat "$OUT/val.err" >&2
    exit 1
}
grep -q "bad/gemm.csv: gemm, fp8: 1 of its 7 rows" "$OUT/val.err" || { cat "$OUT/val.err" >&2; exit 1; }
tr -d ' \n\t' < "$OUT/bad.json" | grep -q '"left_out_over_peak":\[{"file":"[^"]*bad/gemm.csv","rows":7}\]' || {
    cat "$OUT/bad.json" >&2
    exit 1
}
mkdir -p "$OUT/all" && cp "$M/meta.yaml" "$OUT/all/"
printf 'm,n,k,dtype,time_us,reps\n8192,8192,8192,bf16,50.0,20\n' > "$OUT/all/gemm.csv"
if "$S" calibrate --source "servesim:$OUT/all" --gpu h100-sxm --out "$OUT/all.yaml" 2> "$OUT/all.err"; then
    echo "calibrate_over_peak: a profile with nothing fitted" >&2
    exit 1
fi
grep -q "no kernel row (GEMM, attention, MoE, ...) of the sources for GPU 'h100-sxm' can be fitted" "$OUT/all.err" || { cat "$OUT/all.err" >&2; exit 1; }
# ... also when --stack names the stack (which alone would make the profile look complete)
if "$S" calibrate --source "servesim:$OUT/all" --gpu h100-sxm --stack cublaslt-130100 --out "$OUT/all.yaml" 2> "$OUT/all.err"; then
    echo "calibrate_over_peak: a profile with nothing fitted (--stack)" >&2
    exit 1
fi
grep -q "for GPU 'h100-sxm' and stack cublaslt-130100 can be fitted" "$OUT/all.err" || { cat "$OUT/all.err" >&2; exit 1; }
echo "calibrate_over_peak: ok"

#!/bin/sh
# pareto_plot.sh SERVESIM SWEEP.db OUTDIR: `servesim pareto --plot --svg` writes a PNG and an
# SVG whose axes are labelled with units. Skipped (77) when gnuplot is not installed.
set -e
S=$1 DB=$2 OUT=$3
command -v gnuplot >/dev/null 2>&1 || { echo "gnuplot not installed: skipped"; exit 77; }
rm -rf "$OUT"
mkdir -p "$OUT"
"$S" pareto "$DB" --y ttft_p99 --plot "$OUT/front.png" --svg "$OUT/front.svg"
[ "$(head -c 4 "$OUT/front.png" | tail -c 3)" = PNG ] || { echo "not a PNG" >&2; exit 1; }
[ "$(wc -c <"$OUT/front.png")" -gt 5000 ] || { echo "PNG too small" >&2; exit 1; }
grep -q '<svg' "$OUT/front.svg"
grep -q 'Output throughput per GPU (tok/s/GPU)' "$OUT/front.svg"
grep -q 'TTFT P99 (ms)' "$OUT/front.svg"
grep -q 'Pareto frontier' "$OUT/front.svg"
grep -q 'scheduler=sarathi' "$OUT/front.svg"
echo "plot ok"

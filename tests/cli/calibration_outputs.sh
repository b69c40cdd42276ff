#!/bin/sh
# calibration_outputs.sh SERVESIM OUTDIR
# Issue 5: every study output that uses a GPU says whether its cost model is calibrated:
# sweep.db points.calibration and the pareto table; capacity-search's table, JSON and SQLite;
# search's table, JSON and SQLite.
set -e
S=$1 OUT=$2
rm -rf "$OUT"
mkdir -p "$OUT"
fail() { echo "calibration_outputs: $*" >&2; exit 1; }
"$S" sweep tests/data/studies/calib-sweep.yaml --out "$OUT/sweep" --quiet >/dev/null
# points(point, family, overrides, seed, calibration), as the canonical dump prints it
c=$("$S" sweep-dump "$OUT/sweep/sweep.db" | sed -n '/^== points$/,/^== point_params$/p')
echo "$c"
echo "$c" | grep -q '^0|.*|7|partially calibrated (rtx-4090@' || fail "point 0 not partially calibrated"
echo "$c" | grep -q '^1|.*|7|uncalibrated (no measurements for b200' || fail "point 1 not uncalibrated"
"$S" pareto "$OUT/sweep/sweep.db" --all >"$OUT/pareto.txt"
cat "$OUT/pareto.txt"
grep -q 'partial .*rtx-4090' "$OUT/pareto.txt" || fail "pareto: no 'partial' rtx-4090 row"
grep -q 'uncalibrated .*b200' "$OUT/pareto.txt" || fail "pareto: no 'uncalibrated' b200 row"
grep -q 'cost model: uncalibrated (no measurements for b200' "$OUT/pareto.txt" ||
  fail "pareto: no caveat line"
"$S" capacity-search tests/data/good/small.yaml --set replica.cost_model=calibrated \
  --set cluster.pools[0].hardware=b200 --set workload.num_requests=100 --slo ttft_p99=2s \
  --lo 1 --hi 4 --tol 0.2 --quiet --out "$OUT/cap" >"$OUT/cap.txt"
cat "$OUT/cap.txt"
grep -q '^  calibration uncalibrated (no measurements for b200' "$OUT/cap.txt" ||
  fail "capacity-search table: no calibration line"
grep -q '"calibration":[[:space:]]*"uncalibrated (no measurements for b200' "$OUT/cap/capacity.json" ||
  fail "capacity.json: no calibration"
# the SQLite column (the sqlite3 shell is one of .ci/install-deps.sh's packages)
command -v sqlite3 > /dev/null || fail "no sqlite3 shell (.ci/install-deps.sh installs it)"
sqlite3 "$OUT/cap/capacity.db" "SELECT calibration FROM config" |
  grep -q '^uncalibrated (no measurements for b200' || fail "capacity.db: no calibration"
"$S" search tests/data/studies/search_small.yaml --out "$OUT/search" >"$OUT/search.txt"
grep -Eq 'partial +model=llama-3.1-8b cluster.pools\[0\].hardware=h100-sxm' "$OUT/search.txt" || fail "search table: no column"
grep -q 'Calibration: h100-sxm: partially calibrated (h100-sxm@vllm-0.24.0' "$OUT/search.txt" ||
  fail "search: no caveat line"
grep -q '"calibration":[[:space:]]*"partially calibrated (h100-sxm@vllm-0.24.0' "$OUT/search/search.json" ||
  fail "search.json: no calibration"
[ "$(sqlite3 "$OUT/search/search.db" "SELECT count(*) FROM config WHERE calibration LIKE 'partially calibrated%'")" -ge 2 ] ||
  fail "search.db: no calibration"
echo "calibration status in every study output (SQLite columns checked)"

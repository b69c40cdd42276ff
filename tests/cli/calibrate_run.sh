#!/bin/sh
# calibrate_run.sh SERVESIM OUTDIR FIXTURE
# calibrate -> run on the synthetic fixture FIXTURE (the llmservingsim folder that
# tests/data/calib-fit/generate.sh writes): the profile is written,
# written identically a second time (deterministic), loads, and a scenario on it runs with the
# calibrated cost model and says so in summary.json.
set -eu
B=$1
O=$2
F=$3
rm -rf "$O"
mkdir -p "$O/a" "$O/b"
"$B" calibrate --source "$F" --gpu rtx-4090 \
  --out "$O/a/rtx-4090@fixture.yaml" > "$O/a.txt"
cat "$O/a.txt"
# the summary lists each GEMM model's two basis weights, as the profile holds them
grep -q 'GEMM basis weights .*beyond_basis  lattice_basis' "$O/a.txt"
w=$(grep -c '^ *beyond_basis: [01]\.[0-9]0$' "$O/a/rtx-4090@fixture.yaml")
[ "$w" -ge 1 ]
[ "$(grep -c '^ \{44\}nk' "$O/a.txt")" -eq "$w" ]
"$B" calibrate --source "$F" --gpu rtx-4090 \
  --out "$O/b/rtx-4090@fixture.yaml" > /dev/null
# identical apart from the --out path recorded in the command line
sed 's|--out [^ "]*/|--out |' "$O/a/rtx-4090@fixture.yaml" > "$O/a.yaml"
sed 's|--out [^ "]*/|--out |' "$O/b/rtx-4090@fixture.yaml" > "$O/b.yaml"
cmp "$O/a.yaml" "$O/b.yaml"
grep -q 'sha256: "[0-9a-f]\{64\}"' "$O/a/rtx-4090@fixture.yaml"
grep -q '^name: rtx-4090@fixture$' "$O/a/rtx-4090@fixture.yaml"
# a run on the profile (path relative to the scenario's folder)
"$B" run tests/data/good/small.yaml --quiet --out "$O/run" \
  --set replica.cost_model=calibrated \
  --set "cluster.pools[0].hardware=$(pwd)/$O/a/rtx-4090@fixture.yaml"
grep -q '"calibration":[[:space:]]*"partially calibrated (rtx-4090@fixture; roofline: cpu_overhead=profile)"' \
  "$O/run/summary.json"
grep -q '"cost_model":[[:space:]]*"calibrated"' "$O/run/summary.json"
echo "calibrate_run: ok"

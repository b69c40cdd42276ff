#!/bin/sh
# replication.sh SERVESIM OUTDIR: `run --replication 0` is the default run, and replication 1
# is a different one (its streams are seeded differently).
set -e
S=$1 OUT=$2
rm -rf "$OUT"
"$S" run tests/data/good/small.yaml --quiet --out "$OUT/a"
"$S" run tests/data/good/small.yaml --quiet --out "$OUT/b" --replication 0
"$S" run tests/data/good/small.yaml --quiet --out "$OUT/c" --replication 1
cmp "$OUT/a/summary.json" "$OUT/b/summary.json"
if cmp -s "$OUT/a/summary.json" "$OUT/c/summary.json"; then
  echo "replication 1 gave the same results as replication 0" >&2
  exit 1
fi
echo "replication 0 = default; replication 1 differs"

#!/bin/sh
# sweep_identity.sh SERVESIM STUDY OUTDIR [MPIRUN]
# Runs STUDY serially (-j 1), with two worker processes (-j 2) and, when MPIRUN is given,
# under MPI with 3 ranks; the canonical dumps of the three sweep databases must be identical
# (run metadata is not in the dump). Fails on any error or sanitizer report.
set -e
S=$1 STUDY=$2 OUT=$3 MPIRUN=$4
rm -rf "$OUT"
mkdir -p "$OUT"
run() { # NAME CMD...: run, keep the output, fail on a sanitizer report
  name=$1
  shift
  "$@" >"$OUT/$name.log" 2>&1 || { cat "$OUT/$name.log"; echo "sweep_identity: $name failed" >&2; exit 1; }
  if grep -q -E 'AddressSanitizer|runtime error:|LeakSanitizer' "$OUT/$name.log"; then
    cat "$OUT/$name.log"; echo "sweep_identity: $name: sanitizer report" >&2; exit 1
  fi
}
run j1 "$S" sweep "$STUDY" --out "$OUT/j1" -j 1 --quiet
run j2 "$S" sweep "$STUDY" --out "$OUT/j2" -j 2 --quiet
"$S" sweep-dump "$OUT/j1/sweep.db" >"$OUT/j1.dump"
"$S" sweep-dump "$OUT/j2/sweep.db" >"$OUT/j2.dump"
# the dump holds results: every metric of every run
rows=$(sed -n '/^== point_runs$/,/^== point_stats$/p' "$OUT/j1.dump" | wc -l)
[ "$rows" -gt 100 ] || { echo "sweep_identity: only $rows point_runs lines" >&2; exit 1; }
cmp "$OUT/j1.dump" "$OUT/j2.dump"
if [ -n "$MPIRUN" ]; then
  run mpi3 "$MPIRUN" --allow-run-as-root --oversubscribe -n 3 "$S" sweep "$STUDY" --out "$OUT/mpi3" --quiet
  "$S" sweep-dump "$OUT/mpi3/sweep.db" >"$OUT/mpi3.dump"
  cmp "$OUT/j1.dump" "$OUT/mpi3.dump"
  echo "serial, 2 workers and 3 MPI ranks: identical ($rows point_runs lines)"
else
  echo "serial and 2 workers: identical ($rows point_runs lines); no MPI run asked for"
fi

#!/bin/sh
# fixtures_not_copied.sh SHARED_DATA_DIR
# The brief forbids committing the raw files of ../shared/data: the test fixtures in
# tests/data mirror those sources' folder layouts and columns (the readers learn GPU, model
# and TP degree from the paths) but hold hand-written or generated rows, and
# hwprofiles/measured holds servesim's own measurements. This checks that claim: no data
# line of a committed table, or of the tables the test fixtures generate into
# build-test-out (calib-readers, calib-fit) (CSV, JSONL, plain or gzip; header lines and
# lines under 12 characters left out), occurs verbatim in any file of ../shared/data.
set -eu
S=$1
T=${TMPDIR:-/tmp}/ss-fixture-lines.$$
trap 'rm -f "$T" "$T.hits" "$T.one"' EXIT
: > "$T"
n=0
for f in $(find tests/data hwprofiles/measured build-test-out/calib-readers build-test-out/calib-fit -type f \( -name '*.csv' -o -name '*.csv.gz' \
           -o -name '*.jsonl' -o -name '*.jsonl.gz' \) | sort); do
  case "$f" in
  # deliberately corrupt gzip files: their readable part counts, the error is expected
  tests/data/traces/corrupt.csv.gz | tests/data/traces/truncated.csv.gz)
    gzip -cdf "$f" 2> /dev/null | tail -n +2 | awk 'length($0) >= 12' >> "$T" || true ;;
  *)
    gzip -cdf "$f" > "$T.one" || { echo "cannot read $f" >&2; exit 1; }
    tail -n +2 "$T.one" | awk 'length($0) >= 12' >> "$T" ;;
  esac
  n=$((n + 1))
done
sort -u -o "$T" "$T"
lines=$(wc -l < "$T")
# an empty pattern list would match nothing and prove nothing
[ "$n" -gt 50 ] && [ "$lines" -gt 1000 ] || { echo "only $n files, $lines lines read" >&2; exit 1; }
[ -d "$S" ] || { echo "no $S" >&2; exit 1; }
files=$(find "$S" -type f \( -name '*.csv' -o -name '*.gz' -o -name '*.jsonl' -o -name '*.json' \
        -o -name '*.txt' -o -name '*.tsv' \) | sort)
# one grep over everything; only on a hit, a second pass names the files
: > "$T.hits"
if for g in $files; do gzip -cdf "$g"; done | grep -qFxf "$T"; then
  for g in $files; do
    gzip -cdf "$g" | grep -Fxf "$T" | sed "s|^|$g: |" >> "$T.hits" || true
  done
fi
if [ -s "$T.hits" ]; then
  echo "rows of ../shared/data found in committed files:" >&2
  head -20 "$T.hits" >&2
  exit 1
fi
echo "fixtures: $n files, $lines distinct data lines, none found in $S"

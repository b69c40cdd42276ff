#!/bin/sh
# calibrated_profiles_current.sh SERVESIM OUTDIR
# The committed hwprofiles/calibrated/*.yaml are exactly what regenerate.sh writes from
# ../shared/data and hwprofiles/measured (apart from the --out folder in the recorded
# command line). Without ../shared/data only the profiles from hwprofiles/measured are
# checked (and said so).
set -eu
B=$1
O=$2
rm -rf "$O"
mkdir -p "$O"
hwprofiles/calibrated/regenerate.sh "$B" "$O"
shared=1
[ -d ../shared/data/kernels ] || shared=0
status=0
for f in hwprofiles/calibrated/*.yaml; do
  if [ $shared -eq 0 ] && grep -q '"\.\./shared/data/' "$f"; then
    echo "not checked without ../shared/data: $f"
    continue
  fi
  g="$O/$(basename "$f")"
  if [ ! -f "$g" ]; then
    echo "not written by regenerate.sh: $f" >&2
    status=1
    continue
  fi
  sed "s|--out $O/|--out hwprofiles/calibrated/|" "$g" > "$g.norm"
  if ! cmp -s "$f" "$g.norm"; then
    echo "out of date: $f (run hwprofiles/calibrated/regenerate.sh)" >&2
    status=1
  fi
done
for g in "$O"/*.yaml; do
  [ -f "hwprofiles/calibrated/$(basename "$g")" ] || { echo "not committed: $g" >&2; status=1; }
done
[ $status -eq 0 ] && echo "calibrated profiles: current"
exit $status

#!/bin/sh
# validate_db_modes.sh SERVESIM OUTDIR
# Cross-validation and a --profile check of the same GPU and stack share one SQLite table:
# each replaces only its own schemes' rows, so after both (and the first again) the table
# holds the kfold/shapes/extrapolate rows and the profile rows together.
set -eu
B=$1
O=$2
M=hwprofiles/measured/h200-sxm-2026-11-27
rm -rf "$O"
mkdir -p "$O"
DB=$O/v.db
"$B" validate calibration --gpu h200-sxm --source servesim:$M/llama-3.1-8b-bf16 --db "$DB" > /dev/null
"$B" validate calibration --profile h200-sxm@cublaslt-13.1-cudnn-9.19 --source servesim:$M/llama-3.1-8b-bf16 --db "$DB" > /dev/null
"$B" validate calibration --gpu h200-sxm --source servesim:$M/llama-3.1-8b-bf16 --db "$DB" > /dev/null
if command -v sqlite3 > /dev/null; then
  sqlite3 "$DB" "SELECT scheme, family, rows FROM calibration_validation ORDER BY scheme"
else
  echo "sqlite3 shell not installed"; exit 1
fi

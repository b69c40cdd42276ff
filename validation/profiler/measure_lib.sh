# measure_lib.sh: the common part of measure.sh and measure_attention.sh, sourced by them
# with B (the servesim-profile binary), O (output folder) and G (servesim's GPU name, may be
# empty) set. Without G, H100 and H200 are recognised from nvidia-smi. Writes O/env.txt and
# defines `step NAME SECONDS ARGS...`: one profiler run into O/NAME under a time limit, with
# STEP_ARGS (set by the caller, may be empty) before ARGS, its output and how it ended
# (exit status, seconds) appended to O/log.txt.
mkdir -p "$O"
LOG=$O/log.txt
if [ -z "$G" ]; then
  case "$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1)" in
    *H200*) G=h200-sxm ;;
    *H100*) G=h100-sxm ;;
  esac
fi
{ date -u; nvidia-smi; nvcc --version; ldd "$B"; } > "$O/env.txt" 2>&1
step() {
  local n=$1 t=$2
  shift 2
  echo "=== $n: $(date -u +%T) $*" >> "$LOG"
  local s=$SECONDS
  timeout "$t" "$B" ${G:+--gpu $G} --out "$O/$n" ${STEP_ARGS:-} "$@" >> "$LOG" 2>&1
  local rc=$?
  echo "=== $n rc=$rc in $((SECONDS - s)) s" >> "$LOG"
  return $rc
}

#!/bin/sh
# Regenerates every committed calibrated profile from the measurement tables in
# ../shared/data and hwprofiles/measured (docs/calibration.md,
# hwprofiles/calibrated/REGENERATE.md). Without ../shared, only the latter.
# Usage, from the repository root:  hwprofiles/calibrated/regenerate.sh [SERVESIM] [OUTDIR]
# SERVESIM defaults to build/sim/cli/servesim, OUTDIR to hwprofiles/calibrated. The paths
# below are recorded in each profile as given, so run it from the repository root.
set -eu
B=${1:-build/sim/cli/servesim}
O=${2:-hwprofiles/calibrated}
S=../shared/data/kernels
run() { "$B" calibrate "$@" > /dev/null; }
# H100 / H200 SXM measured with servesim-profile on lent GPUs, GEMMs through cuBLASLt 13.1
# and attention through cuDNN 9.19; the measurements are committed in hwprofiles/measured
# (README.md there), so these two need no ../shared
M=hwprofiles/measured/h100-sxm-2026-11-27
run --source servesim:$M/llama-3.1-8b-bf16 --source servesim:$M/llama-3.1-70b-bf16 --source servesim:$M/qwen3-32b-bf16 --source servesim:$M/llama-3.1-8b-fp8 --source servesim:$M/llama-3.1-70b-fp8 --source servesim:$M/cudnn-attention-llama-3.1-8b --source servesim:$M/cudnn-attention-qwen3-32b --source servesim:$M/cudnn-attention-llama-3.1-70b --source servesim:$M/cudnn-attention-llama-2-7b --gpu h100-sxm --out $O/h100-sxm@cublaslt-13.1-cudnn-9.19.yaml
M=hwprofiles/measured/h200-sxm-2026-11-27
run --source servesim:$M/llama-3.1-8b-bf16 --source servesim:$M/llama-3.1-70b-bf16 --source servesim:$M/qwen3-32b-bf16 --source servesim:$M/llama-3.1-8b-fp8 --source servesim:$M/llama-3.1-70b-fp8 --source servesim:$M/cudnn-attention-llama-3.1-8b --source servesim:$M/cudnn-attention-qwen3-32b --source servesim:$M/cudnn-attention-llama-3.1-70b --source servesim:$M/cudnn-attention-llama-2-7b --gpu h200-sxm --out $O/h200-sxm@cublaslt-13.1-cudnn-9.19.yaml
if [ ! -d $S ]; then
  echo "regenerate.sh: $S not found: wrote only the profiles from hwprofiles/measured" >&2
  exit 0
fi
# RTX 4090: LLMServingSim, vLLM 0.19 eager (the GPU of the end-to-end validation run), with
# the skewed-batch shots
run --source $S/llmservingsim/RTX4090 --skew $S/llmservingsim/RTX4090/meta-llama/Llama-3.1-8B/bf16/tp1/skew.csv.gz --gpu rtx-4090 --default --out $O/rtx-4090@vllm-0.19-eager.yaml
# H100 / H200 SXM: aiconfigurator, vLLM 0.24.0 kernels, NCCL 2.29.2 and vLLM custom all-reduce
run --source $S/aiconfigurator/h100_sxm --gpu h100-sxm --stack vllm-0.24.0 --default --out $O/h100-sxm@vllm-0.24.0.yaml
run --source $S/aiconfigurator/h200_sxm --gpu h200-sxm --stack vllm-0.24.0 --default --out $O/h200-sxm@vllm-0.24.0.yaml
# H100 SXM, Vidur's Sarathi kernels (no attention), collectives from Vidur, aiconfigurator, APEX+
run --source $S/vidur --source $S/aiconfigurator/h100_sxm --source $S/apex_plus --lenient --gpu h100-sxm --stack vidur-sarathi --out $O/h100-sxm@vidur-sarathi.yaml
# A100 80GB SXM: aiconfigurator vLLM 0.14.0 (default: it has attention) and Vidur's Sarathi
# kernels; both take the CPU overhead and NCCL tables of Vidur's A100 testbed
run --source $S/aiconfigurator/a100_sxm --source $S/vidur --gpu a100-80gb-sxm --stack vllm-0.14.0 --default --out $O/a100-80gb-sxm@vllm-0.14.0.yaml
run --source $S/vidur --gpu a100-80gb-sxm --stack vidur-sarathi --out $O/a100-80gb-sxm@vidur-sarathi.yaml
# A40: Vidur (operators, CPU overhead; no attention, no all-reduce)
run --source $S/vidur --gpu a40 --default --out $O/a40@vidur-sarathi.yaml
# A800: Frontier's Vidur-format tables with FlashInfer attention
run --source $S/frontier --gpu a800 --default --out $O/a800@frontier-vidur-flashinfer.yaml
# RTX PRO 6000 Blackwell Server: LLMServingSim vLLM 0.19 eager (default: whole layers, mixed
# attention) with aiconfigurator's NCCL table; and aiconfigurator's vLLM 0.19.0 kernel tables
L=$S/llmservingsim/RTXPRO6000
run --source $L --skew $L/meta-llama/Llama-3.1-8B/bf16/tp1/skew.csv.gz --skew $L/meta-llama/Llama-3.1-8B/bf16/tp2/skew.csv.gz --skew $L/Qwen/Qwen3-32B/bf16/tp1/skew.csv.gz --skew $L/Qwen/Qwen3-32B/bf16/tp2/skew.csv.gz --source $S/aiconfigurator/rtx_pro_6000_server/nccl-2.29.2 --gpu rtx-pro-6000 --stack vllm-0.19-eager --default --out $O/rtx-pro-6000@vllm-0.19-eager.yaml
run --source $S/aiconfigurator/rtx_pro_6000_server --gpu rtx-pro-6000 --stack vllm-0.19.0 --out $O/rtx-pro-6000@vllm-0.19.0.yaml
# H20 / H800: InferSim kernel benchmarks (GEMM, MHA; the header-less H20 file read leniently)
run --source $S/infersim --lenient --gpu h20 --default --out $O/h20@infersim.yaml
run --source $S/infersim --lenient --gpu h800 --default --out $O/h800@infersim.yaml

#!/bin/sh
# Writes the calibration reader fixtures (README.md here) under OUTDIR: OUTDIR/calib holds
# small tables in the folder layouts and column formats of the sources servesim's readers
# understand (Vidur, Frontier, aiconfigurator, LLMServingSim, InferSim, APEX+, LLMCompass,
# servesim-profile), OUTDIR/calib_bad deliberately malformed ones. Every row is written by
# hand: the model handmade/toy-tiny does not exist, the numbers are round so that unit
# conversions are easy to check, and none of them is measured. tests/unit/test_calib.c and
# the `servesim measurements` tests (tests/calib_tests.cmake) read them; the CTest fixture
# calib_readers runs this first.
# Usage: tests/data/calib/generate.sh OUTDIR
set -eu
O=${1:?usage: generate.sh OUTDIR}
put() { mkdir -p "$(dirname "$O/$1")"; cat > "$O/$1"; }
put calib/aiconfigurator/h100_sxm/nccl-2.29.2/nccl_perf.csv <<'FIXTURE'
framework,version,device,op_name,kernel_source,nccl_dtype,num_gpus,message_size,latency
TRTLLM,2.29.2,NVIDIA H100 80GB HBM3,all_gather,NCCL,half,8,500,0.02
TRTLLM,2.29.2,NVIDIA H100 80GB HBM3,alltoall,NCCL,int8,2,500,0.03
FIXTURE
put calib/aiconfigurator/h100_sxm/vllm-0.24.0/context_attention_perf.csv <<'FIXTURE'
framework,version,device,op_name,kernel_source,batch_size,isl,num_heads,num_key_value_heads,head_dim,beam_width,attn_dtype,kv_cache_dtype,step,window_size,latency
VLLM,0.24.0,NVIDIA H100 80GB HBM3,context_attention,vllm_flash_attn_fa3,2,100,8,2,64,1,bfloat16,fp8,0,0,0.25
VLLM,0.24.0,NVIDIA H100 80GB HBM3,context_attention,vllm_flash_attn_fa3,1,100,8,2,64,1,bfloat16,bfloat16,0,128,0.125
FIXTURE
put calib/aiconfigurator/h100_sxm/vllm-0.24.0/custom_allreduce_perf.csv <<'FIXTURE'
framework,version,device,op_name,kernel_source,allreduce_dtype,num_gpus,message_size,latency,backend
vLLM,0.24.0,NVIDIA H100 80GB HBM3,all_reduce,vLLM_custom_graph,bfloat16,4,1000,0.01,vllm_graph
vLLM,0.24.0,NVIDIA H100 80GB HBM3,all_reduce,vLLM_custom_eager,bfloat16,4,1000,0.03,vllm_eager
FIXTURE
put calib/aiconfigurator/h100_sxm/vllm-0.24.0/gemm_perf.csv <<'FIXTURE'
framework,version,device,op_name,kernel_source,gemm_dtype,m,n,k,latency
VLLM,0.24.0,NVIDIA H100 80GB HBM3,gemm,torch.nn.functional.linear,bfloat16,8,256,128,0.005
VLLM,0.24.0,NVIDIA H100 80GB HBM3,gemm,CutlassFp8BlockScaledMMKernel,fp8_block,8,256,128,0.004
FIXTURE
put calib/aiconfigurator/h100_sxm/vllm-0.24.0/generation_attention_perf.csv <<'FIXTURE'
framework,version,device,op_name,kernel_source,batch_size,isl,num_heads,num_key_value_heads,head_dim,beam_width,attn_dtype,kv_cache_dtype,step,window_size,latency
VLLM,0.24.0,NVIDIA H100 80GB HBM3,generation_attention,vllm_flash_attn_fa3,4,1,8,2,64,1,bfloat16,bfloat16,300,0,0.0125
FIXTURE
put calib/aiconfigurator/h100_sxm/vllm-0.24.0/moe_perf.csv <<'FIXTURE'
framework,version,device,op_name,kernel_source,moe_dtype,num_tokens,hidden_size,inter_size,topk,num_experts,moe_tp_size,moe_ep_size,distribution,latency
VLLM,0.24.0,NVIDIA H100 80GB HBM3,moe,vllm_unquantizedfusedmoe_triton_tritonexperts,bfloat16,16,256,96,2,8,2,4,balanced,0.5
VLLM,0.24.0,NVIDIA H100 80GB HBM3,moe,vllm_unquantizedfusedmoe_triton_tritonexperts,bfloat16,16,256,96,2,8,1,1,power_law_1.2,0.75
FIXTURE
put calib/apex_plus/comm/H100-SXM-80GB/all_reduce.csv <<'FIXTURE'
gpu,num_nodes,num_gpus_per_node,dtype,size(kb),time(us)
H100-SXM-80GB,1,8,half,0,12.5
H100-SXM-80GB,1,8,half,4,13.0
H100-SXM-80GB,2,8,half,0,30.0
H100-SXM-80GB,2,8,half,4,31.5
FIXTURE
put calib/frontier/a800/handmade/toy-tiny/attention.csv <<'FIXTURE'
time_stats.attn_input_reshape.median,time_stats.attn_kv_cache_save.median,time_stats.attn_prefill.median,time_stats.attn_decode.median,time_stats.attn_output_reshape.median,n_embd,n_q_head,n_kv_head,block_size,num_tensor_parallel_workers,max_model_len,batch_size,prefill_chunk_size,kv_cache_size,is_prefill,attention_backend
0.0,0.02,0.10,0.0,0.0,64,8,2,16,1,4096,1,128,64,True,AttentionBackend.FLASHINFER
0.0,0.0,0.0,0.07,0.0,64,8,2,16,2,4096,16,0,512,False,AttentionBackend.FLASHINFER
FIXTURE
put calib/infersim/bench_data/gemm/h20/data.csv <<'FIXTURE'
m,k,n,latency_us,mfu
16,512,1024,5.5,0.01
FIXTURE
put calib/infersim/bench_data/grouped_gemm/prefill/h800/data.csv <<'FIXTURE'
num_experts,num_gpus,num_local_experts,topk,hidden_size,intermediate_size,seq_len_per_gpu,tokens_per_expert,up_proj_us,up_mfu,down_proj_us,down_mfu
16,2,8,4,256,128,512,128,30.5,0.4,19.5,0.3
FIXTURE
put calib/infersim/bench_data/mha/decode/h20/32-4-128.csv <<'FIXTURE'
dtype,kv_dtype,batch_size,kv_len,latency_us,mfu
bf16,fp8,8,2048,42.0,0.02
FIXTURE
put calib/infersim/bench_data/mha/decode/h20/8-1-64.csv <<'FIXTURE'
bf16,bf16,2,1024,12.5,0.01
bf16,bf16,4,1024,14.0,0.02
FIXTURE
put calib/infersim/bench_data/mha/prefill/h800/16-2-128.csv <<'FIXTURE'
dtype,seq_len,latency_us,mfu
bf16,1024,80.0,0.5
FIXTURE
put calib/infersim/bench_data/mla/decode/h20/16-512-64.csv <<'FIXTURE'
dtype,kv_dtype,batch_size,kv_len,latency_us,mfu
bf16,bf16,1,1024,20.0,0.01
FIXTURE
put calib/llmcompass/matmul_A100.csv <<'FIXTURE'
8, 1024, 1024, 0.0200ms, 0.8389Tflops
16, 2048, 1024, 0.0500ms, 1.3422Tflops
FIXTURE
put calib/llmservingsim/RTXPRO6000/Qwen/Qwen3-30B-A3B/bf16/meta.yaml <<'FIXTURE'
# Hand-written for servesim's tests (layout of LLMServingSim's profiler meta.yaml).
vllm_version: 0.19.0
gpu: NVIDIA RTX PRO 6000 Blackwell Server Edition
model: Qwen/Qwen3-30B-A3B
tp_degrees: [1]
engine_effective:
  enforce_eager: false
  hf_overrides:
    intermediate_size: 6144
    num_attention_heads: 32
    num_key_value_heads: 4
    vocab_size: 151936
FIXTURE
put calib/llmservingsim/RTXPRO6000/Qwen/Qwen3-30B-A3B/bf16/tp1/moe.csv <<'FIXTURE'
tokens,activated_experts,time_us
8,16,40
64,60,90
FIXTURE
put calib/llmservingsim/RTXPRO6000/meta-llama/Llama-3.1-8B/bf16/meta.yaml <<'FIXTURE'
# Hand-written for servesim's tests (layout of LLMServingSim's profiler meta.yaml).
vllm_version: 0.19.0
gpu: NVIDIA RTX PRO 6000 Blackwell Server Edition
hardware: RTXPRO6000
model: meta-llama/Llama-3.1-8B
tp_degrees: [1, 2]
engine_effective:
  enforce_eager: true
  hf_overrides:
    num_hidden_layers: 1
    intermediate_size: 7168
    num_attention_heads: 16
    num_key_value_heads: 4
    vocab_size: 64128
FIXTURE
put calib/llmservingsim/RTXPRO6000/meta-llama/Llama-3.1-8B/bf16/tp2/attention.csv <<'FIXTURE'
prefill_chunk,kv_prefill,n_decode,kv_decode,time_us
0,0,8,512,20
64,128,0,0,30
64,0,4,256,45
FIXTURE
put calib/llmservingsim/RTXPRO6000/meta-llama/Llama-3.1-8B/bf16/tp2/dense.csv <<'FIXTURE'
layer,tokens,time_us
qkv_proj,4,10.5
o_proj,4,8.25
gate_up_proj,4,20
down_proj,4,12
act_fn,4,3
embedding,4,2
FIXTURE
put calib/llmservingsim/RTXPRO6000/meta-llama/Llama-3.1-8B/bf16/tp2/per_sequence.csv <<'FIXTURE'
layer,sequences,time_us
lm_head,2,100
sampler,2,50
FIXTURE
put calib/llmservingsim/RTXPRO6000/meta-llama/Llama-3.1-8B/bf16/tp2/skew.csv <<'FIXTURE'
regime,n,nb,ratio,skew,pc,kp,kvs,kv_big,kv_mean,t_mean_us,t_max_us,t_skew_us,alpha
pure,4,1,0.25,4.0,0,0,128,512,224,40,50,45,0.5
mixed,4,2,0.5,4.0,16,512,256,1024,640,60,55,58,
FIXTURE
put calib/servesim/toy-h100/allreduce.csv <<'FIXTURE'
gpus,bytes,dtype,time_us
2,1048576,bf16,30.000
FIXTURE
put calib/servesim/toy-h100/attn_decode.csv <<'FIXTURE'
batch,kv,heads,kv_heads,head_dim,dtype,kv_dtype,time_us,approx
16,1024,32,8,128,bf16,bf16,50.000,1
FIXTURE
put calib/servesim/toy-h100/attn_prefill.csv <<'FIXTURE'
batch,q,kv,heads,kv_heads,head_dim,dtype,kv_dtype,time_us,approx
1,512,256,32,8,128,bf16,bf16,100.000,0
FIXTURE
put calib/servesim/toy-h100/gemm.csv <<'FIXTURE'
m,n,k,dtype,time_us,reps
4,6144,4096,bf16,25.500,100
FIXTURE
put calib/servesim/toy-h100/gemm_algo.csv <<'FIXTURE'
m,n,k,dtype,algo_id,tile,stages,splitk,reduction,swizzle,custom,waves
4,6144,4096,bf16,21,15,10,1,0,0,0,0.250
FIXTURE
put calib/servesim/toy-h100/meta.yaml <<'FIXTURE'
# Hand-written for servesim's tests, in the layout servesim-profile writes.
format: servesim-profile
version: 1
gpu: "NVIDIA H100 80GB HBM3"
gpu_canonical: ""
stack: "cuda-12.4-cublaslt"
cuda_version: "12.4"
driver_version: "550.54"
date: "2026-01-01T00:00:00Z"
host: "testhost"
command: "servesim-profile --model llama-3.1-8b"
model: "llama-3.1-8b"
dtype: "bf16"
FIXTURE
put calib/vidur/compute/a100/handmade/toy-tiny/mlp.csv <<'FIXTURE'
time_stats.emb.min,time_stats.emb.median,time_stats.input_layernorm.median,time_stats.attn_pre_proj.median,time_stats.attn_rope.median,time_stats.attn_post_proj.median,time_stats.mlp_up_proj.median,time_stats.mlp_act.median,time_stats.mlp_down_proj.median,time_stats.add.median,n_head,n_kv_head,n_embd,n_expanded_embd,vocab_size,use_gated_mlp,num_tokens,num_tensor_parallel_workers
0.010,0.011,0.002,0.040,0.003,0.020,0.080,0.004,0.050,0.001,8,2,64,160,1000,True,16,1
0.010,0.012,0.002,0.030,0.003,0.015,0.050,0.003,0.030,0.001,8,2,64,160,1000,True,32,4
FIXTURE
put calib/vidur/cpu_overhead/a40/cpu_overheads.csv <<'FIXTURE'
,schedule_mean,sampler_e2e_mean,schedule_median,sampler_launch_median,sampler_e2e_median,prepare_inputs_launch_median,prepare_inputs_e2e_median,model_execution_launch_median,model_execution_e2e_median,process_model_outputs_median,model_name,batch_size,tensor_parallel_degree,ray_comm_time_mean
0,0.3,0.6,0.25,0.5,0.75,0.8,1.0,0.1,9.0,0.125,handmade/toy-tiny,8,1,5.0
1,0.4,0.7,0.5,0.5,1.0,0.8,1.5,0.1,9.0,0.25,handmade/toy-tiny,32,2,6.0
FIXTURE
put calib/vidur/network/a100_dgx/all_reduce.csv <<'FIXTURE'
,time_stats.all_reduce.min,time_stats.all_reduce.max,time_stats.all_reduce.mean,time_stats.all_reduce.median,time_stats.all_reduce.std,rank,num_workers,size,collective,devices_per_node,max_devices_per_node
0,0.02,0.09,0.05,0.05,0.01,0,2,1024,all_reduce,2,8
1,0.20,0.90,0.50,0.40,0.10,0,16,4096,all_reduce,8,8
FIXTURE
put calib/vidur/network/a100_dgx/send_recv.csv <<'FIXTURE'
,time_stats.send_recv.min,time_stats.send_recv.max,time_stats.send_recv.mean,time_stats.send_recv.median,time_stats.send_recv.std,rank,num_workers,size,collective,devices_per_node,max_devices_per_node
0,0.01,0.05,0.03,0.025,0.01,0,2,3000,send_recv,1,8
FIXTURE
put calib_bad/aiconfigurator/h100_sxm/vllm-0.24.0/gemm_perf.csv <<'FIXTURE'
framework,version,device,op_name,kernel_source,gemm_dtype,m,n,k,latency
VLLM,0.24.0,NVIDIA H100 80GB HBM3,gemm,torch.nn.functional.linear,bfloat16,8,256,128,0.005
VLLM,0.24.0,NVIDIA H100 80GB HBM3,gemm,torch.nn.functional.linear,bfloat16,8,256,128,fast
FIXTURE
put calib_bad/apex_plus/comm/V100-PCIE-16GB/reduce_scatter.csv <<'FIXTURE'
gpu,num_nodes,num_gpus_per_node,dtype,size(kb),time(us)
V100-PCIE-16GB,2,2,half,1,100.0
V100-PCIE-16GB,2,2,half,2,110.0
V100-PCIE-16GB,2,2,half,4,120.0
V100-PCIE-16GB,2,1,half,1,90.0
V100-PCIE-16GB,2,2,half,1,95.0
V100-PCIE-16GB,2,64,half,1,130.0
FIXTURE

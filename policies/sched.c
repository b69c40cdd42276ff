/* The table of built-in schedulers and the key table of the `replica:` section. */
#include "policies/sched.h"

#include <stddef.h>

extern const ss_sched_ops ss_sched_static, ss_sched_orca, ss_sched_vllm, ss_sched_sarathi,
    ss_sched_vllm_v1;

const ss_sched_ops *const ss_sched_builtin[] = {&ss_sched_static, &ss_sched_orca, &ss_sched_vllm,
                                                &ss_sched_sarathi, &ss_sched_vllm_v1, NULL};

const ss_sched_ops *ss_sched_find(const char *name)
{
    return (const ss_sched_ops *)ss_plugin_find((const void *const *)ss_sched_builtin, name);
}

static const char *const dtype_choices[] = {"auto", "fp32", "bf16", "fp16", "fp8",
                                            "int8", "fp4", NULL};
static const char *const preempt_choices[] = {"recompute", "swap", NULL};
static const char *const priority_choices[] = {"fcfs", "shortest_prompt_first", "priority",
                                               NULL};

#define F(field) offsetof(ss_sched_config, field)
const ss_key ss_sched_config_keys[] = {
    {"scheduler", SS_KEY_STRING, F(scheduler), sizeof(((ss_sched_config *)0)->scheduler),
     "vllm", 0, 0, 0, NULL, "Replica scheduler (`servesim list schedulers`).", NULL},
    {"cost_model", SS_KEY_STRING, F(cost_model), sizeof(((ss_sched_config *)0)->cost_model),
     "auto", 0, 0, 0, NULL,
     "Iteration cost model (`servesim list cost-models`); `auto` = `calibrated` when the GPU "
     "has a calibrated profile (hwprofiles/calibrated/, docs/calibration.md), else "
     "`roofline` (reported as uncalibrated).", NULL},
    {"max_num_seqs", SS_KEY_INT, F(max_num_seqs), 0, "", 1, 1e6, 0, "sequences",
     "Most sequences running at once (vLLM --max-num-seqs); unset = the policy's default "
     "(256; vllm_v1: 1024 on GPUs with >= 70 GiB that are not A100s, as vLLM 0.19).", NULL},
    {"max_num_batched_tokens", SS_KEY_INT64, F(max_num_batched_tokens), 0, "", 1, 1e9, 0,
     "tokens",
     "Most tokens computed in one iteration; unset = the policy's default (static, vllm: "
     "max(max_model_len, 2048); orca: max(max_model_len + max_num_seqs - 1, 2048); vllm_v1: "
     "8192 on GPUs with >= 70 GiB that are not A100s, else 2048; sarathi uses chunk_size).",
     NULL},
    {"max_model_len", SS_KEY_INT64, F(max_model_len), 0, "0", 0, 1e9, 0, "tokens",
     "Longest prompt + output accepted; 0 = the model's max_position_embeddings. Longer "
     "requests are rejected.",
     NULL},
    {"block_size", SS_KEY_INT, F(block_size), 0, "16", 1, 65536, 0, "tokens",
     "Tokens per paged KV block.", NULL},
    {"gpu_memory_utilization", SS_KEY_DOUBLE, F(gpu_memory_utilization), 0, "0.9", 0, 1,
     SS_KEY_MIN_EXCL, "fraction", "Fraction of HBM the engine may use (weights + KV + reserve).",
     NULL},
    {"num_gpu_blocks", SS_KEY_INT64, F(num_gpu_blocks), 0, "0", 0, 1e12, 0, "blocks",
     "KV cache size in blocks; 0 = derived from memory (see docs/architecture.md). "
     "Overrides the derivation, like vLLM's num_gpu_blocks_override.", NULL},
    {"watermark", SS_KEY_DOUBLE, F(watermark), 0, "0.01", 0, 1, SS_KEY_MAX_EXCL, "fraction",
     "Fraction of KV blocks kept free when admitting a prefill (vLLM v0 watermark; "
     "vllm_v1 has none and ignores it).", NULL},
    {"weight_dtype", SS_KEY_ENUM, F(weight_dtype), 0, "auto", 0, 0, 0, NULL,
     "Weight precision; auto = the model file's dtype.", dtype_choices},
    {"kv_dtype", SS_KEY_ENUM, F(kv_dtype), 0, "auto", 0, 0, 0, NULL,
     "KV cache precision; auto = the weight dtype.", dtype_choices},
    {"preemption_mode", SS_KEY_ENUM, F(preemption_mode), 0, "recompute", 0, 0, 0, NULL,
     "What happens to a preempted request's KV: recompute (drop it, re-prefill later) or "
     "swap (copy it to host memory over the host link and back; vllm and sarathi).",
     preempt_choices},
    {"swap_space", SS_KEY_BYTES, F(swap_space), 0, "0", 0, 1e15, 0, "bytes",
     "Host memory per GPU for swapped-out KV blocks (vLLM --swap-space; needed by "
     "preemption_mode: swap).", NULL},
    {"priority", SS_KEY_ENUM, F(priority), 0, "fcfs", 0, 0, 0, NULL,
     "Queue order: fcfs (arrival), shortest_prompt_first, or priority (the request's "
     "priority, lower first, then arrival). The last running request in this order is "
     "preempted first.", priority_choices},
    {"chunk_size", SS_KEY_INT64, F(chunk_size), 0, "", 1, 1e9, 0, "tokens",
     "sarathi: token budget per iteration; unset = 512. Must be >= max_num_seqs.", NULL},
    {"long_prefill_token_threshold", SS_KEY_INT64, F(long_prefill_token_threshold), 0, "0", 0,
     1e9, 0, "tokens", "vllm_v1: most tokens one request computes per step; 0 = no cap.", NULL},
    {NULL, 0, 0, 0, NULL, 0, 0, 0, NULL, NULL, NULL},
};
#undef F

/* KV capacity arithmetic; see kv.h. The formula follows vLLM's memory profiling: the
 * cache gets what is left of gpu_memory_utilization x HBM after the weights shard and the
 * activation/runtime reserve. */
#include "policies/kv.h"

#include <math.h>
#include <stdio.h>

ss_rc ss_kv_capacity_compute(const ss_model *m, const ss_hw *hw, int tp, uint32_t block_size,
                             double gpu_memory_utilization, ss_dtype weight_dtype,
                             ss_dtype kv_dtype, ss_kv_capacity *out, char *why, size_t why_n)
{
    out->hbm_bytes = hw->hbm_bytes;
    out->budget_bytes = (double)hw->hbm_bytes * gpu_memory_utilization;
    out->weight_bytes_per_gpu = ss_model_weight_bytes(m, weight_dtype) / (uint64_t)tp;
    out->reserve_bytes = hw->reserve_bytes;
    out->kv_space_bytes =
        out->budget_bytes - (double)out->weight_bytes_per_gpu - (double)out->reserve_bytes;
    out->kv_bytes_per_token = ss_model_kv_bytes_per_token(m, kv_dtype, tp);
    out->block_bytes = out->kv_bytes_per_token * block_size;
    out->blocks = out->kv_space_bytes > 0 && out->block_bytes
                      ? (int64_t)floor(out->kv_space_bytes / (double)out->block_bytes)
                      : 0;
    if (out->blocks < 1) {
        snprintf(why, why_n,
                 "model %s does not fit: %.2f GiB of weights per GPU (tp=%d) + %.2f GiB "
                 "reserve %s %.2f GiB usable (hbm %.2f GiB x gpu_memory_utilization %.2f) on "
                 "%s; one KV block needs %.2f MiB",
                 m->name, (double)out->weight_bytes_per_gpu / 1073741824.0, tp,
                 (double)out->reserve_bytes / 1073741824.0,
                 out->kv_space_bytes < 0 ? "exceed the" : "leave no KV block in the",
                 out->budget_bytes / 1073741824.0,
                 (double)hw->hbm_bytes / 1073741824.0, gpu_memory_utilization, hw->name,
                 (double)out->block_bytes / 1048576.0);
        return SS_ERR_INVALID;
    }
    return SS_OK;
}

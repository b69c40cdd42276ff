/* KV cache accounting of one instance: a fixed number of blocks of block_size tokens, how
 * many are in use, and how capacity is derived from the model, the GPU and the memory budget.
 *
 * This is the block *allocator* in its simplest form: requests hold a count of blocks
 * (ss_req.kv_blocks), blocks are fungible, nothing is shared. Prefix reuse, tiering and
 * eviction policies replace it with a block table behind a policy interface modelled on
 * SQLite's page cache (sqlite3_pcache_methods2) when the KV cache issue lands. */
#ifndef SS_POLICIES_KV_H
#define SS_POLICIES_KV_H

#include <stdint.h>

#include "hwprofiles/hw.h"
#include "models/model.h"
#include "sim/core/diag.h"
#include "sim/core/request.h"

typedef struct ss_kv {
    int64_t total;     /* blocks in the cache */
    int64_t used;      /* blocks held by requests */
    int64_t peak_used; /* high-water mark */
    uint32_t block_size; /* tokens per block */
} ss_kv;

static inline uint32_t ss_kv_blocks_for(const ss_kv *kv, uint64_t tokens)
{
    return (uint32_t)((tokens + kv->block_size - 1) / kv->block_size);
}
static inline int64_t ss_kv_free(const ss_kv *kv) { return kv->total - kv->used; }

/* Give r enough blocks to hold `tokens` tokens (no-op if it already has them). The caller
 * has checked that they are free. */
static inline void ss_kv_reserve(ss_kv *kv, ss_req *r, uint64_t tokens)
{
    /* Fast path without a division: a decode step usually fits the last block. */
    if (tokens <= (uint64_t)r->kv_blocks * kv->block_size) return;
    uint32_t need = ss_kv_blocks_for(kv, tokens);
    if (need > r->kv_blocks) {
        kv->used += need - r->kv_blocks;
        r->kv_blocks = need;
        if (kv->used > kv->peak_used) kv->peak_used = kv->used;
    }
}

/* Blocks r would need in addition to what it holds to hold `tokens` tokens. */
static inline uint32_t ss_kv_extra(const ss_kv *kv, const ss_req *r, uint64_t tokens)
{
    if (tokens <= (uint64_t)r->kv_blocks * kv->block_size) return 0;
    uint32_t need = ss_kv_blocks_for(kv, tokens);
    return need > r->kv_blocks ? need - r->kv_blocks : 0;
}

static inline void ss_kv_release(ss_kv *kv, ss_req *r)
{
    kv->used -= r->kv_blocks;
    r->kv_blocks = 0;
}

/* How the KV capacity of one GPU of a tp-way instance is derived (docs/architecture.md):
 *   blocks = floor((hbm_bytes * gpu_memory_utilization - weight_bytes / tp - reserve_bytes)
 *                  / (block_size * kv_bytes_per_token_per_gpu))                          */
typedef struct ss_kv_capacity {
    uint64_t hbm_bytes;
    double budget_bytes;       /* hbm_bytes * gpu_memory_utilization */
    uint64_t weight_bytes_per_gpu;
    uint64_t reserve_bytes;
    double kv_space_bytes;     /* what is left for the KV cache (may be <= 0) */
    uint64_t kv_bytes_per_token; /* per GPU */
    uint64_t block_bytes;      /* per GPU */
    int64_t blocks;
} ss_kv_capacity;

/* Compute the capacity. SS_ERR_INVALID with a readable reason in `why` when the weights do
 * not fit or no block fits. */
ss_rc ss_kv_capacity_compute(const ss_model *m, const ss_hw *hw, int tp, uint32_t block_size,
                             double gpu_memory_utilization, ss_dtype weight_dtype,
                             ss_dtype kv_dtype, ss_kv_capacity *out, char *why, size_t why_n);

#endif

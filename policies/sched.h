/* Replica schedulers: the plug-in that decides, before every iteration of one instance,
 * which requests run and how many tokens each computes.
 *
 * The engine owns requests and their lifecycle; the scheduler owns the queues. Each
 * iteration the engine asks schedule() for a batch, times it with the cost model, and when it
 * ends advances every batch item by its tokens (sampling a token when a request's pending
 * tokens are all computed) and reports finished requests with finished(). The mechanics
 * every policy shares (ordered queues, preemption by recompute or swap, swap-in) live in
 * policies/sched_base.h, so that KV and request accounting stay in one place. */
#ifndef SS_POLICIES_SCHED_H
#define SS_POLICIES_SCHED_H

#include <stddef.h>
#include <stdint.h>

#include "models/model.h"
#include "hwprofiles/hw.h"
#include "policies/kv.h"
#include "sim/core/cfg.h"
#include "sim/core/plugin.h"
#include "sim/core/request.h"

#define SS_SCHED_ABI 1

typedef enum ss_preempt_mode { SS_PREEMPT_RECOMPUTE, SS_PREEMPT_SWAP } ss_preempt_mode;

/* Order of the waiting queue and of the running set (the last running request is the one
 * preempted first). */
typedef enum ss_priority_mode {
    SS_PRIO_FCFS,          /* arrival order */
    SS_PRIO_SHORTEST_FIRST, /* shortest prompt first, then arrival */
    SS_PRIO_CLASS          /* request priority (lower first), then arrival */
} ss_priority_mode;

/* The `replica:` section of a scenario: scheduler choice and engine limits. One struct for
 * all policies; each policy's configure() resolves its defaults and refuses what it cannot
 * honour. Keys that only some policies read default to 0 ("unset"), so that setting one for
 * a policy that would ignore it is an error rather than a silent no-op. */
typedef struct ss_sched_config {
    char scheduler[32];
    char cost_model[32];
    int max_num_seqs;               /* 0 = the policy's default */
    int64_t max_num_batched_tokens; /* 0 = the policy's default */
    int64_t max_model_len;          /* 0 = the model's max_position_embeddings */
    int block_size;                 /* tokens per KV block */
    double gpu_memory_utilization;
    int64_t num_gpu_blocks;         /* 0 = derive from memory; else override (vLLM's
                                       num_gpu_blocks_override) */
    double watermark;               /* fraction of KV blocks kept free when admitting */
    int weight_dtype;               /* 0 = auto (the model's dtype), else ss_dtype + 1 */
    int kv_dtype;                   /* 0 = auto (the weight dtype), else ss_dtype + 1 */
    int preemption_mode;            /* ss_preempt_mode */
    uint64_t swap_space;            /* host bytes per GPU for swapped-out KV (0 = none) */
    int priority;                   /* ss_priority_mode */
    int64_t chunk_size;             /* sarathi: token budget per iteration (0 = default) */
    int64_t long_prefill_token_threshold; /* vllm_v1: cap per request per step (0 = none) */
} ss_sched_config;

/* What a policy's configure() may consult besides the knobs. */
typedef struct ss_sched_target {
    const ss_hw *hw; /* the instance's GPU (vLLM's defaults depend on it) */
} ss_sched_target;

/* Key table of the `replica:` section (drives parsing and docs). */
extern const ss_key ss_sched_config_keys[];

/* What a scheduler instance gets when created. */
typedef struct ss_sched_env {
    const ss_sched_config *cfg; /* with defaults resolved (max_model_len, budgets) */
    ss_kv *kv;                  /* the instance's KV blocks */
    int instance;               /* instance id, for request records */
    uint64_t block_bytes;       /* bytes of one KV block on one GPU (swap sizing and cost) */
    double host_link_bandwidth; /* B/s, one direction (swap cost) */
} ss_sched_env;

typedef struct ss_batch_item {
    ss_req *r;
    uint32_t tokens; /* tokens of r computed in this iteration */
} ss_batch_item;

typedef struct ss_batch {
    ss_batch_item *items;
    uint32_t n, cap;
    ss_time_ns extra; /* time added to the iteration by the scheduler's own work, e.g.
                         copying swapped KV over the host link (vLLM swaps before the
                         model step, blocking it) */
} ss_batch;

typedef struct ss_sched_ops {
    ss_plugin_info info;
    /* Validate the knobs for this policy and fill policy defaults (e.g. the token budget).
     * On error, name the key in *key and say why. */
    ss_rc (*configure)(ss_sched_config *cfg, const ss_sched_target *t, const char **key,
                       char *why, size_t why_n);
    ss_rc (*create)(const ss_sched_env *env, void **state, ss_diag *d);
    void (*destroy)(void *state);
    /* A new request (already checked to be servable) joins the waiting queue.
     * SS_ERR_NOMEM is the only failure. */
    ss_rc (*enqueue)(void *state, ss_req *r);
    /* Fill `out` (capacity >= max_num_seqs) with the next iteration's work, reserving the KV
     * blocks it needs. An empty batch means "nothing can run now". SS_ERR_NOMEM is the only
     * failure. */
    ss_rc (*schedule)(void *state, ss_time_ns now, ss_batch *out);
    /* r generated its last token: drop it from the running set (engine frees its KV). */
    void (*finished)(void *state, ss_req *r);
    /* Requests waiting + running (for idle detection and invariant checks). */
    size_t (*pending)(void *state);
    /* Optional (may be NULL = never). Called right after schedule() returned a batch in
     * which every item decodes one token: would schedule() return the same batch again,
     * item for item, if no request arrives, none finishes, and every KV check passes? The
     * engine then runs such stretches without events (see sim/engine/replica.c). */
    int (*steady)(void *state);
} ss_sched_ops;

/* NULL-terminated table of built-in schedulers. */
extern const ss_sched_ops *const ss_sched_builtin[];
const ss_sched_ops *ss_sched_find(const char *name);

/* Shared mechanics for policies ------------------------------------------------ */

static inline void ss_batch_add(ss_batch *b, ss_req *r, uint32_t tokens)
{
    b->items[b->n].r = r;
    b->items[b->n].tokens = tokens;
    b->n++;
}

#endif

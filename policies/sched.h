/* Replica schedulers: the plug-in that decides, before every iteration of one instance,
 * which requests run and how many tokens each computes.
 *
 * The engine owns requests and their lifecycle; the scheduler owns the queues. Each
 * iteration the engine asks schedule() for a batch, times it with the cost model, and when it
 * ends advances every batch item by its tokens (sampling a token when a request's pending
 * tokens are all computed) and reports finished requests with finished(). A scheduler that
 * preempts does so inside schedule() through ss_sched_preempt(), which keeps the KV and
 * request accounting in one place. */
#ifndef SS_POLICIES_SCHED_H
#define SS_POLICIES_SCHED_H

#include <stddef.h>
#include <stdint.h>

#include "models/model.h"
#include "policies/kv.h"
#include "sim/core/cfg.h"
#include "sim/core/plugin.h"
#include "sim/core/request.h"

#define SS_SCHED_ABI 1

typedef enum ss_preempt_mode { SS_PREEMPT_RECOMPUTE, SS_PREEMPT_SWAP } ss_preempt_mode;

/* The `replica:` section of a scenario: scheduler choice and engine limits. One struct for
 * all policies; each policy's check() says which values it accepts. */
typedef struct ss_sched_config {
    char scheduler[32];
    char cost_model[32];
    int max_num_seqs;
    int64_t max_num_batched_tokens; /* 0 = the policy's default */
    int64_t max_model_len;          /* 0 = the model's max_position_embeddings */
    int block_size;                 /* tokens per KV block */
    double gpu_memory_utilization;
    double watermark;               /* fraction of KV blocks kept free when admitting */
    int weight_dtype;               /* 0 = auto (the model's dtype), else ss_dtype + 1 */
    int kv_dtype;                   /* 0 = auto (the weight dtype), else ss_dtype + 1 */
    int preemption_mode;            /* ss_preempt_mode */
} ss_sched_config;

/* Key table of the `replica:` section (drives parsing and docs). */
extern const ss_key ss_sched_config_keys[];

/* What a scheduler instance gets when created. */
typedef struct ss_sched_env {
    const ss_sched_config *cfg; /* with defaults resolved (max_model_len, budgets) */
    ss_kv *kv;                  /* the instance's KV blocks */
    int instance;               /* instance id, for request records */
} ss_sched_env;

typedef struct ss_batch_item {
    ss_req *r;
    uint32_t tokens; /* tokens of r computed in this iteration */
} ss_batch_item;

typedef struct ss_batch {
    ss_batch_item *items;
    uint32_t n, cap;
} ss_batch;

typedef struct ss_sched_ops {
    ss_plugin_info info;
    /* Validate the knobs for this policy and fill policy defaults (e.g. the token budget).
     * On error, name the key in *key and say why. */
    ss_rc (*configure)(ss_sched_config *cfg, const char **key, char *why, size_t why_n);
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

/* Recompute preemption: free r's KV, forget its computed tokens, count it. */
static inline void ss_sched_preempt(ss_kv *kv, ss_req *r)
{
    ss_kv_release(kv, r);
    r->computed = 0;
    r->preemptions++;
    r->state = SS_REQ_PREEMPTED;
}

static inline void ss_batch_add(ss_batch *b, ss_req *r, uint32_t tokens)
{
    b->items[b->n].r = r;
    b->items[b->n].tokens = tokens;
    b->n++;
}

#endif

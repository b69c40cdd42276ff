/* Shared scheduler mechanics; see sched_base.h.
 *
 * Swap follows vLLM v0 (vllm/core/scheduler.py, _preempt_by_swap / _swap_in): a swapped-out
 * request's blocks move to a host pool of swap_space bytes per GPU; copying them each way
 * takes blocks x block_bytes / host_link_bandwidth, which the engine adds to the iteration
 * (vLLM issues the copies before the model step of the same iteration). When the host pool
 * cannot take a victim, vLLM v0 aborts the engine ("Aborted due to the lack of CPU swap
 * space"); servesim preempts it by recompute instead, so a run never dies, and says so in
 * docs/policies.md. */
#include "policies/sched_base.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/core/time.h"

static int before_fcfs(const ss_req *a, const ss_req *b) { return a->id < b->id; }
static int before_spf(const ss_req *a, const ss_req *b)
{
    if (a->prompt_tokens != b->prompt_tokens) return a->prompt_tokens < b->prompt_tokens;
    return a->id < b->id;
}
static int before_prio(const ss_req *a, const ss_req *b)
{
    if (a->priority != b->priority) return a->priority < b->priority;
    return a->id < b->id;
}

ss_rc ss_sched_base_init(ss_sched_base *b, const ss_sched_env *env, ss_diag *d)
{
    memset(b, 0, sizeof *b);
    b->cfg = *env->cfg;
    b->kv = env->kv;
    b->instance = env->instance;
    b->watermark_blocks = (int64_t)(env->cfg->watermark * (double)env->kv->total);
    b->before = b->cfg.priority == SS_PRIO_SHORTEST_FIRST ? before_spf
                : b->cfg.priority == SS_PRIO_CLASS       ? before_prio
                                                         : before_fcfs;
    if (env->block_bytes) b->host_blocks_total = (int64_t)(b->cfg.swap_space / env->block_bytes);
    if (env->host_link_bandwidth > 0)
        b->swap_s_per_block = (double)env->block_bytes / env->host_link_bandwidth;
    if (ss_reqq_init(&b->waiting, 64) || ss_reqq_init(&b->running, (size_t)b->cfg.max_num_seqs) ||
        ss_reqq_init(&b->swapped, 16)) {
        ss_reqq_free(&b->waiting);
        ss_reqq_free(&b->running);
        ss_reqq_free(&b->swapped);
        return ss_diag_fail(d, SS_ERR_NOMEM, "out of memory creating the scheduler");
    }
    return SS_OK;
}

ss_rc ss_sched_base_create(const ss_sched_env *env, void **state, ss_diag *d)
{
    ss_sched_base *b = calloc(1, sizeof *b);
    if (!b) return ss_diag_fail(d, SS_ERR_NOMEM, "out of memory creating the scheduler");
    ss_rc rc = ss_sched_base_init(b, env, d);
    if (rc) {
        free(b);
        return rc;
    }
    *state = b;
    return SS_OK;
}

void ss_sched_base_destroy(void *state)
{
    ss_sched_base *b = state;
    if (!b) return;
    ss_reqq_free(&b->waiting);
    ss_reqq_free(&b->running);
    ss_reqq_free(&b->swapped);
    free(state);
}

ss_rc ss_sched_base_enqueue(void *state, ss_req *r)
{
    ss_sched_base *b = state;
    r->state = SS_REQ_WAITING;
    return ss_reqq_insert_sorted(&b->waiting, r, b->before) ? SS_ERR_NOMEM : SS_OK;
}

void ss_sched_base_finished(void *state, ss_req *r)
{
    ss_sched_base *b = state;
    (void)r; /* its state is SS_REQ_FINISHED; dropped from `running` at the next schedule() */
    b->finished_pending++;
}

size_t ss_sched_base_pending(void *state)
{
    const ss_sched_base *b = state;
    return b->waiting.n + b->running.n + b->swapped.n - b->finished_pending;
}

void ss_sched_base_begin(ss_sched_base *b, ss_batch *out)
{
    out->n = 0;
    out->extra = 0;
    b->preempted_now = 0;
    if (!b->finished_pending) return;
    size_t w = 0, mask = b->running.cap - 1;
    for (size_t i = 0; i < b->running.n; i++) {
        ss_req *r = ss_reqq_at(&b->running, i);
        if (r->state == SS_REQ_FINISHED) continue;
        b->running.buf[(b->running.head + w) & mask] = r;
        w++;
    }
    b->running.n = w;
    b->finished_pending = 0;
}

ss_rc ss_sched_base_admit(ss_sched_base *b, ss_batch *out, uint32_t tokens)
{
    ss_req *r = ss_reqq_pop_front(&b->waiting);
    if (ss_reqq_insert_sorted(&b->running, r, b->before)) return SS_ERR_NOMEM;
    ss_kv_reserve(b->kv, r, (uint64_t)r->computed + tokens);
    r->state = SS_REQ_RUNNING;
    ss_batch_add(out, r, tokens);
    return SS_OK;
}

ss_req *ss_sched_base_preempt_last(ss_sched_base *b, ss_batch *out)
{
    ss_req *v = ss_reqq_pop_back(&b->running);
    b->preempted_now++;
    v->preemptions++;
    if (b->cfg.preemption_mode == SS_PREEMPT_SWAP &&
        b->host_blocks_used + v->kv_blocks <= b->host_blocks_total) {
        b->host_blocks_used += v->kv_blocks;
        b->kv->used -= v->kv_blocks; /* the request keeps its block count, now on the host */
        out->extra += ss_time_from_s((double)v->kv_blocks * b->swap_s_per_block);
        v->state = SS_REQ_SWAPPED;
        if (ss_reqq_insert_sorted(&b->swapped, v, b->before)) return NULL;
        return v;
    }
    ss_kv_release(b->kv, v);
    v->computed = 0;
    v->state = SS_REQ_PREEMPTED;
    if (ss_reqq_insert_sorted(&b->waiting, v, b->before)) return NULL;
    return v;
}

ss_rc ss_sched_base_swap_in(ss_sched_base *b, ss_batch *out)
{
    while (b->swapped.n) {
        ss_req *r = ss_reqq_at(&b->swapped, 0);
        if (b->running.n + 1 > (size_t)b->cfg.max_num_seqs) break;
        /* vLLM's can_swap_in: its blocks plus one per sequence, above the watermark */
        if (ss_kv_free(b->kv) - (int64_t)r->kv_blocks - 1 < b->watermark_blocks) break;
        ss_reqq_pop_front(&b->swapped);
        b->host_blocks_used -= r->kv_blocks;
        b->kv->used += r->kv_blocks;
        if (b->kv->used > b->kv->peak_used) b->kv->peak_used = b->kv->used;
        out->extra += ss_time_from_s((double)r->kv_blocks * b->swap_s_per_block);
        if (ss_reqq_insert_sorted(&b->running, r, b->before)) return SS_ERR_NOMEM;
        r->state = SS_REQ_RUNNING;
        if (ss_req_decoding(r)) { /* a partial prefill resumes in the policy's prefill phase */
            ss_kv_reserve(b->kv, r, (uint64_t)r->computed + 1);
            ss_batch_add(out, r, 1);
        }
    }
    return SS_OK;
}

int ss_sched_base_make_room(ss_sched_base *b, ss_batch *out, const ss_req *r, int64_t blocks)
{
    while (ss_kv_free(b->kv) < blocks) {
        ss_req *v = ss_sched_base_preempt_last(b, out);
        if (!v) return -1;
        if (v == r) return 0;
    }
    return 1;
}

ss_rc ss_sched_base_decode_round(ss_sched_base *b, ss_batch *out, int64_t *budget,
                                 int skip_prefilling)
{
    for (size_t i = 0; i < b->running.n;) {
        if (budget && *budget <= 0) break;
        ss_req *r = ss_reqq_at(&b->running, i);
        if (skip_prefilling && !ss_req_decoding(r)) {
            i++;
            continue;
        }
        int room = ss_sched_base_make_room(b, out, r, 1); /* vLLM's can_append_slot */
        if (room < 0) return SS_ERR_NOMEM;
        if (!room) break;
        ss_kv_reserve(b->kv, r, (uint64_t)r->computed + 1);
        ss_batch_add(out, r, 1);
        if (budget) (*budget)--;
        i++;
    }
    return SS_OK;
}

ss_rc ss_sched_check_common(ss_sched_config *cfg, const char *policy, int uses_chunk,
                            int uses_threshold, int can_swap, const char **key, char *why,
                            size_t why_n)
{
    if (!uses_chunk && cfg->chunk_size) {
        *key = "chunk_size";
        snprintf(why, why_n, "chunk_size is a sarathi setting; the %s scheduler does not use "
                             "it (remove it, or use scheduler: sarathi)", policy);
        return SS_ERR_INVALID;
    }
    if (!uses_threshold && cfg->long_prefill_token_threshold) {
        *key = "long_prefill_token_threshold";
        snprintf(why, why_n, "long_prefill_token_threshold is a vllm_v1 setting; the %s "
                             "scheduler does not use it", policy);
        return SS_ERR_INVALID;
    }
    if (cfg->preemption_mode == SS_PREEMPT_SWAP) {
        if (!can_swap) {
            *key = "preemption_mode";
            snprintf(why, why_n, "the %s scheduler does not preempt by swapping (recompute "
                                 "only)", policy);
            return SS_ERR_INVALID;
        }
        if (!cfg->swap_space) {
            *key = "preemption_mode";
            snprintf(why, why_n, "preemption_mode: swap needs host memory for swapped KV "
                                 "blocks: set replica.swap_space (e.g. 4GiB, vLLM's default)");
            return SS_ERR_INVALID;
        }
    } else if (cfg->swap_space) {
        *key = "swap_space";
        snprintf(why, why_n, "swap_space is only used with preemption_mode: swap");
        return SS_ERR_INVALID;
    }
    if (cfg->max_num_seqs == 0) cfg->max_num_seqs = 256;
    return SS_OK;
}

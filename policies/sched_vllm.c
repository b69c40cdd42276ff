/* `vllm`: vLLM's original prefill-prioritising continuous batching (v0 scheduler, as in
 * vllm/core/scheduler.py of v0.2-v0.4 and the vLLM paper, SOSP'23).
 *
 * Each iteration is either prefill-only or decode-only:
 *  1. Prefill: take waiting requests in FCFS order while the next one fits the token budget
 *     (max_num_batched_tokens), the sequence limit (max_num_seqs, counting running ones) and
 *     the free KV blocks minus the watermark. Stop at the first that does not fit (no
 *     skipping: head-of-line order is part of the policy). If any were taken, the iteration
 *     prefills them and nothing else.
 *  2. Otherwise decode: every running request, oldest first, computes one token. vLLM's
 *     can_append_slot asks for one free block per sequence whatever its last block holds;
 *     while none is free, the newest running request is preempted by recompute (KV dropped,
 *     back to the front of the waiting queue); if the newest is the request itself, it is
 *     preempted and the round stops.
 *
 * Deliberate differences, documented in docs/policies.md: no max_paddings limit, no swap
 * (preemption_mode must be recompute), and requests that could never fit are rejected at
 * arrival by the engine rather than "ignored" at their first schedule.
 *
 * Invariant: running is sorted by arrival (id) and holds at most max_num_seqs requests,
 * each with KV blocks for its computed tokens. */
#include <stdlib.h>
#include <string.h>

#include "policies/reqqueue.h"
#include "policies/sched.h"

typedef struct vllm {
    ss_sched_config cfg;
    ss_kv *kv;
    int instance;
    int64_t watermark_blocks;
    ss_reqq waiting;
    ss_reqq running;
    size_t finished_pending; /* finished requests not yet dropped from `running` */
} vllm;

static ss_rc vllm_configure(ss_sched_config *cfg, const char **key, char *why, size_t why_n)
{
    if (cfg->preemption_mode != SS_PREEMPT_RECOMPUTE) {
        *key = "preemption_mode";
        snprintf(why, why_n, "the vllm scheduler preempts by recompute only (swap arrives "
                             "with the schedulers issue)");
        return SS_ERR_UNSUPPORTED;
    }
    if (cfg->max_num_batched_tokens == 0)
        cfg->max_num_batched_tokens = cfg->max_model_len > 2048 ? cfg->max_model_len : 2048;
    if (cfg->max_num_batched_tokens < cfg->max_model_len) {
        /* vLLM v0 refuses this too: a prompt of max_model_len could never be prefilled. */
        *key = "max_num_batched_tokens";
        snprintf(why, why_n,
                 "max_num_batched_tokens (%lld) is smaller than max_model_len (%lld): the "
                 "vllm scheduler prefills a whole prompt in one iteration, so a long prompt "
                 "could never run; raise it or lower max_model_len",
                 (long long)cfg->max_num_batched_tokens, (long long)cfg->max_model_len);
        return SS_ERR_INVALID;
    }
    return SS_OK;
}

static ss_rc vllm_create(const ss_sched_env *env, void **state, ss_diag *d)
{
    vllm *s = calloc(1, sizeof *s);
    if (!s) return ss_diag_fail(d, SS_ERR_NOMEM, "out of memory creating the vllm scheduler");
    s->cfg = *env->cfg;
    s->kv = env->kv;
    s->instance = env->instance;
    s->watermark_blocks = (int64_t)(env->cfg->watermark * (double)env->kv->total);
    if (ss_reqq_init(&s->waiting, 64) || ss_reqq_init(&s->running, (size_t)s->cfg.max_num_seqs)) {
        ss_reqq_free(&s->waiting);
        free(s);
        return ss_diag_fail(d, SS_ERR_NOMEM, "out of memory creating the vllm scheduler");
    }
    *state = s;
    return SS_OK;
}

static void vllm_destroy(void *state)
{
    vllm *s = state;
    if (!s) return;
    ss_reqq_free(&s->waiting);
    ss_reqq_free(&s->running);
    free(s);
}

static ss_rc vllm_enqueue(void *state, ss_req *r)
{
    vllm *s = state;
    r->state = SS_REQ_WAITING;
    return ss_reqq_push_back(&s->waiting, r) ? SS_ERR_NOMEM : SS_OK;
}

static void drop_finished(vllm *s)
{
    if (!s->finished_pending) return;
    size_t w = 0;
    for (size_t i = 0; i < s->running.n; i++) {
        ss_req *r = ss_reqq_at(&s->running, i);
        if (r->state == SS_REQ_FINISHED) continue;
        s->running.buf[(s->running.head + w) & (s->running.cap - 1)] = r;
        w++;
    }
    s->running.n = w;
    s->finished_pending = 0;
}

/* Can waiting request r join a prefill round that already holds `tokens` tokens and whose
 * running set + round holds `seqs` sequences? */
static int fits(const vllm *s, const ss_req *r, int64_t tokens, size_t seqs)
{
    uint32_t need = ss_req_pending_tokens(r);
    if (tokens + need > s->cfg.max_num_batched_tokens) return 0;
    if (seqs + 1 > (size_t)s->cfg.max_num_seqs) return 0;
    uint32_t blocks = ss_kv_extra(s->kv, r, (uint64_t)r->computed + need);
    return ss_kv_free(s->kv) - (int64_t)blocks >= s->watermark_blocks;
}

static ss_rc vllm_schedule(void *state, ss_time_ns now, ss_batch *out)
{
    vllm *s = state;
    (void)now;
    drop_finished(s);
    out->n = 0;

    /* 1. prefill-only iteration if any waiting request fits */
    int64_t tokens = 0;
    size_t seqs = s->running.n;
    while (s->waiting.n) {
        ss_req *r = ss_reqq_at(&s->waiting, 0);
        uint32_t need = ss_req_pending_tokens(r);
        if (!fits(s, r, tokens, seqs)) break;
        ss_reqq_pop_front(&s->waiting);
        if (ss_reqq_insert_by_id(&s->running, r)) return SS_ERR_NOMEM;
        ss_kv_reserve(s->kv, r, (uint64_t)r->computed + need);
        r->state = SS_REQ_RUNNING;
        ss_batch_add(out, r, need);
        tokens += need;
        seqs++;
    }
    if (out->n) return SS_OK;

    /* 2. decode-only iteration over the running set, oldest first */
    for (size_t i = 0; i < s->running.n;) {
        ss_req *r = ss_reqq_at(&s->running, i);
        int self_preempted = 0;
        while (ss_kv_free(s->kv) < 1) {
            ss_req *victim = ss_reqq_pop_back(&s->running);
            ss_sched_preempt(s->kv, victim);
            if (ss_reqq_push_front(&s->waiting, victim)) return SS_ERR_NOMEM;
            if (victim == r) {
                self_preempted = 1;
                break;
            }
        }
        if (self_preempted) break;
        ss_kv_reserve(s->kv, r, (uint64_t)r->computed + 1);
        ss_batch_add(out, r, 1);
        i++;
    }
    return SS_OK;
}

static void vllm_finished(void *state, ss_req *r)
{
    vllm *s = state;
    (void)r; /* its state is already SS_REQ_FINISHED; dropped lazily in O(batch) once */
    s->finished_pending++;
}

static size_t vllm_pending(void *state)
{
    vllm *s = state;
    return s->waiting.n + s->running.n - s->finished_pending;
}

/* The next schedule() is a decode round over the same running set if the head of the
 * waiting queue cannot start a prefill round now: with no arrival and no completion the
 * running count stays and free blocks only shrink, so it will not fit later either. */
static int vllm_steady(void *state)
{
    vllm *s = state;
    if (s->finished_pending) return 0;
    return s->waiting.n == 0 || !fits(s, ss_reqq_at(&s->waiting, 0), 0, s->running.n);
}

const ss_sched_ops ss_sched_vllm = {
    .info = {SS_SCHED_ABI, "vllm",
             "prefill-prioritising continuous batching: prefill-only iterations when waiting "
             "requests fit, else decode; recompute preemption of the newest",
             "vLLM v0 scheduler (Kwon et al., SOSP'23; vllm/core/scheduler.py v0.2-v0.4)"},
    .configure = vllm_configure,
    .create = vllm_create,
    .destroy = vllm_destroy,
    .enqueue = vllm_enqueue,
    .schedule = vllm_schedule,
    .finished = vllm_finished,
    .pending = vllm_pending,
    .steady = vllm_steady,
};

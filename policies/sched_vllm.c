/* `vllm`: vLLM's original prefill-prioritising continuous batching (v0 scheduler, as in
 * vllm/core/scheduler.py of v0.2-v0.4 and the vLLM paper, SOSP'23).
 *
 * Each iteration is either prefill-only or decode-only:
 *  1. Prefill: while nothing is swapped out, take waiting requests in queue order while the
 *     next one fits the token budget (max_num_batched_tokens), the sequence limit
 *     (max_num_seqs, counting running ones) and the free KV blocks minus the watermark. Stop
 *     at the first that does not fit (head-of-line order is part of the policy). If any
 *     were taken, the iteration prefills them and nothing else.
 *  2. Otherwise decode: every running request, in queue order, computes one token. vLLM's
 *     can_append_slot asks for one free block per sequence whatever its last block holds;
 *     while none is free, the newest running request is preempted (recompute, or swap to
 *     host memory); if the newest is the request itself, it is preempted and the round
 *     stops. If nobody was preempted, swapped requests come back in and decode too.
 *
 * Deliberate differences, documented in docs/policies.md: no max_paddings limit, and
 * requests that could never fit are rejected at arrival by the engine rather than
 * "ignored" at their first schedule.
 *
 * Invariant: running is sorted by the queue order and holds at most max_num_seqs
 * requests, each with KV blocks for its computed tokens. */
#include <stdlib.h>

#include "policies/sched_base.h"

static ss_rc vllm_configure(ss_sched_config *cfg, const ss_sched_target *t, const char **key,
                            char *why, size_t why_n)
{
    (void)t;
    ss_rc rc = ss_sched_check_common(cfg, "vllm", 0, 0, 1, key, why, why_n);
    if (rc) return rc;
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

/* Can waiting request r join a prefill round that already holds `tokens` tokens and whose
 * running set + round holds `seqs` sequences? */
static int fits(const ss_sched_base *b, const ss_req *r, int64_t tokens, size_t seqs)
{
    uint32_t need = ss_req_pending_tokens(r);
    if (tokens + need > b->cfg.max_num_batched_tokens) return 0;
    if (seqs + 1 > (size_t)b->cfg.max_num_seqs) return 0;
    uint32_t blocks = ss_kv_extra(b->kv, r, (uint64_t)r->computed + need);
    return ss_kv_free(b->kv) - (int64_t)blocks >= b->watermark_blocks;
}

static ss_rc vllm_schedule(void *state, ss_time_ns now, ss_batch *out)
{
    ss_sched_base *b = state;
    (void)now;
    ss_sched_base_begin(b, out);

    /* 1. prefill-only iteration if any waiting request fits (none while any is swapped) */
    int64_t tokens = 0;
    while (!b->swapped.n && b->waiting.n) {
        ss_req *r = ss_reqq_at(&b->waiting, 0);
        if (!fits(b, r, tokens, b->running.n)) break;
        uint32_t need = ss_req_pending_tokens(r);
        if (ss_sched_base_admit(b, out, need)) return SS_ERR_NOMEM;
        tokens += need;
    }
    if (out->n) return SS_OK;

    /* 2. decode-only iteration over the running set, then swap-in if nobody was preempted */
    ss_rc rc = ss_sched_base_decode_round(b, out, NULL, 0);
    if (!rc && !b->preempted_now) rc = ss_sched_base_swap_in(b, out);
    return rc;
}

/* The next schedule() is a decode round over the same running set if nothing is swapped
 * out and the head of the waiting queue cannot start a prefill round now: with no arrival
 * and no completion the running count stays and free blocks only shrink, so it will not
 * fit later either. */
static int vllm_steady(void *state)
{
    const ss_sched_base *b = state;
    if (b->finished_pending || b->swapped.n) return 0;
    return b->waiting.n == 0 || !fits(b, ss_reqq_at(&b->waiting, 0), 0, b->running.n);
}

const ss_sched_ops ss_sched_vllm = {
    .info = {SS_SCHED_ABI, "vllm",
             "prefill-prioritising continuous batching: prefill-only iterations when waiting "
             "requests fit, else decode; preemption of the newest (recompute or swap)",
             "vLLM v0 scheduler (Kwon et al., SOSP'23; vllm/core/scheduler.py v0.2-v0.4)"},
    .configure = vllm_configure,
    .create = ss_sched_base_create,
    .destroy = ss_sched_base_destroy,
    .enqueue = ss_sched_base_enqueue,
    .schedule = vllm_schedule,
    .finished = ss_sched_base_finished,
    .pending = ss_sched_base_pending,
    .steady = vllm_steady,
};

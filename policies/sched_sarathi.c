/* `sarathi`: chunked prefills with stall-free batching (Agrawal et al., "Taming
 * Throughput-Latency Tradeoff in LLM Inference with Sarathi-Serve", OSDI'24).
 *
 * Each iteration has a token budget, chunk_size. In order:
 *  1. decodes: every running request past its prompt decodes one token (queue order), each
 *     taking one unit of budget, with vLLM's block check and preemption of the newest
 *     running request (recompute or swap) when no block is free;
 *  2. if nobody was preempted, swapped requests come back in (and decode);
 *  3. partial prefills: running requests still in their prompt get chunks of
 *     min(pending tokens, budget left), queue order, while their blocks fit;
 *  4. new requests join from the waiting queue with a chunk min(pending, budget left) while
 *     budget is left, running < max_num_seqs and the chunk's blocks fit above the watermark.
 * A long prompt is thus split across iterations and never stalls the running decodes: that
 * is the point of the policy. Batch order: decodes, partial prefills, new requests.
 *
 * chunk_size defaults to 512 (Vidur's sarathi default; Sarathi-Serve evaluates 512-2048);
 * it must cover max_num_seqs decodes, or some decodes could never be scheduled. */
#include <stdlib.h>

#include "policies/sched_base.h"

static ss_rc sarathi_configure(ss_sched_config *cfg, const ss_sched_target *t,
                               const char **key, char *why, size_t why_n)
{
    (void)t;
    ss_rc rc = ss_sched_check_common(cfg, "sarathi", 1, 0, 1, key, why, why_n);
    if (rc) return rc;
    if (cfg->max_num_batched_tokens) {
        *key = "max_num_batched_tokens";
        snprintf(why, why_n, "the sarathi scheduler's token budget is chunk_size; remove "
                             "max_num_batched_tokens");
        return SS_ERR_INVALID;
    }
    if (cfg->chunk_size == 0) cfg->chunk_size = 512;
    if (cfg->chunk_size < cfg->max_num_seqs) {
        *key = "chunk_size";
        snprintf(why, why_n, "chunk_size (%lld) is smaller than one decode batch "
                             "(max_num_seqs = %d): decodes alone could exceed the budget",
                 (long long)cfg->chunk_size, cfg->max_num_seqs);
        return SS_ERR_INVALID;
    }
    cfg->max_num_batched_tokens = cfg->chunk_size;
    return SS_OK;
}

static ss_rc sarathi_schedule(void *state, ss_time_ns now, ss_batch *out)
{
    ss_sched_base *b = state;
    (void)now;
    ss_sched_base_begin(b, out);
    int64_t budget = b->cfg.chunk_size;
    ss_rc rc = ss_sched_base_decode_round(b, out, &budget, 1);
    if (!rc && !b->preempted_now) {
        uint32_t before = out->n;
        rc = ss_sched_base_swap_in(b, out);
        budget -= out->n - before;
    }
    if (rc) return rc;
    /* partial prefills of running requests */
    for (size_t i = 0; i < b->running.n && budget > 0; i++) {
        ss_req *r = ss_reqq_at(&b->running, i);
        if (ss_req_decoding(r)) continue;
        uint32_t pend = ss_req_pending_tokens(r);
        uint32_t n = pend < budget ? pend : (uint32_t)budget;
        if ((int64_t)ss_kv_extra(b->kv, r, (uint64_t)r->computed + n) > ss_kv_free(b->kv)) break;
        ss_kv_reserve(b->kv, r, (uint64_t)r->computed + n);
        ss_batch_add(out, r, n);
        budget -= n;
    }
    /* new requests */
    while (budget > 0 && b->waiting.n) {
        if (b->running.n + 1 > (size_t)b->cfg.max_num_seqs) break;
        ss_req *r = ss_reqq_at(&b->waiting, 0);
        uint32_t pend = ss_req_pending_tokens(r);
        uint32_t n = pend < budget ? pend : (uint32_t)budget;
        int64_t blocks = ss_kv_extra(b->kv, r, (uint64_t)r->computed + n);
        if (ss_kv_free(b->kv) - blocks < b->watermark_blocks) break;
        if (ss_sched_base_admit(b, out, n)) return SS_ERR_NOMEM;
        budget -= n;
    }
    return SS_OK;
}

/* Decode-only and steady when nothing is prefilling, nothing swapped, and the waiting head
 * cannot join (running set full, or its first chunk's blocks do not fit). */
static int sarathi_steady(void *state)
{
    const ss_sched_base *b = state;
    if (b->finished_pending || b->swapped.n) return 0;
    for (size_t i = 0; i < b->running.n; i++)
        if (!ss_req_decoding(ss_reqq_at(&b->running, i))) return 0;
    if (!b->waiting.n) return 1;
    if (b->running.n + 1 > (size_t)b->cfg.max_num_seqs) return 1;
    int64_t budget = b->cfg.chunk_size - (int64_t)b->running.n;
    if (budget <= 0) return 1;
    const ss_req *r = ss_reqq_at(&b->waiting, 0);
    uint32_t pend = ss_req_pending_tokens(r);
    uint32_t n = pend < budget ? pend : (uint32_t)budget;
    return ss_kv_free(b->kv) - (int64_t)ss_kv_extra(b->kv, r, (uint64_t)r->computed + n) <
           b->watermark_blocks;
}

const ss_sched_ops ss_sched_sarathi = {
    .info = {SS_SCHED_ABI, "sarathi",
             "chunked prefill (stall-free batching): decodes first, then prefill chunks fill "
             "a per-iteration token budget (chunk_size)",
             "Agrawal et al., Sarathi-Serve, OSDI'24; Vidur's sarathi scheduler"},
    .configure = sarathi_configure,
    .create = ss_sched_base_create,
    .destroy = ss_sched_base_destroy,
    .enqueue = ss_sched_base_enqueue,
    .schedule = sarathi_schedule,
    .finished = ss_sched_base_finished,
    .pending = ss_sched_base_pending,
    .steady = sarathi_steady,
};

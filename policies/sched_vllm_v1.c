/* `vllm_v1`: the scheduler of current vLLM (the v1 engine, vllm/v1/core/sched/scheduler.py,
 * e.g. 0.19, the version of the real runs in ../shared/data/validation).
 *
 * One token budget per step, max_num_batched_tokens; chunked prefill always on:
 *  1. running requests in queue order each get n = min(pending tokens, budget left,
 *     long_prefill_token_threshold if set) tokens: 1 for a decode, a chunk for a prompt
 *     still being prefilled. If its KV blocks cannot be allocated, the last running request
 *     is preempted by recompute (KV freed, back to the waiting queue at its ordered place:
 *     the front under fcfs, where vLLM v1 prepends it) and the
 *     allocation retried; if the victim is the request itself, the loop stops. The loop
 *     also stops when the budget is spent.
 *  2. only if nobody was preempted in this step: waiting requests in queue order join while
 *     budget is left and running < max_num_seqs, each with n = min(pending, budget left,
 *     threshold); stop at the first whose blocks cannot be allocated. No watermark.
 * Batch order: running requests in order, then newly joined ones.
 *
 * Where it differs from `sarathi`: running requests are served in queue order whatever
 * their phase (a partial prefill ahead of a decode is served first), not decodes first;
 * the budget is max_num_batched_tokens and a per-request cap replaces nothing else; v1
 * allocates without a watermark; it admits nobody in a step that preempted; it preempts
 * by recompute only (no swap).
 *
 * Defaults as vLLM 0.19 sets them for online serving (EngineArgs.get_batch_defaults,
 * OPENAI_API_SERVER context): max_num_batched_tokens 8192 and max_num_seqs 1024 on GPUs with
 * at least 70 GiB that are not A100s, else 2048 and 256. Prefix caching (on by default in
 * v1) is not modelled yet. */
#include <stdlib.h>
#include <string.h>

#include "policies/sched_base.h"

static ss_rc v1_configure(ss_sched_config *cfg, const ss_sched_target *t, const char **key,
                          char *why, size_t why_n)
{
    int big = t && t->hw && t->hw->hbm_bytes >= 70ULL * 1073741824ULL &&
              !strstr(t->hw->name, "a100");
    if (cfg->max_num_seqs == 0) cfg->max_num_seqs = big ? 1024 : 256;
    ss_rc rc = ss_sched_check_common(cfg, "vllm_v1", 0, 1, 0, key, why, why_n);
    if (rc) return rc;
    if (cfg->max_num_batched_tokens == 0) cfg->max_num_batched_tokens = big ? 8192 : 2048;
    if (cfg->max_num_batched_tokens < cfg->max_num_seqs) {
        *key = "max_num_batched_tokens";
        snprintf(why, why_n, "max_num_batched_tokens (%lld) is smaller than one decode batch "
                             "(max_num_seqs = %d), as vLLM also refuses",
                 (long long)cfg->max_num_batched_tokens, cfg->max_num_seqs);
        return SS_ERR_INVALID;
    }
    return SS_OK;
}

static uint32_t step_tokens(const ss_sched_base *b, const ss_req *r, int64_t budget)
{
    uint32_t n = ss_req_pending_tokens(r);
    int64_t cap = b->cfg.long_prefill_token_threshold;
    if (cap > 0 && n > cap) n = (uint32_t)cap;
    if (n > budget) n = (uint32_t)budget;
    return n;
}

static ss_rc v1_schedule(void *state, ss_time_ns now, ss_batch *out)
{
    ss_sched_base *b = state;
    (void)now;
    ss_sched_base_begin(b, out);
    int64_t budget = b->cfg.max_num_batched_tokens;
    for (size_t i = 0; i < b->running.n && budget > 0;) {
        ss_req *r = ss_reqq_at(&b->running, i);
        uint32_t n = step_tokens(b, r, budget);
        int64_t need = ss_kv_extra(b->kv, r, (uint64_t)r->computed + n);
        int room = ss_sched_base_make_room(b, out, r, need);
        if (room < 0) return SS_ERR_NOMEM;
        if (!room) break;
        ss_kv_reserve(b->kv, r, (uint64_t)r->computed + n);
        ss_batch_add(out, r, n);
        budget -= n;
        i++;
    }
    if (b->preempted_now) return SS_OK;
    while (budget > 0 && b->waiting.n && b->running.n < (size_t)b->cfg.max_num_seqs) {
        ss_req *r = ss_reqq_at(&b->waiting, 0);
        uint32_t n = step_tokens(b, r, budget);
        if ((int64_t)ss_kv_extra(b->kv, r, (uint64_t)r->computed + n) > ss_kv_free(b->kv)) break;
        if (ss_sched_base_admit(b, out, n)) return SS_ERR_NOMEM;
        budget -= n;
    }
    return SS_OK;
}

/* Steady when every running request decoded (so none is prefilling), all fit in the budget,
 * and the waiting head cannot join: running set full, or its first chunk's blocks do not
 * fit (free blocks only shrink in a steady stretch). */
static int v1_steady(void *state)
{
    const ss_sched_base *b = state;
    if (b->finished_pending) return 0;
    for (size_t i = 0; i < b->running.n; i++)
        if (!ss_req_decoding(ss_reqq_at(&b->running, i))) return 0;
    int64_t budget = b->cfg.max_num_batched_tokens - (int64_t)b->running.n;
    if (budget < 0) return 0;
    if (!b->waiting.n || budget == 0 || b->running.n >= (size_t)b->cfg.max_num_seqs) return 1;
    const ss_req *r = ss_reqq_at(&b->waiting, 0);
    uint32_t n = step_tokens(b, r, budget);
    return (int64_t)ss_kv_extra(b->kv, r, (uint64_t)r->computed + n) > ss_kv_free(b->kv);
}

const ss_sched_ops ss_sched_vllm_v1 = {
    .info = {SS_SCHED_ABI, "vllm_v1",
             "current vLLM (v1 engine): one token budget, running requests first then "
             "waiting ones, chunked prefill always on, recompute preemption",
             "vllm/v1/core/sched/scheduler.py (vLLM 0.19); EngineArgs.get_batch_defaults"},
    .configure = v1_configure,
    .create = ss_sched_base_create,
    .destroy = ss_sched_base_destroy,
    .enqueue = ss_sched_base_enqueue,
    .schedule = v1_schedule,
    .finished = ss_sched_base_finished,
    .pending = ss_sched_base_pending,
    .steady = v1_steady,
};

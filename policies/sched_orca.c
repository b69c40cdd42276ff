/* `orca`: iteration-level scheduling with selective batching (Yu et al., "Orca", OSDI'22).
 * Every iteration, each running request decodes one token and waiting requests join with
 * their whole prompt in the same batch. Orca reserves KV for a request's maximum length when
 * it is admitted, so it never preempts; servesim reserves prompt + output tokens (the
 * simulator knows the output length; Orca uses the request's max_tokens).
 *
 * Admission, in queue order, stops at the first request that does not fit: running +
 * joined < max_num_seqs, decode tokens + prompt tokens of this batch <=
 * max_num_batched_tokens, blocks for p + o free. Batch order: decodes, then prefills. */
#include <stdlib.h>

#include "policies/sched_base.h"

static ss_rc orca_configure(ss_sched_config *cfg, const ss_sched_target *t, const char **key,
                            char *why, size_t why_n)
{
    (void)t;
    ss_rc rc = ss_sched_check_common(cfg, "orca", 0, 0, 0, key, why, why_n);
    if (rc) return rc;
    int64_t need = cfg->max_model_len + cfg->max_num_seqs - 1;
    if (cfg->max_num_batched_tokens == 0) cfg->max_num_batched_tokens = need > 2048 ? need : 2048;
    if (cfg->max_num_batched_tokens < need) {
        *key = "max_num_batched_tokens";
        snprintf(why, why_n, "max_num_batched_tokens (%lld) must hold a prompt of "
                             "max_model_len (%lld) beside the other max_num_seqs - 1 = %d "
                             "decodes, or a long prompt could wait forever",
                 (long long)cfg->max_num_batched_tokens, (long long)cfg->max_model_len,
                 cfg->max_num_seqs - 1);
        return SS_ERR_INVALID;
    }
    return SS_OK;
}

static int fits(const ss_sched_base *b, const ss_req *r, int64_t tokens, size_t seqs)
{
    uint64_t full = (uint64_t)r->prompt_tokens + r->output_tokens;
    if (seqs + 1 > (size_t)b->cfg.max_num_seqs) return 0;
    if (tokens + r->prompt_tokens > b->cfg.max_num_batched_tokens) return 0;
    return (int64_t)ss_kv_extra(b->kv, r, full) <= ss_kv_free(b->kv);
}

static ss_rc orca_schedule(void *state, ss_time_ns now, ss_batch *out)
{
    ss_sched_base *b = state;
    (void)now;
    ss_sched_base_begin(b, out);
    for (size_t i = 0; i < b->running.n; i++) { /* KV was reserved in full on admission */
        ss_req *r = ss_reqq_at(&b->running, i);
        ss_batch_add(out, r, 1);
    }
    int64_t tokens = (int64_t)out->n;
    while (b->waiting.n) {
        ss_req *r = ss_reqq_at(&b->waiting, 0);
        if (!fits(b, r, tokens, b->running.n)) break;
        ss_kv_reserve(b->kv, r, (uint64_t)r->prompt_tokens + r->output_tokens);
        if (ss_sched_base_admit(b, out, r->prompt_tokens)) return SS_ERR_NOMEM;
        tokens += r->prompt_tokens;
    }
    return SS_OK;
}

static int orca_steady(void *state)
{
    const ss_sched_base *b = state;
    if (b->finished_pending) return 0;
    return b->waiting.n == 0 ||
           !fits(b, ss_reqq_at(&b->waiting, 0), (int64_t)b->running.n, b->running.n);
}

const ss_sched_ops ss_sched_orca = {
    .info = {SS_SCHED_ABI, "orca",
             "iteration-level batching: whole prefills join running decodes every "
             "iteration; KV reserved for the full length, no preemption",
             "Yu et al., Orca, OSDI'22"},
    .configure = orca_configure,
    .create = ss_sched_base_create,
    .destroy = ss_sched_base_destroy,
    .enqueue = ss_sched_base_enqueue,
    .schedule = orca_schedule,
    .finished = ss_sched_base_finished,
    .pending = ss_sched_base_pending,
    .steady = orca_steady,
};

/* `static`: request-level batching as in FasterTransformer (and the "static batching" of
 * the Orca and vLLM papers' baselines). A batch is formed only when the instance is empty;
 * its members are prefilled together, then decode together until the last one finishes;
 * finished members leave, nobody joins mid-flight. KV for each member's full length
 * (prompt + output) is reserved up front, as FasterTransformer allocates for the maximum
 * sequence length, so no preemption is ever needed.
 *
 * Admission, in queue order, stops at the first request that does not fit: count <
 * max_num_seqs, total prompt tokens <= max_num_batched_tokens, blocks for p + o free. */
#include <stdlib.h>

#include "policies/sched_base.h"

static ss_rc static_configure(ss_sched_config *cfg, const ss_sched_target *t, const char **key,
                              char *why, size_t why_n)
{
    (void)t;
    ss_rc rc = ss_sched_check_common(cfg, "static", 0, 0, 0, key, why, why_n);
    if (rc) return rc;
    if (cfg->max_num_batched_tokens == 0)
        cfg->max_num_batched_tokens = cfg->max_model_len > 2048 ? cfg->max_model_len : 2048;
    if (cfg->max_num_batched_tokens < cfg->max_model_len) {
        *key = "max_num_batched_tokens";
        snprintf(why, why_n, "max_num_batched_tokens (%lld) is smaller than max_model_len "
                             "(%lld): a long prompt could never be prefilled",
                 (long long)cfg->max_num_batched_tokens, (long long)cfg->max_model_len);
        return SS_ERR_INVALID;
    }
    return SS_OK;
}

static ss_rc static_schedule(void *state, ss_time_ns now, ss_batch *out)
{
    ss_sched_base *b = state;
    (void)now;
    ss_sched_base_begin(b, out);
    if (b->running.n) { /* the current batch decodes until its last member finishes */
        for (size_t i = 0; i < b->running.n; i++) {
            ss_req *r = ss_reqq_at(&b->running, i);
            ss_kv_reserve(b->kv, r, (uint64_t)r->computed + 1); /* already reserved: no-op */
            ss_batch_add(out, r, 1);
        }
        return SS_OK;
    }
    int64_t tokens = 0;
    while (b->waiting.n) {
        ss_req *r = ss_reqq_at(&b->waiting, 0);
        uint64_t full = (uint64_t)r->prompt_tokens + r->output_tokens;
        if (out->n + 1 > (uint32_t)b->cfg.max_num_seqs) break;
        if (tokens + r->prompt_tokens > b->cfg.max_num_batched_tokens) break;
        if ((int64_t)ss_kv_extra(b->kv, r, full) > ss_kv_free(b->kv)) break;
        ss_kv_reserve(b->kv, r, full);
        if (ss_sched_base_admit(b, out, r->prompt_tokens)) return SS_ERR_NOMEM;
        tokens += r->prompt_tokens;
    }
    return SS_OK;
}

/* Between completions the same members decode again. */
static int static_steady(void *state)
{
    const ss_sched_base *b = state;
    return b->finished_pending == 0;
}

const ss_sched_ops ss_sched_static = {
    .info = {SS_SCHED_ABI, "static",
             "request-level batching: a batch is prefilled together and decodes until its "
             "last request finishes; nobody joins mid-flight",
             "FasterTransformer; the static-batching baseline of Orca (OSDI'22)"},
    .configure = static_configure,
    .create = ss_sched_base_create,
    .destroy = ss_sched_base_destroy,
    .enqueue = ss_sched_base_enqueue,
    .schedule = static_schedule,
    .finished = ss_sched_base_finished,
    .pending = ss_sched_base_pending,
    .steady = static_steady,
};

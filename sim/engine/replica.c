/* One model instance: continuous batching driven by one event per iteration.
 *
 * When an iteration event fires, the batch that was running completes (every item advances
 * by its tokens; a request whose pending tokens are all computed samples a token; a request
 * with all its output tokens finishes), then the scheduler forms the next batch, the cost
 * model times it, and one new event is pushed at its end. Nothing happens per token: the
 * work per iteration is O(batch size), and the time between tokens of a request comes from
 * iteration end times (SimGrid's "ask when the next change happens").
 *
 * Invariants (checked in tests/unit/test_engine.c): kv.used equals the sum of kv_blocks of
 * the requests the scheduler holds and never exceeds kv.total; a request is in at most one
 * place (scheduler or finished); every arrival ends finished or rejected exactly once. */
#include <stdlib.h>
#include <string.h>

#include "sim/engine/engine_int.h"

ss_rc ss_replica_init(ss_sim *s, ss_replica *r, int id, ss_diag *d)
{
    const ss_scenario *sc = s->sc;
    memset(r, 0, sizeof *r);
    r->id = id;
    r->kv.total = sc->kv.blocks;
    r->kv.block_size = (uint32_t)sc->sched.block_size;
    r->max_model_len = sc->sched.max_model_len;
    /* A request whose whole sequence needs more blocks than admission can ever grant
     * (total minus the watermark) would wait or self-preempt forever: reject it up front. */
    r->max_blocks_per_req = r->kv.total - (int64_t)(sc->sched.watermark * (double)r->kv.total);
    r->sched = sc->sched_ops;
    r->cost = sc->cost_ops;
    r->batch.cap = (uint32_t)sc->sched.max_num_seqs;
    r->batch.items = malloc(r->batch.cap * sizeof *r->batch.items);
    r->done = malloc(r->batch.cap * sizeof *r->done);
    if (!r->batch.items || !r->done)
        return ss_diag_fail(d, SS_ERR_NOMEM, "out of memory creating instance %d", id);

    ss_sched_env env = {.cfg = &sc->sched, .kv = &r->kv, .instance = id};
    ss_rc rc = r->sched->create(&env, &r->sched_state, d);
    if (rc) return rc;
    ss_cost_setup cs = {.model = &sc->model,
                        .hw = &sc->pools[0].hw,
                        .par = sc->pools[0].par,
                        .weight_dtype = sc->weight_dtype,
                        .act_dtype = SS_DTYPE_BF16,
                        .kv_dtype = sc->kv_dtype};
    return r->cost->create(&cs, &r->cost_state, d);
}

void ss_replica_free(ss_replica *r)
{
    if (r->sched && r->sched_state) r->sched->destroy(r->sched_state);
    if (r->cost && r->cost_state) r->cost->destroy(r->cost_state);
    free(r->batch.items);
    free(r->done);
    memset(r, 0, sizeof *r);
}

static ss_rc kick(ss_sim *s, ss_replica *r, ss_time_ns now)
{
    if (r->busy || r->kicked) return SS_OK;
    r->kicked = true;
    return ss_sim_push(s, SS_EV_ITERATION, now, (uint32_t)r->id, 0);
}

ss_rc ss_replica_submit(ss_sim *s, ss_replica *r, ss_req *req)
{
    uint64_t seq_len = (uint64_t)req->prompt_tokens + req->output_tokens;
    ss_reject_reason why = SS_REJECT_NONE;
    if ((int64_t)seq_len > r->max_model_len) why = SS_REJECT_TOO_LONG;
    else if ((int64_t)ss_kv_blocks_for(&r->kv, seq_len) > r->max_blocks_per_req)
        why = SS_REJECT_KV_CAPACITY;
    if (why != SS_REJECT_NONE) {
        req->state = SS_REQ_REJECTED;
        req->reject = (uint8_t)why;
        req->finish = req->arrival;
        ss_rc rc = ss_sim_request_done(s, req, req->arrival);
        ss_sim_release_req(s, req);
        return rc;
    }
    ss_rc rc = r->sched->enqueue(r->sched_state, req);
    if (rc) return ss_diag_fail(s->d, rc, "out of memory queueing request %llu",
                                (unsigned long long)req->id);
    return kick(s, r, req->arrival);
}

/* The running batch ends at `now`: advance every item.
 * Inter-token gaps are added to the histogram in runs: in a decode iteration nearly every
 * request last produced a token at the same instant (the previous iteration's end), so
 * one histogram update per run of equal gaps replaces one per token. */
static ss_rc complete_batch(ss_sim *s, ss_replica *r, ss_time_ns now)
{
    ss_time_ns run_gap = -1;
    uint64_t run_n = 0;
    for (uint32_t i = 0; i < r->batch.n; i++) {
        ss_req *q = r->batch.items[i].r;
        q->computed += r->batch.items[i].tokens;
        if (q->computed != q->prompt_tokens + q->generated) continue; /* chunk of a prefill */
        q->generated++;
        if (q->generated == 1) {
            q->first_token = now;
        } else {
            ss_time_ns gap = now - q->last_token;
            if (gap != run_gap) {
                ss_metrics_itl(&s->m, run_gap, run_n);
                run_gap = gap;
                run_n = 0;
            }
            run_n++;
        }
        q->last_token = now;
        q->decode_instance = (int16_t)r->id;
        if (q->generated < q->output_tokens) continue;
        q->state = SS_REQ_FINISHED;
        q->finish = now;
        ss_kv_release(&r->kv, q);
        r->sched->finished(r->sched_state, q);
        r->done[r->ndone++] = q;
        ss_rc rc = ss_sim_request_done(s, q, now);
        if (rc) return rc;
    }
    ss_metrics_itl(&s->m, run_gap, run_n);
    r->batch.n = 0;
    return SS_OK;
}

/* Aggregate the batch into the cost model's shape and stamp first-scheduled times. */
static void shape_of(const ss_batch *b, ss_time_ns now, int id, ss_batch_shape *sh)
{
    memset(sh, 0, sizeof *sh);
    sh->num_seqs = (int32_t)b->n;
    for (uint32_t i = 0; i < b->n; i++) {
        ss_req *q = b->items[i].r;
        uint32_t n = b->items[i].tokens;
        uint32_t c = q->computed;
        if (q->first_scheduled < 0) {
            q->first_scheduled = now;
            q->prefill_instance = (int16_t)id;
        }
        if (c + n == q->prompt_tokens + q->generated) sh->num_sampled++;
        if (n == 1 && q->generated > 0 && c + 1 == q->prompt_tokens + q->generated) {
            sh->num_decode_seqs++;
            sh->decode_ctx_tokens += (int64_t)c + 1;
        } else {
            sh->num_prefill_seqs++;
            sh->prefill_tokens += n;
            sh->prefill_ctx_tokens += c;
            sh->prefill_attn_pairs += (double)n * (double)c + (double)n * ((double)n + 1) / 2;
        }
    }
}

ss_rc ss_replica_on_iteration(ss_sim *s, ss_replica *r, ss_time_ns now)
{
    ss_rc rc;
    r->kicked = false;
    ss_metrics_kv(&s->m, now, r->kv.used);
    if (r->busy) {
        r->busy = false;
        if ((rc = complete_batch(s, r, now))) return rc;
    }
    rc = r->sched->schedule(r->sched_state, now, &r->batch);
    /* Finished requests may be recycled only now: the scheduler has dropped them. */
    for (size_t i = 0; i < r->ndone; i++) ss_sim_release_req(s, r->done[i]);
    r->ndone = 0;
    if (rc) return ss_diag_fail(s->d, rc, "scheduler %s failed at t=%lld ns", r->sched->info.name,
                                (long long)now);
    if (r->kv.used > r->kv.total)
        return ss_diag_fail(s->d, SS_ERR_INTERNAL,
                            "invariant broken: scheduler %s reserved %lld KV blocks of %lld",
                            r->sched->info.name, (long long)r->kv.used, (long long)r->kv.total);
    if (r->kv.used > s->m.kv_peak) s->m.kv_peak = r->kv.used;
    if (r->batch.n == 0) {
        if (r->sched->pending(r->sched_state))
            return ss_diag_fail(s->d, SS_ERR_INTERNAL,
                                "scheduler %s holds %zu requests but formed an empty batch with "
                                "nothing running at t=%lld ns (deadlock)",
                                r->sched->info.name, r->sched->pending(r->sched_state),
                                (long long)now);
        return SS_OK; /* idle until the next arrival kicks it */
    }
    ss_batch_shape sh;
    shape_of(&r->batch, now, r->id, &sh);
    ss_time_ns dur = r->cost->iteration(r->cost_state, &sh);
    if (dur <= 0) dur = 1; /* time must advance, or the run could spin forever */
    r->busy = true;
    r->iter_start = now;
    ss_metrics_batch(&s->m, r->batch.n, dur);
    if (s->obs.on_iteration && r->iter_index % s->iter_sample == 0) {
        ss_iter_record it = {.instance = r->id,
                             .index = r->iter_index,
                             .start = now,
                             .duration = dur,
                             .num_seqs = sh.num_seqs,
                             .num_prefill_seqs = sh.num_prefill_seqs,
                             .num_decode_seqs = sh.num_decode_seqs,
                             .prefill_tokens = sh.prefill_tokens,
                             .decode_tokens = sh.num_decode_seqs,
                             .kv_used_blocks = r->kv.used,
                             .kv_total_blocks = r->kv.total};
        if (s->obs.on_iteration(s->obs.ctx, &it))
            return ss_diag_fail(s->d, SS_ERR_DB, "writing iteration record failed");
    }
    r->iter_index++;
    return ss_sim_push(s, SS_EV_ITERATION, ss_time_add(now, dur), (uint32_t)r->id, 0);
}

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
 * the requests the scheduler holds on the GPU (swapped-out requests keep their count, on
 * the host) and never exceeds kv.total; a request is in at most one place (scheduler or
 * finished); every arrival ends finished or rejected exactly once. */
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
     * (total minus the watermark) would wait forever, and one that leaves no free block
     * when alone would preempt itself forever (vLLM's can_append_slot wants one free block
     * per decode): reject both up front. */
    r->max_blocks_per_req =
        r->kv.total - (int64_t)(sc->sched.watermark * (double)r->kv.total) - 1;
    r->sched = sc->sched_ops;
    r->cost = sc->cost_ops;
    r->batch.cap = (uint32_t)sc->sched.max_num_seqs;
    r->batch.items = malloc(r->batch.cap * sizeof *r->batch.items);
    r->done = malloc(r->batch.cap * sizeof *r->done);
    r->phase = calloc(r->kv.block_size, sizeof *r->phase);
    if (!r->batch.items || !r->done || !r->phase)
        return ss_diag_fail(d, SS_ERR_NOMEM, "out of memory creating instance %d", id);

    ss_sched_env env = {.cfg = &sc->sched,
                        .kv = &r->kv,
                        .instance = id,
                        .block_bytes = sc->kv.block_bytes,
                        .host_link_bandwidth = sc->pools[0].hw.host_link_bandwidth};
    ss_rc rc = r->sched->create(&env, &r->sched_state, d);
    if (rc) return rc;
    ss_cost_setup cs;
    ss_scenario_cost_setup(sc, &cs);
    return r->cost->create(&cs, &r->cost_state, d);
}

void ss_replica_free(ss_replica *r)
{
    if (r->sched && r->sched_state) r->sched->destroy(r->sched_state);
    if (r->cost && r->cost_state) r->cost->destroy(r->cost_state);
    free(r->batch.items);
    free(r->done);
    free(r->phase);
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
        } else if (q->measured) {
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
            if ((int64_t)c + 1 > sh->decode_ctx_max) sh->decode_ctx_max = (int64_t)c + 1;
        } else {
            sh->num_prefill_seqs++;
            sh->prefill_tokens += n;
            sh->prefill_ctx_tokens += c;
            sh->prefill_attn_pairs += (double)n * (double)c + (double)n * ((double)n + 1) / 2;
        }
    }
}


/* ================================================================== fast-forward
 *
 * A decode round over a steady running set is the common case (the Vidur benchmark spends
 * ~90% of its iterations there), and between two events nothing about it changes except
 * that every request grows by one token. So when the batch just formed is decode-only and
 * the scheduler says the next one would be identical (ss_sched_ops.steady), the iterations
 * that end before the next queued event, before any request's last token and while enough KV
 * blocks are free that no preemption check can fail, are run here in a loop, O(1) each:
 * their durations come from the cost model on the grown shape, the blocks they take from a
 * histogram of the requests' positions within their last block, and the per-request
 * bookkeeping is applied once at the end. Every metric, record and counter is updated in the
 * same order as the event-by-event path, so results are identical byte for byte
 * (tests/unit/test_engine.c runs both and compares). */

static inline uint32_t div_up(uint64_t a, uint32_t b) { return (uint32_t)((a + b - 1) / b); }

static ss_rc record_iteration(ss_sim *s, ss_replica *r, ss_time_ns start, ss_time_ns dur,
                              const ss_batch_shape *sh)
{
    ss_metrics_batch(&s->m, (size_t)sh->num_seqs, dur);
    if (s->obs.on_batch) {
        ss_iter_record it = {.instance = r->id, .index = r->iter_index, .start = start,
                             .duration = dur, .num_seqs = sh->num_seqs,
                             .num_prefill_seqs = sh->num_prefill_seqs,
                             .num_decode_seqs = sh->num_decode_seqs,
                             .prefill_tokens = sh->prefill_tokens,
                             .decode_tokens = sh->num_decode_seqs,
                             .kv_used_blocks = r->kv.used, .kv_total_blocks = r->kv.total};
        if (s->obs.on_batch(s->obs.ctx, &it, &r->batch))
            return ss_diag_fail(s->d, SS_ERR_DB, "batch observer failed");
    }
    if (s->obs.on_iteration && r->iter_index % s->iter_sample == 0) {
        ss_iter_record it = {.instance = r->id,
                             .index = r->iter_index,
                             .start = start,
                             .duration = dur,
                             .num_seqs = sh->num_seqs,
                             .num_prefill_seqs = sh->num_prefill_seqs,
                             .num_decode_seqs = sh->num_decode_seqs,
                             .prefill_tokens = sh->prefill_tokens,
                             .decode_tokens = sh->num_decode_seqs,
                             .kv_used_blocks = r->kv.used,
                             .kv_total_blocks = r->kv.total};
        if (s->obs.on_iteration(s->obs.ctx, &it))
            return ss_diag_fail(s->d, SS_ERR_DB, "writing iteration record failed");
    }
    r->iter_index++;
    return SS_OK;
}

/* The decode-only batch r->batch starts at `now` and lasts `dur`. Run the collapsible
 * iterations after it; returns the end time of the iteration left in flight. */
static ss_rc fast_forward(ss_sim *s, ss_replica *r, ss_time_ns now, ss_batch_shape *sh,
                          ss_time_ns dur, ss_time_ns *end)
{
    const uint32_t n = r->batch.n, bs = r->kv.block_size;
    ss_time_ns t = ss_time_add(now, dur); /* end of iteration 1 (the batch just formed) */
    *end = t;
    ss_time_ns next_event = ss_eq_peek_time(&s->q);
    if (t >= next_event) return SS_OK;
    /* i iterations may complete inline only while nobody finishes: i < min remaining. */
    uint32_t rem_min = UINT32_MAX, n_measured = 0;
    memset(r->phase, 0, bs * sizeof *r->phase);
    for (uint32_t j = 0; j < n; j++) {
        const ss_req *q = r->batch.items[j].r;
        n_measured += q->measured;
        uint32_t rem = q->output_tokens - q->generated;
        if (rem < rem_min) rem_min = rem;
        /* the block invariant the phase histogram relies on; otherwise take the slow path */
        if (q->kv_blocks != div_up((uint64_t)q->computed + 1, bs)) return SS_OK;
        r->phase[q->computed % bs]++;
    }
    uint32_t i = 1;
    ss_time_ns prev_end = now, prev_dur = dur;
    int64_t free_blocks = r->kv.total - r->kv.used;
    while (i < rem_min && t < next_event) {
        /* At t, iteration i completes and the same round is formed again: request q takes a
         * block iff its next position (computed + i) starts one. */
        uint32_t need = r->phase[(bs - i % bs) % bs];
        if (free_blocks < (int64_t)need + 1) break; /* a preemption check could fail */
        s->events++;
        ss_metrics_kv(&s->m, t, r->kv.used);
        if (i >= 2) ss_metrics_itl(&s->m, prev_dur, n_measured);
        r->kv.used += need;
        free_blocks -= need;
        if (r->kv.used > s->m.kv_peak) s->m.kv_peak = r->kv.used;
        if (r->kv.used > r->kv.peak_used) r->kv.peak_used = r->kv.used;
        sh->decode_ctx_tokens += n;
        if (sh->decode_ctx_max) sh->decode_ctx_max++; /* every decode context grew by one */
        ss_time_ns d = r->cost->iteration(r->cost_state, sh);
        if (d <= 0) d = 1;
        ss_rc rc = record_iteration(s, r, t, d, sh);
        if (rc) return rc;
        prev_end = t;
        prev_dur = d;
        t = ss_time_add(t, d);
        if (t == SS_TIME_NEVER)
            return ss_diag_fail(s->d, SS_ERR_INVALID, "simulated time overflow");
        i++;
    }
    uint32_t k = i - 1; /* iterations completed inline */
    if (k == 0) return SS_OK;
    /* Iteration 1's gaps differ per request (time since each one's last token); those of
     * iterations 2..k were added above, n equal gaps each. */
    ss_time_ns t1 = ss_time_add(now, dur), run_gap = -1;
    uint64_t run_n = 0;
    for (uint32_t j = 0; j < n; j++) {
        ss_req *q = r->batch.items[j].r;
        ss_time_ns gap = t1 - q->last_token;
        if (q->measured) {
            if (gap != run_gap) {
                ss_metrics_itl(&s->m, run_gap, run_n);
                run_gap = gap;
                run_n = 0;
            }
            run_n++;
        }
        q->computed += k;
        q->generated += k;
        q->last_token = prev_end;
        q->kv_blocks = div_up((uint64_t)q->computed + 1, bs);
    }
    ss_metrics_itl(&s->m, run_gap, run_n);
    r->iter_start = prev_end;
    *end = t;
    return SS_OK;
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
    ss_time_ns dur = r->cost->iteration(r->cost_state, &sh) + r->batch.extra;
    if (dur <= 0) dur = 1; /* time must advance, or the run could spin forever */
    r->busy = true;
    r->iter_start = now;
    if ((rc = record_iteration(s, r, now, dur, &sh))) return rc;
    ss_time_ns end = ss_time_add(now, dur);
    if (end == SS_TIME_NEVER)
        return ss_diag_fail(s->d, SS_ERR_INVALID,
                            "simulated time overflow: an iteration of %lld ns starting at %lld ns "
                            "ends past the ~292-year range of the clock (check the hardware "
                            "profile's units: FLOP/s and B/s, not TFLOP/s or TB/s)",
                            (long long)dur, (long long)now);
    if (s->fast_forward && !s->obs.on_batch && sh.num_prefill_seqs == 0 && r->sched->steady &&
        r->sched->steady(r->sched_state) && (rc = fast_forward(s, r, now, &sh, dur, &end)))
        return rc;
    return ss_sim_push(s, SS_EV_ITERATION, end, (uint32_t)r->id, 0);
}

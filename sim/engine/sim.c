/* The event loop, the arrival source, the request pool and the timeline sampler.
 *
 * An event flows like this (docs/architecture.md): the source's ARRIVAL event creates a
 * request with lengths drawn from its own streams and submits it to the instance, which
 * rejects it or queues it and, if idle, pushes an ITERATION event at the same instant
 * (ordered after all arrivals of that instant). Each ITERATION event completes the running
 * batch and starts the next. A finished request goes to the metrics, the observer and back
 * to its source (closed-loop processes issue their next request then) and its record is
 * recycled. The run ends when the queue is empty.
 *
 * Requests live in slabs of 1024 recycled through a free list, so memory grows with the
 * requests in flight; what grows with the requests simulated is only the per-request values
 * kept for exact percentiles (sim/engine/metrics.c). */
#include <gsl/gsl_rng.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/engine/engine_int.h"

static const uint16_t ev_prio[] = {
#define SS_EV_PRIO(e, name, prio) prio,
    SS_EV_LIST(SS_EV_PRIO)
#undef SS_EV_PRIO
};

ss_rc ss_sim_push(ss_sim *s, ss_ev_kind kind, ss_time_ns t, uint32_t target, uint64_t a)
{
    ss_event ev = {.t = t, .kind = (uint16_t)kind, .prio = ev_prio[kind], .target = target,
                   .a = a};
    return ss_eq_push(&s->q, ev, s->d);
}

/* ================================================================== request pool */

static ss_req *alloc_req(ss_sim *s)
{
    if (!s->nfree) {
        ss_req_slab *slab = malloc(sizeof *slab);
        if (!slab) return NULL;
        size_t n = sizeof slab->reqs / sizeof slab->reqs[0];
        if (s->free_cap < n) {
            ss_req **f = realloc(s->free_reqs, n * sizeof *f);
            if (!f) {
                free(slab);
                return NULL;
            }
            s->free_reqs = f;
            s->free_cap = n;
        }
        slab->next = s->slabs;
        s->slabs = slab;
        for (size_t i = n; i-- > 0;) s->free_reqs[s->nfree++] = &slab->reqs[i];
    }
    return s->free_reqs[--s->nfree];
}

void ss_sim_release_req(ss_sim *s, ss_req *r)
{
    if (s->nfree == s->free_cap) {
        size_t cap = s->free_cap * 2;
        ss_req **f = realloc(s->free_reqs, cap * sizeof *f);
        if (!f) return; /* the record is only lost to reuse, not to correctness */
        s->free_reqs = f;
        s->free_cap = cap;
    }
    s->free_reqs[s->nfree++] = r;
}

/* ================================================================== sources */

/* Each source (request class) keeps at most one pending ARRIVAL event, whose target is the
 * source's index. Sources are merged by the event queue: by time, and at equal times in the
 * order their events were pushed (deterministic: at t = 0 that is class order). */
static ss_rc schedule_next_arrival(ss_sim *s, ss_source *src, ss_time_ns now)
{
    const ss_workload *w = &s->sc->workload;
    const ss_wclass *c = &src->cls;
    if (c->num_requests && src->issued >= (uint64_t)c->num_requests) return SS_OK;
    if (w->requests && src->issued >= w->nrequests) return SS_OK;
    if ((c->min_requests || c->min_until) && src->issued >= (uint64_t)c->min_requests &&
        src->issued > 0 && src->last_t >= c->min_until &&
        (c->multiple <= 1 || src->issued % (uint64_t)c->multiple == 0))
        return SS_OK; /* MLPerf: both minimums reached, whole queries issued */
    ss_time_ns t = w->requests ? w->requests[src->issued].at : src->ops->next(src->state, now);
    if (t == SS_TIME_NEVER) {
        /* An open-loop process (no completion drives it, no end of its own) only answers
         * "never" when its next arrival is past the clock's range (SS_TIME_NEVER, ~292
         * years): the stream would be cut short silently, so that is an error. */
        if (src->ops && !src->ops->finite && !src->ops->on_complete && !c->duration &&
            !(c->min_requests || c->min_until)) {
            char key[96];
            if (w->mlperf_on) snprintf(key, sizeof key, "workload.mlperf.target_qps");
            else if (w->nclasses)
                snprintf(key, sizeof key, "workload.classes[%u].arrival", (unsigned)src->index);
            else snprintf(key, sizeof key, "workload.arrival");
            for (const ss_key *k = src->ops->keys; !w->mlperf_on && k && k->name; k++)
                if (!strcmp(k->name, "rate")) {
                    strncat(key, ".rate", sizeof key - strlen(key) - 1);
                    break;
                }
            return ss_diag_fail(s->d, SS_ERR_INVALID,
                                "key '%s': arrival %llu of class '%s' (%s) would come after "
                                "the simulator's time limit (~292 years) with %llu of %lld "
                                "requests issued; raise the arrival rate or lower "
                                "num_requests",
                                key, (unsigned long long)src->issued + 1, c->name,
                                src->ops->info.name, (unsigned long long)src->issued,
                                (long long)c->num_requests);
        }
        return SS_OK;
    }
    if (t < now) t = now;
    if (c->duration && t > c->duration) return SS_OK;
    /* At most one arrival event per source: an earlier one supersedes the pending event,
     * which is then ignored when it pops (its generation is stale). */
    if (src->pending && t >= src->pending_t) return SS_OK;
    src->pending = true;
    src->pending_t = t;
    return ss_sim_push(s, SS_EV_ARRIVAL, t, src->index, ++src->gen);
}

static ss_rc on_arrival(ss_sim *s, const ss_event *ev)
{
    if (ev->target >= s->nsrc)
        return ss_diag_fail(s->d, SS_ERR_INTERNAL, "arrival event for unknown source %u",
                            (unsigned)ev->target);
    ss_source *src = &s->srcs[ev->target];
    if (ev->a != src->gen) return SS_OK; /* superseded */
    src->pending = false;
    if (src->ops) src->ops->consume(src->state, ev->t);
    ss_req *r = alloc_req(s);
    if (!r) return ss_diag_fail(s->d, SS_ERR_NOMEM, "out of memory allocating a request");
    memset(r, 0, sizeof *r);
    uint64_t k = src->issued++;
    src->last_t = ev->t;
    s->last_arrival = ev->t;
    r->id = s->next_id++;
    r->cls = src->index;
    r->source = src->index;
    r->priority = src->cls.priority;
    r->arrival = ev->t;
    r->first_scheduled = -1;
    r->first_token = -1;
    r->last_token = -1;
    r->finish = -1;
    r->prefill_instance = -1;
    r->decode_instance = -1;
    const ss_workload *w = &s->sc->workload;
    const ss_wclass *c = &src->cls;
    if (w->requests) {
        const ss_explicit_req *e = &w->requests[k];
        r->prompt_tokens = (uint32_t)e->prompt_tokens;
        r->output_tokens = (uint32_t)e->output_tokens;
        r->priority = e->priority;
    } else if (src->ops->fill) {
        src->ops->fill(src->state, r);
    } else if (c->length_table.n) {
        size_t j = (size_t)gsl_rng_uniform_int(src->rng_prompt.g, (unsigned long)c->length_table.n);
        r->prompt_tokens = c->length_table.prompt[j];
        r->output_tokens = c->length_table.output[j];
    } else {
        r->prompt_tokens = ss_len_sample(&c->prompt, &src->rng_prompt);
        r->output_tokens = ss_len_sample(&c->output, &src->rng_output);
    }
    r->state = SS_REQ_WAITING;
    r->measured = ev->t >= w->warmup && (!w->cutoff || ev->t <= w->cutoff);
    s->m.arrived++;
    ss_metrics_class_arrival(&s->m, r);
    if (s->m.first_arrival < 0) s->m.first_arrival = ev->t;
    if (r->measured && s->m.meas_first_arrival < 0) s->m.meas_first_arrival = ev->t;
    ss_rc rc = ss_replica_submit(s, &s->rep, r);
    if (rc) return rc;
    return schedule_next_arrival(s, src, ev->t);
}

/* MLPerf MultiStream: a group's requests share their arrival time, and the next group is
 * issued only after all of them left, so a request of a new arrival time closes the previous
 * group. */
static int track_group(ss_sim *s, const ss_req *r, ss_time_ns now)
{
    if (s->grp_open && r->arrival != s->grp_t) {
        if (s->grp_measured && ss_dvec_push(&s->query_lat, ss_time_to_s(s->grp_end - s->grp_t)))
            return -1;
        s->grp_open = false;
    }
    if (!s->grp_open) {
        s->grp_open = true;
        s->grp_t = r->arrival;
        s->grp_end = now;
        s->grp_measured = r->measured;
    }
    if (now > s->grp_end) s->grp_end = now;
    return 0;
}

ss_rc ss_sim_request_done(ss_sim *s, ss_req *r, ss_time_ns now)
{
    const ss_workload *wl = &s->sc->workload;
    if (wl->mlperf_on && wl->mlperf.scenario == SS_MLPERF_MULTISTREAM && track_group(s, r, now))
        return ss_diag_fail(s->d, SS_ERR_NOMEM, "out of memory recording metrics");
    if (r->state == SS_REQ_FINISHED) {
        if (ss_metrics_finish(&s->m, r))
            return ss_diag_fail(s->d, SS_ERR_NOMEM, "out of memory recording metrics");
    } else {
        s->m.rejected++;
        ss_metrics_class_reject(&s->m, r);
        if (!r->measured) s->m.excluded++;
        else if (now > s->m.meas_last_finish) s->m.meas_last_finish = now;
        if (now > s->m.last_finish) s->m.last_finish = now;
    }
    if (s->obs.on_request && s->obs.on_request(s->obs.ctx, r))
        return ss_diag_fail(s->d, SS_ERR_DB, "writing request record failed");
    ss_source *src = &s->srcs[r->source < s->nsrc ? r->source : 0];
    /* A closed loop whose requests are all rejected would re-send at the same instant
     * forever: stop after a burst of rejections without simulated time advancing. */
    if (src->ops && src->ops->on_complete && r->state == SS_REQ_REJECTED &&
        now == s->last_reject_t) {
        if (++s->rejects_same_t > 1000000)
            return ss_diag_fail(s->d, SS_ERR_INVALID,
                                "more than a million requests rejected at t=%lld ns without time "
                                "advancing: every request is refused (%s); fix the lengths or "
                                "max_model_len",
                                (long long)now, ss_reject_text((ss_reject_reason)r->reject));
    } else if (src->ops && src->ops->on_complete && r->state == SS_REQ_REJECTED) {
        s->last_reject_t = now;
        s->rejects_same_t = 1;
    }
    if (src->ops && src->ops->on_complete) {
        src->ops->on_complete(src->state, now);
        return schedule_next_arrival(s, src, now); /* may supersede the pending arrival */
    }
    return SS_OK;
}

/* ================================================================== sampler */

static ss_rc on_sample(ss_sim *s, const ss_event *ev)
{
    ss_replica *r = &s->rep;
    if (s->obs.on_sample) {
        ss_sample_record rec = {.instance = r->id,
                                .t = ev->t,
                                .kv_used_blocks = r->kv.used,
                                .kv_total_blocks = r->kv.total,
                                .waiting_plus_running = r->sched->pending(r->sched_state),
                                .running = r->busy ? r->batch.n : 0};
        if (s->obs.on_sample(s->obs.ctx, &rec))
            return ss_diag_fail(s->d, SS_ERR_DB, "writing timeline sample failed");
    }
    /* Keep sampling only while something else can still happen. Occupancy changes only at
     * events, so skip the grid points before the next one: they would repeat this row (and
     * a long idle gap would otherwise write millions of identical rows). */
    ss_time_ns next_ev = ss_eq_peek_time(&s->q);
    if (next_ev == SS_TIME_NEVER) return SS_OK;
    ss_time_ns dt = s->sc->output.kv_sample_interval;
    ss_time_ns next = ss_time_add(ev->t, dt);
    if (next < next_ev) next = ss_time_add(ev->t, ((next_ev - ev->t + dt - 1) / dt) * dt);
    if (next == SS_TIME_NEVER) return SS_OK;
    return ss_sim_push(s, SS_EV_SAMPLE, next, 0, 0);
}

/* ================================================================== run */

ss_rc ss_sim_create(const ss_scenario *sc, const ss_sim_opts *opts, ss_sim **out, ss_diag *d)
{
    *out = NULL;
    ss_sim *s = calloc(1, sizeof *s);
    if (!s) return ss_diag_fail(d, SS_ERR_NOMEM, "out of memory creating the simulation");
    s->sc = sc;
    s->d = d;
    s->iter_sample = (uint64_t)(sc->output.iteration_sample > 0 ? sc->output.iteration_sample : 1);
    s->fast_forward = !opts->no_fast_forward;
    ss_eq_init(&s->q);
    ss_rc rc = SS_OK;
    const ss_workload *w = &sc->workload;
    s->nsrc = ss_workload_nclasses(w);
    s->srcs = calloc(s->nsrc, sizeof *s->srcs);
    if (!s->srcs) {
        ss_sim_free(s);
        return ss_diag_fail(d, SS_ERR_NOMEM, "out of memory creating the simulation");
    }
    for (size_t i = 0; i < s->nsrc && !rc; i++) {
        ss_source *src = &s->srcs[i];
        ss_workload_class(w, i, &src->cls);
        src->index = (uint16_t)i;
        src->ops = src->cls.arrival;
        /* Stream names are part of the results' identity: never rename one. The single-source
         * form is class "default": default/arrivals, default/prompt_tokens, ... */
        char n[3][64];
        snprintf(n[0], sizeof n[0], "%s/arrivals", src->cls.name);
        snprintf(n[1], sizeof n[1], "%s/prompt_tokens", src->cls.name);
        snprintf(n[2], sizeof n[2], "%s/output_tokens", src->cls.name);
        if ((rc = ss_rng_init(&src->rng_arrival, opts->seed, opts->replication, n[0], d)) ||
            (rc = ss_rng_init(&src->rng_prompt, opts->seed, opts->replication, n[1], d)) ||
            (rc = ss_rng_init(&src->rng_output, opts->seed, opts->replication, n[2], d)))
            break;
        if (src->ops)
            rc = src->ops->create(src->cls.arrival_cfg, &src->rng_arrival, &src->state, d);
    }
    if (rc || (rc = ss_replica_init(s, &s->rep, 0, d))) {
        ss_sim_free(s);
        return rc;
    }
    ss_slo slos[SS_MAX_CLASSES];
    for (size_t i = 0; i < s->nsrc && i < SS_MAX_CLASSES; i++) slos[i] = s->srcs[i].cls.slo;
    if (ss_metrics_init(&s->m, (size_t)sc->sched.max_num_seqs, s->rep.kv.total) ||
        ss_metrics_classes(&s->m, s->nsrc < SS_MAX_CLASSES ? s->nsrc : SS_MAX_CLASSES, slos)) {
        ss_sim_free(s);
        return ss_diag_fail(d, SS_ERR_NOMEM, "out of memory creating metrics");
    }
    *out = s;
    return SS_OK;
}

void ss_sim_set_observer(ss_sim *s, const ss_observer *obs) { s->obs = *obs; }

ss_rc ss_sim_run(ss_sim *s, ss_diag *d)
{
    s->d = d;
    ss_rc rc = SS_OK;
    for (size_t i = 0; i < s->nsrc && !rc; i++) rc = schedule_next_arrival(s, &s->srcs[i], 0);
    if (!rc && s->sc->output.kv_sample_interval > 0 && s->obs.on_sample)
        rc = ss_sim_push(s, SS_EV_SAMPLE, 0, 0, 0);
    ss_event ev;
    while (!rc && ss_eq_pop(&s->q, &ev)) {
        s->events++;
        switch ((ss_ev_kind)ev.kind) {
        case SS_EV_ARRIVAL: rc = on_arrival(s, &ev); break;
        case SS_EV_ITERATION: rc = ss_replica_on_iteration(s, &s->rep, ev.t); break;
        case SS_EV_SAMPLE: rc = on_sample(s, &ev); break;
        }
    }
    if (rc) return rc;
    for (size_t i = 0; i < s->nsrc; i++) {
        ss_source *src = &s->srcs[i];
        if (src->ops && src->ops->finish && (rc = src->ops->finish(src->state, d))) return rc;
    }
    uint64_t accounted = s->m.finished + s->m.rejected;
    if (accounted != s->m.arrived || s->rep.kv.used != 0)
        return ss_diag_fail(d, SS_ERR_INTERNAL,
                            "conservation broken: %llu arrived, %llu finished, %llu rejected, "
                            "%lld KV blocks still held",
                            (unsigned long long)s->m.arrived, (unsigned long long)s->m.finished,
                            (unsigned long long)s->m.rejected, (long long)s->rep.kv.used);
    return SS_OK;
}

/* MLPerf: what the verdict looks at, from the run's measured requests (the metric arrays are
 * sorted by ss_metrics_summarize). */
static void mlperf_observe(ss_sim *s, ss_summary *out)
{
    const ss_mlperf_rules *r = &s->sc->workload.mlperf;
    ss_mlperf_obs *o = &out->mlperf_obs;
    memset(o, 0, sizeof *o);
    uint64_t issued = s->m.arrived - (s->m.excluded);
    o->queries = r->scenario == SS_MLPERF_MULTISTREAM && r->samples_per_query > 0
                     ? issued / (uint64_t)r->samples_per_query
                     : issued;
    o->samples = s->m.req[SS_M_E2E].n;
    o->rejected = issued > o->samples ? issued - o->samples : 0;
    o->tokens = s->m.output_tokens;
    o->final_issue_s = ss_time_to_s(s->last_arrival);
    o->all_done_s = ss_time_to_s(s->m.meas_last_finish);
    if (r->scenario == SS_MLPERF_MULTISTREAM) { /* per-query latency, as LoadGen reports it */
        if (s->grp_open && s->grp_measured &&
            !ss_dvec_push(&s->query_lat, ss_time_to_s(s->grp_end - s->grp_t)))
            s->grp_open = false;
        ss_stat qs; /* sorts the values */
        ss_stat_compute(&s->query_lat, &qs);
        ss_mlperf_dist_compute(s->query_lat.v, s->query_lat.n, r->percentile, &o->latency);
    } else {
        ss_mlperf_dist_compute(s->m.req[SS_M_E2E].v, s->m.req[SS_M_E2E].n, r->percentile,
                               &o->latency);
    }
    ss_mlperf_dist_compute(s->m.req[SS_M_TTFT].v, s->m.req[SS_M_TTFT].n, r->percentile, &o->ttft);
    ss_mlperf_dist_compute(s->m.req[SS_M_TPOT].v, s->m.req[SS_M_TPOT].n, r->percentile, &o->tpot);
    out->has_mlperf = true;
    out->mlperf_rules = *r;
    ss_mlperf_judge(r, o, &out->mlperf);
}

const ss_summary *ss_sim_summary(ss_sim *s)
{
    if (!s->summarized) {
        ss_metrics_summarize(&s->m, &s->summary);
        s->summary.rows_skipped = 0;
        for (size_t i = 0; i < s->nsrc; i++) {
            const ss_source *src = &s->srcs[i];
            s->summary.rows_skipped += src->cls.length_table.skipped;
            if (src->ops && src->ops->skipped) s->summary.rows_skipped += src->ops->skipped(src->state);
            if (i < s->summary.nclasses)
                snprintf(s->summary.classes[i].name, sizeof s->summary.classes[i].name, "%s",
                         src->cls.name);
        }
        if (s->sc->workload.mlperf_on) mlperf_observe(s, &s->summary);
        s->summarized = true;
    }
    return &s->summary;
}

uint64_t ss_sim_events(const ss_sim *s) { return s->events; }

size_t ss_sim_batch_counts(const ss_sim *s, const uint64_t **counts)
{
    *counts = s->m.batch_counts;
    return s->m.batch_cap;
}

size_t ss_sim_streams(const ss_sim *s, const char **names, uint64_t *seeds, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < s->nsrc; i++) {
        const ss_rng *r[] = {&s->srcs[i].rng_arrival, &s->srcs[i].rng_prompt,
                             &s->srcs[i].rng_output};
        for (int k = 0; k < 3 && n < max; k++, n++) {
            names[n] = r[k]->name;
            seeds[n] = r[k]->seed;
        }
    }
    return n;
}

void ss_sim_free(ss_sim *s)
{
    if (!s) return;
    ss_replica_free(&s->rep);
    for (size_t i = 0; s->srcs && i < s->nsrc; i++) {
        ss_source *src = &s->srcs[i];
        if (src->ops && src->state) src->ops->destroy(src->state);
        ss_rng_free(&src->rng_arrival);
        ss_rng_free(&src->rng_prompt);
        ss_rng_free(&src->rng_output);
    }
    free(s->srcs);
    free(s->query_lat.v);
    ss_metrics_free(&s->m);
    ss_eq_free(&s->q);
    while (s->slabs) {
        ss_req_slab *n = s->slabs->next;
        free(s->slabs);
        s->slabs = n;
    }
    free(s->free_reqs);
    free(s);
}

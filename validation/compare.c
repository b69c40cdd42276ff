/* The simulated side (an observer collecting request records and timeline samples) and the
 * comparison with the measured run: statistics, errors, timeline, text and JSON reports
 * (validation.h). */
#include "validation/validation.h"

#include <cjson/cJSON.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *ss_val_metric_name(ss_val_metric m)
{
    static const char *const names[] = {
#define SS_VAL_M_NAME(e, name) name,
        SS_VAL_METRIC_LIST(SS_VAL_M_NAME)
#undef SS_VAL_M_NAME
    };
    return (unsigned)m < SS_VAL_METRIC_COUNT ? names[m] : "?";
}

/* ================================================================== collector */

typedef struct val_req {
    uint8_t seen, state;
    uint32_t output_tokens, preemptions;
    ss_time_ns arrival, first_token, last_token;
} val_req;

typedef struct val_sample {
    ss_time_ns t;
    int64_t kv_used, kv_total;
    uint64_t held;
    uint32_t running;
} val_sample;

struct ss_val_sim {
    size_t nreq;
    val_req *req;
    val_sample *s;
    size_t ns, cap;
    uint64_t unexpected; /* records with an id outside 0..nreq-1 */
    uint64_t prefill_tokens, iterations;
};

ss_rc ss_val_sim_create(size_t nreq, ss_val_sim **out, ss_diag *d)
{
    *out = NULL;
    ss_val_sim *c = calloc(1, sizeof *c);
    if (c) c->req = calloc(nreq ? nreq : 1, sizeof *c->req);
    if (!c || !c->req) {
        free(c);
        return ss_diag_fail(d, SS_ERR_NOMEM, "out of memory");
    }
    c->nreq = nreq;
    *out = c;
    return SS_OK;
}

static int col_request(void *ctx, const ss_req *r)
{
    ss_val_sim *c = ctx;
    if (r->id >= c->nreq) {
        c->unexpected++;
        return 0;
    }
    val_req *v = &c->req[r->id];
    v->seen = 1;
    v->state = r->state;
    v->output_tokens = r->output_tokens;
    v->preemptions = r->preemptions;
    v->arrival = r->arrival;
    v->first_token = r->first_token;
    v->last_token = r->last_token;
    return 0;
}

static int col_sample(void *ctx, const ss_sample_record *s)
{
    ss_val_sim *c = ctx;
    if (c->ns == c->cap) {
        size_t nc = c->cap ? c->cap * 2 : 1024;
        val_sample *n = realloc(c->s, nc * sizeof *n);
        if (!n) return 1; /* the engine stops the run */
        c->s = n;
        c->cap = nc;
    }
    c->s[c->ns++] = (val_sample){.t = s->t, .kv_used = s->kv_used_blocks,
                                 .kv_total = s->kv_total_blocks,
                                 .held = s->waiting_plus_running, .running = s->running};
    return 0;
}

static int col_iteration(void *ctx, const ss_iter_record *it)
{
    ss_val_sim *c = ctx;
    c->prefill_tokens += (uint64_t)it->prefill_tokens;
    c->iterations++;
    return 0;
}

ss_observer ss_val_sim_observer(ss_val_sim *c)
{
    ss_observer o = {.ctx = c, .on_request = col_request, .on_iteration = col_iteration,
                     .on_sample = col_sample};
    return o;
}

void ss_val_sim_free(ss_val_sim *c)
{
    if (!c) return;
    free(c->req);
    free(c->s);
    free(c);
}

/* ================================================================== statistics */

ss_val_stats ss_val_stats_of(double *v, size_t n)
{
    ss_val_stats s = {0};
    if (!n) return s;
    double sum = 0;
    for (size_t i = 0; i < n; i++) sum += v[i]; /* file order: deterministic */
    gsl_sort(v, 1, n);
    s.n = n;
    s.mean = sum / (double)n;
    s.p50 = gsl_stats_quantile_from_sorted_data(v, 1, n, 0.50);
    s.p90 = gsl_stats_quantile_from_sorted_data(v, 1, n, 0.90);
    s.p99 = gsl_stats_quantile_from_sorted_data(v, 1, n, 0.99);
    return s;
}

/* The metric of one request from its timestamps (any unit); 0 = undefined. */
static int metric_of(ss_val_metric m, double start, double first, double last, int64_t out_toks,
                     double *v)
{
    switch (m) {
    case SS_VAL_TTFT: *v = first - start; return 1;
    case SS_VAL_E2E: *v = last - start; return 1;
    case SS_VAL_TPOT:
        if (out_toks <= 1) return 0;
        *v = (last - first) / (double)(out_toks - 1);
        return 1;
    default: return 0;
    }
}

ss_rc ss_val_measured(const ss_val_run *run, ss_val_metric m, double **vals, size_t *n)
{
    *n = 0;
    *vals = malloc((run->nreq ? run->nreq : 1) * sizeof **vals);
    if (!*vals) return SS_ERR_NOMEM;
    for (size_t i = 0; i < run->nreq; i++) {
        const ss_val_request *r = &run->req[i];
        double v;
        if (metric_of(m, r->queued_ts, r->first_token_ts, r->last_token_ts, r->output_toks, &v))
            (*vals)[(*n)++] = v;
    }
    return SS_OK;
}

double ss_val_error_pct(double meas, double sim)
{
    if (meas == 0) return sim == 0 ? 0 : (sim > 0 ? INFINITY : -INFINITY);
    return (sim - meas) / meas * 100.0;
}

double ss_val_max_mean_error(const ss_val_report *r)
{
    double worst = 0;
    for (int m = 0; m < SS_VAL_METRIC_COUNT; m++) {
        double e = fabs(ss_val_error_pct(r->meas[m].mean, r->sim[m].mean));
        if (!(e <= worst)) worst = e; /* NaN/inf count as worst */
    }
    return worst;
}

/* ================================================================== comparison */

/* The state at simulated time t: the last sample at or before t (the engine samples on a
 * fixed grid and skips grid points before which nothing changed, so this is the state on
 * the grid point at or before t). */
static const val_sample *sample_at(const ss_val_sim *c, ss_time_ns t)
{
    if (!c->ns || t < c->s[0].t) return NULL;
    size_t lo = 0, hi = c->ns; /* invariant: s[lo].t <= t, s[hi].t > t (hi = ns: none) */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (c->s[mid].t <= t) lo = mid;
        else hi = mid;
    }
    return &c->s[lo];
}

ss_rc ss_val_compare(const ss_val_run *run, const ss_val_sim *sim, ss_val_report *out,
                     ss_diag *d)
{
    memset(out, 0, sizeof *out);
    if (sim->nreq != run->nreq || sim->unexpected)
        return ss_diag_fail(d, SS_ERR_INTERNAL, "the simulation reported %llu requests outside "
                            "the %zu of the run", (unsigned long long)sim->unexpected,
                            run->nreq);
    out->requests = run->nreq;
    size_t n = run->nreq ? run->nreq : 1;
    double *mv = malloc(n * sizeof *mv), *sv = malloc(n * sizeof *sv);
    out->timeline = calloc(run->ntick ? run->ntick : 1, sizeof *out->timeline);
    if (!mv || !sv || !out->timeline) {
        free(mv);
        free(sv);
        ss_val_report_free(out);
        return ss_diag_fail(d, SS_ERR_NOMEM, "out of memory");
    }
    ss_time_ns sim_end = 0;
    double meas_end = run->q0;
    for (size_t i = 0; i < run->nreq; i++) {
        const val_req *v = &sim->req[i];
        if (!v->seen) {
            free(mv);
            free(sv);
            ss_val_report_free(out);
            return ss_diag_fail(d, SS_ERR_INTERNAL, "request %zu ('%s') was never reported by "
                                "the simulation", i, run->req[i].id);
        }
        if (v->state == SS_REQ_FINISHED) {
            out->sim_finished++;
            out->sim_finished_prompt_tokens += (uint64_t)run->req[i].input_toks;
            if (v->last_token > sim_end) sim_end = v->last_token;
        } else {
            out->sim_rejected++;
        }
        out->sim_preemptions += v->preemptions;
        out->prompt_tokens += (uint64_t)run->req[i].input_toks;
        if (run->req[i].last_token_ts > meas_end) meas_end = run->req[i].last_token_ts;
    }
    out->sim_prefill_tokens = sim->prefill_tokens;
    out->sim_iterations_recorded = sim->iterations;
    out->meas_makespan_s = meas_end - run->q0;
    out->sim_makespan_s = (double)sim_end / 1e9;
    for (int m = 0; m < SS_VAL_METRIC_COUNT; m++) {
        size_t nm = 0, ns = 0;
        for (size_t i = 0; i < run->nreq; i++) {
            const ss_val_request *r = &run->req[i];
            const val_req *v = &sim->req[i];
            double x;
            if (metric_of((ss_val_metric)m, r->queued_ts, r->first_token_ts, r->last_token_ts,
                          r->output_toks, &x))
                mv[nm++] = x;
            if (v->state == SS_REQ_FINISHED &&
                metric_of((ss_val_metric)m, (double)v->arrival / 1e9,
                          (double)v->first_token / 1e9, (double)v->last_token / 1e9,
                          v->output_tokens, &x))
                sv[ns++] = x;
        }
        out->meas[m] = ss_val_stats_of(mv, nm);
        out->sim[m] = ss_val_stats_of(sv, ns);
    }
    free(mv);
    free(sv);
    for (size_t k = 0; k < run->ntick; k++) {
        const ss_val_tick *t = &run->tick[k];
        ss_val_timeline_row *row = &out->timeline[k];
        row->t = t->t;
        row->sim_t = t->t + run->tick_offset_s;
        row->meas_running = t->running;
        row->meas_waiting = t->waiting;
        row->meas_kv_pct = t->kv_cache_pct;
        const val_sample *s = sample_at(sim, (ss_time_ns)llround(row->sim_t * 1e9));
        if (s) {
            row->sim_running = s->running;
            row->sim_waiting = s->held >= s->running ? (int64_t)(s->held - s->running) : 0;
            row->sim_kv_pct = s->kv_total ? 100.0 * (double)s->kv_used / (double)s->kv_total : 0;
        }
    }
    out->ntimeline = run->ntick;
    return SS_OK;
}

void ss_val_report_free(ss_val_report *r)
{
    free(r->timeline);
    r->timeline = NULL;
    r->ntimeline = 0;
}

/* ================================================================== reports */

static const char *const metric_label[SS_VAL_METRIC_COUNT] = {"TTFT", "TPOT", "E2E"};
static const char *const metric_def[SS_VAL_METRIC_COUNT] = {
    "first_token_ts - queued_ts",
    "(last_token_ts - first_token_ts) / (output_toks - 1), requests with output_toks > 1",
    "last_token_ts - queued_ts"};

static void print_err(FILE *out, double e)
{
    if (isfinite(e)) fprintf(out, " %+9.1f%%", e);
    else fprintf(out, " %10s", "n/a");
}

void ss_val_report_print(const ss_val_report *r, const ss_val_context *c, int every, FILE *out)
{
    fprintf(out, "servesim validate e2e: %s\n", c->run_dir);
    fprintf(out, "  %s\n", c->setup);
    fprintf(out, "  hardware profile %s, cost model %s\n\n", c->hardware, c->cost_model);
    fprintf(out, "  requests   %zu measured; simulated %zu finished, %zu rejected, %llu "
                 "preemptions\n",
            r->requests, r->sim_finished, r->sim_rejected,
            (unsigned long long)r->sim_preemptions);
    fprintf(out, "  makespan   %.2f s measured, %.2f s simulated (first queued -> last token)\n",
            r->meas_makespan_s, r->sim_makespan_s);
    if (c->iterations && c->iterations == r->sim_iterations_recorded)
        fprintf(out, "  prefill    %llu prompt tokens; simulated %llu prefill tokens (%llu "
                     "recomputed after preemption)\n",
                (unsigned long long)r->prompt_tokens, (unsigned long long)r->sim_prefill_tokens,
                (unsigned long long)(r->sim_prefill_tokens > r->sim_finished_prompt_tokens
                                         ? r->sim_prefill_tokens - r->sim_finished_prompt_tokens
                                         : 0));
    if (r->sim_rejected)
        fprintf(out, "  warning    the simulation rejected %zu of the measured requests (see "
                     "results.db for why); its statistics cover only the %zu it finished\n",
                r->sim_rejected, r->sim_finished);
    fprintf(out, "\n");
    fprintf(out, "  metric          measured  simulated      error\n");
    for (int m = 0; m < SS_VAL_METRIC_COUNT; m++) {
        const ss_val_stats *a = &r->meas[m], *b = &r->sim[m];
        const double mv[4] = {a->mean, a->p50, a->p90, a->p99};
        const double sv[4] = {b->mean, b->p50, b->p90, b->p99};
        static const char *const st[4] = {"mean", "p50", "p90", "p99"};
        int ms = m == SS_VAL_TPOT; /* TPOT in ms, the others in s */
        for (int k = 0; k < 4; k++) {
            char label[32];
            snprintf(label, sizeof label, "%s %s", k ? "" : metric_label[m], st[k]);
            fprintf(out, "  %-11s %10.3f %10.3f", label, mv[k] * (ms ? 1e3 : 1),
                    sv[k] * (ms ? 1e3 : 1));
            print_err(out, ss_val_error_pct(mv[k], sv[k]));
            fprintf(out, "  %s\n", ms ? "ms" : "s");
        }
    }
    fprintf(out, "  (n = %zu / %zu / %zu measured requests define TTFT / TPOT / E2E; "
                 "percentiles interpolate between order statistics on both sides)\n",
            r->meas[SS_VAL_TTFT].n, r->meas[SS_VAL_TPOT].n, r->meas[SS_VAL_E2E].n);
    if (c->notes && c->notes->n) {
        fprintf(out, "\n  caveats\n");
        for (int i = 0; i < c->notes->n; i++) fprintf(out, "  - %s\n", c->notes->text[i]);
    }
    if (every > 0 && r->ntimeline) {
        fprintf(out, "\n  timeline (measured | simulated), every %d ticks\n", every);
        fprintf(out, "      t (s)     running      waiting       KV used %%\n");
        for (size_t k = 0; k < r->ntimeline; k += (size_t)every) {
            const ss_val_timeline_row *w = &r->timeline[k];
            fprintf(out, "  %9.1f  %4lld | %4lld  %4lld | %4lld  %6.1f | %6.1f\n", w->t,
                    (long long)w->meas_running, (long long)w->sim_running,
                    (long long)w->meas_waiting, (long long)w->sim_waiting, w->meas_kv_pct,
                    w->sim_kv_pct);
        }
    }
}

static cJSON *stats_json(const ss_val_stats *s)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "n", (double)s->n);
    cJSON_AddNumberToObject(o, "mean", s->mean);
    cJSON_AddNumberToObject(o, "p50", s->p50);
    cJSON_AddNumberToObject(o, "p90", s->p90);
    cJSON_AddNumberToObject(o, "p99", s->p99);
    return o;
}

static void add_err(cJSON *o, const char *k, double e)
{
    if (isfinite(e)) cJSON_AddNumberToObject(o, k, e);
    else cJSON_AddNullToObject(o, k);
}

char *ss_val_report_json(const ss_val_report *r, const ss_val_context *c)
{
    cJSON *root = cJSON_CreateObject();
    if (!root) return NULL;
    cJSON_AddNumberToObject(root, "schema_version", 1);
    cJSON_AddStringToObject(root, "run_dir", c->run_dir);
    cJSON_AddStringToObject(root, "setup", c->setup);
    cJSON_AddStringToObject(root, "hardware", c->hardware);
    cJSON_AddStringToObject(root, "cost_model", c->cost_model);
    cJSON *rq = cJSON_AddObjectToObject(root, "requests");
    cJSON_AddNumberToObject(rq, "measured", (double)r->requests);
    cJSON_AddNumberToObject(rq, "simulated_finished", (double)r->sim_finished);
    cJSON_AddNumberToObject(rq, "simulated_rejected", (double)r->sim_rejected);
    cJSON_AddNumberToObject(rq, "simulated_preemptions", (double)r->sim_preemptions);
    cJSON_AddNumberToObject(rq, "prompt_tokens", (double)r->prompt_tokens);
    if (c->iterations && c->iterations == r->sim_iterations_recorded)
        cJSON_AddNumberToObject(rq, "simulated_prefill_tokens", (double)r->sim_prefill_tokens);
    cJSON *mk = cJSON_AddObjectToObject(root, "makespan_s");
    cJSON_AddNumberToObject(mk, "measured", r->meas_makespan_s);
    cJSON_AddNumberToObject(mk, "simulated", r->sim_makespan_s);
    add_err(mk, "error_pct", ss_val_error_pct(r->meas_makespan_s, r->sim_makespan_s));
    cJSON_AddStringToObject(root, "percentiles", "linear interpolation between order "
                            "statistics (gsl_stats_quantile_from_sorted_data), both sides");
    cJSON *ms = cJSON_AddObjectToObject(root, "metrics");
    for (int m = 0; m < SS_VAL_METRIC_COUNT; m++) {
        cJSON *o = cJSON_AddObjectToObject(ms, ss_val_metric_name((ss_val_metric)m));
        cJSON_AddStringToObject(o, "unit", "s");
        cJSON_AddStringToObject(o, "definition", metric_def[m]);
        cJSON_AddItemToObject(o, "measured", stats_json(&r->meas[m]));
        cJSON_AddItemToObject(o, "simulated", stats_json(&r->sim[m]));
        cJSON *e = cJSON_AddObjectToObject(o, "error_pct");
        add_err(e, "mean", ss_val_error_pct(r->meas[m].mean, r->sim[m].mean));
        add_err(e, "p50", ss_val_error_pct(r->meas[m].p50, r->sim[m].p50));
        add_err(e, "p90", ss_val_error_pct(r->meas[m].p90, r->sim[m].p90));
        add_err(e, "p99", ss_val_error_pct(r->meas[m].p99, r->sim[m].p99));
    }
    add_err(root, "max_mean_error_pct", ss_val_max_mean_error(r));
    cJSON *cv = cJSON_AddArrayToObject(root, "caveats");
    for (int i = 0; c->notes && i < c->notes->n; i++)
        cJSON_AddItemToArray(cv, cJSON_CreateString(c->notes->text[i]));
    cJSON *tl = cJSON_AddObjectToObject(root, "timeline");
    cJSON *cols = cJSON_AddArrayToObject(tl, "columns");
    static const char *const names[] = {"t_s", "sim_t_s", "running_measured",
                                        "running_simulated", "waiting_measured",
                                        "waiting_simulated", "kv_pct_measured",
                                        "kv_pct_simulated"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        cJSON_AddItemToArray(cols, cJSON_CreateString(names[i]));
    cJSON *rows = cJSON_AddArrayToObject(tl, "rows");
    for (size_t k = 0; k < r->ntimeline; k++) {
        const ss_val_timeline_row *w = &r->timeline[k];
        const double v[8] = {w->t,
                             w->sim_t,
                             (double)w->meas_running,
                             (double)w->sim_running,
                             (double)w->meas_waiting,
                             (double)w->sim_waiting,
                             w->meas_kv_pct,
                             round(w->sim_kv_pct * 1e4) / 1e4};
        cJSON_AddItemToArray(rows, cJSON_CreateDoubleArray(v, 8));
    }
    char *s = cJSON_Print(root);
    cJSON_Delete(root);
    return s;
}

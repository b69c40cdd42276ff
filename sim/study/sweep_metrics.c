/* Sweeps: what one run contributes (the fixed and per-class metric tables, their values
 * from a run's summary), the results array of a sweep and the 95 % confidence interval
 * (sweep.h). The runner (jobs, fork workers, MPI) is sweep.c. */
#include "sim/study/sweep.h"

#include <gsl/gsl_cdf.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ================================================================== metrics */

enum { K_U64, K_I64, K_DBL, K_STAT_N, K_STAT, K_SLO_U64, K_SLO_DBL, K_DERIVED, K_MLPERF };

typedef struct metric_def {
    const char *name;
    const char *unit;
    int better;
    int kind;
    size_t off;      /* into ss_summary (K_DERIVED: which one) */
    size_t stat_off; /* K_STAT: the ss_stat the value belongs to */
} metric_def;

#define SO(f) offsetof(ss_summary, f)
#define STAT_ROWS(base, field, unit, better)                                                 \
    {base ".count", "samples", 0, K_STAT_N, SO(field) + offsetof(ss_stat, n), SO(field)},     \
        {base ".mean", unit, better, K_STAT, SO(field) + offsetof(ss_stat, mean), SO(field)}, \
        {base ".p50", unit, better, K_STAT, SO(field) + offsetof(ss_stat, p50), SO(field)},   \
        {base ".p90", unit, better, K_STAT, SO(field) + offsetof(ss_stat, p90), SO(field)},   \
        {base ".p95", unit, better, K_STAT, SO(field) + offsetof(ss_stat, p95), SO(field)},   \
        {base ".p99", unit, better, K_STAT, SO(field) + offsetof(ss_stat, p99), SO(field)},   \
        {base ".max", unit, better, K_STAT, SO(field) + offsetof(ss_stat, max), SO(field)}

/* The value of a stored field of a summary (ss_summary or ss_class_summary at base): NAN
 * for a statistic without samples (undefined, not 0) and for an SLO figure without SLOs. */
static double field_value(const char *base, const metric_def *m, bool has_slo)
{
    double v = NAN;
    uint64_t u;
    int64_t i;
    switch (m->kind) {
    case K_SLO_U64:
        if (!has_slo) break;
        /* fall through */
    case K_U64:
    case K_STAT_N:
        memcpy(&u, base + m->off, sizeof u);
        v = (double)u;
        break;
    case K_I64:
        memcpy(&i, base + m->off, sizeof i);
        v = (double)i;
        break;
    case K_SLO_DBL:
        if (!has_slo) break;
        /* fall through */
    case K_DBL: memcpy(&v, base + m->off, sizeof v); break;
    case K_STAT: {
        const ss_stat *st = (const ss_stat *)(base + m->stat_off);
        if (st->n) memcpy(&v, base + m->off, sizeof v);
        break;
    }
    }
    return v;
}

/* Derived metrics, computed in ss_sweep_metrics. */
enum { D_GPUS, D_OUT_PER_GPU, D_TOTAL_PER_GPU, D_INTERACTIVITY };
/* MLPerf figures (results.db's summary rows "mlperf", plus the p99 of TTFT and TPOT);
 * undefined (NULL) outside MLPerf mode. */
enum {
    MP_VALID, MP_PERF_OK, MP_DUR_OK, MP_QUERIES_OK, MP_DURATION, MP_QUERIES, MP_SAMPLES,
    MP_SAMPLES_PER_S, MP_TOKENS_PER_S, MP_TTFT_TARGET, MP_TPOT_TARGET, MP_LAT_TARGET,
    MP_TTFT_P99, MP_TPOT_P99
};

static const metric_def metric_defs[] = {
    {"requests.arrived", "requests", 0, K_U64, SO(arrived), 0},
    {"requests.finished", "requests", 1, K_U64, SO(finished), 0},
    {"requests.rejected", "requests", -1, K_U64, SO(rejected), 0},
    {"requests.preemptions", "preemptions", -1, K_U64, SO(preemptions), 0},
    {"requests.excluded", "requests", 0, K_U64, SO(excluded), 0},
    {"input.rows_skipped", "rows", 0, K_U64, SO(rows_skipped), 0},
    {"iterations.count", "iterations", 0, K_U64, SO(iterations), 0},
    {"duration_s", "s", 0, K_DBL, SO(duration_s), 0},
    {"run_duration_s", "s", 0, K_DBL, SO(run_duration_s), 0},
    {"busy_fraction", "fraction", 0, K_DBL, SO(busy_fraction), 0},
    {"tokens.input", "tokens", 0, K_U64, SO(input_tokens), 0},
    {"tokens.output", "tokens", 0, K_U64, SO(output_tokens), 0},
    {"throughput.requests_per_s", "req/s", 1, K_DBL, SO(request_throughput), 0},
    {"throughput.input_tokens_per_s", "tok/s", 1, K_DBL, SO(input_throughput), 0},
    {"throughput.output_tokens_per_s", "tok/s", 1, K_DBL, SO(output_throughput), 0},
    {"throughput.total_tokens_per_s", "tok/s", 1, K_DBL, SO(total_throughput), 0},
    {"kv_cache.blocks_total", "blocks", 0, K_I64, SO(kv_blocks_total), 0},
    {"kv_cache.util_mean", "fraction", 0, K_DBL, SO(kv_util_mean), 0},
    {"kv_cache.util_peak", "fraction", 0, K_DBL, SO(kv_util_peak), 0},
    STAT_ROWS("queue_s", req[SS_M_QUEUE], "s", -1),
    STAT_ROWS("ttft_s", req[SS_M_TTFT], "s", -1),
    STAT_ROWS("tpot_s", req[SS_M_TPOT], "s", -1),
    STAT_ROWS("e2e_s", req[SS_M_E2E], "s", -1),
    STAT_ROWS("normalized_latency_s_per_token", req[SS_M_NORM], "s/token", -1),
    STAT_ROWS("itl_s", itl_s, "s", -1),
    STAT_ROWS("batch_size", batch_size, "sequences", 0),
    /* over the classes that have an SLO; undefined (NULL) when none has */
    {"slo.measured", "requests", 0, K_SLO_U64, SO(slo_measured), 0},
    {"slo.met", "requests", 1, K_SLO_U64, SO(slo_met), 0},
    {"slo.attainment", "fraction", 1, K_SLO_DBL, SO(slo_attainment), 0},
    {"slo.goodput_rps", "req/s", 1, K_SLO_DBL, SO(goodput_rps), 0},
    {"slo.goodput_tokens_per_s", "tok/s", 1, K_SLO_DBL, SO(goodput_tokens_per_s), 0},
    {"gpus", "GPUs", 0, K_DERIVED, D_GPUS, 0},
    {"throughput.output_tokens_per_s_per_gpu", "tok/s/GPU", 1, K_DERIVED, D_OUT_PER_GPU, 0},
    {"throughput.total_tokens_per_s_per_gpu", "tok/s/GPU", 1, K_DERIVED, D_TOTAL_PER_GPU, 0},
    {"interactivity.tokens_per_s_per_user", "tok/s/user", 1, K_DERIVED, D_INTERACTIVITY, 0},
    {"mlperf.valid", "0/1", 1, K_MLPERF, MP_VALID, 0},
    {"mlperf.performance_constraints_satisfied", "0/1", 1, K_MLPERF, MP_PERF_OK, 0},
    {"mlperf.min_duration_satisfied", "0/1", 1, K_MLPERF, MP_DUR_OK, 0},
    {"mlperf.min_queries_satisfied", "0/1", 1, K_MLPERF, MP_QUERIES_OK, 0},
    {"mlperf.duration_s", "s", 0, K_MLPERF, MP_DURATION, 0},
    {"mlperf.queries", "queries", 0, K_MLPERF, MP_QUERIES, 0},
    {"mlperf.samples", "samples", 0, K_MLPERF, MP_SAMPLES, 0},
    {"mlperf.completed_samples_per_s", "samples/s", 1, K_MLPERF, MP_SAMPLES_PER_S, 0},
    {"mlperf.completed_tokens_per_s", "tok/s", 1, K_MLPERF, MP_TOKENS_PER_S, 0},
    {"mlperf.ttft_at_target_percentile_s", "s", -1, K_MLPERF, MP_TTFT_TARGET, 0},
    {"mlperf.tpot_at_target_percentile_s", "s", -1, K_MLPERF, MP_TPOT_TARGET, 0},
    {"mlperf.latency_at_target_percentile_s", "s", -1, K_MLPERF, MP_LAT_TARGET, 0},
    {"mlperf.ttft_s.p99", "s", -1, K_MLPERF, MP_TTFT_P99, 0},
    {"mlperf.tpot_s.p99", "s", -1, K_MLPERF, MP_TPOT_P99, 0},
};
#undef SO
#undef STAT_ROWS
#define NMETRICS (sizeof metric_defs / sizeof metric_defs[0])

size_t ss_sweep_nmetrics(void) { return NMETRICS; }
const char *ss_sweep_metric_name(size_t k) { return k < NMETRICS ? metric_defs[k].name : NULL; }
const char *ss_sweep_metric_unit(size_t k) { return k < NMETRICS ? metric_defs[k].unit : NULL; }
int ss_sweep_metric_better(size_t k) { return k < NMETRICS ? metric_defs[k].better : 0; }

int ss_sweep_metric_find(const char *name)
{
    for (size_t k = 0; k < NMETRICS; k++)
        if (!strcmp(metric_defs[k].name, name)) return (int)k;
    return -1;
}

/* Index of 0.99 in ss_mlperf_pcts. */
static double mlperf_p99(const ss_mlperf_dist *x)
{
    if (!x->n) return NAN;
    for (int k = 0; k < SS_MLPERF_NPCT; k++)
        if (ss_mlperf_pcts[k] == 0.99) return x->pct[k];
    return NAN;
}

static double mlperf_value(const ss_summary *s, int which)
{
    const ss_mlperf_verdict *v = &s->mlperf;
    const ss_mlperf_obs *o = &s->mlperf_obs;
    switch (which) {
    case MP_VALID: return v->valid;
    case MP_PERF_OK: return v->perf_ok;
    case MP_DUR_OK: return v->min_duration_ok;
    case MP_QUERIES_OK: return v->min_queries_ok;
    case MP_DURATION: return v->duration_s;
    case MP_QUERIES: return (double)o->queries;
    case MP_SAMPLES: return (double)o->samples;
    case MP_SAMPLES_PER_S: return v->samples_per_s;
    case MP_TOKENS_PER_S: return v->tokens_per_s;
    case MP_TTFT_TARGET: return o->ttft.at_target;
    case MP_TPOT_TARGET: return o->tpot.at_target;
    case MP_LAT_TARGET: return o->latency.at_target;
    case MP_TTFT_P99: return mlperf_p99(&o->ttft);
    case MP_TPOT_P99: return mlperf_p99(&o->tpot);
    }
    return NAN;
}

/* ------------------------------------------------------------------ per-class metrics */

/* "classes.NAME.<suffix>" for each class a study's points have (ss_study_nclasses), after
 * the fixed metrics: the rows of results.db's class_summary. */
#define CO(f) offsetof(ss_class_summary, f)
#define CSTAT_ROWS(base, field, unit, better)                                                 \
    {base ".count", "samples", 0, K_STAT_N, CO(field) + offsetof(ss_stat, n), CO(field)},      \
        {base ".mean", unit, better, K_STAT, CO(field) + offsetof(ss_stat, mean), CO(field)}, \
        {base ".p50", unit, better, K_STAT, CO(field) + offsetof(ss_stat, p50), CO(field)},   \
        {base ".p90", unit, better, K_STAT, CO(field) + offsetof(ss_stat, p90), CO(field)},   \
        {base ".p95", unit, better, K_STAT, CO(field) + offsetof(ss_stat, p95), CO(field)},   \
        {base ".p99", unit, better, K_STAT, CO(field) + offsetof(ss_stat, p99), CO(field)},   \
        {base ".max", unit, better, K_STAT, CO(field) + offsetof(ss_stat, max), CO(field)}
static const metric_def class_defs[] = { /* name: the suffix */
    {"requests.arrived", "requests", 0, K_U64, CO(arrived), 0},
    {"requests.finished", "requests", 1, K_U64, CO(finished), 0},
    {"requests.rejected", "requests", -1, K_U64, CO(rejected), 0},
    {"requests.excluded", "requests", 0, K_U64, CO(excluded), 0},
    {"requests.measured", "requests", 0, K_U64, CO(measured), 0},
    {"tokens.input", "tokens", 0, K_U64, CO(input_tokens), 0},
    {"tokens.output", "tokens", 0, K_U64, CO(output_tokens), 0},
    {"throughput.requests_per_s", "req/s", 1, K_DBL, CO(request_throughput), 0},
    {"throughput.input_tokens_per_s", "tok/s", 1, K_DBL, CO(input_throughput), 0},
    {"throughput.output_tokens_per_s", "tok/s", 1, K_DBL, CO(output_throughput), 0},
    CSTAT_ROWS("queue_s", req[SS_M_QUEUE], "s", -1),
    CSTAT_ROWS("ttft_s", req[SS_M_TTFT], "s", -1),
    CSTAT_ROWS("tpot_s", req[SS_M_TPOT], "s", -1),
    CSTAT_ROWS("e2e_s", req[SS_M_E2E], "s", -1),
    CSTAT_ROWS("normalized_latency_s_per_token", req[SS_M_NORM], "s/token", -1),
    {"slo.met", "requests", 1, K_SLO_U64, CO(slo_met), 0},
    {"slo.attainment", "fraction", 1, K_SLO_DBL, CO(slo_attainment), 0},
    {"slo.goodput_rps", "req/s", 1, K_SLO_DBL, CO(goodput_rps), 0},
    {"slo.goodput_tokens_per_s", "tok/s", 1, K_SLO_DBL, CO(goodput_tokens_per_s), 0},
};
#undef CO
#undef CSTAT_ROWS
#define NCLASSMETRICS (sizeof class_defs / sizeof class_defs[0])

size_t ss_sweep_class_nmetrics(void) { return NCLASSMETRICS; }

void ss_sweep_class_metrics(const ss_study *st, const ss_summary *s, double *out)
{
    size_t nc = ss_study_nclasses(st);
    for (size_t i = 0; i < nc * NCLASSMETRICS; i++) out[i] = NAN;
    for (size_t c = 0; c < s->nclasses; c++)
        for (size_t k = 0; k < nc; k++) {
            if (strcmp(ss_study_class_name(st, k), s->classes[c].name)) continue;
            for (size_t j = 0; j < NCLASSMETRICS; j++)
                out[k * NCLASSMETRICS + j] = field_value((const char *)&s->classes[c], &class_defs[j],
                                                          s->classes[c].has_slo);
        }
}

const char *ss_sweep_results_metric_name(const ss_sweep_results *r, size_t k)
{
    return k < r->nmetrics ? r->names[k] : NULL;
}
const char *ss_sweep_results_metric_unit(const ss_sweep_results *r, size_t k)
{
    if (k < NMETRICS) return metric_defs[k].unit;
    return k < r->nmetrics ? class_defs[(k - NMETRICS) % NCLASSMETRICS].unit : NULL;
}
int ss_sweep_results_metric_better(const ss_sweep_results *r, size_t k)
{
    if (k < NMETRICS) return metric_defs[k].better;
    return k < r->nmetrics ? class_defs[(k - NMETRICS) % NCLASSMETRICS].better : 0;
}

void ss_sweep_metrics(const ss_scenario *sc, const ss_summary *s, double *out)
{
    const char *base = (const char *)s;
    double gpus = 0;
    for (int p = 0; p < sc->npools; p++)
        gpus += (double)sc->pools[p].count * sc->pools[p].par.tp * sc->pools[p].par.pp *
                sc->pools[p].par.dp;
    for (size_t k = 0; k < NMETRICS; k++) {
        const metric_def *m = &metric_defs[k];
        double v = NAN;
        switch (m->kind) {
        case K_MLPERF:
            if (s->has_mlperf) v = mlperf_value(s, (int)m->off);
            break;
        case K_DERIVED:
            switch ((int)m->off) {
            case D_GPUS: v = gpus; break;
            case D_OUT_PER_GPU: v = gpus > 0 ? s->output_throughput / gpus : NAN; break;
            case D_TOTAL_PER_GPU: v = gpus > 0 ? s->total_throughput / gpus : NAN; break;
            case D_INTERACTIVITY: {
                const ss_stat *t = &s->req[SS_M_TPOT];
                v = t->n && t->p50 > 0 ? 1.0 / t->p50 : NAN;
                break;
            }
            }
            break;
        default: v = field_value(base, m, s->has_slo); break;
        }
        out[k] = v;
    }
}

/* ================================================================== statistics */

ss_ci ss_ci95(const double *x, size_t n)
{
    ss_ci c = {NAN, NAN, NAN, 0};
    double sum = 0;
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (!isnan(x[i])) {
            sum += x[i];
            m++;
        }
    if (!m) return c;
    double mean = sum / (double)m;
    c.mean = c.lo = c.hi = mean;
    c.n = (int)m;
    if (m < 2) return c;
    double ss = 0;
    for (size_t i = 0; i < n; i++)
        if (!isnan(x[i])) ss += (x[i] - mean) * (x[i] - mean);
    double sd = sqrt(ss / (double)(m - 1));
    double half = gsl_cdf_tdist_Pinv(0.975, (double)(m - 1)) * sd / sqrt((double)m);
    c.lo = mean - half;
    c.hi = mean + half;
    return c;
}

/* ================================================================== results */

ss_rc ss_sweep_results_init(ss_sweep_results *r, const ss_study *s, ss_diag *d)
{
    memset(r, 0, sizeof *r);
    r->npoints = ss_study_npoints(s);
    r->reps = ss_study_replications(s);
    size_t nc = ss_study_nclasses(s);
    r->nmetrics = NMETRICS + nc * NCLASSMETRICS;
    size_t njobs = r->npoints * (size_t)r->reps;
    r->v = malloc(njobs * r->nmetrics * sizeof *r->v);
    r->seed = calloc(r->npoints ? r->npoints : 1, sizeof *r->seed);
    r->names = calloc(r->nmetrics, sizeof *r->names);
    if (!r->v || !r->seed || !r->names) {
        ss_sweep_results_free(r);
        return ss_diag_fail(d, SS_ERR_NOMEM, "out of memory for %zu results", njobs);
    }
    for (size_t k = 0; k < r->nmetrics; k++) {
        if (k < NMETRICS) {
            snprintf(r->names[k], sizeof r->names[k], "%s", metric_defs[k].name);
            continue;
        }
        size_t c = (k - NMETRICS) / NCLASSMETRICS, j = (k - NMETRICS) % NCLASSMETRICS;
        snprintf(r->names[k], sizeof r->names[k], "classes.%s.%s", ss_study_class_name(s, c),
                 class_defs[j].name);
    }
    for (size_t i = 0; i < njobs * r->nmetrics; i++) r->v[i] = NAN;
    return SS_OK;
}

void ss_sweep_results_free(ss_sweep_results *r)
{
    free(r->v);
    free(r->seed);
    free(r->names);
    r->v = NULL;
    r->seed = NULL;
    r->names = NULL;
}

size_t ss_sweep_study_nmetrics(const ss_study *s)
{
    return NMETRICS + ss_study_nclasses(s) * NCLASSMETRICS;
}

/* Sweeps: metrics of a run, confidence intervals, jobs, the fork runner and MPI
 * (sweep.h). */
#include "sim/study/sweep.h"

#include <errno.h>
#include <gsl/gsl_cdf.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#ifdef SS_HAVE_MPI
#include <mpi.h>
#endif

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
enum { C_U64, C_DBL, C_STAT_N, C_STAT, C_SLO_U64, C_SLO_DBL };
typedef struct class_def {
    const char *suffix, *unit;
    int better, kind;
    size_t off, stat_off;
} class_def;
#define CO(f) offsetof(ss_class_summary, f)
#define CSTAT_ROWS(base, field, unit, better)                                                 \
    {base ".count", "samples", 0, C_STAT_N, CO(field) + offsetof(ss_stat, n), CO(field)},      \
        {base ".mean", unit, better, C_STAT, CO(field) + offsetof(ss_stat, mean), CO(field)}, \
        {base ".p50", unit, better, C_STAT, CO(field) + offsetof(ss_stat, p50), CO(field)},   \
        {base ".p90", unit, better, C_STAT, CO(field) + offsetof(ss_stat, p90), CO(field)},   \
        {base ".p95", unit, better, C_STAT, CO(field) + offsetof(ss_stat, p95), CO(field)},   \
        {base ".p99", unit, better, C_STAT, CO(field) + offsetof(ss_stat, p99), CO(field)},   \
        {base ".max", unit, better, C_STAT, CO(field) + offsetof(ss_stat, max), CO(field)}
static const class_def class_defs[] = {
    {"requests.arrived", "requests", 0, C_U64, CO(arrived), 0},
    {"requests.finished", "requests", 1, C_U64, CO(finished), 0},
    {"requests.rejected", "requests", -1, C_U64, CO(rejected), 0},
    {"requests.excluded", "requests", 0, C_U64, CO(excluded), 0},
    {"requests.measured", "requests", 0, C_U64, CO(measured), 0},
    {"tokens.input", "tokens", 0, C_U64, CO(input_tokens), 0},
    {"tokens.output", "tokens", 0, C_U64, CO(output_tokens), 0},
    {"throughput.requests_per_s", "req/s", 1, C_DBL, CO(request_throughput), 0},
    {"throughput.input_tokens_per_s", "tok/s", 1, C_DBL, CO(input_throughput), 0},
    {"throughput.output_tokens_per_s", "tok/s", 1, C_DBL, CO(output_throughput), 0},
    CSTAT_ROWS("queue_s", req[SS_M_QUEUE], "s", -1),
    CSTAT_ROWS("ttft_s", req[SS_M_TTFT], "s", -1),
    CSTAT_ROWS("tpot_s", req[SS_M_TPOT], "s", -1),
    CSTAT_ROWS("e2e_s", req[SS_M_E2E], "s", -1),
    CSTAT_ROWS("normalized_latency_s_per_token", req[SS_M_NORM], "s/token", -1),
    {"slo.met", "requests", 1, C_SLO_U64, CO(slo_met), 0},
    {"slo.attainment", "fraction", 1, C_SLO_DBL, CO(slo_attainment), 0},
    {"slo.goodput_rps", "req/s", 1, C_SLO_DBL, CO(goodput_rps), 0},
    {"slo.goodput_tokens_per_s", "tok/s", 1, C_SLO_DBL, CO(goodput_tokens_per_s), 0},
};
#undef CO
#undef CSTAT_ROWS
#define NCLASSMETRICS (sizeof class_defs / sizeof class_defs[0])

size_t ss_sweep_class_nmetrics(void) { return NCLASSMETRICS; }

static double class_value(const ss_class_summary *c, const class_def *m)
{
    const char *base = (const char *)c;
    double v = NAN;
    uint64_t u;
    switch (m->kind) {
    case C_U64:
    case C_STAT_N:
        memcpy(&u, base + m->off, sizeof u);
        v = (double)u;
        break;
    case C_DBL: memcpy(&v, base + m->off, sizeof v); break;
    case C_STAT: {
        const ss_stat *st = (const ss_stat *)(base + m->stat_off);
        if (st->n) memcpy(&v, base + m->off, sizeof v);
        break;
    }
    case C_SLO_U64:
        if (c->has_slo) {
            memcpy(&u, base + m->off, sizeof u);
            v = (double)u;
        }
        break;
    case C_SLO_DBL:
        if (c->has_slo) memcpy(&v, base + m->off, sizeof v);
        break;
    }
    return v;
}

void ss_sweep_class_metrics(const ss_study *st, const ss_summary *s, double *out)
{
    size_t nc = ss_study_nclasses(st);
    for (size_t i = 0; i < nc * NCLASSMETRICS; i++) out[i] = NAN;
    for (size_t c = 0; c < s->nclasses; c++)
        for (size_t k = 0; k < nc; k++) {
            if (strcmp(ss_study_class_name(st, k), s->classes[c].name)) continue;
            for (size_t j = 0; j < NCLASSMETRICS; j++)
                out[k * NCLASSMETRICS + j] = class_value(&s->classes[c], &class_defs[j]);
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
        uint64_t u;
        switch (m->kind) {
        case K_U64:
            memcpy(&u, base + m->off, sizeof u);
            v = (double)u;
            break;
        case K_I64: {
            int64_t i;
            memcpy(&i, base + m->off, sizeof i);
            v = (double)i;
            break;
        }
        case K_DBL: memcpy(&v, base + m->off, sizeof v); break;
        case K_STAT_N:
            memcpy(&u, base + m->off, sizeof u);
            v = (double)u;
            break;
        case K_STAT: {
            /* a statistic without samples is undefined, not 0 */
            const ss_stat *st = (const ss_stat *)(base + m->stat_off);
            if (st->n) memcpy(&v, base + m->off, sizeof v);
            break;
        }
        case K_SLO_U64:
            if (s->has_slo) {
                memcpy(&u, base + m->off, sizeof u);
                v = (double)u;
            }
            break;
        case K_SLO_DBL:
            if (s->has_slo) memcpy(&v, base + m->off, sizeof v);
            break;
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

/* ================================================================== jobs */

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
                 class_defs[j].suffix);
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

ss_rc ss_sweep_run_job(const ss_study *s, size_t job, double *values, uint64_t *seed,
                       ss_diag *d)
{
    int reps = ss_study_replications(s);
    size_t point = job / (size_t)reps;
    int rep = (int)(job % (size_t)reps);
    ss_diag jd;
    ss_diag_clear(&jd);
    ss_scenario *sc = NULL;
    ss_sim *sim = NULL;
    ss_rc rc = ss_study_load_point_scenario(s, point, NULL, &sc, &jd);
    if (!rc) {
        ss_sim_opts o = {.seed = ss_study_seed(s, sc), .replication = (uint64_t)rep};
        *seed = o.seed;
        if (!(rc = ss_sim_create(sc, &o, &sim, &jd)) && !(rc = ss_sim_run(sim, &jd)))
        {
            ss_sweep_metrics(sc, ss_sim_summary(sim), values);
            ss_sweep_class_metrics(s, ss_sim_summary(sim), values + NMETRICS);
        }
    }
    ss_sim_free(sim);
    ss_scenario_free(sc);
    if (rc) {
        char buf[1400];
        ss_diag_format(&jd, buf, sizeof buf);
        return ss_diag_fail(d, rc, "point %zu, replication %d: %.900s", point, rep, buf);
    }
    return SS_OK;
}

/* What a worker sends back: a header, then nmetrics doubles. */
typedef struct job_rec {
    int32_t rc;
    uint64_t seed;
    char msg[1200];
} job_rec;

static void store(ss_sweep_results *r, size_t job, const double *v, uint64_t seed)
{
    memcpy(&r->v[job * r->nmetrics], v, r->nmetrics * sizeof *v);
    r->seed[job / (size_t)r->reps] = seed;
}

static ss_rc run_serial(const ss_study *s, size_t stride, size_t offset, ss_sweep_results *r,
                        ss_sweep_progress_fn progress, void *ctx, size_t total, ss_diag *d)
{
    size_t njobs = r->npoints * (size_t)r->reps, done = 0;
    double *v = malloc(r->nmetrics * sizeof *v);
    if (!v) return ss_diag_fail(d, SS_ERR_NOMEM, "out of memory");
    ss_rc rc = SS_OK;
    for (size_t j = offset; j < njobs; j += stride) {
        uint64_t seed = 0;
        if ((rc = ss_sweep_run_job(s, j, v, &seed, d))) break;
        store(r, j, v, seed);
        if (progress) progress(ctx, ++done, total);
    }
    free(v);
    return rc;
}

/* Read exactly n bytes (until EOF); returns bytes read. */
static size_t read_all(int fd, void *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t k = read(fd, (char *)buf + got, n - got);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) break;
        got += (size_t)k;
    }
    return got;
}

static int write_all(int fd, const void *buf, size_t n)
{
    size_t put = 0;
    while (put < n) {
        ssize_t k = write(fd, (const char *)buf + put, n - put);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return -1;
        put += (size_t)k;
    }
    return 0;
}

typedef struct slot {
    pid_t pid;
    int fd;
    size_t job;
} slot;

/* The child: run one job, send the record, exit without running the parent's atexit
 * handlers or flushing its stdio buffers. */
static void child(const ss_study *s, size_t job, int fd, size_t nmetrics)
{
    size_t sz = sizeof(job_rec) + nmetrics * sizeof(double);
    char *buf = calloc(1, sz);
    if (!buf) _exit(3);
    job_rec *h = (job_rec *)buf;
    double *v = (double *)(buf + sizeof(job_rec));
    ss_diag d;
    ss_diag_clear(&d);
    h->rc = ss_sweep_run_job(s, job, v, &h->seed, &d);
    if (h->rc) ss_diag_format(&d, h->msg, sizeof h->msg);
    int bad = write_all(fd, buf, sz);
    free(buf);
    close(fd);
    _exit(bad ? 4 : 0);
}

/* Wait for one child; store its result. *first_err: lowest failing job so far. */
static ss_rc reap(slot *slots, int nslots, int *running, ss_sweep_results *r, char *rec,
                  size_t recsz, size_t *err_job, char *err_msg, size_t err_n)
{
    int st;
    pid_t pid;
    while ((pid = waitpid(-1, &st, 0)) < 0 && errno == EINTR) {
    }
    if (pid < 0) return SS_ERR_INTERNAL;
    int i = 0;
    while (i < nslots && slots[i].pid != pid) i++;
    if (i == nslots) return SS_OK; /* not ours */
    size_t got = read_all(slots[i].fd, rec, recsz);
    close(slots[i].fd);
    size_t job = slots[i].job;
    slots[i].pid = 0;
    (*running)--;
    const job_rec *h = (const job_rec *)rec;
    char msg[1300] = "";
    if (WIFSIGNALED(st))
        snprintf(msg, sizeof msg, "point %zu, replication %zu: the worker process died "
                 "(signal %d)", job / (size_t)r->reps, job % (size_t)r->reps, WTERMSIG(st));
    else if (got != recsz || !WIFEXITED(st) || (WEXITSTATUS(st) && !h->rc))
        snprintf(msg, sizeof msg, "point %zu, replication %zu: the worker process failed "
                 "(exit status %d)", job / (size_t)r->reps, job % (size_t)r->reps,
                 WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    else if (h->rc)
        snprintf(msg, sizeof msg, "%s", h->msg);
    if (msg[0]) {
        if (job < *err_job) {
            *err_job = job;
            snprintf(err_msg, err_n, "%s", msg);
        }
        return SS_OK;
    }
    store(r, job, (const double *)(rec + sizeof(job_rec)), h->seed);
    return SS_OK;
}

ss_rc ss_sweep_run(const ss_study *s, int workers, size_t stride, size_t offset,
                   ss_sweep_results *r, ss_sweep_progress_fn progress, void *ctx, ss_diag *d)
{
    size_t njobs = r->npoints * (size_t)r->reps;
    if (!stride) stride = 1;
    size_t total = offset < njobs ? (njobs - offset + stride - 1) / stride : 0;
    if (workers <= 1 || total <= 1)
        return run_serial(s, stride, offset, r, progress, ctx, total, d);
    if ((size_t)workers > total) workers = (int)total;
    size_t recsz = sizeof(job_rec) + r->nmetrics * sizeof(double);
    slot *slots = calloc((size_t)workers, sizeof *slots);
    char *rec = malloc(recsz);
    char err_msg[1300] = "";
    size_t err_job = (size_t)-1, done = 0;
    ss_rc rc = SS_OK;
    if (!slots || !rec) {
        free(slots);
        free(rec);
        return ss_diag_fail(d, SS_ERR_NOMEM, "out of memory");
    }
    int running = 0;
    size_t next = offset;
    while (next < njobs || running) {
        while (running < workers && next < njobs && err_job == (size_t)-1 && !rc) {
            int fds[2];
            if (pipe(fds)) {
                rc = ss_diag_fail(d, SS_ERR_IO, "cannot create a pipe: %s", strerror(errno));
                break;
            }
            fflush(stdout);
            fflush(stderr);
            pid_t pid = fork();
            if (pid < 0) {
                close(fds[0]);
                close(fds[1]);
                rc = ss_diag_fail(d, SS_ERR_IO, "cannot start a worker process: %s",
                                  strerror(errno));
                break;
            }
            if (pid == 0) {
                close(fds[0]);
                child(s, next, fds[1], r->nmetrics);
            }
            close(fds[1]);
            int i = 0;
            while (slots[i].pid) i++;
            slots[i] = (slot){.pid = pid, .fd = fds[0], .job = next};
            running++;
            next += stride;
        }
        if (!running) break;
        if (reap(slots, workers, &running, r, rec, recsz, &err_job, err_msg, sizeof err_msg)) {
            rc = ss_diag_fail(d, SS_ERR_INTERNAL, "waitpid failed: %s", strerror(errno));
            break;
        }
        if (progress && err_job == (size_t)-1) progress(ctx, ++done, total);
        if (err_job != (size_t)-1 || rc) next = njobs; /* start nothing new */
    }
    free(slots);
    free(rec);
    if (!rc && err_job != (size_t)-1) rc = ss_diag_fail(d, SS_ERR_INVALID, "%s", err_msg);
    return rc;
}

/* ================================================================== MPI */

bool ss_sweep_mpi_launched(void)
{
    /* also without MPI support: ss_sweep_mpi_init then refuses, rather than K copies of
     * the whole sweep racing to write one database */
    return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMIX_RANK") || getenv("PMI_RANK");
}

#ifdef SS_HAVE_MPI
ss_rc ss_sweep_mpi_init(int *rank, int *ranks, ss_diag *d)
{
    if (MPI_Init(NULL, NULL) != MPI_SUCCESS)
        return ss_diag_fail(d, SS_ERR_INTERNAL, "MPI_Init failed");
    MPI_Comm_rank(MPI_COMM_WORLD, rank);
    MPI_Comm_size(MPI_COMM_WORLD, ranks);
    return SS_OK;
}

ss_rc ss_sweep_run_mpi(const ss_study *s, ss_sweep_results *r, int rank, int ranks,
                       ss_sweep_progress_fn progress, void *ctx, ss_diag *d)
{
    size_t K = (size_t)ranks, me = (size_t)rank;
    ss_diag mine;
    ss_diag_clear(&mine);
    /* Static round-robin: rank k runs jobs j = k (mod K). Any assignment gives the same
     * database, because results are keyed by job index. */
    ss_rc rc = ss_sweep_run(s, 1, K, me, r, me == 0 ? progress : NULL, ctx, &mine);
    job_rec status = {.rc = rc};
    if (rc) ss_diag_format(&mine, status.msg, sizeof status.msg);
    size_t njobs = r->npoints * (size_t)r->reps, M = r->nmetrics;
    size_t maxj = (njobs + K - 1) / K;
    double *buf = malloc((maxj ? maxj : 1) * M * sizeof *buf);
    uint64_t *seeds = malloc((maxj ? maxj : 1) * sizeof *seeds);
    int nomem = !buf || !seeds;
    if (nomem && !status.rc) {
        status.rc = SS_ERR_NOMEM;
        snprintf(status.msg, sizeof status.msg, "rank %zu: out of memory", me);
    }
    if (me != 0) {
        /* always the same three messages, whatever failed: rank 0 never waits forever */
        size_t n = 0;
        for (size_t j = me; j < njobs && !nomem; j += K, n++) {
            memcpy(buf + n * M, &r->v[j * M], M * sizeof *buf);
            seeds[n] = r->seed[j / (size_t)r->reps];
        }
        size_t want = me < njobs ? (njobs - me + K - 1) / K : 0;
        MPI_Send(&status, (int)sizeof status, MPI_BYTE, 0, 1, MPI_COMM_WORLD);
        MPI_Send(nomem ? NULL : buf, nomem ? 0 : (int)(want * M), MPI_DOUBLE, 0, 2,
                 MPI_COMM_WORLD);
        MPI_Send(nomem ? NULL : seeds, nomem ? 0 : (int)want, MPI_UINT64_T, 0, 3,
                 MPI_COMM_WORLD);
        if (status.rc) *d = mine;
        rc = (ss_rc)status.rc;
    } else {
        if (status.rc) rc = ss_diag_fail(d, (ss_rc)status.rc, "%s", status.msg);
        for (size_t k = 1; k < K; k++) {
            job_rec st;
            MPI_Recv(&st, (int)sizeof st, MPI_BYTE, (int)k, 1, MPI_COMM_WORLD,
                     MPI_STATUS_IGNORE);
            size_t n = k < njobs ? (njobs - k + K - 1) / K : 0;
            MPI_Status ms;
            int got_v = 0, got_s = 0;
            /* a failed or short rank sends fewer values: receive what comes */
            MPI_Recv(nomem ? NULL : buf, nomem ? 0 : (int)(maxj * M), MPI_DOUBLE, (int)k, 2,
                     MPI_COMM_WORLD, &ms);
            MPI_Get_count(&ms, MPI_DOUBLE, &got_v);
            MPI_Recv(nomem ? NULL : seeds, nomem ? 0 : (int)maxj, MPI_UINT64_T, (int)k, 3,
                     MPI_COMM_WORLD, &ms);
            MPI_Get_count(&ms, MPI_UINT64_T, &got_s);
            if (st.rc && !rc) rc = ss_diag_fail(d, (ss_rc)st.rc, "rank %zu: %s", k, st.msg);
            if (st.rc || rc || (size_t)got_v != n * M || (size_t)got_s != n) {
                if (!rc) rc = ss_diag_fail(d, SS_ERR_INTERNAL, "rank %zu sent %d values, "
                                           "expected %zu", k, got_v, n * M);
                continue;
            }
            size_t i = 0;
            for (size_t j = k; j < njobs; j += K, i++) store(r, j, buf + i * M, seeds[i]);
        }
    }
    free(buf);
    free(seeds);
    return rc;
}

void ss_sweep_mpi_finish(void) { MPI_Finalize(); }
#else
ss_rc ss_sweep_mpi_init(int *rank, int *ranks, ss_diag *d)
{
    *rank = 0;
    *ranks = 1;
    return ss_diag_fail(d, SS_ERR_UNSUPPORTED, "started by mpirun, but this servesim was "
                                               "built without MPI (install libopenmpi-dev and "
                                               "configure with -DSS_MPI=ON)");
}

ss_rc ss_sweep_run_mpi(const ss_study *s, ss_sweep_results *r, int rank, int ranks,
                       ss_sweep_progress_fn progress, void *ctx, ss_diag *d)
{
    (void)s, (void)r, (void)rank, (void)ranks, (void)progress, (void)ctx;
    return ss_diag_fail(d, SS_ERR_UNSUPPORTED, "this servesim was built without MPI");
}

void ss_sweep_mpi_finish(void) {}
#endif

/* MLPerf LoadGen rules and verdict; see mlperf.h and docs/mlperf.md for the sources:
 * mlcommons/inference loadgen/mlperf.conf (latency limits, min_duration, Offline
 * min_query_count, MultiStream samples_per_query and min_query_count), loadgen/test_settings.h
 * (min_query_count default 100, used by Server and SingleStream) and loadgen/results.cc
 * (percentile rule, which duration each scenario checks, the summary lines). */
#include "workloads/mlperf.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *const ss_mlperf_scenario_names[] = {
#define SS_MLPERF_NAME(e, name) name,
    SS_MLPERF_SCENARIO_LIST(SS_MLPERF_NAME)
#undef SS_MLPERF_NAME
    NULL};

const double ss_mlperf_pcts[SS_MLPERF_NPCT] = {0.50, 0.90, 0.95, 0.97, 0.99, 0.999};

/* Per benchmark: Server and Interactive P99 limits (ms; 0 = that benchmark has no
 * interactive variant) and the Offline minimum sample count (= the performance sample count).
 * mlperf.conf @ 001712e9 (../shared/reference/published-results.md §A1). */
typedef struct bench_row {
    const char *name;
    int ttft_ms, tpot_ms, i_ttft_ms, i_tpot_ms;
    int64_t offline_min_samples;
} bench_row;

static const bench_row benches[] = {
    {"llama2-70b", 2000, 200, 450, 40, 24576},
    {"llama3_1-8b", 2000, 100, 500, 30, 13368},
    {"llama3_1-405b", 6000, 175, 4500, 80, 8313},
    {"mixtral-8x7b", 2000, 200, 0, 0, 15000},
};
#define NBENCH (sizeof benches / sizeof benches[0])

const char *ss_mlperf_benchmark_names(void)
{
    return "llama2-70b, llama3_1-8b, llama3_1-405b, mixtral-8x7b";
}

bool ss_mlperf_builtin(const char *benchmark, int scenario, ss_mlperf_rules *out)
{
    const bench_row *b = NULL;
    for (size_t i = 0; i < NBENCH; i++)
        if (strcmp(benches[i].name, benchmark) == 0) b = &benches[i];
    if (!b || scenario < 0 || scenario >= SS_MLPERF_SCENARIO_COUNT) return false;
    if (scenario == SS_MLPERF_INTERACTIVE && !b->i_ttft_ms) return false;
    ss_mlperf_rules r;
    memset(&r, 0, sizeof r);
    r.scenario = scenario;
    snprintf(r.benchmark, sizeof r.benchmark, "%s", b->name);
    snprintf(r.sut_name, sizeof r.sut_name, "servesim");
    r.samples_per_query = 1;
    r.min_duration = 600 * SS_NS_PER_S; /* *.<scenario>.min_duration = 600000 ms */
    r.min_query_count = 100;            /* test_settings.h default */
    r.percentile = 0.99;
    switch ((ss_mlperf_scenario)scenario) {
    case SS_MLPERF_SERVER:
        r.ttft_limit = (ss_time_ns)b->ttft_ms * 1000000;
        r.tpot_limit = (ss_time_ns)b->tpot_ms * 1000000;
        break;
    case SS_MLPERF_INTERACTIVE:
        r.ttft_limit = (ss_time_ns)b->i_ttft_ms * 1000000;
        r.tpot_limit = (ss_time_ns)b->i_tpot_ms * 1000000;
        break;
    case SS_MLPERF_OFFLINE:
        r.percentile = 0.90;
        r.min_query_count = b->offline_min_samples;
        break;
    case SS_MLPERF_SINGLESTREAM:
        r.percentile = 0.90;
        break;
    case SS_MLPERF_MULTISTREAM:
        r.samples_per_query = 8;
        r.min_query_count = 662;
        break;
    case SS_MLPERF_SCENARIO_COUNT: return false;
    }
    *out = r;
    return true;
}

/* ================================================================== key table */

#define END_ROW {NULL, 0, 0, 0, NULL, 0, 0, 0, NULL, NULL, NULL}
#define M(f) offsetof(ss_mlperf_cfg, f)
const ss_key ss_mlperf_keys[] = {
    {"scenario", SS_KEY_ENUM, M(scenario), 0, NULL, 0, 0, 0, NULL,
     "LoadGen scenario; Interactive is a Server run under the *-interactive benchmark's "
     "limits.", ss_mlperf_scenario_names},
    {"benchmark", SS_KEY_STRING, M(benchmark), 32, "llama2-70b", 0, 0, 0, NULL,
     "Benchmark whose rules apply (loadgen name): llama2-70b, llama3_1-8b, llama3_1-405b, "
     "mixtral-8x7b.", NULL},
    {"sut_name", SS_KEY_STRING, M(sut_name), 64, "servesim", 0, 0, 0, NULL,
     "Name printed as `SUT name` in the log summary.", NULL},
    {"target_qps", SS_KEY_DOUBLE, M(target_qps), 0, "", 0, 1e9, SS_KEY_MIN_EXCL, "queries/s",
     "Server/Interactive: Poisson arrival rate (required). Offline: expected qps, which sizes "
     "the run to max(min_query_count, 1.1 x min_duration x target_qps) samples.", NULL},
    {"samples_per_query", SS_KEY_INT64, M(samples_per_query), 0, "", 1, 1e6, 0, "samples",
     "MultiStream group size (LoadGen default 8).", NULL},
    {"ttft_latency", SS_KEY_DURATION, M(ttft_latency), 0, "", 0, 1e6, SS_KEY_MIN_EXCL, "s",
     "Override the benchmark's P99 TTFT limit (Server/Interactive).", NULL},
    {"tpot_latency", SS_KEY_DURATION, M(tpot_latency), 0, "", 0, 1e6, SS_KEY_MIN_EXCL, "s",
     "Override the benchmark's P99 TPOT limit (Server/Interactive).", NULL},
    {"min_duration", SS_KEY_DURATION, M(min_duration), 0, "", 0, 1e7, 0, "s",
     "Override min_duration (LoadGen: 600 s in every scenario).", NULL},
    {"min_query_count", SS_KEY_INT64, M(min_query_count), 0, "", 1, 1e12, 0, "queries",
     "Override min_query_count (Server/SingleStream 100, MultiStream 662, Offline the "
     "benchmark's sample count).", NULL},
    END_ROW};
#undef M

void ss_mlperf_cfg_init(ss_mlperf_cfg *c)
{
    memset(c, 0, sizeof *c);
    c->target_qps = -1;
    c->samples_per_query = -1;
    c->ttft_latency = c->tpot_latency = c->min_duration = -1;
    c->min_query_count = -1;
}

ss_rc ss_mlperf_resolve(const ss_mlperf_cfg *c, ss_mlperf_rules *out, const char **key,
                        char *why, size_t why_n)
{
    if (!ss_mlperf_builtin(c->benchmark, c->scenario, out)) {
        *key = "benchmark";
        bool known = ss_mlperf_builtin(c->benchmark, SS_MLPERF_SERVER, out);
        if (known)
            snprintf(why, why_n, "benchmark '%s' has no %s variant", c->benchmark,
                     ss_mlperf_scenario_names[c->scenario]);
        else
            snprintf(why, why_n, "unknown benchmark '%s' (valid: %s)", c->benchmark,
                     ss_mlperf_benchmark_names());
        return SS_ERR_INVALID;
    }
    snprintf(out->sut_name, sizeof out->sut_name, "%s", c->sut_name);
    bool server = c->scenario == SS_MLPERF_SERVER || c->scenario == SS_MLPERF_INTERACTIVE;
    if (c->target_qps >= 0 && !server && c->scenario != SS_MLPERF_OFFLINE) {
        *key = "target_qps";
        snprintf(why, why_n, "the %s scenario issues its next query when the previous one "
                             "completes; target_qps applies to Server, Interactive and Offline",
                 ss_mlperf_scenario_names[c->scenario]);
        return SS_ERR_INVALID;
    }
    if (c->target_qps >= 0) out->target_qps = c->target_qps;
    else if (server) {
        *key = "target_qps";
        snprintf(why, why_n, "missing: the %s scenario needs target_qps (the Poisson rate)",
                 ss_mlperf_scenario_names[c->scenario]);
        return SS_ERR_INVALID;
    }
    if (c->samples_per_query >= 0) {
        if (c->scenario != SS_MLPERF_MULTISTREAM) {
            *key = "samples_per_query";
            snprintf(why, why_n, "only the MultiStream scenario groups samples");
            return SS_ERR_INVALID;
        }
        out->samples_per_query = c->samples_per_query;
    }
    if (c->ttft_latency >= 0 || c->tpot_latency >= 0) {
        if (!server) {
            *key = c->ttft_latency >= 0 ? "ttft_latency" : "tpot_latency";
            snprintf(why, why_n, "latency limits apply only to the Server and Interactive "
                                 "scenarios");
            return SS_ERR_INVALID;
        }
        if (c->ttft_latency >= 0) out->ttft_limit = c->ttft_latency;
        if (c->tpot_latency >= 0) out->tpot_limit = c->tpot_latency;
    }
    if (c->min_duration >= 0) out->min_duration = c->min_duration;
    if (c->min_query_count >= 0) out->min_query_count = c->min_query_count;
    return SS_OK;
}

/* ================================================================== statistics */

double ss_mlperf_percentile(const double *sorted, size_t n, double p)
{
    size_t i = (size_t)((double)n * p);
    return sorted[i < n ? i : n - 1];
}

void ss_mlperf_dist_compute(const double *sorted, size_t n, double target, ss_mlperf_dist *out)
{
    memset(out, 0, sizeof *out);
    out->n = n;
    if (!n) return;
    double sum = 0;
    for (size_t i = 0; i < n; i++) sum += sorted[i];
    out->mean = sum / (double)n;
    out->min = sorted[0];
    out->max = sorted[n - 1];
    for (int k = 0; k < SS_MLPERF_NPCT; k++)
        out->pct[k] = ss_mlperf_percentile(sorted, n, ss_mlperf_pcts[k]);
    out->at_target = ss_mlperf_percentile(sorted, n, target);
}

/* ================================================================== verdict */

static void reason(ss_mlperf_verdict *v, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void reason(ss_mlperf_verdict *v, const char *fmt, ...)
{
    if (v->nreasons >= SS_MLPERF_MAX_REASONS) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->reasons[v->nreasons++], sizeof v->reasons[0], fmt, ap);
    va_end(ap);
}

void ss_mlperf_judge(const ss_mlperf_rules *r, const ss_mlperf_obs *o, ss_mlperf_verdict *v)
{
    memset(v, 0, sizeof *v);
    ss_mlperf_scenario sc = (ss_mlperf_scenario)r->scenario;
    bool server = sc == SS_MLPERF_SERVER || sc == SS_MLPERF_INTERACTIVE;
    double pct = r->percentile * 100;

    /* Rates (results.cc LogSummary): Server counts samples - 1 over the time the last one
     * completed; Offline all samples over the same time. */
    if (o->all_done_s > 0) {
        double n = server && o->samples > 0 ? (double)(o->samples - 1) : (double)o->samples;
        v->samples_per_s = n / o->all_done_s;
        v->tokens_per_s = (double)o->tokens / o->all_done_s;
    }

    /* Performance constraints: only Server-type scenarios have them. */
    v->perf_ok = true;
    if (server) {
        if (r->ttft_limit && o->ttft.n && o->ttft.at_target > ss_time_to_s(r->ttft_limit)) {
            v->perf_ok = false;
            reason(v, "P%g TTFT %.2f ms exceeds the limit of %.0f ms: reduce target_qps", pct,
                   o->ttft.at_target * 1e3, ss_time_to_ms(r->ttft_limit));
        }
        if (r->tpot_limit && o->tpot.n && o->tpot.at_target > ss_time_to_s(r->tpot_limit)) {
            v->perf_ok = false;
            reason(v, "P%g TPOT %.2f ms exceeds the limit of %.0f ms: reduce target_qps", pct,
                   o->tpot.at_target * 1e3, ss_time_to_ms(r->tpot_limit));
        }
    }

    /* Minimum duration: which time is checked depends on the scenario (MinDurationMet). */
    v->duration_s = sc == SS_MLPERF_OFFLINE ? o->all_done_s : o->final_issue_s;
    double min_s = ss_time_to_s(r->min_duration);
    v->min_duration_ok = v->duration_s >= min_s;
    if (!v->min_duration_ok)
        reason(v, "duration %.3f s (%s) is below min_duration %.0f s", v->duration_s,
               sc == SS_MLPERF_OFFLINE ? "last sample completed" : "last query issued", min_s);

    /* Minimum query and sample counts (MinQueriesMet && MinSamplesMet). Offline is one query
     * of min_query_count samples. */
    uint64_t min_q = (uint64_t)r->min_query_count;
    uint64_t min_samples = sc == SS_MLPERF_OFFLINE ? min_q : min_q * (uint64_t)r->samples_per_query;
    uint64_t queries = sc == SS_MLPERF_OFFLINE ? o->samples : o->queries;
    v->min_queries_ok = queries >= min_q && o->samples >= min_samples;
    if (!v->min_queries_ok) {
        if (sc == SS_MLPERF_OFFLINE)
            reason(v, "%llu samples completed, fewer than min_query_count %llu",
                   (unsigned long long)o->samples, (unsigned long long)min_q);
        else if (queries < min_q)
            reason(v, "%llu queries issued, fewer than min_query_count %llu",
                   (unsigned long long)queries, (unsigned long long)min_q);
        else
            reason(v, "%llu samples completed, fewer than min_query_count x samples_per_query "
                      "= %llu", (unsigned long long)o->samples, (unsigned long long)min_samples);
    }
    if (o->rejected)
        reason(v, "%llu samples were rejected by the server and never completed (LoadGen "
                  "needs every sample answered)", (unsigned long long)o->rejected);
    v->valid = v->perf_ok && v->min_duration_ok && v->min_queries_ok && !o->rejected &&
               o->samples > 0;
    if (!o->samples) reason(v, "no sample completed");
}

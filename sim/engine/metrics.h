/* Metrics of a run, defined once (docs/metrics.md) and computed here only.
 *
 * Clock: a request's clock starts when it arrives at the serving instance.
 *   queueing delay = first scheduled - arrival
 *   TTFT           = first token - arrival
 *   TPOT           = (last token - first token) / (output tokens - 1); undefined (excluded)
 *                    for one-token outputs
 *   E2E latency    = last token - arrival
 *   normalised     = E2E / output tokens
 *   ITL            = time between consecutive tokens of a request, over all tokens
 * Per-request metrics keep every value and report exact percentiles (GSL, sorted data,
 * linear interpolation between order statistics); ITL uses the log-linear histogram of
 * sim/core/hist.h (relative error <= 0.39%). */
#ifndef SS_ENGINE_METRICS_H
#define SS_ENGINE_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/core/hist.h"
#include "sim/core/request.h"
#include "sim/core/time.h"
#include "workloads/scenario.h"

typedef struct ss_stat {
    uint64_t n;
    double mean, p50, p90, p95, p99, max;
} ss_stat;

/* Growable array of doubles. */
typedef struct ss_dvec {
    double *v;
    size_t n, cap;
} ss_dvec;
/* Append; -1 on out of memory. */
int ss_dvec_push(ss_dvec *v, double x);

#define SS_METRIC_REQ_LIST(X)  \
    X(SS_M_QUEUE, "queue_s")   \
    X(SS_M_TTFT, "ttft_s")     \
    X(SS_M_TPOT, "tpot_s")     \
    X(SS_M_E2E, "e2e_s")       \
    X(SS_M_NORM, "normalized_latency_s_per_token")

typedef enum ss_metric_req {
#define SS_M_ENUM(e, name) e,
    SS_METRIC_REQ_LIST(SS_M_ENUM)
#undef SS_M_ENUM
    SS_M_REQ_COUNT
} ss_metric_req;

const char *ss_metric_req_name(ss_metric_req m);

/* Per request class: the same per-request metrics, and SLO attainment. A measured request
 * "meets the SLO" when it finished and every target of its class holds; a rejected request
 * misses it. */
typedef struct ss_class_metrics {
    uint64_t arrived, finished, rejected, excluded;
    uint64_t measured;            /* measured requests that left (finished or rejected) */
    uint64_t slo_met;
    uint64_t input_tokens, output_tokens, good_output_tokens;
    ss_slo slo;
    ss_dvec req[SS_M_REQ_COUNT];
} ss_class_metrics;

typedef struct ss_metrics {
    uint64_t arrived, finished, rejected, preemptions, iterations;
    uint64_t excluded;                    /* outside the measurement window */
    uint64_t input_tokens, output_tokens; /* of measured finished requests */
    ss_time_ns first_arrival, last_finish; /* all requests: the run's span */
    ss_time_ns meas_first_arrival, meas_last_finish; /* measured requests only */
    ss_dvec req[SS_M_REQ_COUNT];
    ss_hist itl;
    /* batch size (sequences per iteration) distribution: counts[b] */
    uint64_t *batch_counts;
    size_t batch_cap;
    double busy_ns;
    /* time-weighted KV utilisation */
    double kv_used_integral; /* block-ns */
    ss_time_ns kv_last_t;
    int64_t kv_total, kv_peak;
    ss_class_metrics *cls; /* ncls entries (request classes) */
    size_t ncls;
} ss_metrics;

typedef struct ss_class_summary {
    char name[32];
    uint64_t arrived, finished, rejected, excluded, measured;
    uint64_t input_tokens, output_tokens;
    double request_throughput, input_throughput, output_throughput; /* over the run's measured
                                                                       duration */
    ss_stat req[SS_M_REQ_COUNT];
    bool has_slo;
    ss_slo slo;
    uint64_t slo_met;
    double slo_attainment;        /* slo_met / measured (0 when none measured) */
    double goodput_rps;           /* slo_met / measured duration */
    double goodput_tokens_per_s;  /* output tokens of requests meeting the SLO / duration */
} ss_class_summary;

typedef struct ss_summary {
    uint64_t arrived, finished, rejected, preemptions, iterations;
    uint64_t excluded;          /* requests outside the measurement window (warm-up/cut-off) */
    uint64_t rows_skipped;      /* malformed trace / length-table rows skipped (lenient) */
    uint64_t input_tokens, output_tokens;
    double duration_s;          /* measured requests: first arrival -> last completion */
    double run_duration_s;      /* all requests: first arrival -> last completion */
    double request_throughput;  /* finished / duration, req/s */
    double input_throughput;    /* tok/s */
    double output_throughput;   /* tok/s */
    double total_throughput;    /* tok/s */
    double busy_fraction;       /* time the instance was running an iteration / run duration */
    ss_stat req[SS_M_REQ_COUNT];
    ss_stat itl_s;
    ss_stat batch_size;         /* sequences per iteration */
    double kv_util_mean;        /* time-weighted over the run duration, fraction of blocks */
    double kv_util_peak;
    int64_t kv_blocks_total;
    /* Request classes (always at least one) and SLO attainment over the classes that have
     * an SLO (has_slo false: none has). */
    size_t nclasses;
    ss_class_summary classes[SS_MAX_CLASSES];
    bool has_slo;
    uint64_t slo_measured, slo_met;
    double slo_attainment, goodput_rps, goodput_tokens_per_s;
    /* MLPerf mode: the rules, what the verdict looked at, and the verdict. */
    bool has_mlperf;
    ss_mlperf_rules mlperf_rules;
    ss_mlperf_obs mlperf_obs;
    ss_mlperf_verdict mlperf;
} ss_summary;

int ss_metrics_init(ss_metrics *m, size_t max_batch, int64_t kv_total);
void ss_metrics_free(ss_metrics *m);
/* Declare `n` request classes (<= SS_MAX_CLASSES) with their names and SLOs; r->cls indexes
 * them. Returns -1 on out of memory. */
int ss_metrics_classes(ss_metrics *m, size_t n, const ss_slo *slos);
/* A request finished: record its per-request metrics. Returns -1 on out of memory. */
int ss_metrics_finish(ss_metrics *m, const ss_req *r);
/* Whether a finished request met every target of `slo`. */
bool ss_slo_met(const ss_slo *slo, const ss_req *r);
/* Per-class bookkeeping of an arrival and of a rejection. */
void ss_metrics_class_arrival(ss_metrics *m, const ss_req *r);
void ss_metrics_class_reject(ss_metrics *m, const ss_req *r);
/* n inter-token gaps of `gap` ns each (n may be 0). */
static inline void ss_metrics_itl(ss_metrics *m, ss_time_ns gap, uint64_t n)
{
    ss_hist_add(&m->itl, (uint64_t)gap, n);
}
static inline void ss_metrics_batch(ss_metrics *m, size_t seqs, ss_time_ns dur)
{
    m->batch_counts[seqs < m->batch_cap ? seqs : m->batch_cap - 1]++;
    m->iterations++;
    m->busy_ns += (double)dur;
}
/* KV occupancy is piecewise constant: `used` blocks were held from the previous call until
 * `now`. Called before every change of occupancy. */
static inline void ss_metrics_kv(ss_metrics *m, ss_time_ns now, int64_t used)
{
    m->kv_used_integral += (double)used * (double)(now - m->kv_last_t);
    m->kv_last_t = now;
}
/* Fills everything but the class names and the MLPerf part. */
void ss_metrics_summarize(ss_metrics *m, ss_summary *out);
/* Exact stats of an array (sorts it in place). */
void ss_stat_compute(ss_dvec *v, ss_stat *out);

#endif

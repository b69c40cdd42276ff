/* Service-level objectives: what "the SLO holds" means for capacity search and the
 * configuration search.
 *
 * An SLO is a conjunction of terms. A term bounds one statistic of one run:
 *   METRIC_STAT <= limit   METRIC: ttft, tpot, e2e, queue, itl; STAT: mean, p50, p90, p95,
 *                          p99, max (the summary's statistics; docs/metrics.md)
 *   attainment  >= limit   fraction of measured requests that met every per-request target
 *                          (rejected requests miss)
 * Per-request targets (`ttft`, `tpot`, `e2e`, without a statistic) define attainment and
 * goodput; when none is given they default to the limits of the percentile terms
 * (ttft_p99: 2s gives the per-request target ttft <= 2 s).
 *
 * The same key table reads the `slo:` section of a study file (durations take units:
 * ttft_p99: 2s) and the CLI's --slo ttft_p99=2s,tpot_p99=100ms. */
#ifndef SS_STUDY_SLO_H
#define SS_STUDY_SLO_H

#include "sim/core/cfg.h"
#include "sim/core/diag.h"
#include "sim/core/request.h"
#include "sim/engine/metrics.h"

#define SS_SLO_MAX 16

typedef enum ss_slo_metric {
    SS_SLO_TTFT,
    SS_SLO_TPOT,
    SS_SLO_E2E,
    SS_SLO_QUEUE,
    SS_SLO_ITL,
    SS_SLO_ATTAINMENT,
    SS_SLO_METRIC_COUNT
} ss_slo_metric;

typedef enum ss_slo_stat { SS_SLO_MEAN, SS_SLO_P50, SS_SLO_P90, SS_SLO_P95, SS_SLO_P99,
                           SS_SLO_MAX_STAT, SS_SLO_STAT_COUNT } ss_slo_stat;

typedef struct ss_slo_term {
    char name[24];  /* "ttft_p99", "attainment" */
    int metric;     /* ss_slo_metric */
    int stat;       /* ss_slo_stat (unused for attainment) */
    double limit;   /* seconds, or a fraction for attainment */
    int at_least;   /* 1: value >= limit holds (attainment); 0: value <= limit */
} ss_slo_term;

typedef struct ss_slo_spec {
    int nterms;
    ss_slo_term term[SS_SLO_MAX];
    /* per-request targets in seconds (0 = none): attainment and goodput */
    double target_ttft, target_tpot, target_e2e;
} ss_slo_spec;

/* Read a `slo:` mapping. */
ss_rc ss_slo_parse(ss_doc *doc, yaml_node_t *map, const char *path, ss_slo_spec *out,
                   ss_diag *d);
/* Read "key=value,..." (the CLI's --slo); errors name the option and the key. */
ss_rc ss_slo_parse_spec(const char *spec, ss_slo_spec *out, ss_diag *d);
/* Write the accepted keys as Markdown rows (docs). */
void ss_slo_doc_markdown(FILE *out);
/* "ttft_p99 <= 2 s, tpot_p99 <= 100 ms" */
void ss_slo_describe(const ss_slo_spec *slo, char *buf, size_t n);

/* Does request r (measured, finished or rejected) meet every per-request target? */
int ss_slo_request_ok(const ss_slo_spec *slo, const ss_req *r);
/* Value of term t for a run: a summary statistic, or `attainment` (computed by the caller
 * with ss_slo_request_ok over the measured requests). */
double ss_slo_value(const ss_slo_term *t, const ss_summary *s, double attainment);
/* How far a value is from its limit, scaled so that > 1 violates and the largest score
 * names the binding term: value/limit for upper bounds, limit/value for lower bounds. */
double ss_slo_score(const ss_slo_term *t, double value);

#endif

/* MLPerf Inference LoadGen scenarios (`workload.mlperf`): the rule set of a benchmark, the
 * arrivals each scenario implies, and the VALID/INVALID verdict over a run's results.
 *
 * What is reproduced (docs/mlperf.md has the sources):
 *   Server / Interactive  Poisson arrivals at target_qps; P99 TTFT and P99 TPOT must stay
 *                         within the benchmark's limits (Interactive = the *-interactive
 *                         benchmark's tighter limits); queries keep being issued until both
 *                         min_duration and min_query_count are reached.
 *   Offline               every sample at t = 0; reports samples/s and tokens/s.
 *   SingleStream          one query in flight at a time; reports the P90 latency.
 *   MultiStream           groups of samples_per_query issued together, the next group when
 *                         the previous one has completed; P99 per-query latency.
 * The verdict (ss_mlperf_judge) is a pure function of the rules and a few observed figures,
 * so that each rule can be tested on hand-made numbers. LoadGen's early-stopping criterion is
 * not reproduced (docs/mlperf.md). */
#ifndef SS_WORKLOADS_MLPERF_H
#define SS_WORKLOADS_MLPERF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/core/cfg.h"
#include "sim/core/time.h"

#define SS_MLPERF_SCENARIO_LIST(X)              \
    X(SS_MLPERF_OFFLINE, "Offline")             \
    X(SS_MLPERF_SERVER, "Server")               \
    X(SS_MLPERF_SINGLESTREAM, "SingleStream")   \
    X(SS_MLPERF_MULTISTREAM, "MultiStream")     \
    X(SS_MLPERF_INTERACTIVE, "Interactive")

typedef enum ss_mlperf_scenario {
#define SS_MLPERF_ENUM(e, name) e,
    SS_MLPERF_SCENARIO_LIST(SS_MLPERF_ENUM)
#undef SS_MLPERF_ENUM
    SS_MLPERF_SCENARIO_COUNT
} ss_mlperf_scenario;

/* Names in scenario order, NULL-terminated (for the key table). */
extern const char *const ss_mlperf_scenario_names[];

/* The rules one run is judged by: the benchmark's built-in values, each overridable. */
typedef struct ss_mlperf_rules {
    int scenario;             /* ss_mlperf_scenario */
    char benchmark[32];       /* loadgen name: llama2-70b, llama3_1-8b, llama3_1-405b, custom */
    char sut_name[64];
    double target_qps;        /* Server/Interactive: arrival rate; Offline: expected qps (0 = none) */
    int64_t samples_per_query; /* MultiStream group size (1 otherwise) */
    double percentile;        /* latency percentile the limits apply to (0.99, SingleStream 0.90) */
    ss_time_ns ttft_limit;    /* 0 = no limit */
    ss_time_ns tpot_limit;    /* 0 = no limit */
    ss_time_ns min_duration;
    int64_t min_query_count;  /* queries (MultiStream: groups; Offline: samples) */
} ss_mlperf_rules;

/* Built-in rules of `benchmark` for `scenario` (mlperf.conf, test_settings.h defaults).
 * Returns false if the benchmark is unknown or has no such scenario (then *out is untouched). */
bool ss_mlperf_builtin(const char *benchmark, int scenario, ss_mlperf_rules *out);
/* "llama2-70b, llama3_1-8b, ..." for messages. */
const char *ss_mlperf_benchmark_names(void);

/* The key table of `workload.mlperf` and the check that resolves built-ins and overrides.
 * The caller applies the table to a zero-initialised ss_mlperf_cfg, then calls
 * ss_mlperf_resolve, which names the offending key in *key on error. */
typedef struct ss_mlperf_cfg {
    int scenario;
    char benchmark[32];
    char sut_name[64];
    double target_qps;        /* < 0: not given */
    int64_t samples_per_query; /* < 0: not given */
    ss_time_ns ttft_latency, tpot_latency, min_duration; /* < 0: not given */
    int64_t min_query_count;  /* < 0: not given */
} ss_mlperf_cfg;
extern const ss_key ss_mlperf_keys[];
void ss_mlperf_cfg_init(ss_mlperf_cfg *c); /* every optional key "not given" */
ss_rc ss_mlperf_resolve(const ss_mlperf_cfg *c, ss_mlperf_rules *out, const char **key,
                        char *why, size_t why_n);

/* Summary statistics of one latency with LoadGen's percentile rule: the order statistic at
 * index floor(n * p) of the sorted values (results.cc ProcessLatencies). */
#define SS_MLPERF_NPCT 6
extern const double ss_mlperf_pcts[SS_MLPERF_NPCT]; /* 0.5, 0.9, 0.95, 0.97, 0.99, 0.999 */
typedef struct ss_mlperf_dist {
    uint64_t n;
    double min, max, mean;        /* seconds */
    double pct[SS_MLPERF_NPCT];
    double at_target;             /* at the rules' percentile */
} ss_mlperf_dist;
/* From `n` values sorted ascending; `target` is the rules' percentile. */
void ss_mlperf_dist_compute(const double *sorted, size_t n, double target, ss_mlperf_dist *out);
/* LoadGen's percentile: sorted[floor(n * p)] (n > 0, 0 <= p < 1). */
double ss_mlperf_percentile(const double *sorted, size_t n, double p);

/* What the verdict looks at. Times in seconds from the start of the run. */
typedef struct ss_mlperf_obs {
    uint64_t queries;         /* queries issued (MultiStream: groups; else samples) */
    uint64_t samples;         /* samples completed */
    uint64_t rejected;        /* samples the server refused (never completed) */
    uint64_t tokens;          /* output tokens of the completed samples */
    double final_issue_s;     /* last query issued (Server: scheduled) */
    double all_done_s;        /* last sample completed */
    ss_mlperf_dist latency, ttft, tpot;
} ss_mlperf_obs;

#define SS_MLPERF_MAX_REASONS 6
typedef struct ss_mlperf_verdict {
    bool valid;
    bool perf_ok;          /* latency constraints (Server/Interactive) */
    bool min_duration_ok;
    bool min_queries_ok;
    double duration_s;     /* the duration checked against min_duration */
    double samples_per_s;  /* the scenario's headline rate */
    double tokens_per_s;
    int nreasons;
    char reasons[SS_MLPERF_MAX_REASONS][160]; /* every failing rule, in a fixed order */
} ss_mlperf_verdict;

/* Judge a run: VALID when every rule holds; each failing rule adds a reason. Pure. */
void ss_mlperf_judge(const ss_mlperf_rules *r, const ss_mlperf_obs *o, ss_mlperf_verdict *v);

#endif

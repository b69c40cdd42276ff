/* A scenario: everything one simulation run needs, read from one YAML file (or the
 * built-in default), checked as a whole before anything runs.
 *
 * The schema is cluster-shaped from day one: `cluster.pools` is a list of instance pools,
 * each with hardware, instance count and parallelism {tp, pp, ep, dp}. Today exactly one pool
 * with one instance and pp = ep = dp = 1 is simulated; anything else is refused as "not yet
 * supported" at the line that asks for it, so files written now keep working when
 * multi-instance clusters and prefill/decode pools arrive. */
#ifndef SS_WORKLOADS_SCENARIO_H
#define SS_WORKLOADS_SCENARIO_H

#include <stdbool.h>
#include <stdint.h>

#include "hwprofiles/cost.h"
#include "hwprofiles/hw.h"
#include "models/model.h"
#include "policies/kv.h"
#include "policies/sched.h"
#include "sim/core/cfg.h"
#include "sim/core/time.h"
#include "workloads/arrival.h"
#include "workloads/lengths.h"
#include "workloads/mlperf.h"

#define SS_SCENARIO_SCHEMA 1
#define SS_MAX_POOLS 8

typedef enum ss_pool_role { SS_ROLE_MIXED, SS_ROLE_PREFILL, SS_ROLE_DECODE } ss_pool_role;

typedef struct ss_pool {
    char name[32];
    char hardware[128];
    int count;
    int role; /* ss_pool_role */
    ss_parallel par;
    ss_hw hw; /* loaded profile */
} ss_pool;

/* One request of an explicit list (`workload.requests`): small hand-written traces for
 * teaching and for golden tests of scheduling policies. */
typedef struct ss_explicit_req {
    ss_time_ns at;
    int64_t prompt_tokens;
    int64_t output_tokens;
    int priority;
} ss_explicit_req;

/* Observed (prompt, output) pairs sampled jointly, keeping the pairing (`workload.lengths`). */
typedef struct ss_len_table {
    uint32_t *prompt, *output; /* owned */
    size_t n;
    uint64_t skipped; /* malformed rows skipped (lenient) */
} ss_len_table;

/* Per-request service-level objective: a request meets it when each given target holds for
 * it (TTFT <= ttft, TPOT <= tpot, E2E <= e2e); 0 = no such target. TPOT is undefined for a
 * one-token output, which then meets any tpot target. */
typedef struct ss_slo {
    ss_time_ns ttft, tpot, e2e;
} ss_slo;
static inline bool ss_slo_any(const ss_slo *s) { return s->ttft || s->tpot || s->e2e; }

#define SS_MAX_CLASSES 16

/* One request class (`workload.classes[i]`): its own arrival process, lengths, priority and
 * SLO, and its own random streams "<name>/arrivals", "<name>/prompt_tokens",
 * "<name>/output_tokens", so that adding a class never changes another's draws. */
typedef struct ss_wclass {
    char name[32];
    const ss_arrival_ops *arrival;
    void *arrival_cfg;          /* arrival->cfg_size bytes (owned by the workload) */
    int64_t num_requests;       /* 0 = unlimited */
    ss_time_ns duration;        /* 0 = unlimited: no arrival after this time */
    ss_len_dist prompt, output;
    ss_len_table length_table;  /* used instead of prompt/output when n > 0 (owned) */
    int priority;               /* given to every request of the class */
    ss_slo slo;                 /* its own, else workload.slo */
    /* Issue until at least min_requests were issued and one arrived at or after min_until,
     * stopping only after a multiple of `multiple` requests (MLPerf; 0 = unused). */
    int64_t min_requests;
    ss_time_ns min_until;
    int64_t multiple;
} ss_wclass;

typedef struct ss_workload {
    /* Either an explicit list of requests ... */
    ss_explicit_req *requests; /* owned; NULL when the workload is generated */
    size_t nrequests;
    /* ... or an arrival process and length distributions. */
    const ss_arrival_ops *arrival;
    void *arrival_cfg;          /* owned; arrival->cfg_size bytes */
    int64_t num_requests;       /* 0 = unlimited (then duration must be set) */
    ss_time_ns duration;        /* 0 = unlimited: no arrival after this time */
    ss_time_ns warmup;          /* requests arriving before this are not measured */
    ss_time_ns cutoff;          /* requests arriving after this are not measured (0 = none) */
    ss_len_dist prompt, output;
    ss_len_table length_table; /* used instead of prompt/output when n > 0 */
    int priority;              /* of every request (the single-source form) */
    ss_slo slo;                /* workload.slo: the single source and classes without one */
    /* ... or a list of request classes (`workload.classes`); the fields above are then
     * unused. nclasses = 0 means the single-source form, which is one class "default". */
    ss_wclass *classes;        /* owned */
    size_t nclasses;
    /* MLPerf LoadGen mode (`workload.mlperf`): the arrival process above was configured from
     * these rules, and the run ends with a verdict. */
    bool mlperf_on;
    ss_mlperf_rules mlperf;
} ss_workload;

/* Number of classes (1 for the single-source form). */
size_t ss_workload_nclasses(const ss_workload *w);
/* Class i as a view (its pointers stay owned by the workload); for the single-source form
 * class 0 is named "default" and made of the workload's own fields. */
void ss_workload_class(const ss_workload *w, size_t i, ss_wclass *out);

typedef struct ss_output_cfg {
    bool iteration_records;     /* write iteration rows to results.db */
    int64_t iteration_sample;   /* keep one iteration record in N (1 = all) */
    ss_time_ns kv_sample_interval; /* KV-utilisation timeline period; 0 = off */
    bool request_records;       /* write per-request rows */
} ss_output_cfg;

typedef struct ss_scenario {
    ss_doc *doc;                /* owned: its text goes to results.db */
    char overrides[2048];       /* the applied KEY=VALUE overrides, one per line */
    int schema_version;
    char name[64];
    char description[256];
    uint64_t seed;
    char model_name[128];
    ss_model model;
    int npools;
    ss_pool pools[SS_MAX_POOLS];
    ss_sched_config sched;      /* the `replica:` section, defaults resolved */
    const ss_sched_ops *sched_ops;
    const ss_cost_ops *cost_ops;
    const struct ss_calib *calib; /* the calibration of pool 0's GPU when cost_ops is
                                   "calibrated" (loaded once, shared by every replica and
                                   output; NULL when the GPU has none): calib_owned, or
                                   borrowed from the load's ss_calib_cache */
    struct ss_calib *calib_owned;
    ss_dtype weight_dtype, kv_dtype;
    ss_kv_capacity kv;          /* capacity of pool 0's instances */
    ss_workload workload;
    ss_output_cfg output;
} ss_scenario;

/* "poisson", "offline", ... or "explicit" for a `requests` list, "per-class" for several
 * classes. */
const char *ss_workload_arrival_name(const ss_workload *w);

/* KEY=VALUE overrides applied to the file before it is checked (`--set`, sweeps). */
typedef struct ss_overrides {
    const char *const *items; /* "replica.scheduler=sarathi", ... */
    size_t n;
} ss_overrides;

/* Load and check a scenario file; `ov` may be NULL. */
ss_rc ss_scenario_load_file(const char *path, const ss_overrides *ov, ss_scenario **out,
                            ss_diag *d);
/* Load from text (`name` is used in messages); `ov` may be NULL. */
ss_rc ss_scenario_load_string(const char *name, const char *text, const ss_overrides *ov,
                              ss_scenario **out, ss_diag *d);
/* The same, taking the calibration from `cache` (NULL: load it, as above); the scenario
 * then borrows it, so the cache must outlive the scenario. */
ss_rc ss_scenario_load_string_cached(const char *name, const char *text, const ss_overrides *ov,
                                     ss_calib_cache *cache, ss_scenario **out, ss_diag *d);
/* Built-in scenarios (the YAML files in workloads/scenarios/): "default" (Llama-3.1-8B on one H100,
 * Poisson traffic) and the benchmark scenarios. */
extern const ss_embedded_file ss_scenario_zoo[];
/* The built-in default scenario's text. */
const char *ss_scenario_default_text(void);
#define SS_SCENARIO_DEFAULT_NAME "<built-in default scenario>"
void ss_scenario_free(ss_scenario *sc);
/* The cost-model setup of pool 0's instances (model, GPU, parallelism, dtypes and the loaded
 * calibration): what every replica's cost model and every calibration-status line use. */
void ss_scenario_cost_setup(const ss_scenario *sc, ss_cost_setup *out);

/* Write the reference of every scenario key as Markdown (docs/scenario-reference.md). */
void ss_scenario_doc_markdown(FILE *out);

#endif

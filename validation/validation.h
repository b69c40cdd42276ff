/* End-to-end validation: replay a measured serving run through the simulator and compare.
 *
 * This is the public contract of validation/ (library ss_validation, above sim/output). A
 * run directory holds what a real engine recorded (the format of ../shared/data/validation,
 * docs/validation.md):
 *   meta.json       engine arguments, resolved configuration, KV capacity, GPU, start time
 *   requests.jsonl  one object per request: lengths and engine timestamps (seconds)
 *   timeseries.csv  once per tick: running, waiting, KV usage
 * The pipeline is: read the directory (every malformed field is an error naming file, line
 * and key) -> map it to a scenario text (model, GPU, parallelism, engine limits, the requests
 * as an explicit list; what servesim cannot model is refused or stated as a caveat) -> load
 * that text through the normal scenario loader and run it with the collector's observer ->
 * compare measured and simulated TTFT, TPOT, E2E and the timeline.
 *
 * Metric definitions are the data's own (time starts at the engine's queued_ts):
 *   TTFT = first_token_ts - queued_ts
 *   TPOT = (last_token_ts - first_token_ts) / (output_toks - 1), for output_toks > 1
 *   E2E  = last_token_ts - queued_ts
 * and the simulated side is computed the same way from the simulated request records
 * (arrival, first token, last token). Percentiles: both sides use the same method, linear
 * interpolation between the order statistics of the sorted values (GSL's
 * gsl_stats_quantile_from_sorted_data, as servesim's summary). */
#ifndef SS_VALIDATION_H
#define SS_VALIDATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sim/core/diag.h"
#include "sim/engine/sim.h"

/* ------------------------------------------------------------------ the measured run */

/* One request of requests.jsonl (engine timestamps in seconds of its monotonic clock;
 * arrival_time is the client's wall clock, used only to align the timeseries). */
typedef struct ss_val_request {
    char id[64];
    int line; /* in requests.jsonl */
    int64_t input_toks, output_toks;
    double arrival_time, queued_ts, scheduled_ts, first_token_ts, last_token_ts;
} ss_val_request;

/* One row of timeseries.csv. */
typedef struct ss_val_tick {
    int line;
    double t; /* seconds since meta.json's started_at */
    double prompt_throughput, gen_throughput; /* tokens/s */
    int64_t running, waiting;
    double kv_cache_pct; /* percent of the KV cache in use */
} ss_val_tick;

/* Where in meta.json a value was found (line 0 and key NULL: absent, the default applies),
 * so that a refusal can point at it. */
typedef struct ss_val_where {
    int line;
    const char *key; /* key path, e.g. "engine_kwargs.tensor_parallel_size" (static) */
} ss_val_where;

/* The engine settings read from meta.json. */
typedef struct ss_val_engine {
    char model[128];
    char engine_version[32];
    char device_name[128];
    int device_count;
    int tp, pp, dp;
    bool expert_parallel;
    int max_num_seqs;
    int64_t max_num_batched_tokens, max_model_len;
    char dtype[32], kv_cache_dtype[32];
    int block_size;
    int64_t num_gpu_blocks;
    double gpu_memory_utilization;
    bool prefix_caching;
    bool have_started;
    double started_unix; /* started_at as Unix seconds */
    /* from resolved_config when present */
    char policy[32];      /* scheduler_config.policy ("fcfs" when absent) */
    int async_scheduling; /* -1 unknown, else 0/1 */
    int chunked_prefill;  /* -1 unknown */
    int64_t long_prefill_token_threshold;
    int enforce_eager;    /* -1 unknown */
    char cudagraph_mode[64]; /* as written, "" when absent */
    bool speculative, lora, quantized;
    /* engine_kwargs keys servesim does not model, "k=v" joined by ", " */
    char unmodelled[1024];
    ss_val_where at_model, at_device, at_tp, at_pp, at_dp, at_ep, at_policy, at_chunked,
        at_spec, at_lora, at_quant, at_dtype, at_kv_dtype;
} ss_val_engine;

typedef struct ss_val_run {
    char dir[1024];
    char meta_path[1100], requests_path[1100], timeseries_path[1100];
    ss_val_engine eng;
    ss_val_request *req; /* owned; sorted by queued_ts (then file order) */
    size_t nreq;
    ss_val_tick *tick; /* owned; increasing t */
    size_t ntick;
    double q0; /* min queued_ts: simulated time 0 */
    /* Simulated time of timeseries t: t + tick_offset_s. Derived from started_at and the
     * wall/monotonic clock offset (max of arrival_time - queued_ts, i.e. assuming the
     * fastest request reached the engine instantly); 0 when started_at is absent. */
    double tick_offset_s;
} ss_val_run;

/* Read and check a run directory. Errors name the file, line and key. */
ss_rc ss_val_run_read(const char *dir, ss_val_run **out, ss_diag *d);
void ss_val_run_free(ss_val_run *r);

/* Parse an ISO 8601 UTC time "YYYY-MM-DDTHH:MM:SS[.frac](Z|+00:00)" into Unix seconds.
 * Returns 0 on success, -1 if malformed. */
int ss_val_parse_utc(const char *s, double *unix_s);

/* ------------------------------------------------------------------ run -> scenario */

#define SS_VAL_MAX_NOTES 24

/* What the replay cannot reproduce, stated in the output (never silently ignored). */
typedef struct ss_val_notes {
    int n;
    char text[SS_VAL_MAX_NOTES][480];
} ss_val_notes;

typedef struct ss_val_opts {
    const char *hw;         /* NULL: the run's GPU through the alias table; else a profile
                               name, alias or YAML path */
    const char *cost_model; /* NULL: the scenario default (auto) */
    ss_time_ns sample_interval; /* simulated timeline sampling period (0: 10 ms) */
} ss_val_opts;

/* Name of the built-in model whose `source` is the Hugging Face repository `hf_name`
 * (case-insensitive; "meta-llama/Llama-3.1-8B" -> "llama-3.1-8b"), or the built-in named
 * `hf_name` itself. Writes it into out; returns 0, or -1 when none matches. */
int ss_val_model_name(const char *hf_name, char *out, size_t n);

/* Build the scenario YAML for the run (malloc'd into *yaml) and fill notes with caveats.
 * Refuses (SS_ERR_UNSUPPORTED, at meta.json's line) what servesim cannot simulate: pp, dp
 * or expert parallelism, speculative decoding, LoRA, quantisation, chunked prefill off, a
 * scheduling policy other than fcfs, an unknown model or GPU. */
ss_rc ss_val_scenario_yaml(const ss_val_run *run, const ss_val_opts *o, char **yaml,
                           ss_val_notes *notes, ss_diag *d);

/* After loading the scenario: note when the profile that will be simulated (its name, e.g.
 * from a --hw file or a calibrated profile) is not the built-in profile of the run's GPU. */
void ss_val_note_profile(const ss_val_run *run, const char *profile, ss_val_notes *notes);

/* ------------------------------------------------------------------ the simulated side */

typedef struct ss_val_sim ss_val_sim;

/* A collector for a run of `nreq` requests (ids 0..nreq-1 in arrival order). */
ss_rc ss_val_sim_create(size_t nreq, ss_val_sim **out, ss_diag *d);
/* Its observer (on_request, on_iteration and on_sample; never on_batch, so the decode fast
 * path stays on). */
ss_observer ss_val_sim_observer(ss_val_sim *c);
void ss_val_sim_free(ss_val_sim *c);

/* ------------------------------------------------------------------ comparison */

#define SS_VAL_METRIC_LIST(X) \
    X(SS_VAL_TTFT, "ttft")    \
    X(SS_VAL_TPOT, "tpot")    \
    X(SS_VAL_E2E, "e2e")

typedef enum ss_val_metric {
#define SS_VAL_M_ENUM(e, name) e,
    SS_VAL_METRIC_LIST(SS_VAL_M_ENUM)
#undef SS_VAL_M_ENUM
    SS_VAL_METRIC_COUNT
} ss_val_metric;

const char *ss_val_metric_name(ss_val_metric m);

typedef struct ss_val_stats {
    size_t n;
    double mean, p50, p90, p99; /* seconds */
} ss_val_stats;

/* Statistics of v[0..n) (sorted in place). n = 0 gives all zeros. */
ss_val_stats ss_val_stats_of(double *v, size_t n);

/* The measured values of metric m, one per request that defines it, in the run's request
 * order (malloc'd into *vals; *n may be 0). */
ss_rc ss_val_measured(const ss_val_run *run, ss_val_metric m, double **vals, size_t *n);

typedef struct ss_val_timeline_row {
    double t;     /* timeseries t (s since started_at) */
    double sim_t; /* the simulated instant compared with it */
    int64_t meas_running, meas_waiting;
    double meas_kv_pct;
    int64_t sim_running, sim_waiting;
    double sim_kv_pct;
} ss_val_timeline_row;

typedef struct ss_val_report {
    ss_val_stats meas[SS_VAL_METRIC_COUNT], sim[SS_VAL_METRIC_COUNT];
    size_t requests, sim_finished, sim_rejected;
    uint64_t sim_preemptions;
    double meas_makespan_s, sim_makespan_s; /* first queued -> last token */
    uint64_t prompt_tokens;          /* sum of the run's prompts */
    uint64_t sim_finished_prompt_tokens; /* of the requests the simulation finished */
    uint64_t sim_prefill_tokens;     /* prefill tokens the simulation computed (prompts plus
                                        recomputation after preemption) ... */
    uint64_t sim_iterations_recorded; /* ... over this many iteration records */
    ss_val_timeline_row *timeline;          /* owned, one row per tick */
    size_t ntimeline;
} ss_val_report;

/* Compare the run with the collector's records. Fails if a request is missing. */
ss_rc ss_val_compare(const ss_val_run *run, const ss_val_sim *sim, ss_val_report *out,
                     ss_diag *d);
void ss_val_report_free(ss_val_report *r);

/* Signed relative error (sim - meas) / meas in percent (0 when both are 0; +/-inf when only
 * meas is 0). */
double ss_val_error_pct(double meas, double sim);
/* Largest |error| of the three means. */
double ss_val_max_mean_error(const ss_val_report *r);

/* Context printed with and stored beside the numbers. */
typedef struct ss_val_context {
    const char *run_dir;
    const char *setup;    /* one line: model on GPU, tp, scheduler limits, KV blocks */
    const char *hardware; /* profile used */
    const char *cost_model;
    const ss_val_notes *notes;
    uint64_t iterations; /* the run's iteration count (summary): sim_prefill_tokens is
                            complete, and shown, only when every iteration was recorded */
} ss_val_context;

/* The comparison table, caveats and a timeline table with one row every `every` ticks
 * (0: no timeline table). */
void ss_val_report_print(const ss_val_report *r, const ss_val_context *c, int every, FILE *out);
/* validation.json (malloc'd; the full timeline; deterministic: same inputs, same bytes). */
char *ss_val_report_json(const ss_val_report *r, const ss_val_context *c);

#endif

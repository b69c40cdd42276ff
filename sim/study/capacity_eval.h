/* The simulator as a capacity-search evaluator: load -> scenario with the load key
 * overridden -> R replications -> SLO values.
 *
 * Replication r runs with ss_sim_opts.replication = r and the scenario's seed, so its result
 * depends only on (configuration, load, r). Replications run in forked worker processes, at
 * most `jobs` at a time, and are collected in replication order: the results are the same
 * for any `jobs` (tests/engine_tests.cmake checks this byte for byte). */
#ifndef SS_STUDY_CAPACITY_EVAL_H
#define SS_STUDY_CAPACITY_EVAL_H

#include "sim/study/capacity.h"
#include "workloads/scenario.h"

/* Loads the configuration with `extra` overrides applied on top of its own. */
typedef ss_rc (*ss_cap_load_fn)(void *ctx, const ss_overrides *extra, ss_scenario **out,
                                ss_diag *d);

typedef struct ss_cap_sim {
    ss_cap_load_fn load;
    void *load_ctx;
    const char *key;    /* scenario key of the load, e.g. "workload.arrival.rate" */
    int integer;        /* the key takes integers (closed_loop clients) */
    const ss_slo_spec *slo;
    int jobs;           /* worker processes (1: run in this process) */
} ss_cap_sim;

/* ss_cap_eval_fn over an ss_cap_sim. */
ss_rc ss_cap_sim_eval(void *ss_cap_sim_ctx, double load, int first, int n, ss_cap_sample *out,
                      ss_diag *d);

/* One replication of a loaded scenario (exposed for tests). */
ss_rc ss_cap_sim_run_one(const ss_scenario *sc, const ss_slo_spec *slo, int rep, ss_cap_sample *out,
                         ss_diag *d);

/* "workload.arrival.rate=12.5" for `load` (shortest text that reads back exactly). */
void ss_cap_format_override(const char *key, double load, int integer, char *buf, size_t n);

#endif

/* Configuration search: every point of a study is a configuration; each gets a capacity
 * search under the study's SLO and is priced at that capacity for the target load
 * (instances = ceil(target / capacity)); the feasible ones are ranked by cost per million
 * output tokens, and the Pareto set of cost against latency is marked.
 *
 * The search knows nothing about what the axes mean: a configuration is whatever overrides
 * the study's point applies (hardware, tp, scheduler knobs today; replicas, pipeline stages,
 * prefill/decode pools when the scenario offers them), and its GPU count is read from the
 * loaded scenario. So new scenario keys become search axes without changing this code.
 *
 * The study file's own sections (docs/capacity-and-cost.md):
 *   slo:    ttft_p99: 2s, tpot_p99: 100ms, ... (sim/study/slo.h)
 *   search: target_load (required), load_key, lo, hi, tol, max_replications, confidence,
 *           top, jobs
 *   cost:   price_per_hour | capex, amortisation_years, pue, usd_per_kwh, utilisation
 * Replications per decision are the study's `replications`. */
#ifndef SS_STUDY_SEARCH_H
#define SS_STUDY_SEARCH_H

#include <stdio.h>

#include "hwprofiles/tco.h"
#include "sim/study/report.h"
#include "sim/study/slo.h"
#include "sim/study/study.h"

typedef struct ss_search_cfg {
    char load_key[256];
    double target;     /* load to serve, in the load key's unit */
    ss_cap_opts cap;   /* bracket, tolerance, replications, confidence */
    int top;           /* configurations printed */
    int jobs;          /* worker processes per configuration's replications */
    ss_slo_spec slo;
    ss_tco_cfg cost;
} ss_search_cfg;

/* The reference of the `slo:`, `search:` and `cost:` sections as Markdown, generated from
 * the key tables that read them (docs/search-reference.md; a test keeps it current). */
void ss_search_doc_markdown(FILE *out);

/* Read the `slo:`, `search:` and `cost:` sections of a loaded study. */
ss_rc ss_search_parse(ss_study *st, ss_search_cfg *out, ss_diag *d);

/* Run the capacity search of every point and price it. reports[i] belongs to point i.
 * A point that does not load (does not fit in memory, ...) or cannot meet the SLO is
 * marked infeasible with its reason; only evaluator failures of a loaded configuration are
 * errors. Progress lines go to `progress` (may be NULL). */
ss_rc ss_search_run(const ss_study *st, const ss_search_cfg *cfg, ss_cap_report *reports,
                    FILE *progress, ss_diag *d);

/* Feasible, priced reports of group g (group[i] == g; every report when group is NULL)
 * ordered by $/M output tokens (ties: by point index), written to order[]; returns how
 * many. Groups are the study's families (e.g. one per model): configurations serving
 * different models are not alternatives to each other. */
size_t ss_search_rank(const ss_cap_report *r, size_t n, const int *group, int g,
                      size_t *order);
/* on_front[i] = 1 when report i is priced and no other priced report of its group is at
 * least as good in both cost ($/M output tokens) and latency (the first SLO term at
 * capacity) and better in one (ss_pareto of sim/study/pareto.h, per group). */
void ss_search_pareto(const ss_cap_report *r, size_t n, const int *group, int *on_front);

#endif

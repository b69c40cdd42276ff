/* One configuration's answer: its capacity under the SLO, the cost of serving a target load
 * with as many instances as that capacity requires, and how it is printed and stored
 * (capacity-search and search share it).
 *
 * Cost at capacity: instances = ceil(target / capacity). Each instance then carries
 * target / instances, and its token throughput is taken as the throughput measured at
 * capacity scaled by that load (load / capacity); with no target, one instance at capacity.
 * Power uses the busy fraction measured at capacity (an upper bound for instances below
 * capacity). */
#ifndef SS_STUDY_REPORT_H
#define SS_STUDY_REPORT_H

#include <stdio.h>

#include "hwprofiles/tco.h"
#include "sim/study/capacity.h"
#include "workloads/scenario.h"

typedef struct ss_cap_report {
    char label[512];      /* the configuration: its overrides, "key=value key=value" */
    char hardware[64];
    char calibration[512]; /* cost model and what it calibrates ("calibrated: ...",
                              "roofline: uncalibrated (...)") */
    int gpus;             /* per instance: count x tp x pp x dp of every pool */
    int feasible;         /* the SLO holds at some load and the configuration loads */
    char reason[1200];    /* why not, when !feasible */
    ss_cap_result cap;
    double target;        /* load to serve (0: none, price one instance at capacity) */
    int instances;
    int priced;           /* tco is valid */
    ss_tco tco;
    double latency;       /* mean of the first SLO term at capacity (Pareto axis) */
    char family[256];     /* study family ("model=llama-3.1-8b"), "" outside a search */
    int rank;             /* 1.. within the family by $/M output tokens; 0: not ranked */
    int pareto;           /* on the family's cost-vs-latency Pareto set */
} ss_cap_report;

/* Fill hardware and gpus from a loaded configuration. */
void ss_cap_report_config(ss_cap_report *r, const ss_scenario *sc);
/* After r->cap is set: feasibility, instances and cost. A pricing failure (no price) leaves
 * priced = 0 and the reason in r->reason; it is not an error of the search. */
void ss_cap_report_cost(ss_cap_report *r, const ss_slo_spec *slo, const ss_hw *hw,
                        const ss_tco_cfg *cfg);

/* Human-readable: the bisection steps (when `steps`), capacity, bracket, binding term,
 * goodput and cost. `unit` names the load ("req/s", "clients"). */
void ss_cap_report_print(FILE *out, const ss_slo_spec *slo, const ss_cap_report *r,
                         const char *unit, int steps);
/* JSON object of one report (caller frees with free()). */
char *ss_cap_report_json(const ss_slo_spec *slo, const ss_cap_report *const *r, size_t n,
                         const char *key, const char *command_line);
/* SQLite: tables config (one row per report), step (one row per load evaluated and term).
 * Written to a temporary file and renamed, so a failed write leaves no partial database. */
ss_rc ss_cap_report_db(const char *path, const ss_slo_spec *slo, const ss_cap_report *const *r,
                       size_t n, const char *key, ss_diag *d);

#endif

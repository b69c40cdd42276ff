/* Pareto frontiers of sweep results (docs/sweeps.md#pareto-frontier).
 *
 * Point j dominates point i when it is at least as good on both axes and strictly better on
 * one; the frontier is the set of points nobody dominates. Equal points do not dominate one
 * another, so duplicates are all on the frontier. x is always maximised (throughput per
 * GPU); y is maximised (interactivity) or minimised (a latency). Points with a NaN
 * coordinate are never on the frontier and dominate nothing. */
#ifndef SS_STUDY_PARETO_H
#define SS_STUDY_PARETO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "sim/core/diag.h"

/* on_front[i] = whether point i is on the frontier; *nfront = how many are. O(n log n). */
ss_rc ss_pareto(const double *x, const double *y, size_t n, bool y_maximise, bool *on_front,
                size_t *nfront, ss_diag *d);

/* ------------------------------------------------------------------ from a sweep database */

typedef struct ss_frontier_opts {
    const char *x, *y;   /* metric names (sweep.h); NULL: the defaults below */
    int y_better;        /* +1 maximise, -1 minimise, 0: the metric's own direction */
    bool all;            /* table of every point (dominated ones marked), not the frontier */
    const char *png;     /* write a gnuplot script and data for these images, or NULL */
    const char *svg;
} ss_frontier_opts;

/* Defaults: x = throughput.output_tokens_per_s_per_gpu, y =
 * interactivity.tokens_per_s_per_user. Short names accepted for --x/--y:
 * throughput_per_gpu, tokens_per_s_per_user (interactivity), ttft_p99, ttft_p50, tpot_p50,
 * e2e_p99, qps. Returns the full metric name, or the argument itself when it is not one. */
const char *ss_frontier_metric_alias(const char *name);

/* Read the sweep database, compute the frontier of (x, y) over the points' means, print the
 * AIPerf-style table to `out` and, when asked, write the plot's gnuplot script
 * (*script_out, caller frees) and its data files next to the images. */
ss_rc ss_frontier_report(const char *db_path, const ss_frontier_opts *o, FILE *out,
                         char **script_out, ss_diag *d);

#endif

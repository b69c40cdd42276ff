/* One complete run (scenario -> simulation -> summary + results.db), shared by `run` and
 * `bench`. */
#ifndef SS_CLI_RUN_COMMON_H
#define SS_CLI_RUN_COMMON_H

#include <stdbool.h>
#include <stdint.h>

#include "sim/engine/sim.h"
#include "workloads/scenario.h"

typedef struct ss_run_args {
    const char *out_dir;   /* NULL: write nothing to disk */
    uint64_t seed;
    uint64_t replication;  /* see ss_sim_opts (sweeps run replications 0..R-1) */
    bool no_fast_forward;  /* see ss_sim_opts */
    const char *command_line;
    double t_start;        /* ss_cli_now() at process start (0: unknown) */
    const ss_observer *tap; /* optional: also receives every record (after results.db);
                               NULL: none. Its on_batch must be NULL (fast path stays on) */
    double t_sim_start;    /* filled: seconds from t_start to the first event */
    double wall_sim_s;     /* filled: seconds in ss_sim_run */
    uint64_t events;       /* filled */
    ss_summary summary;    /* filled */
} ss_run_args;

/* Create the output directory (and parents). */
ss_rc ss_mkdir_p(const char *dir, ss_diag *d);
ss_rc ss_run_scenario(const ss_scenario *sc, ss_run_args *a, ss_diag *d);

#endif

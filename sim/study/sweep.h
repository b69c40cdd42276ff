/* Sweeps: every point of a study run R times, results in one SQLite database
 * (docs/sweeps.md).
 *
 * A job is one (point, replication); job j = point * R + replication. Jobs are independent:
 * each loads its point's scenario and runs it with ss_sim_opts.replication = replication, so
 * every random stream's seed is hash(seed, replication, stream name) and any job can be
 * re-run alone (`servesim run --set ... --seed S --replication r`). Results are stored by
 * job index and written in job order by one process, so they never depend on how many
 * workers, processes or MPI ranks ran the jobs, nor on which finished first. */
#ifndef SS_STUDY_SWEEP_H
#define SS_STUDY_SWEEP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sim/engine/sim.h"
#include "sim/study/study.h"

/* ------------------------------------------------------------------ metrics of a run */

/* The flat list of per-run metrics a sweep records: every number of the summary
 * ("ttft_s.p99", "throughput.output_tokens_per_s", "slo.attainment", the MLPerf figures
 * "mlperf.valid" (0/1), "mlperf.completed_samples_per_s", ... NaN outside MLPerf mode) plus
 * derived ones: "gpus", "throughput.output_tokens_per_s_per_gpu",
 * "throughput.total_tokens_per_s_per_gpu" and "interactivity.tokens_per_s_per_user"
 * (1 / median TPOT). These fixed metrics come first; then, for each request class of the
 * study (ss_study_nclasses), ss_sweep_class_nmetrics() metrics "classes.NAME.ttft_s.p99",
 * "classes.NAME.slo.attainment", ... (results.db's class_summary rows). */
size_t ss_sweep_nmetrics(void);
const char *ss_sweep_metric_name(size_t k);
const char *ss_sweep_metric_unit(size_t k);
/* +1: higher is better (throughput), -1: lower is better (latency), 0: neither. */
int ss_sweep_metric_better(size_t k);
/* Index of a metric by name, or -1. */
int ss_sweep_metric_find(const char *name);
/* Values of every fixed metric (out[ss_sweep_nmetrics()]); NaN where undefined (no samples,
 * no SLO, not MLPerf). */
void ss_sweep_metrics(const ss_scenario *sc, const ss_summary *s, double *out);
/* Per-class metrics of one class. */
size_t ss_sweep_class_nmetrics(void);
/* Values of the per-class metrics of every class of the study
 * (out[ss_study_nclasses(st) * ss_sweep_class_nmetrics()], class-major); NaN for a class
 * the run does not have. */
void ss_sweep_class_metrics(const ss_study *st, const ss_summary *s, double *out);
/* Every metric a job of this study records: fixed ones, then per-class ones. */
size_t ss_sweep_study_nmetrics(const ss_study *s);

/* ------------------------------------------------------------------ statistics */

typedef struct ss_ci {
    double mean, lo, hi; /* 95% confidence interval of the mean (Student t) */
    int n;               /* replications with a defined value */
} ss_ci;
/* Mean and 95% CI of x[0..n): mean -/+ t(0.975, n-1) * s / sqrt(n). With one value the
 * interval has zero width (nothing is known about the spread). NaN values are skipped;
 * with none left, every field is NaN and n = 0. */
ss_ci ss_ci95(const double *x, size_t n);

/* ------------------------------------------------------------------ jobs */

typedef struct ss_sweep_results {
    size_t npoints;
    int reps;
    size_t nmetrics; /* ss_sweep_study_nmetrics */
    char (*names)[96]; /* names[k] of metric k (fixed, then "classes.NAME.*") */
    double *v;      /* v[(point * reps + rep) * nmetrics + k] */
    uint64_t *seed; /* seed[point] */
} ss_sweep_results;

ss_rc ss_sweep_results_init(ss_sweep_results *r, const ss_study *s, ss_diag *d);
/* Name, unit and direction of metric k of these results (fixed or per-class). */
const char *ss_sweep_results_metric_name(const ss_sweep_results *r, size_t k);
const char *ss_sweep_results_metric_unit(const ss_sweep_results *r, size_t k);
int ss_sweep_results_metric_better(const ss_sweep_results *r, size_t k);
void ss_sweep_results_free(ss_sweep_results *r);

/* Run job `job` in this process: values[ss_sweep_study_nmetrics(s)] and the point's seed. */
ss_rc ss_sweep_run_job(const ss_study *s, size_t job, double *values, uint64_t *seed,
                       ss_diag *d);

/* Called by the runner after each finished job (in completion order). */
typedef void (*ss_sweep_progress_fn)(void *ctx, size_t done, size_t total);

/* Run the jobs j with j % stride == offset (every job: stride 1, offset 0) with `workers`
 * processes (1: in this process; more: fork, one child per job, at most `workers` at a
 * time, each sending its values back over a pipe). Fills r for those jobs. A failed job
 * stops the sweep; the error names the point and replication. */
ss_rc ss_sweep_run(const ss_study *s, int workers, size_t stride, size_t offset,
                   ss_sweep_results *r, ss_sweep_progress_fn progress, void *ctx, ss_diag *d);

/* ------------------------------------------------------------------ MPI */

/* True when running under mpirun (a launcher set the rank environment), whether or not
 * this binary was built with MPI. */
bool ss_sweep_mpi_launched(void);
/* MPI_Init; *rank and *ranks set. Without MPI support: SS_ERR_UNSUPPORTED. */
ss_rc ss_sweep_mpi_init(int *rank, int *ranks, ss_diag *d);
/* Run this rank's jobs (j % ranks == rank) in this process and gather every result to
 * rank 0: only rank 0's r is complete, and rank 0's error is the first rank's that failed.
 * Collective: every rank calls it, after ss_sweep_mpi_init. */
ss_rc ss_sweep_run_mpi(const ss_study *s, ss_sweep_results *r, int rank, int ranks,
                       ss_sweep_progress_fn progress, void *ctx, ss_diag *d);
/* MPI_Finalize (every rank, once). */
void ss_sweep_mpi_finish(void);

/* ------------------------------------------------------------------ the database */

typedef struct ss_sweep_meta {
    const char *version, *host, *started_at, *command_line;
    double wall_s;
    int workers, ranks;
} ss_sweep_meta;

/* Write the sweep database at `path` (through path.tmp and a rename): tables study,
 * points, point_params, metrics, point_runs, point_stats and run_meta (docs/sweeps.md). */
ss_rc ss_sweep_db_write(const char *path, const ss_study *s, const ss_sweep_results *r,
                        const ss_sweep_meta *meta, ss_diag *d);
/* Canonical text dump of every table but run_meta, rows in primary-key order, numbers with
 * 17 significant digits: equal dumps <=> equal results. */
ss_rc ss_sweep_db_dump(const char *path, FILE *out, ss_diag *d);

#endif

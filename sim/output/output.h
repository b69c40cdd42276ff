/* Where results go: summary.json (cJSON), results.db (SQLite), the human summary table.
 *
 * The promise: same scenario and seed => byte-identical summary.json and identical result
 * tables in results.db. Anything that varies between identical runs (wall time, host,
 * servesim version, start time) goes only to the run_meta table and run.json. */
#ifndef SS_OUTPUT_OUTPUT_H
#define SS_OUTPUT_OUTPUT_H

#include <stdbool.h>
#include <stdio.h>

#include "sim/engine/sim.h"
#include "workloads/scenario.h"

/* ------------------------------------------------------------------ summary */

/* The summary as a JSON document (caller frees with free()). */
char *ss_summary_json(const ss_scenario *sc, uint64_t seed, const ss_summary *s);
/* Human-readable table; with a per-class section when there is more than one class or an
 * SLO, and the MLPerf log summary in MLPerf mode. */
/* What the run's cost model calibrates (issue 5), as summary.json's
 * configuration.calibration: "calibrated (GPU@STACK)", "partially calibrated (GPU@STACK;
 * roofline: OPS)" or "uncalibrated (...)". */
void ss_summary_calibration(const ss_scenario *sc, char *buf, size_t n);
void ss_summary_print(const ss_scenario *sc, uint64_t seed, const ss_summary *s, FILE *out);
/* Whether the summary has a per-class section (summary.json "classes", the table). */
bool ss_summary_has_class_section(const ss_summary *s);
/* The MLPerf log-summary lines (LoadGen results.cc LogSummary layout; docs/mlperf.md). */
void ss_mlperf_print(const ss_summary *s, FILE *out);
/* Write `text` to `path` atomically (temporary file + rename). */
ss_rc ss_write_file_atomic(const char *path, const char *text, ss_diag *d);

/* ------------------------------------------------------------------ results.db */

typedef struct ss_resdb ss_resdb;

typedef struct ss_run_meta {
    const char *version;
    const char *host;
    const char *started_at; /* ISO 8601 UTC */
    double wall_s;
    const char *command_line;
} ss_run_meta;

/* Create `path` (written to path.tmp, renamed by ss_resdb_close on success), with the schema
 * of docs/results-db.md, and record the run's scenario, seed and stream seeds. */
ss_rc ss_resdb_open(const char *path, const ss_scenario *sc, uint64_t seed,
                    ss_resdb **out, ss_diag *d);
/* An observer that streams request, iteration and sample records into the open db. */
ss_observer ss_resdb_observer(ss_resdb *db);
/* rng_streams and batch_sizes tables. */
ss_rc ss_resdb_write_streams(ss_resdb *db, const ss_sim *sim, ss_diag *d);
ss_rc ss_resdb_write_summary(ss_resdb *db, const ss_summary *s, ss_diag *d);
ss_rc ss_resdb_write_meta(ss_resdb *db, const ss_run_meta *m, ss_diag *d);
/* Commit and move into place (ok = 1) or discard (ok = 0). Frees db. */
ss_rc ss_resdb_close(ss_resdb *db, int ok, ss_diag *d);
/* The first error an observer callback hit (message), or NULL. */
const char *ss_resdb_error(const ss_resdb *db);

#endif

/* The sweep database (schema in docs/sweeps.md): written once, by one process, in job
 * order, through PATH.tmp and a rename, like results.db. */
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/output/output.h"
#include "sim/study/sweep.h"

static const char *const schema_sql =
    "CREATE TABLE study(name TEXT, scenario TEXT, points INTEGER, replications INTEGER,"
    " study_text TEXT, scenario_text TEXT);\n"
    "CREATE TABLE points(point INTEGER PRIMARY KEY, family TEXT, overrides TEXT,"
    " seed INTEGER, calibration TEXT);\n"
    "CREATE TABLE point_params(point INTEGER, key TEXT, value TEXT,"
    " PRIMARY KEY(point, key)) WITHOUT ROWID;\n"
    "CREATE TABLE metrics(metric TEXT PRIMARY KEY, unit TEXT, better INTEGER)"
    " WITHOUT ROWID;\n"
    "CREATE TABLE point_runs(point INTEGER, replication INTEGER, metric TEXT, value REAL,"
    " PRIMARY KEY(point, replication, metric)) WITHOUT ROWID;\n"
    "CREATE TABLE point_stats(point INTEGER, metric TEXT, n INTEGER, mean REAL,"
    " ci95_low REAL, ci95_high REAL, PRIMARY KEY(point, metric)) WITHOUT ROWID;\n"
    "CREATE TABLE run_meta(key TEXT PRIMARY KEY, value TEXT);\n"
    /* One row per point with the numbers a frontier table shows (means over replications). */
    "CREATE VIEW point_summary AS SELECT p.point, p.family, p.overrides,"
    " max(CASE WHEN s.metric = 'throughput.requests_per_s' THEN s.mean END) AS qps,"
    " max(CASE WHEN s.metric = 'ttft_s.p50' THEN s.mean END) AS ttft_p50_s,"
    " max(CASE WHEN s.metric = 'ttft_s.p99' THEN s.mean END) AS ttft_p99_s,"
    " max(CASE WHEN s.metric = 'tpot_s.p50' THEN s.mean END) AS tpot_p50_s,"
    " max(CASE WHEN s.metric = 'throughput.output_tokens_per_s' THEN s.mean END)"
    " AS output_tokens_per_s,"
    " max(CASE WHEN s.metric = 'throughput.output_tokens_per_s_per_gpu' THEN s.mean END)"
    " AS output_tokens_per_s_per_gpu,"
    " max(CASE WHEN s.metric = 'interactivity.tokens_per_s_per_user' THEN s.mean END)"
    " AS tokens_per_s_per_user"
    " FROM points p JOIN point_stats s USING (point) GROUP BY p.point;\n";

static ss_rc db_fail(sqlite3 *db, const char *path, ss_diag *d, const char *what)
{
    return ss_diag_set(d, SS_ERR_DB, path, 0, 0, NULL, "%s: %s", what,
                       db ? sqlite3_errmsg(db) : "cannot open");
}

static int step(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* NaN (an undefined statistic) is stored as NULL. */
static void bind_real(sqlite3_stmt *st, int i, double v)
{
    if (isnan(v)) sqlite3_bind_null(st, i);
    else sqlite3_bind_double(st, i, v);
}

static int write_tables(sqlite3 *db, const ss_study *s, const ss_sweep_results *r,
                        const ss_sweep_meta *m)
{
    sqlite3_stmt *st = NULL;
    int bad = 0;
    size_t M = r->nmetrics;
#define PREP(sql) (sqlite3_finalize(st), st = NULL, sqlite3_prepare_v2(db, sql, -1, &st, NULL))
    if (PREP("INSERT INTO study VALUES(?,?,?,?,?,?)")) goto fail;
    sqlite3_bind_text(st, 1, ss_study_name(s), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, ss_study_scenario_ref(s), -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)r->npoints);
    sqlite3_bind_int(st, 4, r->reps);
    sqlite3_bind_text(st, 5, ss_doc_text(ss_study_doc(s)), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, ss_study_scenario_text(s), -1, SQLITE_STATIC);
    if (step(st)) goto fail;

    if (PREP("INSERT INTO metrics VALUES(?,?,?)")) goto fail;
    for (size_t k = 0; k < M && !bad; k++) {
        sqlite3_bind_text(st, 1, ss_sweep_results_metric_name(r, k), -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, ss_sweep_results_metric_unit(r, k), -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 3, ss_sweep_results_metric_better(r, k));
        bad = step(st);
    }
    if (bad) goto fail;

    sqlite3_stmt *pp = NULL;
    if (PREP("INSERT INTO points VALUES(?,?,?,?,?)") ||
        sqlite3_prepare_v2(db, "INSERT INTO point_params VALUES(?,?,?)", -1, &pp, NULL)) {
        sqlite3_finalize(pp);
        goto fail;
    }
    for (size_t i = 0; i < r->npoints && !bad; i++) {
        ss_overrides ov;
        ss_study_point(s, i, &ov);
        char text[4096] = "";
        size_t used = 0;
        for (size_t k = 0; k < ov.n; k++) {
            const char *eq = strchr(ov.items[k], '=');
            int w = snprintf(text + used, sizeof text - used, "%s%s", k ? " " : "", ov.items[k]);
            if (w > 0 && (size_t)w < sizeof text - used) used += (size_t)w;
            sqlite3_bind_int64(pp, 1, (sqlite3_int64)i);
            sqlite3_bind_text(pp, 2, ov.items[k], (int)(eq - ov.items[k]), SQLITE_STATIC);
            sqlite3_bind_text(pp, 3, eq + 1, -1, SQLITE_STATIC);
            if ((bad = step(pp))) break;
        }
        sqlite3_bind_int64(st, 1, (sqlite3_int64)i);
        sqlite3_bind_text(st, 2, ss_study_family(s, i), -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, text, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 4, (sqlite3_int64)r->seed[i]);
        /* issue 5: whether the cost model is calibrated for this point's GPU (every point
         * ran, so its scenario loads) */
        ss_scenario *sc = NULL;
        ss_diag pd;
        ss_diag_clear(&pd);
        char calib[160];
        if (ss_study_load_point_scenario(s, i, NULL, &sc, &pd)) {
            bad = 1;
            break;
        }
        ss_calibration_status(sc, calib, sizeof calib);
        ss_scenario_free(sc);
        sqlite3_bind_text(st, 5, calib, -1, SQLITE_TRANSIENT);
        bad = bad || step(st);
    }
    sqlite3_finalize(pp);
    if (bad) goto fail;

    if (PREP("INSERT INTO point_runs VALUES(?,?,?,?)")) goto fail;
    for (size_t i = 0; i < r->npoints && !bad; i++)
        for (int rep = 0; rep < r->reps && !bad; rep++) {
            const double *v = &r->v[(i * (size_t)r->reps + (size_t)rep) * M];
            for (size_t k = 0; k < M && !bad; k++) {
                sqlite3_bind_int64(st, 1, (sqlite3_int64)i);
                sqlite3_bind_int(st, 2, rep);
                sqlite3_bind_text(st, 3, ss_sweep_results_metric_name(r, k), -1, SQLITE_STATIC);
                bind_real(st, 4, v[k]);
                bad = step(st);
            }
        }
    if (bad) goto fail;

    if (PREP("INSERT INTO point_stats VALUES(?,?,?,?,?,?)")) goto fail;
    double *x = malloc((size_t)r->reps * sizeof *x);
    if (!x) goto fail;
    for (size_t i = 0; i < r->npoints && !bad; i++)
        for (size_t k = 0; k < M && !bad; k++) {
            for (int rep = 0; rep < r->reps; rep++)
                x[rep] = r->v[(i * (size_t)r->reps + (size_t)rep) * M + k];
            ss_ci c = ss_ci95(x, (size_t)r->reps);
            sqlite3_bind_int64(st, 1, (sqlite3_int64)i);
            sqlite3_bind_text(st, 2, ss_sweep_results_metric_name(r, k), -1, SQLITE_STATIC);
            sqlite3_bind_int(st, 3, c.n);
            bind_real(st, 4, c.mean);
            bind_real(st, 5, c.lo);
            bind_real(st, 6, c.hi);
            bad = step(st);
        }
    free(x);
    if (bad) goto fail;

    if (PREP("INSERT INTO run_meta VALUES(?,?)")) goto fail;
    char wall[64], workers[32], ranks[32];
    snprintf(wall, sizeof wall, "%.6f", m->wall_s);
    snprintf(workers, sizeof workers, "%d", m->workers);
    snprintf(ranks, sizeof ranks, "%d", m->ranks);
    const char *kv[][2] = {{"version", m->version},       {"host", m->host},
                           {"started_at", m->started_at}, {"wall_s", wall},
                           {"command_line", m->command_line}, {"workers", workers},
                           {"mpi_ranks", ranks}};
    for (size_t i = 0; i < sizeof kv / sizeof kv[0] && !bad; i++) {
        sqlite3_bind_text(st, 1, kv[i][0], -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, kv[i][1] ? kv[i][1] : "", -1, SQLITE_STATIC);
        bad = step(st);
    }
    if (bad) goto fail;
    sqlite3_finalize(st);
    return 0;
#undef PREP
fail:
    sqlite3_finalize(st);
    return -1;
}

ss_rc ss_sweep_db_write(const char *path, const ss_study *s, const ss_sweep_results *r,
                        const ss_sweep_meta *meta, ss_diag *d)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    remove(tmp);
    sqlite3 *db = NULL;
    ss_rc rc = SS_OK;
    if (sqlite3_open_v2(tmp, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK) {
        rc = db_fail(db, path, d, "cannot create the sweep database");
        goto done;
    }
    if (sqlite3_exec(db, "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; BEGIN;", NULL, NULL,
                     NULL) != SQLITE_OK ||
        sqlite3_exec(db, schema_sql, NULL, NULL, NULL) != SQLITE_OK) {
        rc = db_fail(db, path, d, "cannot create the schema");
        goto done;
    }
    if (write_tables(db, s, r, meta)) {
        rc = db_fail(db, path, d, "cannot write the results");
        goto done;
    }
    if (sqlite3_exec(db, "COMMIT;", NULL, NULL, NULL) != SQLITE_OK)
        rc = db_fail(db, path, d, "cannot commit the sweep database");
done:
    if (sqlite3_close(db) != SQLITE_OK && !rc)
        rc = ss_diag_set(d, SS_ERR_DB, path, 0, 0, NULL, "cannot close the database");
    if (!rc && rename(tmp, path) != 0)
        rc = ss_diag_set(d, SS_ERR_IO, path, 0, 0, NULL, "cannot move %s into place", tmp);
    if (rc) remove(tmp);
    return rc;
}

/* ------------------------------------------------------------------ dump */

static const char *const dump_tables[] = {"study",      "points",     "point_params",
                                          "metrics",    "point_runs", "point_stats"};

static void dump_text(FILE *out, const unsigned char *t)
{
    for (; *t; t++) {
        if (*t == '\n') fputs("\\n", out);
        else if (*t == '\\') fputs("\\\\", out);
        else if (*t == '|') fputs("\\|", out);
        else fputc(*t, out);
    }
}

ss_rc ss_sweep_db_dump(const char *path, FILE *out, ss_diag *d)
{
    sqlite3 *db = NULL;
    ss_rc rc = SS_OK;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        rc = db_fail(db, path, d, "cannot open the sweep database");
        sqlite3_close(db);
        return rc;
    }
    for (size_t t = 0; t < sizeof dump_tables / sizeof dump_tables[0] && !rc; t++) {
        char sql[256];
        /* every column in the ORDER BY: a total order whatever the table */
        sqlite3_stmt *st = NULL;
        snprintf(sql, sizeof sql, "SELECT * FROM %s", dump_tables[t]);
        if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
            rc = db_fail(db, path, d, "not a sweep database");
            break;
        }
        int ncol = sqlite3_column_count(st);
        sqlite3_finalize(st);
        size_t used = (size_t)snprintf(sql, sizeof sql, "SELECT * FROM %s ORDER BY ",
                                       dump_tables[t]);
        for (int c = 1; c <= ncol && used < sizeof sql; c++)
            used += (size_t)snprintf(sql + used, sizeof sql - used, "%s%d", c > 1 ? "," : "", c);
        if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
            rc = db_fail(db, path, d, "cannot read the sweep database");
            break;
        }
        fprintf(out, "== %s\n", dump_tables[t]);
        int s;
        while ((s = sqlite3_step(st)) == SQLITE_ROW) {
            for (int c = 0; c < ncol; c++) {
                if (c) fputc('|', out);
                switch (sqlite3_column_type(st, c)) {
                case SQLITE_NULL: fputs("NULL", out); break;
                case SQLITE_INTEGER:
                    fprintf(out, "%lld", (long long)sqlite3_column_int64(st, c));
                    break;
                case SQLITE_FLOAT: fprintf(out, "%.17g", sqlite3_column_double(st, c)); break;
                default: dump_text(out, sqlite3_column_text(st, c)); break;
                }
            }
            fputc('\n', out);
        }
        if (s != SQLITE_DONE) rc = db_fail(db, path, d, "cannot read the sweep database");
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    return rc;
}

/* `servesim validate calibration`: the error of the fitted operator models on measured rows
 * not used in the fit (hwprofiles/calib/crossval.c), per GPU and operator family, as text,
 * JSON and a SQLite table; optional thresholds make it a regression test. */
#include <cjson/cJSON.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hwprofiles/calib/fit.h"
#include "hwprofiles/hw.h"
#include "sim/cli/calib_common.h"
#include "sim/cli/cli.h"

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: servesim validate calibration --source [FORMAT:]PATH [--source ...]\n"
            "                                     --gpu NAME [--stack STACK] [--folds K]\n"
            "                                     [--seed N] [--json OUT.json] [--db OUT.db]\n"
            "                                     [--rows OUT.csv] [--assert FAMILY:SCHEME=MEDIAN,P90 ...]\n"
            "                                     [--lenient]\n"
            "       servesim validate calibration --profile GPU@NAME|FILE --source ... [--gpu NAME]\n"
            "                                     [--json ...] [--db ...] [--rows ...] [--assert ...]\n\n"
            "Fits the operator models as `servesim calibrate` does, but each time without some\n"
            "rows, and reports the absolute percentage error on those held-out rows per\n"
            "operator family: median, P90 and the worst row (file:line). Schemes:\n"
            "  kfold        random rows, K folds (default 5; GSL stream calibration-kfold)\n"
            "  shapes       whole models (leave one model out) or, without a model column,\n"
            "               whole GEMM shapes / head configurations / GPU counts, K folds\n"
            "  extrapolate  the largest 20 %% of token counts (bytes, batch sizes) per group\n\n"
            "With --profile nothing is fitted: the committed (or your) calibrated profile\n"
            "predicts every row of the sources, e.g. your own servesim-profile measurements\n"
            "of the same GPU. Schemes then: profile (GEMM shapes / attention head\n"
            "configurations the profile measured, and the other families), profile-unseen\n"
            "(shapes it costs from its lattice or fitted basis). Families the profile has no\n"
            "model for are listed, not scored. --gpu defaults to the profile's GPU.\n\n"
            "  --json FILE  the same report as JSON;  --db FILE  appended to the SQLite table\n"
            "               calibration_validation\n"
            "  --rows FILE  every evaluated row as CSV: scheme, family, file, line, shape\n"
            "               (m, n, k, batch, q, kv, heads, kv_heads, head_dim, gpus, bytes),\n"
            "               measured and predicted seconds, APE\n"
            "  --assert FAMILY:SCHEME=MEDIAN,P90  fail (exit 1) if that family's held-out\n"
            "               median or P90 error exceeds the given fractions (0.05 = 5 %%)\n"
            "docs/validation.md explains the schemes and the committed results.\n");
}

/* Replaces the rows of (gpu, stack) for the schemes of this mode (cross-validation or
 * profile check), so the two kinds of report can share one table. */
static ss_rc write_db(const char *path, const char *gpu, const char *stack, int profile_mode,
                      const ss_meas_table *t, const ss_cv_result *r, size_t n, ss_diag *d)
{
    sqlite3 *db = NULL;
    if (sqlite3_open(path, &db) != SQLITE_OK) {
        ss_diag_set(d, SS_ERR_DB, path, 0, 0, NULL, "cannot open: %s", sqlite3_errmsg(db));
        sqlite3_close(db);
        return SS_ERR_DB;
    }
    ss_rc rc = SS_OK;
    char *err = NULL;
    sqlite3_stmt *st = NULL;
    /* one transaction: create the table, replace this GPU's rows */
    if (sqlite3_exec(db, "BEGIN", NULL, NULL, &err) != SQLITE_OK ||
        sqlite3_exec(db,
                     "CREATE TABLE IF NOT EXISTS calibration_validation ("
                     " gpu TEXT NOT NULL, stack TEXT NOT NULL, scheme TEXT NOT NULL,"
                     " family TEXT NOT NULL, rows INTEGER NOT NULL, groups INTEGER NOT NULL,"
                     " median_ape REAL NOT NULL, p90_ape REAL NOT NULL, max_ape REAL NOT NULL,"
                     " worst_file TEXT, worst_line INTEGER, worst_measured_s REAL,"
                     " worst_predicted_s REAL, PRIMARY KEY (gpu, stack, scheme, family))",
                     NULL, NULL, &err) != SQLITE_OK)
        goto fail;
    if (sqlite3_prepare_v2(db,
                           "DELETE FROM calibration_validation WHERE gpu = ? AND stack = ? AND "
                           "(scheme IN ('profile', 'profile-unseen')) = ?",
                           -1, &st, NULL) != SQLITE_OK)
        goto fail;
    sqlite3_bind_text(st, 1, gpu, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, stack, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, profile_mode ? 1 : 0);
    if (sqlite3_step(st) != SQLITE_DONE) goto fail;
    sqlite3_finalize(st);
    st = NULL;
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO calibration_validation VALUES "
                           "(?,?,?,?,?,?,?,?,?,?,?,?,?)",
                           -1, &st, NULL) != SQLITE_OK)
        goto fail;
    for (size_t i = 0; i < n; i++) {
        const ss_meas *w = &t->rows[r[i].worst];
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, gpu, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, stack, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, ss_cv_scheme_name(r[i].scheme), -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, ss_fam_name((ss_fam)r[i].family), -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 5, r[i].rows);
        sqlite3_bind_int64(st, 6, r[i].groups);
        sqlite3_bind_double(st, 7, r[i].median);
        sqlite3_bind_double(st, 8, r[i].p90);
        sqlite3_bind_double(st, 9, r[i].max);
        sqlite3_bind_text(st, 10, t->sources[w->src].path, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 11, w->line);
        sqlite3_bind_double(st, 12, w->time_s);
        sqlite3_bind_double(st, 13, r[i].worst_pred);
        if (sqlite3_step(st) != SQLITE_DONE) goto fail;
    }
    sqlite3_finalize(st);
    st = NULL;
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, &err) != SQLITE_OK) goto fail;
    sqlite3_close(db);
    return SS_OK;
fail:
    rc = ss_diag_set(d, SS_ERR_DB, path, 0, 0, NULL, "%s", err ? err : sqlite3_errmsg(db));
    sqlite3_free(err);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return rc;
}

static ss_rc write_json(const char *path, const char *gpu, const char *stack,
                        const char *profile, const ss_meas_table *t, const ss_cv_result *r,
                        size_t n, const long *uncovered, int folds, unsigned long long seed,
                        ss_diag *d)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "gpu", gpu);
    cJSON_AddStringToObject(root, "stack", stack);
    if (profile) {
        cJSON_AddStringToObject(root, "profile", profile);
        cJSON *u = cJSON_AddObjectToObject(root, "not_covered_rows");
        for (int f = 0; f < SS_FAM_COUNT; f++)
            if (uncovered[f]) cJSON_AddNumberToObject(u, ss_fam_name((ss_fam)f), uncovered[f]);
    } else {
        cJSON_AddNumberToObject(root, "folds", folds);
        cJSON_AddNumberToObject(root, "seed", (double)seed);
    }
    /* sources whose rows were left out as faster than the GPU's peak (not scored) */
    cJSON *lo = cJSON_AddArrayToObject(root, "left_out_over_peak");
    for (size_t s = 0; s < t->nsources; s++) {
        if (!t->sources[s].over_peak) continue;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "file", t->sources[s].path);
        cJSON_AddNumberToObject(o, "rows", (double)t->sources[s].over_peak);
        cJSON_AddItemToArray(lo, o);
    }
    cJSON *arr = cJSON_AddArrayToObject(root, "results");
    for (size_t i = 0; i < n; i++) {
        const ss_meas *w = &t->rows[r[i].worst];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "scheme", ss_cv_scheme_name(r[i].scheme));
        cJSON_AddStringToObject(o, "family", ss_fam_name((ss_fam)r[i].family));
        cJSON_AddNumberToObject(o, "rows", (double)r[i].rows);
        cJSON_AddNumberToObject(o, "groups", (double)r[i].groups);
        cJSON_AddNumberToObject(o, "median_ape", r[i].median);
        cJSON_AddNumberToObject(o, "p90_ape", r[i].p90);
        cJSON_AddNumberToObject(o, "max_ape", r[i].max);
        cJSON *wo = cJSON_AddObjectToObject(o, "worst");
        cJSON_AddStringToObject(wo, "file", t->sources[w->src].path);
        cJSON_AddNumberToObject(wo, "line", w->line);
        cJSON_AddNumberToObject(wo, "measured_s", w->time_s);
        cJSON_AddNumberToObject(wo, "predicted_s", r[i].worst_pred);
        cJSON_AddItemToArray(arr, o);
    }
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    FILE *f = text ? fopen(path, "w") : NULL;
    ss_rc rc = SS_OK;
    if (!f) rc = ss_diag_set(d, SS_ERR_IO, path, 0, 0, NULL, "cannot create file");
    else {
        fputs(text, f);
        fputc('\n', f);
        if (fclose(f)) rc = ss_diag_set(d, SS_ERR_IO, path, 0, 0, NULL, "write failed");
    }
    free(text);
    return rc;
}

static ss_rc write_rows(const char *path, const ss_meas_table *t, const ss_cv_rows *rows,
                        ss_diag *d)
{
    FILE *f = fopen(path, "w");
    if (!f) return ss_diag_set(d, SS_ERR_IO, path, 0, 0, NULL, "cannot create file");
    fputs("scheme,family,file,line,m,n,k,batch,q,kv,heads,kv_heads,head_dim,gpus,bytes,"
          "measured_s,predicted_s,ape\n", f);
    for (size_t i = 0; i < rows->n; i++) {
        const ss_cv_row *w = &rows->v[i];
        const ss_meas *r = &t->rows[w->row];
        fprintf(f, "%s,%s,%s,%u,%lld,%lld,%lld,%d,%lld,%lld,%d,%d,%d,%d,%lld,%.6g,%.6g,%.6f\n",
                ss_cv_scheme_name(w->scheme), ss_fam_name((ss_fam)r->family),
                t->sources[r->src].path, r->line, (long long)r->m, (long long)r->n,
                (long long)r->k, r->batch, (long long)r->q, (long long)r->kv, r->heads,
                r->kv_heads, r->head_dim, r->gpus, (long long)r->bytes, r->time_s, w->pred,
                fabs(w->pred - r->time_s) / r->time_s);
    }
    if (fclose(f)) return ss_diag_set(d, SS_ERR_IO, path, 0, 0, NULL, "write failed");
    return SS_OK;
}

int ss_cmd_validate_calibration(int argc, char **argv)
{
    ss_calib_args a;
    int rc = ss_calib_parse_args(argc, argv, &a, 0, usage);
    if (rc >= 0) return rc;
    ss_diag d;
    ss_diag_clear(&d);
    ss_meas_table t;
    ss_meas_table_init(&t); /* freed on every path, also before the sources are read */
    ss_calib c;
    ss_calib_init(&c);
    ss_cv_result *r = NULL;
    size_t n = 0;
    int status = 1;
    long uncovered[SS_FAM_COUNT] = {0};
    ss_cv_rows rows = {0};
    ss_hw hw;
    if (a.profile) {
        if (ss_hw_load(a.profile, NULL, &hw, &d) != SS_OK) goto fail;
        if (!hw.calib_doc[0]) {
            /* a GPU name: its default calibration, as `hardware: GPU` would use */
            const char *def = ss_hw_default_calibrated(hw.name);
            if (!def) {
                ss_diag_fail(&d, SS_ERR_INVALID, "--profile %s: GPU profile '%s' has no "
                             "calibration (`servesim list hardware` lists GPU@STACK profiles)",
                             a.profile, hw.name);
                goto fail;
            }
            if (ss_hw_load(def, NULL, &hw, &d) != SS_OK) goto fail;
        }
        if (ss_calib_load(&hw, &c, &d) != SS_OK) goto fail;
        if (!a.gpu[0]) snprintf(a.gpu, sizeof a.gpu, "%s", c.gpu);
        else if (strcmp(a.gpu, c.gpu) != 0) {
            ss_diag_fail(&d, SS_ERR_INVALID, "--gpu %s, but profile %s is of GPU %s", a.gpu,
                         a.profile, c.gpu);
            goto fail;
        }
        if (ss_calib_read(&a, &t, &d) != SS_OK) goto fail;
        if (ss_cal_profile_check(&c, &t, &r, &n, uncovered, a.rows ? &rows : NULL, &d) != SS_OK)
            goto fail;
        printf("Profile check, %s (%s@%s): absolute percentage error of its predictions on "
               "the sources' rows (nothing fitted)\n",
               hw.name, c.gpu, c.stack);
    } else {
        if (ss_calib_read(&a, &t, &d) != SS_OK) goto fail;
        /* the full fit refuses ambiguous sources (two stacks measuring one family) and
         * names the stack; the folds take the same rows (--stack's, or all) */
        if (ss_calib_fit(&a, &t, 0, &c, &d) != SS_OK) goto fail;
        ss_fit_opts o = {.stack = a.stack && a.stack[0] ? a.stack : NULL,
                         .l2_bytes = c.l2_bytes, .ridge = c.ridge};
        if (ss_cal_crossval(&t, &o, a.folds, a.seed, &r, &n, a.rows ? &rows : NULL, &d) != SS_OK)
            goto fail;
        printf("Operator-level validation, %s@%s: absolute percentage error on rows not used "
               "in the fit\n",
               a.gpu, c.stack);
    }
    printf("  %-14s %-14s %7s %7s %8s %8s %8s  %s\n", "scheme", "family", "rows", "groups",
           "median", "p90", "max", "worst row (measured -> predicted)");
    for (size_t i = 0; i < n; i++) {
        const ss_meas *w = &t.rows[r[i].worst];
        printf("  %-14s %-14s %7ld %7ld %7.2f%% %7.2f%% %7.1f%%  %s:%u (%.3g s -> %.3g s)\n",
               ss_cv_scheme_name(r[i].scheme), ss_fam_name((ss_fam)r[i].family), r[i].rows,
               r[i].groups, 100 * r[i].median, 100 * r[i].p90, 100 * r[i].max,
               t.sources[w->src].path, w->line, w->time_s, r[i].worst_pred);
    }
    for (int f = 0; f < SS_FAM_COUNT; f++)
        if (uncovered[f])
            printf("  not scored: %ld %s rows (the profile has no model for them)\n",
                   uncovered[f], ss_fam_name((ss_fam)f));
    if (a.json && write_json(a.json, a.gpu, c.stack, a.profile ? hw.name : NULL, &t, r, n,
                             uncovered, a.folds, a.seed, &d))
        goto fail;
    if (a.db && write_db(a.db, a.gpu, c.stack, a.profile != NULL, &t, r, n, &d)) goto fail;
    if (a.rows && write_rows(a.rows, &t, &rows, &d)) goto fail;
    status = 0;
    for (int k = 0; k < a.nasserts; k++) {
        const ss_calib_assert *as = &a.asserts[k];
        int found = 0;
        for (size_t i = 0; i < n; i++) {
            if (strcmp(ss_fam_name((ss_fam)r[i].family), as->family) ||
                strcmp(ss_cv_scheme_name(r[i].scheme), as->scheme))
                continue;
            found = 1;
            if (r[i].median > as->median || r[i].p90 > as->p90) {
                fprintf(stderr,
                        "servesim: validate calibration: %s %s held-out error median %.2f%% / "
                        "P90 %.2f%% exceeds the limit %.2f%% / %.2f%%\n",
                        as->family, as->scheme, 100 * r[i].median, 100 * r[i].p90,
                        100 * as->median, 100 * as->p90);
                status = 1;
            }
        }
        if (!found) {
            fprintf(stderr, "servesim: validate calibration: no %s rows were evaluated by %s\n",
                    as->family, as->scheme);
            status = 1;
        }
    }
    if (status == 0 && a.nasserts) printf("all %d limits met\n", a.nasserts);
    goto out;
fail:
    ss_cli_report(&d);
out:
    ss_cv_rows_free(&rows);
    free(r);
    ss_calib_free(&c);
    ss_meas_table_free(&t);
    return status;
}

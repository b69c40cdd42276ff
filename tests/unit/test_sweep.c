/* Sweeps (sim/study/sweep.h): confidence intervals, the metric list against results.db's
 * summary table, a job re-run alone, identical results whatever the number of workers or
 * the split of jobs between ranks, and the canonical dump. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "sim/cli/run_common.h"
#include "sim/study/sweep.h"

#define BASE "tests/data/good" /* tests run from the source tree */

static ss_study *load_study(const char *text)
{
    ss_study *s = NULL;
    ss_diag d;
    ss_diag_clear(&d);
    if (ss_study_load_string("t.yaml", text, BASE, &s, &d)) {
        char buf[2048];
        ss_diag_format(&d, buf, sizeof buf);
        fail_msg("study rejected: %s", buf);
    }
    return s;
}

static void run_all(const ss_study *s, int workers, size_t stride, size_t offset,
                    ss_sweep_results *r)
{
    ss_diag d;
    ss_diag_clear(&d);
    if (ss_sweep_run(s, workers, stride, offset, r, NULL, NULL, &d))
        fail_msg("sweep failed: %s", d.msg);
}

static int metric(const char *name)
{
    int k = ss_sweep_metric_find(name);
    if (k < 0) fail_msg("no metric %s", name);
    return k;
}

/* ================================================================== statistics */

static void test_ci95_values(void **state)
{
    (void)state;
    /* mean 2, s = 1, t(0.975, 2) = 4.302652730 => half-width 4.302652730 / sqrt(3) */
    double x[] = {1, 2, 3};
    ss_ci c = ss_ci95(x, 3);
    assert_int_equal(c.n, 3);
    assert_float_equal(c.mean, 2.0, 1e-12);
    assert_float_equal(c.hi - c.mean, 2.4841377, 1e-6);
    assert_float_equal(c.mean - c.lo, 2.4841377, 1e-6);
    /* one replication: zero width, by definition */
    c = ss_ci95(x + 1, 1);
    assert_int_equal(c.n, 1);
    assert_true(c.lo == 2 && c.hi == 2 && c.mean == 2);
    /* undefined values are skipped; none left: NaN */
    double y[] = {NAN, 4, NAN, 6};
    c = ss_ci95(y, 4);
    assert_int_equal(c.n, 2);
    assert_float_equal(c.mean, 5, 1e-12);
    double z[] = {NAN, NAN};
    c = ss_ci95(z, 2);
    assert_int_equal(c.n, 0);
    assert_true(isnan(c.mean) && isnan(c.lo) && isnan(c.hi));
    /* identical values: zero width */
    double w[] = {7, 7, 7, 7};
    c = ss_ci95(w, 4);
    assert_true(c.lo == 7 && c.hi == 7);
}

/* The 95% interval of a mean narrows as replications are added (t quantile and sqrt(n)).
 * Replication r's streams do not depend on R, so the first n replications of one R = 24
 * sweep are exactly a sweep with R = n. One sample spread can be small by chance, so the
 * check is on relative widths summed over metrics and points, plus R = 3 against R = 24 for
 * each. */
static void test_ci_shrinks_with_replications(void **state)
{
    (void)state;
    const char *names[] = {"ttft_s.mean", "e2e_s.p50", "throughput.output_tokens_per_s",
                           "tpot_s.mean"};
    enum { NM = 4, R = 24 };
    ss_study *s = load_study("study:\n  scenario: small.yaml\n  replications: 24\n  axes:\n"
                             "    workload.arrival.rate: [8, 16]\n"
                             "    workload.num_requests: [150]\n");
    ss_sweep_results r;
    ss_diag d;
    ss_diag_clear(&d);
    assert_int_equal(ss_sweep_results_init(&r, s, &d), SS_OK);
    run_all(s, 2, 1, 0, &r);
    const int prefix[] = {3, 6, 12, 24};
    double total[4] = {0};
    for (size_t p = 0; p < 2; p++)
        for (int m = 0; m < NM; m++) {
            int k = metric(names[m]);
            double x[R], w[4];
            for (int rep = 0; rep < R; rep++) x[rep] = r.v[(p * R + (size_t)rep) * r.nmetrics + k];
            for (int t = 0; t < 4; t++) {
                ss_ci c = ss_ci95(x, (size_t)prefix[t]);
                assert_int_equal(c.n, prefix[t]);
                assert_true(c.lo < c.mean && c.mean < c.hi);
                w[t] = (c.hi - c.lo) / fabs(c.mean);
                total[t] += w[t];
            }
            if (!(w[3] < w[0]))
                fail_msg("point %zu, %s: relative CI width %g with R=3, %g with R=24", p,
                         names[m], w[0], w[3]);
        }
    for (int t = 1; t < 4; t++)
        if (!(total[t] < total[t - 1]))
            fail_msg("summed relative CI width %g with R=%d, %g with R=%d", total[t - 1],
                     prefix[t - 1], total[t], prefix[t]);
    ss_sweep_results_free(&r);
    ss_study_free(s);
}

/* ================================================================== metrics */

/* Every sweep metric that is not derived is a number of results.db's summary table, with
 * the same value ("ttft_s.p99" is (ttft_s, p99); "duration_s" is (duration_s, value)), or
 * is undefined where the table has no row (SLO figures of a scenario without SLOs). */
#define NMLPERF 14 /* the mlperf.* metrics */

static size_t match_summary(const char *study_text, const char *axis, bool with_slo)
{
    ss_study *s = load_study(study_text);
    (void)axis;
    ss_scenario *sc = NULL;
    ss_diag d;
    ss_diag_clear(&d);
    assert_int_equal(ss_study_load_point_scenario(s, 0, NULL, &sc, &d), SS_OK);
    ss_run_args a = {.out_dir = "build-test-out/sweep-summary", .seed = ss_study_seed(s, sc),
                     .replication = 1, .command_line = "test"};
    if (ss_run_scenario(sc, &a, &d)) fail_msg("run failed: %s", d.msg);
    double *v = malloc(ss_sweep_study_nmetrics(s) * sizeof *v);
    uint64_t seed = 0;
    /* job 1 = point 0, replication 1: the same run */
    assert_int_equal(ss_sweep_run_job(s, 1, v, &seed, &d), SS_OK);
    assert_int_equal(seed, a.seed);
    sqlite3 *db;
    assert_int_equal(sqlite3_open("build-test-out/sweep-summary/results.db", &db), SQLITE_OK);
    size_t matched = 0;
    for (size_t k = 0; k < ss_sweep_nmetrics(); k++) {
        const char *name = ss_sweep_metric_name(k);
        char metric_[128], stat[64];
        const char *dot = strrchr(name, '.');
        if (dot) {
            snprintf(metric_, sizeof metric_, "%.*s", (int)(dot - name), name);
            snprintf(stat, sizeof stat, "%s", dot + 1);
        } else {
            snprintf(metric_, sizeof metric_, "%s", name);
            snprintf(stat, sizeof stat, "value");
        }
        sqlite3_stmt *st;
        assert_int_equal(sqlite3_prepare_v2(db, "SELECT value FROM summary WHERE metric = ? AND "
                                                "stat = ?", -1, &st, NULL), SQLITE_OK);
        sqlite3_bind_text(st, 1, metric_, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, stat, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW) {
            double want = sqlite3_column_double(st, 0);
            /* undefined statistics are 0 in the summary and NaN in a sweep */
            if (!(v[k] == want || (isnan(v[k]) && want == 0)))
                fail_msg("%s: sweep %.17g, summary table %.17g", name, v[k], want);
            matched++;
        } else if (!strncmp(name, "slo.", 4)) {
            if (with_slo || !isnan(v[k])) fail_msg("%s: no row in the summary table", name);
        } else if (!strncmp(name, "mlperf.", 7)) {
            /* MLPerf figures: undefined outside MLPerf mode (test_mlperf_metrics) */
            if (!isnan(v[k])) fail_msg("%s: defined outside MLPerf mode", name);
        } else if (strcmp(name, "gpus") && !strstr(name, "per_gpu") &&
                   !strstr(name, "interactivity")) {
            fail_msg("sweep metric %s is not in the summary table", name);
        }
        sqlite3_finalize(st);
    }
    /* per-class metrics: results.db's class_summary rows, "classes.NAME.metric.stat" */
    size_t nclass = 0;
    for (size_t k = ss_sweep_nmetrics(); k < ss_sweep_study_nmetrics(s); k++) {
        size_t c = (k - ss_sweep_nmetrics()) / ss_sweep_class_nmetrics();
        const char *cname = ss_study_class_name(s, c);
        char full[160], metric_[128], stat[64];
        ss_sweep_results res = {0};
        assert_int_equal(ss_sweep_results_init(&res, s, &d), SS_OK);
        snprintf(full, sizeof full, "%s", ss_sweep_results_metric_name(&res, k));
        ss_sweep_results_free(&res);
        size_t pre = strlen("classes.") + strlen(cname) + 1;
        assert_true(!strncmp(full, "classes.", 8) && strlen(full) > pre);
        const char *rest = full + pre, *dot = strrchr(rest, '.');
        assert_non_null(dot);
        snprintf(metric_, sizeof metric_, "%.*s", (int)(dot - rest), rest);
        snprintf(stat, sizeof stat, "%s", dot + 1);
        sqlite3_stmt *st;
        assert_int_equal(sqlite3_prepare_v2(db, "SELECT value FROM class_summary WHERE class = ?"
                                                " AND metric = ? AND stat = ?", -1, &st, NULL),
                         SQLITE_OK);
        sqlite3_bind_text(st, 1, cname, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, metric_, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, stat, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_ROW) fail_msg("%s: no class_summary row", full);
        double want = sqlite3_column_double(st, 0);
        if (!(v[k] == want || (isnan(v[k]) && want == 0)))
            fail_msg("%s: sweep %.17g, class_summary %.17g", full, v[k], want);
        sqlite3_finalize(st);
        nclass++;
    }
    if (with_slo) assert_int_equal(nclass, 2 * ss_sweep_class_nmetrics());
    else assert_int_equal(nclass, 0);
    sqlite3_close(db);
    /* the derived ones */
    assert_float_equal(v[metric("gpus")], 1, 0);
    assert_float_equal(v[metric("throughput.output_tokens_per_s_per_gpu")],
                       a.summary.output_throughput, 1e-9);
    assert_float_equal(v[metric("interactivity.tokens_per_s_per_user")],
                       1.0 / a.summary.req[SS_M_TPOT].p50, 1e-9);
    /* another replication is another run */
    double *v0 = malloc(ss_sweep_study_nmetrics(s) * sizeof *v0);
    assert_int_equal(ss_sweep_run_job(s, 0, v0, &seed, &d), SS_OK);
    assert_true(v0[metric("ttft_s.mean")] != v[metric("ttft_s.mean")]);
    free(v0);
    free(v);
    ss_scenario_free(sc);
    ss_study_free(s);
    return matched;
}

static void test_metrics_match_summary_table(void **state)
{
    (void)state;
    size_t n = match_summary("study:\n  scenario: small.yaml\n  replications: 2\n  axes:\n"
                             "    workload.arrival.rate: [30]\n", NULL, false);
    /* not the derived four, no SLO, not MLPerf */
    assert_int_equal(n, ss_sweep_nmetrics() - 4 - 5 - NMLPERF);
    /* two request classes with SLOs: the SLO figures too */
    n = match_summary("study:\n  scenario: chat-and-summarise\n  replications: 2\n  axes:\n"
                      "    workload.duration: [40s]\n", NULL, true);
    assert_int_equal(n, ss_sweep_nmetrics() - 4 - NMLPERF);
}

static void test_metric_table(void **state)
{
    (void)state;
    assert_int_equal(ss_sweep_metric_find("no.such.metric"), -1);
    assert_int_equal(ss_sweep_metric_better((size_t)metric("ttft_s.p99")), -1);
    assert_int_equal(ss_sweep_metric_better((size_t)metric("throughput.requests_per_s")), 1);
    assert_string_equal(ss_sweep_metric_unit((size_t)metric("tpot_s.p50")), "s");
    for (size_t i = 0; i < ss_sweep_nmetrics(); i++)
        for (size_t j = i + 1; j < ss_sweep_nmetrics(); j++)
            assert_string_not_equal(ss_sweep_metric_name(i), ss_sweep_metric_name(j));
    /* undefined statistics are NaN: a one-token output has no TPOT */
    ss_study *s = load_study("study:\n  scenario: small.yaml\n  mode: list\n  points:\n"
                             "    - {workload.output_tokens.max: 1, workload.num_requests: 20}\n");
    double *v = malloc(ss_sweep_nmetrics() * sizeof *v);
    uint64_t seed;
    ss_diag d;
    ss_diag_clear(&d);
    assert_int_equal(ss_sweep_run_job(s, 0, v, &seed, &d), SS_OK);
    assert_float_equal(v[metric("tpot_s.count")], 0, 0);
    assert_true(isnan(v[metric("tpot_s.p50")]));
    assert_true(isnan(v[metric("interactivity.tokens_per_s_per_user")]));
    assert_true(v[metric("ttft_s.count")] == 20);
    free(v);
    ss_study_free(s);
}

/* ================================================================== runners */

static const char *const grid4 = "study:\n"
                                 "  scenario: small.yaml\n"
                                 "  replications: 3\n"
                                 "  axes:\n"
                                 "    workload.arrival.rate: [5, 40]\n"
                                 "    replica.max_num_seqs: [16, 64]\n"
                                 "    workload.num_requests: [120]\n";

static void assert_same(const ss_sweep_results *a, const ss_sweep_results *b)
{
    size_t n = a->npoints * (size_t)a->reps * a->nmetrics;
    for (size_t i = 0; i < n; i++)
        if (!(a->v[i] == b->v[i] || (isnan(a->v[i]) && isnan(b->v[i]))))
            fail_msg("value %zu (job %zu, %s) differs: %.17g vs %.17g", i, i / a->nmetrics,
                     ss_sweep_metric_name(i % a->nmetrics), a->v[i], b->v[i]);
    for (size_t p = 0; p < a->npoints; p++) assert_int_equal(a->seed[p], b->seed[p]);
}

static void test_workers_and_ranks_agree(void **state)
{
    (void)state;
    ss_study *s = load_study(grid4);
    ss_diag d;
    ss_diag_clear(&d);
    ss_sweep_results serial, forked, split;
    assert_int_equal(ss_sweep_results_init(&serial, s, &d), SS_OK);
    assert_int_equal(ss_sweep_results_init(&forked, s, &d), SS_OK);
    assert_int_equal(ss_sweep_results_init(&split, s, &d), SS_OK);
    run_all(s, 1, 1, 0, &serial);
    run_all(s, 3, 1, 0, &forked);
    /* the jobs of "ranks" 0..2 of 3 (as MPI splits them), each with 2 workers */
    for (size_t k = 0; k < 3; k++) run_all(s, 2, 3, k, &split);
    assert_same(&serial, &forked);
    assert_same(&serial, &split);
    /* every job ran: nothing is left NaN where a value is defined */
    assert_false(isnan(serial.v[11 * serial.nmetrics + metric("ttft_s.p99")]));
    /* and the points really differ */
    assert_true(serial.v[metric("ttft_s.p99")] !=
                serial.v[3 * 3 * serial.nmetrics + metric("ttft_s.p99")]);

    /* the database: same results, different run metadata => identical canonical dumps */
    ss_sweep_meta m1 = {.version = "x", .host = "a", .started_at = "t1", .command_line = "c",
                        .wall_s = 1.5, .workers = 1, .ranks = 1};
    ss_sweep_meta m2 = {.version = "y", .host = "b", .started_at = "t2", .command_line = "d",
                        .wall_s = 9.25, .workers = 3, .ranks = 4};
    ss_rc rc = ss_mkdir_p("build-test-out/sweep-db", &d);
    assert_int_equal(rc, SS_OK);
    assert_int_equal(ss_sweep_db_write("build-test-out/sweep-db/a.db", s, &serial, &m1, &d),
                     SS_OK);
    assert_int_equal(ss_sweep_db_write("build-test-out/sweep-db/b.db", s, &split, &m2, &d),
                     SS_OK);
    char *da = NULL, *db = NULL;
    size_t la = 0, lb = 0;
    FILE *fa = open_memstream(&da, &la), *fb = open_memstream(&db, &lb);
    assert_int_equal(ss_sweep_db_dump("build-test-out/sweep-db/a.db", fa, &d), SS_OK);
    assert_int_equal(ss_sweep_db_dump("build-test-out/sweep-db/b.db", fb, &d), SS_OK);
    fclose(fa);
    fclose(fb);
    assert_string_equal(da, db);
    /* 4 points x 3 replications x every metric, and one stats row per point and metric */
    size_t runs = 0, stats = 0;
    const char *p = strstr(da, "== point_runs\n"), *q = strstr(da, "== point_stats\n");
    assert_non_null(p);
    assert_non_null(q);
    for (const char *c = p; c < q; c++) runs += *c == '\n';
    for (const char *c = q; *c; c++) stats += *c == '\n';
    assert_int_equal(runs - 1, 4 * 3 * ss_sweep_nmetrics());
    assert_int_equal(stats - 1, 4 * ss_sweep_nmetrics());
    free(da);
    free(db);
    /* a dump of something that is not a sweep database fails cleanly */
    FILE *null = fopen("/dev/null", "w");
    assert_int_not_equal(ss_sweep_db_dump("tests/data/good/small.yaml", null, &d), SS_OK);
    fclose(null);
    ss_sweep_results_free(&serial);
    ss_sweep_results_free(&forked);
    ss_sweep_results_free(&split);
    ss_study_free(s);
}

/* A job that fails stops the sweep with an error naming the point and replication, with one
 * worker and with several. The study is checked when it is loaded, so a failure is made by
 * removing the model file the scenario names after the check. */
static void copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    assert_non_null(in);
    assert_non_null(out);
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0) assert_int_equal(fwrite(buf, 1, n, out), n);
    fclose(in);
    assert_int_equal(fclose(out), 0);
}

static void test_failed_job(void **state)
{
    (void)state;
    ss_diag d;
    ss_diag_clear(&d);
    assert_int_equal(ss_mkdir_p("build-test-out/sweep-fail", &d), SS_OK);
    copy_file("models/data/llama-3.1-8b.yaml", "build-test-out/sweep-fail/model.yaml");
    FILE *f = fopen("build-test-out/sweep-fail/scenario.yaml", "w");
    assert_non_null(f);
    fputs("schema_version: 1\nname: fail\nseed: 3\nmodel: model.yaml\n"
          "cluster:\n  pools:\n    - hardware: h100-sxm\n"
          "workload:\n  arrival: {process: poisson, rate: 20}\n  num_requests: 50\n"
          "  prompt_tokens: {dist: fixed, value: 100}\n  output_tokens: {dist: fixed, value: 10}\n",
          f);
    assert_int_equal(fclose(f), 0);
    ss_study *s = NULL;
    assert_int_equal(ss_study_load_string("fail.yaml",
                                          "study:\n  scenario: scenario.yaml\n  replications: 2\n"
                                          "  axes:\n    workload.arrival.rate: [5, 10, 20]\n",
                                          "build-test-out/sweep-fail", &s, &d),
                     SS_OK);
    assert_int_equal(remove("build-test-out/sweep-fail/model.yaml"), 0);
    for (int workers = 1; workers <= 3; workers += 2) {
        ss_sweep_results r;
        ss_diag_clear(&d);
        assert_int_equal(ss_sweep_results_init(&r, s, &d), SS_OK);
        ss_rc rc = ss_sweep_run(s, workers, 1, 0, &r, NULL, NULL, &d);
        assert_int_not_equal(rc, SS_OK);
        char buf[2048];
        ss_diag_format(&d, buf, sizeof buf);
        /* the lowest failing job, whatever the completion order */
        if (!strstr(buf, "point 0, replication 0: ") || !strstr(buf, "model.yaml"))
            fail_msg("-j %d: unexpected error: %s", workers, buf);
        ss_sweep_results_free(&r);
    }
    ss_study_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ci95_values),
        cmocka_unit_test(test_ci_shrinks_with_replications),
        cmocka_unit_test(test_metrics_match_summary_table),
        cmocka_unit_test(test_metric_table),
        cmocka_unit_test(test_workers_and_ranks_agree),
        cmocka_unit_test(test_failed_job),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

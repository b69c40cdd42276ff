/* Study files (sim/study/study.h): point expansion (product order, ranges, lists), families,
 * seeds, and the bad-input contract: every mistake is reported at its line and column. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sim/study/study.h"

/* Tests run from the source tree; the base scenario is tests/data/good/small.yaml. */
#define BASE "tests/data/good"

static ss_study *load_ok(const char *text)
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

/* The study must be refused with a message containing `want`. */
static void load_bad(const char *text, const char *want)
{
    ss_study *s = NULL;
    ss_diag d;
    ss_diag_clear(&d);
    ss_rc rc = ss_study_load_string("t.yaml", text, BASE, &s, &d);
    char buf[2048];
    ss_diag_format(&d, buf, sizeof buf);
    if (rc == SS_OK) {
        ss_study_free(s);
        fail_msg("study accepted, expected an error containing \"%s\"", want);
    }
    assert_null(s);
    if (!strstr(buf, want)) fail_msg("error \"%s\" does not contain \"%s\"", buf, want);
}

static void assert_point(const ss_study *s, size_t i, const char *a, const char *b)
{
    ss_overrides ov;
    ss_study_point(s, i, &ov);
    assert_int_equal(ov.n, b ? 2 : 1);
    assert_string_equal(ov.items[0], a);
    if (b) assert_string_equal(ov.items[1], b);
}

static void test_product_order(void **state)
{
    (void)state;
    ss_study *s = load_ok("study:\n"
                          "  name: grid\n"
                          "  scenario: small.yaml\n"
                          "  replications: 3\n"
                          "  axes:\n"
                          "    workload.arrival.rate: [2, 4, 8]\n"
                          "    replica.max_num_seqs: {from: 16, to: 128, mul: 2}\n");
    assert_string_equal(ss_study_name(s), "grid");
    assert_int_equal(ss_study_replications(s), 3);
    assert_int_equal(ss_study_npoints(s), 12);
    /* axes in file order, the last varies fastest */
    assert_point(s, 0, "workload.arrival.rate=2", "replica.max_num_seqs=16");
    assert_point(s, 1, "workload.arrival.rate=2", "replica.max_num_seqs=32");
    assert_point(s, 3, "workload.arrival.rate=2", "replica.max_num_seqs=128");
    assert_point(s, 4, "workload.arrival.rate=4", "replica.max_num_seqs=16");
    assert_point(s, 11, "workload.arrival.rate=8", "replica.max_num_seqs=128");
    assert_string_equal(ss_study_family(s, 5), "all");
    /* the point's scenario carries its overrides */
    ss_scenario *sc = NULL;
    ss_diag d;
    ss_diag_clear(&d);
    assert_int_equal(ss_study_load_point_scenario(s, 5, NULL, &sc, &d), SS_OK);
    assert_int_equal(sc->sched.max_num_seqs, 32);
    assert_non_null(strstr(sc->overrides, "workload.arrival.rate=4\n"));
    /* no study seed: the scenario's (small.yaml says 7) */
    assert_int_equal(ss_study_seed(s, sc), 7);
    ss_scenario_free(sc);
    /* extra overrides come after the point's */
    const char *extra[] = {"replica.max_num_seqs=8"};
    ss_overrides ov = {.items = extra, .n = 1};
    assert_int_equal(ss_study_load_point_scenario(s, 5, &ov, &sc, &d), SS_OK);
    assert_int_equal(sc->sched.max_num_seqs, 8);
    ss_scenario_free(sc);
    assert_int_not_equal(ss_study_load_point_scenario(s, 12, NULL, &sc, &d), SS_OK);
    ss_study_free(s);
}

static void test_ranges(void **state)
{
    (void)state;
    ss_study *s = load_ok("study:\n"
                          "  scenario: small.yaml\n"
                          "  seed: 99\n"
                          "  axes:\n"
                          "    workload.arrival.rate: {from: 0.5, to: 1.5, step: 0.5}\n");
    assert_int_equal(ss_study_npoints(s), 3);
    assert_point(s, 0, "workload.arrival.rate=0.5", NULL);
    assert_point(s, 1, "workload.arrival.rate=1", NULL);
    assert_point(s, 2, "workload.arrival.rate=1.5", NULL);
    ss_scenario *sc = NULL;
    ss_diag d;
    ss_diag_clear(&d);
    assert_int_equal(ss_study_load_point_scenario(s, 0, NULL, &sc, &d), SS_OK);
    assert_int_equal(ss_study_seed(s, sc), 99);
    ss_scenario_free(sc);
    ss_study_free(s);
    /* tenths do not drift: 0.1 .. 1.0 is ten values, printed short */
    s = load_ok("study:\n  scenario: small.yaml\n  axes:\n"
                "    workload.arrival.rate: {from: 0.1, to: 1.0, step: 0.1}\n");
    assert_int_equal(ss_study_npoints(s), 10);
    assert_point(s, 2, "workload.arrival.rate=0.3", NULL);
    assert_point(s, 9, "workload.arrival.rate=1", NULL);
    ss_study_free(s);
    /* integer steps that do not land on `to` stop below it */
    s = load_ok("study:\n  scenario: small.yaml\n  axes:\n"
                "    replica.max_num_seqs: {from: 10, to: 35, step: 10}\n");
    assert_int_equal(ss_study_npoints(s), 3);
    assert_point(s, 2, "replica.max_num_seqs=30", NULL);
    ss_study_free(s);
}

static void test_list_and_family(void **state)
{
    (void)state;
    ss_study *s = load_ok("study:\n"
                          "  scenario: small.yaml\n"
                          "  mode: list\n"
                          "  points:\n"
                          "    - {replica.scheduler: vllm, replica.max_num_seqs: 32}\n"
                          "    - {replica.scheduler: sarathi, replica.chunk_size: 512}\n"
                          "    - {replica.max_num_seqs: 16}\n"
                          "  family: [replica.scheduler]\n");
    assert_int_equal(ss_study_npoints(s), 3);
    assert_point(s, 0, "replica.scheduler=vllm", "replica.max_num_seqs=32");
    assert_point(s, 1, "replica.scheduler=sarathi", "replica.chunk_size=512");
    assert_point(s, 2, "replica.max_num_seqs=16", NULL);
    assert_string_equal(ss_study_family(s, 0), "scheduler=vllm");
    assert_string_equal(ss_study_family(s, 1), "scheduler=sarathi");
    assert_string_equal(ss_study_family(s, 2), "scheduler=(base)");
    ss_study_free(s);
    s = load_ok("study:\n  scenario: small.yaml\n  axes:\n"
                "    replica.scheduler: [vllm, orca]\n    replica.max_num_seqs: [8, 16]\n"
                "  family: [replica.scheduler, replica.max_num_seqs]\n");
    assert_string_equal(ss_study_family(s, 1), "scheduler=vllm, max_num_seqs=16");
    assert_string_equal(ss_study_family(s, 2), "scheduler=orca, max_num_seqs=8");
    ss_study_free(s);
    /* keys with list indices: as axes, and (quoted) as family keys */
    s = load_ok("study:\n  scenario: small.yaml\n  axes:\n"
                "    cluster.pools[0].hardware: [h100-sxm, a100-80gb]\n"
                "    cluster.pools[0].parallelism.tp: [1, 2]\n"
                "  family: [\"cluster.pools[0].hardware\"]\n");
    assert_int_equal(ss_study_npoints(s), 4);
    assert_point(s, 3, "cluster.pools[0].hardware=a100-80gb", "cluster.pools[0].parallelism.tp=2");
    assert_string_equal(ss_study_family(s, 3), "hardware=a100-80gb");
    ss_scenario *sc = NULL;
    ss_diag d;
    ss_diag_clear(&d);
    assert_int_equal(ss_study_load_point_scenario(s, 3, NULL, &sc, &d), SS_OK);
    assert_int_equal(sc->pools[0].par.tp, 2);
    ss_scenario_free(sc);
    ss_study_free(s);
}

static void test_builtin_scenario(void **state)
{
    (void)state;
    ss_study *s = load_ok("study:\n  scenario: default\n  axes:\n"
                          "    workload.arrival.rate: [1]\n");
    assert_non_null(strstr(ss_study_scenario_text(s), "name: default"));
    assert_string_equal(ss_study_scenario_ref(s), "default");
    assert_non_null(ss_study_doc(s));
    ss_study_free(s);
}

static void test_bad_input(void **state)
{
    (void)state;
    /* structure of the study itself */
    load_bad("", "t.yaml: key 'study': empty study file");
    load_bad("studdy:\n  scenario: small.yaml\n", "t.yaml:1:1: key 'studdy': unknown key");
    load_bad("study:\n  scenario: small.yaml\n  replicatons: 2\n",
             "t.yaml:3:3: key 'study.replicatons': unknown key");
    load_bad("study:\n  scenario: small.yaml\n  replications: three\n",
             "t.yaml:3:17: key 'study.replications': expected an integer");
    load_bad("study:\n  scenario: small.yaml\n  replications: 0\n  axes: {a: [1]}\n",
             "t.yaml:3:17: key 'study.replications'");
    load_bad("study:\n  replications: 2\n", "key 'study.scenario': missing required key");
    load_bad("study:\n  scenario: small.yaml\n  mode: grid\n", "key 'study.mode'");
    load_bad("study:\n  scenario: small.yaml\n", "t.yaml:2:3: key 'study.axes': missing");
    load_bad("study:\n  scenario: small.yaml\n  axes: {}\n",
             "t.yaml:3:9: key 'study.axes': product mode needs at least one axis");
    load_bad("study:\n  scenario: small.yaml\n  axes:\n    replica.max_num_seqs: []\n",
             "t.yaml:4:27: key 'study.axes.replica.max_num_seqs': empty axis");
    load_bad("study:\n  scenario: small.yaml\n  axes:\n    replica.max_num_seqs:\n",
             "key 'study.axes.replica.max_num_seqs': expected a list of values or a range");
    load_bad("study:\n  scenario: small.yaml\n  axes:\n    replica.max_num_seqs: 8\n",
             "t.yaml:4:27: key 'study.axes.replica.max_num_seqs': expected a list");
    load_bad("study:\n  scenario: small.yaml\n  axes:\n    replica.max_num_seqs: [8, [9]]\n",
             "t.yaml:4:31: key 'study.axes.replica.max_num_seqs': expected a single value");
    load_bad("study:\n  scenario: small.yaml\n  axes:\n    a: [1]\n    a: [2]\n",
             "t.yaml:5:5: key 'study.axes.a': duplicate axis");
    /* ranges */
    load_bad("study:\n  scenario: small.yaml\n  axes:\n"
             "    replica.max_num_seqs: {from: 8, to: 64, step: 8, mul: 2}\n",
             "t.yaml:4:27: key 'study.axes.replica.max_num_seqs': a range needs exactly one");
    load_bad("study:\n  scenario: small.yaml\n  axes:\n"
             "    replica.max_num_seqs: {from: 64, to: 8, step: 8}\n", "'from' (64) is above");
    load_bad("study:\n  scenario: small.yaml\n  axes:\n"
             "    replica.max_num_seqs: {from: 8, to: 64, stp: 8}\n",
             "key 'study.axes.replica.max_num_seqs.stp': unknown key");
    load_bad("study:\n  scenario: small.yaml\n  axes:\n"
             "    replica.max_num_seqs: {from: 8, to: 64, mul: 1}\n",
             "key 'study.axes.replica.max_num_seqs.mul'");
    load_bad("study:\n  scenario: small.yaml\n  axes:\n"
             "    replica.max_num_seqs: {from: 0, to: 64, mul: 2}\n",
             "a multiplicative range needs 'from' > 0");
    load_bad("study:\n  scenario: small.yaml\n  axes:\n"
             "    replica.max_num_seqs: {from: 1, to: 1e9, step: 1}\n", "more than 100000 values");
    /* modes */
    load_bad("study:\n  scenario: small.yaml\n  axes: {replica.max_num_seqs: [8]}\n"
             "  points: [{replica.max_num_seqs: 8}]\n",
             "t.yaml:4:11: key 'study.points': `points` belongs to list mode");
    load_bad("study:\n  scenario: small.yaml\n  mode: list\n  points: []\n",
             "key 'study.points': list mode needs at least one point");
    load_bad("study:\n  scenario: small.yaml\n  mode: list\n  points: [{}]\n",
             "t.yaml:4:12: key 'study.points[0]': expected a non-empty map");
    load_bad("study:\n  scenario: small.yaml\n  mode: list\n  points:\n    - 8\n",
             "t.yaml:5:7: key 'study.points[0]': expected a non-empty map of scenario key -> "
             "value, got a scalar");
    /* family */
    load_bad("study:\n  scenario: small.yaml\n  axes: {replica.max_num_seqs: [8]}\n"
             "  family: [replica.scheduler]\n",
             "t.yaml:4:12: key 'study.family': 'replica.scheduler' is not a key this study "
             "varies");
    /* the base scenario */
    load_bad("study:\n  scenario: nothere.yaml\n  axes: {replica.max_num_seqs: [8]}\n",
             "t.yaml:2:13: key 'study.scenario': 'nothere.yaml' is neither a built-in "
             "scenario (");
    load_bad("study:\n  scenario: ../bad/typo_key.yaml\n  axes: {replica.max_num_seqs: [8]}\n",
             "typo_key.yaml:14:1: key 'worklod': unknown key");
}

/* A point the scenario refuses is reported where the study set the offending value. */
static void test_bad_points(void **state)
{
    (void)state;
    load_bad("study:\n  scenario: small.yaml\n  axes:\n"
             "    replica.scheduler: [vllm, fastest]\n",
             "t.yaml:4:31: key 'replica.scheduler': point 1 (replica.scheduler=fastest): "
             "unknown scheduler 'fastest'");
    load_bad("study:\n  scenario: small.yaml\n  axes:\n"
             "    replica.max_num_seqs: [8, 0]\n",
             "t.yaml:4:31: key 'replica.max_num_seqs': point 1 (replica.max_num_seqs=0)");
    load_bad("study:\n  scenario: small.yaml\n  axes:\n"
             "    replica.max_num_seq: [8]\n",
             "t.yaml:4:27: key 'replica.max_num_seq': point 0 (replica.max_num_seq=8): "
             "unknown key");
    load_bad("study:\n  scenario: small.yaml\n  axes:\n"
             "    workload.arrival.rate: [fast]\n",
             "key 'workload.arrival.rate': point 0 (workload.arrival.rate=fast): expected a "
             "number");
    /* a combination: chunk_size is valid for sarathi only */
    load_bad("study:\n  scenario: small.yaml\n  axes:\n"
             "    replica.scheduler: [sarathi, vllm]\n    replica.chunk_size: [512]\n",
             "t.yaml:5:26: key 'replica.chunk_size': point 1 (replica.scheduler=vllm, "
             "replica.chunk_size=512)");
    load_bad("study:\n  scenario: small.yaml\n  mode: list\n  points:\n"
             "    - {replica.max_num_seqs: 8}\n    - {replica: 8}\n",
             "t.yaml:6:17: key 'replica': point 1 (replica=8)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_product_order),   cmocka_unit_test(test_ranges),
        cmocka_unit_test(test_list_and_family), cmocka_unit_test(test_builtin_scenario),
        cmocka_unit_test(test_bad_input),       cmocka_unit_test(test_bad_points),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Scenario loading: built-in scenarios load; defaults resolve; length distributions sample
 * within bounds with the right mean; unsupported cluster shapes are SS_ERR_UNSUPPORTED. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "workloads/scenario.h"

static void test_builtins_load(void **st)
{
    (void)st;
    int n = 0;
    for (const ss_embedded_file *f = ss_scenario_zoo; f->name; f++, n++) {
        ss_scenario *sc;
        ss_diag d;
        ss_diag_clear(&d);
        if (ss_scenario_load_string(f->path, f->text, NULL, &sc, &d)) fail_msg("%s: %s", f->name, d.msg);
        assert_true(sc->kv.blocks > 0);
        ss_scenario_free(sc);
    }
    assert_true(n >= 3);
    ss_scenario *sc;
    assert_int_equal(ss_scenario_load_string("d", ss_scenario_default_text(), NULL, &sc, NULL), SS_OK);
    assert_string_equal(sc->model.name, "llama-3.1-8b");
    assert_string_equal(sc->pools[0].hw.name, "h100-sxm");
    assert_int_equal(sc->sched.max_num_seqs, 256);
    assert_int_equal(sc->weight_dtype, SS_DTYPE_BF16);
    ss_scenario_free(sc);
}

/* Scenarios loaded through one ss_calib_cache borrow one calibration per profile document
 * (a sweep parses the H100 profile once, not once per point); without a cache each owns its
 * own; a GPU without calibration gets none either way. */
static void test_calib_cache(void **st)
{
    (void)st;
    ss_calib_cache *cache = ss_calib_cache_new();
    assert_non_null(cache);
    const char *t = ss_scenario_default_text();
    const char *h200[] = {"cluster.pools[0].hardware=h200-sxm"};
    const char *b200[] = {"cluster.pools[0].hardware=b200-sxm"};
    ss_overrides o200 = {h200, 1}, ob200 = {b200, 1};
    ss_scenario *a, *b, *c, *e, *own;
    ss_diag d;
    ss_diag_clear(&d);
    assert_int_equal(ss_scenario_load_string_cached("d", t, NULL, cache, &a, &d), SS_OK);
    assert_int_equal(ss_scenario_load_string_cached("d", t, NULL, cache, &b, &d), SS_OK);
    assert_int_equal(ss_scenario_load_string_cached("d", t, &o200, cache, &c, &d), SS_OK);
    assert_int_equal(ss_scenario_load_string_cached("d", t, &ob200, cache, &e, &d), SS_OK);
    assert_int_equal(ss_scenario_load_string("d", t, NULL, &own, &d), SS_OK);
    assert_non_null(a->calib);
    assert_ptr_equal(a->calib, b->calib);
    assert_null(a->calib_owned);
    assert_non_null(c->calib);
    assert_ptr_not_equal(a->calib, c->calib);
    assert_null(e->calib); /* b200: datasheet roofline */
    assert_non_null(own->calib);
    assert_ptr_equal(own->calib, own->calib_owned);
    assert_ptr_not_equal(own->calib, a->calib);
    /* scenarios go first (they borrow), then the cache */
    ss_scenario_free(a);
    ss_scenario_free(b);
    ss_scenario_free(c);
    ss_scenario_free(e);
    ss_scenario_free(own);
    ss_calib_cache_free(cache);
}

static void test_defaults_resolved(void **st)
{
    (void)st;
    ss_scenario *sc;
    const char *t = "model: llama-3.1-8b\ncluster: {pools: [{hardware: H100-SXM-80GB}]}\n"
                    "workload: {arrival: {process: offline}, num_requests: 3,"
                    " prompt_tokens: 10, output_tokens: 5}\n";
    ss_diag d;
    ss_diag_clear(&d);
    if (ss_scenario_load_string("t", t, NULL, &sc, &d)) fail_msg("%s", d.msg);
    assert_int_equal(sc->sched.max_model_len, sc->model.max_position); /* 0 -> model's */
    assert_int_equal(sc->sched.max_num_batched_tokens, sc->model.max_position); /* vllm */
    assert_string_equal(sc->pools[0].hw.name, "h100-sxm"); /* alias */
    assert_string_equal(sc->sched_ops->info.name, "vllm");
    ss_scenario_free(sc);
}

static void test_unsupported(void **st)
{
    (void)st;
    ss_scenario *sc;
    ss_diag d;
    ss_diag_clear(&d);
    const char *t = "model: llama-3.1-70b\ncluster: {pools: [{hardware: h100-sxm, "
                    "parallelism: {tp: 4, ep: 2}}]}\n"
                    "workload: {arrival: {process: offline}, num_requests: 3,"
                    " prompt_tokens: 10, output_tokens: 5}\n";
    assert_int_equal(ss_scenario_load_string("t", t, NULL, &sc, &d), SS_ERR_UNSUPPORTED);
    assert_int_equal(d.line, 2);
    assert_non_null(strstr(d.key, "parallelism.ep"));
}

static void test_lengths(void **st)
{
    (void)st;
    const char *t = "model: llama-3.1-8b\ncluster: {pools: [{hardware: h100-sxm}]}\n"
                    "workload:\n  arrival: {process: offline}\n  num_requests: 3\n"
                    "  prompt_tokens: {dist: normal, mean: 300, sd: 200, min: 100, max: 600}\n"
                    "  output_tokens: {dist: lognormal, mu: 5, sigma: 1, min: 2, max: 5000}\n";
    ss_scenario *sc;
    ss_diag d;
    ss_diag_clear(&d);
    if (ss_scenario_load_string("t", t, NULL, &sc, &d)) fail_msg("%s", d.msg);
    ss_rng r;
    assert_int_equal(ss_rng_init(&r, 1, 0, "t", NULL), SS_OK);
    const ss_len_dist *ls[2] = {&sc->workload.prompt, &sc->workload.output};
    for (int k = 0; k < 2; k++) {
        double sum = 0;
        int n = 200000;
        for (int i = 0; i < n; i++) {
            uint32_t v = ss_len_sample(ls[k], &r);
            assert_true(v >= ls[k]->min && v <= ls[k]->max);
            sum += v;
        }
        double want = ss_len_mean(ls[k]);
        double got = sum / n;
        if (fabs(got - want) / want > 0.01) fail_msg("dist %d mean %g want %g", k, got, want);
    }
    /* clipping matters: the normal's clipped mean is above 300 (lower tail folded up) */
    assert_true(ss_len_mean(ls[0]) > 310);
    ss_rng_free(&r);
    ss_scenario_free(sc);
}

/* Bounded Zipf: mean and the probability of the most likely value match the law. */
static void test_zipf(void **st)
{
    (void)st;
    const double exps[] = {0.8, 1.0, 1.5};
    for (int e = 0; e < 3; e++) {
        char t[512];
        snprintf(t, sizeof t,
                 "model: llama-3.1-8b\ncluster: {pools: [{hardware: h100-sxm}]}\n"
                 "workload:\n  arrival: {process: offline}\n  num_requests: 3\n"
                 "  prompt_tokens: {dist: zipf, s: %g, min: 10, max: 5000}\n"
                 "  output_tokens: 5\n", exps[e]);
        ss_scenario *sc;
        ss_diag d;
        ss_diag_clear(&d);
        if (ss_scenario_load_string("t", t, NULL, &sc, &d)) fail_msg("%s", d.msg);
        const ss_len_dist *l = &sc->workload.prompt;
        ss_rng r;
        assert_int_equal(ss_rng_init(&r, 9, 0, "t", NULL), SS_OK);
        int n = 400000, at_min = 0;
        double sum = 0;
        for (int i = 0; i < n; i++) {
            uint32_t v = ss_len_sample(l, &r);
            assert_true(v >= 10 && v <= 5000);
            sum += v;
            at_min += v == 10;
        }
        double h = 0;
        for (int k = 1; k <= 4991; k++) h += pow(k, -exps[e]);
        double p1 = 1.0 / h, got_p1 = (double)at_min / n, mean = sum / n, want = ss_len_mean(l);
        printf("zipf s=%.1f mean %.2f (law %.2f), P(min) %.4f (law %.4f)\n", exps[e], mean,
               want, got_p1, p1);
        assert_true(fabs(mean - want) / want < 0.02);
        assert_true(fabs(got_p1 - p1) / p1 < 0.03);
        ss_rng_free(&r);
        ss_scenario_free(sc);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_builtins_load), cmocka_unit_test(test_calib_cache),
        cmocka_unit_test(test_defaults_resolved),
        cmocka_unit_test(test_unsupported), cmocka_unit_test(test_lengths),
        cmocka_unit_test(test_zipf),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

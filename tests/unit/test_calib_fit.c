/* The calibration fitter on synthetic measurement tables whose generating coefficients are
 * known (calib_synth.h; no ../shared data needed): recovery, extrapolation, MoE, the profile
 * check, rows over the peak, small fits. The GEMM curves, their continuation and lattice are
 * tested in test_calib_gemm.c, the attention grids and their lattice in test_calib_attn.c,
 * the profile file and the "calibrated" cost model in test_calib_profile.c. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hwprofiles/calib/fit.h"

#include "tests/unit/calib_synth.h"

/* ------------------------------------------------------------------ tests */

static void test_recover_gemm(void **st)
{
    (void)st;
    synth s;
    synth_init(&s, 1000);
    fill(&s);
    ss_calib c;
    fit_synth(&s, &c);
    assert_string_equal(c.stack, "synthetic-1");
    const ss_cal_model *g = ss_calib_find_gemm(&c, SS_DTYPE_BF16, 6144, 4096);
    assert_non_null(g);
    /* The generating model is exactly representable: fixed cost, weight bytes, and one FLOP
     * slope in every m segment. */
    assert_true(fabs(g->terms[0].coef[0] - 4e-6) / 4e-6 < 0.02);
    assert_true(fabs(g->terms[1].coef[0] - 1 / 2.5e12) * 2.5e12 < 0.02);
    for (int i = 0; i < g->terms[3].nknots; i++)
        assert_true(fabs(g->terms[3].coef[i] - 1 / 600e12) * 600e12 < 0.02);
    assert_true(g->terms[3].nknots >= 4); /* 0, 16, 64, 256, ... inside 1..8192 */
    assert_true(g->median_ape < 1e-3);
    /* all-reduce: alpha, per-step and bandwidth */
    const ss_cal_model *a = ss_calib_find(&c, SS_FAM_ALLREDUCE, "custom_allreduce", SS_DTYPE_BF16);
    assert_non_null(a);
    assert_true(fabs(a->terms[0].coef[0] - 5e-6) / 5e-6 < 0.02);
    assert_true(fabs(a->terms[1].coef[0] - 2e-6) / 2e-6 < 0.02);
    assert_true(a->max_ape < 1e-3);
    /* the fitted attention model reproduces its generating function */
    const ss_cal_model *at = ss_calib_find(&c, SS_FAM_ATTN_DECODE, "", SS_DTYPE_BF16);
    assert_non_null(at);
    assert_true(at->p90_ape < 0.01);
    ss_calib_free(&c);
    synth_free(&s);
}

static void test_tp_extrapolation(void **st)
{
    (void)st;
    synth s;
    synth_init(&s, 1000);
    fill(&s);
    ss_calib c;
    fit_synth(&s, &c);
    const ss_cal_model *a = ss_calib_find(&c, SS_FAM_ALLREDUCE, "custom_allreduce", SS_DTYPE_BF16);
    /* measured at p = 2, 4 only: p = 8 follows the ring factor 2(p-1)/p */
    for (double by = 1e5; by <= 1e9; by *= 10) {
        double x[3] = {1, 7, by}, sc[3] = {1, 1, 2.0 * 7 / 8};
        double t = ss_cal_eval(a, x, sc), want = ar_truth(8, by);
        assert_true(fabs(t - want) / want < 0.02);
    }
    ss_calib_free(&c);
    synth_free(&s);
}

/* ss_cal_profile_check: a calibration fitted on one table predicting another. Rows of shapes
 * the calibration measured are scheme "profile" and, measured without noise, predicted
 * almost exactly; a held-out lattice shape is "profile-unseen"; a family without a model is
 * counted, not scored; a table 10 % slower is 10 % off everywhere. */
static void test_profile_check(void **st)
{
    (void)st;
    synth fit_t, chk;
    synth_init(&fit_t, 2000);
    fill_lattice(&fit_t, 2048, 4096);
    ss_calib c;
    fit_synth(&fit_t, &c);
    synth_init(&chk, 2000);
    fill_lattice(&chk, 0, 0); /* every shape, the held-out one included */
    for (int b = 1; b <= 4; b *= 2) { /* no attention model in c */
        ss_meas *r = push(&chk);
        r->family = SS_FAM_ATTN_DECODE, r->dtype = r->kv_dtype = SS_DTYPE_BF16;
        r->batch = b, r->kv = 1024, r->heads = 32, r->kv_heads = 8, r->head_dim = 128;
        r->time_s = attn_truth(b, 1, 1024, 1);
    }
    ss_meas *ap = push(&chk); /* approximate kernels are never scored */
    *ap = chk.t.rows[0];
    ap->flags |= SS_MEAS_APPROX;
    ss_diag d;
    ss_diag_clear(&d);
    ss_cv_result *r = NULL;
    size_t n = 0;
    long unc[SS_FAM_COUNT];
    for (int slow = 0; slow < 2; slow++) {
        if (slow)
            for (size_t i = 0; i < chk.t.n; i++) chk.t.rows[i].time_s *= 1.1;
        assert_int_equal(ss_cal_profile_check(&c, &chk.t, &r, &n, unc, NULL, &d), SS_OK);
        assert_int_equal(n, 2);
        assert_int_equal(r[0].scheme, SS_CV_PROFILE);
        assert_int_equal(r[0].family, SS_FAM_GEMM);
        assert_int_equal(r[0].groups, 15);
        assert_int_equal(r[0].rows, 15 * 14);
        assert_int_equal(r[1].scheme, SS_CV_PROFILE_UNSEEN);
        assert_int_equal(r[1].groups, 1);
        assert_int_equal(r[1].rows, 14);
        assert_int_equal(chk.t.rows[r[1].worst].n, 2048);
        assert_int_equal(chk.t.rows[r[1].worst].k, 4096);
        assert_int_equal(unc[SS_FAM_ATTN_DECODE], 3);
        assert_int_equal(unc[SS_FAM_GEMM], 0);
        if (!slow) {
            assert_true(r[0].max < 1e-3);
            assert_true(r[1].max < 0.06 && r[1].max > 0); /* the lattice's own error */
        } else {
            /* |t/1.1 - t| / t = 1/11 on the measured shapes */
            assert_true(fabs(r[0].median - 1.0 / 11) < 1e-3);
            assert_true(fabs(r[0].max - 1.0 / 11) < 2e-3);
        }
        assert_string_equal(ss_cv_scheme_name(r[0].scheme), "profile");
        assert_string_equal(ss_cv_scheme_name(r[1].scheme), "profile-unseen");
        free(r);
    }
    ss_calib_free(&c);
    synth_free(&fit_t);
    synth_free(&chk);
}

static void test_moe(void **st)
{
    (void)st;
    synth s;
    synth_init(&s, 1000);
    fill(&s);
    fill_moe(&s);
    ss_calib c;
    fit_synth(&s, &c);
    const ss_cal_model *mo = ss_calib_find(&c, SS_FAM_MOE, "", SS_DTYPE_BF16);
    assert_non_null(mo);
    assert_true(mo->max_ape < 0.02);
    /* a configuration never measured (Qwen3-30B-A3B: 2048 hidden, 768 wide, 128 experts,
     * top-8, at TP 2: 384 wide) and tokens beyond the measured 8192: monotone, within 3 % */
    double prev = 0;
    for (double tok = 1; tok <= 32768; tok *= 1.5) {
        double x[SS_CAL_MAX_TERMS], sc[SS_CAL_MAX_TERMS];
        assert_int_equal(ss_cal_moe_features(tok, 128, 8, 1, 2048, 384, 2, 0, x, sc), 5);
        double t = ss_cal_eval(mo, x, sc), want = moe_truth(tok, 128, 8, 2048, 384);
        assert_true(t >= prev);
        prev = t;
        assert_true(fabs(t - want) / want < 0.03);
    }
    /* expert parallel: 4 GPUs hold 32 experts each and get a quarter of the pairs */
    double x[SS_CAL_MAX_TERMS], sc[SS_CAL_MAX_TERMS];
    ss_cal_moe_features(4096, 32, 8, 4, 2048, 768, 2, 0, x, sc);
    assert_true(x[2] == 4096.0 * 8 / 4 && x[1] == 32 && x[4] == 4096.0 * 8);
    ss_cal_moe_features(2, 32, 8, 4, 2048, 768, 2, 0, x, sc);
    assert_true(x[1] == 4); /* balanced: 4 pairs reach 4 experts */
    /* the rows of the cross-validation: held out by MoE configuration */
    ss_cv_result *res = NULL;
    size_t nres = 0;
    ss_diag d;
    ss_diag_clear(&d);
    ss_cv_rows rows = {0};
    assert_int_equal(ss_cal_crossval(&s.t, &(ss_fit_opts){0}, 4, 1, &res, &nres, &rows, &d), SS_OK);
    int seen = 0;
    for (size_t i = 0; i < nres; i++)
        if (res[i].family == SS_FAM_MOE && res[i].scheme == SS_CV_SHAPES) {
            seen = 1;
            assert_int_equal(res[i].groups, 4);
            assert_true(res[i].p90 < 0.05);
            /* the row log holds the same rows, and the worst one's prediction */
            long logged = 0;
            int worst_found = 0;
            for (size_t k = 0; k < rows.n; k++) {
                const ss_cv_row *w = &rows.v[k];
                if (w->scheme != SS_CV_SHAPES || s.t.rows[w->row].family != SS_FAM_MOE) continue;
                logged++;
                if (w->row == res[i].worst && w->pred == res[i].worst_pred) worst_found = 1;
            }
            assert_int_equal(logged, res[i].rows);
            assert_true(worst_found);
        }
    assert_true(seen);
    for (size_t k = 1; k < rows.n; k++) /* scheme order */
        assert_true(rows.v[k].scheme >= rows.v[k - 1].scheme);
    ss_cv_rows_free(&rows);
    free(res);
    ss_calib_free(&c);
    synth_free(&s);
}

/* Rows faster than the GPU's peak: their whole series (source, family, dtype, KV dtype) is
 * flagged and left out of the fit; variant rows (sliding window) are no evidence, and rows
 * of another GPU's sources are not checked against this one. */
static void test_peak_check(void **st)
{
    (void)st;
    synth s;
    synth_init(&s, 1000);
    fill(&s); /* bf16 GEMMs and attention at most 600 / 400 TFLOP/s: valid on an H100 */
    size_t valid = s.t.n;
    for (long q = 256; q <= 4096; q *= 2) { /* FP8-KV prefill; one row 100x too fast */
        ss_meas *r = push(&s);
        r->family = SS_FAM_ATTN_PREFILL, r->dtype = SS_DTYPE_BF16, r->kv_dtype = SS_DTYPE_FP8;
        r->batch = 1, r->q = q, r->heads = 32, r->kv_heads = 8, r->head_dim = 128;
        r->time_s = attn_truth(1, (double)q, 0, 0) / (q == 4096 ? 500 : 1);
    }
    ss_meas *w = push(&s); /* a sliding-window row of the bf16 series: fewer FLOPs than its shape */
    *w = s.t.rows[valid - 1];
    for (size_t i = 0; i < valid; i++)
        if (s.t.rows[i].family == SS_FAM_ATTN_PREFILL) *w = s.t.rows[i];
    w->flags = SS_MEAS_VARIANT, w->time_s = 1e-9, w->line = (uint32_t)s.t.n + 1;
    ss_meas *o = push(&s); /* another GPU's GEMM, 10x faster than this GPU could */
    *o = s.t.rows[0];
    o->src = 1, o->m = 8192, o->time_s = 2.0 * 8192 * o->n * o->k / 1e16;
    snprintf(s.src[1].gpu, sizeof s.src[1].gpu, "b200");
    ss_hw hw;
    ss_diag d;
    ss_diag_clear(&d);
    assert_int_equal(ss_hw_load("h100-sxm", NULL, &hw, &d), SS_OK);
    ss_cal_peak_series *ser;
    size_t ns;
    assert_int_equal(ss_cal_check_peak(&s.t, &hw, &ser, &ns, &d), SS_OK);
    assert_int_equal(ns, 1);
    assert_int_equal(ser[0].family, SS_FAM_ATTN_PREFILL);
    assert_int_equal(ser[0].kv_dtype, SS_DTYPE_FP8);
    assert_int_equal(ser[0].rows, 5);
    assert_int_equal(ser[0].over, 1);
    assert_true(ser[0].peak == hw.peak_flops_fp8); /* the KV dtype's peak, the larger */
    assert_true(ser[0].max_ratio > 1.25 && ser[0].max_ratio < 500);
    assert_int_equal(s.src[0].over_peak, 5);
    assert_int_equal(s.src[1].over_peak, 0);
    free(ser);
    /* a second check finds nothing new and counts nothing twice */
    assert_int_equal(ss_cal_check_peak(&s.t, &hw, &ser, &ns, &d), SS_OK);
    assert_int_equal(ns, 0);
    assert_null(ser);
    assert_int_equal(s.src[0].over_peak, 5);
    for (size_t i = 0; i < s.t.n; i++) {
        const ss_meas *r = &s.t.rows[i];
        int want = r->family == SS_FAM_ATTN_PREFILL && r->kv_dtype == SS_DTYPE_FP8;
        assert_int_equal(!!(r->flags & SS_MEAS_OVER_PEAK), want);
    }
    /* an INT8 GEMM on a GPU without a rated 8-bit peak (A100: INT8 runs at twice BF16) is
     * not held to the BF16 peak */
    ss_hw a100;
    assert_int_equal(ss_hw_load("a100-80gb-sxm", NULL, &a100, &d), SS_OK);
    snprintf(s.src[1].gpu, sizeof s.src[1].gpu, "a100-80gb-sxm");
    o->dtype = SS_DTYPE_INT8, o->time_s = 2.0 * 8192 * o->n * o->k / 500e12; /* 1.6x BF16 */
    assert_int_equal(ss_cal_check_peak(&s.t, &a100, &ser, &ns, &d), SS_OK);
    assert_int_equal(ns, 0);
    assert_int_equal(o->flags & SS_MEAS_OVER_PEAK, 0);
    o->time_s = 0; /* an a100 row has no place in an h100 fit */
    ss_calib c;
    fit_synth(&s, &c);
    assert_non_null(ss_calib_find(&c, SS_FAM_ATTN_PREFILL, "", SS_DTYPE_BF16));
    assert_null(ss_calib_find(&c, SS_FAM_ATTN_PREFILL, "", SS_DTYPE_FP8));
    ss_calib_free(&c);
    synth_free(&s);
}

/* Decode rows reading at least twice the L2 (H100: 50 MiB) of KV are held to the memory
 * bandwidth: a series with such rows 3x faster than HBM is flagged whole; a series whose
 * only fast rows read less than two L2s (a benchmark re-reading its cache, wholly or in
 * part) is not; nor is anything when the GPU's L2 is unknown. */
static void test_bandwidth_check(void **st)
{
    (void)st;
    synth s;
    synth_init(&s, 1000);
    fill(&s); /* bf16 decode at 2.8 TB/s: valid */
    ss_hw hw;
    ss_diag d;
    ss_diag_clear(&d);
    assert_int_equal(ss_hw_load("h100-sxm", NULL, &hw, &d), SS_OK);
    assert_true(hw.l2_bytes == 50ull << 20);
    int knee = 0;
    for (int dt = 0; dt < 2; dt++)
        for (int b = 1; b <= 64; b *= 4)
            for (long kv = 64; kv <= 16384; kv *= 4) {
                ss_meas *r = push(&s);
                r->family = SS_FAM_ATTN_DECODE, r->dtype = SS_DTYPE_BF16;
                r->kv_dtype = dt ? SS_DTYPE_FP16 : SS_DTYPE_FP8;
                r->batch = b, r->kv = kv, r->heads = 32, r->kv_heads = 8, r->head_dim = 128;
                double bytes = (double)b * (double)(kv + 1) * 8 * 128 * 2 * (dt ? 2 : 1);
                r->time_s = attn_truth(b, 1, (double)kv, 1);
                if (!dt && bytes >= 2.0 * (double)hw.l2_bytes) r->time_s = bytes / (3 * 3.35e12);
                /* cached: within the L2, or partly (between one and two L2s: the check's
                 * threshold is two) */
                if (dt && bytes < 2.0 * (double)hw.l2_bytes) r->time_s = bytes / 10e12;
                knee += dt && bytes >= (double)hw.l2_bytes && bytes < 2.0 * (double)hw.l2_bytes;
            }
    assert_true(knee >= 3);
    ss_hw nol2 = hw;
    nol2.l2_bytes = 0;
    ss_cal_peak_series *ser;
    size_t ns;
    assert_int_equal(ss_cal_check_peak(&s.t, &nol2, &ser, &ns, &d), SS_OK);
    assert_int_equal(ns, 0);
    assert_int_equal(ss_cal_check_peak(&s.t, &hw, &ser, &ns, &d), SS_OK);
    assert_int_equal(ns, 1);
    assert_int_equal(ser[0].family, SS_FAM_ATTN_DECODE);
    assert_int_equal(ser[0].kv_dtype, SS_DTYPE_FP8);
    assert_int_equal(ser[0].bytes, 1);
    assert_true(ser[0].peak == hw.hbm_bandwidth);
    assert_true(fabs(ser[0].max_ratio - 3) < 1e-9);
    assert_int_equal(ser[0].rows, 20);
    free(ser);
    for (size_t i = 0; i < s.t.n; i++) {
        const ss_meas *r = &s.t.rows[i];
        int want = r->family == SS_FAM_ATTN_DECODE && r->kv_dtype == SS_DTYPE_FP8;
        assert_int_equal(!!(r->flags & SS_MEAS_OVER_PEAK), want);
    }
    synth_free(&s);
}

/* The streaming floor: a decode model keeps the fastest any row reading at least twice the
 * L2 streamed (none without an L2), and the validation's prediction of such a row is never
 * under its KV bytes at that rate, while a row within the L2 keeps the grid's time. */
static void test_spill_floor(void **st)
{
    (void)st;
    synth s;
    synth_init(&s, 1000);
    fill(&s);
    const double l2 = 50.0 * (1 << 20), bpt = 8 * 128 * 2 * 2;
    double want = 0;
    for (size_t i = 0; i < s.t.n; i++) {
        const ss_meas *r = &s.t.rows[i];
        double by = r->batch * (double)(r->kv + 1) * bpt;
        if (r->family == SS_FAM_ATTN_DECODE && by >= 2 * l2 && by / r->time_s > want)
            want = by / r->time_s;
    }
    assert_true(want > 2e12 && want < 2.8e12); /* the truth's 2.8 TB/s, less its fixed time */
    ss_calib c;
    fit_synth(&s, &c); /* no L2 given */
    ss_cal_model *m = (ss_cal_model *)ss_calib_find(&c, SS_FAM_ATTN_DECODE, "", SS_DTYPE_BF16);
    assert_non_null(m);
    assert_true(m->spill_bw == 0);
    ss_calib_free(&c);
    ss_diag d;
    ss_diag_clear(&d);
    ss_calib_init(&c);
    ss_fit_opts o = {.stack = NULL, .with_shapes = 1, .l2_bytes = l2};
    assert_int_equal(ss_cal_fit_all(&s.t, &o, &c, &d), SS_OK);
    m = (ss_cal_model *)ss_calib_find(&c, SS_FAM_ATTN_DECODE, "", SS_DTYPE_BF16);
    assert_non_null(m);
    assert_true(m->spill_bw == want);
    ss_meas big = {0}, small = {0};
    big.family = small.family = SS_FAM_ATTN_DECODE;
    big.dtype = big.kv_dtype = small.dtype = small.kv_dtype = SS_DTYPE_BF16;
    big.heads = small.heads = 32, big.kv_heads = small.kv_heads = 8;
    big.head_dim = small.head_dim = 128;
    big.batch = 256, big.kv = 16383;  /* 17 GB */
    small.batch = 4, small.kv = 1023; /* 17 MB */
    double tb = ss_cal_predict_row(&c, &s.t, &big), ts = ss_cal_predict_row(&c, &s.t, &small);
    m->spill_bw = 1e12; /* slower than the grid: the floor decides */
    double by = 256.0 * 16384 * bpt;
    assert_true(fabs(ss_cal_predict_row(&c, &s.t, &big) - by / 1e12) < 1e-12);
    assert_true(tb < by / 1e12);
    assert_true(ss_cal_predict_row(&c, &s.t, &small) == ts);
    c.l2_bytes = 0; /* L2 unknown: no floor in the validation */
    assert_true(ss_cal_predict_row(&c, &s.t, &big) == tb);
    ss_calib_free(&c);
    synth_free(&s);
}

/* A model with fewer rows than basis columns (a GEMM size class with five rows, six
 * columns, as a validation fold can leave): the fit must not depend on what the heap held
 * before (GSL's SVD reads rows it needs that an unpadded matrix lacks). Two fits, after the
 * freed heap was filled with two different patterns, give the same coefficients, and the
 * rows are reproduced. */
static void fit_small(const synth *s, ss_calib *c, unsigned char fillbyte)
{
    for (int k = 0; k < 64; k++) { /* leave freed blocks of many sizes holding the pattern */
        size_t sz = (size_t)(k + 1) * 96;
        unsigned char *junk = malloc(sz);
        assert_non_null(junk);
        memset(junk, fillbyte, sz);
        free(junk);
    }
    fit_synth_shapes(s, c, 0);
}

static void test_fit_fewer_rows_than_columns(void **st)
{
    (void)st;
    static const long ms[] = {1, 16, 64, 256, 1024};
    synth s;
    synth_init(&s, 16);
    for (int i = 0; i < 5; i++) {
        ss_meas *r = push(&s);
        r->family = SS_FAM_GEMM, r->dtype = SS_DTYPE_FP8, r->op = 1;
        r->m = ms[i], r->n = 576, r->k = 7168;
        r->time_s = gemm_truth((double)ms[i], 576, 7168) / 2 + 7e-9 * (double)ms[i];
    }
    ss_calib a, b;
    fit_small(&s, &a, 0xff); /* 0xffff... is a NaN */
    fit_small(&s, &b, 0x41);
    const ss_cal_model *ga = ss_calib_find_gemm(&a, SS_DTYPE_FP8, 576, 7168);
    const ss_cal_model *gb = ss_calib_find_gemm(&b, SS_DTYPE_FP8, 576, 7168);
    assert_non_null(ga);
    assert_non_null(gb);
    int cols = 0;
    for (int j = 0; j < ga->nterms; j++) {
        cols += ga->terms[j].nknots;
        for (int k = 0; k < ga->terms[j].nknots; k++) {
            assert_true(isfinite(ga->terms[j].coef[k]));
            assert_true(ga->terms[j].coef[k] == gb->terms[j].coef[k]);
        }
    }
    assert_true(cols > 5);
    assert_true(ga->max_ape < 0.01);
    ss_calib_free(&a);
    ss_calib_free(&b);
    synth_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_recover_gemm),
        cmocka_unit_test(test_tp_extrapolation),
        cmocka_unit_test(test_profile_check),
        cmocka_unit_test(test_moe),
        cmocka_unit_test(test_peak_check),
        cmocka_unit_test(test_bandwidth_check),
        cmocka_unit_test(test_spill_floor),
        cmocka_unit_test(test_fit_fewer_rows_than_columns),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

#define _GNU_SOURCE /* mkstemps */
/* The measured MoE expert-layer curves (hwprofiles/calib/fit_moe.c) on synthetic tables
 * whose truth is known (calib_synth.h): each measured configuration keeps its curve, which
 * continues affinely past its largest token count; a configuration never measured is
 * priced from its neighbours on the lattice, moved by the basis ratio; far from any, the
 * basis; and the "calibrated" cost model pricing a MoE model's expert layer from them. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "hwprofiles/calib/fit.h"
#include "hwprofiles/cost.h"

#include "tests/unit/calib_synth.h"

/* A kernel whose tiles are 256 columns wide: a width that is not a multiple pays for the
 * padded one, which the basis (linear in the width) cannot express. */
static double padded(double i) { return ceil(i / 256) * 256; }

static void test_curves(void **st)
{
    (void)st;
    static const long cfg[][4] = {{2048, 88, 128, 8}, {2048, 768, 128, 8}, {4096, 1408, 64, 6},
                                  {4096, 320, 8, 2}, {2048, 1024, 64, 4}};
    synth s;
    synth_init(&s, 200);
    for (size_t c = 0; c < 5; c++)
        for (long tok = 1; tok <= 8192; tok *= 2) {
            ss_meas *r = push(&s);
            r->family = SS_FAM_MOE, r->dtype = SS_DTYPE_BF16, r->gpus = 1, r->ep = 1;
            r->m = tok, r->hidden = cfg[c][0], r->inter = cfg[c][1];
            r->experts = (int32_t)cfg[c][2], r->topk = (int32_t)cfg[c][3];
            r->time_s = moe_truth((double)tok, r->experts, r->topk, (double)r->hidden,
                                  padded((double)r->inter));
        }
    ss_calib c;
    fit_synth(&s, &c);
    assert_int_equal(c.nmoe, 5);
    const ss_cal_model *mo = ss_calib_find(&c, SS_FAM_MOE, "", SS_DTYPE_BF16);
    assert_non_null(mo);
    double basis_worst = 0;
    for (size_t k = 0; k < 5; k++) {
        ss_cal_moe_q q = {(double)cfg[k][0], (double)cfg[k][1], (double)cfg[k][2],
                          (double)cfg[k][3], 1, 2};
        assert_non_null(ss_calib_find_moe(&c, SS_DTYPE_BF16, &q));
        double prev = 0;
        for (double tok = 1; tok <= 65536; tok *= 1.25) {
            double t = ss_cal_moe(&c, mo, SS_DTYPE_BF16, &q, tok);
            double want = moe_truth(tok, q.experts, q.topk, q.hidden, padded(q.inter));
            assert_true(t > 0 && t >= prev); /* positive, non-decreasing in tokens */
            prev = t;
            /* past the measured 8192 tokens every expert has tokens and the truth is
             * affine in them, as the continuation: exact */
            if (tok > 8192 && fabs(t - want) > 1e-6 * want)
                fail_msg("cfg %zu, %g tokens: %g, truth %g", k, tok, t, want);
            double b = ss_cal_moe_basis(mo, &q, tok);
            if (fabs(b - want) / want > basis_worst) basis_worst = fabs(b - want) / want;
        }
        /* the measured points themselves */
        for (long tok = 1; tok <= 8192; tok *= 2) {
            double t = ss_cal_moe(&c, mo, SS_DTYPE_BF16, &q, (double)tok);
            double want = moe_truth((double)tok, q.experts, q.topk, q.hidden, padded(q.inter));
            assert_true(fabs(t - want) <= 1e-9 * want);
        }
    }
    /* what the curves are for: the basis alone misses the padded widths */
    assert_true(basis_worst > 0.2);
    ss_calib_free(&c);
    synth_free(&s);
}

/* An expert-parallel overhead the basis does not model: 10 % more per doubling of ep. */
static double ep_eff(int ep) { return 1 + 0.1 * log2(ep); }

static void test_lattice(void **st)
{
    (void)st;
    synth s;
    synth_init(&s, 300);
    /* 128 experts in all (hidden 2048, width 768, top-8) at ep 1, 4 and 16; ep 2 and 8 are
     * never measured. And other configurations the basis is fitted on. */
    for (int ep = 1; ep <= 16; ep *= 4) fill_moe_cfg(&s, 2048, 768, 128 / ep, 8, ep, ep_eff(ep));
    fill_moe_cfg(&s, 4096, 1408, 64, 6, 1, 1);
    fill_moe_cfg(&s, 4096, 1408, 16, 6, 4, ep_eff(4));
    fill_moe_cfg(&s, 2048, 1024, 64, 4, 1, 1);
    ss_calib c;
    fit_synth(&s, &c);
    for (int ep = 2; ep <= 8; ep *= 4) {
        const ss_cal_model *mo = ss_calib_find(&c, SS_FAM_MOE, "ep", SS_DTYPE_BF16);
        assert_non_null(mo);
        ss_cal_moe_q q = {2048, 768, 128.0 / ep, 8, ep, 2};
        assert_null(ss_calib_find_moe(&c, SS_DTYPE_BF16, &q));
        double lat_worst = 0, basis_worst = 0;
        for (double tok = 1; tok <= 32768; tok *= 2) {
            double want = ep_eff(ep) * moe_truth_ep(tok, 128.0 / ep, 8, 2048, 768, ep);
            double t = ss_cal_moe(&c, mo, SS_DTYPE_BF16, &q, tok);
            double b = ss_cal_moe_basis(mo, &q, tok);
            if (fabs(t - want) / want > lat_worst) lat_worst = fabs(t - want) / want;
            if (fabs(b - want) / want > basis_worst) basis_worst = fabs(b - want) / want;
        }
        /* ep 2 lies between ep 1 and 4 on the line of 128 experts (measured: lattice 1.5 %,
         * basis 9.4 %); ep 8 between 4 and 16, where the basis is better, and the ratio
         * moving each neighbour inherits its bias (3.5 %, 4.7 %) */
        if (!(ep == 2 ? lat_worst < 0.02 && lat_worst < basis_worst / 2
                      : lat_worst < 0.04 && lat_worst < basis_worst))
            fail_msg("ep %d: lattice %.4f, basis %.4f", ep, lat_worst, basis_worst);
        /* the cost model's curve of it: the lattice at the measured token counts */
        ss_cal_moe_curve cv;
        assert_int_equal(ss_calib_moe_curve(&c, mo, SS_DTYPE_BF16, &q, &cv), 1);
        assert_int_equal(cv.npts, 14);
        for (int i = 0; i < cv.npts; i++) {
            assert_true(i == 0 || cv.t[i] >= cv.t[i - 1]);
            assert_true(fabs(cv.t[i] - ss_cal_moe(&c, mo, SS_DTYPE_BF16, &q, cv.m[i])) <=
                        1e-12 * cv.t[i]);
        }
    }
    /* one EP step past the measured ones (ep 32, 4 experts per GPU): ep 16 moved by the
     * basis ratio, not the basis itself */
    const ss_cal_model *mo = ss_calib_find(&c, SS_FAM_MOE, "ep", SS_DTYPE_BF16);
    ss_cal_moe_q q32 = {2048, 768, 4, 8, 32, 2}, q16 = {2048, 768, 8, 8, 16, 2};
    double off_basis = 0;
    for (double tok = 1; tok <= 8192; tok *= 2) {
        double t = ss_cal_moe(&c, mo, SS_DTYPE_BF16, &q32, tok);
        double want = ss_cal_moe(&c, mo, SS_DTYPE_BF16, &q16, tok) *
                      ss_cal_moe_basis(mo, &q32, tok) / ss_cal_moe_basis(mo, &q16, tok);
        assert_true(fabs(t - want) <= 1e-9 * want);
        double ob = fabs(t / ss_cal_moe_basis(mo, &q32, tok) - 1);
        if (ob > off_basis) off_basis = ob;
    }
    assert_true(off_basis > 0.01);
    /* two EP steps past them (ep 64): no estimate, the basis */
    ss_cal_moe_q q64 = {2048, 768, 2, 8, 64, 2};
    assert_int_equal(ss_calib_moe_curve(&c, mo, SS_DTYPE_BF16, &q64, &(ss_cal_moe_curve){0}), 0);
    assert_true(ss_cal_moe(&c, mo, SS_DTYPE_BF16, &q64, 512) == ss_cal_moe_basis(mo, &q64, 512));
    /* another dtype has no curves: the basis */
    ss_cal_moe_q q = {2048, 768, 128, 8, 1, 1};
    assert_true(ss_cal_moe(&c, mo, SS_DTYPE_FP8, &q, 512) == ss_cal_moe_basis(mo, &q, 512));
    ss_calib_free(&c);
    synth_free(&s);
}

/* A MoE model costed from the profile's MoE curves: Qwen3-30B-A3B's configuration was
 * measured (its curve lifted 40 % so that it differs from the basis); at TP 2 its expert
 * width (384) was not, and its curve comes from the lattice (768 moved by the basis ratio).
 * The cost model's expert layer is what ss_cal_moe gives the validation. */
static void test_moe_cost(void **st)
{
    (void)st;
    synth s;
    synth_init(&s, 2000);
    fill(&s);
    fill_moe(&s);
    ss_calib c;
    fit_synth(&s, &c);
    for (int i = 0; i < c.nmoe; i++)
        if (c.moe[i].hidden == 2048 && c.moe[i].inter == 768)
            for (int j = 0; j < c.moe[i].npts; j++) c.moe[i].t[j] *= 1.4;
    char path[] = "/tmp/ss_calmoe_XXXXXX.yaml";
    int fd = mkstemps(path, 5);
    assert_true(fd >= 0);
    close(fd);
    ss_hw hw;
    write_profile(&c, path, 0, &hw);
    ss_diag d;
    ss_diag_clear(&d);
    ss_calib back;
    if (ss_calib_load(&hw, &back, &d)) fail_msg("%s:%d: %s: %s", d.file, d.line, d.key, d.msg);
    assert_int_equal(back.nmoe, c.nmoe);
    const ss_cal_model *mo = ss_calib_find(&back, SS_FAM_MOE, "", SS_DTYPE_BF16);
    assert_non_null(mo);
    ss_model m;
    assert_int_equal(ss_model_load("qwen3-30b-a3b", NULL, &m, &d), SS_OK);
    for (int tp = 1; tp <= 2; tp++) {
        ss_cost_setup su = {.model = &m, .hw = &hw, .par = {.tp = tp, .pp = 1, .ep = 1, .dp = 1},
                            .weight_dtype = SS_DTYPE_BF16, .act_dtype = SS_DTYPE_BF16,
                            .kv_dtype = SS_DTYPE_BF16};
        void *state;
        assert_int_equal(ss_cost_calibrated.create(&su, &state, &d), SS_OK);
        ss_cal_moe_q q = {2048, 768.0 / tp, 128, 8, 1, 2};
        assert_true((tp == 1) == (ss_calib_find_moe(&back, SS_DTYPE_BF16, &q) != NULL));
        ss_cal_moe_curve cv;
        assert_int_equal(ss_calib_moe_curve(&back, mo, SS_DTYPE_BF16, &q, &cv), 1);
        double prev = 0, off_basis = 0;
        for (int32_t n = 1; n <= 16384; n = n * 3 + 1) {
            ss_batch_shape b = {.num_seqs = n, .num_decode_seqs = n,
                                .decode_ctx_tokens = (int64_t)n * 512, .decode_ctx_max = 512,
                                .num_sampled = n};
            double br[SS_OP_COUNT + 1];
            ss_cost_calibrated.breakdown(state, &b, br);
            double layer = br[SS_OP_MLP_UP] / m.num_layers;
            /* the curve ss_calib_moe_curve builds; at TP 2 the lattice at its token counts,
             * close to the lattice at n itself (ss_cal_moe, what the validation prices) */
            double want = ss_cal_moe_curve_eval(&cv, mo, 2, n);
            double lat = ss_cal_moe(&back, mo, SS_DTYPE_BF16, &q, n);
            if (!(fabs(layer - want) <= 1e-9 * want) || !(fabs(layer - lat) <= 0.01 * lat))
                fail_msg("tp %d, %d tokens: %g against %g (lattice %g)", tp, n, layer, want, lat);
            assert_true(layer >= prev);
            prev = layer;
            double ob = fabs(layer / ss_cal_moe_basis(mo, &q, n) - 1);
            if (ob > off_basis) off_basis = ob;
        }
        assert_true(off_basis > 0.2);
        ss_cost_calibrated.destroy(state);
    }
    /* an expert width TP does not divide (774 at TP 4: 193.5 per shard, no measured
     * neighbour within a factor 2): the basis at the exact width, not a truncated one */
    ss_model m2 = m;
    m2.moe_intermediate_size = 774;
    ss_cost_setup su = {.model = &m2, .hw = &hw, .par = {.tp = 4, .pp = 1, .ep = 1, .dp = 1},
                        .weight_dtype = SS_DTYPE_BF16, .act_dtype = SS_DTYPE_BF16,
                        .kv_dtype = SS_DTYPE_BF16};
    void *state;
    assert_int_equal(ss_cost_calibrated.create(&su, &state, &d), SS_OK);
    ss_cal_moe_q q = {2048, 774 / 4.0, 128, 8, 1, 2};
    for (int32_t n = 1; n <= 4096; n *= 4) {
        ss_batch_shape b = {.num_seqs = n, .num_decode_seqs = n,
                            .decode_ctx_tokens = (int64_t)n * 512, .decode_ctx_max = 512,
                            .num_sampled = n};
        double br[SS_OP_COUNT + 1];
        ss_cost_calibrated.breakdown(state, &b, br);
        double layer = br[SS_OP_MLP_UP] / m.num_layers, want = ss_cal_moe_basis(mo, &q, n);
        if (!(fabs(layer - want) <= 1e-9 * want)) fail_msg("%d tokens: %g against %g", n, layer, want);
    }
    ss_cost_calibrated.destroy(state);
    ss_calib_free(&back);
    ss_calib_free(&c);
    synth_free(&s);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_curves),
        cmocka_unit_test(test_lattice),
        cmocka_unit_test(test_moe_cost),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

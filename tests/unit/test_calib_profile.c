#define _GNU_SOURCE /* mkstemps */
/* A calibrated profile as a file (write, read back, malformed files, every format's keys,
 * number strings) and the "calibrated" cost model built from it (costs, monotonicity,
 * memoisation), on synthetic measurement tables (calib_synth.h; no ../shared data needed).
 * The fitter itself is tested in test_calib_fit.c. */
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

/* Creates the empty file named by tmpl ("/tmp/name_XXXXXX.yaml", its X's replaced). */
static void make_temp(char *tmpl)
{
    int fd = mkstemps(tmpl, 5);
    assert_true(fd >= 0);
    close(fd);
}

/* The start of a calibration section of format `format` (a static buffer). */
static const char *cal_head(int format)
{
    static char head[128];
    snprintf(head, sizeof head, "calibration:\n  format: %d\n  gpu: h100-sxm\n  stack: s\n",
             format);
    return head;
}

/* A calibration section with one model of `family` whose `nterms` terms are all 1e-6. */
static const char *model_text(char *buf, size_t n, int format, const char *family, int nterms)
{
    int w = snprintf(buf, n, "%s  models:\n    - family: %s\n      dtype: bf16\n      terms:\n",
                     cal_head(format), family);
    for (int j = 0; j < nterms; j++)
        w += snprintf(buf + w, n - (size_t)w, "        - {knots: \"0\", coef: \"1e-6\"}\n");
    return buf;
}

/* Writes a profile with the calibration section `cal` to path and loads its calibration
 * into c; the status, with the message in msg. */
static ss_rc load_cal(const char *path, const char *cal, ss_calib *c, char *msg, size_t n)
{
    FILE *f = open_profile(path, 0);
    fputs(cal, f);
    fclose(f);
    ss_hw hw;
    ss_diag d;
    ss_diag_clear(&d);
    assert_int_equal(ss_hw_load(path, NULL, &hw, &d), SS_OK);
    ss_rc rc = ss_calib_load(&hw, c, &d);
    ss_diag_format(&d, msg, n);
    return rc;
}

static void test_roundtrip_and_cost(void **st)
{
    (void)st;
    synth s;
    synth_init(&s, 2000);
    fill(&s);
    fill_fp8_steps(&s, 1.6);
    ss_calib c;
    fit_synth(&s, &c);
    c.command = strdup("servesim calibrate --source synthetic.csv");
    c.skew_alpha_pure = 0.25; /* a skewed decode batch costs a quarter of the way to its max */
    /* beyond a curve's largest m, a third of the way to the basis (the synthetic curves are
     * exact, so the BF16 QKV curve is lifted 40 % to tell the two apart below, and has a
     * step at its last point) */
    for (int i = 0; i < c.nmodels; i++) {
        if (c.models[i].family == SS_FAM_GEMM)
            c.models[i].beyond_w = 0.3, c.models[i].lattice_w = 0.2, c.models[i].lattice_near = 4;
        /* and the attention models' kind splits flipped from what the fit chose: read back
         * as set */
        if (c.models[i].family == SS_FAM_ATTN_DECODE) c.models[i].mha_apart = !c.models[i].mha_apart;
        if (c.models[i].family == SS_FAM_ATTN_PREFILL) c.models[i].mha_own = !c.models[i].mha_own;
        if (c.models[i].family == SS_FAM_ATTN_PREFILL || c.models[i].family == SS_FAM_ATTN_MIXED)
            c.models[i].heads_only = !c.models[i].heads_only;
    }
    for (int i = 0; i < c.nshapes; i++)
        if (c.shapes[i].dtype == SS_DTYPE_BF16 && c.shapes[i].n == 6144 && c.shapes[i].k == 4096)
        {
            /* measured every 512 over its last octave, with a step at its last point: the
             * continuation starts from the octave's line below it */
            ss_cal_shape *sh = &c.shapes[i];
            int np = 0;
            for (double m = 1; m <= 8192; m = m < 4096 ? 2 * m : m + 512, np++)
                sh->m[np] = m, sh->t[np] = 1.4 * gemm_truth(m, 6144, 4096) * (m == 8192 ? 1.2 : 1);
            sh->npts = np;
        }
    char path[] = "/tmp/ss_calib_XXXXXX.yaml";
    make_temp(path);
    ss_hw hw;
    write_profile(&c, path, 1, &hw);
    ss_diag d;
    ss_diag_clear(&d);
    assert_string_equal(hw.calib_stack, "synthetic-1");
    ss_calib back;
    if (ss_calib_load(&hw, &back, &d)) fail_msg("%s:%d: %s: %s", d.file, d.line, d.key, d.msg);
    assert_int_equal(back.nmodels, c.nmodels);
    assert_int_equal(back.nshapes, c.nshapes);
    for (int i = 0; i < c.nshapes; i++) assert_int_equal(back.shapes[i].m_class, c.shapes[i].m_class);
    assert_int_equal(c.shapes[c.nshapes - 1].m_class, 2);
    for (int i = 0; i < c.nmodels; i++)
        for (size_t r = 0; r < s.t.n; r++) {
            const ss_meas *row = &s.t.rows[r];
            double a = ss_cal_eval_row(&c.models[i], row), b = ss_cal_eval_row(&back.models[i], row);
            if (isnan(a)) continue;
            assert_true(fabs(a - b) <= 1e-8 * fabs(a));
        }
    for (int i = 0; i < c.nmodels; i++) {
        assert_true(back.models[i].beyond_w == c.models[i].beyond_w);
        assert_true(back.models[i].lattice_w == c.models[i].lattice_w);
        assert_true(back.models[i].lattice_near == c.models[i].lattice_near);
        assert_int_equal(back.models[i].mha_apart, c.models[i].mha_apart);
        assert_int_equal(back.models[i].beyond_octave, c.models[i].beyond_octave);
        assert_int_equal(back.models[i].mha_own, c.models[i].mha_own);
        assert_int_equal(back.models[i].heads_only, c.models[i].heads_only);
    }
    /* the cost model continues the QKV curve (n = 6144, k = 4096) past its last m (8192)
     * as the validation does, with the weight */
    const ss_cal_model *qg = ss_calib_find_gemm(&back, SS_DTYPE_BF16, 6144, 4096);
    ss_cal_model q0 = *qg;
    q0.beyond_w = 0;
    double qkv_w = ss_cal_gemm(&back, qg, SS_DTYPE_BF16, 32768, 6144, 4096, 2);
    double qkv_0 = ss_cal_gemm(&back, &q0, SS_DTYPE_BF16, 32768, 6144, 4096, 2);
    assert_true(qkv_w < 0.95 * qkv_0);
    /* from the octave's line, below the step */
    assert_int_equal(qg->beyond_octave, 1);
    q0.beyond_octave = 0;
    assert_true(ss_cal_gemm(&back, &q0, SS_DTYPE_BF16, 32768, 6144, 4096, 2) > 1.1 * qkv_0);
    /* at TP 2 the gate/up GEMM (n = 14336, k = 4096) was never measured: its curve comes
     * from the lattice, between n = 6144 (lifted) and 28672, moved towards the basis */
    const ss_cal_model *ug = ss_calib_find_gemm(&back, SS_DTYPE_BF16, 14336, 4096);
    ss_cal_model u0 = *ug;
    u0.lattice_w = 0;
    double up_w = ss_cal_gemm(&back, ug, SS_DTYPE_BF16, 1024, 14336, 4096, 2);
    double up_0 = ss_cal_gemm(&back, &u0, SS_DTYPE_BF16, 1024, 14336, 4096, 2);
    assert_true(fabs(up_w - up_0) > 0.02 * up_0);
    ss_calib_free(&back);

    /* the cost model on it: Llama-3.1-8B, TP 1 and 8 */
    ss_model m;
    assert_int_equal(ss_model_load("llama-3.1-8b", NULL, &m, &d), SS_OK);
    double prefill_at[9] = {0};
    for (int tp = 1; tp <= 8; tp *= 8) {
        ss_cost_setup su = {.model = &m, .hw = &hw, .par = {.tp = tp, .pp = 1, .ep = 1, .dp = 1},
                            .weight_dtype = SS_DTYPE_BF16, .act_dtype = SS_DTYPE_BF16,
                            .kv_dtype = SS_DTYPE_BF16};
        void *state;
        assert_int_equal(ss_cost_calibrated.create(&su, &state, &d), SS_OK);
        /* prefill: monotone in tokens up to 32k */
        double prev = 0;
        for (int64_t q = 1; q <= 32768; q *= 2) {
            ss_batch_shape b = {.num_seqs = 1, .num_prefill_seqs = 1, .prefill_tokens = q,
                                .prefill_attn_pairs = (double)q * (q + 1) / 2, .num_sampled = 1};
            double t = ss_time_to_s(ss_cost_calibrated.iteration(state, &b));
            assert_true(t > 0 && t >= prev);
            prev = t;
        }
        /* decode: monotone in KV length up to 32k */
        prev = 0;
        for (int64_t kv = 16; kv <= 32768; kv *= 2) {
            ss_batch_shape b = {.num_seqs = 64, .num_decode_seqs = 64,
                                .decode_ctx_tokens = 64 * kv, .num_sampled = 64};
            double t = ss_time_to_s(ss_cost_calibrated.iteration(state, &b));
            assert_true(t > 0 && t >= prev);
            prev = t;
        }
        /* skew: same number of requests and total context, longer longest one -> dearer,
         * by alpha of the way to the uniform batch at the max; unknown max = uniform */
        ss_batch_shape uni = {.num_seqs = 64, .num_decode_seqs = 64, .decode_ctx_tokens = 64 * 1000,
                              .num_sampled = 64, .decode_ctx_max = 1000};
        ss_batch_shape unk = uni, skw = uni, top = uni;
        unk.decode_ctx_max = 0;
        skw.decode_ctx_max = 8000;
        top.decode_ctx_tokens = 64 * 8000, top.decode_ctx_max = 8000;
        double br[4][SS_OP_COUNT + 1];
        ss_cost_calibrated.breakdown(state, &uni, br[0]);
        ss_cost_calibrated.breakdown(state, &unk, br[1]);
        ss_cost_calibrated.breakdown(state, &skw, br[2]);
        ss_cost_calibrated.breakdown(state, &top, br[3]);
        double a_uni = br[0][SS_OP_ATTN_DECODE], a_skw = br[2][SS_OP_ATTN_DECODE];
        assert_true(a_uni > 0);
        assert_true(br[1][SS_OP_ATTN_DECODE] == a_uni);
        assert_true(a_skw > a_uni * 1.05);
        assert_true(fabs(a_skw - (a_uni + 0.25 * (br[3][SS_OP_ATTN_DECODE] - a_uni))) <= 1e-9 * a_skw);
        if (tp == 1) {
            ss_batch_shape b = {.num_seqs = 1, .num_prefill_seqs = 1, .prefill_tokens = 32768,
                                .prefill_attn_pairs = 32768.0 * 32769 / 2, .num_sampled = 1};
            double br1[SS_OP_COUNT + 1];
            ss_cost_calibrated.breakdown(state, &b, br1);
            double per_layer = br1[SS_OP_QKV_PROJ] / m.num_layers;
            if (!(fabs(per_layer - qkv_w) <= 1e-9 * qkv_w)) fail_msg("%g vs %g (w 0: %g)", per_layer, qkv_w, qkv_0);
        }
        /* TP scaling: a 4096-token prefill, GEMMs split over tp GPUs plus all-reduces
         * extrapolated from p <= 4 to p = 8 */
        ss_batch_shape big = {.num_seqs = 1, .num_prefill_seqs = 1, .prefill_tokens = 4096,
                              .prefill_attn_pairs = 4096.0 * 4097 / 2, .num_sampled = 1};
        prefill_at[tp] = ss_time_to_s(ss_cost_calibrated.iteration(state, &big));
        ss_cost_calibrated.destroy(state);
        char status[512];
        ss_cost_calibration_status(&su, status, sizeof status);
        /* MoE and embed never measured; CPU overhead from the profile */
        assert_non_null(strstr(status, "partially calibrated"));
        assert_non_null(strstr(status, "embed"));
    }
    {
        ss_cost_setup su = {.model = &m, .hw = &hw, .par = {.tp = 2, .pp = 1, .ep = 1, .dp = 1},
                            .weight_dtype = SS_DTYPE_BF16, .act_dtype = SS_DTYPE_BF16,
                            .kv_dtype = SS_DTYPE_BF16};
        void *state;
        assert_int_equal(ss_cost_calibrated.create(&su, &state, &d), SS_OK);
        ss_batch_shape b = {.num_seqs = 1, .num_prefill_seqs = 1, .prefill_tokens = 1024,
                            .prefill_attn_pairs = 1024.0 * 1025 / 2, .num_sampled = 1};
        double br1[SS_OP_COUNT + 1];
        ss_cost_calibrated.breakdown(state, &b, br1);
        double per_layer = br1[SS_OP_MLP_UP] / m.num_layers;
        if (!(fabs(per_layer - up_w) <= 1e-6 * up_w))
            fail_msg("%g vs %g (lattice weight 0: %g)", per_layer, up_w, up_0);
        ss_cost_calibrated.destroy(state);
    }
    /* faster on 8 GPUs, but less than 8x (fixed costs and the all-reduce) */
    assert_true(prefill_at[8] < prefill_at[1] / 2);
    assert_true(prefill_at[8] > prefill_at[1] / 8);
    /* FP8 weights: the GEMMs take the curve of the batch's m class (257 tokens dearer than
     * 256 by more than one token's worth, and dearer than 512 in the GEMMs) */
    {
        ss_cost_setup su = {.model = &m, .hw = &hw, .par = {.tp = 1, .pp = 1, .ep = 1, .dp = 1},
                            .weight_dtype = SS_DTYPE_FP8, .act_dtype = SS_DTYPE_FP8,
                            .kv_dtype = SS_DTYPE_BF16};
        void *state;
        assert_int_equal(ss_cost_calibrated.create(&su, &state, &d), SS_OK);
        double gq[3];
        static const int64_t toks[3] = {256, 257, 512};
        for (int i = 0; i < 3; i++) {
            ss_batch_shape b = {.num_seqs = 1, .num_prefill_seqs = 1, .prefill_tokens = toks[i],
                                .prefill_attn_pairs = (double)toks[i] * (toks[i] + 1) / 2,
                                .num_sampled = 1};
            double br[SS_OP_COUNT + 1];
            ss_cost_calibrated.breakdown(state, &b, br);
            gq[i] = br[SS_OP_QKV_PROJ];
        }
        assert_true(gq[1] > 1.3 * gq[0]);
        assert_true(gq[1] > gq[2]);
        ss_cost_calibrated.destroy(state);
    }
    ss_calib_free(&c);
    synth_free(&s);
    unlink(path);
}

/* cal with the YAML lines `lines` inserted before its model's terms (the keys a model
 * format adds), into out. */
static void with_keys(char *out, size_t n, const char *cal, const char *lines)
{
    const char *at = strstr(cal, "      terms:");
    assert_non_null(at);
    snprintf(out, n, "%.*s%s%s", (int)(at - cal), cal, lines, at);
}

/* Loads the calibration section cal through a profile at path; it must load (else the test
 * fails with the reader's message), into *c. */
static void accepted(const char *path, const char *cal, ss_calib *c)
{
    char msg[2048];
    if (load_cal(path, cal, c, msg, sizeof msg)) fail_msg("%s", msg);
}

/* ... it must be refused as invalid, with a message containing `a` and, unless NULL, `b`. */
static void refused(const char *path, const char *cal, const char *a, const char *b)
{
    ss_calib c;
    char msg[2048];
    assert_int_equal(load_cal(path, cal, &c, msg, sizeof msg), SS_ERR_INVALID);
    if (!strstr(msg, a) || (b && !strstr(msg, b))) fail_msg("%s", msg);
}

/* a damaged calibration section is reported with its file, line and key */
static void test_parse_errors(void **st)
{
    (void)st;
    char path[] = "/tmp/ss_calbad_XXXXXX.yaml";
    make_temp(path);
    FILE *f = open_profile(path, 0);
    fputs("calibration:\n  format: 1\n  gpu: h100-sxm\n  stack: s\n  models:\n"
          "    - family: elementwise\n      dtype: bf16\n      terms:\n"
          "        - {knots: [0], coef: [1e-6]}\n"
          "        - {knots: [0, 10], coef: [1e-9, -2]}\n",
          f);
    fclose(f);
    ss_hw hw;
    ss_diag d;
    ss_diag_clear(&d);
    assert_int_equal(ss_hw_load(path, NULL, &hw, &d), SS_OK);
    ss_calib c;
    assert_int_equal(ss_calib_load(&hw, &c, &d), SS_ERR_INVALID);
    char msg[2048];
    ss_diag_format(&d, msg, sizeof msg);
    if (!strstr(msg, ":22:")) fail_msg("%s", msg);
    assert_non_null(strstr(msg, "calibration.models[0].terms[1].coef"));
    /* unknown family */
    f = open_profile(path, 0);
    fputs("calibration:\n  format: 1\n  gpu: h100-sxm\n  stack: s\n  models:\n"
          "    - family: gemv\n      dtype: bf16\n      terms: []\n",
          f);
    fclose(f);
    ss_diag_clear(&d);
    assert_int_equal(ss_hw_load(path, NULL, &hw, &d), SS_OK);
    assert_int_equal(ss_calib_load(&hw, &c, &d), SS_ERR_INVALID);
    ss_diag_format(&d, msg, sizeof msg);
    assert_non_null(strstr(msg, ":18:"));
    assert_non_null(strstr(msg, "gemv"));
    /* number lists written as one string ("0 10"): a bad item is named with its position */
    f = open_profile(path, 0);
    fputs("calibration:\n  format: 1\n  gpu: h100-sxm\n  stack: s\n  models:\n"
          "    - family: elementwise\n      dtype: bf16\n      terms:\n"
          "        - {knots: \"0\", coef: \"1e-6\"}\n"
          "        - {knots: \"0 10\", coef: \"1e-9 2x\"}\n",
          f);
    fclose(f);
    ss_diag_clear(&d);
    assert_int_equal(ss_hw_load(path, NULL, &hw, &d), SS_OK);
    assert_int_equal(ss_calib_load(&hw, &c, &d), SS_ERR_INVALID);
    ss_diag_format(&d, msg, sizeof msg);
    if (!strstr(msg, ":22:") || !strstr(msg, "terms[1].coef") || !strstr(msg, "item 1") ||
        !strstr(msg, "'2x'"))
        fail_msg("%s", msg);
    /* a source's rows left out for being faster than the GPU's peak: read back; negative is
     * an error naming the key */
    char cal[2048];
    for (int v = 4; v >= -1; v -= 5) {
        snprintf(cal, sizeof cal, "%s  sources:\n    - {path: a.csv, format: servesim, stack: s, "
                 "sha256: \"00\", rows: 10, left_out_over_peak: %d}\n  models: []\n",
                 cal_head(1), v);
        ss_rc rc = load_cal(path, cal, &c, msg, sizeof msg);
        if (v < 0) {
            assert_int_equal(rc, SS_ERR_INVALID);
            if (!strstr(msg, "left_out_over_peak")) fail_msg("%s", msg);
            continue;
        }
        if (rc) fail_msg("%s", msg);
        assert_int_equal(c.nsources, 1);
        assert_int_equal(c.sources[0].over_peak, 4);
        assert_int_equal(c.sources[0].rows, 10);
        ss_calib_free(&c);
    }
    unlink(path);
}

/* Every calibration format this servesim reads (SS_CAL_FORMAT, fit_int.h): what each later
 * format added is required of its families from that format, read as its default before it
 * (what those profiles were validated with) and refused on other families; a newer format
 * is refused */
static void test_format_history(void **st)
{
    (void)st;
    char path[] = "/tmp/ss_calfmt_XXXXXX.yaml";
    make_temp(path);
    ss_calib c;
    char msg[2048], cal[2048];
    /* format 1: a GEMM model written before the per-row and serial-tile terms (4 terms)
     * reads with those 0, an attention model (9 terms, unchanged) as it is; one term fewer
     * is an error naming the count, as is format 2 without the new terms; formats 1 and 2
     * read beyond_basis and lattice_basis as 0, format 3 requires both of GEMM models only;
     * format 5 is not read */
    accepted(path, model_text(cal, sizeof cal, 1, "gemm", 4), &c);
    assert_int_equal(c.models[0].nterms, SS_CAL_GEMM_TERMS);
    double x[SS_CAL_MAX_TERMS], sc[SS_CAL_MAX_TERMS];
    ss_cal_gemm_features(1000, 64, 64, 1, x, sc); /* FP8: the per-row term counts */
    assert_true(fabs(ss_cal_eval(&c.models[0], x, sc) -
                     1e-6 * (1 + sc[1] + 1000 * sc[2] + 1000 * sc[3])) < 1e-12);
    ss_calib_free(&c);
    accepted(path, model_text(cal, sizeof cal, 1, "attn_prefill", 9), &c);
    assert_int_equal(c.models[0].nterms, SS_CAL_ATTN_TERMS);
    ss_calib_free(&c);
    refused(path, model_text(cal, sizeof cal, 1,
            "gemm", 3), "needs a list of 4 terms in format 1, got 3", NULL);
    refused(path, model_text(cal, sizeof cal, 2,
            "gemm", 4), "needs a list of 6 terms in format 2, got 4", NULL);
    accepted(path, model_text(cal, sizeof cal, 2, "gemm", 6), &c);
    assert_true(c.models[0].beyond_w == 0 && c.models[0].lattice_w == 0);
    ss_calib_free(&c);
    char with_w[2048];
    model_text(cal, sizeof cal, 2, "gemm", 6);
    with_keys(with_w, sizeof with_w, cal, "      lattice_basis: 0.4\n");
    refused(path, with_w, "lattice_basis", "needs format 3");
    refused(path, model_text(cal, sizeof cal, 3,
            "gemm", 6), "a GEMM model needs beyond_basis in format 3", NULL);
    model_text(cal, sizeof cal, 3, "gemm", 6);
    with_keys(with_w, sizeof with_w, cal, "      beyond_basis: 0.4\n");
    refused(path, with_w, "a GEMM model needs lattice_basis in format 3", NULL);
    with_keys(with_w, sizeof with_w, cal, "      beyond_basis: 0.4\n      lattice_basis: 0.7\n");
    accepted(path, with_w, &c);
    assert_true(c.models[0].beyond_w == 0.4 && c.models[0].lattice_w == 0.7);
    assert_int_equal(c.models[0].beyond_octave, 0); /* continued from the last point */
    ss_calib_free(&c);
    /* format 8: the same keys; its GEMM curves continue from their last octave's line,
     * other families never */
    model_text(cal, sizeof cal, 8, "gemm", 6);
    with_keys(with_w, sizeof with_w, cal, "      beyond_basis: 0.4\n      lattice_basis: 0.7\n");
    accepted(path, with_w, &c);
    assert_int_equal(c.models[0].beyond_octave, 1);
    ss_calib_free(&c);
    /* format 8: a prefill model needs mha_own (one way: MHA queries from MHA grids only),
     * refused before 8 and on other families */
    model_text(cal, sizeof cal, 8, "attn_prefill", 10);
    refused(path, cal, "a prefill attention model needs mha_own in format 8", NULL);
    with_keys(with_w, sizeof with_w, cal, "      mha_own: true\n");
    accepted(path, with_w, &c);
    assert_int_equal(c.models[0].beyond_octave, 0);
    assert_int_equal(c.models[0].mha_own, 1);
    assert_int_equal(c.models[0].mha_apart, 0);
    ss_calib_free(&c);
    model_text(cal, sizeof cal, 7, "attn_prefill", 10);
    with_keys(with_w, sizeof with_w, cal, "      mha_own: true\n");
    refused(path, with_w, "mha_own", "needs format 8 or later");
    accepted(path, cal, &c); /* format 7: false */
    assert_int_equal(c.models[0].mha_own, 0);
    ss_calib_free(&c);
    model_text(cal, sizeof cal, 8, "attn_decode", 10);
    with_keys(with_w, sizeof with_w, cal,
              "      mha_apart: false\n      spill_bw: 0\n      mha_own: true\n");
    refused(path, with_w, "is for prefill attention models only", NULL);
    /* format 9: prefill and mixed models need heads_only (the lattice along the query heads
     * alone), refused before 9 and on decode models */
    model_text(cal, sizeof cal, 9, "attn_prefill", 10);
    with_keys(with_w, sizeof with_w, cal, "      mha_own: false\n");
    refused(path, with_w, "a prefill or mixed attention model needs heads_only in format 9", NULL);
    with_keys(with_w, sizeof with_w, cal, "      mha_own: false\n      heads_only: true\n");
    accepted(path, with_w, &c);
    assert_int_equal(c.models[0].heads_only, 1);
    assert_int_equal(c.models[0].mha_own, 0);
    ss_calib_free(&c);
    model_text(cal, sizeof cal, 9, "attn_mixed", 10);
    with_keys(with_w, sizeof with_w, cal, "      heads_only: true\n");
    accepted(path, with_w, &c);
    assert_int_equal(c.models[0].heads_only, 1);
    ss_calib_free(&c);
    model_text(cal, sizeof cal, 8, "attn_mixed", 10);
    with_keys(with_w, sizeof with_w, cal, "      heads_only: true\n");
    refused(path, with_w, "heads_only", "needs format 9 or later");
    accepted(path, cal, &c); /* format 8: false */
    assert_int_equal(c.models[0].heads_only, 0);
    ss_calib_free(&c);
    model_text(cal, sizeof cal, 9, "attn_decode", 10);
    with_keys(with_w, sizeof with_w, cal,
              "      mha_apart: false\n      spill_bw: 0\n      heads_only: false\n");
    refused(path, with_w, "is for prefill and mixed attention models only", NULL);
    /* format 10: GEMM models need lattice_near (how much more the (n, k) lattice trusts its
     * nearer axis), refused before 10 and on other families; read as 0 before */
    model_text(cal, sizeof cal, 10, "gemm", 6);
    with_keys(with_w, sizeof with_w, cal, "      beyond_basis: 0.4\n      lattice_basis: 0.7\n");
    refused(path, with_w, "a GEMM model needs lattice_near in format 10", NULL);
    with_keys(with_w, sizeof with_w, cal,
              "      beyond_basis: 0.4\n      lattice_basis: 0.7\n      lattice_near: 2\n");
    accepted(path, with_w, &c);
    assert_true(c.models[0].lattice_near == 2 && c.models[0].lattice_w == 0.7);
    ss_calib_free(&c);
    with_keys(with_w, sizeof with_w, cal,
              "      beyond_basis: 0.4\n      lattice_basis: 0.7\n      lattice_near: -1\n");
    refused(path, with_w, "lattice_near", NULL);
    model_text(cal, sizeof cal, 9, "gemm", 6);
    with_keys(with_w, sizeof with_w, cal,
              "      beyond_basis: 0.4\n      lattice_basis: 0.7\n      lattice_near: 2\n");
    refused(path, with_w, "lattice_near", "needs format 10 or later");
    with_keys(with_w, sizeof with_w, cal, "      beyond_basis: 0.4\n      lattice_basis: 0.7\n");
    accepted(path, with_w, &c); /* format 9: 0 */
    assert_true(c.models[0].lattice_near == 0);
    ss_calib_free(&c);
    model_text(cal, sizeof cal, 10, "attn_mixed", 10);
    with_keys(with_w, sizeof with_w, cal, "      heads_only: false\n      lattice_near: 1\n");
    refused(path, with_w, "is for GEMM models only", NULL);
    model_text(cal, sizeof cal, 3, "attn_prefill", 9);
    with_keys(with_w, sizeof with_w, cal, "      lattice_basis: 0.4\n");
    refused(path, with_w, "lattice_basis", "GEMM models only");
    model_text(cal, sizeof cal, 3, "gemm", 6);
    with_keys(with_w, sizeof with_w, cal, "      beyond_basis: 1.5\n      lattice_basis: 0\n");
    refused(path, with_w, "beyond_basis", NULL);
    /* format 4: decode attention models require mha_apart; before it they read it as false
     * and refuse it; other families refuse it in any format */
    accepted(path, model_text(cal, sizeof cal, 3, "attn_decode", 9), &c);
    assert_int_equal(c.models[0].mha_apart, 0);
    ss_calib_free(&c);
    refused(path, model_text(cal, sizeof cal, 4, "attn_decode", 9),
            "a decode attention model needs mha_apart in format 4", NULL);
    model_text(cal, sizeof cal, 4, "attn_decode", 9);
    with_keys(with_w, sizeof with_w, cal, "      mha_apart: true\n");
    accepted(path, with_w, &c);
    assert_int_equal(c.models[0].mha_apart, 1);
    ss_calib_free(&c);
    with_keys(with_w, sizeof with_w, cal, "      mha_apart: sometimes\n");
    refused(path, with_w, "mha_apart", NULL);
    model_text(cal, sizeof cal, 3, "attn_decode", 9);
    with_keys(with_w, sizeof with_w, cal, "      mha_apart: true\n");
    refused(path, with_w, "mha_apart", "needs format 4");
    model_text(cal, sizeof cal, 4, "attn_prefill", 9);
    with_keys(with_w, sizeof with_w, cal, "      mha_apart: false\n");
    refused(path, with_w, "mha_apart", "decode attention models only");
    /* format 5: decode attention models require spill_bw as well; before it they read it as
     * 0 (no floor) and refuse it; other families refuse it in any format; it is a bandwidth */
    model_text(cal, sizeof cal, 5, "attn_decode", 9);
    with_keys(with_w, sizeof with_w, cal, "      mha_apart: false\n");
    refused(path, with_w, "a decode attention model needs spill_bw in format 5", NULL);
    with_keys(with_w, sizeof with_w, cal, "      mha_apart: false\n      spill_bw: 1.5e12\n");
    accepted(path, with_w, &c);
    assert_true(c.models[0].spill_bw == 1.5e12);
    assert_true(fabs(ss_cal_decode_floor(&c.models[0], 3e9) - 2e-3) < 1e-15);
    ss_calib_free(&c);
    with_keys(with_w, sizeof with_w, cal, "      mha_apart: false\n      spill_bw: -1\n");
    refused(path, with_w, "spill_bw", NULL);
    model_text(cal, sizeof cal, 4, "attn_decode", 9);
    with_keys(with_w, sizeof with_w, cal, "      mha_apart: false\n");
    accepted(path, with_w, &c);
    assert_true(c.models[0].spill_bw == 0);
    assert_true(ss_cal_decode_floor(&c.models[0], 3e9) == 0);
    ss_calib_free(&c);
    with_keys(with_w, sizeof with_w, cal, "      mha_apart: false\n      spill_bw: 1e12\n");
    refused(path, with_w, "spill_bw", "needs format 5");
    model_text(cal, sizeof cal, 5, "attn_prefill", 9);
    with_keys(with_w, sizeof with_w, cal, "      spill_bw: 1e12\n");
    refused(path, with_w, "spill_bw", "decode attention models only");
    /* format 7: attention models have the decode intensity term (10 terms); format 6 reads
     * its 9 with that term 0, format 7 refuses 9 */
    model_text(cal, sizeof cal, 6, "attn_decode", 9);
    with_keys(with_w, sizeof with_w, cal, "      mha_apart: false\n      spill_bw: 0\n");
    accepted(path, with_w, &c);
    assert_int_equal(c.models[0].nterms, SS_CAL_ATTN_TERMS);
    ss_cal_attn_q aq = {.dc_seqs = 4, .dc_ctx = 4 * 1001.0, .heads = 64, .kv_heads = 2,
                        .head_dim = 128, .kv_bytes = 2};
    double ax[SS_CAL_MAX_TERMS], as[SS_CAL_MAX_TERMS];
    ss_cal_attn_features(&aq, ax, as);
    double nine = 0;
    for (int j = 0; j < 9; j++) nine += 1e-6 * ax[j] * as[j];
    assert_true(fabs(ss_cal_eval(&c.models[0], ax, as) - nine) < 1e-9 * nine);
    ss_calib_free(&c);
    model_text(cal, sizeof cal, 7, "attn_decode", 9);
    with_keys(with_w, sizeof with_w, cal, "      mha_apart: false\n      spill_bw: 0\n");
    refused(path, with_w, "needs a list of 10 terms in format 7, got 9", NULL);
    model_text(cal, sizeof cal, 7, "attn_decode", 10);
    with_keys(with_w, sizeof with_w, cal, "      mha_apart: false\n      spill_bw: 0\n");
    accepted(path, with_w, &c);
    assert_true(fabs(ss_cal_eval(&c.models[0], ax, as) - (nine + 1e-6 * ax[9] * as[9])) <
                1e-9 * nine);
    ss_calib_free(&c);
    snprintf(cal, sizeof cal, "%s  models: []\n", cal_head(11));
    refused(path, cal, "unsupported format 11 (this servesim reads 1 to 10)", NULL);
    /* MoE curves (format 6): read back; refused in older formats; a malformed one names
     * its key and line */
    static const char *const curve =
        "  moe_curves:\n    - {dtype: bf16, hidden: 2048, inter: 768, experts: 128, topk: 8, "
        "ep: 1,\n       m: \"1 2 4\", t: \"%s\"}\n";
    char moe[256];
    snprintf(moe, sizeof moe, curve, "1e-5 2e-5 3e-5");
    snprintf(cal, sizeof cal, "%s  models: []\n%s", cal_head(6), moe);
    assert_int_equal(load_cal(path, cal, &c, msg, sizeof msg), SS_OK);
    assert_int_equal(c.nmoe, 1);
    assert_true(c.moe[0].npts == 3 && c.moe[0].experts == 128 && c.moe[0].ep == 1 &&
                c.moe[0].t[2] == 3e-5);
    ss_calib_free(&c);
    snprintf(cal, sizeof cal, "%s  models: []\n%s", cal_head(5), moe);
    refused(path, cal, "calibration.moe_curves", "format 6");
    snprintf(moe, sizeof moe, curve, "1e-5 3e-5 2e-5");
    snprintf(cal, sizeof cal, "%s  models: []\n%s", cal_head(6), moe);
    assert_int_equal(load_cal(path, cal, &c, msg, sizeof msg), SS_ERR_INVALID);
    if (!strstr(msg, ":20:") || !strstr(msg, "calibration.moe_curves[0].m") ||
        !strstr(msg, "non-decreasing (item 2)"))
        fail_msg("%s", msg);
    snprintf(moe, sizeof moe, curve, "1e-5 2e-5");
    snprintf(cal, sizeof cal, "%s  models: []\n%s", cal_head(6), moe);
    refused(path, cal, "calibration.moe_curves[0].t", "(3 and 2)");
    unlink(path);
}

/* Number lists as strings are read with a fast path for plain decimals: it must give the
 * very double strtod gives, for the formats the writer uses and for the edge cases. */
static void test_number_strings(void **st)
{
    (void)st;
    char path[] = "/tmp/ss_calnum_XXXXXX.yaml";
    make_temp(path);
    enum { N = 40 }; /* a grid axis holds up to SS_CAL_GRID_MAXAXIS values */
    static const char *const fmts[] = {"%.9g", "%.6g", "%.17g", "%.3f", "%.0f"};
    uint64_t x = 88172645463325252ull;
    for (size_t fi = 0; fi < sizeof fmts / sizeof *fmts; fi++) {
        double want[N];
        char list[N * 32] = "", item[64];
        for (int i = 0; i < N; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17; /* xorshift64 */
            double v = (double)(x >> 11) / 9007199254740992.0;
            v = ldexp(v, (int)(x % 90) - 60); /* 1e-18 .. 1e9 */
            if (i == 0) v = 0;
            if (i == 1) v = 9007199254740993.0;
            if (i == 2) v = 1e22;
            if (i == 3) v = 1.5e-23;
            snprintf(item, sizeof item, fmts[fi], v);
            want[i] = strtod(item, NULL);
            if (i) strcat(list, " ");
            strcat(list, item);
        }
        ss_hw hw;
        ss_diag d;
        ss_rc rc;
        char msg[2048];
        FILE *f;
        double sorted[N];
        memcpy(sorted, want, sizeof sorted);
        for (int i = 1; i < N; i++) /* insertion sort, then keep strictly increasing */
            for (int j = i; j > 0 && sorted[j] < sorted[j - 1]; j--) {
                double t = sorted[j];
                sorted[j] = sorted[j - 1], sorted[j - 1] = t;
            }
        /* exact values: a grid of 1 x N cells with positive times */
        char plist[N * 32] = "", items[N][40];
        for (int i = 1; i < N; i++) {
            snprintf(items[i], sizeof items[i], fmts[fi], sorted[i]);
            if (!(strtod(items[i], NULL) > 0)) strcpy(items[i], "1"); /* %.3f of tiny values */
            if (i > 1) strcat(plist, " ");
            strcat(plist, items[i]);
        }
        char axis[N * 8] = "";
        for (int i = 1; i < N; i++) {
            snprintf(item, sizeof item, i > 1 ? " %d" : "%d", i);
            strcat(axis, item);
        }
        f = open_profile(path, 0);
        fprintf(f, "calibration:\n  format: 1\n  gpu: h100-sxm\n  stack: s\n  models: []\n"
                   "  grids:\n    - {family: attn_decode, dtype: bf16, heads: 1, kv_heads: 1, "
                   "head_dim: 1, axes: [\"1\", \"%s\"], t: \"%s\"}\n",
                axis, plist);
        fclose(f);
        ss_diag_clear(&d);
        assert_int_equal(ss_hw_load(path, NULL, &hw, &d), SS_OK);
        ss_calib c;
        rc = ss_calib_load(&hw, &c, &d);
        if (rc != SS_OK) {
            ss_diag_format(&d, msg, sizeof msg);
            fail_msg("%s", msg);
        }
        assert_int_equal(c.ngrids, 1);
        int k = 0;
        for (int i = 1; i < N; i++) {
            double w = strtod(items[i], NULL);
            if (memcmp(&w, &c.grids[0].t[k], sizeof w))
                fail_msg("%s: %.17g vs %.17g", items[i], w, c.grids[0].t[k]);
            k++;
        }
        ss_calib_free(&c);
    }
    unlink(path);
}

/* The calibrated cost model keeps the context-independent operators of the last batch
 * counts: a long sequence through one state gives bit-identical iteration times and
 * breakdowns to a fresh state per batch, on profiles with grids, mixed attention, CPU
 * models and TP all-reduce. */
static void test_memo_identical(void **st)
{
    (void)st;
    static const char *const hws[] = {"h100-sxm", "rtx-4090", "a100-80gb-sxm@vidur-sarathi",
                                      "b200-sxm"};
    ss_model m;
    ss_diag d;
    ss_diag_clear(&d);
    assert_int_equal(ss_model_load("llama-3.1-8b", NULL, &m, &d), SS_OK);
    uint64_t x = 0x9E3779B97F4A7C15ull;
    for (size_t h = 0; h < sizeof hws / sizeof *hws; h++)
        for (int tp = 1; tp <= 2; tp++) {
            ss_hw hw;
            assert_int_equal(ss_hw_load(hws[h], NULL, &hw, &d), SS_OK);
            ss_calib *cal = NULL;
            assert_int_equal(ss_cost_calibration_load(&hw, &cal, &d), SS_OK);
            ss_cost_setup su = {.model = &m, .hw = &hw, .par = {.tp = tp, .pp = 1, .ep = 1, .dp = 1},
                                .weight_dtype = SS_DTYPE_BF16, .act_dtype = SS_DTYPE_BF16,
                                .kv_dtype = SS_DTYPE_BF16, .calib = cal};
            void *run;
            assert_int_equal(ss_cost_calibrated.create(&su, &run, &d), SS_OK);
            int hits = 0;
            ss_batch_shape prev = {0};
            for (int i = 0; i < 300; i++) {
                x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                ss_batch_shape b = prev;
                if (i == 0 || x % 4 == 0) { /* new counts */
                    int np = (int)(x >> 8) % 3, nd = (int)(x >> 16) % 200;
                    if (np + nd == 0) nd = 1;
                    b = (ss_batch_shape){.num_seqs = np + nd, .num_prefill_seqs = np,
                                         .num_decode_seqs = nd, .num_sampled = nd + (np > 0)};
                    b.prefill_tokens = np ? 1 + (int64_t)((x >> 24) % 2048) : 0;
                } else if (x % 4 == 1 && b.num_prefill_seqs) { /* one count only */
                    b.prefill_tokens = 1 + (int64_t)((x >> 24) % 2048);
                } else if (x % 4 == 2 && b.num_decode_seqs) {
                    b.num_sampled = b.num_sampled == b.num_seqs ? b.num_seqs - 1 : b.num_seqs;
                } else {
                    hits++;
                }
                /* contexts change every iteration */
                b.prefill_ctx_tokens = b.num_prefill_seqs ? (int64_t)((x >> 32) % 4000) : 0;
                b.prefill_attn_pairs = b.num_prefill_seqs
                    ? (double)b.prefill_tokens * (double)b.prefill_ctx_tokens +
                          (double)b.prefill_tokens * (b.prefill_tokens + 1) / 2
                    : 0;
                b.decode_ctx_tokens = b.num_decode_seqs * (int64_t)(16 + (x >> 40) % 3000);
                b.decode_ctx_max = b.num_decode_seqs ? b.decode_ctx_tokens / b.num_decode_seqs +
                                                           (int64_t)((x >> 50) % 500)
                                                     : 0;
                prev = b;
                void *fresh;
                assert_int_equal(ss_cost_calibrated.create(&su, &fresh, &d), SS_OK);
                double a[SS_OP_COUNT + 1], f[SS_OP_COUNT + 1];
                ss_time_ns ta = ss_cost_calibrated.iteration(run, &b);
                ss_cost_calibrated.breakdown(run, &b, a);
                ss_time_ns tf = ss_cost_calibrated.iteration(fresh, &b);
                ss_cost_calibrated.destroy(fresh);
                assert_int_equal(ss_cost_calibrated.create(&su, &fresh, &d), SS_OK);
                ss_cost_calibrated.breakdown(fresh, &b, f);
                ss_cost_calibrated.destroy(fresh);
                assert_true(ta == tf);
                if (memcmp(a, f, sizeof a)) fail_msg("%s tp %d batch %d: breakdown differs", hws[h], tp, i);
            }
            assert_true(hits > 50);
            ss_cost_calibrated.destroy(run);
            ss_cost_calibration_free(cal);
        }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_and_cost),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_format_history),
        cmocka_unit_test(test_number_strings),
        cmocka_unit_test(test_memo_identical),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* The calibrated profiles shipped in hwprofiles/calibrated/, through the calibrated cost
 * model, never price an operator faster than the GPU's datasheet allows: a GEMM or a
 * prefill attention no faster than its FLOPs at the peak of its dtype, a GEMM moving more
 * than 128 MB or a decode attention streaming more than 512 MB of KV per call no faster than
 * its bytes at the HBM bandwidth, each within the 25 % the fitter's peak check allows
 * (boost clocks; peak_check.c). The profiles extrapolate, in tokens, batch, TP degree and
 * head configuration, far past what was measured; an extrapolation that went under the
 * physics (a decode MHA continuation once priced Llama-2-7B at TP 2 on the A100 at
 * 2.7 TB/s) is a bug whatever the held-out error says. Every profile file of the directory
 * is checked, on dense models of GQA and MHA attention at TP 1 to 8, with prompts of 8k and
 * 32k tokens, decode batches of up to 256 x 8k and 16 x 32k of context that fit in the GPU's
 * memory beside the weights (beyond it the engine refuses them), and a mixed batch. */
#include <dirent.h>
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
#include "hwprofiles/cost.h"
#include "hwprofiles/hw.h"
#include "models/model.h"

#define PEAK_MARGIN 1.25
/* Decode KV read per call above which no GPU's L2 (the largest here: 128 MB) can hold it
 * between the benchmark's repetitions */
#define KV_STREAMED (512.0 * 1024 * 1024)
#define GEMM_STREAMED (128.0 * 1024 * 1024)

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static ss_batch_shape prefill(long q)
{
    return (ss_batch_shape){.num_seqs = 1, .num_prefill_seqs = 1, .prefill_tokens = q,
                            .prefill_attn_pairs = q * (q + 1) / 2.0, .num_sampled = 1};
}

static ss_batch_shape decode(int n, long ctx)
{
    return (ss_batch_shape){.num_seqs = n, .num_decode_seqs = n,
                            .decode_ctx_tokens = (int64_t)n * ctx, .num_sampled = n,
                            .decode_ctx_max = ctx};
}

static ss_batch_shape mixed(void)
{
    ss_batch_shape b = decode(128, 4096);
    b.num_seqs += 1, b.num_prefill_seqs = 1, b.prefill_tokens = 2048;
    b.prefill_ctx_tokens = 4096, b.prefill_attn_pairs = 2048.0 * 4096 + 2048.0 * 2049 / 2;
    b.num_sampled += 1;
    return b;
}

/* Every operator of one (profile, model, tp, batch): the calibrated time summed over the
 * layers against the floor of the work of those layers. Returns the number of operators
 * checked; each violation is printed with its numbers and counted in *bad. */
static int check_batch(const char *prof, const ss_model *mod, const ss_hw *hw, int tp,
                       void *state, const ss_batch_shape *b, const char *what, int *bad)
{
    double br[SS_OP_COUNT + 1];
    ss_cost_calibrated.breakdown(state, b, br);
    double fl[SS_OP_COUNT] = {0}, by[SS_OP_COUNT] = {0};
    for (int g = 0; g < SS_MODEL_MAX_GROUPS && mod->groups[g].count > 0; g++) {
        ss_op_work w[SS_OP_COUNT];
        ss_model_layer_work(mod, g, tp, SS_DTYPE_BF16, SS_DTYPE_BF16, SS_DTYPE_BF16, b, w);
        for (int op = 0; op < SS_OP_COUNT; op++)
            fl[op] += w[op].flops * mod->groups[g].count, by[op] += w[op].bytes * mod->groups[g].count;
    }
    static const ss_op compute[] = {SS_OP_QKV_PROJ, SS_OP_O_PROJ, SS_OP_MLP_UP, SS_OP_MLP_DOWN,
                                    SS_OP_ATTN_PREFILL};
    double peak = ss_hw_peak_flops(hw, SS_DTYPE_BF16) * PEAK_MARGIN;
    int n = 0;
    for (size_t i = 0; i < sizeof compute / sizeof *compute; i++) {
        ss_op op = compute[i];
        if (!(fl[op] > 0)) continue;
        double floor_s = fl[op] / peak;
        /* a GEMM moving more than an L2 holds (weights and activations, one layer's call)
         * streams it from HBM too */
        if (op != SS_OP_ATTN_PREFILL && by[op] / mod->num_layers >= GEMM_STREAMED &&
            by[op] / (hw->hbm_bandwidth * PEAK_MARGIN) > floor_s)
            floor_s = by[op] / (hw->hbm_bandwidth * PEAK_MARGIN);
        if (!(br[op] >= floor_s))
            (*bad)++, print_error("%s, %s tp %d, %s: %s %.4g s, under its FLOPs or bytes at %.3g x the peaks "
                     "(%.4g s)\n",
                     prof, mod->name, tp, what, ss_op_name(op), br[op], PEAK_MARGIN, floor_s);
        n++;
    }
    /* decode attention: the bytes of its calls (the KV, mostly), one layer's per GPU above
     * what an L2 holds */
    if (b->num_decode_seqs > 0 && by[SS_OP_ATTN_DECODE] / mod->num_layers >= KV_STREAMED) {
        double floor_s = by[SS_OP_ATTN_DECODE] / (hw->hbm_bandwidth * PEAK_MARGIN);
        if (!(br[SS_OP_ATTN_DECODE] >= floor_s))
            (*bad)++, print_error("%s, %s tp %d, %s: attn_decode %.4g s, under its KV bytes at %.3g x "
                     "the HBM bandwidth (%.4g s)\n",
                     prof, mod->name, tp, what, br[SS_OP_ATTN_DECODE], PEAK_MARGIN, floor_s);
        n++;
    }
    return n;
}

static void test_shipped_profiles_physical(void **st)
{
    (void)st;
    const char *dir = "hwprofiles/calibrated";
    DIR *dp = opendir(dir);
    assert_non_null(dp);
    char *names[64];
    int np = 0;
    for (struct dirent *e; (e = readdir(dp)) != NULL;) {
        size_t len = strlen(e->d_name);
        if (len > 5 && !strcmp(e->d_name + len - 5, ".yaml") && np < 64)
            names[np++] = strdup(e->d_name);
    }
    closedir(dp);
    qsort(names, (size_t)np, sizeof *names, cmp_str);
    assert_true(np >= 14); /* the 14 of 2026-11-28 at least */
    static const char *const models[] = {"llama-3.1-8b", "llama-3.1-70b", "qwen3-32b", "llama-2-7b"};
    long checked = 0;
    int bad = 0;
    for (int p = 0; p < np; p++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, names[p]);
        ss_hw hw;
        ss_diag d;
        ss_diag_clear(&d);
        if (ss_hw_load(path, NULL, &hw, &d)) fail_msg("%s: %s", path, d.msg);
        struct ss_calib *cal = NULL;
        if (ss_cost_calibration_load(&hw, &cal, &d)) fail_msg("%s: %s", path, d.msg);
        assert_non_null(cal);
        for (size_t mi = 0; mi < sizeof models / sizeof *models; mi++) {
            ss_model mod;
            if (ss_model_load(models[mi], NULL, &mod, &d)) fail_msg("%s: %s", models[mi], d.msg);
            for (int tp = 1; tp <= 8; tp *= 2) {
                if (mod.num_kv_heads % tp && tp % mod.num_kv_heads) continue;
                ss_cost_setup su = {.model = &mod, .hw = &hw,
                                    .par = {.tp = tp, .pp = 1, .ep = 1, .dp = 1},
                                    .weight_dtype = SS_DTYPE_BF16, .act_dtype = SS_DTYPE_BF16,
                                    .kv_dtype = SS_DTYPE_BF16, .calib = cal};
                void *state;
                if (ss_cost_calibrated.create(&su, &state, &d))
                    fail_msg("%s, %s tp %d: %s", names[p], models[mi], tp, d.msg);
                /* decode batches as large as the GPU's memory holds beside the weights
                 * (up to 256 x 8k and 16 x 32k): what a simulation can reach */
                double room = 0.9 * (double)hw.hbm_bytes -
                              (double)ss_model_weight_bytes(&mod, SS_DTYPE_BF16) / tp;
                double per_tok = (double)ss_model_kv_bytes_per_token(&mod, SS_DTYPE_BF16, tp);
                long fit8k = room > 0 ? (long)(room / per_tok / 8192) : 0;
                long fit32k = room > 0 ? (long)(room / per_tok / 32768) : 0;
                ss_batch_shape b[] = {prefill(8192), prefill(32768),
                                      decode(fit8k < 256 ? (int)fit8k : 256, 8192),
                                      decode(fit32k < 16 ? (int)fit32k : 16, 32768), mixed()};
                static const char *const what[] = {"prefill 8k", "prefill 32k", "decode 8k",
                                                   "decode 32k", "mixed"};
                for (size_t i = 0; i < sizeof b / sizeof *b; i++) {
                    if (b[i].num_seqs == 0) continue;
                    if (b[i].num_decode_seqs > 0 && b[i].num_prefill_seqs > 0 && fit8k < 128)
                        continue; /* mixed: 128 x 4k decodes and 4k cached must fit too */
                    checked += check_batch(names[p], &mod, &hw, tp, state, &b[i], what[i], &bad);
                }
                ss_cost_calibrated.destroy(state);
            }
        }
        ss_cost_calibration_free(cal);
        free(names[p]);
    }
    assert_true(checked > 1000); /* the loops did run */
    assert_int_equal(bad, 0);
}

/* The calibrated streaming floor (spill_bw, fit_decode.c) through the cost model: a decode
 * batch on every shipped profile with a decode model is never under its KV bytes at that
 * rate; and at least one such batch is one the grids alone priced under it (else the
 * check could not fail). */
static void test_shipped_spill_floor(void **st)
{
    (void)st;
    static const char *const profs[] = {"rtx-4090@vllm-0.19-eager", "rtx-pro-6000@vllm-0.19.0",
                                        "h100-sxm@vllm-0.24.0", "a100-80gb-sxm@vllm-0.14.0",
                                        "h200-sxm@cublaslt-13.1-cudnn-9.19"};
    int bound = 0;
    for (size_t p = 0; p < sizeof profs / sizeof *profs; p++) {
        ss_hw hw;
        ss_diag d;
        ss_diag_clear(&d);
        if (ss_hw_load(profs[p], NULL, &hw, &d)) fail_msg("%s: %s", profs[p], d.msg);
        struct ss_calib *cal = NULL;
        if (ss_cost_calibration_load(&hw, &cal, &d)) fail_msg("%s: %s", profs[p], d.msg);
        const ss_cal_model *dm = ss_calib_find(cal, SS_FAM_ATTN_DECODE, "", SS_DTYPE_BF16);
        assert_non_null(dm);
        assert_true(dm->spill_bw > 0 && dm->spill_bw < hw.hbm_bandwidth); /* measured, below the datasheet */
        ss_model mod;
        if (ss_model_load("llama-3.1-8b", NULL, &mod, &d)) fail_msg("%s", d.msg);
        ss_cost_setup su = {.model = &mod, .hw = &hw, .par = {.tp = 1, .pp = 1, .ep = 1, .dp = 1},
                            .weight_dtype = SS_DTYPE_BF16, .act_dtype = SS_DTYPE_BF16,
                            .kv_dtype = SS_DTYPE_BF16, .calib = cal};
        void *state;
        if (ss_cost_calibrated.create(&su, &state, &d)) fail_msg("%s: %s", profs[p], d.msg);
        double per_tok = 2.0 * mod.num_kv_heads * mod.head_dim * 2; /* one layer, bf16 */
        for (int n = 1; n <= 256; n *= 4)
            for (long ctx = 1024; ctx <= 32768; ctx *= 8) {
                ss_batch_shape b = decode(n, ctx);
                double br[SS_OP_COUNT + 1];
                ss_cost_calibrated.breakdown(state, &b, br);
                double fl = mod.num_layers * (double)b.decode_ctx_tokens * per_tok / dm->spill_bw;
                if (!(br[SS_OP_ATTN_DECODE] >= fl * (1 - 1e-12)))
                    fail_msg("%s: %d x %ld: attn_decode %.4g s under its KV at %.3g TB/s (%.4g s)",
                             profs[p], n, ctx, br[SS_OP_ATTN_DECODE], dm->spill_bw / 1e12, fl);
                /* the datasheet floor alone would have allowed less */
                double ds = mod.num_layers * (double)b.decode_ctx_tokens * per_tok / hw.hbm_bandwidth;
                bound += fabs(br[SS_OP_ATTN_DECODE] - fl) <= 1e-12 * fl && fl > ds;
            }
        ss_cost_calibrated.destroy(state);
        ss_cost_calibration_free(cal);
    }
    assert_true(bound > 0);
}

/* A profile loaded for the validation (`validate calibration --profile`) carries its GPU's
 * L2, so a benchmark decode row reading at least twice it is floored at spill_bw there too
 * (the RTX PRO 6000's grids, measured mostly within its 128 MB L2, price it faster). */
static void test_loaded_profile_l2(void **st)
{
    (void)st;
    ss_hw hw;
    ss_diag d;
    ss_diag_clear(&d);
    assert_int_equal(ss_hw_load("rtx-pro-6000@vllm-0.19.0", NULL, &hw, &d), SS_OK);
    ss_calib c;
    if (ss_calib_load(&hw, &c, &d)) fail_msg("%s", d.msg);
    assert_true(c.l2_bytes == 128.0 * 1024 * 1024);
    const ss_cal_model *dm = ss_calib_find(&c, SS_FAM_ATTN_DECODE, "", SS_DTYPE_BF16);
    assert_non_null(dm);
    assert_true(dm->spill_bw > 0);
    ss_meas_source src = {0};
    char strings[1] = "";
    ss_meas_table t = {.sources = &src, .nsources = 1, .strings = strings, .strings_len = 1};
    static const int hk[][2] = {{8, 1}, {16, 2}, {8, 8}, {32, 4}, {64, 8}, {4, 1}};
    static const long bk[][2] = {{16, 32767}, {64, 16383}, {256, 4095}, {4, 131071}};
    int floored = 0;
    for (size_t i = 0; i < sizeof hk / sizeof *hk; i++)
        for (size_t j = 0; j < sizeof bk / sizeof *bk; j++) {
            ss_meas r = {0};
            r.family = SS_FAM_ATTN_DECODE, r.dtype = r.kv_dtype = SS_DTYPE_BF16;
            r.heads = hk[i][0], r.kv_heads = hk[i][1], r.head_dim = 128;
            r.batch = (int32_t)bk[j][0], r.kv = bk[j][1];
            double by = (double)bk[j][0] * (double)(bk[j][1] + 1) * hk[i][1] * 128 * 2 * 2;
            assert_true(by >= 2 * c.l2_bytes);
            double t1 = ss_cal_predict_row(&c, &t, &r);
            assert_true(t1 >= by / dm->spill_bw * (1 - 1e-12));
            c.l2_bytes = 0; /* as if loaded without it: the grids alone */
            double t0 = ss_cal_predict_row(&c, &t, &r);
            c.l2_bytes = 128.0 * 1024 * 1024;
            assert_true(t0 <= t1);
            floored += t0 < t1;
        }
    assert_true(floored > 0); /* the grids, measured mostly within the L2, go under it */
    ss_calib_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shipped_profiles_physical),
        cmocka_unit_test(test_shipped_spill_floor),
        cmocka_unit_test(test_loaded_profile_l2),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

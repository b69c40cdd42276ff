/* Unit tests of the profiler's plain-C half (validation/profiler/prof.h): GEMM shapes per
 * tensor-parallel degree, grids, the plan and its --dry-run listing, options, the median,
 * and the output writer read back.
 *
 * The expected shapes were computed by hand from Llama-3.1-8B's config.json (hidden 4096,
 * 32 heads, 8 KV heads, head_dim 128, intermediate 14336, vocab 128256, gated SiLU):
 *   tp1: qkv (32+2*8)*128 = 6144 x 4096; o 4096 x 4096; up/gate 2*14336 = 28672 x 4096;
 *        down 4096 x 14336; lm_head 128256 x 4096
 *   tp2: qkv (16+2*4)*128 = 3072 x 4096; o 4096 x 2048; up/gate 14336 x 4096;
 *        down 4096 x 7168; lm_head 64128 x 4096
 *   tp16: 2 query heads, the 8 KV heads replicated to 1 per GPU: qkv (2+2)*128 = 512. */
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

#include "sim/core/cfg.h"
#include "validation/profiler/prof.h"

/* ================================================================== helpers */

static ss_model load(const char *name)
{
    ss_model m;
    ss_diag d;
    ss_diag_clear(&d);
    if (ss_model_load(name, ".", &m, &d) != SS_OK) fail_msg("loading %s: %s", name, d.msg);
    return m;
}

static void expect_shape(const ss_prof_gemm *g, const char *op, int64_t n, int64_t k)
{
    assert_string_equal(g->op, op);
    assert_int_equal(g->n, n);
    assert_int_equal(g->k, k);
}

/* Parse a command line given as one string of space-separated words. */
static ss_rc parse(const char *line, ss_prof_opts *o, ss_diag *d)
{
    char buf[1024];
    char *argv[64];
    int argc = 0;
    snprintf(buf, sizeof buf, "%s", line);
    char *save = NULL;
    for (char *t = strtok_r(buf, " ", &save); t && argc < 64; t = strtok_r(NULL, " ", &save))
        argv[argc++] = t;
    ss_prof_opts_default(o);
    ss_diag_clear(d);
    return ss_prof_opts_parse(argc, argv, o, d);
}

static char *read_all(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    assert_true(feof(f)); /* the whole file fits: nothing checked is cut off */
    fclose(f);
    return buf;
}

/* ================================================================== shapes */

static void test_shapes_llama8b_tp1(void **state)
{
    (void)state;
    ss_model m = load("llama-3.1-8b");
    ss_prof_gemm g[16];
    size_t n = 0;
    ss_diag d;
    ss_diag_clear(&d);
    assert_int_equal(ss_prof_gemm_shapes(&m, 1, g, 16, &n, &d), SS_OK);
    assert_int_equal(n, 5);
    expect_shape(&g[0], "qkv_proj", 6144, 4096);
    expect_shape(&g[1], "o_proj", 4096, 4096);
    expect_shape(&g[2], "mlp_up_gate", 28672, 4096);
    expect_shape(&g[3], "mlp_down", 4096, 14336);
    expect_shape(&g[4], "lm_head", 128256, 4096);
}

static void test_shapes_llama8b_tp2_tp16(void **state)
{
    (void)state;
    ss_model m = load("llama-3.1-8b");
    ss_prof_gemm g[16];
    size_t n = 0;
    ss_diag d;
    ss_diag_clear(&d);
    assert_int_equal(ss_prof_gemm_shapes(&m, 2, g, 16, &n, &d), SS_OK);
    assert_int_equal(n, 5);
    expect_shape(&g[0], "qkv_proj", 3072, 4096);
    expect_shape(&g[1], "o_proj", 4096, 2048);
    expect_shape(&g[2], "mlp_up_gate", 14336, 4096);
    expect_shape(&g[3], "mlp_down", 4096, 7168);
    expect_shape(&g[4], "lm_head", 64128, 4096);
    assert_int_equal(g[0].tp, 2);

    assert_int_equal(ss_prof_gemm_shapes(&m, 16, g, 16, &n, &d), SS_OK);
    expect_shape(&g[0], "qkv_proj", 512, 4096);
    expect_shape(&g[1], "o_proj", 4096, 256);
}

static void test_shapes_refused(void **state)
{
    (void)state;
    ss_model m = load("llama-3.1-8b");
    ss_prof_gemm g[16];
    size_t n = 0;
    ss_diag d;
    ss_diag_clear(&d);
    assert_int_equal(ss_prof_gemm_shapes(&m, 3, g, 16, &n, &d), SS_ERR_INVALID);
    assert_non_null(strstr(d.msg, "tp 3"));
    ss_diag_clear(&d);
    assert_int_equal(ss_prof_gemm_shapes(&m, 1, g, 3, &n, &d), SS_ERR_INVALID);
    assert_non_null(strstr(d.msg, "too many GEMM shapes"));
}

/* MoE layers measure one expert's GEMMs (Mixtral: expert width 14336, no dense MLP). */
static void test_shapes_moe(void **state)
{
    (void)state;
    ss_model m = load("mixtral-8x7b");
    ss_prof_gemm g[16];
    size_t n = 0;
    ss_diag d;
    ss_diag_clear(&d);
    assert_int_equal(ss_prof_gemm_shapes(&m, 2, g, 16, &n, &d), SS_OK);
    assert_int_equal(n, 5);
    expect_shape(&g[2], "moe_up_gate_expert", 14336, 4096);
    expect_shape(&g[3], "moe_down_expert", 4096, 7168);
    expect_shape(&g[4], "lm_head", 16000, 4096);
}

/* The profiler measures what the simulator charges: 2*m*n*k of every shape equals the
 * FLOPs of the operator in ss_model_layer_work / ss_model_head_work, for several models
 * and tp degrees. */
static void test_shapes_match_layer_work(void **state)
{
    (void)state;
    const char *models[] = {"llama-3.1-8b", "llama-3.1-70b", "qwen2.5-32b", "llama-2-7b"};
    const int tps[] = {1, 2, 4, 8};
    const struct {
        const char *op;
        ss_op id;
    } map[] = {{"qkv_proj", SS_OP_QKV_PROJ},
               {"o_proj", SS_OP_O_PROJ},
               {"mlp_up_gate", SS_OP_MLP_UP},
               {"mlp_down", SS_OP_MLP_DOWN}};
    for (size_t mi = 0; mi < sizeof models / sizeof models[0]; mi++) {
        ss_model m = load(models[mi]);
        for (size_t ti = 0; ti < sizeof tps / sizeof tps[0]; ti++) {
            ss_prof_gemm g[16];
            size_t n = 0;
            ss_diag d;
            ss_diag_clear(&d);
            if (ss_prof_gemm_shapes(&m, tps[ti], g, 16, &n, &d) != SS_OK) continue;
            const int64_t T = 37;
            ss_batch_shape b = {0};
            b.num_seqs = b.num_prefill_seqs = 1;
            b.prefill_tokens = T;
            b.prefill_attn_pairs = (double)T * (T + 1) / 2;
            b.num_sampled = 1;
            ss_op_work w[SS_OP_COUNT], h[SS_OP_COUNT];
            ss_model_layer_work(&m, 0, tps[ti], SS_DTYPE_BF16, SS_DTYPE_BF16, SS_DTYPE_BF16,
                                &b, w);
            ss_model_head_work(&m, tps[ti], SS_DTYPE_BF16, SS_DTYPE_BF16, &b, h);
            int checked = 0;
            for (size_t i = 0; i < n; i++) {
                double mine = 2.0 * (double)(g[i].op[0] == 'l' ? 1 : T) * (double)g[i].n *
                              (double)g[i].k;
                if (!strcmp(g[i].op, "lm_head")) {
                    assert_float_equal(mine, h[SS_OP_LOGITS].flops, 1e-6 * mine + 1.0);
                    checked++;
                }
                for (size_t j = 0; j < sizeof map / sizeof map[0]; j++)
                    if (!strcmp(g[i].op, map[j].op)) {
                        assert_float_equal(mine, w[map[j].id].flops, 1e-9 * mine);
                        checked++;
                    }
            }
            assert_int_equal(checked, 5);
        }
    }
}

/* ================================================================== grids and plan */

static void test_token_grid(void **state)
{
    (void)state;
    ss_prof_list l;
    ss_prof_token_grid(16384, &l);
    assert_int_equal(l.n, 96); /* 1..16, 7 more in [16,32), 8 per octave to 8192, 16384 */
    assert_int_equal(l.v[0], 1);
    assert_int_equal(l.v[15], 16);
    assert_int_equal(l.v[16], 18);
    assert_int_equal(l.v[23], 32);
    assert_int_equal(l.v[24], 36);
    assert_int_equal(l.v[l.n - 2], 15360);
    assert_int_equal(l.v[l.n - 1], 16384);
    for (size_t i = 1; i < l.n; i++) assert_true(l.v[i] > l.v[i - 1]);

    ss_prof_token_grid(100, &l);
    assert_int_equal(l.n, 37);
    assert_int_equal(l.v[l.n - 2], 96);
    assert_int_equal(l.v[l.n - 1], 100);
    ss_prof_token_grid(1, &l);
    assert_int_equal(l.n, 1);
}

static void test_plan_default(void **state)
{
    (void)state;
    ss_prof_opts o;
    ss_diag d;
    assert_int_equal(parse("p --tp 1,2,1 --gpus 8", &o, &d), SS_OK);
    ss_model m = load(o.model);
    ss_prof_plan *p = calloc(1, sizeof *p);
    assert_non_null(p);
    assert_int_equal(ss_prof_plan_build(&o, &m, p, &d), SS_OK);
    assert_int_equal(p->ngemm, 10); /* 5 per tp, none shared, the repeated tp 1 adds none */
    assert_int_equal(p->tokens.n, 96);
    assert_int_equal(p->nattn, 2);
    assert_int_equal(p->attn[0].heads, 32);
    assert_int_equal(p->attn[0].kv_heads, 8);
    assert_int_equal(p->attn[1].heads, 16);
    assert_int_equal(p->attn[1].kv_heads, 4);
    assert_int_equal(p->attn[1].head_dim, 128);
    /* q = 16..16384 (11) x kv in {0, 256, 1024, 4096, 16384}, all within 32768. */
    assert_int_equal(p->nprefill, 55);
    assert_int_equal(p->prefill[0].q, 16);
    assert_int_equal(p->prefill[0].kv, 0);
    /* batch 2^i (i 0..8) x kv 2^j (j 7..15) with i + j <= 20: 6*9 + 8 + 7 + 6. */
    assert_int_equal(p->ndecode, 75);
    for (size_t i = 0; i < p->ndecode; i++)
        assert_true(p->decode[i].batch * p->decode[i].kv <= ((int64_t)1 << 20));
    assert_int_equal(p->nar_gpus, 3);
    assert_int_equal(p->ar_gpus[2], 8);
    assert_int_equal(p->nar_bytes, 19);
    assert_int_equal(p->ar_bytes[18], (int64_t)256 << 20);
    assert_int_equal(p->attn_dtype, SS_DTYPE_BF16);

    /* fp8 GEMMs keep attention in bf16; --gpus 6 measures 2, 4 and 6; explicit grids. */
    assert_int_equal(parse("p --dtype fp8 --gpus 6 --prefill-q 100,50 --prefill-kv 0,9000 "
                           "--max-ctx 9060 --decode-batch 3 --decode-kv 10,20 --tokens 5,1,5",
                           &o, &d),
                     SS_OK);
    assert_int_equal(ss_prof_plan_build(&o, &m, p, &d), SS_OK);
    assert_int_equal(p->dtype, SS_DTYPE_FP8);
    assert_int_equal(p->attn_dtype, SS_DTYPE_BF16);
    assert_int_equal(p->nar_gpus, 3);
    assert_int_equal(p->ar_gpus[2], 6);
    assert_int_equal(p->tokens.n, 2);
    assert_int_equal(p->nprefill, 3); /* (50,0) (50,9000) (100,0); 100+9000 > 9060 */
    assert_int_equal(p->prefill[1].kv, 9000);
    assert_int_equal(p->ndecode, 2);
    assert_int_equal(p->decode[1].batch, 3);

    /* --gpus 1: no all-reduce points. */
    assert_int_equal(parse("p", &o, &d), SS_OK);
    assert_int_equal(ss_prof_plan_build(&o, &m, p, &d), SS_OK);
    assert_int_equal(p->nar_gpus, 0);

    /* A tp the model cannot use is refused with the reason. */
    assert_int_equal(parse("p --tp 1,3", &o, &d), SS_OK);
    assert_int_equal(ss_prof_plan_build(&o, &m, p, &d), SS_ERR_INVALID);
    assert_non_null(strstr(d.msg, "tp 3"));
    free(p);
}

static void test_plan_print(void **state)
{
    (void)state;
    ss_prof_opts o;
    ss_diag d;
    assert_int_equal(parse("p --tp 2 --only gemm,allreduce --tokens 1,8", &o, &d), SS_OK);
    ss_model m = load(o.model);
    ss_prof_plan *p = calloc(1, sizeof *p);
    assert_non_null(p);
    assert_int_equal(ss_prof_plan_build(&o, &m, p, &d), SS_OK);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    ss_prof_plan_print(p, &o, 0, f);
    fclose(f);
    assert_non_null(strstr(text, "qkv_proj             tp=2 n=3072 k=4096"));
    assert_non_null(strstr(text, "  m: 1 8\n"));
    assert_non_null(strstr(text, "attention: skipped (--only)"));
    assert_non_null(strstr(text, "allreduce: not measured (built without NCCL)"));
    assert_non_null(strstr(text, "total: 10 gemm, 0 attention, 0 allreduce"));
    free(text);
    /* the attention line names the kernel --attn-kernel resolved to, and its approx flag */
    for (int built = 0; built <= 1; built++) {
        assert_int_equal(parse("p --only attn --prefill-q 16 --decode-batch 1", &o, &d), SS_OK);
        assert_int_equal(ss_prof_attn_resolve(&o, built, &d), SS_OK);
        assert_int_equal(ss_prof_plan_build(&o, &m, p, &d), SS_OK);
        f = open_memstream(&text, &len);
        assert_non_null(f);
        ss_prof_plan_print(p, &o, 0, f);
        fclose(f);
        assert_non_null(strstr(text, built ? "kernel cudnn (approx=0)"
                                           : "kernel servesim-fa (approx=1)"));
        free(text);
    }
    free(p);
}

/* --attn-kernel: auto takes cuDNN where the build has it; asking for cuDNN without it is an
 * error that says so; servesim-fa is always there. */
static void test_attn_kernel(void **state)
{
    (void)state;
    ss_prof_opts o;
    ss_diag d;
    assert_int_equal(parse("p", &o, &d), SS_OK);
    assert_int_equal(o.attn_kernel, SS_PROF_ATTN_AUTO);
    assert_int_equal(ss_prof_attn_resolve(&o, 1, &d), SS_OK);
    assert_int_equal(o.attn_kernel, SS_PROF_ATTN_CUDNN);
    assert_int_equal(parse("p --attn-kernel auto", &o, &d), SS_OK);
    assert_int_equal(ss_prof_attn_resolve(&o, 0, &d), SS_OK);
    assert_int_equal(o.attn_kernel, SS_PROF_ATTN_SERVESIM_FA);
    assert_int_equal(parse("p --attn-kernel servesim-fa", &o, &d), SS_OK);
    assert_int_equal(ss_prof_attn_resolve(&o, 1, &d), SS_OK);
    assert_int_equal(o.attn_kernel, SS_PROF_ATTN_SERVESIM_FA);
    assert_string_equal(ss_prof_attn_kernel_name(o.attn_kernel), "servesim-fa");
    assert_int_equal(parse("p --attn-kernel cudnn", &o, &d), SS_OK);
    assert_int_equal(ss_prof_attn_resolve(&o, 1, &d), SS_OK);
    assert_int_equal(o.attn_kernel, SS_PROF_ATTN_CUDNN);
    assert_int_equal(parse("p --attn-kernel cudnn", &o, &d), SS_OK);
    assert_int_equal(ss_prof_attn_resolve(&o, 0, &d), SS_ERR_INVALID);
    assert_non_null(strstr(d.msg, "--attn-kernel cudnn: this servesim-profile was built without cuDNN 9"));
    assert_int_equal(parse("p --attn-kernel flash", &o, &d), SS_ERR_INVALID);
    assert_non_null(strstr(d.msg, "--attn-kernel: 'flash' is not one of auto, cudnn, servesim-fa"));
}

/* ================================================================== options */

static void test_opts(void **state)
{
    (void)state;
    ss_prof_opts o;
    ss_diag d;
    assert_int_equal(parse("p --device 0 --warmup 0 --reps 3 --gpu h100-sxm --dry-run "
                           "--out x/y --flush-l2 --model llama-2-7b",
                           &o, &d),
                     SS_OK);
    assert_int_equal(o.device, 0);
    assert_int_equal(o.warmup, 0);
    assert_int_equal(o.reps, 3);
    assert_int_equal(o.dry_run, 1);
    assert_int_equal(o.flush_l2, 1);
    assert_string_equal(o.gpu_canonical, "h100-sxm");
    assert_string_equal(o.out, "x/y");
    assert_string_equal(o.model, "llama-2-7b");
    assert_int_equal(o.parts, SS_PROF_PART_ALL);
    assert_non_null(strstr(o.command, "p --device 0"));

    const struct {
        const char *line, *msg;
    } bad[] = {
        {"p --tp 1,0", "--tp: '0' is not an integer"},
        {"p --tp 1,2,4,8,16,32,64,128,256", "--tp: more than 8 values"},
        {"p --dtype int4", "--dtype: 'int4' is not one of bf16, fp16, fp8"},
        {"p --only gemm,bogus", "--only: unknown part 'bogus'"},
        {"p --reps 0", "--reps: '0' is not an integer in 1..1000000"},
        {"p --reps", "--reps needs a value"},
        {"p --tokens 4,x", "--tokens: 'x' is not an integer"},
        {"p --prefill-q 0", "--prefill-q: '0' is not an integer in 1.."},
        {"p --prefill-kv -1", "--prefill-kv: '-1' is not an integer in 0.."},
        {"p --frobnicate", "unknown option '--frobnicate'"},
        {"p --device -1", "--device: '-1' is not an integer in 0..1000000"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(parse(bad[i].line, &o, &d), SS_ERR_INVALID);
        if (!strstr(d.msg, bad[i].msg)) fail_msg("%s: got '%s'", bad[i].line, d.msg);
    }
}

static void test_median(void **state)
{
    (void)state;
    float a[] = {5, 1, 4, 2, 3};
    assert_float_equal(ss_prof_median(a, 5), 3.0, 0);
    float b[] = {10, 2, 8, 4};
    assert_float_equal(ss_prof_median(b, 4), 6.0, 0);
    float c[] = {7};
    assert_float_equal(ss_prof_median(c, 1), 7.0, 0);
    assert_float_equal(ss_prof_median(NULL, 0), 0.0, 0);
}

/* ================================================================== reference attention */

/* Hand-computed cases: a softmax of two scores, the causal mask, GQA head mapping, and the
 * decode convention (q = 1, prefix = kv - 1). head_dim 4, scale 1/2. */
/* /proc/driver/nvidia/version as two module flavours write it (the open module's line,
 * seen on the H200 this profiler first ran on, has "for x86_64" where the parser used to
 * look for the number). */
static void test_find_version(void **state)
{
    (void)state;
    static const struct { const char *text, *want; } cases[] = {
        {"NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  580.159.04  Release Build "
         "(dvs-builder@U16)  Thu Oct 30 2025\n", "580.159.04"},
        {"NVRM version: NVIDIA UNIX x86_64 Kernel Module  535.104.05  Sat Aug 19 01:15:15 UTC "
         "2023\n", "535.104.05"},
        {"NVRM version: NVIDIA UNIX Kernel Module 12.0\n", "12.0"},
        {"no number here, nor x86_64 nor v1.2\n", ""},
        {"trailing dot 580. then 7.5.\n", "7.5"},
        {"", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[32] = "junk";
        ss_prof_find_version(cases[i].text, buf, sizeof buf);
        assert_string_equal(buf, cases[i].want);
    }
    char small[5];
    ss_prof_find_version("module 580.159.04", small, sizeof small);
    assert_string_equal(small, "580.");
}

static void test_attn_reference(void **state)
{
    (void)state;
    /* One request, 4 query heads on 2 KV heads, q = 2 new tokens on a prefix of 1: keys 3.
     * K of KV head 0: [2,0,0,0], [0,0,0,0], [0,0,0,0]; of KV head 1: all [0,0,0,0].
     * V rows of head 0: e0, e1, e2 (unit vectors); head 1: 1, 2, 3 times [1,1,1,1]. */
    const int heads = 4, kvh = 2, D = 4;
    const int64_t q = 2, prefix = 1, keys = 3;
    float Q[4 * 2 * 4] = {0}, K[2 * 3 * 4] = {0}, V[2 * 3 * 4] = {0}, O[4 * 2 * 4];
    for (int h = 0; h < heads; h++)
        for (int i = 0; i < q; i++) Q[(h * q + i) * D + 0] = 1.0f; /* every query [1,0,0,0] */
    K[0] = 2.0f;                                                    /* head 0, key 0 */
    for (int j = 0; j < keys; j++) {
        V[(0 * keys + j) * D + j] = 1.0f;
        for (int d = 0; d < D; d++) V[(1 * keys + j) * D + d] = (float)(j + 1);
    }
    ss_prof_attn_reference(Q, K, V, O, 1, q, prefix, heads, kvh, D);
    /* Heads 0 and 1 read KV head 0. Token 0 (position 1) sees keys 0, 1: scores 1 and 0. */
    const double e = exp(1.0);
    for (int h = 0; h < 2; h++) {
        const float *o0 = O + (h * q + 0) * D, *o1 = O + (h * q + 1) * D;
        assert_float_equal(o0[0], e / (e + 1), 1e-6);
        assert_float_equal(o0[1], 1 / (e + 1), 1e-6);
        assert_float_equal(o0[2], 0.0, 0); /* key 2 is in the future: masked */
        /* Token 1 (position 2) sees all three: scores 1, 0, 0. */
        assert_float_equal(o1[0], e / (e + 2), 1e-6);
        assert_float_equal(o1[1], 1 / (e + 2), 1e-6);
        assert_float_equal(o1[2], 1 / (e + 2), 1e-6);
    }
    /* Heads 2 and 3 read KV head 1: equal scores, so the mean of the visible V rows. */
    for (int h = 2; h < 4; h++) {
        assert_float_equal(O[(h * q + 0) * D + 3], 1.5, 1e-6);
        assert_float_equal(O[(h * q + 1) * D + 3], 2.0, 1e-6);
    }

    /* Decode of the same request with kv = 3 (the new token included) is prefill token 1. */
    float Qd[4 * 4] = {0}, Od[4 * 4];
    for (int h = 0; h < heads; h++) Qd[h * D] = 1.0f;
    ss_prof_attn_reference(Qd, K, V, Od, 1, 1, keys - 1, heads, kvh, D);
    for (int h = 0; h < heads; h++)
        for (int d = 0; d < D; d++)
            assert_float_equal(Od[h * D + d], O[(h * q + 1) * D + d], 1e-7);
}

/* X [2,3] . W [2,3]^T by hand: rows (1,2,3), (0,-1,4); W rows (1,0,1), (2,1,0). */
static void test_gemm_reference(void **state)
{
    (void)state;
    const float X[] = {1, 2, 3, 0, -1, 4}, W[] = {1, 0, 1, 2, 1, 0};
    float D[4];
    ss_prof_gemm_reference(X, W, D, 2, 2, 3);
    assert_float_equal(D[0], 4.0, 0);  /* 1 + 3 */
    assert_float_equal(D[1], 4.0, 0);  /* 2 + 2 */
    assert_float_equal(D[2], 4.0, 0);  /* 0 + 4 */
    assert_float_equal(D[3], -1.0, 0); /* 0 - 1 */
}

static void test_max_abs_diff(void **state)
{
    (void)state;
    float a[] = {1.0f, 2.0f, -3.0f}, b[] = {1.5f, 2.0f, -3.25f};
    assert_float_equal(ss_prof_max_abs_diff(a, b, 3), 0.5, 0);
    assert_float_equal(ss_prof_max_abs_diff(a, a, 3), 0.0, 0);
    b[1] = NAN;
    assert_true(isinf(ss_prof_max_abs_diff(a, b, 3)));
}

/* ================================================================== output */

static void test_yaml_quote(void **state)
{
    (void)state;
    char buf[64];
    assert_int_equal(ss_prof_yaml_quote("a\"b\\c\nd: e", buf, sizeof buf), SS_OK);
    assert_string_equal(buf, "\"a\\\"b\\\\c\\x0ad: e\"");
    assert_int_equal(ss_prof_yaml_quote("", buf, sizeof buf), SS_OK);
    assert_string_equal(buf, "\"\"");
    assert_int_equal(ss_prof_yaml_quote("0123456789", buf, 8), SS_ERR_INVALID);
}

static void test_write_dir(void **state)
{
    (void)state;
    char tmpl[] = "/tmp/ss_prof_test_XXXXXX";
    char *root = mkdtemp(tmpl);
    assert_non_null(root);
    char dir[256];
    snprintf(dir, sizeof dir, "%s/a/b", root);
    ss_diag d;
    ss_diag_clear(&d);
    assert_int_equal(ss_prof_mkdir_p(dir, &d), SS_OK);
    assert_int_equal(ss_prof_mkdir_p(dir, &d), SS_OK); /* exists: fine */

    ss_prof_meta meta = {0};
    snprintf(meta.gpu, sizeof meta.gpu, "NVIDIA H100 80GB HBM3");
    snprintf(meta.gpu_canonical, sizeof meta.gpu_canonical, "h100-sxm");
    snprintf(meta.stack, sizeof meta.stack, "cublaslt-130000+servesim-fa-approx");
    snprintf(meta.cuda_version, sizeof meta.cuda_version, "13.0");
    snprintf(meta.driver_version, sizeof meta.driver_version, "13.0");
    ss_prof_now_iso(meta.date, sizeof meta.date);
    snprintf(meta.host, sizeof meta.host, "node-1");
    snprintf(meta.command, sizeof meta.command, "servesim-profile --out 'my dir' \"x\"");
    snprintf(meta.model, sizeof meta.model, "llama-3.1-8b");
    snprintf(meta.dtype, sizeof meta.dtype, "bf16");
    assert_int_equal(ss_prof_write_meta(dir, &meta, &d), SS_OK);

    /* meta.yaml reads back through servesim's own YAML loader. */
    char path[512];
    snprintf(path, sizeof path, "%s/meta.yaml", dir);
    ss_doc *doc = NULL;
    assert_int_equal(ss_doc_load_file(path, &doc, &d), SS_OK);
    yaml_node_t *root_node = ss_doc_root(doc);
    assert_string_equal(ss_node_scalar(ss_node_get(doc, root_node, "format")),
                        "servesim-profile");
    assert_string_equal(ss_node_scalar(ss_node_get(doc, root_node, "version")), "1");
    assert_string_equal(ss_node_scalar(ss_node_get(doc, root_node, "command")),
                        meta.command);
    assert_string_equal(ss_node_scalar(ss_node_get(doc, root_node, "gpu")), meta.gpu);
    assert_string_equal(ss_node_scalar(ss_node_get(doc, root_node, "dtype")), "bf16");
    const char *date = ss_node_scalar(ss_node_get(doc, root_node, "date"));
    assert_int_equal(strlen(date), 20);
    assert_int_equal(date[10], 'T');
    assert_int_equal(date[19], 'Z');
    ss_doc_free(doc);

    /* Each CSV: header, then rows in order. */
    ss_prof_csv c;
    assert_int_equal(ss_prof_csv_open(&c, dir, SS_PROF_T_GEMM, &d), SS_OK);
    ss_prof_csv_gemm(&c, 16, 6144, 4096, SS_DTYPE_BF16, 12.3456, 20);
    ss_prof_csv_gemm(&c, 1, 128256, 4096, SS_DTYPE_FP8, 1000.0, 5);
    assert_int_equal(ss_prof_csv_close(&c, &d), SS_OK);
    assert_int_equal(ss_prof_csv_close(&c, &d), SS_OK); /* twice: harmless */
    snprintf(path, sizeof path, "%s/gemm.csv", dir);
    assert_string_equal(read_all(path), "m,n,k,dtype,time_us,reps\n"
                                        "16,6144,4096,bf16,12.346,20\n"
                                        "1,128256,4096,fp8,1000.000,5\n");

    const ss_prof_attn_shape s = {2, 16, 4, 128};
    const ss_prof_prefill_pt pp = {1, 512, 1024};
    const ss_prof_decode_pt dp = {64, 4096};
    assert_int_equal(ss_prof_csv_open(&c, dir, SS_PROF_T_ATTN_PREFILL, &d), SS_OK);
    ss_prof_csv_prefill(&c, &pp, &s, SS_DTYPE_BF16, SS_DTYPE_BF16, 101.5, 1);
    assert_int_equal(ss_prof_csv_close(&c, &d), SS_OK);
    snprintf(path, sizeof path, "%s/attn_prefill.csv", dir);
    assert_string_equal(read_all(path),
                        "batch,q,kv,heads,kv_heads,head_dim,dtype,kv_dtype,time_us,approx\n"
                        "1,512,1024,16,4,128,bf16,bf16,101.500,1\n");

    assert_int_equal(ss_prof_csv_open(&c, dir, SS_PROF_T_ATTN_DECODE, &d), SS_OK);
    ss_prof_csv_decode(&c, &dp, &s, SS_DTYPE_FP16, SS_DTYPE_FP16, 55.25, 1);
    assert_int_equal(ss_prof_csv_close(&c, &d), SS_OK);
    snprintf(path, sizeof path, "%s/attn_decode.csv", dir);
    assert_string_equal(read_all(path),
                        "batch,kv,heads,kv_heads,head_dim,dtype,kv_dtype,time_us,approx\n"
                        "64,4096,16,4,128,fp16,fp16,55.250,1\n");

    assert_int_equal(ss_prof_csv_open(&c, dir, SS_PROF_T_ALLREDUCE, &d), SS_OK);
    ss_prof_csv_allreduce(&c, 8, 1 << 20, SS_DTYPE_BF16, 30.0);
    assert_int_equal(ss_prof_csv_close(&c, &d), SS_OK);
    snprintf(path, sizeof path, "%s/allreduce.csv", dir);
    assert_string_equal(read_all(path), "gpus,bytes,dtype,time_us\n8,1048576,bf16,30.000\n");

    const int algo[7] = {21, 18, 3, 0, 0, 1, 0};
    assert_int_equal(ss_prof_csv_open(&c, dir, SS_PROF_T_GEMM_ALGO, &d), SS_OK);
    ss_prof_csv_gemm_algo(&c, 16, 4096, 4096, SS_DTYPE_BF16, algo, 0.5);
    assert_int_equal(ss_prof_csv_close(&c, &d), SS_OK);
    snprintf(path, sizeof path, "%s/gemm_algo.csv", dir);
    assert_string_equal(read_all(path), "m,n,k,dtype,algo_id,tile,stages,splitk,reduction,"
                                        "swizzle,custom,waves\n"
                                        "16,4096,4096,bf16,21,18,3,0,0,1,0,0.500\n");

    /* A directory that does not exist, and a path through a file, are I/O errors. */
    char missing[300];
    snprintf(missing, sizeof missing, "%s/nope", root);
    ss_diag_clear(&d);
    assert_int_equal(ss_prof_csv_open(&c, missing, SS_PROF_T_GEMM, &d), SS_ERR_IO);
    assert_non_null(strstr(d.msg, "cannot write"));
    ss_diag_clear(&d);
    assert_int_equal(ss_prof_mkdir_p(path, &d), SS_ERR_IO); /* path is a file */

    /* Clean up. */
    const char *files[] = {"meta.yaml", "gemm.csv", "attn_prefill.csv", "attn_decode.csv",
                           "allreduce.csv", "gemm_algo.csv"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        unlink(path);
    }
    rmdir(dir);
    snprintf(path, sizeof path, "%s/a", root);
    rmdir(path);
    rmdir(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shapes_llama8b_tp1),
        cmocka_unit_test(test_shapes_llama8b_tp2_tp16),
        cmocka_unit_test(test_shapes_refused),
        cmocka_unit_test(test_shapes_moe),
        cmocka_unit_test(test_shapes_match_layer_work),
        cmocka_unit_test(test_token_grid),
        cmocka_unit_test(test_plan_default),
        cmocka_unit_test(test_plan_print),
        cmocka_unit_test(test_attn_kernel),
        cmocka_unit_test(test_opts),
        cmocka_unit_test(test_median),
        cmocka_unit_test(test_find_version),
        cmocka_unit_test(test_attn_reference),
        cmocka_unit_test(test_gemm_reference),
        cmocka_unit_test(test_max_abs_diff),
        cmocka_unit_test(test_yaml_quote),
        cmocka_unit_test(test_write_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Calibration readers (hwprofiles/calib/meas.h): the table and family names; every format on
 * hand-written fixtures (written into build-test-out by tests/data/calib/generate.sh, the
 * CTest fixture calib_readers), with the unit conversions and derived shapes checked value by
 * value; the same files gzip-compressed (made here, in the build directory)
 * give the same rows; one malformed row per reader names file, line and column; the
 * header-less InferSim file; the malformed APEX+ rows; detection; the deterministic
 * directory walk; the GPU filter; SHA-256 against a published test vector.
 *
 * Runs from the repository root. Variants of the fixtures are written under
 * $SS_BUILD_DIR/calib-test/ (or /tmp when unset). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>
#include <cmocka.h>

#include "hwprofiles/calib/meas.h"

#define FIX "build-test-out/calib-readers/calib/"

/*============================================================ helpers */

static char tmp_root[512];

static const char *tmp_dir(void)
{
    if (!tmp_root[0]) {
        const char *b = getenv("SS_BUILD_DIR");
        snprintf(tmp_root, sizeof tmp_root, "%s/calib-test", b && b[0] ? b : "/tmp");
    }
    return tmp_root;
}

static void mkdirs_for(const char *path)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            mkdir(buf, 0777);
            *p = '/';
        }
}

/* Copy FIX/rel to <tmp>/<tag>/rel (".gz" appended and compressed when gz), with line
 * `line` (1-based, 0 = none) replaced by `repl`. Returns the new path in out. */
static void copy_fixture(const char *tag, const char *rel, int gz, int line, const char *repl,
                         char *out, size_t n)
{
    char src[1024];
    snprintf(src, sizeof src, FIX "%s", rel);
    snprintf(out, n, "%s/%s/%s%s", tmp_dir(), tag, rel, gz ? ".gz" : "");
    mkdirs_for(out);
    FILE *in = fopen(src, "rb");
    if (!in) fail_msg("cannot open fixture %s", src);
    gzFile zo = NULL;
    FILE *fo = NULL;
    if (gz) zo = gzopen(out, "wb9");
    else fo = fopen(out, "wb");
    if (!zo && !fo) fail_msg("cannot write %s", out);
    char buf[4096];
    int ln = 0;
    while (fgets(buf, sizeof buf, in)) {
        ln++;
        const char *w = buf;
        char rb[4096];
        if (ln == line) {
            snprintf(rb, sizeof rb, "%s\n", repl);
            w = rb;
        }
        if (zo) gzputs(zo, w);
        else if (fo) fputs(w, fo);
    }
    fclose(in);
    if (zo) gzclose(zo);
    if (fo) fclose(fo);
}

static ss_rc read_src(ss_meas_table *t, const char *spec, const char *gpu, int lenient,
                      ss_diag *d)
{
    ss_meas_table_init(t);
    ss_diag_clear(d);
    ss_meas_opts o = {.lenient = lenient};
    return ss_meas_read_source_opts(t, spec, gpu, &o, d);
}

static void read_ok(ss_meas_table *t, const char *spec, int lenient)
{
    ss_diag d;
    ss_rc rc = read_src(t, spec, NULL, lenient, &d);
    if (rc) {
        char msg[2048];
        ss_diag_format(&d, msg, sizeof msg);
        fail_msg("reading %s: %s", spec, msg);
    }
}

/* The error of reading spec, formatted; asserts it failed with rc. */
static void read_fails(const char *spec, int lenient, ss_rc rc, char *msg, size_t n)
{
    ss_meas_table t;
    ss_diag d;
    ss_rc got = read_src(&t, spec, NULL, lenient, &d);
    ss_diag_format(&d, msg, n);
    if (got != rc) fail_msg("reading %s: expected rc %d, got %d (%s)", spec, rc, got, msg);
    assert_int_equal(t.n, 0); /* nothing half-read is kept */
    ss_meas_table_free(&t);
}

static void assert_contains(const char *hay, const char *needle)
{
    if (!strstr(hay, needle)) fail_msg("expected '%s' in: %s", needle, hay);
}

/* The row of family f and operator op (n-th match), or fail. */
static const ss_meas *find(const ss_meas_table *t, int f, const char *op, int nth)
{
    for (size_t i = 0; i < t->n; i++)
        if (t->rows[i].family == f && (!op || !strcmp(ss_meas_str(t, t->rows[i].op), op)) &&
            nth-- == 0)
            return &t->rows[i];
    fail_msg("no row %s/%s", ss_fam_name((ss_fam)f), op ? op : "*");
    return NULL;
}

static const ss_meas_source *src_of(const ss_meas_table *t, const ss_meas *m)
{
    return &t->sources[m->src];
}

static int close_to(double a, double b) { return fabs(a - b) <= 1e-12 + 1e-9 * fabs(b); }

/*============================================================ table, names, hash */

static void test_family_names(void **state)
{
    (void)state;
    for (int f = 0; f < SS_FAM_COUNT; f++)
        assert_int_equal(ss_fam_from_name(ss_fam_name((ss_fam)f)), f);
    assert_string_equal(ss_fam_name(SS_FAM_ATTN_MIXED), "attn_mixed");
    assert_int_equal(ss_fam_from_name("attention"), SS_FAM_COUNT);
    assert_int_equal(ss_fam_from_name(NULL), SS_FAM_COUNT);
    assert_string_equal(ss_fam_name(SS_FAM_COUNT), "?");
}

static void test_table_grows_and_interns(void **state)
{
    (void)state;
    ss_meas_table t;
    ss_meas_table_init(&t);
    ss_diag d;
    ss_diag_clear(&d);
    uint32_t a, b, c, e;
    assert_int_equal(ss_meas_intern(&t, "qkv_proj", &a, &d), SS_OK);
    assert_int_equal(ss_meas_intern(&t, "o_proj", &b, &d), SS_OK);
    assert_int_equal(ss_meas_intern(&t, "qkv_proj", &c, &d), SS_OK);
    assert_int_equal(ss_meas_intern(&t, "", &e, &d), SS_OK);
    assert_int_equal(a, c);
    assert_true(a != b && a != 0 && e == 0);
    assert_string_equal(ss_meas_str(&t, b), "o_proj");
    assert_string_equal(ss_meas_str(&t, 0), "");
    for (int i = 0; i < 1000; i++) { /* several reallocations */
        ss_meas m = {.family = SS_FAM_GEMM, .m = i, .time_s = i * 1e-6, .op = a};
        assert_int_equal(ss_meas_push(&t, &m, &d), SS_OK);
    }
    assert_int_equal(t.n, 1000);
    assert_true(t.rows[999].m == 999 && t.rows[500].op == a);
    ss_meas_source s = {.rows = 7};
    snprintf(s.path, sizeof s.path, "x.csv");
    uint32_t idx;
    assert_int_equal(ss_meas_add_source(&t, &s, &idx, &d), SS_OK);
    assert_int_equal(idx, 0);
    assert_string_equal(t.sources[0].path, "x.csv");
    ss_meas_table_free(&t);
    assert_null(t.rows);
}

static void test_sha256_vector(void **state)
{
    (void)state;
    char path[1024], hex[65];
    snprintf(path, sizeof path, "%s/abc.txt", tmp_dir());
    mkdirs_for(path);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs("abc", f);
    fclose(f);
    ss_diag d;
    ss_diag_clear(&d);
    assert_int_equal(ss_meas_sha256(path, hex, &d), SS_OK);
    /* FIPS 180-2, appendix B.1 */
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_int_equal(ss_meas_sha256(FIX "none.csv", hex, &d), SS_ERR_IO);
}

/*============================================================ readers, value by value */

static void test_vidur(void **state)
{
    (void)state;
    ss_meas_table t;
    read_ok(&t, FIX "vidur", 0);
    /* mlp.csv: 2 rows x 9 operators; network 2 + 1; cpu 2 */
    assert_int_equal(t.n, 23);
    const ss_meas *q1 = find(&t, SS_FAM_GEMM, "attn_pre_proj", 0);
    assert_true(q1->m == 16 && q1->n == (8 + 2 * 2) * 8 && q1->k == 64 && q1->gpus == 1);
    assert_true(close_to(q1->time_s, 0.040e-3) && q1->dtype == SS_DTYPE_FP16);
    assert_string_equal(ss_meas_str(&t, q1->model), "handmade/toy-tiny");
    assert_int_equal(q1->line, 2);
    const ss_meas_source *s = src_of(&t, q1);
    assert_string_equal(s->format, "vidur");
    assert_string_equal(s->gpu, "a100-80gb-sxm");
    assert_string_equal(s->stack, "vidur-sarathi");
    assert_int_equal(s->rows, 18);
    assert_int_equal(strlen(s->sha256), 64);
    /* TP 4 with 2 KV heads: KV heads replicated (one per GPU) */
    const ss_meas *q4 = find(&t, SS_FAM_GEMM, "attn_pre_proj", 1);
    assert_true(q4->gpus == 4 && q4->n == (2 + 2 * 1) * 8 && q4->k == 64);
    const ss_meas *o4 = find(&t, SS_FAM_GEMM, "attn_post_proj", 1);
    assert_true(o4->n == 64 && o4->k == 16);
    const ss_meas *u1 = find(&t, SS_FAM_GEMM, "mlp_up_proj", 0);
    assert_true(u1->n == 2 * 160 && u1->k == 64);
    const ss_meas *d4 = find(&t, SS_FAM_GEMM, "mlp_down_proj", 1);
    assert_true(d4->n == 64 && d4->k == 40);
    const ss_meas *rope = find(&t, SS_FAM_ELEMWISE, "attn_rope", 0);
    assert_true(rope->n == (8 + 2) * 8 && rope->m == 16);
    const ss_meas *act = find(&t, SS_FAM_ELEMWISE, "mlp_act", 1);
    assert_int_equal(act->n, 40);
    const ss_meas *emb = find(&t, SS_FAM_EMBED, "emb", 0);
    assert_true(emb->n == 64 && close_to(emb->time_s, 0.011e-3)); /* .median, not .min */
    /* network: fp16 elements -> bytes x 2; ms -> s; cross-node when devices_per_node < n */
    const ss_meas *ar = find(&t, SS_FAM_ALLREDUCE, "all_reduce", 0);
    assert_true(ar->bytes == 2048 && ar->gpus == 2 && close_to(ar->time_s, 0.05e-3));
    assert_int_equal(ar->flags, SS_MEAS_CUDA_GRAPH);
    const ss_meas *ar16 = find(&t, SS_FAM_ALLREDUCE, "all_reduce", 1);
    assert_true(ar16->bytes == 8192 && ar16->gpus == 16);
    assert_int_equal(ar16->flags, SS_MEAS_CUDA_GRAPH | SS_MEAS_CROSS_NODE);
    const ss_meas *sr = find(&t, SS_FAM_SENDRECV, "send_recv", 0);
    assert_true(sr->bytes == 6000 && (sr->flags & SS_MEAS_CROSS_NODE));
    /* cpu overhead: schedule + sampler_e2e + prepare_inputs_e2e + process_model_outputs */
    const ss_meas *cpu = find(&t, SS_FAM_CPU_OVERHEAD, NULL, 0);
    assert_true(close_to(cpu->time_s, (0.25 + 0.75 + 1.0 + 0.125) * 1e-3));
    assert_true(cpu->batch == 8 && cpu->gpus == 1);
    assert_string_equal(src_of(&t, cpu)->gpu, "a40");
    const ss_meas *cpu2 = find(&t, SS_FAM_CPU_OVERHEAD, NULL, 1);
    assert_true(close_to(cpu2->time_s, 3.25e-3) && cpu2->gpus == 2 && cpu2->batch == 32);
    ss_meas_table_free(&t);
}

static void test_frontier(void **state)
{
    (void)state;
    ss_meas_table t;
    read_ok(&t, FIX "frontier", 0);
    assert_int_equal(t.n, 3);
    const ss_meas *p = find(&t, SS_FAM_ATTN_PREFILL, "attn_prefill", 0);
    assert_true(p->batch == 1 && p->q == 128 && p->kv == 64 && p->heads == 8 &&
                p->kv_heads == 2 && p->head_dim == 8);
    assert_true(close_to(p->time_s, 0.10e-3)); /* the kernel alone */
    const ss_meas *dd = find(&t, SS_FAM_ATTN_DECODE, "attn_decode", 0);
    assert_true(dd->batch == 16 && dd->kv == 512 && dd->q == 0 && dd->gpus == 2 &&
                dd->heads == 4 && dd->kv_heads == 1);
    const ss_meas *save = find(&t, SS_FAM_ELEMWISE, "attn_kv_cache_save", 0);
    assert_true(save->m == 128 && save->n == 2 * 2 * 8 && close_to(save->time_s, 0.02e-3));
    assert_string_equal(src_of(&t, p)->gpu, "a800");
    assert_string_equal(src_of(&t, p)->format, "frontier");
    ss_meas_table_free(&t);
}

static void test_aiconfigurator(void **state)
{
    (void)state;
    ss_meas_table t;
    read_ok(&t, FIX "aiconfigurator", 0);
    assert_int_equal(t.n, 11);
    const ss_meas *g = find(&t, SS_FAM_GEMM, "gemm:torch.nn.functional.linear", 0);
    assert_true(g->m == 8 && g->n == 256 && g->k == 128 && g->dtype == SS_DTYPE_BF16);
    assert_true(close_to(g->time_s, 0.005e-3) && g->flags == 0);
    const ss_meas *gb = find(&t, SS_FAM_GEMM, "gemm:CutlassFp8BlockScaledMMKernel:fp8_block", 0);
    assert_true(gb->dtype == SS_DTYPE_FP8 && gb->flags == SS_MEAS_VARIANT);
    const ss_meas *ca = find(&t, SS_FAM_ATTN_PREFILL, "context_attention:vllm_flash_attn_fa3", 0);
    assert_true(ca->batch == 2 && ca->q == 100 && ca->kv == 0 && ca->heads == 8 &&
                ca->kv_heads == 2 && ca->head_dim == 64 && ca->kv_dtype == SS_DTYPE_FP8);
    const ss_meas *sw =
        find(&t, SS_FAM_ATTN_PREFILL, "context_attention:vllm_flash_attn_fa3:window=128", 0);
    assert_int_equal(sw->flags, SS_MEAS_VARIANT);
    const ss_meas *ga = find(&t, SS_FAM_ATTN_DECODE, NULL, 0);
    assert_true(ga->batch == 4 && ga->kv == 300 && close_to(ga->time_s, 0.0125e-3));
    const ss_meas *moe = find(&t, SS_FAM_MOE, "moe:vllm_unquantizedfusedmoe_triton_tritonexperts", 0);
    assert_true(moe->m == 16 && moe->hidden == 256 && moe->inter == 96 / 2 && moe->topk == 2 &&
                moe->experts == 8 / 4 && moe->gpus == 8 && moe->flags == 0);
    const ss_meas *moe2 = find(&t, SS_FAM_MOE, NULL, 1);
    assert_string_equal(ss_meas_str(&t, moe2->op),
                        "moe:vllm_unquantizedfusedmoe_triton_tritonexperts:power_law_1.2");
    assert_int_equal(moe2->flags, SS_MEAS_VARIANT);
    /* message sizes are elements: bf16 x 2, int8 x 1, half x 2 */
    const ss_meas *car = find(&t, SS_FAM_ALLREDUCE, "all_reduce:vLLM_custom_graph", 0);
    assert_true(car->bytes == 2000 && car->gpus == 4 && car->flags == SS_MEAS_CUDA_GRAPH);
    const ss_meas *cae = find(&t, SS_FAM_ALLREDUCE, "all_reduce:vLLM_custom_eager", 0);
    assert_int_equal(cae->flags, 0);
    const ss_meas *ag = find(&t, SS_FAM_ALLGATHER, NULL, 0);
    assert_true(ag->bytes == 1000 && ag->gpus == 8);
    const ss_meas *a2a = find(&t, SS_FAM_ALLTOALL, NULL, 0);
    assert_true(a2a->bytes == 500 && a2a->dtype == SS_DTYPE_INT8);
    assert_string_equal(src_of(&t, ag)->stack, "nccl-2.29.2");
    assert_string_equal(src_of(&t, g)->stack, "vllm-0.24.0");
    assert_string_equal(src_of(&t, g)->gpu, "h100-sxm");
    ss_meas_table_free(&t);
}

static void test_llmservingsim(void **state)
{
    (void)state;
    ss_meas_table t;
    read_ok(&t, FIX "llmservingsim", 0);
    assert_int_equal(t.n, 13);
    /* Llama-3.1-8B at TP 2: 16 heads, 4 KV heads, head_dim 128, FFN 7168 per GPU */
    const ss_meas *qkv = find(&t, SS_FAM_GEMM, "qkv_proj", 0);
    assert_true(qkv->m == 4 && qkv->n == (16 + 2 * 4) * 128 && qkv->k == 4096 && qkv->gpus == 2);
    assert_true(close_to(qkv->time_s, 10.5e-6) && qkv->dtype == SS_DTYPE_BF16);
    assert_string_equal(ss_meas_str(&t, qkv->model), "meta-llama/Llama-3.1-8B");
    const ss_meas *o = find(&t, SS_FAM_GEMM, "o_proj", 0);
    assert_true(o->n == 4096 && o->k == 16 * 128);
    const ss_meas *gu = find(&t, SS_FAM_GEMM, "gate_up_proj", 0);
    assert_true(gu->n == 2 * 7168 && gu->k == 4096);
    const ss_meas *dn = find(&t, SS_FAM_GEMM, "down_proj", 0);
    assert_true(dn->n == 4096 && dn->k == 7168);
    const ss_meas *lm = find(&t, SS_FAM_LM_HEAD, "lm_head", 0);
    assert_true(lm->m == 2 && lm->n == 128256 / 2 && lm->k == 4096 && close_to(lm->time_s, 1e-4));
    const ss_meas *sa = find(&t, SS_FAM_SAMPLER, "sampler", 0);
    assert_true(sa->m == 2 && sa->n == 128256);
    const ss_meas *dec = find(&t, SS_FAM_ATTN_DECODE, "attention", 0);
    assert_true(dec->batch == 8 && dec->kv == 512 && dec->heads == 16 && dec->kv_heads == 4);
    const ss_meas *pre = find(&t, SS_FAM_ATTN_PREFILL, "attention", 0);
    assert_true(pre->batch == 1 && pre->q == 64 && pre->kv == 128);
    const ss_meas *mix = find(&t, SS_FAM_ATTN_MIXED, "attention", 0);
    assert_true(mix->q == 64 && mix->kv == 0 && mix->n_decode == 4 && mix->kv_decode == 256);
    assert_true(close_to(mix->time_s, 45e-6));
    assert_string_equal(src_of(&t, mix)->stack, "vllm-0.19-eager");
    assert_string_equal(src_of(&t, mix)->gpu, "rtx-pro-6000");
    /* Qwen3-30B-A3B moe.csv: all 128 experts on the GPU, 8 per token, width 768 */
    const ss_meas *moe = find(&t, SS_FAM_MOE, "fused_moe", 1);
    assert_true(moe->m == 64 && moe->active_experts == 60 && moe->experts == 128 &&
                moe->topk == 8 && moe->hidden == 2048 && moe->inter == 768);
    assert_string_equal(src_of(&t, moe)->stack, "vllm-0.19");
    /* skew.csv is listed with a note and no rows */
    int skew_listed = 0;
    for (size_t i = 0; i < t.nsources; i++)
        if (strstr(t.sources[i].path, "skew.csv")) {
            skew_listed = 1;
            assert_int_equal(t.sources[i].rows, 0);
            assert_contains(t.sources[i].note, "2 skew shots");
        }
    assert_true(skew_listed);
    ss_meas_table_free(&t);
}

static void test_skew_shots(void **state)
{
    (void)state;
    ss_meas_skew_table k;
    ss_diag d;
    ss_diag_clear(&d);
    assert_int_equal(ss_meas_read_skew(FIX "llmservingsim/RTXPRO6000/meta-llama/Llama-3.1-8B/"
                                           "bf16/tp2/skew.csv", &k, &d), SS_OK);
    assert_int_equal(k.n, 2);
    assert_true(k.rows[0].mixed == 0 && k.rows[0].n == 4 && k.rows[0].nb == 1 &&
                k.rows[0].kvs == 128 && k.rows[0].kv_big == 512);
    assert_true(close_to(k.rows[0].t_skew_s, 45e-6) && close_to(k.rows[0].alpha, 0.5));
    assert_true(k.rows[1].mixed == 1 && k.rows[1].pc == 16 && k.rows[1].kp == 512);
    assert_true(isnan(k.rows[1].alpha)); /* empty upstream where t_max <= t_mean */
    assert_true(k.tp == 2 && k.heads == 16 && k.kv_heads == 4 && k.head_dim == 128);
    assert_string_equal(k.source.gpu, "rtx-pro-6000");
    ss_meas_skew_free(&k);
    assert_int_equal(ss_meas_read_skew(FIX "llmcompass/matmul_A100.csv", &k, &d), SS_ERR_INVALID);
}

static void test_infersim(void **state)
{
    (void)state;
    char msg[2048];
    /* default: the header-less file is an error naming it and line 1 */
    read_fails(FIX "infersim", 0, SS_ERR_INVALID, msg, sizeof msg);
    assert_contains(msg, "mha/decode/h20/8-1-64.csv:1: no header line");
    ss_meas_table t;
    read_ok(&t, FIX "infersim", 1);
    assert_int_equal(t.n, 6);
    const ss_meas *g = find(&t, SS_FAM_GEMM, "gemm", 0);
    assert_true(g->m == 16 && g->k == 512 && g->n == 1024 && g->dtype == SS_DTYPE_FP8);
    assert_true(close_to(g->time_s, 5.5e-6));
    assert_string_equal(src_of(&t, g)->gpu, "h20");
    const ss_meas *gg = find(&t, SS_FAM_MOE, NULL, 0);
    assert_true(gg->m == 512 && gg->experts == 8 && gg->gpus == 2 && gg->topk == 4 &&
                gg->hidden == 256 && gg->inter == 128 && close_to(gg->time_s, 50e-6));
    assert_string_equal(src_of(&t, gg)->gpu, "h800");
    const ss_meas *d1 = find(&t, SS_FAM_ATTN_DECODE, NULL, 0);
    assert_true(d1->heads == 32 && d1->kv_heads == 4 && d1->head_dim == 128 && d1->batch == 8 &&
                d1->kv == 2048 && d1->kv_dtype == SS_DTYPE_FP8);
    const ss_meas *hl = find(&t, SS_FAM_ATTN_DECODE, NULL, 1); /* the header-less file */
    assert_true(hl->heads == 8 && hl->kv_heads == 1 && hl->head_dim == 64 && hl->batch == 2 &&
                hl->line == 1);
    assert_contains(src_of(&t, hl)->note, "lenient: no header line");
    const ss_meas *p = find(&t, SS_FAM_ATTN_PREFILL, NULL, 0);
    assert_true(p->q == 1024 && p->kv == 0 && p->batch == 1 && p->heads == 16);
    int mla = 0;
    for (size_t i = 0; i < t.nsources; i++)
        if (strstr(t.sources[i].path, "/mla/")) {
            mla = 1;
            assert_int_equal(t.sources[i].rows, 0);
            assert_contains(t.sources[i].note, "not read: mla kernels");
        }
    assert_true(mla);
    ss_meas_table_free(&t);
}

static void test_apex_plus(void **state)
{
    (void)state;
    ss_meas_table t;
    read_ok(&t, FIX "apex_plus", 0);
    assert_int_equal(t.n, 4);
    const ss_meas *a = find(&t, SS_FAM_ALLREDUCE, "all_reduce", 1);
    assert_true(a->bytes == 4 * 1024 && a->gpus == 8 && close_to(a->time_s, 13e-6) && !a->flags);
    const ss_meas *x = find(&t, SS_FAM_ALLREDUCE, "all_reduce", 3);
    assert_true(x->gpus == 16 && x->flags == SS_MEAS_CROSS_NODE);
    assert_string_equal(src_of(&t, a)->gpu, "h100-sxm");
    ss_meas_table_free(&t);
    /* malformed rows: the first named with the count and range of all */
    char msg[2048];
    read_fails("build-test-out/calib-readers/calib_bad/apex_plus", 0, SS_ERR_INVALID, msg, sizeof msg);
    assert_contains(msg, "V100-PCIE-16GB/reduce_scatter.csv:5: column 'num_gpus_per_node': "
                         "malformed row");
    assert_contains(msg, "3 malformed rows in this file (lines 5-7)");
    read_ok(&t, "build-test-out/calib-readers/calib_bad/apex_plus", 1);
    assert_int_equal(t.n, 3);
    assert_contains(t.sources[0].note, "lenient: 3 malformed rows left out (lines 5-7)");
    assert_string_equal(t.sources[0].gpu, "V100-PCIE-16GB"); /* no profile: kept as given */
    ss_meas_table_free(&t);
}

static void test_llmcompass(void **state)
{
    (void)state;
    ss_meas_table t;
    read_ok(&t, FIX "llmcompass", 0);
    assert_int_equal(t.n, 2);
    const ss_meas *g = find(&t, SS_FAM_GEMM, "matmul", 1);
    assert_true(g->m == 16 && g->n == 2048 && g->k == 1024 && close_to(g->time_s, 0.05e-3));
    assert_string_equal(src_of(&t, g)->gpu, "a100-80gb-sxm");
    ss_meas_table_free(&t);
}

static void test_servesim_profile(void **state)
{
    (void)state;
    ss_meas_table t;
    read_ok(&t, FIX "servesim", 0);
    assert_int_equal(t.n, 4);
    const ss_meas *g = find(&t, SS_FAM_GEMM, "gemm", 0);
    assert_true(g->m == 4 && g->n == 6144 && g->k == 4096 && close_to(g->time_s, 25.5e-6));
    assert_string_equal(ss_meas_str(&t, g->model), "llama-3.1-8b");
    assert_string_equal(src_of(&t, g)->gpu, "h100-sxm");
    assert_string_equal(src_of(&t, g)->stack, "cuda-12.4-cublaslt");
    const ss_meas *p = find(&t, SS_FAM_ATTN_PREFILL, NULL, 0);
    assert_true(p->q == 512 && p->kv == 256 && p->heads == 32 && !(p->flags & SS_MEAS_APPROX));
    const ss_meas *d = find(&t, SS_FAM_ATTN_DECODE, NULL, 0);
    assert_true(d->batch == 16 && d->kv == 1024 && (d->flags & SS_MEAS_APPROX));
    const ss_meas *ar = find(&t, SS_FAM_ALLREDUCE, NULL, 0);
    assert_true(ar->gpus == 2 && ar->bytes == 1048576);
    int algo = 0;
    for (size_t i = 0; i < t.nsources; i++)
        if (strstr(t.sources[i].path, "gemm_algo.csv")) {
            algo = 1;
            assert_int_equal(t.sources[i].rows, 0);
        }
    assert_true(algo);
    /* meta.yaml is listed as the tables' companion, not as an unknown file */
    int meta = 0;
    for (size_t i = 0; i < t.nsources; i++)
        if (strstr(t.sources[i].path, "meta.yaml")) {
            meta = 1;
            assert_string_equal(t.sources[i].format, "servesim");
            assert_contains(t.sources[i].note, "servesim-profile metadata");
        }
    assert_true(meta);
    ss_meas_table_free(&t);
}

/* A profiler run's stack names one library per part ("cublaslt-130100+cudnn-91900+nccl-..."):
 * each table takes the part that measured it, so GEMMs and attention of two runs can be fitted
 * together (fit.c); a stack without such parts stays whole (test above). */
static void test_servesim_stack_parts(void **state)
{
    (void)state;
    static const char *const files[] = {"gemm.csv", "attn_prefill.csv", "attn_decode.csv",
                                        "allreduce.csv"};
    char path[1024], meta[1024];
    for (size_t i = 0; i < 4; i++) {
        char rel[128];
        snprintf(rel, sizeof rel, "servesim/toy-h100/%s", files[i]);
        copy_fixture("stackparts", rel, 0, 0, NULL, path, sizeof path);
    }
    copy_fixture("stackparts", "servesim/toy-h100/meta.yaml", 0, 6,
                 "stack: \"cublaslt-130100+cudnn-91900+nccl-2.28.9\"", meta, sizeof meta);
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/stackparts/servesim/toy-h100", tmp_dir());
    ss_meas_table t;
    read_ok(&t, dir, 0);
    assert_int_equal(t.n, 4);
    assert_string_equal(src_of(&t, find(&t, SS_FAM_GEMM, "gemm", 0))->stack, "cublaslt-130100");
    assert_string_equal(src_of(&t, find(&t, SS_FAM_ATTN_PREFILL, NULL, 0))->stack, "cudnn-91900");
    assert_string_equal(src_of(&t, find(&t, SS_FAM_ATTN_DECODE, NULL, 0))->stack, "cudnn-91900");
    assert_string_equal(src_of(&t, find(&t, SS_FAM_ALLREDUCE, NULL, 0))->stack, "nccl-2.28.9");
    ss_meas_table_free(&t);
    /* a GEMM-only run that named servesim-fa regardless (before 2026-11-27) */
    copy_fixture("stackparts", "servesim/toy-h100/meta.yaml", 0, 6,
                 "stack: \"cublaslt-130100+servesim-fa-approx\"", meta, sizeof meta);
    read_ok(&t, dir, 0);
    assert_string_equal(src_of(&t, find(&t, SS_FAM_GEMM, "gemm", 0))->stack, "cublaslt-130100");
    assert_string_equal(src_of(&t, find(&t, SS_FAM_ATTN_DECODE, NULL, 0))->stack,
                        "servesim-fa-approx");
    ss_meas_table_free(&t);
}

/*============================================================ gzip = plain */

static void same_rows(const ss_meas_table *a, const ss_meas_table *b)
{
    assert_int_equal(a->n, b->n);
    for (size_t i = 0; i < a->n; i++) {
        ss_meas x = a->rows[i], y = b->rows[i];
        assert_string_equal(ss_meas_str(a, x.op), ss_meas_str(b, y.op));
        assert_string_equal(ss_meas_str(a, x.model), ss_meas_str(b, y.model));
        x.op = y.op = x.model = y.model = x.src = y.src = 0;
        assert_memory_equal(&x, &y, sizeof x);
    }
}

static void test_gzip_equals_plain(void **state)
{
    (void)state;
    static const char *const files[] = {
        "vidur/compute/a100/handmade/toy-tiny/mlp.csv",
        "vidur/network/a100_dgx/all_reduce.csv",
        "vidur/cpu_overhead/a40/cpu_overheads.csv",
        "frontier/a800/handmade/toy-tiny/attention.csv",
        "aiconfigurator/h100_sxm/vllm-0.24.0/gemm_perf.csv",
        "aiconfigurator/h100_sxm/vllm-0.24.0/moe_perf.csv",
        "aiconfigurator/h100_sxm/nccl-2.29.2/nccl_perf.csv",
        "llmservingsim/RTXPRO6000/meta-llama/Llama-3.1-8B/bf16/tp2/attention.csv",
        "infersim/bench_data/mha/decode/h20/32-4-128.csv",
        "apex_plus/comm/H100-SXM-80GB/all_reduce.csv",
        "llmcompass/matmul_A100.csv",
        "servesim/toy-h100/attn_decode.csv",
        NULL};
    for (int i = 0; files[i]; i++) {
        char gz[1024], plain[1024], meta[1024];
        copy_fixture("gz", files[i], 1, 0, NULL, gz, sizeof gz);
        snprintf(plain, sizeof plain, FIX "%s", files[i]);
        /* companions: meta.yaml beside (servesim) or two folders up (llmservingsim) */
        if (!strncmp(files[i], "servesim/", 9))
            copy_fixture("gz", "servesim/toy-h100/meta.yaml", 0, 0, NULL, meta, sizeof meta);
        if (!strncmp(files[i], "llmservingsim/", 14))
            copy_fixture("gz", "llmservingsim/RTXPRO6000/meta-llama/Llama-3.1-8B/bf16/meta.yaml",
                         0, 0, NULL, meta, sizeof meta);
        ss_meas_table a, b;
        read_ok(&a, plain, 0);
        read_ok(&b, gz, 0);
        same_rows(&a, &b);
        assert_string_equal(a.sources[0].format, b.sources[0].format);
        assert_string_equal(a.sources[0].gpu, b.sources[0].gpu);
        assert_true(strcmp(a.sources[0].sha256, b.sources[0].sha256) != 0); /* bytes as stored */
        ss_meas_table_free(&a);
        ss_meas_table_free(&b);
    }
}

/*============================================================ malformed rows */

static void test_malformed_row_names_file_line_column(void **state)
{
    (void)state;
    static const struct {
        const char *file;
        int line;
        const char *repl, *expect;
    } cases[] = {
        {"vidur/compute/a100/handmade/toy-tiny/mlp.csv", 3,
         "0.010,0.012,0.002,abc,0.003,0.015,0.050,0.003,0.030,0.001,8,2,64,160,1000,True,32,4",
         ":3: column 'time_stats.attn_pre_proj.median': expected a number, got 'abc'"},
        {"vidur/compute/a100/handmade/toy-tiny/mlp.csv", 2,
         "0.010,0.011,0.002,0.040,0.003,0.020,0.080,0.004,0.050,0.001,8,2,64,160,1000,Maybe,16,1",
         ":2: column 'use_gated_mlp': expected True or False"},
        {"vidur/network/a100_dgx/all_reduce.csv", 3,
         "1,0.20,0.90,0.50,0.40,0.10,0,16,4096,all_reduce,8",
         ":3: the row has 11 fields, the header 12"},
        {"vidur/cpu_overhead/a40/cpu_overheads.csv", 2,
         "0,0.3,0.6,0.25,0.5,-0.75,0.8,1.0,0.1,9.0,0.125,handmade/toy-tiny,8,1,5.0",
         ":2: column 'sampler_e2e_median': value -0.75 is below 0"},
        {"frontier/a800/handmade/toy-tiny/attention.csv", 3,
         "0.0,0.0,0.0,0.07,0.0,64,8,2,16,2,4096,16,0,512,Yes,AttentionBackend.FLASHINFER",
         ":3: column 'is_prefill': expected True or False, got 'Yes'"},
        {"aiconfigurator/h100_sxm/vllm-0.24.0/gemm_perf.csv", 3,
         "VLLM,0.24.0,NVIDIA H100 80GB HBM3,gemm,x,fp7,8,256,128,0.004",
         ":3: column 'gemm_dtype': unknown data type 'fp7'"},
        {"aiconfigurator/h100_sxm/vllm-0.24.0/moe_perf.csv", 2,
         "VLLM,0.24.0,NVIDIA H100 80GB HBM3,moe,k,bfloat16,16,256,96,2,8,2,3,balanced,0.5",
         ":2: column 'moe_ep_size': 3 does not divide num_experts 8"},
        {"aiconfigurator/h100_sxm/nccl-2.29.2/nccl_perf.csv", 3,
         "TRTLLM,2.29.2,NVIDIA H200,alltoall,NCCL,int8,2,500,0.03",
         ":3: column 'device': 'NVIDIA H200' differs from the first row's"},
        {"llmservingsim/RTXPRO6000/meta-llama/Llama-3.1-8B/bf16/tp2/dense.csv", 4,
         "mlp_fused,4,20", ":4: column 'layer': unknown operator 'mlp_fused'"},
        {"llmservingsim/RTXPRO6000/meta-llama/Llama-3.1-8B/bf16/tp2/attention.csv", 3,
         "0,128,0,0,30", ":3: column 'kv_prefill': 128 cached tokens without a prefill chunk"},
        {"infersim/bench_data/mha/decode/h20/32-4-128.csv", 2, "bf16,bf16,8,-5,42.0,0.02",
         ":2: column 'kv_len': value -5 is out of range"},
        {"infersim/bench_data/gemm/h20/data.csv", 2, "16,512,1024,5.5us,0.01",
         ":2: column 'latency_us': expected a number, got '5.5us'"},
        {"apex_plus/comm/H100-SXM-80GB/all_reduce.csv", 4, "H100-SXM-80GB,2,8,half,0.5,30.0",
         ":4: column 'size(kb)': expected an integer, got '0.5'"},
        {"llmcompass/matmul_A100.csv", 2, "16, 2048, 1024, 0.0500, 1.3422Tflops",
         ":2: column 'latency': expected a positive number with 'ms', got '0.0500'"},
        {"llmcompass/matmul_A100.csv", 1, "8, 1024, 1024, 0.0200ms, 8.389Tflops",
         ":1: column 'throughput': 8.389 Tflops does not match"},
        {"servesim/toy-h100/attn_decode.csv", 2, "16,1024,32,8,128,bf16,bf17,50.000,1",
         ":2: column 'kv_dtype': unknown data type 'bf17'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char path[1024], meta[1024], msg[2048], spec[1100];
        copy_fixture("bad", cases[i].file, (int)(i % 2), cases[i].line, cases[i].repl, path,
                     sizeof path);
        if (!strncmp(cases[i].file, "servesim/", 9))
            copy_fixture("bad", "servesim/toy-h100/meta.yaml", 0, 0, NULL, meta, sizeof meta);
        if (!strncmp(cases[i].file, "llmservingsim/", 14))
            copy_fixture("bad", "llmservingsim/RTXPRO6000/meta-llama/Llama-3.1-8B/bf16/meta.yaml",
                         0, 0, NULL, meta, sizeof meta);
        snprintf(spec, sizeof spec, "%s", path);
        read_fails(spec, 0, SS_ERR_INVALID, msg, sizeof msg);
        char expect[1200];
        snprintf(expect, sizeof expect, "%s%s", path, cases[i].expect);
        assert_contains(msg, expect);
    }
}

/* Damaged input: a blank line inside a table, a NUL byte, a truncated gzip stream, an
 * empty file. Each is an error naming the file (and the line where there is one). */
static void test_damaged_files(void **state)
{
    (void)state;
    char path[1024], msg[2048];
    copy_fixture("damaged", "apex_plus/comm/H100-SXM-80GB/all_reduce.csv", 0, 3, "", path,
                 sizeof path);
    read_fails(path, 1, SS_ERR_INVALID, msg, sizeof msg); /* lenient does not hide it */
    assert_contains(msg, "all_reduce.csv:3: blank line inside the table");
    copy_fixture("damaged", "llmcompass/matmul_A100.csv", 0, 2, "16, 2048, 1024, 0.05\x01ms",
                 path, sizeof path);
    /* write a real NUL into line 2 */
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fwrite("8, 1024, 1024, 0.0200ms, 0.8389Tflops\n16, 2\0", 1, 44, f);
    fclose(f);
    read_fails(path, 0, SS_ERR_INVALID, msg, sizeof msg);
    assert_contains(msg, "matmul_A100.csv:2: NUL byte in the line");
    /* a gzip stream cut in half */
    char gz[1024];
    copy_fixture("damaged", "aiconfigurator/h100_sxm/vllm-0.24.0/gemm_perf.csv", 1, 0, NULL, gz,
                 sizeof gz);
    FILE *g = fopen(gz, "rb");
    assert_non_null(g);
    unsigned char buf[4096];
    size_t n = fread(buf, 1, sizeof buf, g);
    fclose(g);
    g = fopen(gz, "wb");
    fwrite(buf, 1, n / 2, g);
    fclose(g);
    read_fails(gz, 0, SS_ERR_IO, msg, sizeof msg);
    assert_contains(msg, "gemm_perf.csv.gz:");
    assert_contains(msg, "truncated gzip file");
    /* an empty table */
    snprintf(path, sizeof path, "%s/damaged/llmservingsim/RTXPRO6000/meta-llama/Llama-3.1-8B/"
                                "bf16/tp2/dense.csv", tmp_dir());
    char meta[1024];
    copy_fixture("damaged", "llmservingsim/RTXPRO6000/meta-llama/Llama-3.1-8B/bf16/meta.yaml", 0,
                 0, NULL, meta, sizeof meta);
    mkdirs_for(path);
    f = fopen(path, "wb");
    assert_non_null(f);
    fclose(f);
    read_fails("llmservingsim:" "placeholder", 0, SS_ERR_IO, msg, sizeof msg);
    char spec[1100];
    snprintf(spec, sizeof spec, "llmservingsim:%s", path);
    read_fails(spec, 0, SS_ERR_INVALID, msg, sizeof msg);
    assert_contains(msg, "dense.csv:1: empty file");
}

static void test_meta_yaml_errors(void **state)
{
    (void)state;
    char path[1024], msg[2048];
    /* shapes in meta.yaml that do not match the model file */
    copy_fixture("meta", "llmservingsim/RTXPRO6000/meta-llama/Llama-3.1-8B/bf16/tp2/dense.csv", 0,
                 0, NULL, path, sizeof path);
    char meta[1024];
    copy_fixture("meta", "llmservingsim/RTXPRO6000/meta-llama/Llama-3.1-8B/bf16/meta.yaml", 0, 12,
                 "    num_attention_heads: 12", meta, sizeof meta);
    read_fails(path, 0, SS_ERR_INVALID, msg, sizeof msg);
    assert_contains(msg, "meta.yaml:");
    assert_contains(msg, "do not match model file llama-3.1-8b");
    /* servesim-profile of another version */
    copy_fixture("meta", "servesim/toy-h100/gemm.csv", 0, 0, NULL, path, sizeof path);
    copy_fixture("meta", "servesim/toy-h100/meta.yaml", 0, 3, "version: 2", meta, sizeof meta);
    read_fails(path, 0, SS_ERR_UNSUPPORTED, msg, sizeof msg);
    assert_contains(msg, "meta.yaml:3:");
    assert_contains(msg, "reads version 1, got '2'");
}

/*============================================================ detection, walk, filter */

static void test_detection(void **state)
{
    (void)state;
    static const struct {
        const char *file, *format;
    } cases[] = {
        {"vidur/compute/a100/handmade/toy-tiny/mlp.csv", "vidur"},
        {"vidur/network/a100_dgx/send_recv.csv", "vidur"},
        {"frontier/a800/handmade/toy-tiny/attention.csv", "frontier"},
        {"aiconfigurator/h100_sxm/vllm-0.24.0/context_attention_perf.csv", "aiconfigurator"},
        {"llmservingsim/RTXPRO6000/meta-llama/Llama-3.1-8B/bf16/tp2/attention.csv",
         "llmservingsim"},
        {"infersim/bench_data/mha/decode/h20/8-1-64.csv", "infersim"},
        {"apex_plus/comm/H100-SXM-80GB/all_reduce.csv", "apex_plus"},
        {"llmcompass/matmul_A100.csv", "llmcompass"},
        {"servesim/toy-h100/allreduce.csv", "servesim"},
        {"llmservingsim/RTXPRO6000/meta-llama/Llama-3.1-8B/bf16/meta.yaml", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char path[512];
        snprintf(path, sizeof path, FIX "%s", cases[i].file);
        const char *f = "unset";
        ss_diag d;
        ss_diag_clear(&d);
        assert_int_equal(ss_meas_detect(path, &f, &d), SS_OK);
        if (cases[i].format == NULL) {
            if (f) fail_msg("%s detected as %s", path, f);
        } else if (!f || strcmp(f, cases[i].format)) {
            fail_msg("%s detected as %s, expected %s", path, f ? f : "nothing", cases[i].format);
        }
    }
    /* a file that is no table: the fixtures' README, beside their generator */
    const char *readme = "tests/data/calib/README.md", *f = "unset";
    ss_diag d;
    ss_diag_clear(&d);
    assert_int_equal(ss_meas_detect(readme, &f, &d), SS_OK);
    assert_null(f);
    char msg[2048];
    read_fails(readme, 0, SS_ERR_INVALID, msg, sizeof msg);
    assert_contains(msg, "no calibration format recognises this file");
    assert_contains(msg, "aiconfigurator");
    read_fails("vidurx:" FIX "vidur", 0, SS_ERR_INVALID, msg, sizeof msg);
    assert_contains(msg, "unknown calibration format 'vidurx'");
    read_fails("vidur:" FIX "aiconfigurator", 0, SS_ERR_NOTFOUND, msg, sizeof msg);
    read_fails(FIX "nothere", 0, SS_ERR_IO, msg, sizeof msg);
    assert_contains(msg, "nothere: cannot open");
    /* a forced format reads a file detection would also give it */
    ss_meas_table t;
    read_ok(&t, "llmcompass:" FIX "llmcompass/matmul_A100.csv", 0);
    assert_int_equal(t.n, 2);
    ss_meas_table_free(&t);
}

static void test_directory_walk_is_sorted_and_repeatable(void **state)
{
    (void)state;
    ss_meas_table a, b;
    read_ok(&a, FIX, 1); /* every fixture at once (lenient for the header-less file) */
    read_ok(&b, FIX, 1);
    same_rows(&a, &b);
    assert_int_equal(a.nsources, b.nsources);
    for (size_t i = 1; i < a.nsources; i++)
        if (strcmp(a.sources[i - 1].path, a.sources[i].path) >= 0)
            fail_msg("not in sorted order: %s before %s", a.sources[i - 1].path,
                     a.sources[i].path);
    /* rows of one file are in file order */
    for (size_t i = 1; i < a.n; i++)
        if (a.rows[i].src == a.rows[i - 1].src) assert_true(a.rows[i].line >= a.rows[i - 1].line);
    ss_meas_table_free(&a);
    ss_meas_table_free(&b);
}

static void test_gpu_filter(void **state)
{
    (void)state;
    ss_meas_table t;
    ss_diag d;
    assert_int_equal(read_src(&t, FIX "vidur", "a40", 0, &d), SS_OK);
    assert_int_equal(t.n, 2); /* only cpu_overhead/a40 */
    for (size_t i = 0; i < t.nsources; i++)
        if (t.sources[i].rows) assert_string_equal(t.sources[i].gpu, "a40");
    ss_meas_table_free(&t);
    assert_int_equal(read_src(&t, FIX "aiconfigurator", "NVIDIA H100 80GB HBM3", 0, &d), SS_OK);
    assert_int_equal(t.n, 11);
    ss_meas_table_free(&t);
    assert_int_equal(read_src(&t, FIX "aiconfigurator", "h200", 0, &d), SS_ERR_NOTFOUND);
    assert_contains(d.msg, "no measurement file for GPU 'h200-sxm'");
    ss_meas_table_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_family_names),
        cmocka_unit_test(test_table_grows_and_interns),
        cmocka_unit_test(test_sha256_vector),
        cmocka_unit_test(test_vidur),
        cmocka_unit_test(test_frontier),
        cmocka_unit_test(test_aiconfigurator),
        cmocka_unit_test(test_llmservingsim),
        cmocka_unit_test(test_skew_shots),
        cmocka_unit_test(test_infersim),
        cmocka_unit_test(test_apex_plus),
        cmocka_unit_test(test_llmcompass),
        cmocka_unit_test(test_servesim_profile),
        cmocka_unit_test(test_servesim_stack_parts),
        cmocka_unit_test(test_gzip_equals_plain),
        cmocka_unit_test(test_malformed_row_names_file_line_column),
        cmocka_unit_test(test_damaged_files),
        cmocka_unit_test(test_meta_yaml_errors),
        cmocka_unit_test(test_detection),
        cmocka_unit_test(test_directory_walk_is_sorted_and_repeatable),
        cmocka_unit_test(test_gpu_filter),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

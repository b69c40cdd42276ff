/* The synthetic measurement tables of the calibration unit tests (test_calib_fit.c,
 * test_calib_profile.c, test_calib_moe.c, ...): rows generated from known coefficients, the
 * fit of them, and the datasheet part of a profile file to write a fit into. Include after
 * <cmocka.h>. */
#ifndef SS_TESTS_CALIB_SYNTH_H
#define SS_TESTS_CALIB_SYNTH_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hwprofiles/calib/fit.h"

typedef struct synth {
    ss_meas_table t;
    ss_meas_source src[2];
    char strings[256];
} synth;

static inline void synth_init(synth *s, size_t cap)
{
    memset(s, 0, sizeof *s);
    s->t.rows = calloc(cap, sizeof(ss_meas));
    s->t.cap = cap;
    snprintf(s->src[0].path, sizeof s->src[0].path, "synthetic.csv");
    snprintf(s->src[0].format, sizeof s->src[0].format, "servesim");
    snprintf(s->src[0].gpu, sizeof s->src[0].gpu, "h100-sxm");
    snprintf(s->src[0].stack, sizeof s->src[0].stack, "synthetic-1");
    s->src[1] = s->src[0];
    snprintf(s->src[1].stack, sizeof s->src[1].stack, "nccl-test");
    s->t.sources = s->src;
    s->t.nsources = 2;
    /* offset 0 "", 1 "gemm", 6 "input_layernorm", 22 "custom_allreduce" */
    memcpy(s->strings, "\0gemm\0input_layernorm\0custom_allreduce\0", 40);
    s->t.strings = s->strings;
    s->t.strings_len = 40;
}

static inline void synth_free(synth *s) { free(s->t.rows); }

static inline ss_meas *push(synth *s)
{
    assert_true(s->t.n < s->t.cap);
    ss_meas *r = &s->t.rows[s->t.n++];
    memset(r, 0, sizeof *r);
    r->line = (uint32_t)s->t.n + 1;
    return r;
}

/* Known truth. GEMM: 4 us + weight bytes / 2.5e12 B/s + FLOPs / 600e12 FLOP/s. */
static inline double gemm_truth(double m, double n, double k)
{
    return 4e-6 + n * k * 2 / 2.5e12 + 2 * m * n * k / 600e12;
}
/* Attention: 6 us + prefill FLOPs / 400e12 + KV bytes / 2.8e12 + 50 ns per decode head. */
static inline double attn_truth(double B, double q, double kv, int decode)
{
    double h = 32, kvh = 8, d = 128, kvw = kvh * d * 2 * 2;
    if (decode) return 6e-6 + B * (kv + 1) * kvw / 2.8e12 + 0.05e-6 * B * h;
    double pairs = B * (q * kv + q * (q + 1) / 2);
    return 6e-6 + 4 * pairs * h * d / 400e12 + B * (kv + q) * kvw / 2.8e12;
}
/* All-reduce: 5 us + 2 us per extra GPU + ring bytes / 150e9 B/s. */
static inline double ar_truth(double p, double bytes)
{
    return 5e-6 + 2e-6 * (p - 1) + 2 * (p - 1) / p * bytes / 150e9;
}

static inline void fill(synth *s)
{
    static const long nk[][2] = {{6144, 4096}, {4096, 4096}, {28672, 4096}, {4096, 14336}};
    for (size_t i = 0; i < 4; i++)
        for (long m = 1; m <= 8192; m *= 2) {
            ss_meas *r = push(s);
            r->family = SS_FAM_GEMM, r->dtype = SS_DTYPE_BF16, r->op = 1;
            r->m = m, r->n = nk[i][0], r->k = nk[i][1];
            r->time_s = gemm_truth((double)m, (double)r->n, (double)r->k);
        }
    for (long q = 16; q <= 4096; q *= 2)
        for (long kv = 0; kv <= 4096; kv = kv ? kv * 4 : 256) {
            ss_meas *r = push(s);
            r->family = SS_FAM_ATTN_PREFILL, r->dtype = r->kv_dtype = SS_DTYPE_BF16;
            r->batch = 1, r->q = q, r->kv = kv, r->heads = 32, r->kv_heads = 8, r->head_dim = 128;
            r->time_s = attn_truth(1, (double)q, (double)kv, 0);
        }
    for (int b = 1; b <= 256; b *= 2)
        for (long kv = 64; kv <= 16384; kv *= 4) {
            ss_meas *r = push(s);
            r->family = SS_FAM_ATTN_DECODE, r->dtype = r->kv_dtype = SS_DTYPE_BF16;
            r->batch = b, r->kv = kv, r->heads = 32, r->kv_heads = 8, r->head_dim = 128;
            r->time_s = attn_truth(b, 1, (double)kv, 1);
        }
    for (int p = 2; p <= 4; p *= 2)
        for (long by = 4096; by <= (64l << 20); by *= 4) {
            ss_meas *r = push(s);
            r->family = SS_FAM_ALLREDUCE, r->dtype = SS_DTYPE_BF16, r->op = 22, r->src = 1;
            r->gpus = p, r->bytes = by;
            r->time_s = ar_truth(p, (double)by);
        }
    for (long m = 1; m <= 4096; m *= 2) {
        ss_meas *r = push(s);
        r->family = SS_FAM_ELEMWISE, r->dtype = SS_DTYPE_BF16, r->op = 6;
        r->m = m, r->n = 4096;
        r->time_s = 2e-6 + (double)m * 4096 * 4 / 3e12;
    }
}

/* A dense (n, k) lattice like aiconfigurator's: n, k in {1024, 2048, 4096, 8192}, m in
 * powers of two up to 8192; `skip_n`, `skip_k` names one shape left out (0: none). */
static inline void fill_lattice(synth *s, long skip_n, long skip_k)
{
    static const long v[] = {1024, 2048, 4096, 8192};
    for (int a = 0; a < 4; a++)
        for (int b = 0; b < 4; b++) {
            if (v[a] == skip_n && v[b] == skip_k) continue;
            for (long m = 1; m <= 8192; m *= 2) {
                ss_meas *r = push(s);
                r->family = SS_FAM_GEMM, r->dtype = SS_DTYPE_BF16, r->op = 1;
                r->m = m, r->n = v[a], r->k = v[b];
                r->time_s = gemm_truth((double)m, (double)v[a], (double)v[b]);
            }
        }
}

/* Fits s into c for an h100-sxm; with_shapes 0: the fitted bases alone. */
static inline void fit_synth_shapes(const synth *s, ss_calib *c, int with_shapes)
{
    ss_diag d;
    ss_diag_clear(&d);
    ss_calib_init(c);
    snprintf(c->gpu, sizeof c->gpu, "h100-sxm");
    ss_fit_opts o = {.stack = NULL, .with_shapes = with_shapes};
    ss_rc rc = ss_cal_fit_all(&s->t, &o, c, &d);
    if (rc) fprintf(stderr, "%s\n", d.msg);
    assert_int_equal(rc, SS_OK);
}

static inline void fit_synth(synth *s, ss_calib *c) { fit_synth_shapes(s, c, 1); }

/* FP8 shapes measured like aiconfigurator's: m = 1..17, then aligned m and m + 1 up to 4096,
 * and 8192; unaligned m >= 17 take `step` times the aligned truth (CUTLASS FP8 on the
 * H100: m = 257 dearer than m = 512). */
/* The token counts of fill_fp8_steps, j < FP8_STEP_NM: 1..17, (32, 33), (48, 49), ...
 * (336, 337), (512, 513), ... (4352, 4353), 8192. */
enum { FP8_STEP_NM = 17 + 2 * 20 + 2 * 16 + 1 };
static inline long fp8_step_m(int j)
{
    return j < 17 ? j + 1 : j < 57 ? 16 * ((j - 17) / 2 + 2) + (j - 17) % 2
                  : j < 89 ? 256 * ((j - 57) / 2 + 2) + (j - 57) % 2 : 8192;
}

static inline void fill_fp8_steps(synth *s, double step)
{
    static const long nk[][2] = {{6144, 4096}, {4096, 4096}, {28672, 4096}, {4096, 14336}};
    for (size_t i = 0; i < 4; i++)
        for (int j = 0; j < FP8_STEP_NM; j++) {
            long m = fp8_step_m(j);
            ss_meas *r = push(s);
            r->family = SS_FAM_GEMM, r->dtype = SS_DTYPE_FP8, r->op = 1;
            r->m = m, r->n = nk[i][0], r->k = nk[i][1];
            r->time_s = gemm_truth((double)m, (double)r->n, (double)r->k) / 2 *
                        (m >= 17 && m % 16 ? step : 1);
        }
}

/* MoE expert layer: 5 us + weights of the experts that get tokens / 2.5e12 B/s + FLOPs of
 * the routed pairs / 500e12 + routed pairs x 4h bytes / 1e12 B/s (balanced routing; with
 * expert parallelism ep, e experts per GPU and a 1/ep share of the pairs). */
static inline double moe_truth_ep(double tok, double e, double topk, double h, double i,
                                  double ep)
{
    double pairs = tok * topk / ep, active = pairs < e ? pairs : e;
    return 5e-6 + active * 3 * h * i * 2 / 2.5e12 + pairs * 6 * h * i / 500e12 +
           pairs * 4 * h / 1e12;
}
static inline double moe_truth(double tok, double e, double topk, double h, double i)
{
    return moe_truth_ep(tok, e, topk, h, i, 1);
}

/* One MoE configuration (hidden, expert width, experts per GPU, top-k, ep), tokens 1 to
 * 8192 in doublings, each time the truth times `eff`. */
static inline void fill_moe_cfg(synth *s, long h, long i, int e, int topk, int ep, double eff)
{
    for (long tok = 1; tok <= 8192; tok *= 2) {
        ss_meas *r = push(s);
        r->family = SS_FAM_MOE, r->dtype = SS_DTYPE_BF16;
        r->m = tok, r->hidden = h, r->inter = i, r->experts = e, r->topk = topk, r->ep = ep;
        r->gpus = ep;
        r->time_s = eff * moe_truth_ep((double)tok, e, topk, (double)h, (double)i, ep);
    }
}

static inline void fill_moe(synth *s)
{
    static const long cfg[][4] = {{2048, 768, 128, 8}, {4096, 1408, 64, 6}, {4096, 14336, 8, 2},
                                  {2048, 1024, 64, 4}};
    for (size_t c = 0; c < 4; c++)
        fill_moe_cfg(s, cfg[c][0], cfg[c][1], (int)cfg[c][2], (int)cfg[c][3], 1, 1);
}

/* Opens `path` and writes the datasheet part of a synthetic H100-like profile (12 lines, 13
 * with an fp8 peak) named after the file's stem, as the loader requires; the caller adds
 * the calibration section and closes the file. */
static inline FILE *open_profile(const char *path, int with_fp8)
{
    const char *base = strrchr(path, '/') + 1;
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "schema_version: 1\nname: %.*s\ndisplay_name: Synthetic\nvendor: Test\n"
               "peak_flops_bf16: 989e12\n%speak_flops_fp32: 67e12\n"
               "hbm_bytes: 80GiB\nhbm_bandwidth: 3.35e12\nlink_bandwidth: 450e9\n"
               "host_link_bandwidth: 64e9\ntdp_w: 700\nprice_per_hour: 2\n",
            (int)(strlen(base) - 5), base, with_fp8 ? "peak_flops_fp8: 1979e12\n" : "");
    return f;
}

/* Writes c as a synthetic profile at path (open_profile's datasheet, then c's calibration
 * section) and loads its datasheet part into *hw. */
static inline void write_profile(const ss_calib *c, const char *path, int with_fp8, ss_hw *hw)
{
    FILE *f = open_profile(path, with_fp8);
    ss_calib_write_yaml(c, f);
    fclose(f);
    ss_diag d;
    ss_diag_clear(&d);
    if (ss_hw_load(path, NULL, hw, &d)) fail_msg("%s:%d: %s", d.file, d.line, d.msg);
}

#endif

/* servesim-profile, the plain-C half: options, the measurement plan (GEMM shapes of a model
 * per tensor-parallel degree, token grid, attention and all-reduce grids), the median of
 * timed repetitions, and the writer of the "servesim-profile" output directory.
 *
 * This header is the contract of the library ss_profplan, which is built on every machine
 * (no CUDA needed) so that everything except the kernels themselves is unit-tested
 * (tests/unit/test_profiler.c). The CUDA half (prof_cuda.h, *.cu) is built only with
 * -DSS_BUILD_PROFILER=ON. The output format is specified in docs/profiler.md; the
 * calibration reader for it (`servesim calibrate --source servesim:DIR`) follows that spec. */
#ifndef SS_VALIDATION_PROFILER_PROF_H
#define SS_VALIDATION_PROFILER_PROF_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "models/model.h"
#include "sim/core/diag.h"

#define SS_PROF_MAX_TP 8
#define SS_PROF_MAX_LIST 1024   /* longest grid of one kind (tokens, q, kv, ...) */
#define SS_PROF_MAX_GEMMS 128   /* distinct (n, k) GEMM shapes of one plan */
#define SS_PROF_MAX_POINTS 4096 /* attention points of one kind, one all-reduce list */

/* Parts of a run (--only). */
#define SS_PROF_PART_GEMM 0x1
#define SS_PROF_PART_ATTN 0x2
#define SS_PROF_PART_ALLREDUCE 0x4
#define SS_PROF_PART_ALL 0x7

/* A list of positive integers given on the command line ("1,2,4") or generated. */
typedef struct ss_prof_list {
    int64_t v[SS_PROF_MAX_LIST];
    size_t n;
} ss_prof_list;

/* The attention kernel (--attn-kernel). */
typedef enum ss_prof_attn_kernel {
    SS_PROF_ATTN_AUTO,        /* cuDNN where the build has it, else servesim-fa */
    SS_PROF_ATTN_CUDNN,       /* cuDNN's fused flash attention: production, rows approx=0 */
    SS_PROF_ATTN_SERVESIM_FA  /* the profiler's own kernel: approximate, rows approx=1 */
} ss_prof_attn_kernel;

/* Command-line options. Lists left empty (n = 0) take their defaults in
 * ss_prof_plan_build. */
typedef struct ss_prof_opts {
    char model[512];      /* built-in name or YAML path */
    int tp[SS_PROF_MAX_TP];
    size_t ntp;
    ss_dtype dtype;       /* GEMM dtype: bf16, fp16 or fp8 (attention then runs in bf16) */
    ss_prof_list tokens;  /* GEMM m values */
    int64_t max_tokens;   /* top of the default token grid */
    ss_prof_list prefill_q, prefill_kv, decode_batch, decode_kv;
    int64_t max_ctx;        /* prefill points keep q + kv <= max_ctx */
    int64_t max_kv_tokens;  /* decode points keep batch * kv <= max_kv_tokens */
    int reps, warmup;
    int flush_l2;         /* 1: overwrite a buffer twice the L2 size between repetitions */
    ss_prof_attn_kernel attn_kernel; /* --attn-kernel; AUTO until ss_prof_attn_resolve */
    int gpus;             /* GPUs for the NCCL all-reduce (1 = none) */
    int device;           /* CUDA device of the single-GPU parts */
    unsigned parts;       /* SS_PROF_PART_* */
    char gpu_canonical[64]; /* --gpu NAME, written to meta.yaml (may be empty) */
    char out[512];
    int dry_run, help;
    char command[4096];   /* the command line, for meta.yaml */
} ss_prof_opts;

/* One GEMM x[m,k] . W[n,k]^T of a layer on one GPU: op is the first operator that needs
 * this (n, k) ("qkv_proj", "o_proj", "mlp_up_gate", "mlp_down", "lm_head",
 * "moe_up_gate_expert", "moe_down_expert"), tp the degree it first appeared for. */
typedef struct ss_prof_gemm {
    char op[24];
    int tp;
    int64_t n, k;
} ss_prof_gemm;

/* Attention heads on one GPU of a tp-way instance. */
typedef struct ss_prof_attn_shape {
    int tp;
    int heads, kv_heads, head_dim;
} ss_prof_attn_shape;

typedef struct ss_prof_prefill_pt { int32_t batch; int64_t q, kv; } ss_prof_prefill_pt;
typedef struct ss_prof_decode_pt { int32_t batch; int64_t kv; } ss_prof_decode_pt;

/* Everything one run measures. Fixed-size arrays: a plan is one allocation, owned by its
 * caller. */
typedef struct ss_prof_plan {
    ss_model model;
    ss_dtype dtype;       /* GEMM dtype */
    ss_dtype attn_dtype;  /* attention (and KV) dtype: dtype, or bf16 when dtype is fp8 */
    unsigned parts;
    ss_prof_list tokens;
    ss_prof_gemm gemm[SS_PROF_MAX_GEMMS];
    size_t ngemm;
    ss_prof_attn_shape attn[SS_PROF_MAX_TP];
    size_t nattn;
    ss_prof_prefill_pt prefill[SS_PROF_MAX_POINTS];
    size_t nprefill;
    ss_prof_decode_pt decode[SS_PROF_MAX_POINTS];
    size_t ndecode;
    int ar_gpus[8];
    size_t nar_gpus;
    int64_t ar_bytes[64];
    size_t nar_bytes;
} ss_prof_plan;

/* ------------------------------------------------------------------ options */

/* Defaults: llama-3.1-8b, tp 1, bf16, reps 20, warmup 5, max_tokens 16384, max_ctx 32768,
 * max_kv_tokens 1048576, gpus 1, all parts, out "profile-out". */
void ss_prof_opts_default(ss_prof_opts *o);
/* "auto", "cudnn" or "servesim-fa". */
const char *ss_prof_attn_kernel_name(ss_prof_attn_kernel k);
/* Replace AUTO in o->attn_kernel by cuDNN when cudnn_built, else servesim-fa; asking for
 * cuDNN from a build without it is an error. Called before the plan is printed or run. */
ss_rc ss_prof_attn_resolve(ss_prof_opts *o, int cudnn_built, ss_diag *d);
/* Parse argv (argv[0] is the program). Every bad value is an error naming the option. */
ss_rc ss_prof_opts_parse(int argc, char **argv, ss_prof_opts *o, ss_diag *d);
/* The option summary printed by --help. */
void ss_prof_usage(FILE *f);

/* ------------------------------------------------------------------ the plan */

/* GEMM shapes of one layer (every layer group) and the LM head on one GPU of a tp-way
 * instance, in operator order, not de-duplicated:
 *   qkv_proj  n = (heads/tp + 2 * max(1, kv_heads/tp)) * head_dim, k = hidden
 *   o_proj    n = hidden, k = heads/tp * head_dim
 *   mlp_up_gate n = (2 if gated else 1) * intermediate/tp, k = hidden
 *   mlp_down  n = hidden, k = intermediate/tp
 *   (MoE groups: the same two per expert with the expert width)
 *   lm_head   n = ceil(vocab/tp), k = hidden
 * The tp rules of ss_model_check_tp apply (error otherwise); intermediate sizes must
 * divide by tp. */
ss_rc ss_prof_gemm_shapes(const ss_model *m, int tp, ss_prof_gemm *out, size_t cap,
                          size_t *n, ss_diag *d);
/* The default GEMM token grid: every count 1..16, then 8 evenly spaced points per octave
 * (16, 18, ..., 30, 32, 36, ...), then max itself; all <= max. */
void ss_prof_token_grid(int64_t max, ss_prof_list *out);
/* Build the plan from options and a loaded model: GEMM shapes for every tp, de-duplicated
 * on (n, k); attention head shapes per tp (de-duplicated); prefill points (batch 1,
 * q x kv with q + kv <= max_ctx); decode points (batch x kv with batch * kv <=
 * max_kv_tokens); all-reduce GPU counts (2, 4, ... up to gpus, and gpus) and sizes
 * (1 KiB .. 256 MiB, doubling). */
ss_rc ss_prof_plan_build(const ss_prof_opts *o, const ss_model *m, ss_prof_plan *p,
                         ss_diag *d);
/* What --dry-run prints: every shape and grid point of the plan, and the totals. */
void ss_prof_plan_print(const ss_prof_plan *p, const ss_prof_opts *o, int nccl_built,
                        FILE *f);

/* ------------------------------------------------------------------ attention reference */

/* Causal attention in double precision, the semantics servesim-fa must reproduce: for each
 * request b, query head h and new token i (0 <= i < q) at position prefix + i,
 * O = softmax(Q K^T / sqrt(head_dim)) V over keys 0 .. prefix + i of KV head
 * h / (heads / kv_heads). Layouts: Q, O [batch][heads][q][head_dim]; K, V
 * [batch][kv_heads][prefix + q][head_dim]. Decode (one token on kv cached tokens, the new
 * one included) is q = 1, prefix = kv - 1. */
void ss_prof_attn_reference(const float *Q, const float *K, const float *V, float *O,
                            int batch, int64_t q, int64_t prefix, int heads, int kv_heads,
                            int head_dim);
/* D[m,n] = X[m,k] . W[n,k]^T in double precision (row-major, rounded to float). */
void ss_prof_gemm_reference(const float *X, const float *W, float *D, int64_t m, int64_t n,
                            int64_t k);
/* Largest |a[i] - b[i]|; infinity if either holds a NaN or an infinity. */
double ss_prof_max_abs_diff(const float *a, const float *b, size_t n);

/* ------------------------------------------------------------------ results */

/* Median of n timings (sorts v in place); the mean of the two middle values for even n.
 * 0 for n = 0. */
double ss_prof_median(float *v, size_t n);

/* Copies into buf (size n, truncated, always terminated) the first word of text that looks
 * like a version number: digits, '.', digits, then more digits and dots ("580.159.04").
 * buf is empty when there is none. Used on /proc/driver/nvidia/version. */
void ss_prof_find_version(const char *text, char *buf, size_t n);

/* The provenance block of meta.yaml. Strings may be empty; they are quoted on output. */
typedef struct ss_prof_meta {
    char gpu[256];           /* cudaDeviceProp.name */
    char gpu_canonical[64];
    char stack[128];         /* "cublaslt-130100+cudnn-91900" */
    char cuda_version[32];   /* runtime, "13.0" */
    char driver_version[96]; /* kernel module, then the CUDA version the driver supports:
                              * "580.159.04 (CUDA 13.0)" */
    char date[32];           /* ISO 8601 UTC, "2026-11-27T10:15:00Z" */
    char host[256];
    char command[4096];
    char model[64];
    char dtype[8];
} ss_prof_meta;

/* Write s as a YAML double-quoted scalar (escapes ", \ and control characters). */
ss_rc ss_prof_yaml_quote(const char *s, char *buf, size_t n);
/* Create dir and its parents (like mkdir -p). */
ss_rc ss_prof_mkdir_p(const char *dir, ss_diag *d);
/* Write DIR/meta.yaml. */
ss_rc ss_prof_write_meta(const char *dir, const ss_prof_meta *m, ss_diag *d);
/* Current UTC time as ISO 8601 ("YYYY-MM-DDTHH:MM:SSZ"). */
void ss_prof_now_iso(char *buf, size_t n);

/* One output CSV, opened with its header. Each row function writes one line; the file is
 * checked for write errors at close. */
typedef enum ss_prof_table {
    SS_PROF_T_GEMM,          /* gemm.csv */
    SS_PROF_T_GEMM_ALGO,     /* gemm_algo.csv */
    SS_PROF_T_ATTN_PREFILL,  /* attn_prefill.csv */
    SS_PROF_T_ATTN_DECODE,   /* attn_decode.csv */
    SS_PROF_T_ALLREDUCE,     /* allreduce.csv */
    SS_PROF_T_COUNT
} ss_prof_table;

typedef struct ss_prof_csv {
    FILE *f;
    char path[1024];
    ss_prof_table table;
} ss_prof_csv;

const char *ss_prof_table_file(ss_prof_table t);
const char *ss_prof_table_header(ss_prof_table t);
ss_rc ss_prof_csv_open(ss_prof_csv *c, const char *dir, ss_prof_table t, ss_diag *d);
/* gemm.csv: m,n,k,dtype,time_us,reps */
void ss_prof_csv_gemm(ss_prof_csv *c, int64_t m, int64_t n, int64_t k, ss_dtype dt,
                      double time_us, int reps);
/* gemm_algo.csv: m,n,k,dtype,algo_id,tile,stages,splitk,reduction,swizzle,custom,waves */
void ss_prof_csv_gemm_algo(ss_prof_csv *c, int64_t m, int64_t n, int64_t k, ss_dtype dt,
                           const int algo[7], double waves);
/* attn_prefill.csv: batch,q,kv,heads,kv_heads,head_dim,dtype,kv_dtype,time_us,approx */
void ss_prof_csv_prefill(ss_prof_csv *c, const ss_prof_prefill_pt *pt,
                         const ss_prof_attn_shape *s, ss_dtype dt, ss_dtype kv_dt,
                         double time_us, int approx);
/* attn_decode.csv: batch,kv,heads,kv_heads,head_dim,dtype,kv_dtype,time_us,approx */
void ss_prof_csv_decode(ss_prof_csv *c, const ss_prof_decode_pt *pt,
                        const ss_prof_attn_shape *s, ss_dtype dt, ss_dtype kv_dt,
                        double time_us, int approx);
/* allreduce.csv: gpus,bytes,dtype,time_us */
void ss_prof_csv_allreduce(ss_prof_csv *c, int gpus, int64_t bytes, ss_dtype dt,
                           double time_us);
/* Flush and close; an error if any write failed. Safe on a closed or never-opened csv. */
ss_rc ss_prof_csv_close(ss_prof_csv *c, ss_diag *d);

#endif

/* Operator measurements read from other people's profiling data, in one common form.
 *
 * This header is the contract between the calibration READERS (one per source format:
 * Vidur, Frontier, aiconfigurator, LLMServingSim, InferSim, APEX+, LLMCompass, servesim's own
 * profiler) and the FITTER (hwprofiles/calib/fit*.c), which turns a table of ss_meas rows
 * into the coefficients of a calibrated hardware profile. Readers convert every unit
 * explicitly (ms, us -> seconds; fp16 elements, KiB -> bytes) and derive GEMM shapes from
 * model columns; the fitter never sees a source's conventions. */
#ifndef SS_HWPROFILES_CALIB_MEAS_H
#define SS_HWPROFILES_CALIB_MEAS_H

#include <stddef.h>
#include <stdint.h>

#include "models/model.h"
#include "sim/core/diag.h"

/* Operator families: the unit a fitted model is made for. One X-macro gives enum and names. */
#define SS_FAM_LIST(X)                                                              \
    X(SS_FAM_GEMM, "gemm")                 /* x[m,k] . W[n,k]^T                    */ \
    X(SS_FAM_ELEMWISE, "elementwise")      /* norms, rope, activation, residual add */ \
    X(SS_FAM_EMBED, "embed")               /* embedding lookup                      */ \
    X(SS_FAM_ATTN_PREFILL, "attn_prefill") /* batch x chunk on top of kv prefix     */ \
    X(SS_FAM_ATTN_DECODE, "attn_decode")   /* batch x 1 token on top of kv each     */ \
    X(SS_FAM_ATTN_MIXED, "attn_mixed")     /* one call: prefill chunk + decodes     */ \
    X(SS_FAM_MOE, "moe")                   /* whole expert layer (grouped GEMMs)    */ \
    X(SS_FAM_ALLREDUCE, "allreduce")                                                 \
    X(SS_FAM_ALLGATHER, "allgather")                                                 \
    X(SS_FAM_REDUCESCATTER, "reducescatter")                                         \
    X(SS_FAM_ALLTOALL, "alltoall")                                                   \
    X(SS_FAM_SENDRECV, "sendrecv")                                                   \
    X(SS_FAM_LM_HEAD, "lm_head")           /* logits GEMM per sequence              */ \
    X(SS_FAM_SAMPLER, "sampler")                                                     \
    X(SS_FAM_CPU_OVERHEAD, "cpu_overhead") /* host time per scheduler iteration     */

typedef enum ss_fam {
#define SS_FAM_ENUM(e, name) e,
    SS_FAM_LIST(SS_FAM_ENUM)
#undef SS_FAM_ENUM
    SS_FAM_COUNT
} ss_fam;

const char *ss_fam_name(ss_fam f);
/* SS_FAM_COUNT when unknown. */
ss_fam ss_fam_from_name(const char *name);

/* One measured point. Fields a family does not use are 0. Sizes are per GPU (after the
 * tensor-parallel split) unless said otherwise. */
typedef struct ss_meas {
    uint8_t family;     /* ss_fam */
    uint8_t dtype;      /* ss_dtype of the arithmetic / weights (GEMM, MoE, attention) */
    uint8_t kv_dtype;   /* ss_dtype of the KV cache (attention) */
    uint8_t flags;      /* SS_MEAS_* below */
    int32_t gpus;       /* GPUs taking part: TP degree of the profiled layer, or the
                           participants of a collective */
    int64_t m, n, k;    /* GEMM, LM head: m tokens (rows), n out features, k in features.
                           ELEMWISE/EMBED: m tokens, n = width (elements per token) */
    int32_t batch;      /* attention: requests; CPU overhead: batch size */
    int64_t q;          /* attention prefill/mixed: new (query) tokens per prefill request */
    int64_t kv;         /* attention prefill: cached prefix per request;
                           decode: context length per request (tokens already cached) */
    int32_t n_decode;   /* mixed: decode requests riding in the same call */
    int64_t kv_decode;  /* mixed: context length of each of those decode requests */
    int32_t heads, kv_heads, head_dim; /* attention: per GPU */
    int64_t bytes;      /* collectives: message size in bytes (per GPU buffer) */
    int32_t experts, topk;             /* MoE: experts (per EP shard), routed per token */
    int32_t active_experts; /* MoE, distinct experts that received
                               tokens when the source fixes it (LLMServingSim), else 0 */
    int32_t ep;             /* MoE expert-parallel degree of the profiled
                               layer (experts = all experts / ep); 0 = 1 */
    int64_t hidden, inter;             /* MoE: hidden size, expert FFN width (per TP shard) */
    double time_s;      /* measured time of one call, seconds (median where given) */
    uint32_t op;        /* index into ss_meas_table.strings: source operator name
                           ("qkv_proj", "mlp_up_proj", "custom_allreduce", ...) */
    uint32_t model;     /* index into strings: model the row was profiled with ("" none) */
    uint32_t src;       /* index into ss_meas_table.sources */
    uint32_t line;      /* 1-based line of the row in its (decompressed) file */
} ss_meas;

#define SS_MEAS_CUDA_GRAPH 0x01  /* timed under CUDA graph replay (no launch overhead) */
#define SS_MEAS_APPROX 0x02      /* approximate kernel (e.g. servesim's fallback attention) */
#define SS_MEAS_CROSS_NODE 0x04  /* collective crosses nodes */
/* not the default kernel of its family -- non-balanced MoE routing,
 * sliding-window attention, block-scaled or weight-only quantisation. `op` says which
 * (docs/calibration-data.md); a fitter of the plain cost model leaves these rows out. */
#define SS_MEAS_VARIANT 0x08
/* in a series (source, family, dtype, KV dtype) with a row faster than the GPU's peak FLOP/s
 * (ss_cal_check_peak): the kernel did not do the work; left out of fits and validation */
#define SS_MEAS_OVER_PEAK 0x10

/* One file that was read. */
typedef struct ss_meas_source {
    char path[512];     /* as given on the command line (or found under a directory) */
    char format[32];    /* "vidur", "frontier", "aiconfigurator", "llmservingsim",
                           "infersim", "apex_plus", "llmcompass", "servesim" */
    char gpu[64];       /* canonical servesim hardware name (via the alias table) */
    char stack[96];     /* software stack, e.g. "vllm-0.24.0", "vllm-0.19-eager",
                           "vidur-sarathi", "nccl-2.29.2" */
    char sha256[65];    /* of the file's bytes as stored (compressed if .gz) */
    uint64_t rows;      /* rows kept */
    /* why a file found under a directory was not read, or a caveat
     * about one that was ("GPU 'v100' has no servesim profile"); "" when none. A source
     * with rows == 0 is such a file that was not read; it carries no rows. */
    char note[192];
    uint64_t over_peak; /* rows of this source left out by ss_cal_check_peak */
} ss_meas_source;

/* A growable table of measurements; one owner (the caller of ss_meas_table_init/free). */
typedef struct ss_meas_table {
    ss_meas *rows;
    size_t n, cap;
    ss_meas_source *sources;
    size_t nsources, cap_sources;
    char *strings;      /* interned NUL-terminated strings; offset 0 is "" */
    size_t strings_len, strings_cap;
} ss_meas_table;

void ss_meas_table_init(ss_meas_table *t);
void ss_meas_table_free(ss_meas_table *t);
ss_rc ss_meas_push(ss_meas_table *t, const ss_meas *row, ss_diag *d);
/* Index of a new source entry (copied). */
ss_rc ss_meas_add_source(ss_meas_table *t, const ss_meas_source *s, uint32_t *idx, ss_diag *d);
/* Intern a string; returns its offset in t->strings. */
ss_rc ss_meas_intern(ss_meas_table *t, const char *s, uint32_t *off, ss_diag *d);
static inline const char *ss_meas_str(const ss_meas_table *t, uint32_t off)
{
    return t->strings + off;
}

/* Read one --source argument, "[FORMAT:]PATH" where PATH is a file or a directory (searched
 * recursively for the files that format knows; gzip or plain). FORMAT is detected from
 * file names and header lines when omitted; a path that matches no format is an error.
 * `gpu` restricts a multi-GPU directory to one canonical GPU name (NULL = all). Every
 * defect is an error naming file, line and column/field. */
ss_rc ss_meas_read_source(ss_meas_table *t, const char *spec, const char *gpu, ss_diag *d);

/* ---- Reading sources: options, skew shots ---- */

/* Options of ss_meas_read_source_opts (all 0 = the defaults of ss_meas_read_source). */
typedef struct ss_meas_opts {
    int lenient; /* read a file that lacks its header line (InferSim's mha/decode/h20/
                    64-2-128.csv) with the format's documented column order; the source's
                    note says so. Default: such a file is an error. */
} ss_meas_opts;
ss_rc ss_meas_read_source_opts(ss_meas_table *t, const char *spec, const char *gpu,
                               const ss_meas_opts *o, ss_diag *d);

/* Names of the formats in table order; NULL past the end. */
const char *ss_meas_format_name(size_t i);
/* One-line description of format i ("" past the end). */
const char *ss_meas_format_help(size_t i);
/* Detect the format of one file (first line read here): its name, or NULL if no format
 * recognises it. Errors (cannot open) go to d. */
ss_rc ss_meas_detect(const char *path, const char **format, ss_diag *d);
/* SHA-256 of a file's bytes as stored, as 64 lowercase hex digits + NUL. */
ss_rc ss_meas_sha256(const char *path, char out[65], ss_diag *d);
/* Rows of one source per family (counts[SS_FAM_COUNT], zeroed first). */
void ss_meas_count_families(const ss_meas_table *t, uint32_t src, uint64_t *counts);

/* LLMServingSim skew.csv shots: decode batches whose requests have DIFFERENT KV lengths
 * (nb long ones of kv_big tokens, n - nb short ones of kvs tokens), alone ("pure") or with a
 * prefill chunk of pc tokens on kp cached tokens ("mixed"). Times in seconds. These cannot be
 * ss_meas rows (one kv per row), so they have their own small table. */
typedef struct ss_meas_skew {
    uint8_t mixed;          /* 0 = pure decode, 1 = mixed with a prefill chunk */
    int32_t n, nb;          /* decode requests; how many of them are long */
    int64_t pc, kp;         /* prefill chunk, its cached prefix (mixed) */
    int64_t kvs, kv_big;    /* short and long KV lengths */
    double kv_mean;         /* mean KV length of the batch */
    double t_mean_s;        /* time of a uniform batch at kv_mean */
    double t_max_s;         /* time of a uniform batch at kv_big */
    double t_skew_s;        /* measured time of the skewed batch */
    double alpha;           /* (t_skew - t_mean) / (t_max - t_mean) as the source gives it */
    uint32_t line;
} ss_meas_skew;

typedef struct ss_meas_skew_table {
    ss_meas_skew *rows;
    size_t n, cap;
    ss_meas_source source; /* gpu, stack, sha256 of the skew file */
    int32_t tp;            /* from the tpN folder */
    int32_t heads, kv_heads, head_dim; /* per GPU, from meta.yaml and the model */
} ss_meas_skew_table;

/* Read one LLMServingSim skew.csv[.gz] (its meta.yaml two folders up). Owner frees with
 * ss_meas_skew_free. */
ss_rc ss_meas_read_skew(const char *path, ss_meas_skew_table *out, ss_diag *d);
void ss_meas_skew_free(ss_meas_skew_table *t);

#endif

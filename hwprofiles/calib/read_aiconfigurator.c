/* NVIDIA aiconfigurator's collected tables (ai-dynamo/aiconfigurator), as CSV:
 *
 *   <system>/<framework>-<version>/{gemm,context_attention,generation_attention,moe}_perf.csv.gz
 *   <system>/<framework>-<version>/custom_allreduce_perf.csv
 *   <system>/nccl-<version>/nccl_perf.csv
 *
 * Every table starts with framework, version, device, op_name, kernel_source (the first
 * three constant within a file). Latency is milliseconds; message sizes are ELEMENTS
 * (bytes = elements x the element size of the dtype column). GPU = the `device` column via
 * the alias table; stack = "<framework>-<version>" lower-cased ("nccl-<version>" for the
 * NCCL table, whose framework column names the container). */
#include "hwprofiles/calib/calib_int.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#define MS 1e-3

typedef enum { T_GEMM, T_CTX, T_GEN, T_MOE, T_CAR, T_NCCL, T_COUNT } table_kind;
static const char *const table_files[T_COUNT] = {
    "gemm_perf.csv", "context_attention_perf.csv", "generation_attention_perf.csv",
    "moe_perf.csv", "custom_allreduce_perf.csv", "nccl_perf.csv"};

static int table_of(const char *path)
{
    for (int i = 0; i < T_COUNT; i++)
        if (ss_path_is(path, table_files[i])) return i;
    return -1;
}

/* dtype column value -> ss_dtype, element bytes, variant (no exact ss_dtype). -1 unknown. */
static int map_dtype(const char *s, int *variant, int *elem_bytes)
{
    static const struct {
        const char *name;
        int dtype, variant, bytes;
    } map[] = {
        {"bfloat16", SS_DTYPE_BF16, 0, 2}, {"float16", SS_DTYPE_FP16, 0, 2},
        {"half", SS_DTYPE_FP16, 0, 2},     {"float", SS_DTYPE_FP32, 0, 4},
        {"float32", SS_DTYPE_FP32, 0, 4},  {"fp8", SS_DTYPE_FP8, 0, 1},
        {"int8", SS_DTYPE_INT8, 0, 1},     {"nvfp4", SS_DTYPE_FP4, 0, 0},
        /* block-scaled fp8: fp8 arithmetic, different kernels */
        {"fp8_block", SS_DTYPE_FP8, 1, 1},
        /* weight-only 4-bit: bf16 arithmetic on 4-bit weights */
        {"int4_wo", SS_DTYPE_BF16, 1, 0},  {"w4a16_mxfp4", SS_DTYPE_BF16, 1, 0},
    };
    for (size_t i = 0; i < sizeof map / sizeof *map; i++)
        if (!strcmp(s, map[i].name)) {
            *variant = map[i].variant;
            if (elem_bytes) *elem_bytes = map[i].bytes;
            return map[i].dtype;
        }
    return -1;
}

static ss_rc dtype_field(ss_cf *cf, int col, int *dtype, int *variant, int *bytes)
{
    int v = 0, b = 0;
    int t = map_dtype(cf->f[col], &v, &b);
    if (t < 0)
        return ss_cf_err(cf, cf->cols[col],
                         "unknown data type '%.40s' (known: bfloat16, float16, half, float, fp8, "
                         "fp8_block, int8, nvfp4, int4_wo, w4a16_mxfp4)",
                         cf->f[col]);
    *dtype = t;
    *variant = v;
    if (bytes) *bytes = b;
    return SS_OK;
}

static ss_rc need_all(ss_cf *cf, const char *const *names, int *idx, int n)
{
    for (int i = 0; i < n; i++) {
        ss_rc rc = ss_cf_need(cf, names[i], &idx[i]);
        if (rc) return rc;
    }
    return SS_OK;
}

static ss_rc read_table(ss_calib_ctx *c, ss_cf *cf, int kind)
{
    static const char *const common[] = {"framework", "version", "device", "op_name",
                                         "kernel_source", "latency"};
    enum { C_FW, C_VER, C_DEV, C_OP, C_KS, C_LAT };
    int cc[6];
    ss_rc rc = need_all(cf, common, cc, 6);
    if (rc) return rc;
    static const char *const gemm_cols[] = {"gemm_dtype", "m", "n", "k"};
    static const char *const attn_cols[] = {"batch_size", "isl", "num_heads",
                                            "num_key_value_heads", "head_dim", "beam_width",
                                            "attn_dtype", "kv_cache_dtype", "step"};
    static const char *const moe_cols[] = {"moe_dtype", "num_tokens", "hidden_size",
                                           "inter_size", "topk", "num_experts", "moe_tp_size",
                                           "moe_ep_size", "distribution"};
    static const char *const car_cols[] = {"allreduce_dtype", "num_gpus", "message_size",
                                           "backend"};
    static const char *const nccl_cols[] = {"nccl_dtype", "num_gpus", "message_size"};
    int k[9];
    int c_window = -1;
    switch (kind) {
    case T_GEMM: rc = need_all(cf, gemm_cols, k, 4); break;
    case T_CTX:
    case T_GEN:
        rc = need_all(cf, attn_cols, k, 9);
        c_window = ss_cf_col(cf, "window_size"); /* absent in older versions */
        break;
    case T_MOE: rc = need_all(cf, moe_cols, k, 9); break;
    case T_CAR: rc = need_all(cf, car_cols, k, 4); break;
    default: rc = need_all(cf, nccl_cols, k, 3); break;
    }
    if (rc) return rc;
    char fw0[64] = "", ver0[64] = "", dev0[128] = "";
    int r;
    while ((r = ss_cf_next(cf)) == 1) {
        if ((rc = ss_cf_row(cf))) return rc;
        char **f = cf->f;
        if (!fw0[0]) { /* first row: GPU and stack */
            snprintf(fw0, sizeof fw0, "%s", f[cc[C_FW]]);
            snprintf(ver0, sizeof ver0, "%s", f[cc[C_VER]]);
            snprintf(dev0, sizeof dev0, "%s", f[cc[C_DEV]]);
            if (!fw0[0]) return ss_cf_err(cf, "framework", "empty");
            if (!ver0[0]) return ss_cf_err(cf, "version", "empty");
            if (!dev0[0]) return ss_cf_err(cf, "device", "empty");
            ss_calib_set_gpu(c, dev0);
            if (c->skipped_gpu) return SS_OK;
            snprintf(c->s->stack, sizeof c->s->stack, "%.40s-%.40s", kind == T_NCCL ? "nccl" : fw0,
                     ver0);
            for (char *p = c->s->stack; *p; p++) *p = (char)tolower((unsigned char)*p);
        } else {
            if (strcmp(f[cc[C_FW]], fw0))
                return ss_cf_err(cf, "framework", "'%.40s' differs from the first row's '%s'",
                                 f[cc[C_FW]], fw0);
            if (strcmp(f[cc[C_VER]], ver0))
                return ss_cf_err(cf, "version", "'%.40s' differs from the first row's '%s'",
                                 f[cc[C_VER]], ver0);
            if (strcmp(f[cc[C_DEV]], dev0))
                return ss_cf_err(cf, "device", "'%.60s' differs from the first row's '%s'",
                                 f[cc[C_DEV]], dev0);
        }
        double ms;
        if ((rc = ss_cf_num(cf, cc[C_LAT], NULL, 0.0, &ms))) return rc;
        ss_meas m;
        memset(&m, 0, sizeof m);
        m.time_s = ms * MS;
        m.gpus = 1;
        char op[256];
        int variant = 0, n = snprintf(op, sizeof op, "%s:%s", f[cc[C_OP]], f[cc[C_KS]]);
        int64_t v[9];
        int dt = 0, kdt = 0, var2 = 0, eb = 0; /* set by dtype_field on success; zeroed for -O3 flow analysis */
        switch (kind) {
        case T_GEMM:
            if ((rc = dtype_field(cf, k[0], &dt, &variant, NULL)) ||
                (rc = ss_cf_int(cf, k[1], NULL, 1, INT64_MAX / 2, &m.m)) ||
                (rc = ss_cf_int(cf, k[2], NULL, 1, INT64_MAX / 2, &m.n)) ||
                (rc = ss_cf_int(cf, k[3], NULL, 1, INT64_MAX / 2, &m.k)))
                return rc;
            m.family = SS_FAM_GEMM;
            m.dtype = (uint8_t)dt;
            if (variant) n += snprintf(op + n, sizeof op - (size_t)n, ":%s", f[k[0]]);
            break;
        case T_CTX:
        case T_GEN:
            for (int i = 0; i < 6; i++)
                if ((rc = ss_cf_int(cf, k[i], NULL, i == 1 ? 1 : 1, INT32_MAX, &v[i]))) return rc;
            if ((rc = ss_cf_int(cf, k[8], NULL, 0, INT64_MAX / 2, &v[8]))) return rc;
            if (v[5] != 1) return ss_cf_err(cf, "beam_width", "only 1 is supported, got %lld",
                                            (long long)v[5]);
            if (v[3] > v[2])
                return ss_cf_err(cf, "num_key_value_heads", "%lld is more than num_heads %lld",
                                 (long long)v[3], (long long)v[2]);
            if ((rc = dtype_field(cf, k[6], &dt, &variant, NULL)) ||
                (rc = dtype_field(cf, k[7], &kdt, &var2, NULL)))
                return rc;
            if (variant) n += snprintf(op + n, sizeof op - (size_t)n, ":%s", f[k[6]]);
            if (var2) n += snprintf(op + n, sizeof op - (size_t)n, ":kv_%s", f[k[7]]);
            variant |= var2;
            if (c_window >= 0) {
                int64_t w;
                if ((rc = ss_cf_int(cf, c_window, NULL, 0, INT64_MAX / 2, &w))) return rc;
                if (w) {
                    n += snprintf(op + n, sizeof op - (size_t)n, ":window=%lld", (long long)w);
                    variant = 1;
                }
            }
            m.dtype = (uint8_t)dt;
            m.kv_dtype = (uint8_t)kdt;
            m.batch = (int32_t)v[0];
            m.heads = (int32_t)v[2];
            m.kv_heads = (int32_t)v[3];
            m.head_dim = (int32_t)v[4];
            if (kind == T_CTX) {
                m.family = SS_FAM_ATTN_PREFILL;
                m.q = v[1];     /* isl: prompt tokens per request */
                m.kv = v[8];    /* step: cached tokens before the prompt (0 here) */
            } else {
                if (v[1] != 1)
                    return ss_cf_err(cf, "isl", "a generation row must have isl 1, got %lld",
                                     (long long)v[1]);
                m.family = SS_FAM_ATTN_DECODE;
                m.kv = v[8];    /* step: tokens already cached per request */
            }
            break;
        case T_MOE:
            if ((rc = dtype_field(cf, k[0], &dt, &variant, NULL))) return rc;
            for (int i = 1; i < 8; i++)
                if ((rc = ss_cf_int(cf, k[i], NULL, 1, INT32_MAX, &v[i]))) return rc;
            if (v[4] > v[5])
                return ss_cf_err(cf, "topk", "%lld is more than num_experts %lld",
                                 (long long)v[4], (long long)v[5]);
            if (v[5] % v[7])
                return ss_cf_err(cf, "moe_ep_size", "%lld does not divide num_experts %lld",
                                 (long long)v[7], (long long)v[5]);
            if (v[3] % v[6])
                return ss_cf_err(cf, "moe_tp_size", "%lld does not divide inter_size %lld",
                                 (long long)v[6], (long long)v[3]);
            if (!f[k[8]][0]) return ss_cf_err(cf, "distribution", "empty");
            if (variant) n += snprintf(op + n, sizeof op - (size_t)n, ":%s", f[k[0]]);
            if (strcmp(f[k[8]], "balanced")) {
                n += snprintf(op + n, sizeof op - (size_t)n, ":%s", f[k[8]]);
                variant = 1;
            }
            m.family = SS_FAM_MOE;
            m.dtype = (uint8_t)dt;
            m.m = v[1];
            m.hidden = v[2];
            m.inter = v[3] / v[6];
            m.topk = (int32_t)v[4];
            m.experts = (int32_t)(v[5] / v[7]);
            m.ep = (int32_t)v[7];
            m.gpus = (int32_t)(v[6] * v[7]);
            break;
        case T_CAR:
        case T_NCCL:
            if ((rc = dtype_field(cf, k[0], &dt, &variant, &eb)) ||
                (rc = ss_cf_int(cf, k[1], NULL, 1, 1 << 20, &v[1])) ||
                (rc = ss_cf_int(cf, k[2], NULL, 0, INT64_MAX / 16, &v[2])))
                return rc;
            if (eb == 0)
                return ss_cf_err(cf, cf->cols[k[0]], "'%s' has no whole-byte element size",
                                 f[k[0]]);
            m.dtype = (uint8_t)dt;
            m.gpus = (int32_t)v[1];
            m.bytes = v[2] * eb; /* message_size is in elements */
            if (kind == T_CAR) {
                m.family = SS_FAM_ALLREDUCE;
                if (!strcmp(f[k[3]], "vllm_graph")) m.flags |= SS_MEAS_CUDA_GRAPH;
                else if (strcmp(f[k[3]], "vllm_eager"))
                    return ss_cf_err(cf, "backend", "unknown backend '%.40s' (vllm_graph, "
                                     "vllm_eager)", f[k[3]]);
            } else {
                const char *o = f[cc[C_OP]];
                if (!strcmp(o, "all_reduce")) m.family = SS_FAM_ALLREDUCE;
                else if (!strcmp(o, "all_gather")) m.family = SS_FAM_ALLGATHER;
                else if (!strcmp(o, "reduce_scatter")) m.family = SS_FAM_REDUCESCATTER;
                else if (!strcmp(o, "alltoall")) m.family = SS_FAM_ALLTOALL;
                else
                    return ss_cf_err(cf, "op_name", "unknown collective '%.40s' (all_reduce, "
                                     "all_gather, reduce_scatter, alltoall)", o);
            }
            break;
        }
        if ((size_t)n >= sizeof op) return ss_cf_err(cf, "op_name", "operator name too long");
        if (variant) m.flags |= SS_MEAS_VARIANT;
        m.op = ss_calib_str(c, op, &rc);
        m.line = cf->lineno;
        if (rc || (rc = ss_calib_push(c, &m))) return rc;
    }
    return r < 0 ? (ss_rc)r : SS_OK;
}

static int detect(const char *p, const char *first)
{
    return table_of(p) >= 0 && !strncmp(first, "framework,version,device,op_name,", strlen("framework,version,device,op_name,"));
}

static ss_rc read_file(ss_calib_ctx *c)
{
    int kind = table_of(c->s->path);
    if (kind < 0)
        return ss_diag_set(c->d, SS_ERR_INVALID, c->s->path, 0, 0, NULL,
                           "not an aiconfigurator table (gemm_perf, context_attention_perf, "
                           "generation_attention_perf, moe_perf, custom_allreduce_perf, "
                           "nccl_perf; .csv or .csv.gz)");
    ss_cf cf;
    ss_rc rc = ss_cf_open(&cf, c->s->path, c->d);
    if (rc) return rc;
    rc = ss_cf_header(&cf);
    if (!rc) rc = read_table(c, &cf, kind);
    ss_cf_close(&cf);
    return rc;
}

static const char *companion(const char *p, const char *first)
{
    (void)first;
    const char *b = ss_path_base(p);
    size_t n = strlen(b);
    if (n > 21 && !strcmp(b + n - 21, "_collection_meta.yaml"))
        return "upstream collection metadata (framework version, completeness): no measurements";
    if (ss_path_find_up(p, "systems") == 1 && n > 5 && !strcmp(b + n - 5, ".yaml"))
        return "GPU specification sheet (vendor figures, not measurements): see docs/hardware.md";
    return NULL;
}

const ss_meas_reader ss_meas_reader_aiconfigurator = {
    "aiconfigurator",
    "NVIDIA aiconfigurator tables: <system>/<framework>-<version>/*_perf.csv[.gz], "
    "nccl-<version>/nccl_perf.csv (ms, sizes in elements)",
    detect, read_file, companion};

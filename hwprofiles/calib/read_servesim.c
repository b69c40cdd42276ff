/* servesim's own profiler output (servesim-profile, written by validation/profiler):
 *
 *   <dir>/meta.yaml   format: servesim-profile, version: 1, gpu, gpu_canonical, stack,
 *                     cuda_version, driver_version, date, host, command, model, dtype
 *   <dir>/gemm.csv          m,n,k,dtype,time_us,reps
 *   <dir>/attn_prefill.csv  batch,q,kv,heads,kv_heads,head_dim,dtype,kv_dtype,time_us,approx
 *   <dir>/attn_decode.csv   batch,kv,heads,kv_heads,head_dim,dtype,kv_dtype,time_us,approx
 *   <dir>/allreduce.csv     gpus,bytes,dtype,time_us
 *   <dir>/gemm_algo.csv     the cuBLASLt algorithm of each GEMM: metadata, listed, not read
 *
 * time_us is the median in microseconds; dtypes are servesim's names. GPU = gpu_canonical
 * when set, else `gpu` via the alias table. Stack: the component of meta `stack` (parts
 * joined by '+', one per library the run used) that names this table's kernels, cublaslt-*
 * for gemm.csv, cudnn-* or servesim-fa-approx for attention, nccl-* for allreduce.csv; the
 * whole string when none does. So a GEMM table and an attention table from two runs of the
 * profiler fit into one profile (fit.c: one stack per operator family), and a GEMM-only run
 * of the profiler before 2026-11-27, which named servesim-fa in its stack regardless, reads
 * as what it measured. Columns are found by name (extra columns are allowed, for later
 * versions of the same major version). */
#include "hwprofiles/calib/calib_int.h"

#include <stdio.h>
#include <string.h>

typedef enum { S_GEMM, S_PRE, S_DEC, S_AR, S_ALGO, S_COUNT } skind;
static const char *const files[S_COUNT] = {"gemm.csv", "attn_prefill.csv", "attn_decode.csv",
                                           "allreduce.csv", "gemm_algo.csv"};
static const char *const first_cols[S_COUNT] = {"m,n,k,dtype,time_us", "batch,q,kv,heads,",
                                                "batch,kv,heads,", "gpus,bytes,dtype,time_us",
                                                "m,n,k,dtype,algo_id"};

static int kind_of(const char *p)
{
    for (int i = 0; i < S_COUNT; i++)
        if (ss_path_is(p, files[i])) return i;
    return -1;
}

static int detect(const char *p, const char *first)
{
    int k = kind_of(p);
    return k >= 0 && !strncmp(first, first_cols[k], strlen(first_cols[k]));
}

/* The '+'-separated component of `stack` that names the kernels of table kind k (see the
 * file comment), or all of `stack`. */
static void part_stack(const char *stack, int k, char *out, size_t n)
{
    static const char *const lib[S_COUNT][3] = {
        {"cublaslt-", NULL}, {"cudnn-", "servesim-fa", NULL}, {"cudnn-", "servesim-fa", NULL},
        {"nccl-", NULL}, {NULL}};
    snprintf(out, n, "%s", stack);
    for (const char *p = stack; *p;) {
        size_t len = strcspn(p, "+");
        for (int j = 0; lib[k][j]; j++)
            if (!strncmp(p, lib[k][j], strlen(lib[k][j]))) {
                snprintf(out, n, "%.*s", (int)len, p);
                return;
            }
        p += len + (p[len] == '+');
    }
}

static ss_rc load_meta(ss_calib_ctx *c, int k, char *model, size_t model_n)
{
    char dir[600], path[700];
    ss_path_dir(c->s->path, dir, sizeof dir);
    snprintf(path, sizeof path, "%.600s/meta.yaml", dir);
    ss_doc *doc = NULL;
    ss_rc rc = ss_doc_load_file(path, &doc, c->d);
    if (rc) return rc;
    yaml_node_t *root = ss_doc_root(doc);
    const char *keys[] = {"format", "version", "gpu", "stack"};
    const char *v[4];
    for (int i = 0; i < 4 && !rc; i++) {
        yaml_node_t *n = root ? ss_node_get(doc, root, keys[i]) : NULL;
        v[i] = n ? ss_node_scalar(n) : NULL;
        if (!v[i] || !v[i][0])
            rc = ss_cfg_error(c->d, SS_ERR_INVALID, doc, n ? n : root, keys[i],
                              "missing required key (servesim-profile meta.yaml)");
    }
    if (!rc && strcmp(v[0], "servesim-profile"))
        rc = ss_cfg_error(c->d, SS_ERR_INVALID, doc, ss_node_get(doc, root, "format"), "format",
                          "expected servesim-profile, got '%s'", v[0]);
    if (!rc && strcmp(v[1], "1"))
        rc = ss_cfg_error(c->d, SS_ERR_UNSUPPORTED, doc, ss_node_get(doc, root, "version"),
                          "version", "this servesim reads version 1, got '%s'", v[1]);
    if (!rc) {
        yaml_node_t *gc = ss_node_get(doc, root, "gpu_canonical");
        const char *canon = gc ? ss_node_scalar(gc) : NULL;
        ss_calib_set_gpu(c, canon && canon[0] ? canon : v[2]);
        part_stack(v[3], k, c->s->stack, sizeof c->s->stack);
        yaml_node_t *mn = ss_node_get(doc, root, "model");
        const char *m = mn ? ss_node_scalar(mn) : NULL;
        snprintf(model, model_n, "%s", m ? m : "");
    }
    ss_doc_free(doc);
    return rc;
}

static ss_rc dtype_col(ss_cf *cf, int i, uint8_t *out)
{
    for (int t = 0; t < SS_DTYPE_COUNT; t++)
        if (!strcmp(cf->f[i], ss_dtype_name((ss_dtype)t))) {
            *out = (uint8_t)t;
            return SS_OK;
        }
    return ss_cf_err(cf, cf->cols[i], "unknown data type '%.40s' (fp32, bf16, fp16, fp8, int8, "
                     "fp4)", cf->f[i]);
}

static ss_rc read_rows(ss_calib_ctx *c, ss_cf *cf, int k, uint32_t model)
{
    static const char *const cols[S_COUNT][10] = {
        {"m", "n", "k", "dtype", "time_us"},
        {"batch", "q", "kv", "heads", "kv_heads", "head_dim", "dtype", "kv_dtype", "time_us",
         "approx"},
        {"batch", "kv", "heads", "kv_heads", "head_dim", "dtype", "kv_dtype", "time_us", "approx"},
        {"gpus", "bytes", "dtype", "time_us"},
        {NULL}};
    int ci[10], nc = 0;
    ss_rc rc = SS_OK;
    for (; nc < 10 && cols[k][nc]; nc++)
        if ((rc = ss_cf_need(cf, cols[k][nc], &ci[nc]))) return rc;
    static const char *const ops[S_COUNT] = {"gemm", "attn_prefill", "attn_decode", "allreduce", ""};
    uint32_t op = ss_calib_str(c, ops[k], &rc);
    if (rc) return rc;
    int r;
    while ((r = ss_cf_next(cf)) == 1) {
        if ((rc = ss_cf_row(cf))) return rc;
        ss_meas m;
        memset(&m, 0, sizeof m);
        m.gpus = 1;
        m.op = op;
        m.model = model;
        m.line = cf->lineno;
        double us = 0;
        int64_t v[6];
        int approx = 0;
        switch (k) {
        case S_GEMM:
            if ((rc = ss_cf_int(cf, ci[0], NULL, 1, INT64_MAX / 2, &m.m)) ||
                (rc = ss_cf_int(cf, ci[1], NULL, 1, INT64_MAX / 2, &m.n)) ||
                (rc = ss_cf_int(cf, ci[2], NULL, 1, INT64_MAX / 2, &m.k)) ||
                (rc = dtype_col(cf, ci[3], &m.dtype)) || (rc = ss_cf_num(cf, ci[4], NULL, 0.0, &us)))
                return rc;
            m.family = SS_FAM_GEMM;
            break;
        case S_PRE:
        case S_DEC: {
            int pre = k == S_PRE, o = pre ? 1 : 0;
            if ((rc = ss_cf_int(cf, ci[0], NULL, 1, INT32_MAX, &v[0]))) return rc;
            if (pre && (rc = ss_cf_int(cf, ci[1], NULL, 1, INT64_MAX / 2, &m.q))) return rc;
            if ((rc = ss_cf_int(cf, ci[1 + o], NULL, 0, INT64_MAX / 2, &m.kv)) ||
                (rc = ss_cf_int(cf, ci[2 + o], NULL, 1, INT32_MAX, &v[1])) ||
                (rc = ss_cf_int(cf, ci[3 + o], NULL, 1, v[1], &v[2])) ||
                (rc = ss_cf_int(cf, ci[4 + o], NULL, 1, INT32_MAX, &v[3])) ||
                (rc = dtype_col(cf, ci[5 + o], &m.dtype)) ||
                (rc = dtype_col(cf, ci[6 + o], &m.kv_dtype)) ||
                (rc = ss_cf_num(cf, ci[7 + o], NULL, 0.0, &us)) ||
                (rc = ss_cf_bool(cf, ci[8 + o], NULL, &approx)))
                return rc;
            if (!pre && m.kv < 1) return ss_cf_err(cf, "kv", "a decode row needs kv >= 1");
            m.family = (uint8_t)(pre ? SS_FAM_ATTN_PREFILL : SS_FAM_ATTN_DECODE);
            m.batch = (int32_t)v[0];
            m.heads = (int32_t)v[1];
            m.kv_heads = (int32_t)v[2];
            m.head_dim = (int32_t)v[3];
            if (approx) m.flags |= SS_MEAS_APPROX;
            break;
        }
        default: /* S_AR */
            if ((rc = ss_cf_int(cf, ci[0], NULL, 1, 1 << 20, &v[0])) ||
                (rc = ss_cf_int(cf, ci[1], NULL, 1, INT64_MAX / 2, &m.bytes)) ||
                (rc = dtype_col(cf, ci[2], &m.dtype)) || (rc = ss_cf_num(cf, ci[3], NULL, 0.0, &us)))
                return rc;
            m.family = SS_FAM_ALLREDUCE;
            m.gpus = (int32_t)v[0];
            break;
        }
        m.time_s = us * 1e-6;
        if ((rc = ss_calib_push(c, &m))) return rc;
    }
    return r < 0 ? (ss_rc)r : SS_OK;
}

static ss_rc read_file(ss_calib_ctx *c)
{
    int k = kind_of(c->s->path);
    if (k < 0)
        return ss_diag_set(c->d, SS_ERR_INVALID, c->s->path, 0, 0, NULL,
                           "not a servesim-profile table (gemm.csv, attn_prefill.csv, "
                           "attn_decode.csv, allreduce.csv)");
    char model[160];
    ss_rc rc = load_meta(c, k, model, sizeof model);
    if (rc || c->skipped_gpu) return rc;
    if (k == S_ALGO) {
        ss_calib_note(c, "not read: the GEMM algorithm chosen per shape (metadata, no times)");
        return SS_OK;
    }
    uint32_t moff = ss_calib_str(c, model, &rc);
    ss_cf cf;
    if (!rc) rc = ss_cf_open(&cf, c->s->path, c->d);
    if (rc) return rc;
    rc = ss_cf_header(&cf);
    if (!rc) rc = read_rows(c, &cf, k, moff);
    ss_cf_close(&cf);
    return rc;
}

static const char *companion(const char *p, const char *first)
{
    if (ss_path_is(p, "meta.yaml") &&
        (strstr(first, "servesim-profile") || !strcmp(first, "format: servesim-profile")))
        return "servesim-profile metadata (GPU, stack, model): read with the tables beside it";
    return NULL;
}

const ss_meas_reader ss_meas_reader_servesim = {
    "servesim", "servesim-profile directories: meta.yaml + gemm, attn_prefill, attn_decode, "
                "allreduce .csv (us)",
    detect, read_file, companion};

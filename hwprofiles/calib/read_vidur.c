/* Vidur's profiling tables (microsoft/vidur) and Frontier's tables in the same format.
 *
 *   compute/<gpu>/<org>/<model>/mlp.csv        every non-attention operator of one layer
 *   compute/<gpu>/<org>/<model>/attention.csv  attention (Vidur format; Frontier ships one)
 *   network/<testbed>/all_reduce.csv, send_recv.csv   NCCL collectives
 *   cpu_overhead/<gpu>/cpu_overheads.csv       host time per scheduler iteration
 *
 * Times are milliseconds (the `.median` column of each operator is read). Network sizes are
 * fp16 elements (bytes = 2 x size). GEMM shapes are derived from the model columns; see
 * docs/calibration-data.md for every derivation. Frontier differs only in its path
 * (frontier/<gpu>/<org>/<model>/) and its stack name. */
#include "hwprofiles/calib/calib_int.h"

#include <stdio.h>
#include <string.h>

#define MS 1e-3

/*============================================================ path: GPU and model */

/* Folder `anchor` above the file, then <gpu> below it. */
static ss_rc path_gpu(ss_calib_ctx *c, const char *anchor, const char *layout)
{
    const char *path = c->s->path;
    int k = ss_path_find_up(path, anchor);
    char gpu[128];
    if (k < 2 || !ss_path_up(path, k - 1, gpu, sizeof gpu))
        return ss_diag_set(c->d, SS_ERR_INVALID, path, 0, 0, NULL,
                           "cannot tell the GPU from the path: expected %s", layout);
    /* network testbeds are <gpu>_<topology> (a100_dgx, h100_pairwise_nvlink) */
    if (!strcmp(anchor, "network")) {
        char *u = strchr(gpu, '_');
        if (u) *u = '\0';
    }
    ss_calib_set_gpu(c, gpu);
    return SS_OK;
}

/* "<org>/<model>" when the file sits in <anchor>/<gpu>/<org>/<model>/, else "". */
static void path_model(const char *path, const char *anchor, char *out, size_t n)
{
    char org[128], model[128];
    out[0] = '\0';
    if (ss_path_find_up(path, anchor) == 4 && ss_path_up(path, 2, org, sizeof org) &&
        ss_path_up(path, 1, model, sizeof model))
        snprintf(out, n, "%s/%s", org, model);
}

/*============================================================ mlp.csv */

typedef enum { W_EMBD, W_QKV_ROPE, W_FFN } width_kind;

typedef struct vop {
    const char *name;  /* time_stats.<name>.median */
    ss_fam fam;
} vop;

static const vop mlp_ops[] = {
    {"emb", SS_FAM_EMBED},
    {"input_layernorm", SS_FAM_ELEMWISE},
    {"attn_pre_proj", SS_FAM_GEMM},
    {"attn_rope", SS_FAM_ELEMWISE},
    {"attn_post_proj", SS_FAM_GEMM},
    {"post_attention_layernorm", SS_FAM_ELEMWISE},
    {"mlp_up_proj", SS_FAM_GEMM},
    {"mlp_act", SS_FAM_ELEMWISE},
    {"mlp_down_proj", SS_FAM_GEMM},
    {"add", SS_FAM_ELEMWISE},
};
#define N_MLP_OPS ((int)(sizeof mlp_ops / sizeof *mlp_ops))

static ss_rc read_mlp(ss_calib_ctx *c, ss_cf *cf, const char *anchor)
{
    int col[N_MLP_OPS], nop = 0;
    ss_rc rc = SS_OK;
    for (int i = 0; i < N_MLP_OPS; i++) {
        char name[96];
        snprintf(name, sizeof name, "time_stats.%s.median", mlp_ops[i].name);
        col[i] = ss_cf_col(cf, name);
        nop += col[i] >= 0;
    }
    if (!nop) {
        cf->lineno = 1;
        return ss_cf_err(cf, "time_stats.attn_pre_proj.median",
                         "missing in the header (no time_stats.<op>.median column at all)");
    }
    int c_head, c_kv, c_embd, c_ffn, c_gated, c_tok, c_tp;
    if ((rc = ss_cf_need(cf, "n_head", &c_head)) || (rc = ss_cf_need(cf, "n_kv_head", &c_kv)) ||
        (rc = ss_cf_need(cf, "n_embd", &c_embd)) ||
        (rc = ss_cf_need(cf, "n_expanded_embd", &c_ffn)) ||
        (rc = ss_cf_need(cf, "use_gated_mlp", &c_gated)) ||
        (rc = ss_cf_need(cf, "num_tokens", &c_tok)) ||
        (rc = ss_cf_need(cf, "num_tensor_parallel_workers", &c_tp)))
        return rc;
    char model[300];
    path_model(c->s->path, anchor, model, sizeof model);
    uint32_t model_off = ss_calib_str(c, model, &rc);
    uint32_t op_off[N_MLP_OPS];
    for (int i = 0; i < N_MLP_OPS; i++) op_off[i] = ss_calib_str(c, mlp_ops[i].name, &rc);
    if (rc) return rc;
    int r;
    while ((r = ss_cf_next(cf)) == 1) {
        int64_t heads, kvh, embd, ffn, tok, tp;
        int gated;
        if ((rc = ss_cf_row(cf)) || (rc = ss_cf_int(cf, c_head, NULL, 1, 1 << 20, &heads)) ||
            (rc = ss_cf_int(cf, c_kv, NULL, 1, heads, &kvh)) ||
            (rc = ss_cf_int(cf, c_embd, NULL, 1, 1 << 24, &embd)) ||
            (rc = ss_cf_int(cf, c_ffn, NULL, 1, 1 << 26, &ffn)) ||
            (rc = ss_cf_bool(cf, c_gated, NULL, &gated)) ||
            (rc = ss_cf_int(cf, c_tok, NULL, 1, INT32_MAX, &tok)) ||
            (rc = ss_cf_int(cf, c_tp, NULL, 1, 1024, &tp)))
            return rc;
        if (embd % heads)
            return ss_cf_err(cf, "n_embd", "%lld is not a multiple of n_head %lld",
                             (long long)embd, (long long)heads);
        if (heads % tp || ffn % tp)
            return ss_cf_err(cf, "num_tensor_parallel_workers",
                             "%lld does not divide n_head %lld and n_expanded_embd %lld",
                             (long long)tp, (long long)heads, (long long)ffn);
        if (kvh % tp && tp % kvh)
            return ss_cf_err(cf, "num_tensor_parallel_workers",
                             "%lld and n_kv_head %lld: neither divides the other",
                             (long long)tp, (long long)kvh);
        int64_t hd = embd / heads;
        int64_t hq = heads / tp, hkv = kvh >= tp ? kvh / tp : 1; /* KV heads replicated */
        for (int i = 0; i < N_MLP_OPS; i++) {
            if (col[i] < 0) continue;
            double ms;
            if ((rc = ss_cf_num(cf, col[i], NULL, 0.0, &ms))) return rc;
            ss_meas m;
            memset(&m, 0, sizeof m);
            m.family = (uint8_t)mlp_ops[i].fam;
            m.dtype = SS_DTYPE_FP16;
            m.gpus = (int32_t)tp;
            m.m = tok;
            const char *nm = mlp_ops[i].name;
            if (!strcmp(nm, "attn_pre_proj")) {
                m.n = (hq + 2 * hkv) * hd;
                m.k = embd;
            } else if (!strcmp(nm, "attn_post_proj")) {
                m.n = embd;
                m.k = hq * hd;
            } else if (!strcmp(nm, "mlp_up_proj")) {
                m.n = (gated ? 2 : 1) * ffn / tp;
                m.k = embd;
            } else if (!strcmp(nm, "mlp_down_proj")) {
                m.n = embd;
                m.k = ffn / tp;
            } else if (!strcmp(nm, "attn_rope")) {
                m.n = (hq + hkv) * hd; /* rotates q and k */
            } else if (!strcmp(nm, "mlp_act")) {
                m.n = ffn / tp;        /* output width (gated: reads 2x) */
            } else {
                m.n = embd;            /* emb, norms, residual add */
            }
            m.time_s = ms * MS;
            m.op = op_off[i];
            m.model = model_off;
            m.line = cf->lineno;
            if ((rc = ss_calib_push(c, &m))) return rc;
        }
    }
    return r < 0 ? (ss_rc)r : SS_OK;
}

/*============================================================ attention.csv */

static ss_rc read_attention(ss_calib_ctx *c, ss_cf *cf, const char *anchor)
{
    int c_pre, c_dec, c_save, c_embd, c_qh, c_kvh, c_tp, c_b, c_chunk, c_kv, c_isp;
    ss_rc rc;
    if ((rc = ss_cf_need(cf, "time_stats.attn_prefill.median", &c_pre)) ||
        (rc = ss_cf_need(cf, "time_stats.attn_decode.median", &c_dec)) ||
        (rc = ss_cf_need(cf, "time_stats.attn_kv_cache_save.median", &c_save)) ||
        (rc = ss_cf_need(cf, "n_embd", &c_embd)) || (rc = ss_cf_need(cf, "n_q_head", &c_qh)) ||
        (rc = ss_cf_need(cf, "n_kv_head", &c_kvh)) ||
        (rc = ss_cf_need(cf, "num_tensor_parallel_workers", &c_tp)) ||
        (rc = ss_cf_need(cf, "batch_size", &c_b)) ||
        (rc = ss_cf_need(cf, "prefill_chunk_size", &c_chunk)) ||
        (rc = ss_cf_need(cf, "kv_cache_size", &c_kv)) ||
        (rc = ss_cf_need(cf, "is_prefill", &c_isp)))
        return rc;
    char model[300];
    path_model(c->s->path, anchor, model, sizeof model);
    rc = SS_OK;
    uint32_t model_off = ss_calib_str(c, model, &rc);
    uint32_t op_pre = ss_calib_str(c, "attn_prefill", &rc);
    uint32_t op_dec = ss_calib_str(c, "attn_decode", &rc);
    uint32_t op_save = ss_calib_str(c, "attn_kv_cache_save", &rc);
    if (rc) return rc;
    int r;
    while ((r = ss_cf_next(cf)) == 1) {
        int64_t embd, qh, kvh, tp, b, chunk, kv;
        int isp;
        double t_pre, t_dec, t_save;
        if ((rc = ss_cf_row(cf)) || (rc = ss_cf_int(cf, c_embd, NULL, 1, 1 << 24, &embd)) ||
            (rc = ss_cf_int(cf, c_qh, NULL, 1, 1 << 20, &qh)) ||
            (rc = ss_cf_int(cf, c_kvh, NULL, 1, qh, &kvh)) ||
            (rc = ss_cf_int(cf, c_tp, NULL, 1, 1024, &tp)) ||
            (rc = ss_cf_int(cf, c_b, NULL, 1, INT32_MAX, &b)) ||
            (rc = ss_cf_int(cf, c_chunk, NULL, 0, INT32_MAX, &chunk)) ||
            (rc = ss_cf_int(cf, c_kv, NULL, 0, INT64_MAX / 2, &kv)) ||
            (rc = ss_cf_bool(cf, c_isp, NULL, &isp)) ||
            (rc = ss_cf_num(cf, c_pre, NULL, 0.0, &t_pre)) ||
            (rc = ss_cf_num(cf, c_dec, NULL, 0.0, &t_dec)) ||
            (rc = ss_cf_num(cf, c_save, NULL, 0.0, &t_save)))
            return rc;
        if (embd % qh) return ss_cf_err(cf, "n_embd", "not a multiple of n_q_head");
        if (qh % tp) return ss_cf_err(cf, "num_tensor_parallel_workers", "does not divide n_q_head");
        if (isp && chunk < 1)
            return ss_cf_err(cf, "prefill_chunk_size", "must be >= 1 on a prefill row");
        if (isp && b != 1)
            return ss_cf_err(cf, "batch_size", "a prefill row has batch_size %lld (expected 1)",
                             (long long)b);
        if (isp ? t_pre <= 0 : t_dec <= 0)
            return ss_cf_err(cf, isp ? "time_stats.attn_prefill.median"
                                     : "time_stats.attn_decode.median",
                             "no time for the kernel of this %s row", isp ? "prefill" : "decode");
        ss_meas m;
        memset(&m, 0, sizeof m);
        m.family = (uint8_t)(isp ? SS_FAM_ATTN_PREFILL : SS_FAM_ATTN_DECODE);
        m.dtype = m.kv_dtype = SS_DTYPE_FP16;
        m.gpus = (int32_t)tp;
        m.batch = (int32_t)b;
        m.q = isp ? chunk : 0;
        m.kv = kv;
        m.heads = (int32_t)(qh / tp);
        m.kv_heads = (int32_t)(kvh >= tp ? kvh / tp : 1);
        m.head_dim = (int32_t)(embd / qh);
        m.time_s = (isp ? t_pre : t_dec) * MS;
        m.op = isp ? op_pre : op_dec;
        m.model = model_off;
        m.line = cf->lineno;
        if ((rc = ss_calib_push(c, &m))) return rc;
        if (t_save > 0) { /* writing the new K/V into the paged cache: its own row */
            ss_meas s;
            memset(&s, 0, sizeof s);
            s.family = SS_FAM_ELEMWISE;
            s.dtype = SS_DTYPE_FP16;
            s.gpus = (int32_t)tp;
            s.m = isp ? chunk : b;
            s.n = 2 * (int64_t)m.kv_heads * m.head_dim;
            s.time_s = t_save * MS;
            s.op = op_save;
            s.model = model_off;
            s.line = cf->lineno;
            if ((rc = ss_calib_push(c, &s))) return rc;
        }
    }
    return r < 0 ? (ss_rc)r : SS_OK;
}

/*============================================================ network */

static ss_rc read_network(ss_calib_ctx *c, ss_cf *cf, const char *coll)
{
    char tcol[96];
    snprintf(tcol, sizeof tcol, "time_stats.%s.median", coll);
    int c_t, c_nw, c_size, c_coll, c_dpn;
    ss_rc rc;
    if ((rc = ss_cf_need(cf, tcol, &c_t)) || (rc = ss_cf_need(cf, "num_workers", &c_nw)) ||
        (rc = ss_cf_need(cf, "size", &c_size)) || (rc = ss_cf_need(cf, "collective", &c_coll)) ||
        (rc = ss_cf_need(cf, "devices_per_node", &c_dpn)))
        return rc;
    rc = SS_OK;
    uint32_t op = ss_calib_str(c, coll, &rc);
    if (rc) return rc;
    int r;
    while ((r = ss_cf_next(cf)) == 1) {
        int64_t nw, size, dpn;
        double ms;
        if ((rc = ss_cf_row(cf)) || (rc = ss_cf_int(cf, c_nw, NULL, 2, 1 << 20, &nw)) ||
            (rc = ss_cf_int(cf, c_size, NULL, 1, INT64_MAX / 2, &size)) ||
            (rc = ss_cf_int(cf, c_dpn, NULL, 1, 1 << 20, &dpn)) ||
            (rc = ss_cf_num(cf, c_t, NULL, 0.0, &ms)))
            return rc;
        if (strcmp(cf->f[c_coll], coll))
            return ss_cf_err(cf, "collective", "'%.40s' in a %s file", cf->f[c_coll], coll);
        if (dpn > nw)
            return ss_cf_err(cf, "devices_per_node", "%lld is more than num_workers %lld",
                             (long long)dpn, (long long)nw);
        ss_meas m;
        memset(&m, 0, sizeof m);
        m.family = (uint8_t)(!strcmp(coll, "all_reduce") ? SS_FAM_ALLREDUCE : SS_FAM_SENDRECV);
        m.dtype = SS_DTYPE_FP16;
        m.flags = SS_MEAS_CUDA_GRAPH | (dpn < nw ? SS_MEAS_CROSS_NODE : 0);
        m.gpus = (int32_t)nw;
        m.bytes = 2 * size; /* fp16 elements */
        m.time_s = ms * MS;
        m.op = op;
        m.line = cf->lineno;
        if ((rc = ss_calib_push(c, &m))) return rc;
    }
    return r < 0 ? (ss_rc)r : SS_OK;
}

/*============================================================ cpu overheads */

/* Per-iteration host time as Vidur's simulator adds it to the model time: scheduling, input
 * preparation (e2e), sampling (e2e) and output processing. model_execution_* is the GPU
 * forward itself and is left out; ray_comm_time (Ray's RPC between TP workers, only a mean)
 * is left out because the engines servesim models do not use Ray for TP. */
static const char *const cpu_parts[] = {"schedule_median", "sampler_e2e_median",
                                        "prepare_inputs_e2e_median",
                                        "process_model_outputs_median"};

static ss_rc read_cpu(ss_calib_ctx *c, ss_cf *cf)
{
    int cp[4], c_model, c_b, c_tp;
    ss_rc rc;
    for (int i = 0; i < 4; i++)
        if ((rc = ss_cf_need(cf, cpu_parts[i], &cp[i]))) return rc;
    if ((rc = ss_cf_need(cf, "model_name", &c_model)) ||
        (rc = ss_cf_need(cf, "batch_size", &c_b)) ||
        (rc = ss_cf_need(cf, "tensor_parallel_degree", &c_tp)))
        return rc;
    rc = SS_OK;
    uint32_t op = ss_calib_str(c, "schedule+sampler_e2e+prepare_inputs_e2e+process_model_outputs",
                               &rc);
    if (rc) return rc;
    int r;
    while ((r = ss_cf_next(cf)) == 1) {
        int64_t b, tp;
        double sum = 0;
        if ((rc = ss_cf_row(cf)) || (rc = ss_cf_int(cf, c_b, NULL, 1, INT32_MAX, &b)) ||
            (rc = ss_cf_int(cf, c_tp, NULL, 1, 1024, &tp)))
            return rc;
        for (int i = 0; i < 4; i++) {
            double v;
            if ((rc = ss_cf_num(cf, cp[i], NULL, 0.0, &v))) return rc;
            sum += v;
        }
        if (!cf->f[c_model][0]) return ss_cf_err(cf, "model_name", "empty");
        ss_meas m;
        memset(&m, 0, sizeof m);
        m.family = SS_FAM_CPU_OVERHEAD;
        m.gpus = (int32_t)tp;
        m.batch = (int32_t)b;
        m.time_s = sum * MS;
        m.op = op;
        m.model = ss_calib_str(c, cf->f[c_model], &rc);
        m.line = cf->lineno;
        if (rc || (rc = ss_calib_push(c, &m))) return rc;
    }
    return r < 0 ? (ss_rc)r : SS_OK;
}

/*============================================================ entry points */

static int has(const char *line, const char *s) { return strstr(line, s) != NULL; }

static int is_frontier_path(const char *p) { return ss_path_find_up(p, "frontier") > 0; }

static int detect_tables(const char *p, const char *first)
{
    if (ss_path_is(p, "mlp.csv")) return has(first, "time_stats.") && has(first, "n_expanded_embd");
    if (ss_path_is(p, "attention.csv"))
        return has(first, "time_stats.attn_") && has(first, "prefill_chunk_size");
    if (ss_path_is(p, "all_reduce.csv")) return has(first, "time_stats.all_reduce.");
    if (ss_path_is(p, "send_recv.csv")) return has(first, "time_stats.send_recv.");
    if (ss_path_is(p, "cpu_overheads.csv")) return has(first, "schedule_median");
    return 0;
}

static int detect_vidur(const char *p, const char *first)
{
    return !is_frontier_path(p) && detect_tables(p, first);
}

static int detect_frontier(const char *p, const char *first)
{
    return is_frontier_path(p) && detect_tables(p, first);
}

static ss_rc read_any(ss_calib_ctx *c, const char *anchor_compute)
{
    const char *p = c->s->path;
    ss_rc rc;
    int net = ss_path_is(p, "all_reduce.csv") || ss_path_is(p, "send_recv.csv");
    int cpu = ss_path_is(p, "cpu_overheads.csv");
    if (net)
        rc = path_gpu(c, "network", "network/<gpu>_<testbed>/<file>");
    else if (cpu)
        rc = path_gpu(c, "cpu_overhead", "cpu_overhead/<gpu>/cpu_overheads.csv");
    else
        rc = path_gpu(c, anchor_compute,
                      !strcmp(anchor_compute, "compute") ? "compute/<gpu>/<org>/<model>/<file>"
                                                         : "frontier/<gpu>/<org>/<model>/<file>");
    if (rc || c->skipped_gpu) return rc;
    snprintf(c->s->stack, sizeof c->s->stack, "%s",
             !strcmp(anchor_compute, "compute") ? "vidur-sarathi" : "frontier-vidur-flashinfer");
    ss_cf cf;
    if ((rc = ss_cf_open(&cf, p, c->d))) return rc;
    rc = ss_cf_header(&cf);
    if (!rc) {
        if (ss_path_is(p, "mlp.csv"))
            rc = read_mlp(c, &cf, anchor_compute);
        else if (ss_path_is(p, "attention.csv"))
            rc = read_attention(c, &cf, anchor_compute);
        else if (ss_path_is(p, "all_reduce.csv"))
            rc = read_network(c, &cf, "all_reduce");
        else if (ss_path_is(p, "send_recv.csv"))
            rc = read_network(c, &cf, "send_recv");
        else if (cpu)
            rc = read_cpu(c, &cf);
        else
            rc = ss_diag_set(c->d, SS_ERR_INVALID, p, 0, 0, NULL,
                             "not a Vidur table (mlp.csv, attention.csv, all_reduce.csv, "
                             "send_recv.csv, cpu_overheads.csv, optionally .gz)");
    }
    ss_cf_close(&cf);
    return rc;
}

static ss_rc read_vidur(ss_calib_ctx *c) { return read_any(c, "compute"); }
static ss_rc read_frontier(ss_calib_ctx *c) { return read_any(c, "frontier"); }

const ss_meas_reader ss_meas_reader_vidur = {
    "vidur", "Vidur profiles: compute/<gpu>/<org>/<model>/{mlp,attention}.csv, "
             "network/<testbed>/{all_reduce,send_recv}.csv, cpu_overhead/<gpu>/ (ms)",
    detect_vidur, read_vidur, NULL};

const ss_meas_reader ss_meas_reader_frontier = {
    "frontier", "Frontier's Vidur-format tables: frontier/<gpu>/<org>/<model>/{mlp,attention}.csv "
                "(ms)",
    detect_frontier, read_frontier, NULL};

/* The measurement plan of servesim-profile: per-GPU GEMM shapes derived from a model file,
 * the token, attention and all-reduce grids, and the --dry-run listing.
 *
 * The shapes follow vLLM's tensor-parallel layout, the same one models/ops.c costs
 * (ss_model_layer_work): QKV and gate/up are column-parallel (split over tp), O and down are
 * row-parallel, KV heads are replicated when tp exceeds them, the LM head is
 * vocab-parallel. tests/unit/test_profiler.c checks that 2*m*n*k of each shape equals the
 * FLOPs ss_model_layer_work gives the operator, so the profiler measures exactly what the
 * simulator charges for. */
#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "validation/profiler/prof.h"

/* ================================================================== GEMM shapes */

static ss_rc push_gemm(ss_prof_gemm *out, size_t cap, size_t *n, const char *op, int tp,
                       int64_t nn, int64_t k, ss_diag *d)
{
    if (*n >= cap) return ss_diag_fail(d, SS_ERR_INVALID, "too many GEMM shapes (max %zu)", cap);
    ss_prof_gemm *g = &out[(*n)++];
    memset(g, 0, sizeof *g);
    snprintf(g->op, sizeof g->op, "%s", op);
    g->tp = tp;
    g->n = nn;
    g->k = k;
    return SS_OK;
}

ss_rc ss_prof_gemm_shapes(const ss_model *m, int tp, ss_prof_gemm *out, size_t cap,
                          size_t *n, ss_diag *d)
{
    *n = 0;
    char why[256];
    if (tp < 1) return ss_diag_fail(d, SS_ERR_INVALID, "tp must be >= 1 (got %d)", tp);
    if (ss_model_check_tp(m, tp, why, sizeof why) != SS_OK)
        return ss_diag_fail(d, SS_ERR_INVALID, "model %s, tp %d: %s", m->name, tp, why);

    int64_t H = m->hidden_size, hd = m->head_dim;
    int64_t hq = m->num_heads / tp;
    int64_t kvh = m->num_kv_heads / tp < 1 ? 1 : m->num_kv_heads / tp;
    int64_t mats = m->mlp == SS_MLP_GATED_SILU ? 2 : 1;
    int dense = 0, moe = 0;
    for (int g = 0; g < m->num_groups; g++) {
        if (m->groups[g].ffn == SS_FFN_MOE) moe = 1;
        else dense = 1;
    }
    ss_rc rc;
    if ((rc = push_gemm(out, cap, n, "qkv_proj", tp, (hq + 2 * kvh) * hd, H, d))) return rc;
    if ((rc = push_gemm(out, cap, n, "o_proj", tp, H, hq * hd, d))) return rc;
    if (dense) {
        if (m->intermediate_size % tp)
            return ss_diag_fail(d, SS_ERR_INVALID,
                                "model %s: intermediate_size %d does not divide by tp %d",
                                m->name, m->intermediate_size, tp);
        int64_t I = m->intermediate_size / tp;
        if ((rc = push_gemm(out, cap, n, "mlp_up_gate", tp, mats * I, H, d))) return rc;
        if ((rc = push_gemm(out, cap, n, "mlp_down", tp, H, I, d))) return rc;
    }
    if (moe) {
        /* One expert's GEMMs as dense GEMMs; fused_moe's grouped kernel is not measured. */
        if (m->moe_intermediate_size % tp)
            return ss_diag_fail(d, SS_ERR_INVALID,
                                "model %s: moe intermediate_size %d does not divide by tp %d",
                                m->name, m->moe_intermediate_size, tp);
        int64_t I = m->moe_intermediate_size / tp;
        if ((rc = push_gemm(out, cap, n, "moe_up_gate_expert", tp, mats * I, H, d))) return rc;
        if ((rc = push_gemm(out, cap, n, "moe_down_expert", tp, H, I, d))) return rc;
    }
    return push_gemm(out, cap, n, "lm_head", tp, (m->vocab_size + tp - 1) / tp, H, d);
}

/* ================================================================== grids */

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Sort and drop duplicates. */
static void list_normalise(ss_prof_list *l)
{
    if (!l->n) return;
    qsort(l->v, l->n, sizeof l->v[0], cmp_i64);
    size_t w = 1;
    for (size_t i = 1; i < l->n; i++)
        if (l->v[i] != l->v[w - 1]) l->v[w++] = l->v[i];
    l->n = w;
}

static void list_add(ss_prof_list *l, int64_t v)
{
    if (l->n < SS_PROF_MAX_LIST) l->v[l->n++] = v;
}

void ss_prof_token_grid(int64_t max, ss_prof_list *out)
{
    out->n = 0;
    if (max < 1) return;
    for (int64_t t = 1; t <= 16 && t <= max; t++) list_add(out, t);
    for (int64_t base = 16; base < max; base *= 2)
        for (int64_t j = 0; j < 8; j++) {
            int64_t t = base + j * (base / 8);
            if (t <= max) list_add(out, t);
        }
    list_add(out, max);
    list_normalise(out);
}

static void pow2_list(ss_prof_list *l, int64_t lo, int64_t hi)
{
    l->n = 0;
    for (int64_t v = lo; v <= hi; v *= 2) list_add(l, v);
}

/* ================================================================== plan */

ss_rc ss_prof_plan_build(const ss_prof_opts *o, const ss_model *m, ss_prof_plan *p,
                         ss_diag *d)
{
    memset(p, 0, sizeof *p);
    p->model = *m;
    p->dtype = o->dtype;
    p->attn_dtype = o->dtype == SS_DTYPE_FP8 ? SS_DTYPE_BF16 : o->dtype;
    p->parts = o->parts;
    if (o->dtype != SS_DTYPE_BF16 && o->dtype != SS_DTYPE_FP16 && o->dtype != SS_DTYPE_FP8)
        return ss_diag_fail(d, SS_ERR_INVALID, "--dtype %s: use bf16, fp16 or fp8",
                            ss_dtype_name(o->dtype));
    if (o->ntp == 0) return ss_diag_fail(d, SS_ERR_INVALID, "no --tp degree given");
    for (int g = 0; g < m->num_groups; g++)
        if (m->groups[g].attn == SS_ATTN_MLA)
            return ss_diag_fail(d, SS_ERR_UNSUPPORTED,
                                "model %s has MLA attention, which the profiler does not "
                                "measure", m->name);

    /* Tokens. */
    if (o->tokens.n) p->tokens = o->tokens;
    else ss_prof_token_grid(o->max_tokens, &p->tokens);
    list_normalise(&p->tokens);

    /* GEMM shapes of every tp, de-duplicated on (n, k); the first op/tp keeps the name. */
    for (size_t t = 0; t < o->ntp; t++) {
        ss_prof_gemm one[16];
        size_t n = 0;
        ss_rc rc = ss_prof_gemm_shapes(m, o->tp[t], one, 16, &n, d);
        if (rc) return rc;
        for (size_t i = 0; i < n; i++) {
            int dup = 0;
            for (size_t j = 0; j < p->ngemm && !dup; j++)
                dup = p->gemm[j].n == one[i].n && p->gemm[j].k == one[i].k;
            if (dup) continue;
            if (p->ngemm >= SS_PROF_MAX_GEMMS)
                return ss_diag_fail(d, SS_ERR_INVALID, "too many GEMM shapes");
            p->gemm[p->ngemm++] = one[i];
        }
        /* Attention heads on one GPU. */
        ss_prof_attn_shape s = {o->tp[t], m->num_heads / o->tp[t],
                                m->num_kv_heads / o->tp[t] < 1 ? 1
                                                               : m->num_kv_heads / o->tp[t],
                                m->head_dim};
        int dup = 0;
        for (size_t j = 0; j < p->nattn && !dup; j++)
            dup = p->attn[j].heads == s.heads && p->attn[j].kv_heads == s.kv_heads &&
                  p->attn[j].head_dim == s.head_dim;
        if (!dup) p->attn[p->nattn++] = s;
    }

    /* Prefill: one request of q new tokens on top of a cached prefix of kv. */
    ss_prof_list q = o->prefill_q, kv = o->prefill_kv;
    if (!q.n) pow2_list(&q, 16, o->max_tokens);
    if (!kv.n) {
        kv.n = 0;
        list_add(&kv, 0);
        for (int64_t v = 256; v <= o->max_ctx; v *= 4) list_add(&kv, v);
    }
    list_normalise(&q);
    list_normalise(&kv);
    for (size_t i = 0; i < q.n; i++)
        for (size_t j = 0; j < kv.n; j++) {
            if (q.v[i] + kv.v[j] > o->max_ctx) continue;
            if (p->nprefill >= SS_PROF_MAX_POINTS)
                return ss_diag_fail(d, SS_ERR_INVALID, "too many prefill points (max %d)",
                                    SS_PROF_MAX_POINTS);
            p->prefill[p->nprefill++] = (ss_prof_prefill_pt){1, q.v[i], kv.v[j]};
        }

    /* Decode: batch requests, one new token each, kv tokens of context each (the new
     * token's K/V included). */
    ss_prof_list b = o->decode_batch, dk = o->decode_kv;
    if (!b.n) pow2_list(&b, 1, 256);
    if (!dk.n) pow2_list(&dk, 128, o->max_ctx);
    list_normalise(&b);
    list_normalise(&dk);
    for (size_t i = 0; i < b.n; i++)
        for (size_t j = 0; j < dk.n; j++) {
            if (b.v[i] * dk.v[j] > o->max_kv_tokens) continue;
            if (b.v[i] > INT32_MAX) continue;
            if (p->ndecode >= SS_PROF_MAX_POINTS)
                return ss_diag_fail(d, SS_ERR_INVALID, "too many decode points (max %d)",
                                    SS_PROF_MAX_POINTS);
            p->decode[p->ndecode++] = (ss_prof_decode_pt){(int32_t)b.v[i], dk.v[j]};
        }

    /* All-reduce: 2, 4, ... GPUs up to --gpus, and --gpus itself. */
    if (o->gpus >= 2) {
        for (int g = 2; g <= o->gpus && p->nar_gpus < 7; g *= 2) p->ar_gpus[p->nar_gpus++] = g;
        if (p->ar_gpus[p->nar_gpus - 1] != o->gpus) p->ar_gpus[p->nar_gpus++] = o->gpus;
        for (int64_t by = 1024; by <= ((int64_t)256 << 20); by *= 2)
            p->ar_bytes[p->nar_bytes++] = by;
    }
    return SS_OK;
}

void ss_prof_plan_print(const ss_prof_plan *p, const ss_prof_opts *o, int nccl_built,
                        FILE *f)
{
    fprintf(f, "servesim-profile plan: model %s, dtype %s (attention %s), reps %d, "
               "warmup %d, L2 flush %s\n",
            p->model.name, ss_dtype_name(p->dtype), ss_dtype_name(p->attn_dtype), o->reps,
            o->warmup, o->flush_l2 ? "on" : "off");
    size_t ngemm_pts = 0, nattn_pts = 0, nar_pts = 0;
    if (p->parts & SS_PROF_PART_GEMM) {
        fprintf(f, "gemm: %zu shapes x %zu token counts\n", p->ngemm, p->tokens.n);
        for (size_t i = 0; i < p->ngemm; i++)
            fprintf(f, "  %-20s tp=%d n=%" PRId64 " k=%" PRId64 "\n", p->gemm[i].op,
                    p->gemm[i].tp, p->gemm[i].n, p->gemm[i].k);
        fprintf(f, "  m:");
        for (size_t i = 0; i < p->tokens.n; i++) fprintf(f, " %" PRId64, p->tokens.v[i]);
        fprintf(f, "\n");
        ngemm_pts = p->ngemm * p->tokens.n;
    } else {
        fprintf(f, "gemm: skipped (--only)\n");
    }
    if (p->parts & SS_PROF_PART_ATTN) {
        const int fa = o->attn_kernel == SS_PROF_ATTN_SERVESIM_FA;
        fprintf(f, "attention: %zu head shapes, %zu prefill points, %zu decode points, "
                   "kernel %s (approx=%d)\n",
                p->nattn, p->nprefill, p->ndecode, ss_prof_attn_kernel_name(o->attn_kernel), fa);
        for (size_t i = 0; i < p->nattn; i++)
            fprintf(f, "  tp=%d heads=%d kv_heads=%d head_dim=%d\n", p->attn[i].tp,
                    p->attn[i].heads, p->attn[i].kv_heads, p->attn[i].head_dim);
        fprintf(f, "  prefill (batch,q,kv):");
        for (size_t i = 0; i < p->nprefill; i++)
            fprintf(f, " (%d,%" PRId64 ",%" PRId64 ")", p->prefill[i].batch, p->prefill[i].q,
                    p->prefill[i].kv);
        fprintf(f, "\n  decode (batch,kv):");
        for (size_t i = 0; i < p->ndecode; i++)
            fprintf(f, " (%d,%" PRId64 ")", p->decode[i].batch, p->decode[i].kv);
        fprintf(f, "\n");
        nattn_pts = p->nattn * (p->nprefill + p->ndecode);
    } else {
        fprintf(f, "attention: skipped (--only)\n");
    }
    if (!(p->parts & SS_PROF_PART_ALLREDUCE)) {
        fprintf(f, "allreduce: skipped (--only)\n");
    } else if (!nccl_built) {
        fprintf(f, "allreduce: not measured (built without NCCL)\n");
    } else if (!p->nar_gpus) {
        fprintf(f, "allreduce: not measured (--gpus 1)\n");
    } else {
        fprintf(f, "allreduce: gpus");
        for (size_t i = 0; i < p->nar_gpus; i++) fprintf(f, " %d", p->ar_gpus[i]);
        fprintf(f, " x %zu sizes (%" PRId64 " .. %" PRId64 " bytes)\n", p->nar_bytes,
                p->ar_bytes[0], p->ar_bytes[p->nar_bytes - 1]);
        nar_pts = p->nar_gpus * p->nar_bytes;
    }
    fprintf(f, "total: %zu gemm, %zu attention, %zu allreduce measurements\n", ngemm_pts,
            nattn_pts, nar_pts);
}

/* ================================================================== median */

static int cmp_f(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

void ss_prof_find_version(const char *text, char *buf, size_t n)
{
    if (n == 0) return;
    buf[0] = '\0';
    for (const char *p = text; *p; p++) {
        if (!isdigit((unsigned char)*p) || (p > text && !isspace((unsigned char)p[-1])))
            continue;
        const char *e = p;
        while (isdigit((unsigned char)*e)) e++;
        if (*e != '.' || !isdigit((unsigned char)e[1])) continue;
        while (isdigit((unsigned char)*e) || (*e == '.' && isdigit((unsigned char)e[1]))) e++;
        size_t k = (size_t)(e - p);
        if (k >= n) k = n - 1;
        memcpy(buf, p, k);
        buf[k] = '\0';
        return;
    }
}

double ss_prof_median(float *v, size_t n)
{
    if (!n) return 0.0;
    qsort(v, n, sizeof v[0], cmp_f);
    if (n % 2) return (double)v[n / 2];
    return 0.5 * ((double)v[n / 2 - 1] + (double)v[n / 2]);
}

/* ================================================================== reference attention */

void ss_prof_attn_reference(const float *Q, const float *K, const float *V, float *O,
                            int batch, int64_t q, int64_t prefix, int heads, int kv_heads,
                            int head_dim)
{
    const int64_t keys = prefix + q, D = head_dim;
    const double scale = 1.0 / sqrt((double)D);
    const int group = heads / kv_heads;
    double *w = malloc((size_t)keys * sizeof *w);
    if (!w) { /* Poison the output: a caller comparing against it fails loudly. */
        for (size_t i = 0; i < (size_t)batch * heads * q * D; i++) O[i] = NAN;
        return;
    }
    for (int b = 0; b < batch; b++)
        for (int h = 0; h < heads; h++) {
            const int kh = h / group;
            const float *Kb = K + ((int64_t)b * kv_heads + kh) * keys * D;
            const float *Vb = V + ((int64_t)b * kv_heads + kh) * keys * D;
            for (int64_t i = 0; i < q; i++) {
                const float *qi = Q + (((int64_t)b * heads + h) * q + i) * D;
                float *oi = O + (((int64_t)b * heads + h) * q + i) * D;
                const int64_t last = prefix + i;
                double mx = -INFINITY, sum = 0.0;
                for (int64_t j = 0; j <= last; j++) {
                    double s = 0.0;
                    for (int64_t d = 0; d < D; d++) s += (double)qi[d] * Kb[j * D + d];
                    w[j] = s * scale;
                    if (w[j] > mx) mx = w[j];
                }
                for (int64_t j = 0; j <= last; j++) {
                    w[j] = exp(w[j] - mx);
                    sum += w[j];
                }
                for (int64_t d = 0; d < D; d++) {
                    double o = 0.0;
                    for (int64_t j = 0; j <= last; j++) o += w[j] * Vb[j * D + d];
                    oi[d] = (float)(o / sum);
                }
            }
        }
    free(w);
}

void ss_prof_gemm_reference(const float *X, const float *W, float *D, int64_t m, int64_t n,
                            int64_t k)
{
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) {
            double s = 0.0;
            for (int64_t l = 0; l < k; l++) s += (double)X[i * k + l] * W[j * k + l];
            D[i * n + j] = (float)s;
        }
}

double ss_prof_max_abs_diff(const float *a, const float *b, size_t n)
{
    double worst = 0.0;
    for (size_t i = 0; i < n; i++) {
        double x = fabs((double)a[i] - (double)b[i]);
        if (!isfinite(x)) return INFINITY;
        if (x > worst) worst = x;
    }
    return worst;
}

/* The operator basis: the raw features of every operator family (what a kernel's time is
 * a function of) and the evaluation of a fitted model on them. The cost model evaluates
 * these per operator call; fit.c fits their coefficients. fit.h describes the model. */
#include "hwprofiles/calib/fit.h"
#include "hwprofiles/calib/fit_int.h"

#include <math.h>
#include <string.h>

/* ================================================================== features */

int ss_cal_gemm_features(double m, double n, double k, double wbytes, double x[], double s[])
{
    x[0] = 1, s[0] = 1;                  /* fixed time per call */
    x[1] = 1, s[1] = n * k * wbytes;     /* weight bytes (read once) */
    x[2] = m, s[2] = (n + k) * 2.0;      /* activation bytes in and out (16-bit) */
    x[3] = m, s[3] = 2.0 * n * k;        /* FLOPs, ramped in m: efficiency per m regime */
    /* per token row, whatever the shape: W8A8 kernels quantize their activations per
     * token at run time, one thread block per row (aiconfigurator, vLLM 0.24.0 FP8 on the
     * H100: 7.3 ns per row from m = 1024 to 32768 at n = k = 32 and at n = k = 256) */
    x[4] = m, s[4] = wbytes == 1 ? 1 : 0;
    /* One output tile's walk along k: with at most 4 column tiles (n / SS_CAL_N_TILE) and
     * no split of k, a thread block reads k x tile-width weights in series, at one SM's
     * bandwidth, not the GPU's (InferSim H800, FP8, n = 128, k = 65536: 61 us at m = 16,
     * where its 8 MB stream in 2.5 us at HBM speed; n = 512, k = 16384: 17.7 us). Wider
     * GEMMs fill the GPU with column tiles and their weight term carries the bytes: on them
     * the term was a free regressor in k (the synthetic fixture, made without it, went from
     * 2 % to 21 % P90 on held-out GEMM shapes). */
    double tile = n < SS_CAL_N_TILE ? n : SS_CAL_N_TILE;
    x[5] = 1, s[5] = n <= 4 * SS_CAL_N_TILE ? k * tile * wbytes : 0;
    return SS_CAL_GEMM_TERMS;
}

int ss_cal_moe_features(double tokens, double experts, double topk, double ep, double hidden,
                        double inter, double wbytes, double active, double x[], double s[])
{
    double pairs = tokens * topk / (ep > 1 ? ep : 1); /* routed token-expert pairs here */
    if (!(active > 0)) active = pairs < experts ? pairs : experts;
    x[0] = 1, s[0] = 1;                                  /* fixed time per call */
    x[1] = active, s[1] = 3.0 * hidden * inter * wbytes; /* gate, up, down weights read */
    x[2] = pairs, s[2] = 6.0 * hidden * inter;           /* FLOPs, ramped in pairs */
    /* routing, permutation and the masked blocks of other GPUs' experts scale with every
     * routed pair of the batch (aiconfigurator, 512 experts at EP 256: 7.6 ms for 1408 local
     * pairs, 2 % of it FLOPs) */
    x[3] = tokens * topk, s[3] = hidden * 2.0 * 2.0;
    /* ... and some EP kernels do the FLOPs of every routed pair (a 8-expert layer at EP 2:
     * 36 ms for 16384 tokens, top-2 -- twice the FLOPs of the local pairs at 55 % of peak) */
    x[4] = tokens * topk, s[4] = 6.0 * hidden * inter;
    return 5;
}

int ss_cal_attn_features(const ss_cal_attn_q *q, double x[], double s[])
{
    double kvw = ss_calf_kv_bytes_per_token(q);
    for (int j = 0; j < SS_CAL_ATTN_TERMS; j++) s[j] = 1;
    x[0] = 1;
    x[1] = q->pf_seqs;
    x[2] = 4.0 * q->pf_pairs * q->heads * q->head_dim;  /* QK^T and PV FLOPs */
    x[3] = (q->pf_ctx + q->pf_tokens) * kvw;            /* K/V bytes read */
    x[4] = q->dc_seqs * q->heads;
    x[5] = q->dc_ctx * kvw;
    x[6] = 4.0 * q->dc_ctx * q->heads * q->head_dim;
    /* Latency terms: with few sequences the kernel time follows ONE sequence's length (a
     * thread block walks its keys in order), not the batch's total work. The mean is what
     * an O(1) batch summary can give; for uniform batches it is the length itself. */
    x[7] = q->pf_seqs > 0 ? (q->pf_ctx + q->pf_tokens) / q->pf_seqs : 0;
    x[8] = q->dc_seqs > 0 ? q->dc_ctx / q->dc_seqs : 0;
    /* Decode intensity: the KV bytes, ramped in FLOPs per KV byte (query heads per KV head).
     * Knotted at the GPU's ridge (fit.c, place_knots), it bends the decode time from the
     * bytes to the FLOPs where the kernel turns compute-bound; the additive FLOP term x[6]
     * alone put every head configuration between the two regimes (InferSim H20: a held-out
     * 32 heads per 2 KV heads, still memory-bound, came out 25-30 % slow). */
    x[9] = kvw > 0 ? 4.0 * q->heads * q->head_dim / kvw : 0, s[9] = q->dc_ctx * kvw;
    return SS_CAL_ATTN_TERMS;
}

double ss_calf_kv_bytes_per_token(const ss_cal_attn_q *q)
{
    return 2.0 * q->kv_heads * q->head_dim * q->kv_bytes; /* K and V */
}

void ss_calf_row_attn_q(const ss_meas *r, ss_cal_attn_q *q)
{
    memset(q, 0, sizeof *q);
    double B = r->batch > 0 ? r->batch : 1;
    double qq = (double)r->q, kv = (double)r->kv;
    if (r->family == SS_FAM_ATTN_PREFILL || (r->family == SS_FAM_ATTN_MIXED && qq > 0)) {
        double b = r->family == SS_FAM_ATTN_MIXED ? 1 : B;
        q->pf_seqs = b;
        q->pf_tokens = b * qq;
        q->pf_pairs = b * (qq * kv + qq * (qq + 1) / 2);
        q->pf_ctx = b * kv;
    }
    if (r->family == SS_FAM_ATTN_DECODE) {
        q->dc_seqs = B;
        q->dc_ctx = B * (kv + 1);
    } else if (r->family == SS_FAM_ATTN_MIXED && r->n_decode > 0) {
        q->dc_seqs = r->n_decode;
        q->dc_ctx = (double)r->n_decode * ((double)r->kv_decode + 1);
    }
    q->heads = r->heads;
    q->kv_heads = r->kv_heads > 0 ? r->kv_heads : r->heads;
    q->head_dim = r->head_dim;
    q->kv_bytes = ss_calf_dtype_bytes(r->kv_dtype);
}

static double ring_factor(int family, double p)
{
    if (p < 2) return family == SS_FAM_SENDRECV ? 1 : 0;
    switch (family) {
    case SS_FAM_ALLREDUCE: return 2.0 * (p - 1) / p;
    case SS_FAM_SENDRECV: return 1;
    default: return (p - 1) / p;
    }
}

int ss_cal_row_features(const ss_meas *r, double x[], double s[])
{
    switch (ss_cal_kind_of(r->family)) {
    case SS_CAL_GEMM:
        if (r->m <= 0 || r->n <= 0 || r->k <= 0) return 0;
        return ss_cal_gemm_features((double)r->m, (double)r->n, (double)r->k,
                                    ss_calf_dtype_bytes(r->dtype), x, s);
    case SS_CAL_ATTN: {
        if (r->heads <= 0 || r->head_dim <= 0) return 0;
        ss_cal_attn_q q;
        ss_calf_row_attn_q(r, &q);
        return ss_cal_attn_features(&q, x, s);
    }
    case SS_CAL_ELEM:
        if (r->m <= 0) return 0;
        x[0] = 1, s[0] = 1;
        x[1] = (double)r->m * (double)(r->n > 0 ? r->n : 1), s[1] = 1;
        return 2;
    case SS_CAL_COLL: {
        if (r->bytes <= 0) return 0;
        double p = r->gpus > 0 ? r->gpus : 2;
        x[0] = 1, s[0] = 1;
        x[1] = p - 1, s[1] = 1;
        x[2] = (double)r->bytes, s[2] = ring_factor(r->family, p);
        return 3;
    }
    case SS_CAL_MOE:
        if (r->m <= 0 || r->experts <= 0 || r->topk <= 0 || r->hidden <= 0 || r->inter <= 0)
            return 0;
        return ss_cal_moe_features((double)r->m, r->experts, r->topk, r->ep > 0 ? r->ep : 1,
                                   (double)r->hidden, (double)r->inter, ss_calf_dtype_bytes(r->dtype),
                                   r->active_experts, x, s);
    case SS_CAL_COUNT:
    default: {
        double c = r->batch > 0 ? r->batch : (double)r->m;
        if (c <= 0) return 0;
        x[0] = 1, s[0] = 1;
        x[1] = c, s[1] = 1;
        return 2;
    }
    }
}

/* ================================================================== evaluation */

static double term_value(const ss_cal_term *t, double x, double s)
{
    double v = 0;
    for (int i = 0; i < t->nknots; i++) {
        double lo = t->knots[i];
        if (x <= lo) break;
        double hi = i + 1 < t->nknots ? t->knots[i + 1] : INFINITY;
        v += t->coef[i] * ((x < hi ? x : hi) - lo);
    }
    return s * v;
}

double ss_cal_eval(const ss_cal_model *m, const double x[], const double s[])
{
    double t = 0;
    for (int j = 0; j < m->nterms; j++)
        if (s[j] != 0 && x[j] != 0) t += term_value(&m->terms[j], x[j], s[j]);
    return t;
}

double ss_cal_eval_row(const ss_cal_model *m, const ss_meas *r)
{
    double x[SS_CAL_MAX_TERMS], s[SS_CAL_MAX_TERMS];
    int nt = ss_cal_row_features(r, x, s);
    if (nt != m->nterms) return NAN;
    return ss_cal_eval(m, x, s);
}

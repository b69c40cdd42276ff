/* The calibration fitter: raw features per operator family, ramp bases, non-negative least
 * squares in relative error (GSL), and the Steffen curves of densely measured GEMM shapes.
 * fit.h describes the model; docs/cost-model.md derives it. */
#include "hwprofiles/calib/fit.h"

#include <gsl/gsl_interp.h>
#include <gsl/gsl_multifit.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ================================================================== bookkeeping */

void ss_calib_init(ss_calib *c) { memset(c, 0, sizeof *c); }

void ss_calib_free(ss_calib *c)
{
    for (int i = 0; i < c->ngrids; i++) free(c->grids[i].t);
    free(c->grids);
    free(c->shapes);
    free(c->command);
    free(c->sources);
    memset(c, 0, sizeof *c);
}

ss_cal_kind ss_cal_kind_of(int family)
{
    switch (family) {
    case SS_FAM_GEMM:
    case SS_FAM_LM_HEAD: return SS_CAL_GEMM;
    case SS_FAM_ATTN_PREFILL:
    case SS_FAM_ATTN_DECODE:
    case SS_FAM_ATTN_MIXED: return SS_CAL_ATTN;
    case SS_FAM_ELEMWISE:
    case SS_FAM_EMBED: return SS_CAL_ELEM;
    case SS_FAM_ALLREDUCE:
    case SS_FAM_ALLGATHER:
    case SS_FAM_REDUCESCATTER:
    case SS_FAM_ALLTOALL:
    case SS_FAM_SENDRECV: return SS_CAL_COLL;
    case SS_FAM_MOE: return SS_CAL_MOE;
    default: return SS_CAL_COUNT;
    }
}

static double dtype_bytes(int t)
{
    if (t < 0 || t >= SS_DTYPE_COUNT) return 2;
    return ss_dtype_bits((ss_dtype)t) / 8.0;
}

/* Prefill, decode and mixed attention share one feature set but are fitted apart: engines
 * run different kernels (or kernel paths) for a decode-only batch, a prefill and a mixed
 * one, and the measured times show it (LLMServingSim RTX 4090: one joint fit was 2.5x off on
 * pure decode). Every other family is fitted as itself. */
int ss_cal_fit_family(int family)
{
    return family;
}

int ss_cal_row_dtype(const ss_meas *r)
{
    return ss_cal_kind_of(r->family) == SS_CAL_ATTN ? r->kv_dtype : r->dtype;
}

static int contains(const char *s, const char *w) { return strstr(s, w) != NULL; }

/* GEMM size classes by n x k: small GEMMs reach a lower fraction of the roofline than large
 * ones at every m (H100 aiconfigurator: one basis for all sizes was +18 % on n x k < 2^12
 * and -13 % around 2^20), so each class gets its own efficiencies. */
static const double gemm_class_edge[] = {65536.0, 4194304.0, 67108864.0};
static const char *const gemm_class_tag[] = {"nk<2^16", "nk<2^22", "nk<2^26", "nk>=2^26"};
enum { GEMM_CLASSES = 4 };

static int gemm_class(double n, double k)
{
    int c = 0;
    while (c < GEMM_CLASSES - 1 && n * k >= gemm_class_edge[c]) c++;
    return c;
}

const ss_cal_model *ss_calib_find_gemm(const ss_calib *c, int dtype, double n, double k)
{
    int cl = gemm_class(n, k);
    /* the shape's class, else the nearest class that was fitted */
    for (int dist = 0; dist < GEMM_CLASSES; dist++)
        for (int sgn = -1; sgn <= 1; sgn += 2) {
            int x = cl + sgn * dist;
            if (x < 0 || x >= GEMM_CLASSES) continue;
            const ss_cal_model *m = ss_calib_find(c, SS_FAM_GEMM, gemm_class_tag[x], dtype);
            if (m) return m;
        }
    return ss_calib_find(c, SS_FAM_GEMM, "", dtype);
}

void ss_cal_row_tag(const ss_meas_table *t, const ss_meas *r, char tag[SS_CAL_TAG_LEN])
{
    tag[0] = '\0';
    const char *op = ss_meas_str(t, r->op);
    if (r->family == SS_FAM_GEMM) {
        snprintf(tag, SS_CAL_TAG_LEN, "%s", gemm_class_tag[gemm_class((double)r->n, (double)r->k)]);
    } else if (r->family == SS_FAM_ELEMWISE) {
        if (contains(op, "norm")) snprintf(tag, SS_CAL_TAG_LEN, "norm");
        else if (contains(op, "rope") || contains(op, "rotary")) snprintf(tag, SS_CAL_TAG_LEN, "rope");
        else if (contains(op, "act")) snprintf(tag, SS_CAL_TAG_LEN, "act");
        else if (contains(op, "add") || contains(op, "residual")) snprintf(tag, SS_CAL_TAG_LEN, "add");
        else snprintf(tag, SS_CAL_TAG_LEN, "other");
    } else if (r->family == SS_FAM_MOE) {
        /* expert parallel runs other kernels (expert map, masked blocks) than TP-only */
        snprintf(tag, SS_CAL_TAG_LEN, "%s", r->ep > 1 ? "ep" : "");
    } else if (r->family == SS_FAM_CPU_OVERHEAD) {
        snprintf(tag, SS_CAL_TAG_LEN, "%s", op);
    } else if (ss_cal_kind_of(r->family) == SS_CAL_COLL) {
        /* implementations (vLLM custom vs NCCL) and testbeds (Vidur's DGX vs pairwise
         * NVLink A100s) differ at equal size: one model per operator and source folder */
        const char *path = t->sources[r->src].path, *end = strrchr(path, '/'), *beg = end;
        while (beg && beg > path && beg[-1] != '/') beg--;
        int n = end && beg ? (int)(end - beg) : 0;
        if (n > 0) snprintf(tag, SS_CAL_TAG_LEN, "%.40s@%.*s", op, n < 20 ? n : 20, beg);
        else snprintf(tag, SS_CAL_TAG_LEN, "%.60s", op);
    }
}

/* ================================================================== features */

int ss_cal_gemm_features(double m, double n, double k, double wbytes, double x[], double s[])
{
    x[0] = 1, s[0] = 1;                  /* fixed time per call */
    x[1] = 1, s[1] = n * k * wbytes;     /* weight bytes (read once) */
    x[2] = m, s[2] = (n + k) * 2.0;      /* activation bytes in and out (16-bit) */
    x[3] = m, s[3] = 2.0 * n * k;        /* FLOPs, ramped in m: efficiency per m regime */
    return 4;
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
    double kvw = q->kv_heads * q->head_dim * 2.0 * q->kv_bytes; /* K+V bytes per token */
    for (int j = 0; j < 9; j++) s[j] = 1;
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
    return 9;
}

static void row_attn_q(const ss_meas *r, ss_cal_attn_q *q)
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
    q->kv_bytes = dtype_bytes(r->kv_dtype);
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
                                    dtype_bytes(r->dtype), x, s);
    case SS_CAL_ATTN: {
        if (r->heads <= 0 || r->head_dim <= 0) return 0;
        ss_cal_attn_q q;
        row_attn_q(r, &q);
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
                                   (double)r->hidden, (double)r->inter, dtype_bytes(r->dtype),
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

/* Which terms are ramped (piecewise linear) rather than plain linear. */
static int term_ramped(ss_cal_kind kind, int j)
{
    switch (kind) {
    case SS_CAL_GEMM: return j == 3;
    case SS_CAL_ATTN: return j == 2 || j == 5 || j == 7 || j == 8;
    case SS_CAL_ELEM: return j == 1;
    case SS_CAL_COLL: return j == 2;
    case SS_CAL_MOE: return j >= 2;
    case SS_CAL_COUNT:
    default: return j == 1;
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

/* ================================================================== statistics */

void ss_cal_ape_stats(const double *ape, size_t n, double *median, double *p90, double *max,
                      size_t *worst)
{
    *median = *p90 = *max = 0;
    if (worst) *worst = 0;
    if (n == 0) return;
    double *v = malloc(n * sizeof *v);
    if (!v) return;
    memcpy(v, ape, n * sizeof *v);
    gsl_sort(v, 1, n);
    *median = gsl_stats_quantile_from_sorted_data(v, 1, n, 0.5);
    *p90 = gsl_stats_quantile_from_sorted_data(v, 1, n, 0.9);
    *max = v[n - 1];
    if (worst) *worst = gsl_stats_max_index(ape, 1, n);
    free(v);
}

/* ================================================================== fitting */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Knots of a ramped term: for GEMM m fixed token break points, otherwise the 20/40/60/80 %
 * quantiles of the distinct non-zero values. Only knots inside the data are kept and each
 * segment must hold at least a few distinct values, so every slope is determined. */
static int place_knots(ss_cal_kind kind, int j, double *vals, size_t n, double knots[])
{
    knots[0] = 0;
    if (!term_ramped(kind, j) || n == 0) return 1;
    qsort(vals, n, sizeof *vals, cmp_double);
    size_t nd = 0;
    for (size_t i = 0; i < n; i++)
        if (vals[i] > 0 && (nd == 0 || vals[i] != vals[nd - 1])) vals[nd++] = vals[i];
    if (nd < 4) return 1;
    double cand[SS_CAL_MAX_KNOTS];
    int nc = 0;
    if (kind == SS_CAL_GEMM) {
        static const double mk[] = {16, 64, 256, 1024, 4096};
        for (size_t i = 0; i < sizeof mk / sizeof *mk; i++) cand[nc++] = mk[i];
    } else {
        for (int q = 1; q <= 4; q++) cand[nc++] = vals[(size_t)((double)q / 5.0 * (double)(nd - 1))];
    }
    int nk = 1;
    for (int i = 0; i < nc && nk < SS_CAL_MAX_KNOTS; i++) {
        double lo = knots[nk - 1], hi = cand[i];
        size_t below = 0, above = 0;
        for (size_t v = 0; v < nd; v++) {
            if (vals[v] > lo && vals[v] <= hi) below++;
            if (vals[v] > hi) above++;
        }
        if (below >= 2 && above >= 2) knots[nk++] = hi;
    }
    return nk;
}

/* Segment value of term (knot i) at x, times s. */
static double seg(const double *knots, int nk, int i, double x, double s)
{
    double lo = knots[i];
    if (x <= lo) return 0;
    double hi = i + 1 < nk ? knots[i + 1] : INFINITY;
    return s * ((x < hi ? x : hi) - lo);
}

ss_rc ss_cal_fit_model(const ss_meas_table *t, const size_t *idx, size_t n, ss_cal_model *out,
                       ss_diag *d)
{
    if (n == 0) return ss_diag_fail(d, SS_ERR_INVALID, "calibrate: no rows to fit");
    const ss_meas *r0 = &t->rows[idx[0]];
    ss_cal_kind kind = ss_cal_kind_of(r0->family);
    double x0[SS_CAL_MAX_TERMS], s0[SS_CAL_MAX_TERMS];
    int nt = ss_cal_row_features(r0, x0, s0);
    if (nt <= 0) return ss_diag_fail(d, SS_ERR_INVALID, "calibrate: row without features");

    /* raw features of every row */
    double *X = malloc(n * (size_t)nt * 2 * sizeof *X);
    double *vals = malloc(n * sizeof *vals);
    if (!X || !vals) {
        free(X), free(vals);
        return ss_diag_fail(d, SS_ERR_NOMEM, "calibrate: out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        double x[SS_CAL_MAX_TERMS], s[SS_CAL_MAX_TERMS];
        ss_cal_row_features(&t->rows[idx[i]], x, s);
        for (int j = 0; j < nt; j++) X[(i * nt + j) * 2] = x[j], X[(i * nt + j) * 2 + 1] = s[j];
    }
    ss_cal_model m;
    memset(&m, 0, sizeof m);
    m.family = ss_cal_fit_family(r0->family);
    m.dtype = ss_cal_row_dtype(r0);
    m.nterms = nt;
    int ncol = 0;
    for (int j = 0; j < nt; j++) {
        size_t nv = 0;
        m.x_max[j] = 0;
        for (size_t i = 0; i < n; i++) {
            double x = X[(i * nt + j) * 2];
            if (X[(i * nt + j) * 2 + 1] != 0) vals[nv++] = x;
            if (x > m.x_max[j]) m.x_max[j] = x;
        }
        m.terms[j].nknots = place_knots(kind, j, vals, nv, m.terms[j].knots);
        ncol += m.terms[j].nknots;
    }
    free(vals);

    /* Design matrix in relative error: row i divided by t_i, target 1. Columns scaled to
     * unit maximum for conditioning. */
    gsl_matrix *A = gsl_matrix_alloc(n, (size_t)ncol);
    gsl_vector *y = gsl_vector_alloc(n);
    double *scale = calloc((size_t)ncol, sizeof *scale);
    int *colterm = calloc((size_t)ncol, sizeof *colterm), *colk = calloc((size_t)ncol, sizeof *colk);
    int *active = calloc((size_t)ncol, sizeof *active);
    double *coef = calloc((size_t)ncol, sizeof *coef);
    ss_rc rc = SS_OK;
    if (!A || !y || !scale || !colterm || !colk || !active || !coef) {
        rc = ss_diag_fail(d, SS_ERR_NOMEM, "calibrate: out of memory");
        goto done;
    }
    {
        int c = 0;
        for (int j = 0; j < nt; j++)
            for (int k = 0; k < m.terms[j].nknots; k++, c++) colterm[c] = j, colk[c] = k;
    }
    for (size_t i = 0; i < n; i++) {
        double ti = t->rows[idx[i]].time_s;
        gsl_vector_set(y, i, 1.0);
        for (int c = 0; c < ncol; c++) {
            int j = colterm[c];
            double v = seg(m.terms[j].knots, m.terms[j].nknots, colk[c], X[(i * nt + j) * 2],
                           X[(i * nt + j) * 2 + 1]) / ti;
            gsl_matrix_set(A, i, (size_t)c, v);
            if (fabs(v) > scale[c]) scale[c] = fabs(v);
        }
    }
    for (int c = 0; c < ncol; c++) {
        active[c] = scale[c] > 0;
        if (!active[c]) continue;
        for (size_t i = 0; i < n; i++)
            gsl_matrix_set(A, i, (size_t)c, gsl_matrix_get(A, i, (size_t)c) / scale[c]);
    }
    /* Non-negative least squares by active-set elimination: solve on the active columns
     * (GSL's truncated-SVD solver), drop the most negative coefficient, repeat. */
    for (;;) {
        int na = 0;
        for (int c = 0; c < ncol; c++) na += active[c];
        if (na == 0) break;
        gsl_matrix *As = gsl_matrix_alloc(n, (size_t)na);
        gsl_vector *cs = gsl_vector_alloc((size_t)na);
        gsl_matrix *cov = gsl_matrix_alloc((size_t)na, (size_t)na);
        gsl_multifit_linear_workspace *w = gsl_multifit_linear_alloc(n, (size_t)na);
        if (!As || !cs || !cov || !w) {
            gsl_matrix_free(As), gsl_vector_free(cs), gsl_matrix_free(cov);
            if (w) gsl_multifit_linear_free(w);
            rc = ss_diag_fail(d, SS_ERR_NOMEM, "calibrate: out of memory");
            goto done;
        }
        for (int c = 0, a = 0; c < ncol; c++) {
            if (!active[c]) continue;
            for (size_t i = 0; i < n; i++) gsl_matrix_set(As, i, (size_t)a, gsl_matrix_get(A, i, (size_t)c));
            a++;
        }
        double chisq;
        size_t rank;
        int st = gsl_multifit_linear_tsvd(As, y, 1e-10, cs, cov, &chisq, &rank, w);
        int worst = -1;
        double wv = 0;
        for (int c = 0, a = 0; c < ncol; c++) {
            if (!active[c]) {
                coef[c] = 0;
                continue;
            }
            coef[c] = st ? 0 : gsl_vector_get(cs, (size_t)a);
            if (coef[c] < wv) wv = coef[c], worst = c;
            a++;
        }
        gsl_matrix_free(As), gsl_vector_free(cs), gsl_matrix_free(cov);
        gsl_multifit_linear_free(w);
        if (st) {
            rc = ss_diag_fail(d, SS_ERR_INTERNAL, "calibrate: least squares failed: %s",
                              gsl_strerror(st));
            goto done;
        }
        if (worst < 0) break;
        active[worst] = 0;
    }
    for (int c = 0; c < ncol; c++)
        m.terms[colterm[c]].coef[colk[c]] = active[c] ? coef[c] / scale[c] : 0;

    /* fit quality on the training rows */
    {
        double *ape = malloc(n * sizeof *ape);
        if (!ape) {
            rc = ss_diag_fail(d, SS_ERR_NOMEM, "calibrate: out of memory");
            goto done;
        }
        for (size_t i = 0; i < n; i++) {
            const ss_meas *r = &t->rows[idx[i]];
            ape[i] = fabs(ss_cal_eval_row(&m, r) - r->time_s) / r->time_s;
        }
        ss_cal_ape_stats(ape, n, &m.median_ape, &m.p90_ape, &m.max_ape, NULL);
        free(ape);
    }
    m.rows = (long)n;
    snprintf(m.tag, sizeof m.tag, "%s", out->tag);
    *out = m;
done:
    gsl_matrix_free(A);
    gsl_vector_free(y);
    free(scale), free(colterm), free(colk), free(active), free(coef), free(X);
    return rc;
}

/* ================================================================== grouping */

typedef struct grp_ctx {
    const ss_meas_table *t;
} grp_ctx;

/* Sort key of a row for grouping: family, tag, dtype. qsort has no context argument, so the
 * key is precomputed. */
typedef struct rowkey {
    int family, dtype;
    char tag[SS_CAL_TAG_LEN];
    size_t idx;
} rowkey;

static int cmp_key(const void *a, const void *b)
{
    const rowkey *x = a, *y = b;
    if (x->family != y->family) return x->family - y->family;
    int c = strcmp(x->tag, y->tag);
    if (c) return c;
    if (x->dtype != y->dtype) return x->dtype - y->dtype;
    return (x->idx > y->idx) - (x->idx < y->idx);
}

static int is_comm(int family) { return ss_cal_kind_of(family) == SS_CAL_COLL; }

/* Is row r usable for the fit with the chosen stack? */
int ss_cal_row_usable(const ss_meas_table *t, const ss_meas *r, const char *stack)
{
    if (!(r->time_s > 0) || (r->flags & SS_MEAS_APPROX) || (r->flags & SS_MEAS_CROSS_NODE))
        return 0;
#ifdef SS_MEAS_VARIANT
    if (r->flags & SS_MEAS_VARIANT) return 0; /* skewed MoE routing, sliding window, ... */
#endif
    if (r->family == SS_FAM_CPU_OVERHEAD || is_comm(r->family)) return 1;
    return !stack || strcmp(t->sources[r->src].stack, stack) == 0;
}

static void make_monotone(double *t, int n);

int ss_cal_m_class(double m)
{
    return lround(m) % SS_CAL_M_ALIGN == 0 ? 1 : 2;
}

/* Appends the curve (mm, tt)[0..nm) of shape (dtype, n, k, m_class), made non-decreasing;
 * fewer than 6 points: nothing. */
static ss_rc add_shape(ss_calib *c, int dtype, long n, long k, int cls, const double *mm,
                       double *tt, int nm, ss_diag *d)
{
    if (nm < 6) return SS_OK;
    make_monotone(tt, nm);
    if (c->nshapes == c->cap_shapes) {
        int cap = c->cap_shapes ? 2 * c->cap_shapes : 64;
        ss_cal_shape *ns = realloc(c->shapes, (size_t)cap * sizeof *ns);
        if (!ns) return ss_diag_fail(d, SS_ERR_NOMEM, "calibrate: out of memory");
        c->shapes = ns, c->cap_shapes = cap;
    }
    ss_cal_shape *sh = &c->shapes[c->nshapes++];
    memset(sh, 0, sizeof *sh);
    sh->dtype = dtype, sh->n = n, sh->k = k, sh->m_class = cls;
    int keep = nm < SS_CAL_MAX_SHAPE_PTS ? nm : SS_CAL_MAX_SHAPE_PTS;
    for (int i = 0; i < keep; i++) {
        int src = keep == nm ? i : (int)lround((double)i * (nm - 1) / (keep - 1));
        sh->m[i] = mm[src], sh->t[i] = tt[src];
    }
    sh->npts = keep;
    return SS_OK;
}

static ss_rc fit_shapes(const ss_meas_table *t, const rowkey *keys, size_t n, ss_calib *c,
                        ss_diag *d);
static ss_rc fit_grids(const ss_meas_table *t, const rowkey *keys, size_t n, ss_calib *c,
                       ss_diag *d);

ss_rc ss_cal_fit_all(const ss_meas_table *t, const ss_fit_opts *o, ss_calib *c, ss_diag *d)
{
    /* the compute stack */
    const char *stack = o && o->stack && o->stack[0] ? o->stack : NULL;
    if (!stack) {
        for (size_t i = 0; i < t->n; i++) {
            const ss_meas *r = &t->rows[i];
            if (is_comm(r->family) || r->family == SS_FAM_CPU_OVERHEAD) continue;
            const char *s = t->sources[r->src].stack;
            if (!stack) stack = s;
            else if (strcmp(stack, s) != 0)
                return ss_diag_fail(d, SS_ERR_INVALID,
                                    "calibrate: the sources hold kernels of two software "
                                    "stacks ('%s' and '%s'); choose one with --stack",
                                    stack, s);
        }
    }
    if (stack) snprintf(c->stack, sizeof c->stack, "%s", stack);
    rowkey *keys = malloc((t->n ? t->n : 1) * sizeof *keys);
    size_t *idx = malloc((t->n ? t->n : 1) * sizeof *idx);
    if (!keys || !idx) {
        free(keys), free(idx);
        return ss_diag_fail(d, SS_ERR_NOMEM, "calibrate: out of memory");
    }
    size_t nk = 0;
    for (size_t i = 0; i < t->n; i++) {
        const ss_meas *r = &t->rows[i];
        if (!ss_cal_row_usable(t, r, stack)) continue;
        double x[SS_CAL_MAX_TERMS], s[SS_CAL_MAX_TERMS];
        if (ss_cal_row_features(r, x, s) <= 0) continue;
        keys[nk].family = ss_cal_fit_family(r->family);
        keys[nk].dtype = ss_cal_row_dtype(r);
        ss_cal_row_tag(t, r, keys[nk].tag);
        keys[nk].idx = i;
        nk++;
    }
    qsort(keys, nk, sizeof *keys, cmp_key);
    ss_rc rc = SS_OK;
    for (size_t a = 0; a < nk && rc == SS_OK;) {
        size_t b = a;
        while (b < nk && keys[b].family == keys[a].family && keys[b].dtype == keys[a].dtype &&
               !strcmp(keys[b].tag, keys[a].tag))
            b++;
        /* all-reduce and the like: the same NCCL op may come with several dtypes; the fit
         * is in bytes, so they are one group per op (dtype of the first). */
        for (size_t i = a; i < b; i++) idx[i - a] = keys[i].idx;
        if (b - a >= 4) {
            if (c->nmodels >= SS_CAL_MAX_MODELS) {
                rc = ss_diag_fail(d, SS_ERR_INVALID, "calibrate: more than %d operator models",
                                  SS_CAL_MAX_MODELS);
                break;
            }
            ss_cal_model *m = &c->models[c->nmodels];
            memset(m, 0, sizeof *m);
            snprintf(m->tag, sizeof m->tag, "%s", keys[a].tag);
            rc = ss_cal_fit_model(t, idx, b - a, m, d);
            if (rc == SS_OK) c->nmodels++;
        }
        a = b;
    }
    if (rc == SS_OK && (!o || o->with_shapes)) rc = fit_shapes(t, keys, nk, c, d);
    if (rc == SS_OK && (!o || o->with_shapes)) rc = fit_grids(t, keys, nk, c, d);
    free(keys), free(idx);
    return rc;
}

/* ================================================================== GEMM shapes */

typedef struct gpt {
    int dtype;
    long n, k, m;
    double t;
} gpt;

static int cmp_gpt(const void *a, const void *b)
{
    const gpt *x = a, *y = b;
    if (x->dtype != y->dtype) return x->dtype - y->dtype;
    if (x->n != y->n) return (x->n > y->n) - (x->n < y->n);
    if (x->k != y->k) return (x->k > y->k) - (x->k < y->k);
    if (x->m != y->m) return (x->m > y->m) - (x->m < y->m);
    return (x->t > y->t) - (x->t < y->t);
}

/* A measured curve t(m) made non-decreasing: an isolated spike (above 1.5x both
 * neighbours: a timing outlier, e.g. one slow launch) is cut to its larger neighbour, then
 * the pool-adjacent-violators algorithm gives the least-squares non-decreasing fit in
 * log t (a running maximum would carry one outlier over every larger m). */
static void make_monotone(double *t, int n)
{
    for (int i = 1; i + 1 < n; i++) {
        double nb = t[i - 1] > t[i + 1] ? t[i - 1] : t[i + 1];
        if (t[i] > 1.5 * nb) t[i] = nb;
    }
    if (n > 1 && t[0] > 1.5 * t[1]) t[0] = t[1];
    double val[4096], wt[4096];
    int len[4096], nb = 0;
    for (int i = 0; i < n; i++) {
        val[nb] = log(t[i]), wt[nb] = 1, len[nb] = 1;
        nb++;
        while (nb > 1 && val[nb - 2] > val[nb - 1]) {
            double w = wt[nb - 2] + wt[nb - 1];
            val[nb - 2] = (val[nb - 2] * wt[nb - 2] + val[nb - 1] * wt[nb - 1]) / w;
            wt[nb - 2] = w, len[nb - 2] += len[nb - 1];
            nb--;
        }
    }
    for (int b = 0, i = 0; b < nb; b++)
        for (int j = 0; j < len[b]; j++) t[i++] = exp(val[b]);
}

static ss_rc fit_shapes(const ss_meas_table *t, const rowkey *keys, size_t nk, ss_calib *c,
                        ss_diag *d)
{
    gpt *p = malloc((nk ? nk : 1) * sizeof *p);
    if (!p) return ss_diag_fail(d, SS_ERR_NOMEM, "calibrate: out of memory");
    size_t np = 0;
    for (size_t i = 0; i < nk; i++) {
        if (keys[i].family != SS_FAM_GEMM) continue;
        const ss_meas *r = &t->rows[keys[i].idx];
        p[np++] = (gpt){r->dtype, (long)r->n, (long)r->k, (long)r->m, r->time_s};
    }
    qsort(p, np, sizeof *p, cmp_gpt);
    ss_rc rc = SS_OK;
    double mm[4096], tt[4096];
    for (size_t a = 0; a < np && rc == SS_OK;) {
        size_t b = a;
        while (b < np && p[b].dtype == p[a].dtype && p[b].n == p[a].n && p[b].k == p[a].k) b++;
        /* median time per distinct m */
        int nm = 0;
        for (size_t i = a; i < b && nm < 4096;) {
            size_t j = i;
            while (j < b && p[j].m == p[i].m) j++;
            mm[nm] = (double)p[i].m;
            tt[nm] = p[i + (j - i) / 2].t; /* sorted by t within m */
            nm++;
            i = j;
        }
        /* One curve per m-alignment class where the measured kernels step at the alignment
         * (aiconfigurator's FP8 CUTLASS kernels on the H100/H200: m = 257 dearer than
         * m = 512): both classes have 6 points or more and the median of t(m + 1) / t(m)
         * over aligned m >= 32 with m + 1 measured is at least 1.05. */
        int na = 0, nr = 0;
        double ratio[4096];
        for (int i = 0; i < nm; i++) {
            na += ss_cal_m_class(mm[i]) == 1;
            if (ss_cal_m_class(mm[i]) == 1 && mm[i] >= 32 && i + 1 < nm && mm[i + 1] == mm[i] + 1)
                ratio[nr++] = tt[i + 1] / tt[i];
        }
        double med_ratio = 1;
        if (nr >= 3) {
            gsl_sort(ratio, 1, (size_t)nr);
            med_ratio = gsl_stats_median_from_sorted_data(ratio, 1, (size_t)nr);
        }
        int split = na >= 6 && nm - na >= 6 && med_ratio >= 1.05;
        for (int cls = split ? 1 : 0; cls <= (split ? 2 : 0) && rc == SS_OK; cls++) {
            double cm[4096], ct[4096];
            int nc = 0;
            for (int i = 0; i < nm; i++)
                if (!cls || ss_cal_m_class(mm[i]) == cls) cm[nc] = mm[i], ct[nc] = tt[i], nc++;
            rc = add_shape(c, p[a].dtype, p[a].n, p[a].k, cls, cm, ct, nc, d);
        }
        a = b;
    }
    free(p);
    return rc;
}

/* ================================================================== lookups */

const ss_cal_model *ss_calib_find(const ss_calib *c, int family, const char *tag, int dtype)
{
    family = ss_cal_fit_family(family);
    for (int i = 0; i < c->nmodels; i++) {
        const ss_cal_model *m = &c->models[i];
        if (m->family == family && m->dtype == dtype && !strcmp(m->tag, tag ? tag : ""))
            return m;
    }
    return NULL;
}

const ss_cal_shape *ss_calib_find_shape(const ss_calib *c, int dtype, long n, long k)
{
    for (int i = 0; i < c->nshapes; i++)
        if (c->shapes[i].dtype == dtype && c->shapes[i].n == n && c->shapes[i].k == k)
            return &c->shapes[i];
    return NULL;
}

const ss_cal_shape *ss_calib_find_shape_m(const ss_calib *c, int dtype, long n, long k, double m)
{
    int cls = ss_cal_m_class(m);
    for (int i = 0; i < c->nshapes; i++) {
        const ss_cal_shape *sh = &c->shapes[i];
        if (sh->dtype == dtype && sh->n == n && sh->k == k && (!sh->m_class || sh->m_class == cls))
            return sh;
    }
    return NULL;
}

static double gemm_basis(const ss_cal_model *gm, double m, double n, double k, double wb)
{
    double x[SS_CAL_MAX_TERMS], s[SS_CAL_MAX_TERMS];
    ss_cal_gemm_features(m, n, k, wb, x, s);
    return ss_cal_eval(gm, x, s);
}

double ss_cal_shape_eval(const ss_cal_shape *sh, const ss_cal_model *gm, double m, double wb)
{
    int np = sh->npts;
    double lo = sh->m[0], hi = sh->m[np - 1];
    if (m < lo || m > hi) {
        double edge = m < lo ? lo : hi, te = m < lo ? sh->t[0] : sh->t[np - 1];
        if (!gm) return te;
        double b0 = gemm_basis(gm, edge, (double)sh->n, (double)sh->k, wb);
        double b1 = gemm_basis(gm, m, (double)sh->n, (double)sh->k, wb);
        if (!(b0 > 0)) return te;
        double r = b1 / b0;
        if (m > hi && r < 1) r = 1;
        if (m < lo && r > 1) r = 1;
        return te * r;
    }
    double lx[SS_CAL_MAX_SHAPE_PTS], ly[SS_CAL_MAX_SHAPE_PTS];
    for (int i = 0; i < np; i++) lx[i] = log(sh->m[i]), ly[i] = log(sh->t[i]);
    /* A Steffen spline needs 3 points; interpolation objects are small and short-lived
     * (no cache: the cost model builds its own per model shape at create time). */
    gsl_interp *it = gsl_interp_alloc(gsl_interp_steffen, (size_t)np);
    if (!it || gsl_interp_init(it, lx, ly, (size_t)np)) {
        if (it) gsl_interp_free(it);
        return sh->t[0];
    }
    double v;
    if (gsl_interp_eval_e(it, lx, ly, log(m), NULL, &v)) v = ly[0];
    gsl_interp_free(it);
    return exp(v);
}

/* ---- GEMM shapes never measured: interpolation over the measured (n, k) lattice ----
 *
 * log t is interpolated linearly in (log n, log k) between measured shapes at the same m,
 * each shape's own curve evaluated at m (ss_cal_shape_eval: its measured points, the basis
 * ratio beyond them). Along one axis (n with k fixed, or k with n fixed) the nearest measured
 * shapes below and above the query are used; a query off the lattice in the fixed coordinate
 * too is interpolated between the two bracketing rows. The estimates along n and along k
 * (those that exist) are averaged in log t. Every weight is non-negative and independent of
 * m, and every shape curve is non-decreasing and positive, so the result is positive and
 * non-decreasing in m. Outside the lattice's hull there is no estimate (the caller uses the
 * fitted basis). */

/* One shape's log time at m; 0 when (n, k) is not measured. */
static int lat_point(const ss_calib *c, const ss_cal_model *gm, int dtype, long n, long k,
                     double m, double wb, double *lt)
{
    const ss_cal_shape *sh = ss_calib_find_shape_m(c, dtype, n, k, m);
    if (!sh || sh->npts < 1) return 0;
    double t = ss_cal_shape_eval(sh, gm, m, wb);
    if (!(t > 0) || !isfinite(t)) return 0;
    *lt = log(t);
    return 1;
}

/* The lattices over GEMM shapes and attention head configurations both bracket a value p
 * between the nearest measured coordinates (lo <= p <= hi; -1 while none) and blend the two
 * estimates linearly in log p. bracket_step() takes one measured coordinate v and returns
 * 1 when v equals p (lo = hi = v: no blend needed). */
static int bracket_step(long v, double p, long *lo, long *hi)
{
    if ((double)v == p) {
        *lo = *hi = v;
        return 1;
    }
    if ((double)v < p && v > *lo) *lo = v;
    if ((double)v > p && (*hi < 0 || v < *hi)) *hi = v;
    return 0;
}

static double log_blend(double p, long lo, long hi, double a, double b)
{
    double w = (log(p) - log((double)lo)) / (log((double)hi) - log((double)lo));
    return (1 - w) * a + w * b;
}

/* Along axis `ax` (0: n varies, k = fixed; 1: k varies, n = fixed) at coordinate q. */
static int lat_axis(const ss_calib *c, const ss_cal_model *gm, int dtype, int ax, double q,
                    long fixed, double m, double wb, double *lt)
{
    long lo = -1, hi = -1;
    for (int i = 0; i < c->nshapes; i++) {
        const ss_cal_shape *sh = &c->shapes[i];
        if (sh->dtype != dtype || (ax == 0 ? sh->k : sh->n) != fixed) continue;
        long v = ax == 0 ? sh->n : sh->k;
        if ((double)v == q) {
            lo = hi = v;
            break;
        }
        if ((double)v < q && v > lo) lo = v;
        if ((double)v > q && (hi < 0 || v < hi)) hi = v;
    }
    if (lo < 0 || hi < 0) return 0;
    double a, b;
    if (!lat_point(c, gm, dtype, ax == 0 ? lo : fixed, ax == 0 ? fixed : lo, m, wb, &a))
        return 0;
    if (lo == hi) {
        *lt = a;
        return 1;
    }
    if (!lat_point(c, gm, dtype, ax == 0 ? hi : fixed, ax == 0 ? fixed : hi, m, wb, &b))
        return 0;
    double w = (log(q) - log((double)lo)) / (log((double)hi) - log((double)lo));
    *lt = (1 - w) * a + w * b;
    return 1;
}

/* Estimate varying axis `ax` at q, the other coordinate p: on p's row if measured shapes
 * have it, else between the bracketing rows. */
static int lat_dir(const ss_calib *c, const ss_cal_model *gm, int dtype, int ax, double q,
                   double p, double m, double wb, double *lt)
{
    long lo = -1, hi = -1;
    for (int i = 0; i < c->nshapes; i++) {
        const ss_cal_shape *sh = &c->shapes[i];
        if (sh->dtype != dtype) continue;
        long v = ax == 0 ? sh->k : sh->n;
        if (bracket_step(v, p, &lo, &hi)) break;
    }
    if (lo < 0 || hi < 0) return 0;
    double a, b;
    if (!lat_axis(c, gm, dtype, ax, q, lo, m, wb, &a)) return 0;
    if (lo == hi) {
        *lt = a;
        return 1;
    }
    if (!lat_axis(c, gm, dtype, ax, q, hi, m, wb, &b)) return 0;
    *lt = log_blend(p, lo, hi, a, b);
    return 1;
}

int ss_cal_gemm_lattice(const ss_calib *c, const ss_cal_model *gm, int dtype, double m, double n,
                        double k, double wbytes, double *t)
{
    if (!(m > 0) || !(n > 0) || !(k > 0)) return 0;
    double e[2];
    int ne = 0;
    if (lat_dir(c, gm, dtype, 0, n, k, m, wbytes, &e[ne])) ne++;
    if (lat_dir(c, gm, dtype, 1, k, n, m, wbytes, &e[ne])) ne++;
    if (ne == 0) return 0;
    *t = exp(ne == 2 ? 0.5 * (e[0] + e[1]) : e[0]);
    return 1;
}

int ss_calib_lattice_shape(const ss_calib *c, const ss_cal_model *gm, int dtype, int m_class,
                           double n, double k, double wbytes, ss_cal_shape *out)
{
    /* the m points of the most densely measured shape of this dtype and m class */
    const ss_cal_shape *ref = NULL;
    for (int i = 0; i < c->nshapes; i++)
        if (c->shapes[i].dtype == dtype && (!m_class || c->shapes[i].m_class == m_class) &&
            (!ref || c->shapes[i].npts > ref->npts))
            ref = &c->shapes[i];
    if (!ref || ref->npts < 3) return 0;
    memset(out, 0, sizeof *out);
    out->dtype = dtype, out->n = lround(n), out->k = lround(k), out->m_class = ref->m_class;
    for (int i = 0; i < ref->npts; i++) {
        double t;
        if (!ss_cal_gemm_lattice(c, gm, dtype, ref->m[i], n, k, wbytes, &t)) return 0;
        out->m[i] = ref->m[i];
        /* non-decreasing by construction; guard rounding */
        out->t[i] = i > 0 && t < out->t[i - 1] ? out->t[i - 1] : t;
    }
    out->npts = ref->npts;
    return 1;
}

double ss_cal_gemm(const ss_calib *c, const ss_cal_model *gm, int dtype, double m, double n,
                   double k, double wbytes)
{
    const ss_cal_shape *sh = ss_calib_find_shape_m(c, dtype, lround(n), lround(k), m);
    if (sh) return ss_cal_shape_eval(sh, gm, m, wbytes);
    double t;
    if (ss_cal_gemm_lattice(c, gm, dtype, m, n, k, wbytes, &t)) return t;
    return gm ? gemm_basis(gm, m, n, k, wbytes) : NAN;
}

double ss_cal_predict_row(const ss_calib *c, const ss_meas_table *t, const ss_meas *r)
{
    char tag[SS_CAL_TAG_LEN];
    ss_cal_row_tag(t, r, tag);
    const ss_cal_model *m = r->family == SS_FAM_GEMM
                                ? ss_calib_find_gemm(c, r->dtype, (double)r->n, (double)r->k)
                                : ss_calib_find(c, r->family, tag, ss_cal_row_dtype(r));
    if (!m) return NAN;
    if (r->family == SS_FAM_GEMM)
        return ss_cal_gemm(c, m, r->dtype, (double)r->m, (double)r->n, (double)r->k,
                           dtype_bytes(r->dtype));
    if (ss_cal_kind_of(r->family) == SS_CAL_ATTN) {
        ss_cal_attn_q q;
        row_attn_q(r, &q);
        return ss_cal_attn(c, m, r->family, r->kv_dtype, &q);
    }
    return ss_cal_eval_row(m, r);
}

/* ================================================================== attention grids */

static int grid_ndim(int family)
{
    return family == SS_FAM_ATTN_DECODE ? 2 : family == SS_FAM_ATTN_MIXED ? 4 : 3;
}

static void grid_coords(int family, const ss_cal_attn_q *q, double x[SS_CAL_GRID_MAXDIM])
{
    if (family == SS_FAM_ATTN_PREFILL) {
        double b = q->pf_seqs > 0 ? q->pf_seqs : 1;
        x[0] = q->pf_seqs, x[1] = q->pf_tokens / b, x[2] = q->pf_ctx / b;
    } else if (family == SS_FAM_ATTN_DECODE) {
        double b = q->dc_seqs > 0 ? q->dc_seqs : 1;
        x[0] = q->dc_seqs, x[1] = q->dc_seqs > 0 ? q->dc_ctx / b - 1 : 0;
    } else {
        x[0] = q->pf_tokens;
        x[1] = q->pf_seqs > 0 ? q->pf_ctx / q->pf_seqs : 0;
        x[2] = q->dc_seqs;
        x[3] = q->dc_seqs > 0 ? q->dc_ctx / q->dc_seqs - 1 : 0;
    }
}

static void grid_query(int family, const double x[], const ss_cal_attn_q *like, ss_cal_attn_q *q)
{
    memset(q, 0, sizeof *q);
    q->heads = like->heads, q->kv_heads = like->kv_heads, q->head_dim = like->head_dim;
    q->kv_bytes = like->kv_bytes;
    if (family == SS_FAM_ATTN_PREFILL) {
        q->pf_seqs = x[0], q->pf_tokens = x[0] * x[1], q->pf_ctx = x[0] * x[2];
        q->pf_pairs = x[0] * (x[1] * x[2] + x[1] * (x[1] + 1) / 2);
    } else if (family == SS_FAM_ATTN_DECODE) {
        q->dc_seqs = x[0], q->dc_ctx = x[0] * (x[1] + 1);
    } else {
        if (x[0] > 0) {
            q->pf_seqs = 1, q->pf_tokens = x[0], q->pf_ctx = x[1];
            q->pf_pairs = x[0] * x[1] + x[0] * (x[0] + 1) / 2;
        }
        q->dc_seqs = x[2], q->dc_ctx = x[2] * (x[3] + 1);
    }
}

static double attn_basis(const ss_cal_model *m, const ss_cal_attn_q *q)
{
    double x[SS_CAL_MAX_TERMS], s[SS_CAL_MAX_TERMS];
    ss_cal_attn_features(q, x, s);
    return ss_cal_eval(m, x, s);
}

const ss_cal_grid *ss_calib_find_grid(const ss_calib *c, int family, int dtype, int heads,
                                      int kv_heads, int head_dim)
{
    for (int i = 0; i < c->ngrids; i++) {
        const ss_cal_grid *g = &c->grids[i];
        if (g->family == family && g->dtype == dtype && g->heads == heads &&
            g->kv_heads == kv_heads && g->head_dim == head_dim)
            return g;
    }
    return NULL;
}

/* Added (calib-acc2): a decode call at grid coordinates x (batch, context) continued from
 * the measured cell xm by the basis ratio r: the ratio is capped by the ratio of the work
 * (batch x (context + 1) KV reads), which bounds the time ratio of a fixed cost plus work
 * terms. The fitted basis, shared by every head configuration, can overshoot it (InferSim
 * H20 decode held out above the 80th size percentile: 9.0 / 20.5 % -> 1.9 / 13.6 % median /
 * P90 with the cap). Other families: r. */
static double decode_ratio_cap(int family, const double *x, const double *xm, double r)
{
    if (family != SS_FAM_ATTN_DECODE) return r;
    double w1 = x[0] * (x[1] + 1), w0 = xm[0] * (xm[1] + 1);
    if (!(w0 > 0) || w1 < w0 || r <= w1 / w0) return r;
    return w1 / w0;
}

double ss_cal_grid_eval(const ss_cal_grid *g, const ss_cal_model *m, const ss_cal_attn_q *q)
{
    double x[SS_CAL_GRID_MAXDIM], xc[SS_CAL_GRID_MAXDIM], w[SS_CAL_GRID_MAXDIM];
    int lo[SS_CAL_GRID_MAXDIM];
    grid_coords(g->family, q, x);
    int clamped = 0;
    for (int d = 0; d < g->ndim; d++) {
        const double *a = g->axis[d];
        int n = g->len[d];
        xc[d] = x[d] < a[0] ? a[0] : x[d] > a[n - 1] ? a[n - 1] : x[d];
        if (xc[d] != x[d]) clamped = 1;
        if (n == 1) {
            lo[d] = 0, w[d] = 0;
            continue;
        }
        int i = 0;
        while (i + 2 < n && a[i + 1] <= xc[d]) i++;
        lo[d] = i;
        double l0 = log1p(a[i]), l1 = log1p(a[i + 1]);
        w[d] = (log1p(xc[d]) - l0) / (l1 - l0);
    }
    double v = 0;
    for (int corner = 0; corner < (1 << g->ndim); corner++) {
        double wt = 1;
        size_t idx = 0;
        for (int d = 0; d < g->ndim; d++) {
            int up = (corner >> d) & 1;
            if (g->len[d] == 1 && up) {
                wt = 0;
                break;
            }
            wt *= up ? w[d] : 1 - w[d];
            idx = idx * (size_t)g->len[d] + (size_t)(lo[d] + up);
        }
        if (wt != 0) v += wt * log(g->t[idx]);
    }
    double t = exp(v);
    if (clamped && m) {
        ss_cal_attn_q qc;
        grid_query(g->family, xc, q, &qc);
        double b0 = attn_basis(m, &qc), b1 = attn_basis(m, q);
        if (b0 > 0 && b1 > 0) t *= decode_ratio_cap(g->family, x, xc, b1 / b0);
    }
    return t;
}

/* ---- head configurations never measured: interpolation over the measured (heads,
 * kv_heads) lattice of grids of the same family, KV dtype and head dimension ----
 *
 * The same scheme as the GEMM lattice: log t linear in log heads (kv_heads fixed) and in
 * log kv_heads (heads fixed) between the nearest measured grids, each evaluated at the
 * query's coordinates with its own head configuration; the two directions averaged in log t.
 * Non-negative weights independent of the query's sizes keep the result positive and
 * non-decreasing along every grid axis. On a line with measured grids on one side only
 * (e.g. more heads than any measured configuration with that kv_heads), the nearest grid is
 * continued by the basis ratio between the two head configurations. */
static int hl_point(const ss_calib *c, const ss_cal_model *m, int family, int dtype, long h,
                    long kvh, const ss_cal_attn_q *q, double *lt)
{
    const ss_cal_grid *g = ss_calib_find_grid(c, family, dtype, (int)h, (int)kvh, (int)q->head_dim);
    if (!g) return 0;
    ss_cal_attn_q qq = *q;
    qq.heads = (double)h, qq.kv_heads = (double)kvh;
    double t = ss_cal_grid_eval(g, m, &qq);
    if (!(t > 0) || !isfinite(t)) return 0;
    *lt = log(t);
    return 1;
}

/* Along axis ax (0: heads vary, kv_heads = fixed; 1: kv_heads vary, heads = fixed). */
static int hl_axis(const ss_calib *c, const ss_cal_model *m, int family, int dtype, int ax,
                   double qv, long fixed, const ss_cal_attn_q *q, double *lt)
{
    long lo = -1, hi = -1;
    for (int i = 0; i < c->ngrids; i++) {
        const ss_cal_grid *g = &c->grids[i];
        if (g->family != family || g->dtype != dtype || g->head_dim != (int)q->head_dim ||
            (ax == 0 ? g->kv_heads : g->heads) != fixed)
            continue;
        long v = ax == 0 ? g->heads : g->kv_heads;
        if ((double)v == qv) {
            lo = hi = v;
            break;
        }
        if ((double)v < qv && v > lo) lo = v;
        if ((double)v > qv && (hi < 0 || v < hi)) hi = v;
    }
    if (lo < 0 && hi < 0) return 0;
    double a, b;
    if (lo < 0 || hi < 0) {
        /* beyond the measured head counts on this line: the nearest grid, continued by the
         * basis ratio between the two head configurations (ratio continuation) */
        long v = lo < 0 ? hi : lo;
        if (!m || !hl_point(c, m, family, dtype, ax == 0 ? v : fixed, ax == 0 ? fixed : v, q, &a))
            return 0;
        ss_cal_attn_q qn = *q;
        if (ax == 0) qn.heads = (double)v, qn.kv_heads = (double)fixed;
        else qn.heads = (double)fixed, qn.kv_heads = (double)v;
        double b0 = attn_basis(m, &qn), b1 = attn_basis(m, q);
        if (!(b0 > 0) || !(b1 > 0)) return 0;
        *lt = a + log(b1 / b0);
        return 1;
    }
    if (!hl_point(c, m, family, dtype, ax == 0 ? lo : fixed, ax == 0 ? fixed : lo, q, &a)) return 0;
    if (lo == hi) {
        *lt = a;
        return 1;
    }
    if (!hl_point(c, m, family, dtype, ax == 0 ? hi : fixed, ax == 0 ? fixed : hi, q, &b)) return 0;
    double w = (log(qv) - log((double)lo)) / (log((double)hi) - log((double)lo));
    *lt = (1 - w) * a + w * b;
    return 1;
}

static int hl_dir(const ss_calib *c, const ss_cal_model *m, int family, int dtype, int ax,
                  double qv, double p, const ss_cal_attn_q *q, double *lt)
{
    long lo = -1, hi = -1;
    for (int i = 0; i < c->ngrids; i++) {
        const ss_cal_grid *g = &c->grids[i];
        if (g->family != family || g->dtype != dtype || g->head_dim != (int)q->head_dim) continue;
        long v = ax == 0 ? g->kv_heads : g->heads;
        if (bracket_step(v, p, &lo, &hi)) break;
    }
    if (lo < 0 || hi < 0) return 0;
    double a, b;
    if (!hl_axis(c, m, family, dtype, ax, qv, lo, q, &a)) return 0;
    if (lo == hi) {
        *lt = a;
        return 1;
    }
    if (!hl_axis(c, m, family, dtype, ax, qv, hi, q, &b)) return 0;
    *lt = log_blend(p, lo, hi, a, b);
    return 1;
}

int ss_cal_attn_lattice(const ss_calib *c, const ss_cal_model *m, int family, int dtype,
                        const ss_cal_attn_q *q, double *t)
{
    double kvh = q->kv_heads > 0 ? q->kv_heads : q->heads;
    if (!(q->heads > 0) || !(kvh > 0)) return 0;
    ss_cal_attn_q qq = *q;
    qq.kv_heads = kvh;
    double e[2];
    int ne = 0;
    if (hl_dir(c, m, family, dtype, 0, q->heads, kvh, &qq, &e[ne])) ne++;
    if (hl_dir(c, m, family, dtype, 1, kvh, q->heads, &qq, &e[ne])) ne++;
    if (ne == 0) return 0;
    *t = exp(ne == 2 ? 0.5 * (e[0] + e[1]) : e[0]);
    return 1;
}

double ss_cal_attn(const ss_calib *c, const ss_cal_model *m, int family, int dtype,
                   const ss_cal_attn_q *q)
{
    const ss_cal_grid *g = ss_calib_find_grid(c, family, dtype, (int)q->heads, (int)q->kv_heads,
                                              (int)q->head_dim);
    if (g) return ss_cal_grid_eval(g, m, q);
    double t;
    if (ss_cal_attn_lattice(c, m, family, dtype, q, &t)) return t;
    return m ? attn_basis(m, q) : NAN;
}

typedef struct akey {
    int family, dtype, heads, kv_heads, head_dim;
    size_t row;
} akey;

static int cmp_akey(const void *a, const void *b)
{
    const akey *x = a, *y = b;
    if (x->family != y->family) return x->family - y->family;
    if (x->dtype != y->dtype) return x->dtype - y->dtype;
    if (x->heads != y->heads) return x->heads - y->heads;
    if (x->kv_heads != y->kv_heads) return x->kv_heads - y->kv_heads;
    if (x->head_dim != y->head_dim) return x->head_dim - y->head_dim;
    return (x->row > y->row) - (x->row < y->row);
}

static int axis_index(const double *a, int n, double v)
{
    for (int i = 0; i < n; i++)
        if (a[i] == v) return i;
    return -1;
}

/* Build one grid from rows k[a..b) (one family/dtype/head configuration); 0 = skipped. */
static ss_rc build_grid(const ss_meas_table *t, const akey *k, size_t a, size_t b, ss_calib *c,
                        ss_diag *d)
{
    const ss_meas *r0 = &t->rows[k[a].row];
    int fam = r0->family, nd = grid_ndim(fam);
    const ss_cal_model *m = ss_calib_find(c, fam, "", r0->kv_dtype);
    if (!m) return SS_OK;
    ss_cal_grid g;
    memset(&g, 0, sizeof g);
    g.family = fam, g.dtype = r0->kv_dtype;
    g.heads = r0->heads, g.kv_heads = r0->kv_heads > 0 ? r0->kv_heads : r0->heads;
    g.head_dim = r0->head_dim, g.ndim = nd;
    /* axes: distinct coordinates */
    ss_cal_attn_q like;
    row_attn_q(r0, &like);
    for (size_t i = a; i < b; i++) {
        ss_cal_attn_q q;
        double x[SS_CAL_GRID_MAXDIM];
        row_attn_q(&t->rows[k[i].row], &q);
        grid_coords(fam, &q, x);
        for (int dd = 0; dd < nd; dd++) {
            if (axis_index(g.axis[dd], g.len[dd], x[dd]) >= 0) continue;
            if (g.len[dd] == SS_CAL_GRID_MAXAXIS) return SS_OK; /* not a grid */
            g.axis[dd][g.len[dd]++] = x[dd];
        }
    }
    size_t cells = 1;
    for (int dd = 0; dd < nd; dd++) {
        qsort(g.axis[dd], (size_t)g.len[dd], sizeof(double), cmp_double);
        cells *= (size_t)g.len[dd];
    }
    if (cells < 4 || cells > 100000) return SS_OK;
    double *sum = calloc(cells, sizeof *sum);
    int *cnt = calloc(cells, sizeof *cnt);
    g.t = calloc(cells, sizeof *g.t);
    if (!sum || !cnt || !g.t) {
        free(sum), free(cnt), free(g.t);
        return ss_diag_fail(d, SS_ERR_NOMEM, "calibrate: out of memory");
    }
    for (size_t i = a; i < b; i++) {
        ss_cal_attn_q q;
        double x[SS_CAL_GRID_MAXDIM];
        row_attn_q(&t->rows[k[i].row], &q);
        grid_coords(fam, &q, x);
        size_t idx = 0;
        for (int dd = 0; dd < nd; dd++)
            idx = idx * (size_t)g.len[dd] + (size_t)axis_index(g.axis[dd], g.len[dd], x[dd]);
        sum[idx] += log(t->rows[k[i].row].time_s);
        cnt[idx]++;
    }
    size_t present = 0;
    for (size_t i = 0; i < cells; i++) present += cnt[i] > 0;
    if (present * 2 < cells) {
        free(sum), free(cnt), free(g.t);
        return SS_OK;
    }
    /* Measured cells; a missing cell gets the basis at the cell times the measured/basis
     * ratio interpolated (log over log(1 + x)) between the nearest measured cells on both
     * sides along the axis where they are closest, or, with
     * no bracket on any axis (beyond the measured corner), taken from the nearest measured
     * cell times the basis ratio. */
    int idx_of[SS_CAL_GRID_MAXDIM], jdx[SS_CAL_GRID_MAXDIM];
    size_t stride[SS_CAL_GRID_MAXDIM];
    for (int dd = nd - 1; dd >= 0; dd--)
        stride[dd] = dd == nd - 1 ? 1 : stride[dd + 1] * (size_t)g.len[dd + 1];
    for (size_t i = 0; i < cells; i++)
        if (cnt[i]) g.t[i] = exp(sum[i] / cnt[i]);
    for (size_t i = 0; i < cells; i++) {
        if (cnt[i]) continue;
        size_t r = i;
        for (int dd = nd - 1; dd >= 0; dd--) idx_of[dd] = (int)(r % (size_t)g.len[dd]), r /= (size_t)g.len[dd];
        int best_span = -1;
        double best_v = 0;
        for (int dd = 0; dd < nd; dd++) {
            int lo = idx_of[dd] - 1, hi = idx_of[dd] + 1;
            while (lo >= 0 && !cnt[i - (size_t)(idx_of[dd] - lo) * stride[dd]]) lo--;
            while (hi < g.len[dd] && !cnt[i + (size_t)(hi - idx_of[dd]) * stride[dd]]) hi++;
            if (lo < 0 || hi >= g.len[dd]) continue;
            if (best_span >= 0 && hi - lo >= best_span) continue;
            /* interpolate the measured/basis ratio, then apply the basis at the cell: exact
             * where the basis is, and a smooth correction where it is not */
            double tl = g.t[i - (size_t)(idx_of[dd] - lo) * stride[dd]];
            double th = g.t[i + (size_t)(hi - idx_of[dd]) * stride[dd]];
            double xc[SS_CAL_GRID_MAXDIM];
            for (int e = 0; e < nd; e++) xc[e] = g.axis[e][idx_of[e]];
            ss_cal_attn_q qc;
            grid_query(fam, xc, &like, &qc);
            double bc = attn_basis(m, &qc);
            xc[dd] = g.axis[dd][lo];
            grid_query(fam, xc, &like, &qc);
            double bl = attn_basis(m, &qc);
            xc[dd] = g.axis[dd][hi];
            grid_query(fam, xc, &like, &qc);
            double bh = attn_basis(m, &qc);
            double xl = log1p(g.axis[dd][lo]), xh = log1p(g.axis[dd][hi]);
            double w = (log1p(g.axis[dd][idx_of[dd]]) - xl) / (xh - xl);
            if (bc > 0 && bl > 0 && bh > 0)
                best_v = bc * exp((1 - w) * log(tl / bl) + w * log(th / bh));
            else
                best_v = exp((1 - w) * log(tl) + w * log(th));
            best_span = hi - lo;
        }
        if (best_span >= 0) {
            g.t[i] = best_v;
            continue;
        }
        /* Beyond the measured corner of a mixed grid: along every axis line with a measured
         * cell below this one, that cell continued by the basis ratio (ratio continuation
         * from the grid's edge on the same line, not from a diagonal neighbour), and the
         * largest of the lines: a mixed call costs about the larger of its prefill and
         * decode parts (one kernel), and each line continues one part. RTX 4090 mixed,
         * held out above the 80th size percentile: 15.1 / 57.0 % -> 6.4 / 48.1 % (median /
         * P90). Prefill and decode grids keep the nearest cell: the mean of the lines was
         * better for prefill on the H100, H200, A100 and RTX 4090 (by 1-2 points of median)
         * but worse on both RTX PRO 6000 stacks (2.5 / 7.8 % -> 11.2 / 26.2 %), and worse
         * for decode on the H100 (9.3 / 28.3 % -> 11.7 / 36.2 %). */
        if (fam == SS_FAM_ATTN_MIXED) {
            double acc = 0;
            int nacc = 0;
            for (int dd = 0; dd < nd; dd++) {
                int l2 = idx_of[dd] - 1;
                while (l2 >= 0 && !cnt[i - (size_t)(idx_of[dd] - l2) * stride[dd]]) l2--;
                if (l2 < 0) continue;
                double t2 = g.t[i - (size_t)(idx_of[dd] - l2) * stride[dd]];
                double xc[SS_CAL_GRID_MAXDIM];
                for (int e = 0; e < nd; e++) xc[e] = g.axis[e][idx_of[e]];
                ss_cal_attn_q qc;
                grid_query(fam, xc, &like, &qc);
                double bc = attn_basis(m, &qc);
                xc[dd] = g.axis[dd][l2];
                grid_query(fam, xc, &like, &qc);
                double bl = attn_basis(m, &qc);
                if (!(bc > 0) || !(bl > 0)) continue;
                double lv = log(t2 * bc / bl);
                acc = nacc && acc > lv ? acc : lv;
                nacc++;
            }
            if (nacc) {
                g.t[i] = exp(acc);
                continue;
            }
        }
        size_t best = 0;
        long bestd = -1;
        for (size_t j = 0; j < cells; j++) {
            if (!cnt[j]) continue;
            size_t rr = j;
            long dist = 0;
            for (int dd = nd - 1; dd >= 0; dd--) {
                jdx[dd] = (int)(rr % (size_t)g.len[dd]), rr /= (size_t)g.len[dd];
                dist += labs((long)jdx[dd] - idx_of[dd]);
            }
            if (bestd < 0 || dist < bestd) bestd = dist, best = j;
        }
        double xi[SS_CAL_GRID_MAXDIM], xj[SS_CAL_GRID_MAXDIM];
        size_t rr = best;
        for (int dd = nd - 1; dd >= 0; dd--) {
            xi[dd] = g.axis[dd][idx_of[dd]];
            xj[dd] = g.axis[dd][rr % (size_t)g.len[dd]], rr /= (size_t)g.len[dd];
        }
        ss_cal_attn_q qi, qj;
        grid_query(fam, xi, &like, &qi);
        grid_query(fam, xj, &like, &qj);
        double bi = attn_basis(m, &qi), bj = attn_basis(m, &qj);
        g.t[i] = g.t[best] * (bi > 0 && bj > 0 ? decode_ratio_cap(fam, xi, xj, bi / bj) : 1);
    }
    /* Non-decreasing along every axis: two rounds of isotonic regression along every axis
     * line (spikes cut, pool-adjacent-violators in log t), which averages a violation away
     * instead of carrying one high value along its line, then a running maximum along each
     * axis in turn, which guarantees the property (and keeps earlier axes monotone). */
    for (int round = 0; round < 2; round++)
        for (int dd = 0; dd < nd; dd++) {
            double line[SS_CAL_GRID_MAXAXIS];
            for (size_t i = 0; i < cells; i++) {
                if ((i / stride[dd]) % (size_t)g.len[dd] != 0) continue; /* line starts */
                for (int k2 = 0; k2 < g.len[dd]; k2++) line[k2] = g.t[i + (size_t)k2 * stride[dd]];
                make_monotone(line, g.len[dd]);
                for (int k2 = 0; k2 < g.len[dd]; k2++) g.t[i + (size_t)k2 * stride[dd]] = line[k2];
            }
        }
    for (int dd = 0; dd < nd; dd++) {
        for (size_t i = 0; i < cells; i++) {
            size_t pos = (i / stride[dd]) % (size_t)g.len[dd];
            if (pos > 0 && g.t[i] < g.t[i - stride[dd]]) g.t[i] = g.t[i - stride[dd]];
        }
    }
    g.measured = (long)present;
    free(sum), free(cnt);
    if (c->ngrids == c->cap_grids) {
        int cap = c->cap_grids ? 2 * c->cap_grids : 16;
        ss_cal_grid *ng = realloc(c->grids, (size_t)cap * sizeof *ng);
        if (!ng) {
            free(g.t);
            return ss_diag_fail(d, SS_ERR_NOMEM, "calibrate: out of memory");
        }
        c->grids = ng, c->cap_grids = cap;
    }
    c->grids[c->ngrids++] = g;
    return SS_OK;
}

static ss_rc fit_grids(const ss_meas_table *t, const rowkey *keys, size_t nk, ss_calib *c,
                       ss_diag *d)
{
    akey *k = malloc((nk ? nk : 1) * sizeof *k);
    if (!k) return ss_diag_fail(d, SS_ERR_NOMEM, "calibrate: out of memory");
    size_t n = 0;
    for (size_t i = 0; i < nk; i++) {
        if (ss_cal_kind_of(keys[i].family) != SS_CAL_ATTN) continue;
        const ss_meas *r = &t->rows[keys[i].idx];
        k[n++] = (akey){r->family, r->kv_dtype, r->heads, r->kv_heads > 0 ? r->kv_heads : r->heads,
                        r->head_dim, keys[i].idx};
    }
    qsort(k, n, sizeof *k, cmp_akey);
    ss_rc rc = SS_OK;
    for (size_t a = 0; a < n && rc == SS_OK;) {
        size_t b = a;
        while (b < n && !cmp_akey(&(akey){k[a].family, k[a].dtype, k[a].heads, k[a].kv_heads,
                                          k[a].head_dim, k[b].row}, &k[b]))
            b++;
        rc = build_grid(t, k, a, b, c, d);
        a = b;
    }
    free(k);
    return rc;
}

void ss_cal_fit_skew(const ss_meas_skew_table *st, size_t nst, ss_calib *c)
{
    size_t n = 0;
    for (size_t i = 0; i < nst; i++) n += st[i].n;
    double *a = malloc((n ? n : 1) * sizeof *a);
    if (!a) return;
    c->skew_shots = 0;
    for (int mixed = 0; mixed <= 1; mixed++) {
        size_t k = 0;
        for (size_t i = 0; i < nst; i++)
            for (size_t j = 0; j < st[i].n; j++) {
                const ss_meas_skew *r = &st[i].rows[j];
                if (r->mixed != mixed || !(r->t_max_s > r->t_mean_s) || !isfinite(r->alpha))
                    continue;
                a[k++] = r->alpha;
            }
        double med = 0;
        if (k) {
            gsl_sort(a, 1, k);
            med = gsl_stats_median_from_sorted_data(a, 1, k);
        }
        /* clamp: a skewed batch is never cheaper than its mean, nor dearer than its max */
        med = med < 0 ? 0 : med > 1 ? 1 : med;
        if (mixed) c->skew_alpha_mixed = med;
        else c->skew_alpha_pure = med;
        c->skew_shots += (long)k;
    }
    free(a);
}

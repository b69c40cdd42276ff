/* The calibration fitter: ramp bases, non-negative least squares in relative error (GSL),
 * grouping of rows into operator models by stack, and the skew fit. The raw features per
 * operator family and the evaluation of a fitted model (what the cost model runs) are in
 * basis.c.
 * GEMM size classes are in gemm_class.c, the measured GEMM curves and their (n, k) lattice
 * in fit_gemm.c, the attention grids
 * in fit_attn.c and their head-configuration lattice in attn_lattice.c, the decode grids'
 * continuation beyond their measured corner in fit_decode.c; fit_int.h is what they share.
 * fit.h describes the model; docs/cost-model.md derives it. */
#include "hwprofiles/calib/fit.h"
#include "hwprofiles/calib/fit_int.h"

#include <gsl/gsl_blas.h>
#include <gsl/gsl_linalg.h>
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
    free(c->moe);
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

void ss_cal_row_tag(const ss_meas_table *t, const ss_meas *r, char tag[SS_CAL_TAG_LEN])
{
    tag[0] = '\0';
    const char *op = ss_meas_str(t, r->op);
    if (r->family == SS_FAM_GEMM) {
        snprintf(tag, SS_CAL_TAG_LEN, "%s", ss_calf_gemm_class_tag((double)r->n, (double)r->k));
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

/* Least squares min |B x - y| by truncated SVD, B (m x n, m >= n) overwritten: columns
 * scaled to unit 2-norm, singular values under 1e-10 of the largest dropped, x the
 * least-norm solution in those scaled columns. Unit 2-norms, not GSL's own column
 * balancing (gsl_multifit_linear_tsvd scales by powers of two of the 1-norms): 2-norms
 * are the same for A's columns and R's (A = Q R), so where a basis has collinear columns
 * (one head configuration: a feature proportional to another) the solution picked among
 * equally good ones is the same on either, a property of the data rather than of the
 * rotation. A zero column gets 0. */
static int tsvd_solve(gsl_matrix *B, const gsl_vector *y, gsl_vector *x)
{
    size_t n = B->size2;
    gsl_matrix *V = gsl_matrix_alloc(n, n);
    gsl_vector *S = gsl_vector_alloc(n), *work = gsl_vector_alloc(n);
    double *norm = malloc(n * sizeof *norm);
    int st = GSL_ENOMEM;
    if (!V || !S || !work || !norm) goto out;
    for (size_t j = 0; j < n; j++) {
        gsl_vector_view col = gsl_matrix_column(B, j);
        norm[j] = gsl_blas_dnrm2(&col.vector);
        if (norm[j] > 0) gsl_vector_scale(&col.vector, 1 / norm[j]);
    }
    st = gsl_linalg_SV_decomp(B, V, S, work);
    if (st) goto out;
    gsl_vector_set_zero(x);
    double s0 = gsl_vector_get(S, 0);
    for (size_t i = 0; i < n; i++) {
        double si = gsl_vector_get(S, i);
        if (!(si > 1e-10 * s0)) break; /* sorted in decreasing order */
        gsl_vector_const_view ui = gsl_matrix_const_column(B, i);
        gsl_vector_const_view vi = gsl_matrix_const_column(V, i);
        double uy;
        gsl_blas_ddot(&ui.vector, y, &uy);
        gsl_blas_daxpy(uy / si, &vi.vector, x);
    }
    for (size_t j = 0; j < n; j++)
        gsl_vector_set(x, j, norm[j] > 0 ? gsl_vector_get(x, j) / norm[j] : 0);
out:
    gsl_matrix_free(V), gsl_vector_free(S), gsl_vector_free(work), free(norm);
    return st;
}

/* Which terms are ramped (piecewise linear) rather than plain linear. */
static int term_ramped(ss_cal_kind kind, int j)
{
    switch (kind) {
    case SS_CAL_GEMM: return j == 3;
    case SS_CAL_ATTN: return j == 2 || j == 5 || j == 7 || j >= 8;
    case SS_CAL_ELEM: return j == 1;
    case SS_CAL_COLL: return j == 2;
    case SS_CAL_MOE: return j >= 2;
    case SS_CAL_COUNT:
    default: return j == 1;
    }
}

ss_rc ss_calf_reserve(void **p, int *cap, int n, int first, size_t elem, ss_diag *d)
{
    if (n < *cap) return SS_OK;
    int nc = *cap ? 2 * *cap : first;
    void *q = realloc(*p, (size_t)nc * elem);
    if (!q) return ss_diag_fail(d, SS_ERR_NOMEM, "calibrate: out of memory");
    *p = q, *cap = nc;
    return SS_OK;
}

int ss_calf_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Knots of a ramped term: for GEMM m fixed token break points, otherwise the 20/40/60/80 %
 * quantiles of the distinct non-zero values. Only knots inside the data are kept and each
 * segment must hold at least a few distinct values, so every slope is determined.
 *
 * The decode intensity term (FLOPs per KV byte, ss_cal_attn_features' term 9) is the
 * exception where the GPU's ridge is known: knots at half the ridge and at the ridge, data
 * or not. Its bend is where decode attention turns compute-bound, which a table's heads per
 * KV head rarely straddle more than once or twice: held-out quantile knots fell on either
 * side of it (InferSim H20: 16 and 32 heads per 2 KV heads stream at 3.1 TB/s, 64 at 1.7,
 * 256 at 0.56; its ridge is 37 FLOP/B). Half: decode's matrix products (a few query heads per
 * KV head as the rows of a tensor-core tile) reach about half the tensor peak at best. A
 * segment without data keeps a zero slope: where a table stays below half the ridge the
 * term is the FLOP term again (the fits of every shipped table but the H20 are unchanged). */
static int place_knots(ss_cal_kind kind, int j, double *vals, size_t n, double ridge,
                       double knots[])
{
    knots[0] = 0;
    if (!term_ramped(kind, j) || n == 0) return 1;
    if (kind == SS_CAL_ATTN && j == 9 && ridge > 0) {
        knots[1] = ridge / 2, knots[2] = ridge;
        return 3;
    }
    qsort(vals, n, sizeof *vals, ss_calf_cmp_double);
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

ss_rc ss_calf_fit_model_pin(const ss_meas_table *t, const size_t *idx, size_t n, double pin0,
                            double ridge, ss_cal_model *out, ss_diag *d)
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
    m.beyond_octave = kind == SS_CAL_GEMM;
    int ncol = 0;
    for (int j = 0; j < nt; j++) {
        size_t nv = 0;
        m.x_max[j] = 0;
        for (size_t i = 0; i < n; i++) {
            double x = X[(i * nt + j) * 2];
            if (X[(i * nt + j) * 2 + 1] != 0) vals[nv++] = x;
            if (x > m.x_max[j]) m.x_max[j] = x;
        }
        m.terms[j].nknots = place_knots(kind, j, vals, nv, ridge, m.terms[j].knots);
        ncol += m.terms[j].nknots;
    }
    free(vals);

    /* Design matrix in relative error: row i divided by t_i, target 1. Columns scaled to
     * unit maximum for conditioning. */
    /* At least as many rows as columns: GSL's SVD needs it (with fewer it reads memory it
     * never wrote, and the fit then depended on the heap). Zero rows with target 0 leave
     * the least-squares problem as it is; the truncated SVD then gives its least-norm
     * solution (a size class with 5 rows in a fold, e.g. InferSim's H800 GEMMs). */
    size_t nr = n > (size_t)ncol ? n : (size_t)ncol;
    gsl_matrix *A = gsl_matrix_calloc(nr, (size_t)ncol);
    gsl_vector *y = gsl_vector_calloc(nr);
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
        gsl_vector_set(y, i, isnan(pin0) ? 1.0 : 1.0 - pin0 / ti);
        for (int c = 0; c < ncol; c++) {
            int j = colterm[c];
            double v = seg(m.terms[j].knots, m.terms[j].nknots, colk[c], X[(i * nt + j) * 2],
                           X[(i * nt + j) * 2 + 1]) / ti;
            gsl_matrix_set(A, i, (size_t)c, v);
            if (fabs(v) > scale[c]) scale[c] = fabs(v);
        }
    }
    for (int c = 0; c < ncol; c++) {
        /* the decode intensity term's first segment, FLOPs per KV byte times the KV bytes,
         * is the FLOP term x[6] again: only its bends are its own (with both free, the
         * least-norm split between them moved the KV-byte slope of single-configuration
         * tables, whose bytes and FLOPs are proportional) */
        active[c] = scale[c] > 0 && !(colterm[c] == 0 && !isnan(pin0)) &&
                    !(kind == SS_CAL_ATTN && colterm[c] == 9 && colk[c] == 0);
        if (!active[c]) continue;
        for (size_t i = 0; i < n; i++)
            gsl_matrix_set(A, i, (size_t)c, gsl_matrix_get(A, i, (size_t)c) / scale[c]);
    }
    /* Non-negative least squares by active-set elimination: solve on the active columns
     * (truncated SVD, tsvd_solve), drop the most negative coefficient, repeat. Each solve
     * works on R of one QR decomposition of A (A = Q R, Q orthogonal): for any subset S of
     * columns, |A_S x - y| = |R_S x - Q'y| up to a constant, and R_S has the singular
     * values and column norms of A_S, so the solutions are those on A at ncol rows instead
     * of n (the RTX PRO 6000 eager tables have 113,760 mixed-attention rows; each solve
     * redid the SVD of all of them, 70 % of `validate calibration`'s time there). Inactive
     * columns are zeroed first: the reflections would carry them into the others. */
    gsl_vector *tau = gsl_vector_alloc((size_t)ncol);
    if (!tau) {
        rc = ss_diag_fail(d, SS_ERR_NOMEM, "calibrate: out of memory");
        goto done;
    }
    for (int c = 0; c < ncol; c++)
        if (!active[c])
            for (size_t i = 0; i < nr; i++) gsl_matrix_set(A, i, (size_t)c, 0);
    int qst = gsl_linalg_QR_decomp(A, tau);
    if (!qst) qst = gsl_linalg_QR_QTvec(A, tau, y);
    gsl_vector_free(tau);
    if (qst) {
        rc = ss_diag_fail(d, SS_ERR_INTERNAL, "calibrate: QR decomposition failed: %s",
                          gsl_strerror(qst));
        goto done;
    }
    size_t nq = (size_t)ncol; /* rows of R */
    gsl_vector_view yq = gsl_vector_subvector(y, 0, nq);
    for (;;) {
        int na = 0;
        for (int c = 0; c < ncol; c++) na += active[c];
        if (na == 0) break;
        gsl_matrix *As = gsl_matrix_calloc(nq, (size_t)na);
        gsl_vector *cs = gsl_vector_alloc((size_t)na);
        if (!As || !cs) {
            gsl_matrix_free(As), gsl_vector_free(cs);
            rc = ss_diag_fail(d, SS_ERR_NOMEM, "calibrate: out of memory");
            goto done;
        }
        for (int c = 0, a = 0; c < ncol; c++) {
            if (!active[c]) continue;
            for (size_t i = 0; i <= (size_t)c; i++) /* R: upper triangle */
                gsl_matrix_set(As, i, (size_t)a, gsl_matrix_get(A, i, (size_t)c));
            a++;
        }
        int st = tsvd_solve(As, &yq.vector, cs);
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
        gsl_matrix_free(As), gsl_vector_free(cs);
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
    if (!isnan(pin0)) m.terms[0].coef[0] = pin0;

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

ss_rc ss_cal_fit_model(const ss_meas_table *t, const size_t *idx, size_t n, double ridge,
                       ss_cal_model *out, ss_diag *d)
{
    return ss_calf_fit_model_pin(t, idx, n, NAN, ridge, out, d);
}

double ss_cal_ridge(const ss_hw *hw)
{
    return hw->peak_flops_bf16 > 0 && hw->hbm_bandwidth > 0
               ? hw->peak_flops_bf16 / hw->hbm_bandwidth
               : 0;
}

/* ================================================================== grouping */

static int cmp_key(const void *a, const void *b)
{
    const rowkey *x = a, *y = b;
    if (x->family != y->family) return x->family - y->family;
    int c = strcmp(x->tag, y->tag);
    if (c) return c;
    if (x->dtype != y->dtype) return x->dtype - y->dtype;
    return (x->idx > y->idx) - (x->idx < y->idx);
}

int ss_cal_is_kernel(int family)
{
    return ss_cal_kind_of(family) != SS_CAL_COLL && family != SS_FAM_CPU_OVERHEAD;
}

int ss_cal_stack_has(const char *stack, const char *s)
{
    if (!strcmp(stack, s)) return 1;
    size_t n = strlen(s);
    for (const char *p = stack; *p;) {
        size_t len = strcspn(p, "+");
        if (len == n && !strncmp(p, s, n)) return 1;
        p += len + (p[len] == '+');
    }
    return 0;
}

/* Is row r usable for the fit with the chosen stack? */
int ss_cal_row_usable(const ss_meas_table *t, const ss_meas *r, const char *stack)
{
    if (!(r->time_s > 0) || (r->flags & SS_MEAS_APPROX) || (r->flags & SS_MEAS_CROSS_NODE))
        return 0;
    if (r->flags & (SS_MEAS_VARIANT | SS_MEAS_OVER_PEAK)) return 0; /* not the plain kernel, or
                                                                      impossibly fast */
    if (!ss_cal_is_kernel(r->family)) return 1;
    return !stack || ss_cal_stack_has(stack, t->sources[r->src].stack);
}

/* The compute stack into c->stack: --stack (which must select some kernel: a typo is not an
 * empty profile), or the sources' own. Two stacks may not both measure one operator family
 * (the user says which wins, with --stack); stacks of different families combine, named in
 * family order ("cublaslt-130100+cudnn-91900": GEMMs from one profiler run, attention from
 * another). Rows never fitted (approximate, variant) count for no stack. */
static ss_rc resolve_stack(const ss_meas_table *t, const char *stack, ss_calib *c, ss_diag *d)
{
    c->stack[0] = '\0';
    if (stack) {
        if (snprintf(c->stack, sizeof c->stack, "%s", stack) >= (int)sizeof c->stack)
            return ss_diag_fail(d, SS_ERR_INVALID, "calibrate: --stack longer than %zu characters",
                                sizeof c->stack - 1);
        int any = 0, selected = 0;
        for (size_t i = 0; i < t->n && !selected; i++) {
            const ss_meas *r = &t->rows[i];
            if (!ss_cal_is_kernel(r->family) || !ss_cal_row_usable(t, r, NULL)) continue;
            any = 1;
            selected = ss_cal_stack_has(stack, t->sources[r->src].stack);
        }
        if (any && !selected)
            return ss_diag_fail(d, SS_ERR_INVALID,
                                "calibrate: --stack %s: no source holds kernels of that stack "
                                "(`servesim measurements --source ...` lists each source's)",
                                stack);
        return SS_OK;
    }
    const char *fam_stack[SS_FAM_COUNT] = {0};
    for (size_t i = 0; i < t->n; i++) {
        const ss_meas *r = &t->rows[i];
        if (!ss_cal_is_kernel(r->family) || !ss_cal_row_usable(t, r, NULL)) continue;
        const char *s = t->sources[r->src].stack;
        const char **f = &fam_stack[ss_cal_fit_family(r->family)];
        if (!*f) *f = s;
        else if (strcmp(*f, s) != 0)
            return ss_diag_fail(d, SS_ERR_INVALID,
                                "calibrate: the sources hold %s kernels of two software "
                                "stacks ('%s' and '%s'); choose one with --stack",
                                ss_cal_family_name(r->family), *f, s);
    }
    for (int f = 0; f < SS_FAM_COUNT; f++) {
        if (!fam_stack[f]) continue;
        int seen = 0;
        for (int g = 0; g < f && !seen; g++) seen = fam_stack[g] && !strcmp(fam_stack[g], fam_stack[f]);
        if (seen) continue;
        size_t used = strlen(c->stack);
        if (snprintf(c->stack + used, sizeof c->stack - used, "%s%s", used ? "+" : "",
                     fam_stack[f]) >= (int)(sizeof c->stack - used))
            return ss_diag_fail(d, SS_ERR_INVALID,
                                "calibrate: the sources' stacks, joined, are longer than %zu "
                                "characters (%s+%s...); choose with --stack",
                                sizeof c->stack - 1, c->stack, fam_stack[f]);
    }
    return SS_OK;
}

ss_rc ss_cal_fit_all(const ss_meas_table *t, const ss_fit_opts *o, ss_calib *c, ss_diag *d)
{
    /* NULL: every source's rows (resolve_stack checked that their stacks do not clash) */
    const char *stack = o && o->stack && o->stack[0] ? o->stack : NULL;
    ss_rc rc0 = resolve_stack(t, stack, c, d);
    if (rc0) return rc0;
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
        /* one model per (family, tag, dtype): a collective measured in several dtypes gets
         * one per dtype (its fit is in bytes; the cost model takes any of them) */
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
            int fitted = 1;
            if (keys[a].family == SS_FAM_GEMM)
                rc = ss_calf_fit_gemm_class(t, keys, nk, keys[a].dtype, keys[a].tag, NULL, NULL,
                                            idx, m, &fitted, d);
            else
                rc = ss_cal_fit_model(t, idx, b - a, o ? o->ridge : 0, m, d);
            if (rc == SS_OK && fitted) c->nmodels++;
        }
        a = b;
    }
    if (rc == SS_OK && (!o || o->with_shapes)) {
        rc = ss_calf_fit_shapes(t, keys, nk, c, d);
        if (rc == SS_OK) rc = ss_calf_fit_beyond(t, keys, nk, c, d);
        if (rc == SS_OK) rc = ss_calf_fit_lattice_w(t, keys, nk, c, d);
        if (rc == SS_OK) rc = ss_calf_fit_moe_curves(t, keys, nk, c, d);
    }
    if (rc == SS_OK && (!o || o->with_shapes)) {
        rc = ss_calf_fit_grids(t, keys, nk, c, d);
        if (rc == SS_OK) ss_calf_fit_attn_lattice(c, t, keys, nk);
    }
    c->l2_bytes = o ? o->l2_bytes : 0;
    c->ridge = o ? o->ridge : 0;
    if (rc == SS_OK) ss_calf_fit_spill(t, keys, nk, c->l2_bytes, c);
    free(keys), free(idx);
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
                           ss_calf_dtype_bytes(r->dtype));
    if (ss_cal_kind_of(r->family) == SS_CAL_ATTN) {
        ss_cal_attn_q q;
        ss_calf_row_attn_q(r, &q);
        double tm = ss_cal_attn(c, m, r->family, r->kv_dtype, &q);
        double fl = ss_cal_decode_floor(m, ss_cal_streamed_kv(r, c->l2_bytes));
        if (tm < fl) tm = fl; /* NAN stays NAN */
        return tm;
    }
    if (r->family == SS_FAM_MOE) {
        ss_cal_moe_q q = {(double)r->hidden, (double)r->inter, r->experts, r->topk,
                          r->ep > 1 ? r->ep : 1, ss_calf_dtype_bytes(r->dtype)};
        if (r->active_experts > 0) return ss_cal_eval_row(m, r); /* the basis knows them */
        return ss_cal_moe(c, m, r->dtype, &q, (double)r->m);
    }
    return ss_cal_eval_row(m, r);
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

/* The measured MoE expert-layer curves: t(tokens) of every densely measured configuration
 * (dtype, hidden, expert width per TP shard, experts per GPU, top-k, EP degree), made
 * non-decreasing and evaluated by a Steffen spline in (log tokens, log t), and the lattice
 * that prices a configuration never measured from its measured neighbours. fit.h describes
 * the model.
 *
 * Why curves and not the ramp basis alone: the fused-MoE kernels pick their tile
 * configuration per (width, experts, tokens), so efficiency does not follow one set of
 * roofline slopes across configurations (aiconfigurator, H100 vLLM 0.24.0, BF16 Triton:
 * hidden 2816, 128 experts, top-8, 0.82 ms at 4,096 tokens with a width of 88, 0.48 ms with
 * twice the width); one basis over ~200 configurations missed by 12 / 36 % (median / P90)
 * on random held-out rows, and by 8-18 % (median, per dtype and EP) on the very rows it was
 * fitted to. */
#include "hwprofiles/calib/fit.h"
#include "hwprofiles/calib/fit_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ================================================================== fitting */

typedef struct mpt {
    int dtype, topk, experts, ep;
    long hidden, inter, m;
    double t;
} mpt;

static int cmp3(long a, long b) { return (a > b) - (a < b); }

static int cmp_mpt(const void *a, const void *b)
{
    const mpt *x = a, *y = b;
    int c;
    if ((c = cmp3(x->dtype, y->dtype)) || (c = cmp3(x->hidden, y->hidden)) ||
        (c = cmp3(x->inter, y->inter)) || (c = cmp3(x->experts, y->experts)) ||
        (c = cmp3(x->topk, y->topk)) || (c = cmp3(x->ep, y->ep)) || (c = cmp3(x->m, y->m)))
        return c;
    return (x->t > y->t) - (x->t < y->t);
}

static int same_cfg(const mpt *a, const mpt *b)
{
    return a->dtype == b->dtype && a->hidden == b->hidden && a->inter == b->inter &&
           a->experts == b->experts && a->topk == b->topk && a->ep == b->ep;
}

/* Appends the curve of configuration p (mm, tt)[0..nm), made non-decreasing; fewer than 6
 * token counts: nothing (the basis prices it). */
static ss_rc add_curve(ss_calib *c, const mpt *p, const double *mm, double *tt, int nm,
                       ss_diag *d)
{
    if (nm < 6) return SS_OK;
    ss_calf_make_monotone(tt, nm);
    ss_rc rc = ss_calf_reserve((void **)&c->moe, &c->cap_moe, c->nmoe, 64, sizeof *c->moe, d);
    if (rc) return rc;
    ss_cal_moe_curve *cv = &c->moe[c->nmoe++];
    memset(cv, 0, sizeof *cv);
    cv->dtype = p->dtype, cv->hidden = p->hidden, cv->inter = p->inter;
    cv->experts = p->experts, cv->topk = p->topk, cv->ep = p->ep;
    cv->npts = ss_calf_thin_curve(mm, tt, nm, cv->m, cv->t);
    return SS_OK;
}

ss_rc ss_calf_fit_moe_curves(const ss_meas_table *t, const rowkey *keys, size_t nk, ss_calib *c,
                             ss_diag *d)
{
    mpt *p = malloc((nk ? nk : 1) * sizeof *p);
    if (!p) return ss_diag_fail(d, SS_ERR_NOMEM, "calibrate: out of memory");
    size_t np = 0;
    for (size_t i = 0; i < nk; i++) {
        if (keys[i].family != SS_FAM_MOE) continue;
        const ss_meas *r = &t->rows[keys[i].idx];
        /* rows that name the experts receiving tokens (LLMServingSim's, routed by a real
         * router) are the basis': a curve in tokens alone would average them */
        if (r->active_experts > 0) continue;
        p[np++] = (mpt){r->dtype, r->topk, r->experts, r->ep > 1 ? r->ep : 1, (long)r->hidden,
                        (long)r->inter, (long)r->m, r->time_s};
    }
    qsort(p, np, sizeof *p, cmp_mpt);
    ss_rc rc = SS_OK;
    double mm[4096], tt[4096];
    for (size_t a = 0; a < np && rc == SS_OK;) {
        size_t b = a;
        while (b < np && same_cfg(&p[b], &p[a])) b++;
        /* median time per token count (sorted by time within one) */
        int nm = 0;
        for (size_t i = a; i < b && nm < 4096;) {
            size_t j = i;
            while (j < b && p[j].m == p[i].m) j++;
            mm[nm] = (double)p[i].m, tt[nm] = p[i + (j - i) / 2].t;
            nm++;
            i = j;
        }
        rc = add_curve(c, &p[a], mm, tt, nm, d);
        a = b;
    }
    free(p);
    return rc;
}

/* ================================================================== evaluation */

double ss_cal_moe_basis(const ss_cal_model *m, const ss_cal_moe_q *q, double tokens)
{
    double x[SS_CAL_MAX_TERMS], s[SS_CAL_MAX_TERMS];
    ss_cal_moe_features(tokens, q->experts, q->topk, q->ep, q->hidden, q->inter, q->wbytes, 0,
                        x, s);
    return ss_cal_eval(m, x, s);
}

/* q's configuration as a curve key */
static void cfg_of(const ss_cal_moe_curve *cv, double wbytes, ss_cal_moe_q *q)
{
    q->hidden = (double)cv->hidden, q->inter = (double)cv->inter;
    q->experts = cv->experts, q->topk = cv->topk, q->ep = cv->ep, q->wbytes = wbytes;
}

/* Past the largest measured token count the layer is compute-bound: each further routed
 * token costs what the last tokens did, so the curve continues affinely from its edge with
 * the least-squares slope of its points from a quarter of the edge up (at least two). The
 * basis ratio carried the edge's efficiency instead, and its fixed and weight terms, fitted
 * over every configuration, made it grow too slowly (aiconfigurator H100 vLLM 0.24.0 BF16,
 * top 20 % of tokens held out: 13.3 / 48.1 % against 8.6 / 24.3 % on the TP-only rows). */
static double tail_slope(const ss_cal_moe_curve *cv)
{
    int np = cv->npts;
    double e = cv->m[np - 1], sx = 0, sy = 0, sxx = 0, sxy = 0;
    int n = 0;
    for (int i = np - 1; i >= 0 && (cv->m[i] >= e / 4 || n < 2); i--) {
        sx += cv->m[i], sy += cv->t[i], sxx += cv->m[i] * cv->m[i], sxy += cv->m[i] * cv->t[i];
        n++;
    }
    double den = n * sxx - sx * sx;
    if (n < 2 || !(den > 0)) return 0;
    double b = (n * sxy - sx * sy) / den;
    return b > 0 ? b : 0;
}

int ss_cal_moe_outside(const ss_cal_moe_curve *cv, const ss_cal_model *m, double wbytes,
                       double tokens, double *t)
{
    int np = cv->npts;
    double lo = cv->m[0], hi = cv->m[np - 1];
    if (tokens > hi) {
        *t = cv->t[np - 1] + tail_slope(cv) * (tokens - hi);
        return 1;
    }
    if (tokens >= lo) return 0;
    /* below: the basis ratio, never above the first point */
    *t = cv->t[0];
    if (!m) return 1;
    ss_cal_moe_q q;
    cfg_of(cv, wbytes, &q);
    double b0 = ss_cal_moe_basis(m, &q, lo), b1 = ss_cal_moe_basis(m, &q, tokens);
    if (b0 > 0 && b1 > 0 && b1 < b0) *t *= b1 / b0;
    return 1;
}

double ss_cal_moe_curve_eval(const ss_cal_moe_curve *cv, const ss_cal_model *m, double wbytes,
                             double tokens)
{
    double t;
    if (ss_cal_moe_outside(cv, m, wbytes, tokens, &t)) return t;
    return ss_calf_steffen_loglog(cv->m, cv->t, cv->npts, tokens);
}

static int same_key(const ss_cal_moe_curve *cv, int dtype, const ss_cal_moe_q *q)
{
    return cv->dtype == dtype && (double)cv->hidden == q->hidden &&
           (double)cv->inter == q->inter && cv->experts == q->experts && cv->topk == q->topk &&
           cv->ep == (q->ep > 1 ? q->ep : 1);
}

const ss_cal_moe_curve *ss_calib_find_moe(const ss_calib *c, int dtype, const ss_cal_moe_q *q)
{
    for (int i = 0; i < c->nmoe; i++)
        if (same_key(&c->moe[i], dtype, q)) return &c->moe[i];
    return NULL;
}

/* ---- configurations never measured: the lattice of measured ones ----
 *
 * Along each axis of the configuration -- the expert width (tensor-parallel steps), the
 * experts per GPU at a fixed number of experts in all (expert-parallel steps), the experts
 * per GPU at a fixed EP degree (another model), the hidden size and top-k -- the measured
 * configurations that agree with the query in every other coordinate bracket it, and their
 * curves at the same token count, each moved to the query by the basis ratio (moved()), are
 * blended linearly in (log coordinate, log t). Where they lie on one side only, the nearest
 * within a factor 2 (one TP or EP step) is used alone. The estimates of the axes that give
 * one are averaged in log t; none: the basis. */

enum { AX_INTER, AX_EP, AX_EXPERTS, AX_HIDDEN, AX_TOPK, AX_COUNT };

/* q's coordinate on axis ax, unrounded: the experts per GPU of a query may be fractional
 * (an EP degree that does not divide the experts), and the lattice then blends between the
 * measured whole numbers around it */
static double coord(const ss_cal_moe_q *q, int ax)
{
    switch (ax) {
    case AX_INTER: return q->inter;
    case AX_EP:
    case AX_EXPERTS: return q->experts;
    case AX_HIDDEN: return q->hidden;
    default: return q->topk;
    }
}

/* does curve cv lie on q's line along axis ax (every other coordinate equal)? */
static int on_line(const ss_cal_moe_curve *cv, const ss_cal_moe_q *q, int ax)
{
    double ep = q->ep > 1 ? q->ep : 1;
    int h = (double)cv->hidden == q->hidden, i = (double)cv->inter == q->inter;
    int e = cv->experts == q->experts, k = cv->topk == q->topk, p = cv->ep == ep;
    switch (ax) {
    case AX_INTER: return h && e && k && p;
    case AX_EP: return h && i && k && (double)cv->experts * cv->ep == q->experts * ep;
    case AX_EXPERTS: return h && i && k && p;
    case AX_HIDDEN: return i && e && k && p;
    default: return h && i && e && p;
    }
}

typedef struct moeq {
    const ss_calib *c;
    const ss_cal_model *m;
    int dtype;
    const ss_cal_moe_q *q;
} moeq;

static int usable(const moeq *L, int i) { return L->c->moe[i].dtype == L->dtype; }

static long coord_cv(const ss_cal_moe_curve *cv, int ax)
{
    ss_cal_moe_q q;
    cfg_of(cv, 1, &q);
    return lround(coord(&q, ax)); /* a measured configuration's are whole numbers */
}

/* the curve on q's line along ax at coordinate v */
static const ss_cal_moe_curve *at(const moeq *L, int ax, long v)
{
    for (int i = 0; i < L->c->nmoe; i++) {
        const ss_cal_moe_curve *cv = &L->c->moe[i];
        if (usable(L, i) && on_line(cv, L->q, ax) && coord_cv(cv, ax) == v) return cv;
    }
    return NULL;
}

/* log t of curve cv at the token count; 0 when not positive and finite */
static int lt_of(const moeq *L, const ss_cal_moe_curve *cv, double tokens, double *lt)
{
    double t = ss_cal_moe_curve_eval(cv, L->m, L->q->wbytes, tokens);
    if (!(t > 0) || !isfinite(t)) return 0;
    *lt = log(t);
    return 1;
}

/* A neighbour's log time *lt at the token count moved to the query by the basis ratio: the
 * basis carries what the coordinates change (bytes of weights read, FLOPs, routed pairs),
 * the neighbour the level the kernels actually reached. Blending the neighbours' own times
 * instead, the held-out configurations of aiconfigurator's H100 vLLM 0.24.0 MoE table
 * (validated alone) missed by 5.3 / 18.2 % (3.6 / 15.9 % moved), InferSim's H800 by
 * 5.8 / 15.1 % (4.6 / 13.9 %). No basis (m NULL): unmoved. */
static int moved(const moeq *L, const ss_cal_moe_curve *nb, double tokens, double *lt)
{
    if (!L->m) return 1;
    ss_cal_moe_q qn;
    cfg_of(nb, L->q->wbytes, &qn);
    double b = ss_cal_moe_basis(L->m, L->q, tokens), b0 = ss_cal_moe_basis(L->m, &qn, tokens);
    if (!(b > 0) || !(b0 > 0) || !isfinite(b) || !isfinite(b0)) return 0;
    *lt += log(b / b0);
    return 1;
}

/* The log time of the curve at coordinate v of q's line along ax, moved to q. */
static int est_at(const moeq *L, int ax, long v, double tokens, double *lt)
{
    const ss_cal_moe_curve *nb = at(L, ax, v);
    return nb && lt_of(L, nb, tokens, lt) && moved(L, nb, tokens, lt);
}

/* One axis' estimate of log t at the token count. */
static int axis_est(const moeq *L, int ax, double tokens, double *lt)
{
    long lo = -1, hi = -1;
    double p = coord(L->q, ax);
    for (int i = 0; i < L->c->nmoe; i++) {
        const ss_cal_moe_curve *cv = &L->c->moe[i];
        if (!usable(L, i) || !on_line(cv, L->q, ax)) continue;
        if (ss_calf_bracket_step(coord_cv(cv, ax), p, &lo, &hi)) return 0; /* q itself */
    }
    if (lo >= 0 && hi >= 0) {
        double a, b;
        if (!est_at(L, ax, lo, tokens, &a) || !est_at(L, ax, hi, tokens, &b)) return 0;
        *lt = ss_calf_log_blend(p, lo, hi, a, b);
        return 1;
    }
    long v = lo >= 0 ? lo : hi;
    if (v < 0 || fabs(log(p / (double)v)) > log(2.0) + 1e-12 || !L->m) return 0;
    return est_at(L, ax, v, tokens, lt);
}

static int moe_lattice(const ss_calib *c, const ss_cal_model *m, int dtype,
                       const ss_cal_moe_q *q, double tokens, double *t)
{
    if (!(tokens > 0)) return 0;
    moeq L = {c, m, dtype, q};
    double sum = 0;
    int n = 0;
    for (int ax = 0; ax < AX_COUNT; ax++) {
        double lt;
        if (axis_est(&L, ax, tokens, &lt)) sum += lt, n++;
    }
    if (!n) return 0;
    *t = exp(sum / n);
    return 1;
}

double ss_cal_moe(const ss_calib *c, const ss_cal_model *m, int dtype, const ss_cal_moe_q *q,
                  double tokens)
{
    const ss_cal_moe_curve *cv = ss_calib_find_moe(c, dtype, q);
    if (cv) return ss_cal_moe_curve_eval(cv, m, q->wbytes, tokens);
    double t;
    if (moe_lattice(c, m, dtype, q, tokens, &t)) return t;
    return m ? ss_cal_moe_basis(m, q, tokens) : NAN;
}

int ss_calib_moe_curve(const ss_calib *c, const ss_cal_model *m, int dtype,
                       const ss_cal_moe_q *q, ss_cal_moe_curve *out)
{
    const ss_cal_moe_curve *cv = ss_calib_find_moe(c, dtype, q);
    if (cv) {
        *out = *cv;
        return 1;
    }
    /* the token counts of the measured curve of the dtype reaching furthest (the densest of
     * those), each from the lattice, so that the cost model interpolates where the validation
     * does; a count where the lattice has no estimate is left out */
    const ss_cal_moe_curve *ref = NULL;
    for (int i = 0; i < c->nmoe; i++) {
        const ss_cal_moe_curve *o = &c->moe[i];
        if (o->dtype != dtype || o->npts < 1) continue;
        double top = o->m[o->npts - 1], rtop = ref ? ref->m[ref->npts - 1] : 0;
        if (!ref || top > rtop || (top == rtop && o->npts > ref->npts)) ref = o;
    }
    if (!ref) return 0;
    memset(out, 0, sizeof *out);
    out->dtype = dtype, out->hidden = lround(q->hidden), out->inter = lround(q->inter);
    out->experts = (int)lround(q->experts), out->topk = (int)lround(q->topk);
    out->ep = q->ep > 1 ? (int)lround(q->ep) : 1;
    int n = 0;
    for (int i = 0; i < ref->npts; i++) {
        double t;
        if (!moe_lattice(c, m, dtype, q, ref->m[i], &t)) continue;
        out->m[n] = ref->m[i];
        /* non-decreasing: blends of non-decreasing curves are; the basis ratio may dip */
        out->t[n] = n > 0 && t < out->t[n - 1] ? out->t[n - 1] : t;
        n++;
    }
    out->npts = n;
    return n >= 3; /* a spline needs 3 */
}

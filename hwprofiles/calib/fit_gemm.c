/* The measured GEMM curves: t(m) of every densely measured shape (n, k), made
 * non-decreasing and evaluated by a Steffen spline in (log m, log t), and the (n, k) lattice
 * that interpolates shapes never measured between them. fit.h describes the model. */
#include "hwprofiles/calib/fit.h"
#include "hwprofiles/calib/fit_int.h"

#include <gsl/gsl_interp.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

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
void ss_calf_make_monotone(double *t, int n)
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
    ss_calf_make_monotone(tt, nm);
    ss_rc rc = ss_calf_reserve((void **)&c->shapes, &c->cap_shapes, c->nshapes, 64,
                               sizeof *c->shapes, d);
    if (rc) return rc;
    ss_cal_shape *sh = &c->shapes[c->nshapes++];
    memset(sh, 0, sizeof *sh);
    sh->dtype = dtype, sh->n = n, sh->k = k, sh->m_class = cls;
    sh->npts = ss_calf_thin_curve(mm, tt, nm, sh->m, sh->t);
    return SS_OK;
}

int ss_calf_thin_curve(const double *mm, const double *tt, int nm, double *m, double *t)
{
    int keep = nm < SS_CAL_MAX_SHAPE_PTS ? nm : SS_CAL_MAX_SHAPE_PTS;
    for (int i = 0; i < keep; i++) {
        int src = keep == nm ? i : (int)lround((double)i * (nm - 1) / (keep - 1));
        m[i] = mm[src], t[i] = tt[src];
    }
    return keep;
}

double ss_calf_steffen_loglog(const double *m, const double *t, int np, double x)
{
    double lx[SS_CAL_MAX_SHAPE_PTS], ly[SS_CAL_MAX_SHAPE_PTS];
    for (int i = 0; i < np; i++) lx[i] = log(m[i]), ly[i] = log(t[i]);
    /* A Steffen spline needs 3 points; interpolation objects are small and short-lived
     * (no cache: the cost model builds its own per model shape at create time). */
    gsl_interp *it = gsl_interp_alloc(gsl_interp_steffen, (size_t)np);
    if (!it || gsl_interp_init(it, lx, ly, (size_t)np)) {
        if (it) gsl_interp_free(it);
        return t[0];
    }
    double v;
    if (gsl_interp_eval_e(it, lx, ly, log(x), NULL, &v)) v = ly[0];
    gsl_interp_free(it);
    return exp(v);
}

ss_rc ss_calf_fit_shapes(const ss_meas_table *t, const rowkey *keys, size_t nk, ss_calib *c,
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

double ss_calf_gemm_basis(const ss_cal_model *gm, double m, double n, double k, double wb)
{
    double x[SS_CAL_MAX_TERMS], s[SS_CAL_MAX_TERMS];
    ss_cal_gemm_features(m, n, k, wb, x, s);
    return ss_cal_eval(gm, x, s);
}

/* ---- continuing a curve beyond its largest measured m ----
 *
 * The basis ratio carries the curve's own efficiency along from where it starts at the edge
 * (ss_cal_beyond_from: the line through its last octave). Where the curve is a wave
 * staircase (aiconfigurator's A100, n = k = 5120: 252 us at both m = 768 and 1024, 378 us at
 * 2048) the basis, fitted over every shape of its size class, may know the trend better. How
 * far to trust it is decided per basis model on the fitted curves: each shape's top 20 % of
 * m predicted from its curve below them (fit_weights.c). */

double ss_cal_beyond(double t_edge, double t_from, double b_edge, double b_m, double w)
{
    if (!(b_edge > 0) || !(b_m > 0) || !(t_from > 0)) return t_edge;
    double r = b_m / b_edge;
    if (!(r > 1)) return t_edge;
    /* the weight ramps in over the first doubling of the basis: full at once would step the
     * time at the edge wherever the basis lies above the curve (A100 vLLM, n = 32, k = 1536:
     * +41 % one token past m = 8192); ramped, t is continuous there when t_from = t_edge,
     * and non-decreasing in b_m either way (t = t_from r^(1 + w log(b_edge / t_from) / log 2)
     * up to r = 2, then t_from r (b_edge / t_from)^w, floored at t_edge) */
    double we = w * (r < 2 ? log(r) / log(2.0) : 1);
    double t = t_from * r;
    if (we > 0) t = exp((1 - we) * log(t) + we * log(b_m));
    return t > t_edge ? t : t_edge;
}

/* Where the continuation starts. A curve's last point may sit at the foot of a wave step or
 * at the top of one (RTX PRO 6000 eager, n = k = 2048: 40.7 us at m = 1472, 54.1 at 1488,
 * then flat to 1920): continued from the foot, every m up to the next step came out 10-13 %
 * slow. The curve's efficiency against the basis, log(t / b), fitted by a line over its last
 * octave of m and read at the edge, averages the step's phase out and still follows a trend
 * (the A800's efficiency falls with m: a plain mean over the octave put its top 20 % of m
 * 5-8 % fast, shape by shape). The floor at t_edge keeps a curve continued from a step's
 * foot flat until the trend passes it, as the staircase is. Too few points in the octave
 * (InferSim's curves, a point per doubling) say nothing about a step: the last point, as
 * before. Figures, and the half and triple octaves tried, in docs/validation.md. */
double ss_cal_beyond_from(const double *m, const double *t, int edge, int octave,
                          double (*basis)(const void *ctx, double m), const void *ctx)
{
    if (!octave) return t[edge];
    double be = basis(ctx, m[edge]);
    if (!(be > 0)) return t[edge];
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    int c = 0;
    for (int i = edge; i >= 0 && 2 * m[i] >= m[edge]; i--) {
        double b = i == edge ? be : basis(ctx, m[i]);
        if (!(b > 0)) return t[edge];
        double x = log(m[i] / m[edge]), y = log(t[i] / b);
        sx += x, sy += y, sxx += x * x, sxy += x * y, c++;
    }
    double den = c * sxx - sx * sx;
    if (c < 3 || !(den > 0)) return t[edge];
    double slope = (c * sxy - sx * sy) / den;
    return be * exp((sy - slope * sx) / c); /* the line at x = log(m / m_edge) = 0 */
}

/* ================================================================== lookups */

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

double ss_calf_shape_basis(const void *ctx, double m)
{
    const shape_basis *b = ctx;
    return ss_calf_gemm_basis(b->gm, m, b->n, b->k, b->wb);
}

double ss_cal_shape_eval(const ss_cal_shape *sh, const ss_cal_model *gm, double m, double wb)
{
    int np = sh->npts;
    double lo = sh->m[0], hi = sh->m[np - 1];
    if (m < lo || m > hi) {
        double edge = m < lo ? lo : hi, te = m < lo ? sh->t[0] : sh->t[np - 1];
        if (!gm) return te;
        double b0 = ss_calf_gemm_basis(gm, edge, (double)sh->n, (double)sh->k, wb);
        double b1 = ss_calf_gemm_basis(gm, m, (double)sh->n, (double)sh->k, wb);
        if (!(b0 > 0)) return te;
        if (m > hi) {
            shape_basis sb = {gm, (double)sh->n, (double)sh->k, wb};
            double tf = ss_cal_beyond_from(sh->m, sh->t, np - 1, gm->beyond_octave,
                                           ss_calf_shape_basis, &sb);
            return ss_cal_beyond(te, tf, b0, b1, gm->beyond_w);
        }
        double r = b1 / b0;
        return te * (r > 1 ? 1 : r);
    }
    return ss_calf_steffen_loglog(sh->m, sh->t, np, m);
}

/* ---- GEMM shapes never measured: interpolation over the measured (n, k) lattice ----
 *
 * log t is interpolated linearly in (log n, log k) between measured shapes at the same m,
 * each shape's own curve evaluated at m (ss_cal_shape_eval: its measured points, the basis
 * ratio beyond them). Along one axis (n with k fixed, or k with n fixed) the nearest measured
 * shapes below and above the query are used; a query off the lattice in the fixed coordinate
 * too is interpolated between the two bracketing rows. The estimates along n and along k
 * (those that exist) are averaged in log t, weighted towards the one that reached less far
 * where the GEMM model's lattice_near says so (fit.h). Every weight is non-negative and
 * independent of m, and every shape curve is non-decreasing and positive, so inside the
 * lattice's hull the result is positive and non-decreasing in m. Where a coordinate has a measured neighbour on
 * one side only, within a factor LAT_REACH, that neighbour is moved to it by the basis ratio
 * at the same m (positive; the ratio may vary a little with m, so the cost model's curve,
 * ss_calib_lattice_shape, is made non-decreasing). Further out there is no estimate (the
 * caller uses the fitted basis). */

/* The lattices over GEMM shapes and attention head configurations both bracket a value p
 * between the nearest measured coordinates (lo <= p <= hi; -1 while none) and blend the two
 * estimates linearly in log p. ss_calf_bracket_step() takes one measured coordinate v and
 * returns 1 when v equals p (lo = hi = v: no blend needed). */
int ss_calf_bracket_step(long v, double p, long *lo, long *hi)
{
    if ((double)v == p) {
        *lo = *hi = v;
        return 1;
    }
    if ((double)v < p && v > *lo) *lo = v;
    if ((double)v > p && (*hi < 0 || v < *hi)) *hi = v;
    return 0;
}

double ss_calf_log_blend(double p, long lo, long hi, double a, double b)
{
    double w = (log(p) - log((double)lo)) / (log((double)hi) - log((double)lo));
    return (1 - w) * a + w * b;
}

/* One lattice query: the calibration, the basis model, dtype and weight bytes, and the
 * shapes left out (skip[i] != 0; NULL: none) while the fitter judges the lattice on them. */
typedef struct latq {
    const ss_calib *c;
    const ss_cal_model *gm;
    int dtype;
    double wb;
    const unsigned char *skip;
} latq;

static int lat_use(const latq *L, int i)
{
    return L->c->shapes[i].dtype == L->dtype && !(L->skip && L->skip[i]);
}

/* One shape's log time at m; 0 when (n, k) is not measured (or left out). */
static int lat_point(const latq *L, long n, long k, double m, double *lt)
{
    int cls = ss_cal_m_class(m);
    for (int i = 0; i < L->c->nshapes; i++) {
        const ss_cal_shape *sh = &L->c->shapes[i];
        if (!lat_use(L, i) || sh->n != n || sh->k != k || (sh->m_class && sh->m_class != cls))
            continue;
        if (sh->npts < 1) return 0;
        double t = ss_cal_shape_eval(sh, L->gm, m, L->wb);
        if (!(t > 0) || !isfinite(t)) return 0;
        *lt = log(t);
        return 1;
    }
    return 0;
}

/* How far past the lattice's last measured coordinate an estimate reaches: one doubling, a
 * tensor-parallel step or one model size up or down, where a shape runs the same kernels at
 * a similar efficiency as its neighbour (figures, and what larger factors did, in
 * docs/validation.md, "GEMM shapes outside the measured lattice"). */
#define LAT_REACH 2.0

/* Of a bracket with one side only (lo or hi -1), the measured coordinate there when q lies
 * within a factor LAT_REACH of it, else -1. The slack keeps an exact doubling, whose
 * logarithms may differ in the last bit, inside. */
static long lat_reach_from(long lo, long hi, double q)
{
    long v = lo < 0 ? hi : lo;
    return v >= 0 && fabs(log(q / (double)v)) <= log(LAT_REACH) + 1e-12 ? v : -1;
}

/* How far an estimate along one axis had to reach, in log of the coordinate: from q to the
 * nearer of its bracketing measured coordinates (0 on a measured one), or twice the distance
 * to the one measured neighbour it was continued from by the basis ratio (a continuation is
 * less sure than an interpolation over the same distance). */
static double lat_bracket_span(double q, long lo, long hi)
{
    double a = log(q / (double)lo), b = log((double)hi / q);
    return a < b ? a : b;
}

static double lat_reach_span(double q, long v) { return 2 * fabs(log(q / (double)v)); }

/* The floor of a span in the weight (span + floor)^-p: an estimate on a measured row or
 * column (span 0) counts 1 / floor^p, finite, and one 5 % off it nearly as much. */
#define LAT_SPAN_FLOOR 0.05

/* (n, k) of the point at coordinate `var` on axis `ax` (0: n varies, 1: k varies) of the
 * line whose other coordinate is `fixed` */
static void lat_nk(int ax, double var, double fixed, double *n, double *k)
{
    *n = ax == 0 ? var : fixed;
    *k = ax == 0 ? fixed : var;
}

/* The neighbour's log time a at (n0, k0) moved to (n, k) by the basis ratio at m. */
static int lat_ratio(const latq *L, double m, double n, double k, double n0, double k0, double a,
                     double *lt)
{
    /* the basis of the neighbour's size class, fitted where the neighbour was measured: the
     * query's class may hold a single shape far from it (its basis then says little about
     * the neighbour). On the held-out shapes of servesim-profile's H200 tables: 3.5 / 10.0 %,
     * against 3.6 / 10.5 with the query's class and 3.8 / 10.8 with each class at its own
     * shape. Where the neighbour is of the query's class, L->gm: the same model, or the
     * refit without held-out rows that the lattice weight's cross-validation passes */
    const ss_cal_model *g = ss_calib_find_gemm(L->c, L->dtype, n0, k0);
    if (!g || (L->gm && g->family == L->gm->family && g->dtype == L->gm->dtype &&
               strcmp(g->tag, L->gm->tag) == 0))
        g = L->gm;
    if (!g) return 0;
    double b = ss_calf_gemm_basis(g, m, n, k, L->wb);
    double b0 = ss_calf_gemm_basis(g, m, n0, k0, L->wb);
    if (!(b > 0) || !(b0 > 0) || !isfinite(b) || !isfinite(b0)) return 0;
    *lt = a + log(b / b0);
    return 1;
}

/* Along axis `ax` (0: n varies, k = fixed; 1: k varies, n = fixed) at coordinate q. */
static int lat_axis(const latq *L, int ax, double q, long fixed, double m, double *lt,
                    double *span)
{
    long lo = -1, hi = -1;
    for (int i = 0; i < L->c->nshapes; i++) {
        const ss_cal_shape *sh = &L->c->shapes[i];
        if (!lat_use(L, i) || (ax == 0 ? sh->k : sh->n) != fixed) continue;
        if (ss_calf_bracket_step(ax == 0 ? sh->n : sh->k, q, &lo, &hi)) break;
    }
    if (lo < 0 || hi < 0) {
        long v = lat_reach_from(lo, hi, q);
        if (v < 0) return 0;
        double a, n, k, n0, k0;
        lat_nk(ax, q, (double)fixed, &n, &k);
        lat_nk(ax, (double)v, (double)fixed, &n0, &k0);
        if (!lat_point(L, lround(n0), lround(k0), m, &a)) return 0;
        *span += lat_reach_span(q, v);
        return lat_ratio(L, m, n, k, n0, k0, a, lt);
    }
    double a, b;
    if (!lat_point(L, ax == 0 ? lo : fixed, ax == 0 ? fixed : lo, m, &a)) return 0;
    if (lo == hi) {
        *lt = a;
        return 1;
    }
    if (!lat_point(L, ax == 0 ? hi : fixed, ax == 0 ? fixed : hi, m, &b)) return 0;
    *span += lat_bracket_span(q, lo, hi);
    *lt = ss_calf_log_blend(q, lo, hi, a, b);
    return 1;
}

/* Estimate varying axis `ax` at q, the other coordinate p: on p's row if measured shapes
 * have it, else between the bracketing rows, else (within LAT_REACH) from the nearest row.
 * A query one doubling past a corner of the lattice in both coordinates is thus continued
 * twice, along the row and then across rows, the second time by the basis of the class of
 * the row's point at q: forbidding that made the held-out shapes a little worse
 * (servesim-profile H100 3.31 / 9.63 -> 3.31 / 9.84 %, RTX PRO 6000 eager 4.97 -> 5.01 %) */
static int lat_dir(const latq *L, int ax, double q, double p, double m, double *lt,
                   double *span)
{
    long lo = -1, hi = -1;
    for (int i = 0; i < L->c->nshapes; i++) {
        if (!lat_use(L, i)) continue;
        long v = ax == 0 ? L->c->shapes[i].k : L->c->shapes[i].n;
        if (ss_calf_bracket_step(v, p, &lo, &hi)) break;
    }
    if (lo < 0 || hi < 0) {
        long v = lat_reach_from(lo, hi, p);
        if (v < 0) return 0;
        double a, n, k, n0, k0;
        if (!lat_axis(L, ax, q, v, m, &a, span)) return 0;
        lat_nk(ax, q, p, &n, &k);
        lat_nk(ax, q, (double)v, &n0, &k0);
        *span += lat_reach_span(p, v);
        return lat_ratio(L, m, n, k, n0, k0, a, lt);
    }
    double a, b;
    if (!lat_axis(L, ax, q, lo, m, &a, span)) return 0;
    if (lo == hi) {
        *lt = a;
        return 1;
    }
    double sb = 0;
    if (!lat_axis(L, ax, q, hi, m, &b, &sb)) return 0;
    /* the two rows' own distances blended as their estimates are */
    *span = ss_calf_log_blend(p, lo, hi, *span, sb) + lat_bracket_span(p, lo, hi);
    *lt = ss_calf_log_blend(p, lo, hi, a, b);
    return 1;
}

int ss_calf_gemm_lattice_parts(const ss_calib *c, const ss_cal_model *gm, int dtype,
                               const unsigned char *skip, double m, double n, double k,
                               double wbytes, double e[2], double span[2])
{
    latq Lq = {c, gm, dtype, wbytes, skip}, *L = &Lq;
    if (!(m > 0) || !(n > 0) || !(k > 0)) return 0;
    int ne = 0;
    span[0] = span[1] = 0;
    if (lat_dir(L, 0, n, k, m, &e[ne], &span[ne])) ne++;
    span[ne] = 0;
    if (lat_dir(L, 1, k, n, m, &e[ne], &span[ne])) ne++;
    return ne;
}

double ss_calf_lattice_near(const double e[2], const double span[2], int ne, double p)
{
    if (ne == 1) return exp(e[0]);
    double w0 = p > 0 ? pow(span[0] + LAT_SPAN_FLOOR, -p) : 1;
    double w1 = p > 0 ? pow(span[1] + LAT_SPAN_FLOOR, -p) : 1;
    return exp((w0 * e[0] + w1 * e[1]) / (w0 + w1));
}

int ss_calf_gemm_lattice_raw(const ss_calib *c, const ss_cal_model *gm, int dtype,
                             const unsigned char *skip, double m, double n, double k,
                             double wbytes, double *t)
{
    double e[2], sp[2];
    int ne = ss_calf_gemm_lattice_parts(c, gm, dtype, skip, m, n, k, wbytes, e, sp);
    if (ne == 0) return 0;
    *t = ss_calf_lattice_near(e, sp, ne, gm ? gm->lattice_near : 0);
    return 1;
}

double ss_calf_lattice_blend(double t_lat, double b, double w)
{
    return w > 0 && b > 0 ? exp((1 - w) * log(t_lat) + w * log(b)) : t_lat;
}

int ss_cal_gemm_lattice(const ss_calib *c, const ss_cal_model *gm, int dtype, double m, double n,
                        double k, double wbytes, double *t)
{
    if (!ss_calf_gemm_lattice_raw(c, gm, dtype, NULL, m, n, k, wbytes, t)) return 0;
    if (gm && gm->lattice_w > 0)
        *t = ss_calf_lattice_blend(*t, ss_calf_gemm_basis(gm, m, n, k, wbytes), gm->lattice_w);
    return 1;
}

int ss_calib_lattice_shape(const ss_calib *c, const ss_cal_model *gm, int dtype, int m_class,
                           double n, double k, double wbytes, ss_cal_shape *out)
{
    /* the m points of the most densely measured shape of this dtype and m class, then those
     * of the shape measured furthest in m beyond them, moved into the class: the curves of
     * one class may stop early (H100 BF16: unaligned m to 4,353, every m to 32,768), and
     * the lattice's neighbours measured further are interpolated there, not continued */
    const ss_cal_shape *ref = NULL, *far = NULL;
    for (int i = 0; i < c->nshapes; i++) {
        const ss_cal_shape *sh = &c->shapes[i];
        if (sh->dtype != dtype || sh->npts < 1) continue;
        if ((!m_class || sh->m_class == m_class) && (!ref || sh->npts > ref->npts)) ref = sh;
        if (!far || sh->m[sh->npts - 1] > far->m[far->npts - 1]) far = sh;
    }
    if (!ref || ref->npts < 3) return 0;
    double all[2 * SS_CAL_MAX_SHAPE_PTS], mm[SS_CAL_MAX_SHAPE_PTS];
    int na = 0, np = 0;
    for (int i = 0; i < ref->npts; i++) all[na++] = ref->m[i];
    for (int i = 0; i < far->npts; i++) {
        double m = far->m[i];
        if (ref->m_class == 1) m = ceil(m / SS_CAL_M_ALIGN) * SS_CAL_M_ALIGN;
        if (ref->m_class == 2 && ss_cal_m_class(m) == 1) m += 1;
        if (m > all[na - 1]) all[na++] = m;
    }
    /* thinned as the fitter thins a curve, keeping both ends */
    int keep = na < SS_CAL_MAX_SHAPE_PTS ? na : SS_CAL_MAX_SHAPE_PTS;
    for (int i = 0; i < keep; i++)
        mm[np++] = all[keep == na ? i : (int)lround((double)i * (na - 1) / (keep - 1))];
    memset(out, 0, sizeof *out);
    out->dtype = dtype, out->n = lround(n), out->k = lround(k), out->m_class = ref->m_class;
    for (int i = 0; i < np; i++) {
        double t;
        if (!ss_cal_gemm_lattice(c, gm, dtype, mm[i], n, k, wbytes, &t)) return 0;
        out->m[i] = mm[i];
        /* non-decreasing: inside the hull by construction, past it the basis ratio may dip */
        out->t[i] = i > 0 && t < out->t[i - 1] ? out->t[i - 1] : t;
    }
    out->npts = np;
    return 1;
}

double ss_cal_gemm(const ss_calib *c, const ss_cal_model *gm, int dtype, double m, double n,
                   double k, double wbytes)
{
    const ss_cal_shape *sh = ss_calib_find_shape_m(c, dtype, lround(n), lround(k), m);
    if (sh) return ss_cal_shape_eval(sh, gm, m, wbytes);
    double t;
    if (ss_cal_gemm_lattice(c, gm, dtype, m, n, k, wbytes, &t)) return t;
    return gm ? ss_calf_gemm_basis(gm, m, n, k, wbytes) : NAN;
}

/* The two weights of a GEMM model that say how far to trust its fitted basis against the
 * measured curves (fit.h: beyond_w, lattice_w), each chosen on the measurements it is
 * fitted from, never on held-out rows: the points judged are left out of the basis refitted
 * to judge them, since a basis fitted to a point favours itself there (the H100 vLLM table's
 * top 20 % of m, with the in-sample basis: 4.88 / 14.45 % instead of 4.63 / 14.27 %, measured
 * before beyond_w was ramped in). */
#include "hwprofiles/calib/fit.h"
#include "hwprofiles/calib/fit_int.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Candidate weights w = q / 10, q = 0..SS_CAL_WEIGHTS - 1 (q / 10.0, not 0.1 * q: the double
 * a profile's "0.30" reads back as); the best by summed error, 0 with fewer than `min`
 * points judged (ties to the smaller weight). */
#define SS_CAL_WEIGHTS 11
static double pick_weight(const double *err, long pts, long min)
{
    int best = 0;
    for (int q = 1; q < SS_CAL_WEIGHTS && pts >= min; q++)
        if (err[q] < err[best]) best = q;
    return best / 10.0;
}

/* The index of the fitted curve a measured row lies on, -1 if none: the fitter's shapes are
 * in the order of cmp_gpt (dtype, n, k; class 1 before 2), so a binary search finds them
 * (ss_calib_find_shape_m walks them all, too slow once per row and fold). */
static int fitted_shape(const ss_calib *c, const ss_meas *r)
{
    int lo = 0, hi = c->nshapes;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        const ss_cal_shape *sh = &c->shapes[mid];
        int less = sh->dtype != r->dtype ? sh->dtype < r->dtype
                   : sh->n != (long)r->n ? sh->n < (long)r->n
                                         : sh->k < (long)r->k;
        if (less) lo = mid + 1;
        else hi = mid;
    }
    int cls = ss_cal_m_class((double)r->m);
    for (int i = lo; i < c->nshapes && i < lo + 2; i++) {
        const ss_cal_shape *sh = &c->shapes[i];
        if (sh->dtype != r->dtype || sh->n != (long)r->n || sh->k != (long)r->k) break;
        if (!sh->m_class || sh->m_class == cls) return i;
    }
    return -1;
}

/* The index of the last point of a shape's curve below its top 20 % of m. */
static int beyond_edge(const ss_cal_shape *sh) { return sh->npts - (int)ceil(0.2 * sh->npts) - 1; }

/* Whether a fitted curve is priced by GEMM model gm (its dtype and size class). */
static int of_model(const ss_calib *c, const ss_cal_shape *sh, const ss_cal_model *gm)
{
    return sh->dtype == gm->dtype && ss_calib_find_gemm(c, sh->dtype, (double)sh->n,
                                                        (double)sh->k) == gm;
}

typedef struct refit_ctx {
    const ss_meas_table *t;
    const ss_calib *c;
    const unsigned char *skip;
} refit_ctx;

static int refit_keep(const rowkey *key, void *p)
{
    const refit_ctx *x = p;
    const ss_meas *r = &x->t->rows[key->idx];
    int si = fitted_shape(x->c, r);
    const ss_cal_shape *sh = si < 0 ? NULL : &x->c->shapes[si];
    return !(sh && (x->skip ? x->skip[si] != 0 : sh->npts >= 5 && r->m > sh->m[beyond_edge(sh)]));
}

/* gm's basis refitted into *ref from gm's rows less those it is about to be judged on: with
 * skip, every row of a marked curve; without, each curve's top 20 % of m. *fitted 0 (and
 * nothing fitted) when fewer than 4 rows are left. */
static ss_rc refit_without(const ss_meas_table *t, const rowkey *keys, size_t nk,
                           const ss_calib *c, const ss_cal_model *gm,
                           const unsigned char *skip, size_t *idx, ss_cal_model *ref,
                           int *fitted, ss_diag *d)
{
    refit_ctx x = {t, c, skip};
    memset(ref, 0, sizeof *ref);
    ss_rc rc = ss_calf_fit_gemm_class(t, keys, nk, gm->dtype, gm->tag, refit_keep, &x, idx, ref,
                                      fitted, d);
    /* the class it stands in for: the lattice's reach past its hull takes the basis of a
     * neighbour's class, and must take this refit, not the model fitted on every row, when
     * the neighbour is of this class (fit_gemm.c, lat_ratio) */
    snprintf(ref->tag, sizeof ref->tag, "%s", gm->tag);
    return rc;
}

/* One GEMM model's weight: refitted without the points it is judged on (a basis fitted to
 * them would favour itself), then each curve's top points continued from its edge. */
static ss_rc fit_beyond_one(const ss_meas_table *t, const rowkey *keys, size_t nk, ss_calib *c,
                            int g, size_t *idx, ss_diag *d)
{
    ss_cal_model *gm = &c->models[g], ref;
    int fitted;
    ss_rc rc = refit_without(t, keys, nk, c, gm, NULL, idx, &ref, &fitted, d);
    if (rc || !fitted) return rc;
    double err[SS_CAL_WEIGHTS] = {0};
    long pts = 0;
    for (int i = 0; i < c->nshapes; i++) {
        const ss_cal_shape *sh = &c->shapes[i];
        double sn = (double)sh->n, sk = (double)sh->k, wb = ss_calf_dtype_bytes(sh->dtype);
        if (sh->npts < 5 || !of_model(c, sh, gm)) continue;
        int edge = beyond_edge(sh);
        double be = ss_calf_gemm_basis(&ref, sh->m[edge], sn, sk, wb);
        shape_basis sb = {&ref, sn, sk, wb};
        double tf = ss_cal_beyond_from(sh->m, sh->t, edge, ref.beyond_octave,
                                       ss_calf_shape_basis, &sb);
        for (int j = edge + 1; j < sh->npts; j++, pts++) {
            double bm = ss_calf_gemm_basis(&ref, sh->m[j], sn, sk, wb);
            for (int q = 0; q < SS_CAL_WEIGHTS; q++)
                err[q] += fabs(log(ss_cal_beyond(sh->t[edge], tf, be, bm, q / 10.0) / sh->t[j]));
        }
    }
    gm->beyond_w = pick_weight(err, pts, SS_CAL_BEYOND_MIN);
    return SS_OK;
}

ss_rc ss_calf_fit_beyond(const ss_meas_table *t, const rowkey *keys, size_t nk, ss_calib *c,
                         ss_diag *d)
{
    size_t *idx = malloc((nk ? nk : 1) * sizeof *idx);
    if (!idx) return ss_diag_fail(d, SS_ERR_NOMEM, "calibrate: out of memory");
    ss_rc rc = SS_OK;
    for (int g = 0; g < c->nmodels && rc == SS_OK; g++)
        if (c->models[g].family == SS_FAM_GEMM) rc = fit_beyond_one(t, keys, nk, c, g, idx, d);
    free(idx);
    return rc;
}

/* The powers tried for lattice_near: 0 (the two axes' estimates averaged equally) first, so
 * that a tie keeps it. */
static const double lattice_near_p[] = {0, 1, 2, 4};
#define SS_CAL_NEAR_P (int)(sizeof lattice_near_p / sizeof *lattice_near_p)
/* A power above 0 is kept only where its summed error is this fraction of the equal
 * average's or less: smaller gains are the folds' noise, and taking them cost the tables
 * where the axes are as far (Vidur's, the cuBLASLt ones) up to 0.3 point of P90 on held-out
 * shapes (docs/validation.md) */
#define SS_CAL_NEAR_MARGIN 0.97

/* Each GEMM model's lattice_w and lattice_near: its measured shapes in SS_CAL_LATTICE_FOLDS
 * folds (by a hash of (dtype, n, k)); each fold's points predicted by the lattice of the
 * other folds' shapes, with each power of lattice_near_p, and by the basis refitted without
 * the fold's rows, and the pair of power and weight in 0, 0.1, ..., 1 with the least sum of
 * absolute log errors kept (a power above 0 needs SS_CAL_NEAR_MARGIN; ties to the smaller
 * power, then weight); both 0 with fewer than SS_CAL_LATTICE_MIN points the lattice
 * reaches. Whether the nearer axis deserves more trust is the table's to say:
 * aiconfigurator's tables, whose n and k values are spaced unevenly (1.17x to 3.1x apart),
 * mostly say yes, Vidur's per-model shapes and the cuBLASLt tables mostly no; figures in
 * docs/validation.md. */
static ss_rc fit_lattice_one(const ss_meas_table *t, const rowkey *keys, size_t nk, ss_calib *c,
                             int g, const int *fold, unsigned char *skip, size_t *idx, ss_diag *d)
{
    ss_cal_model *gm = &c->models[g];
    double err[SS_CAL_NEAR_P][SS_CAL_WEIGHTS] = {{0}};
    long pts = 0;
    for (int f = 0; f < SS_CAL_LATTICE_FOLDS; f++) {
        int any = 0;
        for (int i = 0; i < c->nshapes; i++) {
            skip[i] = fold[i] == f;
            any |= skip[i] && of_model(c, &c->shapes[i], gm);
        }
        if (!any) continue; /* no refit for a fold without this model's shapes */
        ss_cal_model ref;
        int fitted;
        ss_rc rc = refit_without(t, keys, nk, c, gm, skip, idx, &ref, &fitted, d);
        if (rc) return rc;
        if (!fitted) continue;
        /* the neighbours' curves beyond their m range continue with the refitted basis too */
        ref.beyond_w = gm->beyond_w;
        for (int i = 0; i < c->nshapes; i++) {
            const ss_cal_shape *sh = &c->shapes[i];
            double sn = (double)sh->n, sk = (double)sh->k;
            if (!skip[i] || !of_model(c, sh, gm)) continue;
            double wb = ss_calf_dtype_bytes(sh->dtype);
            /* at most SS_CAL_LATTICE_PTS points per curve, spread over it: the lattice walks
             * every shape per point, and the weight needs no more */
            int step = (sh->npts + SS_CAL_LATTICE_PTS - 1) / SS_CAL_LATTICE_PTS;
            for (int j = 0; j < sh->npts; j += step) {
                double e[2], span[2], m = sh->m[j];
                int ne = ss_calf_gemm_lattice_parts(c, &ref, gm->dtype, skip, m, sn, sk, wb, e,
                                                    span);
                if (ne == 0) continue;
                double b = ss_calf_gemm_basis(&ref, m, sn, sk, wb);
                for (int p = 0; p < SS_CAL_NEAR_P; p++) {
                    double tl = ss_calf_lattice_near(e, span, ne, lattice_near_p[p]);
                    for (int q = 0; q < SS_CAL_WEIGHTS; q++)
                        err[p][q] += fabs(log(ss_calf_lattice_blend(tl, b, q / 10.0) / sh->t[j]));
                }
                pts++;
            }
        }
    }
    int bp = 0;
    double bw = 0, best = INFINITY;
    for (int p = 0; p < SS_CAL_NEAR_P; p++) {
        double w = pick_weight(err[p], pts, SS_CAL_LATTICE_MIN);
        double e = err[p][lround(w * 10)];
        if (p > 0) e /= SS_CAL_NEAR_MARGIN;
        if (e < best) best = e, bp = p, bw = w;
    }
    gm->lattice_w = bw;
    gm->lattice_near = pts >= SS_CAL_LATTICE_MIN ? lattice_near_p[bp] : 0;
    return SS_OK;
}

ss_rc ss_calf_fit_lattice_w(const ss_meas_table *t, const rowkey *keys, size_t nk, ss_calib *c,
                            ss_diag *d)
{
    size_t *idx = malloc((nk ? nk : 1) * sizeof *idx);
    int *fold = malloc((size_t)(c->nshapes ? c->nshapes : 1) * sizeof *fold);
    unsigned char *skip = malloc((size_t)(c->nshapes ? c->nshapes : 1));
    ss_rc rc = SS_OK;
    if (!idx || !fold || !skip) rc = ss_diag_fail(d, SS_ERR_NOMEM, "calibrate: out of memory");
    /* the fold of a shape from a hash of (dtype, n, k), not its rank: a regular grid with a
     * multiple of 5 values of k per n would put each k column in one fold (the RTX PRO 6000
     * FP4 table has 20), and the lattice could then never reach a held-out edge column;
     * both m-class curves of a shape share the key, so one fold */
    for (int i = 0; rc == SS_OK && i < c->nshapes; i++) {
        const ss_cal_shape *sh = &c->shapes[i];
        uint64_t h = (uint64_t)sh->n * 0x9E3779B97F4A7C15ull ^ (uint64_t)sh->k << 20 ^
                     (uint64_t)sh->dtype << 56;
        h ^= h >> 30, h *= 0xBF58476D1CE4E5B9ull, h ^= h >> 27, h *= 0x94D049BB133111EBull;
        h ^= h >> 31; /* splitmix64's finaliser */
        fold[i] = (int)(h % SS_CAL_LATTICE_FOLDS);
    }
    for (int g = 0; g < c->nmodels && rc == SS_OK; g++)
        if (c->models[g].family == SS_FAM_GEMM)
            rc = fit_lattice_one(t, keys, nk, c, g, fold, skip, idx, d);
    free(idx), free(fold), free(skip);
    return rc;
}

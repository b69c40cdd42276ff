/* GEMM size classes: the class of a shape, the model a shape is priced by, and the fit of a
 * class whose own shapes cannot separate its fixed time from its weight-read time. fit.h
 * describes the model; docs/cost-model.md derives it. */
#include "hwprofiles/calib/fit.h"
#include "hwprofiles/calib/fit_int.h"

#include <math.h>
#include <string.h>

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

/* The size class of a GEMM class tag; -1 for any other tag. */
static int gemm_class_of_tag(const char *tag)
{
    for (int c = 0; c < GEMM_CLASSES; c++)
        if (!strcmp(tag, gemm_class_tag[c])) return c;
    return -1;
}

/* Does a GEMM row of classes [lo, hi] leave its fixed time and its weight-read time
 * separable? Fewer than 3 distinct (n, k), or n x k spanning less than a factor 2, and the
 * two columns are nearly collinear. */
static int gemm_pool_thin(const ss_meas_table *t, const rowkey *keys, size_t nk, int dtype,
                          int lo, int hi)
{
    double nk_lo = INFINITY, nk_hi = 0, seen[3][2];
    int nseen = 0;
    for (size_t i = 0; i < nk; i++) {
        if (keys[i].family != SS_FAM_GEMM || keys[i].dtype != dtype) continue;
        int cl = gemm_class_of_tag(keys[i].tag);
        if (cl < lo || cl > hi) continue;
        const ss_meas *r = &t->rows[keys[i].idx];
        double v = (double)r->n * (double)r->k;
        if (v < nk_lo) nk_lo = v;
        if (v > nk_hi) nk_hi = v;
        int dup = 0;
        for (int s = 0; s < nseen && !dup; s++) dup = seen[s][0] == r->n && seen[s][1] == r->k;
        if (!dup && nseen < 3) seen[nseen][0] = (double)r->n, seen[nseen][1] = (double)r->k, nseen++;
    }
    return nseen < 3 || nk_hi < 2 * nk_lo;
}

static int gemm_class_has_rows(const rowkey *keys, size_t nk, int dtype, int cl)
{
    for (size_t i = 0; i < nk; i++)
        if (keys[i].family == SS_FAM_GEMM && keys[i].dtype == dtype &&
            gemm_class_of_tag(keys[i].tag) == cl)
            return 1;
    return 0;
}

void ss_calf_gemm_pool(const ss_meas_table *t, const rowkey *keys, size_t nk, int dtype,
                       const char *tag, int *lo, int *hi)
{
    int c = gemm_class_of_tag(tag);
    *lo = *hi = c;
    if (c < 0) return;
    while (gemm_pool_thin(t, keys, nk, dtype, *lo, *hi)) {
        int l = *lo - 1, h = *hi + 1;
        while (l >= 0 && !gemm_class_has_rows(keys, nk, dtype, l)) l--;
        while (h < GEMM_CLASSES && !gemm_class_has_rows(keys, nk, dtype, h)) h++;
        if (l < 0 && h >= GEMM_CLASSES) break;
        if (l >= 0) *lo = l;
        if (h < GEMM_CLASSES) *hi = h;
    }
}

int ss_calf_gemm_in_pool(const rowkey *key, int dtype, int lo, int hi)
{
    if (key->family != SS_FAM_GEMM || key->dtype != dtype) return 0;
    int cl = gemm_class_of_tag(key->tag);
    return cl >= 0 && cl >= lo && cl <= hi;
}

const char *ss_calf_gemm_class_tag(double n, double k) { return gemm_class_tag[gemm_class(n, k)]; }

ss_rc ss_calf_fit_gemm_class(const ss_meas_table *t, const rowkey *keys, size_t nk, int dtype,
                             const char *tag, int (*keep)(const rowkey *, void *), void *ctx,
                             size_t *idx, ss_cal_model *out, int *fitted, ss_diag *d)
{
    int lo, hi, cl = gemm_class_of_tag(tag);
    ss_calf_gemm_pool(t, keys, nk, dtype, tag, &lo, &hi);
    *fitted = 0;
    double pin0 = NAN;
    if (lo != hi) {
        size_t n = 0;
        for (size_t i = 0; i < nk; i++)
            if (ss_calf_gemm_in_pool(&keys[i], dtype, lo, hi) && (!keep || keep(&keys[i], ctx)))
                idx[n++] = keys[i].idx;
        if (n >= 4) {
            ss_cal_model pool;
            memset(&pool, 0, sizeof pool);
            ss_rc rc = ss_calf_fit_model_pin(t, idx, n, NAN, 0, &pool, d);
            if (rc) return rc;
            pin0 = pool.terms[0].coef[0];
        }
    }
    size_t n = 0;
    for (size_t i = 0; i < nk; i++)
        if (ss_calf_gemm_in_pool(&keys[i], dtype, cl, cl) && (!keep || keep(&keys[i], ctx)))
            idx[n++] = keys[i].idx;
    if (n < 4) return SS_OK;
    *fitted = 1;
    return ss_calf_fit_model_pin(t, idx, n, pin0, 0, out, d);
}

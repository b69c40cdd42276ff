/* Cross-validation of the fitted operator models: the error on rows that were NOT used in
 * the fit, three ways (docs/validation.md, operator level):
 *
 *   kfold        random rows in k folds (GSL stream "calibration-kfold"): interpolation;
 *   shapes       whole groups held out, in k folds shuffled by the stream
 *                "calibration-shapes": GEMM (n, k) shapes, attention head configurations,
 *                and for the other families the model profiled (leave one model out) or,
 *                without a model column, the collective's GPU count / the row width;
 *   extrapolate  per fitted group, the rows above the 80th percentile of the size measure
 *                (tokens for GEMM, elementwise and attention, bytes for collectives, batch
 *                for CPU overhead and sampler) fitted on the rest.
 *
 * Each fold refits everything from scratch with the same fitter as `servesim calibrate`. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hwprofiles/calib/fit.h"
#include "sim/core/rng.h"

static const char *const scheme_names[] = {"kfold", "shapes", "extrapolate", "profile",
                                            "profile-unseen"};

const char *ss_cv_scheme_name(int s)
{
    return s >= 0 && s < SS_CV_NALL ? scheme_names[s] : "?";
}

/* Group of a row for the shapes scheme. */
static void group_key(const ss_meas_table *t, const ss_meas *r, char *buf, size_t n)
{
    /* GEMMs are held out by shape (an unseen model is unseen (n, k) shapes); attention by
     * head configuration; the rest by the model profiled where the source names one */
    const char *model = ss_meas_str(t, r->model);
    int kind = ss_cal_kind_of(r->family);
    if (model[0] && kind != SS_CAL_GEMM && kind != SS_CAL_ATTN && kind != SS_CAL_MOE) {
        snprintf(buf, n, "model %s", model);
        return;
    }
    switch (ss_cal_kind_of(r->family)) {
    case SS_CAL_GEMM: snprintf(buf, n, "n%lld k%lld", (long long)r->n, (long long)r->k); break;
    case SS_CAL_ATTN: snprintf(buf, n, "h%d kv%d d%d", r->heads, r->kv_heads, r->head_dim); break;
    case SS_CAL_ELEM: snprintf(buf, n, "w%lld", (long long)r->n); break;
    case SS_CAL_COLL: snprintf(buf, n, "p%d", r->gpus); break;
    case SS_CAL_MOE:
        snprintf(buf, n, "h%lld i%lld e%d k%d", (long long)r->hidden, (long long)r->inter,
                 r->experts, r->topk);
        break;
    default: snprintf(buf, n, "all"); break;
    }
}

/* Size measure of a row for the extrapolation scheme. */
static double size_of(const ss_meas *r)
{
    switch (ss_cal_kind_of(r->family)) {
    case SS_CAL_GEMM:
    case SS_CAL_MOE:
    case SS_CAL_ELEM: return (double)r->m;
    case SS_CAL_ATTN: {
        double b = r->batch > 0 ? r->batch : 1;
        if (r->family == SS_FAM_ATTN_PREFILL) return b * (double)(r->q + r->kv);
        if (r->family == SS_FAM_ATTN_DECODE) return b * (double)(r->kv + 1);
        return (double)(r->q + r->kv) + (double)r->n_decode * (double)(r->kv_decode + 1);
    }
    case SS_CAL_COLL: return (double)r->bytes;
    default: return r->batch > 0 ? r->batch : (double)r->m;
    }
}

typedef struct gkey {
    char key[160];
    int family;
    size_t row;
} gkey;

static int cmp_gkey(const void *a, const void *b)
{
    const gkey *x = a, *y = b;
    if (x->family != y->family) return x->family - y->family;
    int c = strcmp(x->key, y->key);
    if (c) return c;
    return (x->row > y->row) - (x->row < y->row);
}

typedef struct skey {
    int family, dtype;
    char tag[SS_CAL_TAG_LEN];
    double size;
    size_t row;
} skey;

static int cmp_skey(const void *a, const void *b)
{
    const skey *x = a, *y = b;
    if (x->family != y->family) return x->family - y->family;
    int c = strcmp(x->tag, y->tag);
    if (c) return c;
    if (x->dtype != y->dtype) return x->dtype - y->dtype;
    if (x->size != y->size) return (x->size > y->size) - (x->size < y->size);
    return (x->row > y->row) - (x->row < y->row);
}

/* Fold of every usable row (-1: not usable / not tested in this scheme). Returns the number
 * of folds. */
static int assign(const ss_meas_table *t, const char *stack, int scheme, int folds,
                  uint64_t seed, int *fold, long *groups, ss_diag *d)
{
    for (size_t i = 0; i < t->n; i++) fold[i] = -1;
    for (int f = 0; f < SS_FAM_COUNT; f++) groups[f] = 0;
    if (scheme == SS_CV_KFOLD) {
        ss_rng rng;
        if (ss_rng_init(&rng, seed, 0, "calibration-kfold", d)) return -1;
        for (size_t i = 0; i < t->n; i++) {
            double x[SS_CAL_MAX_TERMS], s[SS_CAL_MAX_TERMS];
            if (!ss_cal_row_usable(t, &t->rows[i], stack) ||
                ss_cal_row_features(&t->rows[i], x, s) <= 0)
                continue;
            fold[i] = (int)gsl_rng_uniform_int(rng.g, (unsigned long)folds);
        }
        ss_rng_free(&rng);
        return folds;
    }
    if (scheme == SS_CV_SHAPES) {
        gkey *k = malloc((t->n ? t->n : 1) * sizeof *k);
        if (!k) {
            ss_diag_fail(d, SS_ERR_NOMEM, "out of memory");
            return -1;
        }
        size_t nk = 0;
        for (size_t i = 0; i < t->n; i++) {
            double x[SS_CAL_MAX_TERMS], s[SS_CAL_MAX_TERMS];
            if (!ss_cal_row_usable(t, &t->rows[i], stack) ||
                ss_cal_row_features(&t->rows[i], x, s) <= 0)
                continue;
            k[nk].family = t->rows[i].family;
            group_key(t, &t->rows[i], k[nk].key, sizeof k[nk].key);
            k[nk].row = i;
            nk++;
        }
        qsort(k, nk, sizeof *k, cmp_gkey);
        ss_rng rng;
        if (ss_rng_init(&rng, seed, 0, "calibration-shapes", d)) {
            free(k);
            return -1;
        }
        /* per family: distinct groups, shuffled, dealt round-robin into folds */
        size_t *gstart = malloc((nk + 1) * sizeof *gstart);
        size_t *perm = malloc((nk + 1) * sizeof *perm);
        for (size_t a = 0; gstart && perm && a < nk;) {
            size_t b = a;
            while (b < nk && k[b].family == k[a].family) b++;
            size_t ng = 0;
            for (size_t i = a; i < b; i++)
                if (i == a || strcmp(k[i].key, k[i - 1].key)) gstart[ng++] = i;
            gstart[ng] = b;
            if (ng >= 2) {
                for (size_t g = 0; g < ng; g++) perm[g] = g;
                for (size_t g = ng - 1; g > 0; g--) {
                    size_t j = (size_t)gsl_rng_uniform_int(rng.g, (unsigned long)(g + 1));
                    size_t tmp = perm[g];
                    perm[g] = perm[j], perm[j] = tmp;
                }
                int nf = ng < (size_t)folds ? (int)ng : folds;
                for (size_t g = 0; g < ng; g++)
                    for (size_t i = gstart[perm[g]]; i < gstart[perm[g] + 1]; i++)
                        fold[k[i].row] = (int)(g % (size_t)nf);
                groups[k[a].family] = (long)ng;
            }
            a = b;
        }
        int ok = gstart && perm;
        free(gstart), free(perm), free(k);
        ss_rng_free(&rng);
        if (!ok) {
            ss_diag_fail(d, SS_ERR_NOMEM, "out of memory");
            return -1;
        }
        return folds;
    }
    /* extrapolate: fold 0 = rows above the 80th percentile of their group's sizes, fold 1 =
     * the rest (trained on, never tested) */
    skey *k = malloc((t->n ? t->n : 1) * sizeof *k);
    if (!k) {
        ss_diag_fail(d, SS_ERR_NOMEM, "out of memory");
        return -1;
    }
    size_t nk = 0;
    for (size_t i = 0; i < t->n; i++) {
        const ss_meas *r = &t->rows[i];
        double x[SS_CAL_MAX_TERMS], s[SS_CAL_MAX_TERMS];
        if (!ss_cal_row_usable(t, r, stack) || ss_cal_row_features(r, x, s) <= 0) continue;
        k[nk].family = ss_cal_fit_family(r->family);
        k[nk].dtype = ss_cal_row_dtype(r);
        ss_cal_row_tag(t, r, k[nk].tag);
        k[nk].size = size_of(r);
        k[nk].row = i;
        nk++;
    }
    qsort(k, nk, sizeof *k, cmp_skey);
    for (size_t a = 0; a < nk;) {
        size_t b = a;
        while (b < nk && k[b].family == k[a].family && k[b].dtype == k[a].dtype &&
               !strcmp(k[b].tag, k[a].tag))
            b++;
        double thr = k[a + (size_t)(0.8 * (double)(b - a - 1))].size;
        for (size_t i = a; i < b; i++) fold[k[i].row] = k[i].size > thr ? 0 : 1;
        a = b;
    }
    free(k);
    return 1; /* only fold 0 is tested */
}

void ss_cv_rows_free(ss_cv_rows *r)
{
    free(r->v);
    memset(r, 0, sizeof *r);
}

static int rows_push(ss_cv_rows *r, int scheme, size_t row, double pred)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 1024;
        ss_cv_row *v = realloc(r->v, cap * sizeof *v);
        if (!v) return -1;
        r->v = v, r->cap = cap;
    }
    r->v[r->n++] = (ss_cv_row){scheme, row, pred};
    return 0;
}

ss_rc ss_cal_crossval(const ss_meas_table *t, const ss_fit_opts *o, int folds, uint64_t seed,
                      ss_cv_result **out, size_t *nout, ss_cv_rows *log, ss_diag *d)
{
    *out = NULL;
    *nout = 0;
    int *fold = malloc((t->n ? t->n : 1) * sizeof *fold);
    double *pred = malloc((t->n ? t->n : 1) * sizeof *pred);
    ss_meas *rows = malloc((t->n ? t->n : 1) * sizeof *rows);
    double *ape = malloc((t->n ? t->n : 1) * sizeof *ape);
    size_t *ix = malloc((t->n ? t->n : 1) * sizeof *ix);
    ss_cv_result *res = calloc(SS_CV_NSCHEMES * SS_FAM_COUNT, sizeof *res);
    ss_rc rc = SS_OK;
    if (!fold || !pred || !rows || !ape || !ix || !res) {
        rc = ss_diag_fail(d, SS_ERR_NOMEM, "out of memory");
        goto done;
    }
    size_t nres = 0;
    for (int sc = 0; sc < SS_CV_NSCHEMES && rc == SS_OK; sc++) {
        long groups[SS_FAM_COUNT];
        int nf = assign(t, o->stack, sc, folds, seed, fold, groups, d);
        if (nf < 0) {
            rc = d ? d->rc : SS_ERR_INTERNAL;
            break;
        }
        for (size_t i = 0; i < t->n; i++) pred[i] = NAN;
        for (int f = 0; f < nf && rc == SS_OK; f++) {
            /* training view: every row not in fold f (unusable rows are skipped by the fit) */
            ss_meas_table v = *t;
            size_t nv = 0;
            int any_test = 0;
            for (size_t i = 0; i < t->n; i++) {
                if (fold[i] == f) any_test = 1;
                else rows[nv++] = t->rows[i];
            }
            if (!any_test) continue;
            v.rows = rows, v.n = nv, v.cap = nv;
            ss_calib c;
            ss_calib_init(&c);
            ss_fit_opts fo = *o;
            fo.with_shapes = 1;
            rc = ss_cal_fit_all(&v, &fo, &c, d);
            for (size_t i = 0; rc == SS_OK && i < t->n; i++)
                if (fold[i] == f) pred[i] = ss_cal_predict_row(&c, t, &t->rows[i]);
            ss_calib_free(&c);
        }
        if (rc) break;
        for (size_t i = 0; log && i < t->n; i++) {
            if (isnan(pred[i]) || fold[i] < 0 || (sc == SS_CV_EXTRAP && fold[i] != 0)) continue;
            if (rows_push(log, sc, i, pred[i])) {
                rc = ss_diag_fail(d, SS_ERR_NOMEM, "out of memory");
                break;
            }
        }
        if (rc) break;
        for (int fam = 0; fam < SS_FAM_COUNT; fam++) {
            size_t n = 0;
            for (size_t i = 0; i < t->n; i++) {
                const ss_meas *r = &t->rows[i];
                if (r->family != fam || isnan(pred[i]) || fold[i] < 0) continue;
                if (sc == SS_CV_EXTRAP && fold[i] != 0) continue;
                ape[n] = fabs(pred[i] - r->time_s) / r->time_s;
                ix[n] = i;
                n++;
            }
            if (n == 0) continue;
            ss_cv_result *e = &res[nres++];
            e->scheme = sc, e->family = fam, e->rows = (long)n, e->groups = groups[fam];
            size_t w;
            ss_cal_ape_stats(ape, n, &e->median, &e->p90, &e->max, &w);
            e->worst = ix[w];
            e->worst_pred = pred[ix[w]];
        }
    }
    if (rc == SS_OK) {
        *out = res, *nout = nres;
        res = NULL;
    }
done:
    free(fold), free(pred), free(rows), free(ape), free(ix), free(res);
    return rc;
}

/* Did c measure the shape / head configuration of row r (a curve or grid of its own)? Rows
 * of the other families count as measured: their models are fitted, not tabulated. */
static int profile_measured(const ss_calib *c, const ss_meas *r)
{
    switch (ss_cal_kind_of(r->family)) {
    case SS_CAL_GEMM: return ss_calib_find_shape(c, ss_cal_row_dtype(r), r->n, r->k) != NULL;
    case SS_CAL_ATTN:
        return ss_calib_find_grid(c, r->family, ss_cal_row_dtype(r), r->heads, r->kv_heads,
                                  r->head_dim) != NULL;
    default: return 1;
    }
}

ss_rc ss_cal_profile_check(const ss_calib *c, const ss_meas_table *t, ss_cv_result **out,
                           size_t *nout, long uncovered[SS_FAM_COUNT], ss_cv_rows *rows,
                           ss_diag *d)
{
    *out = NULL;
    *nout = 0;
    if (uncovered)
        for (int f = 0; f < SS_FAM_COUNT; f++) uncovered[f] = 0;
    size_t cap = t->n ? t->n : 1;
    double *pred = malloc(cap * sizeof *pred), *ape = malloc(cap * sizeof *ape);
    int *scheme = malloc(cap * sizeof *scheme);
    size_t *ix = malloc(cap * sizeof *ix);
    gkey *gk = malloc(cap * sizeof *gk);
    ss_cv_result *res = calloc(2 * SS_FAM_COUNT, sizeof *res);
    ss_rc rc = SS_OK;
    if (!pred || !ape || !scheme || !ix || !gk || !res) {
        rc = ss_diag_fail(d, SS_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < t->n; i++) {
        const ss_meas *r = &t->rows[i];
        double x[SS_CAL_MAX_TERMS], sc[SS_CAL_MAX_TERMS];
        scheme[i] = -1;
        if (!ss_cal_row_usable(t, r, NULL) || ss_cal_row_features(r, x, sc) <= 0) continue;
        pred[i] = ss_cal_predict_row(c, t, r);
        if (!(pred[i] > 0)) {
            if (uncovered) uncovered[r->family]++;
            continue;
        }
        scheme[i] = profile_measured(c, r) ? SS_CV_PROFILE : SS_CV_PROFILE_UNSEEN;
    }
    for (int sc = SS_CV_PROFILE; rows && sc <= SS_CV_PROFILE_UNSEEN; sc++)
        for (size_t i = 0; i < t->n; i++)
            if (scheme[i] == sc && rows_push(rows, sc, i, pred[i])) {
                rc = ss_diag_fail(d, SS_ERR_NOMEM, "out of memory");
                goto done;
            }
    size_t nres = 0;
    for (int sc = SS_CV_PROFILE; sc <= SS_CV_PROFILE_UNSEEN; sc++)
        for (int fam = 0; fam < SS_FAM_COUNT; fam++) {
            size_t n = 0;
            for (size_t i = 0; i < t->n; i++) {
                const ss_meas *r = &t->rows[i];
                if (scheme[i] != sc || r->family != fam) continue;
                ape[n] = fabs(pred[i] - r->time_s) / r->time_s;
                ix[n] = i;
                gk[n].family = fam;
                group_key(t, r, gk[n].key, sizeof gk[n].key);
                gk[n].row = i;
                n++;
            }
            if (n == 0) continue;
            qsort(gk, n, sizeof *gk, cmp_gkey);
            long groups = 0;
            for (size_t g = 0; g < n; g++)
                if (g == 0 || strcmp(gk[g].key, gk[g - 1].key)) groups++;
            ss_cv_result *o = &res[nres++];
            o->scheme = sc, o->family = fam, o->rows = (long)n, o->groups = groups;
            size_t w;
            ss_cal_ape_stats(ape, n, &o->median, &o->p90, &o->max, &w);
            o->worst = ix[w];
            o->worst_pred = pred[ix[w]];
        }
    *out = res, *nout = nres;
    res = NULL;
done:
    free(pred), free(ape), free(scheme), free(ix), free(gk), free(res);
    return rc;
}

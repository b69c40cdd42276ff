/* Internals of the calibration fitter (hwprofiles/calib/fit.h), PRIVATE to the files of
 * hwprofiles/calib: nothing outside that folder includes this; fit.h is the contract.
 *
 * Layout: basis.c owns the raw features and the evaluation of a fitted model; fit.c the
 * ramp knots, the NNLS fit, grouping by stack (ss_cal_fit_all) and the skew fit; fit_gemm.c
 * the measured GEMM curves and their (n, k) lattice; fit_attn.c the attention grids;
 * attn_lattice.c their head-configuration lattice; fit_decode.c the decode grids'
 * continuation beyond their measured corner; fit_moe.c the measured MoE curves and their
 * lattice; calib_read.c and calib_write.c a profile's calibration section. What more than
 * one of them uses is declared here, with the prefix ss_calf_. */
#ifndef SS_HWPROFILES_CALIB_FIT_INT_H
#define SS_HWPROFILES_CALIB_FIT_INT_H

#include <stddef.h>

#include "hwprofiles/calib/fit.h"

/* calib_read.c and calib_write.c: the format of a profile's calibration section.
 * 2: GEMM models have the per-row and the serial-tile terms (format 1 lacks them; read with
 * those terms 0). 3: GEMM models have beyond_basis and lattice_basis (formats 1 and 2: read
 * as 0, the continuation and lattice they were validated with). 4: decode attention models
 * have mha_apart (formats before: read as false, the lattice they were validated with). 5:
 * decode attention models have spill_bw (formats before: read as 0, no streaming floor). 6:
 * measured MoE curves (`moe_curves`; formats before have none: every MoE configuration from
 * the basis, as they were validated). 7: attention models have the decode intensity term
 * (formats before lack it; read with that term 0, which is what their fits were). 8: a GEMM
 * curve is continued beyond its largest m from the line through its last octave
 * (ss_cal_beyond_from; no new key: formats before continue from the last point, as their
 * beyond_basis was chosen for), and prefill attention models have mha_own (formats before:
 * read as false). 9: prefill and mixed attention models have heads_only (formats before:
 * read as false). 10: GEMM models have lattice_near (formats before: read as 0, the two
 * axes of the lattice averaged equally, as they were validated). */
#define SS_CAL_FORMAT 10

/* Sort key of a row for grouping: family, tag, dtype. qsort has no context argument, so the
 * key is precomputed. */
typedef struct rowkey {
    int family, dtype;
    char tag[SS_CAL_TAG_LEN];
    size_t idx;
} rowkey;

/* gemm_class.c: the size-class tag of a GEMM shape (n, k). */
const char *ss_calf_gemm_class_tag(double n, double k);
/* gemm_class.c: the GEMM size classes [lo, hi] whose rows fit the model of class tag (dtype): the
 * class itself, widened to its nearest populated neighbours on both sides while the rows
 * cannot separate fixed time from weight bytes (fewer than 3 shapes, or n x k spanning less
 * than a factor 2); -1, -1 for a tag that is not a GEMM class. */
void ss_calf_gemm_pool(const ss_meas_table *t, const rowkey *keys, size_t nk, int dtype,
                       const char *tag, int *lo, int *hi);
int ss_calf_gemm_in_pool(const rowkey *key, int dtype, int lo, int hi);
/* gemm_class.c: the model of GEMM class tag (dtype) on the rows keep() accepts (NULL: all), idx
 * as scratch (nk entries); where the class is thin (ss_calf_gemm_pool widens it), its fixed
 * time per call is pinned to that of a fit on the widened pool. *fitted = 0 with fewer
 * than 4 rows. */
ss_rc ss_calf_fit_gemm_class(const ss_meas_table *t, const rowkey *keys, size_t nk, int dtype,
                             const char *tag, int (*keep)(const rowkey *, void *), void *ctx,
                             size_t *idx, ss_cal_model *out, int *fitted, ss_diag *d);
/* fit.c: ss_cal_fit_model with term 0 (the fixed time per call) pinned to pin0 where pin0
 * is not NAN. */
ss_rc ss_calf_fit_model_pin(const ss_meas_table *t, const size_t *idx, size_t n, double pin0,
                            double ridge, ss_cal_model *out, ss_diag *d);
/* fit.c: room for one more item of size elem in *p, which holds n of *cap (doubling, from
 * first); the message on failure. */
ss_rc ss_calf_reserve(void **p, int *cap, int n, int first, size_t elem, ss_diag *d);
/* fit.c: qsort order of doubles (knots, grid axes). */
int ss_calf_cmp_double(const void *a, const void *b);
/* Bytes of one element of ss_dtype t; 2 when unknown. */
static inline double ss_calf_dtype_bytes(int t)
{
    if (t < 0 || t >= SS_DTYPE_COUNT) return 2;
    return ss_dtype_bits((ss_dtype)t) / 8.0;
}
/* fit.c: the attention query of a measured row (features, grids and predictions agree). */
void ss_calf_row_attn_q(const ss_meas *r, ss_cal_attn_q *q);
/* fit_attn.c, for the lattice (attn_lattice.c): the call at grid coordinates x of a family's
 * grid, with like's head configuration; the fitted basis m's time of call q. */
void ss_calf_grid_query(int family, const double x[], const ss_cal_attn_q *like, ss_cal_attn_q *q);
double ss_calf_attn_basis(const ss_cal_model *m, const ss_cal_attn_q *q);

/* fit_moe.c: the curves of the measured MoE configurations among the rows keys select. */
ss_rc ss_calf_fit_moe_curves(const ss_meas_table *t, const rowkey *keys, size_t nk, ss_calib *c,
                             ss_diag *d);

/* fit_gemm.c: the points of a measured curve (mm, tt)[0..nm) into (m, t), thinned evenly to
 * SS_CAL_MAX_SHAPE_PTS keeping both ends; returns how many. */
int ss_calf_thin_curve(const double *mm, const double *tt, int nm, double *m, double *t);
/* fit_gemm.c: a curve's Steffen spline in (log m, log t) at x inside [m[0], m[np - 1]]. */
double ss_calf_steffen_loglog(const double *m, const double *t, int np, double x);
/* fit_gemm.c: a measured curve t[0..n) made non-decreasing (spikes cut, then
 * pool-adjacent-violators in log t); the attention grids use it along every axis line. */
void ss_calf_make_monotone(double *t, int n);
/* fit_gemm.c: the bracketing and the log blend both lattices share (GEMM (n, k) and
 * attention (heads, kv_heads)); the comment at the definition says how. */
int ss_calf_bracket_step(long v, double p, long *lo, long *hi);
double ss_calf_log_blend(double p, long lo, long hi, double a, double b);

/* Sort key of an attention row for its grid: family, KV dtype, head configuration. */
typedef struct akey {
    int family, dtype, heads, kv_heads, head_dim;
    size_t row;
} akey;
/* a and b are rows of the same grid (family, KV dtype and head configuration). */
static inline int ss_calf_same_grid(const akey *a, const akey *b)
{
    return a->family == b->family && a->dtype == b->dtype && a->heads == b->heads &&
           a->kv_heads == b->kv_heads && a->head_dim == b->head_dim;
}

/* fit.c: K and V bytes per token of context of a query's head configuration. */
double ss_calf_kv_bytes_per_token(const ss_cal_attn_q *q);
/* fit_decode.c: the asymptotic costs of a KV dtype's decode grids (seconds per KV byte read
 * and per request), from the keys k[0..n) sorted by family, dtype and head configuration;
 * 0 when there is no positive per-byte slope. */
typedef struct ss_calf_dec_asym {
    double per_byte, per_req;
} ss_calf_dec_asym;
int ss_calf_decode_asymptote(const ss_meas_table *t, const akey *k, size_t n, int dtype,
                             ss_calf_dec_asym *out);
/* fit_decode.c: the line continuation of decode grid cell i (grid indices idx), from the
 * measured cells (cnt[j] != 0) of g; s_asym per token of work, per_req per request. 0 when
 * no axis line has a measured cell below the cell. */
double ss_calf_decode_line(const ss_cal_grid *g, const int *cnt, const size_t *stride,
                           const int *idx, size_t i, double s_asym, double per_req);
/* fit_decode.c: every decode attention model's spill_bw (fit.h) from the usable rows in
 * keys[0..nk) that read more than twice l2 bytes of KV; at least 3 rows, else 0. */
void ss_calf_fit_spill(const ss_meas_table *t, const rowkey *keys, size_t nk, double l2,
                       ss_calib *c);

/* The passes ss_cal_fit_all makes after the operator models, over its grouped keys[0..nk):
 * the measured GEMM curves (fit_gemm.c) and the attention grids (fit_attn.c). */
ss_rc ss_calf_fit_shapes(const ss_meas_table *t, const rowkey *keys, size_t nk, ss_calib *c,
                         ss_diag *d);
/* Each GEMM model's beyond_w (fit_weights.c): the weight in {0, 0.1, ..., 1} that best
 * predicts (least sum of absolute log errors) the top 20 % of m of every shape of the model
 * from the rest of its curve, as ss_cal_beyond() does, with the basis refitted without
 * those points; 0 with fewer than SS_CAL_BEYOND_MIN such points. */
#define SS_CAL_BEYOND_MIN 40
ss_rc ss_calf_fit_beyond(const ss_meas_table *t, const rowkey *keys, size_t nk, ss_calib *c,
                         ss_diag *d);
/* fit_gemm.c, for fit_weights.c: a GEMM basis at (m, n, k); the (n, k) lattice without the
 * basis weight and without the shapes marked in skip (NULL: none); the lattice's estimate
 * moved towards the basis b by w in log time. */
double ss_calf_gemm_basis(const ss_cal_model *gm, double m, double n, double k, double wb);
/* fit_gemm.c: the GEMM basis of one shape (model, n, k, weight bytes) as a function of m,
 * for ss_cal_beyond_from. */
typedef struct shape_basis {
    const ss_cal_model *gm;
    double n, k, wb;
} shape_basis;
double ss_calf_shape_basis(const void *ctx, double m);
int ss_calf_gemm_lattice_raw(const ss_calib *c, const ss_cal_model *gm, int dtype,
                             const unsigned char *skip, double m, double n, double k,
                             double wbytes, double *t);
/* ... and its parts: the estimates along n and along k that exist (log t, e[0..ne)) and how
 * far each reached (span, log of the coordinate); the count ne, 0 when there is none. They
 * do not depend on gm->lattice_near, which ss_calf_lattice_near(e, span, ne, p) applies:
 * each weighted (span + 0.05)^-p, in log t. */
int ss_calf_gemm_lattice_parts(const ss_calib *c, const ss_cal_model *gm, int dtype,
                               const unsigned char *skip, double m, double n, double k,
                               double wbytes, double e[2], double span[2]);
double ss_calf_lattice_near(const double e[2], const double span[2], int ne, double p);
double ss_calf_lattice_blend(double t_lat, double b, double w);
/* Each GEMM model's lattice_w and lattice_near (fit_weights.c): the weight in {0, 0.1, ...,
 * 1} and the power in {0, 1, 2, 4} that best predict (least sum of absolute log errors) its
 * measured shapes, in SS_CAL_LATTICE_FOLDS folds by a hash of (dtype, n, k), at most
 * SS_CAL_LATTICE_PTS points per curve, from the lattice of the other folds and the basis
 * refitted without the fold; both 0 with fewer than SS_CAL_LATTICE_MIN points the lattice
 * reaches. */
#define SS_CAL_LATTICE_FOLDS 5
#define SS_CAL_LATTICE_MIN 40
#define SS_CAL_LATTICE_PTS 12
ss_rc ss_calf_fit_lattice_w(const ss_meas_table *t, const rowkey *keys, size_t nk, ss_calib *c,
                            ss_diag *d);
/* attn_lattice.c: each decode model's mha_apart, 1 where pricing every measured decode row
 * of its dtype from the other grids (the lattice, the row's grid hidden) errs less by a
 * fifth, in summed absolute log time, with MHA and GQA grids apart than together; each
 * prefill model's mha_own, 1 where the same sum is less at all with MHA queries priced from
 * MHA grids only; then each prefill and mixed model's heads_only, 1 where the sum is less
 * along the query heads alone than with the lattice so chosen. (Before 2026-11-29 the sums
 * ran over the grids' cells, filled ones included; no profile's choice changed.) */
void ss_calf_fit_attn_lattice(ss_calib *c, const ss_meas_table *t, const rowkey *keys,
                              size_t nk);
ss_rc ss_calf_fit_grids(const ss_meas_table *t, const rowkey *keys, size_t nk, ss_calib *c,
                        ss_diag *d);

#endif

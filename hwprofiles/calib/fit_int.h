/* Internals of the calibration fitter (hwprofiles/calib/fit.h), PRIVATE to the files of
 * hwprofiles/calib: nothing outside that folder includes this; fit.h is the contract.
 *
 * Layout: fit.c owns the features, the ramp basis, the NNLS fit, grouping (ss_cal_fit_all)
 * and the skew fit; fit_gemm.c the measured GEMM curves and their (n, k) lattice; fit_attn.c
 * the attention grids and their head-configuration lattice. What more than one of them uses
 * is declared here, with the prefix ss_calf_. */
#ifndef SS_HWPROFILES_CALIB_FIT_INT_H
#define SS_HWPROFILES_CALIB_FIT_INT_H

#include <stddef.h>

#include "hwprofiles/calib/fit.h"

/* Sort key of a row for grouping: family, tag, dtype. qsort has no context argument, so the
 * key is precomputed. */
typedef struct rowkey {
    int family, dtype;
    char tag[SS_CAL_TAG_LEN];
    size_t idx;
} rowkey;

/* fit.c: qsort order of doubles (knots, grid axes). */
int ss_calf_cmp_double(const void *a, const void *b);
/* fit.c: the attention query of a measured row (features, grids and predictions agree). */
void ss_calf_row_attn_q(const ss_meas *r, ss_cal_attn_q *q);

/* fit_gemm.c: a measured curve t[0..n) made non-decreasing (spikes cut, then
 * pool-adjacent-violators in log t); the attention grids use it along every axis line. */
void ss_calf_make_monotone(double *t, int n);
/* fit_gemm.c: the bracketing and the log blend both lattices share (GEMM (n, k) and
 * attention (heads, kv_heads)); the comment at the definition says how. */
int ss_calf_bracket_step(long v, double p, long *lo, long *hi);
double ss_calf_log_blend(double p, long lo, long hi, double a, double b);

/* The passes ss_cal_fit_all makes after the operator models, over its grouped keys[0..nk):
 * the measured GEMM curves (fit_gemm.c) and the attention grids (fit_attn.c). */
ss_rc ss_calf_fit_shapes(const ss_meas_table *t, const rowkey *keys, size_t nk, ss_calib *c,
                         ss_diag *d);
ss_rc ss_calf_fit_grids(const ss_meas_table *t, const rowkey *keys, size_t nk, ss_calib *c,
                        ss_diag *d);

#endif

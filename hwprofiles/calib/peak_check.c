/* Timings no kernel can achieve: a row whose FLOPs in its measured time exceed the GPU's peak
 * FLOP/s, or a decode row that streamed more KV than its L2 could hold faster than the memory
 * delivers, did not do the work it is labelled with (a kernel that exits early, a misread
 * configuration, a cache smaller than labelled), and neither, then, can the other rows of its
 * series be trusted. fit.h
 * describes the check; docs/calibration.md lists what it found. */
#include "hwprofiles/calib/fit.h"
#include "hwprofiles/calib/fit_int.h"

#include <stdlib.h>
#include <string.h>

/* Rated peaks are at the spec clock; boost clocks and the FLOP counts' rounding stay well
 * inside 25 % (the fastest valid rows of the shipped sources reach 0.98 of the peak). */
#define PEAK_MARGIN 1.25

/* FLOPs of row r, 0 where the family's FLOPs do not bound its time (memory-bound decode,
 * collectives, MoE whose EP kernels do other GPUs' work too). */
static double row_flops(const ss_meas *r)
{
    if (ss_cal_kind_of(r->family) == SS_CAL_GEMM) /* GEMM and LM head */
        return 2.0 * (double)r->m * (double)r->n * (double)r->k;
    if (r->family != SS_FAM_ATTN_PREFILL && r->family != SS_FAM_ATTN_MIXED) return 0;
    if (r->heads <= 0 || r->head_dim <= 0) return 0;
    ss_cal_attn_q q;
    ss_calf_row_attn_q(r, &q);
    return 4.0 * q.pf_pairs * q.heads * q.head_dim;
}

/* The GPU's rated peak for dtype t itself, 0 where it has none: the fallback to a wider
 * unit that costing uses (ss_hw_peak_flops) would understate, e.g., INT8 on an A100 (no FP8
 * peak, INT8 at twice BF16), and turn valid rows into impossible ones. */
static double own_peak(const ss_hw *hw, int t)
{
    switch ((ss_dtype)t) {
    case SS_DTYPE_FP4: return hw->peak_flops_fp4;
    case SS_DTYPE_FP8:
    case SS_DTYPE_INT8: return hw->peak_flops_fp8;
    case SS_DTYPE_BF16:
    case SS_DTYPE_FP16: return hw->peak_flops_bf16;
    case SS_DTYPE_FP32: return hw->peak_flops_fp32;
    default: return 0;
    }
}

/* The peak a row is held to, 0 when unknown (not checked). Attention may run its products
 * in the KV's type, so it is held to the larger of the two. */
static double row_peak(const ss_meas *r, const ss_hw *hw)
{
    double p = own_peak(hw, r->dtype);
    if (!(p > 0)) return 0;
    if (ss_cal_kind_of(r->family) == SS_CAL_ATTN) {
        double pk = own_peak(hw, r->kv_dtype);
        if (pk > p) p = pk;
    }
    return p;
}

/* Rows the check looks at: of hw's GPU, not already flagged, not a variant or approximate
 * (sliding-window rows do fewer FLOPs than their shape says; they are left out anyway and
 * are no evidence against their series). */
static int checked(const ss_meas_table *t, const ss_meas *r, const ss_hw *hw)
{
    return !(r->flags & (SS_MEAS_VARIANT | SS_MEAS_APPROX | SS_MEAS_OVER_PEAK)) &&
           !strcmp(t->sources[r->src].gpu, hw->name);
}

static int same_series(const ss_meas *a, const ss_cal_peak_series *s)
{
    return a->src == s->src && a->family == s->family && a->dtype == s->dtype &&
           a->kv_dtype == s->kv_dtype;
}

ss_rc ss_cal_check_peak(ss_meas_table *t, const ss_hw *hw, ss_cal_peak_series **out,
                        size_t *nout, ss_diag *d)
{
    ss_cal_peak_series *ser = NULL;
    size_t ns = 0, cap = 0;
    *out = NULL, *nout = 0;
    for (size_t i = 0; i < t->n; i++) {
        const ss_meas *r = &t->rows[i];
        if (!checked(t, r, hw)) continue;
        double fl = row_flops(r), pk = row_peak(r, hw);
        /* decode past twice the L2: held to the memory bandwidth instead */
        double kb = hw->hbm_bandwidth > 0 ? ss_cal_streamed_kv(r, (double)hw->l2_bytes) : 0;
        int bytes = kb > 0;
        if (bytes) fl = kb, pk = hw->hbm_bandwidth;
        if (!(fl > 0) || !(pk > 0) || !(r->time_s > 0)) continue;
        double ratio = fl / r->time_s / pk;
        if (ratio <= PEAK_MARGIN) continue;
        size_t j = 0;
        while (j < ns && !same_series(r, &ser[j])) j++;
        if (j == ns) {
            if (ns == cap) {
                size_t nc = cap ? 2 * cap : 8;
                ss_cal_peak_series *g = realloc(ser, nc * sizeof *g);
                if (!g) {
                    free(ser);
                    return ss_diag_fail(d, SS_ERR_NOMEM, "calibrate: out of memory");
                }
                ser = g, cap = nc;
            }
            ser[ns++] = (ss_cal_peak_series){.src = r->src, .family = r->family,
                                             .dtype = r->dtype, .kv_dtype = r->kv_dtype,
                                             .bytes = bytes};
        }
        ser[j].over++;
        if (ratio > ser[j].max_ratio) ser[j].max_ratio = ratio, ser[j].peak = pk;
    }
    for (size_t i = 0; i < t->n && ns; i++) {
        ss_meas *r = &t->rows[i];
        if (!checked(t, r, hw)) continue;
        for (size_t j = 0; j < ns; j++)
            if (same_series(r, &ser[j])) {
                r->flags |= SS_MEAS_OVER_PEAK;
                ser[j].rows++;
                t->sources[r->src].over_peak++;
                break;
            }
    }
    *out = ser, *nout = ns;
    return SS_OK;
}

/* Timings no kernel can achieve: a row whose FLOPs in its measured time exceed the GPU's peak
 * FLOP/s did not do the work it is labelled with (a kernel that exits early, a misread
 * configuration), and neither, then, can the other rows of its series be trusted. fit.h
 * describes the check; docs/calibration.md lists what it found. */
#include "hwprofiles/calib/fit.h"
#include "hwprofiles/calib/fit_int.h"

#include <string.h>

/* Rated peaks are at the spec clock; boost clocks and the FLOP counts' rounding stay well
 * inside 25 % (the fastest valid rows of the shipped sources reach 0.98 of the peak). */
#define PEAK_MARGIN 1.25

/* FLOPs of row r, 0 where the family's FLOPs do not bound its time (memory-bound decode,
 * collectives, MoE whose EP kernels do other GPUs' work too). */
static double row_flops(const ss_meas *r)
{
    switch (r->family) {
    case SS_FAM_GEMM:
        return 2.0 * (double)r->m * (double)r->n * (double)r->k;
    case SS_FAM_ATTN_PREFILL:
    case SS_FAM_ATTN_MIXED: {
        if (r->heads <= 0 || r->head_dim <= 0) return 0;
        ss_cal_attn_q q;
        ss_calf_row_attn_q(r, &q);
        return 4.0 * q.pf_pairs * q.heads * q.head_dim;
    }
    default:
        return 0;
    }
}

static double row_peak(const ss_meas *r, const ss_hw *hw)
{
    double p = ss_hw_peak_flops(hw, (ss_dtype)r->dtype);
    if (r->family != SS_FAM_GEMM) { /* attention may run its products in the KV's type */
        double pk = ss_hw_peak_flops(hw, (ss_dtype)r->kv_dtype);
        if (pk > p) p = pk;
    }
    return p;
}

static int same_series(const ss_meas *a, const ss_meas_peak_series *s)
{
    /* variant rows (sliding-window attention: fewer FLOPs than their shape says) are left
     * out anyway, and are no evidence against their series */
    return !(a->flags & (SS_MEAS_VARIANT | SS_MEAS_APPROX)) && a->src == s->src && a->family == s->family && a->dtype == s->dtype &&
           a->kv_dtype == s->kv_dtype;
}

size_t ss_meas_check_peak(ss_meas_table *t, const ss_hw *hw, ss_meas_peak_series *out,
                          size_t max)
{
    size_t ns = 0;
    for (size_t i = 0; i < t->n; i++) {
        const ss_meas *r = &t->rows[i];
        if ((r->flags & (SS_MEAS_VARIANT | SS_MEAS_APPROX)) ||
            strcmp(t->sources[r->src].gpu, hw->name) != 0)
            continue;
        double fl = row_flops(r), pk = row_peak(r, hw);
        if (!(fl > 0) || !(pk > 0) || !(r->time_s > 0)) continue;
        double ratio = fl / r->time_s / pk;
        if (ratio <= PEAK_MARGIN) continue;
        size_t j = 0;
        while (j < ns && !same_series(r, &out[j])) j++;
        if (j == ns) {
            if (ns == max) continue;
            out[ns++] = (ss_meas_peak_series){.src = r->src, .family = r->family,
                                              .dtype = r->dtype, .kv_dtype = r->kv_dtype};
        }
        out[j].over++;
        if (ratio > out[j].max_ratio) out[j].max_ratio = ratio, out[j].peak = pk;
    }
    for (size_t i = 0; i < t->n; i++) {
        ss_meas *r = &t->rows[i];
        for (size_t j = 0; j < ns; j++)
            if (same_series(r, &out[j])) {
                r->flags |= SS_MEAS_OVER_PEAK;
                out[j].rows++;
                t->sources[r->src].over_peak++;
                break;
            }
    }
    return ns;
}

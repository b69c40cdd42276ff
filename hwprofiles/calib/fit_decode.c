/* Decode attention beyond a grid's measured corner (fit_attn.c's build_grid takes the
 * smaller of this line continuation and the ratio continuation; docs/validation.md,
 * "Attention beyond the measured sizes").
 *
 * A decode call past the measured sizes is memory-bound: each further KV token read costs
 * its bytes at the kernel's streaming bandwidth, and the fixed and per-request costs stay as
 * they are. The grids of small KV heads cannot show that asymptote: their largest measured
 * calls (the extrapolation scheme holds out everything above the 80th size percentile) sit
 * in the knee, where the time per token is still falling, or rising over a wave boundary.
 * The grids with the most bytes per token do reach it, so the asymptote is estimated once
 * per KV dtype from them and applied to every grid. */
#include "hwprofiles/calib/fit.h"
#include "hwprofiles/calib/fit_int.h"

#include <math.h>
#include <stdlib.h>

typedef struct dec_cell {
    double batch, ctx, lt; /* ctx = context + 1 (the keys read per request); lt = log t */
} dec_cell;

static int cmp_dec_cell(const void *a, const void *b)
{
    const dec_cell *x = a, *y = b;
    if (x->batch != y->batch) return x->batch < y->batch ? -1 : 1;
    return (x->ctx > y->ctx) - (x->ctx < y->ctx);
}

/* The asymptotic costs of the decode grids of one KV dtype in k[0..n): seconds per KV byte
 * read (`per_byte`, the inverse of the streaming bandwidth) and per request (`per_req`),
 * the least-squares slopes of time on bytes and batch pooled within grids (each grid its
 * own intercept) over the cells that read at least a quarter of the most bytes any cell
 * reads, from grids with at least three such cells; per_req 0 where its slope is negative.
 * Returns 0 when there is no positive per-byte slope. */
int ss_calf_decode_asymptote(const ss_meas_table *t, const akey *k, size_t n, int dtype,
                             ss_calf_dec_asym *out)
{
    dec_cell *c = malloc((n ? n : 1) * sizeof *c);
    double *v = malloc((n ? n : 1) * 3 * sizeof *v); /* bytes, batch, time per cell */
    size_t *gs = malloc((n + 1) * sizeof *gs);
    if (!c || !v || !gs) {
        free(c), free(v), free(gs);
        return 0;
    }
    size_t nc = 0, ng = 0;
    double maxb = 0;
    for (size_t a = 0; a < n;) {
        size_t b = a + 1;
        while (b < n && ss_calf_same_grid(&k[a], &k[b])) b++;
        if (k[a].family == SS_FAM_ATTN_DECODE && k[a].dtype == dtype) {
            ss_cal_attn_q q;
            ss_calf_row_attn_q(&t->rows[k[a].row], &q);
            double bpt = ss_calf_kv_bytes_per_token(&q);
            size_t m = 0;
            for (size_t i = a; i < b; i++) {
                const ss_meas *r = &t->rows[k[i].row];
                c[m++] = (dec_cell){r->batch > 0 ? r->batch : 1, (double)r->kv + 1, log(r->time_s)};
            }
            qsort(c, m, sizeof *c, cmp_dec_cell);
            gs[ng++] = nc;
            for (size_t i = 0; i < m;) { /* one cell per (batch, context): geometric mean */
                size_t j = i;
                double sl = 0;
                while (j < m && c[j].batch == c[i].batch && c[j].ctx == c[i].ctx) sl += c[j++].lt;
                double *x = &v[3 * nc];
                x[0] = c[i].batch * c[i].ctx * bpt, x[1] = c[i].batch, x[2] = exp(sl / (double)(j - i));
                if (x[0] > maxb) maxb = x[0];
                nc++, i = j;
            }
        }
        a = b;
    }
    gs[ng] = nc;
    /* normal equations of the within-grid (demeaned) regression t ~ bytes + batch */
    double sbb = 0, sbr = 0, srr = 0, sbt = 0, srt = 0;
    for (size_t g = 0; g < ng; g++) {
        double mean[3] = {0, 0, 0};
        int cnt = 0;
        for (size_t i = gs[g]; i < gs[g + 1]; i++)
            if (v[3 * i] >= 0.25 * maxb) {
                for (int e = 0; e < 3; e++) mean[e] += v[3 * i + e];
                cnt++;
            }
        if (cnt < 3) continue;
        for (int e = 0; e < 3; e++) mean[e] /= cnt;
        for (size_t i = gs[g]; i < gs[g + 1]; i++) {
            if (v[3 * i] < 0.25 * maxb) continue;
            double db = v[3 * i] - mean[0], dr = v[3 * i + 1] - mean[1], dt = v[3 * i + 2] - mean[2];
            sbb += db * db, sbr += db * dr, srr += dr * dr, sbt += db * dt, srt += dr * dt;
        }
    }
    free(c), free(v), free(gs);
    double det = sbb * srr - sbr * sbr;
    out->per_byte = 0, out->per_req = 0;
    if (det > 1e-12 * sbb * srr && srr > 0) {
        double pb = (srr * sbt - sbr * srt) / det, pr = (sbb * srt - sbr * sbt) / det;
        if (pb > 0 && pr >= 0) out->per_byte = pb, out->per_req = pr;
    }
    if (!(out->per_byte > 0) && sbb > 0 && sbt > 0) out->per_byte = sbt / sbb;
    return out->per_byte > 0;
}

/* The time of decode cell i (no measured cell on both sides along any axis), continued
 * along each axis line from the nearest measured cell below it, affine in the work W =
 * batch x (context + 1): t = t_edge + s (W - W_edge) + per_req (batch - batch_edge). The
 * slope s is the asymptote's (bytes per token x per_byte) unless the line's own last two
 * measured steps show a steeper slope that did not grow by more than 25 % over the step
 * before (past the knee: a kernel slower than streaming, e.g. InferSim H20 with 64 query
 * heads per KV head, 5x the streaming time), which then stands for both terms; a steeper
 * last step after a shallower one is the knee or a wave boundary and is not continued
 * (aiconfigurator H100, 1 KV head of 128: 2.6e-4 us per token at the largest measured
 * step, 1.6e-4 beyond it). The smallest of the lines, those with their own slope first: an
 * edge cell can be slower than its neighbours (one request on a 128k context leaves most
 * of the GPU idle), and continuing it carries that along. 0 when no line has a measured
 * cell below the cell. */
double ss_calf_decode_line(const ss_cal_grid *g, const int *cnt, const size_t *stride,
                           const int *idx, size_t i, double s_asym, double per_req)
{
    double best = -1, best_own = -1;
    for (int dd = 0; dd < 2; dd++) {
        int l[3], nl = 0; /* the nearest measured cells below, nearest first */
        for (int p = idx[dd] - 1; p >= 0 && nl < 3; p--)
            if (cnt[i - (size_t)(idx[dd] - p) * stride[dd]]) l[nl++] = p;
        if (nl == 0) continue;
        double x[2] = {g->axis[0][idx[0]], g->axis[1][idx[1]] + 1};
        double W = x[0] * x[1], Wl[3], tl[3], bl = x[0];
        for (int j = 0; j < nl; j++) {
            double xj[2] = {x[0], x[1]};
            xj[dd] = g->axis[dd][l[j]] + (dd == 1);
            Wl[j] = xj[0] * xj[1];
            tl[j] = g->t[i - (size_t)(idx[dd] - l[j]) * stride[dd]];
            if (j == 0) bl = xj[0];
        }
        double e = tl[0] + s_asym * (W - Wl[0]) + per_req * (x[0] - bl);
        int own = 0;
        if (nl == 3) {
            double s1 = (tl[0] - tl[1]) / (Wl[0] - Wl[1]), s0 = (tl[1] - tl[2]) / (Wl[1] - Wl[2]);
            double eo = tl[0] + s1 * (W - Wl[0]);
            if (s0 > 0 && s1 <= 1.25 * s0 && eo > e) e = eo, own = 1;
        }
        if (best < 0 || e < best) best = e;
        if (own && (best_own < 0 || e < best_own)) best_own = e;
    }
    return best_own > 0 ? best_own : best > 0 ? best : 0;
}

/* ---- the streaming floor ----
 *
 * A benchmark that repeats one decode call re-reads the same KV: while it fits the L2 the
 * call is served from there (aiconfigurator's RTX PRO 6000, 128 MB of L2: 5 TB/s at 100 MB,
 * three times the GDDR7's 1.6 TB/s), and the grids, continued past their measured corner,
 * carry that speed into sizes that stream from memory (the same GPU at 268 MB: 1.3-1.5 TB/s
 * measured, 5 TB/s continued). Past twice the L2 nothing of one call survives to the next, so
 * the fastest such call measured bounds every larger one. */

double ss_cal_streamed_kv(const ss_meas *r, double l2_bytes)
{
    if (r->family != SS_FAM_ATTN_DECODE || !(l2_bytes > 0)) return 0;
    ss_cal_attn_q q;
    ss_calf_row_attn_q(r, &q);
    double b = q.dc_ctx * ss_calf_kv_bytes_per_token(&q);
    return b >= 2 * l2_bytes ? b : 0;
}

void ss_calf_fit_spill(const ss_meas_table *t, const rowkey *keys, size_t nk, double l2,
                       ss_calib *c)
{
    for (int i = 0; i < c->nmodels; i++) {
        ss_cal_model *m = &c->models[i];
        if (m->family != SS_FAM_ATTN_DECODE) continue;
        m->spill_bw = 0;
        double best = 0;
        int n = 0;
        for (size_t j = 0; j < nk; j++) {
            if (keys[j].family != SS_FAM_ATTN_DECODE || keys[j].dtype != m->dtype) continue;
            const ss_meas *r = &t->rows[keys[j].idx];
            double b = ss_cal_streamed_kv(r, l2);
            if (!(b > 0)) continue;
            n++;
            if (b / r->time_s > best) best = b / r->time_s;
        }
        if (n >= 3) m->spill_bw = best;
    }
}

double ss_cal_decode_floor(const ss_cal_model *m, double kv_bytes)
{
    return m && m->spill_bw > 0 && kv_bytes > 0 ? kv_bytes / m->spill_bw : 0;
}

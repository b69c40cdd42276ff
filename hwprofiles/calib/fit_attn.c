/* The attention grids: the measured time of each head configuration on a grid of its
 * family's coordinates, missing cells filled from the basis, made non-decreasing along
 * every axis (configurations never measured: attn_lattice.c). fit.h describes the model. */
#include "hwprofiles/calib/fit.h"
#include "hwprofiles/calib/fit_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ================================================================== attention grids */

static int grid_ndim(int family)
{
    return family == SS_FAM_ATTN_DECODE ? 2 : family == SS_FAM_ATTN_MIXED ? 4 : 3;
}

static void grid_coords(int family, const ss_cal_attn_q *q, double x[SS_CAL_GRID_MAXDIM])
{
    if (family == SS_FAM_ATTN_PREFILL) {
        double b = q->pf_seqs > 0 ? q->pf_seqs : 1;
        x[0] = q->pf_seqs, x[1] = q->pf_tokens / b, x[2] = q->pf_ctx / b;
    } else if (family == SS_FAM_ATTN_DECODE) {
        double b = q->dc_seqs > 0 ? q->dc_seqs : 1;
        x[0] = q->dc_seqs, x[1] = q->dc_seqs > 0 ? q->dc_ctx / b - 1 : 0;
    } else {
        x[0] = q->pf_tokens;
        x[1] = q->pf_seqs > 0 ? q->pf_ctx / q->pf_seqs : 0;
        x[2] = q->dc_seqs;
        x[3] = q->dc_seqs > 0 ? q->dc_ctx / q->dc_seqs - 1 : 0;
    }
}

void ss_calf_grid_query(int family, const double x[], const ss_cal_attn_q *like, ss_cal_attn_q *q)
{
    memset(q, 0, sizeof *q);
    q->heads = like->heads, q->kv_heads = like->kv_heads, q->head_dim = like->head_dim;
    q->kv_bytes = like->kv_bytes;
    if (family == SS_FAM_ATTN_PREFILL) {
        q->pf_seqs = x[0], q->pf_tokens = x[0] * x[1], q->pf_ctx = x[0] * x[2];
        q->pf_pairs = x[0] * (x[1] * x[2] + x[1] * (x[1] + 1) / 2);
    } else if (family == SS_FAM_ATTN_DECODE) {
        q->dc_seqs = x[0], q->dc_ctx = x[0] * (x[1] + 1);
    } else {
        if (x[0] > 0) {
            q->pf_seqs = 1, q->pf_tokens = x[0], q->pf_ctx = x[1];
            q->pf_pairs = x[0] * x[1] + x[0] * (x[0] + 1) / 2;
        }
        q->dc_seqs = x[2], q->dc_ctx = x[2] * (x[3] + 1);
    }
}

double ss_calf_attn_basis(const ss_cal_model *m, const ss_cal_attn_q *q)
{
    double x[SS_CAL_MAX_TERMS], s[SS_CAL_MAX_TERMS];
    ss_cal_attn_features(q, x, s);
    return ss_cal_eval(m, x, s);
}

const ss_cal_grid *ss_calib_find_grid(const ss_calib *c, int family, int dtype, int heads,
                                      int kv_heads, int head_dim)
{
    for (int i = 0; i < c->ngrids; i++) {
        const ss_cal_grid *g = &c->grids[i];
        if (g->family == family && g->dtype == dtype && g->heads == heads &&
            g->kv_heads == kv_heads && g->head_dim == head_dim)
            return g;
    }
    return NULL;
}

/* The ratio by which a call at grid coordinates x is continued from the measured cell xm,
 * given the fitted basis' ratio r between the two; `alpha` (prefill only): 0 for a query
 * beyond the grid's axes (ss_cal_grid_eval), the grid's measured growth when filling a cell
 * that was not measured (build_grid).
 *
 * Decode: r capped by the ratio of the work (batch x (context + 1) KV reads),
 * which bounds the time ratio of a fixed cost plus work terms. The fitted basis, shared by
 * every head configuration, can overshoot it (InferSim H20 decode held out above the 80th
 * size percentile: 9.0 / 20.5 % -> 1.9 / 13.6 % median / P90 with the cap).
 *
 * Prefill, filling a grid cell beyond the measured corner from a cell with the same cached
 * prefix: where the work (query-key pairs, batch x (q kv + q (q + 1) / 2)) grows faster than
 * r, r x (work ratio / r)^alpha, alpha being how far the grid's own measured times grow
 * from the basis' growth towards the work's (prefill_growth_alpha). The basis, fitted over
 * every size and head configuration, carries fixed and memory terms that a large,
 * compute-bound call no longer pays in proportion, so it undershoots where the kernel's
 * efficiency has saturated (aiconfigurator H100, held out above the 80th size percentile:
 * 90 % of rows under-predicted, median predicted / measured 0.95); where the measured
 * growth follows the basis, alpha is 0 and nothing changes. Median / P90 %, before ->
 * after: H100 5.2 / 10.9 -> 3.4 / 7.9, H200 5.2 / 11.2 -> 3.4 / 8.1, A100 3.5 / 8.7 ->
 * 2.9 / 7.3, RTX PRO 6000 vLLM 0.19.0 5.2 / 26.0 -> 3.5 / 16.6; RTX 4090, H20, A800 and
 * PyTorch SDPA on the H200 unchanged; k-fold and held-out head configurations within 0.1
 * points. A fixed alpha of 0.5 did better on the aiconfigurator tables (H100 2.3 / 6.8) but
 * worse on PyTorch's (7.6 / 15.3 -> 9.3 / 18.0). Growth along the cached prefix is left to
 * the basis: a short query on a long prefix reads KV more than it computes, and the pairs
 * overstate its growth (PyTorch, q = 128 on a 16k prefix: +60 % with them). Beyond the
 * axes (queries past the largest measured q or prefix) the basis ratio stays too: the same
 * rule there changed no held-out row for the better.
 * Other families: r. */
static double prefill_pairs(const double *x)
{
    return x[0] * (x[1] * x[2] + x[1] * (x[1] + 1) / 2);
}

static double continuation_ratio(int family, const double *x, const double *xm, double r,
                                 double alpha)
{
    if (family == SS_FAM_ATTN_PREFILL && alpha > 0 && x[2] == xm[2]) {
        double w0 = prefill_pairs(xm), wr = w0 > 0 ? prefill_pairs(x) / w0 : 0;
        if (!(r > 0) || wr <= r) return r;
        return r * pow(wr / r, alpha);
    }
    if (family != SS_FAM_ATTN_DECODE) return r;
    double w1 = x[0] * (x[1] + 1), w0 = xm[0] * (xm[1] + 1);
    if (!(w0 > 0) || w1 < w0 || r <= w1 / w0) return r;
    return w1 / w0;
}

double ss_cal_grid_eval(const ss_cal_grid *g, const ss_cal_model *m, const ss_cal_attn_q *q)
{
    double x[SS_CAL_GRID_MAXDIM], xc[SS_CAL_GRID_MAXDIM], w[SS_CAL_GRID_MAXDIM];
    int lo[SS_CAL_GRID_MAXDIM];
    grid_coords(g->family, q, x);
    int clamped = 0;
    for (int d = 0; d < g->ndim; d++) {
        const double *a = g->axis[d];
        int n = g->len[d];
        xc[d] = x[d] < a[0] ? a[0] : x[d] > a[n - 1] ? a[n - 1] : x[d];
        if (xc[d] != x[d]) clamped = 1;
        if (n == 1) {
            lo[d] = 0, w[d] = 0;
            continue;
        }
        int i = 0;
        while (i + 2 < n && a[i + 1] <= xc[d]) i++;
        lo[d] = i;
        double l0 = log1p(a[i]), l1 = log1p(a[i + 1]);
        w[d] = (log1p(xc[d]) - l0) / (l1 - l0);
    }
    double v = 0;
    for (int corner = 0; corner < (1 << g->ndim); corner++) {
        double wt = 1;
        size_t idx = 0;
        for (int d = 0; d < g->ndim; d++) {
            int up = (corner >> d) & 1;
            if (g->len[d] == 1 && up) {
                wt = 0;
                break;
            }
            wt *= up ? w[d] : 1 - w[d];
            idx = idx * (size_t)g->len[d] + (size_t)(lo[d] + up);
        }
        if (wt != 0) v += wt * log(g->t[idx]);
    }
    double t = exp(v);
    if (clamped && m) {
        ss_cal_attn_q qc;
        ss_calf_grid_query(g->family, xc, q, &qc);
        double b0 = ss_calf_attn_basis(m, &qc), b1 = ss_calf_attn_basis(m, q);
        if (b0 > 0 && b1 > 0) t *= continuation_ratio(g->family, x, xc, b1 / b0, 0);
    }
    return t;
}

static int cmp_akey(const void *a, const void *b)
{
    const akey *x = a, *y = b;
    if (x->family != y->family) return x->family - y->family;
    if (x->dtype != y->dtype) return x->dtype - y->dtype;
    if (x->heads != y->heads) return x->heads - y->heads;
    if (x->kv_heads != y->kv_heads) return x->kv_heads - y->kv_heads;
    if (x->head_dim != y->head_dim) return x->head_dim - y->head_dim;
    return (x->row > y->row) - (x->row < y->row);
}

static int axis_index(const double *a, int n, double v)
{
    for (int i = 0; i < n; i++)
        if (a[i] == v) return i;
    return -1;
}

/* How a prefill grid's measured times grow between neighbouring measured cells in its
 * upper half (by query-key pairs), against the basis' growth r and the pairs' growth wr:
 * the median over such steps (wr > 1.05 r) of log(measured ratio / r) / log(wr / r),
 * clamped to [0, 1]; 0 when there is no such step. */
static double prefill_growth_alpha(const ss_cal_grid *g, const int *cnt, size_t cells,
                                   const size_t *stride, const ss_cal_model *m,
                                   const ss_cal_attn_q *like)
{
    int nd = g->ndim;
    double *pw = malloc(cells * sizeof *pw), *al = malloc(cells * (size_t)nd * sizeof *al);
    if (!pw || !al) {
        free(pw), free(al);
        return 0;
    }
    size_t np = 0;
    for (size_t i = 0; i < cells; i++) {
        if (!cnt[i]) continue;
        double x[SS_CAL_GRID_MAXDIM];
        size_t r = i;
        for (int dd = nd - 1; dd >= 0; dd--) x[dd] = g->axis[dd][r % (size_t)g->len[dd]], r /= (size_t)g->len[dd];
        pw[np++] = prefill_pairs(x);
    }
    double med = 0;
    if (np) {
        qsort(pw, np, sizeof *pw, ss_calf_cmp_double);
        med = pw[np / 2];
    }
    size_t na = 0;
    for (size_t i = 0; i < cells; i++) {
        if (!cnt[i]) continue;
        double x[SS_CAL_GRID_MAXDIM];
        int ix[SS_CAL_GRID_MAXDIM];
        size_t r = i;
        for (int dd = nd - 1; dd >= 0; dd--) {
            ix[dd] = (int)(r % (size_t)g->len[dd]), r /= (size_t)g->len[dd];
            x[dd] = g->axis[dd][ix[dd]];
        }
        if (prefill_pairs(x) < med) continue;
        for (int dd = 0; dd < nd; dd++) {
            if (ix[dd] + 1 >= g->len[dd] || !cnt[i + stride[dd]]) continue;
            double y[SS_CAL_GRID_MAXDIM];
            memcpy(y, x, sizeof y);
            y[dd] = g->axis[dd][ix[dd] + 1];
            ss_cal_attn_q qx, qy;
            ss_calf_grid_query(g->family, x, like, &qx);
            ss_calf_grid_query(g->family, y, like, &qy);
            double bx = ss_calf_attn_basis(m, &qx), by = ss_calf_attn_basis(m, &qy);
            double wx = prefill_pairs(x), wy = prefill_pairs(y);
            if (!(bx > 0) || !(by > 0) || !(wx > 0)) continue;
            double rb = by / bx, rw = wy / wx, rt = g->t[i + stride[dd]] / g->t[i];
            if (!(rw > 1.05 * rb) || !(rt > 0)) continue;
            double a = log(rt / rb) / log(rw / rb);
            al[na++] = a < 0 ? 0 : a > 1 ? 1 : a;
        }
    }
    double alpha = 0;
    if (na) {
        qsort(al, na, sizeof *al, ss_calf_cmp_double);
        alpha = al[na / 2];
    }
    free(pw), free(al);
    return alpha;
}

/* The cell of grid coordinates x on g's axes, -1 where a coordinate is not on its axis. */
static long cell_of(const ss_cal_grid *g, const double *x)
{
    long idx = 0;
    for (int dd = 0; dd < g->ndim; dd++) {
        int j = axis_index(g->axis[dd], g->len[dd], x[dd]);
        if (j < 0) return -1;
        idx = idx * g->len[dd] + j;
    }
    return idx;
}

/* The cells of g's first nd axes (row-major: the last axis varies fastest) and each axis'
 * stride between neighbouring cells. */
static size_t grid_strides(const ss_cal_grid *g, int nd, size_t stride[])
{
    size_t cells = 1;
    for (int dd = nd - 1; dd >= 0; dd--) stride[dd] = cells, cells *= (size_t)g->len[dd];
    return cells;
}

/* g's axes for the rows' coordinates xs[nr][SS_CAL_GRID_MAXDIM]: the distinct values of
 * each coordinate, or len[0] = 0 where they make no grid. A grid needs at least half its
 * cells measured or lying between two measured cells on one of its axis lines (build_grid
 * interpolates those; the rest it extrapolates). A table can interleave series whose axis
 * values differ (LLMServingSim's RTX PRO 6000 mixed tables: one on powers of two, one on
 * steps of 1.5, each a full grid of its own): their union has a third of its cells
 * measured, and each series' gaps lie between the other's cells (93 % of the cells measured
 * or bracketed). A prefill cell past two measured prefixes on its query's line counts too
 * (prefix_axis: build_grid continues that line, affine in the prefix): Frontier's A800
 * table chunks a 4,096-token prompt, each chunk length on the prefixes that are multiples
 * of it, 45 % of its cells measured or bracketed, the rest past the prompt, on measured
 * lines. A scattered table, each value on few rows, brackets little and gets no grid: its
 * basis prices it better than a few of its cells would. *refused = 1 where a table of 4 or
 * more cells gets none (calibrate notes them).
 *
 * Before 2026-11-29 the axes of such a table were thinned until half the grid was measured,
 * which kept the steps of 1.5 and dropped the powers of two's short contexts and prefixes
 * (16 to 256 tokens): their rows were priced below the grid's range, by the basis ratio from
 * its edge, 20-60 % over where the kernel's time is flat in the context (RTX PRO 6000,
 * mixed, k-fold 1.89 / 10.91 % -> 1.09 / 5.10 % with the union; docs/validation.md). */
static ss_rc grid_axes(const double *xs, size_t nr, int nd, int prefix_axis, ss_cal_grid *g,
                       int *refused, ss_diag *d)
{
    *refused = 1; /* until a grid, or too few cells to be a table */
    for (size_t i = 0; i < nr; i++)
        for (int dd = 0; dd < nd; dd++) {
            double v = xs[i * SS_CAL_GRID_MAXDIM + dd];
            if (axis_index(g->axis[dd], g->len[dd], v) >= 0) continue;
            if (g->len[dd] == SS_CAL_GRID_MAXAXIS) {
                g->len[0] = 0; /* not a grid */
                return SS_OK;
            }
            g->axis[dd][g->len[dd]++] = v;
        }
    for (int dd = 0; dd < nd; dd++)
        qsort(g->axis[dd], (size_t)g->len[dd], sizeof(double), ss_calf_cmp_double);
    size_t stride[SS_CAL_GRID_MAXDIM], cells = grid_strides(g, nd, stride);
    if (cells < 4) { /* a few rows, not a table */
        *refused = 0;
        g->len[0] = 0;
        return SS_OK;
    }
    if (cells > SS_CAL_GRID_MAXCELLS) {
        g->len[0] = 0;
        return SS_OK;
    }
    /* mark: 1 measured, 2 between measured cells on an axis line, 0 neither */
    unsigned char *mark = calloc(cells, 1);
    if (!mark) return ss_diag_fail(d, SS_ERR_NOMEM, "calibrate: out of memory");
    for (size_t i = 0; i < nr; i++) {
        long idx = cell_of(g, &xs[i * SS_CAL_GRID_MAXDIM]);
        if (idx >= 0) mark[idx] = 1; /* every row is on the union's axes */
    }
    for (int dd = 0; dd < nd; dd++)
        for (size_t i = 0; i < cells; i++) {
            if ((i / stride[dd]) % (size_t)g->len[dd] != 0) continue; /* line starts */
            int below = 0;
            for (int j = 0; j < g->len[dd]; j++) {
                unsigned char *c = &mark[i + (size_t)j * stride[dd]];
                if (*c == 1) below = 1;
                else if (below) *c |= 4; /* a measured cell below on this line */
            }
            int above = 0;
            for (int j = g->len[dd] - 1; j >= 0; j--) {
                unsigned char *c = &mark[i + (size_t)j * stride[dd]];
                if (*c == 1) above = 1;
                else if (above && (*c & 4)) *c = 2;
                else if (*c & 4) *c &= (unsigned char)~4;
            }
        }
    /* prefill: past two measured prefixes on its query's line, continued along the line */
    if (prefix_axis >= 0)
        for (size_t i = 0; i < cells; i++) {
            if ((i / stride[prefix_axis]) % (size_t)g->len[prefix_axis] != 0) continue;
            int below = 0;
            for (int j = 0; j < g->len[prefix_axis]; j++) {
                unsigned char *c = &mark[i + (size_t)j * stride[prefix_axis]];
                if (*c == 1) below++;
                else if (below >= 2) *c = 2;
            }
        }
    size_t inside = 0;
    for (size_t i = 0; i < cells; i++) inside += mark[i] == 1 || mark[i] == 2;
    free(mark);
    if (inside * 2 < cells) g->len[0] = 0;
    else *refused = 0;
    return SS_OK;
}

/* ss_cal_grid_nearest (fit.h): a breadth-first search from every measured cell at once,
 * O(cells x dims) where a scan of the measured cells per cell is quadratic (the RTX PRO
 * 6000's mixed grids have 58k cells). It finds what that scan finds, ties included: a
 * cell's nearest measured cells at distance k + 1 are those of its neighbours at distance
 * k; the measured cells enter the queue in index order, so each distance's cells queue in
 * the order of their sources' indices, and the first to reach a cell carries the lowest. */
size_t *ss_cal_grid_nearest(const ss_cal_grid *g, const int *cnt)
{
    size_t stride[SS_CAL_GRID_MAXDIM], cells = grid_strides(g, g->ndim, stride);
    size_t *src = malloc(cells * sizeof *src), *queue = malloc(cells * sizeof *queue);
    long *dist = malloc(cells * sizeof *dist);
    if (!src || !queue || !dist) {
        free(src), free(queue), free(dist);
        return NULL;
    }
    size_t head = 0, tail = 0;
    for (size_t i = 0; i < cells; i++) {
        dist[i] = cnt[i] ? 0 : -1, src[i] = i;
        if (cnt[i]) queue[tail++] = i;
    }
    while (head < tail) {
        size_t i = queue[head++];
        for (int dd = 0; dd < g->ndim; dd++) {
            size_t pos = (i / stride[dd]) % (size_t)g->len[dd];
            for (int side = 0; side < 2; side++) {
                if (side == 0 ? pos == 0 : pos + 1 == (size_t)g->len[dd]) continue;
                size_t j = side == 0 ? i - stride[dd] : i + stride[dd];
                if (dist[j] < 0) {
                    dist[j] = dist[i] + 1, src[j] = src[i];
                    queue[tail++] = j;
                }
            }
        }
    }
    free(queue), free(dist);
    return src;
}

/* Build one grid from rows k[a..b) (one family/dtype/head configuration); 0 = skipped. */
static ss_rc build_grid(const ss_meas_table *t, const akey *k, size_t a, size_t b, ss_calib *c,
                        const ss_calf_dec_asym *dec, ss_diag *d)
{
    const ss_meas *r0 = &t->rows[k[a].row];
    int fam = r0->family, nd = grid_ndim(fam);
    const ss_cal_model *m = ss_calib_find(c, fam, "", r0->kv_dtype);
    if (!m) return SS_OK;
    ss_cal_grid g;
    memset(&g, 0, sizeof g);
    g.family = fam, g.dtype = r0->kv_dtype;
    g.heads = r0->heads, g.kv_heads = r0->kv_heads > 0 ? r0->kv_heads : r0->heads;
    g.head_dim = r0->head_dim, g.ndim = nd;
    ss_cal_attn_q like;
    ss_calf_row_attn_q(r0, &like);
    size_t nr = b - a;
    double *xs = malloc(nr * SS_CAL_GRID_MAXDIM * sizeof *xs);
    if (!xs) return ss_diag_fail(d, SS_ERR_NOMEM, "calibrate: out of memory");
    for (size_t i = 0; i < nr; i++) {
        ss_cal_attn_q q;
        ss_calf_row_attn_q(&t->rows[k[a + i].row], &q);
        grid_coords(fam, &q, &xs[i * SS_CAL_GRID_MAXDIM]);
    }
    int refused;
    ss_rc drc = grid_axes(xs, nr, nd, fam == SS_FAM_ATTN_PREFILL ? 2 : -1, &g, &refused, d);
    if (drc != SS_OK || g.len[0] == 0) {
        if (drc == SS_OK && refused) c->grids_refused++, c->grids_refused_rows += (long)nr;
        free(xs);
        return drc;
    }
    size_t stride[SS_CAL_GRID_MAXDIM], cells = grid_strides(&g, nd, stride);
    double *sum = calloc(cells, sizeof *sum);
    int *cnt = calloc(cells, sizeof *cnt);
    g.t = calloc(cells, sizeof *g.t);
    if (!sum || !cnt || !g.t) {
        free(sum), free(cnt), free(g.t), free(xs);
        return ss_diag_fail(d, SS_ERR_NOMEM, "calibrate: out of memory");
    }
    for (size_t i = 0; i < nr; i++) {
        long idx = cell_of(&g, &xs[i * SS_CAL_GRID_MAXDIM]);
        if (idx < 0) continue; /* not reached: grid_axes put every row on the axes */
        sum[idx] += log(t->rows[k[a + i].row].time_s);
        cnt[idx]++;
    }
    free(xs);
    size_t present = 0;
    for (size_t i = 0; i < cells; i++) present += cnt[i] > 0;
    /* Measured cells; a missing cell gets the basis at the cell times the measured/basis
     * ratio interpolated (log over log(1 + x)) between the nearest measured cells on both
     * sides along the axis where they are closest, or, with
     * no bracket on any axis (beyond the measured corner), taken from the nearest measured
     * cell times the basis ratio. */
    int idx_of[SS_CAL_GRID_MAXDIM];
    size_t *near = NULL; /* nearest measured cell of each cell, when first needed */
    for (size_t i = 0; i < cells; i++)
        if (cnt[i]) g.t[i] = exp(sum[i] / cnt[i]);
    double alpha = fam == SS_FAM_ATTN_PREFILL
                       ? prefill_growth_alpha(&g, cnt, cells, stride, m, &like)
                       : 0;
    for (size_t i = 0; i < cells; i++) {
        if (cnt[i]) continue;
        size_t r = i;
        for (int dd = nd - 1; dd >= 0; dd--) idx_of[dd] = (int)(r % (size_t)g.len[dd]), r /= (size_t)g.len[dd];
        int best_span = -1;
        double best_v = 0;
        for (int dd = 0; dd < nd; dd++) {
            int lo = idx_of[dd] - 1, hi = idx_of[dd] + 1;
            while (lo >= 0 && !cnt[i - (size_t)(idx_of[dd] - lo) * stride[dd]]) lo--;
            while (hi < g.len[dd] && !cnt[i + (size_t)(hi - idx_of[dd]) * stride[dd]]) hi++;
            if (lo < 0 || hi >= g.len[dd]) continue;
            if (best_span >= 0 && hi - lo >= best_span) continue;
            /* interpolate the measured/basis ratio, then apply the basis at the cell: exact
             * where the basis is, and a smooth correction where it is not */
            double tl = g.t[i - (size_t)(idx_of[dd] - lo) * stride[dd]];
            double th = g.t[i + (size_t)(hi - idx_of[dd]) * stride[dd]];
            double xc[SS_CAL_GRID_MAXDIM];
            for (int e = 0; e < nd; e++) xc[e] = g.axis[e][idx_of[e]];
            ss_cal_attn_q qc;
            ss_calf_grid_query(fam, xc, &like, &qc);
            double bc = ss_calf_attn_basis(m, &qc);
            xc[dd] = g.axis[dd][lo];
            ss_calf_grid_query(fam, xc, &like, &qc);
            double bl = ss_calf_attn_basis(m, &qc);
            xc[dd] = g.axis[dd][hi];
            ss_calf_grid_query(fam, xc, &like, &qc);
            double bh = ss_calf_attn_basis(m, &qc);
            double xl = log1p(g.axis[dd][lo]), xh = log1p(g.axis[dd][hi]);
            double w = (log1p(g.axis[dd][idx_of[dd]]) - xl) / (xh - xl);
            if (bc > 0 && bl > 0 && bh > 0)
                best_v = bc * exp((1 - w) * log(tl / bl) + w * log(th / bh));
            else
                best_v = exp((1 - w) * log(tl) + w * log(th));
            best_span = hi - lo;
        }
        if (best_span >= 0) {
            g.t[i] = best_v;
            continue;
        }
        /* Beyond the measured corner of a mixed grid: along every axis line with a measured
         * cell below this one, that cell continued by the basis ratio (ratio continuation
         * from the grid's edge on the same line, not from a diagonal neighbour), and the
         * largest of the lines: a mixed call costs about the larger of its prefill and
         * decode parts (one kernel), and each line continues one part. RTX 4090 mixed,
         * held out above the 80th size percentile: 15.1 / 57.0 % -> 6.4 / 48.1 % (median /
         * P90). Prefill and decode grids keep the nearest cell: the mean of the lines was
         * better for prefill on the H100, H200, A100 and RTX 4090 (by 1-2 points of median)
         * but worse on both RTX PRO 6000 stacks (2.5 / 7.8 % -> 11.2 / 26.2 %), and worse
         * for decode on the H100 (9.3 / 28.3 % -> 11.7 / 36.2 %). */
        if (fam == SS_FAM_ATTN_MIXED) {
            double acc = 0;
            int nacc = 0;
            for (int dd = 0; dd < nd; dd++) {
                int l2 = idx_of[dd] - 1;
                while (l2 >= 0 && !cnt[i - (size_t)(idx_of[dd] - l2) * stride[dd]]) l2--;
                if (l2 < 0) continue;
                double t2 = g.t[i - (size_t)(idx_of[dd] - l2) * stride[dd]];
                double xc[SS_CAL_GRID_MAXDIM];
                for (int e = 0; e < nd; e++) xc[e] = g.axis[e][idx_of[e]];
                ss_cal_attn_q qc;
                ss_calf_grid_query(fam, xc, &like, &qc);
                double bc = ss_calf_attn_basis(m, &qc);
                xc[dd] = g.axis[dd][l2];
                ss_calf_grid_query(fam, xc, &like, &qc);
                double bl = ss_calf_attn_basis(m, &qc);
                if (!(bc > 0) || !(bl > 0)) continue;
                double lv = log(t2 * bc / bl);
                acc = nacc && acc > lv ? acc : lv;
                nacc++;
            }
            if (nacc) {
                g.t[i] = exp(acc);
                continue;
            }
        }
        if (!near && !(near = ss_cal_grid_nearest(&g, cnt))) {
            free(sum), free(cnt), free(g.t);
            return ss_diag_fail(d, SS_ERR_NOMEM, "calibrate: out of memory");
        }
        size_t best = near[i];
        double xi[SS_CAL_GRID_MAXDIM], xj[SS_CAL_GRID_MAXDIM];
        size_t rr = best;
        for (int dd = nd - 1; dd >= 0; dd--) {
            xi[dd] = g.axis[dd][idx_of[dd]];
            xj[dd] = g.axis[dd][rr % (size_t)g.len[dd]], rr /= (size_t)g.len[dd];
        }
        ss_cal_attn_q qi, qj;
        ss_calf_grid_query(fam, xi, &like, &qi);
        ss_calf_grid_query(fam, xj, &like, &qj);
        double bi = ss_calf_attn_basis(m, &qi), bj = ss_calf_attn_basis(m, &qj);
        g.t[i] = g.t[best] * (bi > 0 && bj > 0 ? continuation_ratio(fam, xi, xj, bi / bj, alpha) : 1);
        /* Prefill: also the line of its query (same batch and query length) through the
         * last two measured cells below it in the cached prefix, affine in the prefix, and
         * the smaller of the two. A flash-attention kernel runs a fixed set of query tiles
         * per (request, head); each tile walks the prefix, so at a fixed query length the
         * time is a fixed part plus a part proportional to the prefix, which the fitted
         * basis (shared by every size and head configuration) does not know: cuDNN on the
         * H200 (servesim-profile) at 32 query heads, q = 16 .. 512, takes 58-65 us on a 4k
         * prefix and 202-216 us on a 16k one, the basis ratio put that up to 50 % higher.
         * Held out above the 80th size percentile, median / P90 %, ratio alone -> both
         * (2026-11-27, where the nearest measured cell was on the query's line): cuDNN H200
         * 10.5 / 34.7 -> 3.4 / 9.7, H100 10.1 / 34.8 -> 3.1 / 8.6; PyTorch SDPA
         * (FlashAttention-2) H200 7.6 / 15.3 -> 4.6 / 13.9; LLMServingSim RTX 4090
         * 5.6 / 16.4 -> 4.9 / 13.1. The line alone, without the minimum, put PyTorch's P90
         * back over 15 % (3.4 / 15.3; again 18.6 % in 2026-11-29's form). From whichever
         * cell is nearest (2026-11-29: the nearest was often on a neighbouring query
         * length, a tile further on or back): RTX PRO 6000 eager 2.2 / 7.8 -> 1.6 / 3.5,
         * cuDNN H100 3.1 / 8.6 -> 1.9 / 8.3, H200 3.4 / 9.7 -> 2.8 / 9.6; the rest
         * unchanged. */
        if (fam == SS_FAM_ATTN_PREFILL) {
            int j2 = idx_of[2] - 1;
            while (j2 >= 0 && !cnt[i - (size_t)(idx_of[2] - j2) * stride[2]]) j2--;
            int j1 = j2 - 1;
            while (j1 >= 0 && !cnt[i - (size_t)(idx_of[2] - j1) * stride[2]]) j1--;
            if (j1 >= 0) {
                double t1 = g.t[i - (size_t)(idx_of[2] - j2) * stride[2]];
                double t0 = g.t[i - (size_t)(idx_of[2] - j1) * stride[2]];
                double slope = (t1 - t0) / (g.axis[2][j2] - g.axis[2][j1]);
                double e = t1 + slope * (g.axis[2][idx_of[2]] - g.axis[2][j2]);
                if (slope > 0 && e < g.t[i]) g.t[i] = e;
            }
        }
        /* Decode: the smaller of that and the line continuation. Each overstates in its own
         * regime: the ratio carries the edge cell's fixed and per-request costs along as if
         * they grew with the work, the line continuation an edge cell's inefficiency. Held
         * out above the 80th size percentile, median / P90 %, ratio alone -> both:
         * aiconfigurator H100 9.3 / 28.3 -> 4.2 / 14.1, H200 7.4 / 27.1 -> 4.0 / 13.4,
         * A100 7.5 / 78.4 -> 3.3 / 12.3, RTX PRO 6000 35.7 / 71.2 -> 29.4 / 65.0;
         * LLMServingSim RTX 4090 5.3 / 10.0 -> 0.8 / 1.6; InferSim H20 1.9 / 13.6 ->
         * 1.4 / 7.0, H800 1.0 / 3.1 -> 0.5 / 2.1; Frontier A800 unchanged. Without the
         * per-request term the line continuation under-predicted large batches (H100
         * 4.8 / 18.0); on its own, without the ratio, it missed the H20's compute-bound
         * grids (5.9 / 11.5). */
        if (fam == SS_FAM_ATTN_DECODE && dec) {
            double e = ss_calf_decode_line(&g, cnt, stride, idx_of, i,
                                           ss_calf_kv_bytes_per_token(&like) * dec->per_byte,
                                           dec->per_req);
            if (e > 0 && e < g.t[i]) g.t[i] = e;
        }
    }
    /* Non-decreasing along every axis: two rounds of isotonic regression along every axis
     * line (spikes cut, pool-adjacent-violators in log t), which averages a violation away
     * instead of carrying one high value along its line, then a running maximum along each
     * axis in turn, which guarantees the property (and keeps earlier axes monotone). */
    for (int round = 0; round < 2; round++)
        for (int dd = 0; dd < nd; dd++) {
            double line[SS_CAL_GRID_MAXAXIS];
            for (size_t i = 0; i < cells; i++) {
                if ((i / stride[dd]) % (size_t)g.len[dd] != 0) continue; /* line starts */
                for (int k2 = 0; k2 < g.len[dd]; k2++) line[k2] = g.t[i + (size_t)k2 * stride[dd]];
                ss_calf_make_monotone(line, g.len[dd]);
                for (int k2 = 0; k2 < g.len[dd]; k2++) g.t[i + (size_t)k2 * stride[dd]] = line[k2];
            }
        }
    for (int dd = 0; dd < nd; dd++) {
        for (size_t i = 0; i < cells; i++) {
            size_t pos = (i / stride[dd]) % (size_t)g.len[dd];
            if (pos > 0 && g.t[i] < g.t[i - stride[dd]]) g.t[i] = g.t[i - stride[dd]];
        }
    }
    g.measured = (long)present;
    free(sum), free(cnt), free(near);
    ss_rc rc =
        ss_calf_reserve((void **)&c->grids, &c->cap_grids, c->ngrids, 16, sizeof *c->grids, d);
    if (rc) {
        free(g.t);
        return rc;
    }
    c->grids[c->ngrids++] = g;
    return SS_OK;
}

ss_rc ss_calf_fit_grids(const ss_meas_table *t, const rowkey *keys, size_t nk, ss_calib *c,
                        ss_diag *d)
{
    akey *k = malloc((nk ? nk : 1) * sizeof *k);
    if (!k) return ss_diag_fail(d, SS_ERR_NOMEM, "calibrate: out of memory");
    size_t n = 0;
    for (size_t i = 0; i < nk; i++) {
        if (ss_cal_kind_of(keys[i].family) != SS_CAL_ATTN) continue;
        const ss_meas *r = &t->rows[keys[i].idx];
        k[n++] = (akey){r->family, r->kv_dtype, r->heads, r->kv_heads > 0 ? r->kv_heads : r->heads,
                        r->head_dim, keys[i].idx};
    }
    qsort(k, n, sizeof *k, cmp_akey);
    ss_rc rc = SS_OK;
    ss_calf_dec_asym dec = {0, 0};
    int has_dec = 0;
    for (size_t a = 0; a < n && rc == SS_OK;) {
        size_t b = a;
        while (b < n && ss_calf_same_grid(&k[a], &k[b])) b++;
        if (k[a].family == SS_FAM_ATTN_DECODE && (a == 0 || k[a - 1].family != k[a].family ||
                                                  k[a - 1].dtype != k[a].dtype))
            has_dec = ss_calf_decode_asymptote(t, k, n, k[a].dtype, &dec); /* k: by family, dtype */
        rc = build_grid(t, k, a, b, c, has_dec ? &dec : NULL, d);
        a = b;
    }
    free(k);
    return rc;
}

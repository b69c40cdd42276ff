/* Attention of head configurations never measured: the (heads, kv_heads) lattice over the
 * measured grids of fit_attn.c, the per-call entry point that uses a grid, the lattice or
 * the basis (ss_cal_attn), and the grid a cost model builds from the lattice. fit.h
 * describes the model. */
#include "hwprofiles/calib/fit.h"
#include "hwprofiles/calib/fit_int.h"

#include <math.h>
#include <stdlib.h>

/* ---- head configurations never measured: interpolation over the measured (heads,
 * kv_heads) lattice of grids of the same family, KV dtype and head dimension ----
 *
 * The same scheme as the GEMM lattice: log t linear in log heads (kv_heads fixed) and in
 * log kv_heads (heads fixed) between the nearest measured grids, each evaluated at the
 * query's coordinates with its own head configuration; the two directions averaged in log t
 * (decode: also along a fixed number of query heads per KV head, and only the directions
 * that interpolate where any does: ss_cal_attn_lattice).
 * Non-negative weights independent of the query's sizes keep the result positive and
 * non-decreasing along every grid axis. On a line with measured grids on one side only
 * (e.g. more heads than any measured configuration with that kv_heads), the nearest grid is
 * continued by the basis ratio between the two head configurations. */
static int hl_point(const ss_calib *c, const ss_cal_model *m, int family, int dtype, long h,
                    long kvh, const ss_cal_attn_q *q, double *lt)
{
    const ss_cal_grid *g = ss_calib_find_grid(c, family, dtype, (int)h, (int)kvh, (int)q->head_dim);
    if (!g) return 0;
    ss_cal_attn_q qq = *q;
    qq.heads = (double)h, qq.kv_heads = (double)kvh;
    double t = ss_cal_grid_eval(g, m, &qq);
    if (!(t > 0) || !isfinite(t)) return 0;
    *lt = log(t);
    return 1;
}

/* Some decode kernels dispatch on whether a KV head serves one query head (MHA) or several
 * (GQA): aiconfigurator's A100 (vLLM 0.14.0), one sequence of 4095 keys, takes 101 us on
 * 1, 2, 4 or 8 heads without grouping and 23-30 us on every grouped configuration, whose
 * kernel splits the keys across thread blocks; on its H100 (vLLM 0.24.0) the two kinds
 * differ only by their bytes. With the decode model's mha_apart (chosen at calibration) and
 * both kinds measured, a decode query is priced from grids of its own kind only.
 *
 * Prefill, one way (the model's mha_own): an MHA configuration sits at the end of both its
 * heads line (no fewer heads than KV heads) and its KV-heads line, so from GQA grids it is
 * only ever a continuation by the basis ratio, while the MHA grids bracket it. Where the
 * prefill time grows with the KV heads in a way the basis does not carry (aiconfigurator's
 * H100, batch 16, 256 tokens: 16 heads on 1, 2, 4, 8 and 16 KV heads take 39, 42, 56, 66
 * and 74 us, of which the KV bytes explain 10 us), the MHA grids price it better; a GQA query
 * keeps every grid, its MHA neighbour included. Held out by head configuration (median /
 * P90 %): A100 vLLM 0.14.0 2.90 / 14.55 -> 2.52 / 12.31, H100 3.73 / 14.96 -> 3.29 / 12.81,
 * H200 3.55 / 14.82 -> 3.11 / 12.55, RTX PRO 6000 vLLM 0.19.0 2.24 / 16.86 -> 1.95 / 15.84.
 * Not for every table: on servesim-profile's cuDNN tables, whose time follows the heads
 * line, it took the H200 from 1.86 / 12.20 to 2.86 / 15.03, and calibration does not
 * choose it there. Both ways for prefill (GQA queries from GQA grids too) was worse on the
 * RTX PRO 6000 (17.16 % P90). */
static int mha(double heads, double kv_heads) { return heads == kv_heads; }

static int kind_split(const ss_calib *c, const ss_cal_model *m, int family, int dtype,
                      const ss_cal_attn_q *q)
{
    if (!m) return 0;
    if (family == SS_FAM_ATTN_DECODE ? !m->mha_apart
                                     : family != SS_FAM_ATTN_PREFILL || !m->mha_own ||
                                           !mha(q->heads, q->kv_heads))
        return 0;
    int same = 0, other = 0;
    for (int i = 0; i < c->ngrids; i++) {
        const ss_cal_grid *g = &c->grids[i];
        if (g->family != family || g->dtype != dtype || g->head_dim != (int)q->head_dim) continue;
        if (mha(g->heads, g->kv_heads) == mha(q->heads, q->kv_heads)) same = 1;
        else other = 1;
    }
    return same && other;
}

static int usable(const ss_cal_grid *g, int split, const ss_cal_attn_q *q)
{
    return !split || mha(g->heads, g->kv_heads) == mha(q->heads, q->kv_heads);
}

/* The lines of the lattice: heads vary at kv_heads = fixed; kv_heads vary at heads = fixed;
 * kv_heads vary at the query's heads per KV head (the diagonal; `fixed` unused). */
enum { LINE_HEADS, LINE_KV, LINE_GROUP };

/* The head configuration at coordinate v of a line, into *h, *kvh. */
static void line_config(int line, long fixed, const ss_cal_attn_q *q, long v, long *h, long *kvh)
{
    if (line == LINE_HEADS) *h = v, *kvh = fixed;
    else if (line == LINE_KV) *h = fixed, *kvh = v;
    else *h = lround(q->heads / q->kv_heads * (double)v), *kvh = v;
}

static int on_line(const ss_cal_grid *g, int line, long fixed, const ss_cal_attn_q *q)
{
    if (line == LINE_HEADS) return g->kv_heads == fixed;
    if (line == LINE_KV) return g->heads == fixed;
    return (double)g->heads * q->kv_heads == (double)g->kv_heads * q->heads;
}

/* The time at qv heads on the line through (v0, t0) and (v1, t1), v1 the nearer to qv: a
 * fixed part plus a part in proportion to the heads, kept between constant (t1) and
 * proportional (t1 qv / v1). */
static double heads_line(double t0, long v0, double t1, long v1, double qv)
{
    double t = t1 + (t1 - t0) * (qv - (double)v1) / (double)(v1 - v0);
    double flat = t1, prop = t1 * qv / (double)v1;
    double lo_t = flat < prop ? flat : prop, hi_t = flat < prop ? prop : flat;
    return t < lo_t ? lo_t : t > hi_t ? hi_t : t;
}

/* An MHA query past the measured MHA grids (the diagonal, on one side only): the nearest
 * grid, at v1, continued by the line through it and the next one on that side, at v0, in
 * time over heads: the basis, fitted mostly to grouped kernels, would double the time with
 * the bytes, but an ungrouped kernel that walks each sequence's keys in one thread block
 * takes as long on 1 as on 8 heads at batch 1 (aiconfigurator's A100: 101 us for 4095
 * keys), and in proportion to the heads once they fill the GPU. A fixed walk plus a part
 * in proportion is a line in the heads; a line in log time over log heads would carry a
 * flat small-head slope into the proportional regime (64 on 64 heads at batch 16 and 1k
 * keys came out faster than the A100's HBM can stream the keys). Between constant and
 * proportional; with one MHA grid only, the basis ratio. */
static int mha_continue(const ss_calib *c, const ss_cal_model *m, int family, int dtype,
                        double qv, long v1, const ss_cal_attn_q *q, double *lt, int *inner)
{
    long v0 = -1;
    for (int i = 0; i < c->ngrids; i++) {
        const ss_cal_grid *g = &c->grids[i];
        if (g->family != family || g->dtype != dtype || g->head_dim != (int)q->head_dim ||
            !mha(g->heads, g->kv_heads) || g->heads == v1)
            continue;
        long v = g->heads;
        if ((v < v1) == (v1 < qv) && (v0 < 0 || labs(v - v1) < labs(v0 - v1))) v0 = v;
    }
    double a1;
    if (!hl_point(c, m, family, dtype, v1, v1, q, &a1)) return 0;
    *inner = 0;
    if (v0 < 0) {
        if (!m) return 0;
        ss_cal_attn_q qn = *q;
        qn.heads = qn.kv_heads = (double)v1;
        double b0 = ss_calf_attn_basis(m, &qn), b1 = ss_calf_attn_basis(m, q);
        if (!(b0 > 0) || !(b1 > 0)) return 0;
        *lt = a1 + log(b1 / b0);
        return 1;
    }
    double a0;
    if (!hl_point(c, m, family, dtype, v0, v0, q, &a0)) return 0;
    /* affine in the heads: a fixed walk plus bytes in proportion, t = L + c h through the
     * two grids, kept between constant and proportional (c >= 0, L >= 0) */
    *lt = log(heads_line(exp(a0), v0, exp(a1), v1, qv));
    return 1;
}

/* A decode grid that brackets the query, at (h, kvh), moved to the query's head
 * configuration by the basis ratio before the blend (as the MoE lattice moves its
 * neighbours, fit_moe.c): the basis carries the KV bytes, which follow kv_heads exactly,
 * and the grid the efficiency the kernel reached. Held out by head configuration (median /
 * P90 %), blending the grids' own times -> moved: H100 vLLM 0.24.0 1.70 / 8.03 ->
 * 1.56 / 7.46, H800 2.24 / 15.89 -> 1.96 / 15.58, RTX PRO 6000 eager 2.60 / 11.93 ->
 * 2.31 / 10.11, A100 vLLM 0.14.0 2.10 / 11.99 -> 2.26 / 12.60 (worse). Prefill stays
 * unmoved: its FLOPs follow the query heads, which the grids bracket well already, and
 * moving them was worse (A100 2.90 / 14.55 -> 3.25 / 15.06). */
static int hl_moved(const ss_cal_model *m, int family, long h, long kvh,
                    const ss_cal_attn_q *q, double *lt)
{
    if (family != SS_FAM_ATTN_DECODE || !m) return 1;
    ss_cal_attn_q qn = *q;
    qn.heads = (double)h, qn.kv_heads = (double)kvh;
    double b0 = ss_calf_attn_basis(m, &qn), b1 = ss_calf_attn_basis(m, q);
    if (!(b0 > 0) || !(b1 > 0)) return 0;
    *lt += log(b1 / b0);
    return 1;
}

/* Log time at the query's coordinate qv along a line, between the nearest measured grids on
 * both sides; with grids on one side only, the nearest one continued by the basis ratio
 * between the two head configurations (*inner = 0), except on the diagonal (0: no
 * estimate). */
static int hl_axis(const ss_calib *c, const ss_cal_model *m, int family, int dtype, int line,
                   double qv, long fixed, const ss_cal_attn_q *q, int split, double *lt,
                   int *inner)
{
    long lo = -1, hi = -1, h, kvh;
    for (int i = 0; i < c->ngrids; i++) {
        const ss_cal_grid *g = &c->grids[i];
        if (g->family != family || g->dtype != dtype || g->head_dim != (int)q->head_dim ||
            !on_line(g, line, fixed, q) || !usable(g, split, q))
            continue;
        long v = line == LINE_HEADS ? g->heads : g->kv_heads;
        if (ss_calf_bracket_step(v, qv, &lo, &hi)) break;
    }
    if (lo < 0 && hi < 0) return 0;
    double a, b;
    if (lo < 0 || hi < 0) {
        /* the diagonal is continued only where it is all an MHA query has */
        if (line == LINE_GROUP && split && mha(q->heads, q->kv_heads))
            return mha_continue(c, m, family, dtype, qv, lo < 0 ? hi : lo, q, lt, inner);
        if (line == LINE_GROUP || !m) return 0;
        line_config(line, fixed, q, lo < 0 ? hi : lo, &h, &kvh);
        if (!hl_point(c, m, family, dtype, h, kvh, q, &a)) return 0;
        /* Decode past the most query heads measured on its KV heads: the line through the
         * two grids below it. The KV bytes stay and the query heads add work on them, a
         * fixed part plus a part in proportion (the MHA diagonal's continuation above); the
         * basis, fitted where the heads barely matter, carries too little of it: InferSim's
         * H800, 128 -> 256 heads on 2 KV heads, +17 to +47 % measured. Held out by head
         * configuration (median / P90 %), the basis ratio -> the line: H800 1.97 / 15.37 ->
         * 1.97 / 14.98, H100 vLLM 0.24.0 1.50 / 6.75 -> 1.46 / 6.18, H200 1.41 / 6.50 ->
         * 1.37 / 5.90, A100 vLLM 0.14.0 1.83 / 11.12 -> 1.76 / 10.88, RTX PRO 6000 vLLM
         * 0.19.0 2.66 / 13.70 -> 2.48 / 12.88; H20 10.69 / 43.85 -> 10.48 / 46.47, cuDNN
         * H100 1.09 / 5.10 -> 1.07 / 5.24, H200 1.44 / 6.09 -> 1.49 / 6.09 (worse). */
        if (family == SS_FAM_ATTN_DECODE && line == LINE_HEADS && lo >= 0) {
            long v0 = -1;
            for (int i = 0; i < c->ngrids; i++) {
                const ss_cal_grid *g = &c->grids[i];
                if (g->family == family && g->dtype == dtype &&
                    g->head_dim == (int)q->head_dim && on_line(g, line, fixed, q) &&
                    usable(g, split, q) && g->heads < lo && g->heads > v0)
                    v0 = g->heads;
            }
            double a0;
            if (v0 > 0 && hl_point(c, m, family, dtype, v0, fixed, q, &a0)) {
                *lt = log(heads_line(exp(a0), v0, exp(a), lo, qv));
                *inner = 0;
                return 1;
            }
        }
        ss_cal_attn_q qn = *q;
        qn.heads = (double)h, qn.kv_heads = (double)kvh;
        double b0 = ss_calf_attn_basis(m, &qn), b1 = ss_calf_attn_basis(m, q);
        if (!(b0 > 0) || !(b1 > 0)) return 0;
        *lt = a + log(b1 / b0);
        *inner = 0;
        return 1;
    }
    line_config(line, fixed, q, lo, &h, &kvh);
    if (!hl_point(c, m, family, dtype, h, kvh, q, &a) || !hl_moved(m, family, h, kvh, q, &a))
        return 0;
    if (lo == hi) {
        *lt = a;
        return 1;
    }
    line_config(line, fixed, q, hi, &h, &kvh);
    if (!hl_point(c, m, family, dtype, h, kvh, q, &b) || !hl_moved(m, family, h, kvh, q, &b))
        return 0;
    *lt = ss_calf_log_blend(qv, lo, hi, a, b);
    return 1;
}

/* Between the lines (of `line`) through the nearest measured values of the other coordinate
 * p on both sides, each evaluated at qv. */
static int hl_dir(const ss_calib *c, const ss_cal_model *m, int family, int dtype, int line,
                  double qv, double p, const ss_cal_attn_q *q, int split, double *lt, int *inner)
{
    *inner = 1;
    long lo = -1, hi = -1;
    for (int i = 0; i < c->ngrids; i++) {
        const ss_cal_grid *g = &c->grids[i];
        if (g->family != family || g->dtype != dtype || g->head_dim != (int)q->head_dim ||
            !usable(g, split, q))
            continue;
        long v = line == LINE_HEADS ? g->kv_heads : g->heads;
        if (ss_calf_bracket_step(v, p, &lo, &hi)) break;
    }
    if (lo < 0 || hi < 0) return 0;
    double a, b;
    if (!hl_axis(c, m, family, dtype, line, qv, lo, q, split, &a, inner)) return 0;
    if (lo == hi) {
        *lt = a;
        return 1;
    }
    if (!hl_axis(c, m, family, dtype, line, qv, hi, q, split, &b, inner)) return 0;
    *lt = ss_calf_log_blend(p, lo, hi, a, b);
    return 1;
}

/* ---- along the query heads alone (a prefill or mixed model's heads_only) ----
 *
 * Some kernels give every query head its own thread blocks, which read its KV head's keys
 * themselves, so a call takes as long over few KV heads as over many: FlashAttention-2's
 * varlen forward, which vLLM runs for every batch with a prefill in it. LLMServingSim's RTX
 * PRO 6000 mixed calls (a prefill chunk and up to 128 decodes) take the same time on 32
 * query heads over 4 KV heads as over 8 (median ratio of 19,193 calls 0.997, 10th to 90th
 * percentile 0.95 to 1.03), and on 16 over 2 as over 4 (0.992), while their decode-only
 * calls follow the KV heads (0.61, 0.70). The (heads, kv_heads) lattice continues such a
 * configuration along kv_heads by the basis ratio, which scales the KV bytes, and averages
 * in the heads line, whose basis ratio misses how the blocks fill the GPU (4 decodes on 16
 * or 32 heads take one wave and the same time, on 64 heads twice it).
 *
 * Along the query heads alone: at the query's heads, the grids measured there, blended in
 * log kv_heads between the two nearest and taken as they are beyond them; between measured
 * heads, the two nearest so priced, blended in log heads; past the measured heads, the
 * lattice (continuing the nearest heads by the basis ratio was worse on the mixed calls:
 * held out by head configuration, 2.07 / 15.70 % against 1.95 / 10.29 %). Decode never: its
 * time follows the KV bytes (forced, held out by head configuration, median / P90 %: A100
 * vLLM 0.14.0 1.8 / 11.1 -> 29.9 / 76.8, H100 vLLM 0.24.0 1.5 / 6.8 -> 6.4 / 45.9). */
static int at_heads(const ss_calib *c, const ss_cal_model *m, int family, int dtype, long h,
                    const ss_cal_attn_q *q, double *lt)
{
    long lo = -1, hi = -1;
    for (int i = 0; i < c->ngrids; i++) {
        const ss_cal_grid *g = &c->grids[i];
        if (g->family != family || g->dtype != dtype || g->head_dim != (int)q->head_dim ||
            g->heads != h)
            continue;
        if (ss_calf_bracket_step(g->kv_heads, q->kv_heads, &lo, &hi)) break;
    }
    if (lo < 0 && hi < 0) return 0;
    if (lo < 0 || hi < 0) return hl_point(c, m, family, dtype, h, lo < 0 ? hi : lo, q, lt);
    double a, b;
    if (!hl_point(c, m, family, dtype, h, lo, q, &a)) return 0;
    if (lo == hi) {
        *lt = a;
        return 1;
    }
    if (!hl_point(c, m, family, dtype, h, hi, q, &b)) return 0;
    *lt = ss_calf_log_blend(q->kv_heads, lo, hi, a, b);
    return 1;
}

static int heads_lattice(const ss_calib *c, const ss_cal_model *m, int family, int dtype,
                         const ss_cal_attn_q *q, double *lt)
{
    long lo = -1, hi = -1;
    for (int i = 0; i < c->ngrids; i++) {
        const ss_cal_grid *g = &c->grids[i];
        if (g->family != family || g->dtype != dtype || g->head_dim != (int)q->head_dim)
            continue;
        if (ss_calf_bracket_step(g->heads, q->heads, &lo, &hi)) break;
    }
    if (lo < 0 || hi < 0) return 0;
    double a, b;
    if (!at_heads(c, m, family, dtype, lo, q, &a)) return 0;
    if (lo == hi) {
        *lt = a;
        return 1;
    }
    if (!at_heads(c, m, family, dtype, hi, q, &b)) return 0;
    *lt = ss_calf_log_blend(q->heads, lo, hi, a, b);
    return 1;
}

int ss_cal_attn_lattice(const ss_calib *c, const ss_cal_model *m, int family, int dtype,
                        const ss_cal_attn_q *q, double *t)
{
    double kvh = q->kv_heads > 0 ? q->kv_heads : q->heads;
    if (!(q->heads > 0) || !(kvh > 0)) return 0;
    ss_cal_attn_q qq = *q;
    qq.kv_heads = kvh;
    if (m && m->heads_only) {
        double lt;
        if (heads_lattice(c, m, family, dtype, &qq, &lt)) {
            *t = exp(lt);
            return 1;
        }
    }
    double e[3];
    int ne = 0, in[3], ni = 0, line[3];
    int split = kind_split(c, m, family, dtype, &qq);
    if (hl_dir(c, m, family, dtype, LINE_HEADS, q->heads, kvh, &qq, split, &e[ne], &in[ne]))
        line[ne++] = LINE_HEADS;
    if (hl_dir(c, m, family, dtype, LINE_KV, kvh, q->heads, &qq, split, &e[ne], &in[ne]))
        line[ne++] = LINE_KV;
    /* A prefill MHA query past the measured MHA grids (no line through them brackets it):
     * every grid, as without mha_own, rather than the basis alone. RTX PRO 6000 vLLM 0.19.0
     * held out, mean absolute error, the basis -> every grid: 1 on 1 (head dim 256) 27 ->
     * 14 %, 2 on 2 21 -> 8 %, 64 on 64 22 -> 21 %; by head configuration (median / P90 %)
     * 1.95 / 15.84 -> 1.91 / 14.61, A100 2.52 / 12.31 -> 2.48 / 11.03, H100 and H200 by
     * 0.1 point. */
    if (ne == 0 && split && family == SS_FAM_ATTN_PREFILL) {
        if (hl_dir(c, m, family, dtype, LINE_HEADS, q->heads, kvh, &qq, 0, &e[ne], &in[ne]))
            line[ne++] = LINE_HEADS;
        if (hl_dir(c, m, family, dtype, LINE_KV, kvh, q->heads, &qq, 0, &e[ne], &in[ne]))
            line[ne++] = LINE_KV;
    }
    in[ne] = 1;
    if (family == SS_FAM_ATTN_DECODE &&
        hl_axis(c, m, family, dtype, LINE_GROUP, kvh, 0, &qq, split, &e[ne], &in[ne]))
        line[ne++] = LINE_GROUP;
    if (ne == 0) return 0;
    for (int k = 0; k < ne; k++) ni += in[k];
    /* Decode: the estimates that interpolate between measured grids, averaged, where there
     * are any; those that continue a grid by the basis ratio only where none does. A decode
     * call's time is set by the KV bytes it reads and by how efficiently the kernel reads
     * them, which depends on the query heads per KV head (one thread block serves the
     * group). Along heads at a fixed kv_heads the bytes stay and only the group changes,
     * smoothly; along kv_heads at a fixed group (the diagonal) the kernel's schedule stays
     * and the bytes scale; continuing along kv_heads at fixed heads changes both, and the
     * basis ratio sees only the bytes: aiconfigurator's A100, 16 heads on 1 KV head held
     * out, is 14 % over on average (geometric mean) with both directions, 0.3 % with the
     * interpolation between 12 and 24 heads alone; 2 on 2 and 4 on 4 (MHA) were 20 % and
     * 17 % under without the diagonal. Held out by head configuration (median / P90 %),
     * the average of heads and kv_heads -> the interpolations: A100 6.1 / 30.9 ->
     * 2.5 / 16.5, RTX PRO 6000 vLLM 0.19.0 7.1 / 29.0 -> 3.0 / 20.0, H100 2.2 / 13.1 ->
     * 1.7 / 8.0, H200 2.1 / 12.9 -> 1.6 / 7.8, H20 17.6 / 45.7 -> 17.8 / 47.3, H800
     * 2.4 / 15.6 -> 2.4 / 15.9. Prefill keeps the average of heads and kv_heads: its time
     * follows the FLOPs of the query heads, the basis continues kv_heads well, and the
     * interpolation alone was worse (H100 3.7 / 15.0 -> 3.9 / 15.6). */
    /* Where none interpolates, decode takes the continuation along heads alone, where there
     * is one: at a fixed kv_heads the bytes stay and the basis ratio corrects only the
     * group, while along kv_heads it scales the bytes as if the kernel's time followed them
     * (aiconfigurator's RTX PRO 6000, vLLM 0.19.0: 16 heads on 1 KV head takes the time of
     * 8 or 12 on 1, 8.5 us at batch 1, and 16 on 2 takes 12.7 us; the average of both
     * continuations was 22 % over on 16 on 1). Held out by head configuration (median /
     * P90 %), the average -> heads alone: RTX PRO 6000 vLLM 0.19.0 3.0 / 15.9 -> 2.7 / 13.7,
     * A100 vLLM 0.14.0 2.3 / 12.6 -> 1.8 / 11.1, H100 1.6 / 7.5 -> 1.5 / 6.8, H200
     * 1.5 / 7.1 -> 1.4 / 6.5, cuDNN (servesim-profile) H100 1.4 / 5.7 -> 1.1 / 5.1, H200
     * 1.7 / 6.7 -> 1.4 / 6.1; RTX PRO 6000 eager 2.3 / 10.1 -> 2.3 / 10.2; H20, H800
     * unchanged. */
    int heads_alone = family == SS_FAM_ATTN_DECODE && !ni && ne > 1 && line[0] == LINE_HEADS;
    double sum = 0;
    int cnt = 0;
    for (int k = 0; k < (heads_alone ? 1 : ne); k++)
        if (family != SS_FAM_ATTN_DECODE || !ni || in[k]) sum += e[k], cnt++;
    *t = exp(sum / cnt);
    return 1;
}

double ss_cal_attn(const ss_calib *c, const ss_cal_model *m, int family, int dtype,
                   const ss_cal_attn_q *q)
{
    const ss_cal_grid *g = ss_calib_find_grid(c, family, dtype, (int)q->heads, (int)q->kv_heads,
                                              (int)q->head_dim);
    if (g) return ss_cal_grid_eval(g, m, q);
    double t;
    if (ss_cal_attn_lattice(c, m, family, dtype, q, &t)) return t;
    return m ? ss_calf_attn_basis(m, q) : NAN;
}

/* The axis values x[] of cell i of grid g (last axis fastest). */
static void cell_coords(const ss_cal_grid *g, size_t i, double x[])
{
    for (int d = g->ndim - 1; d >= 0; d--)
        x[d] = g->axis[d][i % (size_t)g->len[d]], i /= (size_t)g->len[d];
}

int ss_calib_lattice_grid(const ss_calib *c, const ss_cal_model *m, int family, int dtype,
                          const ss_cal_attn_q *like, ss_cal_grid *out)
{
    const ss_cal_grid *ref = NULL;
    for (int i = 0; i < c->ngrids; i++) {
        const ss_cal_grid *g = &c->grids[i];
        if (g->family != family || g->dtype != dtype || g->head_dim != (int)like->head_dim)
            continue;
        if (!ref || fabs(log(g->heads / like->heads)) < fabs(log(ref->heads / like->heads)))
            ref = g;
    }
    if (!ref) return 0;
    size_t cells = 1;
    for (int d = 0; d < ref->ndim; d++) cells *= (size_t)ref->len[d];
    *out = *ref;
    out->heads = (int)like->heads, out->kv_heads = (int)like->kv_heads, out->measured = 0;
    out->t = malloc(cells * sizeof *out->t);
    if (!out->t) return 0;
    for (size_t i = 0; i < cells; i++) {
        double x[SS_CAL_GRID_MAXDIM];
        cell_coords(ref, i, x);
        ss_cal_attn_q q;
        ss_calf_grid_query(family, x, like, &q);
        if (!ss_cal_attn_lattice(c, m, family, dtype, &q, &out->t[i]) || !(out->t[i] > 0)) {
            free(out->t);
            out->t = NULL;
            return 0;
        }
    }
    return 1;
}

/* Sum over the measured rows of m's family and dtype that have a grid, each predicted by the
 * lattice with its grid hidden, of |log(predicted / measured)| with *flag (one of m's
 * lattice choices) 0 and 1: *e0, *e1, over *n rows both price. */
static void flag_errors(ss_calib *c, const ss_meas_table *t, const rowkey *keys, size_t nk,
                        ss_cal_model *m, int *flag, double *e0, double *e1, long *n)
{
    *e0 = *e1 = 0, *n = 0;
    int fam = m->family, keep = *flag;
    for (size_t i = 0; i < nk; i++) {
        const ss_meas *r = &t->rows[keys[i].idx];
        if (r->family != fam || r->kv_dtype != m->dtype || !(r->time_s > 0)) continue;
        ss_cal_attn_q q;
        ss_calf_row_attn_q(r, &q);
        ss_cal_grid *g = (ss_cal_grid *)ss_calib_find_grid(c, fam, m->dtype, (int)q.heads,
                                                           (int)q.kv_heads, (int)q.head_dim);
        if (!g) continue;
        g->family = -1; /* hidden from the lattice */
        double p[2];
        int ok = 1;
        for (int s = 0; s < 2 && ok; s++) {
            *flag = s;
            ok = ss_cal_attn_lattice(c, m, fam, m->dtype, &q, &p[s]) && p[s] > 0;
        }
        g->family = fam;
        if (!ok) continue;
        *e0 += fabs(log(p[0] / r->time_s)), *e1 += fabs(log(p[1] / r->time_s));
        (*n)++;
    }
    *flag = keep;
}

void ss_calf_fit_attn_lattice(ss_calib *c, const ss_meas_table *t, const rowkey *keys,
                              size_t nk)
{
    for (int i = 0; i < c->nmodels; i++) {
        ss_cal_model *m = &c->models[i];
        double e0, e1;
        long n;
        if (m->family == SS_FAM_ATTN_PREFILL) {
            /* one way: only MHA queries change, and they had only continuations; kept
             * wherever it helps (aiconfigurator's tables: 9-19 % less error over the grids'
             * cells, as measured before 2026-11-29; the cuDNN ones: no change, and not
             * chosen) */
            flag_errors(c, t, keys, nk, m, &m->mha_own, &e0, &e1, &n);
            m->mha_own = n > 0 && e1 < e0;
        }
        if (m->family == SS_FAM_ATTN_PREFILL || m->family == SS_FAM_ATTN_MIXED) {
            /* along the query heads alone wherever it helps, given mha_own: mean absolute
             * log error over the measured rows, the lattice -> heads alone: RTX PRO 6000
             * eager mixed 0.070 -> 0.038, prefill 0.061 -> 0.040; cuDNN (servesim-profile)
             * H100 0.044 -> 0.029, H200 0.043 -> 0.027; InferSim's H20 0.050 -> 0.047 (25
             * rows). Not aiconfigurator's tables, whose prefill time grows with the KV
             * heads (A100, H100, H200: 0.045-0.052 -> 0.080-0.085; RTX PRO 6000 vLLM
             * 0.19.0: 0.0442 -> 0.0455). Only where it wins by a tenth left every held-out
             * figure the same or worse (RTX PRO 6000 vLLM 0.19.0 prefill, whose folds then
             * never chose it: 1.4 / 13.2 -> 1.9 / 14.6 %). */
            flag_errors(c, t, keys, nk, m, &m->heads_only, &e0, &e1, &n);
            m->heads_only = n > 0 && e1 < e0;
            continue;
        }
        if (m->family != SS_FAM_ATTN_DECODE) continue;
        flag_errors(c, t, keys, nk, m, &m->mha_apart, &e0, &e1, &n);
        /* apart only where it clearly wins, by a fifth: kernels that dispatch on the kind
         * gain a third (aiconfigurator's A100 and RTX PRO 6000 vLLM 0.19.0 BF16 KV: 0.083
         * -> 0.056 and 0.120 -> 0.081 mean absolute log error over the grids' cells, as
         * measured before 2026-11-29); where the kinds follow one
         * law the split loses (H100 / H200 vLLM 0.24.0: +7 %) or, where the diagonal is a
         * line in the heads its continuation recovers, gains a little at the lattice's
         * edges (a synthetic affine law: 21 %), and the simpler lattice is kept. */
        m->mha_apart = n > 0 && e1 < 0.8 * e0;
    }
}

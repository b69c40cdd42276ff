/* Cost model "calibrated": the iteration time from operator models fitted to measured
 * kernels (hwprofiles/calib/fit.h, written into a profile by `servesim calibrate`).
 *
 * Per layer kind: QKV, O, gate/up and down GEMMs at their per-GPU shapes (the measured curve
 * of the exact shape where there is one, else the fitted GEMM basis), attention from the
 * batch's sums (prefill causal pairs and KV prefix, decode KV tokens and request count: see
 * docs/cost-model.md), norms / rotary / activation / residual from the elementwise models,
 * the TP all-reduce from the fitted collective; per iteration the embedding, final norm, the
 * LM head on the sampled rows, the sampler and the CPU overhead. Every operator whose family
 * the profile has no model for (MoE experts, an all-reduce never measured on this GPU, ...)
 * falls back to the roofline with the profile's efficiencies, and
 * ss_cost_calibration_status() says which. The engine is unchanged: this is one more entry
 * of ss_cost_builtin[]. */
#include <gsl/gsl_interp.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hwprofiles/calib/fit.h"
#include "hwprofiles/cost.h"

extern const ss_cost_ops ss_cost_roofline;

enum { G_QKV, G_O, G_UP, G_DOWN, G_LM, G_COUNT };

typedef struct gcurve {
    int npts;
    double lx[SS_CAL_MAX_SHAPE_PTS], ly[SS_CAL_MAX_SHAPE_PTS];
    double m_lo, m_hi, t_lo, t_hi;
    double t_from; /* where the continuation past m_hi starts (ss_cal_beyond_from) */
    gsl_interp *it; /* owned; NULL = use the basis */
} gcurve;

typedef struct gshape {
    double n, k;
    const ss_cal_model *gm; /* the fitted GEMM basis of this shape's size class */
    int split;              /* cv[0]: m % SS_CAL_M_ALIGN == 0, cv[1]: the other m; else cv[0] */
    gcurve cv[2];
} gshape;

typedef struct calst {
    const ss_model *m;
    const ss_hw *hw;
    int tp;
    ss_dtype wt, act, kv;
    void *roof; /* roofline state for the operators without a fitted model */
    ss_calib own;       /* loaded here when the setup brings none */
    const ss_calib *cal; /* own, or the setup's */
    int have_cal;
    const ss_cal_grid *grid_pf, *grid_dc, *grid_mx; /* attention tables of this head config */
    ss_cal_grid lat[3]; /* owned (t): grids built from the head-configuration lattice */
    const ss_cal_model *gemm, *lm, *attn, *attn_dc, *attn_mx, *norm, *rope, *actf, *add, *embed, *ar, *sampler;
    const ss_cal_model *cpu[8];
    int ncpu;
    double wbytes, flop_scale; /* GEMM weight bytes/element; FLOP term x peak ratio when the
                                  model's dtype differs from the weights' */
    gshape g[G_COUNT];
    int moe; /* the model has MoE layers: FFN operators use the roofline unless moe_m */
    const ss_cal_model *moe_m; /* fitted MoE expert layer, or NULL */
    int moe_dt;                /* its dtype */
    ss_cal_moe_q moe_q;        /* this model's expert layer on one GPU */
    ss_cal_moe_curve moe_cv;   /* its measured curve, or the lattice's (npts 0: none) */
    gcurve moe_g;              /* moe_cv's spline */
    double ep; /* expert-parallel degree */
    int nkinds, kind_group[SS_MODEL_MAX_GROUPS];
    double kind_layers[SS_MODEL_MAX_GROUPS];
    unsigned roof_ops; /* bit per ss_op taken from the roofline */
    int roof_overhead; /* CPU overhead from the profile's iteration_overhead */
    int attn_from;     /* KV dtype of the attention tables used where the run's has none
                          (bytes scaled to the run's), else -1 */
    double heads, kv_heads, head_dim, kv_bytes;
    /* Every operator but attention depends only on the batch's token and sequence counts,
     * not on its context lengths (models/ops.c; the same holds for the fitted models): the
     * last such result is kept and reused while those counts repeat, as the roofline's
     * compiled patterns do. Same inputs, same operations: results are bit-identical. */
    struct {
        int valid;
        int32_t num_seqs, num_prefill_seqs, num_decode_seqs, num_sampled;
        int64_t prefill_tokens;
        double out[SS_OP_COUNT + 1];
    } memo;
} calst;

#define ATTN_OPS ((1u << SS_OP_ATTN_PREFILL) | (1u << SS_OP_ATTN_DECODE))

static const ss_cal_model *find_dt(const ss_calib *c, int fam, const char *tag, int want,
                                   int *used)
{
    const ss_cal_model *m = ss_calib_find(c, fam, tag, want);
    if (m) {
        *used = want;
        return m;
    }
    static const int order[] = {SS_DTYPE_BF16, SS_DTYPE_FP16, SS_DTYPE_FP8};
    for (size_t i = 0; i < sizeof order / sizeof *order; i++)
        if ((m = ss_calib_find(c, fam, tag, order[i]))) {
            *used = order[i];
            return m;
        }
    return NULL;
}

/* The first model of a family with any tag (all-reduce: vLLM's custom all-reduce is what the
 * engine calls for small messages, so a "custom" tag is preferred). */
static const ss_cal_model *find_any(const ss_calib *c, int fam, const char *prefer)
{
    const ss_cal_model *any = NULL;
    for (int i = 0; i < c->nmodels; i++) {
        const ss_cal_model *m = &c->models[i];
        if (m->family != fam) continue;
        if (prefer && strstr(m->tag, prefer)) return m;
        if (!any || (m->dtype == SS_DTYPE_BF16 && any->dtype != SS_DTYPE_BF16)) any = m;
    }
    return any;
}

static void setup_curve_pts(gcurve *g, const double *m, const double *t, int npts)
{
    if (npts < 3) return;
    g->npts = npts;
    for (int j = 0; j < npts; j++) g->lx[j] = log(m[j]), g->ly[j] = log(t[j]);
    g->m_lo = m[0], g->m_hi = m[npts - 1];
    g->t_lo = t[0], g->t_hi = t[npts - 1];
    g->it = gsl_interp_alloc(gsl_interp_steffen, (size_t)npts);
    if (g->it && gsl_interp_init(g->it, g->lx, g->ly, (size_t)npts)) {
        gsl_interp_free(g->it);
        g->it = NULL;
    }
}

static void setup_curve(gcurve *g, const ss_cal_shape *sh)
{
    if (sh) setup_curve_pts(g, sh->m, sh->t, sh->npts);
}

/* The MoE expert layer's curve: measured for this configuration (hidden size, expert width
 * per TP shard, experts per GPU, top-k, EP), else interpolated over the measured ones, built
 * once here so that iterations cost what `validate calibration` measures. */
static void setup_moe(calst *s)
{
    const ss_model *m = s->m;
    double mi = (m->moe_intermediate_size > 0 ? m->moe_intermediate_size
                                              : m->intermediate_size) / (double)s->tp;
    s->moe_q = (ss_cal_moe_q){m->hidden_size, mi, (double)m->num_experts / s->ep,
                              m->experts_per_token, s->ep, s->wbytes};
    /* curves of the weight dtype only: another dtype's kernels (an FP8 table for a BF16
     * run) run at another rate, which the basis scales by weight bytes and curves cannot */
    if (s->have_cal && s->moe_dt == (int)s->wt &&
        ss_calib_moe_curve(s->cal, s->moe_m, s->moe_dt, &s->moe_q, &s->moe_cv))
        setup_curve_pts(&s->moe_g, s->moe_cv.m, s->moe_cv.t, s->moe_cv.npts);
    else
        s->moe_cv.npts = 0;
}

static double moe_time(const calst *s, double T)
{
    double t;
    if (s->moe_g.it) {
        if (ss_cal_moe_outside(&s->moe_cv, s->moe_m, s->wbytes, T, &t)) return t;
        if (gsl_interp_eval_e(s->moe_g.it, s->moe_g.lx, s->moe_g.ly, log(T), NULL, &t) == 0)
            return exp(t);
    }
    return ss_cal_moe_basis(s->moe_m, &s->moe_q, T);
}

static double basis(const calst *s, const ss_cal_model *gm, double m, double n, double k)
{
    double x[SS_CAL_MAX_TERMS], sc[SS_CAL_MAX_TERMS];
    ss_cal_gemm_features(m, n, k, s->wbytes, x, sc);
    sc[3] *= s->flop_scale;
    return ss_cal_eval(gm, x, sc);
}

typedef struct shape_ctx {
    const calst *s;
    const gshape *g;
} shape_ctx;

static double shape_basis_m(const void *ctx, double m)
{
    const shape_ctx *c = ctx;
    return basis(c->s, c->g->gm, m, c->g->n, c->g->k);
}

/* The curve's start beyond its largest m, computed once: with the cost model's own basis,
 * as gemm_time continues it. */
static void setup_from(const calst *s, const gshape *g, gcurve *cv, const ss_cal_shape *sh)
{
    cv->t_from = cv->t_hi;
    if (!sh || !g->gm || sh->npts < 1) return;
    shape_ctx c = {s, g};
    cv->t_from = ss_cal_beyond_from(sh->m, sh->t, sh->npts - 1, g->gm->beyond_octave,
                                    shape_basis_m, &c);
}

static void setup_shape(calst *s, int i, double n, double k, int dtype)
{
    gshape *g = &s->g[i];
    g->n = n, g->k = k;
    g->gm = ss_calib_find_gemm(s->cal, dtype, n, k);
    if (!s->have_cal) return;
    /* one curve per m-alignment class where the measured shapes have them (FP8) */
    const ss_cal_shape *sa = ss_calib_find_shape_m(s->cal, s->wt, lround(n), lround(k), SS_CAL_M_ALIGN);
    const ss_cal_shape *su = ss_calib_find_shape_m(s->cal, s->wt, lround(n), lround(k), 1);
    /* a shape nobody measured: its curves interpolated over the measured (n, k) lattice */
    ss_cal_shape la, lu;
    if (!sa && g->gm) {
        if (ss_calib_lattice_shape(s->cal, g->gm, s->wt, 1, n, k, s->wbytes, &la) &&
            ss_calib_lattice_shape(s->cal, g->gm, s->wt, 2, n, k, s->wbytes, &lu))
            sa = &la, su = &lu;
        else if (ss_calib_lattice_shape(s->cal, g->gm, s->wt, 0, n, k, s->wbytes, &la))
            sa = su = &la;
    }
    g->split = sa && su && sa != su;
    setup_curve(&g->cv[0], sa);
    setup_from(s, g, &g->cv[0], sa);
    if (g->split) {
        setup_curve(&g->cv[1], su);
        setup_from(s, g, &g->cv[1], su);
    }
}

static double gemm_time(const calst *s, int i, double m)
{
    if (m <= 0) return 0;
    const gshape *gs = &s->g[i];
    const gcurve *g = &gs->cv[gs->split && ss_cal_m_class(m) == 2 ? 1 : 0];
    if (g->it) {
        if (m < g->m_lo || m > g->m_hi) {
            double edge = m < g->m_lo ? g->m_lo : g->m_hi, te = m < g->m_lo ? g->t_lo : g->t_hi;
            double b0 = gs->gm ? basis(s, gs->gm, edge, gs->n, gs->k) : 0;
            if (!(b0 > 0)) return te;
            double b1 = basis(s, gs->gm, m, gs->n, gs->k);
            if (m > g->m_hi) return ss_cal_beyond(te, g->t_from, b0, b1, gs->gm->beyond_w);
            return te * (b1 < b0 ? b1 / b0 : 1);
        }
        double v;
        if (gsl_interp_eval_e(g->it, g->lx, g->ly, log(m), NULL, &v) == 0) return exp(v);
    }
    return basis(s, gs->gm, m, gs->n, gs->k);
}

static double attn_eval(const ss_cal_grid *g, const ss_cal_model *m, const ss_cal_attn_q *q)
{
    if (!m) return 0;
    if (g) return ss_cal_grid_eval(g, m, q);
    double x[SS_CAL_MAX_TERMS], sc[SS_CAL_MAX_TERMS];
    ss_cal_attn_features(q, x, sc);
    return ss_cal_eval(m, x, sc);
}

static double elem(const ss_cal_model *mod, double elements)
{
    if (elements <= 0) return 0;
    double x[2] = {1, elements}, sc[2] = {1, 1};
    return ss_cal_eval(mod, x, sc);
}

static double count_model(const ss_cal_model *mod, double count)
{
    double x[2] = {1, count}, sc[2] = {1, 1};
    return ss_cal_eval(mod, x, sc);
}

static double allreduce(const calst *s, double bytes)
{
    double p = s->tp, x[3] = {1, p - 1, bytes}, sc[3] = {1, 1, 2.0 * (p - 1) / p};
    return ss_cal_eval(s->ar, x, sc);
}

static ss_rc cal_create(const ss_cost_setup *su, void **state, ss_diag *d)
{
    *state = NULL;
    calst *s = calloc(1, sizeof *s);
    if (!s) return ss_diag_fail(d, SS_ERR_NOMEM, "calibrated: out of memory");
    s->attn_from = -1;
    ss_rc rc = ss_cost_roofline.create(su, &s->roof, d);
    if (rc) {
        free(s);
        return rc;
    }
    const ss_model *m = su->model;
    const ss_hw *hw = su->hw;
    s->m = m, s->hw = hw, s->tp = su->par.tp;
    s->ep = su->par.ep > 1 ? su->par.ep : 1;
    s->wt = su->weight_dtype, s->act = su->act_dtype, s->kv = su->kv_dtype;
    /* The setup's calibration, else the profile's own, else its GPU's default one. */
    ss_calib_init(&s->own);
    s->cal = &s->own;
    if (su->calib) {
        s->cal = su->calib;
        s->have_cal = 1;
    } else {
        const char *doc = ss_cost_calibration_doc(hw);
        if (doc) {
            if ((rc = ss_calib_load_doc(doc, hw->name, &s->own, d))) {
                ss_cost_roofline.destroy(s->roof);
                free(s);
                return rc;
            }
            s->have_cal = 1;
        }
    }
    const ss_calib *c = s->cal;
    int used = s->wt;
    if (s->have_cal) {
        /* any GEMM class of the weight dtype, else of bf16/fp16/fp8 (FLOPs rescaled) */
        static const int order[] = {-1, SS_DTYPE_BF16, SS_DTYPE_FP16, SS_DTYPE_FP8};
        for (size_t i = 0; i < sizeof order / sizeof *order && !s->gemm; i++) {
            used = order[i] < 0 ? (int)s->wt : order[i];
            s->gemm = ss_calib_find_gemm(c, used, 4096, 4096);
        }
        int u2;
        s->lm = find_dt(c, SS_FAM_LM_HEAD, "", s->wt, &u2);
        s->attn = find_dt(c, SS_FAM_ATTN_PREFILL, "", s->kv, &u2);
        s->attn_dc = find_dt(c, SS_FAM_ATTN_DECODE, "", s->kv, &u2);
        s->attn_mx = find_dt(c, SS_FAM_ATTN_MIXED, "", s->kv, &u2);
        s->norm = find_dt(c, SS_FAM_ELEMWISE, "norm", SS_DTYPE_BF16, &u2);
        s->rope = find_dt(c, SS_FAM_ELEMWISE, "rope", SS_DTYPE_BF16, &u2);
        s->actf = find_dt(c, SS_FAM_ELEMWISE, "act", SS_DTYPE_BF16, &u2);
        s->add = find_dt(c, SS_FAM_ELEMWISE, "add", SS_DTYPE_BF16, &u2);
        s->embed = find_any(c, SS_FAM_EMBED, NULL);
        /* vLLM's own all-reduce under CUDA graphs where measured (what vLLM runs by default
         * for the message sizes of a decoder layer), else eager, else NCCL */
        s->ar = find_any(c, SS_FAM_ALLREDUCE, "custom_graph");
        if (!s->ar || !strstr(s->ar->tag, "custom_graph")) {
            const ss_cal_model *e = find_any(c, SS_FAM_ALLREDUCE, "custom");
            if (e) s->ar = e;
        }
        s->sampler = find_any(c, SS_FAM_SAMPLER, NULL);
        /* the MoE expert layer of the weight dtype (else bf16/fp16/fp8, weight bytes kept) */
        s->moe_m = find_dt(c, SS_FAM_MOE, s->ep > 1 ? "ep" : "", s->wt, &s->moe_dt);
        if (!s->moe_m && s->ep > 1) s->moe_m = find_dt(c, SS_FAM_MOE, "", s->wt, &s->moe_dt);
        for (int i = 0; i < c->nmodels && s->ncpu < 8; i++)
            if (c->models[i].family == SS_FAM_CPU_OVERHEAD) s->cpu[s->ncpu++] = &c->models[i];
    }
    s->wbytes = ss_dtype_bits(s->wt) / 8.0;
    s->flop_scale = 1;
    if (s->gemm && used != (int)s->wt) {
        double pw = ss_hw_peak_flops(hw, s->wt), pm = ss_hw_peak_flops(hw, (ss_dtype)used);
        if (pw > 0 && pm > 0) s->flop_scale = pm / pw;
    }
    for (int g = 0; g < m->num_groups && g < SS_MODEL_MAX_GROUPS; g++) {
        const ss_layer_group *lg = &m->groups[g];
        if (lg->count <= 0) continue;
        if (lg->ffn == SS_FFN_MOE) s->moe = 1;
        int k = 0;
        while (k < s->nkinds) {
            const ss_layer_group *o = &m->groups[s->kind_group[k]];
            if (o->attn == lg->attn && o->window == lg->window && o->ffn == lg->ffn) break;
            k++;
        }
        if (k == s->nkinds) s->kind_group[s->nkinds++] = g;
        s->kind_layers[k] += lg->count;
    }
    if (s->moe && s->moe_m && m->num_experts > 0) setup_moe(s);
    double tp = s->tp, hd = m->head_dim, H = m->hidden_size;
    int kvh = m->num_kv_heads / s->tp;
    if (kvh < 1) kvh = 1;
    s->heads = m->num_heads / tp, s->kv_heads = kvh, s->head_dim = hd;
    s->kv_bytes = ss_dtype_bits(s->kv) / 8.0;
    if (s->have_cal) {
        /* a table is used only for the KV element size it was measured with (bf16 and fp16
         * are the same kernels); another dtype goes through the fitted basis, whose bytes
         * terms scale with the element size */
        int h = (int)s->heads, dt = s->kv;
        const ss_cal_model *am = s->attn ? s->attn : s->attn_dc ? s->attn_dc : s->attn_mx;
        if (am && ss_dtype_bits((ss_dtype)am->dtype) == ss_dtype_bits(s->kv)) dt = am->dtype;
        else if (am) s->attn_from = am->dtype;
        /* a head configuration without its own table: one from the lattice of the measured
         * ones (as validation's held-out head configurations are costed), else the basis */
        ss_cal_attn_q like = {.heads = h, .kv_heads = kvh, .head_dim = hd,
                              .kv_bytes = s->kv_bytes};
        const ss_cal_model *fm[3] = {s->attn, s->attn_dc, s->attn_mx};
        const ss_cal_grid **fg[3] = {&s->grid_pf, &s->grid_dc, &s->grid_mx};
        static const int fam[3] = {SS_FAM_ATTN_PREFILL, SS_FAM_ATTN_DECODE, SS_FAM_ATTN_MIXED};
        for (int f = 0; f < 3; f++) {
            if (!fm[f]) continue;
            *fg[f] = ss_calib_find_grid(c, fam[f], dt, h, kvh, (int)hd);
            if (!*fg[f] && ss_calib_lattice_grid(c, fm[f], fam[f], dt, &like, &s->lat[f]))
                *fg[f] = &s->lat[f];
        }
    }
    double I = m->intermediate_size / tp, mats = m->mlp == SS_MLP_GATED_SILU ? 2 : 1;
    if (s->gemm) {
        setup_shape(s, G_QKV, (s->heads + 2.0 * kvh) * hd, H, used);
        setup_shape(s, G_O, H, s->heads * hd, used);
        setup_shape(s, G_UP, mats * I, H, used);
        setup_shape(s, G_DOWN, H, I, used);
        setup_shape(s, G_LM, (double)m->vocab_size / tp, H, used);
    }
    /* which operators come from the roofline */
    unsigned r = 0;
#define ROOF(op) (r |= 1u << (op))
    if (!s->gemm) ROOF(SS_OP_QKV_PROJ), ROOF(SS_OP_O_PROJ), ROOF(SS_OP_MLP_UP), ROOF(SS_OP_MLP_DOWN);
    if (!s->gemm && !s->lm) ROOF(SS_OP_LOGITS);
    if (s->moe && !(s->gemm && s->moe_m && m->num_experts > 0))
        ROOF(SS_OP_MLP_UP), ROOF(SS_OP_MLP_DOWN), ROOF(SS_OP_MLP_ACT), ROOF(SS_OP_MOE_ROUTER);
    else if (s->moe)
        ROOF(SS_OP_MOE_ROUTER); /* the gate GEMM + top-k; the expert layer is fitted */
    if (!s->attn && !s->attn_mx) ROOF(SS_OP_ATTN_PREFILL);
    if (!s->attn_dc && !s->attn_mx) ROOF(SS_OP_ATTN_DECODE);
    if (!s->norm) ROOF(SS_OP_NORM), ROOF(SS_OP_RESIDUAL);
    if (!s->rope) ROOF(SS_OP_ROPE);
    if (!s->actf) ROOF(SS_OP_MLP_ACT);
    if (!s->embed) ROOF(SS_OP_EMBED);
    if (s->tp > 1 && !s->ar) ROOF(SS_OP_TP_ALLREDUCE);
#undef ROOF
    s->roof_ops = r;
    s->roof_overhead = s->ncpu == 0;
    *state = s;
    return SS_OK;
}

static void cal_destroy(void *state)
{
    calst *s = state;
    if (!s) return;
    for (int i = 0; i < G_COUNT; i++)
        for (int j = 0; j < 2; j++)
            if (s->g[i].cv[j].it) gsl_interp_free(s->g[i].cv[j].it);
    for (int f = 0; f < 3; f++) free(s->lat[f].t);
    if (s->moe_g.it) gsl_interp_free(s->moe_g.it);
    ss_cost_roofline.destroy(s->roof);
    ss_calib_free(&s->own);
    free(s);
}

/* Per-operator seconds of the whole iteration into out[SS_OP_COUNT + 1] (the last is the
 * overhead: CPU and sampler). */
static void cal_indep(const calst *s, const ss_batch_shape *b, double *out)
{
    memset(out, 0, sizeof(double) * (SS_OP_COUNT + 1));
    const ss_model *m = s->m;
    double T = (double)b->prefill_tokens + b->num_decode_seqs, H = m->hidden_size;
    double tp = s->tp, I = m->intermediate_size / tp;
    double layers = 0;
    for (int k = 0; k < s->nkinds; k++) layers += s->kind_layers[k];
    double dense_layers = 0;
    for (int k = 0; k < s->nkinds; k++)
        if (m->groups[s->kind_group[k]].ffn == SS_FFN_DENSE) dense_layers += s->kind_layers[k];
    if (s->gemm && s->moe_m && s->moe && m->num_experts > 0 && T > 0) {
        /* fused MoE expert layer (grouped GEMMs and activation: one measured kernel) */
        out[SS_OP_MLP_UP] += (layers - dense_layers) * moe_time(s, T);
    }
    if (s->gemm) {
        out[SS_OP_QKV_PROJ] = layers * gemm_time(s, G_QKV, T);
        out[SS_OP_O_PROJ] = layers * gemm_time(s, G_O, T);
        out[SS_OP_MLP_UP] += dense_layers * gemm_time(s, G_UP, T);
        out[SS_OP_MLP_DOWN] = dense_layers * gemm_time(s, G_DOWN, T);
    }
    if (s->norm) {
        out[SS_OP_NORM] = (2 * layers + 1) * elem(s->norm, T * H);
        /* vLLM fuses the residual add into the norm kernel (fused_add_rms_norm); a separate
         * add is charged only where the stack measured one (Vidur's Sarathi kernels). */
        out[SS_OP_RESIDUAL] = s->add ? 2 * layers * elem(s->add, T * H) : 0;
    }
    if (s->rope) out[SS_OP_ROPE] = layers * elem(s->rope, T * (s->heads + s->kv_heads) * s->head_dim);
    if (s->actf) out[SS_OP_MLP_ACT] = dense_layers * elem(s->actf, T * I);
    if (s->embed) out[SS_OP_EMBED] = elem(s->embed, T * H);
    if (b->num_sampled > 0) {
        if (s->lm) {
            double x[SS_CAL_MAX_TERMS], sc[SS_CAL_MAX_TERMS];
            ss_cal_gemm_features(b->num_sampled, (double)m->vocab_size / tp, H, s->wbytes, x, sc);
            out[SS_OP_LOGITS] = ss_cal_eval(s->lm, x, sc);
        } else if (s->gemm) {
            out[SS_OP_LOGITS] = gemm_time(s, G_LM, b->num_sampled);
        }
        if (s->sampler) out[SS_OP_COUNT] += count_model(s->sampler, b->num_sampled);
    }
    if (s->tp > 1 && s->ar) {
        double bytes = T * H * ss_dtype_bits(s->act) / 8.0;
        out[SS_OP_TP_ALLREDUCE] = (2 * layers + 1) * allreduce(s, bytes);
    }
    if ((s->roof_ops & ~ATTN_OPS) || s->roof_overhead) {
        double r[SS_OP_COUNT + 1];
        ss_cost_roofline.breakdown(s->roof, b, r);
        for (int op = 0; op < SS_OP_COUNT; op++)
            if ((s->roof_ops & ~ATTN_OPS) & (1u << op)) out[op] = r[op];
        if (s->roof_overhead) out[SS_OP_COUNT] += r[SS_OP_COUNT];
    }
    for (int i = 0; i < s->ncpu; i++) out[SS_OP_COUNT] += count_model(s->cpu[i], b->num_seqs);
}

/* The attention operators (they depend on the context lengths) into out[ATTN_*]. */
static void cal_attn(const calst *s, const ss_batch_shape *b, double *out)
{
    double layers = 0;
    for (int k = 0; k < s->nkinds; k++) layers += s->kind_layers[k];
    if (s->attn || s->attn_dc || s->attn_mx) {
        ss_cal_attn_q q = {.pf_seqs = b->num_prefill_seqs,
                           .pf_tokens = (double)b->prefill_tokens,
                           .pf_pairs = b->prefill_attn_pairs,
                           .pf_ctx = (double)b->prefill_ctx_tokens,
                           .dc_seqs = b->num_decode_seqs,
                           .dc_ctx = (double)b->decode_ctx_tokens,
                           .heads = s->heads, .kv_heads = s->kv_heads,
                           .head_dim = s->head_dim, .kv_bytes = s->kv_bytes};
        /* the prefill-only and decode-only parts of the batch */
        ss_cal_attn_q qp = q, qd = q;
        qp.dc_seqs = qp.dc_ctx = 0;
        qd.pf_seqs = qd.pf_tokens = qd.pf_pairs = qd.pf_ctx = 0;
        int has_p = b->prefill_tokens > 0, has_d = b->num_decode_seqs > 0;
        /* Skew: the same batch with every decode context at the longest one. A batch of
         * mixed lengths costs alpha of the way from its mean to that (fitted from the skew
         * shots; 0 = as uniform). */
        double alpha = has_p ? s->cal->skew_alpha_mixed : s->cal->skew_alpha_pure;
        int skewed = has_d && alpha > 0 && b->decode_ctx_max > 0 &&
                     (double)b->decode_ctx_max * b->num_decode_seqs > (double)b->decode_ctx_tokens;
        ss_cal_attn_q qm = q, qdm = qd;
        qm.dc_ctx = qdm.dc_ctx = (double)b->decode_ctx_max * b->num_decode_seqs;
        /* Decode attention streams its KV from HBM: in a serving iteration every other
         * layer's KV and weights pass between two reads of one layer's, so it is never
         * faster than the KV bytes at the datasheet bandwidth, whatever a benchmark that
         * re-read one layer's KV from L2 measured, or a head configuration continued from
         * the measured ones gives (an MHA configuration past the measured MHA grids follows
         * their flat walk time at small batches: Llama-2-7B at TP 2 on the A100, 8 x 32k
         * of context, came to 2.7 TB/s; test_calib_shipped) */
        double dc_kv = (double)b->decode_ctx_tokens * s->kv_heads * s->head_dim * 2 * s->kv_bytes;
        double dc_floor = s->hw->hbm_bandwidth > 0 ? dc_kv / s->hw->hbm_bandwidth : 0;
        /* and never faster than the calibration's measured calls that overflowed the L2 */
        double dc_spill = ss_cal_decode_floor(s->attn_dc, dc_kv); /* decode models only */
        if (dc_spill > dc_floor) dc_floor = dc_spill;
        double pf = 0, dc = 0;
        if (has_p && has_d && s->attn_mx) {
            /* one mixed call (vLLM): split by the prefill-only share for the breakdown */
            double all = attn_eval(s->grid_mx, s->attn_mx, &q);
            if (skewed) all += alpha * (attn_eval(s->grid_mx, s->attn_mx, &qm) - all);
            double p = attn_eval(s->grid_mx, s->attn_mx, &qp);
            pf = p < all ? p : all;
            dc = all - pf;
            if (dc < dc_floor) dc = dc_floor;
        } else {
            const ss_cal_grid *gd = s->attn_dc ? s->grid_dc : s->grid_mx;
            const ss_cal_model *md = s->attn_dc ? s->attn_dc : s->attn_mx;
            if (has_p) pf = s->attn ? attn_eval(s->grid_pf, s->attn, &qp)
                                    : attn_eval(s->grid_mx, s->attn_mx, &qp);
            if (has_d) {
                dc = attn_eval(gd, md, &qd);
                if (skewed) dc += alpha * (attn_eval(gd, md, &qdm) - dc);
                if (dc < dc_floor) dc = dc_floor;
            }
        }
        out[SS_OP_ATTN_PREFILL] = layers * pf;
        out[SS_OP_ATTN_DECODE] = layers * dc;
    }
    if (s->roof_ops & ATTN_OPS) {
        double r[SS_OP_COUNT + 1];
        ss_cost_roofline.breakdown(s->roof, b, r);
        for (int op = 0; op < SS_OP_COUNT; op++)
            if ((s->roof_ops & ATTN_OPS) & (1u << op)) out[op] = r[op];
    }
}

/* Per-operator seconds of the whole iteration into out[SS_OP_COUNT + 1]. */
static void cal_ops(calst *s, const ss_batch_shape *b, double *out)
{
    if (s->memo.valid && s->memo.num_seqs == b->num_seqs &&
        s->memo.num_prefill_seqs == b->num_prefill_seqs &&
        s->memo.num_decode_seqs == b->num_decode_seqs &&
        s->memo.num_sampled == b->num_sampled && s->memo.prefill_tokens == b->prefill_tokens) {
        memcpy(out, s->memo.out, sizeof s->memo.out);
    } else {
        cal_indep(s, b, out);
        memcpy(s->memo.out, out, sizeof s->memo.out);
        s->memo.num_seqs = b->num_seqs, s->memo.num_prefill_seqs = b->num_prefill_seqs;
        s->memo.num_decode_seqs = b->num_decode_seqs, s->memo.num_sampled = b->num_sampled;
        s->memo.prefill_tokens = b->prefill_tokens;
        s->memo.valid = 1;
    }
    cal_attn(s, b, out);
}

static ss_time_ns cal_iteration(void *state, const ss_batch_shape *b)
{
    double out[SS_OP_COUNT + 1], t = 0;
    cal_ops(state, b, out);
    for (int i = 0; i <= SS_OP_COUNT; i++) t += out[i];
    return ss_time_from_s(t);
}

static void cal_breakdown(void *state, const ss_batch_shape *b, double out_s[SS_OP_COUNT + 1])
{
    cal_ops(state, b, out_s);
}

/* The name a user can type back: the profile's own name when the scenario named a
 * calibrated profile (GPU@NAME, which need not be GPU@STACK: the servesim-profile profiles
 * are named after cuBLASLt, their stack string is longer), else GPU@STACK of the GPU's
 * default calibration, which is that profile's name. */
static const char *cal_label(const calst *s, char *buf, size_t n)
{
    if (strchr(s->hw->name, '@')) return s->hw->name;
    snprintf(buf, n, "%s@%s", s->cal->gpu, s->cal->stack);
    return buf;
}

void ss_cost_calibration_status(const ss_cost_setup *su, char *buf, size_t n)
{
    void *st = NULL;
    ss_diag d;
    ss_diag_clear(&d);
    if (ss_cost_calibrated.create(su, &st, &d) != SS_OK) {
        char msg[1400];
        ss_diag_format(&d, msg, sizeof msg);
        snprintf(buf, n, "uncalibrated (%s)", msg);
        return;
    }
    calst *s = st;
    if (!s->have_cal) {
        snprintf(buf, n, "uncalibrated (no measurements for %s: roofline with datasheet "
                         "efficiencies)", s->hw->name);
    } else {
        char lb[160];
        int part = s->roof_ops || s->roof_overhead;
        size_t used = (size_t)snprintf(buf, n, "%scalibrated (%s", part ? "partially " : "",
                                       cal_label(s, lb, sizeof lb));
        if (part && used < n) used += (size_t)snprintf(buf + used, n - used, "; roofline:");
        for (int op = 0; op < SS_OP_COUNT && used < n; op++)
            if (s->roof_ops & (1u << op))
                used += (size_t)snprintf(buf + used, n - used, " %s", ss_op_name((ss_op)op));
        if (s->roof_overhead && used < n)
            used += (size_t)snprintf(buf + used, n - used, " cpu_overhead=profile");
        /* a table left out (e.g. FP8-KV attention faster than the memory) is not silent */
        if (s->attn_from >= 0 && used < n)
            used += (size_t)snprintf(buf + used, n - used, "; KV %s attention from the %s tables",
                                     ss_dtype_name(s->kv), ss_dtype_name((ss_dtype)s->attn_from));
        if (used < n) snprintf(buf + used, n - used, ")");
    }
    cal_destroy(st);
}

const ss_cost_ops ss_cost_calibrated = {
    .info = {.abi_version = SS_COST_ABI,
             .name = "calibrated",
             .help = "per-operator models fitted to measured kernels (servesim calibrate); "
                     "roofline for operator families never measured on the GPU",
             .source = "docs/cost-model.md, docs/calibration.md; measurements in "
                       "../shared/data/kernels (Vidur, aiconfigurator, LLMServingSim, ...)"},
    .create = cal_create,
    .destroy = cal_destroy,
    .iteration = cal_iteration,
    .breakdown = cal_breakdown,
};

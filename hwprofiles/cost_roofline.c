/* Cost model v1, "roofline": the duration of one iteration from operator FLOPs and bytes.
 *
 * For every operator of every layer (docs/cost-model.md has the derivation and sources):
 *
 *     t_op = max(flops / (peak(dtype_op) * compute_efficiency),
 *                bytes / (hbm_bandwidth * memory_efficiency))
 *            + kernels * kernel_launch
 *
 * (Williams, Waterman and Patterson, "Roofline", CACM 2009), and for the tensor-parallel
 * all-reduce the ring algorithm's cost in the alpha-beta form that nccl-tests uses to define
 * bus bandwidth (NVIDIA nccl-tests doc/PERFORMANCE.md: busbw = algbw * 2(n-1)/n):
 *
 *     t_ar = calls * 2(tp-1) * link_latency
 *            + 2(tp-1)/tp * comm_bytes / (link_bandwidth * link_efficiency)
 *
 * and for collective bytes on any other operator (the LM head's logits gather) a ring
 * gather of each GPU's shard (busbw = algbw * (n-1)/n over n shards):
 *
 *     t_gather = (tp-1) * link_latency + (tp-1) * comm_bytes / (link_bandwidth * link_eff)
 *
 * The iteration is the layer groups' sum (count x one layer), plus the work outside the
 * layers (embedding, final norm, LM head), plus a fixed per-iteration CPU overhead.
 *
 * iteration() runs about a million times per simulated run, so everything that does not
 * depend on the batch is folded into reciprocals in create(): an iteration is one
 * ss_model_layer_work call per distinct layer kind, one ss_model_head_work call and a
 * multiply-add-max per operator, independent of the batch size. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hwprofiles/cost.h"

/* How an operator's FLOPs are executed, which decides the peak it runs against. */
typedef enum op_unit {
    UNIT_GEMM,   /* tensor cores at the weight dtype's rate (W8A8 FP8 GEMMs run at FP8) */
    UNIT_TENSOR, /* tensor cores at the activation dtype's rate (attention, router) */
    UNIT_VECTOR, /* CUDA/vector cores, FP32 (norms, rotary, activation, residual, gather) */
    UNIT_COMM    /* the all-reduce: link cost, not FLOPs */
} op_unit;

static op_unit unit_of(ss_op op)
{
    switch (op) {
    case SS_OP_QKV_PROJ:
    case SS_OP_O_PROJ:
    case SS_OP_MLP_UP:
    case SS_OP_MLP_DOWN:
    case SS_OP_LOGITS: return UNIT_GEMM;
    case SS_OP_ATTN_PREFILL:
    case SS_OP_ATTN_DECODE:
    case SS_OP_MOE_ROUTER: return UNIT_TENSOR;
    case SS_OP_TP_ALLREDUCE: return UNIT_COMM;
    case SS_OP_EMBED:
    case SS_OP_NORM:
    case SS_OP_ROPE:
    case SS_OP_MLP_ACT:
    case SS_OP_RESIDUAL:
    default: return UNIT_VECTOR;
    }
}

typedef struct roof {
    const ss_model *m;
    int tp;
    ss_dtype wt, act, kv;
    /* Distinct layer kinds: groups with the same (attn, window, ffn) do the same work per
     * layer, so each kind is evaluated once per iteration and scaled by its layer count. */
    int nkinds;
    int kind_group[SS_MODEL_MAX_GROUPS]; /* a representative group index */
    double kind_layers[SS_MODEL_MAX_GROUPS];
    double s_per_flop[SS_OP_COUNT]; /* 1 / (peak(op) * compute_efficiency) */
    double s_per_byte;              /* 1 / (hbm_bandwidth * memory_efficiency) */
    double launch_s;
    double ar_step_s;   /* 2(tp-1) * link_latency, per collective call; 0 when tp = 1 */
    double ar_s_per_byte; /* 2(tp-1)/tp / (link_bandwidth * link_efficiency); 0 when tp = 1 */
    double ga_step_s;     /* (tp-1) * link_latency: a gather (the LM head's logits) */
    double ga_s_per_byte; /* (tp-1) / (link_bandwidth * link_efficiency) */
    double overhead_s;
    /* Compiled evaluation, one entry per presence pattern (see compile_pattern). */
    struct pattern {
        int state; /* 0 = not compiled yet, 1 = affine (use terms), -1 = evaluate directly */
        int nrows;
        int nterms;
        int row_end[2 * (SS_MODEL_MAX_GROUPS + 1) * SS_OP_COUNT]; /* terms of row r end here */
        struct term {
            int feat;
            double a, b; /* seconds per unit of feature: compute side, memory side */
        } terms[2 * (SS_MODEL_MAX_GROUPS + 1) * SS_OP_COUNT * 9];
        double lin[9]; /* launch, collective and overhead terms: plain linear part */
        unsigned char dep[2 * (SS_MODEL_MAX_GROUPS + 1) * SS_OP_COUNT]; /* row reads x[7] */
        int ndep, dep_rows[2 * (SS_MODEL_MAX_GROUPS + 1) * SS_OP_COUNT];
        /* Memo of the rows that do not read decode_ctx_tokens (x[7]): a decode stretch
         * changes nothing else from one iteration to the next. */
        int memo_valid;
        double memo_x[9];
        double memo_indep;
    } pat[8];
} roof;

/* Seconds for one layer's (or the head's) operators, scaled by `scale`; per-operator
 * seconds are added into per_op when it is not NULL. */
static inline double work_seconds(const roof *r, const ss_op_work *w, double scale,
                                  double *per_op)
{
    double total = 0;
    for (int op = 0; op < SS_OP_COUNT; op++) {
        double t;
        if (op == SS_OP_TP_ALLREDUCE) {
            if (w[op].comm_bytes <= 0) continue;
            /* `kernels` counts the collective calls (a dense layer makes two). The fitted
             * link latency already contains the launch, so none is added here. */
            double calls = w[op].kernels > 1 ? w[op].kernels : 1;
            t = calls * r->ar_step_s + w[op].comm_bytes * r->ar_s_per_byte;
        } else {
            double tc = w[op].flops * r->s_per_flop[op];
            double tm = w[op].bytes * r->s_per_byte;
            t = (tc > tm ? tc : tm) + w[op].kernels * r->launch_s;
            /* Collective bytes on any other operator are a gather of each GPU's shard
             * (models/ops.c puts the LM head's logits gather on LOGITS). */
            if (w[op].comm_bytes > 0) t += r->ga_step_s + w[op].comm_bytes * r->ga_s_per_byte;
        }
        t *= scale;
        total += t;
        if (per_op) per_op[op] += t;
    }
    return total;
}

static double iteration_seconds(const roof *r, const ss_batch_shape *b, double *per_op)
{
    ss_op_work w[SS_OP_COUNT];
    double t = 0;
    for (int k = 0; k < r->nkinds; k++) {
        ss_model_layer_work(r->m, r->kind_group[k], r->tp, r->wt, r->act, r->kv, b, w);
        t += work_seconds(r, w, r->kind_layers[k], per_op);
    }
    ss_model_head_work(r->m, r->tp, r->wt, r->act, b, w);
    t += work_seconds(r, w, 1.0, per_op);
    return t + r->overhead_s;
}


/* ================================================================== compiled evaluation
 *
 * Within one "presence pattern" (is there prefill work, decode work, a sampled token) every
 * operator's FLOPs, bytes, launches and collective bytes are affine in the nine batch
 * features below: models/ops.c has no other non-linearity for dense layers. So the first
 * time a pattern occurs, each (layer kind, operator) row is reduced to sparse coefficient
 * lists, in seconds, with the layer count, peaks and bandwidths folded in; an iteration is
 * then about forty multiply-adds and fourteen max() instead of re-deriving every operator.
 * The reduction is checked against the direct evaluation at two further points of the
 * pattern; if they disagree beyond 1e-9 relative (MoE's expected-experts-touched term is
 * not affine in tokens) the pattern is evaluated directly, so the fast path can only ever
 * be a faster way to compute the same number. */

enum { NFEAT = 9 };

static void features(const ss_batch_shape *b, double x[NFEAT])
{
    x[0] = 1;
    x[1] = b->num_seqs;
    x[2] = b->num_prefill_seqs;
    x[3] = (double)b->prefill_tokens;
    x[4] = b->prefill_attn_pairs;
    x[5] = (double)b->prefill_ctx_tokens;
    x[6] = b->num_decode_seqs;
    x[7] = (double)b->decode_ctx_tokens;
    x[8] = b->num_sampled;
}

static void from_features(const double x[NFEAT], ss_batch_shape *b)
{
    memset(b, 0, sizeof *b);
    b->num_seqs = (int32_t)x[1];
    b->num_prefill_seqs = (int32_t)x[2];
    b->prefill_tokens = (int64_t)x[3];
    b->prefill_attn_pairs = x[4];
    b->prefill_ctx_tokens = (int64_t)x[5];
    b->num_decode_seqs = (int32_t)x[6];
    b->decode_ctx_tokens = (int64_t)x[7];
    b->num_sampled = (int32_t)x[8];
}

static int pattern_of(const ss_batch_shape *b)
{
    return (b->prefill_tokens > 0) | (b->num_decode_seqs > 0) << 1 | (b->num_sampled > 0) << 2;
}

/* A point of pattern p, scaled by s (s = 1, 2, 3 give distinct points). */
static void pattern_point(int p, double s, double x[NFEAT])
{
    double pf = (p & 1) ? 1 : 0, dc = (p & 2) ? 1 : 0, sm = (p & 4) ? 1 : 0;
    x[0] = 1;
    x[2] = pf * (1 + s);                  /* prefill seqs */
    x[3] = pf * (100 * s + 7);            /* prefill tokens */
    x[4] = pf * (5000 * s * s + 300);     /* causal pairs */
    x[5] = pf * (40 * s);                 /* cached context */
    x[6] = dc * (3 * s + 1);              /* decode seqs */
    x[7] = dc * (900 * s + 50);           /* decode context */
    x[1] = x[2] + x[6];
    x[8] = sm * (x[1] > 1 ? x[1] - 1 : 1);
}

/* Per-row seconds split as: compute side, memory side (for the max) and linear rest. */
static void row_parts(const roof *r, const ss_op_work *w, int op, double scale, double *tc,
                      double *tm, double *lin)
{
    *tc = *tm = *lin = 0;
    if (op == SS_OP_TP_ALLREDUCE) {
        if (w[op].comm_bytes <= 0) return;
        double calls = w[op].kernels > 1 ? w[op].kernels : 1;
        *lin = scale * (calls * r->ar_step_s + w[op].comm_bytes * r->ar_s_per_byte);
        return;
    }
    *tc = scale * w[op].flops * r->s_per_flop[op];
    *tm = scale * w[op].bytes * r->s_per_byte;
    *lin = scale * w[op].kernels * r->launch_s;
    if (w[op].comm_bytes > 0) *lin += scale * (r->ga_step_s + w[op].comm_bytes * r->ga_s_per_byte);
}

/* All rows' parts at point x: out[row][3]. Rows: each kind's operators, then the head's. */
static int all_rows(const roof *r, const double x[NFEAT], double (*out)[3])
{
    ss_batch_shape b;
    from_features(x, &b);
    ss_op_work w[SS_OP_COUNT];
    int row = 0;
    for (int k = 0; k <= r->nkinds; k++) {
        if (k < r->nkinds) ss_model_layer_work(r->m, r->kind_group[k], r->tp, r->wt, r->act, r->kv, &b, w);
        else ss_model_head_work(r->m, r->tp, r->wt, r->act, &b, w);
        double scale = k < r->nkinds ? r->kind_layers[k] : 1.0;
        for (int op = 0; op < SS_OP_COUNT; op++, row++)
            row_parts(r, w, op, scale, &out[row][0], &out[row][1], &out[row][2]);
    }
    return row;
}

static inline double row_seconds(const struct pattern *pt, int row, const double x[NFEAT])
{
    double a = 0, b = 0;
    for (int j = row ? pt->row_end[row - 1] : 0; j < pt->row_end[row]; j++) {
        a += pt->terms[j].a * x[pt->terms[j].feat];
        b += pt->terms[j].b * x[pt->terms[j].feat];
    }
    return a > b ? a : b;
}

/* Sum of the rows that do not read decode_ctx_tokens, plus those that do, plus the linear
 * part, always in this order, so that reusing the first sum (memo) gives the very same
 * double as recomputing it. */
static double eval_pattern(struct pattern *pt, const double x[NFEAT])
{
    int same = pt->memo_valid;
    for (int f = 0; same && f < NFEAT; f++)
        if (f != 7 && x[f] != pt->memo_x[f]) same = 0;
    double indep = 0;
    if (same) {
        indep = pt->memo_indep;
    } else {
        for (int row = 0; row < pt->nrows; row++)
            if (!pt->dep[row]) indep += row_seconds(pt, row, x);
        memcpy(pt->memo_x, x, sizeof pt->memo_x);
        pt->memo_indep = indep;
        pt->memo_valid = 1;
    }
    double dep = 0, lin = 0;
    for (int k = 0; k < pt->ndep; k++) dep += row_seconds(pt, pt->dep_rows[k], x);
    for (int f = 0; f < NFEAT; f++) lin += pt->lin[f] * x[f];
    return indep + dep + lin;
}

static double direct_seconds(const roof *r, const ss_batch_shape *b);

static void compile_pattern(roof *r, int p)
{
    struct pattern *pt = &r->pat[p];
    enum { MAXROWS = (SS_MODEL_MAX_GROUPS + 1) * SS_OP_COUNT };
    double base[NFEAT], x[NFEAT], v0[MAXROWS][3], v1[MAXROWS][3];
    double coef[MAXROWS][3][NFEAT];
    pattern_point(p, 1, base);
    int nrows = all_rows(r, base, v0);
    for (int f = 1; f < NFEAT; f++) {
        memcpy(x, base, sizeof x);
        double h = base[f] > 0 ? base[f] : 0;
        if (h == 0) { /* feature absent in this pattern: no dependence to measure */
            for (int row = 0; row < nrows; row++)
                for (int q = 0; q < 3; q++) coef[row][q][f] = 0;
            continue;
        }
        x[f] = 2 * base[f];
        if (f == 2 || f == 6) x[1] += base[f]; /* keep num_seqs consistent */
        all_rows(r, x, v1);
        for (int row = 0; row < nrows; row++)
            for (int q = 0; q < 3; q++) coef[row][q][f] = (v1[row][q] - v0[row][q]) / h;
    }
    /* num_seqs (feature 1) is always num_prefill_seqs + num_decode_seqs, so it moved with
     * features 2 and 6 above and its effect is folded into theirs. */
    for (int row = 0; row < nrows; row++)
        for (int q = 0; q < 3; q++) {
            double c = v0[row][q];
            for (int f = 1; f < NFEAT; f++) {
                if (f == 1) continue;
                c -= coef[row][q][f] * base[f];
            }
            coef[row][q][0] = c;
            coef[row][q][1] = 0;
        }
    pt->nrows = nrows;
    pt->nterms = 0;
    memset(pt->lin, 0, sizeof pt->lin);
    for (int row = 0; row < nrows; row++) {
        pt->dep[row] = coef[row][0][7] != 0 || coef[row][1][7] != 0;
        for (int f = 0; f < NFEAT; f++) {
            if (coef[row][0][f] != 0 || coef[row][1][f] != 0) {
                pt->terms[pt->nterms].feat = f;
                pt->terms[pt->nterms].a = coef[row][0][f];
                pt->terms[pt->nterms].b = coef[row][1][f];
                pt->nterms++;
            }
            pt->lin[f] += coef[row][2][f];
        }
        pt->row_end[row] = pt->nterms;
    }
    pt->lin[0] += r->overhead_s;
    pt->ndep = 0;
    for (int row = 0; row < nrows; row++)
        if (pt->dep[row]) pt->dep_rows[pt->ndep++] = row;
    /* verify at two more points of the pattern */
    pt->state = 1;
    pt->memo_valid = 0;
    for (double sc = 2; sc <= 3; sc++) {
        pattern_point(p, sc, x);
        ss_batch_shape b;
        from_features(x, &b);
        double want = direct_seconds(r, &b), got = eval_pattern(pt, x);
        if (!(fabs(got - want) <= 1e-9 * fabs(want))) pt->state = -1;
    }
}

static ss_rc roof_create(const ss_cost_setup *s, void **state, ss_diag *d)
{
    *state = NULL;
    if (!s || !s->model || !s->hw)
        return ss_diag_fail(d, SS_ERR_INTERNAL, "roofline: setup without a model or GPU");
    const ss_hw *hw = s->hw;
    const ss_model *m = s->model;
    if (s->par.tp < 1)
        return ss_diag_fail(d, SS_ERR_INVALID, "roofline: tensor parallelism must be >= 1 (got %d)",
                            s->par.tp);
    if (s->par.tp > 1) {
        char why[256];
        if (ss_model_check_tp(m, s->par.tp, why, sizeof why) != SS_OK)
            return ss_diag_fail(d, SS_ERR_INVALID, "roofline: %s cannot run with tp=%d: %s",
                                m->name, s->par.tp, why);
    }
    if (!(hw->hbm_bandwidth > 0) || !(hw->memory_efficiency > 0) ||
        !(hw->compute_efficiency > 0) ||
        (s->par.tp > 1 && (!(hw->link_bandwidth > 0) || !(hw->link_efficiency > 0))))
        return ss_diag_fail(d, SS_ERR_INVALID,
                            "roofline: GPU profile '%s' has a zero bandwidth or efficiency",
                            hw->name);

    roof *r = calloc(1, sizeof *r);
    if (!r) return ss_diag_fail(d, SS_ERR_NOMEM, "roofline: out of memory");
    r->m = m;
    r->tp = s->par.tp;
    r->wt = s->weight_dtype;
    r->act = s->act_dtype;
    r->kv = s->kv_dtype;

    for (int g = 0; g < m->num_groups && g < SS_MODEL_MAX_GROUPS; g++) {
        const ss_layer_group *lg = &m->groups[g];
        if (lg->count <= 0) continue;
        int k = 0;
        while (k < r->nkinds) {
            const ss_layer_group *o = &m->groups[r->kind_group[k]];
            if (o->attn == lg->attn && o->window == lg->window && o->ffn == lg->ffn) break;
            k++;
        }
        if (k == r->nkinds) r->kind_group[r->nkinds++] = g;
        r->kind_layers[k] += lg->count;
    }

    /* Narrow types the GPU lacks run at the next wider rate (ss_hw_peak_flops): FP8
     * weights on an A100 cost FP8 bytes but BF16 time, as with vLLM's FP8 Marlin path. */
    const double peak_unit[3] = {
        [UNIT_GEMM] = ss_hw_peak_flops(hw, s->weight_dtype),
        [UNIT_TENSOR] = ss_hw_peak_flops(hw, s->act_dtype),
        [UNIT_VECTOR] = ss_hw_peak_flops(hw, SS_DTYPE_FP32),
    };
    for (int op = 0; op < SS_OP_COUNT; op++) {
        op_unit u = unit_of((ss_op)op);
        if (u == UNIT_COMM) continue;
        if (!(peak_unit[u] > 0)) {
            free(r);
            return ss_diag_fail(d, SS_ERR_INVALID,
                                "roofline: GPU profile '%s' has no FLOP/s figure for %s",
                                hw->name, ss_op_name((ss_op)op));
        }
        r->s_per_flop[op] = 1.0 / (peak_unit[u] * hw->compute_efficiency);
    }
    r->s_per_byte = 1.0 / (hw->hbm_bandwidth * hw->memory_efficiency);
    r->launch_s = hw->kernel_launch_s;
    if (r->tp > 1) {
        double n = r->tp;
        r->ar_step_s = 2.0 * (n - 1.0) * hw->link_latency_s;
        r->ar_s_per_byte = 2.0 * (n - 1.0) / n / (hw->link_bandwidth * hw->link_efficiency);
        r->ga_step_s = (n - 1.0) * hw->link_latency_s;
        r->ga_s_per_byte = (n - 1.0) / (hw->link_bandwidth * hw->link_efficiency);
    }
    r->overhead_s = hw->iteration_overhead_s;
    *state = r;
    return SS_OK;
}

static void roof_destroy(void *state) { free(state); }

static double direct_seconds(const roof *r, const ss_batch_shape *b)
{
    return iteration_seconds(r, b, NULL);
}

static ss_time_ns roof_iteration(void *state, const ss_batch_shape *b)
{
    roof *r = state;
    int p = pattern_of(b);
    if (!r->pat[p].state) compile_pattern(r, p);
    if (r->pat[p].state < 0) return ss_time_from_s(direct_seconds(r, b));
    double x[NFEAT];
    features(b, x);
    return ss_time_from_s(eval_pattern(&r->pat[p], x));
}

static void roof_breakdown(void *state, const ss_batch_shape *b, double out_s[SS_OP_COUNT + 1])
{
    const roof *r = state;
    memset(out_s, 0, sizeof(double) * (SS_OP_COUNT + 1));
    (void)iteration_seconds(r, b, out_s);
    out_s[SS_OP_COUNT] = r->overhead_s;
}

const ss_cost_ops ss_cost_roofline = {
    .info = {.abi_version = SS_COST_ABI,
             .name = "roofline",
             .help = "per-operator max(FLOPs/peak, bytes/bandwidth) + launch, ring TP "
                     "all-reduce, fixed iteration overhead",
             .source = "Williams et al., Roofline, CACM 2009; nccl-tests PERFORMANCE.md "
                       "(ring all-reduce bus bandwidth); docs/cost-model.md"},
    .create = roof_create,
    .destroy = roof_destroy,
    .iteration = roof_iteration,
    .breakdown = roof_breakdown,
};

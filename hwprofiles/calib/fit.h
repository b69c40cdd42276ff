/* The calibration fitter and the fitted operator models (internal to hwprofiles/ and the CLI).
 *
 * A fitted operator model ("ss_cal_model") belongs to one (operator family, tag, dtype) of
 * one GPU and software stack. Its time is a sum of TERMS, each a non-negative raw feature
 * x (tokens, elements, bytes, FLOPs, ...) expanded into RAMP segments:
 *
 *     t = sum_terms  s_j * sum_i c_{j,i} * clamp(x_j - knot_{j,i}, 0, knot_{j,i+1} - knot_{j,i})
 *
 * with the last segment unbounded and every c >= 0 (non-negative least squares, fitted in
 * relative error: weights 1/t^2). s_j is a non-negative scale (for GEMMs 2nk, so that the
 * FLOP term is piecewise linear in m). Non-negative slopes make t continuous and
 * non-decreasing in every raw feature, and linear beyond the last knot: extrapolation to 32k
 * tokens or TP=8 follows the last measured slope instead of a polynomial's whim. The raw
 * features are roofline-shaped (a fixed cost per call, bytes moved, FLOPs), so the fitted
 * slopes read as inverse efficiencies per regime.
 *
 * GEMM shapes (n, k) measured on a dense grid of m additionally keep their measured curve
 * (median per m, isolated spikes removed, made non-decreasing by isotonic regression in
 * log t), interpolated with GSL's Steffen spline in
 * (log m, log t), which is monotone between points; outside the measured m range the curve
 * is continued by the ramp basis ratio t_basis(m) / t_basis(m_edge). A shape never measured
 * is interpolated over the measured (n, k) lattice (ss_cal_gemm_lattice), attention of a
 * head configuration never measured over the measured grids (ss_cal_attn_lattice). */
#ifndef SS_HWPROFILES_CALIB_FIT_H
#define SS_HWPROFILES_CALIB_FIT_H

#include <stdio.h>

#include "hwprofiles/calib/meas.h"
#include "hwprofiles/hw.h"

#define SS_CAL_MAX_TERMS 10
/* Terms of the GEMM and attention bases (ss_cal_gemm_features, ss_cal_attn_features). */
#define SS_CAL_GEMM_TERMS 6
#define SS_CAL_ATTN_TERMS 10
_Static_assert(SS_CAL_GEMM_TERMS <= SS_CAL_MAX_TERMS && SS_CAL_ATTN_TERMS <= SS_CAL_MAX_TERMS,
               "a basis has more terms than a model holds");
/* Output columns per thread block of a GEMM kernel (the common 128-wide tile): the GEMM
 * basis' serial term reads k x this many weights per block. */
#define SS_CAL_N_TILE 128
#define SS_CAL_MAX_KNOTS 8
#define SS_CAL_MAX_MODELS 48
#define SS_CAL_MAX_SHAPE_PTS 80
#define SS_CAL_TAG_LEN 64

/* How a family's rows become raw features (one per kind; docs/cost-model.md). */
typedef enum ss_cal_kind {
    SS_CAL_GEMM,  /* const, weight bytes, activation bytes, 2nk x ramp(m), m (8-bit
                     weights: per-token activation quantization), one output tile's
                     weights along k (a thread block's serial walk; n <= 4 tiles)  */
    SS_CAL_ATTN,  /* const, prefill seqs, prefill FLOPs, prefill KV bytes, decode seqs x
                     heads, decode KV bytes, decode FLOPs, mean prefill length,
                     mean decode context (the latency of one sequence's CTA)       */
    SS_CAL_ELEM,  /* const, ramp(elements)                                         */
    SS_CAL_COLL,  /* const, (p - 1), ring factor x ramp(bytes)                     */
    SS_CAL_COUNT, /* const, ramp(count): sampler, CPU overhead                     */
    SS_CAL_MOE    /* const, expert weight bytes (experts that receive
                     tokens), 6 h i x ramp(routed pairs on this GPU), 4 h x ramp(all
                     routed pairs), 6 h i x ramp(all routed pairs)                 */
} ss_cal_kind;

typedef struct ss_cal_term {
    int nknots;                      /* >= 1; knots[0] = 0 */
    double knots[SS_CAL_MAX_KNOTS];
    double coef[SS_CAL_MAX_KNOTS];   /* seconds per unit of s * x in each segment */
} ss_cal_term;

typedef struct ss_cal_model {
    int family;                /* ss_fam */
    char tag[SS_CAL_TAG_LEN];  /* sub-class: "norm", "rope", "act", "add" (elementwise),
                                  CPU overhead step, ...; "" = whole family */
    int dtype;                 /* ss_dtype: weights/arithmetic, or KV for attention */
    int nterms;
    ss_cal_term terms[SS_CAL_MAX_TERMS];
    /* Fit quality on the rows it was fitted to (absolute percentage error, 0.05 = 5 %). */
    long rows;
    double median_ape, p90_ape, max_ape;
    double x_max[SS_CAL_MAX_TERMS]; /* largest raw feature fitted (for docs: extrapolation) */
    /* GEMM: beyond a measured shape's largest m, the weight (0 to 1, in log time) of this
     * basis against the shape's continuation by the basis ratio (ss_cal_beyond); chosen on
     * the fitted shapes themselves (ss_calf_fit_beyond), 0 in profiles before format 3. */
    double beyond_w;
    /* GEMM: the continuation beyond a shape's largest m starts from the line through the
     * shape's last octave of m (ss_cal_beyond_from), not from its last point; set by the
     * fitter, and by the reader for format 8 and later (formats before: the last point, as
     * they were validated). */
    int beyond_octave;
    /* GEMM: for a shape never measured, the weight (0 to 1, in log time) of this basis
     * against the (n, k) lattice of measured shapes; chosen by cross-validation over the
     * measured shapes (ss_calf_fit_lattice_w), 0 in profiles before format 3. */
    double lattice_w;
    /* GEMM: how much more the lattice trusts its estimate along the axis (n or k) whose
     * measured neighbours are nearer: the two estimates are weighted (span + 0.05)^-p, span
     * the log distance each reached (fit_gemm.c); p = 0 averages them equally. Chosen with
     * lattice_w, on the same folds (ss_calf_fit_lattice_w); 0 in profiles before format 10. */
    double lattice_near;
    /* Decode attention: price a head configuration never measured from grids of its own kind
     * only, MHA (one query head per KV head) or GQA, where the kernels dispatch on it; chosen
     * by leave-one-configuration-out over the measured grids (ss_calf_fit_attn_lattice), 0 in
     * profiles before format 4. */
    int mha_apart;
    /* Prefill attention: price an MHA head configuration never measured from the measured
     * MHA grids only (GQA configurations still from every grid); chosen as mha_apart is,
     * kept where it prices the measured MHA grids better (ss_calf_fit_attn_lattice), 0 in
     * profiles before format 8. */
    int mha_own;
    /* Prefill and mixed attention: price a head configuration never measured along the
     * query heads alone, the grids at the same query heads taken as they are whatever their
     * KV heads, where the kernel's time does not follow the KV heads (ss_cal_attn_lattice);
     * chosen as mha_own is (ss_calf_fit_attn_lattice), 0 in profiles before format 9.
     * Within the measured heads it replaces the lattice, mha_own included. */
    int heads_only;
    /* Decode attention: the fastest any measured call reading more KV than twice the GPU's
     * L2 streamed it, B/s (its cache cannot have held it): a call reading more is never
     * priced faster (ss_cal_decode_floor). 0 = none measured, or profiles before format 5. */
    double spill_bw;
} ss_cal_model;

/* A densely measured GEMM shape: t(m) for fixed (n, k, dtype), non-decreasing.
 * FP8 kernels depend on the alignment of m (H100, n = 16384, k = 12288:
 * 0.091 ms at m = 256, 0.268 ms at m = 257), so a shape whose measured t(m + 1) / t(m) at
 * aligned m has a median of 1.05 or more keeps one curve per class (m_class 1:
 * m % SS_CAL_M_ALIGN == 0, 2: not), each non-decreasing in m within its class; queries pick
 * the class of their m, so t is non-decreasing in m only within a class. */
#define SS_CAL_M_ALIGN 16
typedef struct ss_cal_shape {
    int dtype;
    long n, k;
    int m_class; /* 0: every m; 1: aligned m only; 2: unaligned m only */
    int npts;
    double m[SS_CAL_MAX_SHAPE_PTS];
    double t[SS_CAL_MAX_SHAPE_PTS];
} ss_cal_shape;

/* A densely measured MoE expert-layer configuration (fit_moe.c): t(tokens) for one dtype,
 * hidden size, expert width per TP shard, experts per GPU, top-k and EP degree, made
 * non-decreasing, evaluated by a Steffen spline in log-log inside its token range and by
 * ss_cal_moe_outside beyond it. A configuration never measured is priced from its measured
 * neighbours (ss_cal_moe). */
typedef struct ss_cal_moe_curve {
    int dtype;
    long hidden, inter;     /* hidden size, expert FFN width per TP shard */
    int experts, topk, ep;  /* experts on one GPU, routed per token, EP degree (>= 1) */
    int npts;
    double m[SS_CAL_MAX_SHAPE_PTS]; /* tokens entering the layer */
    double t[SS_CAL_MAX_SHAPE_PTS];
} ss_cal_moe_curve;
/* A MoE layer configuration on one GPU, as the basis and the curves take it. */
typedef struct ss_cal_moe_q {
    double hidden, inter, experts, topk, ep, wbytes; /* as ss_cal_moe_features */
} ss_cal_moe_q;

/* A densely measured attention table: t on the full grid of its axes, for one family, KV
 * dtype and head configuration (per GPU). Axes: prefill (batch, new tokens, cached prefix),
 * decode (batch, context), mixed (prefill chunk, its prefix, decode requests, their
 * context). Missing cells are filled from the nearest measured cell scaled by the fitted
 * basis, then the table is made non-decreasing along every axis; queries interpolate
 * multilinearly in (log(1 + x), log t), and beyond an axis' range the edge value is scaled
 * by the basis ratio (so 32k tokens follow the fitted slope); for decode both basis-ratio
 * continuations are capped by the ratio of the work, batch x (context + 1), and a decode
 * cell past the measured corner is at most its line continuation: the last measured cell
 * on an axis line plus the KV bytes at the dtype's asymptotic bandwidth and the requests
 * at their asymptotic cost (fit_decode.c). */
#define SS_CAL_GRID_MAXDIM 4
#define SS_CAL_GRID_MAXAXIS 160 /* Frontier's A800 decode table: 128 batch sizes */
#define SS_CAL_GRID_MAXCELLS 100000
typedef struct ss_cal_grid {
    int family, dtype;
    int heads, kv_heads, head_dim;
    int ndim;
    int len[SS_CAL_GRID_MAXDIM];
    double axis[SS_CAL_GRID_MAXDIM][SS_CAL_GRID_MAXAXIS];
    long measured;  /* cells measured (the rest were filled) */
    double *t;      /* owned: prod(len) values, last axis fastest */
} ss_cal_grid;

/* Everything fitted for one GPU and stack: the `calibration:` section of a profile. */
typedef struct ss_calib {
    char gpu[64];            /* canonical GPU (the base profile) */
    char stack[96];
    int is_default;          /* the GPU's default calibration (`default: true`) */
    int nmodels;
    ss_cal_model models[SS_CAL_MAX_MODELS];
    int nshapes, cap_shapes;
    ss_cal_shape *shapes;    /* owned */
    /* Skewed decode batches (LLMServingSim skew.csv): where the measured time of a batch of
     * mixed context lengths falls between the uniform batch at the mean (0) and at the max
     * (1); median over the shots, pure decode and decode riding with a prefill chunk. 0 when
     * not measured: batches are costed at their mean context. */
    double skew_alpha_pure, skew_alpha_mixed;
    long skew_shots;
    double l2_bytes;         /* the GPU's L2, for ss_cal_predict_row's decode floor: set by
                                ss_cal_fit_all (from ss_fit_opts) and ss_calib_load (from
                                the profile's hw part); 0 (no floor) after the other loads.
                                Not saved: the profile's hw part holds it */
    double ridge;            /* ss_fit_opts.ridge of the fit (0 after a load: the fitted
                                knots hold it) */
    int ngrids, cap_grids;
    ss_cal_grid *grids;      /* owned (and each grid's t) */
    /* Attention tables of 4 or more cells that made no grid (ss_calf_fit_grids: under half
     * their cells measured or between measured cells, or past SS_CAL_GRID_MAXAXIS values on
     * an axis or SS_CAL_GRID_MAXCELLS cells), and their rows: the fitted basis prices them.
     * Set by a fit, for calibrate's note; 0 after a load. */
    int grids_refused;
    long grids_refused_rows;
    int nmoe, cap_moe;
    ss_cal_moe_curve *moe;   /* owned */
    char *command;           /* owned: the calibrate command line */
    int nsources;
    ss_meas_source *sources; /* owned */
} ss_calib;

void ss_calib_init(ss_calib *c);
void ss_calib_free(ss_calib *c);

/* Options of a fit. */
typedef struct ss_fit_opts {
    const char *stack;   /* compute stack to use; NULL = the only one present */
    int with_shapes;     /* keep Steffen tables for densely measured GEMM shapes and the
                            attention grids */
    double l2_bytes;     /* the GPU's L2 (ss_hw.l2_bytes); 0 = unknown: no spill_bw */
    double ridge;        /* the GPU's BF16 peak FLOP/s over its memory bandwidth (FLOP per
                            byte, ss_cal_ridge); 0 = unknown: the decode intensity term
                            takes knots at quantiles of the data */
} ss_fit_opts;

/* Raw features of one measured row for its family's kind: x[j] and scale s[j] per term.
 * Returns the number of terms, 0 when the row cannot be used (missing shape fields). */
int ss_cal_row_features(const ss_meas *r, double x[], double s[]);
ss_cal_kind ss_cal_kind_of(int family);
/* The tag a row is fitted under (elementwise sub-class from its operator name, CPU step). */
void ss_cal_row_tag(const ss_meas_table *t, const ss_meas *r, char tag[SS_CAL_TAG_LEN]);
/* Key dtype of a row: KV dtype for attention, else the arithmetic dtype. */
int ss_cal_row_dtype(const ss_meas *r);

/* Rows the fitter uses: positive time, not approximate / cross-node / variant (MoE: only
 * balanced routing) / over the peak, of the compute stack `stack` (NULL = any) unless
 * collective or CPU overhead. */
int ss_cal_row_usable(const ss_meas_table *t, const ss_meas *r, const char *stack);
/* A family measured per kernel library (its rows belong to a stack): not a collective or the
 * CPU overhead, which are measured per testbed and taken from every source. */
int ss_cal_is_kernel(int family);

/* A series of rows (one source, family, dtype and KV dtype) of which `over` rows take less
 * time than their FLOPs at 1.25x the GPU's rated peak for their dtype (attention: the larger
 * of the compute and the KV dtype's; rows whose dtype has no rated peak are not checked):
 * physically impossible, so the kernel did not do the work it is labelled with
 * (aiconfigurator's RTX PRO 6000 vLLM 0.19.0 prefill with FP8 KV: up to 390x the FP8 peak).
 * Checked: GEMM, LM head and prefill / mixed attention, whose FLOPs bound their time. */
typedef struct ss_cal_peak_series {
    uint32_t src;
    int family, dtype, kv_dtype;
    uint64_t rows, over; /* rows in the series; of them over the peak */
    double max_ratio;    /* the largest FLOP rate / peak (bytes: byte rate / bandwidth) */
    double peak;         /* the peak FLOP/s of that row (bytes: the memory bandwidth, B/s) */
    int bytes;           /* held to the memory bandwidth (decode attention reading more KV
                            than twice the L2), not to the FLOP peak */
} ss_cal_peak_series;
/* Of the rows of t whose source is of GPU hw (and not variant, approximate or flagged
 * already): flags every row of each such series SS_MEAS_OVER_PEAK and counts them per
 * source (over_peak). *out (the caller frees it; NULL when none) describes the *n series. */
ss_rc ss_cal_check_peak(ss_meas_table *t, const ss_hw *hw, ss_cal_peak_series **out,
                        size_t *n, ss_diag *d);
/* Does `stack` name the source stack s: equal to it, or one of its '+'-joined parts? So
 * `--stack cublaslt-130100+cudnn-91900`, the name a combined profile records, selects both
 * parts' sources. */
int ss_cal_stack_has(const char *stack, const char *s);
/* The family a row is fitted under (all attention rows: SS_FAM_ATTN_PREFILL). */
int ss_cal_fit_family(int family);
/* The family's name in profiles and reports ("gemm", "attn_prefill", ...); "?" if unknown.
 * (ss_fam_name is the readers' and the cost model does not link them.) */
const char *ss_cal_family_name(int family);
/* Model prediction for a measured row through c (GEMM rows use measured shape curves). NAN
 * when c has no model for the row. */
double ss_cal_predict_row(const ss_calib *c, const ss_meas_table *t, const ss_meas *r);
/* The least time decode attention model m gives a call reading kv_bytes from memory:
 * kv_bytes / m->spill_bw, 0 where m has none. The cost model applies it to every decode
 * batch (serving streams each layer's KV from memory); ss_cal_predict_row to benchmark rows
 * reading more than twice the L2. */
double ss_cal_decode_floor(const ss_cal_model *m, double kv_bytes);
/* The KV bytes decode row r reads where they are at least twice l2_bytes (a benchmark
 * repeating the call cannot have served them from the L2: streamed past twice its size,
 * nothing of one call is left for the next); 0 for any other row, or l2_bytes 0 (unknown).
 * The one test behind the bandwidth check, spill_bw and the validation's floor. */
double ss_cal_streamed_kv(const ss_meas *r, double l2_bytes);

/* Cross-validation (crossval.c): the error on rows NOT used in the fit. */
typedef enum ss_cv_scheme {
    SS_CV_KFOLD, SS_CV_SHAPES, SS_CV_EXTRAP, SS_CV_NSCHEMES,
    /* ss_cal_profile_check: a committed profile against other measurements */
    SS_CV_PROFILE = SS_CV_NSCHEMES, /* rows of shapes / head configurations it measured */
    SS_CV_PROFILE_UNSEEN,           /* rows of GEMM shapes / head configurations it did not */
    SS_CV_NALL
} ss_cv_scheme;
const char *ss_cv_scheme_name(int s);
typedef struct ss_cv_result {
    int scheme, family; /* ss_cv_scheme, ss_fam of the rows (attention split by kind) */
    long rows, groups;  /* rows evaluated; groups (shapes/models) held out */
    double median, p90, max;
    size_t worst;       /* row index in the table */
    double worst_pred;
} ss_cv_result;
/* Optional record of every row a validation evaluated, with its prediction (`servesim
 * validate calibration --rows`): in scheme order, then table order. Zero-initialise; free
 * with ss_cv_rows_free. */
typedef struct ss_cv_row {
    int scheme;
    size_t row;  /* index in the table */
    double pred; /* seconds */
} ss_cv_row;
typedef struct ss_cv_rows {
    size_t n, cap;
    ss_cv_row *v;
} ss_cv_rows;
void ss_cv_rows_free(ss_cv_rows *r);
/* Runs the three schemes, each fit with o's stack and GPU figures (l2_bytes, ridge; shapes
 * always kept); *out (owned by the caller, free()) gets one entry per (scheme, family) with
 * rows evaluated, in scheme then family order; `rows` (may be NULL) every evaluated row. */
ss_rc ss_cal_crossval(const ss_meas_table *t, const ss_fit_opts *o, int folds, uint64_t seed,
                      ss_cv_result **out, size_t *nout, ss_cv_rows *rows, ss_diag *d);

/* The error of an already fitted calibration c (a committed profile) on every row of t the
 * fitter would use, of any stack (t usually holds another source's measurements of the same
 * GPU): scheme SS_CV_PROFILE for rows whose GEMM shape (n, k, dtype) or attention head
 * configuration has a measured curve / grid in c (and every row of the other families),
 * SS_CV_PROFILE_UNSEEN for the rest, which c costs from its lattices or fitted basis. Rows
 * c has no model for are not evaluated: uncovered[family] counts them (may be NULL). *out
 * as for ss_cal_crossval (groups = distinct shapes / head configurations evaluated). */
ss_rc ss_cal_profile_check(const ss_calib *c, const ss_meas_table *t, ss_cv_result **out,
                           size_t *nout, long uncovered[SS_FAM_COUNT], ss_cv_rows *rows,
                           ss_diag *d);

/* Evaluate a model at raw features. */
double ss_cal_eval(const ss_cal_model *m, const double x[], const double s[]);
/* Evaluate a model at a measured row (its own features). */
double ss_cal_eval_row(const ss_cal_model *m, const ss_meas *r);

/* Fit one model to rows[idx[0..n)] of t (all of one family/tag/dtype). Knots are placed at
 * fixed token/size break points within the data's range (deterministic); the decode
 * intensity term's at half the GPU's ridge and at the ridge (ss_fit_opts.ridge; 0: at
 * quantiles of the data). */
ss_rc ss_cal_fit_model(const ss_meas_table *t, const size_t *idx, size_t n, double ridge,
                       ss_cal_model *out, ss_diag *d);
/* The ridge of GPU hw (ss_fit_opts.ridge): BF16 peak FLOP/s over memory bandwidth, 0 when
 * either is unknown. */
double ss_cal_ridge(const ss_hw *hw);

/* Fit every (family, tag, dtype) group of t's rows for the chosen stack into c (whose
 * gpu/stack are filled). Rows of collective families may come from any stack (NCCL). */
ss_rc ss_cal_fit_all(const ss_meas_table *t, const ss_fit_opts *o, ss_calib *c, ss_diag *d);

/* The model for (family, tag, dtype), or NULL (no fallback to another dtype: callers that
 * want one ask again). */
const ss_cal_model *ss_calib_find(const ss_calib *c, int family, const char *tag, int dtype);
/* The GEMM model for shape (n, k): its n x k size class, else the nearest fitted class. */
const ss_cal_model *ss_calib_find_gemm(const ss_calib *c, int dtype, double n, double k);
/* GEMM time at (m, n, k): the shape's measured curve where there is one, else the model. */
double ss_cal_gemm(const ss_calib *c, const ss_cal_model *gm, int dtype, double m, double n,
                   double k, double wbytes);
const ss_cal_shape *ss_calib_find_shape(const ss_calib *c, int dtype, long n, long k);
/* the curve of shape (n, k) for token count m (its m-alignment class
 * when the shape has one curve per class), or NULL. */
const ss_cal_shape *ss_calib_find_shape_m(const ss_calib *c, int dtype, long n, long k, double m);
/* The m-alignment class (1 aligned, 2 not) of token count m. */
int ss_cal_m_class(double m);
/* GEMM time of a shape (n, k) that was NOT measured, interpolated over
 * the measured (n, k) lattice of c's shapes of `dtype` (fit_gemm.c: linear in log t over log n
 * and log k between the nearest measured shapes at the same m, positive and non-decreasing
 * in m inside the hull; up to a doubling past it, the nearest shape times the basis ratio,
 * positive but possibly dipping slightly in m, which ss_calib_lattice_shape clamps). 1 and
 * *t on success, 0 further out (use the basis). */
int ss_cal_gemm_lattice(const ss_calib *c, const ss_cal_model *gm, int dtype, double m, double n,
                        double k, double wbytes, double *t);
/* The curve of an unmeasured shape from ss_cal_gemm_lattice at the m points of the densest
 * measured shape of `dtype` and m class `m_class` (0: any class), followed by those of the
 * shape measured furthest in m beyond them, moved into the class: 1 and *out filled, 0 when
 * the lattice cannot give one. */
int ss_calib_lattice_shape(const ss_calib *c, const ss_cal_model *gm, int dtype, int m_class,
                           double n, double k, double wbytes, ss_cal_shape *out);
double ss_cal_shape_eval(const ss_cal_shape *sh, const ss_cal_model *gm, double m, double wbytes);
/* A GEMM shape's time at m beyond its largest measured m_edge (time t_edge), from the basis
 * b_edge at m_edge and b_m at m: t_from (the time the continuation starts from at m_edge,
 * ss_cal_beyond_from) times the basis ratio, moved towards the basis itself by weight w in
 * log time, and never below t_edge. Shared by the cost model and the validation so both
 * continue a curve the same way. */
double ss_cal_beyond(double t_edge, double t_from, double b_edge, double b_m, double w);
/* The time a curve's continuation past its point `edge` starts from: with `octave`, the
 * value at m[edge] of the least-squares line of log(t / basis) over log m through the
 * curve's points in [m[edge] / 2, m[edge]] (at least 3 of them), times the basis there;
 * else, or with fewer points, t[edge] itself. basis(ctx, m) is the GEMM basis of the shape. */
double ss_cal_beyond_from(const double *m, const double *t, int edge, int octave,
                          double (*basis)(const void *ctx, double m), const void *ctx);

/* Raw GEMM / attention features (shared by fitting and the cost model). */
int ss_cal_gemm_features(double m, double n, double k, double wbytes, double x[], double s[]);
typedef struct ss_cal_attn_q {
    double pf_seqs, pf_tokens, pf_pairs, pf_ctx; /* prefill: seqs, new tokens, causal pairs,
                                                    cached prefix tokens (sums) */
    double dc_seqs, dc_ctx;                      /* decode: seqs, sum of context lengths */
    double heads, kv_heads, head_dim, kv_bytes;  /* per GPU; bytes per KV element */
} ss_cal_attn_q;
int ss_cal_attn_features(const ss_cal_attn_q *q, double x[], double s[]);
/* raw features of one MoE expert layer (fused grouped GEMMs, balanced
 * routing) on one GPU: `tokens` in the batch, `experts` on this GPU (all / ep), top-k, ep,
 * hidden size, expert FFN width per TP shard, weight bytes per element; `active` = experts
 * that receive tokens when known, else 0 (balanced: min(experts, tokens * topk / ep)). */
int ss_cal_moe_features(double tokens, double experts, double topk, double ep, double hidden,
                        double inter, double wbytes, double active, double x[], double s[]);
/* The fitted MoE basis m's time of configuration q at `tokens`. */
double ss_cal_moe_basis(const ss_cal_model *m, const ss_cal_moe_q *q, double tokens);
/* The measured curve of configuration q (dtype), or NULL. */
const ss_cal_moe_curve *ss_calib_find_moe(const ss_calib *c, int dtype, const ss_cal_moe_q *q);
/* A curve at `tokens`: Steffen inside its range, ss_cal_moe_outside beyond it. */
double ss_cal_moe_curve_eval(const ss_cal_moe_curve *cv, const ss_cal_model *m, double wbytes,
                             double tokens);
/* A curve outside its measured token range: 1 and *t (past the largest, affine from the edge
 * with the slope of its top points; below the smallest, the first point times the basis
 * ratio of m where that is below 1), 0 inside it. Shared by the cost model. */
int ss_cal_moe_outside(const ss_cal_moe_curve *cv, const ss_cal_model *m, double wbytes,
                       double tokens, double *t);
/* MoE expert-layer time of configuration q at `tokens`: its measured curve, else the lattice
 * of measured configurations of the dtype (fit_moe.c), else the basis m (NULL: NAN). */
double ss_cal_moe(const ss_calib *c, const ss_cal_model *m, int dtype, const ss_cal_moe_q *q,
                  double tokens);
/* The curve the cost model uses for q: the measured one, else the lattice's at the token
 * counts of the measured curve of the dtype that reaches the most tokens (counts where the
 * lattice has no estimate left out). 1 and *out, 0 when neither gives 3 points. */
int ss_calib_moe_curve(const ss_calib *c, const ss_cal_model *m, int dtype,
                       const ss_cal_moe_q *q, ss_cal_moe_curve *out);
/* Attention time of family `family` for q: the grid of q's head configuration when there is
 * one, else interpolated over the grids of other head configurations (ss_cal_attn_lattice),
 * else the fitted model m (NULL = none: NAN). */
double ss_cal_attn(const ss_calib *c, const ss_cal_model *m, int family, int dtype,
                   const ss_cal_attn_q *q);
const ss_cal_grid *ss_calib_find_grid(const ss_calib *c, int family, int dtype, int heads,
                                      int kv_heads, int head_dim);
/* attention time of a head configuration with no grid of its own,
 * interpolated over the grids of the same family, KV dtype and head dimension in (log heads,
 * log kv_heads) (fit_attn.c); beyond the measured head counts on a line, the nearest grid
 * continued by the basis ratio (needs m). 1 and *t, or 0 when no grid of that family, dtype
 * and head dim lies on q's heads or kv_heads lines. */
int ss_cal_attn_lattice(const ss_calib *c, const ss_cal_model *m, int family, int dtype,
                        const ss_cal_attn_q *q, double *t);
double ss_cal_grid_eval(const ss_cal_grid *g, const ss_cal_model *m, const ss_cal_attn_q *q);
/* For every cell of g (its ndim and len; last axis fastest), the index of the nearest cell i
 * with cnt[i] != 0, in axis steps summed over the axes, ties to the lowest index: what the
 * fitter fills a cell past a grid's measured corner from. A malloc'ed array of prod(len)
 * indices the caller frees, or NULL out of memory. Every cell is its own where cnt != 0;
 * with no such cell at all, every cell is its own too. */
size_t *ss_cal_grid_nearest(const ss_cal_grid *g, const int *cnt);
/* The grid of a head configuration (like's heads, kv_heads, head_dim, kv_bytes) that has no
 * measured one: the axes of the measured grid of the same family, dtype and head dim whose
 * heads are nearest, each cell from ss_cal_attn_lattice. What the cost model uses for such a
 * configuration, built once when it is created, so that its iterations cost what the
 * held-out validation of head configurations measures. 1 and *out (its t owned by the
 * caller: free(out->t)), or 0 when there is no such grid or the lattice misses a cell. */
int ss_calib_lattice_grid(const ss_calib *c, const ss_cal_model *m, int family, int dtype,
                          const ss_cal_attn_q *like, ss_cal_grid *out);

/* Absolute-percentage-error statistics of n values (sorted copy; GSL quantiles). */
void ss_cal_ape_stats(const double *ape, size_t n, double *median, double *p90, double *max,
                      size_t *worst);

/* Fit the skew factors from LLMServingSim skew shots (ss_meas_read_skew). */
void ss_cal_fit_skew(const ss_meas_skew_table *st, size_t nst, ss_calib *c);

/* Write c as the YAML `calibration:` section (indented by two spaces), deterministic. */
void ss_calib_write_yaml(const ss_calib *c, FILE *out);
/* Parse the `calibration:` mapping of a profile document. */
ss_rc ss_calib_parse(ss_doc *doc, yaml_node_t *node, ss_calib *c, ss_diag *d);
/* Load the calibration of a profile (hw->calib_doc: embedded path or file). */
ss_rc ss_calib_load(const ss_hw *hw, ss_calib *c, ss_diag *d);
/* The same from the profile document `doc` (an embedded path or a file); `gpu` names it in
 * messages. */
ss_rc ss_calib_load_doc(const char *doc, const char *gpu, ss_calib *c, ss_diag *d);
/* The same from the file at `path` on disk, even where a built-in profile has that path
 * (calibrate checks the file it wrote, not the copy built into the binary). */
ss_rc ss_calib_load_file(const char *path, ss_calib *c, ss_diag *d);

#endif

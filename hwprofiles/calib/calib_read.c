/* The `calibration:` section of a hardware profile, reading: key tables, file:line errors,
 * and the format history (SS_CAL_FORMAT, fit_int.h); calib_write.c writes it. */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hwprofiles/calib/fit.h"
#include "hwprofiles/calib/fit_int.h"

/* Family names from the X-macro (not ss_fam_name: that lives with the readers, and the cost
 * model must not depend on them). */
static const char *const fam_names[] = {
#define SS_FAM_NAME(e, name) name,
    SS_FAM_LIST(SS_FAM_NAME)
#undef SS_FAM_NAME
    NULL};

const char *ss_cal_family_name(int family)
{
    return family >= 0 && family < SS_FAM_COUNT ? fam_names[family] : "?";
}

typedef struct cal_top {
    int format;
    bool is_default;
    char gpu[64];
    char stack[96];
    char command[4096];
    yaml_node_t *sources, *models, *shapes, *grids, *skew, *moe_curves;
} cal_top;

typedef struct cal_skew {
    double pure, mixed;
    int64_t shots;
} cal_skew;
static const ss_key cal_skew_keys[] = {
    {.name = "alpha_pure", .type = SS_KEY_DOUBLE, .offset = offsetof(cal_skew, pure), .def = "0",
     .min = 0, .max = 1, .help = "Skewed pure-decode batch: share of (max - mean) time added."},
    {.name = "alpha_mixed", .type = SS_KEY_DOUBLE, .offset = offsetof(cal_skew, mixed),
     .def = "0", .min = 0, .max = 1, .help = "The same with a prefill chunk in the batch."},
    {.name = "shots", .type = SS_KEY_INT64, .offset = offsetof(cal_skew, shots), .def = "0",
     .min = 0, .max = 1e12, .help = "Skew measurements the factors come from."},
    {.name = NULL},
};

#define TF(f) offsetof(cal_top, f)
static const ss_key cal_top_keys[] = {
    {.name = "format", .type = SS_KEY_INT, .offset = TF(format), .def = NULL, .min = 1,
     .max = 1000, .help = "Calibration section format (1 to 10)."},
    {.name = "gpu", .type = SS_KEY_STRING, .offset = TF(gpu), .size = 64, .def = NULL,
     .flags = SS_KEY_NO_BOUNDS, .help = "Canonical GPU the measurements were made on."},
    {.name = "stack", .type = SS_KEY_STRING, .offset = TF(stack), .size = 96, .def = NULL,
     .flags = SS_KEY_NO_BOUNDS, .help = "Software stack of the measured kernels."},
    {.name = "default", .type = SS_KEY_BOOL, .offset = TF(is_default), .def = "false",
     .help = "This profile is what `cost_model: calibrated` uses for its GPU."},
    {.name = "command", .type = SS_KEY_STRING, .offset = TF(command), .size = 4096, .def = "",
     .flags = SS_KEY_NO_BOUNDS, .help = "The servesim calibrate command that wrote it."},
    {.name = "sources", .type = SS_KEY_NODE, .offset = TF(sources), .def = "",
     .flags = SS_KEY_NO_BOUNDS, .help = "Measurement files: path, format, stack, sha256, rows."},
    {.name = "models", .type = SS_KEY_NODE, .offset = TF(models), .def = NULL,
     .flags = SS_KEY_NO_BOUNDS, .help = "Fitted operator models."},
    {.name = "shapes", .type = SS_KEY_NODE, .offset = TF(shapes), .def = "",
     .flags = SS_KEY_NO_BOUNDS, .help = "Measured GEMM curves t(m) per (n, k)."},
    {.name = "skew", .type = SS_KEY_NODE, .offset = TF(skew), .def = "",
     .flags = SS_KEY_NO_BOUNDS, .help = "Skewed-batch factors (alpha_pure, alpha_mixed, shots)."},
    {.name = "grids", .type = SS_KEY_NODE, .offset = TF(grids), .def = "",
     .flags = SS_KEY_NO_BOUNDS, .help = "Measured attention tables per head configuration."},
    {.name = "moe_curves", .type = SS_KEY_NODE, .offset = TF(moe_curves), .def = "",
     .flags = SS_KEY_NO_BOUNDS,
     .help = "Measured MoE expert-layer curves t(tokens) per configuration (format 6)."},
    {.name = NULL},
};

typedef struct cal_src {
    ss_meas_source s;
    int64_t rows, over_peak;
} cal_src;
#define SF(f) offsetof(cal_src, f)
static const ss_key cal_src_keys[] = {
    {.name = "path", .type = SS_KEY_STRING, .offset = SF(s.path), .size = 512, .def = NULL,
     .flags = SS_KEY_NO_BOUNDS},
    {.name = "format", .type = SS_KEY_STRING, .offset = SF(s.format), .size = 32, .def = NULL,
     .flags = SS_KEY_NO_BOUNDS},
    {.name = "stack", .type = SS_KEY_STRING, .offset = SF(s.stack), .size = 96, .def = "",
     .flags = SS_KEY_NO_BOUNDS},
    {.name = "sha256", .type = SS_KEY_STRING, .offset = SF(s.sha256), .size = 65, .def = NULL,
     .flags = SS_KEY_NO_BOUNDS},
    {.name = "rows", .type = SS_KEY_INT64, .offset = SF(rows), .def = NULL, .min = 0,
     .max = 1e15},
    {.name = "left_out_over_peak", .type = SS_KEY_INT64, .offset = SF(over_peak), .def = "0",
     .min = 0, .max = 1e15, .help = "Rows left out: in a series faster than the GPU's peak FLOP/s or, decode reading at least twice the L2, its memory bandwidth."},
    {.name = NULL},
};


typedef struct cal_mod {
    int family, dtype;
    char tag[SS_CAL_TAG_LEN];
    int64_t rows;
    double med, p90, max;
    double beyond, lattice, near;
    bool mha_apart, mha_own, heads_only;
    double spill_bw;
    yaml_node_t *terms;
} cal_mod;
#define MF(f) offsetof(cal_mod, f)
static const ss_key cal_mod_keys[] = {
    {.name = "family", .type = SS_KEY_ENUM, .offset = MF(family), .def = NULL,
     .choices = fam_names},
    {.name = "tag", .type = SS_KEY_STRING, .offset = MF(tag), .size = SS_CAL_TAG_LEN, .def = "",
     .flags = SS_KEY_NO_BOUNDS},
    {.name = "dtype", .type = SS_KEY_ENUM, .offset = MF(dtype), .def = NULL,
     .choices = ss_dtype_names},
    {.name = "rows", .type = SS_KEY_INT64, .offset = MF(rows), .def = "0", .min = 0, .max = 1e15},
    {.name = "median_ape", .type = SS_KEY_DOUBLE, .offset = MF(med), .def = "0", .min = 0,
     .max = 1e9},
    {.name = "p90_ape", .type = SS_KEY_DOUBLE, .offset = MF(p90), .def = "0", .min = 0, .max = 1e9},
    {.name = "max_ape", .type = SS_KEY_DOUBLE, .offset = MF(max), .def = "0", .min = 0, .max = 1e12},
    {.name = "beyond_basis", .type = SS_KEY_DOUBLE, .offset = MF(beyond), .def = "0",
     .min = 0, .max = 1, .help = "GEMM (format 3): weight of the basis beyond a shape's "
                                 "largest measured m, 0 to 1."},
    {.name = "lattice_basis", .type = SS_KEY_DOUBLE, .offset = MF(lattice), .def = "0",
     .min = 0, .max = 1, .help = "GEMM (format 3): weight of the basis against the lattice of "
                                 "measured shapes for a shape never measured, 0 to 1."},
    {.name = "lattice_near", .type = SS_KEY_DOUBLE, .offset = MF(near), .def = "0", .min = 0,
     .max = 16, .help = "GEMM (format 10): power p of the lattice's trust in its nearer axis, "
                        "each axis' estimate weighted (span + 0.05)^-p; 0 = equal."},
    {.name = "mha_apart", .type = SS_KEY_BOOL, .offset = MF(mha_apart), .def = "false",
     .help = "decode attention (format 4): price a head configuration never measured from "
             "measured grids of its own kind only, MHA or GQA."},
    {.name = "mha_own", .type = SS_KEY_BOOL, .offset = MF(mha_own), .def = "false",
     .help = "prefill attention (format 8): price an MHA head configuration never measured "
             "from the measured MHA grids only."},
    {.name = "heads_only", .type = SS_KEY_BOOL, .offset = MF(heads_only), .def = "false",
     .help = "prefill and mixed attention (format 9): price a head configuration never "
             "measured along the query heads alone, whatever the KV heads."},
    {.name = "spill_bw", .type = SS_KEY_DOUBLE, .offset = MF(spill_bw), .def = "0", .min = 0,
     .max = 1e15, .unit = "B/s",
     .help = "decode attention (format 5): the fastest a measured call reading more KV than "
             "twice the L2 streamed it; 0 = none measured."},
    {.name = "terms", .type = SS_KEY_NODE, .offset = MF(terms), .def = NULL,
     .flags = SS_KEY_NO_BOUNDS},
    {.name = NULL},
};

typedef struct cal_term {
    yaml_node_t *knots, *coef;
    double x_max;
} cal_term;
static const ss_key cal_term_keys[] = {
    {.name = "knots", .type = SS_KEY_NODE, .offset = offsetof(cal_term, knots), .def = NULL,
     .flags = SS_KEY_NO_BOUNDS},
    {.name = "coef", .type = SS_KEY_NODE, .offset = offsetof(cal_term, coef), .def = NULL,
     .flags = SS_KEY_NO_BOUNDS},
    {.name = "x_max", .type = SS_KEY_DOUBLE, .offset = offsetof(cal_term, x_max), .def = "0",
     .min = 0, .max = 1e300},
    {.name = NULL},
};

typedef struct cal_shp {
    int dtype;
    int64_t n, k, m_class;
    yaml_node_t *m, *t;
} cal_shp;
static const ss_key cal_shp_keys[] = {
    {.name = "dtype", .type = SS_KEY_ENUM, .offset = offsetof(cal_shp, dtype), .def = NULL,
     .choices = ss_dtype_names},
    {.name = "n", .type = SS_KEY_INT64, .offset = offsetof(cal_shp, n), .def = NULL, .min = 1,
     .max = 1e12},
    {.name = "k", .type = SS_KEY_INT64, .offset = offsetof(cal_shp, k), .def = NULL, .min = 1,
     .max = 1e12},
    {.name = "m_class", .type = SS_KEY_INT64, .offset = offsetof(cal_shp, m_class), .def = "0",
     .min = 0, .max = 2,
     .help = "0: one curve for every m; 1: m a multiple of 16 only; 2: the other m only."},
    {.name = "m", .type = SS_KEY_NODE, .offset = offsetof(cal_shp, m), .def = NULL,
     .flags = SS_KEY_NO_BOUNDS},
    {.name = "t", .type = SS_KEY_NODE, .offset = offsetof(cal_shp, t), .def = NULL,
     .flags = SS_KEY_NO_BOUNDS},
    {.name = NULL},
};

typedef struct cal_moe {
    int dtype;
    int64_t hidden, inter, experts, topk, ep;
    yaml_node_t *m, *t;
} cal_moe;
#define CF(f) offsetof(cal_moe, f)
static const ss_key cal_moe_keys[] = {
    {.name = "dtype", .type = SS_KEY_ENUM, .offset = CF(dtype), .def = NULL,
     .choices = ss_dtype_names},
    {.name = "hidden", .type = SS_KEY_INT64, .offset = CF(hidden), .def = NULL, .min = 1,
     .max = 1e9},
    {.name = "inter", .type = SS_KEY_INT64, .offset = CF(inter), .def = NULL, .min = 1,
     .max = 1e9, .help = "Expert FFN width per tensor-parallel shard."},
    {.name = "experts", .type = SS_KEY_INT64, .offset = CF(experts), .def = NULL, .min = 1,
     .max = 1e6, .help = "Experts on one GPU."},
    {.name = "topk", .type = SS_KEY_INT64, .offset = CF(topk), .def = NULL, .min = 1,
     .max = 1e6},
    {.name = "ep", .type = SS_KEY_INT64, .offset = CF(ep), .def = NULL, .min = 1, .max = 1e6},
    {.name = "m", .type = SS_KEY_NODE, .offset = CF(m), .def = NULL, .flags = SS_KEY_NO_BOUNDS},
    {.name = "t", .type = SS_KEY_NODE, .offset = CF(t), .def = NULL, .flags = SS_KEY_NO_BOUNDS},
    {.name = NULL},
};

typedef struct cal_grd {
    int family, dtype, heads, kv_heads, head_dim;
    int64_t measured;
    yaml_node_t *axes, *t;
} cal_grd;
#define GF(f) offsetof(cal_grd, f)
static const ss_key cal_grd_keys[] = {
    {.name = "family", .type = SS_KEY_ENUM, .offset = GF(family), .def = NULL,
     .choices = fam_names},
    {.name = "dtype", .type = SS_KEY_ENUM, .offset = GF(dtype), .def = NULL,
     .choices = ss_dtype_names},
    {.name = "heads", .type = SS_KEY_INT, .offset = GF(heads), .def = NULL, .min = 1, .max = 1e6},
    {.name = "kv_heads", .type = SS_KEY_INT, .offset = GF(kv_heads), .def = NULL, .min = 1,
     .max = 1e6},
    {.name = "head_dim", .type = SS_KEY_INT, .offset = GF(head_dim), .def = NULL, .min = 1,
     .max = 1e6},
    {.name = "measured", .type = SS_KEY_INT64, .offset = GF(measured), .def = "0", .min = 0,
     .max = 1e12},
    {.name = "axes", .type = SS_KEY_NODE, .offset = GF(axes), .def = NULL,
     .flags = SS_KEY_NO_BOUNDS},
    {.name = "t", .type = SS_KEY_NODE, .offset = GF(t), .def = NULL, .flags = SS_KEY_NO_BOUNDS},
    {.name = NULL},
};

/* The number in [s, end) when it is plain decimal ("123", "0.25", "1.5e-07") with at most
 * 2^53 as its digits and a power of ten within 1e±22: then digits x or / 10^e is one
 * correctly rounded operation, the same double strtod gives (Clinger's fast path), at a
 * fraction of its cost. Returns 0 for anything else (the caller uses strtod). */
static int fast_decimal(const char *s, const char *end, double *out)
{
    static const double p10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                   1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                   1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    const uint64_t lim = (uint64_t)1 << 53;
    uint64_t m = 0;
    int nd = 0, e = 0;
    const char *p = s;
    for (; p < end && *p >= '0' && *p <= '9'; p++, nd++) {
        m = m * 10 + (uint64_t)(*p - '0');
        if (m > lim) return 0;
    }
    if (p < end && *p == '.')
        for (p++; p < end && *p >= '0' && *p <= '9'; p++, nd++, e--) {
            m = m * 10 + (uint64_t)(*p - '0');
            if (m > lim) return 0;
        }
    if (!nd) return 0;
    if (p < end && (*p == 'e' || *p == 'E')) {
        int sign = 1, x = 0, xd = 0;
        p++;
        if (p < end && (*p == '+' || *p == '-')) sign = *p++ == '-' ? -1 : 1;
        for (; p < end && *p >= '0' && *p <= '9' && xd < 4; p++, xd++) x = x * 10 + (*p - '0');
        if (!xd) return 0;
        e += sign * x;
    }
    if (p != end || e < -22 || e > 22) return 0;
    *out = e < 0 ? (double)m / p10[-e] : (double)m * p10[e];
    return 1;
}

/* A list of finite non-negative numbers, at most `max` long: a string of numbers separated
 * by spaces (what ss_calib_write_yaml writes) or a YAML sequence of numbers. */
static ss_rc num_list(ss_doc *doc, yaml_node_t *node, const char *kp, double *v, int max,
                      int *n, ss_diag *d)
{
    if (node && node->type == YAML_SCALAR_NODE) {
        const char *s = ss_node_scalar(node);
        int len = 0;
        for (;;) {
            while (*s == ' ') s++;
            if (!*s) break;
            const char *tok_end = s;
            while (*tok_end && *tok_end != ' ') tok_end++;
            double x;
            char *end = (char *)tok_end;
            if (!fast_decimal(s, tok_end, &x)) x = strtod(s, &end);
            if (end != tok_end || !isfinite(x) || x < 0)
                return ss_cfg_error(d, SS_ERR_INVALID, doc, node, kp,
                                    "item %d: expected a finite number >= 0, got '%.*s'", len,
                                    (int)(tok_end - s > 40 ? 40 : tok_end - s), s);
            if (len == max)
                return ss_cfg_error(d, SS_ERR_INVALID, doc, node, kp,
                                    "expected 1 to %d numbers, got more", max);
            v[len++] = x;
            s = tok_end;
        }
        if (len == 0)
            return ss_cfg_error(d, SS_ERR_INVALID, doc, node, kp,
                                "expected 1 to %d numbers, got 0", max);
        *n = len;
        return SS_OK;
    }
    if (!node || node->type != YAML_SEQUENCE_NODE)
        return ss_cfg_error(d, SS_ERR_INVALID, doc, node, kp, "expected a list of numbers, got %s",
                            node ? ss_node_kind(node) : "nothing");
    size_t len = ss_node_seq_len(node);
    if (len == 0 || len > (size_t)max)
        return ss_cfg_error(d, SS_ERR_INVALID, doc, node, kp,
                            "expected 1 to %d numbers, got %zu", max, len);
    for (size_t i = 0; i < len; i++) {
        yaml_node_t *it = ss_node_seq_at(doc, node, i);
        const char *s = ss_node_scalar(it);
        char *end;
        double x = s ? strtod(s, &end) : NAN;
        if (!s || end == s || *end || !isfinite(x) || x < 0)
            return ss_cfg_error(d, SS_ERR_INVALID, doc, it, kp,
                                "item %zu: expected a finite number >= 0, got '%s'", i,
                                s ? s : ss_node_kind(it));
        v[i] = x;
    }
    *n = (int)len;
    return SS_OK;
}

static int kind_terms(int family)
{
    switch (ss_cal_kind_of(family)) {
    case SS_CAL_GEMM: return SS_CAL_GEMM_TERMS;
    case SS_CAL_ATTN: return SS_CAL_ATTN_TERMS;
    case SS_CAL_COLL: return 3;
    case SS_CAL_MOE: return 5;
    default: return 2;
    }
}

static ss_rc parse_model(ss_doc *doc, yaml_node_t *node, const char *kp, int format,
                         ss_cal_model *m, ss_diag *d)
{
    cal_mod p;
    memset(&p, 0, sizeof p);
    ss_rc rc = ss_cfg_apply(doc, node, NULL, kp, cal_mod_keys, &p, d);
    if (rc) return rc;
    memset(m, 0, sizeof *m);
    m->family = p.family;
    m->dtype = p.dtype;
    snprintf(m->tag, sizeof m->tag, "%s", p.tag);
    m->rows = (long)p.rows;
    m->median_ape = p.med, m->p90_ape = p.p90, m->max_ape = p.max;
    /* Keys of one family that later formats added: required of that family from their
     * format, refused elsewhere and in the formats before it (whose fits were validated
     * without; they read as 0). The GEMM weights from 3, the decode kind split from 4, the
     * decode streaming floor from 5, the prefill MHA split from 8, the lattice along the
     * query heads from 9, the GEMM lattice's nearer axis from 10. */
#define FAM(f) (1u << (f))
    static const struct {
        const char *key;
        unsigned families;
        int since;
        const char *who, *only;
    } gated[] = {
        {"beyond_basis", FAM(SS_FAM_GEMM), 3, "a GEMM model", "is for GEMM models only"},
        {"lattice_basis", FAM(SS_FAM_GEMM), 3, "a GEMM model", "is for GEMM models only"},
        {"lattice_near", FAM(SS_FAM_GEMM), 10, "a GEMM model", "is for GEMM models only"},
        {"mha_apart", FAM(SS_FAM_ATTN_DECODE), 4, "a decode attention model",
         "is for decode attention models only"},
        {"spill_bw", FAM(SS_FAM_ATTN_DECODE), 5, "a decode attention model",
         "is for decode attention models only"},
        {"mha_own", FAM(SS_FAM_ATTN_PREFILL), 8, "a prefill attention model",
         "is for prefill attention models only"},
        {"heads_only", FAM(SS_FAM_ATTN_PREFILL) | FAM(SS_FAM_ATTN_MIXED), 9,
         "a prefill or mixed attention model", "is for prefill and mixed attention models only"},
    };
#undef FAM
    for (size_t i = 0; i < sizeof gated / sizeof *gated; i++) {
        yaml_node_t *wn = ss_node_get(doc, node, gated[i].key);
        int mine = (gated[i].families >> p.family) & 1u;
        if (mine && format >= gated[i].since && !wn)
            return ss_cfg_error(d, SS_ERR_INVALID, doc, node, kp, "%s needs %s in format %d",
                                gated[i].who, gated[i].key, format);
        if (wn && (!mine || format < gated[i].since)) {
            char wk[320], why[64];
            snprintf(wk, sizeof wk, "%s.%s", kp, gated[i].key);
            snprintf(why, sizeof why, "needs format %d or later", gated[i].since);
            return ss_cfg_error(d, SS_ERR_INVALID, doc, wn, wk, "%s",
                                mine ? why : gated[i].only);
        }
    }
    m->beyond_w = p.beyond, m->lattice_w = p.lattice, m->lattice_near = p.near;
    m->beyond_octave = ss_cal_kind_of(p.family) == SS_CAL_GEMM && format >= 8;
    m->mha_apart = p.mha_apart;
    m->mha_own = p.mha_own;
    m->heads_only = p.heads_only;
    m->spill_bw = p.spill_bw;
    char tk[320];
    snprintf(tk, sizeof tk, "%s.terms", kp);
    size_t nt = ss_node_seq_len(p.terms);
    int want = kind_terms(p.family);
    /* format 1 (before 2026-11-27) has no GEMM per-row and serial-tile terms, formats before
     * 7 no attention decode intensity term: they read as 0, which is what those fits were */
    int have = want;
    if (format == 1 && ss_cal_kind_of(p.family) == SS_CAL_GEMM) have -= 2;
    if (format < 7 && ss_cal_kind_of(p.family) == SS_CAL_ATTN) have -= 1;
    if (!p.terms || p.terms->type != YAML_SEQUENCE_NODE || nt != (size_t)have)
        return ss_cfg_error(d, SS_ERR_INVALID, doc, p.terms, tk,
                            "family '%s' needs a list of %d terms in format %d, got %zu",
                            fam_names[p.family], have, format, nt);
    m->nterms = want;
    for (int j = (int)nt; j < want; j++) m->terms[j].nknots = 1; /* knot 0, coefficient 0 */
    for (size_t j = 0; j < nt; j++) {
        char jk[360];
        snprintf(jk, sizeof jk, "%s[%zu]", tk, j);
        yaml_node_t *tn = ss_node_seq_at(doc, p.terms, j);
        cal_term ct = {0};
        if ((rc = ss_cfg_apply(doc, tn, NULL, jk, cal_term_keys, &ct, d))) return rc;
        ss_cal_term *t = &m->terms[j];
        int nc = 0;
        char kk[400];
        snprintf(kk, sizeof kk, "%s.knots", jk);
        if ((rc = num_list(doc, ct.knots, kk, t->knots, SS_CAL_MAX_KNOTS, &t->nknots, d)))
            return rc;
        if (t->knots[0] != 0)
            return ss_cfg_error(d, SS_ERR_INVALID, doc, ct.knots, kk, "the first knot must be 0");
        for (int i = 1; i < t->nknots; i++)
            if (!(t->knots[i] > t->knots[i - 1]))
                return ss_cfg_error(d, SS_ERR_INVALID, doc, ct.knots, kk,
                                    "knots must increase (item %d)", i);
        snprintf(kk, sizeof kk, "%s.coef", jk);
        if ((rc = num_list(doc, ct.coef, kk, t->coef, SS_CAL_MAX_KNOTS, &nc, d))) return rc;
        if (nc != t->nknots)
            return ss_cfg_error(d, SS_ERR_INVALID, doc, ct.coef, kk,
                                "%d coefficients for %d knots (one per segment)", nc, t->nknots);
        m->x_max[j] = ct.x_max;
    }
    return SS_OK;
}

/* The token counts m and times t of a measured curve (GEMM shape, MoE configuration) at key
 * path kp: as many of each, at least 3, counts increasing, times positive and
 * non-decreasing. */
static ss_rc curve_pts(ss_doc *doc, yaml_node_t *mn, yaml_node_t *tn, const char *kp,
                       double *m, double *t, int *npts, ss_diag *d)
{
    char lk[96];
    int nt = 0;
    ss_rc rc;
    snprintf(lk, sizeof lk, "%s.m", kp);
    if ((rc = num_list(doc, mn, lk, m, SS_CAL_MAX_SHAPE_PTS, npts, d))) return rc;
    snprintf(lk, sizeof lk, "%s.t", kp);
    if ((rc = num_list(doc, tn, lk, t, SS_CAL_MAX_SHAPE_PTS, &nt, d))) return rc;
    if (nt != *npts || *npts < 3)
        return ss_cfg_error(d, SS_ERR_INVALID, doc, tn, lk,
                            "needs as many times as token counts, at least 3 (%d and %d)",
                            *npts, nt);
    snprintf(lk, sizeof lk, "%s.m", kp);
    for (int j = 0; j < *npts; j++)
        if (!(m[j] > 0 && t[j] > 0) || (j && (m[j] <= m[j - 1] || t[j] < t[j - 1])))
            return ss_cfg_error(d, SS_ERR_INVALID, doc, mn, lk,
                                "token counts must increase and times be positive and "
                                "non-decreasing (item %d)", j);
    return SS_OK;
}

/* Room for n items of size elem at *p (zeroed; nothing when n is 0), recorded in *cap. */
static ss_rc alloc_items(void **p, int *cap, size_t n, size_t elem, ss_diag *d)
{
    if (!n) return SS_OK;
    *p = calloc(n, elem);
    if (!*p) return ss_diag_fail(d, SS_ERR_NOMEM, "out of memory");
    *cap = (int)n;
    return SS_OK;
}

static ss_rc parse_sources(ss_doc *doc, yaml_node_t *list, ss_calib *c, ss_diag *d)
{
    size_t ns = ss_node_seq_len(list);
    if (list && list->type != YAML_SEQUENCE_NODE)
        return ss_cfg_error(d, SS_ERR_INVALID, doc, list, "calibration.sources",
                            "expected a list, got %s", ss_node_kind(list));
    c->sources = calloc(ns ? ns : 1, sizeof *c->sources);
    if (!c->sources) return ss_diag_fail(d, SS_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < ns; i++) {
        char kp[64];
        snprintf(kp, sizeof kp, "calibration.sources[%zu]", i);
        cal_src s;
        memset(&s, 0, sizeof s);
        ss_rc rc = ss_cfg_apply(doc, ss_node_seq_at(doc, list, i), NULL, kp, cal_src_keys, &s, d);
        if (rc) return rc;
        s.s.rows = (uint64_t)s.rows, s.s.over_peak = (uint64_t)s.over_peak;
        c->sources[c->nsources++] = s.s;
    }
    return SS_OK;
}

static ss_rc parse_shapes(ss_doc *doc, yaml_node_t *list, ss_calib *c, ss_diag *d)
{
    size_t n = ss_node_seq_len(list);
    ss_rc rc = alloc_items((void **)&c->shapes, &c->cap_shapes, n, sizeof *c->shapes, d);
    for (size_t i = 0; rc == SS_OK && i < n; i++) {
        char kp[64];
        snprintf(kp, sizeof kp, "calibration.shapes[%zu]", i);
        cal_shp p;
        memset(&p, 0, sizeof p);
        if ((rc = ss_cfg_apply(doc, ss_node_seq_at(doc, list, i), NULL, kp, cal_shp_keys, &p, d)))
            break;
        ss_cal_shape *s = &c->shapes[c->nshapes];
        s->dtype = p.dtype, s->n = (long)p.n, s->k = (long)p.k, s->m_class = (int)p.m_class;
        if ((rc = curve_pts(doc, p.m, p.t, kp, s->m, s->t, &s->npts, d)) == SS_OK) c->nshapes++;
    }
    return rc;
}

static ss_rc parse_moe_curves(ss_doc *doc, yaml_node_t *list, int format, ss_calib *c,
                              ss_diag *d)
{
    size_t n = ss_node_seq_len(list);
    if (n && format < 6)
        return ss_cfg_error(d, SS_ERR_INVALID, doc, list, "calibration.moe_curves",
                            "MoE curves need calibration format 6 (this one is %d)", format);
    ss_rc rc = alloc_items((void **)&c->moe, &c->cap_moe, n, sizeof *c->moe, d);
    for (size_t i = 0; rc == SS_OK && i < n; i++) {
        char kp[64];
        snprintf(kp, sizeof kp, "calibration.moe_curves[%zu]", i);
        cal_moe p;
        memset(&p, 0, sizeof p);
        if ((rc = ss_cfg_apply(doc, ss_node_seq_at(doc, list, i), NULL, kp, cal_moe_keys, &p, d)))
            break;
        ss_cal_moe_curve *v = &c->moe[c->nmoe];
        v->dtype = p.dtype, v->hidden = (long)p.hidden, v->inter = (long)p.inter;
        v->experts = (int)p.experts, v->topk = (int)p.topk, v->ep = (int)p.ep;
        if ((rc = curve_pts(doc, p.m, p.t, kp, v->m, v->t, &v->npts, d)) == SS_OK) c->nmoe++;
    }
    return rc;
}

/* Grid i of the list into c->grids[c->ngrids], which owns its times from the moment they are
 * allocated, even if they are then refused. */
static ss_rc parse_grid(ss_doc *doc, yaml_node_t *gn, size_t i, ss_calib *c, ss_diag *d)
{
    char kp[64], lk[96];
    snprintf(kp, sizeof kp, "calibration.grids[%zu]", i);
    cal_grd p;
    memset(&p, 0, sizeof p);
    ss_rc rc = ss_cfg_apply(doc, gn, NULL, kp, cal_grd_keys, &p, d);
    if (rc) return rc;
    ss_cal_grid *g = &c->grids[c->ngrids];
    memset(g, 0, sizeof *g);
    g->family = p.family, g->dtype = p.dtype, g->heads = p.heads;
    g->kv_heads = p.kv_heads, g->head_dim = p.head_dim, g->measured = (long)p.measured;
    int want = p.family == SS_FAM_ATTN_DECODE ? 2 : p.family == SS_FAM_ATTN_MIXED ? 4
             : p.family == SS_FAM_ATTN_PREFILL ? 3 : 0;
    snprintf(lk, sizeof lk, "%s.axes", kp);
    if (!want || !p.axes || p.axes->type != YAML_SEQUENCE_NODE ||
        ss_node_seq_len(p.axes) != (size_t)want)
        return ss_cfg_error(d, SS_ERR_INVALID, doc, p.axes, lk,
                            "an attention grid needs %d axes (prefill 3, decode 2, mixed 4)",
                            want);
    g->ndim = want;
    size_t cells = 1;
    for (int dd = 0; dd < want; dd++) {
        snprintf(lk, sizeof lk, "%s.axes[%d]", kp, dd);
        yaml_node_t *an = ss_node_seq_at(doc, p.axes, (size_t)dd);
        if ((rc = num_list(doc, an, lk, g->axis[dd], SS_CAL_GRID_MAXAXIS, &g->len[dd], d)))
            return rc;
        for (int j = 1; j < g->len[dd]; j++)
            if (!(g->axis[dd][j] > g->axis[dd][j - 1]))
                return ss_cfg_error(d, SS_ERR_INVALID, doc, an, lk, "values must increase");
        cells *= (size_t)g->len[dd];
    }
    c->ngrids++; /* owns t from here, even if the values below are refused */
    g->t = malloc(cells * sizeof *g->t);
    int nt = 0;
    snprintf(lk, sizeof lk, "%s.t", kp);
    if (!g->t) return ss_diag_fail(d, SS_ERR_NOMEM, "out of memory");
    if ((rc = num_list(doc, p.t, lk, g->t, (int)cells, &nt, d))) return rc;
    if ((size_t)nt != cells)
        return ss_cfg_error(d, SS_ERR_INVALID, doc, p.t, lk, "%d times for %zu grid cells", nt,
                            cells);
    for (size_t j = 0; j < cells; j++)
        if (!(g->t[j] > 0))
            return ss_cfg_error(d, SS_ERR_INVALID, doc, p.t, lk, "times must be > 0 (item %zu)", j);
    return SS_OK;
}

ss_rc ss_calib_parse(ss_doc *doc, yaml_node_t *node, ss_calib *c, ss_diag *d)
{
    ss_calib_init(c);
    cal_top *top = calloc(1, sizeof *top);
    if (!top) return ss_diag_fail(d, SS_ERR_NOMEM, "out of memory");
    ss_rc rc = ss_cfg_apply(doc, node, NULL, "calibration", cal_top_keys, top, d);
    if (rc == SS_OK && (top->format < 1 || top->format > SS_CAL_FORMAT))
        rc = ss_cfg_error(d, SS_ERR_INVALID, doc, ss_node_get(doc, node, "format"),
                          "calibration.format",
                          "unsupported format %d (this servesim reads 1 to %d)",
                          top->format, SS_CAL_FORMAT);
    if (rc) goto out;
    snprintf(c->gpu, sizeof c->gpu, "%s", top->gpu);
    snprintf(c->stack, sizeof c->stack, "%s", top->stack);
    c->is_default = top->is_default;
    if (top->skew) {
        cal_skew sk = {0};
        if ((rc = ss_cfg_apply(doc, top->skew, NULL, "calibration.skew", cal_skew_keys, &sk, d)))
            goto out;
        c->skew_alpha_pure = sk.pure, c->skew_alpha_mixed = sk.mixed, c->skew_shots = (long)sk.shots;
    }
    c->command = strdup(top->command);
    if (!c->command) {
        rc = ss_diag_fail(d, SS_ERR_NOMEM, "out of memory");
        goto out;
    }
    if ((rc = parse_sources(doc, top->sources, c, d))) goto out;
    size_t nm = ss_node_seq_len(top->models);
    if (top->models->type != YAML_SEQUENCE_NODE || nm > SS_CAL_MAX_MODELS) {
        rc = ss_cfg_error(d, SS_ERR_INVALID, doc, top->models, "calibration.models",
                          "expected a list of at most %d models", SS_CAL_MAX_MODELS);
        goto out;
    }
    for (size_t i = 0; i < nm; i++) {
        char kp[64];
        snprintf(kp, sizeof kp, "calibration.models[%zu]", i);
        if ((rc = parse_model(doc, ss_node_seq_at(doc, top->models, i), kp, (int)top->format,
                              &c->models[c->nmodels], d)))
            goto out;
        c->nmodels++;
    }
    if ((rc = parse_shapes(doc, top->shapes, c, d))) goto out;
    if ((rc = parse_moe_curves(doc, top->moe_curves, (int)top->format, c, d))) goto out;
    size_t ng = ss_node_seq_len(top->grids);
    rc = alloc_items((void **)&c->grids, &c->cap_grids, ng, sizeof *c->grids, d);
    for (size_t i = 0; rc == SS_OK && i < ng; i++)
        rc = parse_grid(doc, ss_node_seq_at(doc, top->grids, i), i, c, d);
out:
    free(top);
    if (rc) ss_calib_free(c);
    return rc;
}

static ss_rc load_doc(const char *path, const char *gpu, int embedded, ss_calib *c, ss_diag *d)
{
    ss_calib_init(c);
    ss_doc *doc = NULL;
    ss_rc rc;
    const ss_embedded_file *e = embedded ? ss_hw_embedded_by_path(path) : NULL;
    if (e) rc = ss_doc_load_string(e->path, e->text, strlen(e->text), &doc, d);
    else rc = ss_doc_load_file(path, &doc, d);
    if (rc) return rc;
    yaml_node_t *node = ss_node_get(doc, ss_doc_root(doc), "calibration");
    rc = node ? ss_calib_parse(doc, node, c, d)
              : ss_diag_set(d, SS_ERR_INVALID, path, 0, 0, "calibration",
                            "no calibration section (GPU profile '%s')", gpu);
    ss_doc_free(doc);
    return rc;
}

ss_rc ss_calib_load_doc(const char *path, const char *gpu, ss_calib *c, ss_diag *d)
{
    return load_doc(path, gpu, 1, c, d);
}

ss_rc ss_calib_load_file(const char *path, ss_calib *c, ss_diag *d)
{
    return load_doc(path, path, 0, c, d);
}

ss_rc ss_calib_load(const ss_hw *hw, ss_calib *c, ss_diag *d)
{
    ss_calib_init(c);
    if (!hw->calib_doc[0])
        return ss_diag_fail(d, SS_ERR_NOTFOUND, "GPU profile '%s' has no calibration", hw->name);
    ss_rc rc = ss_calib_load_doc(hw->calib_doc, hw->name, c, d);
    if (rc == SS_OK) c->l2_bytes = (double)hw->l2_bytes;
    return rc;
}

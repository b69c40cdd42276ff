/* Length distributions; see lengths.h. */
#include "workloads/lengths.h"

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_randist.h>
#include <math.h>
#include <string.h>

static const char *const kinds[] = {"fixed", "uniform", "normal", "lognormal", "zipf", NULL};

#define F(f) offsetof(ss_len_dist, f)
#define DIST_ROW {"dist", SS_KEY_STRING, F(dist), 16, NULL, 0, 0, 0, NULL, \
    "Distribution: fixed, uniform, normal, lognormal or zipf.", NULL}
#define END_ROW {NULL, 0, 0, 0, NULL, 0, 0, 0, NULL, NULL, NULL}
static const ss_key fixed_keys[] = {
    DIST_ROW,
    {"value", SS_KEY_INT64, F(value), 0, NULL, 1, 1e8, 0, "tokens", "fixed: the length.", NULL},
    END_ROW};
static const ss_key uniform_keys[] = {
    DIST_ROW,
    {"min", SS_KEY_INT64, F(min), 0, NULL, 1, 1e8, 0, "tokens", "uniform: lowest value.", NULL},
    {"max", SS_KEY_INT64, F(max), 0, NULL, 1, 1e8, 0, "tokens", "uniform: highest value.", NULL},
    END_ROW};
static const ss_key normal_keys[] = {
    DIST_ROW,
    {"mean", SS_KEY_DOUBLE, F(mean), 0, NULL, 0, 1e8, 0, "tokens", "normal: mean.", NULL},
    {"sd", SS_KEY_DOUBLE, F(sd), 0, NULL, 0, 1e8, 0, "tokens", "normal: standard deviation.", NULL},
    {"min", SS_KEY_INT64, F(min), 0, "1", 1, 1e8, 0, "tokens", "normal/lognormal: clip below.", NULL},
    {"max", SS_KEY_INT64, F(max), 0, NULL, 1, 1e8, 0, "tokens", "normal/lognormal: clip above.", NULL},
    END_ROW};
static const ss_key lognormal_keys[] = {
    DIST_ROW,
    {"mu", SS_KEY_DOUBLE, F(mu), 0, NULL, -50, 50, 0, NULL,
     "lognormal: mean of ln(length); the median is e^mu.", NULL},
    {"sigma", SS_KEY_DOUBLE, F(sigma), 0, NULL, 0, 20, 0, NULL,
     "lognormal: standard deviation of ln(length).", NULL},
    {"min", SS_KEY_INT64, F(min), 0, "1", 1, 1e8, 0, "tokens", "clip below.", NULL},
    {"max", SS_KEY_INT64, F(max), 0, NULL, 1, 1e8, 0, "tokens", "clip above.", NULL},
    END_ROW};
static const ss_key zipf_keys[] = {
    DIST_ROW,
    {"s", SS_KEY_DOUBLE, F(s), 0, NULL, 0, 20, SS_KEY_MIN_EXCL, NULL,
     "zipf: exponent; value min + k - 1 has probability proportional to k^-s.", NULL},
    {"min", SS_KEY_INT64, F(min), 0, "1", 1, 1e8, 0, "tokens", "zipf: smallest (most likely) value.", NULL},
    {"max", SS_KEY_INT64, F(max), 0, NULL, 1, 1e8, 0, "tokens", "zipf: largest value.", NULL},
    END_ROW};
#undef F
static const ss_key *const tables[] = {fixed_keys, uniform_keys, normal_keys, lognormal_keys,
                                       zipf_keys};

/* ------------------------------------------------------------------ bounded Zipf
 * Rejection-inversion sampling (W. Hormann and G. Derflinger, "Rejection-inversion to
 * generate variates from monotone discrete distributions", ACM TOMACS 6(3), 1996): O(1)
 * memory and expected time for any range, exact for the bounded Zipf law. */
static double zh(double s, double x) { return exp(-s * log(x)); }
static double expm1_over(double x) { return fabs(x) > 1e-8 ? expm1(x) / x : 1 + x / 2; }
static double log1p_over(double x) { return fabs(x) > 1e-8 ? log1p(x) / x : 1 - x / 2; }
static double zH(double s, double x)
{
    double lx = log(x);
    return expm1_over((1 - s) * lx) * lx;
}
static double zHinv(double s, double x)
{
    double t = x * (1 - s);
    if (t < -1) t = -1;
    return exp(log1p_over(t) * x);
}

static void zipf_setup(ss_len_dist *l)
{
    double n = (double)(l->max - l->min + 1), s = l->s;
    l->z_hx1 = zH(s, 1.5) - 1;
    l->z_hn = zH(s, n + 0.5);
    l->z_sconst = 2 - zHinv(s, zH(s, 2.5) - zh(s, 2));
}

static uint32_t zipf_sample(const ss_len_dist *l, ss_rng *rng)
{
    double n = (double)(l->max - l->min + 1), s = l->s;
    for (;;) {
        double u = l->z_hn + gsl_rng_uniform(rng->g) * (l->z_hx1 - l->z_hn);
        double x = zHinv(s, u);
        double k = floor(x + 0.5);
        if (k < 1) k = 1;
        if (k > n) k = n;
        if (k - x <= l->z_sconst || u >= zH(s, k + 0.5) - zh(s, k))
            return (uint32_t)(l->min + (int64_t)k - 1);
    }
}

ss_rc ss_len_parse(ss_doc *doc, yaml_node_t *node, yaml_node_t *parent, const char *path,
                   ss_len_dist *out, ss_diag *d)
{
    memset(out, 0, sizeof *out);
    if (!node) return ss_cfg_error(d, SS_ERR_INVALID, doc, parent, path, "missing required key");
    const char *s = ss_node_scalar(node);
    if (s) { /* plain integer: fixed length */
        char why[256];
        if (ss_cfg_parse_scalar(&fixed_keys[1], s, out, why, sizeof why) != SS_OK)
            return ss_cfg_error(d, SS_ERR_INVALID, doc, node, path,
                                "%s (give a token count, or a mapping with dist: ...)", why);
        out->kind = SS_LEN_FIXED;
        strcpy(out->dist, "fixed");
        return SS_OK;
    }
    if (node->type != YAML_MAPPING_NODE)
        return ss_cfg_error(d, SS_ERR_INVALID, doc, node, path,
                            "expected a token count or a mapping with dist: ..., got %s",
                            ss_node_kind(node));
    yaml_node_t *dn = ss_node_get(doc, node, "dist");
    const char *dist = ss_node_scalar(dn);
    char kp[256];
    snprintf(kp, sizeof kp, "%s.dist", path);
    if (!dist) return ss_cfg_error(d, SS_ERR_INVALID, doc, dn ? dn : node, kp,
                                   "missing or non-scalar dist (fixed, uniform, normal, lognormal)");
    int k = 0;
    while (kinds[k] && strcmp(kinds[k], dist)) k++;
    if (!kinds[k])
        return ss_cfg_error(d, SS_ERR_INVALID, doc, dn, kp,
                            "unknown distribution '%s' (valid: fixed, uniform, normal, lognormal)",
                            dist);
    out->kind = k;
    ss_rc rc = ss_cfg_apply(doc, node, parent, path, tables[k], out, d);
    if (rc) return rc;
    if (k == SS_LEN_UNIFORM && out->min > out->max)
        return ss_cfg_error(d, SS_ERR_INVALID, doc, ss_node_get(doc, node, "max"), path,
                            "max (%lld) is below min (%lld)", (long long)out->max,
                            (long long)out->min);
    if ((k == SS_LEN_NORMAL || k == SS_LEN_LOGNORMAL || k == SS_LEN_ZIPF) && out->min > out->max)
        return ss_cfg_error(d, SS_ERR_INVALID, doc, ss_node_get(doc, node, "max"), path,
                            "max (%lld) is below min (%lld)", (long long)out->max,
                            (long long)out->min);
    if (k == SS_LEN_ZIPF) zipf_setup(out);
    return SS_OK;
}

static uint32_t clip(double v, int64_t lo, int64_t hi)
{
    double r = nearbyint(v);
    if (r < (double)lo) return (uint32_t)lo;
    if (r > (double)hi) return (uint32_t)hi;
    return (uint32_t)r;
}

uint32_t ss_len_sample(const ss_len_dist *l, ss_rng *rng)
{
    switch (l->kind) {
    case SS_LEN_FIXED: return (uint32_t)l->value;
    case SS_LEN_UNIFORM:
        return (uint32_t)(l->min + (int64_t)gsl_rng_uniform_int(rng->g,
                                                                (unsigned long)(l->max - l->min + 1)));
    case SS_LEN_NORMAL: return clip(l->mean + gsl_ran_gaussian(rng->g, l->sd), l->min, l->max);
    case SS_LEN_LOGNORMAL: return clip(gsl_ran_lognormal(rng->g, l->mu, l->sigma), l->min, l->max);
    case SS_LEN_ZIPF: return zipf_sample(l, rng);
    }
    return 1;
}

int64_t ss_len_max(const ss_len_dist *l)
{
    return l->kind == SS_LEN_FIXED ? l->value : l->max;
}

double ss_len_mean(const ss_len_dist *l)
{
    switch (l->kind) {
    case SS_LEN_FIXED: return (double)l->value;
    case SS_LEN_UNIFORM: return 0.5 * (double)(l->min + l->max);
    case SS_LEN_ZIPF: {
        double num = 0, den = 0;
        for (int64_t k = 1; k <= l->max - l->min + 1; k++) {
            double w = pow((double)k, -l->s);
            num += w * (double)(l->min + k - 1);
            den += w;
        }
        return num / den;
    }
    default: break;
    }
    /* E[clip(round(X))] = sum_v v P(round(X) = v) with the tails folded onto min and max. */
    double sum = 0;
    for (int64_t v = l->min; v <= l->max; v++) {
        double lo = v == l->min ? -INFINITY : (double)v - 0.5;
        double hi = v == l->max ? INFINITY : (double)v + 0.5;
        double p;
        if (l->kind == SS_LEN_NORMAL)
            p = gsl_cdf_gaussian_P(hi - l->mean, l->sd) - gsl_cdf_gaussian_P(lo - l->mean, l->sd);
        else
            p = (hi <= 0 ? 0 : gsl_cdf_lognormal_P(hi, l->mu, l->sigma)) -
                (lo <= 0 ? 0 : gsl_cdf_lognormal_P(lo, l->mu, l->sigma));
        sum += (double)v * p;
    }
    return sum;
}

void ss_len_doc_markdown(const char *prefix, FILE *out)
{
    for (int k = 0; kinds[k]; k++) {
        fprintf(out, "\n### dist: %s\n\n| key | type | default | unit | description |\n"
                     "|---|---|---|---|---|\n", kinds[k]);
        ss_cfg_doc_markdown(tables[k] + 1, prefix, out);
    }
}

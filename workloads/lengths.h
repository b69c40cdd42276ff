/* Token-length distributions for prompts and outputs: fixed, uniform, normal (clipped),
 * lognormal (clipped), zipf (bounded). Sampled with GSL's gsl_ran_* from the caller's named stream and
 * rounded to the nearest integer, then clipped to [min, max] (min >= 1).
 *
 * In a scenario a length is either a plain integer (fixed) or a mapping with `dist` and that
 * distribution's own keys; keys that do not belong to the chosen distribution are errors. */
#ifndef SS_WORKLOADS_LENGTHS_H
#define SS_WORKLOADS_LENGTHS_H

#include <stdint.h>

#include "sim/core/cfg.h"
#include "sim/core/rng.h"

typedef enum ss_len_kind {
    SS_LEN_FIXED,
    SS_LEN_UNIFORM,
    SS_LEN_NORMAL,
    SS_LEN_LOGNORMAL,
    SS_LEN_ZIPF
} ss_len_kind;

typedef struct ss_len_dist {
    int kind;       /* ss_len_kind */
    char dist[16];
    int64_t value;  /* fixed */
    int64_t min, max; /* uniform range, and clip bounds of normal/lognormal */
    double mean, sd;  /* normal */
    double mu, sigma; /* lognormal: parameters of the underlying normal (median = e^mu) */
    double s;         /* zipf: exponent; P(min + k - 1) is proportional to k^-s, k = 1.. */
    double z_hx1, z_hn, z_sconst; /* zipf sampler constants (rejection-inversion) */
} ss_len_dist;

/* Parse `node` (integer or mapping) at key path `path`. */
ss_rc ss_len_parse(ss_doc *doc, yaml_node_t *node, yaml_node_t *parent, const char *path,
                   ss_len_dist *out, ss_diag *d);
uint32_t ss_len_sample(const ss_len_dist *l, ss_rng *rng);
/* Largest value the distribution can produce. */
int64_t ss_len_max(const ss_len_dist *l);
/* Expected value (after rounding and clipping, computed numerically for normal/lognormal). */
double ss_len_mean(const ss_len_dist *l);
/* Markdown rows for docs. */
void ss_len_doc_markdown(const char *prefix, FILE *out);

#endif

/* Study files: parsing, validation and point expansion (study.h, docs/sweeps.md). */
#include "sim/study/study.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/core/embed.h"

#ifndef SS_SOURCE_DIR
#define SS_SOURCE_DIR "."
#endif

#define MAX_AXIS_VALUES 100000
#define MAX_POINTS 10000000
#define MAX_FAMILY_KEYS 8

/* One "key=value" override and where the study file set it. */
typedef struct ss_item {
    char *kv;      /* "key=value", owned */
    size_t keylen; /* length of "key" */
    int line, col;
} ss_item;

struct ss_study {
    ss_doc *doc;
    char name[64];
    char scenario_ref[1024];
    char *scen_name; /* name to load the base scenario under (its path) */
    char *scen_text; /* base scenario text, read once */
    int replications;
    int64_t seed;    /* -1: the scenario's */
    int lenient;     /* points are not loaded up front (ss_study_load_lenient) */
    size_t npoints;
    ss_item *items;  /* every distinct item (product: axis values; list: each point's) */
    size_t nitems;
    /* point i's items: ov[start[i] .. start[i+1]) (strings) and idx[...] (into items) */
    size_t *start;
    const char **ov;
    size_t *idx;
    int *pline, *pcol; /* where each point is written (list) or the axes section (product) */
    char **family;     /* per point */
    /* request classes over every point whose summary has a class section (more than one
     * class, or an SLO), in order of first appearance; not collected for lenient studies */
    char (*classes)[32];
    size_t nclasses;
    /* owned: calibrations shared by every point's scenario (parsed once per GPU profile in
     * the parent, inherited by forked workers) */
    ss_calib_cache *calib_cache;
};

/* Top-level sections of a study file. Other commands that read their own section of the
 * same file (through ss_study_doc) add a row here, so that a typo at the top level is still
 * an error rather than a silently ignored section. */
typedef struct root_cfg {
    yaml_node_t *study;
    yaml_node_t *other[8];
} root_cfg;
static const ss_key root_keys[] = {
    {"study", SS_KEY_NODE, offsetof(root_cfg, study), 0, NULL, 0, 0, 0, NULL,
     "The study: base scenario, replications and the points to run.", NULL},
    /* `servesim search` (sim/study/search.c) */
    {"slo", SS_KEY_NODE, offsetof(root_cfg, other[0]), 0, "", 0, 0, 0, NULL,
     "Service-level objective of a configuration search (docs/capacity-and-cost.md).", NULL},
    {"search", SS_KEY_NODE, offsetof(root_cfg, other[1]), 0, "", 0, 0, 0, NULL,
     "Target load and capacity-search settings of a configuration search.", NULL},
    {"cost", SS_KEY_NODE, offsetof(root_cfg, other[2]), 0, "", 0, 0, 0, NULL,
     "Price, ownership and power assumptions of a configuration search.", NULL},
    {NULL, 0, 0, 0, NULL, 0, 0, 0, NULL, NULL, NULL}};

static const char *const mode_choices[] = {"product", "list", NULL};
enum { MODE_PRODUCT, MODE_LIST };

typedef struct study_cfg {
    char name[64];
    char scenario[1024];
    int replications;
    int64_t seed;
    int mode;
    yaml_node_t *axes, *points, *family;
} study_cfg;
#define S(f) offsetof(study_cfg, f)
static const ss_key study_keys[] = {
    {"name", SS_KEY_STRING, S(name), 64, "study", 0, 0, 0, NULL, "Short name of the study.",
     NULL},
    {"scenario", SS_KEY_STRING, S(scenario), 1024, NULL, 0, 0, 0, NULL,
     "Built-in scenario name or path of a scenario file, relative to the study file.", NULL},
    {"replications", SS_KEY_INT, S(replications), 0, "1", 1, 10000, 0, "runs",
     "Runs of each point, with independent random streams.", NULL},
    {"seed", SS_KEY_INT64, S(seed), 0, "", 0, 9007199254740991.0, 0, NULL,
     "Seed of every point (default: the scenario's).", NULL},
    {"mode", SS_KEY_ENUM, S(mode), 0, "product", 0, 0, 0, NULL,
     "product: Cartesian product of `axes`; list: the `points` as given.", mode_choices},
    {"axes", SS_KEY_NODE, S(axes), 0, "", 0, 0, 0, NULL,
     "product mode: scenario key -> list of values or {from, to, step|mul}.", NULL},
    {"points", SS_KEY_NODE, S(points), 0, "", 0, 0, 0, NULL,
     "list mode: list of maps scenario key -> value.", NULL},
    {"family", SS_KEY_NODE, S(family), 0, "", 0, 0, 0, NULL,
     "Keys whose values name a configuration family (a curve in plots).", NULL},
    {NULL, 0, 0, 0, NULL, 0, 0, 0, NULL, NULL, NULL}};
#undef S

typedef struct range_cfg {
    double from, to, step, mul;
} range_cfg;
#define G(f) offsetof(range_cfg, f)
static const ss_key range_keys[] = {
    {"from", SS_KEY_DOUBLE, G(from), 0, NULL, 0, 0, SS_KEY_NO_BOUNDS, NULL, "First value.",
     NULL},
    {"to", SS_KEY_DOUBLE, G(to), 0, NULL, 0, 0, SS_KEY_NO_BOUNDS, NULL,
     "Last value (included when the steps land on it).", NULL},
    {"step", SS_KEY_DOUBLE, G(step), 0, "", 0, 1e300, SS_KEY_MIN_EXCL, NULL,
     "Additive step (> 0).", NULL},
    {"mul", SS_KEY_DOUBLE, G(mul), 0, "", 1, 1e300, SS_KEY_MIN_EXCL, NULL,
     "Multiplicative step (> 1).", NULL},
    {NULL, 0, 0, 0, NULL, 0, 0, 0, NULL, NULL, NULL}};
#undef G

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p) memcpy(p, s, n);
    return p;
}

void ss_study_free(ss_study *s)
{
    if (!s) return;
    for (size_t i = 0; i < s->nitems; i++) free(s->items[i].kv);
    if (s->family)
        for (size_t i = 0; i < s->npoints; i++) free(s->family[i]);
    free(s->family);
    free(s->classes);
    free(s->items);
    free(s->start);
    free(s->ov);
    free(s->idx);
    free(s->pline);
    free(s->pcol);
    free(s->scen_name);
    free(s->scen_text);
    ss_calib_cache_free(s->calib_cache);
    ss_doc_free(s->doc);
    free(s);
}

/* ------------------------------------------------------------------ items */

static ss_rc add_item(ss_study *s, size_t *cap, const yaml_node_t *node, const char *key,
                      const char *value, ss_diag *d)
{
    if (s->nitems == *cap) {
        size_t nc = *cap ? 2 * *cap : 64;
        ss_item *p = realloc(s->items, nc * sizeof *p);
        if (!p) return ss_diag_fail(d, SS_ERR_NOMEM, "out of memory");
        s->items = p;
        *cap = nc;
    }
    ss_item *it = &s->items[s->nitems];
    size_t kl = strlen(key), vl = strlen(value);
    it->kv = malloc(kl + vl + 2);
    if (!it->kv) return ss_diag_fail(d, SS_ERR_NOMEM, "out of memory");
    memcpy(it->kv, key, kl);
    it->kv[kl] = '=';
    memcpy(it->kv + kl + 1, value, vl + 1);
    it->keylen = kl;
    ss_node_mark(node, &it->line, &it->col);
    s->nitems++;
    return SS_OK;
}

/* A scenario key as written in the study: a plain, non-empty scalar without '='. */
static ss_rc check_key(ss_doc *doc, const yaml_node_t *kn, const char *section, ss_diag *d)
{
    const char *k = ss_node_scalar(kn);
    if (!k || !k[0])
        return ss_cfg_error(d, SS_ERR_INVALID, doc, kn, section,
                            "expected a scenario key such as replica.max_num_seqs, got %s",
                            k ? "an empty key" : ss_node_kind(kn));
    if (strchr(k, '=') || strlen(k) >= 200)
        return ss_cfg_error(d, SS_ERR_INVALID, doc, kn, section,
                            "'%s' is not a scenario key path", k);
    return SS_OK;
}

/* The value of one override: a non-empty scalar. */
static ss_rc check_value(ss_doc *doc, const yaml_node_t *vn, const char *keypath, ss_diag *d)
{
    const char *v = ss_node_scalar(vn);
    if (!v)
        return ss_cfg_error(d, SS_ERR_INVALID, doc, vn, keypath,
                            "expected a single value, got %s", ss_node_kind(vn));
    if (!v[0] && vn->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
        return ss_cfg_error(d, SS_ERR_INVALID, doc, vn, keypath, "missing value");
    return SS_OK;
}

/* Values from..to of a range, formatted as YAML scalars: integers when every value is an
 * integer, else 12 significant digits (so 0.1 steps print as 0.1, 0.2, 0.3). */
static ss_rc expand_range(ss_study *s, size_t *cap, ss_doc *doc, yaml_node_t *rn,
                          const char *key, const char *kp, size_t *count, ss_diag *d)
{
    range_cfg r = {.step = 0, .mul = 0};
    ss_rc rc = ss_cfg_apply(doc, rn, NULL, kp, range_keys, &r, d);
    if (rc) return rc;
    if ((r.step > 0) == (r.mul > 0))
        return ss_cfg_error(d, SS_ERR_INVALID, doc, rn, kp,
                            "a range needs exactly one of 'step' (additive) or 'mul' "
                            "(multiplicative)");
    if (r.from > r.to)
        return ss_cfg_error(d, SS_ERR_INVALID, doc, rn, kp, "'from' (%g) is above 'to' (%g)",
                            r.from, r.to);
    if (r.mul > 0 && r.from <= 0)
        return ss_cfg_error(d, SS_ERR_INVALID, doc, rn, kp,
                            "a multiplicative range needs 'from' > 0, got %g", r.from);
    double inc = r.step > 0 ? r.step : r.mul;
    int integral = r.from == floor(r.from) && inc == floor(inc) && fabs(r.to) < 9e15;
    double tol = 1e-9 * (fabs(r.to) + (r.step > 0 ? r.step : 0));
    size_t n = 0;
    for (double v = r.from; v <= r.to + tol; n++) {
        if (n == MAX_AXIS_VALUES)
            return ss_cfg_error(d, SS_ERR_INVALID, doc, rn, kp,
                                "the range has more than %d values", MAX_AXIS_VALUES);
        char buf[64];
        if (integral) snprintf(buf, sizeof buf, "%.0f", v);
        else snprintf(buf, sizeof buf, "%.12g", v);
        if ((rc = add_item(s, cap, rn, key, buf, d))) return rc;
        /* from + k * step rather than repeated addition: no drift over long ranges */
        v = r.step > 0 ? r.from + (double)(n + 1) * r.step : v * r.mul;
    }
    *count = n;
    return SS_OK;
}

/* Point index -> item indices, for points whose items were already laid out in start[]. */
static ss_rc alloc_points(ss_study *s, size_t npoints, size_t nref, ss_diag *d)
{
    s->npoints = npoints;
    s->start = calloc(npoints + 1, sizeof *s->start);
    s->idx = calloc(nref ? nref : 1, sizeof *s->idx);
    s->ov = calloc(nref ? nref : 1, sizeof *s->ov);
    s->pline = calloc(npoints, sizeof *s->pline);
    s->pcol = calloc(npoints, sizeof *s->pcol);
    s->family = calloc(npoints, sizeof *s->family);
    if (!s->start || !s->idx || !s->ov || !s->pline || !s->pcol || !s->family)
        return ss_diag_fail(d, SS_ERR_NOMEM, "out of memory");
    return SS_OK;
}

static int is_null_scalar(const yaml_node_t *n)
{
    const char *v = ss_node_scalar(n);
    return v && (!v[0] || !strcmp(v, "~") || !strcmp(v, "null"));
}

static ss_rc parse_axes(ss_study *s, ss_doc *doc, yaml_node_t *axes, size_t *cap, ss_diag *d)
{
    size_t naxes = ss_node_map_len(axes);
    if (!naxes) {
        if (axes && !is_null_scalar(axes) && axes->type != YAML_MAPPING_NODE)
            return ss_cfg_error(d, SS_ERR_INVALID, doc, axes, "study.axes",
                                "expected a mapping of scenario key -> values, got %s",
                                ss_node_kind(axes));
        return ss_cfg_error(d, SS_ERR_INVALID, doc, axes, "study.axes",
                            "product mode needs at least one axis (scenario key -> list of "
                            "values)");
    }
    size_t *first = calloc(naxes, sizeof *first), *len = calloc(naxes, sizeof *len);
    ss_rc rc = SS_OK;
    if (!first || !len) {
        rc = ss_diag_fail(d, SS_ERR_NOMEM, "out of memory");
        goto done;
    }
    size_t npoints = 1;
    for (size_t a = 0; a < naxes; a++) {
        yaml_node_t *kn, *vn;
        ss_node_map_at(doc, axes, a, &kn, &vn);
        if ((rc = check_key(doc, kn, "study.axes", d))) goto done;
        const char *key = ss_node_scalar(kn);
        char kp[300];
        snprintf(kp, sizeof kp, "study.axes.%s", key);
        for (size_t b = 0; b < a; b++) {
            yaml_node_t *k2, *v2;
            ss_node_map_at(doc, axes, b, &k2, &v2);
            if (!strcmp(ss_node_scalar(k2), key)) {
                rc = ss_cfg_error(d, SS_ERR_INVALID, doc, kn, kp, "duplicate axis");
                goto done;
            }
        }
        first[a] = s->nitems;
        if (vn->type == YAML_SEQUENCE_NODE) {
            len[a] = ss_node_seq_len(vn);
            if (!len[a]) {
                rc = ss_cfg_error(d, SS_ERR_INVALID, doc, vn, kp,
                                  "empty axis: give at least one value");
                goto done;
            }
            for (size_t k = 0; k < len[a]; k++) {
                yaml_node_t *it = ss_node_seq_at(doc, vn, k);
                if ((rc = check_value(doc, it, kp, d)) ||
                    (rc = add_item(s, cap, it, key, ss_node_scalar(it), d)))
                    goto done;
            }
        } else if (vn->type == YAML_MAPPING_NODE) {
            if ((rc = expand_range(s, cap, doc, vn, key, kp, &len[a], d))) goto done;
        } else {
            rc = ss_cfg_error(d, SS_ERR_INVALID, doc, vn, kp,
                              "expected a list of values or a range {from, to, step|mul}, "
                              "got %s",
                              is_null_scalar(vn) ? "nothing (empty axis)" : "a single value");
            goto done;
        }
        if (npoints > MAX_POINTS / len[a]) {
            rc = ss_cfg_error(d, SS_ERR_INVALID, doc, axes, "study.axes",
                              "the product has more than %d points", MAX_POINTS);
            goto done;
        }
        npoints *= len[a];
    }
    if ((rc = alloc_points(s, npoints, npoints * naxes, d))) goto done;
    int line, col;
    ss_node_mark(axes, &line, &col);
    for (size_t i = 0; i < npoints; i++) {
        size_t rem = i; /* mixed radix, the last axis varies fastest */
        for (size_t a = naxes; a-- > 0;) {
            s->idx[i * naxes + a] = first[a] + rem % len[a];
            rem /= len[a];
        }
        s->start[i + 1] = (i + 1) * naxes;
        s->pline[i] = line;
        s->pcol[i] = col;
    }
done:
    free(first);
    free(len);
    return rc;
}

static ss_rc parse_points(ss_study *s, ss_doc *doc, yaml_node_t *points, size_t *cap,
                          ss_diag *d)
{
    size_t n = ss_node_seq_len(points);
    if (!n) {
        if (points && points->type != YAML_SEQUENCE_NODE && !is_null_scalar(points))
            return ss_cfg_error(d, SS_ERR_INVALID, doc, points, "study.points",
                                "expected a list of points (maps of scenario key -> value), "
                                "got %s",
                                ss_node_kind(points));
        return ss_cfg_error(d, SS_ERR_INVALID, doc, points, "study.points",
                            "list mode needs at least one point");
    }
    size_t *start = calloc(n + 1, sizeof *start);
    int *pl = calloc(n, sizeof *pl), *pc = calloc(n, sizeof *pc);
    ss_rc rc = SS_OK;
    if (!start || !pl || !pc) {
        rc = ss_diag_fail(d, SS_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *pn = ss_node_seq_at(doc, points, i);
        char kp[64];
        snprintf(kp, sizeof kp, "study.points[%zu]", i);
        size_t m = ss_node_map_len(pn);
        if (!m) {
            rc = ss_cfg_error(d, SS_ERR_INVALID, doc, pn, kp,
                              "expected a non-empty map of scenario key -> value, got %s",
                              pn->type == YAML_MAPPING_NODE ? "an empty map"
                                                            : ss_node_kind(pn));
            goto done;
        }
        ss_node_mark(pn, &pl[i], &pc[i]);
        start[i] = s->nitems;
        for (size_t k = 0; k < m; k++) {
            yaml_node_t *kn, *vn;
            ss_node_map_at(doc, pn, k, &kn, &vn);
            if ((rc = check_key(doc, kn, kp, d))) goto done;
            const char *key = ss_node_scalar(kn);
            char kp2[300];
            snprintf(kp2, sizeof kp2, "%s.%s", kp, key);
            for (size_t j = 0; j < k; j++) {
                yaml_node_t *k2, *v2;
                ss_node_map_at(doc, pn, j, &k2, &v2);
                if (!strcmp(ss_node_scalar(k2), key)) {
                    rc = ss_cfg_error(d, SS_ERR_INVALID, doc, kn, kp2, "duplicate key");
                    goto done;
                }
            }
            if ((rc = check_value(doc, vn, kp2, d)) ||
                (rc = add_item(s, cap, vn, key, ss_node_scalar(vn), d)))
                goto done;
        }
    }
    start[n] = s->nitems;
    if ((rc = alloc_points(s, n, s->nitems, d))) goto done;
    memcpy(s->start, start, (n + 1) * sizeof *start);
    memcpy(s->pline, pl, n * sizeof *pl);
    memcpy(s->pcol, pc, n * sizeof *pc);
    for (size_t k = 0; k < s->nitems; k++) s->idx[k] = k;
done:
    free(start);
    free(pl);
    free(pc);
    return rc;
}

/* ------------------------------------------------------------------ families */

static int item_has_key(const ss_item *it, const char *key)
{
    return strlen(key) == it->keylen && !strncmp(it->kv, key, it->keylen);
}

static ss_rc parse_family(ss_study *s, ss_doc *doc, yaml_node_t *fam, ss_diag *d)
{
    const char *keys[MAX_FAMILY_KEYS];
    size_t nk = 0;
    if (fam && !is_null_scalar(fam)) {
        size_t n = fam->type == YAML_SEQUENCE_NODE ? ss_node_seq_len(fam) : 1;
        if (fam->type == YAML_MAPPING_NODE || n == 0)
            return ss_cfg_error(d, SS_ERR_INVALID, doc, fam, "study.family",
                                "expected a list of the keys the study varies, got %s",
                                fam->type == YAML_MAPPING_NODE ? "a mapping" : "an empty list");
        if (n > MAX_FAMILY_KEYS)
            return ss_cfg_error(d, SS_ERR_INVALID, doc, fam, "study.family",
                                "at most %d family keys", MAX_FAMILY_KEYS);
        for (size_t k = 0; k < n; k++) {
            yaml_node_t *kn = fam->type == YAML_SEQUENCE_NODE ? ss_node_seq_at(doc, fam, k) : fam;
            const char *key = ss_node_scalar(kn);
            if (!key || !key[0])
                return ss_cfg_error(d, SS_ERR_INVALID, doc, kn, "study.family",
                                    "expected a scenario key, got %s", ss_node_kind(kn));
            int found = 0;
            for (size_t j = 0; j < s->nitems && !found; j++)
                found = item_has_key(&s->items[j], key);
            if (!found)
                return ss_cfg_error(d, SS_ERR_INVALID, doc, kn, "study.family",
                                    "'%s' is not a key this study varies (a family is named "
                                    "by the values of varied keys)",
                                    key);
            keys[nk++] = key;
        }
    }
    for (size_t i = 0; i < s->npoints; i++) {
        char buf[512] = "";
        size_t used = 0;
        if (!nk) snprintf(buf, sizeof buf, "all");
        for (size_t k = 0; k < nk; k++) {
            const char *val = "(base)";
            for (size_t j = s->start[i]; j < s->start[i + 1]; j++) {
                const ss_item *it = &s->items[s->idx[j]];
                if (item_has_key(it, keys[k])) val = it->kv + it->keylen + 1;
            }
            const char *shortk = strrchr(keys[k], '.');
            shortk = shortk ? shortk + 1 : keys[k];
            int w = snprintf(buf + used, sizeof buf - used, "%s%s=%s", k ? ", " : "", shortk,
                             val);
            if (w < 0 || (size_t)w >= sizeof buf - used) break;
            used += (size_t)w;
        }
        if (!(s->family[i] = dup_str(buf))) return ss_diag_fail(d, SS_ERR_NOMEM, "out of memory");
    }
    return SS_OK;
}

/* ------------------------------------------------------------------ scenario */

static ss_rc read_text(const char *path, char **out, char *why, size_t why_n)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(why, why_n, "%s", strerror(errno));
        return SS_ERR_IO;
    }
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (n + 1 >= cap) {
            char *p = realloc(buf, cap * 2);
            if (!p) break;
            buf = p;
            cap *= 2;
        }
        size_t r = fread(buf + n, 1, cap - n - 1, f);
        n += r;
        if (r == 0) break;
    }
    int err = ferror(f);
    fclose(f);
    if (!buf || err) {
        free(buf);
        snprintf(why, why_n, "%s", buf ? "read error" : "out of memory");
        return buf ? SS_ERR_IO : SS_ERR_NOMEM;
    }
    buf[n] = '\0';
    *out = buf;
    return SS_OK;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !strcmp(s + a - b, suffix);
}

static ss_rc resolve_scenario(ss_study *s, ss_doc *doc, yaml_node_t *node,
                              const char *base_dir, ss_diag *d)
{
    const char *ref = s->scenario_ref;
    const ss_embedded_file *f = NULL;
    if (!strchr(ref, '/') && !ends_with(ref, ".yaml") && !ends_with(ref, ".yml"))
        f = ss_embed_find(ss_scenario_zoo, ref);
    char path[4096];
    if (f) {
        /* by its source path, so that files it names (a trace) resolve from anywhere */
        snprintf(path, sizeof path, "%s/%s", SS_SOURCE_DIR, f->path);
        s->scen_name = dup_str(path);
        s->scen_text = dup_str(f->text);
        if (!s->scen_name || !s->scen_text) return ss_diag_fail(d, SS_ERR_NOMEM, "out of memory");
        return SS_OK;
    }
    if (ref[0] == '/' || !base_dir || !strcmp(base_dir, "."))
        snprintf(path, sizeof path, "%s", ref);
    else snprintf(path, sizeof path, "%s/%s", base_dir, ref);
    char why[256];
    ss_rc rc = read_text(path, &s->scen_text, why, sizeof why);
    if (rc) {
        char names[512] = "";
        size_t used = 0;
        for (const ss_embedded_file *e = ss_scenario_zoo; e->name && used < sizeof names; e++) {
            int w = snprintf(names + used, sizeof names - used, "%s%s", used ? ", " : "",
                             e->name);
            if (w < 0) break;
            used += (size_t)w;
        }
        return ss_cfg_error(d, rc, doc, node, "study.scenario",
                            "'%s' is neither a built-in scenario (%s) nor a readable file "
                            "(%s: %s)",
                            ref, names, path, why);
    }
    if (!(s->scen_name = dup_str(path))) return ss_diag_fail(d, SS_ERR_NOMEM, "out of memory");
    return SS_OK;
}

ss_rc ss_study_load_point_scenario(const ss_study *s, size_t i, const ss_overrides *extra,
                                   ss_scenario **out, ss_diag *d)
{
    *out = NULL;
    if (i >= s->npoints)
        return ss_diag_fail(d, SS_ERR_INVALID, "point %zu of a study with %zu points", i,
                            s->npoints);
    size_t n = s->start[i + 1] - s->start[i], ne = extra ? extra->n : 0;
    const char **items = malloc((n + ne + 1) * sizeof *items);
    if (!items) return ss_diag_fail(d, SS_ERR_NOMEM, "out of memory");
    memcpy(items, s->ov + s->start[i], n * sizeof *items);
    for (size_t k = 0; k < ne; k++) items[n + k] = extra->items[k];
    ss_overrides ov = {.items = items, .n = n + ne};
    ss_rc rc = ss_scenario_load_string_cached(s->scen_name, s->scen_text, &ov, s->calib_cache,
                                              out, d);
    free(items);
    return rc;
}

/* Report a scenario error of point i at the study line that set the offending key. */
ss_rc ss_study_point_error(const ss_study *s, size_t i, const ss_diag *pd, ss_diag *d)
{
    char desc[400] = "";
    size_t used = 0;
    int line = s->pline[i], col = s->pcol[i];
    for (size_t j = s->start[i]; j < s->start[i + 1]; j++) {
        const ss_item *it = &s->items[s->idx[j]];
        if (used < sizeof desc) {
            int w = snprintf(desc + used, sizeof desc - used, "%s%s", used ? ", " : "", it->kv);
            if (w > 0) used += (size_t)w;
        }
        if (pd->key[0] && item_has_key(it, pd->key)) {
            line = it->line;
            col = it->col;
        }
    }
    char inner[sizeof pd->msg];
    if (!strcmp(pd->file, "--set")) snprintf(inner, sizeof inner, "%s", pd->msg);
    else ss_diag_format(pd, inner, sizeof inner);
    return ss_diag_set(d, pd->rc, ss_doc_name(s->doc), line, col,
                       pd->key[0] ? pd->key : NULL, "point %zu (%.400s): %.600s", i, desc,
                       inner);
}

/* ------------------------------------------------------------------ loading */

/* Add the request classes of a point's scenario to s->classes (issue 6: sweeps record the
 * per-class metrics of summary.json's "classes" section, which a run has when it has more
 * than one class or an SLO). */
static ss_rc collect_classes(ss_study *s, const ss_scenario *sc, ss_diag *d)
{
    size_t n = ss_workload_nclasses(&sc->workload);
    bool any_slo = false;
    for (size_t c = 0; c < n; c++) {
        ss_wclass w;
        ss_workload_class(&sc->workload, c, &w);
        any_slo = any_slo || ss_slo_any(&w.slo);
    }
    if (n < 2 && !any_slo) return SS_OK;
    for (size_t c = 0; c < n; c++) {
        ss_wclass w;
        ss_workload_class(&sc->workload, c, &w);
        size_t k = 0;
        while (k < s->nclasses && strcmp(s->classes[k], w.name)) k++;
        if (k < s->nclasses) continue;
        char (*grown)[32] = realloc(s->classes, (s->nclasses + 1) * sizeof *s->classes);
        if (!grown) return ss_diag_fail(d, SS_ERR_NOMEM, "out of memory");
        s->classes = grown;
        snprintf(s->classes[s->nclasses++], sizeof s->classes[0], "%s", w.name);
    }
    return SS_OK;
}

size_t ss_study_nclasses(const ss_study *s) { return s->nclasses; }
const char *ss_study_class_name(const ss_study *s, size_t i)
{
    return i < s->nclasses ? s->classes[i] : NULL;
}

static ss_rc parse(ss_study *s, const char *base_dir, ss_diag *d)
{
    ss_doc *doc = s->doc;
    yaml_node_t *root = ss_doc_root(doc);
    root_cfg rc_ = {0};
    ss_rc rc;
    if (!root)
        return ss_diag_set(d, SS_ERR_INVALID, ss_doc_name(doc), 0, 0, "study",
                           "empty study file (expected a `study:` section)");
    if ((rc = ss_cfg_apply(doc, root, NULL, "", root_keys, &rc_, d))) return rc;
    study_cfg c = {.seed = -1};
    if ((rc = ss_cfg_apply(doc, rc_.study, root, "study", study_keys, &c, d))) return rc;
    if (!c.scenario[0])
        return ss_cfg_error(d, SS_ERR_INVALID, doc, ss_node_get(doc, rc_.study, "scenario"),
                            "study.scenario", "empty scenario name");
    snprintf(s->name, sizeof s->name, "%s", c.name);
    snprintf(s->scenario_ref, sizeof s->scenario_ref, "%s", c.scenario);
    s->replications = c.replications;
    s->seed = c.seed;
    size_t cap = 0;
    if (c.mode == MODE_PRODUCT) {
        if (c.points && !is_null_scalar(c.points))
            return ss_cfg_error(d, SS_ERR_INVALID, doc, c.points, "study.points",
                                "`points` belongs to list mode; this study is in product mode "
                                "(set mode: list, or use axes)");
        if (!c.axes)
            return ss_cfg_error(d, SS_ERR_INVALID, doc, rc_.study, "study.axes",
                                "missing: product mode needs axes (scenario key -> values)");
        rc = parse_axes(s, doc, c.axes, &cap, d);
    } else {
        if (c.axes && !is_null_scalar(c.axes))
            return ss_cfg_error(d, SS_ERR_INVALID, doc, c.axes, "study.axes",
                                "`axes` belongs to product mode; this study is in list mode");
        if (!c.points)
            return ss_cfg_error(d, SS_ERR_INVALID, doc, rc_.study, "study.points",
                                "missing: list mode needs points (a list of maps)");
        rc = parse_points(s, doc, c.points, &cap, d);
    }
    if (rc) return rc;
    for (size_t k = 0; k < s->start[s->npoints]; k++) s->ov[k] = s->items[s->idx[k]].kv;
    if ((rc = parse_family(s, doc, c.family, d))) return rc;
    if ((rc = resolve_scenario(s, doc, ss_node_get(doc, rc_.study, "scenario"), base_dir, d)))
        return rc;
    /* The base scenario alone first: its own errors are reported as they are. */
    ss_scenario *sc = NULL;
    if ((rc = ss_scenario_load_string_cached(s->scen_name, s->scen_text, NULL, s->calib_cache,
                                             &sc, d)))
        return rc;
    ss_scenario_free(sc);
    for (size_t i = 0; !s->lenient && i < s->npoints; i++) {
        ss_diag pd;
        ss_diag_clear(&pd);
        if ((rc = ss_study_load_point_scenario(s, i, NULL, &sc, &pd)))
            return ss_study_point_error(s, i, &pd, d);
        rc = collect_classes(s, sc, d);
        ss_scenario_free(sc);
        if (rc) return rc;
    }
    return SS_OK;
}

static ss_rc finish(ss_doc *doc, ss_rc rc, const char *base_dir, int lenient, ss_study **out,
                    ss_diag *d)
{
    *out = NULL;
    if (rc) return rc;
    ss_study *s = calloc(1, sizeof *s);
    if (!s) {
        ss_doc_free(doc);
        return ss_diag_fail(d, SS_ERR_NOMEM, "out of memory");
    }
    s->doc = doc;
    s->lenient = lenient;
    if (!(s->calib_cache = ss_calib_cache_new())) {
        ss_study_free(s);
        return ss_diag_fail(d, SS_ERR_NOMEM, "out of memory");
    }
    if ((rc = parse(s, base_dir ? base_dir : ss_doc_dir(doc), d))) {
        ss_study_free(s);
        return rc;
    }
    *out = s;
    return SS_OK;
}

ss_rc ss_study_load(const char *path, ss_study **out, ss_diag *d)
{
    ss_doc *doc = NULL;
    ss_rc rc = ss_doc_load_file(path, &doc, d);
    return finish(doc, rc, NULL, 0, out, d);
}

ss_rc ss_study_load_lenient(const char *path, ss_study **out, ss_diag *d)
{
    ss_doc *doc = NULL;
    ss_rc rc = ss_doc_load_file(path, &doc, d);
    return finish(doc, rc, NULL, 1, out, d);
}

ss_rc ss_study_load_string(const char *name, const char *text, const char *base_dir,
                           ss_study **out, ss_diag *d)
{
    ss_doc *doc = NULL;
    ss_rc rc = ss_doc_load_string(name, text, strlen(text), &doc, d);
    return finish(doc, rc, base_dir, 0, out, d);
}

/* ------------------------------------------------------------------ accessors */

const char *ss_study_name(const ss_study *s) { return s->name; }
size_t ss_study_npoints(const ss_study *s) { return s->npoints; }
int ss_study_replications(const ss_study *s) { return s->replications; }
ss_doc *ss_study_doc(const ss_study *s) { return s->doc; }
const char *ss_study_scenario_ref(const ss_study *s) { return s->scenario_ref; }
const char *ss_study_scenario_text(const ss_study *s) { return s->scen_text; }

void ss_study_point(const ss_study *s, size_t i, ss_overrides *out)
{
    if (i >= s->npoints) {
        out->items = NULL;
        out->n = 0;
        return;
    }
    out->items = s->ov + s->start[i];
    out->n = s->start[i + 1] - s->start[i];
}

const char *ss_study_family(const ss_study *s, size_t i)
{
    return i < s->npoints ? s->family[i] : "";
}

uint64_t ss_study_seed(const ss_study *s, const ss_scenario *point_scenario)
{
    return s->seed >= 0 ? (uint64_t)s->seed : point_scenario->seed;
}

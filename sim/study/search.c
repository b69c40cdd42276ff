/* Configuration search over a study's points; see search.h. */
#include "sim/study/search.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "sim/study/capacity_eval.h"

/* ------------------------------------------------------------------ the `search:` section */

typedef struct search_raw {
    char load_key[256];
    double target, lo, hi, tol, confidence;
    int max_reps, top, jobs, on_unsure;
} search_raw;

static const char *const unsure_choices[] = {"stop", "below", NULL};

#define SR(f) offsetof(search_raw, f)
static const ss_key search_keys[] = {
    {.name = "target_load", .type = SS_KEY_DOUBLE, .offset = SR(target), .def = NULL, .min = 0,
     .max = 1e9, .flags = SS_KEY_MIN_EXCL, .unit = "load key's unit",
     .help = "Load the deployment must carry (req/s for a rate); instances = ceil(target / "
             "capacity)."},
    {.name = "load_key", .type = SS_KEY_STRING, .offset = SR(load_key), .size = 256,
     .def = "workload.arrival.rate", .flags = SS_KEY_NO_BOUNDS,
     .help = "Scenario key the capacity search varies; a key ending in `clients` takes "
             "integers."},
    {.name = "lo", .type = SS_KEY_DOUBLE, .offset = SR(lo), .def = "0.5", .min = 0, .max = 1e9,
     .flags = SS_KEY_MIN_EXCL, .help = "Lowest load tried; must meet the SLO."},
    {.name = "hi", .type = SS_KEY_DOUBLE, .offset = SR(hi), .def = "8", .min = 0, .max = 1e9,
     .flags = SS_KEY_MIN_EXCL, .help = "First upper load tried; doubled while the SLO holds."},
    {.name = "tol", .type = SS_KEY_DOUBLE, .offset = SR(tol), .def = "0.05", .min = 0, .max = 1,
     .flags = SS_KEY_MIN_EXCL | SS_KEY_MAX_EXCL, .help = "Relative bracket width to stop at."},
    {.name = "confidence", .type = SS_KEY_DOUBLE, .offset = SR(confidence), .def = "0.95",
     .min = 0, .max = 1, .flags = SS_KEY_MIN_EXCL | SS_KEY_MAX_EXCL,
     .help = "Confidence of the t-interval over replications."},
    {.name = "max_replications", .type = SS_KEY_INT, .offset = SR(max_reps), .def = "0",
     .min = 0, .max = 64,
     .help = "Replications allowed where the interval straddles the SLO (0: 3 x "
             "study.replications)."},
    {.name = "on_unsure", .type = SS_KEY_ENUM, .offset = SR(on_unsure), .def = "stop",
     .help = "A load whose interval still straddles the SLO at max_replications: stop and "
             "report the bracket, or count it as not passing and bisect below it.",
     .choices = unsure_choices},
    {.name = "top", .type = SS_KEY_INT, .offset = SR(top), .def = "10", .min = 1, .max = 100000,
     .help = "Configurations printed in the ranking."},
    {.name = "jobs", .type = SS_KEY_INT, .offset = SR(jobs), .def = "2", .min = 1, .max = 64,
     .help = "Worker processes for the replications (results do not depend on it)."},
    {.name = NULL},
};

ss_rc ss_search_parse(ss_study *st, ss_search_cfg *out, ss_diag *d)
{
    memset(out, 0, sizeof *out);
    ss_doc *doc = ss_study_doc(st);
    yaml_node_t *root = ss_doc_root(doc);
    yaml_node_t *slo = ss_node_get(doc, root, "slo");
    if (!slo)
        return ss_cfg_error(d, SS_ERR_INVALID, doc, root, "slo",
                            "missing section: a search needs an SLO (e.g. slo: {ttft_p99: 2s, "
                            "tpot_p99: 100ms})");
    ss_rc rc = ss_slo_parse(doc, slo, "slo", &out->slo, d);
    if (rc) return rc;
    search_raw r;
    memset(&r, 0, sizeof r);
    yaml_node_t *sm = ss_node_get(doc, root, "search");
    if (!sm)
        return ss_cfg_error(d, SS_ERR_INVALID, doc, root, "search",
                            "missing section: a search needs at least search.target_load");
    if ((rc = ss_cfg_apply(doc, sm, root, "search", search_keys, &r, d))) return rc;
    if (!(r.hi > r.lo))
        return ss_cfg_error(d, SS_ERR_INVALID, doc, ss_node_get(doc, sm, "hi"), "search.hi",
                            "must be above search.lo (%g)", r.lo);
    if ((rc = ss_tco_parse(doc, ss_node_get(doc, root, "cost"), root, "cost", &out->cost, d)))
        return rc;
    snprintf(out->load_key, sizeof out->load_key, "%s", r.load_key);
    out->target = r.target;
    out->top = r.top;
    out->jobs = r.jobs;
    ss_cap_opts_default(&out->cap);
    out->cap.integer = strstr(r.load_key, "clients") != NULL;
    out->cap.lo = out->cap.integer ? ceil(r.lo) : r.lo;
    out->cap.hi = out->cap.integer ? floor(r.hi) : r.hi;
    out->cap.tol = r.tol;
    out->cap.on_unsure = r.on_unsure == 1 ? SS_CAP_BELOW : SS_CAP_STOP;
    out->cap.confidence = r.confidence;
    out->cap.reps = ss_study_replications(st);
    out->cap.max_reps = r.max_reps ? r.max_reps : 3 * out->cap.reps;
    if (out->cap.max_reps < out->cap.reps)
        return ss_cfg_error(d, SS_ERR_INVALID, doc, ss_node_get(doc, sm, "max_replications"),
                            "search.max_replications",
                            "must be at least study.replications (%d)", out->cap.reps);
    return SS_OK;
}

/* ------------------------------------------------------------------ running */

typedef struct point_ctx {
    const ss_study *st;
    size_t i;
} point_ctx;

static ss_rc load_point(void *ctx, const ss_overrides *extra, ss_scenario **out, ss_diag *d)
{
    point_ctx *p = ctx;
    ss_rc rc = ss_study_load_point_scenario(p->st, p->i, extra, out, d);
    if (!rc) (*out)->seed = ss_study_seed(p->st, *out);
    return rc;
}

ss_rc ss_search_run(const ss_study *st, const ss_search_cfg *cfg, ss_cap_report *reports,
                    FILE *progress, ss_diag *d)
{
    size_t n = ss_study_npoints(st), loaded = 0;
    ss_diag first;
    ss_diag_clear(&first);
    for (size_t i = 0; i < n; i++) {
        ss_cap_report *r = &reports[i];
        memset(r, 0, sizeof *r);
        r->target = cfg->target;
        ss_overrides ov;
        ss_study_point(st, i, &ov);
        for (size_t k = 0; k < ov.n; k++) {
            size_t len = strlen(r->label);
            snprintf(r->label + len, sizeof r->label - len, "%s%s", k ? " " : "", ov.items[k]);
        }
        /* the configuration at the lowest load: one that does not load is infeasible */
        point_ctx pc = {.st = st, .i = i};
        char item[512];
        ss_cap_format_override(cfg->load_key, cfg->cap.lo, cfg->cap.integer, item, sizeof item);
        const char *items[1] = {item};
        ss_overrides extra = {.items = items, .n = 1};
        ss_scenario *sc = NULL;
        ss_diag pd, ld;
        ss_diag_clear(&pd);
        ss_diag_clear(&ld);
        if (load_point(&pc, &extra, &sc, &pd)) {
            ss_study_point_error(st, i, &pd, &ld);
            ss_diag_format(&ld, r->reason, sizeof r->reason);
            if (first.rc == SS_OK) first = ld;
            r->cap.status = SS_CAP_INFEASIBLE;
            r->cap.binding = r->cap.cap_step = r->cap.hi_step = -1;
            if (progress)
                fprintf(progress, "  [%zu/%zu] %s: does not load: %s\n", i + 1, n, r->label,
                        pd.msg);
            continue;
        }
        loaded++;
        ss_cap_report_config(r, sc);
        ss_cap_sim sim = {.load = load_point, .load_ctx = &pc, .key = cfg->load_key,
                          .integer = cfg->cap.integer, .slo = &cfg->slo, .jobs = cfg->jobs};
        ss_rc rc = ss_cap_search(&cfg->slo, &cfg->cap, ss_cap_sim_eval, &sim, &r->cap, d);
        if (!rc) ss_cap_report_cost(r, &cfg->slo, &sc->pools[0].hw, &cfg->cost);
        ss_scenario_free(sc);
        if (rc) return rc;
        if (progress) {
            if (!r->feasible)
                fprintf(progress, "  [%zu/%zu] %s: infeasible: %s\n", i + 1, n, r->label,
                        r->reason);
            else
                fprintf(progress, "  [%zu/%zu] %s: capacity %.4g (%s, [%.4g, %.4g]), %d "
                                  "instance%s, %.4f $/M output tok\n",
                        i + 1, n, r->label, r->cap.capacity, ss_cap_status_name(r->cap.status),
                        r->cap.lo, r->cap.hi, r->instances, r->instances == 1 ? "" : "s",
                        r->priced ? r->tco.usd_per_mtok_output : NAN);
            fflush(progress);
        }
    }
    if (n > 0 && loaded == 0) { /* every point failing to load is a mistake, not a finding */
        if (d && d->rc == SS_OK) *d = first;
        return first.rc ? first.rc : SS_ERR_INVALID;
    }
    return SS_OK;
}

/* ------------------------------------------------------------------ ranking */

size_t ss_search_rank(const ss_cap_report *r, size_t n, const int *group, int g,
                      size_t *order)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (r[i].feasible && r[i].priced && (!group || group[i] == g)) order[m++] = i;
    /* insertion sort: stable, n is small (configurations, not requests) */
    for (size_t a = 1; a < m; a++) {
        size_t x = order[a], b = a;
        while (b > 0 && r[order[b - 1]].tco.usd_per_mtok_output > r[x].tco.usd_per_mtok_output) {
            order[b] = order[b - 1];
            b--;
        }
        order[b] = x;
    }
    return m;
}

void ss_search_pareto(const ss_cap_report *r, size_t n, const int *group, int *on_front)
{
    for (size_t i = 0; i < n; i++) {
        on_front[i] = r[i].feasible && r[i].priced;
        for (size_t j = 0; on_front[i] && j < n; j++) {
            if (j == i || !r[j].feasible || !r[j].priced) continue;
            if (group && group[j] != group[i]) continue;
            double ci = r[i].tco.usd_per_mtok_output, cj = r[j].tco.usd_per_mtok_output;
            double li = r[i].latency, lj = r[j].latency;
            if (cj <= ci && lj <= li && (cj < ci || lj < li)) on_front[i] = 0;
        }
    }
}

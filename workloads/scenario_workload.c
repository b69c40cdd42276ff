/* The `workload:` section of a scenario: its key tables, the request sources (arrival
 * process + lengths, trace, empirical length table), request classes, the MLPerf scenario
 * and explicit request lists, loaded into ss_scenario.workload (scenario.h), and its part of
 * the scenario reference. scenario.c loads the rest and calls ss_scen_load_workload. */
#include "workloads/scenario.h"
#include "workloads/scenario_int.h"
#include "workloads/trace.h"

#include <stdlib.h>
#include <string.h>

/* ================================================================== key tables */

/* What one source of requests needs: the single-source form's keys and each class's. */
typedef struct source_cfg {
    yaml_node_t *arrival, *prompt, *output, *lengths, *slo;
    char trace[1024];
    int64_t num_requests;
    ss_time_ns duration;
    int priority;
} source_cfg;

typedef struct workload_cfg {
    source_cfg s;
    yaml_node_t *requests, *classes, *mlperf;
    ss_time_ns warmup, cutoff;
} workload_cfg;

#define SOURCE_ROWS(T, F)                                                                      \
    {"arrival", SS_KEY_NODE, offsetof(T, F.arrival), 0, "", 0, 0, 0, NULL,                     \
     "Arrival process: {process: NAME, ...its keys} (`servesim list arrivals`). Required "      \
     "unless `trace` (or `requests`, `classes`, `mlperf`) is given.", NULL},                  \
    {"trace", SS_KEY_STRING, offsetof(T, F.trace), 1024, "", 0, 0, 0, NULL,                    \
     "Replay a trace file: arrivals and lengths from it (short for arrival: {process: "         \
     "trace, file: FILE}; see docs/traces.md).", NULL},                                       \
    {"lengths", SS_KEY_NODE, offsetof(T, F.lengths), 0, "", 0, 0, 0, NULL,                     \
     "Empirical lengths: {file: F, format: auto, lenient: false}; each request draws one "      \
     "observed (prompt, output) pair, keeping the pairing. Instead of prompt_tokens and "       \
     "output_tokens.", NULL},                                                                 \
    {"num_requests", SS_KEY_INT64, offsetof(T, F.num_requests), 0, "0", 0, 1e12, 0,            \
     "requests", "Requests to issue; 0 = no limit (then `duration` must be set).", NULL},     \
    {"duration", SS_KEY_DURATION, offsetof(T, F.duration), 0, "0", 0, 1e9, 0, "s",             \
     "No request arrives after this simulated time; 0 = no limit.", NULL},                    \
    {"prompt_tokens", SS_KEY_NODE, offsetof(T, F.prompt), 0, "", 0, 0, 0, "tokens",            \
     "Prompt length: an integer, or {dist: NAME, ...} with NAME one of fixed, uniform, "        \
     "normal, lognormal, zipf. Required with `arrival`.", NULL},                               \
    {"output_tokens", SS_KEY_NODE, offsetof(T, F.output), 0, "", 0, 0, 0, "tokens",            \
     "Output length, same forms as prompt_tokens. Required with `arrival`.", NULL},           \
    {"priority", SS_KEY_INT, offsetof(T, F.priority), 0, "0", -1e6, 1e6, 0, NULL,              \
     "Priority of its requests (lower is served first under replica.priority: priority).",     \
     NULL},                                                                                    \
    {"slo", SS_KEY_NODE, offsetof(T, F.slo), 0, "", 0, 0, 0, NULL,                             \
     "Per-request targets {ttft, tpot, e2e} (below); SLO attainment and goodput are reported " \
     "against them.", NULL}

#define W(f) offsetof(workload_cfg, f)
static const ss_key workload_keys[] = {
    SOURCE_ROWS(workload_cfg, s),
    {"requests", SS_KEY_NODE, W(requests), 0, "", 0, 0, 0, NULL,
     "An explicit list of requests instead of arrival + lengths: each item {at, "
     "prompt_tokens, output_tokens, priority} (below).", NULL},
    {"classes", SS_KEY_NODE, W(classes), 0, "", 0, 0, 0, NULL,
     "A list of request classes, each with its own name, arrival, lengths, priority and slo "
     "(below), instead of the single source above; metrics are reported per class.", NULL},
    {"mlperf", SS_KEY_NODE, W(mlperf), 0, "", 0, 0, 0, NULL,
     "Run an MLPerf LoadGen scenario: {scenario, benchmark, target_qps, ...} (below; "
     "docs/mlperf.md). It sets the arrivals; lengths come from prompt_tokens/output_tokens "
     "or lengths.", NULL},
    {"warmup", SS_KEY_DURATION, W(warmup), 0, "0", 0, 1e9, 0, "s",
     "Requests arriving before this time are simulated and recorded but left out of the "
     "metrics (warm-up); the summary says how many.", NULL},
    {"cutoff", SS_KEY_DURATION, W(cutoff), 0, "0", 0, 1e9, 0, "s",
     "Requests arriving after this time are left out of the metrics (cool-down); 0 = none.",
     NULL},
    END_ROW};
#undef W

typedef struct class_cfg {
    char name[32];
    source_cfg s;
} class_cfg;
static const ss_key class_keys[] = {
    {"name", SS_KEY_STRING, offsetof(class_cfg, name), 32, NULL, 0, 0, 0, NULL,
     "Class name (letters, digits, `_`, `-`, `.`; unique): names its metrics and its random "
     "streams.", NULL},
    SOURCE_ROWS(class_cfg, s),
    END_ROW};

#define S(f) offsetof(ss_slo, f)
static const ss_key slo_keys[] = {
    {"ttft", SS_KEY_DURATION, S(ttft), 0, "", 0, 1e6, SS_KEY_MIN_EXCL, "s",
     "Time-to-first-token target of each request.", NULL},
    {"tpot", SS_KEY_DURATION, S(tpot), 0, "", 0, 1e6, SS_KEY_MIN_EXCL, "s",
     "Time-per-output-token target of each request (one-token outputs meet it).", NULL},
    {"e2e", SS_KEY_DURATION, S(e2e), 0, "", 0, 1e9, SS_KEY_MIN_EXCL, "s",
     "End-to-end latency target of each request.", NULL},
    END_ROW};
#undef S

typedef struct lengths_cfg {
    char file[1024];
    char format[16];
    bool lenient;
} lengths_cfg;
#define L(f) offsetof(lengths_cfg, f)
static const ss_key lengths_keys[] = {
    {"file", SS_KEY_STRING, L(file), 1024, NULL, 0, 0, 0, NULL,
     "File of observed lengths (relative to the scenario): a length-only table, or any trace.",
     NULL},
    {"format", SS_KEY_STRING, L(format), 16, "auto", 0, 0, 0, NULL,
     "auto, lengths, native, azure or mooncake.", NULL},
    {"lenient", SS_KEY_BOOL, L(lenient), 0, "false", 0, 0, 0, NULL,
     "Skip malformed rows (counted) instead of stopping with an error.", NULL},
    END_ROW};
#undef L

#define E(f) offsetof(ss_explicit_req, f)
static const ss_key explicit_keys[] = {
    {"at", SS_KEY_DURATION, E(at), 0, NULL, 0, 1e9, 0, "s",
     "Arrival time; items must be in non-decreasing order.", NULL},
    {"prompt_tokens", SS_KEY_INT64, E(prompt_tokens), 0, NULL, 1, 1e8, 0, "tokens", "Prompt length.", NULL},
    {"output_tokens", SS_KEY_INT64, E(output_tokens), 0, NULL, 1, 1e8, 0, "tokens", "Output length.", NULL},
    {"priority", SS_KEY_INT, E(priority), 0, "0", -1e6, 1e6, 0, NULL,
     "Priority (lower is served first under replica.priority: priority).", NULL},
    END_ROW};
#undef E

/* ================================================================== loading */

/* The first key of the workload's generated or traced source that is set, for the modes that
 * exclude them: an explicit `requests` list (also excludes `duration` and `classes`) and
 * `classes` (each class has its own); NULL when none is set. */
static const char *other_source_key(const workload_cfg *wc, bool explicit_list)
{
    const source_cfg *c = &wc->s;
    return c->arrival ? "arrival" : c->trace[0] ? "trace"
         : c->lengths ? "lengths" : c->prompt ? "prompt_tokens"
         : c->output ? "output_tokens" : c->num_requests ? "num_requests"
         : explicit_list && c->duration ? "duration" : c->priority ? "priority"
         : explicit_list && wc->classes ? "classes" : wc->mlperf ? "mlperf" : NULL;
}

/* workload.KEY cannot be given together with the mode being loaded (`why`). */
static ss_rc combined_error(ss_doc *doc, yaml_node_t *node, const char *key, const char *why,
                            ss_diag *d)
{
    char kp[64];
    snprintf(kp, sizeof kp, "workload.%s", key);
    return ss_cfg_error(d, SS_ERR_INVALID, doc, ss_node_get(doc, node, key), kp, why);
}

static ss_rc load_explicit(ss_scenario *sc, const workload_cfg *wc, yaml_node_t *node, ss_diag *d)
{
    ss_doc *doc = sc->doc;
    ss_workload *w = &sc->workload;
    const char *other = other_source_key(wc, true);
    if (other)
        return combined_error(doc, node, other,
                              "cannot be combined with an explicit `requests` list", d);
    if (wc->requests->type != YAML_SEQUENCE_NODE || !ss_node_seq_len(wc->requests))
        return ss_cfg_error(d, SS_ERR_INVALID, doc, wc->requests, "workload.requests",
                            "expected a non-empty list of {at, prompt_tokens, output_tokens}");
    size_t n = ss_node_seq_len(wc->requests);
    w->requests = calloc(n, sizeof *w->requests);
    if (!w->requests) return ss_diag_fail(d, SS_ERR_NOMEM, "out of memory");
    w->nrequests = n;
    w->num_requests = (int64_t)n;
    for (size_t i = 0; i < n; i++) {
        char path[64];
        snprintf(path, sizeof path, "workload.requests[%zu]", i);
        yaml_node_t *it = ss_node_seq_at(doc, wc->requests, i);
        ss_rc rc = ss_cfg_apply(doc, it, wc->requests, path, explicit_keys, &w->requests[i], d);
        if (rc) return rc;
        if (i && w->requests[i].at < w->requests[i - 1].at)
            return ss_cfg_error(d, SS_ERR_INVALID, doc, ss_node_get(doc, it, "at"), path,
                                "arrival times must not decrease");
    }
    return SS_OK;
}

/* `path` is the key path of the source ("workload" or "workload.classes[i]"). */
static ss_rc load_length_table(ss_scenario *sc, yaml_node_t *node, const char *path_,
                               ss_len_table *t, ss_diag *d)
{
    ss_doc *doc = sc->doc;
    lengths_cfg lc;
    memset(&lc, 0, sizeof lc);
    char kp[128];
    snprintf(kp, sizeof kp, "%s.lengths", path_);
    ss_rc rc = ss_cfg_apply(doc, node, NULL, kp, lengths_keys, &lc, d);
    if (rc) return rc;
    int fmt = -1;
    snprintf(kp, sizeof kp, "%s.lengths.format", path_);
    if (strcmp(lc.format, "auto") && (fmt = ss_trace_format_from_name(lc.format)) < 0)
        return ss_cfg_error(d, SS_ERR_INVALID, doc, ss_node_get(doc, node, "format"), kp,
                            "unknown format '%s' (valid: auto, lengths, native, azure, mooncake)",
                            lc.format);
    char path[2048];
    if (lc.file[0] == '/' || !strcmp(ss_doc_dir(doc), "."))
        snprintf(path, sizeof path, "%s", lc.file);
    else
        snprintf(path, sizeof path, "%s/%s", ss_doc_dir(doc), lc.file);
    ss_trace_opts opts = ss_trace_opts_defaults();
    opts.lenient = lc.lenient;
    opts.require_sorted = 0;
    ss_trace *tr;
    if ((rc = ss_trace_open(path, fmt, &opts, &tr, d))) return rc;
    size_t cap = 0;
    ss_trace_row row;
    int got;
    while ((got = ss_trace_next(tr, &row, d)) > 0) {
        if (t->n == cap) {
            cap = cap ? cap * 2 : 4096;
            uint32_t *p = realloc(t->prompt, cap * sizeof *p);
            if (p) t->prompt = p;
            uint32_t *o = p ? realloc(t->output, cap * sizeof *o) : NULL;
            if (o) t->output = o;
            if (!p || !o) {
                ss_trace_close(tr);
                return ss_diag_fail(d, SS_ERR_NOMEM, "out of memory reading %s", path);
            }
        }
        t->prompt[t->n] = row.prompt_tokens;
        t->output[t->n] = row.output_tokens;
        t->n++;
    }
    t->skipped = ss_trace_skipped(tr);
    ss_trace_close(tr);
    if (got < 0) return (ss_rc)got;
    if (!t->n && t->skipped)
        return ss_diag_set(d, SS_ERR_INVALID, path, 0, 0, NULL,
                           "no usable rows: all %llu rows malformed (skipped)",
                           (unsigned long long)t->skipped);
    if (!t->n) return ss_diag_set(d, SS_ERR_INVALID, path, 0, 0, NULL, "no rows");
    return SS_OK;
}

static ss_rc load_slo(ss_scenario *sc, yaml_node_t *node, yaml_node_t *parent, const char *path_,
                      ss_slo *out, ss_diag *d)
{
    char kp[128];
    snprintf(kp, sizeof kp, "%s.slo", path_);
    ss_slo slo = {0, 0, 0};
    ss_rc rc = ss_cfg_apply(sc->doc, node, parent, kp, slo_keys, &slo, d);
    if (rc) return rc;
    if (!ss_slo_any(&slo))
        return ss_cfg_error(d, SS_ERR_INVALID, sc->doc, node, kp,
                            "give at least one target: ttft, tpot or e2e");
    *out = slo;
    return SS_OK;
}

/* One source of requests (the single-source form or one class) into *out. An arrival process
 * already set in *out (MLPerf) is kept; `arrival` and `trace` are then refused. */
static ss_rc load_source(ss_scenario *sc, const source_cfg *c, yaml_node_t *node,
                         const char *path, ss_wclass *out, ss_diag *d)
{
    ss_doc *doc = sc->doc;
    ss_rc rc;
    char kp[160];
    out->num_requests = c->num_requests;
    if (c->duration) out->duration = c->duration; /* else the caller's default */
    out->priority = c->priority;
    bool preset = out->arrival != NULL;
    if (preset && (c->arrival || c->trace[0])) {
        const char *k = c->arrival ? "arrival" : "trace";
        snprintf(kp, sizeof kp, "%s.%s", path, k);
        return ss_cfg_error(d, SS_ERR_INVALID, doc, ss_node_get(doc, node, k), kp,
                            "workload.mlperf sets the arrivals; remove this key");
    }
    if (c->slo && (rc = load_slo(sc, c->slo, node, path, &out->slo, d))) return rc;
    if (preset) {
        /* configured by the caller */
    } else if (c->trace[0]) { /* trace: FILE, short for arrival: {process: trace, file} */
        if (c->arrival) {
            snprintf(kp, sizeof kp, "%s.arrival", path);
            return ss_cfg_error(d, SS_ERR_INVALID, doc, ss_node_get(doc, node, "arrival"), kp,
                                "give either trace or arrival (for trace options use "
                                "arrival: {process: trace, file: ...})");
        }
        out->arrival = &ss_arrival_trace;
        out->arrival_cfg = calloc(1, out->arrival->cfg_size);
        if (!out->arrival_cfg) return ss_diag_fail(d, SS_ERR_NOMEM, "out of memory");
        ss_arrival_trace_config(out->arrival_cfg, c->trace, ss_doc_dir(doc));
    } else {
        snprintf(kp, sizeof kp, "%s.arrival", path);
        if (!c->arrival)
            return ss_cfg_error(d, SS_ERR_INVALID, doc, node, kp,
                                "missing: give an arrival process (with prompt_tokens and "
                                "output_tokens), a trace, or an explicit `requests` list");
        if (c->arrival->type != YAML_MAPPING_NODE)
            return ss_cfg_error(d, SS_ERR_INVALID, doc, c->arrival, kp,
                                "expected {process: NAME, ...}, got %s", ss_node_kind(c->arrival));
        yaml_node_t *pn = ss_node_get(doc, c->arrival, "process");
        const char *proc = ss_node_scalar(pn);
        char names[512];
        ss_plugin_names((const void *const *)ss_arrival_builtin, names, sizeof names);
        snprintf(kp, sizeof kp, "%s.arrival.process", path);
        if (!proc)
            return ss_cfg_error(d, SS_ERR_INVALID, doc, pn ? pn : c->arrival, kp,
                                "missing required key (one of: %s)", names);
        out->arrival = ss_arrival_find(proc);
        if (!out->arrival)
            return ss_cfg_error(d, SS_ERR_INVALID, doc, pn, kp,
                                "unknown arrival process '%s' (valid: %s)", proc, names);
        out->arrival_cfg = calloc(1, out->arrival->cfg_size);
        if (!out->arrival_cfg) return ss_diag_fail(d, SS_ERR_NOMEM, "out of memory");
        snprintf(kp, sizeof kp, "%s.arrival", path);
        if ((rc = ss_cfg_apply(doc, c->arrival, node, kp, out->arrival->keys,
                               out->arrival_cfg, d)))
            return rc;
        ((ss_arrival_cfg_head *)out->arrival_cfg)->base_dir = ss_doc_dir(doc);
        if (out->arrival->check) {
            const char *key = "process";
            char why[512];
            if ((rc = out->arrival->check(out->arrival_cfg, &key, why, sizeof why))) {
                snprintf(kp, sizeof kp, "%s.arrival.%s", path, key);
                return ss_cfg_error(d, rc, doc, ss_node_get(doc, c->arrival, key), kp, "%s",
                                    why);
            }
        }
        yaml_node_t *nr = ss_node_get(doc, node, "num_requests");
        snprintf(kp, sizeof kp, "%s.num_requests", path);
        if (!out->num_requests && !out->duration && !out->arrival->finite)
            return ss_cfg_error(d, SS_ERR_INVALID, doc, nr ? nr : node, kp,
                                "set num_requests or duration (or both): without either the "
                                "workload never ends");
        if (!out->num_requests && strcmp(proc, "offline") == 0)
            return ss_cfg_error(d, SS_ERR_INVALID, doc, nr ? nr : node, kp,
                                "the offline process issues everything at t = 0 and needs "
                                "num_requests");
    }
    /* Lengths: from the arrival process (a trace), an empirical table, or two distributions. */
    if (out->arrival->fill) { /* the process gives each request's lengths */
        const char *k = c->prompt ? "prompt_tokens" : c->output ? "output_tokens"
                      : c->lengths ? "lengths" : NULL;
        if (k) {
            snprintf(kp, sizeof kp, "%s.%s", path, k);
            return ss_cfg_error(d, SS_ERR_INVALID, doc, ss_node_get(doc, node, k), kp,
                                "the trace gives every request's lengths; remove this key");
        }
        return SS_OK;
    }
    if (c->lengths) {
        if (c->prompt || c->output) {
            const char *k = c->prompt ? "prompt_tokens" : "output_tokens";
            snprintf(kp, sizeof kp, "%s.%s", path, k);
            return ss_cfg_error(d, SS_ERR_INVALID, doc, ss_node_get(doc, node, k), kp,
                                "cannot be combined with %s.lengths (it gives both)", path);
        }
        return load_length_table(sc, c->lengths, path, &out->length_table, d);
    }
    snprintf(kp, sizeof kp, "%s.prompt_tokens", path);
    if ((rc = ss_len_parse(doc, c->prompt, node, kp, &out->prompt, d))) return rc;
    snprintf(kp, sizeof kp, "%s.output_tokens", path);
    if ((rc = ss_len_parse(doc, c->output, node, kp, &out->output, d))) return rc;
    return SS_OK;
}

static bool class_name_ok(const char *n)
{
    if (!n[0]) return false;
    for (const char *p = n; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_' || *p == '-' || *p == '.'))
            return false;
    return true;
}

static ss_rc load_classes(ss_scenario *sc, const workload_cfg *wc, yaml_node_t *node, ss_diag *d)
{
    ss_doc *doc = sc->doc;
    ss_workload *w = &sc->workload;
    const char *other = other_source_key(wc, false);
    if (other)
        return combined_error(doc, node, other,
                              "cannot be combined with `classes` (give it inside each class)", d);
    size_t n = ss_node_seq_len(wc->classes);
    if (wc->classes->type != YAML_SEQUENCE_NODE || !n)
        return ss_cfg_error(d, SS_ERR_INVALID, doc, wc->classes, "workload.classes",
                            "expected a non-empty list of classes {name, arrival, ...}");
    if (n > SS_MAX_CLASSES)
        return ss_cfg_error(d, SS_ERR_INVALID, doc, ss_node_seq_at(doc, wc->classes, SS_MAX_CLASSES),
                            "workload.classes", "at most %d classes", SS_MAX_CLASSES);
    w->classes = calloc(n, sizeof *w->classes);
    if (!w->classes) return ss_diag_fail(d, SS_ERR_NOMEM, "out of memory");
    w->nclasses = n;
    for (size_t i = 0; i < n; i++) {
        char path[64], kp[96];
        snprintf(path, sizeof path, "workload.classes[%zu]", i);
        yaml_node_t *it = ss_node_seq_at(doc, wc->classes, i);
        class_cfg cc;
        memset(&cc, 0, sizeof cc);
        ss_rc rc = ss_cfg_apply(doc, it, wc->classes, path, class_keys, &cc, d);
        if (rc) return rc;
        snprintf(kp, sizeof kp, "%s.name", path);
        yaml_node_t *nn = ss_node_get(doc, it, "name");
        if (!class_name_ok(cc.name))
            return ss_cfg_error(d, SS_ERR_INVALID, doc, nn, kp,
                                "'%s' is not a valid class name (letters, digits, _, - and . "
                                "only)", cc.name);
        for (size_t j = 0; j < i; j++)
            if (strcmp(w->classes[j].name, cc.name) == 0)
                return ss_cfg_error(d, SS_ERR_INVALID, doc, nn, kp,
                                    "duplicate class name '%s' (also workload.classes[%zu])",
                                    cc.name, j);
        ss_wclass *cl = &w->classes[i];
        snprintf(cl->name, sizeof cl->name, "%s", cc.name);
        cl->slo = w->slo;
        cl->duration = wc->s.duration; /* workload.duration: for classes without their own */
        if ((rc = load_source(sc, &cc.s, it, path, cl, d))) return rc;
    }
    return SS_OK;
}

/* workload.mlperf: resolve the rules and configure the single source's arrivals. */
static ss_rc load_mlperf(ss_scenario *sc, const workload_cfg *wc, yaml_node_t *node, ss_diag *d)
{
    ss_doc *doc = sc->doc;
    ss_workload *w = &sc->workload;
    ss_mlperf_cfg mc;
    ss_mlperf_cfg_init(&mc);
    ss_rc rc = ss_cfg_apply(doc, wc->mlperf, node, "workload.mlperf", ss_mlperf_keys, &mc, d);
    if (rc) return rc;
    const char *key = "scenario";
    char why[512], kp[96];
    if ((rc = ss_mlperf_resolve(&mc, &w->mlperf, &key, why, sizeof why))) {
        snprintf(kp, sizeof kp, "workload.mlperf.%s", key);
        yaml_node_t *kn = ss_node_get(doc, wc->mlperf, key);
        return ss_cfg_error(d, rc, doc, kn ? kn : wc->mlperf, kp, "%s", why);
    }
    w->mlperf_on = true;
    const ss_mlperf_rules *r = &w->mlperf;
    char v[64];
    const char *kv[5] = {NULL, NULL, NULL, NULL, NULL};
    const char *proc = "poisson";
    switch ((ss_mlperf_scenario)r->scenario) {
    case SS_MLPERF_SERVER:
    case SS_MLPERF_INTERACTIVE:
        snprintf(v, sizeof v, "%.17g", r->target_qps);
        kv[0] = "rate";
        kv[1] = v;
        break;
    case SS_MLPERF_OFFLINE:
        proc = "offline";
        if (!w->num_requests) { /* LoadGen: max(min_query_count, 1.1 x min_duration x qps) */
            double target = 1.1 * ss_time_to_s(r->min_duration) * r->target_qps;
            w->num_requests = r->min_query_count;
            if (target > (double)w->num_requests && target < 1e12)
                w->num_requests = (int64_t)target;
        }
        break;
    case SS_MLPERF_SINGLESTREAM:
        proc = "closed_loop";
        kv[0] = "clients";
        kv[1] = "1";
        break;
    case SS_MLPERF_MULTISTREAM:
        proc = "grouped";
        snprintf(v, sizeof v, "%lld", (long long)r->samples_per_query);
        kv[0] = "group_size";
        kv[1] = v;
        break;
    case SS_MLPERF_SCENARIO_COUNT: break;
    }
    w->arrival = ss_arrival_find(proc);
    w->arrival_cfg = w->arrival ? calloc(1, w->arrival->cfg_size) : NULL;
    if (!w->arrival_cfg) return ss_diag_fail(d, SS_ERR_NOMEM, "out of memory");
    if ((rc = ss_arrival_configure(w->arrival, w->arrival_cfg, kv, &key, why, sizeof why)))
        return ss_cfg_error(d, rc, doc, wc->mlperf, "workload.mlperf", "%s: %s", key, why);
    ((ss_arrival_cfg_head *)w->arrival_cfg)->base_dir = ss_doc_dir(doc);
    return SS_OK;
}

ss_rc ss_scen_load_workload(ss_scenario *sc, yaml_node_t *node, yaml_node_t *root, ss_diag *d)
{
    ss_doc *doc = sc->doc;
    workload_cfg wc;
    memset(&wc, 0, sizeof wc);
    ss_rc rc = ss_cfg_apply(doc, node, root, "workload", workload_keys, &wc, d);
    if (rc) return rc;
    ss_workload *w = &sc->workload;
    w->warmup = wc.warmup;
    w->cutoff = wc.cutoff;
    if (w->cutoff && w->cutoff <= w->warmup)
        return ss_cfg_error(d, SS_ERR_INVALID, doc, ss_node_get(doc, node, "cutoff"),
                            "workload.cutoff", "the cut-off must come after the warm-up (%.3f s)",
                            ss_time_to_s(w->warmup));
    if (wc.requests) {
        if (wc.s.slo)
            return ss_cfg_error(d, SS_ERR_INVALID, doc, ss_node_get(doc, node, "slo"),
                                "workload.slo", "cannot be combined with an explicit `requests` "
                                "list");
        return load_explicit(sc, &wc, node, d);
    }
    if (wc.s.slo && (rc = load_slo(sc, wc.s.slo, node, "workload", &w->slo, d))) return rc;
    if (wc.classes) return load_classes(sc, &wc, node, d);
    ss_wclass one;
    memset(&one, 0, sizeof one);
    if (wc.mlperf) {
        w->num_requests = wc.s.num_requests;
        if ((rc = load_mlperf(sc, &wc, node, d))) return rc;
        one.arrival = w->arrival;
        one.arrival_cfg = w->arrival_cfg;
    }
    rc = load_source(sc, &wc.s, node, "workload", &one, d);
    /* the single source's fields live in the workload itself (which owns them) */
    w->arrival = one.arrival;
    w->arrival_cfg = one.arrival_cfg;
    w->length_table = one.length_table;
    if (rc) return rc;
    if (!w->mlperf_on || wc.s.num_requests) w->num_requests = one.num_requests;
    w->duration = one.duration;
    w->prompt = one.prompt;
    w->output = one.output;
    w->priority = one.priority;
    if (one.slo.ttft || one.slo.tpot || one.slo.e2e) w->slo = one.slo;
    return SS_OK;
}

size_t ss_workload_nclasses(const ss_workload *w) { return w->nclasses ? w->nclasses : 1; }

void ss_workload_class(const ss_workload *w, size_t i, ss_wclass *out)
{
    if (w->nclasses) {
        *out = w->classes[i < w->nclasses ? i : 0];
        return;
    }
    memset(out, 0, sizeof *out);
    snprintf(out->name, sizeof out->name, "default");
    out->arrival = w->arrival;
    out->arrival_cfg = w->arrival_cfg;
    out->num_requests = w->requests ? (int64_t)w->nrequests : w->num_requests;
    out->duration = w->duration;
    out->prompt = w->prompt;
    out->output = w->output;
    out->length_table = w->length_table;
    out->priority = w->priority;
    out->slo = w->slo;
    const ss_mlperf_rules *r = &w->mlperf;
    if (w->mlperf_on && r->scenario != SS_MLPERF_OFFLINE && !w->num_requests && !w->duration) {
        /* LoadGen issues until both the minimum duration and the minimum query count are
         * reached, whole queries only. */
        out->min_requests = r->min_query_count * r->samples_per_query;
        out->min_until = r->min_duration;
        out->multiple = r->samples_per_query;
    }
}

const char *ss_workload_arrival_name(const ss_workload *w)
{
    if (w->nclasses) return w->nclasses == 1 ? w->classes[0].arrival->info.name : "per-class";
    return w->arrival ? w->arrival->info.name : "explicit";
}

/* ================================================================== docs */

void ss_scen_workload_doc_markdown(FILE *out)
{
    ss_scen_doc_section(out, "workload", "");
    ss_cfg_doc_markdown(workload_keys, "workload.", out);
    for (size_t i = 0; ss_arrival_builtin[i]; i++) {
        char title[96];
        snprintf(title, sizeof title, "workload.arrival with process: %s",
                 ss_arrival_builtin[i]->info.name);
        ss_scen_doc_section(out, title, ss_arrival_builtin[i]->info.help);
        ss_cfg_doc_markdown(ss_arrival_builtin[i]->keys, "workload.arrival.", out);
    }
    fprintf(out, "\n## workload.prompt_tokens / workload.output_tokens\n\n"
                 "An integer (a fixed length, e.g. `prompt_tokens: 512`) or a mapping with "
                 "`dist` and the keys of that distribution only. Samples are rounded to the "
                 "nearest integer and clipped to [min, max].\n");
    ss_len_doc_markdown("", out);
    ss_scen_doc_section(out, "workload.slo / workload.classes[].slo",
            "Per-request targets; each is optional but at least one is needed. A class without "
            "its own `slo` takes `workload.slo`. See docs/metrics.md (SLO attainment, goodput).");
    ss_cfg_doc_markdown(slo_keys, "slo.", out);
    ss_scen_doc_section(out, "workload.classes[]",
            "Each item of `workload.classes`: one request class with its own arrival process, "
            "lengths, priority and SLO, and its own random streams `NAME/arrivals`, "
            "`NAME/prompt_tokens`, `NAME/output_tokens`. `arrival`, `trace`, `lengths`, "
            "`prompt_tokens` and `output_tokens` take the same forms as in `workload`.");
    ss_cfg_doc_markdown(class_keys, "", out);
    ss_scen_doc_section(out, "workload.mlperf",
            "An MLPerf LoadGen scenario (docs/mlperf.md): Server and Interactive are Poisson "
            "arrivals at target_qps, Offline issues every sample at t = 0, SingleStream keeps "
            "one query in flight, MultiStream issues groups of samples_per_query. Unless "
            "`workload.num_requests` or `workload.duration` is set, queries are issued until "
            "both min_duration and min_query_count are reached. Keys left out take the "
            "benchmark's values.");
    ss_cfg_doc_markdown(ss_mlperf_keys, "mlperf.", out);
    ss_scen_doc_section(out, "workload.requests[]",
            "Each item of an explicit request list (instead of arrival + lengths).");
    ss_cfg_doc_markdown(explicit_keys, "", out);
}

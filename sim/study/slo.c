/* SLO terms; see slo.h. The key table is built from the metric and statistic lists, so the
 * `slo:` section, --slo and the documentation accept exactly the same names. */
#include "sim/study/slo.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdbool.h>
#include <string.h>

static const char *const metric_names[SS_SLO_METRIC_COUNT] = {"ttft", "tpot", "e2e", "queue",
                                                              "itl", "attainment"};
static const char *const stat_names[SS_SLO_STAT_COUNT] = {"mean", "p50", "p90",
                                                          "p95",  "p99", "max"};
#define NLAT 5 /* latency metrics: every metric before attainment */
#define NTARGET 3 /* per-request targets: ttft, tpot, e2e */

/* Everything the table can write; -1 = absent. */
typedef struct slo_raw {
    ss_time_ns lim[NLAT][SS_SLO_STAT_COUNT];
    ss_time_ns target[NTARGET];
    double attainment;
} slo_raw;

#define NKEYS (NLAT * SS_SLO_STAT_COUNT + NTARGET + 1)

typedef struct slo_table {
    ss_key keys[NKEYS + 1];
    char names[NKEYS][24];
} slo_table;

static void build_table(slo_table *t)
{
    size_t n = 0;
    for (int m = 0; m < NLAT; m++)
        for (int s = 0; s < SS_SLO_STAT_COUNT; s++, n++) {
            snprintf(t->names[n], sizeof t->names[n], "%s_%s", metric_names[m], stat_names[s]);
            t->keys[n] = (ss_key){.name = t->names[n], .type = SS_KEY_DURATION,
                                  .offset = offsetof(slo_raw, lim[m][s]), .def = "", .min = 0,
                                  .max = 1e6, .flags = SS_KEY_MIN_EXCL, .unit = "s",
                                  .help = "upper limit on this statistic of the run"};
        }
    for (int m = 0; m < NTARGET; m++, n++) {
        snprintf(t->names[n], sizeof t->names[n], "%s", metric_names[m]);
        t->keys[n] = (ss_key){.name = t->names[n], .type = SS_KEY_DURATION,
                              .offset = offsetof(slo_raw, target[m]), .def = "", .min = 0,
                              .max = 1e6, .flags = SS_KEY_MIN_EXCL, .unit = "s",
                              .help = "per-request target (attainment, goodput)"};
    }
    t->keys[n++] = (ss_key){.name = "attainment", .type = SS_KEY_DOUBLE,
                            .offset = offsetof(slo_raw, attainment), .def = "", .min = 0,
                            .max = 1, .flags = SS_KEY_MIN_EXCL,
                            .help = "lower limit on the fraction of requests meeting every "
                                    "per-request target"};
    t->keys[n] = (ss_key){.name = NULL};
}

static void raw_init(slo_raw *r)
{
    for (int m = 0; m < NLAT; m++)
        for (int s = 0; s < SS_SLO_STAT_COUNT; s++) r->lim[m][s] = -1;
    for (int m = 0; m < NTARGET; m++) r->target[m] = -1;
    r->attainment = -1;
}

/* Turn what was read into terms; "" on success, else the reason. */
static const char *raw_finish(const slo_raw *r, ss_slo_spec *out)
{
    memset(out, 0, sizeof *out);
    for (int m = 0; m < NLAT; m++)
        for (int s = 0; s < SS_SLO_STAT_COUNT; s++) {
            if (r->lim[m][s] < 0) continue;
            ss_slo_term *t = &out->term[out->nterms++];
            snprintf(t->name, sizeof t->name, "%s_%s", metric_names[m], stat_names[s]);
            t->metric = m;
            t->stat = s;
            t->limit = ss_time_to_s(r->lim[m][s]);
        }
    double *tg[NTARGET] = {&out->target_ttft, &out->target_tpot, &out->target_e2e};
    int any_target = 0;
    for (int m = 0; m < NTARGET; m++)
        if (r->target[m] >= 0) {
            *tg[m] = ss_time_to_s(r->target[m]);
            any_target = 1;
        }
    if (!any_target) /* per-request targets from the tightest limit on each metric */
        for (int i = 0; i < out->nterms; i++) {
            const ss_slo_term *t = &out->term[i];
            if (t->metric < NTARGET && (*tg[t->metric] == 0 || t->limit < *tg[t->metric]))
                *tg[t->metric] = t->limit;
        }
    if (r->attainment >= 0) {
        if (out->target_ttft == 0 && out->target_tpot == 0 && out->target_e2e == 0)
            return "attainment needs a per-request target (ttft, tpot or e2e, e.g. "
                   "attainment=0.99,ttft=2s,tpot=100ms)";
        ss_slo_term *t = &out->term[out->nterms++];
        snprintf(t->name, sizeof t->name, "attainment");
        t->metric = SS_SLO_ATTAINMENT;
        t->limit = r->attainment;
        t->at_least = 1;
    }
    if (out->nterms == 0)
        return "no SLO term (give at least one of ttft_p99, tpot_p99, e2e_p99, ..., "
               "attainment)";
    return "";
}

ss_rc ss_slo_parse(ss_doc *doc, yaml_node_t *map, const char *path, ss_slo_spec *out,
                   ss_diag *d)
{
    slo_table t;
    slo_raw r;
    build_table(&t);
    raw_init(&r);
    if (!map) return ss_diag_set(d, SS_ERR_INVALID, ss_doc_name(doc), 0, 0, path,
                                 "missing section");
    ss_rc rc = ss_cfg_apply(doc, map, NULL, path, t.keys, &r, d);
    if (rc) return rc;
    const char *why = raw_finish(&r, out);
    if (why[0]) return ss_cfg_error(d, SS_ERR_INVALID, doc, map, path, "%s", why);
    return SS_OK;
}

ss_rc ss_slo_parse_spec(const char *spec, ss_slo_spec *out, ss_diag *d)
{
    slo_table t;
    slo_raw r;
    build_table(&t);
    raw_init(&r);
    char buf[1024];
    if (strlen(spec) >= sizeof buf) return ss_diag_fail(d, SS_ERR_INVALID, "--slo: too long");
    strcpy(buf, spec);
    char *save = NULL;
    bool seen[sizeof t.keys / sizeof t.keys[0]] = {false};
    for (char *item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(item, '=');
        if (!eq) return ss_diag_set(d, SS_ERR_INVALID, "--slo", 0, 0, item, "expected KEY=VALUE");
        *eq = '\0';
        const ss_key *k = NULL;
        for (size_t i = 0; t.keys[i].name; i++)
            if (!strcmp(t.keys[i].name, item)) {
                k = &t.keys[i];
                /* a second limit on the same key would silently replace the first */
                if (seen[i])
                    return ss_diag_set(d, SS_ERR_INVALID, "--slo", 0, 0, item,
                                       "given twice (one limit per key)");
                seen[i] = true;
            }
        if (!k)
            return ss_diag_set(d, SS_ERR_INVALID, "--slo", 0, 0, item,
                               "unknown SLO key (valid: METRIC_STAT with METRIC ttft, tpot, "
                               "e2e, queue, itl and STAT mean, p50, p90, p95, p99, max; "
                               "per-request ttft, tpot, e2e; attainment)");
        char why[256] = "";
        if (ss_cfg_parse_scalar(k, eq + 1, &r, why, sizeof why))
            return ss_diag_set(d, SS_ERR_INVALID, "--slo", 0, 0, item, "%s", why);
    }
    const char *why = raw_finish(&r, out);
    if (why[0]) return ss_diag_set(d, SS_ERR_INVALID, "--slo", 0, 0, NULL, "%s", why);
    return SS_OK;
}

void ss_slo_doc_markdown(FILE *out)
{
    fprintf(out, "| Key | Type | Unit | Description |\n|---|---|---|---|\n");
    fprintf(out, "| `METRIC_STAT` (METRIC: `ttft`, `tpot`, `e2e`, `queue`, `itl`; STAT: "
                 "`mean`, `p50`, `p90`, `p95`, `p99`, `max`) | duration | s | upper limit on "
                 "this statistic of the run, e.g. `ttft_p99: 2s` |\n");
    fprintf(out, "| `ttft`, `tpot`, `e2e` | duration | s | per-request target for attainment "
                 "and goodput; default: the tightest limit given on the same metric |\n");
    fprintf(out, "| `attainment` | number | fraction | lower limit (0, 1] on the fraction of "
                 "measured requests that meet every per-request target |\n");
}

void ss_slo_describe(const ss_slo_spec *slo, char *buf, size_t n)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < slo->nterms && used < n; i++) {
        const ss_slo_term *t = &slo->term[i];
        int w = t->at_least ? snprintf(buf + used, n - used, "%s%s >= %g", i ? ", " : "",
                                       t->name, t->limit)
                            : snprintf(buf + used, n - used, "%s%s <= %g ms", i ? ", " : "",
                                       t->name, t->limit * 1e3);
        if (w < 0) break;
        used += (size_t)w;
        if (t->at_least) {
            const char *nm[3] = {"ttft", "tpot", "e2e"};
            double tg[3] = {slo->target_ttft, slo->target_tpot, slo->target_e2e};
            const char *sep = " (per request: ";
            for (int m = 0; m < 3 && used < n; m++) {
                if (!(tg[m] > 0)) continue;
                w = snprintf(buf + used, n - used, "%s%s <= %g ms", sep, nm[m], tg[m] * 1e3);
                if (w < 0) return;
                used += (size_t)w;
                sep = ", ";
            }
            if (used < n) used += (size_t)snprintf(buf + used, n - used, ")");
        }
    }
}

int ss_slo_request_ok(const ss_slo_spec *slo, const ss_req *r)
{
    if (r->state != SS_REQ_FINISHED) return 0;
    if (slo->target_ttft > 0 && ss_time_to_s(r->first_token - r->arrival) > slo->target_ttft)
        return 0;
    if (slo->target_e2e > 0 && ss_time_to_s(r->last_token - r->arrival) > slo->target_e2e)
        return 0;
    if (slo->target_tpot > 0 && r->generated > 1 &&
        ss_time_to_s(r->last_token - r->first_token) / (double)(r->generated - 1) >
            slo->target_tpot)
        return 0;
    return 1;
}

double ss_slo_value(const ss_slo_term *t, const ss_summary *s, double attainment)
{
    static const int req_of[NLAT] = {SS_M_TTFT, SS_M_TPOT, SS_M_E2E, SS_M_QUEUE, -1};
    if (t->metric == SS_SLO_ATTAINMENT) return attainment;
    const ss_stat *st = req_of[t->metric] >= 0 ? &s->req[req_of[t->metric]] : &s->itl_s;
    if (st->n == 0) return t->metric == SS_SLO_TPOT || t->metric == SS_SLO_ITL ? 0 : INFINITY;
    switch (t->stat) {
    case SS_SLO_MEAN: return st->mean;
    case SS_SLO_P50: return st->p50;
    case SS_SLO_P90: return st->p90;
    case SS_SLO_P95: return st->p95;
    case SS_SLO_P99: return st->p99;
    default: return st->max;
    }
}

double ss_slo_score(const ss_slo_term *t, double value)
{
    if (t->at_least) return value > 0 ? t->limit / value : INFINITY;
    return value / t->limit;
}

/* One configuration's capacity and cost: arithmetic, printing, JSON and SQLite; see
 * report.h. */
#include "sim/study/report.h"

#include "sim/output/output.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

void ss_cap_report_config(ss_cap_report *r, const ss_scenario *sc)
{
    snprintf(r->hardware, sizeof r->hardware, "%s", sc->pools[0].hw.name);
    char cal[480];
    ss_summary_calibration(sc, cal, sizeof cal);
    snprintf(r->calibration, sizeof r->calibration, "%s: %s", sc->cost_ops->info.name, cal);
    r->gpus = 0;
    for (int i = 0; i < sc->npools; i++) {
        const ss_pool *p = &sc->pools[i];
        r->gpus += p->count * p->par.tp * p->par.pp * p->par.dp;
    }
}

static void term_value(char *buf, size_t n, const ss_slo_term *t, double m, double h)
{
    if (t->at_least) snprintf(buf, n, "%.4f +- %.4f", m, h);
    else snprintf(buf, n, "%.1f +- %.1f ms", m * 1e3, h * 1e3);
}

void ss_cap_report_cost(ss_cap_report *r, const ss_slo_spec *slo, const ss_hw *hw,
                        const ss_tco_cfg *cfg)
{
    const ss_cap_result *c = &r->cap;
    r->priced = 0;
    r->instances = 0;
    if (c->status == SS_CAP_INFEASIBLE || c->cap_step < 0) {
        r->feasible = 0;
        if (!r->reason[0]) {
            const ss_cap_step *st = c->hi_step >= 0 ? &c->steps[c->hi_step] : NULL;
            if (st && c->binding >= 0) {
                const ss_slo_term *t = &slo->term[c->binding];
                char v[96];
                term_value(v, sizeof v, t, st->mean[c->binding], st->half[c->binding]);
                snprintf(r->reason, sizeof r->reason,
                         "SLO %s at the lowest load %g: %s = %s (limit %s%g%s)",
                         st->verdict == SS_CAP_FAIL ? "fails" : "is not shown to hold",
                         st->load, t->name, v, t->at_least ? ">= " : "",
                         t->at_least ? t->limit : t->limit * 1e3, t->at_least ? "" : " ms");
            }
            else
                snprintf(r->reason, sizeof r->reason, "no load was shown to meet the SLO");
        }
        return;
    }
    r->feasible = 1;
    const ss_cap_step *st = &c->steps[c->cap_step];
    r->latency = st->mean[0];
    double load = r->target > 0 ? r->target : c->capacity;
    r->instances = ss_tco_instances(load, c->capacity);
    double scale = load / r->instances / c->capacity; /* each instance's share of capacity */
    ss_tco_load l = {.gpus_per_instance = r->gpus, .instances = r->instances,
                     .output_tok_s = st->aux[SS_CAP_OUT_TPUT] * scale,
                     .total_tok_s = st->aux[SS_CAP_TOT_TPUT] * scale,
                     .busy_fraction = st->aux[SS_CAP_BUSY]};
    ss_diag d;
    ss_diag_clear(&d);
    if (ss_tco_compute(hw, cfg, &l, &r->tco, &d) == SS_OK) r->priced = 1;
    else snprintf(r->reason, sizeof r->reason, "%s", d.msg);
}

void ss_cap_report_print(FILE *out, const ss_slo_spec *slo, const ss_cap_report *r,
                         const char *unit, int steps)
{
    const ss_cap_result *c = &r->cap;
    char v[96];
    if (steps) {
        fprintf(out, "  %-10s %5s  %-7s", "load", "reps", "verdict");
        for (int k = 0; k < slo->nterms; k++) fprintf(out, "  %-22s", slo->term[k].name);
        fprintf(out, "\n");
        for (size_t i = 0; i < c->nsteps; i++) {
            const ss_cap_step *st = &c->steps[i];
            fprintf(out, "  %-10.4g %5d  %-7s", st->load, st->reps,
                    ss_cap_verdict_name(st->verdict));
            for (int k = 0; k < slo->nterms; k++) {
                term_value(v, sizeof v, &slo->term[k], st->mean[k], st->half[k]);
                fprintf(out, "  %-22s", v);
            }
            fprintf(out, "\n");
        }
    }
    if (!r->feasible) {
        fprintf(out, "  infeasible  %s\n", r->reason);
        return;
    }
    const ss_cap_step *st = &c->steps[c->cap_step];
    if (c->status == SS_CAP_UNBOUNDED)
        fprintf(out, "  capacity    >= %.4g %s (the SLO still held after doubling the load)\n",
                c->capacity, unit);
    else
        fprintf(out, "  capacity    %.4g %s (%s; the threshold lies in [%.4g, %.4g]%s)\n",
                c->capacity, unit, ss_cap_status_name(c->status), c->lo, c->hi,
                c->status == SS_CAP_CONVERGED && c->unsure
                    ? "; loads left unsure count as not passing"
                    : "");
    if (c->binding >= 0) {
        int b = c->binding;
        term_value(v, sizeof v, &slo->term[b], st->mean[b], st->half[b]);
        fprintf(out, "  binding     %s = %s at capacity (limit %s%g%s)", slo->term[b].name, v,
                slo->term[b].at_least ? ">= " : "", slo->term[b].at_least
                                                        ? slo->term[b].limit
                                                        : slo->term[b].limit * 1e3,
                slo->term[b].at_least ? "" : " ms");
        if (c->hi_step >= 0) {
            const ss_cap_step *h = &c->steps[c->hi_step];
            term_value(v, sizeof v, &slo->term[b], h->mean[b], h->half[b]);
            fprintf(out, "; %s at %.4g", v, h->load);
        }
        fprintf(out, "\n");
    }
    fprintf(out, "  goodput     %.3f req/s meeting the per-request targets (attainment %.2f%%) "
                 "of %.3f req/s\n",
            st->aux[SS_CAP_GOODPUT], 100 * st->aux[SS_CAP_ATTAIN], st->aux[SS_CAP_REQ_TPUT]);
    fprintf(out, "  throughput  %.0f output tok/s, %.0f total tok/s per instance; busy %.1f%%; "
                 "%d replications at capacity, %d in all\n",
            st->aux[SS_CAP_OUT_TPUT], st->aux[SS_CAP_TOT_TPUT], 100 * st->aux[SS_CAP_BUSY],
            st->reps, c->runs);
    if (r->priced) {
        const ss_tco *t = &r->tco;
        fprintf(out, "  cost        %d instance%s x %d %s: %.2f $/h (%.3f $/GPU-h); "
                     "%.4f $/M output tok, %.4f $/M total tok; %.2f output tok/J\n",
                r->instances, r->instances == 1 ? "" : "s", r->gpus, r->hardware,
                t->usd_per_hour, t->usd_per_gpu_hour, t->usd_per_mtok_output,
                t->usd_per_mtok_total, t->output_tok_per_joule);
        fprintf(out, "  price       %s\n", t->price_source);
    } else if (r->reason[0]) {
        fprintf(out, "  cost        not priced: %s\n", r->reason);
    }
    if (r->calibration[0]) fprintf(out, "  cost model  %s\n", r->calibration);
}

static cJSON *step_json(const ss_slo_spec *slo, const ss_cap_step *st)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "load", st->load);
    cJSON_AddNumberToObject(o, "replications", st->reps);
    cJSON_AddStringToObject(o, "verdict", ss_cap_verdict_name(st->verdict));
    cJSON *t = cJSON_AddObjectToObject(o, "slo");
    for (int k = 0; k < slo->nterms; k++) {
        cJSON *e = cJSON_AddObjectToObject(t, slo->term[k].name);
        cJSON_AddNumberToObject(e, "mean", st->mean[k]);
        cJSON_AddNumberToObject(e, "ci_half_width", st->half[k]);
    }
    for (int a = 0; a < SS_CAP_AUX_COUNT; a++)
        cJSON_AddNumberToObject(o, ss_cap_aux_name(a), st->aux[a]);
    return o;
}

static cJSON *report_json(const ss_slo_spec *slo, const ss_cap_report *r)
{
    const ss_cap_result *c = &r->cap;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "config", r->label);
    if (r->family[0]) cJSON_AddStringToObject(o, "family", r->family);
    if (r->rank) cJSON_AddNumberToObject(o, "rank", r->rank);
    if (r->rank) cJSON_AddBoolToObject(o, "pareto", r->pareto);
    cJSON_AddStringToObject(o, "hardware", r->hardware);
    cJSON_AddStringToObject(o, "calibration", r->calibration);
    cJSON_AddNumberToObject(o, "gpus_per_instance", r->gpus);
    cJSON_AddBoolToObject(o, "feasible", r->feasible);
    if (r->reason[0]) cJSON_AddStringToObject(o, "reason", r->reason);
    cJSON_AddStringToObject(o, "status", ss_cap_status_name(c->status));
    cJSON_AddNumberToObject(o, "capacity", c->capacity);
    cJSON_AddNumberToObject(o, "bracket_lo", c->lo);
    if (isfinite(c->hi)) cJSON_AddNumberToObject(o, "bracket_hi", c->hi);
    else cJSON_AddNullToObject(o, "bracket_hi");
    cJSON_AddStringToObject(o, "binding", c->binding >= 0 ? slo->term[c->binding].name : "");
    cJSON_AddNumberToObject(o, "replications_total", c->runs);
    cJSON_AddNumberToObject(o, "unsure_loads", c->unsure);
    if (c->cap_step >= 0)
        cJSON_AddItemToObject(o, "at_capacity", step_json(slo, &c->steps[c->cap_step]));
    if (c->hi_step >= 0)
        cJSON_AddItemToObject(o, "at_bracket_hi", step_json(slo, &c->steps[c->hi_step]));
    if (r->target > 0) cJSON_AddNumberToObject(o, "target_load", r->target);
    cJSON_AddNumberToObject(o, "instances", r->instances);
    if (r->priced) {
        const ss_tco *t = &r->tco;
        cJSON *p = cJSON_AddObjectToObject(o, "cost");
        cJSON_AddStringToObject(p, "model", t->owned ? "own" : "rent");
        cJSON_AddNumberToObject(p, "usd_per_gpu_hour", t->usd_per_gpu_hour);
        cJSON_AddNumberToObject(p, "usd_per_hour", t->usd_per_hour);
        cJSON_AddNumberToObject(p, "usd_per_mtok_output", t->usd_per_mtok_output);
        cJSON_AddNumberToObject(p, "usd_per_mtok_total", t->usd_per_mtok_total);
        cJSON_AddNumberToObject(p, "output_tok_per_joule", t->output_tok_per_joule);
        cJSON_AddNumberToObject(p, "total_tok_per_joule", t->total_tok_per_joule);
        cJSON_AddNumberToObject(p, "utilisation", t->utilisation);
        cJSON_AddStringToObject(p, "price_source", t->price_source);
    }
    cJSON *steps = cJSON_AddArrayToObject(o, "steps");
    for (size_t i = 0; i < c->nsteps; i++)
        cJSON_AddItemToArray(steps, step_json(slo, &c->steps[i]));
    return o;
}

char *ss_cap_report_json(const ss_slo_spec *slo, const ss_cap_report *const *r, size_t n,
                         const char *key, const char *command_line)
{
    cJSON *o = cJSON_CreateObject();
    char desc[1024];
    ss_slo_describe(slo, desc, sizeof desc);
    cJSON_AddStringToObject(o, "command_line", command_line ? command_line : "");
    cJSON_AddStringToObject(o, "load_key", key);
    cJSON_AddStringToObject(o, "slo", desc);
    cJSON *a = cJSON_AddArrayToObject(o, "configs");
    for (size_t i = 0; i < n; i++) cJSON_AddItemToArray(a, report_json(slo, r[i]));
    char *s = cJSON_Print(o);
    cJSON_Delete(o);
    return s;
}

static const char db_schema[] =
    "CREATE TABLE config(id INTEGER PRIMARY KEY, config TEXT, hardware TEXT,"
    " gpus_per_instance INTEGER, load_key TEXT, feasible INTEGER, reason TEXT, status TEXT,"
    " capacity REAL, bracket_lo REAL, bracket_hi REAL, binding TEXT, replications INTEGER,"
    " goodput REAL, attainment REAL, output_tok_s REAL, total_tok_s REAL, busy_fraction REAL,"
    " target_load REAL, instances INTEGER, usd_per_hour REAL, usd_per_mtok_output REAL,"
    " usd_per_mtok_total REAL, output_tok_per_joule REAL, latency REAL, price_source TEXT,"
    " family TEXT, rank INTEGER, pareto INTEGER);"
    "CREATE TABLE step(config_id INTEGER, seq INTEGER, load REAL, replications INTEGER,"
    " verdict TEXT, term TEXT, mean REAL, ci_half_width REAL, limit_value REAL);";

static void bind_num(sqlite3_stmt *st, int i, int ok, double v)
{
    if (ok && isfinite(v)) sqlite3_bind_double(st, i, v);
    else sqlite3_bind_null(st, i);
}

ss_rc ss_cap_report_db(const char *path, const ss_slo_spec *slo, const ss_cap_report *const *r,
                       size_t n, const char *key, ss_diag *d)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    remove(tmp);
    sqlite3 *db = NULL;
    sqlite3_stmt *c = NULL, *s = NULL;
    ss_rc rc = SS_OK;
    if (sqlite3_open(tmp, &db) != SQLITE_OK ||
        sqlite3_exec(db, "PRAGMA journal_mode=OFF; BEGIN;", NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_exec(db, db_schema, NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "INSERT INTO config VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,"
                               "?,?,?,?,?,?,?,?,?,?)", -1, &c, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "INSERT INTO step VALUES(?,?,?,?,?,?,?,?,?)", -1, &s, NULL) !=
            SQLITE_OK)
        goto fail;
    for (size_t i = 0; i < n; i++) {
        const ss_cap_report *p = r[i];
        const ss_cap_result *cr = &p->cap;
        const ss_cap_step *at = cr->cap_step >= 0 ? &cr->steps[cr->cap_step] : NULL;
        sqlite3_reset(c);
        sqlite3_bind_int64(c, 1, (sqlite3_int64)i);
        sqlite3_bind_text(c, 2, p->label, -1, SQLITE_STATIC);
        sqlite3_bind_text(c, 3, p->hardware, -1, SQLITE_STATIC);
        sqlite3_bind_int(c, 4, p->gpus);
        sqlite3_bind_text(c, 5, key, -1, SQLITE_STATIC);
        sqlite3_bind_int(c, 6, p->feasible);
        sqlite3_bind_text(c, 7, p->reason, -1, SQLITE_STATIC);
        sqlite3_bind_text(c, 8, ss_cap_status_name(cr->status), -1, SQLITE_STATIC);
        bind_num(c, 9, 1, cr->capacity);
        bind_num(c, 10, 1, cr->lo);
        bind_num(c, 11, 1, cr->hi);
        sqlite3_bind_text(c, 12, cr->binding >= 0 ? slo->term[cr->binding].name : "", -1,
                          SQLITE_STATIC);
        sqlite3_bind_int(c, 13, cr->runs);
        bind_num(c, 14, at != NULL, at ? at->aux[SS_CAP_GOODPUT] : 0);
        bind_num(c, 15, at != NULL, at ? at->aux[SS_CAP_ATTAIN] : 0);
        bind_num(c, 16, at != NULL, at ? at->aux[SS_CAP_OUT_TPUT] : 0);
        bind_num(c, 17, at != NULL, at ? at->aux[SS_CAP_TOT_TPUT] : 0);
        bind_num(c, 18, at != NULL, at ? at->aux[SS_CAP_BUSY] : 0);
        bind_num(c, 19, p->target > 0, p->target);
        sqlite3_bind_int(c, 20, p->instances);
        bind_num(c, 21, p->priced, p->tco.usd_per_hour);
        bind_num(c, 22, p->priced, p->tco.usd_per_mtok_output);
        bind_num(c, 23, p->priced, p->tco.usd_per_mtok_total);
        bind_num(c, 24, p->priced, p->tco.output_tok_per_joule);
        bind_num(c, 25, p->feasible, p->latency);
        sqlite3_bind_text(c, 26, p->priced ? p->tco.price_source : "", -1, SQLITE_STATIC);
        sqlite3_bind_text(c, 27, p->family, -1, SQLITE_STATIC);
        if (p->rank) sqlite3_bind_int(c, 28, p->rank);
        else sqlite3_bind_null(c, 28);
        sqlite3_bind_int(c, 29, p->pareto);
        if (sqlite3_step(c) != SQLITE_DONE) goto fail;
        for (size_t j = 0; j < cr->nsteps; j++)
            for (int k = 0; k < slo->nterms; k++) {
                const ss_cap_step *st = &cr->steps[j];
                sqlite3_reset(s);
                sqlite3_bind_int64(s, 1, (sqlite3_int64)i);
                sqlite3_bind_int64(s, 2, (sqlite3_int64)j);
                sqlite3_bind_double(s, 3, st->load);
                sqlite3_bind_int(s, 4, st->reps);
                sqlite3_bind_text(s, 5, ss_cap_verdict_name(st->verdict), -1, SQLITE_STATIC);
                sqlite3_bind_text(s, 6, slo->term[k].name, -1, SQLITE_STATIC);
                bind_num(s, 7, 1, st->mean[k]);
                bind_num(s, 8, 1, st->half[k]);
                sqlite3_bind_double(s, 9, slo->term[k].limit);
                if (sqlite3_step(s) != SQLITE_DONE) goto fail;
            }
    }
    if (sqlite3_exec(db, "COMMIT;", NULL, NULL, NULL) != SQLITE_OK) goto fail;
    goto done;
fail:
    rc = ss_diag_set(d, SS_ERR_DB, path, 0, 0, NULL, "cannot write: %s",
                     db ? sqlite3_errmsg(db) : "cannot open");
done:
    sqlite3_finalize(c);
    sqlite3_finalize(s);
    if (sqlite3_close(db) != SQLITE_OK && !rc)
        rc = ss_diag_set(d, SS_ERR_DB, path, 0, 0, NULL, "cannot close");
    if (!rc && rename(tmp, path) != 0)
        rc = ss_diag_set(d, SS_ERR_IO, path, 0, 0, NULL, "cannot rename the database into place");
    if (rc) remove(tmp);
    return rc;
}

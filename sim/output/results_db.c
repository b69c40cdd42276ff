/* results.db: the SQLite results store (schema in docs/results-db.md).
 *
 * Records are streamed in during the run through prepared statements inside one
 * transaction, with journaling and fsync off: the database is written to PATH.tmp and only
 * renamed over PATH after a successful commit, so a crash or a failed run never leaves a
 * half-written results.db behind (and never destroys the previous one). */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/output/output.h"

/* Request rows are inserted REQ_BATCH at a time with one multi-row INSERT: SQLite's
 * per-statement cost (VM start and halt) is then paid once per batch, not per row. */
#define REQ_BATCH 64
#define REQ_COLS 14

struct ss_resdb {
    sqlite3 *db;
    sqlite3_stmt *ins_req, *ins_req1, *ins_iter, *ins_sample;
    ss_req pending[REQ_BATCH]; /* copies: the engine recycles its records */
    int npending;
    char path[4096], tmp[4200];
    char err[512];
};

static const char *const schema_sql =
    "CREATE TABLE run(scenario_name TEXT, scenario_text TEXT, overrides TEXT, seed INTEGER,"
    " model TEXT,"
    " hardware TEXT, tp INTEGER, scheduler TEXT, cost_model TEXT, kv_blocks INTEGER,"
    " block_size INTEGER);\n"
    "CREATE TABLE run_meta(key TEXT PRIMARY KEY, value TEXT);\n"
    "CREATE TABLE rng_streams(name TEXT PRIMARY KEY, seed INTEGER);\n"
    "CREATE TABLE requests(id INTEGER NOT NULL, class INTEGER, state TEXT,"
    " reject_reason TEXT, arrival_ns INTEGER, first_scheduled_ns INTEGER,"
    " first_token_ns INTEGER, finish_ns INTEGER, prompt_tokens INTEGER,"
    " output_tokens INTEGER, preemptions INTEGER, prefill_instance INTEGER,"
    " decode_instance INTEGER, measured INTEGER);\n"
    "CREATE VIEW request_metrics AS SELECT id, state,"
    " (first_scheduled_ns - arrival_ns) / 1e9 AS queue_s,"
    " (first_token_ns - arrival_ns) / 1e9 AS ttft_s,"
    " CASE WHEN output_tokens > 1 THEN (finish_ns - first_token_ns) / 1e9 /"
    " (output_tokens - 1) END AS tpot_s,"
    " (finish_ns - arrival_ns) / 1e9 AS e2e_s,"
    " (finish_ns - arrival_ns) / 1e9 / output_tokens AS normalized_latency_s_per_token"
    " FROM requests WHERE state = 'finished' AND measured = 1;\n"
    "CREATE TABLE iterations(instance INTEGER, idx INTEGER, start_ns INTEGER,"
    " duration_ns INTEGER, num_seqs INTEGER, num_prefill_seqs INTEGER,"
    " num_decode_seqs INTEGER, prefill_tokens INTEGER, decode_tokens INTEGER,"
    " kv_used_blocks INTEGER, kv_total_blocks INTEGER, PRIMARY KEY(instance, idx));\n"
    "CREATE TABLE timeline(instance INTEGER, t_ns INTEGER, kv_used_blocks INTEGER,"
    " kv_total_blocks INTEGER, requests_in_system INTEGER, PRIMARY KEY(instance, t_ns));\n"
    "CREATE TABLE summary(metric TEXT, stat TEXT, value REAL, PRIMARY KEY(metric, stat));\n"
    "CREATE TABLE batch_sizes(num_seqs INTEGER PRIMARY KEY, iterations INTEGER);\n"
    "CREATE TABLE class_summary(class TEXT, class_index INTEGER, metric TEXT, stat TEXT,"
    " value REAL, PRIMARY KEY(class, metric, stat));\n";

static ss_rc db_fail(ss_resdb *r, ss_diag *d, const char *what)
{
    return ss_diag_set(d, SS_ERR_DB, r->path, 0, 0, NULL, "%s: %s", what,
                       r->db ? sqlite3_errmsg(r->db) : "cannot open");
}

ss_rc ss_resdb_open(const char *path, const ss_scenario *sc, uint64_t seed, ss_resdb **out,
                    ss_diag *d)
{
    *out = NULL;
    ss_resdb *r = calloc(1, sizeof *r);
    if (!r) return ss_diag_fail(d, SS_ERR_NOMEM, "out of memory");
    snprintf(r->path, sizeof r->path, "%s", path);
    snprintf(r->tmp, sizeof r->tmp, "%s.tmp", path);
    remove(r->tmp);
    ss_rc rc = SS_OK;
    /* One connection, one thread: SQLite's own mutexes are pure overhead here. A 16 MiB
     * page cache spares re-reading pages; it also bounds memory. */
    if (sqlite3_open_v2(r->tmp, &r->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        rc = db_fail(r, d, "cannot create the results database");
        goto fail;
    }
    if (sqlite3_exec(r->db, "PRAGMA cache_size=-16384;"
                            " PRAGMA locking_mode=EXCLUSIVE;"
                            " PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;"
                            " BEGIN;", NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_exec(r->db, schema_sql, NULL, NULL, NULL) != SQLITE_OK) {
        rc = db_fail(r, d, "cannot create the schema");
        goto fail;
    }
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(r->db, "INSERT INTO run VALUES(?,?,?,?,?,?,?,?,?,?,?)", -1, &st,
                           NULL))
        goto sqlfail;
    sqlite3_bind_text(st, 1, sc->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, ss_doc_text(sc->doc), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, sc->overrides, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)seed);
    sqlite3_bind_text(st, 5, sc->model.name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, sc->pools[0].hw.name, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 7, sc->pools[0].par.tp);
    sqlite3_bind_text(st, 8, sc->sched_ops->info.name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 9, sc->cost_ops->info.name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 10, sc->kv.blocks);
    sqlite3_bind_int(st, 11, sc->sched.block_size);
    int step = sqlite3_step(st);
    sqlite3_finalize(st);
    if (step != SQLITE_DONE) goto sqlfail;
    char sql[REQ_BATCH * 32 + 64];
    size_t used = (size_t)snprintf(sql, sizeof sql, "INSERT INTO requests VALUES");
    for (int i = 0; i < REQ_BATCH; i++)
        used += (size_t)snprintf(sql + used, sizeof sql - used,
                                 "%s(?,?,?,?,?,?,?,?,?,?,?,?,?,?)", i ? "," : "");
    if (sqlite3_prepare_v2(r->db, sql, -1, &r->ins_req, NULL) ||
        sqlite3_prepare_v2(r->db, "INSERT INTO requests VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                           -1, &r->ins_req1, NULL) ||
        sqlite3_prepare_v2(r->db, "INSERT INTO iterations VALUES(?,?,?,?,?,?,?,?,?,?,?)", -1,
                           &r->ins_iter, NULL) ||
        sqlite3_prepare_v2(r->db, "INSERT INTO timeline VALUES(?,?,?,?,?)", -1, &r->ins_sample,
                           NULL))
        goto sqlfail;
    *out = r;
    return SS_OK;
sqlfail:
    rc = db_fail(r, d, "cannot write the run record");
fail:
    sqlite3_finalize(r->ins_req);
    sqlite3_finalize(r->ins_req1);
    sqlite3_finalize(r->ins_iter);
    sqlite3_finalize(r->ins_sample);
    sqlite3_close(r->db);
    remove(r->tmp);
    free(r);
    return rc;
}

static void bind_time(sqlite3_stmt *st, int i, ss_time_ns t)
{
    if (t < 0) sqlite3_bind_null(st, i);
    else sqlite3_bind_int64(st, i, t);
}

static int step_reset(ss_resdb *r, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        if (!r->err[0]) snprintf(r->err, sizeof r->err, "%s", sqlite3_errmsg(r->db));
        return -1;
    }
    return 0;
}

/* Bind request q as row `row` (0-based) of statement st. */
static void bind_request(sqlite3_stmt *st, int row, const ss_req *q)
{
    int c = row * REQ_COLS;
    sqlite3_bind_int64(st, c + 1, (sqlite3_int64)q->id);
    sqlite3_bind_int(st, c + 2, q->cls);
    sqlite3_bind_text(st, c + 3, ss_req_state_name((ss_req_state)q->state), -1, SQLITE_STATIC);
    if (q->reject)
        sqlite3_bind_text(st, c + 4, ss_reject_text((ss_reject_reason)q->reject), -1,
                          SQLITE_STATIC);
    else sqlite3_bind_null(st, c + 4);
    bind_time(st, c + 5, q->arrival);
    bind_time(st, c + 6, q->first_scheduled);
    bind_time(st, c + 7, q->first_token);
    bind_time(st, c + 8, q->finish);
    sqlite3_bind_int64(st, c + 9, q->prompt_tokens);
    sqlite3_bind_int64(st, c + 10, q->state == SS_REQ_FINISHED ? q->generated : q->output_tokens);
    sqlite3_bind_int64(st, c + 11, q->preemptions);
    if (q->prefill_instance >= 0) sqlite3_bind_int(st, c + 12, q->prefill_instance);
    else sqlite3_bind_null(st, c + 12);
    if (q->decode_instance >= 0) sqlite3_bind_int(st, c + 13, q->decode_instance);
    else sqlite3_bind_null(st, c + 13);
    sqlite3_bind_int(st, c + 14, q->measured);
}

/* Write the buffered request rows: a full batch at once, a partial one row by row. */
static int flush_requests(ss_resdb *r)
{
    if (r->npending == REQ_BATCH) {
        for (int i = 0; i < REQ_BATCH; i++) bind_request(r->ins_req, i, &r->pending[i]);
        r->npending = 0;
        return step_reset(r, r->ins_req);
    }
    for (int i = 0; i < r->npending; i++) {
        bind_request(r->ins_req1, 0, &r->pending[i]);
        if (step_reset(r, r->ins_req1)) return -1;
    }
    r->npending = 0;
    return 0;
}

static int on_request(void *ctx, const ss_req *q)
{
    ss_resdb *r = ctx;
    r->pending[r->npending++] = *q;
    return r->npending == REQ_BATCH ? flush_requests(r) : 0;
}

static int on_iteration(void *ctx, const ss_iter_record *it)
{
    ss_resdb *r = ctx;
    sqlite3_stmt *st = r->ins_iter;
    sqlite3_bind_int(st, 1, it->instance);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)it->index);
    sqlite3_bind_int64(st, 3, it->start);
    sqlite3_bind_int64(st, 4, it->duration);
    sqlite3_bind_int(st, 5, it->num_seqs);
    sqlite3_bind_int(st, 6, it->num_prefill_seqs);
    sqlite3_bind_int(st, 7, it->num_decode_seqs);
    sqlite3_bind_int64(st, 8, it->prefill_tokens);
    sqlite3_bind_int64(st, 9, it->decode_tokens);
    sqlite3_bind_int64(st, 10, it->kv_used_blocks);
    sqlite3_bind_int64(st, 11, it->kv_total_blocks);
    return step_reset(r, st);
}

static int on_sample(void *ctx, const ss_sample_record *s)
{
    ss_resdb *r = ctx;
    sqlite3_stmt *st = r->ins_sample;
    sqlite3_bind_int(st, 1, s->instance);
    sqlite3_bind_int64(st, 2, s->t);
    sqlite3_bind_int64(st, 3, s->kv_used_blocks);
    sqlite3_bind_int64(st, 4, s->kv_total_blocks);
    sqlite3_bind_int64(st, 5, (sqlite3_int64)s->waiting_plus_running);
    return step_reset(r, st);
}

ss_observer ss_resdb_observer(ss_resdb *db)
{
    ss_observer o = {.ctx = db, .on_request = on_request, .on_iteration = on_iteration,
                     .on_sample = on_sample};
    return o;
}

const char *ss_resdb_error(const ss_resdb *db) { return db->err[0] ? db->err : NULL; }

ss_rc ss_resdb_write_streams(ss_resdb *db, const ss_sim *sim, ss_diag *d)
{
    const char *names[3 * SS_MAX_CLASSES];
    uint64_t seeds[3 * SS_MAX_CLASSES];
    size_t n = ss_sim_streams(sim, names, seeds, 3 * SS_MAX_CLASSES);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db->db, "INSERT INTO rng_streams VALUES(?,?)", -1, &st, NULL))
        return db_fail(db, d, "cannot record random streams");
    for (size_t i = 0; i < n; i++) {
        sqlite3_bind_text(st, 1, names[i], -1, SQLITE_STATIC);
        /* stored as the signed reinterpretation: SQLite integers are signed 64-bit */
        sqlite3_bind_int64(st, 2, (sqlite3_int64)seeds[i]);
        if (step_reset(db, st)) {
            sqlite3_finalize(st);
            return db_fail(db, d, "cannot record random streams");
        }
    }
    sqlite3_finalize(st);
    const uint64_t *counts;
    size_t nb = ss_sim_batch_counts(sim, &counts);
    if (sqlite3_prepare_v2(db->db, "INSERT INTO batch_sizes VALUES(?,?)", -1, &st, NULL))
        return db_fail(db, d, "cannot record batch sizes");
    for (size_t b = 0; b < nb; b++) {
        if (!counts[b]) continue;
        sqlite3_bind_int64(st, 1, (sqlite3_int64)b);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)counts[b]);
        if (step_reset(db, st)) {
            sqlite3_finalize(st);
            return db_fail(db, d, "cannot record batch sizes");
        }
    }
    sqlite3_finalize(st);
    return SS_OK;
}

static int put(ss_resdb *db, sqlite3_stmt *st, const char *metric, const char *stat, double v)
{
    sqlite3_bind_text(st, 1, metric, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, stat, -1, SQLITE_STATIC);
    sqlite3_bind_double(st, 3, v);
    return step_reset(db, st);
}

static int put_stat(ss_resdb *db, sqlite3_stmt *st, const char *metric, const ss_stat *s)
{
    return put(db, st, metric, "count", (double)s->n) || put(db, st, metric, "mean", s->mean) ||
           put(db, st, metric, "p50", s->p50) || put(db, st, metric, "p90", s->p90) ||
           put(db, st, metric, "p95", s->p95) || put(db, st, metric, "p99", s->p99) ||
           put(db, st, metric, "max", s->max);
}

/* class_summary rows of class i: the summary's per-request metrics and SLO figures. */
static int put_class(ss_resdb *db, sqlite3_stmt *st, size_t i, const ss_class_summary *c)
{
    sqlite3_bind_text(st, 1, c->name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)i);
    struct { const char *m, *k; double v; } rows[] = {
        {"requests", "arrived", (double)c->arrived},
        {"requests", "finished", (double)c->finished},
        {"requests", "rejected", (double)c->rejected},
        {"requests", "excluded", (double)c->excluded},
        {"requests", "measured", (double)c->measured},
        {"tokens", "input", (double)c->input_tokens},
        {"tokens", "output", (double)c->output_tokens},
        {"throughput", "requests_per_s", c->request_throughput},
        {"throughput", "input_tokens_per_s", c->input_throughput},
        {"throughput", "output_tokens_per_s", c->output_throughput},
    };
    for (size_t k = 0; k < sizeof rows / sizeof rows[0]; k++) {
        sqlite3_bind_text(st, 3, rows[k].m, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, rows[k].k, -1, SQLITE_STATIC);
        sqlite3_bind_double(st, 5, rows[k].v);
        if (step_reset(db, st)) return 1;
    }
    for (int m = 0; m < SS_M_REQ_COUNT; m++) {
        const ss_stat *x = &c->req[m];
        const char *names[] = {"count", "mean", "p50", "p90", "p95", "p99", "max"};
        double vals[] = {(double)x->n, x->mean, x->p50, x->p90, x->p95, x->p99, x->max};
        for (int k = 0; k < 7; k++) {
            sqlite3_bind_text(st, 3, ss_metric_req_name((ss_metric_req)m), -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 4, names[k], -1, SQLITE_STATIC);
            sqlite3_bind_double(st, 5, vals[k]);
            if (step_reset(db, st)) return 1;
        }
    }
    if (!c->has_slo) return 0;
    struct { const char *k; double v; } slo[] = {
        {"ttft_s", ss_time_to_s(c->slo.ttft)}, {"tpot_s", ss_time_to_s(c->slo.tpot)},
        {"e2e_s", ss_time_to_s(c->slo.e2e)}, {"met", (double)c->slo_met},
        {"attainment", c->slo_attainment}, {"goodput_rps", c->goodput_rps},
        {"goodput_tokens_per_s", c->goodput_tokens_per_s}};
    for (size_t k = 0; k < sizeof slo / sizeof slo[0]; k++) {
        sqlite3_bind_text(st, 3, "slo", -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, slo[k].k, -1, SQLITE_STATIC);
        sqlite3_bind_double(st, 5, slo[k].v);
        if (step_reset(db, st)) return 1;
    }
    return 0;
}

static int put_extras(ss_resdb *db, sqlite3_stmt *st, const ss_summary *s)
{
    int bad = 0;
    if (s->has_slo)
        bad = put(db, st, "slo", "measured", (double)s->slo_measured) ||
              put(db, st, "slo", "met", (double)s->slo_met) ||
              put(db, st, "slo", "attainment", s->slo_attainment) ||
              put(db, st, "slo", "goodput_rps", s->goodput_rps) ||
              put(db, st, "slo", "goodput_tokens_per_s", s->goodput_tokens_per_s);
    if (!bad && s->has_mlperf) {
        const ss_mlperf_verdict *v = &s->mlperf;
        const ss_mlperf_obs *o = &s->mlperf_obs;
        bad = put(db, st, "mlperf", "valid", v->valid) ||
              put(db, st, "mlperf", "performance_constraints_satisfied", v->perf_ok) ||
              put(db, st, "mlperf", "min_duration_satisfied", v->min_duration_ok) ||
              put(db, st, "mlperf", "min_queries_satisfied", v->min_queries_ok) ||
              put(db, st, "mlperf", "duration_s", v->duration_s) ||
              put(db, st, "mlperf", "queries", (double)o->queries) ||
              put(db, st, "mlperf", "samples", (double)o->samples) ||
              put(db, st, "mlperf", "completed_samples_per_s", v->samples_per_s) ||
              put(db, st, "mlperf", "completed_tokens_per_s", v->tokens_per_s) ||
              put(db, st, "mlperf", "ttft_at_target_percentile_s", o->ttft.at_target) ||
              put(db, st, "mlperf", "tpot_at_target_percentile_s", o->tpot.at_target) ||
              put(db, st, "mlperf", "latency_at_target_percentile_s", o->latency.at_target);
    }
    return bad;
}

ss_rc ss_resdb_write_summary(ss_resdb *db, const ss_summary *s, ss_diag *d)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db->db, "INSERT INTO summary VALUES(?,?,?)", -1, &st, NULL))
        return db_fail(db, d, "cannot write the summary");
    int bad = put(db, st, "requests", "arrived", (double)s->arrived) ||
              put(db, st, "requests", "finished", (double)s->finished) ||
              put(db, st, "requests", "rejected", (double)s->rejected) ||
              put(db, st, "requests", "preemptions", (double)s->preemptions) ||
              put(db, st, "requests", "excluded", (double)s->excluded) ||
              put(db, st, "input", "rows_skipped", (double)s->rows_skipped) ||
              put(db, st, "run_duration_s", "value", s->run_duration_s) ||
              put(db, st, "iterations", "count", (double)s->iterations) ||
              put(db, st, "duration_s", "value", s->duration_s) ||
              put(db, st, "busy_fraction", "value", s->busy_fraction) ||
              put(db, st, "tokens", "input", (double)s->input_tokens) ||
              put(db, st, "tokens", "output", (double)s->output_tokens) ||
              put(db, st, "throughput", "requests_per_s", s->request_throughput) ||
              put(db, st, "throughput", "input_tokens_per_s", s->input_throughput) ||
              put(db, st, "throughput", "output_tokens_per_s", s->output_throughput) ||
              put(db, st, "throughput", "total_tokens_per_s", s->total_throughput) ||
              put(db, st, "kv_cache", "blocks_total", (double)s->kv_blocks_total) ||
              put(db, st, "kv_cache", "util_mean", s->kv_util_mean) ||
              put(db, st, "kv_cache", "util_peak", s->kv_util_peak) ||
              put_stat(db, st, "itl_s", &s->itl_s) ||
              put_stat(db, st, "batch_size", &s->batch_size);
    for (int i = 0; !bad && i < SS_M_REQ_COUNT; i++)
        bad = put_stat(db, st, ss_metric_req_name((ss_metric_req)i), &s->req[i]);
    if (!bad) bad = put_extras(db, st, s);
    sqlite3_finalize(st);
    if (bad) return db_fail(db, d, "cannot write the summary");
    if (sqlite3_prepare_v2(db->db, "INSERT INTO class_summary VALUES(?,?,?,?,?)", -1, &st, NULL))
        return db_fail(db, d, "cannot write the class summary");
    for (size_t i = 0; !bad && i < s->nclasses; i++) bad = put_class(db, st, i, &s->classes[i]);
    sqlite3_finalize(st);
    return bad ? db_fail(db, d, "cannot write the class summary") : SS_OK;
}

ss_rc ss_resdb_write_meta(ss_resdb *db, const ss_run_meta *m, ss_diag *d)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db->db, "INSERT INTO run_meta VALUES(?,?)", -1, &st, NULL))
        return db_fail(db, d, "cannot write run metadata");
    char wall[64];
    snprintf(wall, sizeof wall, "%.6f", m->wall_s);
    const char *kv[][2] = {{"version", m->version},       {"host", m->host},
                           {"started_at", m->started_at}, {"wall_s", wall},
                           {"command_line", m->command_line}};
    int bad = 0;
    for (size_t i = 0; !bad && i < sizeof kv / sizeof kv[0]; i++) {
        sqlite3_bind_text(st, 1, kv[i][0], -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, kv[i][1] ? kv[i][1] : "", -1, SQLITE_STATIC);
        bad = step_reset(db, st);
    }
    sqlite3_finalize(st);
    return bad ? db_fail(db, d, "cannot write run metadata") : SS_OK;
}

ss_rc ss_resdb_close(ss_resdb *db, int ok, ss_diag *d)
{
    ss_rc rc = SS_OK;
    if (ok && flush_requests(db)) rc = db_fail(db, d, "cannot write request records");
    sqlite3_finalize(db->ins_req);
    sqlite3_finalize(db->ins_req1);
    sqlite3_finalize(db->ins_iter);
    sqlite3_finalize(db->ins_sample);
    if (ok && !rc && sqlite3_exec(db->db, "COMMIT;", NULL, NULL, NULL) != SQLITE_OK)
        rc = db_fail(db, d, "cannot commit the results database");
    if (sqlite3_close(db->db) != SQLITE_OK && !rc)
        rc = ss_diag_set(d, SS_ERR_DB, db->path, 0, 0, NULL, "cannot close the database");
    if (ok && !rc && rename(db->tmp, db->path) != 0)
        rc = ss_diag_set(d, SS_ERR_IO, db->path, 0, 0, NULL, "cannot move %s into place",
                         db->tmp);
    if (!ok || rc) remove(db->tmp);
    free(db);
    return rc;
}

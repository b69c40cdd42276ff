/* summary.json and the human summary table; see output.h. Both read only ss_summary and
 * the scenario, so they cannot disagree. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sim/output/output.h"

static cJSON *stat_json(const ss_stat *st)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "count", (double)st->n);
    cJSON_AddNumberToObject(o, "mean", st->mean);
    cJSON_AddNumberToObject(o, "p50", st->p50);
    cJSON_AddNumberToObject(o, "p90", st->p90);
    cJSON_AddNumberToObject(o, "p95", st->p95);
    cJSON_AddNumberToObject(o, "p99", st->p99);
    cJSON_AddNumberToObject(o, "max", st->max);
    return o;
}

/* What the cost model calibrates for this run (issue 5): "calibrated (GPU@STACK)",
 * "partially calibrated (...; roofline: OPS)" or "uncalibrated (...)". */
void ss_calibration_status(const ss_scenario *sc, char *buf, size_t n)
{
    if (strcmp(sc->cost_ops->info.name, "calibrated") != 0) {
        snprintf(buf, n, "uncalibrated (%s cost model)", sc->cost_ops->info.name);
        return;
    }
    /* with the scenario's loaded calibration: parsing the profile again would cost as much
     * as a run (~0.14 s for the H100's) */
    ss_cost_setup cs;
    ss_scenario_cost_setup(sc, &cs);
    ss_cost_calibration_status(&cs, buf, n);
}

const char *ss_calibration_word(const char *status)
{
    if (!status || !status[0]) return "-";
    if (!strncmp(status, "uncalibrated", 12)) return "uncalibrated";
    if (!strncmp(status, "partially", 9)) return "partial";
    if (!strncmp(status, "calibrated", 10)) return "calibrated";
    return status;
}

bool ss_summary_has_class_section(const ss_summary *s)
{
    return s->nclasses > 1 || s->has_slo;
}

static cJSON *slo_json(const ss_slo *slo)
{
    cJSON *o = cJSON_CreateObject();
    if (slo->ttft) cJSON_AddNumberToObject(o, "ttft_s", ss_time_to_s(slo->ttft));
    if (slo->tpot) cJSON_AddNumberToObject(o, "tpot_s", ss_time_to_s(slo->tpot));
    if (slo->e2e) cJSON_AddNumberToObject(o, "e2e_s", ss_time_to_s(slo->e2e));
    return o;
}

static cJSON *class_json(const ss_class_summary *c)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *req = cJSON_AddObjectToObject(o, "requests");
    cJSON_AddNumberToObject(req, "arrived", (double)c->arrived);
    cJSON_AddNumberToObject(req, "finished", (double)c->finished);
    cJSON_AddNumberToObject(req, "rejected", (double)c->rejected);
    cJSON_AddNumberToObject(req, "excluded", (double)c->excluded);
    cJSON_AddNumberToObject(req, "measured", (double)c->measured);
    cJSON *tok = cJSON_AddObjectToObject(o, "tokens");
    cJSON_AddNumberToObject(tok, "input", (double)c->input_tokens);
    cJSON_AddNumberToObject(tok, "output", (double)c->output_tokens);
    cJSON *thr = cJSON_AddObjectToObject(o, "throughput");
    cJSON_AddNumberToObject(thr, "requests_per_s", c->request_throughput);
    cJSON_AddNumberToObject(thr, "input_tokens_per_s", c->input_throughput);
    cJSON_AddNumberToObject(thr, "output_tokens_per_s", c->output_throughput);
    cJSON *lat = cJSON_AddObjectToObject(o, "latency");
    for (int i = 0; i < SS_M_REQ_COUNT; i++)
        cJSON_AddItemToObject(lat, ss_metric_req_name((ss_metric_req)i), stat_json(&c->req[i]));
    if (c->has_slo) {
        cJSON_AddItemToObject(o, "slo", slo_json(&c->slo));
        cJSON_AddNumberToObject(o, "slo_met", (double)c->slo_met);
        cJSON_AddNumberToObject(o, "slo_attainment", c->slo_attainment);
        cJSON_AddNumberToObject(o, "goodput_rps", c->goodput_rps);
        cJSON_AddNumberToObject(o, "goodput_tokens_per_s", c->goodput_tokens_per_s);
    }
    return o;
}

static cJSON *mdist_json(const ss_mlperf_dist *m)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "count", (double)m->n);
    cJSON_AddNumberToObject(o, "min", m->min);
    cJSON_AddNumberToObject(o, "mean", m->mean);
    cJSON_AddNumberToObject(o, "max", m->max);
    for (int k = 0; k < SS_MLPERF_NPCT; k++) {
        char key[16];
        snprintf(key, sizeof key, "p%g", ss_mlperf_pcts[k] * 100);
        cJSON_AddNumberToObject(o, key, m->pct[k]);
    }
    cJSON_AddNumberToObject(o, "at_target_percentile", m->at_target);
    return o;
}

static cJSON *mlperf_json(const ss_summary *s)
{
    const ss_mlperf_rules *r = &s->mlperf_rules;
    const ss_mlperf_obs *ob = &s->mlperf_obs;
    const ss_mlperf_verdict *v = &s->mlperf;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "sut_name", r->sut_name);
    cJSON_AddStringToObject(o, "scenario", ss_mlperf_scenario_names[r->scenario]);
    cJSON_AddStringToObject(o, "mode", "PerformanceOnly");
    cJSON_AddStringToObject(o, "result", v->valid ? "VALID" : "INVALID");
    cJSON *why = cJSON_AddArrayToObject(o, "reasons");
    for (int i = 0; i < v->nreasons; i++) cJSON_AddItemToArray(why, cJSON_CreateString(v->reasons[i]));
    cJSON *rules = cJSON_AddObjectToObject(o, "rules");
    cJSON_AddStringToObject(rules, "benchmark", r->benchmark);
    cJSON_AddNumberToObject(rules, "target_qps", r->target_qps);
    cJSON_AddNumberToObject(rules, "samples_per_query", (double)r->samples_per_query);
    cJSON_AddNumberToObject(rules, "percentile", r->percentile);
    cJSON_AddNumberToObject(rules, "ttft_latency_s", ss_time_to_s(r->ttft_limit));
    cJSON_AddNumberToObject(rules, "tpot_latency_s", ss_time_to_s(r->tpot_limit));
    cJSON_AddNumberToObject(rules, "min_duration_s", ss_time_to_s(r->min_duration));
    cJSON_AddNumberToObject(rules, "min_query_count", (double)r->min_query_count);
    cJSON_AddBoolToObject(o, "performance_constraints_satisfied", v->perf_ok);
    cJSON_AddBoolToObject(o, "min_duration_satisfied", v->min_duration_ok);
    cJSON_AddBoolToObject(o, "min_queries_satisfied", v->min_queries_ok);
    cJSON_AddNumberToObject(o, "duration_s", v->duration_s);
    cJSON_AddNumberToObject(o, "queries", (double)ob->queries);
    cJSON_AddNumberToObject(o, "samples", (double)ob->samples);
    cJSON_AddNumberToObject(o, "rejected", (double)ob->rejected);
    cJSON_AddNumberToObject(o, "tokens", (double)ob->tokens);
    cJSON_AddNumberToObject(o, "completed_samples_per_s", v->samples_per_s);
    cJSON_AddNumberToObject(o, "completed_tokens_per_s", v->tokens_per_s);
    cJSON_AddItemToObject(o, "latency_s", mdist_json(&ob->latency));
    cJSON_AddItemToObject(o, "ttft_s", mdist_json(&ob->ttft));
    cJSON_AddItemToObject(o, "tpot_s", mdist_json(&ob->tpot));
    return o;
}

char *ss_summary_json(const ss_scenario *sc, uint64_t seed, const ss_summary *s)
{
    char calib[512];
    ss_calibration_status(sc, calib, sizeof calib);
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "schema", "servesim.summary/1");
    cJSON_AddStringToObject(root, "scenario", sc->name);
    cJSON_AddNumberToObject(root, "seed", (double)seed);
    cJSON *cfg = cJSON_AddObjectToObject(root, "configuration");
    cJSON_AddStringToObject(cfg, "model", sc->model.name);
    cJSON_AddStringToObject(cfg, "hardware", sc->pools[0].hw.name);
    cJSON_AddNumberToObject(cfg, "tp", sc->pools[0].par.tp);
    cJSON_AddStringToObject(cfg, "scheduler", sc->sched_ops->info.name);
    cJSON_AddStringToObject(cfg, "cost_model", sc->cost_ops->info.name);
    cJSON_AddStringToObject(cfg, "calibration", calib);
    cJSON_AddStringToObject(cfg, "weight_dtype", ss_dtype_name(sc->weight_dtype));
    cJSON_AddStringToObject(cfg, "kv_dtype", ss_dtype_name(sc->kv_dtype));
    cJSON_AddStringToObject(cfg, "arrival", ss_workload_arrival_name(&sc->workload));

    cJSON *req = cJSON_AddObjectToObject(root, "requests");
    cJSON_AddNumberToObject(req, "arrived", (double)s->arrived);
    cJSON_AddNumberToObject(req, "finished", (double)s->finished);
    cJSON_AddNumberToObject(req, "rejected", (double)s->rejected);
    cJSON_AddNumberToObject(req, "excluded", (double)s->excluded);
    cJSON_AddNumberToObject(root, "input_rows_skipped", (double)s->rows_skipped);
    cJSON_AddNumberToObject(req, "preemptions", (double)s->preemptions);
    cJSON_AddNumberToObject(root, "iterations", (double)s->iterations);
    cJSON_AddNumberToObject(root, "duration_s", s->duration_s);
    cJSON_AddNumberToObject(root, "run_duration_s", s->run_duration_s);
    cJSON_AddNumberToObject(root, "busy_fraction", s->busy_fraction);
    cJSON *tok = cJSON_AddObjectToObject(root, "tokens");
    cJSON_AddNumberToObject(tok, "input", (double)s->input_tokens);
    cJSON_AddNumberToObject(tok, "output", (double)s->output_tokens);
    cJSON *thr = cJSON_AddObjectToObject(root, "throughput");
    cJSON_AddNumberToObject(thr, "requests_per_s", s->request_throughput);
    cJSON_AddNumberToObject(thr, "input_tokens_per_s", s->input_throughput);
    cJSON_AddNumberToObject(thr, "output_tokens_per_s", s->output_throughput);
    cJSON_AddNumberToObject(thr, "total_tokens_per_s", s->total_throughput);
    cJSON *lat = cJSON_AddObjectToObject(root, "latency");
    for (int i = 0; i < SS_M_REQ_COUNT; i++)
        cJSON_AddItemToObject(lat, ss_metric_req_name((ss_metric_req)i), stat_json(&s->req[i]));
    cJSON_AddItemToObject(lat, "itl_s", stat_json(&s->itl_s));
    cJSON_AddItemToObject(root, "batch_size", stat_json(&s->batch_size));
    cJSON *kv = cJSON_AddObjectToObject(root, "kv_cache");
    cJSON_AddNumberToObject(kv, "blocks_total", (double)s->kv_blocks_total);
    cJSON_AddNumberToObject(kv, "block_size", sc->sched.block_size);
    cJSON_AddNumberToObject(kv, "bytes_per_token_per_gpu", (double)sc->kv.kv_bytes_per_token);
    cJSON_AddNumberToObject(kv, "util_mean", s->kv_util_mean);
    cJSON_AddNumberToObject(kv, "util_peak", s->kv_util_peak);
    if (ss_summary_has_class_section(s)) {
        cJSON *cls = cJSON_AddObjectToObject(root, "classes");
        for (size_t i = 0; i < s->nclasses; i++) cJSON_AddItemToObject(cls, s->classes[i].name, class_json(&s->classes[i]));
    }
    if (s->has_slo) {
        cJSON *slo = cJSON_AddObjectToObject(root, "slo");
        cJSON_AddNumberToObject(slo, "measured", (double)s->slo_measured);
        cJSON_AddNumberToObject(slo, "met", (double)s->slo_met);
        cJSON_AddNumberToObject(slo, "attainment", s->slo_attainment);
        cJSON_AddNumberToObject(slo, "goodput_rps", s->goodput_rps);
        cJSON_AddNumberToObject(slo, "goodput_tokens_per_s", s->goodput_tokens_per_s);
    }
    if (s->has_mlperf) cJSON_AddItemToObject(root, "mlperf", mlperf_json(s));
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    return text;
}

static void row(FILE *out, const char *name, const ss_stat *st, double scale, const char *unit)
{
    if (!st->n) {
        fprintf(out, "  %-22s %10s  (no samples)\n", name, "-");
        return;
    }
    fprintf(out, "  %-22s %10.2f %10.2f %10.2f %10.2f %10.2f %10.2f  %s\n", name,
            st->mean * scale, st->p50 * scale, st->p90 * scale, st->p95 * scale,
            st->p99 * scale, st->max * scale, unit);
}

static void print_classes(const ss_summary *s, FILE *out)
{
    fprintf(out, "\n  per class (throughput and goodput over the measured %.2f s)\n", s->duration_s);
    fprintf(out, "  %-14s %8s %8s %9s %10s %10s %10s %10s %8s %10s\n", "class", "finished",
            "rejected", "req/s", "TTFT p50", "TTFT p99", "TPOT p50", "TPOT p99", "SLO met",
            "goodput");
    for (size_t i = 0; i < s->nclasses; i++) {
        const ss_class_summary *c = &s->classes[i];
        char att[16] = "-", good[24] = "-";
        if (c->has_slo) {
            snprintf(att, sizeof att, "%.1f%%", 100 * c->slo_attainment);
            snprintf(good, sizeof good, "%.3f", c->goodput_rps);
        }
        fprintf(out, "  %-14s %8llu %8llu %9.3f %8.2fms %8.2fms %8.2fms %8.2fms %8s %10s\n",
                c->name, (unsigned long long)c->finished, (unsigned long long)c->rejected,
                c->request_throughput, c->req[SS_M_TTFT].p50 * 1e3, c->req[SS_M_TTFT].p99 * 1e3,
                c->req[SS_M_TPOT].p50 * 1e3, c->req[SS_M_TPOT].p99 * 1e3, att, good);
    }
    for (size_t i = 0; i < s->nclasses; i++) {
        const ss_class_summary *c = &s->classes[i];
        if (!c->has_slo) continue;
        fprintf(out, "  SLO of %s:", c->name);
        if (c->slo.ttft) fprintf(out, " TTFT <= %g ms", ss_time_to_ms(c->slo.ttft));
        if (c->slo.tpot) fprintf(out, " TPOT <= %g ms", ss_time_to_ms(c->slo.tpot));
        if (c->slo.e2e) fprintf(out, " E2E <= %g s", ss_time_to_s(c->slo.e2e));
        fprintf(out, " per request\n");
    }
    if (s->has_slo)
        fprintf(out, "  overall SLO attainment %.1f%% (%llu of %llu measured requests), goodput "
                     "%.3f req/s, %.1f output tok/s\n",
                100 * s->slo_attainment, (unsigned long long)s->slo_met,
                (unsigned long long)s->slo_measured, s->goodput_rps, s->goodput_tokens_per_s);
}

static void ns_line(FILE *out, const char *label, double seconds)
{
    fprintf(out, "%-45s: %.0f\n", label, seconds * 1e9);
}

static void mdist_lines(FILE *out, const char *what, const ss_mlperf_dist *m)
{
    char label[96];
    snprintf(label, sizeof label, "Min %s (ns)", what);
    ns_line(out, label, m->min);
    snprintf(label, sizeof label, "Max %s (ns)", what);
    ns_line(out, label, m->max);
    snprintf(label, sizeof label, "Mean %s (ns)", what);
    ns_line(out, label, m->mean);
    for (int k = 0; k < SS_MLPERF_NPCT; k++) {
        snprintf(label, sizeof label, "%.4g percentile %s (ns)", ss_mlperf_pcts[k] * 100, what);
        ns_line(out, label, m->pct[k]);
    }
}

void ss_mlperf_print(const ss_summary *s, FILE *out)
{
    const ss_mlperf_rules *r = &s->mlperf_rules;
    const ss_mlperf_obs *o = &s->mlperf_obs;
    const ss_mlperf_verdict *v = &s->mlperf;
    bool server = r->scenario == SS_MLPERF_SERVER || r->scenario == SS_MLPERF_INTERACTIVE;
    fprintf(out, "\n================================================\n"
                 "MLPerf Results Summary (simulated by servesim)\n"
                 "================================================\n");
    fprintf(out, "SUT name : %s\n", r->sut_name);
    fprintf(out, "Scenario : %s\n", ss_mlperf_scenario_names[r->scenario]);
    fprintf(out, "Mode     : PerformanceOnly\n");
    switch ((ss_mlperf_scenario)r->scenario) {
    case SS_MLPERF_SERVER:
    case SS_MLPERF_INTERACTIVE:
        fprintf(out, "Completed samples per second    : %.2f\n", v->samples_per_s);
        fprintf(out, "Completed tokens per second: %.2f\n", v->tokens_per_s);
        break;
    case SS_MLPERF_OFFLINE:
        fprintf(out, "Samples per second: %g\n", v->samples_per_s);
        fprintf(out, "Tokens per second: %g\n", v->tokens_per_s);
        break;
    case SS_MLPERF_SINGLESTREAM:
        fprintf(out, "%.0fth percentile latency (ns) : %.0f\n", r->percentile * 100,
                o->latency.at_target * 1e9);
        fprintf(out, "%.0fth first token percentile latency (ns) : %.0f\n", r->percentile * 100,
                o->ttft.at_target * 1e9);
        break;
    case SS_MLPERF_MULTISTREAM:
        fprintf(out, "%.0fth percentile latency (ns) : %.0f\n", r->percentile * 100,
                o->latency.at_target * 1e9);
        break;
    case SS_MLPERF_SCENARIO_COUNT: break;
    }
    fprintf(out, "Result is : %s\n", v->valid ? "VALID" : "INVALID");
    if (server)
        fprintf(out, "  Performance constraints satisfied : %s\n", v->perf_ok ? "Yes" : "NO");
    fprintf(out, "  Min duration satisfied : %s\n", v->min_duration_ok ? "Yes" : "NO");
    fprintf(out, "  Min queries satisfied : %s\n", v->min_queries_ok ? "Yes" : "NO");
    fprintf(out, "  Early stopping satisfied: not evaluated (servesim does not model it)\n");
    if (v->nreasons) {
        fprintf(out, "Reasons:\n");
        for (int i = 0; i < v->nreasons; i++) fprintf(out, " * %s\n", v->reasons[i]);
    }
    fprintf(out, "\n================================================\n"
                 "Additional Stats\n"
                 "================================================\n");
    fprintf(out, "Queries issued : %llu; samples completed : %llu, rejected : %llu\n",
            (unsigned long long)o->queries, (unsigned long long)o->samples,
            (unsigned long long)o->rejected);
    if (server) {
        fprintf(out, "Scheduled samples per second : %.2f\n",
                o->final_issue_s > 0 && o->queries > 1
                    ? (double)(o->queries - 1) / o->final_issue_s : 0.0);
        if (r->ttft_limit)
            fprintf(out, "TTFT limit (P%g) : %.0f ms\n", r->percentile * 100, ss_time_to_ms(r->ttft_limit));
        if (r->tpot_limit)
            fprintf(out, "TPOT limit (P%g) : %.0f ms\n", r->percentile * 100, ss_time_to_ms(r->tpot_limit));
    }
    if (r->scenario == SS_MLPERF_MULTISTREAM) fprintf(out, "Per-query latency:\n");
    mdist_lines(out, "latency", &o->latency);
    fprintf(out, "\n");
    mdist_lines(out, "First Token latency", &o->ttft);
    fprintf(out, "\n");
    mdist_lines(out, "Time to Output Token", &o->tpot);
}

void ss_summary_print(const ss_scenario *sc, uint64_t seed, const ss_summary *s, FILE *out)
{
    fprintf(out, "servesim: %s (seed %llu)\n", sc->name, (unsigned long long)seed);
    fprintf(out, "  %s on %d x %s (tp=%d), scheduler %s, %s arrivals, KV %lld blocks of %d "
                 "tokens\n",
            sc->model.display_name, sc->pools[0].par.tp, sc->pools[0].hw.name,
            sc->pools[0].par.tp, sc->sched_ops->info.name, ss_workload_arrival_name(&sc->workload),
            (long long)s->kv_blocks_total, sc->sched.block_size);
    char calib[512];
    ss_calibration_status(sc, calib, sizeof calib);
    fprintf(out, "  cost model %s: %s\n\n", sc->cost_ops->info.name, calib);
    fprintf(out, "  requests   %llu arrived, %llu finished, %llu rejected, %llu preemptions\n",
            (unsigned long long)s->arrived, (unsigned long long)s->finished,
            (unsigned long long)s->rejected, (unsigned long long)s->preemptions);
    if (s->rows_skipped)
        fprintf(out, "  input      %llu malformed rows skipped (lenient)\n",
                (unsigned long long)s->rows_skipped);
    if (s->excluded)
        fprintf(out, "  measured   %llu requests left out of the metrics (warm-up / cut-off); "
                     "%.2f s measured of %.2f s\n",
                (unsigned long long)s->excluded, s->duration_s, s->run_duration_s);
    fprintf(out, "  duration   %.2f s simulated, %llu iterations, instance busy %.1f%%\n",
            s->run_duration_s, (unsigned long long)s->iterations, 100 * s->busy_fraction);
    fprintf(out, "  throughput %.3f req/s, %.1f input tok/s, %.1f output tok/s\n",
            s->request_throughput, s->input_throughput, s->output_throughput);
    fprintf(out, "  KV cache   mean %.1f%%, peak %.1f%% of %lld blocks\n\n",
            100 * s->kv_util_mean, 100 * s->kv_util_peak, (long long)s->kv_blocks_total);
    fprintf(out, "  %-22s %10s %10s %10s %10s %10s %10s\n", "metric", "mean", "p50", "p90",
            "p95", "p99", "max");
    row(out, "queueing delay", &s->req[SS_M_QUEUE], 1e3, "ms");
    row(out, "TTFT", &s->req[SS_M_TTFT], 1e3, "ms");
    row(out, "TPOT", &s->req[SS_M_TPOT], 1e3, "ms");
    row(out, "ITL", &s->itl_s, 1e3, "ms");
    row(out, "E2E latency", &s->req[SS_M_E2E], 1, "s");
    row(out, "normalised latency", &s->req[SS_M_NORM], 1e3, "ms/token");
    row(out, "batch size", &s->batch_size, 1, "seqs");
    if (ss_summary_has_class_section(s)) print_classes(s, out);
    if (s->has_mlperf) ss_mlperf_print(s, out);
}

ss_rc ss_write_file_atomic(const char *path, const char *text, ss_diag *d)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    if (!f) return ss_diag_set(d, SS_ERR_IO, path, 0, 0, NULL, "cannot write: %s", strerror(errno));
    size_t n = strlen(text);
    int bad = fwrite(text, 1, n, f) != n || fputc('\n', f) == EOF;
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, path) != 0) {
        remove(tmp);
        return ss_diag_set(d, SS_ERR_IO, path, 0, 0, NULL, "cannot write: %s", strerror(errno));
    }
    return SS_OK;
}

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
static void calibration_status(const ss_scenario *sc, char *buf, size_t n)
{
    if (strcmp(sc->cost_ops->info.name, "calibrated") != 0) {
        snprintf(buf, n, "uncalibrated (%s cost model)", sc->cost_ops->info.name);
        return;
    }
    ss_cost_setup cs = {.model = &sc->model, .hw = &sc->pools[0].hw, .par = sc->pools[0].par,
                        .weight_dtype = sc->weight_dtype, .act_dtype = SS_DTYPE_BF16,
                        .kv_dtype = sc->kv_dtype};
    ss_cost_calibration_status(&cs, buf, n);
}

char *ss_summary_json(const ss_scenario *sc, uint64_t seed, const ss_summary *s)
{
    char calib[512];
    calibration_status(sc, calib, sizeof calib);
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

void ss_summary_print(const ss_scenario *sc, uint64_t seed, const ss_summary *s, FILE *out)
{
    fprintf(out, "servesim: %s (seed %llu)\n", sc->name, (unsigned long long)seed);
    fprintf(out, "  %s on %d x %s (tp=%d), scheduler %s, %s arrivals, KV %lld blocks of %d "
                 "tokens\n",
            sc->model.display_name, sc->pools[0].par.tp, sc->pools[0].hw.name,
            sc->pools[0].par.tp, sc->sched_ops->info.name, ss_workload_arrival_name(&sc->workload),
            (long long)s->kv_blocks_total, sc->sched.block_size);
    char calib[512];
    calibration_status(sc, calib, sizeof calib);
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

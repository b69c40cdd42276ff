/* validate e2e: the run reader (good fixture, malformed fields -> file:line: key), the metric
 * definitions and percentiles on hand-computed values (tests/data/validation/README.md), the
 * simulated side and timeline alignment from hand-fed records, refusals of what servesim
 * cannot simulate, and the whole pipeline (deterministic validation.json, and the same TTFT
 * / TPOT / E2E as the engine's own summary). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sim/cli/run_common.h"
#include "validation/validation.h"

#define TINY "tests/data/validation/tiny"
#define TMP "build-test-out/validation"

static void assert_close(double a, double b)
{
    if (!(fabs(a - b) <= 1e-9 * (1 + fabs(b)))) fail_msg("%.17g != %.17g", a, b);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) fail_msg("cannot open %s", path);
    char *buf = malloc(1 << 16);
    assert_non_null(buf);
    size_t n = fread(buf, 1, (1 << 16) - 1, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

static void spit(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    if (!f) fail_msg("cannot write %s", path);
    fputs(text, f);
    fclose(f);
}

/* Copy tiny/ into TMP/name, replacing the first `from` in `file` by `to` (from must occur). */
static void variant(const char *name, const char *file, const char *from, const char *to,
                    char *dir, size_t n)
{
    snprintf(dir, n, "%s/%s", TMP, name);
    ss_diag d;
    ss_diag_clear(&d);
    assert_int_equal(ss_mkdir_p(dir, &d), SS_OK);
    static const char *const files[] = {"meta.json", "requests.jsonl", "timeseries.csv"};
    for (int i = 0; i < 3; i++) {
        char src[512], dst[512];
        snprintf(src, sizeof src, "%s/%s", TINY, files[i]);
        snprintf(dst, sizeof dst, "%s/%s", dir, files[i]);
        char *text = slurp(src);
        if (!strcmp(files[i], file)) {
            char *at = strstr(text, from);
            if (!at) fail_msg("'%s' not in %s", from, file);
            size_t out_n = strlen(text) + strlen(to) + 1;
            char *out = malloc(out_n);
            assert_non_null(out);
            snprintf(out, out_n, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
            free(text);
            text = out;
        }
        spit(dst, text);
        free(text);
    }
}

static ss_val_run *read_ok(const char *dir)
{
    ss_val_run *run = NULL;
    ss_diag d;
    ss_diag_clear(&d);
    if (ss_val_run_read(dir, &run, &d)) {
        char buf[2048];
        ss_diag_format(&d, buf, sizeof buf);
        fail_msg("run rejected: %s", buf);
    }
    return run;
}

/* ================================================================== reader */

static void test_read_tiny(void **state)
{
    (void)state;
    ss_val_run *run = read_ok(TINY);
    assert_int_equal(run->nreq, 4);
    /* sorted by queued_ts: r2 (line 4) before r3 (line 3) */
    const char *ids[] = {"r0", "r1", "r2", "r3"};
    const int lines[] = {1, 2, 4, 3};
    for (int i = 0; i < 4; i++) {
        assert_string_equal(run->req[i].id, ids[i]);
        assert_int_equal(run->req[i].line, lines[i]);
    }
    assert_close(run->q0, 100.0);
    assert_close(run->tick_offset_s, -0.5);
    assert_int_equal(run->ntick, 5);
    assert_int_equal(run->tick[2].running, 2);
    assert_close(run->tick[2].kv_cache_pct, 31.25);
    const ss_val_engine *e = &run->eng;
    assert_string_equal(e->model, "meta-llama/Llama-3.1-8B");
    assert_string_equal(e->device_name, "NVIDIA GeForce RTX 4090");
    assert_int_equal(e->tp, 1);
    assert_int_equal(e->pp, 1);
    assert_int_equal(e->max_num_seqs, 8);
    assert_int_equal(e->max_num_batched_tokens, 256);
    assert_int_equal(e->max_model_len, 1024);
    assert_int_equal(e->block_size, 16);
    assert_int_equal(e->num_gpu_blocks, 64);
    assert_true(e->prefix_caching);
    assert_int_equal(e->async_scheduling, 1);
    assert_int_equal(e->enforce_eager, 0);
    assert_string_equal(e->unmodelled, "");
    ss_val_run_free(run);
}

typedef struct bad_case {
    const char *name, *file, *from, *to;
    const char *where; /* expected "file:line" suffix of the diag */
    const char *key;   /* expected key (NULL: none) */
    const char *msg;   /* expected part of the message */
} bad_case;

static void test_malformed(void **state)
{
    (void)state;
    static const bad_case cases[] = {
        {"tok_string", "requests.jsonl", "\"output_toks\": 2,", "\"output_toks\": \"2\",",
         "requests.jsonl:3", "output_toks", "positive integer"},
        {"tok_zero", "requests.jsonl", "\"input_toks\": 40,", "\"input_toks\": 0,",
         "requests.jsonl:2", "input_toks", "positive integer"},
        {"tok_frac", "requests.jsonl", "\"input_toks\": 40,", "\"input_toks\": 40.5,",
         "requests.jsonl:2", "input_toks", "positive integer"},
        {"missing_key", "requests.jsonl", "\"scheduled_ts\": 100.25, ", "", "requests.jsonl:2",
         "scheduled_ts", "missing key"},
        {"unknown_key", "requests.jsonl", "\"request_id\": \"r1\",",
         "\"request_id\": \"r1\", \"prio\": 1,", "requests.jsonl:2", "prio", "unknown key"},
        {"repeated_key", "requests.jsonl", "\"request_id\": \"r1\",",
         "\"request_id\": \"r1\", \"request_id\": \"r9\",", "requests.jsonl:2", "request_id",
         "repeated key"},
        {"not_json", "requests.jsonl", "{\"request_id\": \"r3\"", "{request_id: \"r3\"",
         "requests.jsonl:3", NULL, "not a valid JSON object"},
        {"trailing", "requests.jsonl", "\"last_token_ts\": 101.0}", "\"last_token_ts\": 101.0} x",
         "requests.jsonl:2", NULL, "not a valid JSON object"},
        {"empty_id", "requests.jsonl", "\"request_id\": \"r1\"", "\"request_id\": \"\"",
         "requests.jsonl:2", "request_id", "got an empty one"},
        {"negative_ts", "requests.jsonl", "\"arrival_time\": 1100.25", "\"arrival_time\": -3",
         "requests.jsonl:2", "arrival_time", "non-negative time"},
        {"out_of_order", "requests.jsonl", "\"first_token_ts\": 100.5,",
         "\"first_token_ts\": 99.5,", "requests.jsonl:1", "first_token_ts",
         "is before scheduled_ts"},
        {"duplicate_id", "requests.jsonl", "\"request_id\": \"r2\"", "\"request_id\": \"r0\"",
         "requests.jsonl:4", "request_id", "'r0' repeats line 1"},
        {"blank_line", "requests.jsonl", "}\n{\"request_id\": \"r1\"",
         "}\n\n{\"request_id\": \"r1\"", "requests.jsonl:2", NULL, "empty line"},
        {"header", "timeseries.csv", "kv_cache_pct", "kv_pct", "timeseries.csv:1", NULL,
         "expected the header"},
        {"tick_text", "timeseries.csv", "2.0,200.0", "2.0,lots", "timeseries.csv:3",
         "prompt_throughput", "non-negative number"},
        {"tick_fields", "timeseries.csv", "4.0,0.0,3.0,1,0,6.25", "4.0,0.0,3.0,1,0",
         "timeseries.csv:5", "kv_cache_pct", "missing field"},
        {"tick_pct", "timeseries.csv", "31.25", "131.25", "timeseries.csv:4", "kv_cache_pct",
         "not a percentage"},
        {"tick_order", "timeseries.csv", "4.0,0.0", "2.5,0.0", "timeseries.csv:5", "t",
         "does not increase"},
        {"meta_type", "meta.json", "\"max_num_seqs\": 8", "\"max_num_seqs\": \"8\"",
         "meta.json:10", "engine_kwargs.max_num_seqs", "expected an integer, got a string"},
        {"meta_range", "meta.json", "\"block_size\": 16", "\"block_size\": 0", "meta.json:22",
         "kv_cache.block_size", "out of range"},
        {"meta_missing", "meta.json", "\"num_gpu_blocks\": 64,", "", "meta.json:20",
         "kv_cache.num_gpu_blocks", "missing required key"},
        {"meta_syntax", "meta.json", "\"dtype\": \"bfloat16\",", "\"dtype\": bfloat16,",
         "meta.json:13", NULL, "not valid JSON"},
        {"meta_time", "meta.json", "00:18:19.5Z", "00:18:19.5", "meta.json:18", "started_at",
         "ISO 8601"},
        {"meta_trailing", "meta.json", "\n}\n", "\n}\n}\n", "meta.json:39", NULL,
         "not valid JSON"},
        {"meta_no_kwargs", "meta.json", "\"engine_kwargs\": {", "\"engine_args\": {",
         "meta.json:1", "engine_kwargs", "expected an object of engine arguments, got nothing"},
        {"meta_bool", "meta.json", "\"enable_prefix_caching\": true",
         "\"enable_prefix_caching\": 1", "meta.json:24", "kv_cache.enable_prefix_caching",
         "expected true or false"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const bad_case *c = &cases[i];
        char dir[256];
        variant(c->name, c->file, c->from, c->to, dir, sizeof dir);
        ss_val_run *run = NULL;
        ss_diag d;
        ss_diag_clear(&d);
        ss_rc rc = ss_val_run_read(dir, &run, &d);
        char buf[2048];
        ss_diag_format(&d, buf, sizeof buf);
        if (rc == SS_OK || run) fail_msg("%s: accepted", c->name);
        char where[300];
        snprintf(where, sizeof where, "%s/%s:", dir, c->where);
        if (strncmp(buf, where, strlen(where))) fail_msg("%s: '%s' is not at %s", c->name, buf, where);
        if (c->key && strcmp(d.key, c->key)) fail_msg("%s: key '%s', want '%s'", c->name, d.key, c->key);
        if (!strstr(d.msg, c->msg)) fail_msg("%s: message '%s' lacks '%s'", c->name, d.msg, c->msg);
    }
}

static void test_missing_dir(void **state)
{
    (void)state;
    ss_val_run *run = NULL;
    ss_diag d;
    ss_diag_clear(&d);
    assert_int_equal(ss_val_run_read("tests/data/validation/nothere", &run, &d), SS_ERR_IO);
    assert_null(run);
    ss_diag_clear(&d);
    assert_int_equal(ss_val_run_read(TINY "/meta.json", &run, &d), SS_ERR_IO);
    assert_non_null(strstr(d.msg, "not a directory"));
}

static void test_parse_utc(void **state)
{
    (void)state;
    double t;
    assert_int_equal(ss_val_parse_utc("1970-01-01T00:00:00Z", &t), 0);
    assert_close(t, 0);
    assert_int_equal(ss_val_parse_utc("2000-03-01T00:00:00+00:00", &t), 0);
    assert_close(t, 951868800); /* date -u -d 2000-03-01 +%s */
    assert_int_equal(ss_val_parse_utc("2026-08-20T23:19:39.5Z", &t), 0);
    assert_close(t, 1787267979.5);
    assert_int_equal(ss_val_parse_utc("2026-08-20 23:19:39Z", &t), -1);
    assert_int_equal(ss_val_parse_utc("2026-08-20T23:19:39", &t), -1);
    assert_int_equal(ss_val_parse_utc("2026-13-20T23:19:39Z", &t), -1);
    assert_int_equal(ss_val_parse_utc("2026-08-20T23:19:39.Z", &t), -1);
}

/* ================================================================== metrics */

static void check_stats(ss_val_stats s, size_t n, double mean, double p50, double p90,
                        double p99)
{
    assert_int_equal(s.n, n);
    assert_close(s.mean, mean);
    assert_close(s.p50, p50);
    assert_close(s.p90, p90);
    assert_close(s.p99, p99);
}

/* The hand-computed figures of tests/data/validation/README.md. */
static void check_tiny_stats(const ss_val_stats *st)
{
    check_stats(st[SS_VAL_TTFT], 4, 0.625, 0.625, 0.925, 0.9925);
    check_stats(st[SS_VAL_TPOT], 3, 2.0 / 3.0, 0.5, 0.9, 0.99);
    check_stats(st[SS_VAL_E2E], 4, 2.0, 2.0, 3.025, 3.2275);
}

static void test_measured_metrics(void **state)
{
    (void)state;
    ss_val_run *run = read_ok(TINY);
    ss_val_stats st[SS_VAL_METRIC_COUNT];
    for (int m = 0; m < SS_VAL_METRIC_COUNT; m++) {
        double *v;
        size_t n;
        assert_int_equal(ss_val_measured(run, (ss_val_metric)m, &v, &n), SS_OK);
        st[m] = ss_val_stats_of(v, n);
        free(v);
    }
    check_tiny_stats(st);
    ss_val_stats z = ss_val_stats_of(NULL, 0);
    assert_int_equal(z.n, 0);
    assert_close(z.mean, 0);
    ss_val_run_free(run);
}

/* Feed the collector the measured timestamps as if simulated: same definitions, so the
 * simulated statistics are the hand-computed ones and every error is 0. Then a timeline. */
static void test_sim_side(void **state)
{
    (void)state;
    ss_val_run *run = read_ok(TINY);
    ss_val_sim *col = NULL;
    ss_diag d;
    ss_diag_clear(&d);
    assert_int_equal(ss_val_sim_create(run->nreq, &col, &d), SS_OK);
    ss_observer o = ss_val_sim_observer(col);
    assert_null(o.on_batch); /* the decode fast path stays on */
    for (size_t i = 0; i < run->nreq; i++) {
        const ss_val_request *m = &run->req[i];
        ss_req r = {.id = i, .state = SS_REQ_FINISHED,
                    .arrival = llround((m->queued_ts - run->q0) * 1e9),
                    .first_token = llround((m->first_token_ts - run->q0) * 1e9),
                    .last_token = llround((m->last_token_ts - run->q0) * 1e9),
                    .output_tokens = (uint32_t)m->output_toks, .preemptions = (uint32_t)i};
        assert_int_equal(o.on_request(o.ctx, &r), 0);
    }
    /* samples at 0, 0.5, 1.5 s; simulated instant of tick t is t - 0.5 */
    ss_sample_record s[] = {
        {.t = 0, .kv_used_blocks = 8, .kv_total_blocks = 64, .waiting_plus_running = 1, .running = 1},
        {.t = 500000000, .kv_used_blocks = 16, .kv_total_blocks = 64, .waiting_plus_running = 3, .running = 2},
        {.t = 1500000000, .kv_used_blocks = 0, .kv_total_blocks = 64, .waiting_plus_running = 0, .running = 0},
    };
    for (int k = 0; k < 3; k++) assert_int_equal(o.on_sample(o.ctx, &s[k]), 0);
    ss_val_report rep;
    assert_int_equal(ss_val_compare(run, col, &rep, &d), SS_OK);
    check_tiny_stats(rep.meas);
    check_tiny_stats(rep.sim);
    assert_close(ss_val_max_mean_error(&rep), 0);
    assert_int_equal(rep.sim_finished, 4);
    assert_int_equal(rep.sim_preemptions, 0 + 1 + 2 + 3);
    assert_close(rep.meas_makespan_s, 4.25);
    assert_close(rep.sim_makespan_s, 4.25);
    assert_int_equal(rep.ntimeline, 5);
    /* t = 1 -> 0.5 s: second sample; t = 2 -> 1.5 s: third; t = 1 is exactly on a sample */
    assert_close(rep.timeline[0].sim_t, 0.5);
    assert_int_equal(rep.timeline[0].sim_running, 2);
    assert_int_equal(rep.timeline[0].sim_waiting, 1);
    assert_close(rep.timeline[0].sim_kv_pct, 25.0);
    assert_int_equal(rep.timeline[0].meas_running, 2);
    assert_close(rep.timeline[0].meas_kv_pct, 12.5);
    assert_int_equal(rep.timeline[1].sim_running, 0);
    assert_close(rep.timeline[1].sim_kv_pct, 0);
    ss_val_report_free(&rep);

    /* a request the simulation never reported is an internal error, not a silent gap */
    ss_val_sim *partial = NULL;
    assert_int_equal(ss_val_sim_create(run->nreq, &partial, &d), SS_OK);
    ss_diag_clear(&d);
    assert_int_equal(ss_val_compare(run, partial, &rep, &d), SS_ERR_INTERNAL);
    assert_non_null(strstr(d.msg, "never reported"));
    ss_val_sim_free(partial);
    ss_val_sim_free(col);
    ss_val_run_free(run);
}

static void test_errors(void **state)
{
    (void)state;
    assert_close(ss_val_error_pct(2, 3), 50);
    assert_close(ss_val_error_pct(4, 3), -25);
    assert_close(ss_val_error_pct(0, 0), 0);
    assert_true(isinf(ss_val_error_pct(0, 1)));
    ss_val_report r = {0};
    r.meas[SS_VAL_TTFT].mean = 1;
    r.sim[SS_VAL_TTFT].mean = 1.1;
    r.meas[SS_VAL_TPOT].mean = 1;
    r.sim[SS_VAL_TPOT].mean = 0.8;
    r.meas[SS_VAL_E2E].mean = 1;
    r.sim[SS_VAL_E2E].mean = 1;
    assert_close(ss_val_max_mean_error(&r), 20);
}

/* ================================================================== mapping */

static void test_model_names(void **state)
{
    (void)state;
    char name[64];
    assert_int_equal(ss_val_model_name("meta-llama/Llama-3.1-8B", name, sizeof name), 0);
    assert_string_equal(name, "llama-3.1-8b");
    assert_int_equal(ss_val_model_name("META-LLAMA/llama-3.1-70b", name, sizeof name), 0);
    assert_string_equal(name, "llama-3.1-70b");
    assert_int_equal(ss_val_model_name("Qwen/Qwen3-30B-A3B", name, sizeof name), 0);
    assert_string_equal(name, "qwen3-30b-a3b");
    assert_int_equal(ss_val_model_name("llama-2-7b", name, sizeof name), 0);
    assert_string_equal(name, "llama-2-7b");
    /* a prefix of a repository name is not that repository */
    assert_int_equal(ss_val_model_name("meta-llama/Llama-3.1-8", name, sizeof name), -1);
    assert_int_equal(ss_val_model_name("meta-llama/Llama-3.1-8B-Instruct", name, sizeof name), -1);
}

static void test_scenario_text(void **state)
{
    (void)state;
    ss_val_run *run = read_ok(TINY);
    ss_val_opts o = {0};
    ss_val_notes notes;
    char *yaml = NULL;
    ss_diag d;
    ss_diag_clear(&d);
    assert_int_equal(ss_val_scenario_yaml(run, &o, &yaml, &notes, &d), SS_OK);
    const char *want[] = {"model: llama-3.1-8b", "- hardware: \"rtx-4090\"",
                          "parallelism: {tp: 1, pp: 1, ep: 1, dp: 1}", "scheduler: vllm_v1",
                          "max_num_seqs: 8", "max_num_batched_tokens: 256",
                          "max_model_len: 1024", "block_size: 16", "num_gpu_blocks: 64",
                          "weight_dtype: bf16", "kv_dtype: auto",
                          "- {at: 0ns, prompt_tokens: 100, output_tokens: 5}  # r0",
                          "- {at: 250000000ns, prompt_tokens: 40, output_tokens: 1}  # r1",
                          "- {at: 1000000000ns, prompt_tokens: 200, output_tokens: 4}  # r2",
                          "- {at: 2000000000ns, prompt_tokens: 300, output_tokens: 2}  # r3",
                          "kv_sample_interval: 10000000ns"};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (!strstr(yaml, want[i])) fail_msg("scenario lacks '%s':\n%s", want[i], yaml);
    /* prefix caching and the rest are stated, never silently dropped */
    int prefix = 0, async = 0, graphs = 0;
    for (int i = 0; i < notes.n; i++) {
        prefix |= strstr(notes.text[i], "prefix caching was on") != NULL;
        async |= strstr(notes.text[i], "async scheduling") != NULL;
        graphs |= strstr(notes.text[i], "CUDA graphs") != NULL;
    }
    assert_true(prefix && async && graphs);
    free(yaml);
    /* --hw and --cost-model go into the text (checked by the loader like any scenario) */
    o.hw = "h100-sxm";
    o.cost_model = "roofline";
    assert_int_equal(ss_val_scenario_yaml(run, &o, &yaml, &notes, &d), SS_OK);
    assert_non_null(strstr(yaml, "- hardware: \"h100-sxm\""));
    assert_non_null(strstr(yaml, "cost_model: \"roofline\""));
    int chosen = 0;
    for (int i = 0; i < notes.n; i++) chosen |= strstr(notes.text[i], "chosen with --hw") != NULL;
    assert_true(chosen);
    free(yaml);
    /* the profile actually simulated is compared with the run's GPU */
    int before = notes.n;
    ss_val_note_profile(run, "rtx-4090", &notes);
    assert_int_equal(notes.n, before);
    ss_val_note_profile(run, "h100-sxm", &notes);
    assert_int_equal(notes.n, before + 1);
    assert_non_null(strstr(notes.text[before], "is not the built-in profile of the run's GPU"));
    ss_val_run_free(run);
}

typedef struct refusal {
    const char *name, *from, *to, *key, *msg;
} refusal;

static void test_refusals(void **state)
{
    (void)state;
    static const refusal cases[] = {
        {"r_pp", "{\"pipeline_parallel_size\": 1}", "{\"pipeline_parallel_size\": 2}",
         "resolved_config.parallel_config.pipeline_parallel_size", "pipeline parallelism"},
        {"r_dp", "\"data_parallel_size\": 1", "\"data_parallel_size\": 4",
         "engine_kwargs.data_parallel_size", "data parallelism"},
        {"r_ep", "\"enable_expert_parallel\": false", "\"enable_expert_parallel\": true",
         "engine_kwargs.enable_expert_parallel", "expert parallelism"},
        {"r_spec", "\"speculative_config\": null", "\"speculative_config\": {\"method\": \"eagle\"}",
         "resolved_config.speculative_config", "speculative decoding"},
        {"r_lora", "\"lora_config\": null", "\"lora_config\": {}", "resolved_config.lora_config",
         "LoRA"},
        {"r_quant", "\"quantization\": null", "\"quantization\": \"awq\"",
         "resolved_config.model_config.quantization", "quantized"},
        {"r_chunk", "\"enable_chunked_prefill\": true", "\"enable_chunked_prefill\": false",
         "resolved_config.scheduler_config.enable_chunked_prefill", "chunked prefill was off"},
        {"r_policy", "\"policy\": \"fcfs\"", "\"policy\": \"priority\"",
         "resolved_config.scheduler_config.policy", "only fcfs"},
        {"r_model", "\"model\": \"meta-llama/Llama-3.1-8B\",\n    \"tensor",
         "\"model\": \"acme/Giant-9T\",\n    \"tensor", "engine_kwargs.model", "acme/Giant-9T"},
        {"r_gpu", "NVIDIA GeForce RTX 4090", "NVIDIA GeForce RTX 9999", "hardware.device_name",
         "--hw NAME|FILE"},
        {"r_dtype", "\"dtype\": \"bfloat16\"", "\"dtype\": \"int3\"", "engine_kwargs.dtype",
         "no servesim equivalent"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const refusal *c = &cases[i];
        char dir[256];
        variant(c->name, "meta.json", c->from, c->to, dir, sizeof dir);
        ss_val_run *run = read_ok(dir);
        ss_val_opts o = {0};
        ss_val_notes notes;
        char *yaml = NULL;
        ss_diag d;
        ss_diag_clear(&d);
        ss_rc rc = ss_val_scenario_yaml(run, &o, &yaml, &notes, &d);
        if (rc != SS_ERR_UNSUPPORTED) fail_msg("%s: rc %d", c->name, rc);
        assert_null(yaml);
        if (strcmp(d.key, c->key)) fail_msg("%s: key '%s', want '%s'", c->name, d.key, c->key);
        if (!strstr(d.msg, c->msg)) fail_msg("%s: '%s' lacks '%s'", c->name, d.msg, c->msg);
        if (d.line <= 0 || !strstr(d.file, "meta.json")) fail_msg("%s: no location", c->name);
        ss_val_run_free(run);
    }
    /* an unknown GPU is fine once --hw names a profile */
    char dir[256];
    variant("r_gpu_hw", "meta.json", "NVIDIA GeForce RTX 4090", "NVIDIA GeForce RTX 9999", dir,
            sizeof dir);
    ss_val_run *run = read_ok(dir);
    ss_val_opts o = {.hw = "rtx-4090"};
    ss_val_notes notes;
    char *yaml = NULL;
    ss_diag d;
    ss_diag_clear(&d);
    assert_int_equal(ss_val_scenario_yaml(run, &o, &yaml, &notes, &d), SS_OK);
    free(yaml);
    ss_val_run_free(run);
}

/* ================================================================== pipeline */

/* read -> scenario -> run with the collector -> compare -> JSON (what the CLI does). */
static char *pipeline(const char *dir, ss_summary *summary, ss_val_report *rep)
{
    ss_val_run *run = read_ok(dir);
    ss_val_opts o = {0};
    ss_val_notes notes;
    char *yaml = NULL;
    ss_diag d;
    ss_diag_clear(&d);
    assert_int_equal(ss_val_scenario_yaml(run, &o, &yaml, &notes, &d), SS_OK);
    ss_scenario *sc = NULL;
    assert_int_equal(ss_scenario_load_string("gen", yaml, NULL, &sc, &d), SS_OK);
    ss_val_sim *col = NULL;
    assert_int_equal(ss_val_sim_create(run->nreq, &col, &d), SS_OK);
    ss_observer tap = ss_val_sim_observer(col);
    ss_run_args a = {.out_dir = NULL, .seed = sc->seed, .tap = &tap};
    assert_int_equal(ss_run_scenario(sc, &a, &d), SS_OK);
    *summary = a.summary;
    assert_int_equal(ss_val_compare(run, col, rep, &d), SS_OK);
    ss_val_context ctx = {.run_dir = dir, .setup = "setup", .hardware = "rtx-4090",
                          .cost_model = "roofline", .notes = &notes,
                          .iterations = a.summary.iterations};
    /* every iteration seen; no preemption in this small run, so prefill = the prompts */
    assert_int_equal(rep->sim_iterations_recorded, a.summary.iterations);
    assert_int_equal(rep->prompt_tokens, 100 + 40 + 200 + 300);
    assert_int_equal(rep->sim_prefill_tokens, rep->prompt_tokens);
    assert_int_equal(a.summary.preemptions, 0);
    char *json = ss_val_report_json(rep, &ctx);
    assert_non_null(json);
    ss_val_sim_free(col);
    ss_scenario_free(sc);
    free(yaml);
    ss_val_run_free(run);
    return json;
}

static void test_pipeline(void **state)
{
    (void)state;
    ss_summary s1, s2;
    ss_val_report r1, r2;
    char *j1 = pipeline(TINY, &s1, &r1), *j2 = pipeline(TINY, &s2, &r2);
    assert_string_equal(j1, j2); /* deterministic, byte for byte */
    /* every request simulated; the simulated side agrees with the engine's own summary,
     * which defines TTFT / TPOT / E2E the same way from the request's arrival */
    assert_int_equal(r1.sim_finished, 4);
    assert_int_equal(r1.sim_rejected, 0);
    assert_close(r1.sim[SS_VAL_TTFT].mean, s1.req[SS_M_TTFT].mean);
    assert_close(r1.sim[SS_VAL_TTFT].p90, s1.req[SS_M_TTFT].p90);
    assert_close(r1.sim[SS_VAL_TPOT].mean, s1.req[SS_M_TPOT].mean);
    assert_int_equal(r1.sim[SS_VAL_TPOT].n, s1.req[SS_M_TPOT].n);
    assert_close(r1.sim[SS_VAL_E2E].p99, s1.req[SS_M_E2E].p99);
    assert_true(r1.sim[SS_VAL_TTFT].mean > 0);
    check_tiny_stats(r1.meas);
    /* the JSON carries the full timeline and every metric */
    assert_non_null(strstr(j1, "\"ttft\""));
    assert_non_null(strstr(j1, "\"tpot\""));
    assert_non_null(strstr(j1, "\"e2e\""));
    assert_non_null(strstr(j1, "prefix caching"));
    assert_non_null(strstr(j1, "\"simulated_prefill_tokens\":\t640"));
    assert_int_equal(r1.ntimeline, 5);
    free(j1);
    free(j2);
    ss_val_report_free(&r1);
    ss_val_report_free(&r2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_tiny),     cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_missing_dir),   cmocka_unit_test(test_parse_utc),
        cmocka_unit_test(test_measured_metrics), cmocka_unit_test(test_sim_side),
        cmocka_unit_test(test_errors),        cmocka_unit_test(test_model_names),
        cmocka_unit_test(test_scenario_text), cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_pipeline),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

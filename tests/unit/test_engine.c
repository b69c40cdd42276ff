/* Engine invariants: conservation, determinism (byte-identical summary.json and result
 * tables), seed sensitivity, M/D/1 queueing delay, KV capacity arithmetic, and stress
 * configurations that make preemption and rejection common. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "sim/cli/run_common.h"
#include "sim/engine/sim.h"
#include "sim/output/output.h"
#include "workloads/scenario.h"

/* ================================================================== helpers */

static ss_scenario *load_text(const char *text)
{
    ss_scenario *sc = NULL;
    ss_diag d;
    ss_diag_clear(&d);
    if (ss_scenario_load_string("test.yaml", text, NULL, &sc, &d)) {
        char buf[2048];
        ss_diag_format(&d, buf, sizeof buf);
        fail_msg("scenario rejected: %s", buf);
    }
    return sc;
}

static ss_scenario *load_file(const char *path)
{
    ss_scenario *sc = NULL;
    ss_diag d;
    ss_diag_clear(&d);
    if (ss_scenario_load_file(path, NULL, &sc, &d)) {
        char buf[2048];
        ss_diag_format(&d, buf, sizeof buf);
        fail_msg("scenario rejected: %s", buf);
    }
    return sc;
}

/* Observer that checks per-request invariants and keeps what tests need. */
typedef struct seen {
    uint8_t *count; /* times each id was reported */
    size_t cap;
    uint64_t finished, rejected, out_tokens_requested, out_tokens_generated;
    uint64_t preemptions;
    double *queue_s; /* by id */
    int64_t kv_total;
    int kv_over;
} seen;

static int obs_req(void *ctx, const ss_req *r)
{
    seen *s = ctx;
    if (r->id >= s->cap) return -1;
    s->count[r->id]++;
    if (r->state == SS_REQ_FINISHED) {
        s->finished++;
        s->out_tokens_requested += r->output_tokens;
        s->out_tokens_generated += r->generated;
        s->preemptions += r->preemptions;
        if (s->queue_s) s->queue_s[r->id] = ss_time_to_s(r->first_scheduled - r->arrival);
        if (r->first_token < r->first_scheduled || r->finish < r->first_token ||
            r->first_scheduled < r->arrival || r->kv_blocks != 0)
            return -1;
    } else {
        s->rejected++;
        if (r->state != SS_REQ_REJECTED || r->reject == SS_REJECT_NONE) return -1;
    }
    return 0;
}

static int obs_iter(void *ctx, const ss_iter_record *it)
{
    seen *s = ctx;
    if (it->kv_used_blocks > it->kv_total_blocks || it->num_seqs <= 0 || it->duration <= 0)
        s->kv_over = 1;
    return 0;
}

static const ss_summary *run_checked(ss_scenario *sc, uint64_t seed, seen *s, ss_sim **simp)
{
    size_t n = (size_t)sc->workload.num_requests;
    memset(s, 0, sizeof *s);
    s->cap = n;
    s->count = calloc(n, 1);
    s->queue_s = calloc(n, sizeof *s->queue_s);
    ss_sim_opts o = {.seed = seed};
    ss_diag d;
    ss_diag_clear(&d);
    ss_sim *sim;
    assert_int_equal(ss_sim_create(sc, &o, &sim, &d), SS_OK);
    ss_observer obs = {.ctx = s, .on_request = obs_req, .on_iteration = obs_iter};
    ss_sim_set_observer(sim, &obs);
    ss_rc rc = ss_sim_run(sim, &d);
    if (rc) fail_msg("run failed: %s", d.msg);
    *simp = sim;
    return ss_sim_summary(sim);
}

static void free_seen(seen *s)
{
    free(s->count);
    free(s->queue_s);
}

/* Every request that arrives is reported exactly once, finished or rejected; output tokens
 * of finished requests are exactly what was asked; the summary agrees. */
static void check_conservation(ss_scenario *sc, uint64_t seed, uint64_t *preempt_out,
                               uint64_t *rejected_out)
{
    seen s;
    ss_sim *sim;
    const ss_summary *sum = run_checked(sc, seed, &s, &sim);
    assert_int_equal(sum->arrived, sc->workload.num_requests);
    for (size_t i = 0; i < s.cap; i++)
        if (s.count[i] != 1) fail_msg("request %zu reported %u times", i, s.count[i]);
    assert_int_equal(s.finished + s.rejected, sum->arrived);
    assert_int_equal(s.finished, sum->finished);
    assert_int_equal(s.rejected, sum->rejected);
    assert_int_equal(s.out_tokens_generated, s.out_tokens_requested);
    assert_int_equal(sum->output_tokens, s.out_tokens_requested);
    assert_int_equal(sum->preemptions, s.preemptions);
    assert_false(s.kv_over);
    if (preempt_out) *preempt_out = s.preemptions;
    if (rejected_out) *rejected_out = s.rejected;
    ss_sim_free(sim);
    free_seen(&s);
}

/* ================================================================== tests */

static void test_conservation(void **st)
{
    (void)st;
    ss_scenario *sc = load_file("tests/data/good/small.yaml");
    check_conservation(sc, 7, NULL, NULL);
    check_conservation(sc, 8, NULL, NULL);
    ss_scenario_free(sc);
}

static const char *const stress_tmpl =
    "model: llama-3.1-8b\n"
    "cluster: {pools: [{hardware: h100-sxm}]}\n"
    "replica: {scheduler: %s, max_num_seqs: %d, block_size: %d, gpu_memory_utilization: %s,"
    " max_model_len: 16384%s%s}\n"
    "workload:\n"
    "  arrival: {process: %s%s}\n"
    "  num_requests: %d\n"
    "  prompt_tokens: {dist: uniform, min: 1, max: %d}\n"
    "  output_tokens: {dist: uniform, min: 1, max: %d}\n"
    "output: {kv_sample_interval: 0}\n";

/* Stress, for every policy: a KV cache of ~4,000 tokens (gpu_memory_utilization just above
 * what the weights and reserve take), block_size 1 and 7, max_num_seqs 1, prompts longer than
 * the cache, swap with a tiny host pool. Preemption and rejection become common;
 * conservation and KV bounds must still hold, and every preempted request finishes. */
static void test_stress(void **st)
{
    (void)st;
    ss_scenario *probe = load_file("tests/data/good/small.yaml");
    double fixed = (double)probe->kv.weight_bytes_per_gpu + (double)probe->kv.reserve_bytes;
    double util = (fixed + 4000.0 * (double)probe->kv.kv_bytes_per_token) /
                  (double)probe->kv.hbm_bytes;
    ss_scenario_free(probe);
    char u[32], text[2048];
    snprintf(u, sizeof u, "%.9f", util);
    struct {
        int seqs, bs, n, pmax, omax;
        const char *proc, *rate;
    } cases[] = {
        {64, 1, 300, 3000, 800, "offline", ""},
        {1, 1, 150, 3000, 300, "poisson", ", rate: 50"},
        {200, 16, 300, 6000, 2000, "offline", ""},
        {8, 7, 200, 2500, 2500, "poisson", ", rate: 100"},
    };
    const char *policies[] = {"static", "orca", "vllm", "sarathi", "vllm_v1", "vllm+swap",
                              "sarathi+swap"};
    for (size_t pi = 0; pi < sizeof policies / sizeof policies[0]; pi++) {
        uint64_t total_preempt = 0, total_rejected = 0;
        char name[32];
        snprintf(name, sizeof name, "%s", policies[pi]);
        char *plus = strchr(name, '+');
        int swap = plus != NULL;
        if (plus) *plus = 0;
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            char extra[128] = "", budget[64] = "";
            if (!strcmp(name, "sarathi"))
                snprintf(budget, sizeof budget, ", chunk_size: %d", cases[i].seqs < 256 ? 256 : cases[i].seqs);
            else if (strcmp(name, "vllm_v1"))
                snprintf(budget, sizeof budget, ", max_num_batched_tokens: 20000");
            if (swap) snprintf(extra, sizeof extra, ", preemption_mode: swap, swap_space: 20MiB");
            snprintf(text, sizeof text, stress_tmpl, name, cases[i].seqs, cases[i].bs, u, budget,
                     extra, cases[i].proc, cases[i].rate, cases[i].n, cases[i].pmax,
                     cases[i].omax);
            ss_scenario *sc = load_text(text);
            assert_true(sc->kv.blocks * (int64_t)cases[i].bs < 4100);
            uint64_t p, r;
            check_conservation(sc, 3, &p, &r);
            total_preempt += p;
            total_rejected += r;
            ss_scenario_free(sc);
        }
        printf("stress %-12s preemptions %llu, rejected %llu\n", policies[pi],
               (unsigned long long)total_preempt, (unsigned long long)total_rejected);
        /* the configurations exist to exercise these paths: make sure they did */
        assert_true(total_rejected > 0);
        if (strcmp(name, "static") && strcmp(name, "orca")) assert_true(total_preempt > 0);
        else assert_true(total_preempt == 0); /* full reservation never preempts */
    }
}

/* Canonical text of the result tables (everything but run_meta). */
static char *dump_db(const char *path)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    const char *tables[] = {"run",      "rng_streams", "requests",    "iterations",
                            "timeline", "summary",     "batch_sizes", "class_summary"};
    size_t cap = 1 << 20, n = 0;
    char *out = malloc(cap);
    out[0] = 0;
    for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++) {
        char q[128];
        snprintf(q, sizeof q, "SELECT * FROM %s ORDER BY 1, 2", tables[t]);
        sqlite3_stmt *st;
        assert_int_equal(sqlite3_prepare_v2(db, q, -1, &st, NULL), SQLITE_OK);
        size_t rows = 0;
        while (sqlite3_step(st) == SQLITE_ROW) {
            rows++;
            for (int c = 0; c < sqlite3_column_count(st); c++) {
                const char *v = (const char *)sqlite3_column_text(st, c);
                size_t len = v ? strlen(v) : 4;
                while (n + len + 4 > cap) out = realloc(out, cap *= 2);
                n += (size_t)sprintf(out + n, "%s|", v ? v : "NULL");
            }
            out[n++] = '\n';
            out[n] = 0;
        }
        sqlite3_finalize(st);
        if (!strcmp(tables[t], "requests") || !strcmp(tables[t], "iterations") ||
            !strcmp(tables[t], "batch_sizes") || !strcmp(tables[t], "class_summary"))
            assert_true(rows > 0);
    }
    sqlite3_close(db);
    return out;
}

static char *read_all(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)len + 1);
    assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
    buf[len] = 0;
    fclose(f);
    return buf;
}

static void run_to_ff(const ss_scenario *sc, uint64_t seed, const char *dir, bool no_ff)
{
    ss_run_args a = {.out_dir = dir, .seed = seed, .command_line = "test", .no_fast_forward = no_ff};
    ss_diag d;
    ss_diag_clear(&d);
    if (ss_run_scenario(sc, &a, &d)) fail_msg("run failed: %s", d.msg);
}

static void run_to(const ss_scenario *sc, uint64_t seed, const char *dir)
{
    run_to_ff(sc, seed, dir, false);
}

static void test_determinism(void **st)
{
    (void)st;
    ss_scenario *sc = load_file("tests/data/good/small.yaml");
    run_to(sc, 11, "build-test-out/det-a");
    run_to(sc, 11, "build-test-out/det-b");
    run_to(sc, 12, "build-test-out/det-c");
    char *ja = read_all("build-test-out/det-a/summary.json");
    char *jb = read_all("build-test-out/det-b/summary.json");
    char *jc = read_all("build-test-out/det-c/summary.json");
    assert_string_equal(ja, jb);
    assert_string_not_equal(ja, jc);
    char *da = dump_db("build-test-out/det-a/results.db");
    char *db = dump_db("build-test-out/det-b/results.db");
    char *dc = dump_db("build-test-out/det-c/results.db");
    assert_true(strlen(da) > 10000);
    assert_string_equal(da, db);
    assert_string_not_equal(da, dc);
    /* the per-request records themselves differ with the seed, not just the seed column */
    assert_non_null(strstr(da, "finished"));
    free(ja), free(jb), free(jc), free(da), free(db), free(dc);
    ss_scenario_free(sc);
}

/* The decode fast-forward is only a faster way to compute the same run: with it on and off,
 * summary.json and every result table are identical (SQLite's disabled-optimisation tests).
 * Cases: the small scenario, a KV-starved one where preemption interrupts stretches, and one
 * with iteration records and timeline samples interleaving with stretches. */
static void check_ff_equivalence(const char *text_or_path, int is_path, uint64_t seed)
{
    ss_scenario *sc = is_path ? load_file(text_or_path) : load_text(text_or_path);
    run_to_ff(sc, seed, "build-test-out/ff-on", false);
    run_to_ff(sc, seed, "build-test-out/ff-off", true);
    char *ja = read_all("build-test-out/ff-on/summary.json");
    char *jb = read_all("build-test-out/ff-off/summary.json");
    assert_string_equal(ja, jb);
    char *da = dump_db("build-test-out/ff-on/results.db");
    char *db = dump_db("build-test-out/ff-off/results.db");
    assert_string_equal(da, db);
    free(ja), free(jb), free(da), free(db);
    ss_scenario_free(sc);
}

static void test_fast_forward_equivalence(void **st)
{
    (void)st;
    check_ff_equivalence("tests/data/good/small.yaml", 1, 5);
    /* request classes (several sources, per-class metrics) and an MLPerf MultiStream run
     * (groups issued on completions, per-query latency) */
    check_ff_equivalence("workloads/scenarios/chat-and-summarise.yaml", 1, 7);
    check_ff_equivalence(
        "model: llama-3.1-8b\ncluster: {pools: [{hardware: h100-sxm}]}\n"
        "replica: {max_model_len: 8192}\n"
        "workload: {mlperf: {scenario: MultiStream, benchmark: llama3_1-8b, min_duration: 20s,"
        " min_query_count: 30}, prompt_tokens: {dist: uniform, min: 50, max: 2000},"
        " output_tokens: {dist: uniform, min: 1, max: 300}}\n",
        0, 4);
    check_ff_equivalence(
        "model: llama-3.1-8b\ncluster: {pools: [{hardware: h100-sxm}]}\n"
        "replica: {max_num_seqs: 128, block_size: 4, gpu_memory_utilization: 0.2425,"
        " max_model_len: 8192}\n"
        "workload: {arrival: {process: poisson, rate: 40}, num_requests: 400,"
        " prompt_tokens: {dist: uniform, min: 10, max: 3000},"
        " output_tokens: {dist: uniform, min: 1, max: 1500}}\n"
        "output: {kv_sample_interval: 250ms}\n",
        0, 9);
    check_ff_equivalence(
        "model: llama-2-7b\ncluster: {pools: [{hardware: a100-80gb-sxm}]}\n"
        "replica: {max_num_seqs: 64, max_model_len: 4096}\n"
        "workload: {arrival: {process: offline}, num_requests: 300, prompt_tokens: 512,"
        " output_tokens: 128}\noutput: {kv_sample_interval: 100ms, iteration_sample: 3}\n",
        0, 1);
    /* ~3,000 tokens of KV in 2-token blocks: free blocks run down to exactly zero in the
     * middle of decode stretches, where vLLM's one-free-block-per-sequence check bites.
     * Every policy, since each has its own steady() rule; Poisson arrivals too, so that
     * stretches end at arrivals as well as at completions. */
    const char *policies[] = {"static", "orca", "vllm", "sarathi", "vllm_v1"};
    for (size_t p = 0; p < sizeof policies / sizeof policies[0]; p++)
        for (uint64_t seed = 1; seed <= 3; seed++) {
            char text[1024];
            snprintf(text, sizeof text,
                     "model: llama-3.1-8b\ncluster: {pools: [{hardware: h100-sxm}]}\n"
                     "replica: {scheduler: %s, max_num_seqs: 64, block_size: 2,"
                     " gpu_memory_utilization: 0.2353, max_model_len: 2048%s}\n"
                     "workload: {arrival: {process: %s}, num_requests: 150,"
                     " prompt_tokens: {dist: uniform, min: 10, max: 1200},"
                     " output_tokens: {dist: uniform, min: 50, max: 400}}\n"
                     "output: {kv_sample_interval: 0}\n",
                     policies[p], !strcmp(policies[p], "sarathi") ? ", chunk_size: 256" : "",
                     seed == 3 ? "poisson, rate: 30" : "offline");
            check_ff_equivalence(text, 0, seed);
        }
}

/* M/D/1: one request at a time (max_num_seqs 1), one output token, fixed prompt: the
 * service time D is one deterministic prefill iteration. Poisson arrivals at rate rho / D.
 * Mean wait in queue: Wq = rho D / (2 (1 - rho)). Waits are strongly autocorrelated near
 * rho = 0.8, so the tolerance comes from batch means (20 batches after a 5% warm-up), and
 * the run is long enough that the batch-means standard error is below 3% of Wq. */
static void md1_case(double rho, int n_requests)
{
    char text[1024];
    snprintf(text, sizeof text,
             "model: llama-3.1-8b\ncluster: {pools: [{hardware: h100-sxm}]}\n"
             "replica: {max_num_seqs: 1, max_model_len: 4096}\n"
             "workload: {arrival: {process: offline}, num_requests: 1, prompt_tokens: 1000,"
             " output_tokens: 1}\noutput: {kv_sample_interval: 0}\n");
    ss_scenario *one = load_text(text);
    seen s;
    ss_sim *sim;
    const ss_summary *sum = run_checked(one, 1, &s, &sim);
    double D = sum->req[SS_M_E2E].max;
    assert_true(D > 0);
    assert_true(fabs(sum->req[SS_M_E2E].p50 - D) < 1e-12);
    ss_sim_free(sim);
    free_seen(&s);
    ss_scenario_free(one);

    snprintf(text, sizeof text,
             "model: llama-3.1-8b\ncluster: {pools: [{hardware: h100-sxm}]}\n"
             "replica: {max_num_seqs: 1, max_model_len: 4096}\n"
             "workload: {arrival: {process: poisson, rate: %.17g}, num_requests: %d,"
             " prompt_tokens: 1000, output_tokens: 1}\noutput: {kv_sample_interval: 0}\n",
             rho / D, n_requests);
    ss_scenario *sc = load_text(text);
    sum = run_checked(sc, 2024, &s, &sim);
    assert_int_equal(sum->finished, (uint64_t)n_requests);
    /* service time is exactly D for everyone */
    assert_true(fabs(sum->req[SS_M_E2E].p50 - sum->req[SS_M_QUEUE].p50 - D) < 1e-6 ||
                sum->req[SS_M_QUEUE].p50 == 0);
    size_t warm = (size_t)n_requests / 20, nb = 20;
    size_t per = ((size_t)n_requests - warm) / nb;
    double bm[20], mean = 0;
    for (size_t b = 0; b < nb; b++) {
        double acc = 0;
        for (size_t i = 0; i < per; i++) acc += s.queue_s[warm + b * per + i];
        bm[b] = acc / (double)per;
        mean += bm[b] / (double)nb;
    }
    double var = 0;
    for (size_t b = 0; b < nb; b++) var += (bm[b] - mean) * (bm[b] - mean) / (double)(nb - 1);
    double se = sqrt(var / (double)nb);
    double wq = rho * D / (2 * (1 - rho));
    printf("M/D/1 rho=%.2f: D=%.6g s, Wq theory %.6g s, simulated %.6g s, batch-means SE %.3g "
           "(%.2f%%)\n", rho, D, wq, mean, se, 100 * se / wq);
    assert_true(se / wq < 0.03);               /* the run is long enough to decide */
    assert_true(fabs(mean - wq) < 4 * se + 0.005 * wq); /* and it agrees */
    ss_sim_free(sim);
    free_seen(&s);
    ss_scenario_free(sc);
}

static void test_md1(void **st)
{
    (void)st;
    md1_case(0.5, 100000);
    md1_case(0.8, 300000);
}

/* KV arithmetic on the default pairing, with the numbers written out:
 * Llama-3.1-8B bf16 on one H100 SXM (80 GiB), gpu_memory_utilization 0.9, block 16. */
static void test_kv_capacity(void **st)
{
    (void)st;
    ss_scenario *sc = load_file("tests/data/good/small.yaml");
    assert_int_equal(sc->kv.hbm_bytes, 85899345920ULL);
    assert_int_equal(sc->kv.kv_bytes_per_token, 32ULL * 2 * 8 * 128 * 2); /* 131072 */
    assert_int_equal(sc->kv.weight_bytes_per_gpu, 2ULL * 8030261248ULL);
    double space = 85899345920.0 * 0.9 - 16060522496.0 - (double)sc->pools[0].hw.reserve_bytes;
    int64_t want = (int64_t)floor(space / (16.0 * 131072.0));
    assert_int_equal(sc->kv.blocks, want);
    assert_true(want > 20000 && want < 30000);
    ss_scenario_free(sc);
}

/* Offline batch: every request arrives at t = 0 and the first iteration sees all of them
 * (arrivals are ordered before iterations at one instant). */
static void test_offline_first_batch(void **st)
{
    (void)st;
    ss_scenario *sc = load_text(
        "model: llama-3.1-8b\ncluster: {pools: [{hardware: h100-sxm}]}\n"
        "replica: {max_num_seqs: 256, max_num_batched_tokens: 100000, max_model_len: 4096}\n"
        "workload: {arrival: {process: offline}, num_requests: 50, prompt_tokens: 100,"
        " output_tokens: 10}\noutput: {kv_sample_interval: 0}\n");
    seen s;
    ss_sim *sim;
    const ss_summary *sum = run_checked(sc, 1, &s, &sim);
    /* one prefill iteration of 50 + 9 decode iterations of 50 */
    assert_int_equal(sum->iterations, 10);
    assert_true(sum->batch_size.max == 50 && sum->batch_size.p50 == 50);
    assert_true(sum->req[SS_M_QUEUE].max == 0);
    /* TTFT equal for all; TPOT equal for all */
    assert_true(sum->req[SS_M_TTFT].p50 == sum->req[SS_M_TTFT].max);
    assert_true(sum->itl_s.n == 50 * 9);
    ss_sim_free(sim);
    free_seen(&s);
    ss_scenario_free(sc);
}

/* Warm-up and cut-off: requests arriving outside [warmup, cutoff] are simulated and
 * recorded but left out of every request metric, and the summary counts them. */
typedef struct wcount {
    ss_time_ns warmup, cutoff;
    uint64_t excluded, measured_finished, measured_itl, bad;
} wcount;

static int obs_window(void *ctx, const ss_req *r)
{
    wcount *w = ctx;
    int in = r->arrival >= w->warmup && r->arrival <= w->cutoff;
    if (in != r->measured) w->bad++;
    if (!r->measured) w->excluded++;
    else if (r->state == SS_REQ_FINISHED) {
        w->measured_finished++;
        w->measured_itl += r->generated - 1;
    }
    return 0;
}

static void test_warmup_cutoff(void **st)
{
    (void)st;
    for (int ff = 0; ff < 2; ff++) {
        ss_scenario *sc = load_text(
            "model: llama-3.1-8b\ncluster: {pools: [{hardware: h100-sxm}]}\n"
            "replica: {max_num_seqs: 64, max_model_len: 4096}\n"
            "workload: {arrival: {process: poisson, rate: 20}, num_requests: 600,"
            " warmup: 5s, cutoff: 20s,"
            " prompt_tokens: {dist: uniform, min: 10, max: 1000},"
            " output_tokens: {dist: uniform, min: 1, max: 400}}\n"
            "output: {kv_sample_interval: 0}\n");
        wcount w = {.warmup = 5 * SS_NS_PER_S, .cutoff = 20 * SS_NS_PER_S};
        ss_sim_opts o = {.seed = 4, .no_fast_forward = ff};
        ss_diag d;
        ss_diag_clear(&d);
        ss_sim *sim;
        assert_int_equal(ss_sim_create(sc, &o, &sim, &d), SS_OK);
        ss_observer obs = {.ctx = &w, .on_request = obs_window};
        ss_sim_set_observer(sim, &obs);
        assert_int_equal(ss_sim_run(sim, &d), SS_OK);
        const ss_summary *sum = ss_sim_summary(sim);
        assert_int_equal(w.bad, 0);
        assert_true(w.excluded > 100 && w.excluded < 500);
        assert_int_equal(sum->excluded, w.excluded);
        assert_int_equal(sum->req[SS_M_TTFT].n, w.measured_finished);
        assert_int_equal(sum->itl_s.n, w.measured_itl);
        assert_true(sum->duration_s < sum->run_duration_s);
        ss_sim_free(sim);
        ss_scenario_free(sc);
    }
}

/* Trace replay: each request arrives at its row's time (relative to the first row, scaled)
 * with its row's lengths; an empirical length table only ever yields observed pairs. */
typedef struct tlog {
    ss_time_ns t[64];
    uint32_t p[64], o[64];
    size_t n;
} tlog;

static int obs_tlog(void *ctx, const ss_req *r)
{
    tlog *l = ctx;
    if (r->id >= 64) return -1;
    l->t[r->id] = r->arrival;
    l->p[r->id] = r->prompt_tokens;
    l->o[r->id] = r->output_tokens;
    l->n++;
    return 0;
}

static void run_log(const char *text, tlog *l)
{
    ss_scenario *sc = load_text(text);
    memset(l, 0, sizeof *l);
    ss_sim_opts o = {.seed = 2};
    ss_diag d;
    ss_diag_clear(&d);
    ss_sim *sim;
    assert_int_equal(ss_sim_create(sc, &o, &sim, &d), SS_OK);
    ss_observer obs = {.ctx = l, .on_request = obs_tlog};
    ss_sim_set_observer(sim, &obs);
    if (ss_sim_run(sim, &d)) fail_msg("%s", d.msg);
    ss_sim_free(sim);
    ss_scenario_free(sc);
}

static void test_trace_replay(void **st)
{
    (void)st;
    tlog l;
    const char *head = "model: llama-3.1-8b\ncluster: {pools: [{hardware: h100-sxm}]}\n"
                       "replica: {max_model_len: 4096}\noutput: {kv_sample_interval: 0}\n";
    char text[1024];
    snprintf(text, sizeof text, "%sworkload: {trace: tests/data/traces/az2023_small.csv}\n", head);
    run_log(text, &l);
    /* 2023-11-16 18:17:03.4581291 is t = 0; .4581292 is 100 ns later; 2023-11-17 00:00 is
     * 20,576.5418709 s later; 2024-03-01 00:00 (106 days after 2023-11-16 00:00, through
     * 29 February) is 9,092,576.5418709 s after the first row */
    assert_int_equal(l.n, 7);
    assert_int_equal(l.t[0], 0);
    assert_int_equal(l.t[1], 100);
    assert_int_equal(l.t[3], 20576541870900LL);
    assert_int_equal(l.t[6], 9092576541870900LL);
    assert_int_equal(l.p[0], 1200);
    assert_int_equal(l.o[0], 31);
    assert_int_equal(l.p[1], 845);
    /* speedup 1000: every time divided by 1,000 (to the nearest ns) */
    snprintf(text, sizeof text,
             "%sworkload: {arrival: {process: trace, file: tests/data/traces/az2023_small.csv,"
             " speedup: 1000}}\n", head);
    run_log(text, &l);
    assert_int_equal(l.t[3], 20576541871LL);
    /* rate 2 req/s: 7 rows span 6 gaps, so the last arrives at 3 s */
    snprintf(text, sizeof text,
             "%sworkload: {arrival: {process: trace, file: tests/data/traces/az2023_small.csv,"
             " rate: 2}}\n", head);
    run_log(text, &l);
    assert_true(llabs(l.t[6] - 3 * SS_NS_PER_S) <= 1);
    /* Mooncake: milliseconds, relative to the first row */
    snprintf(text, sizeof text, "%sworkload: {trace: tests/data/traces/mc25_small.jsonl}\n",
             head);
    run_log(text, &l);
    assert_int_equal(l.n, 4);
    assert_int_equal(l.t[1], 7000000);
    assert_int_equal(l.t[3], 3600001LL * 1000000);
    /* empirical lengths from a length-only table: only observed pairs, all of them seen */
    snprintf(text, sizeof text,
             "%sworkload: {arrival: {process: poisson, rate: 5}, num_requests: 60,"
             " lengths: {file: tests/data/traces/lengths_small.csv}}\n", head);
    run_log(text, &l);
    int pairs[3] = {0, 0, 0};
    for (size_t i = 0; i < l.n; i++) {
        if (l.p[i] == 3000 && l.o[i] == 50) pairs[0]++;
        else if (l.p[i] == 7 && l.o[i] == 3) pairs[1]++;
        else if (l.p[i] == 1 && l.o[i] == 1) pairs[2]++;
        else fail_msg("pair (%u, %u) is not in the table", l.p[i], l.o[i]);
    }
    assert_true(pairs[0] && pairs[1] && pairs[2]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conservation),   cmocka_unit_test(test_stress),
        cmocka_unit_test(test_determinism),    cmocka_unit_test(test_md1),
        cmocka_unit_test(test_kv_capacity),    cmocka_unit_test(test_offline_first_batch),
        cmocka_unit_test(test_fast_forward_equivalence),
        cmocka_unit_test(test_warmup_cutoff),
        cmocka_unit_test(test_trace_replay),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

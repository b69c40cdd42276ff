/* Request classes and MLPerf scenarios in the engine: per-class metrics and SLO attainment on
 * hand-made requests, class stream independence, the single-source form as class "default",
 * determinism by seed, and the arrival patterns of the MLPerf scenarios (one query in flight,
 * whole groups, issue until both minimums). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sim/engine/metrics.h"
#include "sim/engine/sim.h"
#include "sim/output/output.h"
#include "workloads/scenario.h"

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

/* ================================================================== metrics by hand */

static ss_req req(uint16_t cls, double arrival_s, double ttft_s, double last_s, uint32_t out)
{
    ss_req r;
    memset(&r, 0, sizeof r);
    r.cls = cls;
    r.state = SS_REQ_FINISHED;
    r.measured = 1;
    r.arrival = ss_time_from_s(arrival_s);
    r.first_scheduled = r.arrival;
    r.first_token = ss_time_from_s(arrival_s + ttft_s);
    r.last_token = r.finish = ss_time_from_s(last_s);
    r.prompt_tokens = 100;
    r.output_tokens = r.generated = out;
    return r;
}

/* Class 0 "chat": TTFT <= 200 ms and TPOT <= 50 ms. Class 1: E2E <= 10 s. Class 2: no SLO.
 *   chat a: TTFT 0.1, TPOT (1.1 - 0.1)/20 = 0.05 exactly  -> meets (targets are inclusive)
 *   chat b: TTFT 0.3                                      -> misses TTFT
 *   chat c: TTFT 0.1, TPOT (2.1 - 0.1)/10 = 0.2           -> misses TPOT
 *   chat d: rejected                                      -> misses
 *   class 1 e: E2E 9 s -> meets; f: E2E 11 s -> misses
 *   class 2 g: no SLO, not counted in the overall attainment
 * Measured span: first arrival 0 s to last finish 20 s = 20 s.
 * chat: 1 of 4 met = 25%, goodput 1/20 = 0.05 req/s and a's 21 tokens / 20 s.
 * class 1: 1 of 2 = 50%, goodput 0.05 req/s, 5 tok/s (e has 100 output tokens).
 * overall: 2 of 6 met, goodput 2 / 20 = 0.1 req/s, (21 + 100) / 20 tok/s. */
static void test_class_metrics_by_hand(void **st)
{
    (void)st;
    ss_metrics m;
    assert_int_equal(ss_metrics_init(&m, 8, 100), 0);
    ss_slo slos[3] = {{.ttft = 200000000, .tpot = 50000000}, {.e2e = 10 * SS_NS_PER_S}, {0, 0, 0}};
    assert_int_equal(ss_metrics_classes(&m, 3, slos), 0);
    ss_req rs[] = {req(0, 0.0, 0.1, 1.1, 21), req(0, 1.0, 0.3, 2.0, 5),
                   req(0, 2.0, 0.1, 4.1, 11), req(1, 3.0, 1.0, 12.0, 100),
                   req(1, 4.0, 1.0, 15.0, 7),  req(2, 5.0, 1.0, 20.0, 3)};
    m.first_arrival = m.meas_first_arrival = 0;
    for (size_t i = 0; i < sizeof rs / sizeof rs[0]; i++) {
        m.arrived++;
        ss_metrics_class_arrival(&m, &rs[i]);
        assert_int_equal(ss_metrics_finish(&m, &rs[i]), 0);
    }
    ss_req rej = req(0, 6.0, 0, 6.0, 1);
    rej.state = SS_REQ_REJECTED;
    m.arrived++;
    m.rejected++;
    ss_metrics_class_arrival(&m, &rej);
    ss_metrics_class_reject(&m, &rej);
    ss_summary s;
    ss_metrics_summarize(&m, &s);
    assert_int_equal(s.nclasses, 3);
    const ss_class_summary *chat = &s.classes[0], *c1 = &s.classes[1], *c2 = &s.classes[2];
    assert_true(s.duration_s == 20.0);
    assert_int_equal(chat->arrived, 4);
    assert_int_equal(chat->finished, 3);
    assert_int_equal(chat->rejected, 1);
    assert_int_equal(chat->measured, 4);
    assert_int_equal(chat->slo_met, 1);
    assert_true(chat->has_slo);
    assert_true(chat->slo_attainment == 0.25);
    assert_true(chat->goodput_rps == 1.0 / 20.0);
    assert_true(chat->goodput_tokens_per_s == 21.0 / 20.0);
    assert_true(chat->request_throughput == 3.0 / 20.0);
    assert_int_equal(chat->req[SS_M_TTFT].n, 3);
    assert_true(chat->req[SS_M_TTFT].max > 0.2999 && chat->req[SS_M_TTFT].max < 0.3001);
    assert_int_equal(c1->slo_met, 1);
    assert_true(c1->slo_attainment == 0.5);
    assert_true(c1->goodput_tokens_per_s == 100.0 / 20.0);
    assert_false(c2->has_slo);
    assert_true(c2->slo_attainment == 0);
    assert_true(s.has_slo);
    assert_int_equal(s.slo_measured, 6);
    assert_int_equal(s.slo_met, 2);
    assert_true(s.slo_attainment == 2.0 / 6.0);
    assert_true(s.goodput_rps == 2.0 / 20.0);
    assert_true(s.goodput_tokens_per_s == 121.0 / 20.0);
    /* the classes' throughputs add up to the total */
    double sum = chat->request_throughput + c1->request_throughput + c2->request_throughput;
    assert_true(sum > s.request_throughput - 1e-12 && sum < s.request_throughput + 1e-12);
    assert_true(s.request_throughput == 6.0 / 20.0);
    ss_metrics_free(&m);
}

static void test_slo_met_edges(void **st)
{
    (void)st;
    ss_slo slo = {.tpot = 10000000};
    ss_req r = req(0, 0, 0.5, 0.5, 1); /* one token: TPOT undefined, meets the target */
    assert_true(ss_slo_met(&slo, &r));
    r = req(0, 0, 0.5, 0.6, 11); /* (0.6 - 0.5) / 10 = 10 ms: meets */
    assert_true(ss_slo_met(&slo, &r));
    r.last_token += 1; /* 1 ns more: misses */
    assert_false(ss_slo_met(&slo, &r));
    r.state = SS_REQ_REJECTED;
    ss_slo none = {0, 0, 0};
    assert_false(ss_slo_met(&none, &r));
}

/* ================================================================== engine */

typedef struct arrivals {
    double t[8192];
    uint32_t prompt[8192];
    uint64_t id[8192];
    double finish[8192];
    size_t n;
    int cls; /* only this class (-1: all) */
} arrivals;

static int obs_arrival(void *ctx, const ss_req *r)
{
    arrivals *a = ctx;
    if (a->cls >= 0 && r->cls != a->cls) return 0;
    if (a->n == 8192) return -1;
    a->t[a->n] = ss_time_to_s(r->arrival);
    a->prompt[a->n] = r->prompt_tokens;
    a->id[a->n] = r->id;
    a->finish[a->n] = ss_time_to_s(r->finish);
    a->n++;
    return 0;
}

/* Records in arrival order (they are reported in completion order). */
static void sort_by_arrival(arrivals *a)
{
    for (size_t i = 1; i < a->n; i++)
        for (size_t j = i; j > 0 && (a->t[j] < a->t[j - 1] ||
                                     (a->t[j] == a->t[j - 1] && a->id[j] < a->id[j - 1]));
             j--) {
            double t = a->t[j];
            a->t[j] = a->t[j - 1];
            a->t[j - 1] = t;
            uint32_t p = a->prompt[j];
            a->prompt[j] = a->prompt[j - 1];
            a->prompt[j - 1] = p;
            uint64_t id = a->id[j];
            a->id[j] = a->id[j - 1];
            a->id[j - 1] = id;
            double f = a->finish[j];
            a->finish[j] = a->finish[j - 1];
            a->finish[j - 1] = f;
        }
}

static ss_summary run(const char *text, uint64_t seed, arrivals *a)
{
    ss_scenario *sc = load_text(text);
    ss_sim_opts o = {.seed = seed};
    ss_sim *sim;
    ss_diag d;
    ss_diag_clear(&d);
    assert_int_equal(ss_sim_create(sc, &o, &sim, &d), SS_OK);
    if (a) {
        ss_observer obs = {.ctx = a, .on_request = obs_arrival};
        ss_sim_set_observer(sim, &obs);
    }
    if (ss_sim_run(sim, &d)) fail_msg("run failed: %s", d.msg);
    ss_summary s = *ss_sim_summary(sim);
    ss_sim_free(sim);
    ss_scenario_free(sc);
    if (a) sort_by_arrival(a);
    return s;
}

#define HEAD                                                                                  \
    "model: llama-3.1-8b\n"                                                                   \
    "cluster: {pools: [{hardware: h100-sxm}]}\n"                                              \
    "replica: {max_model_len: 8192}\n"

static const char *const chat_class =
    "    - name: chat\n"
    "      arrival: {process: poisson, rate: 5}\n"
    "      num_requests: 300\n"
    "      prompt_tokens: {dist: lognormal, mu: 5, sigma: 0.8, min: 8, max: 2048}\n"
    "      output_tokens: {dist: uniform, min: 1, max: 200}\n"
    "      slo: {ttft: 100ms}\n";
static const char *const summ_class =
    "    - name: summarise\n"
    "      arrival: {process: gamma, rate: 2, cv: 3}\n"
    "      num_requests: 200\n"
    "      prompt_tokens: {dist: uniform, min: 1000, max: 4000}\n"
    "      output_tokens: 100\n";

/* Adding a class leaves another class's arrival times and lengths unchanged (its own named
 * streams), though its latencies change with the extra load. */
static void test_class_stream_independence(void **st)
{
    (void)st;
    char one[2048], two[2048];
    snprintf(one, sizeof one, HEAD "workload:\n  classes:\n%s", chat_class);
    snprintf(two, sizeof two, HEAD "workload:\n  classes:\n%s%s", summ_class, chat_class);
    arrivals *a = calloc(1, sizeof *a), *b = calloc(1, sizeof *b);
    a->cls = 0; /* chat is class 0 in `one`, class 1 in `two` */
    b->cls = 1;
    ss_summary s1 = run(one, 11, a);
    ss_summary s2 = run(two, 11, b);
    assert_int_equal(a->n, 300);
    assert_int_equal(b->n, 300);
    for (size_t i = 0; i < a->n; i++) {
        assert_true(a->t[i] == b->t[i]);
        assert_int_equal(a->prompt[i], b->prompt[i]);
    }
    assert_int_equal(s1.nclasses, 1);
    assert_int_equal(s2.nclasses, 2);
    assert_string_equal(s2.classes[1].name, "chat");
    assert_int_equal(s2.classes[0].finished, 200);
    assert_int_equal(s2.arrived, 500);
    /* the load of the other class shows in chat's first-token times */
    assert_true(s2.classes[1].req[SS_M_TTFT].mean > s1.classes[0].req[SS_M_TTFT].mean);
    free(a);
    free(b);
}

/* The single-source form is class "default": a class list with one class named "default"
 * draws from the same streams and gives the same results. */
static void test_default_class_equivalence(void **st)
{
    (void)st;
    const char *single =
        HEAD "workload:\n  arrival: {process: poisson, rate: 5}\n  num_requests: 200\n"
             "  prompt_tokens: {dist: lognormal, mu: 5, sigma: 0.8, min: 8, max: 2048}\n"
             "  output_tokens: {dist: uniform, min: 1, max: 200}\n";
    const char *listed =
        HEAD "workload:\n  classes:\n    - name: default\n"
             "      arrival: {process: poisson, rate: 5}\n      num_requests: 200\n"
             "      prompt_tokens: {dist: lognormal, mu: 5, sigma: 0.8, min: 8, max: 2048}\n"
             "      output_tokens: {dist: uniform, min: 1, max: 200}\n";
    ss_summary a = run(single, 3, NULL), b = run(listed, 3, NULL);
    assert_true(a.duration_s == b.duration_s);
    assert_true(a.req[SS_M_E2E].p99 == b.req[SS_M_E2E].p99);
    assert_int_equal(a.output_tokens, b.output_tokens);
    assert_string_equal(a.classes[0].name, "default");
}

/* Same scenario and seed: byte-identical summary.json (with classes, SLOs and an MLPerf
 * verdict); another seed changes it. */
static void test_determinism_by_seed(void **st)
{
    (void)st;
    char two[2048];
    snprintf(two, sizeof two, HEAD "workload:\n  slo: {e2e: 5s}\n  classes:\n%s%s", chat_class,
             summ_class);
    const char *ml = HEAD "workload:\n  mlperf: {scenario: Server, benchmark: llama3_1-8b, "
                          "target_qps: 4, min_duration: 30s}\n"
                          "  prompt_tokens: {dist: lognormal, mu: 6, sigma: 0.7, min: 8, max: 2000}\n"
                          "  output_tokens: {dist: lognormal, mu: 4.8, sigma: 0.5, min: 1, max: 512}\n";
    const char *texts[] = {two, ml};
    for (int k = 0; k < 2; k++) {
        ss_scenario *sc = load_text(texts[k]);
        char *js[3];
        uint64_t seeds[3] = {5, 5, 6};
        for (int i = 0; i < 3; i++) {
            ss_summary s = run(texts[k], seeds[i], NULL);
            js[i] = ss_summary_json(sc, seeds[i], &s);
        }
        assert_string_equal(js[0], js[1]);
        assert_true(strcmp(js[0], js[2]) != 0);
        assert_non_null(strstr(js[0], k ? "\"mlperf\"" : "\"classes\""));
        for (int i = 0; i < 3; i++) free(js[i]);
        ss_scenario_free(sc);
    }
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Two closed-loop classes: each keeps exactly its own number of requests in flight while it
 * is issuing (the other class's completions never free one of its clients). */
static void test_closed_loop_per_class(void **st)
{
    (void)st;
    const char *t =
        HEAD "workload:\n  classes:\n"
             "    - name: few\n      arrival: {process: closed_loop, clients: 3}\n"
             "      num_requests: 200\n      prompt_tokens: {dist: uniform, min: 50, max: 1500}\n"
             "      output_tokens: {dist: uniform, min: 1, max: 200}\n"
             "    - name: many\n      arrival: {process: closed_loop, clients: 7}\n"
             "      num_requests: 400\n      prompt_tokens: {dist: uniform, min: 50, max: 1500}\n"
             "      output_tokens: {dist: uniform, min: 1, max: 200}\n";
    const int clients[2] = {3, 7};
    for (int c = 0; c < 2; c++) {
        arrivals *a = calloc(1, sizeof *a);
        a->cls = c;
        run(t, 9, a);
        size_t n = a->n;
        assert_int_equal(n, c ? 400 : 200);
        double *fin = malloc(n * sizeof *fin);
        memcpy(fin, a->finish, n * sizeof *fin);
        qsort(fin, n, sizeof *fin, cmp_d);
        size_t fi = 0;
        int max_in = 0;
        for (size_t i = 0; i < n; i++) {
            if (i + 1 < n && a->t[i + 1] == a->t[i]) continue; /* count after all at t */
            while (fi < n && fin[fi] <= a->t[i]) fi++;
            int in = (int)(i + 1 - fi);
            if (in > max_in) max_in = in;
            if (a->t[i] < a->t[n - 1] && in != clients[c])
                fail_msg("class %d: %d in flight at t=%g, expected %d", c, in, a->t[i], clients[c]);
        }
        assert_int_equal(max_in, clients[c]);
        free(fin);
        free(a);
    }
}

#define ML_LENGTHS                                                                            \
    "  prompt_tokens: {dist: uniform, min: 50, max: 500}\n"                                   \
    "  output_tokens: {dist: uniform, min: 10, max: 100}\n"

/* SingleStream: one query in flight; each is issued when the previous one completes, until
 * both 20 s and 100 queries have passed. */
static void test_mlperf_singlestream(void **st)
{
    (void)st;
    const char *t = HEAD "workload:\n  mlperf: {scenario: SingleStream, min_duration: 20s}\n"
                         ML_LENGTHS;
    arrivals *a = calloc(1, sizeof *a);
    a->cls = -1;
    ss_summary s = run(t, 1, a);
    assert_true(s.has_mlperf);
    assert_true(a->n >= 100);
    for (size_t i = 1; i < a->n; i++) assert_true(a->t[i] == a->finish[i - 1]);
    assert_true(a->t[a->n - 1] >= 20.0);
    assert_true(a->n == 100 || a->t[a->n - 2] < 20.0); /* stops as soon as both hold */
    assert_true(s.mlperf.valid);
    assert_true(s.mlperf.min_duration_ok && s.mlperf.min_queries_ok);
    free(a);
}

/* MultiStream: groups of samples_per_query at one instant; the next group when the whole
 * previous one finished; only whole groups. */
static void test_mlperf_multistream(void **st)
{
    (void)st;
    const char *t = HEAD "workload:\n  mlperf: {scenario: MultiStream, samples_per_query: 4, "
                         "min_duration: 10s, min_query_count: 20}\n" ML_LENGTHS;
    arrivals *a = calloc(1, sizeof *a);
    a->cls = -1;
    ss_summary s = run(t, 2, a);
    assert_int_equal(a->n % 4, 0);
    size_t groups = a->n / 4;
    assert_true(groups >= 20);
    double lat[2048], max_lat = 0, sum = 0;
    for (size_t g = 0; g < groups; g++) {
        double done = 0;
        for (size_t k = 0; k < 4; k++) {
            assert_true(a->t[4 * g + k] == a->t[4 * g]);
            if (a->finish[4 * g + k] > done) done = a->finish[4 * g + k];
        }
        if (g + 1 < groups) assert_true(a->t[4 * (g + 1)] == done);
        lat[g] = done - a->t[4 * g];
        sum += lat[g];
        if (lat[g] > max_lat) max_lat = lat[g];
    }
    assert_int_equal(s.mlperf_obs.queries, groups);
    /* the reported latency is per query: issue of the group to its last completion */
    assert_int_equal(s.mlperf_obs.latency.n, groups);
    assert_true(s.mlperf_obs.latency.max > max_lat - 1e-9 && s.mlperf_obs.latency.max < max_lat + 1e-9);
    double mean = sum / (double)groups;
    assert_true(s.mlperf_obs.latency.mean > mean - 1e-9 && s.mlperf_obs.latency.mean < mean + 1e-9);
    assert_true(s.mlperf.valid);
    free(a);
}

/* Server: Poisson at target_qps until the first query scheduled at or after min_duration;
 * a short run is INVALID on min_duration and min_query_count. Offline: everything at t = 0. */
static void test_mlperf_server_and_offline(void **st)
{
    (void)st;
    const char *t = HEAD "workload:\n  mlperf: {scenario: Server, benchmark: llama3_1-8b, "
                         "target_qps: 10, min_duration: 15s}\n" ML_LENGTHS;
    arrivals *a = calloc(1, sizeof *a);
    a->cls = -1;
    ss_summary s = run(t, 3, a);
    assert_true(a->t[a->n - 1] >= 15.0 && a->t[a->n - 2] < 15.0);
    assert_true(a->n >= 100);
    assert_true(s.mlperf.valid);
    double rate = (double)(a->n - 1) / a->t[a->n - 1];
    assert_true(rate > 7 && rate < 13); /* ~10 qps over ~150 gaps */

    const char *shortrun = HEAD "workload:\n  num_requests: 50\n  mlperf: {scenario: Server, "
                                "benchmark: llama3_1-8b, target_qps: 10}\n" ML_LENGTHS;
    s = run(shortrun, 3, NULL);
    assert_false(s.mlperf.valid);
    assert_false(s.mlperf.min_duration_ok);
    assert_false(s.mlperf.min_queries_ok);
    assert_true(s.mlperf.perf_ok);

    const char *off = HEAD "workload:\n  mlperf: {scenario: Offline, benchmark: llama3_1-8b, "
                           "min_query_count: 300, min_duration: 100ms}\n" ML_LENGTHS;
    a->n = 0;
    s = run(off, 4, a);
    assert_int_equal(a->n, 300);
    assert_true(a->t[0] == 0 && a->t[a->n - 1] == 0);
    assert_true(s.mlperf.valid);
    assert_true(s.mlperf.samples_per_s == 300.0 / s.mlperf_obs.all_done_s);
    /* Offline sizes itself to max(min_query_count, 1.1 x min_duration x target_qps) */
    ss_scenario *sc = load_text(HEAD "workload:\n  mlperf: {scenario: Offline, benchmark: "
                                     "llama3_1-8b, target_qps: 40}\n" ML_LENGTHS);
    assert_int_equal(sc->workload.num_requests, 26400); /* 1.1 x 600 x 40 > 13368 */
    ss_scenario_free(sc);
    free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_class_metrics_by_hand),
        cmocka_unit_test(test_slo_met_edges),
        cmocka_unit_test(test_class_stream_independence),
        cmocka_unit_test(test_default_class_equivalence),
        cmocka_unit_test(test_determinism_by_seed),
        cmocka_unit_test(test_closed_loop_per_class),
        cmocka_unit_test(test_mlperf_singlestream),
        cmocka_unit_test(test_mlperf_multistream),
        cmocka_unit_test(test_mlperf_server_and_offline),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

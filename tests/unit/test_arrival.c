/* Arrival processes: empirical rate and coefficient of variation match the configuration,
 * every generator is reproducible by seed, and closed_loop keeps exactly N requests in
 * flight. */
#include <math.h>
#include <stdbool.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sim/engine/sim.h"
#include "workloads/arrival.h"
#include "workloads/scenario.h"

typedef struct cfg {
    ss_arrival_cfg_head head;
    double rate, cv;
} cfg;

/* n gaps (seconds) of process `name` with rate and cv, from a stream seeded `seed`. */
static double *gaps(const char *name, double rate, double cv, uint64_t seed, size_t n)
{
    const ss_arrival_ops *ops = ss_arrival_find(name);
    assert_non_null(ops);
    cfg c = {.rate = rate, .cv = cv};
    snprintf(c.head.process, sizeof c.head.process, "%s", name);
    ss_rng rng;
    assert_int_equal(ss_rng_init(&rng, seed, 0, "default/arrivals", NULL), SS_OK);
    void *st;
    assert_int_equal(ops->create(&c, &rng, &st, NULL), SS_OK);
    double *g = malloc(n * sizeof *g);
    ss_time_ns prev = 0;
    for (size_t i = 0; i < n; i++) {
        ss_time_ns t = ops->next(st, prev);
        assert_true(t == ops->next(st, prev)); /* next() does not consume */
        ops->consume(st, t);
        g[i] = ss_time_to_s(t - prev);
        prev = t;
    }
    ops->destroy(st);
    ss_rng_free(&rng);
    return g;
}

static void rate_cv(const double *g, size_t n, double *rate, double *cv)
{
    double m = 0, v = 0;
    for (size_t i = 0; i < n; i++) m += g[i];
    m /= (double)n;
    for (size_t i = 0; i < n; i++) v += (g[i] - m) * (g[i] - m);
    v /= (double)(n - 1);
    *rate = 1.0 / m;
    *cv = sqrt(v) / m;
}

/* 200,000 gaps: the relative standard error of the rate is cv / sqrt(n) (<= 0.45% for
 * cv = 2) and of the sample CV a few tenths of a percent more; tolerances are ~5 SE. */
static void check(const char *name, double rate, double cv, double want_cv)
{
    size_t n = 200000;
    double *g = gaps(name, rate, cv, 7, n), r, c;
    rate_cv(g, n, &r, &c);
    printf("%-8s rate %.4f (want %.4f)  cv %.4f (want %.4f)\n", name, r, rate, c, want_cv);
    assert_true(fabs(r - rate) / rate < 0.025);
    if (want_cv == 0) assert_true(c < 1e-6);
    else assert_true(fabs(c - want_cv) / want_cv < 0.04);
    free(g);
}

static void test_rates_and_cv(void **st)
{
    (void)st;
    check("poisson", 10, 0, 1.0);
    check("gamma", 10, 0.5, 0.5);
    check("gamma", 3, 2.0, 2.0);
    check("gamma", 50, 1.0, 1.0);
    check("constant", 4, 0, 0);
}

static void test_reproducible(void **st)
{
    (void)st;
    const char *names[] = {"poisson", "gamma", "constant"};
    for (size_t k = 0; k < 3; k++) {
        double *a = gaps(names[k], 5, 1.5, 1, 1000), *b = gaps(names[k], 5, 1.5, 1, 1000),
               *c = gaps(names[k], 5, 1.5, 2, 1000);
        assert_memory_equal(a, b, 1000 * sizeof *a);
        if (strcmp(names[k], "constant")) assert_memory_not_equal(a, c, 1000 * sizeof *a);
        free(a), free(b), free(c);
    }
}

/* ---------------------------------------------------------------- closed loop */

typedef struct rec {
    ss_time_ns arrival, finish;
} rec;
typedef struct recs {
    rec *r;
    size_t n, cap;
} recs;

static int on_req(void *ctx, const ss_req *q)
{
    recs *rs = ctx;
    if (q->id >= rs->cap) return -1;
    rs->r[q->id].arrival = q->arrival;
    rs->r[q->id].finish = q->finish;
    rs->n++;
    return 0;
}

static int cmp_t(const void *a, const void *b)
{
    ss_time_ns x = *(const ss_time_ns *)a, y = *(const ss_time_ns *)b;
    return x < y ? -1 : x > y;
}

static void closed_case(int clients, const char *think, int n_requests)
{
    char text[1024];
    snprintf(text, sizeof text,
             "model: llama-3.1-8b\ncluster: {pools: [{hardware: h100-sxm}]}\n"
             "replica: {max_num_seqs: 64, max_model_len: 8192}\n"
             "workload:\n  arrival: {process: closed_loop, clients: %d, think_time: %s}\n"
             "  num_requests: %d\n"
             "  prompt_tokens: {dist: uniform, min: 50, max: 2000}\n"
             "  output_tokens: {dist: uniform, min: 1, max: 300}\n"
             "output: {kv_sample_interval: 0}\n",
             clients, think, n_requests);
    ss_scenario *sc;
    ss_diag d;
    ss_diag_clear(&d);
    if (ss_scenario_load_string("t.yaml", text, NULL, &sc, &d)) fail_msg("%s", d.msg);
    recs rs = {.r = calloc((size_t)n_requests, sizeof(rec)), .cap = (size_t)n_requests};
    ss_sim *sim;
    ss_sim_opts o = {.seed = 3};
    assert_int_equal(ss_sim_create(sc, &o, &sim, &d), SS_OK);
    ss_observer obs = {.ctx = &rs, .on_request = on_req};
    ss_sim_set_observer(sim, &obs);
    if (ss_sim_run(sim, &d)) fail_msg("%s", d.msg);
    assert_int_equal(rs.n, (size_t)n_requests);
    /* In flight at time t = arrived by t - finished by t (finishes at t first). From the
     * first arrival until the last one it must be exactly `clients` when think time is 0,
     * and at most `clients` otherwise. */
    ss_time_ns *arr = malloc((size_t)n_requests * sizeof *arr);
    ss_time_ns *fin = malloc((size_t)n_requests * sizeof *fin);
    for (int i = 0; i < n_requests; i++) {
        arr[i] = rs.r[i].arrival;
        fin[i] = rs.r[i].finish;
    }
    qsort(arr, (size_t)n_requests, sizeof *arr, cmp_t);
    qsort(fin, (size_t)n_requests, sizeof *fin, cmp_t);
    size_t fi = 0;
    int max_inflight = 0;
    for (int i = 0; i < n_requests; i++) {
        if (i + 1 < n_requests && arr[i + 1] == arr[i]) continue; /* count after all at t */
        while (fi < (size_t)n_requests && fin[fi] <= arr[i]) fi++;
        int inflight = i + 1 - (int)fi;
        if (inflight > max_inflight) max_inflight = inflight;
        /* at the last arrival instant the request budget may run out mid-instant */
        if (!strcmp(think, "0") && inflight != clients && arr[i] < arr[n_requests - 1])
            fail_msg("clients %d: %d in flight at arrival %d of %d (t=%lld ns)", clients,
                     inflight, i, n_requests, (long long)arr[i]);
        else assert_true(inflight <= clients);
    }
    assert_int_equal(max_inflight, clients);
    free(arr), free(fin), free(rs.r);
    ss_sim_free(sim);
    ss_scenario_free(sc);
}

static void test_closed_loop(void **st)
{
    (void)st;
    closed_case(1, "0", 50);
    closed_case(8, "0", 400);
    closed_case(32, "0", 1000);
    closed_case(8, "500ms", 300);
}

/* ---------------------------------------------------------------- determinism by seed */

/* Every generator of a workload, run through the simulator: per request id, its arrival
 * time and lengths. */
typedef struct draw {
    ss_time_ns arrival;
    uint32_t prompt, output;
} draw;
typedef struct draws {
    draw *d;
    size_t n, cap;
} draws;

static int on_draw(void *ctx, const ss_req *q)
{
    draws *ds = ctx;
    if (q->id >= ds->cap) return -1;
    ds->d[q->id] = (draw){q->arrival, q->prompt_tokens, q->output_tokens};
    ds->n++;
    return 0;
}

/* The requests of `workload` (YAML lines under "workload:") run with `seed`. */
static draw *run_draws(const char *workload, uint64_t seed, size_t n)
{
    char text[2048];
    snprintf(text, sizeof text,
             "model: llama-3.1-8b\ncluster: {pools: [{hardware: h100-sxm}]}\n"
             "replica: {max_num_seqs: 64, max_model_len: 8192}\n"
             "workload:\n%s  num_requests: %zu\noutput: {kv_sample_interval: 0}\n",
             workload, n);
    ss_scenario *sc;
    ss_diag d;
    ss_diag_clear(&d);
    /* relative trace paths resolve against the scenario's directory */
    if (ss_scenario_load_string("tests/data/good/t.yaml", text, NULL, &sc, &d))
        fail_msg("%s: %s", workload, d.msg);
    draws ds = {.d = calloc(n, sizeof(draw)), .cap = n};
    ss_sim *sim;
    ss_sim_opts o = {.seed = seed};
    assert_int_equal(ss_sim_create(sc, &o, &sim, &d), SS_OK);
    ss_observer obs = {.ctx = &ds, .on_request = on_draw};
    ss_sim_set_observer(sim, &obs);
    if (ss_sim_run(sim, &d)) fail_msg("%s: %s", workload, d.msg);
    if (ds.n != n) fail_msg("%s: %zu of %zu requests", workload, ds.n, n);
    ss_sim_free(sim);
    ss_scenario_free(sc);
    return ds.d;
}

/* Same seed: identical draws. Different seed: different draws, unless the generator is
 * deterministic (`seeded` false: a fixed length, a trace replayed as recorded or rescaled,
 * whose times must not depend on the seed). */
static void check_seed_n(const char *workload, bool seeded, size_t n)
{
    draw *a = run_draws(workload, 11, n), *b = run_draws(workload, 11, n),
         *c = run_draws(workload, 12, n);
    if (memcmp(a, b, n * sizeof *a)) fail_msg("%s: same seed, different draws", workload);
    bool differ = memcmp(a, c, n * sizeof *a) != 0;
    if (seeded && !differ) fail_msg("%s: seeds 11 and 12 give the same draws", workload);
    if (!seeded && differ) fail_msg("%s: a deterministic generator depends on the seed", workload);
    free(a), free(b), free(c);
}
static void check_seed(const char *workload, bool seeded) { check_seed_n(workload, seeded, 200); }

#define LEN_FIXED_OUT "  output_tokens: 20\n"
static void test_seed_every_generator(void **st)
{
    (void)st;
    /* arrival processes (lengths: uniform, so closed-loop times depend on them) */
    const char *lens = "  prompt_tokens: {dist: uniform, min: 50, max: 2000}\n"
                       "  output_tokens: {dist: uniform, min: 1, max: 300}\n";
    const char *arrivals[] = {
        "  arrival: {process: poisson, rate: 20}\n",
        "  arrival: {process: gamma, rate: 20, cv: 2}\n",
        "  arrival: {process: closed_loop, clients: 8, think_time: 0}\n",
        "  arrival: {process: closed_loop, clients: 4, think_time: 200ms}\n",
        "  arrival: {process: grouped, group_size: 8, think_time: 100ms}\n",
    };
    char w[1024];
    for (size_t i = 0; i < sizeof arrivals / sizeof arrivals[0]; i++) {
        snprintf(w, sizeof w, "%s%s", arrivals[i], lens);
        check_seed(w, true);
    }
    /* a trace, rescaled to another rate: its times and lengths are the file's, whatever
     * the seed */
    check_seed_n("  arrival: {process: trace, file: ../traces/az2023_small.csv, rate: 50}\n",
                 false, 6);
    check_seed_n("  arrival: {process: trace, file: ../traces/az2023_small.csv, speedup: 3}\n",
                 false, 6);
    /* every length distribution, under constant arrivals (so only the lengths vary) */
    const char *dists[] = {
        "  prompt_tokens: {dist: uniform, min: 10, max: 4000}\n",
        "  prompt_tokens: {dist: normal, mean: 800, sd: 300, min: 1, max: 4000}\n",
        "  prompt_tokens: {dist: lognormal, mu: 6, sigma: 0.8, min: 1, max: 4000}\n",
        "  prompt_tokens: {dist: zipf, s: 1.2, min: 1, max: 4000}\n",
    };
    for (size_t i = 0; i < sizeof dists / sizeof dists[0]; i++) {
        snprintf(w, sizeof w, "  arrival: {process: constant, rate: 10}\n%s" LEN_FIXED_OUT,
                 dists[i]);
        check_seed(w, true);
    }
    check_seed("  arrival: {process: constant, rate: 10}\n  prompt_tokens: 300\n" LEN_FIXED_OUT,
               false);
    check_seed("  arrival: {process: constant, rate: 10}\n"
               "  prompt_tokens: {dist: fixed, value: 300}\n" LEN_FIXED_OUT, false);
    /* empirical lengths: (prompt, output) pairs drawn from a file */
    check_seed("  arrival: {process: constant, rate: 10}\n"
               "  lengths: {file: ../traces/lengths_small.csv}\n", true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rates_and_cv),
        cmocka_unit_test(test_reproducible),
        cmocka_unit_test(test_closed_loop),
        cmocka_unit_test(test_seed_every_generator),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

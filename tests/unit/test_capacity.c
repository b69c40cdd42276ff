/* Unit tests for sim/study/capacity.c (the bisection and its confidence-interval decisions)
 * on synthetic monotone models with a known threshold, for sim/study/slo.c, and for the
 * simulator evaluator's independence of the number of worker processes.
 *
 * Synthetic model: the value of the single term is limit * (load / threshold) * (1 + noise),
 * with noise uniform in [-a, a], drawn from a hash of (load, replication) so that a
 * replication's value depends only on its load and index, as the real evaluator's does. The
 * SLO therefore holds exactly below `threshold` when a = 0. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "sim/study/capacity.h"
#include "sim/study/capacity_eval.h"
#include "sim/study/search.h"

typedef struct synth {
    double threshold[2]; /* per term */
    double noise;        /* relative amplitude */
    int calls, reps_asked;
    int lower;           /* term 0 is "at least" (attainment-like, falls with load) */
} synth;

static double hash_unit(double load, int rep)
{
    uint64_t x;
    memcpy(&x, &load, sizeof x);
    x ^= (uint64_t)rep * 0x9E3779B97F4A7C15ULL;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return (double)(x >> 11) / 9007199254740992.0 * 2 - 1; /* [-1, 1) */
}

static ss_rc synth_eval(void *ctx, double load, int first, int n, ss_cap_sample *out, ss_diag *d)
{
    (void)d;
    synth *s = ctx;
    s->calls++;
    s->reps_asked += n;
    for (int i = 0; i < n; i++) {
        double e = 1 + s->noise * hash_unit(load, first + i);
        memset(&out[i], 0, sizeof out[i]);
        for (int k = 0; k < 2; k++) out[i].v[k] = 2.0 * load / s->threshold[k] * e;
        if (s->lower) out[i].v[0] = 0.99 * s->threshold[0] / load * e;
        out[i].aux[SS_CAP_REQ_TPUT] = load;
    }
    return SS_OK;
}

static ss_slo_spec slo2(void)
{
    ss_slo_spec s;
    memset(&s, 0, sizeof s);
    s.nterms = 2;
    s.term[0] = (ss_slo_term){.name = "a_p99", .limit = 2.0};
    s.term[1] = (ss_slo_term){.name = "b_p99", .limit = 2.0};
    return s;
}

static void test_finds_known_threshold(void **state)
{
    (void)state;
    const double thresholds[] = {0.7, 3.3, 7.9, 12.5, 100.0, 1234.5};
    for (size_t i = 0; i < sizeof thresholds / sizeof thresholds[0]; i++) {
        synth m = {.threshold = {thresholds[i], 1e9}};
        ss_slo_spec slo = slo2();
        ss_cap_opts o;
        ss_cap_opts_default(&o);
        o.lo = 0.5;
        o.hi = 2; /* below most thresholds: doubling must find the upper bound */
        o.tol = 0.01;
        o.max_evals = 64;
        ss_cap_result r;
        assert_int_equal(ss_cap_search(&slo, &o, synth_eval, &m, &r, NULL), SS_OK);
        assert_int_equal(r.status, SS_CAP_CONVERGED);
        assert_true(r.lo <= thresholds[i] && thresholds[i] <= r.hi);
        assert_true(r.hi - r.lo <= 0.01 * r.hi);
        assert_true(r.capacity == r.lo);
        assert_int_equal(r.binding, 0);
        /* the capacity step is a pass and carries its load's means */
        assert_true(r.cap_step >= 0 && r.steps[r.cap_step].verdict == SS_CAP_PASS);
        assert_true(r.steps[r.cap_step].load == r.capacity);
        assert_true(r.steps[r.cap_step].aux[SS_CAP_REQ_TPUT] == r.capacity);
        assert_int_equal(r.runs, m.reps_asked);
    }
}

static void test_binding_term(void **state)
{
    (void)state;
    synth m = {.threshold = {50, 9}}; /* term 1 binds first */
    ss_slo_spec slo = slo2();
    ss_cap_opts o;
    ss_cap_opts_default(&o);
    o.lo = 1;
    o.hi = 100;
    ss_cap_result r;
    assert_int_equal(ss_cap_search(&slo, &o, synth_eval, &m, &r, NULL), SS_OK);
    assert_int_equal(r.status, SS_CAP_CONVERGED);
    assert_true(r.lo <= 9 && 9 <= r.hi);
    assert_int_equal(r.binding, 1);
}

static void test_lower_bounded_term(void **state)
{
    (void)state;
    /* value 0.99 * T / load >= 0.99 holds for load <= T */
    synth m = {.threshold = {6.25, 1e9}, .lower = 1};
    ss_slo_spec slo = slo2();
    slo.term[0] = (ss_slo_term){.name = "attainment", .metric = SS_SLO_ATTAINMENT, .limit = 0.99,
                                .at_least = 1};
    ss_cap_opts o;
    ss_cap_opts_default(&o);
    o.lo = 1;
    o.hi = 4;
    o.tol = 0.02;
    ss_cap_result r;
    assert_int_equal(ss_cap_search(&slo, &o, synth_eval, &m, &r, NULL), SS_OK);
    assert_int_equal(r.status, SS_CAP_CONVERGED);
    assert_true(r.lo <= 6.25 && 6.25 <= r.hi);
    assert_int_equal(r.binding, 0);
}

static void test_straddle_reports_bracket(void **state)
{
    (void)state;
    /* 10% noise: close to the threshold the 95% interval of 3..9 replications straddles the
     * limit, so the search must stop there and report a bracket containing the threshold */
    synth m = {.threshold = {10, 1e9}, .noise = 0.10};
    ss_slo_spec slo = slo2();
    ss_cap_opts o;
    ss_cap_opts_default(&o);
    o.lo = 1;
    o.hi = 64;
    o.tol = 0.001;
    ss_cap_result r;
    assert_int_equal(ss_cap_search(&slo, &o, synth_eval, &m, &r, NULL), SS_OK);
    assert_int_equal(r.status, SS_CAP_STRADDLE);
    assert_true(r.lo < 10 && 10 < r.hi);
    const ss_cap_step *u = &r.steps[r.hi_step];
    assert_int_equal(u->verdict, SS_CAP_UNSURE);
    assert_int_equal(u->reps, o.max_reps); /* replications were added before giving up */
    assert_true(u->mean[0] - u->half[0] <= 2.0 && 2.0 <= u->mean[0] + u->half[0]);
    assert_true(u->load > r.lo && u->load < r.hi);
    /* every pass verdict was a sure one: its upper bound is below the limit */
    for (size_t i = 0; i < r.nsteps; i++)
        if (r.steps[i].verdict == SS_CAP_PASS)
            assert_true(r.steps[i].mean[0] + r.steps[i].half[0] <= 2.0);
}


static void test_unsure_below(void **state)
{
    (void)state;
    /* the same noisy model as test_straddle_reports_bracket, but unsure loads count as not
     * shown to pass: the search goes on below them and converges to a narrow bracket whose
     * low end passed surely */
    synth m = {.threshold = {10, 1e9}, .noise = 0.10};
    ss_slo_spec slo = slo2();
    ss_cap_opts o;
    ss_cap_opts_default(&o);
    o.lo = 1;
    o.hi = 64;
    o.tol = 0.02;
    o.on_unsure = SS_CAP_BELOW;
    ss_cap_result r;
    assert_int_equal(ss_cap_search(&slo, &o, synth_eval, &m, &r, NULL), SS_OK);
    assert_int_equal(r.status, SS_CAP_CONVERGED);
    assert_true(r.unsure >= 1);
    assert_true(r.hi - r.lo <= 0.02 * r.hi);
    /* the noise is +-10%: a sure pass needs the mean well below the limit, so the capacity
     * is below the threshold but not far below it */
    assert_true(r.capacity < 10 && r.capacity > 10 * 0.8);
    assert_int_equal(r.steps[r.cap_step].verdict, SS_CAP_PASS);
    assert_true(r.steps[r.hi_step].verdict != SS_CAP_PASS);
}

/* Replications alternate 1.4, 2.1, 1.4, ... against a limit of 2 at loads <= 5 and read 10
 * above. By hand (t quantiles of Student's t at 97.5%): 3 values give 1.633 +- 1.004 and 6
 * give 1.750 +- 0.402, both straddling 2; 9 give 1.711 +- 0.284 (upper end 1.995): a pass. */
static ss_rc alt_eval(void *ctx, double load, int first, int n, ss_cap_sample *out, ss_diag *d)
{
    (void)ctx;
    (void)d;
    for (int i = 0; i < n; i++) {
        memset(&out[i], 0, sizeof out[i]);
        out[i].v[0] = load > 5 ? 10 : ((first + i) % 2 ? 2.1 : 1.4);
    }
    return SS_OK;
}

static void test_more_reps_resolve(void **state)
{
    (void)state;
    ss_slo_spec slo = slo2();
    slo.nterms = 1;
    ss_cap_opts o;
    ss_cap_opts_default(&o);
    o.lo = 5;
    o.hi = 6;
    o.max_reps = 9;
    ss_cap_result r;
    assert_int_equal(ss_cap_search(&slo, &o, alt_eval, NULL, &r, NULL), SS_OK);
    assert_int_equal(r.steps[0].reps, 9);
    assert_int_equal(r.steps[0].verdict, SS_CAP_PASS);
    assert_true(fabs(r.steps[0].mean[0] - 15.4 / 9) < 1e-12);
    assert_true(fabs(r.steps[0].half[0] - 0.28358) < 1e-4);
    assert_int_equal(r.status, SS_CAP_CONVERGED);
    assert_true(r.capacity == 5);
    /* with at most 6 replications the lowest load stays unsure: not shown to pass */
    o.max_reps = 6;
    assert_int_equal(ss_cap_search(&slo, &o, alt_eval, NULL, &r, NULL), SS_OK);
    assert_int_equal(r.status, SS_CAP_INFEASIBLE);
    assert_int_equal(r.steps[0].verdict, SS_CAP_UNSURE);
    assert_int_equal(r.steps[0].reps, 6);
    assert_true(fabs(r.steps[0].half[0] - 0.4024) < 1e-3);
}

static void test_infeasible_and_unbounded(void **state)
{
    (void)state;
    synth m = {.threshold = {0.2, 1e9}};
    ss_slo_spec slo = slo2();
    ss_cap_opts o;
    ss_cap_opts_default(&o);
    ss_cap_result r;
    assert_int_equal(ss_cap_search(&slo, &o, synth_eval, &m, &r, NULL), SS_OK);
    assert_int_equal(r.status, SS_CAP_INFEASIBLE);
    assert_true(r.capacity == 0 && r.hi == o.lo);
    assert_int_equal(m.calls, 1); /* nothing evaluated after the lowest load failed */

    synth big = {.threshold = {1e9, 1e9}};
    o.max_doublings = 3;
    assert_int_equal(ss_cap_search(&slo, &o, synth_eval, &big, &r, NULL), SS_OK);
    assert_int_equal(r.status, SS_CAP_UNBOUNDED);
    assert_true(r.capacity == o.hi * 8 && isinf(r.hi));
}

static void test_integer_loads(void **state)
{
    (void)state;
    synth m = {.threshold = {37.5, 1e9}};
    ss_slo_spec slo = slo2();
    ss_cap_opts o;
    ss_cap_opts_default(&o);
    o.integer = 1;
    o.lo = 1;
    o.hi = 8;
    ss_cap_result r;
    assert_int_equal(ss_cap_search(&slo, &o, synth_eval, &m, &r, NULL), SS_OK);
    assert_int_equal(r.status, SS_CAP_CONVERGED);
    assert_true(r.capacity == 37 && r.hi == 38);
    for (size_t i = 0; i < r.nsteps; i++) assert_true(r.steps[i].load == floor(r.steps[i].load));
}

static void test_bad_options(void **state)
{
    (void)state;
    synth m = {.threshold = {5, 5}};
    ss_slo_spec slo = slo2();
    ss_cap_opts o;
    ss_cap_opts_default(&o);
    o.hi = o.lo;
    ss_cap_result r;
    ss_diag d;
    ss_diag_clear(&d);
    assert_int_equal(ss_cap_search(&slo, &o, synth_eval, &m, &r, &d), SS_ERR_INVALID);
    assert_non_null(strstr(d.msg, "lo < hi"));
    ss_cap_opts_default(&o);
    o.max_reps = 1;
    assert_int_equal(ss_cap_search(&slo, &o, synth_eval, &m, &r, NULL), SS_ERR_INVALID);
}

static void test_slo_spec(void **state)
{
    (void)state;
    ss_slo_spec s;
    ss_diag d;
    ss_diag_clear(&d);
    assert_int_equal(ss_slo_parse_spec("ttft_p99=2s,tpot_p99=100ms", &s, &d), SS_OK);
    assert_int_equal(s.nterms, 2);
    assert_string_equal(s.term[0].name, "ttft_p99");
    assert_true(fabs(s.term[0].limit - 2.0) < 1e-12 && fabs(s.term[1].limit - 0.1) < 1e-12);
    /* per-request targets default to the limits */
    assert_true(fabs(s.target_ttft - 2.0) < 1e-12 && fabs(s.target_tpot - 0.1) < 1e-12);
    assert_int_equal(ss_slo_parse_spec("attainment=0.99,ttft=1s", &s, &d), SS_OK);
    assert_int_equal(s.nterms, 1);
    assert_true(s.term[0].at_least && s.target_ttft == 1.0 && s.target_tpot == 0);

    const char *bad[][2] = {
        {"ttft_p42=2s", "unknown SLO key"},
        {"ttft_p99=fast", "ttft_p99"},
        {"ttft_p99=-1s", "out of range"},
        {"attainment=0.99", "needs a per-request target"},
        {"attainment=1.5", "out of range"},
        {"ttft_p99", "expected KEY=VALUE"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ss_diag_clear(&d);
        assert_int_equal(ss_slo_parse_spec(bad[i][0], &s, &d), SS_ERR_INVALID);
        char msg[2048];
        ss_diag_format(&d, msg, sizeof msg);
        if (!strstr(msg, bad[i][1])) fail_msg("'%s': got '%s'", bad[i][0], msg);
    }
}

static void test_request_ok(void **state)
{
    (void)state;
    ss_slo_spec s;
    assert_int_equal(ss_slo_parse_spec("ttft_p99=2s,tpot_p99=100ms", &s, NULL), SS_OK);
    ss_req r;
    memset(&r, 0, sizeof r);
    r.state = SS_REQ_FINISHED;
    r.arrival = 0;
    r.first_token = ss_time_from_s(1.5);
    r.generated = 11;
    r.last_token = r.first_token + ss_time_from_s(1.0); /* TPOT 100 ms: meets */
    assert_true(ss_slo_request_ok(&s, &r));
    r.last_token = r.first_token + ss_time_from_s(1.01);
    assert_false(ss_slo_request_ok(&s, &r));
    r.last_token = r.first_token + ss_time_from_s(0.5);
    r.first_token = ss_time_from_s(2.5);
    assert_false(ss_slo_request_ok(&s, &r));
    r.state = SS_REQ_REJECTED;
    assert_false(ss_slo_request_ok(&s, &r));
}

/* ------------------------------------------------------------- the simulator evaluator */

static ss_rc load_small(void *ctx, const ss_overrides *extra, ss_scenario **out, ss_diag *d)
{
    (void)ctx;
    return ss_scenario_load_file("tests/data/good/small.yaml", extra, out, d);
}

static void test_sim_eval_jobs_invariant(void **state)
{
    (void)state;
    ss_slo_spec s;
    assert_int_equal(ss_slo_parse_spec("ttft_p99=2s,tpot_p99=100ms,attainment=0.9", &s, NULL),
                     SS_OK);
    ss_cap_sim one = {.load = load_small, .key = "workload.arrival.rate", .slo = &s, .jobs = 1};
    ss_cap_sim two = one;
    two.jobs = 2;
    ss_cap_sample a[3], b[3], c[1];
    ss_diag d;
    ss_diag_clear(&d);
    assert_int_equal(ss_cap_sim_eval(&one, 12.5, 0, 3, a, &d), SS_OK);
    assert_int_equal(ss_cap_sim_eval(&two, 12.5, 0, 3, b, &d), SS_OK);
    assert_memory_equal(a, b, sizeof a);
    /* replication 2 alone equals replication 2 of the batch */
    assert_int_equal(ss_cap_sim_eval(&two, 12.5, 2, 1, c, &d), SS_OK);
    assert_memory_equal(&a[2], c, sizeof c[0]);
    /* replications differ from each other, and the load changes the result */
    assert_memory_not_equal(&a[0], &a[1], sizeof a[0]);
    assert_true(a[0].aux[SS_CAP_ATTAIN] > 0 && a[0].aux[SS_CAP_ATTAIN] <= 1);
    assert_true(a[0].aux[SS_CAP_GOODPUT] <= a[0].aux[SS_CAP_REQ_TPUT] + 1e-12);
    assert_true(a[0].v[2] == a[0].aux[SS_CAP_ATTAIN]);
    /* a load the scenario refuses is an error with the key's name, not a crash */
    ss_diag_clear(&d);
    assert_int_equal(ss_cap_sim_eval(&two, -1, 0, 2, a, &d), SS_ERR_INVALID);
    assert_non_null(strstr(d.key, "workload.arrival.rate"));
}

static void test_format_override(void **state)
{
    (void)state;
    char buf[128];
    ss_cap_format_override("k", 12.5, 0, buf, sizeof buf);
    assert_string_equal(buf, "k=12.5");
    ss_cap_format_override("k", 0.1 + 0.2, 0, buf, sizeof buf);
    assert_true(strtod(buf + 2, NULL) == 0.1 + 0.2);
    ss_cap_format_override("c", 37, 1, buf, sizeof buf);
    assert_string_equal(buf, "c=37");
}


/* ------------------------------------------------------------- cost at capacity, ranking */

static ss_cap_report priced(double usd_mtok, double latency)
{
    ss_cap_report r;
    memset(&r, 0, sizeof r);
    r.feasible = r.priced = 1;
    r.tco.usd_per_mtok_output = usd_mtok;
    r.latency = latency;
    return r;
}

static void test_rank_and_pareto(void **state)
{
    (void)state;
    ss_cap_report r[5] = {priced(0.30, 0.5), priced(0.20, 0.9), priced(0.25, 0.4),
                          priced(0.40, 0.6), priced(0.20, 0.9)};
    r[3].feasible = 0; /* infeasible: neither ranked nor on the front */
    size_t order[5];
    int front[5];
    assert_int_equal(ss_search_rank(r, 5, NULL, 0, order), 4);
    assert_int_equal(order[0], 1); /* ties keep point order */
    assert_int_equal(order[1], 4);
    assert_int_equal(order[2], 2);
    assert_int_equal(order[3], 0);
    ss_search_pareto(r, 5, NULL, front);
    /* 0 is dominated by 2 (cheaper and faster); equal points 1 and 4 both stay */
    assert_int_equal(front[0], 0);
    assert_int_equal(front[1], 1);
    assert_int_equal(front[2], 1);
    assert_int_equal(front[3], 0);
    assert_int_equal(front[4], 1);
    /* groups (families): 0 alone in its group is ranked and on its front */
    const int group[5] = {1, 0, 0, 0, 0};
    assert_int_equal(ss_search_rank(r, 5, group, 1, order), 1);
    assert_int_equal(order[0], 0);
    assert_int_equal(ss_search_rank(r, 5, group, 0, order), 3);
    ss_search_pareto(r, 5, group, front);
    assert_int_equal(front[0], 1);
    assert_int_equal(front[2], 1);
}

static void test_report_cost_at_capacity(void **state)
{
    (void)state;
    /* capacity 10 req/s with 1,000 output / 3,000 total tok/s measured there; target 25:
     * 3 instances at 25/3 req/s each, i.e. 833.33 output tok/s each, 2,500 in all;
     * 3 x 2 GPUs x 2 $/h = 12 $/h; 12 / (2500 x 3600) x 1e6 = 1.3333 $/M output tokens */
    ss_slo_spec slo = slo2();
    ss_cap_report r;
    memset(&r, 0, sizeof r);
    r.gpus = 2;
    r.target = 25;
    r.cap.status = SS_CAP_CONVERGED;
    r.cap.capacity = 10;
    r.cap.cap_step = 0;
    r.cap.nsteps = 1;
    r.cap.steps[0].verdict = SS_CAP_PASS;
    r.cap.steps[0].mean[0] = 1.5;
    r.cap.steps[0].aux[SS_CAP_OUT_TPUT] = 1000;
    r.cap.steps[0].aux[SS_CAP_TOT_TPUT] = 3000;
    r.cap.steps[0].aux[SS_CAP_BUSY] = 1;
    ss_hw hw;
    memset(&hw, 0, sizeof hw);
    hw.tdp_w = 700;
    hw.price_per_hour = 2;
    ss_tco_cfg c;
    ss_tco_defaults(&c);
    ss_cap_report_cost(&r, &slo, &hw, &c);
    assert_true(r.feasible && r.priced);
    assert_int_equal(r.instances, 3);
    assert_true(fabs(r.tco.usd_per_hour - 12) < 1e-12);
    assert_true(fabs(r.tco.usd_per_mtok_output - 12.0 / (2500 * 3600) * 1e6) < 1e-9);
    assert_true(fabs(r.tco.usd_per_mtok_total - 12.0 / (7500 * 3600) * 1e6) < 1e-9);
    assert_true(r.latency == 1.5);
    /* infeasible: a reason naming the term, its value and the limit, in ms */
    memset(&r.cap, 0, sizeof r.cap);
    r.cap.status = SS_CAP_INFEASIBLE;
    r.cap.cap_step = -1;
    r.cap.hi_step = 0;
    r.cap.binding = 1;
    r.cap.nsteps = 1;
    r.cap.steps[0].load = 0.5;
    r.cap.steps[0].verdict = SS_CAP_FAIL;
    r.cap.steps[0].mean[1] = 2.5;
    ss_cap_report_cost(&r, &slo, &hw, &c);
    assert_false(r.feasible);
    assert_non_null(strstr(r.reason, "SLO fails at the lowest load 0.5: b_p99 = 2500.0 +- 0.0 ms "
                                     "(limit 2000 ms)"));
}

/* ------------------------------------------------------------- study sections */

static void test_study_lenient_and_sections(void **state)
{
    (void)state;
    const char *path = "tests/data/studies/search_small.yaml";
    ss_study *st = NULL;
    ss_diag d;
    ss_diag_clear(&d);
    /* strict loading refuses the study: point 2 (70B on one H100) does not fit */
    assert_int_equal(ss_study_load(path, &st, &d), SS_ERR_INVALID);
    assert_null(st);
    assert_non_null(strstr(d.msg, "does not fit"));
    /* lenient loading defers that to the point's use, located at the study line */
    ss_diag_clear(&d);
    assert_int_equal(ss_study_load_lenient(path, &st, &d), SS_OK);
    assert_int_equal(ss_study_npoints(st), 4);
    ss_scenario *sc = NULL;
    ss_diag pd, ld;
    ss_diag_clear(&pd);
    ss_diag_clear(&ld);
    assert_int_equal(ss_study_load_point_scenario(st, 2, NULL, &sc, &pd), SS_ERR_INVALID);
    assert_int_equal(ss_study_point_error(st, 2, &pd, &ld), SS_ERR_INVALID);
    assert_int_equal(ld.line, 11);
    assert_non_null(strstr(ld.msg, "point 2"));
    /* the sections */
    ss_search_cfg cfg;
    assert_int_equal(ss_search_parse(st, &cfg, &d), SS_OK);
    assert_true(cfg.target == 40 && cfg.cap.lo == 1 && cfg.cap.hi == 4 && cfg.cap.tol == 0.1);
    assert_int_equal(cfg.cap.reps, 2);
    assert_int_equal(cfg.cap.max_reps, 6);
    assert_int_equal(cfg.cap.on_unsure, SS_CAP_STOP);
    assert_string_equal(cfg.load_key, "workload.arrival.rate");
    assert_int_equal(cfg.slo.nterms, 2);
    assert_true(cfg.cost.pue == 1.2 && cfg.cost.price_per_hour < 0 && cfg.cost.utilisation < 0);
    ss_study_free(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_finds_known_threshold),
        cmocka_unit_test(test_binding_term),
        cmocka_unit_test(test_lower_bounded_term),
        cmocka_unit_test(test_straddle_reports_bracket),
        cmocka_unit_test(test_unsure_below),
        cmocka_unit_test(test_more_reps_resolve),
        cmocka_unit_test(test_infeasible_and_unbounded),
        cmocka_unit_test(test_integer_loads),
        cmocka_unit_test(test_bad_options),
        cmocka_unit_test(test_slo_spec),
        cmocka_unit_test(test_request_ok),
        cmocka_unit_test(test_sim_eval_jobs_invariant),
        cmocka_unit_test(test_format_override),
        cmocka_unit_test(test_rank_and_pareto),
        cmocka_unit_test(test_report_cost_at_capacity),
        cmocka_unit_test(test_study_lenient_and_sections),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

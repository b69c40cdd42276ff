/* MLPerf LoadGen rules and verdict on hand-made results: each rule just met gives VALID, each
 * rule just missed gives INVALID with that rule's reason (and only it); the built-in rule table
 * matches mlperf.conf; LoadGen's percentile rule; resolving overrides. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "workloads/mlperf.h"

static ss_mlperf_rules rules(const char *bench, int scenario)
{
    ss_mlperf_rules r;
    assert_true(ss_mlperf_builtin(bench, scenario, &r));
    return r;
}

/* A Server run that meets every llama2-70b rule exactly at its limit. */
static ss_mlperf_obs server_at_limits(void)
{
    ss_mlperf_obs o;
    memset(&o, 0, sizeof o);
    o.queries = 100;  /* min_query_count */
    o.samples = 100;
    o.tokens = 29000;
    o.final_issue_s = 600.0; /* min_duration */
    o.all_done_s = 610.0;
    o.ttft.n = o.tpot.n = o.latency.n = 100;
    o.ttft.at_target = 2.0; /* limit 2000 ms */
    o.tpot.at_target = 0.2; /* limit 200 ms */
    return o;
}

static void expect(const ss_mlperf_verdict *v, int valid, const char *reason)
{
    assert_int_equal(v->valid, valid);
    if (!reason) {
        assert_int_equal(v->nreasons, 0);
        return;
    }
    assert_int_equal(v->nreasons, 1);
    if (!strstr(v->reasons[0], reason)) fail_msg("reason '%s' lacks '%s'", v->reasons[0], reason);
}

static void test_builtin_table(void **st)
{
    (void)st;
    ss_mlperf_rules r = rules("llama2-70b", SS_MLPERF_SERVER);
    assert_int_equal(r.ttft_limit, 2000000000LL);
    assert_int_equal(r.tpot_limit, 200000000LL);
    assert_int_equal(r.min_duration, 600LL * SS_NS_PER_S);
    assert_int_equal(r.min_query_count, 100);
    assert_true(r.percentile == 0.99);
    r = rules("llama2-70b", SS_MLPERF_INTERACTIVE);
    assert_int_equal(r.ttft_limit, 450000000LL);
    assert_int_equal(r.tpot_limit, 40000000LL);
    r = rules("llama3_1-8b", SS_MLPERF_SERVER);
    assert_int_equal(r.ttft_limit, 2000000000LL);
    assert_int_equal(r.tpot_limit, 100000000LL);
    r = rules("llama3_1-8b", SS_MLPERF_INTERACTIVE);
    assert_int_equal(r.ttft_limit, 500000000LL);
    assert_int_equal(r.tpot_limit, 30000000LL);
    r = rules("llama3_1-405b", SS_MLPERF_SERVER);
    assert_int_equal(r.ttft_limit, 6000000000LL);
    assert_int_equal(r.tpot_limit, 175000000LL);
    r = rules("llama3_1-405b", SS_MLPERF_OFFLINE);
    assert_int_equal(r.min_query_count, 8313);
    assert_int_equal(r.ttft_limit, 0);
    r = rules("llama2-70b", SS_MLPERF_MULTISTREAM);
    assert_int_equal(r.samples_per_query, 8);
    assert_int_equal(r.min_query_count, 662);
    r = rules("llama2-70b", SS_MLPERF_SINGLESTREAM);
    assert_true(r.percentile == 0.90);
    ss_mlperf_rules x;
    assert_false(ss_mlperf_builtin("mixtral-8x7b", SS_MLPERF_INTERACTIVE, &x));
    assert_false(ss_mlperf_builtin("gpt-5", SS_MLPERF_SERVER, &x));
}

static void test_percentile_rule(void **st)
{
    (void)st;
    double v[100];
    for (int i = 0; i < 100; i++) v[i] = i + 1;
    /* LoadGen: sorted[floor(n * p)] */
    assert_true(ss_mlperf_percentile(v, 100, 0.99) == 100);
    assert_true(ss_mlperf_percentile(v, 100, 0.50) == 51);
    assert_true(ss_mlperf_percentile(v, 100, 0.90) == 91);
    assert_true(ss_mlperf_percentile(v, 10, 0.999) == 10);
    ss_mlperf_dist d;
    ss_mlperf_dist_compute(v, 100, 0.99, &d);
    assert_true(d.min == 1 && d.max == 100 && d.mean == 50.5 && d.at_target == 100);
    assert_true(d.pct[3] == 98); /* p97 */
}

static void test_server_just_valid(void **st)
{
    (void)st;
    ss_mlperf_rules r = rules("llama2-70b", SS_MLPERF_SERVER);
    ss_mlperf_obs o = server_at_limits();
    ss_mlperf_verdict v;
    ss_mlperf_judge(&r, &o, &v);
    expect(&v, 1, NULL);
    assert_true(v.perf_ok && v.min_duration_ok && v.min_queries_ok);
    /* (samples - 1) / time of the last completion, tokens / same */
    assert_true(v.samples_per_s == 99.0 / 610.0);
    assert_true(v.tokens_per_s == 29000.0 / 610.0);
}

static void test_server_just_invalid_each_rule(void **st)
{
    (void)st;
    ss_mlperf_rules r = rules("llama2-70b", SS_MLPERF_SERVER);
    ss_mlperf_verdict v;
    ss_mlperf_obs o = server_at_limits();
    o.ttft.at_target = 2.000001;
    ss_mlperf_judge(&r, &o, &v);
    expect(&v, 0, "P99 TTFT 2000.00 ms exceeds the limit of 2000 ms");
    assert_false(v.perf_ok);

    o = server_at_limits();
    o.tpot.at_target = 0.2000001;
    ss_mlperf_judge(&r, &o, &v);
    expect(&v, 0, "P99 TPOT 200.00 ms exceeds the limit of 200 ms");

    o = server_at_limits();
    o.final_issue_s = 599.999;
    ss_mlperf_judge(&r, &o, &v);
    expect(&v, 0, "duration 599.999 s (last query issued) is below min_duration 600 s");
    assert_false(v.min_duration_ok);

    o = server_at_limits();
    o.queries = o.samples = 99;
    ss_mlperf_judge(&r, &o, &v);
    expect(&v, 0, "99 queries issued, fewer than min_query_count 100");
    assert_false(v.min_queries_ok);

    o = server_at_limits();
    o.queries = 101;
    o.rejected = 1;
    ss_mlperf_judge(&r, &o, &v);
    expect(&v, 0, "1 samples were rejected");

    /* Interactive limits are the tighter ones: 2 s TTFT passes Server, fails Interactive */
    r = rules("llama2-70b", SS_MLPERF_INTERACTIVE);
    o = server_at_limits();
    ss_mlperf_judge(&r, &o, &v);
    assert_false(v.valid);
    assert_int_equal(v.nreasons, 2);
    assert_non_null(strstr(v.reasons[0], "TTFT"));
    assert_non_null(strstr(v.reasons[1], "TPOT"));
}

static void test_every_reason_listed(void **st)
{
    (void)st;
    ss_mlperf_rules r = rules("llama3_1-8b", SS_MLPERF_SERVER);
    ss_mlperf_obs o = server_at_limits();
    o.ttft.at_target = 3;
    o.tpot.at_target = 1;
    o.final_issue_s = 10;
    o.queries = o.samples = 5;
    ss_mlperf_verdict v;
    ss_mlperf_judge(&r, &o, &v);
    assert_false(v.valid);
    assert_int_equal(v.nreasons, 4);
    assert_non_null(strstr(v.reasons[0], "TTFT"));
    assert_non_null(strstr(v.reasons[1], "TPOT"));
    assert_non_null(strstr(v.reasons[2], "min_duration"));
    assert_non_null(strstr(v.reasons[3], "min_query_count"));
}

static void test_offline(void **st)
{
    (void)st;
    ss_mlperf_rules r = rules("llama2-70b", SS_MLPERF_OFFLINE);
    ss_mlperf_obs o;
    memset(&o, 0, sizeof o);
    o.queries = o.samples = 24576;
    o.tokens = 24576 * 290;
    o.final_issue_s = 0; /* everything at t = 0: Offline checks the last completion */
    o.all_done_s = 600;
    ss_mlperf_verdict v;
    ss_mlperf_judge(&r, &o, &v);
    expect(&v, 1, NULL);
    assert_true(v.samples_per_s == 24576.0 / 600.0); /* all samples, not samples - 1 */
    /* no latency constraint in Offline, however slow */
    o.ttft.n = 1;
    o.ttft.at_target = 1e6;
    ss_mlperf_judge(&r, &o, &v);
    expect(&v, 1, NULL);
    o.queries = o.samples = 24575;
    ss_mlperf_judge(&r, &o, &v);
    expect(&v, 0, "24575 samples completed, fewer than min_query_count 24576");
    o.queries = o.samples = 24576;
    o.all_done_s = 599.5;
    ss_mlperf_judge(&r, &o, &v);
    expect(&v, 0, "(last sample completed) is below min_duration 600 s");
}

static void test_multistream_samples(void **st)
{
    (void)st;
    ss_mlperf_rules r = rules("llama2-70b", SS_MLPERF_MULTISTREAM);
    ss_mlperf_obs o;
    memset(&o, 0, sizeof o);
    o.queries = 662;
    o.samples = 662 * 8;
    o.final_issue_s = 600;
    o.all_done_s = 601;
    ss_mlperf_verdict v;
    ss_mlperf_judge(&r, &o, &v);
    expect(&v, 1, NULL);
    o.samples = 662 * 8 - 1;
    ss_mlperf_judge(&r, &o, &v);
    expect(&v, 0, "fewer than min_query_count x samples_per_query = 5296");
}

static void test_resolve(void **st)
{
    (void)st;
    ss_mlperf_cfg c;
    ss_mlperf_cfg_init(&c);
    c.scenario = SS_MLPERF_SERVER;
    snprintf(c.benchmark, sizeof c.benchmark, "llama3_1-405b");
    snprintf(c.sut_name, sizeof c.sut_name, "sut");
    ss_mlperf_rules r;
    const char *key = "";
    char why[256];
    assert_int_equal(ss_mlperf_resolve(&c, &r, &key, why, sizeof why), SS_ERR_INVALID);
    assert_string_equal(key, "target_qps");
    c.target_qps = 2.5;
    c.tpot_latency = 150000000; /* override one key; the other stays built in */
    c.min_duration = 60LL * SS_NS_PER_S;
    assert_int_equal(ss_mlperf_resolve(&c, &r, &key, why, sizeof why), SS_OK);
    assert_int_equal(r.ttft_limit, 6000000000LL);
    assert_int_equal(r.tpot_limit, 150000000LL);
    assert_int_equal(r.min_duration, 60LL * SS_NS_PER_S);
    assert_true(r.target_qps == 2.5);
    c.samples_per_query = 4;
    assert_int_equal(ss_mlperf_resolve(&c, &r, &key, why, sizeof why), SS_ERR_INVALID);
    assert_string_equal(key, "samples_per_query");
    ss_mlperf_cfg_init(&c);
    c.scenario = SS_MLPERF_INTERACTIVE;
    snprintf(c.benchmark, sizeof c.benchmark, "mixtral-8x7b");
    c.target_qps = 1;
    assert_int_equal(ss_mlperf_resolve(&c, &r, &key, why, sizeof why), SS_ERR_INVALID);
    assert_string_equal(key, "benchmark");
    assert_non_null(strstr(why, "no Interactive variant"));
    c.scenario = SS_MLPERF_MULTISTREAM;
    assert_int_equal(ss_mlperf_resolve(&c, &r, &key, why, sizeof why), SS_ERR_INVALID);
    assert_string_equal(key, "target_qps");
    c.scenario = SS_MLPERF_OFFLINE;
    assert_int_equal(ss_mlperf_resolve(&c, &r, &key, why, sizeof why), SS_OK);
    c.ttft_latency = 1;
    assert_int_equal(ss_mlperf_resolve(&c, &r, &key, why, sizeof why), SS_ERR_INVALID);
    assert_string_equal(key, "ttft_latency");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_builtin_table),
        cmocka_unit_test(test_percentile_rule),
        cmocka_unit_test(test_server_just_valid),
        cmocka_unit_test(test_server_just_invalid_each_rule),
        cmocka_unit_test(test_every_reason_listed),
        cmocka_unit_test(test_offline),
        cmocka_unit_test(test_multistream_samples),
        cmocka_unit_test(test_resolve),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* The log-linear histogram keeps its documented relative error on quantiles of varied
 * distributions, and small values exactly. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "sim/core/hist.h"

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void check_quantiles(uint64_t *v, size_t n)
{
    ss_hist h;
    assert_int_equal(ss_hist_init(&h), 0);
    for (size_t i = 0; i < n; i++) ss_hist_add(&h, v[i], 1);
    qsort(v, n, sizeof *v, cmp_u64);
    const double qs[] = {0.01, 0.1, 0.5, 0.9, 0.95, 0.99, 0.999};
    for (size_t k = 0; k < sizeof qs / sizeof qs[0]; k++) {
        size_t rank = (size_t)ceil(qs[k] * (double)n);
        double exact = (double)v[rank - 1];
        double got = ss_hist_quantile(&h, qs[k]);
        double rel = fabs(got - exact) / exact;
        if (rel > SS_HIST_REL_ERROR) fail_msg("q=%g exact=%g got=%g rel=%g", qs[k], exact, got, rel);
    }
    assert_int_equal(h.min, v[0]);
    assert_int_equal(h.max, v[n - 1]);
    ss_hist_free(&h);
}

static void test_error_bound(void **st)
{
    (void)st;
    enum { N = 100000 };
    uint64_t *v = malloc(N * sizeof *v);
    uint64_t x = 88172645463325252ULL;
    /* log-uniform over 1 us .. 10 s, in ns: spans many buckets */
    for (size_t i = 0; i < N; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        double u = (double)(x >> 11) / 9007199254740992.0;
        v[i] = (uint64_t)exp(log(1e3) + u * (log(1e10) - log(1e3)));
    }
    check_quantiles(v, N);
    /* a narrow cluster: most values in a few buckets */
    for (size_t i = 0; i < N; i++) v[i] = 15000000 + (i * 7919) % 200000;
    check_quantiles(v, N);
    free(v);
}

static void test_small_values_exact(void **st)
{
    (void)st;
    ss_hist h;
    assert_int_equal(ss_hist_init(&h), 0);
    for (uint64_t v = 0; v < SS_HIST_SUB; v++) ss_hist_add(&h, v, 1);
    assert_true(ss_hist_quantile(&h, 0.5) == 63.0);
    assert_true(fabs(ss_hist_mean(&h) - 63.5) < 1e-12);
    ss_hist_free(&h);
}

/* The bound itself is what the header promises: 2^-(SUB_BITS+1). */
static void test_bound_value(void **st)
{
    (void)st;
    assert_true(SS_HIST_REL_ERROR <= 0.004);
    /* adjacent indices never go backwards */
    unsigned prev = 0;
    for (uint64_t v = 1; v < (1ULL << 40); v = v * 3 / 2 + 1) {
        unsigned i = ss_hist_index(v);
        assert_true(i >= prev);
        assert_true(i < SS_HIST_BUCKETS);
        prev = i;
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_error_bound),
        cmocka_unit_test(test_small_values_exact),
        cmocka_unit_test(test_bound_value),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Pareto frontier extraction (sim/study/pareto.h) on hand-made point sets, and against the
 * definition (O(n^2) dominance check) on many small sets full of ties. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "sim/study/pareto.h"

#define MAXN 64

/* Run ss_pareto and compare with the expected membership string ("1" on, "0" off). */
static void check(const double *x, const double *y, size_t n, bool ymax, const char *want)
{
    bool on[MAXN];
    size_t nf = 99, expect = 0;
    ss_diag d;
    ss_diag_clear(&d);
    assert_int_equal(ss_pareto(x, y, n, ymax, on, &nf, &d), SS_OK);
    for (size_t i = 0; i < n; i++) {
        if (on[i] != (want[i] == '1'))
            fail_msg("point %zu (%g, %g): on_front = %d, expected %c", i, x[i], y[i], on[i],
                     want[i]);
        expect += want[i] == '1';
    }
    assert_int_equal(nf, expect);
}

static void test_single_and_empty(void **state)
{
    (void)state;
    double x[] = {3}, y[] = {4};
    check(x, y, 1, true, "1");
    check(x, y, 1, false, "1");
    check(x, y, 0, true, "");
}

static void test_all_dominated_but_one(void **state)
{
    (void)state;
    /* maximising both: (3, 3) beats everything */
    double x[] = {1, 3, 2, 0.5}, y[] = {1, 3, 2, 0.5};
    check(x, y, 4, true, "0100");
    /* minimising y, the same points trade off: every one is on the frontier */
    check(x, y, 4, false, "1111");
}

static void test_ties(void **state)
{
    (void)state;
    /* equal x: the larger y wins; equal y: the larger x wins */
    double x[] = {2, 2, 1, 3}, y[] = {5, 3, 6, 3};
    check(x, y, 4, true, "1011");
    /* minimising y: (2, 3) is beaten by (3, 3) (same y, larger x); (1, 6) by (2, 5)? no:
     * (2, 5) has larger x and smaller y, so it beats (1, 6); (2, 5) is beaten by (3, 3) */
    check(x, y, 4, false, "0001");
}

static void test_duplicates(void **state)
{
    (void)state;
    /* equal points do not dominate each other: both stay; (1, 1) is dominated */
    double x[] = {2, 1, 2}, y[] = {2, 1, 2};
    check(x, y, 3, true, "101");
    double x2[] = {4, 4, 4}, y2[] = {1, 1, 1};
    check(x2, y2, 3, true, "111");
    check(x2, y2, 3, false, "111");
}

static void test_nan(void **state)
{
    (void)state;
    /* undefined coordinates are never on the frontier and dominate nothing */
    double x[] = {NAN, 1, 2}, y[] = {100, 1, NAN};
    check(x, y, 3, true, "010");
    double x2[] = {NAN}, y2[] = {NAN};
    check(x2, y2, 1, true, "0");
}

static void test_negative_and_infinite(void **state)
{
    (void)state;
    double x[] = {-1, -2, INFINITY, 0}, y[] = {-5, -1, -100, -5};
    check(x, y, 4, true, "0111");
}

/* A tiny deterministic generator (no global state). */
static uint32_t lcg(uint32_t *s)
{
    *s = *s * 1664525u + 1013904223u;
    return *s >> 16;
}

static void test_against_definition(void **state)
{
    (void)state;
    uint32_t seed = 12345;
    for (int trial = 0; trial < 2000; trial++) {
        size_t n = 1 + lcg(&seed) % MAXN;
        double x[MAXN], y[MAXN];
        /* coordinates from a small range: many ties and duplicates */
        for (size_t i = 0; i < n; i++) {
            x[i] = (double)(lcg(&seed) % 6);
            y[i] = (double)(lcg(&seed) % 6);
        }
        bool ymax = trial % 2;
        char want[MAXN + 1];
        for (size_t i = 0; i < n; i++) {
            bool dom = false;
            for (size_t j = 0; j < n && !dom; j++) {
                double yi = ymax ? y[i] : -y[i], yj = ymax ? y[j] : -y[j];
                dom = x[j] >= x[i] && yj >= yi && (x[j] > x[i] || yj > yi);
            }
            want[i] = dom ? '0' : '1';
        }
        want[n] = '\0';
        check(x, y, n, ymax, want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_single_and_empty),  cmocka_unit_test(test_all_dominated_but_one),
        cmocka_unit_test(test_ties),              cmocka_unit_test(test_duplicates),
        cmocka_unit_test(test_nan),               cmocka_unit_test(test_negative_and_infinite),
        cmocka_unit_test(test_against_definition),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

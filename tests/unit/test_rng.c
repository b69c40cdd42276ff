/* Named random streams: reproducible, independent of creation order, and different for
 * different names, seeds and replications. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "sim/core/rng.h"

static void draws(uint64_t seed, uint64_t rep, const char *name, unsigned long out[8])
{
    ss_rng r;
    assert_int_equal(ss_rng_init(&r, seed, rep, name, NULL), SS_OK);
    for (int i = 0; i < 8; i++) out[i] = gsl_rng_get(r.g);
    ss_rng_free(&r);
}

static void test_reproducible(void **st)
{
    (void)st;
    unsigned long a[8], b[8];
    draws(42, 0, "default/arrivals", a);
    draws(42, 0, "default/arrivals", b);
    assert_memory_equal(a, b, sizeof a);
}

/* Adding a new stream (created before another one) must not change the other's draws. */
static void test_independent_of_creation_order(void **st)
{
    (void)st;
    unsigned long alone[8], after[8];
    draws(7, 0, "default/prompt_tokens", alone);
    ss_rng extra;
    assert_int_equal(ss_rng_init(&extra, 7, 0, "new/source", NULL), SS_OK);
    for (int i = 0; i < 100; i++) gsl_rng_get(extra.g);
    draws(7, 0, "default/prompt_tokens", after);
    ss_rng_free(&extra);
    assert_memory_equal(alone, after, sizeof alone);
}

static void test_names_seeds_reps_differ(void **st)
{
    (void)st;
    unsigned long a[8], b[8], c[8], e[8];
    draws(42, 0, "default/arrivals", a);
    draws(42, 0, "default/output_tokens", b);
    draws(43, 0, "default/arrivals", c);
    draws(42, 1, "default/arrivals", e);
    assert_memory_not_equal(a, b, sizeof a);
    assert_memory_not_equal(a, c, sizeof a);
    assert_memory_not_equal(a, e, sizeof a);
    assert_int_not_equal(ss_rng_derive_seed(1, 0, "x"), ss_rng_derive_seed(1, 0, "y"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reproducible),
        cmocka_unit_test(test_independent_of_creation_order),
        cmocka_unit_test(test_names_seeds_reps_differ),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

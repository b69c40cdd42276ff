/* Event queue: (time, prio, seq) order with deliberate ties and shuffled inserts, and
 * refusal of events in the past. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sim/core/eventq.h"

static void push(ss_eventq *q, ss_time_ns t, uint16_t prio, uint64_t tag)
{
    ss_event ev = {.t = t, .prio = prio, .a = tag};
    assert_int_equal(ss_eq_push(q, ev, NULL), SS_OK);
}

static void test_time_order(void **st)
{
    (void)st;
    ss_eventq q;
    ss_eq_init(&q);
    ss_time_ns ts[] = {50, 10, 40, 20, 30, 0, 60};
    for (size_t i = 0; i < 7; i++) push(&q, ts[i], 0, (uint64_t)ts[i]);
    assert_int_equal(ss_eq_peek_time(&q), 0);
    ss_event ev;
    ss_time_ns prev = -1;
    size_t n = 0;
    while (ss_eq_pop(&q, &ev)) {
        assert_true(ev.t > prev);
        prev = ev.t;
        n++;
    }
    assert_int_equal(n, 7);
    assert_int_equal(ss_eq_peek_time(&q), SS_TIME_NEVER);
    ss_eq_free(&q);
}

/* Equal times pop in insertion order, whatever the heap layout: insert many ties
 * interleaved with other times in a scrambled order. */
static void test_fifo_ties(void **st)
{
    (void)st;
    ss_eventq q;
    ss_eq_init(&q);
    uint64_t tag = 0;
    for (int round = 0; round < 200; round++)
        for (int k = 0; k < 5; k++) push(&q, (ss_time_ns)((round * 7919 + k * 104729) % 5), 0, tag++);
    ss_event ev;
    ss_time_ns prev_t = -1;
    uint64_t prev_tag = 0;
    int n = 0;
    while (ss_eq_pop(&q, &ev)) {
        if (ev.t == prev_t) assert_true(ev.a > prev_tag);
        else assert_true(ev.t > prev_t);
        prev_t = ev.t;
        prev_tag = ev.a;
        n++;
    }
    assert_int_equal(n, 1000);
    ss_eq_free(&q);
}

/* prio orders events of one instant before seq does. */
static void test_prio(void **st)
{
    (void)st;
    ss_eventq q;
    ss_eq_init(&q);
    push(&q, 5, 1, 1); /* iteration at t=5, pushed first */
    push(&q, 5, 0, 2); /* arrival at t=5 */
    push(&q, 4, 2, 3);
    push(&q, 5, 0, 4);
    ss_event ev;
    uint64_t want[] = {3, 2, 4, 1};
    for (int i = 0; i < 4; i++) {
        assert_true(ss_eq_pop(&q, &ev));
        assert_int_equal(ev.a, want[i]);
    }
    ss_eq_free(&q);
}

static void test_refuses_past(void **st)
{
    (void)st;
    ss_eventq q;
    ss_eq_init(&q);
    push(&q, 100, 0, 1);
    ss_event ev;
    assert_true(ss_eq_pop(&q, &ev));
    ss_diag d;
    ss_diag_clear(&d);
    ss_event past = {.t = 99, .kind = 3, .target = 7};
    assert_int_equal(ss_eq_push(&q, past, &d), SS_ERR_INTERNAL);
    assert_non_null(strstr(d.msg, "in the past"));
    assert_non_null(strstr(d.msg, "target 7"));
    ss_event same = {.t = 100};
    assert_int_equal(ss_eq_push(&q, same, &d), SS_OK);
    ss_eq_free(&q);
}

/* Random stress against a reference: sorted order of (t, prio, seq). */
static int cmp_ev(const void *a, const void *b)
{
    const ss_event *x = a, *y = b;
    if (x->t != y->t) return x->t < y->t ? -1 : 1;
    if (x->prio != y->prio) return x->prio < y->prio ? -1 : 1;
    return x->seq < y->seq ? -1 : (x->seq > y->seq);
}

static void test_random_against_sort(void **st)
{
    (void)st;
    enum { N = 5000 };
    ss_eventq q;
    ss_eq_init(&q);
    ss_event *ref = malloc(N * sizeof *ref);
    uint64_t x = 12345;
    for (int i = 0; i < N; i++) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        ss_event ev = {.t = (ss_time_ns)((x >> 33) % 100), .prio = (uint16_t)((x >> 20) % 3),
                       .a = (uint64_t)i};
        assert_int_equal(ss_eq_push(&q, ev, NULL), SS_OK);
        ref[i] = ev;
        ref[i].seq = (uint64_t)i;
    }
    qsort(ref, N, sizeof *ref, cmp_ev);
    ss_event ev;
    for (int i = 0; i < N; i++) {
        assert_true(ss_eq_pop(&q, &ev));
        assert_int_equal(ev.a, ref[i].a);
    }
    assert_false(ss_eq_pop(&q, &ev));
    free(ref);
    ss_eq_free(&q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_time_order), cmocka_unit_test(test_fifo_ties),
        cmocka_unit_test(test_prio), cmocka_unit_test(test_refuses_past),
        cmocka_unit_test(test_random_against_sort),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

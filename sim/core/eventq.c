/* Binary min-heap of ss_event by value, ordered by (t, prio, seq); see eventq.h.
 *
 * Invariant: for every i > 0, key(heap[(i-1)/2]) < key(heap[i]). Keys are unique because seq
 * is, so the pop order is a total order independent of heap layout. A 4-ary heap was not
 * needed: servesim keeps only a handful of events pending (one per replica iteration, one per
 * arrival source, samplers), so the heap stays small and hot in cache. */
#include "sim/core/eventq.h"

#include <stdlib.h>

static inline int before(const ss_event *x, const ss_event *y)
{
    if (x->t != y->t) return x->t < y->t;
    if (x->prio != y->prio) return x->prio < y->prio;
    return x->seq < y->seq;
}

void ss_eq_init(ss_eventq *q)
{
    q->heap = NULL;
    q->n = q->cap = 0;
    q->next_seq = 0;
    q->now = 0;
}

void ss_eq_free(ss_eventq *q)
{
    free(q->heap);
    ss_eq_init(q);
}

ss_rc ss_eq_push(ss_eventq *q, ss_event ev, ss_diag *d)
{
    if (ev.t < q->now)
        return ss_diag_fail(d, SS_ERR_INTERNAL,
                            "event kind %u for target %u scheduled in the past (t=%lld ns, "
                            "now=%lld ns)",
                            (unsigned)ev.kind, (unsigned)ev.target, (long long)ev.t,
                            (long long)q->now);
    if (q->n == q->cap) {
        size_t cap = q->cap ? q->cap * 2 : 64;
        ss_event *h = realloc(q->heap, cap * sizeof *h);
        if (!h) return ss_diag_fail(d, SS_ERR_NOMEM, "out of memory growing the event queue");
        q->heap = h;
        q->cap = cap;
    }
    ev.seq = q->next_seq++;
    size_t i = q->n++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!before(&ev, &q->heap[p])) break;
        q->heap[i] = q->heap[p];
        i = p;
    }
    q->heap[i] = ev;
    return SS_OK;
}

int ss_eq_pop(ss_eventq *q, ss_event *out)
{
    if (!q->n) return 0;
    *out = q->heap[0];
    q->now = out->t;
    ss_event last = q->heap[--q->n];
    size_t i = 0, n = q->n;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && before(&q->heap[c + 1], &q->heap[c])) c++;
        if (!before(&q->heap[c], &last)) break;
        q->heap[i] = q->heap[c];
        i = c;
    }
    if (n) q->heap[i] = last;
    return 1;
}

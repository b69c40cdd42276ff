/* A growable ring buffer of request pointers: the waiting queue of every policy (FIFO with
 * push-front for preempted requests, as vLLM's deque) and, kept sorted, the running set. */
#ifndef SS_POLICIES_REQQUEUE_H
#define SS_POLICIES_REQQUEUE_H

#include <stddef.h>
#include <stdint.h>

#include "sim/core/request.h"

typedef struct ss_reqq {
    ss_req **buf;
    size_t head, n, cap; /* cap is a power of two */
} ss_reqq;

int ss_reqq_init(ss_reqq *q, size_t cap_hint); /* 0 ok, -1 out of memory */
void ss_reqq_free(ss_reqq *q);
int ss_reqq_push_back(ss_reqq *q, ss_req *r);
int ss_reqq_push_front(ss_reqq *q, ss_req *r);
/* Insert keeping the order `before` (a strict weak order), after any equal ones, scanning
 * from the back: O(1) when requests come in order, the common case under FCFS. */
int ss_reqq_insert_sorted(ss_reqq *q, ss_req *r, int (*before)(const ss_req *, const ss_req *));

static inline ss_req *ss_reqq_at(const ss_reqq *q, size_t i)
{
    return q->buf[(q->head + i) & (q->cap - 1)];
}
static inline ss_req *ss_reqq_pop_front(ss_reqq *q)
{
    ss_req *r = q->buf[q->head];
    q->head = (q->head + 1) & (q->cap - 1);
    q->n--;
    return r;
}
static inline ss_req *ss_reqq_pop_back(ss_reqq *q)
{
    q->n--;
    return q->buf[(q->head + q->n) & (q->cap - 1)];
}
/* Remove item i, keeping order (O(n - i)). */
void ss_reqq_remove_at(ss_reqq *q, size_t i);
/* Remove r (found by linear search from the front); returns 0 if found. */
int ss_reqq_remove(ss_reqq *q, const ss_req *r);

#endif

/* Ring buffer of request pointers; see reqqueue.h. */
#include "policies/reqqueue.h"

#include <stdlib.h>

int ss_reqq_init(ss_reqq *q, size_t cap_hint)
{
    size_t cap = 16;
    while (cap < cap_hint) cap *= 2;
    q->buf = malloc(cap * sizeof *q->buf);
    q->head = q->n = 0;
    q->cap = q->buf ? cap : 0;
    return q->buf ? 0 : -1;
}

void ss_reqq_free(ss_reqq *q)
{
    free(q->buf);
    q->buf = NULL;
    q->cap = q->n = q->head = 0;
}

static int grow(ss_reqq *q)
{
    if (q->n < q->cap) return 0;
    size_t cap = q->cap * 2;
    ss_req **b = malloc(cap * sizeof *b);
    if (!b) return -1;
    for (size_t i = 0; i < q->n; i++) b[i] = ss_reqq_at(q, i);
    free(q->buf);
    q->buf = b;
    q->cap = cap;
    q->head = 0;
    return 0;
}

int ss_reqq_push_back(ss_reqq *q, ss_req *r)
{
    if (grow(q)) return -1;
    q->buf[(q->head + q->n) & (q->cap - 1)] = r;
    q->n++;
    return 0;
}

int ss_reqq_push_front(ss_reqq *q, ss_req *r)
{
    if (grow(q)) return -1;
    q->head = (q->head + q->cap - 1) & (q->cap - 1);
    q->buf[q->head] = r;
    q->n++;
    return 0;
}

int ss_reqq_insert_sorted(ss_reqq *q, ss_req *r, int (*before)(const ss_req *, const ss_req *))
{
    if (grow(q)) return -1;
    size_t i = q->n;
    size_t mask = q->cap - 1;
    while (i > 0 && before(r, ss_reqq_at(q, i - 1))) {
        q->buf[(q->head + i) & mask] = q->buf[(q->head + i - 1) & mask];
        i--;
    }
    q->buf[(q->head + i) & mask] = r;
    q->n++;
    return 0;
}

void ss_reqq_remove_at(ss_reqq *q, size_t i)
{
    size_t mask = q->cap - 1;
    for (; i + 1 < q->n; i++) q->buf[(q->head + i) & mask] = q->buf[(q->head + i + 1) & mask];
    q->n--;
}

int ss_reqq_remove(ss_reqq *q, const ss_req *r)
{
    for (size_t i = 0; i < q->n; i++)
        if (ss_reqq_at(q, i) == r) {
            ss_reqq_remove_at(q, i);
            return 0;
        }
    return -1;
}

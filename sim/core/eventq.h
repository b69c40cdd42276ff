/* The event queue: a binary min-heap of events stored by value, keyed by (time, prio, seq).
 *
 * seq is the insertion number, so events at equal times and priority pop in the order they
 * were pushed (SimPy's eid, ns-3's m_uid, OMNeT++'s insertOrder): two runs can never differ.
 * prio orders classes of events at one instant (OMNeT++'s scheduling priority): a replica's
 * iteration event has a higher prio value than arrivals, so every request arriving at time t
 * is queued before an iteration starting at t forms its batch (all-at-once offline load). The
 * interface is six functions (ROSS's tw-queue.h), so a calendar queue could replace the heap
 * if `servesim bench` ever asks for it.
 *
 * Cancellation: not supported inside the queue. An owner that may need to revoke an event
 * puts a generation number in the payload and ignores the event when it pops with a stale
 * generation (ns-3's choice): O(1) cancel, no heap index to maintain. */
#ifndef SS_CORE_EVENTQ_H
#define SS_CORE_EVENTQ_H

#include <stddef.h>
#include <stdint.h>

#include "sim/core/diag.h"
#include "sim/core/time.h"

/* A small plain event. `kind` selects the handler, `target` the entity it acts on; the two
 * payload words are the handler's (POD only: events are copied). */
typedef struct ss_event {
    ss_time_ns t;
    uint64_t seq;
    uint32_t target;
    uint16_t kind;
    uint16_t prio; /* lower pops first among events at the same t */
    uint64_t a, b;
} ss_event;

typedef struct ss_eventq {
    ss_event *heap;
    size_t n, cap;
    uint64_t next_seq;
    ss_time_ns now; /* time of the last popped event: pushes before it are refused */
} ss_eventq;

void ss_eq_init(ss_eventq *q);
void ss_eq_free(ss_eventq *q);
/* Push; assigns ev->seq. Refuses (SS_ERR_INTERNAL, naming kind and target) an event in the
 * past, i.e. before the time of the last popped event. */
ss_rc ss_eq_push(ss_eventq *q, ss_event ev, ss_diag *d);
/* Pop the earliest event into *out; returns 0 when empty. */
int ss_eq_pop(ss_eventq *q, ss_event *out);
/* Time of the earliest event, SS_TIME_NEVER when empty. */
static inline ss_time_ns ss_eq_peek_time(const ss_eventq *q)
{
    return q->n ? q->heap[0].t : SS_TIME_NEVER;
}
static inline size_t ss_eq_size(const ss_eventq *q) { return q->n; }

#endif

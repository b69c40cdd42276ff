/* Internals of sim/engine shared by sim.c (event loop, sources, request pool) and
 * replica.c (one instance's iterations). Not part of the public contract. */
#ifndef SS_ENGINE_ENGINE_INT_H
#define SS_ENGINE_ENGINE_INT_H

#include <stdbool.h>

#include "hwprofiles/cost.h"
#include "policies/kv.h"
#include "policies/sched.h"
#include "sim/core/eventq.h"
#include "sim/core/rng.h"
#include "sim/engine/sim.h"

/* Event kinds. Priorities order events at one instant: arrivals first, then iterations (so
 * an iteration starting at t sees every request that arrived at t), then samplers. */
#define SS_EV_LIST(X)                     \
    X(SS_EV_ARRIVAL, "arrival", 0)        \
    X(SS_EV_ITERATION, "iteration", 1)    \
    X(SS_EV_SAMPLE, "sample", 2)

typedef enum ss_ev_kind {
#define SS_EV_ENUM(e, name, prio) e,
    SS_EV_LIST(SS_EV_ENUM)
#undef SS_EV_ENUM
} ss_ev_kind;

typedef struct ss_replica {
    int id;
    ss_kv kv;
    const ss_sched_ops *sched;
    void *sched_state;
    const ss_cost_ops *cost;
    void *cost_state;
    ss_batch batch;      /* in flight while busy */
    bool busy;           /* an iteration is running */
    bool kicked;         /* an iteration event is pending */
    ss_time_ns iter_start;
    uint64_t iter_index;
    ss_req **done;       /* finished this iteration; returned to the pool after schedule() */
    size_t ndone;
    int64_t max_blocks_per_req; /* a request needing more can never run */
    int64_t max_model_len;
    uint32_t *phase;     /* fast-forward scratch: block_size counters */
} ss_replica;

/* A block of the request pool. */
typedef struct ss_req_slab {
    struct ss_req_slab *next;
    ss_req reqs[1024];
} ss_req_slab;

/* One source of requests: a request class (the single-source form is class "default"). */
typedef struct ss_source {
    ss_wclass cls;      /* view of its class (pointers owned by the scenario) */
    uint16_t index;     /* class index: ss_req.cls and ss_req.source */
    const ss_arrival_ops *ops;
    void *state;
    ss_rng rng_arrival, rng_prompt, rng_output;
    uint64_t issued;
    ss_time_ns last_t;  /* its latest arrival */
    uint64_t gen;       /* generation of the pending arrival event (stale ones are skipped) */
    bool pending;
    ss_time_ns pending_t;
} ss_source;

struct ss_sim {
    const ss_scenario *sc;
    ss_eventq q;
    ss_source *srcs;   /* one per class, in class order */
    size_t nsrc;
    uint64_t next_id;  /* request ids: arrival order over all sources */
    ss_time_ns last_arrival;
    /* MLPerf MultiStream: per-query latency (issue of a group to its last completion) of
     * measured groups; one group is in flight at a time. */
    ss_dvec query_lat;
    ss_time_ns grp_t, grp_end;
    bool grp_open, grp_measured;
    ss_replica rep;
    ss_metrics m;
    ss_summary summary;
    bool summarized;
    ss_observer obs;
    ss_req_slab *slabs;
    ss_req **free_reqs;
    size_t nfree, free_cap;
    uint64_t events;
    ss_time_ns last_reject_t;  /* livelock guard for closed loops (ss_sim_request_done) */
    uint64_t rejects_same_t;
    uint64_t iter_sample;
    bool fast_forward;
    ss_diag *d; /* error sink during ss_sim_run */
    ss_rc err;  /* first error raised inside a handler */
};

/* replica.c */
ss_rc ss_replica_init(ss_sim *s, ss_replica *r, int id, ss_diag *d);
void ss_replica_free(ss_replica *r);
/* A new request reached the instance: reject it or queue it (and start an iteration if the
 * instance is idle). */
ss_rc ss_replica_submit(ss_sim *s, ss_replica *r, ss_req *req);
/* The instance's iteration event fired. */
ss_rc ss_replica_on_iteration(ss_sim *s, ss_replica *r, ss_time_ns now);

/* sim.c, used by replica.c */
ss_rc ss_sim_push(ss_sim *s, ss_ev_kind kind, ss_time_ns t, uint32_t target, uint64_t a);
/* A request left the system (finished or rejected): record it, tell its source, recycle. */
ss_rc ss_sim_request_done(ss_sim *s, ss_req *r, ss_time_ns now);
void ss_sim_release_req(ss_sim *s, ss_req *r);

#endif

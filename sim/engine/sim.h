/* The simulation engine: runs one scenario from its first arrival to its last completion.
 *
 * This is the public contract of sim/engine. A run is an ss_sim created from a loaded
 * scenario; it owns the event queue, the random streams, the request pool, the instance(s)
 * and the metrics, so any number of runs can live in one process (sweeps) without sharing
 * mutable state. Results leave the engine two ways: the summary computed at the end
 * (ss_sim_summary) and an optional observer that receives every request record, iteration
 * record and timeline sample as they happen (the results store is one). */
#ifndef SS_ENGINE_SIM_H
#define SS_ENGINE_SIM_H

#include <stdbool.h>
#include <stdint.h>

#include "sim/core/diag.h"
#include "sim/core/request.h"
#include "sim/engine/metrics.h"
#include "workloads/scenario.h"

typedef struct ss_sim ss_sim;

/* One iteration of one instance. */
typedef struct ss_iter_record {
    int instance;
    uint64_t index;         /* iteration number on this instance, from 0 */
    ss_time_ns start;
    ss_time_ns duration;
    int32_t num_seqs;
    int32_t num_prefill_seqs;
    int32_t num_decode_seqs;
    int64_t prefill_tokens;
    int64_t decode_tokens;
    int64_t kv_used_blocks; /* after this iteration's reservations */
    int64_t kv_total_blocks;
} ss_iter_record;

/* Periodic timeline sample of one instance. */
typedef struct ss_sample_record {
    int instance;
    ss_time_ns t;
    int64_t kv_used_blocks;
    int64_t kv_total_blocks;
    uint64_t waiting_plus_running; /* requests held by the scheduler */
    uint32_t running;              /* of those, requests in the iteration in flight at t
                                      (0 when idle); waiting = waiting_plus_running -
                                      running. Matches vLLM's num_running_reqs except in a
                                      step whose token budget left a running request out */
} ss_sample_record;

/* Receives records as the run produces them. Any callback may be NULL. A callback that
 * fails stores its own error and returns non-zero; the engine then stops the run with
 * SS_ERR_DB (results are never silently lost). */
typedef struct ss_observer {
    void *ctx;
    int (*on_request)(void *ctx, const ss_req *r);  /* finished or rejected */
    int (*on_iteration)(void *ctx, const ss_iter_record *it);
    int (*on_sample)(void *ctx, const ss_sample_record *s);
    /* The composition of every iteration as it starts: which requests, how many tokens
     * each (items' requests show their state before the iteration: computed, generated).
     * For golden tests of policies and for traces; costs O(batch) per iteration and turns
     * the decode fast-forward off (it does not materialise each iteration). */
    int (*on_batch)(void *ctx, const ss_iter_record *it, const ss_batch *batch);
} ss_observer;

typedef struct ss_sim_opts {
    uint64_t seed;        /* scenario seed (after any --seed override) */
    uint64_t replication; /* replication index: part of every stream's seed */
    bool no_fast_forward; /* run every iteration as an event (results are identical; this
                             exists to test that they are) */
} ss_sim_opts;

/* Build a run. The scenario must outlive the run. */
ss_rc ss_sim_create(const ss_scenario *sc, const ss_sim_opts *opts, ss_sim **out, ss_diag *d);
void ss_sim_set_observer(ss_sim *s, const ss_observer *obs);
/* Run to completion (event queue empty). */
ss_rc ss_sim_run(ss_sim *s, ss_diag *d);
/* Metrics of a completed run (computed on first call). */
const ss_summary *ss_sim_summary(ss_sim *s);
/* Events simulated, for the benchmark: every iteration counts as one event, including the
 * iterations of fast-forwarded decode stretches that never enter the queue. */
uint64_t ss_sim_events(const ss_sim *s);
/* Iterations per batch size (sequences): counts[b] for b < returned length. */
size_t ss_sim_batch_counts(const ss_sim *s, const uint64_t **counts);
/* Seeds of the named random streams, for the results store. */
size_t ss_sim_streams(const ss_sim *s, const char **names, uint64_t *seeds, size_t max);
void ss_sim_free(ss_sim *s);

#endif

/* A request and its lifecycle: the one record shared by the engine (which owns it), the
 * scheduler plug-ins (which queue and batch it) and the results store (which writes it).
 *
 * Token accounting follows vLLM: a request's sequence is prompt + generated tokens;
 * `computed` counts the tokens whose KV is in the cache. An iteration computes n tokens of
 * it; when that brings computed up to prompt + generated, the model samples one new token
 * (the first one ends a prefill, each later one is a decode step). A preempted request under
 * recompute drops its KV (computed = 0) and re-prefills prompt + generated tokens later. */
#ifndef SS_CORE_REQUEST_H
#define SS_CORE_REQUEST_H

#include <stdint.h>

#include "sim/core/time.h"

/* Lifecycle states. TRANSFER/MIGRATING are reserved for prefill/decode disaggregation and
 * cross-instance migration. */
#define SS_REQ_STATE_LIST(X)        \
    X(SS_REQ_WAITING, "waiting")    \
    X(SS_REQ_RUNNING, "running")    \
    X(SS_REQ_PREEMPTED, "preempted") \
    X(SS_REQ_SWAPPED, "swapped")    \
    X(SS_REQ_TRANSFER, "transfer")  \
    X(SS_REQ_MIGRATING, "migrating") \
    X(SS_REQ_FINISHED, "finished")  \
    X(SS_REQ_REJECTED, "rejected")

typedef enum ss_req_state {
#define SS_REQ_STATE_ENUM(e, name) e,
    SS_REQ_STATE_LIST(SS_REQ_STATE_ENUM)
#undef SS_REQ_STATE_ENUM
} ss_req_state;

/* Why a request was rejected. */
#define SS_REJECT_LIST(X)                                                          \
    X(SS_REJECT_NONE, "none")                                                      \
    X(SS_REJECT_TOO_LONG, "prompt + output tokens exceed max_model_len")           \
    X(SS_REJECT_KV_CAPACITY, "needs more KV blocks than the cache can grant it alone")

typedef enum ss_reject_reason {
#define SS_REJECT_ENUM(e, text) e,
    SS_REJECT_LIST(SS_REJECT_ENUM)
#undef SS_REJECT_ENUM
} ss_reject_reason;

const char *ss_req_state_name(ss_req_state s);
const char *ss_reject_text(ss_reject_reason r);

typedef struct ss_req {
    uint64_t id;         /* arrival order, from 0 */
    ss_time_ns arrival;  /* reached the serving instance: the request's clock starts here */
    ss_time_ns first_scheduled; /* first iteration that computed any of its tokens */
    ss_time_ns first_token;     /* end of the iteration that sampled output token 1 */
    ss_time_ns last_token;      /* end of the iteration that sampled the latest token */
    ss_time_ns finish;          /* last token (or rejection) */
    uint32_t prompt_tokens;
    uint32_t output_tokens;     /* tokens it will generate (known to the simulator only) */
    uint32_t computed;          /* tokens with KV in the cache */
    uint32_t generated;         /* output tokens sampled so far */
    uint32_t kv_blocks;         /* KV blocks held on its instance */
    uint32_t preemptions;
    int32_t priority;           /* lower value = more important; 0 by default */
    uint16_t cls;               /* request class index (0 = default) */
    uint16_t source;            /* arrival source that issued it */
    uint8_t state;              /* ss_req_state */
    uint8_t reject;             /* ss_reject_reason */
    uint8_t measured;           /* 1 if it counts in the metrics (inside the measurement
                                   window: after warm-up, before the cut-off) */
    int16_t prefill_instance;   /* instance that computed the prompt (-1: none yet) */
    int16_t decode_instance;    /* instance that generated the last token */
    uint32_t sched_slot;        /* scheduler's private index (position in its queues) */
} ss_req;

/* Tokens still to compute before the next token can be sampled. */
static inline uint32_t ss_req_pending_tokens(const ss_req *r)
{
    return r->prompt_tokens + r->generated - r->computed;
}

#endif

/* Built-in arrival processes: poisson, gamma, constant, offline, closed_loop.
 *
 * Open-loop processes (poisson, gamma, constant) draw inter-arrival gaps from the source's
 * own stream (default/arrivals); the first request arrives one gap after t = 0, as in a
 * process started at t = 0. Gaps are drawn lazily, one ahead: next() draws the gap the first
 * time it is asked after a consume(), so no array of arrivals ever exists.
 *
 *  poisson      exponential gaps at `rate` req/s (MLPerf LoadGen Server; vLLM
 *               benchmark_serving --request-rate; gsl_ran_exponential)
 *  gamma        gamma gaps with mean 1/rate and coefficient of variation `cv` (shape
 *               1/cv^2, scale cv^2/rate; gsl_ran_gamma): cv > 1 is burstier than Poisson,
 *               cv < 1 more regular, cv = 1 is Poisson (vLLM benchmark_serving --burstiness
 *               is the shape, i.e. 1/cv^2)
 *  constant     one request every 1/rate seconds exactly
 *  offline      every request at t = 0 (MLPerf Offline, vllm bench throughput)
 *  closed_loop  `clients` concurrent users; each sends its first request at t = 0 and its
 *               next one `think_time` after the previous one completes (or is rejected) —
 *               how AIPerf/GenAI-Perf and vllm bench serve --max-concurrency drive a server
 *  grouped      groups of `group_size` requests issued together, the first at t = 0 and each
 *               next one `think_time` after every request of the previous group finished
 *               (MLPerf LoadGen MultiStream) */
#include "workloads/arrival.h"

#include <gsl/gsl_randist.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define END_ROW {NULL, 0, 0, 0, NULL, 0, 0, 0, NULL, NULL, NULL}
#define PROCESS_ROW(type)                                                                     \
    {"process", SS_KEY_STRING, offsetof(type, head.process), 32, NULL, 0, 0, 0, NULL,        \
     "Arrival process name.", NULL}

/* ================================================================== open loop (renewal) */

typedef enum gap_kind { GAP_EXP, GAP_GAMMA, GAP_CONST } gap_kind;

typedef struct renewal_cfg {
    ss_arrival_cfg_head head;
    double rate;
    double cv;
} renewal_cfg;

typedef struct renewal {
    gap_kind kind;
    double mean_gap_s, shape, scale;
    ss_rng *rng;
    ss_time_ns t;  /* last arrival consumed */
    ss_time_ns nt; /* next arrival, valid when have_next */
    bool have_next;
} renewal;

static ss_rc renewal_create(const renewal_cfg *c, gap_kind kind, ss_rng *rng, void **state,
                            ss_diag *d)
{
    renewal *p = calloc(1, sizeof *p);
    if (!p) return ss_diag_fail(d, SS_ERR_NOMEM, "out of memory");
    p->kind = kind;
    p->mean_gap_s = 1.0 / c->rate;
    if (kind == GAP_GAMMA) {
        p->shape = 1.0 / (c->cv * c->cv);
        p->scale = c->cv * c->cv / c->rate;
    }
    p->rng = rng;
    *state = p;
    return SS_OK;
}

static ss_time_ns renewal_next(void *state, ss_time_ns now)
{
    renewal *p = state;
    (void)now;
    if (!p->have_next) {
        double gap = p->kind == GAP_EXP     ? gsl_ran_exponential(p->rng->g, p->mean_gap_s)
                     : p->kind == GAP_GAMMA ? gsl_ran_gamma(p->rng->g, p->shape, p->scale)
                                            : p->mean_gap_s;
        p->nt = ss_time_add(p->t, ss_time_from_s(gap));
        p->have_next = true;
    }
    return p->nt;
}

static void renewal_consume(void *state, ss_time_ns now)
{
    renewal *p = state;
    (void)now;
    p->t = p->nt;
    p->have_next = false;
}

static const ss_key poisson_keys[] = {
    PROCESS_ROW(renewal_cfg),
    {"rate", SS_KEY_DOUBLE, offsetof(renewal_cfg, rate), 0, NULL, 0, 1e9, SS_KEY_MIN_EXCL,
     "req/s", "Mean arrival rate.", NULL},
    END_ROW};
static const ss_key gamma_keys[] = {
    PROCESS_ROW(renewal_cfg),
    {"rate", SS_KEY_DOUBLE, offsetof(renewal_cfg, rate), 0, NULL, 0, 1e9, SS_KEY_MIN_EXCL,
     "req/s", "Mean arrival rate.", NULL},
    {"cv", SS_KEY_DOUBLE, offsetof(renewal_cfg, cv), 0, NULL, 0, 100, SS_KEY_MIN_EXCL, NULL,
     "Coefficient of variation of the gaps (1 = Poisson, > 1 bursty).", NULL},
    END_ROW};

static ss_rc poisson_create(const void *cfg, ss_rng *rng, void **state, ss_diag *d)
{
    return renewal_create(cfg, GAP_EXP, rng, state, d);
}
static ss_rc gamma_create(const void *cfg, ss_rng *rng, void **state, ss_diag *d)
{
    return renewal_create(cfg, GAP_GAMMA, rng, state, d);
}
static ss_rc constant_create(const void *cfg, ss_rng *rng, void **state, ss_diag *d)
{
    return renewal_create(cfg, GAP_CONST, rng, state, d);
}

static const ss_arrival_ops poisson_ops = {
    .info = {SS_ARRIVAL_ABI, "poisson", "Poisson arrivals at a fixed rate (keys: rate)",
             "MLPerf LoadGen Server scenario; vLLM benchmark_serving --request-rate"},
    .keys = poisson_keys,
    .cfg_size = sizeof(renewal_cfg),
    .create = poisson_create,
    .destroy = free,
    .next = renewal_next,
    .consume = renewal_consume,
};

static const ss_arrival_ops gamma_ops = {
    .info = {SS_ARRIVAL_ABI, "gamma",
             "gamma-distributed gaps: a rate and a coefficient of variation for burstiness "
             "(keys: rate, cv)",
             "vLLM benchmark_serving --burstiness (shape = 1/cv^2)"},
    .keys = gamma_keys,
    .cfg_size = sizeof(renewal_cfg),
    .create = gamma_create,
    .destroy = free,
    .next = renewal_next,
    .consume = renewal_consume,
};

static const ss_arrival_ops constant_ops = {
    .info = {SS_ARRIVAL_ABI, "constant", "one request every 1/rate seconds (keys: rate)",
             "fixed-interval load, e.g. MLPerf-style pacing without randomness"},
    .keys = poisson_keys,
    .cfg_size = sizeof(renewal_cfg),
    .create = constant_create,
    .destroy = free,
    .next = renewal_next,
    .consume = renewal_consume,
};

/* ================================================================== offline */

static const ss_key offline_keys[] = {
    {"process", SS_KEY_STRING, offsetof(ss_arrival_cfg_head, process), 32, NULL, 0, 0, 0,
     NULL, "Arrival process name.", NULL},
    END_ROW};

static ss_rc offline_create(const void *cfg, ss_rng *rng, void **state, ss_diag *d)
{
    (void)cfg;
    (void)rng;
    (void)d;
    *state = NULL;
    return SS_OK;
}

static void nothing(void *state) { (void)state; }
static void consume_nothing(void *state, ss_time_ns now)
{
    (void)state;
    (void)now;
}

static ss_time_ns offline_next(void *state, ss_time_ns now)
{
    (void)state;
    (void)now;
    return 0;
}

static const ss_arrival_ops offline_ops = {
    .info = {SS_ARRIVAL_ABI, "offline", "every request at t = 0 (throughput runs)",
             "MLPerf LoadGen Offline scenario; vllm bench throughput"},
    .keys = offline_keys,
    .cfg_size = sizeof(ss_arrival_cfg_head),
    .create = offline_create,
    .destroy = nothing,
    .next = offline_next,
    .consume = consume_nothing,
};

/* ================================================================== closed loop */

typedef struct closed_cfg {
    ss_arrival_cfg_head head;
    int clients;
    ss_time_ns think;
} closed_cfg;

static const ss_key closed_keys[] = {
    PROCESS_ROW(closed_cfg),
    {"clients", SS_KEY_INT, offsetof(closed_cfg, clients), 0, NULL, 1, 1e7, 0, "clients",
     "Concurrent clients, each with at most one request in flight.", NULL},
    {"think_time", SS_KEY_DURATION, offsetof(closed_cfg, think), 0, "0", 0, 1e6, 0, "s",
     "Pause between a client's response and its next request.", NULL},
    END_ROW};

/* Clients that are free, as a min-heap of the times they send next. A client whose request
 * is in flight is not in the heap; on completion it comes back at now + think. */
typedef struct closed {
    ss_time_ns think;
    ss_time_ns *heap;
    size_t n, cap;
} closed;

static ss_rc closed_create(const void *cfg, ss_rng *rng, void **state, ss_diag *d)
{
    const closed_cfg *c = cfg;
    (void)rng;
    closed *p = calloc(1, sizeof *p);
    if (p) p->heap = calloc((size_t)c->clients, sizeof *p->heap);
    if (!p || !p->heap) {
        if (p) free(p->heap);
        free(p);
        return ss_diag_fail(d, SS_ERR_NOMEM, "out of memory");
    }
    p->cap = (size_t)c->clients;
    p->n = p->cap; /* every client sends at t = 0: a heap of zeros */
    p->think = c->think;
    *state = p;
    return SS_OK;
}

static void closed_destroy(void *state)
{
    closed *p = state;
    if (p) free(p->heap);
    free(p);
}

static ss_time_ns closed_next(void *state, ss_time_ns now)
{
    const closed *p = state;
    (void)now;
    return p->n ? p->heap[0] : SS_TIME_NEVER;
}

static void closed_consume(void *state, ss_time_ns now)
{
    closed *p = state;
    (void)now;
    ss_time_ns last = p->heap[--p->n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= p->n) break;
        if (c + 1 < p->n && p->heap[c + 1] < p->heap[c]) c++;
        if (p->heap[c] >= last) break;
        p->heap[i] = p->heap[c];
        i = c;
    }
    if (p->n) p->heap[i] = last;
}

static void closed_complete(void *state, ss_time_ns now)
{
    closed *p = state;
    if (p->n == p->cap) return; /* cannot happen: one request per client in flight */
    ss_time_ns t = ss_time_add(now, p->think);
    size_t i = p->n++;
    while (i > 0 && p->heap[(i - 1) / 2] > t) {
        p->heap[i] = p->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    p->heap[i] = t;
}

static const ss_arrival_ops closed_ops = {
    .info = {SS_ARRIVAL_ABI, "closed_loop",
             "N concurrent clients, each sending its next request when the previous one "
             "completes, after an optional think time (keys: clients, think_time)",
             "AIPerf/GenAI-Perf --concurrency; vllm bench serve --max-concurrency"},
    .keys = closed_keys,
    .cfg_size = sizeof(closed_cfg),
    .create = closed_create,
    .destroy = closed_destroy,
    .next = closed_next,
    .consume = closed_consume,
    .on_complete = closed_complete,
};

/* ================================================================== grouped */

typedef struct grouped_cfg {
    ss_arrival_cfg_head head;
    int64_t group_size;
    ss_time_ns think;
} grouped_cfg;

static const ss_key grouped_keys[] = {
    PROCESS_ROW(grouped_cfg),
    {"group_size", SS_KEY_INT64, offsetof(grouped_cfg, group_size), 0, NULL, 1, 1e6, 0,
     "requests", "Requests issued together as one group (MLPerf samples_per_query).", NULL},
    {"think_time", SS_KEY_DURATION, offsetof(grouped_cfg, think), 0, "0", 0, 1e6, 0, "s",
     "Pause between a group's last completion and the next group.", NULL},
    END_ROW};

/* One group in flight: `to_issue` of it still to send at `ready`, `outstanding` sent and not
 * yet finished. When the last one finishes, the next group is ready after the think time. */
typedef struct grouped {
    int64_t size;
    ss_time_ns think, ready;
    int64_t to_issue, outstanding;
} grouped;

static ss_rc grouped_create(const void *cfg, ss_rng *rng, void **state, ss_diag *d)
{
    const grouped_cfg *c = cfg;
    (void)rng;
    grouped *p = calloc(1, sizeof *p);
    if (!p) return ss_diag_fail(d, SS_ERR_NOMEM, "out of memory");
    p->size = c->group_size;
    p->think = c->think;
    p->to_issue = c->group_size;
    *state = p;
    return SS_OK;
}

static ss_time_ns grouped_next(void *state, ss_time_ns now)
{
    const grouped *p = state;
    (void)now;
    return p->to_issue ? p->ready : SS_TIME_NEVER;
}

static void grouped_consume(void *state, ss_time_ns now)
{
    grouped *p = state;
    (void)now;
    p->to_issue--;
    p->outstanding++;
}

static void grouped_complete(void *state, ss_time_ns now)
{
    grouped *p = state;
    if (p->outstanding > 0) p->outstanding--;
    if (!p->outstanding && !p->to_issue) {
        p->to_issue = p->size;
        p->ready = ss_time_add(now, p->think);
    }
}

static const ss_arrival_ops grouped_ops = {
    .info = {SS_ARRIVAL_ABI, "grouped",
             "groups of group_size requests issued together; the next group when the whole "
             "previous one has finished (keys: group_size, think_time)",
             "MLPerf LoadGen MultiStream scenario (samples_per_query)"},
    .keys = grouped_keys,
    .cfg_size = sizeof(grouped_cfg),
    .create = grouped_create,
    .destroy = free,
    .next = grouped_next,
    .consume = grouped_consume,
    .on_complete = grouped_complete,
};

const ss_arrival_ops *const ss_arrival_builtin[] = {&poisson_ops,  &gamma_ops,
                                                    &constant_ops, &offline_ops,
                                                    &closed_ops,   &grouped_ops,
                                                    &ss_arrival_trace, NULL};

const ss_arrival_ops *ss_arrival_find(const char *name)
{
    return (const ss_arrival_ops *)ss_plugin_find((const void *const *)ss_arrival_builtin,
                                                  name);
}

ss_rc ss_arrival_configure(const ss_arrival_ops *ops, void *cfg, const char *const *kv,
                           const char **key, char *why, size_t why_n)
{
    memset(cfg, 0, ops->cfg_size);
    ss_arrival_cfg_head *h = cfg;
    snprintf(h->process, sizeof h->process, "%s", ops->info.name);
    for (const ss_key *k = ops->keys + 1; k->name; k++) {
        const char *text = k->def && k->def[0] ? k->def : NULL;
        for (size_t i = 0; kv && kv[i]; i += 2)
            if (strcmp(kv[i], k->name) == 0) text = kv[i + 1];
        *key = k->name;
        if (!text) {
            if (!k->def) {
                snprintf(why, why_n, "missing required key");
                return SS_ERR_INVALID;
            }
            continue;
        }
        ss_rc rc = ss_cfg_parse_scalar(k, text, cfg, why, why_n);
        if (rc) return rc;
    }
    *key = "process";
    if (ops->check) return ops->check(cfg, key, why, why_n);
    return SS_OK;
}

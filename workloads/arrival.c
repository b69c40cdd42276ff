/* Built-in arrival processes: `poisson` and `offline`.
 *
 * poisson: exponential inter-arrival gaps at `rate` req/s (MLPerf Server, vLLM
 * benchmark_serving --request-rate), drawn with gsl_ran_exponential from the source's own
 * stream; the first request arrives after one gap, as in a process started at t = 0.
 * offline: every request at t = 0 (MLPerf Offline, `vllm bench throughput`). */
#include "workloads/arrival.h"

#include <gsl/gsl_randist.h>
#include <stdlib.h>

/* ------------------------------------------------------------------ poisson */

typedef struct poisson_cfg {
    ss_arrival_cfg_head head;
    double rate;
} poisson_cfg;

static const ss_key poisson_keys[] = {
    {"process", SS_KEY_STRING, offsetof(poisson_cfg, head.process), 32, NULL, 0, 0, 0, NULL,
     "Arrival process name.", NULL},
    {"rate", SS_KEY_DOUBLE, offsetof(poisson_cfg, rate), 0, NULL, 0, 1e9, SS_KEY_MIN_EXCL,
     "req/s", "Mean arrival rate (Poisson process).", NULL},
    {NULL, 0, 0, 0, NULL, 0, 0, 0, NULL, NULL, NULL},
};

typedef struct poisson {
    double mean_gap_s;
    ss_rng *rng;
    ss_time_ns t; /* time of the last arrival handed out */
} poisson;

static ss_rc poisson_create(const void *cfg, ss_rng *rng, void **state, ss_diag *d)
{
    const poisson_cfg *c = cfg;
    poisson *p = calloc(1, sizeof *p);
    if (!p) return ss_diag_fail(d, SS_ERR_NOMEM, "out of memory");
    p->mean_gap_s = 1.0 / c->rate;
    p->rng = rng;
    *state = p;
    return SS_OK;
}

static ss_time_ns poisson_next(void *state, ss_time_ns now)
{
    poisson *p = state;
    (void)now;
    p->t = ss_time_add(p->t, ss_time_from_s(gsl_ran_exponential(p->rng->g, p->mean_gap_s)));
    return p->t;
}

static const ss_arrival_ops poisson_ops = {
    .info = {SS_ARRIVAL_ABI, "poisson", "Poisson arrivals at a fixed rate (keys: rate)",
             "MLPerf LoadGen Server scenario; vLLM benchmark_serving --request-rate"},
    .keys = poisson_keys,
    .cfg_size = sizeof(poisson_cfg),
    .check = NULL,
    .create = poisson_create,
    .destroy = free,
    .next = poisson_next,
    .on_complete = NULL,
};

/* ------------------------------------------------------------------ offline */

static const ss_key offline_keys[] = {
    {"process", SS_KEY_STRING, offsetof(ss_arrival_cfg_head, process), 32, NULL, 0, 0, 0,
     NULL, "Arrival process name.", NULL},
    {NULL, 0, 0, 0, NULL, 0, 0, 0, NULL, NULL, NULL},
};

static ss_rc offline_create(const void *cfg, ss_rng *rng, void **state, ss_diag *d)
{
    (void)cfg;
    (void)rng;
    (void)d;
    *state = NULL;
    return SS_OK;
}

static void offline_destroy(void *state) { (void)state; }

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
    .check = NULL,
    .create = offline_create,
    .destroy = offline_destroy,
    .next = offline_next,
    .on_complete = NULL,
};

const ss_arrival_ops *const ss_arrival_builtin[] = {&poisson_ops, &offline_ops, NULL};

const ss_arrival_ops *ss_arrival_find(const char *name)
{
    return (const ss_arrival_ops *)ss_plugin_find((const void *const *)ss_arrival_builtin,
                                                  name);
}

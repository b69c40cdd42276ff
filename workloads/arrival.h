/* Arrival processes: event-driven plug-ins that say when the next request of a source
 * arrives. Nothing is pre-generated: the engine keeps at most one arrival event per source
 * and asks the process for the next one after each arrival and after each completion, so
 * memory never grows with the number of requests.
 *
 * Protocol: next() says when the next request would arrive without consuming it (calling it
 * again gives the same answer until something changes); consume() is called when that
 * arrival happens. on_complete() reports that one of the source's requests finished; a
 * closed-loop process then has a client free again, and if its next arrival becomes earlier
 * than the one the engine holds, the engine supersedes its event. */
#ifndef SS_WORKLOADS_ARRIVAL_H
#define SS_WORKLOADS_ARRIVAL_H

#include <stdbool.h>
#include <stddef.h>

#include "sim/core/cfg.h"
#include "sim/core/plugin.h"
#include "sim/core/request.h"
#include "sim/core/rng.h"
#include "sim/core/time.h"

#define SS_ARRIVAL_ABI 1

/* Every arrival process's parameters start with this header; the rest is its own, read by
 * its key table from the `workload.arrival` mapping. */
typedef struct ss_arrival_cfg_head {
    char process[32];
    const char *base_dir; /* directory of the scenario file, for relative paths (set by the
                             scenario loader; lives as long as the scenario) */
} ss_arrival_cfg_head;

typedef struct ss_arrival_ops {
    ss_plugin_info info;
    const ss_key *keys; /* its table, including the `process` row */
    size_t cfg_size;    /* sizeof its parameter struct (begins with ss_arrival_cfg_head) */
    /* Cross-key checks after the table was applied; name the offending key in *key. */
    ss_rc (*check)(const void *cfg, const char **key, char *why, size_t why_n);
    ss_rc (*create)(const void *cfg, ss_rng *rng, void **state, ss_diag *d);
    void (*destroy)(void *state);
    /* Time of the next arrival (>= now, or earlier if it was already due), or SS_TIME_NEVER
     * if none is due; does not consume it. */
    ss_time_ns (*next)(void *state, ss_time_ns now);
    /* The arrival last returned by next() happened at `now`. */
    void (*consume)(void *state, ss_time_ns now);
    /* One of this source's requests finished or was rejected at `now` (may be NULL). */
    void (*on_complete)(void *state, ss_time_ns now);
    /* Optional: a process that knows its requests (a trace) sets the lengths (and priority)
     * of the request whose arrival was just consumed. NULL: lengths come from the
     * workload's length distributions. */
    void (*fill)(void *state, ss_req *r);
    /* The process ends by itself (a trace), so num_requests / duration are optional. */
    bool finite;
    /* Optional: input rows skipped as malformed (a lenient trace), for the summary. */
    uint64_t (*skipped)(const void *state);
    /* Optional: called when the run ends; reports an error the process met on the way (a
     * trace file that became unreadable), which next() could only answer with "no more". */
    ss_rc (*finish)(void *state, ss_diag *d);
} ss_arrival_ops;

extern const ss_arrival_ops *const ss_arrival_builtin[];
/* The trace process, and its configuration with every key at its default but the file
 * (for the `workload.trace: FILE` shorthand). */
extern const ss_arrival_ops ss_arrival_trace;
void ss_arrival_trace_config(void *cfg, const char *file, const char *base_dir);
const ss_arrival_ops *ss_arrival_find(const char *name);

/* Fill `cfg` (ops->cfg_size bytes) for process `ops` from KEY, VALUE text pairs (`kv`, NULL-
 * terminated; keys not given take their defaults), checked like a scenario file: used where
 * servesim itself configures arrivals (MLPerf scenarios). On error *key names the key. */
ss_rc ss_arrival_configure(const ss_arrival_ops *ops, void *cfg, const char *const *kv,
                           const char **key, char *why, size_t why_n);

#endif

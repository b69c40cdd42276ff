/* `trace`: arrivals (and their lengths) replayed from a request trace file, streamed row by
 * row so that memory does not grow with the trace.
 *
 * The whole file is read once when the run is created: that pass reports any malformed row
 * (file, line, field) before anything is simulated, counts the rows and measures the span,
 * which `rate` needs. The run then streams the file again. Times are relative to the first
 * row. Optional rescaling: `speedup: F` divides every time by F (a trace compressed in
 * time), `rate: R` scales times so that the mean arrival rate, (rows - 1) / span, becomes R
 * req/s; at most one of the two. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "workloads/arrival.h"
#include "workloads/trace.h"

typedef struct trace_cfg {
    ss_arrival_cfg_head head;
    char file[1024];
    char format[16];
    double rate;
    double speedup;
    bool lenient;
} trace_cfg;

static const char *const format_names[] = {"auto", "native", "azure", "mooncake", NULL};

#define T(f) offsetof(trace_cfg, f)
static const ss_key trace_keys[] = {
    {"process", SS_KEY_STRING, T(head.process), 32, NULL, 0, 0, 0, NULL, "Arrival process name.",
     NULL},
    {"file", SS_KEY_STRING, T(file), 1024, NULL, 0, 0, 0, NULL,
     "Trace file (relative to the scenario file), gzip or plain; see docs/traces.md.", NULL},
    {"format", SS_KEY_STRING, T(format), 16, "auto", 0, 0, 0, NULL,
     "auto (detect from the first line), native, azure or mooncake.", NULL},
    {"rate", SS_KEY_DOUBLE, T(rate), 0, "0", 0, 1e9, 0, "req/s",
     "Rescale times so that the mean arrival rate is this; 0 = as recorded.", NULL},
    {"speedup", SS_KEY_DOUBLE, T(speedup), 0, "1", 0, 1e9, SS_KEY_MIN_EXCL, NULL,
     "Divide every arrival time by this factor (time compression).", NULL},
    {"lenient", SS_KEY_BOOL, T(lenient), 0, "false", 0, 0, 0, NULL,
     "Skip malformed rows (counted and reported) instead of stopping with an error.", NULL},
    {NULL, 0, 0, 0, NULL, 0, 0, 0, NULL, NULL, NULL},
};
#undef T

typedef struct trace_src {
    char path[2048];
    int format;
    ss_trace_opts opts;
    ss_trace *tr;
    double scale;       /* simulated time = recorded time * scale */
    ss_trace_row row;   /* the pending (peeked) row */
    bool have_row, done;
    ss_diag err; /* an error met while streaming (pass 2), reported by finish() */
    uint64_t rows, skipped;
} trace_src;

void ss_arrival_trace_config(void *cfg, const char *file, const char *base_dir)
{
    trace_cfg *c = cfg;
    memset(c, 0, sizeof *c);
    snprintf(c->head.process, sizeof c->head.process, "trace");
    c->head.base_dir = base_dir;
    snprintf(c->file, sizeof c->file, "%s", file);
    snprintf(c->format, sizeof c->format, "auto");
    c->speedup = 1;
}

static ss_rc trace_check(const void *cfg, const char **key, char *why, size_t why_n)
{
    const trace_cfg *c = cfg;
    int known = 0;
    for (int i = 0; format_names[i]; i++) known |= !strcmp(format_names[i], c->format);
    if (!known) {
        *key = "format";
        snprintf(why, why_n, "unknown trace format '%s' (valid: auto, native, azure, mooncake)",
                 c->format);
        return SS_ERR_INVALID;
    }
    if (c->rate > 0 && c->speedup != 1) {
        *key = "rate";
        snprintf(why, why_n, "give rate or speedup, not both");
        return SS_ERR_INVALID;
    }
    return SS_OK;
}

static ss_rc trace_create(const void *cfg, ss_rng *rng, void **state, ss_diag *d)
{
    const trace_cfg *c = cfg;
    (void)rng;
    trace_src *t = calloc(1, sizeof *t);
    if (!t) return ss_diag_fail(d, SS_ERR_NOMEM, "out of memory");
    if (c->file[0] == '/' || !c->head.base_dir || !strcmp(c->head.base_dir, "."))
        snprintf(t->path, sizeof t->path, "%s", c->file);
    else
        snprintf(t->path, sizeof t->path, "%s/%s", c->head.base_dir, c->file);
    t->format = strcmp(c->format, "auto") ? ss_trace_format_from_name(c->format) : -1;
    ss_diag_clear(&t->err);
    t->opts = ss_trace_opts_defaults();
    t->opts.lenient = c->lenient;
    t->opts.require_sorted = 1;

    /* Pass 1: validate every row, count, measure the span. */
    ss_trace *tr;
    ss_rc rc = ss_trace_open(t->path, t->format, &t->opts, &tr, d);
    if (rc) {
        free(t);
        return rc;
    }
    ss_trace_row row;
    ss_time_ns last = 0;
    int got;
    while ((got = ss_trace_next(tr, &row, d)) > 0) {
        if (!row.has_time) {
            const char *fmt = ss_trace_format_name(ss_trace_get_format(tr));
            ss_trace_close(tr);
            rc = ss_diag_set(d, SS_ERR_INVALID, t->path, 0, 0, NULL,
                             "a %s table has no arrival times: use it as a length source "
                             "(workload.lengths), not as a trace", fmt);
            free(t);
            return rc;
        }
        last = row.t;
        t->rows++;
    }
    t->skipped = ss_trace_skipped(tr);
    ss_trace_close(tr);
    if (got < 0) {
        free(t);
        return (ss_rc)got;
    }
    if (!t->rows) {
        if (t->skipped)
            rc = ss_diag_set(d, SS_ERR_INVALID, t->path, 0, 0, NULL,
                             "the trace has no usable rows: all %llu rows malformed (skipped)",
                             (unsigned long long)t->skipped);
        else rc = ss_diag_set(d, SS_ERR_INVALID, t->path, 0, 0, NULL, "the trace has no rows");
        free(t);
        return rc;
    }
    t->scale = 1.0 / c->speedup;
    if (c->rate > 0) {
        if (t->rows < 2 || last <= 0) {
            rc = ss_diag_set(d, SS_ERR_INVALID, t->path, 0, 0, NULL,
                             "cannot rescale to a rate: the trace spans no time");
            free(t);
            return rc;
        }
        double recorded = (double)(t->rows - 1) / ss_time_to_s(last);
        t->scale = recorded / c->rate;
    }
    if (ss_time_to_s(last) * t->scale > 9.0e9) {
        rc = ss_diag_set(d, SS_ERR_INVALID, t->path, 0, 0, NULL,
                         "rescaled, the trace would last %.3g s, past the simulator's clock "
                         "(~292 years): check rate / speedup", ss_time_to_s(last) * t->scale);
        free(t);
        return rc;
    }
    /* Pass 2 starts now and streams during the run. */
    if ((rc = ss_trace_open(t->path, t->format, &t->opts, &t->tr, d))) {
        free(t);
        return rc;
    }
    *state = t;
    return SS_OK;
}

static void trace_destroy(void *state)
{
    trace_src *t = state;
    if (!t) return;
    if (t->tr) ss_trace_close(t->tr);
    free(t);
}

static ss_time_ns trace_next(void *state, ss_time_ns now)
{
    trace_src *t = state;
    (void)now;
    if (!t->have_row && !t->done) {
        /* The file was validated in pass 1, so an error here means it changed since or
         * could not be read: stop the arrivals and report it at the end of the run. */
        int got = ss_trace_next(t->tr, &t->row, &t->err);
        if (got > 0) t->have_row = true;
        else t->done = true;
    }
    if (!t->have_row) return SS_TIME_NEVER;
    return ss_time_from_s(ss_time_to_s(t->row.t) * t->scale);
}

static void trace_consume(void *state, ss_time_ns now)
{
    trace_src *t = state;
    (void)now;
    t->have_row = false;
}

/* Called right after consume(): the row consumed is still in t->row. */
static void trace_fill(void *state, ss_req *r)
{
    const trace_src *t = state;
    r->prompt_tokens = t->row.prompt_tokens;
    r->output_tokens = t->row.output_tokens;
}

static ss_rc trace_finish(void *state, ss_diag *d)
{
    trace_src *t = state;
    if (t->err.rc == SS_OK) return SS_OK;
    if (d && d->rc == SS_OK) *d = t->err;
    return t->err.rc;
}

static uint64_t trace_skipped(const void *state)
{
    return ((const trace_src *)state)->skipped;
}

const ss_arrival_ops ss_arrival_trace = {
    .info = {SS_ARRIVAL_ABI, "trace",
             "arrivals and lengths replayed from a trace file (native CSV, Azure LLM 2023, "
             "Mooncake JSONL), optionally rescaled (keys: file, format, rate, speedup, lenient)",
             "docs/traces.md"},
    .keys = trace_keys,
    .cfg_size = sizeof(trace_cfg),
    .check = trace_check,
    .create = trace_create,
    .destroy = trace_destroy,
    .next = trace_next,
    .consume = trace_consume,
    .fill = trace_fill,
    .finite = true,
    .skipped = trace_skipped,
    .finish = trace_finish,
};

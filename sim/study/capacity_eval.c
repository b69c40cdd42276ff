/* The simulator as a capacity-search evaluator; see capacity_eval.h. */
#include "sim/study/capacity_eval.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sim/engine/sim.h"

void ss_cap_format_override(const char *key, double load, int integer, char *buf, size_t n)
{
    if (integer) {
        snprintf(buf, n, "%s=%.0f", key, load);
        return;
    }
    for (int prec = 6; prec <= 17; prec++) { /* shortest exact text: stable and readable */
        snprintf(buf, n, "%s=%.*g", key, prec, load);
        if (strtod(strchr(buf, '=') + 1, NULL) == load) return;
    }
}

/* What the run's summary does not have: per-request attainment, and the rate at which the
 * measured requests arrived (the summary's throughput divides by first arrival -> last
 * completion, which a short run's drain inflates; below capacity, requests leave as fast as
 * they arrive, so the arrival rate is the served rate, in open and closed loop alike). */
typedef struct attain {
    const ss_slo_spec *slo;
    uint64_t measured, ok, finished;
    double in_tokens, out_tokens;
    ss_time_ns first, last;
} attain;

static int on_request(void *ctx, const ss_req *r)
{
    attain *a = ctx;
    if (!r->measured) return 0;
    if (a->measured == 0 || r->arrival < a->first) a->first = r->arrival;
    if (a->measured == 0 || r->arrival > a->last) a->last = r->arrival;
    a->measured++;
    a->ok += (uint64_t)ss_slo_request_ok(a->slo, r);
    if (r->state == SS_REQ_FINISHED) {
        a->finished++;
        a->in_tokens += r->prompt_tokens;
        a->out_tokens += r->generated;
    }
    return 0;
}

ss_rc ss_cap_sim_run_one(const ss_scenario *sc, const ss_slo_spec *slo, int rep, ss_cap_sample *out,
                         ss_diag *d)
{
    ss_sim *sim = NULL;
    ss_sim_opts opts = {.seed = sc->seed, .replication = (uint64_t)rep};
    ss_rc rc = ss_sim_create(sc, &opts, &sim, d);
    if (rc) return rc;
    attain a = {.slo = slo};
    ss_observer obs = {.ctx = &a, .on_request = on_request};
    ss_sim_set_observer(sim, &obs);
    if ((rc = ss_sim_run(sim, d))) {
        ss_sim_free(sim);
        return rc;
    }
    const ss_summary *s = ss_sim_summary(sim);
    double att = a.measured ? (double)a.ok / (double)a.measured : 0;
    memset(out, 0, sizeof *out);
    for (int k = 0; k < slo->nterms; k++) out->v[k] = ss_slo_value(&slo->term[k], s, att);
    double span = ss_time_to_s(a.last - a.first);
    double rate = a.measured > 1 && span > 0 ? (double)(a.measured - 1) / span : 0;
    double served = a.measured ? rate * (double)a.finished / (double)a.measured : 0;
    out->aux[SS_CAP_REQ_TPUT] = served;
    out->aux[SS_CAP_OUT_TPUT] = a.finished ? served * a.out_tokens / (double)a.finished : 0;
    out->aux[SS_CAP_TOT_TPUT] =
        a.finished ? served * (a.in_tokens + a.out_tokens) / (double)a.finished : 0;
    out->aux[SS_CAP_BUSY] = s->busy_fraction;
    out->aux[SS_CAP_ATTAIN] = att;
    out->aux[SS_CAP_GOODPUT] = rate * att;
    ss_sim_free(sim);
    return SS_OK;
}

/* What a worker sends back. */
typedef struct worker_msg {
    ss_rc rc;
    ss_diag d;
    ss_cap_sample sample;
} worker_msg;

typedef struct worker {
    pid_t pid;
    int fd;
} worker;

static ss_rc start_worker(const ss_scenario *sc, const ss_slo_spec *slo, int rep, worker *w,
                          ss_diag *d)
{
    int p[2];
    if (pipe(p)) return ss_diag_fail(d, SS_ERR_IO, "pipe: %s", strerror(errno));
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(p[0]);
        close(p[1]);
        return ss_diag_fail(d, SS_ERR_IO, "fork: %s", strerror(errno));
    }
    if (pid == 0) {
        close(p[0]);
        worker_msg *m = calloc(1, sizeof *m);
        if (!m) _exit(3);
        ss_diag_clear(&m->d);
        m->rc = ss_cap_sim_run_one(sc, slo, rep, &m->sample, &m->d);
        const char *b = (const char *)m;
        size_t left = sizeof *m;
        while (left) {
            ssize_t k = write(p[1], b, left);
            if (k < 0 && errno == EINTR) continue;
            if (k <= 0) _exit(2);
            b += k;
            left -= (size_t)k;
        }
        _exit(0);
    }
    close(p[1]);
    w->pid = pid;
    w->fd = p[0];
    return SS_OK;
}

/* Collect one worker's sample (always reaps it). */
static ss_rc finish_worker(worker *w, ss_cap_sample *out, ss_diag *d)
{
    worker_msg *m = calloc(1, sizeof *m);
    size_t got = 0;
    while (m && got < sizeof *m) {
        ssize_t k = read(w->fd, (char *)m + got, sizeof *m - got);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) break;
        got += (size_t)k;
    }
    close(w->fd);
    int st = 0;
    while (waitpid(w->pid, &st, 0) < 0 && errno == EINTR) {
    }
    ss_rc rc;
    if (!m) rc = ss_diag_fail(d, SS_ERR_NOMEM, "out of memory");
    else if (got != sizeof *m || !WIFEXITED(st) || WEXITSTATUS(st))
        rc = ss_diag_fail(d, SS_ERR_INTERNAL, "a replication worker died (%s %d)",
                          WIFSIGNALED(st) ? "signal" : "status",
                          WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
    else if (m->rc) {
        if (d && d->rc == SS_OK) *d = m->d;
        rc = m->rc;
    } else {
        *out = m->sample;
        rc = SS_OK;
    }
    free(m);
    return rc;
}

ss_rc ss_cap_sim_eval(void *ctx, double load, int first, int n, ss_cap_sample *out, ss_diag *d)
{
    const ss_cap_sim *c = ctx;
    char item[512];
    ss_cap_format_override(c->key, load, c->integer, item, sizeof item);
    const char *items[1] = {item};
    ss_overrides extra = {.items = items, .n = 1};
    ss_scenario *sc = NULL;
    ss_rc rc = c->load(c->load_ctx, &extra, &sc, d);
    if (rc) return rc;
    if (c->jobs <= 1 || n == 1) {
        for (int i = 0; i < n && !rc; i++)
            rc = ss_cap_sim_run_one(sc, c->slo, first + i, &out[i], d);
        ss_scenario_free(sc);
        return rc;
    }
    /* at most `jobs` workers; collected in replication order */
    worker w[64];
    int jobs = c->jobs < 64 ? c->jobs : 64;
    int started = 0, done = 0;
    while (done < n) {
        while (!rc && started < n && started - done < jobs) {
            rc = start_worker(sc, c->slo, first + started, &w[started % jobs], d);
            if (!rc) started++;
        }
        if (done == started) break;
        ss_rc r2 = finish_worker(&w[done % jobs], &out[done], d);
        if (!rc) rc = r2;
        done++;
    }
    ss_scenario_free(sc);
    return rc;
}

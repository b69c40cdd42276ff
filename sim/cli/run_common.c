/* One complete run; see run_common.h. Results are written atomically, results.db first and
 * then summary.json and run.json: each appears only when the run succeeded, so a failed run
 * never replaces good results with partial ones. */
#include "sim/cli/run_common.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sim/cli/cli.h"
#include "sim/output/output.h"

ss_rc ss_mkdir_p(const char *dir, ss_diag *d)
{
    char buf[4096];
    if (!dir[0]) return ss_diag_fail(d, SS_ERR_INVALID, "the output directory name is empty");
    if (strlen(dir) >= sizeof buf - 64)
        return ss_diag_set(d, SS_ERR_INVALID, dir, 0, 0, NULL, "output directory name too long");
    snprintf(buf, sizeof buf, "%s", dir);
    for (char *p = buf + 1;; p++) {
        char c = *p;
        if (c == '/' || c == '\0') {
            *p = '\0';
            if (mkdir(buf, 0777) != 0 && errno != EEXIST)
                return ss_diag_set(d, SS_ERR_IO, buf, 0, 0, NULL,
                                   "cannot create output directory: %s", strerror(errno));
            *p = c;
        }
        if (!c) break;
    }
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return ss_diag_set(d, SS_ERR_IO, dir, 0, 0, NULL, "not a directory");
    return SS_OK;
}

static char *meta_json(const ss_run_meta *m)
{
    char *buf = malloc(8192);
    if (buf)
        snprintf(buf, 8192,
                 "{\n\t\"version\":\t\"%s\",\n\t\"host\":\t\"%s\",\n\t\"started_at\":\t\"%s\","
                 "\n\t\"wall_s\":\t%.6f\n}",
                 m->version, m->host, m->started_at, m->wall_s);
    return buf;
}

/* Two observers in turn (results.db, then the caller's tap); the first failure stops. */
typedef struct obs_pair {
    ss_observer a, b;
} obs_pair;

static int pair_request(void *ctx, const ss_req *r)
{
    obs_pair *p = ctx;
    if (p->a.on_request && p->a.on_request(p->a.ctx, r)) return 1;
    return p->b.on_request ? p->b.on_request(p->b.ctx, r) : 0;
}

static int pair_iteration(void *ctx, const ss_iter_record *it)
{
    obs_pair *p = ctx;
    if (p->a.on_iteration && p->a.on_iteration(p->a.ctx, it)) return 1;
    return p->b.on_iteration ? p->b.on_iteration(p->b.ctx, it) : 0;
}

static int pair_sample(void *ctx, const ss_sample_record *s)
{
    obs_pair *p = ctx;
    if (p->a.on_sample && p->a.on_sample(p->a.ctx, s)) return 1;
    return p->b.on_sample ? p->b.on_sample(p->b.ctx, s) : 0;
}

ss_rc ss_run_scenario(const ss_scenario *sc, ss_run_args *a, ss_diag *d)
{
    double t0 = ss_cli_now();
    time_t now = time(NULL);
    char started[64], host[256] = "";
    strftime(started, sizeof started, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    gethostname(host, sizeof host - 1);

    char path[4096];
    ss_resdb *db = NULL;
    ss_sim *sim = NULL;
    ss_rc rc;
    if (a->out_dir) {
        if ((rc = ss_mkdir_p(a->out_dir, d))) return rc;
        snprintf(path, sizeof path, "%s/results.db", a->out_dir);
        if ((rc = ss_resdb_open(path, sc, a->seed, &db, d))) return rc;
    }
    ss_sim_opts opts = {.seed = a->seed, .replication = a->replication, .no_fast_forward = a->no_fast_forward};
    if ((rc = ss_sim_create(sc, &opts, &sim, d))) goto done;
    obs_pair pair = {{0}, {0}};
    if (db) {
        ss_observer obs = ss_resdb_observer(db);
        if (!sc->output.request_records) obs.on_request = NULL;
        if (!sc->output.iteration_records) obs.on_iteration = NULL;
        pair.a = obs;
    }
    if (a->tap) pair.b = *a->tap;
    if (db || a->tap) {
        ss_observer obs = {.ctx = &pair,
                           .on_request = pair.a.on_request || pair.b.on_request ? pair_request
                                                                                : NULL,
                           .on_iteration = pair.a.on_iteration || pair.b.on_iteration
                                               ? pair_iteration
                                               : NULL,
                           .on_sample = pair.a.on_sample || pair.b.on_sample ? pair_sample
                                                                             : NULL};
        ss_sim_set_observer(sim, &obs);
    }
    double ts = ss_cli_now();
    a->t_sim_start = a->t_start > 0 ? ts - a->t_start : 0;
    rc = ss_sim_run(sim, d);
    a->wall_sim_s = ss_cli_now() - ts;
    a->events = ss_sim_events(sim);
    if (rc) {
        if (db && ss_resdb_error(db)) /* prefer SQLite's own words */
            snprintf(d->msg, sizeof d->msg, "results database: %s", ss_resdb_error(db));
        goto done;
    }
    a->summary = *ss_sim_summary(sim);
    if (db) {
        ss_run_meta meta = {.version = SS_VERSION, .host = host, .started_at = started,
                            .wall_s = ss_cli_now() - t0, .command_line = a->command_line};
        if ((rc = ss_resdb_write_summary(db, &a->summary, d)) ||
            (rc = ss_resdb_write_streams(db, sim, d)) || (rc = ss_resdb_write_meta(db, &meta, d)))
            goto done;
        /* results.db first: summary.json never describes a database that is not there */
        rc = ss_resdb_close(db, 1, d);
        db = NULL;
        if (rc) goto done;
        char *json = ss_summary_json(sc, a->seed, &a->summary);
        if (!json) {
            rc = ss_diag_fail(d, SS_ERR_NOMEM, "out of memory writing summary.json");
            goto done;
        }
        snprintf(path, sizeof path, "%s/summary.json", a->out_dir);
        rc = ss_write_file_atomic(path, json, d);
        free(json);
        if (rc) goto done;
        char *mj = meta_json(&meta);
        snprintf(path, sizeof path, "%s/run.json", a->out_dir);
        rc = mj ? ss_write_file_atomic(path, mj, d) : SS_ERR_NOMEM;
        free(mj);
    }
done:
    if (db) {
        ss_rc crc = ss_resdb_close(db, rc == SS_OK, d);
        if (!rc) rc = crc;
    }
    ss_sim_free(sim);
    return rc;
}

/* Sweeps: jobs, the fork runner and MPI (sweep.h). The metric tables, the results array
 * and confidence intervals are sweep_metrics.c. */
#include "sim/study/sweep.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#ifdef SS_HAVE_MPI
#include <mpi.h>
#endif

/* ================================================================== jobs */

ss_rc ss_sweep_run_job(const ss_study *s, size_t job, double *values, uint64_t *seed,
                       ss_diag *d)
{
    int reps = ss_study_replications(s);
    size_t point = job / (size_t)reps;
    int rep = (int)(job % (size_t)reps);
    ss_diag jd;
    ss_diag_clear(&jd);
    ss_scenario *sc = NULL;
    ss_sim *sim = NULL;
    ss_rc rc = ss_study_load_point_scenario(s, point, NULL, &sc, &jd);
    if (!rc) {
        ss_sim_opts o = {.seed = ss_study_seed(s, sc), .replication = (uint64_t)rep};
        *seed = o.seed;
        if (!(rc = ss_sim_create(sc, &o, &sim, &jd)) && !(rc = ss_sim_run(sim, &jd)))
        {
            ss_sweep_metrics(sc, ss_sim_summary(sim), values);
            ss_sweep_class_metrics(s, ss_sim_summary(sim), values + ss_sweep_nmetrics());
        }
    }
    ss_sim_free(sim);
    ss_scenario_free(sc);
    if (rc) {
        char buf[1400];
        ss_diag_format(&jd, buf, sizeof buf);
        return ss_diag_fail(d, rc, "point %zu, replication %d: %.900s", point, rep, buf);
    }
    return SS_OK;
}

/* What a worker sends back: a header, then nmetrics doubles. */
typedef struct job_rec {
    int32_t rc;
    uint64_t seed;
    char msg[1200];
} job_rec;

static void store(ss_sweep_results *r, size_t job, const double *v, uint64_t seed)
{
    memcpy(&r->v[job * r->nmetrics], v, r->nmetrics * sizeof *v);
    r->seed[job / (size_t)r->reps] = seed;
}

static ss_rc run_serial(const ss_study *s, size_t stride, size_t offset, ss_sweep_results *r,
                        ss_sweep_progress_fn progress, void *ctx, size_t total, ss_diag *d)
{
    size_t njobs = r->npoints * (size_t)r->reps, done = 0;
    double *v = malloc(r->nmetrics * sizeof *v);
    if (!v) return ss_diag_fail(d, SS_ERR_NOMEM, "out of memory");
    ss_rc rc = SS_OK;
    for (size_t j = offset; j < njobs; j += stride) {
        uint64_t seed = 0;
        if ((rc = ss_sweep_run_job(s, j, v, &seed, d))) break;
        store(r, j, v, seed);
        if (progress) progress(ctx, ++done, total);
    }
    free(v);
    return rc;
}

/* Read exactly n bytes (until EOF); returns bytes read. */
static size_t read_all(int fd, void *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t k = read(fd, (char *)buf + got, n - got);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) break;
        got += (size_t)k;
    }
    return got;
}

static int write_all(int fd, const void *buf, size_t n)
{
    size_t put = 0;
    while (put < n) {
        ssize_t k = write(fd, (const char *)buf + put, n - put);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return -1;
        put += (size_t)k;
    }
    return 0;
}

typedef struct slot {
    pid_t pid;
    int fd;
    size_t job;
} slot;

/* The child: run one job, send the record, exit without running the parent's atexit
 * handlers or flushing its stdio buffers. */
static void child(const ss_study *s, size_t job, int fd, size_t nmetrics)
{
    size_t sz = sizeof(job_rec) + nmetrics * sizeof(double);
    char *buf = calloc(1, sz);
    if (!buf) _exit(3);
    job_rec *h = (job_rec *)buf;
    double *v = (double *)(buf + sizeof(job_rec));
    ss_diag d;
    ss_diag_clear(&d);
    h->rc = ss_sweep_run_job(s, job, v, &h->seed, &d);
    if (h->rc) ss_diag_format(&d, h->msg, sizeof h->msg);
    int bad = write_all(fd, buf, sz);
    free(buf);
    close(fd);
    _exit(bad ? 4 : 0);
}

/* Wait for one child; store its result. *first_err: lowest failing job so far. */
static ss_rc reap(slot *slots, int nslots, int *running, ss_sweep_results *r, char *rec,
                  size_t recsz, size_t *err_job, char *err_msg, size_t err_n)
{
    int st;
    pid_t pid;
    while ((pid = waitpid(-1, &st, 0)) < 0 && errno == EINTR) {
    }
    if (pid < 0) return SS_ERR_INTERNAL;
    int i = 0;
    while (i < nslots && slots[i].pid != pid) i++;
    if (i == nslots) return SS_OK; /* not ours */
    size_t got = read_all(slots[i].fd, rec, recsz);
    close(slots[i].fd);
    size_t job = slots[i].job;
    slots[i].pid = 0;
    (*running)--;
    const job_rec *h = (const job_rec *)rec;
    char msg[1300] = "";
    if (WIFSIGNALED(st))
        snprintf(msg, sizeof msg, "point %zu, replication %zu: the worker process died "
                 "(signal %d)", job / (size_t)r->reps, job % (size_t)r->reps, WTERMSIG(st));
    else if (got != recsz || !WIFEXITED(st) || (WEXITSTATUS(st) && !h->rc))
        snprintf(msg, sizeof msg, "point %zu, replication %zu: the worker process failed "
                 "(exit status %d)", job / (size_t)r->reps, job % (size_t)r->reps,
                 WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    else if (h->rc)
        snprintf(msg, sizeof msg, "%s", h->msg);
    if (msg[0]) {
        if (job < *err_job) {
            *err_job = job;
            snprintf(err_msg, err_n, "%s", msg);
        }
        return SS_OK;
    }
    store(r, job, (const double *)(rec + sizeof(job_rec)), h->seed);
    return SS_OK;
}

ss_rc ss_sweep_run(const ss_study *s, int workers, size_t stride, size_t offset,
                   ss_sweep_results *r, ss_sweep_progress_fn progress, void *ctx, ss_diag *d)
{
    size_t njobs = r->npoints * (size_t)r->reps;
    if (!stride) stride = 1;
    size_t total = offset < njobs ? (njobs - offset + stride - 1) / stride : 0;
    if (workers <= 1 || total <= 1)
        return run_serial(s, stride, offset, r, progress, ctx, total, d);
    if ((size_t)workers > total) workers = (int)total;
    size_t recsz = sizeof(job_rec) + r->nmetrics * sizeof(double);
    slot *slots = calloc((size_t)workers, sizeof *slots);
    char *rec = malloc(recsz);
    char err_msg[1300] = "";
    size_t err_job = (size_t)-1, done = 0;
    ss_rc rc = SS_OK;
    if (!slots || !rec) {
        free(slots);
        free(rec);
        return ss_diag_fail(d, SS_ERR_NOMEM, "out of memory");
    }
    int running = 0;
    size_t next = offset;
    while (next < njobs || running) {
        while (running < workers && next < njobs && err_job == (size_t)-1 && !rc) {
            int fds[2];
            if (pipe(fds)) {
                rc = ss_diag_fail(d, SS_ERR_IO, "cannot create a pipe: %s", strerror(errno));
                break;
            }
            fflush(stdout);
            fflush(stderr);
            pid_t pid = fork();
            if (pid < 0) {
                close(fds[0]);
                close(fds[1]);
                rc = ss_diag_fail(d, SS_ERR_IO, "cannot start a worker process: %s",
                                  strerror(errno));
                break;
            }
            if (pid == 0) {
                close(fds[0]);
                child(s, next, fds[1], r->nmetrics);
            }
            close(fds[1]);
            int i = 0;
            while (slots[i].pid) i++;
            slots[i] = (slot){.pid = pid, .fd = fds[0], .job = next};
            running++;
            next += stride;
        }
        if (!running) break;
        if (reap(slots, workers, &running, r, rec, recsz, &err_job, err_msg, sizeof err_msg)) {
            rc = ss_diag_fail(d, SS_ERR_INTERNAL, "waitpid failed: %s", strerror(errno));
            break;
        }
        if (progress && err_job == (size_t)-1) progress(ctx, ++done, total);
        if (err_job != (size_t)-1 || rc) next = njobs; /* start nothing new */
    }
    free(slots);
    free(rec);
    if (!rc && err_job != (size_t)-1) rc = ss_diag_fail(d, SS_ERR_INVALID, "%s", err_msg);
    return rc;
}

/* ================================================================== MPI */

bool ss_sweep_mpi_launched(void)
{
    /* also without MPI support: ss_sweep_mpi_init then refuses, rather than K copies of
     * the whole sweep racing to write one database */
    return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMIX_RANK") || getenv("PMI_RANK");
}

#ifdef SS_HAVE_MPI
ss_rc ss_sweep_mpi_init(int *rank, int *ranks, ss_diag *d)
{
    if (MPI_Init(NULL, NULL) != MPI_SUCCESS)
        return ss_diag_fail(d, SS_ERR_INTERNAL, "MPI_Init failed");
    MPI_Comm_rank(MPI_COMM_WORLD, rank);
    MPI_Comm_size(MPI_COMM_WORLD, ranks);
    return SS_OK;
}

ss_rc ss_sweep_run_mpi(const ss_study *s, ss_sweep_results *r, int rank, int ranks,
                       ss_sweep_progress_fn progress, void *ctx, ss_diag *d)
{
    size_t K = (size_t)ranks, me = (size_t)rank;
    ss_diag mine;
    ss_diag_clear(&mine);
    /* Static round-robin: rank k runs jobs j = k (mod K). Any assignment gives the same
     * database, because results are keyed by job index. */
    ss_rc rc = ss_sweep_run(s, 1, K, me, r, me == 0 ? progress : NULL, ctx, &mine);
    job_rec status = {.rc = rc};
    if (rc) ss_diag_format(&mine, status.msg, sizeof status.msg);
    size_t njobs = r->npoints * (size_t)r->reps, M = r->nmetrics;
    size_t maxj = (njobs + K - 1) / K;
    double *buf = malloc((maxj ? maxj : 1) * M * sizeof *buf);
    uint64_t *seeds = malloc((maxj ? maxj : 1) * sizeof *seeds);
    int nomem = !buf || !seeds;
    if (nomem && !status.rc) {
        status.rc = SS_ERR_NOMEM;
        snprintf(status.msg, sizeof status.msg, "rank %zu: out of memory", me);
    }
    if (me != 0) {
        /* always the same three messages, whatever failed: rank 0 never waits forever */
        size_t n = 0;
        for (size_t j = me; j < njobs && !nomem; j += K, n++) {
            memcpy(buf + n * M, &r->v[j * M], M * sizeof *buf);
            seeds[n] = r->seed[j / (size_t)r->reps];
        }
        size_t want = me < njobs ? (njobs - me + K - 1) / K : 0;
        MPI_Send(&status, (int)sizeof status, MPI_BYTE, 0, 1, MPI_COMM_WORLD);
        MPI_Send(nomem ? NULL : buf, nomem ? 0 : (int)(want * M), MPI_DOUBLE, 0, 2,
                 MPI_COMM_WORLD);
        MPI_Send(nomem ? NULL : seeds, nomem ? 0 : (int)want, MPI_UINT64_T, 0, 3,
                 MPI_COMM_WORLD);
        if (status.rc) *d = mine;
        rc = (ss_rc)status.rc;
    } else {
        if (status.rc) rc = ss_diag_fail(d, (ss_rc)status.rc, "%s", status.msg);
        for (size_t k = 1; k < K; k++) {
            job_rec st;
            MPI_Recv(&st, (int)sizeof st, MPI_BYTE, (int)k, 1, MPI_COMM_WORLD,
                     MPI_STATUS_IGNORE);
            size_t n = k < njobs ? (njobs - k + K - 1) / K : 0;
            MPI_Status ms;
            int got_v = 0, got_s = 0;
            /* a failed or short rank sends fewer values: receive what comes */
            MPI_Recv(nomem ? NULL : buf, nomem ? 0 : (int)(maxj * M), MPI_DOUBLE, (int)k, 2,
                     MPI_COMM_WORLD, &ms);
            MPI_Get_count(&ms, MPI_DOUBLE, &got_v);
            MPI_Recv(nomem ? NULL : seeds, nomem ? 0 : (int)maxj, MPI_UINT64_T, (int)k, 3,
                     MPI_COMM_WORLD, &ms);
            MPI_Get_count(&ms, MPI_UINT64_T, &got_s);
            if (st.rc && !rc) rc = ss_diag_fail(d, (ss_rc)st.rc, "rank %zu: %s", k, st.msg);
            if (st.rc || rc || (size_t)got_v != n * M || (size_t)got_s != n) {
                if (!rc) rc = ss_diag_fail(d, SS_ERR_INTERNAL, "rank %zu sent %d values, "
                                           "expected %zu", k, got_v, n * M);
                continue;
            }
            size_t i = 0;
            for (size_t j = k; j < njobs; j += K, i++) store(r, j, buf + i * M, seeds[i]);
        }
    }
    free(buf);
    free(seeds);
    return rc;
}

void ss_sweep_mpi_finish(void) { MPI_Finalize(); }
#else
ss_rc ss_sweep_mpi_init(int *rank, int *ranks, ss_diag *d)
{
    *rank = 0;
    *ranks = 1;
    return ss_diag_fail(d, SS_ERR_UNSUPPORTED, "started by mpirun, but this servesim was "
                                               "built without MPI (install libopenmpi-dev and "
                                               "configure with -DSS_MPI=ON)");
}

ss_rc ss_sweep_run_mpi(const ss_study *s, ss_sweep_results *r, int rank, int ranks,
                       ss_sweep_progress_fn progress, void *ctx, ss_diag *d)
{
    (void)s, (void)r, (void)rank, (void)ranks, (void)progress, (void)ctx;
    return ss_diag_fail(d, SS_ERR_UNSUPPORTED, "this servesim was built without MPI");
}

void ss_sweep_mpi_finish(void) {}
#endif

/* `servesim sweep`, `servesim sweep-dump` and `servesim pareto` (docs/sweeps.md). */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sim/cli/cli.h"
#include "sim/cli/run_common.h"
#include "sim/study/pareto.h"
#include "sim/study/sweep.h"

/* ------------------------------------------------------------------ progress bar */

typedef struct progress {
    double t0, last;
    int reps;
    size_t npoints;
    const char *who; /* "" or "rank 0: " */
    bool tty;        /* redraw one line; else a new line at most once a second */
} progress;

static void fmt_eta(double s, char *buf, size_t n)
{
    if (!(s >= 0) || s > 359999) snprintf(buf, n, "--:--");
    else if (s >= 3600) snprintf(buf, n, "%d:%02d:%02d", (int)s / 3600, (int)s / 60 % 60, (int)s % 60);
    else snprintf(buf, n, "%d:%02d", (int)s / 60, (int)s % 60);
}

/* points done/total, runs done/total, rate and ETA: on a terminal one line redrawn at most
 * ten times a second, elsewhere (--progress into a log) one line a second */
static void progress_cb(void *ctx, size_t done, size_t total)
{
    progress *p = ctx;
    double now = ss_cli_now();
    if (done < total && now - p->last < (p->tty ? 0.1 : 1.0)) return;
    p->last = now;
    double el = now - p->t0, rate = el > 0 ? (double)done / el : 0;
    char eta[32], bar[31];
    fmt_eta(rate > 0 ? (double)(total - done) / rate : -1, eta, sizeof eta);
    size_t fill = total ? done * 30 / total : 30;
    for (size_t i = 0; i < 30; i++) bar[i] = i < fill ? '#' : '.';
    bar[30] = '\0';
    size_t pts = (size_t)p->reps ? done / (size_t)p->reps : done;
    size_t ptot = (size_t)p->reps ? total / (size_t)p->reps : total;
    fprintf(stderr, "%s%s[%s] %zu/%zu points (%zu/%zu runs)  %.1f runs/s  ETA %s ",
            p->tty ? "\r" : "", p->who, bar, pts, ptot, done, total, rate, eta);
    if (done == total || !p->tty) fputc('\n', stderr);
    fflush(stderr);
}

/* ------------------------------------------------------------------ sweep */

static void sweep_help(FILE *out)
{
    fprintf(out,
            "Usage: servesim sweep STUDY.yaml [options]\n\n"
            "Runs every point of the study R times (docs/sweeps.md) and writes DIR/sweep.db:\n"
            "every summary metric of every run, and per point the mean and 95%% confidence\n"
            "interval over replications. Results do not depend on -j or on MPI ranks.\n\n"
            "Options:\n"
            "  --out DIR         output directory (default: servesim-sweep)\n"
            "  -j, --jobs N      worker processes (default: online CPUs; 1 = in this process)\n"
            "  --progress        show the progress bar even when stderr is not a terminal\n"
            "  --quiet           no progress bar, no closing summary\n"
            "  --print-run P[:R] print the `servesim run` command that re-runs point P,\n"
            "                    replication R (default 0), and exit\n"
            "  --check           check the study (every point) and exit\n"
            "  -h, --help        this help\n\n"
            "Under MPI (`mpirun -n K servesim sweep ...`) rank k runs the runs j = k mod K and\n"
            "rank 0 writes the database; -j is then ignored.\n\n"
            "Exit status: 0 success, 1 invalid study or failed run, 2 bad command line.\n");
}

static int parse_size(const char *s, size_t *out)
{
    char *end;
    errno = 0;
    if (!s[0] || s[0] == '-') return -1;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end || errno) return -1;
    *out = (size_t)v;
    return 0;
}

/* The command line that re-runs one job alone. */
static int print_run(const ss_study *s, const char *spec)
{
    char pbuf[64];
    snprintf(pbuf, sizeof pbuf, "%s", spec);
    char *colon = strchr(pbuf, ':');
    size_t point, rep = 0;
    if (colon) *colon = '\0';
    if (parse_size(pbuf, &point) || (colon && parse_size(colon + 1, &rep))) {
        fprintf(stderr, "servesim sweep: --print-run expects POINT or POINT:REPLICATION, got "
                        "'%s'\n", spec);
        return 2;
    }
    if (point >= ss_study_npoints(s) || rep >= (size_t)ss_study_replications(s)) {
        fprintf(stderr, "servesim sweep: the study has points 0..%zu and replications 0..%d\n",
                ss_study_npoints(s) - 1, ss_study_replications(s) - 1);
        return 2;
    }
    ss_diag d;
    ss_diag_clear(&d);
    ss_scenario *sc = NULL;
    if (ss_study_load_point_scenario(s, point, NULL, &sc, &d)) {
        ss_cli_report(&d);
        return 1;
    }
    const char *ref = ss_study_scenario_ref(s);
    const ss_embedded_file *f = strchr(ref, '/') ? NULL : ss_embed_find(ss_scenario_zoo, ref);
    printf("servesim run ");
    if (f) printf("--builtin %s", f->name);
    else printf("'%s'", sc->doc ? ss_doc_name(sc->doc) : ref);
    ss_overrides ov;
    ss_study_point(s, point, &ov);
    for (size_t k = 0; k < ov.n; k++) printf(" --set '%s'", ov.items[k]);
    printf(" --seed %llu --replication %zu\n", (unsigned long long)ss_study_seed(s, sc), rep);
    ss_scenario_free(sc);
    return 0;
}

int ss_cmd_sweep(int argc, char **argv, double t_start)
{
    static const struct option opts[] = {{"out", required_argument, 0, 'o'},
                                         {"jobs", required_argument, 0, 'j'},
                                         {"progress", no_argument, 0, 'p'},
                                         {"quiet", no_argument, 0, 'q'},
                                         {"print-run", required_argument, 0, 'r'},
                                         {"check", no_argument, 0, 'c'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *out_dir = "servesim-sweep", *print = NULL;
    int quiet = 0, force_progress = 0, check = 0, c;
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    size_t jobs = online > 0 ? (size_t)online : 1;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "hj:", opts, NULL)) != -1) {
        switch (c) {
        case 'o': out_dir = optarg; break;
        case 'j':
            if (parse_size(optarg, &jobs) || jobs < 1 || jobs > 4096) {
                fprintf(stderr, "servesim sweep: -j expects a number of workers from 1 to "
                                "4096, got '%s'\n", optarg);
                return 2;
            }
            break;
        case 'p': force_progress = 1; break;
        case 'q': quiet = 1; break;
        case 'r': print = optarg; break;
        case 'c': check = 1; break;
        case 'h': sweep_help(stdout); return 0;
        default:
            fprintf(stderr, "servesim sweep: unknown or incomplete option '%s'\n",
                    argv[optind - 1]);
            sweep_help(stderr);
            return 2;
        }
    }
    if (argc - optind != 1) {
        fprintf(stderr, "servesim sweep: expected one study file (see servesim sweep --help)\n");
        return 2;
    }
    ss_diag d;
    ss_diag_clear(&d);
    int rank = 0, ranks = 1;
    bool mpi = ss_sweep_mpi_launched();
    if (mpi && ss_sweep_mpi_init(&rank, &ranks, &d)) {
        ss_cli_report(&d);
        return 1;
    }
    int status = 0;
    ss_study *s = NULL;
    ss_sweep_results r = {0};
    double t0 = ss_cli_now();
    time_t now = time(NULL);
    char started[64], host[256] = "";
    strftime(started, sizeof started, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    gethostname(host, sizeof host - 1);
    if (ss_study_load(argv[optind], &s, &d)) {
        if (rank == 0) ss_cli_report(&d);
        status = 1;
        goto done;
    }
    if (print) {
        status = rank == 0 ? print_run(s, print) : 0;
        goto done;
    }
    if (check) {
        if (rank == 0)
            printf("%s: study '%s' is valid: %zu points x %d replications\n", argv[optind],
                   ss_study_name(s), ss_study_npoints(s), ss_study_replications(s));
        goto done;
    }
    char path[4200];
    snprintf(path, sizeof path, "%s/sweep.db", out_dir);
    if (rank == 0 && ss_mkdir_p(out_dir, &d)) {
        ss_cli_report(&d);
        status = 1;
        /* the other ranks still run their share and send it; rank 0 then drops it */
    }
    if (ss_sweep_results_init(&r, s, &d)) {
        if (rank == 0) ss_cli_report(&d);
        status = 1;
        goto done;
    }
    size_t njobs = ss_study_npoints(s) * (size_t)ss_study_replications(s);
    if (jobs > njobs) jobs = njobs; /* the workers that can have work */
    progress pr = {.t0 = ss_cli_now(), .reps = ss_study_replications(s),
                   .npoints = ss_study_npoints(s), .who = ranks > 1 ? "rank 0: " : ""};
    pr.tty = isatty(STDERR_FILENO);
    bool show = !quiet && (force_progress || pr.tty);
    ss_rc rc = mpi ? ss_sweep_run_mpi(s, &r, rank, ranks, show ? progress_cb : NULL, &pr, &d)
                   : ss_sweep_run(s, (int)jobs, 1, 0, &r, show ? progress_cb : NULL, &pr, &d);
    if (rc) {
        if (rank == 0) ss_cli_report(&d);
        status = 1;
        goto done;
    }
    if (rank != 0 || status) goto done;
    char cmdline[2048] = "";
    for (int i = 0; i < argc; i++) {
        strncat(cmdline, i ? " " : "servesim ", sizeof cmdline - strlen(cmdline) - 1);
        strncat(cmdline, argv[i], sizeof cmdline - strlen(cmdline) - 1);
    }
    double wall = ss_cli_now() - t0;
    ss_sweep_meta meta = {.version = SS_VERSION, .host = host, .started_at = started,
                          .command_line = cmdline, .wall_s = wall,
                          .workers = mpi ? 1 : (int)jobs, .ranks = ranks};
    if (ss_sweep_db_write(path, s, &r, &meta, &d)) {
        ss_cli_report(&d);
        status = 1;
        goto done;
    }
    if (!quiet) {
        size_t runs = ss_study_npoints(s) * (size_t)ss_study_replications(s);
        printf("sweep '%s': %zu points x %d replications = %zu runs in %.2f s (%.1f runs/s, "
               "%s %d)\n  results: %s\n  frontier: servesim pareto %s\n",
               ss_study_name(s), ss_study_npoints(s), ss_study_replications(s), runs, wall,
               wall > 0 ? (double)runs / wall : 0, mpi ? "MPI ranks" : "workers",
               mpi ? ranks : (int)jobs, path, path);
    }
done:
    (void)t_start;
    ss_sweep_results_free(&r);
    ss_study_free(s);
    if (mpi) ss_sweep_mpi_finish();
    return status;
}

/* ------------------------------------------------------------------ sweep-dump */

int ss_cmd_sweep_dump(int argc, char **argv)
{
    if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
        printf("Usage: servesim sweep-dump SWEEP.db\n\nPrints the result tables of a sweep "
               "database as canonical text (rows in key order,\nnumbers to 17 digits; run_meta "
               "left out): two sweeps gave the same results exactly\nwhen their dumps are "
               "equal.\n");
        return 0;
    }
    if (argc != 2) {
        fprintf(stderr, "Usage: servesim sweep-dump SWEEP.db\n");
        return 2;
    }
    ss_diag d;
    ss_diag_clear(&d);
    if (access(argv[1], R_OK) != 0) {
        ss_diag_set(&d, SS_ERR_IO, argv[1], 0, 0, NULL, "cannot open file: %s", strerror(errno));
        ss_cli_report(&d);
        return 1;
    }
    if (ss_sweep_db_dump(argv[1], stdout, &d)) {
        ss_cli_report(&d);
        return 1;
    }
    return 0;
}

/* ------------------------------------------------------------------ pareto */

static void pareto_help(FILE *out)
{
    fprintf(out,
            "Usage: servesim pareto SWEEP.db [options]\n\n"
            "Prints the Pareto frontier of a sweep: the points that no other point beats on\n"
            "both x (maximised) and y, as an AIPerf-style table (rate/concurrency, QPS, TTFT\n"
            "P50/P99, TPOT P50, throughput), from the means over replications.\n\n"
            "Options:\n"
            "  --x METRIC      x axis, maximised (default: throughput_per_gpu)\n"
            "  --y METRIC      y axis (default: tokens_per_s_per_user; also ttft_p99, ...)\n"
            "  --y-max, --y-min  direction of y when the metric has none of its own\n"
            "  --all           list every point, frontier ones marked '*'\n"
            "  --plot OUT.png  plot: one curve per configuration family plus the frontier\n"
            "  --svg OUT.svg   the same plot as SVG\n"
            "                  (writes OUT.gp and OUT.dat, and runs gnuplot, or the program\n"
            "                  named by $SERVESIM_GNUPLOT)\n"
            "  -h, --help      this help\n\n"
            "METRIC is a name of the database's metrics table (e.g. ttft_s.p99) or a short\n"
            "name: throughput_per_gpu, tokens_per_s_per_user, interactivity, ttft_p50,\n"
            "ttft_p99, tpot_p50, e2e_p99, qps, throughput.\n");
}

/* Run `gnuplot SCRIPT` ($SERVESIM_GNUPLOT if set, else gnuplot on PATH); 127 when it cannot
 * be started. */
static int run_gnuplot(const char *script)
{
    const char *prog = getenv("SERVESIM_GNUPLOT");
    if (!prog || !prog[0]) prog = "gnuplot";
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        execlp(prog, prog, script, (char *)NULL);
        _exit(127);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR) return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int ss_cmd_pareto(int argc, char **argv)
{
    static const struct option opts[] = {{"x", required_argument, 0, 'x'},
                                         {"y", required_argument, 0, 'y'},
                                         {"y-max", no_argument, 0, 'M'},
                                         {"y-min", no_argument, 0, 'm'},
                                         {"all", no_argument, 0, 'a'},
                                         {"plot", required_argument, 0, 'p'},
                                         {"svg", required_argument, 0, 's'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    ss_frontier_opts o = {0};
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'x': o.x = optarg; break;
        case 'y': o.y = optarg; break;
        case 'M': o.y_better = 1; break;
        case 'm': o.y_better = -1; break;
        case 'a': o.all = true; break;
        case 'p': o.png = optarg; break;
        case 's': o.svg = optarg; break;
        case 'h': pareto_help(stdout); return 0;
        default:
            fprintf(stderr, "servesim pareto: unknown or incomplete option '%s'\n",
                    argv[optind - 1]);
            pareto_help(stderr);
            return 2;
        }
    }
    if (argc - optind != 1) {
        fprintf(stderr, "servesim pareto: expected one sweep database (see --help)\n");
        return 2;
    }
    ss_diag d;
    ss_diag_clear(&d);
    const char *db = argv[optind];
    if (access(db, R_OK) != 0) {
        ss_diag_set(&d, SS_ERR_IO, db, 0, 0, NULL, "cannot open file: %s", strerror(errno));
        ss_cli_report(&d);
        return 1;
    }
    char *script = NULL;
    if (ss_frontier_report(db, &o, stdout, &script, &d)) {
        ss_cli_report(&d);
        free(script);
        return 1;
    }
    int status = 0;
    if (script) {
        int g = run_gnuplot(script);
        if (g == 127) {
            fprintf(stderr, "servesim: error: cannot plot: gnuplot was not found on PATH "
                            "(install gnuplot-nox, or set SERVESIM_GNUPLOT); the script is "
                            "%s\n", script);
            status = 1;
        } else if (g != 0) {
            fprintf(stderr, "servesim: error: gnuplot failed on %s (status %d)\n", script, g);
            status = 1;
        } else {
            printf("\n  plot: %s%s%s (script %s)\n", o.png ? o.png : "",
                   o.png && o.svg ? ", " : "", o.svg ? o.svg : "", script);
        }
    }
    free(script);
    return status;
}

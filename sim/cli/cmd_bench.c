/* `servesim bench`: speed and memory of fixed scenarios, printed, never asserted.
 *
 * Each scenario runs in a forked child so that its peak resident memory (wait4's rusage)
 * is its own and not the maximum over everything the bench did before. */
#define _DEFAULT_SOURCE /* wait4 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sim/cli/cli.h"
#include "sim/cli/run_common.h"

static const char *const bench_names[] = {"bench-vidur", "bench-saturation"};

static int bench_child(const char *name, long long requests, const char *dir,
                       const ss_overrides *ov, double t_start)
{
    double t0 = ss_cli_now();
    ss_diag d;
    ss_diag_clear(&d);
    const ss_embedded_file *f = ss_embed_find(ss_scenario_zoo, name);
    ss_scenario *sc = NULL;
    if (!f || ss_scenario_load_string(f->path, f->text, ov, &sc, &d)) {
        ss_cli_report(&d);
        return 1;
    }
    if (requests > 0) sc->workload.num_requests = requests;
    ss_run_args a = {.out_dir = dir, .seed = sc->seed, .command_line = "servesim bench",
                     .t_start = t_start};
    double t_setup = 0;
    ss_rc rc = ss_run_scenario(sc, &a, &d);
    if (rc) {
        ss_cli_report(&d);
        ss_scenario_free(sc);
        return 1;
    }
    double wall = ss_cli_now() - t0;
    t_setup = wall - a.wall_sim_s;
    const ss_summary *s = &a.summary;
    printf("%s: %s\n", name, sc->description);
    printf("  cost model        %s on %s\n", sc->cost_ops->info.name, sc->pools[0].hw.name);
    printf("  simulated         %llu requests, %llu iterations, %llu events, %.0f s of "
           "traffic\n",
           (unsigned long long)s->arrived, (unsigned long long)s->iterations,
           (unsigned long long)a.events, s->duration_s);
    printf("  wall time         %.3f s total (%.3f s event loop incl. records, %.1f ms "
           "load + setup + summary)\n",
           wall, a.wall_sim_s, 1e3 * t_setup);
    printf("  requests / s      %.0f simulated requests per wall second (whole run)\n",
           (double)s->arrived / wall);
    printf("  iterations / s    %.0f\n", (double)s->iterations / a.wall_sim_s);
    printf("  events / s        %.0f\n", (double)a.events / a.wall_sim_s);
    printf("  start-up          %.1f ms from start to the first event (load scenario, "
           "model, GPU; create results.db)\n",
           1e3 * a.t_sim_start);
    fflush(stdout);
    ss_scenario_free(sc);
    return 0;
}

int ss_cmd_bench(int argc, char **argv, double t_start)
{
    static const struct option opts[] = {{"requests", required_argument, 0, 'n'},
                                         {"only", required_argument, 0, 'o'},
                                         {"out", required_argument, 0, 'd'},
                                         {"set", required_argument, 0, 's'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    long long requests = 0;
    const char *only = NULL, *dir = NULL;
    const char *sets[16];
    ss_overrides ov = {.items = sets, .n = 0};
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'n': {
            char *end;
            requests = strtoll(optarg, &end, 10);
            if (*end || requests <= 0) goto usage;
            break;
        }
        case 'o': only = optarg; break;
        case 'd': dir = optarg; break;
        case 's':
            if (ov.n == sizeof sets / sizeof *sets) goto usage;
            sets[ov.n++] = optarg;
            break;
        case 'h':
            printf("Usage: servesim bench [--requests N] [--only NAME] [--out DIR] [--set K=V]\n\n"
                   "Runs the benchmark scenarios (bench-vidur, bench-saturation; see "
                   "`servesim list scenarios`),\nwriting results to DIR/NAME (default: a "
                   "temporary directory, removed afterwards), and prints\nsimulated requests "
                   "per wall second, iterations/s, events/s, start-up time and peak memory.\n"
                   "  --requests N   override each scenario's request count\n"
                   "  --only NAME    run one scenario\n"
                   "  --set KEY=VALUE  override a scenario key (repeatable), e.g.\n"
                   "                 --set replica.cost_model=roofline to time the roofline\n");
            return 0;
        default: goto usage;
        }
    }
    if (optind != argc) goto usage;
    char tmpl[] = "/tmp/servesim-bench-XXXXXX";
    const char *base = dir;
    if (!base && !(base = mkdtemp(tmpl))) {
        perror("servesim bench: mkdtemp");
        return 1;
    }
    (void)t_start; /* each child times its own start-up from fork */
    int status_all = 0, ran = 0;
    for (size_t i = 0; i < sizeof bench_names / sizeof bench_names[0]; i++) {
        if (only && strcmp(only, bench_names[i])) continue;
        ran++;
        char out[4096];
        snprintf(out, sizeof out, "%s/%s", base, bench_names[i]);
        fflush(stdout);
        pid_t pid = fork();
        if (pid < 0) {
            perror("servesim bench: fork");
            return 1;
        }
        if (pid == 0) _exit(bench_child(bench_names[i], requests, out, &ov, ss_cli_now()));
        int st;
        struct rusage ru;
        if (wait4(pid, &st, 0, &ru) < 0 || !WIFEXITED(st) || WEXITSTATUS(st)) {
            fprintf(stderr, "servesim bench: %s failed\n", bench_names[i]);
            status_all = 1;
            continue;
        }
        printf("  peak memory       %.1f MiB resident (getrusage ru_maxrss)\n\n",
               (double)ru.ru_maxrss / 1024.0);
        if (!dir) {
            char p[4200];
            const char *files[] = {"results.db", "summary.json", "run.json"};
            for (size_t k = 0; k < 3; k++) {
                snprintf(p, sizeof p, "%s/%s", out, files[k]);
                remove(p);
            }
            rmdir(out);
        }
    }
    if (!dir) rmdir(base);
    if (!ran) goto usage;
    return status_all;
usage:
    fprintf(stderr, "Usage: servesim bench [--requests N] [--only bench-vidur|bench-saturation] "
                    "[--out DIR] [--set KEY=VALUE]\n");
    return 2;
}

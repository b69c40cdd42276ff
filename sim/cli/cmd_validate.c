/* `servesim validate KIND ...`: compare servesim with measurements.
 *
 *   validate e2e --run DIR   replay a measured serving run (validation/validation.h)
 *
 * Each kind is one row of `kinds[]` below. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim/cli/cli.h"
#include "sim/cli/run_common.h"
#include "sim/output/output.h"
#include "validation/validation.h"

/* ================================================================== validate e2e */

static void e2e_help(FILE *out)
{
    fprintf(out,
            "Usage: servesim validate e2e --run DIR [options]\n\n"
            "Replays a measured serving run (DIR holds meta.json, requests.jsonl and\n"
            "timeseries.csv; docs/validation.md) through the simulator with the run's model,\n"
            "GPU, parallelism and engine limits, and prints measured vs simulated mean, p50,\n"
            "p90 and p99 of TTFT, TPOT and E2E with their errors, the caveats of the replay,\n"
            "and the running / waiting / KV-usage timeline side by side.\n\n"
            "Options:\n"
            "  --run DIR              the measured run (required)\n"
            "  --hw NAME|FILE         hardware profile instead of the run's GPU (a name,\n"
            "                         alias or profile YAML; `servesim list hardware`)\n"
            "  --cost-model NAME      iteration cost model (`servesim list cost-models`)\n"
            "  --set KEY=VALUE        override a value of the generated scenario (repeatable;\n"
            "                         as in `servesim run`)\n"
            "  --out DIR              also write DIR/validation.json, and the simulated run's\n"
            "                         summary.json, results.db and run.json\n"
            "  --timeline-every N     print one timeline row every N ticks (default 10;\n"
            "                         0: no timeline table)\n"
            "  --max-mean-error PCT   exit with status 3 when the error of any mean exceeds\n"
            "                         PCT percent\n"
            "  --print-scenario       print the generated scenario YAML and exit\n"
            "  -h, --help             this help\n\n"
            "Exit status: 0 success, 1 invalid or unsupported run, or failed simulation,\n"
            "2 bad command line, 3 a mean error above --max-mean-error.\n");
}

static int parse_nonneg(const char *s, double max, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (!s[0] || *end || errno || !(v >= 0) || v > max) return -1;
    *out = v;
    return 0;
}

static int cmd_validate_e2e(int argc, char **argv, double t_start)
{
    static const struct option opts[] = {{"run", required_argument, 0, 'r'},
                                         {"hw", required_argument, 0, 'w'},
                                         {"cost-model", required_argument, 0, 'c'},
                                         {"set", required_argument, 0, 'S'},
                                         {"out", required_argument, 0, 'o'},
                                         {"timeline-every", required_argument, 0, 't'},
                                         {"max-mean-error", required_argument, 0, 'm'},
                                         {"print-scenario", no_argument, 0, 'p'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *run_dir = NULL, *out_dir = NULL;
    ss_val_opts vo = {0};
    const char *sets[64];
    ss_overrides ov = {.items = sets, .n = 0};
    double every = 10, max_err = -1;
    int print_scenario = 0, c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'r': run_dir = optarg; break;
        case 'w': vo.hw = optarg; break;
        case 'c': vo.cost_model = optarg; break;
        case 'o': out_dir = optarg; break;
        case 'p': print_scenario = 1; break;
        case 'S':
            if (ov.n == sizeof sets / sizeof sets[0]) {
                fprintf(stderr, "servesim validate e2e: at most 64 --set options\n");
                return 2;
            }
            sets[ov.n++] = optarg;
            break;
        case 't':
            if (parse_nonneg(optarg, 1e6, &every) || every != floor(every)) {
                fprintf(stderr, "servesim validate e2e: --timeline-every expects a whole number "
                                "of ticks, got '%s'\n", optarg);
                return 2;
            }
            break;
        case 'm':
            if (parse_nonneg(optarg, 1e9, &max_err)) {
                fprintf(stderr, "servesim validate e2e: --max-mean-error expects a percentage "
                                ">= 0, got '%s'\n", optarg);
                return 2;
            }
            break;
        case 'h': e2e_help(stdout); return 0;
        default:
            fprintf(stderr, "servesim validate e2e: unknown or incomplete option '%s'\n",
                    argv[optind - 1]);
            e2e_help(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "servesim validate e2e: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (!run_dir) {
        fprintf(stderr, "servesim validate e2e: --run DIR is required\n");
        e2e_help(stderr);
        return 2;
    }
    ss_diag d;
    ss_diag_clear(&d);
    ss_val_run *run = NULL;
    ss_scenario *sc = NULL;
    ss_val_sim *col = NULL;
    ss_val_report rep = {0};
    ss_val_notes notes;
    char *yaml = NULL, *json = NULL;
    int status = 1;
    ss_rc rc;
    if ((rc = ss_val_run_read(run_dir, &run, &d)) ||
        (rc = ss_val_scenario_yaml(run, &vo, &yaml, &notes, &d)))
        goto fail;
    if (print_scenario) {
        fputs(yaml, stdout);
        status = 0;
        goto done;
    }
    /* Named without a '/', so that a relative --hw FILE resolves from the working directory;
     * --print-scenario shows the lines an error message points at. */
    if ((rc = ss_scenario_load_string("<scenario generated by validate e2e>", yaml, &ov, &sc,
                                      &d)) ||
        (rc = ss_val_sim_create(run->nreq, &col, &d)))
        goto fail;
    ss_val_note_profile(run, sc->pools[0].hw.name, &notes);
    char cmdline[2048] = "";
    for (int i = 0; i < argc; i++) {
        strncat(cmdline, i ? " " : "servesim validate ", sizeof cmdline - strlen(cmdline) - 1);
        strncat(cmdline, argv[i], sizeof cmdline - strlen(cmdline) - 1);
    }
    ss_observer tap = ss_val_sim_observer(col);
    ss_run_args a = {.out_dir = out_dir, .seed = sc->seed, .command_line = cmdline,
                     .t_start = t_start, .tap = &tap};
    if ((rc = ss_run_scenario(sc, &a, &d)) || (rc = ss_val_compare(run, col, &rep, &d)))
        goto fail;
    char setup[512];
    const ss_pool *p = &sc->pools[0];
    snprintf(setup, sizeof setup,
             "%s on %d x %s (tp=%d), scheduler %s, max_num_seqs %d, max_num_batched_tokens "
             "%lld, KV %lld blocks of %u tokens",
             sc->model.display_name, p->par.tp, p->hw.name, p->par.tp, sc->sched_ops->info.name,
             sc->sched.max_num_seqs, (long long)sc->sched.max_num_batched_tokens,
             (long long)sc->kv.blocks, (unsigned)sc->sched.block_size);
    ss_val_context ctx = {.run_dir = run_dir, .setup = setup, .hardware = p->hw.name,
                          .cost_model = sc->cost_ops->info.name, .notes = &notes,
                          .iterations = a.summary.iterations};
    ss_val_report_print(&rep, &ctx, (int)every, stdout);
    if (out_dir) {
        char path[4200];
        json = ss_val_report_json(&rep, &ctx);
        if (!json) {
            rc = ss_diag_fail(&d, SS_ERR_NOMEM, "out of memory writing validation.json");
            goto fail;
        }
        snprintf(path, sizeof path, "%s/validation.json", out_dir);
        if ((rc = ss_write_file_atomic(path, json, &d))) goto fail;
        printf("\n  results: %s/validation.json, %s/summary.json, %s/results.db\n", out_dir,
               out_dir, out_dir);
    }
    status = 0;
    if (max_err >= 0) {
        double worst = ss_val_max_mean_error(&rep);
        if (!(worst <= max_err)) {
            fprintf(stderr, "servesim validate e2e: a mean error is %.1f%%, above "
                            "--max-mean-error %g%%\n", worst, max_err);
            status = 3;
        }
    }
    goto done;
fail:
    ss_cli_report(&d);
    status = 1;
done:
    free(json);
    ss_val_report_free(&rep);
    ss_val_sim_free(col);
    ss_scenario_free(sc);
    free(yaml);
    ss_val_run_free(run);
    return status;
}

/* ================================================================== dispatch */

/* `validate calibration` lives in cmd_validate_calib.c (it needs no scenario or clock). */
static int cmd_validate_calibration(int argc, char **argv, double t_start)
{
    (void)t_start;
    return ss_cmd_validate_calibration(argc, argv);
}

typedef struct validate_kind {
    const char *name, *help;
    int (*fn)(int argc, char **argv, double t_start);
} validate_kind;

static const validate_kind kinds[] = {
    {"e2e", "replay a measured serving run; compare TTFT, TPOT, E2E and the timeline",
     cmd_validate_e2e},
    {"calibration", "held-out error of the fitted operator models per GPU and family "
                    "(docs/validation.md)",
     cmd_validate_calibration},
    {NULL, NULL, NULL}};

static void validate_help(FILE *out)
{
    fprintf(out, "Usage: servesim validate KIND [options]\n\nKinds:\n");
    for (const validate_kind *k = kinds; k->name; k++)
        fprintf(out, "  %-12s %s\n", k->name, k->help);
    fprintf(out, "\n`servesim validate KIND --help` documents each kind's options.\n");
}

int ss_cmd_validate(int argc, char **argv, double t_start)
{
    if (argc < 2) {
        validate_help(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        validate_help(stdout);
        return 0;
    }
    for (const validate_kind *k = kinds; k->name; k++)
        if (!strcmp(argv[1], k->name)) return k->fn(argc - 1, argv + 1, t_start);
    fprintf(stderr, "servesim validate: unknown kind '%s' (", argv[1]);
    for (const validate_kind *k = kinds; k->name; k++)
        fprintf(stderr, "%s%s", k == kinds ? "" : ", ", k->name);
    fprintf(stderr, ")\n");
    return 2;
}

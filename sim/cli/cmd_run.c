/* `servesim run [SCENARIO.yaml] [--seed N] [--replication R] [--out DIR] [--print-default]
 * [--quiet]`. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "sim/cli/cli.h"
#include "sim/core/cfg.h"
#include "sim/cli/run_common.h"
#include "sim/output/output.h"

static void run_help(FILE *out)
{
    fprintf(out,
            "Usage: servesim run [SCENARIO.yaml] [options]\n\n"
            "Simulates the scenario (the built-in default when no file is given), prints a\n"
            "summary table and writes DIR/summary.json, DIR/results.db and DIR/run.json.\n\n"
            "Options:\n"
            "  --seed N           override the scenario's seed (0 to 2^53 - 1)\n"
            "  --replication R    replication index (default 0): part of every random\n"
            "                     stream's seed; re-runs one replication of a sweep alone\n"
            "  --set KEY=VALUE    override one scenario value, e.g. --set replica.scheduler=\n"
            "                     sarathi or --set cluster.pools[0].parallelism.tp=2\n"
            "                     (repeatable; checked like the file itself)\n"
            "  --out DIR          output directory (default: servesim-out)\n"
            "  --builtin NAME     run a built-in scenario (`servesim list scenarios`)\n"
            "  --print-default    print the built-in default scenario as YAML and exit\n"
            "  --quiet            do not print the summary table\n"
            "  --lenient          skip malformed rows of the trace and length files the\n"
            "                     scenario reads (workload.arrival.lenient /\n"
            "                     workload.lengths.lenient, every class); skipped rows\n"
            "                     are counted and reported\n"
            "  --no-fast-forward  run every iteration as an event (slower; results are\n"
            "                     identical, which this flag lets you check)\n"
            "  -h, --help         this help\n\n"
            "Exit status: 0 success, 1 invalid scenario or failed run, 2 bad command line.\n");
}

/* --set options, and the "PATH.lenient=true" items --lenient adds: at most two per source
 * (arrival and lengths) for the single source and each of at most SS_MAX_CLASSES classes. */
enum { MAX_SETS = 64, LENIENT_ITEMS = 2 * (SS_MAX_CLASSES + 1) };

/* Whether node `n` is the scalar `s`. */
static bool scalar_is(const yaml_node_t *n, const char *s)
{
    const char *v = n ? ss_node_scalar(n) : NULL;
    return v && !strcmp(v, s);
}

/* --lenient: add "PATH.lenient=true" overrides for every trace arrival process and every
 * workload.lengths file of the scenario (the single source or each class), after the --set
 * items, which it reads as the scenario will. Returns 0, or the exit status of an error. */
static int lenient_overrides(const char *path, const char *name, const char *text,
                             ss_overrides *ov, const char **sets, size_t max,
                             char items[][96])
{
    ss_diag d;
    ss_diag_clear(&d);
    ss_doc *doc = NULL;
    /* the scenario's own errors are reported when it is loaded below */
    if (path ? ss_doc_load_file(path, &doc, &d) : ss_doc_load_string(name, text, strlen(text),
                                                                     &doc, &d))
        return 0;
    for (size_t i = 0; i < ov->n; i++) {
        char kv[1024];
        snprintf(kv, sizeof kv, "%s", ov->items[i]);
        char *eq = strchr(kv, '=');
        if (!eq) continue;
        *eq = '\0';
        if (ss_doc_set(doc, kv, eq + 1, &d)) {
            ss_doc_free(doc);
            return 0;
        }
    }
    size_t n = 0;
    int status = 0;
    yaml_node_t *w = ss_node_get(doc, ss_doc_root(doc), "workload");
    yaml_node_t *classes = w ? ss_node_get(doc, w, "classes") : NULL;
    size_t nc = classes ? ss_node_seq_len(classes) : 0;
    /* more classes than the loader takes: it reports that, located, once the scenario is
     * loaded; the overrides stop at its limit (and items[] is sized for it) */
    if (nc > SS_MAX_CLASSES) nc = SS_MAX_CLASSES;
    for (size_t c = 0; c < (classes ? nc : 1) && !status; c++) {
        yaml_node_t *src = classes ? ss_node_seq_at(doc, classes, c) : w;
        char prefix[64];
        if (classes) snprintf(prefix, sizeof prefix, "workload.classes[%zu]", c);
        else snprintf(prefix, sizeof prefix, "workload");
        if (!src) continue;
        yaml_node_t *arr = ss_node_get(doc, src, "arrival");
        if (arr && scalar_is(ss_node_get(doc, arr, "process"), "trace"))
            snprintf(items[n++], 96, "%s.arrival.lenient=true", prefix);
        if (ss_node_get(doc, src, "lengths"))
            snprintf(items[n++], 96, "%s.lengths.lenient=true", prefix);
        if (ss_node_get(doc, src, "trace")) {
            fprintf(stderr, "servesim run: --lenient: %s.trace is the short form, which has no "
                            "lenient key; write %s.arrival: {process: trace, file: ...}\n",
                    prefix, prefix);
            status = 2;
        }
    }
    ss_doc_free(doc);
    if (status) return status;
    if (!n) {
        fprintf(stderr, "servesim run: --lenient: the scenario reads no trace or length file "
                        "(workload.arrival.process: trace, workload.lengths), so there are no "
                        "rows to skip\n");
        return 2;
    }
    if (ov->n + n > max) {
        fprintf(stderr, "servesim run: --lenient: too many --set options\n");
        return 2;
    }
    for (size_t i = 0; i < n; i++) sets[ov->n++] = items[i];
    return 0;
}

int ss_cmd_run(int argc, char **argv, double t_start)
{
    static const struct option opts[] = {{"seed", required_argument, 0, 's'},
                                         {"replication", required_argument, 0, 'R'},
                                         {"out", required_argument, 0, 'o'},
                                         {"builtin", required_argument, 0, 'b'},
                                         {"print-default", no_argument, 0, 'p'},
                                         {"quiet", no_argument, 0, 'q'},
                                         {"lenient", no_argument, 0, 'L'},
                                         {"no-fast-forward", no_argument, 0, 'f'},
                                         {"set", required_argument, 0, 'S'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *out_dir = "servesim-out", *builtin = NULL;
    int have_seed = 0, quiet = 0, no_ff = 0, lenient = 0, c;
    const char *sets[MAX_SETS + LENIENT_ITEMS]; /* --set items, then --lenient's */
    ss_overrides ov = {.items = sets, .n = 0};
    unsigned long long seed = 0, replication = 0;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 's': {
            char *end;
            errno = 0;
            if (optarg[0] == '-' || !optarg[0]) goto bad_seed;
            seed = strtoull(optarg, &end, 10);
            /* at most 2^53 - 1, so that summary.json's number is exact */
            if (*end || errno || seed > 9007199254740991ULL) goto bad_seed;
            have_seed = 1;
            break;
        bad_seed:
            fprintf(stderr, "servesim run: --seed expects an integer from 0 to 2^53 - 1, got "
                            "'%s'\n",
                    optarg);
            return 2;
        }
        case 'R': {
            char *end;
            errno = 0;
            replication = strtoull(optarg, &end, 10);
            if (optarg[0] == '-' || !optarg[0] || *end || errno || replication > 1000000000ULL) {
                fprintf(stderr, "servesim run: --replication expects an integer from 0 to "
                                "10^9, got '%s'\n", optarg);
                return 2;
            }
            break;
        }
        case 'o': out_dir = optarg; break;
        case 'b': builtin = optarg; break;
        case 'p': fputs(ss_scenario_default_text(), stdout); return 0;
        case 'q': quiet = 1; break;
        case 'L': lenient = 1; break;
        case 'f': no_ff = 1; break;
        case 'S':
            if (ov.n == MAX_SETS) {
                fprintf(stderr, "servesim run: at most %d --set options\n", MAX_SETS);
                return 2;
            }
            sets[ov.n++] = optarg;
            break;
        case 'h': run_help(stdout); return 0;
        default:
            fprintf(stderr, "servesim run: unknown or incomplete option '%s'\n",
                    argv[optind - 1]);
            run_help(stderr);
            return 2;
        }
    }
    if (argc - optind > 1 || (builtin && argc - optind == 1)) {
        fprintf(stderr, "servesim run: expected at most one scenario\n");
        return 2;
    }
    ss_diag d;
    ss_diag_clear(&d);
    ss_scenario *sc = NULL;
    ss_rc rc;
    char builtin_name[4096] = "";
    const ss_embedded_file *bf = NULL;
    if (builtin && (bf = ss_embed_find(ss_scenario_zoo, builtin)))
        snprintf(builtin_name, sizeof builtin_name, "%s/%s", SS_SOURCE_DIR, bf->path);
    char len_items[LENIENT_ITEMS][96];
    if (lenient) {
        int r = lenient_overrides(bf ? NULL : optind < argc ? argv[optind] : NULL,
                                  bf ? builtin_name : SS_SCENARIO_DEFAULT_NAME,
                                  bf ? bf->text : ss_scenario_default_text(), &ov, sets,
                                  sizeof sets / sizeof sets[0], len_items);
        if (r) return r;
    }
    if (builtin) {
        const ss_embedded_file *f = ss_embed_find(ss_scenario_zoo, builtin);
        if (!f) {
            fprintf(stderr, "servesim run: no built-in scenario '%s' (see `servesim list "
                            "scenarios`)\n", builtin);
            return 2;
        }
        /* Named by its source path, so that files it refers to (a trace) resolve from any
         * working directory. */
        char name[4096];
        snprintf(name, sizeof name, "%s/%s", SS_SOURCE_DIR, f->path);
        rc = ss_scenario_load_string(name, f->text, &ov, &sc, &d);
    } else if (optind < argc) {
        rc = ss_scenario_load_file(argv[optind], &ov, &sc, &d);
    } else {
        rc = ss_scenario_load_string(SS_SCENARIO_DEFAULT_NAME, ss_scenario_default_text(), &ov,
                                     &sc, &d);
    }
    if (rc) {
        ss_cli_report(&d);
        return 1;
    }
    char cmdline[2048] = "";
    for (int i = 0; i < argc; i++) {
        strncat(cmdline, i ? " " : "servesim ", sizeof cmdline - strlen(cmdline) - 1);
        strncat(cmdline, argv[i], sizeof cmdline - strlen(cmdline) - 1);
    }
    ss_run_args a = {.out_dir = out_dir, .seed = have_seed ? seed : sc->seed,
                     .replication = replication,
                     .command_line = cmdline, .t_start = t_start, .no_fast_forward = no_ff};
    rc = ss_run_scenario(sc, &a, &d);
    if (rc) {
        ss_cli_report(&d);
        ss_scenario_free(sc);
        return 1;
    }
    if (!quiet) {
        ss_summary_print(sc, a.seed, &a.summary, stdout);
        printf("\n  results: %s/summary.json, %s/results.db, %s/run.json\n", out_dir, out_dir,
               out_dir);
    }
    ss_scenario_free(sc);
    return 0;
}

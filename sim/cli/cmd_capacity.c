/* `servesim capacity-search [SCENARIO.yaml] --slo SPEC [options]`: the highest load at which
 * the SLO holds, its bracket, the binding metric, goodput and cost at capacity. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim/cli/cli.h"
#include "sim/cli/run_common.h"
#include "sim/output/output.h"
#include "sim/study/capacity_eval.h"
#include "sim/study/report.h"

static void cap_help(FILE *out)
{
    fprintf(out,
            "Usage: servesim capacity-search [SCENARIO.yaml] --slo SPEC [options]\n\n"
            "Finds the highest load (request rate by default) at which the SLO holds, by\n"
            "bisection with R replications per load and a Student-t confidence interval\n"
            "over them; reports the capacity, the bracket around the threshold, the metric\n"
            "that binds, goodput, and the cost of serving at capacity\n"
            "(docs/capacity-and-cost.md).\n"
            "The run length is the scenario's (num_requests or duration, and warm-up): keep it\n"
            "fixed, since above capacity P99 grows with run length.\n\n"
            "Options:\n"
            "  --slo SPEC         e.g. ttft_p99=2s,tpot_p99=100ms or attainment=0.99,ttft=2s,\n"
            "                     tpot=100ms (required)\n"
            "  --key KEY          scenario key of the load (default workload.arrival.rate;\n"
            "                     workload.arrival.clients for closed loop: integer loads)\n"
            "  --lo X, --hi Y     initial bracket (default 0.5 and 8; hi doubles while the SLO\n"
            "                     holds)\n"
            "  --tol T            relative bracket width to stop at (default 0.05)\n"
            "  --reps R           replications per load (default 3)\n"
            "  --max-reps M       replications allowed where the interval straddles the SLO\n"
            "                     (default 3R); then the search stops and reports the bracket\n"
            "  --confidence C     of the interval (default 0.95)\n"
            "  --on-unsure MODE   stop (default): a load still straddling at M replications\n"
            "                     ends the search with its bracket; below: it counts as not\n"
            "                     passing and the bisection goes on below it\n"
            "  --jobs J           replications in parallel worker processes (default 2;\n"
            "                     results do not depend on it)\n"
            "  --target-load L    price ceil(L / capacity) instances serving L\n"
            "  --cost SPEC        price_per_hour=, capex=, amortisation_years=, pue=,\n"
            "                     usd_per_kwh=, utilisation= (measured or a fraction)\n"
            "  --set KEY=VALUE    override a scenario value (repeatable)\n"
            "  --builtin NAME     a built-in scenario\n"
            "  --out DIR          write DIR/capacity.json and DIR/capacity.db\n"
            "  --quiet            print only the result lines, not every load evaluated\n"
            "  -h, --help         this help\n\n"
            "Exit status: 0 success (also when the SLO cannot be met: see 'infeasible'),\n"
            "1 invalid input or failed run, 2 bad command line.\n");
}

typedef struct file_cfg {
    const char *path;          /* NULL: text */
    const char *name, *text;
    const char *items[80];
    size_t n;                  /* --set items */
} file_cfg;

static ss_rc load_cfg(void *ctx, const ss_overrides *extra, ss_scenario **out, ss_diag *d)
{
    file_cfg *f = ctx;
    const char *items[81];
    size_t n = 0;
    for (size_t i = 0; i < f->n; i++) items[n++] = f->items[i];
    for (size_t i = 0; extra && i < extra->n && n < 81; i++) items[n++] = extra->items[i];
    ss_overrides ov = {.items = items, .n = n};
    return f->path ? ss_scenario_load_file(f->path, &ov, out, d)
                   : ss_scenario_load_string(f->name, f->text, &ov, out, d);
}

/* --key must name a numeric scenario key: its value (from --set, else the scenario file)
 * must be a number. 0 when it is, or when neither sets it (loading at the lowest load then
 * checks the key). */
static int key_not_numeric(const file_cfg *f, const char *key, ss_diag *d)
{
    size_t kl = strlen(key);
    const char *value = NULL;
    for (size_t i = 0; i < f->n; i++)
        if (!strncmp(f->items[i], key, kl) && f->items[i][kl] == '=') value = f->items[i] + kl + 1;
    ss_doc *doc = NULL;
    if (!value) {
        ss_diag ld;
        ss_diag_clear(&ld);
        ss_rc rc = f->path ? ss_doc_load_file(f->path, &doc, &ld)
                           : ss_doc_load_string(f->name, f->text, strlen(f->text), &doc, &ld);
        if (rc) return 0; /* the scenario's own error comes when it is loaded */
        yaml_node_t *n = ss_doc_get(doc, key);
        value = n ? ss_node_scalar(n) : NULL;
    }
    int bad = 0;
    if (value) {
        char *end;
        errno = 0;
        (void)strtod(value, &end);
        if (end == value || *end) {
            ss_diag_set(d, SS_ERR_INVALID, "--key", 0, 0, key,
                        "its value '%s' is not numeric: --key names the load to search over, "
                        "a numeric scenario key such as workload.arrival.rate or "
                        "workload.arrival.clients", value);
            bad = 1;
        }
    }
    ss_doc_free(doc);
    return bad;
}

static int parse_num(const char *opt, const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (!*s || *end || errno || !isfinite(v)) {
        fprintf(stderr, "servesim capacity-search: %s expects a number, got '%s'\n", opt, s);
        return -1;
    }
    *out = v;
    return 0;
}

int ss_cmd_capacity(int argc, char **argv)
{
    static const struct option opts[] = {
        {"slo", required_argument, 0, 'S'},      {"key", required_argument, 0, 'k'},
        {"lo", required_argument, 0, 'l'},       {"hi", required_argument, 0, 'u'},
        {"tol", required_argument, 0, 't'},      {"reps", required_argument, 0, 'r'},
        {"max-reps", required_argument, 0, 'm'}, {"confidence", required_argument, 0, 'c'},
        {"jobs", required_argument, 0, 'j'},     {"target-load", required_argument, 0, 'L'},
        {"cost", required_argument, 0, 'C'},     {"set", required_argument, 0, 's'},
        {"builtin", required_argument, 0, 'b'},  {"out", required_argument, 0, 'o'},
        {"quiet", no_argument, 0, 'q'},          {"help", no_argument, 0, 'h'},
        {"on-unsure", required_argument, 0, 'U'},
        {0, 0, 0, 0}};
    file_cfg f;
    memset(&f, 0, sizeof f);
    const char *slo_spec = NULL, *key = "workload.arrival.rate", *builtin = NULL, *out_dir = NULL;
    ss_cap_opts o;
    ss_cap_opts_default(&o);
    double v, target = 0;
    int quiet = 0, jobs = 2, max_reps_set = 0, c;
    ss_tco_cfg cost;
    ss_tco_defaults(&cost);
    ss_diag d;
    ss_diag_clear(&d);
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'S': slo_spec = optarg; break;
        case 'k': key = optarg; break;
        case 'l': if (parse_num("--lo", optarg, &o.lo)) return 2; break;
        case 'u': if (parse_num("--hi", optarg, &o.hi)) return 2; break;
        case 't': if (parse_num("--tol", optarg, &o.tol)) return 2; break;
        case 'c': if (parse_num("--confidence", optarg, &o.confidence)) return 2; break;
        case 'L':
            if (parse_num("--target-load", optarg, &target)) return 2;
            if (!(target > 0)) {
                fprintf(stderr, "servesim capacity-search: --target-load must be > 0\n");
                return 2;
            }
            break;
        case 'r':
        case 'm':
        case 'j':
            if (parse_num(c == 'r' ? "--reps" : c == 'm' ? "--max-reps" : "--jobs", optarg, &v))
                return 2;
            if (v != floor(v) || v < 1 || v > 64) {
                fprintf(stderr, "servesim capacity-search: %s expects an integer from 1 to 64, "
                                "got '%s'\n",
                        c == 'r' ? "--reps" : c == 'm' ? "--max-reps" : "--jobs", optarg);
                return 2;
            }
            if (c == 'r') o.reps = (int)v;
            else if (c == 'm') o.max_reps = (int)v, max_reps_set = 1;
            else jobs = (int)v;
            break;
        case 'C':
            if (ss_tco_parse_spec(optarg, &cost, &d)) {
                ss_cli_report(&d);
                return 2;
            }
            break;
        case 's':
            if (f.n == 64) {
                fprintf(stderr, "servesim capacity-search: at most 64 --set options\n");
                return 2;
            }
            f.items[f.n++] = optarg;
            break;
        case 'b': builtin = optarg; break;
        case 'U':
            if (!strcmp(optarg, "stop")) o.on_unsure = SS_CAP_STOP;
            else if (!strcmp(optarg, "below")) o.on_unsure = SS_CAP_BELOW;
            else {
                fprintf(stderr, "servesim capacity-search: --on-unsure expects stop or below, "
                                "got '%s'\n", optarg);
                return 2;
            }
            break;
        case 'o': out_dir = optarg; break;
        case 'q': quiet = 1; break;
        case 'h': cap_help(stdout); return 0;
        default:
            fprintf(stderr, "servesim capacity-search: unknown or incomplete option '%s'\n",
                    argv[optind - 1]);
            cap_help(stderr);
            return 2;
        }
    }
    if (!max_reps_set) o.max_reps = 3 * o.reps;
    if (!slo_spec) {
        fprintf(stderr, "servesim capacity-search: --slo is required (e.g. --slo "
                        "ttft_p99=2s,tpot_p99=100ms)\n");
        return 2;
    }
    if (argc - optind > 1 || (builtin && argc - optind == 1)) {
        fprintf(stderr, "servesim capacity-search: expected at most one scenario\n");
        return 2;
    }
    ss_slo_spec slo;
    if (ss_slo_parse_spec(slo_spec, &slo, &d)) {
        ss_cli_report(&d);
        return 2;
    }
    char name[4096];
    if (builtin) {
        const ss_embedded_file *e = ss_embed_find(ss_scenario_zoo, builtin);
        if (!e) {
            fprintf(stderr, "servesim capacity-search: no built-in scenario '%s'\n", builtin);
            return 2;
        }
        snprintf(name, sizeof name, "%s/%s", SS_SOURCE_DIR, e->path);
        f.name = name;
        f.text = e->text;
    } else if (optind < argc) {
        f.path = argv[optind];
    } else {
        f.name = SS_SCENARIO_DEFAULT_NAME;
        f.text = ss_scenario_default_text();
    }
    /* the configuration itself must load (at the lowest load) before anything runs */
    ss_scenario *sc = NULL;
    ss_cap_sim sim = {.load = load_cfg, .load_ctx = &f, .key = key, .slo = &slo, .jobs = jobs};
    sim.integer = strstr(key, "clients") != NULL;
    o.integer = sim.integer;
    if (o.integer) {
        o.lo = ceil(o.lo);
        o.hi = floor(o.hi);
    }
    if (ss_cap_opts_check(&o, &d)) {
        ss_cli_report(&d);
        return 2;
    }
    if (key_not_numeric(&f, key, &d)) {
        ss_cli_report(&d);
        return 2;
    }
    char item[512];
    ss_cap_format_override(key, o.lo, sim.integer, item, sizeof item);
    const char *items[1] = {item};
    ss_overrides extra = {.items = items, .n = 1};
    if (load_cfg(&f, &extra, &sc, &d)) {
        ss_cli_report(&d);
        return 1;
    }
    ss_cap_report rep; /* ~25 KB of steps, on the stack */
    memset(&rep, 0, sizeof rep);
    for (size_t i = 0; i < f.n; i++) {
        size_t len = strlen(rep.label);
        snprintf(rep.label + len, sizeof rep.label - len, "%s%s", i ? " " : "", f.items[i]);
    }
    ss_cap_report_config(&rep, sc);
    rep.target = target;
    char desc[1024];
    ss_slo_describe(&slo, desc, sizeof desc);
    const char *unit = o.integer ? "clients" : "req/s";
    printf("servesim capacity-search: %s (seed %llu), load = %s\n", sc->name,
           (unsigned long long)sc->seed, key);
    printf("  SLO         %s\n", desc);
    printf("  decisions   %.0f%% t-interval over %d replications (up to %d where it straddles, "
           "then %s); bracket tolerance %g%s\n",
           100 * o.confidence, o.reps, o.max_reps,
           o.on_unsure == SS_CAP_STOP ? "stop" : "bisect below", o.tol,
           o.integer ? " (integer loads)" : "");
    if (ss_cap_search(&slo, &o, ss_cap_sim_eval, &sim, &rep.cap, &d)) {
        ss_cli_report(&d);
        ss_scenario_free(sc);
        return 1;
    }
    ss_cap_report_cost(&rep, &slo, &sc->pools[0].hw, &cost);
    ss_cap_report_print(stdout, &slo, &rep, unit, !quiet);
    int status = 0;
    if (out_dir) {
        char cmdline[2048] = "servesim";
        for (int i = 0; i < argc; i++) {
            strncat(cmdline, " ", sizeof cmdline - strlen(cmdline) - 1);
            strncat(cmdline, argv[i], sizeof cmdline - strlen(cmdline) - 1);
        }
        const ss_cap_report *all[1] = {&rep};
        char path[4200];
        char *json = ss_cap_report_json(&slo, all, 1, key, cmdline);
        ss_rc rc = ss_mkdir_p(out_dir, &d);
        snprintf(path, sizeof path, "%s/capacity.db", out_dir);
        if (!rc) rc = ss_cap_report_db(path, &slo, all, 1, key, &d);
        snprintf(path, sizeof path, "%s/capacity.json", out_dir);
        if (!rc) rc = json ? ss_write_file_atomic(path, json, &d) : SS_ERR_NOMEM;
        free(json);
        if (rc) {
            ss_cli_report(&d);
            status = 1;
        } else {
            printf("\n  results: %s/capacity.json, %s/capacity.db\n", out_dir, out_dir);
        }
    }
    ss_scenario_free(sc);
    return status;
}

/* `servesim search STUDY.yaml [--top N] [--jobs J] [--out DIR] [--quiet]`: capacity of every
 * configuration of a study under its SLO, cost at the target load, ranking and Pareto set. */
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim/cli/cli.h"
#include "sim/cli/run_common.h"
#include "sim/output/output.h"
#include "sim/study/search.h"

static void search_help(FILE *out)
{
    fprintf(out,
            "Usage: servesim search STUDY.yaml [options]\n\n"
            "Every point of the study is a configuration (hardware, tp, scheduler knobs, ...).\n"
            "For each, a capacity search finds the highest load meeting the study's `slo:`;\n"
            "the target load (`search.target_load`) is then served by ceil(target / capacity)\n"
            "instances and priced with the `cost:` section. Prints the configurations ranked\n"
            "by $ per million output tokens, the Pareto set of cost against latency, and the\n"
            "infeasible ones with the reason (docs/capacity-and-cost.md).\n\n"
            "Options:\n"
            "  --top N      configurations in the ranking (default: search.top)\n"
            "  --jobs J     worker processes (default: search.jobs; results do not depend on it)\n"
            "  --out DIR    write DIR/search.json and DIR/search.db\n"
            "  --quiet      no progress lines\n"
            "  -h, --help   this help\n\n"
            "Exit status: 0 success, 1 invalid study or failed run, 2 bad command line.\n");
}

int ss_cmd_search(int argc, char **argv)
{
    static const struct option opts[] = {{"top", required_argument, 0, 't'},
                                         {"jobs", required_argument, 0, 'j'},
                                         {"out", required_argument, 0, 'o'},
                                         {"quiet", no_argument, 0, 'q'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *out_dir = NULL;
    int top = 0, jobs = 0, quiet = 0, c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 't':
        case 'j': {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (*end || !*optarg || v < 1 || v > 100000 || (c == 'j' && v > 64)) {
                fprintf(stderr, "servesim search: %s expects an integer from 1 to %d, got '%s'\n",
                        c == 't' ? "--top" : "--jobs", c == 't' ? 100000 : 64, optarg);
                return 2;
            }
            if (c == 't') top = (int)v;
            else jobs = (int)v;
            break;
        }
        case 'o': out_dir = optarg; break;
        case 'q': quiet = 1; break;
        case 'h': search_help(stdout); return 0;
        default:
            fprintf(stderr, "servesim search: unknown or incomplete option '%s'\n",
                    argv[optind - 1]);
            search_help(stderr);
            return 2;
        }
    }
    if (argc - optind != 1) {
        fprintf(stderr, "servesim search: expected one study file\n");
        return 2;
    }
    ss_diag d;
    ss_diag_clear(&d);
    ss_study *st = NULL;
    ss_search_cfg *cfg = calloc(1, sizeof *cfg);
    if (!cfg) return 1;
    if (ss_study_load_lenient(argv[optind], &st, &d) || ss_search_parse(st, cfg, &d)) {
        ss_cli_report(&d);
        ss_study_free(st);
        free(cfg);
        return 1;
    }
    if (top) cfg->top = top;
    if (jobs) cfg->jobs = jobs;
    size_t n = ss_study_npoints(st);
    ss_cap_report *r = calloc(n ? n : 1, sizeof *r);
    size_t *order = calloc(n ? n : 1, sizeof *order);
    int *front = calloc(n ? n : 1, sizeof *front);
    int status = 0;
    if (!r || !order || !front) {
        fprintf(stderr, "servesim search: out of memory\n");
        status = 1;
        goto done;
    }
    char desc[1024];
    ss_slo_describe(&cfg->slo, desc, sizeof desc);
    const char *unit = cfg->cap.integer ? "clients" : "req/s";
    printf("servesim search: %s, %zu configurations, target load %g %s (%s)\n",
           ss_study_name(st), n, cfg->target, unit, cfg->load_key);
    printf("  SLO         %s\n", desc);
    printf("  decisions   %.0f%% t-interval over %d replications (up to %d where it straddles, "
           "then %s); bracket tolerance %g; loads from %g\n",
           100 * cfg->cap.confidence, cfg->cap.reps, cfg->cap.max_reps,
           cfg->cap.on_unsure == SS_CAP_STOP ? "stop" : "bisect below", cfg->cap.tol,
           cfg->cap.lo);
    if (ss_search_run(st, cfg, r, quiet ? NULL : stdout, &d)) {
        ss_cli_report(&d);
        status = 1;
        goto done;
    }
    /* one ranking per study family (e.g. per model) */
    int *group = calloc(n ? n : 1, sizeof *group), ngroups = 0;
    if (!group) {
        status = 1;
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        snprintf(r[i].family, sizeof r[i].family, "%s", ss_study_family(st, i));
        group[i] = -1;
        for (size_t j = 0; j < i && group[i] < 0; j++)
            if (!strcmp(r[j].family, r[i].family)) group[i] = group[j];
        if (group[i] < 0) group[i] = ngroups++;
    }
    ss_search_pareto(r, n, group, front);
    const char *lat = cfg->slo.term[0].name;
    size_t ranked = 0;
    for (int g = 0; g < ngroups; g++) {
        size_t m = ss_search_rank(r, n, group, g, order), members = 0;
        for (size_t i = 0; i < n; i++) members += group[i] == g;
        for (size_t k = 0; k < m; k++) {
            r[order[k]].rank = (int)k + 1;
            r[order[k]].pareto = front[order[k]];
        }
        ranked += m;
        const char *fam = "";
        for (size_t i = 0; i < n; i++)
            if (group[i] == g) fam = r[i].family;
        printf("\n  %s%sRanked by $ per million output tokens (%zu of %zu configurations meet "
               "the SLO; * = Pareto set of cost vs %s)\n",
               ngroups > 1 ? fam : "", ngroups > 1 ? ": " : "", m, members, lat);
        printf("  %4s  %10s %10s %6s %5s %10s  %-10s %9s %10s  %s\n", "rank", "$/M out",
               "$/M total", "inst", "GPUs", "$/hour", "capacity", "binding", lat, "config");
        for (size_t k = 0; k < m && (int)k < cfg->top; k++) {
            const ss_cap_report *p = &r[order[k]];
            char capbuf[32];
            snprintf(capbuf, sizeof capbuf, "%s%.4g",
                     p->cap.status == SS_CAP_UNBOUNDED ? ">=" : "", p->cap.capacity);
            printf("  %3zu%s  %10.4f %10.4f %6d %5d %10.2f  %-10s %9s %8.1fms  %s\n", k + 1,
                   front[order[k]] ? "*" : " ", p->tco.usd_per_mtok_output,
                   p->tco.usd_per_mtok_total, p->instances, p->gpus * p->instances,
                   p->tco.usd_per_hour, capbuf,
                   p->cap.binding >= 0 ? cfg->slo.term[p->cap.binding].name : "-",
                   p->latency * 1e3, p->label);
        }
        printf("  Pareto set (cost vs %s at capacity):\n", lat);
        for (size_t k = 0; k < m; k++)
            if (front[order[k]])
                printf("    %.4f $/M out, %s %.1f ms: %s\n",
                       r[order[k]].tco.usd_per_mtok_output, lat, r[order[k]].latency * 1e3,
                       r[order[k]].label);
    }
    free(group);
    int header = 0;
    for (size_t i = 0; i < n; i++) {
        if (r[i].feasible && r[i].priced) continue;
        if (!header++) printf("\n  Infeasible or unpriced:\n");
        printf("    %s: %s\n", r[i].label, r[i].reason);
    }
    printf("\n  Prices: ");
    for (size_t k = 0, shown = 0; k < n; k++) {
        int dup = !r[k].priced;
        for (size_t j = 0; j < k && !dup; j++)
            if (r[j].priced && !strcmp(r[j].tco.price_source, r[k].tco.price_source)) dup = 1;
        if (!dup) printf("%s%s", shown++ ? "\n          " : "", r[k].tco.price_source);
    }
    printf("%s\n", ranked ? "" : "(none priced)");
    /* what each GPU's cost model calibrates (issue 5: uncalibrated GPUs say so) */
    printf("  Cost models: ");
    for (size_t k = 0, shown = 0; k < n; k++) {
        int dup = !r[k].calibration[0];
        for (size_t j = 0; j < k && !dup; j++)
            if (!strcmp(r[j].hardware, r[k].hardware) && !strcmp(r[j].calibration, r[k].calibration))
                dup = 1;
        if (!dup)
            printf("%s%s %s", shown++ ? "\n               " : "", r[k].hardware, r[k].calibration);
    }
    printf("\n");
    if (out_dir) {
        char cmdline[2048] = "servesim";
        for (int i = 0; i < argc; i++) {
            strncat(cmdline, " ", sizeof cmdline - strlen(cmdline) - 1);
            strncat(cmdline, argv[i], sizeof cmdline - strlen(cmdline) - 1);
        }
        const ss_cap_report **all = calloc(n ? n : 1, sizeof *all);
        ss_rc rc = all ? ss_mkdir_p(out_dir, &d) : SS_ERR_NOMEM;
        char path[4200];
        if (!rc) {
            for (size_t i = 0; i < n; i++) all[i] = &r[i];
            snprintf(path, sizeof path, "%s/search.db", out_dir);
            rc = ss_cap_report_db(path, &cfg->slo, all, n, cfg->load_key, &d);
        }
        if (!rc) {
            char *json = ss_cap_report_json(&cfg->slo, all, n, cfg->load_key, cmdline);
            snprintf(path, sizeof path, "%s/search.json", out_dir);
            rc = json ? ss_write_file_atomic(path, json, &d) : SS_ERR_NOMEM;
            free(json);
        }
        free(all);
        if (rc) {
            ss_cli_report(&d);
            status = 1;
        } else {
            printf("\n  results: %s/search.json, %s/search.db\n", out_dir, out_dir);
        }
    }
done:
    free(r);
    free(order);
    free(front);
    free(cfg);
    ss_study_free(st);
    return status;
}

/* servesim's entry point: sub-command dispatch and top-level help. */
#include <gsl/gsl_errno.h>
#include <string.h>

#include "sim/cli/cli.h"

static void usage(FILE *out)
{
    fprintf(out,
            "servesim %s - discrete-event simulator of LLM serving\n\n"
            "Usage: servesim <command> [options]\n\n"
            "Commands:\n"
            "  run [SCENARIO.yaml]   simulate a scenario (the built-in default if none);\n"
            "                        writes summary.json and results.db\n"
            "  list [KIND]           list models, hardware, schedulers, arrivals,\n"
            "                        cost-models, scenarios (all kinds if none)\n"
            "  bench                 speed benchmark: simulated requests/s, events/s, memory\n"
            "  capacity-search [SCENARIO.yaml] --slo SPEC\n"
            "                        highest load meeting an SLO; cost at capacity\n"
            "  search STUDY.yaml     rank configurations meeting an SLO by cost per token\n"
            "  sweep STUDY.yaml      run every point of a study R times; writes sweep.db\n"
            "  sweep-dump SWEEP.db   canonical text dump of a sweep's result tables\n"
            "  pareto SWEEP.db       Pareto frontier of a sweep: table and plot\n"
            "  doc scenario|search   print the scenario key reference, or the study's\n"
            "                        slo:/search:/cost: reference (Markdown)\n"
            "  measurements --source S\n"
            "                        list what calibration reads from measurement files\n"
            "                        (docs/calibration-data.md)\n"
            "  calibrate --source S --gpu G --out P.yaml\n"
            "                        fit per-operator cost models to measured kernels; write\n"
            "                        a calibrated profile (docs/calibration.md)\n"
            "  validate e2e --run D  replay a measured serving run; measured vs simulated\n"
            "                        TTFT, TPOT, E2E and timeline (docs/validation.md)\n"
            "  validate calibration --source S --gpu G\n"
            "                        held-out error of the fitted operator models\n"
            "  version               print the version\n\n"
            "`servesim <command> --help` documents each command's options.\n"
            "Documentation: README.md and docs/ in the source tree.\n",
            SS_VERSION);
}

int main(int argc, char **argv)
{
    double t_start = ss_cli_now();
    /* GSL's default handler aborts the process; servesim checks return codes instead. */
    gsl_set_error_handler_off();
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
        printf("servesim %s\n", SS_VERSION);
        return 0;
    }
    if (!strcmp(cmd, "run")) return ss_cmd_run(argc - 1, argv + 1, t_start);
    if (!strcmp(cmd, "list")) return ss_cmd_list(argc - 1, argv + 1);
    if (!strcmp(cmd, "bench")) return ss_cmd_bench(argc - 1, argv + 1, t_start);
    if (!strcmp(cmd, "doc")) return ss_cmd_doc(argc - 1, argv + 1);
    if (!strcmp(cmd, "measurements")) return ss_cmd_measurements(argc - 1, argv + 1);
    if (!strcmp(cmd, "capacity-search")) return ss_cmd_capacity(argc - 1, argv + 1);
    if (!strcmp(cmd, "search")) return ss_cmd_search(argc - 1, argv + 1);
    if (!strcmp(cmd, "sweep")) return ss_cmd_sweep(argc - 1, argv + 1, t_start);
    if (!strcmp(cmd, "sweep-dump")) return ss_cmd_sweep_dump(argc - 1, argv + 1);
    if (!strcmp(cmd, "pareto")) return ss_cmd_pareto(argc - 1, argv + 1);
    if (!strcmp(cmd, "calibrate")) return ss_cmd_calibrate(argc - 1, argv + 1);
    if (!strcmp(cmd, "validate")) return ss_cmd_validate(argc - 1, argv + 1, t_start);
    fprintf(stderr, "servesim: unknown command '%s' (run, list, bench, sweep, sweep-dump, "
                    "pareto, capacity-search, search, measurements, calibrate, doc, validate, "
                    "version)\n",
            cmd);
    return 2;
}

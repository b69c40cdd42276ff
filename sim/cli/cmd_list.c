/* `servesim list [KIND]` and `servesim doc`: what is available, one line each. */
#include <string.h>

#include "hwprofiles/cost.h"
#include "hwprofiles/hw.h"
#include "models/model.h"
#include "policies/sched.h"
#include "sim/study/search.h"
#include "sim/cli/cli.h"
#include "workloads/arrival.h"
#include "workloads/scenario.h"

static void list_scenarios(FILE *out)
{
    for (const ss_embedded_file *f = ss_scenario_zoo; f->name; f++)
        fprintf(out, "  %-22s %s\n", f->name, f->path);
}

static const struct {
    const char *kind;
    const char *title;
} kinds[] = {{"models", "Models"},         {"hardware", "Hardware profiles"},
             {"schedulers", "Schedulers"}, {"arrivals", "Arrival processes"},
             {"cost-models", "Cost models"}, {"scenarios", "Built-in scenarios"}};

static void list_kind(int k, FILE *out)
{
    fprintf(out, "%s:\n", kinds[k].title);
    switch (k) {
    case 0: ss_model_list(out); break;
    case 1: ss_hw_list(out); break;
    case 2: ss_plugin_list((const void *const *)ss_sched_builtin, out); break;
    case 3: ss_plugin_list((const void *const *)ss_arrival_builtin, out); break;
    case 4: ss_plugin_list((const void *const *)ss_cost_builtin, out); break;
    case 5: list_scenarios(out); break;
    }
}

int ss_cmd_list(int argc, char **argv)
{
    size_t nk = sizeof kinds / sizeof kinds[0];
    if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
        printf("Usage: servesim list [KIND]\n\nKinds: models, hardware, schedulers, arrivals, "
               "cost-models, scenarios.\nWith no KIND, lists everything.\n");
        return 0;
    }
    if (argc > 2) {
        fprintf(stderr, "servesim list: expected at most one KIND\n");
        return 2;
    }
    if (argc == 1) {
        for (size_t k = 0; k < nk; k++) {
            list_kind((int)k, stdout);
            if (k + 1 < nk) printf("\n");
        }
        return 0;
    }
    for (size_t k = 0; k < nk; k++)
        if (!strcmp(argv[1], kinds[k].kind) ||
            (!strncmp(argv[1], kinds[k].kind, strlen(argv[1])) && strlen(argv[1]) >= 3)) {
            list_kind((int)k, stdout);
            return 0;
        }
    fprintf(stderr, "servesim list: unknown kind '%s' (valid: models, hardware, schedulers, "
                    "arrivals, cost-models, scenarios)\n", argv[1]);
    return 2;
}

int ss_cmd_doc(int argc, char **argv)
{
    if (argc == 2 && !strcmp(argv[1], "scenario")) {
        ss_scenario_doc_markdown(stdout);
        return 0;
    }
    if (argc == 2 && !strcmp(argv[1], "search")) {
        ss_search_doc_markdown(stdout);
        return 0;
    }
    if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
        printf("Usage: servesim doc scenario|search\n\nPrints the scenario key reference as "
               "Markdown (the source of docs/scenario-reference.md), or the reference of a "
               "study's slo:, search: and cost: sections (docs/search-reference.md).\n");
        return 0;
    }
    fprintf(stderr, "Usage: servesim doc scenario|search\n");
    return 2;
}
